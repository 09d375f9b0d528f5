"""`citizenbot eval`: measure the responder on labelled questions.

Two formats:

- JSON lines (`.jsonl`, the blind sets): `{"q": ..., "expect": [phrases], "lang": "en"|"zh",
  "kind": "paraphrase"|"typo"|"keyword"|"zh"|"out_of_scope", "refusal": <category>}`.
  Right = answered, and the answer contains one of the `expect` phrases (copied from the
  sentence of the report that answers the question), whichever route found it.
- Tab-separated (`.tsv`): question, expected intent id or `none` (`none:<category>` names the
  refusal that fits), optional tags (`typo`). Right = answered with that intent, or with a
  sentence that intent quotes.

Out of scope: right = refused. Confident-wrong: answered, but wrong (or for an out-of-scope
question): the mistake a government bot must avoid. Wrong redirect: a refusal that points
somewhere that does not fit (a tailored refusal for an in-scope question, or a refusal of
another category), counted like confident-wrong. Clarify rate: in-scope questions that got a
"did you mean" list.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from citizenbot.core.responder import Reply, Responder
from citizenbot.core.text import language_of

# The refusals that fit each kind of out-of-scope question. The plain "not in the report"
# (`not_in_report`) fits every kind; a tailored refusal must fit the question.
FITS: dict[str, frozenset[str]] = {
    "other_place": frozenset({"other_place"}),
    "other_year": frozenset({"other_year", "outcome"}),
    "abridged": frozenset({"abridged", "no_figure"}),
    "personal": frozenset({"personal", "personal_matters", "documents", "personal_finance",
                           "health"}),
    "practical_detail": frozenset({"practical_detail", "no_figure", "personal_matters",
                                   "leisure", "utilities", "transport", "documents"}),
    "general": frozenset({"general", "other_language", "other_place", "weather", "transport",
                          "health", "leisure", "personal_finance", "utilities", "documents",
                          "personal_matters"}),
    "weather": frozenset({"weather", "general"}),
    "documents": frozenset({"documents", "personal", "personal_matters", "practical_detail"}),
    "transport": frozenset({"transport", "practical_detail", "general", "other_place"}),
    "health": frozenset({"health", "personal", "personal_matters", "abridged"}),
    "personal_matters": frozenset({"personal_matters", "personal", "practical_detail",
                                   "abridged", "documents"}),
    "leisure": frozenset({"leisure", "practical_detail", "general"}),
    "personal_finance": frozenset({"personal_finance", "personal", "general"}),
    "utilities": frozenset({"utilities", "practical_detail", "personal"}),
    "other_language": frozenset({"other_language", "general"}),
}
PLAIN_REFUSALS = frozenset({"not_in_report", "fallback"})
KINDS = ("paraphrase", "typo", "keyword", "zh", "out_of_scope")


def fits(expected: str | None, given: str | None) -> bool:
    """Whether a refusal of category `given` is a fair reply to a question of `expected`."""
    if given is None or given in PLAIN_REFUSALS or expected == "any":
        return True
    if expected is None:
        return False  # an in-scope question never deserves a tailored refusal
    return given in FITS.get(expected, frozenset({expected}))


@dataclass(frozen=True)
class Case:
    question: str
    expected: str | None  # intent id (tsv); None for out-of-scope or phrase-labelled cases
    phrases: tuple[str, ...]  # expected phrases (jsonl)
    out_of_scope: bool
    refusal: str | None  # the category of an out-of-scope question, when labelled
    typo: bool
    language: str
    line: int
    file: str


@dataclass(frozen=True)
class Outcome:
    case: Case
    reply: Reply
    predicted: str  # intent id, or "fallback:<refusal>" / "clarify" / "search:<passage>"
    correct: bool
    confident_wrong: bool
    wrong_redirect: bool


class EvalFileError(Exception):
    pass


def _fold(text: str) -> str:
    text = text.replace("’", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", " ", text).strip().casefold()


def _read_tsv(path: Path, lines: list[str]) -> list[Case]:
    cases = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if number == 1 and cols[0].strip().lower() == "question":
            continue
        if len(cols) < 2 or not cols[0].strip() or not cols[1].strip():
            raise EvalFileError(f"{path.name}:{number}: expected question<TAB>intent|none")
        expected = cols[1].strip()
        tags = {t.strip() for t in cols[2].split(",")} if len(cols) > 2 else set()
        question = cols[0].strip()
        oos = expected == "none" or expected.startswith("none:")
        refusal = expected.split(":", 1)[1] if expected.startswith("none:") else None
        cases.append(Case(question, None if oos else expected, (), oos, refusal,
                          "typo" in tags, language_of(question), number, path.name))
    return cases


def _read_jsonl(path: Path, lines: list[str]) -> list[Case]:
    cases = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            question = str(row["q"])
            kind = str(row.get("kind", "paraphrase"))
            phrases = tuple(str(p) for p in row.get("expect") or ())
        except (ValueError, KeyError, TypeError) as exc:
            raise EvalFileError(f"{path.name}:{number}: not a labelled question ({exc})") from None
        oos = kind == "out_of_scope"
        if kind not in KINDS:
            raise EvalFileError(f"{path.name}:{number}: unknown kind '{kind}'")
        if not oos and not phrases:
            raise EvalFileError(f"{path.name}:{number}: an in-scope question needs 'expect'")
        lang = str(row.get("lang") or language_of(question))
        cases.append(Case(question, None, phrases, oos, row.get("refusal"), kind == "typo",
                          lang, number, path.name))
    return cases


def read_cases(path: Path) -> list[Case]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalFileError(f"{path}: cannot read ({exc})") from None
    if path.suffix == ".jsonl":
        return _read_jsonl(path, lines)
    return _read_tsv(path, lines)


def judge(responder: Responder, case: Case) -> Outcome:
    reply = responder.respond(case.question)
    if reply.status == "fallback":
        predicted = f"fallback:{reply.refusal or 'not_in_report'}"
    elif reply.status == "clarify":
        predicted = "clarify"
    elif reply.intent_id is None and reply.excerpts:
        predicted = f"search:{reply.excerpts[0].passage_id}"
    else:
        predicted = reply.intent_id or "?"
    if case.out_of_scope:
        expected = case.refusal or "any"
        correct = reply.status == "fallback" and fits(expected, reply.refusal)
        wrong = reply.status == "answered"
        redirect = reply.status == "fallback" and not fits(expected, reply.refusal)
        return Outcome(case, reply, predicted, correct, wrong, redirect)
    if case.phrases:
        said = _fold(reply.text)
        correct = reply.status == "answered" and any(_fold(p) in said for p in case.phrases)
    elif reply.intent_id == case.expected:
        correct = reply.status == "answered"
    else:
        intent = responder.intent(case.expected) if case.expected else None
        quoted = {e.text for e in intent.excerpts} if intent is not None else set()
        correct = reply.status == "answered" and any(
            e.text in q for e in reply.excerpts for q in quoted)
    wrong = reply.status == "answered" and not correct
    redirect = reply.status == "fallback" and not fits(None, reply.refusal)
    return Outcome(case, reply, predicted, correct, wrong, redirect)


def _pct(n: int, d: int) -> float | None:
    return round(100 * n / d, 1) if d else None


def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    in_scope = [o for o in outcomes if not o.case.out_of_scope]
    out_scope = [o for o in outcomes if o.case.out_of_scope]

    def acc(group: list[Outcome]) -> dict[str, Any]:
        return {"n": len(group), "correct": sum(o.correct for o in group),
                "accuracy": _pct(sum(o.correct for o in group), len(group))}

    def rate(count: int, n: int) -> dict[str, Any]:
        return {"n": n, "count": count, "rate": _pct(count, n)}

    per_intent: dict[str, dict[str, Any]] = {}
    labels = sorted({o.case.expected for o in in_scope if o.case.expected}
                    | {o.reply.intent_id for o in outcomes
                       if o.reply.status == "answered" and o.reply.intent_id})
    for label in labels:
        expected = [o for o in in_scope if o.case.expected == label]
        predicted = [o for o in outcomes if o.reply.status == "answered"
                     and o.reply.intent_id == label]
        per_intent[label] = {
            "n": len(expected),
            "precision": _pct(sum(o.correct for o in predicted), len(predicted)),
            "recall": _pct(sum(o.correct for o in expected), len(expected)),
        }
    confusions = Counter(
        (o.case.expected or ("none:" + (o.case.refusal or "any") if o.case.out_of_scope
                             else "phrase"), o.predicted)
        for o in outcomes if not o.correct
    )
    categories = sorted({o.case.refusal or "any" for o in out_scope})
    return {
        "questions": len(outcomes),
        "accuracy": acc(in_scope),
        "english": acc([o for o in in_scope if o.case.language == "en"]),
        "chinese": acc([o for o in in_scope if o.case.language == "zh"]),
        "misspelt": acc([o for o in in_scope if o.case.typo]),
        "out_of_scope_refused": acc(out_scope),
        "refused_by_category": {
            c: acc([o for o in out_scope if (o.case.refusal or "any") == c]) for c in categories},
        "confident_wrong": rate(sum(o.confident_wrong for o in outcomes), len(outcomes)),
        "wrong_redirect": rate(sum(o.wrong_redirect for o in outcomes), len(outcomes)),
        "clarify": rate(sum(o.reply.status == "clarify" for o in in_scope), len(in_scope)),
        "per_intent": per_intent,
        "confused": [{"expected": e, "got": g, "count": n}
                     for (e, g), n in confusions.most_common(15)],
    }


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:5.1f}%"


def print_report(summary: dict[str, Any], outcomes: list[Outcome], show_errors: bool,
                 ms_per_question: float) -> None:
    out = sys.stdout
    out.write(f"Questions: {summary['questions']}   "
              f"matching: {ms_per_question:.2f} ms/question\n\n")
    rows = [("in-scope accuracy", summary["accuracy"]), ("  English", summary["english"]),
            ("  Chinese", summary["chinese"]), ("  misspelt", summary["misspelt"]),
            ("out-of-scope refused", summary["out_of_scope_refused"])]
    rows += [(f"  {c}", a) for c, a in summary["refused_by_category"].items() if c != "any"]
    for name, a in rows:
        out.write(f"{name:<22} {_fmt(a['accuracy'])}  ({a['correct']}/{a['n']})\n")
    for key, name in (("confident_wrong", "confident-wrong"), ("wrong_redirect", "wrong redirect"),
                      ("clarify", "clarify (in scope)")):
        r = summary[key]
        out.write(f"{name:<22} {_fmt(r['rate'])}  ({r['count']}/{r['n']})\n")
    if any(m["n"] for m in summary["per_intent"].values()):
        out.write(f"\n{'intent':<32} {'n':>3} {'precision':>10} {'recall':>8}\n")
        for intent, m in summary["per_intent"].items():
            out.write(f"{intent:<32} {m['n']:>3} {_fmt(m['precision']):>10} "
                      f"{_fmt(m['recall']):>8}\n")
    if summary["confused"]:
        out.write("\nMost confused (expected -> got):\n")
        for c in summary["confused"]:
            out.write(f"  {c['count']:>3}  {c['expected']} -> {c['got']}\n")
    if show_errors:
        out.write("\nWrong answers:\n")
        for o in outcomes:
            if not o.correct:
                label = (o.case.expected or ("none:" + (o.case.refusal or "any")
                                             if o.case.out_of_scope else "phrase"))
                out.write(f"  {o.case.file}:{o.case.line} [{label} -> {o.predicted} "
                          f"{o.reply.score:.0f}] {o.case.question}\n")


@dataclass(frozen=True)
class Targets:
    """Minimum accuracies (%) per group, and the highest error rates (%) allowed."""

    accuracy: float | None = None
    english: float | None = None
    chinese: float | None = None
    misspelt: float | None = None
    refused: float | None = None
    confident_wrong: float | None = None
    wrong_redirect: float | None = None
    clarify: float | None = None

    def missed(self, summary: dict[str, Any]) -> list[str]:
        groups = {"accuracy": "accuracy", "english": "english", "chinese": "chinese",
                  "misspelt": "misspelt", "refused": "out_of_scope_refused"}
        missed = []
        for name, key in groups.items():
            target = getattr(self, name)
            value = summary[key]["accuracy"]
            if target is not None and value is not None and value < target:
                missed.append(f"{name} {value}% is below {target}%")
        for name, key in (("confident_wrong", "confident_wrong"),
                          ("wrong_redirect", "wrong_redirect"), ("clarify", "clarify")):
            limit = getattr(self, name)
            rate = summary[key]["rate"] or 0.0
            if limit is not None and rate > limit:
                missed.append(f"{name.replace('_', '-')} {rate}% is above {limit}%")
        return missed


def run_eval(responder: Responder, files: list[Path], targets: Targets,
             as_json: bool = False, show_errors: bool = False) -> int:
    try:
        cases = [c for f in files for c in read_cases(f)]
    except EvalFileError as exc:
        print(f"citizenbot: {exc}", file=sys.stderr)
        return 2
    if not cases:
        print("citizenbot: no questions in the evaluation file(s)", file=sys.stderr)
        return 2
    started = time.perf_counter()
    outcomes = [judge(responder, c) for c in cases]
    ms = (time.perf_counter() - started) * 1000 / len(cases)
    summary = summarise(outcomes)
    summary["ms_per_question"] = round(ms, 3)
    if as_json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        print_report(summary, outcomes, show_errors, ms)
    failed = targets.missed(summary)
    for reason in failed:
        print(f"FAILED: {reason}", file=sys.stderr)
    return 1 if failed else 0
