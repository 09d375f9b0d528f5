"""The report as citable data: paragraphs and sentences with stable ids and labels.

The file is kept exactly as published; this module only finds its structure. Ids are
derived from that structure (part, item, footnote, paragraph and sentence number), so
they stay the same as long as the report text does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"
ZH_NUMERALS = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十")

PART_TITLES = {
    "I": ("Review of the 13th Five-Year Plan period", "“十三五”时期回顾"),
    "II": ("Targets of the 14th Five-Year Plan period", "“十四五”时期目标"),
    "III": ("Work arrangement in 2021", "2021年工作安排"),
}

_PART_HEADING = re.compile(r"^(I|II|III)\.\s")
_ITEM = re.compile(r"^\((I|II|III|IV|V|VI|VII)\)\s")
# A sentence ends at . ! ? or an ellipsis, before a space and a capital, digit, quote,
# bracket or dash. Lower-case continuations ("Inc. become") are not a new sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’]?\s+(?=[A-Z0-9\"“(—])")
_ABBREVIATIONS = ("Co.", "Inc.", "Ltd.", "No.", "St.", "Mr.", "Dr.", "etc.")


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


class ReportError(Exception):
    """The report file is missing or does not have the expected structure."""


# A sentence that opens a numbered point ("Fourth, speed up ...", "The second is to ...") names
# the topic of the sentences after it, up to the next such sentence.
_ORDINAL = re.compile(
    r"^(?:First|Second|Third|Fourth|Fifth|Sixth|Seventh|Eighth|Firstly|Secondly|Thirdly|"
    r"The (?:first|second|third|fourth|fifth) is)\b")
# In the review, short statements with no figures ("Economic structure has been optimized.")
# head the figures that follow them.
_SHORT_STATEMENT = 90
_CLIPPED = ("...", "…", "….")


@dataclass(frozen=True)
class Sentence:
    id: str
    text: str
    passage_id: str
    topic_id: str | None = None  # the sentence naming the point this one belongs to

    @property
    def clipped(self) -> bool:
        """The English version stops here with an ellipsis: the details are left out."""
        return self.text.rstrip().endswith(_CLIPPED)


@dataclass(frozen=True)
class Passage:
    id: str
    label_en: str
    label_zh: str
    text: str
    sentences: tuple[Sentence, ...]

    @property
    def part(self) -> str:
        """'front', 'I', 'II', 'III' or 'note'."""
        return self.id.split(".")[0]

    @property
    def heading_only(self) -> bool:
        """A numbered item of which the English version gives only the heading."""
        return self.part == "III" and not self.id[4:].isdigit() and len(self.sentences) == 1

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en


@dataclass(frozen=True)
class Report:
    title: str
    date: str
    passages: tuple[Passage, ...]
    part_headings: tuple[tuple[str, str], ...] = ()  # (part, heading as written)
    delivered: str = ""  # the day the report was delivered, ISO format

    def part_heading(self, part: str) -> str:
        return dict(self.part_headings).get(part, "")

    def passage(self, passage_id: str) -> Passage | None:
        return self._by_id.get(passage_id)

    @cached_property
    def _by_id(self) -> dict[str, Passage]:
        return {p.id: p for p in self.passages}

    def sentence(self, sentence_id: str) -> Sentence | None:
        for p in self.passages:
            for s in p.sentences:
                if s.id == sentence_id:
                    return s
        return None

    def locate(self, quote: str) -> Passage | None:
        """The passage that contains `quote` word for word, if any."""
        for p in self.passages:
            if quote in p.text:
                return p
        return None

    @property
    def sentences(self) -> tuple[Sentence, ...]:
        return tuple(s for p in self.passages for s in p.sentences)


def split_sentences(text: str) -> list[str]:
    """Split a paragraph at sentence ends, keeping every character of the original."""
    pieces: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        candidate = text[start : m.start()] + m.group(0).rstrip()
        if candidate.rstrip("\"”’").endswith(_ABBREVIATIONS):
            continue
        pieces.append(candidate.strip())
        start = m.end()
    tail = text[start:].strip()
    if tail:
        pieces.append(tail)
    return [p for p in pieces if p]


def _clean(paragraph: str) -> str:
    # Non-breaking and repeated spaces come from the web page, not the text itself.
    return re.sub(r"[ \u00a0]+", " ", paragraph).strip()


def parse_report(text: str) -> Report:
    """Parse the published report into passages.

    The first block (the web page's title and date line) and everything after the last
    footnote (page chrome such as "Print Close") are not part of the report.
    """
    blocks = [_clean(b) for b in re.split(r"\n\s*\n", text) if b.strip()]
    if len(blocks) < 3:
        raise ReportError("the report file is too short to be the Government Work Report")
    header = blocks[0].splitlines()
    title = header[0].strip()
    date_match = re.search(r"Date:\s*(\d{4}-\d{2}-\d{2})", blocks[0])
    date = date_match.group(1) if date_match else ""

    passages: list[Passage] = []
    part_headings: list[tuple[str, str]] = []
    part = ""
    counters: dict[str, int] = {}

    def add(pid: str, label_en: str, label_zh: str, body: str) -> None:
        sentences: list[Sentence] = []
        topic: str | None = None
        texts = split_sentences(body)
        for i, text in enumerate(texts, start=1):
            sid = f"{pid}.s{i}"
            short = (pid.startswith("I.") and 1 < i < len(texts) and len(text) < _SHORT_STATEMENT
                     and not re.search(r"\d", text))
            if _ORDINAL.match(text) or short or (i == 1 and _ITEM.match(text)):
                topic = sid
            sentences.append(Sentence(id=sid, text=text, passage_id=pid,
                                      topic_id=topic if topic != sid else None))
        passages.append(Passage(pid, label_en, label_zh, body, tuple(sentences)))

    for block in blocks[1:]:
        if block[0] in CIRCLED:
            n = CIRCLED.index(block[0]) + 1
            add(f"note.{n}", f"Footnote {block[0]}", f"注释{block[0]}", block)
            continue
        if passages and passages[-1].id.startswith("note."):
            break  # page chrome after the footnotes
        heading = _PART_HEADING.match(block)
        if heading:
            part = heading.group(1)
            part_headings.append((part, block[heading.end():].strip()))
            continue
        item = _ITEM.match(block)
        if part == "III" and item:
            roman = item.group(1)
            zh = ZH_NUMERALS[ROMAN.index(roman)]
            add(
                f"III.{roman}",
                f"Part III ({PART_TITLES['III'][0]}), item ({roman})",
                f"第三部分（{PART_TITLES['III'][1]}）第（{zh}）项",
                block,
            )
            continue
        key = part or "front"
        counters[key] = counters.get(key, 0) + 1
        n = counters[key]
        if not part:
            add(f"front.{n}", f"Opening of the report, paragraph {n}", f"报告开头 第{n}段", block)
        else:
            en, zh = PART_TITLES[part]
            zh_part = ZH_NUMERALS[ROMAN.index(part)]
            add(
                f"{part}.{n}",
                f"Part {part} ({en}), paragraph {n}",
                f"第{zh_part}部分（{zh}）第{n}段",
                block,
            )
    if not any(p.id.startswith("III.") for p in passages):
        raise ReportError("the report has no part III: is this the right file?")
    # Every answer is cut from these sentences, so proving them proves every answer: each
    # must stand in the file word for word (only runs of spaces are folded).
    published = _clean(text.replace("\n", " "))
    for p in passages:
        for sentence in p.sentences:
            if sentence.text not in published:
                raise ReportError(f"sentence {sentence.id} is not word for word in the file")
    delivered = ""
    when = re.search(r"\bon ([A-Z][a-z]+) (\d{1,2}), (\d{4})", text)
    if when and when.group(1) in _MONTHS:
        delivered = (f"{when.group(3)}-{_MONTHS.index(when.group(1)) + 1:02d}-"
                     f"{int(when.group(2)):02d}")
    return Report(title=title, date=date, passages=tuple(passages),
                  part_headings=tuple(part_headings), delivered=delivered)


def load_report(path: Path) -> Report:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"{path}: the report file is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path}: cannot read the report ({exc})") from None
    return parse_report(text)
