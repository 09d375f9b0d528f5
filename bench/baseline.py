"""The reference point: answer every question with the single best-matching report sentence.

Usage: python bench/baseline.py [tests/data/eval.tsv]

Uses the same sentence search as citizenbot's second tier, but always answers (no intents,
no threshold). A question counts as right when that sentence is part of the expected intent's
answer; every answer to an out-of-scope question, and every wrong sentence, is confident-wrong.
"""

from __future__ import annotations

import sys
from pathlib import Path

from citizenbot.core.knowledge import load_knowledge_base
from citizenbot.core.matcher import language_of
from citizenbot.core.search import ReportSearch
from citizenbot.evaluate import read_cases


def main() -> None:
    cases = read_cases(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/data/eval.tsv"))
    kb = load_knowledge_base()
    search = ReportSearch(kb.report)
    right = {"en": [0, 0], "zh": [0, 0]}
    wrong = 0
    for case in cases:
        hit = search.best(case.question)
        intent = kb.intent(case.expected) if case.expected else None
        if intent is None:
            wrong += hit is not None
            continue
        sentences = {e.text for e in intent.excerpts}
        ok = hit is not None and any(hit.text in s for s in sentences)
        lang = language_of(case.question)
        right[lang][0] += ok
        right[lang][1] += 1
        wrong += hit is not None and not ok
    for lang, (ok, n) in right.items():
        print(f"best-sentence baseline, {lang}: {100 * ok / n:.1f}% ({ok}/{n})")
    print(f"confident-wrong: {100 * wrong / len(cases):.1f}% ({wrong}/{len(cases)})")


if __name__ == "__main__":
    main()
