"""Second tier: find the report sentence that best covers a question no intent answered.

A sentence is only offered when most of the question's informative words (weighted by how
rare they are in the report) stand in it; the responder decides with a threshold whether that
is "clearly relevant". English only: the report is in English.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from citizenbot.intents import MAX_EXCERPT_CHARS
from citizenbot.matcher import STOPWORDS_EN, normalise, stem
from citizenbot.report import Passage, Report

MIN_SENTENCE_CHARS = 40
MIN_SHARED_WORDS = 2


@dataclass(frozen=True)
class SearchHit:
    text: str
    passage: Passage
    score: float  # 0-100: weighted share of the question's words found in the sentence


def _words(text: str) -> list[str]:
    return [stem(w) for w in normalise(text).split() if w.isascii() and w not in STOPWORDS_EN]


class ReportSearch:
    def __init__(self, report: Report) -> None:
        self._sentences: list[tuple[str, Passage, frozenset[str]]] = []
        for passage in report.passages:
            for s in passage.sentences:
                # Too short is a heading; too long is not an excerpt anyone would read.
                if MIN_SENTENCE_CHARS <= len(s.text) <= MAX_EXCERPT_CHARS:
                    self._sentences.append((s.text, passage, frozenset(_words(s.text))))
        df: dict[str, int] = defaultdict(int)
        for _, _, words in self._sentences:
            for w in words:
                df[w] += 1
        n = len(self._sentences)
        self._idf = {w: math.log((n + 1) / (d + 0.5)) for w, d in df.items()}
        self._unknown = math.log((n + 1) / 0.5) if n else 1.0
        self._vocab = sorted(w for w in self._idf if len(w) >= 4)
        self._postings: dict[str, list[int]] = defaultdict(list)
        for i, (_, _, words) in enumerate(self._sentences):
            for w in words:
                self._postings[w].append(i)

    def _correct(self, word: str) -> str:
        return _correct(self, word)

    def best(self, question: str) -> SearchHit | None:
        words = set()
        for w in _words(question):
            if w not in self._idf and len(w) >= 5:
                w = self._correct(w)
            words.add(w)
        if len(words) < MIN_SHARED_WORDS:
            return None
        weights = {w: self._idf.get(w, self._unknown) for w in words}
        total = sum(weights.values())
        shared: dict[int, list[str]] = defaultdict(list)
        for w in words:
            for i in self._postings.get(w, ()):
                shared[i].append(w)
        best: tuple[float, int] | None = None
        for i, found in shared.items():
            if len(found) < MIN_SHARED_WORDS:
                continue
            score = 100 * sum(weights[w] for w in found) / total
            if best is None or score > best[0]:
                best = (score, i)
        if best is None:
            return None
        text, passage, _ = self._sentences[best[1]]
        return SearchHit(text=text, passage=passage, score=round(best[0], 1))


@lru_cache(maxsize=2048)
def _correct(search: ReportSearch, word: str) -> str:
    hit = process.extractOne(word, search._vocab, scorer=fuzz.ratio, score_cutoff=85)
    return str(hit[0]) if hit else word
