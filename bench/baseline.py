"""The reference point: answer every question with the single best-covering report sentence.

Usage: python bench/baseline.py [SET.jsonl ...]   (default: the blind sets in tests/data)

The same sentence search as citizenbot's, but it always answers (no intents, no threshold, no
scope check). Right = the sentence contains an expected phrase; every answer to an
out-of-scope question is confident-wrong. It shows what the rest of the design adds.
"""

from __future__ import annotations

import sys
from pathlib import Path

from citizenbot.core.knowledge import load_knowledge_base
from citizenbot.core.responder import Responder
from citizenbot.evaluate import read_cases

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    paths = [Path(p) for p in sys.argv[1:]] or sorted((ROOT / "tests/data").glob("blind-*.jsonl"))
    index = Responder(load_knowledge_base()).index
    for path in paths:
        cases = read_cases(path)
        right = {"en": [0, 0], "zh": [0, 0]}
        wrong = 0
        for case in cases:
            hits = index.rank(index.query(case.question), limit=1)
            said = hits[0].sentence.text.casefold() if hits else ""
            if case.out_of_scope:
                wrong += bool(hits)
                continue
            lang = "zh" if case.language == "zh" else "en"
            right[lang][1] += 1
            if any(p.casefold() in said for p in case.phrases):
                right[lang][0] += 1
            else:
                wrong += bool(hits)
        print(f"{path.name}: English {right['en'][0]}/{right['en'][1]}, "
              f"Chinese {right['zh'][0]}/{right['zh'][1]}, "
              f"confident-wrong {100 * wrong / len(cases):.1f}% of {len(cases)}")


if __name__ == "__main__":
    main()
