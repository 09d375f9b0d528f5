"""Choose the decision thresholds from the evaluation file (prints a table; changes nothing).

Usage: python bench/tune_thresholds.py [tests/data/eval.tsv]

For every combination of answer, clarify and search thresholds and margin it runs the labelled
questions through the real responder and prints the best combinations: highest in-scope
accuracy among those with confident-wrong <= 2% and out-of-scope refusal >= 95%.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from citizenbot.core.knowledge import load_knowledge_base
from citizenbot.core.responder import Responder, Thresholds
from citizenbot.evaluate import judge, read_cases, summarise


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "tests/data/eval.tsv")
    cases = read_cases(path)
    kb = load_knowledge_base()
    base = Responder(kb)
    rows = []
    for answer, clarify, margin, search in itertools.product(
            range(30, 56, 5), range(20, 41, 5), (0, 3, 5, 7, 9), (60, 70, 101)):
        if clarify > answer:
            continue
        responder = Responder.__new__(Responder)
        responder.__dict__.update(base.__dict__)
        responder.thresholds = Thresholds(answer, clarify, margin, search)
        s = summarise([judge(responder, c) for c in cases])
        rows.append((s["accuracy"]["accuracy"], s["confident_wrong"]["rate"],
                     s["out_of_scope_refused"]["accuracy"], s["english"]["accuracy"],
                     s["chinese"]["accuracy"], s["misspelt"]["accuracy"],
                     answer, clarify, margin, search))
    ok = [r for r in rows if r[1] <= 2.0 and r[2] >= 95.0]
    ok.sort(key=lambda r: (-r[0], r[1]))
    print(f"{len(rows)} combinations, {len(ok)} within confident-wrong <= 2% and refusal >= 95%")
    print("accuracy  conf-wrong  refused  en     zh     typo   | answer clarify margin search")
    def show(selected: list[tuple[float, ...]]) -> None:
        for r in selected:
            print(f"{r[0]:6.1f}%  {r[1]:6.1f}%  {r[2]:6.1f}%  {r[3]:5.1f}  {r[4]:5.1f}  {r[5]:5.1f}"
                  f"  | {r[6]:>6} {r[7]:>7} {r[8]:>6} {r[9]:>6}")

    show(ok[:10])
    # A margin of 0 never asks "did you mean" when two topics tie; these keep that safety.
    print("\nbest with a clarify margin (margin > 0, clarify below answer):")
    show([r for r in ok if r[8] > 0 and r[7] < r[6]][:10])


if __name__ == "__main__":
    main()
