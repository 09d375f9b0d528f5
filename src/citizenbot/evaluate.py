"""`citizenbot eval`: measure the responder on questions its authors did not write.

A labelled file is tab-separated: question, expected intent id (or `none` for questions the
report does not cover), and optional tags (`typo` for misspelt questions). A header line
starting with `question` is skipped.

Correct means: an in-scope question answered with its intent (or, from report search, with a
passage of that intent's answer); an out-of-scope question refused (`fallback`). Confident-wrong
means answered, but with the wrong intent or for an out-of-scope question: the mistake a
government bot must avoid. Clarify is neither right nor confidently wrong.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from citizenbot.matcher import language_of
from citizenbot.responder import Reply, Responder


@dataclass(frozen=True)
class Case:
    question: str
    expected: str | None
    typo: bool
    line: int
    file: str


@dataclass(frozen=True)
class Outcome:
    case: Case
    reply: Reply
    predicted: str  # intent id, or "fallback" / "clarify" / "search:<passage>"
    correct: bool
    confident_wrong: bool


class EvalFileError(Exception):
    pass


def read_cases(path: Path) -> list[Case]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalFileError(f"{path}: cannot read ({exc})") from None
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
        cases.append(Case(cols[0].strip(), None if expected == "none" else expected,
                          "typo" in tags, number, path.name))
    return cases


def judge(responder: Responder, case: Case) -> Outcome:
    reply = responder.respond(case.question)
    if reply.status == "fallback":
        predicted = "fallback"
    elif reply.status == "clarify":
        predicted = "clarify"
    elif reply.kind == "search":
        predicted = f"search:{reply.excerpts[0].passage_id}"
    else:
        predicted = reply.intent_id or "?"
    if case.expected is None:
        correct = reply.status == "fallback"
        wrong = reply.status == "answered"
    elif reply.kind == "search":
        intent = responder.intent(case.expected)
        passages = {e.passage_id for e in intent.excerpts} if intent else set()
        correct = reply.excerpts[0].passage_id in passages
        wrong = not correct
    else:
        correct = reply.status == "answered" and reply.intent_id == case.expected
        wrong = reply.status == "answered" and not correct
    return Outcome(case, reply, predicted, correct, wrong)


def _pct(n: int, d: int) -> float | None:
    return round(100 * n / d, 1) if d else None


def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    in_scope = [o for o in outcomes if o.case.expected is not None]
    out_scope = [o for o in outcomes if o.case.expected is None]

    def acc(group: list[Outcome]) -> dict[str, Any]:
        return {"n": len(group), "correct": sum(o.correct for o in group),
                "accuracy": _pct(sum(o.correct for o in group), len(group))}

    per_intent: dict[str, dict[str, Any]] = {}
    labels = sorted({o.case.expected for o in in_scope if o.case.expected}
                    | {o.reply.intent_id for o in outcomes
                       if o.reply.status == "answered" and o.reply.intent_id})
    for label in labels:
        expected = [o for o in in_scope if o.case.expected == label]
        predicted = [o for o in outcomes if o.reply.status == "answered"
                     and o.reply.intent_id == label]
        hits = sum(o.correct for o in expected)
        per_intent[label] = {
            "n": len(expected),
            "precision": _pct(sum(o.case.expected == label for o in predicted), len(predicted)),
            "recall": _pct(hits, len(expected)),
        }
    confusions = Counter(
        (o.case.expected or "none", o.predicted) for o in outcomes if not o.correct
    )
    return {
        "questions": len(outcomes),
        "accuracy": acc(in_scope),
        "english": acc([o for o in in_scope if language_of(o.case.question) == "en"]),
        "chinese": acc([o for o in in_scope if language_of(o.case.question) == "zh"]),
        "misspelt": acc([o for o in in_scope if o.case.typo]),
        "out_of_scope_refused": acc(out_scope),
        "confident_wrong": {"n": len(outcomes),
                            "count": sum(o.confident_wrong for o in outcomes),
                            "rate": _pct(sum(o.confident_wrong for o in outcomes), len(outcomes))},
        "clarify_rate": _pct(sum(o.reply.status == "clarify" for o in outcomes), len(outcomes)),
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
    for name, a in rows:
        out.write(f"{name:<22} {_fmt(a['accuracy'])}  ({a['correct']}/{a['n']})\n")
    cw = summary["confident_wrong"]
    out.write(f"{'confident-wrong':<22} {_fmt(cw['rate'])}  ({cw['count']}/{cw['n']})\n")
    out.write(f"{'clarify':<22} {_fmt(summary['clarify_rate'])}\n\n")
    out.write(f"{'intent':<32} {'n':>3} {'precision':>10} {'recall':>8}\n")
    for intent, m in summary["per_intent"].items():
        out.write(f"{intent:<32} {m['n']:>3} {_fmt(m['precision']):>10} {_fmt(m['recall']):>8}\n")
    if summary["confused"]:
        out.write("\nMost confused (expected -> got):\n")
        for c in summary["confused"]:
            out.write(f"  {c['count']:>3}  {c['expected']} -> {c['got']}\n")
    if show_errors:
        out.write("\nWrong answers:\n")
        for o in outcomes:
            if not o.correct:
                out.write(f"  {o.case.file}:{o.case.line} [{o.case.expected or 'none'} -> "
                          f"{o.predicted} {o.reply.score:.0f}] {o.case.question}\n")


@dataclass(frozen=True)
class Targets:
    """Minimum accuracies (%) per group, and the highest confident-wrong rate (%) allowed."""

    accuracy: float | None = None
    english: float | None = None
    chinese: float | None = None
    misspelt: float | None = None
    refused: float | None = None
    confident_wrong: float | None = None

    def missed(self, summary: dict[str, Any]) -> list[str]:
        groups = {"accuracy": "accuracy", "english": "english", "chinese": "chinese",
                  "misspelt": "misspelt", "refused": "out_of_scope_refused"}
        missed = []
        for name, key in groups.items():
            target = getattr(self, name)
            value = summary[key]["accuracy"] or 0.0
            if target is not None and value < target:
                missed.append(f"{name} {value}% is below {target}%")
        rate = summary["confident_wrong"]["rate"] or 0.0
        if self.confident_wrong is not None and rate > self.confident_wrong:
            missed.append(f"confident-wrong {rate}% is above {self.confident_wrong}%")
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
