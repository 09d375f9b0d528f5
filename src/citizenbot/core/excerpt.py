"""Choose the words of the report that answer a question: verbatim, short, and readable alone.

Given the sentence that answers best, the excerpt adds the sentences of the same passage that
cover what that sentence leaves out, and the sentence that names the point they belong to (so
that "the cluster development of transportation equipment" comes with "Fourth, speed up the
construction of intelligent manufacturing industry highland."). A sentence too long to read on
a phone is cut to the clauses that hold the question's words, marked with "…". Every piece is a
substring of the report, so `citizenbot validate` and the tests can prove it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from citizenbot.core.report import Report, Sentence
from citizenbot.core.search import ASKED_CREDIT, Query, SentenceIndex
from citizenbot.core.text import normalise

MAX_EXCERPT_CHARS = 700
CLAUSE_BUDGET = 450  # a cut sentence keeps this many characters of clauses
OPENING_CHARS = 160  # an opening clause this short is kept before a later window
TOPIC_CHARS = 150  # a point heading longer than this is cut to the words that name the point
MIN_GAIN = 0.15  # a further sentence must explain this share of the question
MAX_SENTENCES = 3
ELLIPSIS = "…"

_CLAUSE_END = re.compile(r"(?<=[,;:])\s+")
_MARKS = "①②③④⑤⑥⑦⑧⑨⑩"  # footnote marks; ② refers to passage note.2
_MARK = re.compile(f"[{_MARKS}]")
MARKED_CHARS = 60  # the longest name a footnote mark stands after


@dataclass(frozen=True)
class Piece:
    """A verbatim piece of one sentence (the whole sentence, or a run of its clauses)."""

    sentence: Sentence
    text: str
    cut_before: bool = False
    cut_after: bool = False


def _clauses(text: str) -> list[tuple[int, int]]:
    """(start, end) of each clause of a sentence, cut after commas, semicolons and colons."""
    spans = []
    start = 0
    for m in _CLAUSE_END.finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    return spans


def trim(sentence: Sentence, query: Query, index: SentenceIndex,
         budget: int = CLAUSE_BUDGET) -> list[Piece]:
    """The sentence, or, if it is longer than `budget`, the run of its clauses that explains
    most of the question (in its own words, or at a discount in the words of the ways of
    asking for the sentence that point to a clause: "balancing development with security" is
    "coordinate development and safety"), widened to the budget (a list after the matched
    words is usually the answer), after the sentence's opening clause when that says what it
    is about."""
    text = sentence.text
    if len(text) <= budget:
        return [Piece(sentence, text)]
    spans, clause_features = index.clauses(sentence, _clauses)
    # Words the part or point already explains ("14th Five-Year Plan" in part II) do not
    # choose the clauses; the words only this sentence explains do.
    context = index.context_credit(sentence)
    weights = {f: w * (1 - context.get(f, 0.0)) for f, w in query.weights.items()}
    features = [f & weights.keys() for f in clause_features]
    # What the ways of asking for this sentence that point to a clause add, at a discount.
    pointed = [a & weights.keys() for a in index.clause_asked(sentence, clause_features)]
    # The opening clause ("Guiding ideology of ... is:") is shown when it is short, so the
    # window is chosen for what the opening does not already say.
    opens = spans[0][1] <= OPENING_CHARS
    said = features[0] if opens else set()
    best_key: tuple[float, bool, int] | None = None
    i, j = 0, 0
    for first in range(len(spans)):
        covered: set[str] = set()
        hinted: set[str] = set()
        for last in range(first, len(spans)):
            length = spans[last][1] - spans[first][0]
            if length > budget and last > first:
                break
            covered |= features[last]
            hinted |= pointed[last]
            gain = sum(weights[f] for f in covered - said) + ASKED_CREDIT * sum(
                weights[f] for f in hinted - covered - said)
            # Most of the question first; then the sentence's start, which says what a list
            # is about; then the shortest.
            key = (round(gain, 6), first == 0, -length)
            if best_key is None or key > best_key:
                best_key, i, j = key, first, last
    opening: Piece | None = None
    if i > 0 and opens:
        opening = Piece(sentence, text[: spans[0][1]].rstrip(",;: "), cut_after=True)
        budget -= spans[0][1]
    # Widen: forwards first (the items of a list follow the words that announce it).
    while j + 1 < len(spans) and spans[j + 1][1] - spans[i][0] <= budget:
        j += 1
    while i > 1 and spans[j][1] - spans[i - 1][0] <= budget:
        i -= 1
    if i == 1 and opening is not None and spans[j][1] <= budget + spans[0][1]:
        i, opening = 0, None  # the opening joins the window
    start, end = spans[i][0], spans[j][1]
    piece = Piece(sentence, text[start:end].rstrip(",;: "), cut_before=start > 0,
                  cut_after=end < len(text))
    return [opening, piece] if opening is not None else [piece]


def choose(query: Query, main: Sentence, index: SentenceIndex, report: Report,
           base: Sequence[Sentence] = (), tied: Sequence[Sentence] = ()) -> list[Piece]:
    """The pieces of the report to quote for `query`, in report order.

    `base` is a curated answer (an intent's quote) to start from instead of `main` alone;
    `tied` are sentences of main's point that answer as well as main does.
    """
    picked: list[Sentence] = list(base) or [main]
    if main not in picked:
        picked.insert(0, main)
    picked += [s for s in tied if s not in picked][:max(0, MAX_SENTENCES - len(picked))]
    passage = report.passage(main.passage_id)
    if passage is not None and not base:
        covered = index.coverage(query, picked)
        # Only from the same point: a sentence under another heading answers another question.
        others = [s for s in passage.sentences if s not in picked
                  and (s.topic_id or s.id) == (main.topic_id or main.id)]
        while len(picked) < MAX_SENTENCES and others:
            gains = [(index.coverage(query, [*picked, s]) - covered, s) for s in others]
            gain, best = max(gains, key=lambda g: g[0])
            if gain < MIN_GAIN:
                break
            picked.append(best)
            others.remove(best)
            covered += gain
        body = [s for s in others if s.topic_id == main.id]
        if body and len(picked) < MAX_SENTENCES and not any(
                s.topic_id == main.id for s in picked):
            # A point's heading alone ("Fifth, build an all-round open Shizhong district.")
            # only names it; the sentence under it that says most of what was asked (else the
            # first, which says what the point means) comes with it.
            answering = max(body, key=lambda s: index.coverage(query, [*picked, s]))
            picked.append(answering)  # max keeps the first of equals: the opening line
    # Each sentence with the heading of its point, the main one's first, as far as they fit.
    topic_ids: set[str] = set()
    for s in [main, *(p for p in picked if p != main)]:
        if s.topic_id and all(p.id != s.topic_id for p in picked):
            topic = index.sentence(s.topic_id)
            if sum(len(p.text) for p in picked) + min(len(topic.text), TOPIC_CHARS) <= (
                    MAX_EXCERPT_CHARS):
                picked.append(topic)
                topic_ids.add(topic.id)
    # Reading order, so that a sentence stands under its own heading (the review's figures never
    # under a 2021 point).
    picked.sort(key=lambda s: index.position(s))

    def cut(s: Sentence, budget: int) -> list[Piece]:
        if s.id in topic_ids and len(s.text) > TOPIC_CHARS:
            return [_naming_part(s)]  # a long point heading only needs the words naming it
        return trim(s, query, index, budget)

    pieces = [p for s in picked for p in cut(s, MAX_EXCERPT_CHARS)]
    if sum(len(p.text) + 2 for p in pieces) > MAX_EXCERPT_CHARS:
        pieces = [p for s in picked for p in cut(s, CLAUSE_BUDGET)]
    while sum(len(p.text) + 2 for p in pieces) > MAX_EXCERPT_CHARS:
        # Drop the piece that explains least (never the main sentence).
        droppable = [p for p in pieces if p.sentence != main]
        if not droppable:
            break
        weakest = min(droppable, key=lambda p: index.coverage(query, [p.sentence]))
        pieces.remove(weakest)
    return pieces + _footnotes(query, pieces, index, report)


def _footnotes(query: Query, pieces: Sequence[Piece], index: SentenceIndex,
               report: Report) -> list[Piece]:
    """The footnotes the quote marks ("Five Jinan"②) that explain a name the question uses:
    the quote names it, the footnote says what it is."""
    found: list[Piece] = []
    quoted = {p.sentence.id for p in pieces}
    for piece in pieces:
        for m in _MARK.finditer(piece.text):
            i, mark = m.start(), m.group()
            # The name the mark stands after, not another name in the sentence.
            before = normalise(piece.text[max(0, i - MARKED_CHARS):i])
            if not any(before.endswith(t.key) for t in query.terms):
                continue
            note = report.passage(f"note.{_MARKS.index(mark) + 1}")
            for s in note.sentences if note is not None else ():
                if s.id not in quoted:
                    found.append(Piece(s, s.text))
                    quoted.add(s.id)
    return found


def _naming_part(sentence: Sentence) -> Piece:
    """The start of a long heading, up to its first full stop ("Third, continuously optimize
    the business environment."), or its first clause."""
    text = sentence.text
    stop = text.find(". ")
    end = stop + 1 if 0 < stop < TOPIC_CHARS else _clauses(text)[0][1]
    return Piece(sentence, text[:end].rstrip(",;: "), cut_after=end < len(text))


def render(pieces: Sequence[Piece]) -> str:
    """The pieces as one quote: adjacent sentences joined by a space, any gap or cut marked
    with one "…"."""
    out = ""
    previous: Piece | None = None
    for piece in pieces:
        gap = previous is not None and not (
            _adjacent(previous, piece) and not previous.cut_after and not piece.cut_before)
        if previous is None:
            out = f"{ELLIPSIS} " if piece.cut_before else ""
        elif gap:
            out += f" {ELLIPSIS} "
        else:
            out += " "
        out += piece.text
        previous = piece
    if previous is not None and previous.cut_after:
        out += f" {ELLIPSIS}"
    return out


def _adjacent(a: Piece, b: Piece) -> bool:
    if a.sentence == b.sentence:
        return False  # two windows of one sentence: a gap between them
    if a.sentence.passage_id != b.sentence.passage_id:
        return False
    na = int(a.sentence.id.rsplit(".s", 1)[1])
    nb = int(b.sentence.id.rsplit(".s", 1)[1])
    return nb == na + 1
