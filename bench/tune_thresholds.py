"""Show how the decision thresholds trade accuracy against wrong answers (changes nothing).

Usage: python bench/tune_thresholds.py [FILE ...]   (default: everything in tests/data)

Runs the labelled questions through the real responder for a grid of answer, clarify and
margin thresholds and intent scales, and prints the best settings: highest in-scope accuracy
among those with confident-wrong <= 2% and out-of-scope refusal >= 95%. These files were used to
build the responder: the figures that count are the first runs of fresh blind sets
(bench/QUALITY.md).
"""

from __future__ import annotations

import dataclasses
import itertools
import sys
from pathlib import Path

from citizenbot.core.knowledge import load_knowledge_base
from citizenbot.core.responder import Responder, Thresholds
from citizenbot.evaluate import judge, read_cases, summarise

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    data = ROOT / "tests" / "data"
    paths = [Path(p) for p in sys.argv[1:]] or sorted([*data.glob("*.tsv"),
                                                       *data.glob("blind-*.jsonl")])
    cases = [c for p in paths for c in read_cases(p)]
    responder = Responder(load_knowledge_base())
    rows = []
    for answer, clarify, margin, scale in itertools.product(
            (40, 45, 50, 55, 60), (30, 35, 40), (5, 8, 12), (50, 70, 90)):
        if clarify > answer:
            continue
        responder.thresholds = dataclasses.replace(
            Thresholds(), answer=answer, clarify=clarify, margin=margin, search=answer,
            intent_scale=scale)
        s = summarise([judge(responder, c) for c in cases])
        rows.append((s["accuracy"]["accuracy"], s["confident_wrong"]["rate"],
                     s["out_of_scope_refused"]["accuracy"], s["clarify"]["rate"],
                     (answer, clarify, margin, scale)))
    ok = sorted((r for r in rows if r[1] <= 2 and r[2] >= 95), reverse=True)
    print(f"{len(cases)} questions from {', '.join(p.name for p in paths)}")
    print("accuracy  confident-wrong  refused  clarify   (answer, clarify, margin, intent_scale)")
    for acc, cw, refused, clarify_rate, setting in (ok or sorted(rows, reverse=True))[:10]:
        print(f"{acc:7.1f}%  {cw:14.1f}%  {refused:6.1f}%  {clarify_rate:6.1f}%   {setting}")
    print(f"\ndefaults: {Thresholds()}")


if __name__ == "__main__":
    main()
