"""Questions about the report's own lists: "how many key tasks does the outline set, and what
is the first?", "what are the sixth and seventh tasks?", "2021年工作安排分为几个方面？".

A word search cannot answer these: "second" and "how many" are not words of the answer, and
every item of a list shares the list's words. The report numbers its lists ("First, ...",
"(II) ..."), so the items are found from the report itself, after the sentence that introduces
them; lists.yml only names each list (its introducing words, and what people call it). The
answer quotes the introducing sentence and the items asked for, verbatim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from citizenbot.core.glossary import PhraseSet
from citizenbot.core.report import Report, Sentence

ORDINAL_WORDS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
                 "ninth", "tenth")
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")
ZH_DIGITS = "一二三四五六七八九十"

# How the report opens an item: "First, ...", "Firstly, ...", "The first is to ...", "(II) ...".
_ITEM_WORD = re.compile(
    r"^(?:the\s+)?(" + "|".join(ORDINAL_WORDS) + r")(?:ly)?\b(?:\s+is\b)?", re.IGNORECASE)
_ITEM_ROMAN = re.compile(r"^\((" + "|".join(ROMAN) + r")\)")

# How a question asks for items (on the normalised question).
_ASK_ORDINAL_EN = re.compile(
    r"\b(" + "|".join(ORDINAL_WORDS) + r"|1st|2nd|3rd|[4-9]th|10th|last|final)\b"
    r"(?!\s+(?:\d+|two|three|four|five|few|several|year|years|decade|time|plan))")
_ASK_ORDINAL_ZH = re.compile(rf"第([{ZH_DIGITS}]|\d+)")
_ASK_COUNT = re.compile(r"\b(?:how many|number of)\b|几[个项条点大部方]|多少[个项条]|分为")
_ASK_ALL = re.compile(r"\b(?:list|what are the|which are the|what are all the|name the|"
                      r"what are they)\b|哪几|哪些|包括哪")
# "Which key task is about the environment?", 哪项任务讲生态: one item, picked by what else the
# question says. "Which are the ..." asks for all of them.
_ASK_WHICH_ZH = re.compile(r"哪一?[个项条点方]")
_ASK_WHICH = re.compile(r"\bwhich\b(?!\s+(?:are|were)\b)|\bwhat\s+(?:(?:is|s|was)\s+the\s+)?"
                        r"(?:(?:key|main)\s+)?"
                        r"(?:task|aspect|area|priority|item|point|part)\b(?!\s+of\b)"
                        rf"|{_ASK_WHICH_ZH.pattern}")
_WHICH = re.compile(r"\b(?:which|what)\s+(.*)")
_WHICH_SKIP = frozenset(("one", "of", "the", "its", "their", "these", "those", "is", "s", "was"))
_WHICH_STOP = frozenset(("and", "or", "is", "are", "was", "were", "will", "does", "do", "in",
                         "under", "for", "on"))
# "The first two tasks", "the last three", 前两项: the items from either end.
_COUNT_WORDS = {"two": 2, "three": 3, "four": 4, "2": 2, "3": 3, "4": 4}
_ASK_ENDS_EN = re.compile(r"\b(first|last|top|final)\s+(two|three|four|[234])\b")
_ASK_ENDS_ZH = re.compile(r"(前|后|最后)([两二三四234])[个项条点大]")
_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                 "ten", "eleven", "twelve")
_ZH_COUNT = {"两": 2, "二": 2, "三": 3, "四": 4, "2": 2, "3": 3, "4": 4}
# "Section two", "item 3", "part IV": an item by its number. (A bare "i" is the asker.)
_ROMAN_LOWER = {r.lower(): i for i, r in enumerate(ROMAN, 1) if r != "I"}
_ASK_NUMBERED = re.compile(
    r"\b(?:section|item|part|point|task|aspect|area|priority)\s+(?:no\s+|number\s+)?"
    r"(" + "|".join([*_NUMBER_WORDS[1:11], *_ROMAN_LOWER]) + r"|10|[1-9])\b")
_EN_POSITION = {w: i for i, w in enumerate(ORDINAL_WORDS, 1)} | {
    "1st": 1, "2nd": 2, "3rd": 3, **{f"{n}th": n for n in range(4, 11)}}


@dataclass(frozen=True)
class ReportList:
    """A numbered list of the report: the sentence that introduces it and its items."""

    id: str
    intro: Sentence
    items: tuple[Sentence, ...]
    names: PhraseSet  # what people call it ("key tasks", 重点任务): enough on their own
    nouns: PhraseSet  # general words ("tasks", 方面) that name it only with a context word
    context: PhraseSet  # "outline", "2021", 十四五: which list a general word means
    words: str = ""  # all of the above, as one text: the list's own vocabulary


@dataclass(frozen=True)
class ListQuestion:
    """A question about a list: the items asked for, or all of them."""

    report_list: ReportList
    positions: tuple[int, ...]  # 1-based; empty: the whole list ("how many", "what are")
    rest: str = ""  # the question without the list's words and the asking: what else it asks
    pick: bool = False  # "which task is about ...": the item `rest` speaks of, if one does
    whole: bool = True  # ... and without one, the whole list was asked for too
    details: tuple[Sentence, ...] = ()  # a line under the item picked that says what was asked

    @property
    def sentences(self) -> list[Sentence]:
        items = self.report_list.items
        chosen = [items[p - 1] for p in self.positions] if self.positions else list(items)
        return [self.report_list.intro, *chosen, *self.details]


class Lists:
    """The report's numbered lists, and which of them a question asks about."""

    def __init__(self, lists: tuple[ReportList, ...] = ()) -> None:
        self.lists = lists

    def asked(self, norm: str, rewritten: str = "") -> ListQuestion | None:
        if not self.lists:
            return None
        text = f"{norm} | {rewritten}" if rewritten and rewritten != norm else norm
        positions = self._positions(norm)
        count = bool(_ASK_COUNT.search(norm))
        whole = count or (not positions and bool(_ASK_ALL.search(norm)))
        pick = not count and not positions and bool(_ASK_WHICH.search(norm))
        if not positions and not whole and not pick:
            return None
        best: tuple[float, int, ReportList] | None = None
        for order, rl in enumerate(self.lists):
            named = bool(rl.names.find(text))
            context = rl.context.find(text)
            if not named and not (rl.nouns.find(text) and context):
                continue
            # "The first priority area of the 2021 plan": "2021" and "plan" say the 2021
            # work more than "plan" alone says the outline's tasks.
            rank = (2 if named else 0) + (1 if context else 0) + len(set(context)) / 100
            if best is None or rank > best[0]:
                best = (rank, -order, rl)
        if best is None:
            return None
        chosen = best[2]
        if pick and not self._which_item(chosen, norm):
            pick = False  # "which projects are under the urban construction item": particulars
            if not whole:
                return None
        rest = norm
        for phrases in (chosen.names, chosen.nouns, chosen.context):
            for phrase in phrases.find(norm):
                rest = rest.replace(phrase, " ")
        for pattern in (_ASK_ENDS_EN, _ASK_ENDS_ZH, _ASK_NUMBERED, _ASK_ORDINAL_EN,
                        _ASK_ORDINAL_ZH, _ASK_COUNT, _ASK_ALL, _ASK_WHICH):
            rest = pattern.sub(" ", rest)
        size = len(chosen.items)
        # "The eight key tasks": how many there are is the list's, not something else asked.
        said = _NUMBER_WORDS[size] if size < len(_NUMBER_WORDS) else str(size)
        rest = re.sub(rf"\b(?:{size}|{said})\b", " ", rest)
        rest = " ".join(rest.split())
        if pick:
            return ListQuestion(chosen, (), rest, pick=True, whole=whole)
        if whole:  # "how many ... and what's the first": all of it
            return ListQuestion(chosen, (), rest)
        wanted = tuple(dict.fromkeys(size + 1 + p if p < 0 else p for p in positions))
        if any(not 1 <= p <= size for p in wanted):
            return ListQuestion(chosen, (), rest)  # "the ninth task" of eight: all eight
        return ListQuestion(chosen, wanted, rest)

    @staticmethod
    def _which_item(chosen: ReportList, norm: str) -> bool:
        """Whether "which" asks for one of the list's items ("which of the outline's key
        tasks", "which 2021 aspect", 哪一项), not for something named under one of them
        ("which roads ... under the urban construction section")."""
        if _ASK_WHICH_ZH.search(norm):
            return True
        for m in _WHICH.finditer(norm):
            words = m.group(1).split()
            while words and words[0] in _WHICH_SKIP:
                words.pop(0)
            window: list[str] = []
            for word in words[:4]:  # "the outline's key tasks", not "streets and areas"
                if word in _WHICH_STOP:
                    break
                window.append(word)
            text = " ".join(window)
            if chosen.names.find(text) or chosen.nouns.find(text):
                return True
        return False

    @staticmethod
    def _positions(norm: str) -> list[int]:
        """Positions asked for, in the order asked: 1-based from the start, -1, -2 ... from
        the end ("the last", "the last two")."""
        found: list[tuple[int, int]] = []
        for m in _ASK_ENDS_EN.finditer(norm):
            n = _COUNT_WORDS[m.group(2)]
            ends = range(1, n + 1) if m.group(1) in ("first", "top") else range(-n, 0)
            found += [(m.start(), p) for p in ends]
        for m in _ASK_ENDS_ZH.finditer(norm):
            n = _ZH_COUNT[m.group(2)]
            ends = range(1, n + 1) if m.group(1) == "前" else range(-n, 0)
            found += [(m.start(), p) for p in ends]
        if found:
            return [p for _, p in found]
        for m in _ASK_ORDINAL_EN.finditer(norm):
            word = m.group(1)
            found.append((m.start(), -1 if word in ("last", "final") else _EN_POSITION[word]))
        for m in _ASK_NUMBERED.finditer(norm):
            said = m.group(1)
            found.append((m.start(), int(said) if said.isdigit() else _ROMAN_LOWER.get(
                said) or _NUMBER_WORDS.index(said)))
        for m in _ASK_ORDINAL_ZH.finditer(norm):
            value = m.group(1)
            number = int(value) if value.isdigit() else (
                ZH_DIGITS.index(value) + 1)
            found.append((m.start(), number))
        return [p for _, p in sorted(found)]


def _item_number(text: str, style: str) -> int | None:
    if style == "roman":
        m = _ITEM_ROMAN.match(text)
        return ROMAN.index(m.group(1)) + 1 if m else None
    m = _ITEM_WORD.match(text)
    return ORDINAL_WORDS.index(m.group(1).lower()) + 1 if m else None


def find_items(report: Report, intro: Sentence) -> tuple[Sentence, ...]:
    """The numbered sentences that follow `intro` in its part: item 1, 2, ... in order, in
    the style of the first one after it (words or roman numerals)."""
    sentences = [s for p in report.passages for s in p.sentences]
    start = next(i for i, s in enumerate(sentences) if s.id == intro.id)
    part = report.passage(intro.passage_id)
    assert part is not None
    following = [s for s in sentences[start + 1:]
                 if (p := report.passage(s.passage_id)) is not None and p.part == part.part]
    style = ""
    for s in following:
        if _ITEM_ROMAN.match(s.text):
            style = "roman"
            break
        if _ITEM_WORD.match(s.text):
            style = "word"
            break
    items: list[Sentence] = []
    for s in following:
        if _item_number(s.text, style) == len(items) + 1:
            items.append(s)
    return tuple(items)


def parse_lists(data: Any, report: Report) -> tuple[Lists, list[str]]:
    """lists.yml's data, checked; problems as 'field: message' strings."""
    if not isinstance(data, dict) or not isinstance(data.get("lists"), list):
        return Lists(), ["expected lists: [...]"]
    problems: list[str] = []
    found: list[ReportList] = []
    sentences = [s for p in report.passages for s in p.sentences]
    for i, entry in enumerate(data["lists"]):
        where = f"lists[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("intro"), str):
            problems.append(f"{where}: expected id, intro, names, nouns and context")
            continue
        intro_words = " ".join(entry["intro"].split())
        holders = [s for s in sentences if intro_words in " ".join(s.text.split())]
        if len(holders) != 1:
            problems.append(f"{where}.intro: '{intro_words}' is in {len(holders)} sentences of "
                            "the report (expected exactly one)")
            continue
        items = find_items(report, holders[0])
        if len(items) < 2:
            problems.append(f"{where}.intro: no numbered items follow '{intro_words}'")
            continue
        phrases: dict[str, list[str]] = {}
        for key in ("names", "nouns", "context"):
            value = entry.get(key) or {}
            collected: list[str] = []
            if not isinstance(value, dict):
                problems.append(f"{where}.{key}: expected en: [...] and zh: [...]")
            else:
                for lang in ("en", "zh"):
                    items_ = value.get(lang) or []
                    if not isinstance(items_, list) or not all(
                            isinstance(v, str) and v.strip() for v in items_):
                        problems.append(f"{where}.{key}.{lang}: expected a list of phrases")
                        continue
                    collected += items_
            phrases[key] = collected
        if not phrases["names"]:
            problems.append(f"{where}.names: a list needs at least one name")
            continue
        found.append(ReportList(str(entry.get("id") or f"list-{i}"), holders[0], items,
                                PhraseSet(phrases["names"]), PhraseSet(phrases["nouns"]),
                                PhraseSet(phrases["context"]),
                                " ".join(w for ws in phrases.values() for w in ws)))
    return Lists(tuple(found)), problems
