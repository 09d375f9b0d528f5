"""The scope check: before an answer is given, is this a question the report can answer?

Each rule is a small predicate that returns why it fired, so that the reply can say *why*
("the report is Shizhong District's; it has nothing on Lixia District"; "the report names the
"Jingwei talent" series projects but gives no deadline") instead of quoting the wrong place,
the wrong year or a passage that lacks what was asked. The words each rule looks for are data
(`scope.yml`, `places.yml`); the rules are here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from citizenbot.core.glossary import Gazetteer, Glossary, PhraseSet, Place, StemPhraseSet
from citizenbot.core.report import Report, Sentence
from citizenbot.core.text import STOPWORDS_EN, normalise

YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
# In a normalised question "2016-2020" reads "2016 2020".
_RANGE = re.compile(
    r"((?:19|20)\d\d)\s*(?:年)?\s*(?:-|–|—|~|to|until|till|through|and|至|到)?\s*"
    r"((?:19|20)\d\d)")
# "2016-20", "2016 to 20": a span written short.
_SHORT_RANGE = re.compile(
    r"(?<!\d)((?:19|20)\d\d)\s*(?:-|–|—|~|to|until|till|through|至|到)?\s*(\d\d)(?![\d%])")
_DIGIT = re.compile(r"\d")
# Words that make a string of keywords a question ("signing rate" names; "what is the signing
# rate" asks).
_ASKING = re.compile(r"\b(?:what|whats|how|which|is|are|was|were|did|does|do|will)\b|多少|几")
_GET = re.compile(r"\b(?:get|receive)\b|^will (?:my|our)$|能拿|能得到|能获得")
_NOT_FIGURES = re.compile(r"(?<![\d.,])(?:19|20)\d\d(?![\d.,%])|\b\d{1,2}(?:th|st|nd|rd)\b")
# "the five years" is the review's, unless the question speaks of the plan: "how does the
# district plan to open up over the five years?" asks about the next five.
_BARE_FIVE_YEARS = re.compile(r"(?:the|these|those) (?:five|5) years")
_PLANNING = re.compile(r"\b(?:will|going to|plans? to|planning|the plan|the outline|key tasks|"
                       r"aims? to|wants? to|intends? to)\b")
_SINCE = re.compile(r"\b(?:since|from)\s+((?:19|20)\d\d)\b(?!\s*(?:-|–|to|until|till))"
                    r"|((?:19|20)\d\d)\s*年(?:以来|来)")
# Where the asker comes from, when the asker speaks of themselves (see _without_origin).
_ORIGIN = re.compile(
    r"\b(?:coming|moving|come|move|returning|relocating|relocate|back)\s+(?:back\s+)?from\s+"
    r"(?:the\s+)?[a-z]+(?:\s+[a-z]+)?"
    r"|\bfrom\s+(?:the\s+)?[a-z]+(?:\s+[a-z]+)?"
    r"(?=\s+(?:with|and|to|as|i|we|next|this|soon|will)\b|\s*$)"
    # Where the asker's own business is or looks: "I run a design studio in Milan", "a PE
    # fund looking for a base in Shandong", "a machinery maker looking at Shandong".
    r"|\b(?:i|we)\s+(?:run|own|manage|lead|founded|started|have|make|produce|manufacture|"
    r"sell|export|build|design|develop|operate)\s+(?:[a-z]+\s+){0,5}?"
    r"(?:in|from)\s+(?:the\s+)?[a-z]+"
    r"|\b(?:based|headquartered|registered)\s+in\s+(?:the\s+)?[a-z]+"
    # "I'm an AI engineer in Singapore thinking about moving": where the asker is now.
    # ("I'm interested in Lixia" is not: who the asker is comes with "a" or "an".)
    r"|\b(?:i am|im|we are|were)\s+an?\s+(?:[a-z]+\s+){1,4}?in\s+(?:the\s+)?[a-z]+"
    r"|\blooking\s+(?:for\s+a\s+(?:base|home|location|site)\s+in|at|to\s+(?:move|expand)\s+"
    r"(?:to|into))\s+(?:the\s+)?[a-z]+"
    r"|(?:我|我们|我太太|我妻子|我老婆|我先生|我丈夫|我老公|我家人|孩子)是[^，,。？?！!\s]{1,8}?(?:来的|人)"
    r"|(?:我|我们)(?:刚)?(?:从|来自)[^，,。？?！!\s]{1,8}")
# "Architect from Seoul here": a self-introduction, with or without "I".
_HERE_FROM = re.compile(r"\bfrom\s+(?:the\s+)?[a-z]+(?:\s+[a-z]+)?\s+here\b")


def _blank(text: str, parts: Sequence[str]) -> str:
    for part in parts:
        if part:
            text = text.replace(part, " ")
    return text


# Words every park's or body's name has: they do not tell which name follows a place.
_NAME_FILLER = STOPWORDS_EN | frozenset((
    "industrial", "industry", "park", "parks", "zone", "district", "city", "area", "base",
    "center", "centre", "s"))
_NAME_KINDS = frozenset(("park", "parks", "base", "bases", "institute", "building", "zone",
                         "center", "centre", "workstation", "workstations"))
# "Abroad as well as in China", "abroad, or only in China": at home and abroad, which the
# report speaks of.
_HOME_AND_ABROAD = re.compile(
    r"\b(?:abroad|overseas|internationally)\s+(?:(?:too|as well|also)\s+)?"
    r"(?:as well as|and|or|but)\s+"
    r"(?:(?:only|just|also|mainly|not only)\s+)?(?:with)?in\s+china\b"
    r"|\bin\s+china\s+(?:as well as|and|or|but)\s+(?:(?:also|only|just)\s+)?"
    r"(?:abroad|overseas|internationally)\b")
# A sum to work out ("what is 17 * 23", "12+7=?"), not a span of years ("2016-2020").
_OPERATOR = r"(?:\s*[-+*/×÷^x]\s*|\s+(?:plus|minus|times|multiplied by|divided by)\s+)"
# "Is PaddlePaddle better than TensorFlow?", "is Shizhong better than Lixia?": an opinion
# between two things; "doing better than before" asks how things went, which the report says.
_COMPARED = re.compile(r"\b(?:better|worse)\s+(?:\w+\s+){0,4}?than\s+(?!before\b|last\b|previous|"
                       r"in\s+the\s+past|expected|planned|the\s+target|ever\b|it\s+was|"
                       r"they\s+were|in\s+\d|\d)")
_ARITHMETIC = re.compile(
    r"(?:^|\b(?:what is|what's|whats|calculate|compute|how much is)\s+)"
    rf"\d+(?:\.\d+)?{_OPERATOR}\d+(?:\.\d+)?(?:{_OPERATOR}\d+(?:\.\d+)?)*"
    r"\s*=?\s*\??\s*$"
    # "what's 8% of 150 billion?"
    r"|\b(?:what is|what's|whats|how much is)\s+\d+(?:\.\d+)?\s*(?:%|percent)\s+of\s+\d",
    re.IGNORECASE)
# Spelled-out figures; small number words ("one case, one discussion") are not figures.
_NUMBER_WORDS = re.compile(r"\b(?:hundred|thousand|million|billion|percent|dozens?)\b|%",
                           re.IGNORECASE)
WHEN = ("past", "plan", "year")
DETAIL_KINDS = ("address", "location", "phone", "hours", "fee", "amount", "deadline", "form",
                "duration", "completion", "rate", "charge")

_SET_ASIDE = (r"(?:not just|not only|rather than|other than|instead of|excluding|beyond)\s+"
              r"(?:the\s+)?")
_SINCE_WORD = re.compile(r"\bsince\b|以来")
_END_ASKED = re.compile(r"\b(?:by|end|ended|ending|until|up to|as of)\b|末|底|到")

@dataclass(frozen=True)
class Refusal:
    """Why a question gets no quote, with what the reply should name."""

    category: str  # other_place, other_year, personal, practical_detail, no_figure,
    #                abridged, general, other_language
    place: Place | None = None
    year: str = ""
    detail: str = ""  # a DETAIL_KINDS entry
    heading: Sentence | None = None  # the heading an abridged topic would stand under


@dataclass(frozen=True)
class YearRule:
    parts: tuple[str, ...]
    years: frozenset[int]
    period: tuple[int, int] | None
    label_en: str = ""
    label_zh: str = ""
    # The years are end points: "by 2020" is the state the review reaches, but it gives no
    # change within 2020 alone ("GDP growth in 2020").
    end_states: bool = False


@dataclass(frozen=True)
class AbridgedRule:
    target: str  # a passage id ("III.VII") or a sentence id ("II.3.s7")
    when: str
    topics: StemPhraseSet


@dataclass(frozen=True)
class DetailRule:
    kind: str
    cues: PhraseSet
    evidence: PhraseSet
    words: tuple[str, ...]
    # Phrases that hold a cue but ask something else: "which forms of design" asks for kinds.
    unlike: PhraseSet = field(default_factory=lambda: PhraseSet(()))

    def asked(self, norm: str) -> list[str]:
        """The cues the question uses, once the look-alike phrases are set aside."""
        if self.unlike:
            for phrase in self.unlike.find(norm):
                norm = norm.replace(phrase, " ")
        return self.cues.find(norm)


@dataclass
class ScopeRules:
    """scope.yml, parsed."""

    years: list[YearRule] = field(default_factory=list)
    periods: list[tuple[PhraseSet, tuple[int, int]]] = field(default_factory=list)
    abridged: list[AbridgedRule] = field(default_factory=list)
    personal: PhraseSet = field(default_factory=lambda: PhraseSet(()))
    # Together, not alone: the asker ("I", "we", "my company") and something granted to one
    # ("a subsidy", "certified", "count as"): "will the district give me a housing subsidy?"
    asker: PhraseSet = field(default_factory=lambda: PhraseSet(()))
    granted: PhraseSet = field(default_factory=lambda: PhraseSet(()))
    details: list[DetailRule] = field(default_factory=list)
    figures: PhraseSet = field(default_factory=lambda: PhraseSet(()))
    not_figures: PhraseSet = field(default_factory=lambda: PhraseSet(()))
    general: PhraseSet = field(default_factory=lambda: PhraseSet(()))
    whole_place: PhraseSet = field(default_factory=lambda: PhraseSet(()))
    relation: PhraseSet = field(default_factory=lambda: PhraseSet(()))
    specifics: PhraseSet = field(default_factory=lambda: PhraseSet(()))
    outcome: PhraseSet = field(default_factory=lambda: PhraseSet(()))
    predictions: PhraseSet = field(default_factory=lambda: PhraseSet(()))
    claims: PhraseSet = field(default_factory=lambda: PhraseSet(()))
    definition: PhraseSet = field(default_factory=lambda: PhraseSet(()))
    changes: PhraseSet = field(default_factory=lambda: PhraseSet(()))
    # The parts that set targets, and the signs of a question asking how something will be
    # done rather than what the target is.
    target_parts: tuple[str, ...] = ()
    means: PhraseSet = field(default_factory=lambda: PhraseSet(()))
    means_unless: PhraseSet = field(default_factory=lambda: PhraseSet(()))
    offered: PhraseSet = field(default_factory=lambda: PhraseSet(()))


def _phrases(value: Any, where: str, problems: list[str]) -> list[str]:
    """en/zh lists (or one plain list) of phrases."""
    found: list[str] = []
    if isinstance(value, dict):
        for lang, items in value.items():
            if lang == "__line__":
                continue
            if lang not in ("en", "zh"):
                problems.append(f"{where}: unknown language '{lang}' (expected en, zh)")
                continue
            found += _phrases(items, f"{where}.{lang}", problems)
        return found
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"{where}: expected a list of words or phrases")
        return []
    return [v.strip() for v in value]


def parse_scope(data: Any, report: Report) -> tuple[ScopeRules, list[str]]:
    """scope.yml's data, checked; problems as 'field: message' strings."""
    problems: list[str] = []
    rules = ScopeRules()
    if not isinstance(data, dict):
        return rules, ["expected a mapping (years, periods, abridged, personal, details, ...)"]
    known = {"years", "periods", "abridged", "personal", "asker", "granted", "details",
             "figures", "not_figures", "general",
             "whole_place", "relation", "specifics", "definition", "outcome", "changes",
             "predictions", "claims", "targets", "offered", "__line__"}
    for key in sorted(set(data) - known):
        problems.append(f"{key}: unknown key")
    parts = {p.part for p in report.passages} | {p.id for p in report.passages}
    for i, entry in enumerate(data.get("years") or []):
        where = f"years[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("parts"), list):
            problems.append(f"{where}: expected parts: [...] and years: [...]")
            continue
        bad = [p for p in entry["parts"] if p not in parts]
        if bad:
            problems.append(f"{where}.parts: no part or passage {', '.join(map(str, bad))}")
        years = entry.get("years") or []
        if not all(isinstance(y, int) for y in years):
            problems.append(f"{where}.years: expected a list of years")
            years = []
        period = entry.get("period")
        span: tuple[int, int] | None = None
        if period is not None:
            if (not isinstance(period, list) or len(period) != 2
                    or not all(isinstance(y, int) for y in period)):
                problems.append(f"{where}.period: expected [first year, last year]")
            else:
                span = (period[0], period[1])
        label = entry.get("label") or {}
        rules.years.append(YearRule(tuple(map(str, entry["parts"])), frozenset(years), span,
                                    str(label.get("en", "")), str(label.get("zh", "")),
                                    bool(entry.get("end_states", False))))
    for i, entry in enumerate(data.get("periods") or []):
        where = f"periods[{i}]"
        span_value = entry.get("span") if isinstance(entry, dict) else None
        if (not isinstance(span_value, list) or len(span_value) != 2
                or not all(isinstance(y, int) for y in span_value)):
            problems.append(f"{where}.span: expected [first year, last year]")
            continue
        names = _phrases(entry.get("names"), f"{where}.names", problems)
        rules.periods.append((PhraseSet(names), (span_value[0], span_value[1])))
    sentence_ids = {s.id for p in report.passages for s in p.sentences}
    passage_ids = {p.id for p in report.passages}
    for i, entry in enumerate(data.get("abridged") or []):
        where = f"abridged[{i}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: expected passage, when and topics")
            continue
        target = str(entry.get("passage", ""))
        if target not in passage_ids and target not in sentence_ids:
            problems.append(f"{where}.passage: no passage or sentence '{target}' in the report")
            continue
        when = entry.get("when")
        if when not in WHEN:
            problems.append(f"{where}.when: expected one of {', '.join(WHEN)}")
            continue
        topics = _phrases(entry.get("topics"), f"{where}.topics", problems)
        rules.abridged.append(AbridgedRule(target, str(when), StemPhraseSet(topics)))
    rules.personal = PhraseSet(_phrases(data.get("personal") or [], "personal", problems))
    rules.offered = PhraseSet(_phrases(data.get("offered") or [], "offered", problems))
    rules.asker = PhraseSet(_phrases(data.get("asker") or [], "asker", problems))
    rules.granted = PhraseSet(_phrases(data.get("granted") or [], "granted", problems))
    rules.figures = PhraseSet(_phrases(data.get("figures") or [], "figures", problems))
    rules.not_figures = PhraseSet(_phrases(data.get("not_figures") or [], "not_figures",
                                           problems))
    rules.general = PhraseSet(_phrases(data.get("general") or [], "general", problems))
    rules.whole_place = PhraseSet(_phrases(data.get("whole_place") or [], "whole_place",
                                           problems))
    rules.relation = PhraseSet(_phrases(data.get("relation") or [], "relation", problems))
    rules.specifics = PhraseSet(_phrases(data.get("specifics") or [], "specifics", problems))
    rules.outcome = PhraseSet(_phrases(data.get("outcome") or [], "outcome", problems))
    rules.predictions = PhraseSet(_phrases(data.get("predictions") or [], "predictions",
                                           problems))
    rules.claims = PhraseSet(_phrases(data.get("claims") or [], "claims", problems))
    rules.changes = PhraseSet(_phrases(data.get("changes") or [], "changes", problems))
    rules.definition = PhraseSet(_phrases(data.get("definition") or [], "definition",
                                          problems))
    targets = data.get("targets") or {}
    if not isinstance(targets, dict) or not isinstance(targets.get("parts", []), list):
        problems.append("targets: expected parts: [...], means: ... and unless: ...")
        targets = {}
    bad = [p for p in targets.get("parts", []) if p not in parts]
    if bad:
        problems.append(f"targets.parts: no part or passage {', '.join(map(str, bad))}")
    rules.target_parts = tuple(str(p) for p in targets.get("parts", []) if p in parts)
    rules.means = PhraseSet(_phrases(targets.get("means") or [], "targets.means", problems))
    rules.means_unless = PhraseSet(_phrases(targets.get("unless") or [], "targets.unless",
                                            problems))
    details = data.get("details") or {}
    if not isinstance(details, dict):
        problems.append("details: expected a mapping of kinds")
        details = {}
    for kind, entry in details.items():
        if kind == "__line__":
            continue
        if kind not in DETAIL_KINDS:
            problems.append(f"details.{kind}: unknown kind (expected {', '.join(DETAIL_KINDS)})")
            continue
        if not isinstance(entry, dict):
            problems.append(f"details.{kind}: expected en, zh and evidence lists")
            continue
        cues = _phrases({k: v for k, v in entry.items() if k in ("en", "zh")},
                        f"details.{kind}", problems)
        evidence = _phrases(entry.get("evidence") or [], f"details.{kind}.evidence", problems)
        unlike = _phrases(entry.get("unlike") or [], f"details.{kind}.unlike", problems)
        rules.details.append(DetailRule(kind, PhraseSet(cues), PhraseSet(evidence),
                                        tuple(cues), PhraseSet(unlike)))
    return rules, problems


class Scope:
    """The scope rules applied to one report."""

    def __init__(self, report: Report, rules: ScopeRules, gazetteer: Gazetteer,
                 glossary: Glossary) -> None:
        self.report = report
        self.rules = rules
        self.gazetteer = gazetteer
        self.glossary = glossary
        self._passages = {p.id: p for p in report.passages}
        self.delivered_year = int(report.delivered[:4]) if report.delivered else 0
        self._sentences = {s.id: s for p in report.passages for s in p.sentences}
        self._years: dict[str, frozenset[int]] = {}
        # Report names with a place in them ("Five Jinan") are blanked before places are
        # looked for; other names ("ranking first in the city") stay.
        self._place_names = PhraseSet(gazetteer.names)
        # "Jinan BIM industrial park", "Jinan international innovative design industrial
        # park": the word after a place that opens a report name. With a typo further on
        # ("jinan bim park", "jinan internatonal … park") the glossary cannot blank the name,
        # but "jinan bim" still is that name, not the city.
        place_names = {normalise(n) for n in gazetteer.names}
        self._name_words: dict[str, set[str]] = {}  # place -> its names' own words, cut to 5
        for term in glossary.terms:
            words = normalise(term.en).split()
            for size in (1, 2):
                if len(words) > size and " ".join(words[:size]) in place_names:
                    self._name_words.setdefault(" ".join(words[:size]), set()).update(
                        w[:5] for w in words[size:] if w not in _NAME_FILLER)
        self._names_of: dict[int, list[str]] = {}
        self._evidence_of: dict[int, PhraseSet] = {}
        self._said_raw: dict[str, str] = {}  # normalised sentence
        self._said: dict[str, str] = {}  # ... with report names blanked
        self._asked: dict[str, tuple[list[int], list[tuple[int, int]]]] = {}
        self._plan_span = next((span for names, span in self.rules.periods
                                if names.find("next five years")), None)
        self._passage_rules: dict[str, list[YearRule]] = {}
        for p in report.passages:
            for s in p.sentences:
                self._years[s.id] = self._sentence_years(s)
                self._said_raw[s.id] = normalise(s.text)
                self._said[s.id] = glossary.mask(self._said_raw[s.id], self._place_names)
        # What the whole report covers, for judging a year with no passage to go on.
        self._all_years: frozenset[int] = frozenset().union(*self._years.values())
        self._all_spans = sorted({span for p in report.passages for span in
                                  (r.period for r in self._rules_for(p.id) if r.period)})

    # -- years ----------------------------------------------------------------------------

    def _rules_for(self, passage_id: str) -> list[YearRule]:
        """The most specific year rules for a passage (a passage id beats its part)."""
        found = self._passage_rules.get(passage_id)
        if found is None:
            part = passage_id.split(".")[0]
            exact = [r for r in self.rules.years if passage_id in r.parts]
            found = exact or [r for r in self.rules.years if part in r.parts]
            self._passage_rules[passage_id] = found
        return found

    def _sentence_years(self, s: Sentence) -> frozenset[int]:
        years: set[int] = set()
        for rule in self._rules_for(s.passage_id):
            years |= rule.years
        years |= {int(y) for y in YEAR.findall(s.text)}
        norm = normalise(s.text)
        for names, (_first, last) in self.rules.periods:
            if names.find(norm):
                years.add(last)  # "at the end of the 12th Five Year Plan"
        return frozenset(years)

    def years_named_only(self, s: Sentence) -> frozenset[int]:
        """The years a sentence covers only by naming them ("from 0.5:16.8:82.7 in 2015 to
        ..."), not as the years its part gives figures for."""
        by_part: set[int] = set()
        for rule in self._rules_for(s.passage_id):
            by_part |= rule.years
        return frozenset(self.covered_years(s) - by_part)

    def covered_years(self, s: Sentence) -> frozenset[int]:
        return self._years.get(s.id, frozenset())

    def _periods_of(self, s: Sentence) -> list[tuple[int, int]]:
        return [r.period for r in self._rules_for(s.passage_id) if r.period]

    def spans(self, s: Sentence, period: tuple[int, int]) -> bool:
        """Whether the sentence's part is about that whole period (the 14th Five-Year Plan's
        part for "2021-2025"), not only a year inside it."""
        return period in self._periods_of(s)

    def question_years(self, norm: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Single years and spans ("2016-2020", "13th Five-Year Plan") a question names."""
        # Asked once per candidate passage: remember the last few questions.
        cached = self._asked.get(norm)
        if cached is None:
            cached = self._question_years(norm)
            if len(self._asked) > 256:
                self._asked.clear()
            self._asked[norm] = cached
        return cached

    def _question_years(self, norm: str) -> tuple[list[int], list[tuple[int, int]]]:
        periods = []
        for names, span in self.rules.periods:
            found = names.find(norm)
            if not found:
                continue
            if self._plan_span and all(_BARE_FIVE_YEARS.fullmatch(f) for f in found) and (
                    _PLANNING.search(norm)):
                span = self._plan_span
            periods.append(span)
        for first, last in _RANGE.findall(norm):
            if int(first) < int(last):
                periods.append((int(first), int(last)))
        rest = _RANGE.sub(" ", norm)

        def short(m: re.Match[str]) -> str:
            first, last = int(m.group(1)), int(m.group(1)[:2] + m.group(2))
            if not first < last <= first + 15:
                return m.group(0)
            periods.append((first, last))
            return " "

        rest = _SHORT_RANGE.sub(short, rest)
        # "since 2016" (or since 2015, where the review starts from) is the span the report
        # covers from then on; since a year before any span stays that year, which it lacks.
        def since(m: re.Match[str]) -> str:
            year = int(m.group(1) or m.group(2))
            span = next(((a, b) for a, b in self._all_spans if a - 1 <= year <= b), None)
            if span is None:
                return m.group(0)
            periods.append((year, span[1]))
            return " "

        rest = _SINCE.sub(since, rest)
        years = [int(y) for y in YEAR.findall(rest)]
        return years, periods

    def change_within_end_year(self, norm: str, sentences: Sequence[Sentence]) -> Refusal | None:
        """"How much did GDP grow in 2020 alone?": the review's 2020 is where five years
        ended, not a year it gives changes for."""
        years, periods = self.question_years(norm)
        if not sentences or not years or periods or not self.rules.changes.find(norm):
            return None
        for year in years:
            if re.search(rf"\b(?:by|end of|until|up to)\s+(?:the\s+)?(?:end\s+of\s+)?{year}\b"
                         rf"|到{year}|{year}年底|{year}年末", norm):
                continue  # "did GDP pass 100 billion by 2020?" asks for the end state
            if all(self._end_state(s, year) for s in sentences):
                return Refusal("other_year", year=str(year))
        return None

    def _end_state(self, s: Sentence, year: int) -> bool:
        """Whether the sentence covers `year` only as the end of a period (and does not name
        it)."""
        if str(year) in s.text:
            return False
        rules = [r for r in self._rules_for(s.passage_id) if year in r.years]
        return bool(rules) and all(r.end_states for r in rules)

    def year_labels(self, lang: str) -> list[str]:
        return [r.label_zh if lang == "zh" else r.label_en for r in self.rules.years
                if r.label_en]

    def year_refusal(self, norm: str, excerpt: Sequence[Sentence]) -> Refusal | None:
        """Another year than the passage covers; with no passage, a year the whole report
        has nothing for."""
        years, periods = self.question_years(norm)
        if not years and not periods:
            return None
        if excerpt:
            covered: set[int] | frozenset[int] = set().union(
                *(self.covered_years(s) for s in excerpt))
            spans = [span for s in excerpt for span in self._periods_of(s)]
        else:
            covered, spans = self._all_years, self._all_spans
        for year in years:
            if year not in covered and not any(a <= year <= b for a, b in periods):
                return Refusal("other_year", year=str(year))
        if excerpt:
            refusal = self.change_within_end_year(norm, excerpt)
            if refusal is not None:
                return refusal
        # A passage that names only a period's last year ("from 53,600 at the end of the
        # 12th Five Year Plan to 110,100") gives its end state, not what happened during it.
        end_asked = bool(_END_ASKED.search(norm))
        # "Growth since the 12th five-year plan": from its end on, which the next period's
        # review gives.
        since = bool(_SINCE_WORD.search(norm))
        for first, last in periods:
            fits = any(a <= last and first <= b for a, b in spans) or any(
                first <= y < last or (y == last and (end_asked or since)) for y in covered)
            if not fits:
                return Refusal("other_year", year=f"{first}–{last}")
        return None

    # -- places ---------------------------------------------------------------------------

    def _place_refusal(self, norm: str, excerpt: Sequence[Sentence]) -> Refusal | None:
        # Report names are blanked on both sides: "Shandong New Financial Industry Park" in a
        # question is not about Shandong, and "Five Jinan" in a passage does not speak of
        # the city. The glossary translates Chinese names first (山东新金融产业园).
        mentions = self.gazetteer.find(
            self.glossary.mask(self.glossary.rewrite(self._without_origin(norm)).text,
                               self._place_names))
        if not mentions:
            return None
        # "Jinan as a whole, not just Shizhong": the district named only to be set aside.
        home = any(m.place.role == "home" and not re.search(
            rf"\b{_SET_ASIDE}{re.escape(m.said)}\b", norm) for m in mentions)
        said = " | ".join(self._said[s.id] for s in excerpt)
        said_raw = " | ".join(self._said_raw[s.id] for s in excerpt)
        for m in mentions:
            place = m.place
            # Another place is fine when the passage names it ("Hong Kong main board"); a
            # container only when the passage speaks of it outside a name ("Five Jinan").
            text = said_raw if place.role == "other" else said
            names = self._place_words(place)
            in_excerpt = any(re.search(rf"(?<![a-z0-9]){re.escape(n)}(?![a-z0-9])", text)
                             for n in names if n)
            if place.role == "other" and not in_excerpt:
                return Refusal("other_place", place=place)
            if place.role == "container" and re.search(
                    rf"\b(?:from|outside(?:\s+of)?|beyond)\s+(?:the\s+)?{re.escape(m.said)}\b",
                    norm):
                # "talent from China and overseas" says where they come from; "events
                # outside China" means abroad, which the report speaks of.
                continue
            if place.role == "container" and self._opens_a_name(norm, m.said):
                continue  # a report name that opens with the place, misspelt further on
            if place.role == "container" and not home and in_excerpt:
                # "The population of Shandong Province" is not answered by a line that names
                # the province only as who gave an award: what is asked of it must be there.
                # ("People like me in Jinan" says who, not what is asked of the city.)
                aspects = [a for a in self.rules.whole_place.find(norm) if a != "people"]
                in_excerpt = not aspects or any(
                    re.search(rf"(?<![a-z0-9]){re.escape(a)}(?![a-z0-9])", said)
                    for a in aspects)
            if place.role == "container" and self.asks_definition(norm) and any(
                    s.passage_id.startswith("note.") for s in excerpt):
                # "What does BIM stand for in the Jinan plan": a footnote's term means the
                # same wherever the asker read it.
                continue
            if place.role == "container" and not home and not in_excerpt:
                # "The super node in Jinan" says where; "Jinan's GDP" asks about the city;
                # "how does it rank in Jinan" asks how the district stands in it, which the
                # report may say ("ranking first in the city").
                whole = self.rules.whole_place.find(norm) or self.asks_figure(norm)
                related = self.rules.relation.find(norm) and self._evidence(place).find(
                    said)
                if whole and not related:
                    return Refusal("other_place", place=place)
        return None

    def _opens_a_name(self, norm: str, said: str) -> bool:
        """Whether the place is followed, within three words, by a word of a report name
        that opens with it ("jinan internatonal innovative desgin park": Jinan International
        Innovative Design Industrial Park)."""
        own = self._name_words.get(said)
        if not own:
            return False
        for m in re.finditer(rf"(?<![a-z0-9]){re.escape(said)}((?: [a-z0-9]+){{1,6}})", norm):
            after = m.group(1).split()
            # ... and says what kind of place it is: "Jinan's innovation plans" are the city's.
            if any(w[:5] in own for w in after[:3] if w not in _NAME_FILLER) and any(
                    w in _NAME_KINDS for w in after):
                return True
        return False

    def _without_origin(self, norm: str) -> str:
        """The question without where the asker comes from: "I'm moving back from Germany
        with a PhD" or 我是台湾来的创业者 says who asks, not what about. These patterns work
        inside the clause that asks ("I run a studio in Milan and wonder whether …"); a whole
        clause in which the asker speaks of themselves is set aside before (`after`'s
        `aside`)."""
        norm = _HERE_FROM.sub(" ", _HOME_AND_ABROAD.sub(" ", norm))
        if not self.rules.asker.find(norm):
            return norm
        return _ORIGIN.sub(" ", norm)

    def _place_words(self, place: Place) -> list[str]:
        found = self._names_of.get(id(place))
        if found is None:
            found = self._names_of[id(place)] = [normalise(n) for n in place.names_en]
        return found

    def _evidence(self, place: Place) -> PhraseSet:
        found = self._evidence_of.get(id(place))
        if found is None:
            found = self._evidence_of[id(place)] = PhraseSet(place.evidence)
        return found

    # -- the checks -----------------------------------------------------------------------

    def is_personal(self, norm: str, aside: Sequence[str] = ()) -> bool:
        """A case of the asker's own: a sign of one ("do I qualify"), or the asker and
        something granted to one person or company in the same question, outside the parts
        where the asker only says who they are ("I'm a lawyer thinking of opening an office
        in Jinan. Does the report want legal service firms?" asks about policy)."""
        cues = self.rules.personal.find(norm)
        if cues and self.rules.offered.find(norm):
            # "What kind of service will I get?", "what help will my project get?" ask what
            # the report offers, not how one case is decided: their "will I get", "will my"
            # are not signs of a personal case.
            cues = [c for c in cues if not _GET.search(c)]
        if cues:
            return True
        # The weaker sign gives way to a practical detail asked ("which form do I need for
        # the housing subsidy?" asks for a form, which the report does not give either),
        # except the amount: "how much subsidy can I get" is the asker's own case.
        return bool(self.rules.asker.find(norm) and self.rules.granted.find(_blank(norm, aside))
                    and not any(rule.asked(norm) for rule in self.rules.details
                                if rule.kind != "amount"))

    def asks_means(self, norm: str) -> bool:
        """Whether the question asks how something will be done ("how will the district open
        up?"), not what the target is."""
        return bool(self.rules.means.find(norm) and not self.rules.means_unless.find(norm))

    def sets_targets(self, s: Sentence) -> bool:
        """Whether the sentence stands in a part that sets targets."""
        return any(s.passage_id == p or s.passage_id.startswith(p + ".")
                   for p in self.rules.target_parts)

    def speaks_of_asker(self, norm: str) -> bool:
        """Whether the question speaks of the asker ("I", "my company", 我们)."""
        return bool(self.rules.asker.find(norm))

    def before(self, norm: str, language: str, question: str = "") -> Refusal | None:
        """Refusals that need no passage: another language, a request that is not a
        question about the report (arithmetic is looked for in the question as typed)."""
        if language == "other":
            return Refusal("other_language")
        if self.rules.general.find(norm) or _ARITHMETIC.search(question):
            return Refusal("general")
        if _COMPARED.search(norm) and not any(
                m.place.role != "home" for m in self.gazetteer.find(norm)):
            # Compared with another place, the place is the reason to say why (`after`).
            return Refusal("general")
        return None

    def after(self, norm: str, excerpt: Sequence[Sentence],
              years_in: Sequence[Sentence] | None = None,
              aside: Sequence[str] = ()) -> Refusal | None:
        """Refusals that depend on what the chosen passage says (with no passage: on what
        the whole report says). `years_in`: judge the years asked against these sentences
        instead (none: the whole report, when no passage is a confident answer)."""
        # A personal case first: "I'm a returnee PhD from Germany, do I qualify?" is about
        # the asker, not about Germany.
        if self.is_personal(norm, aside):
            return Refusal("personal")
        # Another place only if the question as typed and as corrected both name it:
        # "shandong new finacial industry park" is the park once "finacial" is corrected.
        # `aside`: the parts where the asker says where they are ("I'm in Canada").
        refusals = [self._place_refusal(_blank(variant, aside), excerpt)
                    for variant in norm.split(" | ")]
        refusal = refusals[0] if all(refusals) else None
        if refusal is None:
            refusal = self.year_refusal(norm, excerpt if years_in is None else years_in)
        if refusal is None and years_in is not None:
            # Years judged against the whole report still leave "GDP growth in 2020 alone"
            # to the passage named: the review's 2020 is only where its five years ended.
            refusal = self.change_within_end_year(norm, excerpt)
        if refusal is not None:
            return refusal
        said = " ".join(self._said_raw[s.id] for s in excerpt)
        outcome = [cue for cue in self.rules.outcome.find(norm) if cue not in said]
        if outcome and self.rules.claims.find(norm):
            # "Is it true GDP is going to hit 200 billion by 2025?": a claim to check against
            # the plan, not a prediction asked for.
            predicted = set(self.rules.predictions.find(norm))
            outcome = [cue for cue in outcome if cue not in predicted]
        if outcome and any(
                max(self.covered_years(s), default=0) >= self.delivered_year for s in excerpt):
            # "Did they hit the 8% target?": the report set it; it cannot say how it went.
            # Not when the report says those words itself ("the investment intention that
            # has been reached": the question quotes it).
            return Refusal("outcome")
        asks_figure = self.asks_figure(norm)
        # "Is 5G coverage decent? I'm deciding where to rent an office": the rent is the
        # asker's errand, not what is asked.
        asked = _blank(norm, aside)
        for rule in self.rules.details:
            cues = rule.asked(asked)
            if not cues:
                continue
            if rule.kind == "location" and asks_figure:
                continue  # "how many regional HQs are located in Shizhong" asks a number
            if rule.evidence and rule.evidence.find(said):
                continue  # "in the west of Erhuan Road" is a location; "fee reduction" fees
            return Refusal("practical_detail", detail=rule.kind)
        if self.asks_figure(norm) and not self.has_figure(" ".join(s.text for s in excerpt)) \
                and not self._figure_words_named(norm, said):
            return Refusal("no_figure")
        return None

    def _figure_words_named(self, norm: str, said: str) -> bool:
        """Whether every word that looks like asking for a number is part of a name the
        passage says itself: "signing rate implementation rate investment intention" names
        the report's "signing rate", it does not ask what the rate was; "what is the signing
        rate" does."""
        if _ASKING.search(norm):
            return False
        norm, cues = self._figure_cues(norm)
        if not cues:
            return False
        for cue in cues:
            if " " in cue:
                return False
            named = [m for m in re.finditer(rf"(\w+) {re.escape(cue)}\b", norm)
                     if re.search(rf"\b{re.escape(m.group(0))}\b", said)]
            if not named:
                return False
        return True

    def asks_specifics(self, norm: str) -> bool:
        """Whether the question asks for particulars ("which villages", 具体指标), which a
        heading cannot give."""
        return bool(self.rules.specifics.find(norm)) or self.asks_figure(norm)

    def asks_definition(self, norm: str) -> bool:
        return bool(self.rules.definition.find(norm))

    def asks_figure(self, norm: str) -> bool:
        return bool(self._figure_cues(norm)[1])

    def _figure_cues(self, norm: str) -> tuple[str, list[str]]:
        """The words that ask for a number, found in the question once the look-alikes
        ("how much weight does it give to…") are set aside; and the question without those."""
        for phrase in self.rules.not_figures.find(norm):
            norm = norm.replace(phrase, " ")
        return norm, self.rules.figures.find(norm)

    @staticmethod
    def has_figure(text: str) -> bool:
        # A year or a plan's number is when, not how many: "the long-term target by 2035"
        # has no figure for "how many 5G base stations by 2035".
        return bool(_DIGIT.search(_NOT_FIGURES.sub(" ", text)) or _NUMBER_WORDS.search(text))

    def abridged_heading(self, norm: str) -> tuple[Sentence, list[str]] | None:
        """The heading under which the English version leaves out what is asked, if any,
        with the words of the question that pointed there."""
        years, periods = self.question_years(norm)
        when = "year"
        if any(y <= 2020 for y in years) or any(b <= 2020 for _, b in periods):
            when = "past"
        elif any(2022 <= y <= 2025 for y in years) or any(a >= 2021 and b >= 2025
                                                           for a, b in periods):
            when = "plan"
        found: list[tuple[int, Sentence, list[str]]] = []
        for rule in self.rules.abridged:
            topics = rule.topics.find(norm)
            if not topics:
                continue
            target = self._sentences.get(rule.target)
            if target is None:
                passage = self._passages.get(rule.target)
                if passage is None:
                    continue
                target = passage.sentences[0]
            rank = 0 if rule.when == when else 1
            found.append((rank, target, topics))
        if not found:
            return None
        found.sort(key=lambda f: f[0])
        return found[0][1], found[0][2]

    def asks_detail(self, norm: str) -> bool:
        """Whether the question asks for a practical detail the report sometimes gives."""
        return any(rule.evidence and rule.asked(norm) for rule in self.rules.details)

    def detail_sentence(self, norm: str, near: Sentence) -> Sentence | None:
        """A sentence on the same point as `near` that gives the practical detail asked
        ("in the west of Erhuan Road" for "where"), if the report has one."""
        passage = self._passages.get(near.passage_id)
        if passage is None:
            return None
        for rule in self.rules.details:
            if not rule.asked(norm) or not rule.evidence:
                continue
            for s in passage.sentences:
                same_point = s.topic_id == near.topic_id or s.id == near.topic_id or (
                    near.id == s.topic_id)
                if same_point and rule.evidence.find(self._said_raw[s.id]):
                    return s
        return None

    def left_out_under(self, heading: Sentence, norm: str) -> list[str]:
        """The topics the English version leaves out under this heading that the text names
        ("schools" under the people's livelihood heading)."""
        return [t for rule in self.rules.abridged if rule.target in (heading.id, heading.passage_id)
                for t in rule.topics.find(norm)]

    def period_names(self, norm: str) -> list[str]:
        """The names of plan periods a text uses ("the 12th five year plan")."""
        return [found for names, _ in self.rules.periods for found in names.find(norm)]

    def left_out_named(self, norm: str) -> list[str]:
        """The topics the English version leaves out anywhere that the text names."""
        return [t for rule in self.rules.abridged for t in rule.topics.find(norm)]

    def is_abridged(self, s: Sentence) -> bool:
        """A heading or clipped sentence: the English version gives no details after it."""
        passage = self._passages.get(s.passage_id)
        if s.clipped or (passage is not None and passage.heading_only):
            return True
        return any(rule.target == s.id for rule in self.rules.abridged)


def sentences_text(sentences: Iterable[Sentence]) -> str:
    return " ".join(s.text for s in sentences)
