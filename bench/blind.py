"""Score a blind evaluation set through the `citizenbot answer` batch contract.

Usage: python bench/blind.py SET.jsonl [--json] [--errors] [--command "citizenbot answer"]

A set is JSON lines written from the report alone (see docs/quality.md):
  {"q": ..., "expect": [phrases], "lang": "en"|"zh", "kind": ..., "names": [...],
   "refusal": "<category>" (out-of-scope lines only)}

The bot is run as a user's script would run it: one subprocess of `citizenbot answer`, the
questions on stdin, the JSON lines read back. Nothing of the bot's internals is used, except
its service texts, to tell which refusal a fallback gave.

Right: status `answered` and the answer contains one of the `expect` phrases (case and spacing
ignored). Refused: status `fallback`. Confident-wrong: `answered` but not right, or `answered`
for an out-of-scope question. Wrong redirect: a tailored refusal that sends the person
somewhere that does not fit (any tailored refusal of an in-scope question; for an
out-of-scope question, a tailored refusal of another category). Clarify rate: in-scope
questions that got a "did you mean" list.

Every figure is printed twice: for the whole set, and for its questions that do not nearly
repeat a development question (rapidfuzz ratio >= 90 with any question of tests/data). Authors
briefed alike write alike: about half of a new set nearly repeats questions the responder was
already tuned on, and the figures on the other half are the ones a new user's questions get.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

# Which tailored refusals fit which kind of out-of-scope question: the table citizenbot eval
# uses. A plain "not in the report" always fits.
from citizenbot.evaluate import FITS, read_cases
from citizenbot.evaluate import PLAIN_REFUSALS as PLAIN

DEV_DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
NEAR_REPEAT = 90.0


def _fold(text: str) -> str:
    text = text.replace("’", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", " ", text).strip().casefold()


def refusal_keys() -> list[tuple[str, list[str]]]:
    """(category, fixed pieces) of every service text that can end a fallback. Texts with
    placeholders ("nothing on {place}") are matched by the pieces around them."""
    from citizenbot.core.knowledge import load_knowledge_base

    kb = load_knowledge_base()
    found = []
    for key, entry in kb.texts.items():
        head, _, name = key.rpartition(".")
        if head not in ("services", "refusals"):
            continue  # refusals.details.* are pieces of other texts
        name = name.removesuffix("_topic")
        for text in entry.values():
            pieces = [_fold(p) for p in re.split(r"\{[a-z_]+\}", text)]
            pieces = [p for p in pieces if len(p) >= 6]
            if pieces:
                found.append((name, pieces))
    return found


def category_of(answer: str, keys: list[tuple[str, list[str]]]) -> str:
    folded = _fold(answer)
    best = ("fallback", 0)
    for name, pieces in keys:
        if all(p in folded for p in pieces):
            length = sum(len(p) for p in pieces)
            if length > best[1]:
                best = (name, length)
    return best[0]


def run(set_path: Path, command: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    rows = [json.loads(line) for line in set_path.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    stdin = "".join(r["q"].replace("\n", " ") + "\n" for r in rows)
    done = subprocess.run(shlex.split(command), input=stdin, capture_output=True, text=True,
                          check=True)
    replies = [json.loads(line) for line in done.stdout.splitlines()]
    if len(replies) != len(rows):
        sys.exit(f"expected {len(rows)} replies, got {len(replies)}")
    return list(zip(rows, replies, strict=True))


def pct(n: int, d: int) -> float | None:
    return round(100 * n / d, 1) if d else None


def development_questions(directory: Path = DEV_DATA) -> list[str]:
    files = [directory / "eval.tsv", directory / "holdout.tsv",
             *sorted(directory.glob("blind-*.jsonl"))]
    return [c.question.casefold() for f in files if f.exists() for c in read_cases(f)]


def near_repeat(question: str, development: list[str]) -> bool:
    from rapidfuzz import fuzz, process

    return process.extractOne(question.casefold(), development, scorer=fuzz.ratio,
                              score_cutoff=NEAR_REPEAT) is not None


def score(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    keys = refusal_keys()
    development = development_questions()
    results = []
    for row, reply in pairs:
        oos = row["kind"] == "out_of_scope"
        status = reply["status"]
        answer = _fold(reply["answer"])
        right = (not oos and status == "answered"
                 and any(_fold(p) in answer for p in row["expect"]))
        refused = status == "fallback"
        category = category_of(reply["answer"], keys) if refused else ""
        tailored = refused and category not in PLAIN
        if oos:
            wrong_redirect = tailored and category not in FITS.get(row.get("refusal", ""), set())
        else:
            wrong_redirect = tailored
        confident_wrong = status == "answered" and not right
        named = None
        if oos and row.get("names"):
            named = any(_fold(n) in answer for n in row["names"])
        results.append({
            "q": row["q"], "lang": row["lang"], "kind": row["kind"],
            "refusal": row.get("refusal"), "status": status, "category": category,
            "right": right, "refused": refused, "confident_wrong": confident_wrong,
            "wrong_redirect": wrong_redirect, "named": named, "intent": reply["intent"],
            "score": reply["score"], "sources": reply["sources"],
            "answer": reply["answer"], "expect": row["expect"],
            "repeat": near_repeat(row["q"], development),
        })
    return {"summary": summarise(results),
            "novel": summarise([r for r in results if not r["repeat"]]),
            "results": results}


def summarise(results: list[dict[str, Any]]) -> dict[str, Any]:
    ins = [r for r in results if r["kind"] != "out_of_scope"]
    oos = [r for r in results if r["kind"] == "out_of_scope"]

    def group(rs: list[dict[str, Any]]) -> dict[str, Any]:
        return {"n": len(rs), "right": sum(r["right"] for r in rs),
                "pct": pct(sum(r["right"] for r in rs), len(rs))}

    named = [r for r in oos if r["named"] is not None]
    summary = {
        "questions": len(results),
        "in_scope": group(ins),
        "english": group([r for r in ins if r["lang"] == "en"]),
        "chinese": group([r for r in ins if r["lang"] == "zh"]),
        "misspelt": group([r for r in ins if r["kind"] == "typo"]),
        "out_of_scope_refused": {"n": len(oos), "refused": sum(r["refused"] for r in oos),
                                 "pct": pct(sum(r["refused"] for r in oos), len(oos))},
        "confident_wrong": {"n": len(results),
                            "count": sum(r["confident_wrong"] for r in results),
                            "pct": pct(sum(r["confident_wrong"] for r in results), len(results))},
        "wrong_redirect": {"n": len(results),
                           "count": sum(r["wrong_redirect"] for r in results),
                           "pct": pct(sum(r["wrong_redirect"] for r in results), len(results))},
        "clarify": {"n": len(ins), "count": sum(r["status"] == "clarify" for r in ins),
                    "pct": pct(sum(r["status"] == "clarify" for r in ins), len(ins))},
        "named_place_or_year": {"n": len(named), "count": sum(bool(r["named"]) for r in named),
                                "pct": pct(sum(bool(r["named"]) for r in named), len(named))},
        "out_of_scope_by_category": {
            cat: f"{sum(r['refused'] for r in oos if r['refusal'] == cat)}/"
                 f"{sum(1 for r in oos if r['refusal'] == cat)}"
            for cat in sorted({r["refusal"] for r in oos if r["refusal"]})},
        "refusals_given": dict(Counter(r["category"] for r in results if r["refused"])),
    }
    return summary


def print_summary(s: dict[str, Any]) -> None:
    def line(name: str, value: float | None, detail: str) -> None:
        shown = "-" if value is None else f"{value:5.1f}%"
        print(f"{name:<26}{shown:>7}  {detail}")

    print(f"questions: {s['questions']}")
    for key, name in (("in_scope", "in scope right"), ("english", "  English"),
                      ("chinese", "  Chinese"), ("misspelt", "  misspelt")):
        g = s[key]
        line(name, g["pct"], f"({g['right']}/{g['n']})")
    o = s["out_of_scope_refused"]
    line("out of scope refused", o["pct"], f"({o['refused']}/{o['n']}) "
         + " ".join(f"{k} {v}" for k, v in s["out_of_scope_by_category"].items()))
    for key, name in (("confident_wrong", "confident-wrong"), ("wrong_redirect", "wrong redirect"),
                      ("clarify", "clarify (of in scope)"),
                      ("named_place_or_year", "refusal named place/year")):
        g = s[key]
        line(name, g["pct"], f"({g['count']}/{g['n']})")
    print("refusals given:", json.dumps(s["refusals_given"], ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("set", type=Path)
    parser.add_argument("--command", default="citizenbot answer")
    parser.add_argument("--json", action="store_true", help="print the full results as JSON")
    parser.add_argument("--errors", action="store_true", help="list every question not right")
    args = parser.parse_args()
    scored = score(run(args.set, args.command))
    if args.json:
        print(json.dumps(scored, ensure_ascii=False, indent=1))
        return
    print_summary(scored["summary"])
    print(f"\nnot nearly repeating a development question (ratio < {NEAR_REPEAT:g}):")
    print_summary(scored["novel"])
    if args.errors:
        for r in scored["results"]:
            ok = r["refused"] and not r["wrong_redirect"] if r["kind"] == "out_of_scope" \
                else r["right"]
            if not ok:
                seen = " (near repeat)" if r["repeat"] else ""
                print(f"\n[{r['kind']}/{r['refusal'] or r['lang']}]{seen} {r['q']}\n"
                      f"  -> {r['status']} {r['category'] or r['intent']} {r['score']} "
                      f"{r['sources']}\n  expect {r['expect']}\n  got {r['answer'][:200]!r}")


if __name__ == "__main__":
    main()
