"""Rank intents for a question: normalise, correct typos, score weighted token overlap.

Pure and synchronous; everything expensive is prepared once in `Matcher.__init__`.

Scoring, in short: the question and every example become sets of features (English word
stems, joined word pairs so that "onestop" meets "one stop", and Chinese character unigrams
and bigrams, since Chinese has no spaces). Features are weighted by how specific they are to
one intent (inverse intent frequency). An intent's score blends the best weighted overlap
with one of its examples and how much of the question its vocabulary explains; a question
full of words no intent knows ("bus", "passport") therefore scores low.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from citizenbot.core.glossary import Synonyms
from citizenbot.core.knowledge import KnowledgeBase
from citizenbot.core.text import (
    CJK_RUN,
    MAX_MATCH_CHARS,
    STOPCHARS_ZH,
    STOPWORDS_EN,
    has_cjk,
    is_english_word,
    language_of,
    normalise,
    stem,
)

__all__ = ["MAX_MATCH_CHARS", "Candidate", "Matcher", "has_cjk", "language_of", "normalise"]

_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Candidate:
    intent_id: str
    score: float  # 0-100
    example: str  # the example (or title) that matched best
    explained: float = 0.0  # 0-1: share of the question the intent's vocabulary explains


class Matcher:
    """Scores questions against the intents of one knowledge base."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self._corrections: dict[str, str] = {}
        self._syn_en = Synonyms(kb.synonyms.get("en", {}), cjk=False)
        self._syn_zh = Synonyms(kb.synonyms.get("zh", {}), cjk=True)
        self.intent_ids: list[str] = []
        examples: list[tuple[int, str, frozenset[str]]] = []
        self._known_words: set[str] = set()
        for intent in kb.intents:
            for text in (*intent.examples, intent.title_en):
                self._known_words.update(_WORD.findall(normalise(text)))
        for variant, canonical in kb.synonyms.get("en", {}).items():
            self._known_words.update(_WORD.findall(normalise(f"{variant} {canonical}")))
        self._known_words -= STOPWORDS_EN
        intent_features: list[set[str]] = []
        for intent in kb.intents:
            index = len(self.intent_ids)
            self.intent_ids.append(intent.id)
            texts = [*intent.examples, intent.title_en, intent.title_zh]
            vocabulary: set[str] = set()
            for text in texts:
                features = self._features(text, correct=False)
                if features:
                    examples.append((index, text, features))
                    vocabulary |= features
            intent_features.append(vocabulary)
        self._vocab_list = sorted(w for w in self._known_words if len(w) >= 4)

        n = len(self.intent_ids)
        df: dict[str, int] = defaultdict(int)
        for vocabulary in intent_features:
            for f in vocabulary:
                df[f] += 1
        self._weight = {f: math.log((n + 1) / (d + 0.5)) for f, d in df.items()}
        # A word no intent knows weighs as much as the rarest known word: it is evidence
        # that the question is about something else.
        self._unknown_weight = math.log((n + 1) / 0.5) if n else 1.0

        # Scoring runs as array operations over all examples at once, so that a knowledge
        # base a hundred times larger stays within milliseconds per question.
        self._example_text = [text for _, text, _ in examples]
        self._example_intent = np.array([index for index, _, _ in examples], dtype=np.int64)
        self._example_mass = np.array(
            [sum(self._weight[f] for f in features) for _, _, features in examples])
        postings: dict[str, list[int]] = defaultdict(list)
        for eid, (_, _, features) in enumerate(examples):
            for f in features:
                postings[f].append(eid)
        self._postings = {f: np.array(ids, dtype=np.int64) for f, ids in postings.items()}
        # Examples were added intent by intent, so each intent's examples are one slice.
        bounds = np.searchsorted(self._example_intent, np.arange(len(self.intent_ids) + 1))
        self._example_slice = [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds)]
        self._vocabulary = [frozenset(v) for v in intent_features]
        intents_with: dict[str, list[int]] = defaultdict(list)
        for index, vocabulary in enumerate(intent_features):
            for f in vocabulary:
                intents_with[f].append(index)
        self._intents_with = {f: np.array(ids, dtype=np.int64) for f, ids in intents_with.items()}

    # -- features -------------------------------------------------------------------------

    def _features(self, text: str, correct: bool, spelled: bool = False) -> frozenset[str]:
        """Features of an example (`correct` False) or a question (True); `spelled`: the
        question's typos are already corrected (by the report search, which knows more words)."""
        norm = normalise(text, MAX_MATCH_CHARS)
        if not norm:
            return frozenset()
        if correct and not spelled:
            # Typos are corrected against the words people and synonyms use, before the
            # synonyms fold them: "comapny" -> "company" -> "enterprise".
            norm = " ".join(
                token if CJK_RUN.fullmatch(token) or token in self._known_words
                or token in STOPWORDS_EN or is_english_word(token) else self._correct(token)
                for token in norm.split(" ")
            )
        norm = self._syn_en.apply(norm)
        features: set[str] = set()
        words: list[str] = []
        for token in norm.split(" "):
            if not token:
                continue
            if CJK_RUN.fullmatch(token):
                features |= self._cjk_features(token)
                continue
            if token in STOPWORDS_EN:
                continue
            words.append(stem(token))
        for i, word in enumerate(words):
            features.add(word)
            # Joined pairs let "onestop" meet "one stop"; in a question they only count when
            # some example has them, else every word pair would look like an unknown word.
            if i + 1 < len(words):
                pair = "".join(sorted((word, words[i + 1])))
                if not correct or pair in self._weight:
                    features.add(pair)
        return frozenset(features)

    def _cjk_features(self, run: str) -> set[str]:
        run = self._syn_zh.apply(run)
        chars = [c for c in run if c not in STOPCHARS_ZH]
        features = set(chars)
        features |= {run[i : i + 2] for i in range(len(run) - 1)
                     if not (run[i] in STOPCHARS_ZH and run[i + 1] in STOPCHARS_ZH)}
        return features

    def _correct(self, word: str) -> str:
        # Per matcher and bounded, so that a retired matcher (after /reload) takes its
        # cache with it and odd input cannot grow it without end.
        fixed = self._corrections.get(word)
        if fixed is None:
            fixed = self._correct_uncached(word)
            if len(self._corrections) < 50_000:
                self._corrections[word] = fixed
        return fixed

    def _correct_uncached(self, word: str) -> str:
        if len(word) < 4 or word.isdigit() or not self._vocab_list:
            return word
        cutoff = 80 if len(word) >= 6 else 74
        best = process.extract(word, self._vocab_list, scorer=fuzz.ratio, score_cutoff=cutoff,
                               limit=3)
        if best:
            # Among equally close words prefer one with the same letters: swapped letters
            # ("cust" for "cuts") are the commonest slip.
            top = [b for b in best if b[1] == best[0][1]]
            same_letters = [b for b in top if sorted(b[0]) == sorted(word)]
            return str((same_letters or top)[0][0])
        # A missing space: "onestopservice" -> "onestop service" when both halves are known.
        for cut in range(3, len(word) - 2):
            left, right = word[:cut], word[cut:]
            if left in self._known_words and right in self._known_words:
                return f"{left} {right}"
        return word

    # -- scoring --------------------------------------------------------------------------

    def rank(self, question: str, limit: int = 5, spelled: bool = False) -> list[Candidate]:
        """The best intents for `question`, best first, each with a 0-100 score (`spelled`:
        its typos are already corrected)."""
        features = self._features(question, correct=True, spelled=spelled)
        if not features:
            return []
        weights = {f: self._weight.get(f, self._unknown_weight) for f in features}
        mass = sum(weights.values())
        known = [f for f in features if f in self._weight]
        if not known:
            return []
        n_intents = len(self.intent_ids)
        overlap = np.zeros(len(self._example_text))
        coverage = np.zeros(n_intents)
        for f in known:
            # Each id appears once per posting list, so fancy-index addition is exact.
            overlap[self._postings[f]] += weights[f]
            coverage[self._intents_with[f]] += weights[f]
        dice = 2 * overlap / (mass + self._example_mass)
        best = np.zeros(n_intents)
        np.maximum.at(best, self._example_intent, dice)
        scores = 100 * (0.6 * best + 0.4 * coverage / mass)
        top = np.argsort(-scores, kind="stable")[:limit]
        result = []
        for index in top:
            if scores[index] <= 0:
                break
            part = self._example_slice[index]
            eid = part.start + int(np.argmax(dice[part]))
            result.append(Candidate(self.intent_ids[index], round(float(scores[index]), 1),
                                    self._example_text[eid],
                                    round(float(coverage[index] / mass), 3)))
        return result
