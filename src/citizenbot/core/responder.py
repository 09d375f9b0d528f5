"""Decide answered / clarify / fallback for a question and compose the reply.

The knowledge base is the report: every sentence can be found and quoted. Curated intents are
routes into it (their examples catch the ways people ask about a topic), not the only answers.
For each question:

1. `Scope.before`: another language, or not a question about the report at all.
2. Candidates: report sentences ranked by how much of the question they cover, and the
   sentences that matched intents quote.
3. The excerpt: the sentences of the chosen passage that cover the question, with the sentence
   that names their point (`excerpt.choose`).
4. `Scope.after`: another place, another year, a personal case, a practical detail or a figure
   the excerpt lacks. The reply then says why, instead of quoting.
5. Nothing confident: the heading of a part the English version leaves out, a choice of two or
   three topics, a refusal that points somewhere specific when the question clearly belongs
   there, or the plain "not in the report".

Transport-free: the reply is a structured value; `plain_text` renders it for terminals and the
batch command, the Telegram package renders the same value as HTML with buttons.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from citizenbot.core import excerpt as excerpts
from citizenbot.core.followup import FollowUp, Previous
from citizenbot.core.glossary import Synonyms, Term
from citizenbot.core.knowledge import Excerpt, Intent, KnowledgeBase
from citizenbot.core.matcher import Candidate, Matcher
from citizenbot.core.outline import ListQuestion
from citizenbot.core.report import Passage, Sentence
from citizenbot.core.scope import Refusal, Scope
from citizenbot.core.search import PROPER_KINDS, Query, SentenceIndex, cjk_features
from citizenbot.core.text import (
    STOPWORDS_EN,
    content_stems,
    english_frequency,
    language_of,
    normalise,
)

Status = Literal["answered", "clarify", "fallback"]
Kind = Literal["report", "service", "search", "decline", "clarify", "fallback", "refusal"]

MAX_RELATED = 3
MORE_CHARS = 600  # "tell me more" quotes the next sentences up to about this length
SERVICE_EXPLAINED = 0.7  # a greeting's words must be most of the message
DECLINE_CORE = 2  # examples of an out-of-scope topic that must share a word for it to count
MAX_CLARIFY = 3
MIN_CLARIFY = 2
PICK_SHARE = 0.3  # of what else "which task is about ..." says, the item must explain this
PICK_LEAD = 1.5  # ... and this many times what any other item explains
PICK_BODY_CREDIT = 0.4  # a line under an item speaks for it, less than the item's own words
LISTED_KINDS = ("park", "platform", "organisation")  # things the report names several of
LISTED_WORDS = frozenset(("park", "platform"))  # ... and the words for two of them
LIST_OTHER_WORDS = 1  # report words a list question may hold besides the list's ("called")
# Whose list it is and how it is called ("the district's main areas of work"): nothing asked
# besides the list.
LIST_NEUTRAL = frozenset(("main", "major", "princip", "distric", "shizhon"))
ASIDE_SHARE = 0.2  # a topic the English version leaves out, beside a question answered
OWN_LEAD = 0.5  # how much more of a question a close second must say in its own words
YEAR_SUBJECT_SHARE = 0.5  # of the rest of a question, a sentence naming its year must say
NAME_WEIGHT = 3.0  # a word this rare in the report (BIM, iTOT, 353) names what a footnote defines
THEORY_SHARE = 0.8  # how much of a "what is" question a cited theory must be
CONCEPT_SHARE = 0.6  # ... and a general concept asked to be explained, beside the asking
_EXPLAIN = re.compile(r"\bexplain\b|\bin (?:simple|plain|layman s) (?:terms|words|english)\b"
                      r"|\bhow is it (?:calculated|measured|computed|defined)\b"
                      r"|\bdefinition of\b|\bwhat does it stand for\b"
                      r"|\b(?:main |key )?(?:decisions|points|contents?|outcomes?) of\b"
                      r"|\bwhat (?:was|were) decided\b"
                      r"|通俗|解释一下|怎么计算|如何计算|原理")
_EXPLAIN_ZH = re.compile(r"(?:请|详细|解释一下|的基本原理|基本原理|原理|通俗地?|讲讲)+")
# "How does blockchain actually work?": the words around the concept ask it to be explained.
_HOW_WORKS = re.compile(r"\bhow (?:(?:does|do) )?((?:\w+ ){1,3})(?:actually |really )?works?\b")
_WHAT_IS = re.compile(r"^(?:what|who) (?:is|are|was|were)\b|\bexplain\b|\bmean(?:s|ing)?\b"
                      r"|是什么|是谁|什么意思|含义")
# "Which …", "what kinds of …", 哪些: a question that may ask for several things.
_ASKS_SEVERAL = re.compile(r"\bwhich\b|\bwhat (?:kinds?|types?|sorts?) of\b|哪些|有哪"
                           r"|^what (?:\w+ ){0,2}\w+s (?:will|are|does|do|did|have|has)\b")
# "Does the outline include …", "Are there any goals for …": whether the report has it.
_ASKS_WHETHER = re.compile(r"^(?:does|do|did|is|are|will|any)\b"
                           r"|\b(?:include|includes|included|cover|covers|covered|"
                           r"say anything|anything about|at all)\b"
                           r"|有没有|是否|有.{0,12}吗")
_GOALS = re.compile(r"\b(?:goals?|targets?|aims?|plans?)\b|目标|规划|计划")
# "Does the plan mention the Yellow River at all?": whether it is there, wherever it is.
_ASKS_MENTION = re.compile(r"\b(?:mention|mentions|mentioned|any mention|at all|anything about|"
                           r"anything on|refer to|refers to|referred to)\b|提到|提及|说到|涉及")
# A sentence's lead: what it is about ("Third, continuously optimize the business environment.",
# "New and greater breakthroughs in reform and opening-up:"), after its number or link word,
# up to the first stop, colon, semicolon or comma.
_LEAD_OPENER = re.compile(
    r"^(?:\(\w+\)\s*|(?:first|second|third|fourth|fifth|sixth|seventh|eighth|firstly|secondly|"
    r"thirdly|moreover|furthermore|meanwhile|besides|in addition|also|at the same time|"
    r"the (?:first|second|third|fourth|fifth) is to)\b[\s,]*)+", re.IGNORECASE)
_LEAD_END = re.compile(r"[:;,.!?：；，。]")
LEAD_WINDOW = 25.0  # how far behind the best a sentence about the topic may be and still win
LEAD_GAP = 0.3  # the share of the question its lead must say, where the best's says none
SINGLED_OUT = 0.05  # how much more of a question one point of a list must explain than the rest
VERBATIM_WORDS = 4  # content words of the report's, in its order, that make a quotation
QUOTED_WINDOW = 25.0  # how far behind the best a sentence saying what the question quotes wins
HEAD_WORDS = 24  # a "heading: body" line's heading is short; a long clause before a colon is not
HEAD_CHARS = 160  # ... and starts the line
BESIDE_CHARS = 250  # a nearly tied line quoted beside the best: at least this much room for it
# 'two wheel drive', "Five Jinan", “353”: what the asker quotes (an apostrophe inside a word,
# "Shizhong's", is not a quotation mark).
_QUOTED = re.compile(r"(?:^|(?<=[\s(]))['‘\"“]([^'‘’\"“”]{3,80})['’\"”](?=[\s?.,!:;)]|$)")
MIN_ASKED_FEATURES = 3  # words of substance the asked part of a long message needs on its own
REASKED = frozenset({"not_in_report"})  # refusals after which the asked part is tried
CONTEXT_REFUSALS = frozenset({"other_place", "personal"})  # ... and these, if it stands alone
# Who asks, said before the question in the same sentence ("I'm a SaaS founder from Berlin,
# which ...?").
_ASKER_LEAD = re.compile(
    r"^(?:(?:hi|hello|hey)\b[\s,!]*)?(?:i\s*am|i'?m|i\s+m|we\s*are|we'?re|we\s+re)\b[^,?]{3,80},\s*"
    r"(?=(?:what|which|how|where|when|why|who|is|are|does|do|can|will|could|would)\b)",
    re.IGNORECASE)
# A question that points back at the sentence before it ("What does it mean?").
_POINTS_BACK = re.compile(
    r"\b(?:it|they|them)\b|\b(?:this|that|these|those)(?=\s*(?:[?？.,!]|$|\s(?:is|are|was|"
    r"were|mean|means|meant|do|does|include|includes|cover|covers|work|works)\b))|它|这个|那个",
    re.IGNORECASE)
# The asker, or a pointer back at what they said: the question is about their own case.
_REFERS_BACK = re.compile(r"\b(?:i|me|my|mine|we|us|our|ours|it|its|he|she|him|her|his)\b"
                          r"|\b(?:this|that|these|those)\s+(?!year|month|week|time|period)\w"
                          r"|我|咱|它|这个|那个|这家|那家|他|她", re.IGNORECASE)
DETAIL_SHARE = 0.6  # how much of what the passage explains a neighbour giving the detail must


# A full stop ends a sentence only before a space: "PM2.5" and "No.1" go on.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])\s*|(?<=[:：])\s+")


def _quoted(query: Query) -> list[str]:
    """What the question quotes, two words or more, normalised."""
    return [q for m in _QUOTED.finditer(query.question)
            if len((q := normalise(m.group(1))).split()) >= 2]


def _says(candidate: _Candidate, quoted: list[str]) -> bool:
    text = f" {normalise(candidate.sentence.text)} "
    return all(f" {q} " in text for q in quoted)


def _asked_part(question: str) -> str:
    """What a message asks, to be tried on its own: the sentences that ask (those ending in a
    question mark, else the last) without what the asker says of themselves, before or after
    them or as a lead ending in a colon ("For my thesis: which theories ..."). "" when that
    is the whole message. (Each of several questions alone was tried: "Where is the service
    centre? Is it open on Saturdays?" then answers the first, losing the detail.)"""
    parts = [p.strip() for p in _SENTENCE_END.split(question) if p.strip()]
    if len(parts) < 2 and not (parts and _ASKER_LEAD.match(parts[0])):
        return ""
    asked = [p for p in parts if p.endswith(("?", "？"))] or parts[-1:]
    # "im a SaaS founder from berlin, which multinationals ...?": who asks, then what.
    asked = [_ASKER_LEAD.sub("", p, count=1) for p in asked]
    first = next(i for i, p in enumerate(parts) if p.endswith(asked[0]))
    if first > 0 and _POINTS_BACK.search(asked[0]) and not parts[first - 1].endswith(
            ("?", "？", ":", "：")):
        # "In the report there is '3 handlings and 1 returning visit'. What does it mean?":
        # the sentence "it" points back to goes with the question.
        asked = [parts[first - 1], *asked]
    text = " ".join(asked)
    return text if text != question.strip() else ""


@dataclass(frozen=True)
class Thresholds:
    """Named decision thresholds; docs/quality.md says how they were chosen.

    All are 0-100: an intent's score (matcher), a passage's coverage of the question (the
    weighted share of it that the passage explains), and the confidence built from both.
    """

    answer: float = 50.0  # confidence to answer
    clarify: float = 40.0  # confidence for a topic to be offered in a "did you mean"
    margin: float = 8.0  # how far ahead the best must be not to ask "did you mean"
    search: float = 50.0  # coverage a passage needs on its own words, with no intent behind it
    intent_scale: float = 70.0  # intent score at which its examples fully vouch for it
    intent_floor: float = 30.0  # below this an intent match is no evidence at all
    decline: float = 25.0  # an out-of-scope intent's score to be considered at all
    foreign: float = 30.0  # share of the question only an out-of-scope intent explains
    decline_lead: float = 10.0  # with no passage to go on, how far its examples must lead
    service: float = 55.0  # a greeting, thanks, help: only when clearly that
    off_year: float = 0.5  # a passage about other years than asked counts this much
    no_figure: float = 0.5  # a passage without figures, when a figure is asked for
    intent_lead: float = 10.0  # an intent this far ahead of another's score settles a tie
    not_definition: float = 0.9  # a passage that names a term, when a footnote defines it
    unnamed_note: float = 0.6  # a footnote, when the question does not name what it defines
    asked_only: float = 0.7  # a sentence only the ways of asking for it speak for
    other_tense: float = 0.85  # the review for a question about plans, or plans for the past
    clarify_own: float = 25.0  # share of the question a passage offered must hold itself
    not_means: float = 0.85  # a target, for a question asking how something will be done
    part_of_span: float = 0.7  # one year's part, for a question about a period a part spans
    set_aside: float = 0.75  # a "heading: body" line headed by what the question sets aside
    beside: float = 2.0  # a line of another point this close to the best is quoted with it
    lead_gap: float = 5.0  # how far ahead of all others a sentence between clarify and answer
    # must be to answer: a did-you-mean with that one option would not help


@dataclass(frozen=True)
class Suggestion:
    intent_id: str
    title: str


@dataclass(frozen=True)
class Reply:
    question: str
    status: Status
    kind: Kind
    language: str
    intent_id: str | None
    score: float
    text: str
    excerpts: tuple[Excerpt, ...] = ()
    options: tuple[Suggestion, ...] = ()
    related: tuple[Suggestion, ...] = ()
    note: str = ""
    source_label: str = ""
    refusal: str | None = None  # why a fallback was given (scope category or decline topic)
    caveat: str = ""  # said after the quote: e.g. the English version has only the heading
    handover: bool = False  # district staff could help with what the report does not say
    sentence_ids: tuple[str, ...] = ()  # the report sentences quoted, in order ("more" goes on)
    followup: FollowUp | None = None  # the message continued the last answer

    @property
    def sources(self) -> list[str]:
        """Where the answer stands in the report: "<passage id> / <section label>"."""
        seen: list[str] = []
        for e in self.excerpts:
            entry = f"{e.passage_id} / {e.label_en}"
            if entry not in seen:
                seen.append(entry)
        return seen


@dataclass(frozen=True)
class _Candidate:
    sentence: Sentence
    confidence: float  # 0-100
    coverage: float  # 0-100: the share of the question the sentence (and context) explains
    own: float  # 0-100: ... in its own words
    intent: Intent | None  # the intent that vouched for it
    intent_score: float
    explained: frozenset[str]  # question features the sentence or the intent explain
    raw: float = 0.0  # confidence before giving way for a missing year or figure
    demoted: bool = False  # gave way to the question's cues (a year, tense, figure, means)

    def __post_init__(self) -> None:
        # Sums of float weights come out in set order, which differs from run to run; rounded,
        # the same question gets the same decision after every restart.
        put = object.__setattr__
        put(self, "confidence", round(self.confidence, 6))
        put(self, "coverage", round(self.coverage, 6))
        put(self, "own", round(self.own, 6))
        put(self, "raw", round(self.raw, 6) if self.raw else self.confidence)


class Responder:
    """The one core every door (Telegram, terminal, batch) calls."""

    def __init__(self, kb: KnowledgeBase, thresholds: Thresholds | None = None) -> None:
        self.kb = kb
        self.thresholds = thresholds or Thresholds()
        self.matcher = Matcher(kb)
        self.scope = Scope(kb.report, kb.scope, kb.gazetteer, kb.glossary)
        english_frequency("the")  # load the word counts now, not on the first question
        known = {w for i in kb.intents for e in (*i.examples, i.title_en)
                 for w in normalise(e).split()}
        # A place's name is not a typo: "Leshan" corrected to "lean" would hide that the
        # question is about another Shizhong District.
        known |= {w for place in kb.gazetteer.places for name in place.names_en
                  for w in normalise(name).split()}
        self.index = SentenceIndex(kb.report, kb.glossary, known,
                                   covered_years=self.scope.covered_years,
                                   synonyms=Synonyms(kb.synonyms.get("en", {}), cjk=False),
                                   asked=self._asked(kb))
        self._intents = {i.id: i for i in kb.intents}
        # What each intent's examples say, in the search's terms, both as written and as the
        # glossary puts them: an intent explains the words of a question that its examples use.
        self._intent_feats = {
            i.id: frozenset().union(*(self.index.example_features(e)
                                      for e in (*i.examples, i.title_en, i.title_zh)))
            for i in kb.intents}
        # The words an out-of-scope topic is about: used by at least two of its examples
        # ("bus" for transport), not a word one example happens to use ("turn on the heating").
        self._decline_core: dict[str, frozenset[str]] = {}
        for intent in kb.intents:
            if intent.kind != "decline":
                continue
            counts: dict[str, int] = {}
            for example in intent.examples:
                for f in self.index.example_features(example):
                    counts[f] = counts.get(f, 0) + 1
            self._decline_core[intent.id] = frozenset(f for f, n in counts.items()
                                                      if n >= DECLINE_CORE)
        # What each footnote defines: the name before its colon ("③ "353" leading strategy:").
        self._defined = {
            s.id: frozenset(f for f in self.index.features(s.text.split(":", 1)[0])
                            if f.startswith("~") or self.index.weight(f) >= NAME_WEIGHT)
            for p in kb.report.passages if p.id.startswith("note.") for s in p.sentences[:1]}
        # A service's examples as typed: "who are you" or "what can you do" is all stopwords,
        # which the matcher cannot weigh, but said exactly it is clearly that.
        self._service_said = {normalise(e): i.id for i in kb.intents if i.kind == "service"
                              for e in i.examples}
        self._proper_names = frozenset(
            normalise(name) for t in kb.glossary.terms if t.kind in PROPER_KINDS
            for name in (t.en, *t.also))
        # Names a refusal can say the report does mention ("the report names X but ...").
        self._named_terms = [t for t in kb.glossary.terms if " " in t.key and t.kind in (
            "programme", "park", "platform", "strategy", "organisation", "theory")]
        # Political theory the report cites and never explains ("Marxism-Leninism"), with the
        # question features that name it.
        self._theories = [(t, frozenset(self.index.features(t.en)) | {f"~{t.key}"})
                          for t in kb.glossary.terms if t.kind == "theory"]
        # General concepts the report uses without explaining them (GDP, blockchain), unless
        # a footnote defines them ("new infrastructure", BIM).
        defined = frozenset().union(*self._defined.values())
        self._concepts = [(t, feats) for t in kb.glossary.terms if t.kind in ("concept", "figure")
                          if (feats := frozenset(self.index.features(t.en)) | {f"~{t.key}"})
                          and not feats & defined]
        # Which sentences each intent quotes, and which intent owns a sentence.
        self._quoted: dict[str, list[Sentence]] = {}
        self._owner: dict[str, Intent] = {}
        for intent in kb.intents:
            quoted: list[Sentence] = []
            for e in intent.excerpts:
                passage = kb.report.passage(e.passage_id)
                if passage is None:
                    continue
                quoted += [s for s in passage.sentences if s.text in e.text]
            self._quoted[intent.id] = quoted
            for s in quoted:
                self._owner.setdefault(s.id, intent)
        # A point's heading ("Fifth, build an all-round open Shizhong district.") is the topic
        # of the sentences under it: offering both in a did-you-mean offers one answer twice.
        self._heads: dict[str, frozenset[str]] = {}
        self._term_kind = {f"~{t.key}": t.kind for t in kb.glossary.terms}
        self._headings = frozenset(s.topic_id for p in kb.report.passages
                                   for s in p.sentences if s.topic_id)
        self._below: dict[str, list[Sentence]] = {}
        for s in kb.report.sentences:
            if s.topic_id and s.topic_id != s.id:
                self._below.setdefault(s.topic_id, []).append(s)
        # "... efforts will be concentrated on the following seven aspects:" says nothing
        # without the seven.
        self._announces = {rl.intro.id: rl for rl in kb.lists.lists}
        self._leads = {s.id: self.index.features(_lead(s.text)) for s in kb.report.sentences}

    def _asked(self, kb: KnowledgeBase) -> dict[str, tuple[str, ...]]:
        """How people ask for each sentence; for a heading or clipped line, without the
        questions that name a topic the English version leaves out ("what about schools?"
        for the welfare heading): it does not speak of it, and the asking must not make it
        seem to."""
        sentences = {s.id: s for p in kb.report.passages for s in p.sentences}
        kept: dict[str, tuple[str, ...]] = {}
        for sid, questions in kb.asked.items():
            s = sentences.get(sid)
            if s is None:
                kept[sid] = questions
                continue
            said = set(content_stems(normalise(s.text)))
            kept[sid] = tuple(q for q in questions if all(
                set(content_stems(normalise(topic))) <= said
                for topic in self.scope.left_out_named(normalise(q))))
        return kept

    # -- the decision ---------------------------------------------------------------------

    def respond(self, question: str, lang: str | None = None,
                previous: Previous | None = None) -> Reply:
        """Answer `question`; `lang` is the interface language (default: the question's).

        With `previous` (the last answer this user got, a few minutes ago at most), a message
        may continue it: "tell me more", "in Chinese", or a fragment such as "and the parks?"
        that does not stand on its own.
        """
        if previous is not None:
            kind = self.kb.followups.classify(question)
            if kind is FollowUp.MORE:
                return self.more(previous, question, lang or previous.language)
            if kind in (FollowUp.CHINESE, FollowUp.ENGLISH):
                return self.again(previous, question, "zh" if kind is FollowUp.CHINESE else "en")
            if self.kb.followups.is_fragment(question):
                return self._fragment(question, lang, previous)
        elif self.kb.followups.classify(question) is FollowUp.MORE:
            # "tell me more" with nothing before it (or after the context expired): say so,
            # rather than "the report doesn't cover this".
            lang = lang or ("zh" if language_of(question) == "zh" else "en")
            return Reply(
                question=question, status="fallback", kind="refusal", language=lang,
                intent_id=None, score=0.0, text=self.kb.text("refusals.no_previous", lang),
                note=self.kb.text("service_note", lang), refusal="no_previous")
        reply = self._respond(question, lang)
        asked = _asked_part(question) if reply.refusal else ""
        if asked and (reply.refusal in REASKED or (
                reply.refusal in CONTEXT_REFUSALS and not _REFERS_BACK.search(asked)) or (
                reply.refusal == "other_place" and self._names_only_home(asked))):
            # "We make switchgear in Germany. Which sectors get cluster support?": what the
            # asker says of themselves can drown the question; asked alone, it may be found.
            # Where the asker is from or works ("I'm in fintech in Singapore. Which two bases
            # ...?") and their own situation ("Any Phase III? I'm looking at office space")
            # are context too, when the question neither speaks of the asker nor points back
            # at what they said ("... fined last week. Can the district help me appeal?",
            # "My dad's workshop is in Dangjia. Will it have to move?" stay refused). Other
            # scope refusals were earned by the whole message (a heading with no details stays
            # one: "Which projects are planned under it?" alone has lost what "it" is), and a
            # did-you-mean already found the question. Another place is context also when the
            # question names the district and no other place ("In Germany I visited five
            # offices. In Shizhong, will I ...?"). At least three words of substance must be
            # left ("Will the district give us a loan?" is too little).
            query = self.index.query(asked)
            if len(query.weights) >= MIN_ASKED_FEATURES:
                alone = self._respond(asked, lang, query)
                if alone.status == "answered":
                    return replace(alone, question=question)
        return reply

    def _names_only_home(self, asked: str) -> bool:
        """Whether the question sentences of a message name the district and no other place."""
        mentions = self.kb.gazetteer.find(normalise(asked))
        return bool(mentions) and all(m.place.role == "home" for m in mentions)

    def _fragment(self, question: str, lang: str | None, previous: Previous) -> Reply:
        """A short message read with the last question, when it does not stand alone and
        together they find something new."""
        alone = self._respond(question, lang)
        if alone.status == "answered":
            return alone
        rest = self.kb.followups.strip_opener(question)
        together = self._respond(f"{previous.question} {rest}", lang or previous.language)
        if together.status == "answered" and together.sentence_ids and (
                not set(together.sentence_ids) <= set(previous.sentence_ids)):
            return replace(together, question=question)
        return alone

    def more(self, previous: Previous, question: str = "", lang: str | None = None) -> Reply:
        """The sentences after those last quoted, in the same passage: verbatim and cited."""
        lang = lang or previous.language
        last = self._continued_from(previous.sentence_ids)
        sentence = self.index.sentence(last) if last and self.index.has(last) else None
        passage = self.kb.report.passage(sentence.passage_id) if sentence else None
        following: list[Sentence] = []
        if passage is not None and sentence is not None:
            after = [s for s in passage.sentences[passage.sentences.index(sentence) + 1:]
                     if s.id not in previous.sentence_ids]
            if not after:
                # The paragraph is done: the next one of the same part goes on (the review's
                # "For the five years, ..." after its first paragraph), never a footnote.
                nxt = self._next_passage(passage.id)
                after = list(nxt.sentences) if nxt is not None else []
            for s in after:
                if following and sum(len(x.text) for x in [*following, s]) > MORE_CHARS:
                    break
                following.append(s)
        if not following:
            return Reply(
                question=question, status="fallback", kind="refusal", language=lang,
                intent_id=None, score=0.0, text=self.kb.text("refusals.no_more", lang),
                note=self.kb.text("service_note", lang), refusal="no_more", handover=True,
                followup=FollowUp.MORE)
        pieces = [p for s in following for p in excerpts.trim(s, self.index.query(
            previous.question), self.index, excerpts.MAX_EXCERPT_CHARS)]
        owner = self._owner.get(following[0].id) or (
            self._intents.get(previous.intent_id) if previous.intent_id else None)
        values = tuple(self._excerpt(p) for p in pieces)
        return Reply(
            question=question, status="answered", kind="report", language=lang,
            intent_id=owner.id if owner else previous.intent_id, score=100.0,
            text=excerpts.render(pieces), excerpts=values,
            note=self.kb.text("labels.quoted_from", lang),
            source_label="; ".join(dict.fromkeys(e.label(lang) for e in values)),
            caveat=self.kb.text("labels.abridged", lang)
            if any(self.scope.is_abridged(s) for s in following) else "",
            sentence_ids=tuple(s.id for s in following), followup=FollowUp.MORE)

    def _continued_from(self, sentence_ids: Sequence[str]) -> str | None:
        """Where "tell me more" goes on: after the last line quoted of the passage the answer
        quoted most ("what is the financial park": the review's lines on it, not the 2021
        line quoted beside them), else after the last line."""
        if not sentence_ids:
            return None
        passage = {i: self.index.sentence(i).passage_id for i in sentence_ids
                   if self.index.has(i)}
        counts = Counter(p for p in passage.values() if not p.startswith("note."))
        if not counts:
            return sentence_ids[-1]
        top = max(counts.values())
        return [i for i in sentence_ids if counts.get(passage.get(i, ""), 0) == top][-1]

    def _next_passage(self, passage_id: str) -> Passage | None:
        passages = self.kb.report.passages
        ids = [p.id for p in passages]
        here = ids.index(passage_id)
        if here + 1 < len(passages) and passages[here + 1].part == passages[here].part and (
                passages[here].part != "note"):
            return passages[here + 1]
        return None

    def again(self, previous: Previous, question: str, lang: str) -> Reply:
        """The last answer again, with the labels of `lang`: the same sentences (after "tell
        me more", the continuation), or the last question answered anew."""
        switched = FollowUp.CHINESE if lang == "zh" else FollowUp.ENGLISH
        shown = [self.index.sentence(i) for i in previous.sentence_ids if self.index.has(i)]
        if not shown:
            if previous.intent_id and previous.question == "":
                reply = self.answer_intent(previous.intent_id, lang)
            else:
                reply = self._respond(previous.question, lang)
            return replace(reply, question=question, followup=switched,
                           caveat=self.kb.text("labels.language_switched", lang))
        query = self.index.query(previous.question)
        pieces = [p for s in shown for p in excerpts.trim(s, query, self.index,
                                                           excerpts.MAX_EXCERPT_CHARS)]
        values = tuple(self._excerpt(p) for p in pieces)
        owner = self._owner.get(shown[0].id) or (
            self._intents.get(previous.intent_id) if previous.intent_id else None)
        related = tuple(Suggestion(r, self._intents[r].title(lang))
                        for r in owner.related[:MAX_RELATED] if r in self._intents) \
            if owner else ()
        return Reply(
            question=question, status="answered", kind="report", language=lang,
            intent_id=owner.id if owner else previous.intent_id, score=100.0,
            text=excerpts.render(pieces), excerpts=values, related=related,
            note=self.kb.text("labels.quoted_from", lang),
            source_label=("；" if lang == "zh" else "; ").join(
                dict.fromkeys(e.label(lang) for e in values)),
            caveat=self.kb.text("labels.language_switched", lang),
            sentence_ids=tuple(s.id for s in shown), followup=switched)

    def _respond(self, question: str, lang: str | None = None,
                 query: Query | None = None) -> Reply:
        query = query or self.index.query(question)
        lang = lang or ("zh" if query.language == "zh" else "en")
        refusal = self.scope.before(query.norm, query.language, question)
        if refusal is not None:
            return self._refuse(question, lang, refusal, None, 0.0)
        said = self._service_said.get(query.norm)
        if said is not None:
            return self.answer_intent(said, lang, question=question)
        if not any(ch.isalpha() for ch in query.norm):
            # "3", "?", "🙂": nothing to look for. A number picks a choice only while a list
            # is on screen, which the door knows; here there was none.
            if query.norm.strip() and query.norm.replace(" ", "").isdigit():
                return self._refuse(question, lang, Refusal("no_choice"), None, 0.0)
            return self._plain_fallback(question, lang, 0.0)
        listed = self._list_question(query)
        if listed is not None:
            return self._list_answer(query, lang, listed)
        cited = self._cited_theory(query)
        if cited is not None:
            return self._refuse(question, lang, Refusal("general"), None, 0.0,
                                query=query, term=cited)
        ranked = self.matcher.rank(query.corrected or question, spelled=bool(query.corrected))
        service = self._service(question, lang, ranked, query)
        if service is not None:
            return service
        candidates = self._candidates(query, ranked)
        t = self.thresholds
        best = candidates[0] if candidates else None
        sure = best is not None and best.confidence >= (
            t.answer if best.intent else max(t.answer, t.search))
        # Only a question not sure enough to answer needs the lone-lead test.
        alone = not sure and self._alone(query, candidates)
        detail = self._detail_answer(query, lang, candidates, alone)
        if detail is not None:
            return detail
        if best is not None and (sure or alone):
            return self._confident(query, lang, best, ranked, candidates)
        return self._not_sure(query, lang, ranked, candidates)

    def _alone(self, query: Query, candidates: list[_Candidate]) -> bool:
        """A sentence confident enough to be offered in a did-you-mean and well ahead of every
        other, or every topic close to it its own point (`_one_topic`): asking "did you mean"
        with that one option would not help, so it answers (a question in words of its own
        that one sentence still explains best by a distance). Not for a question that speaks
        of the asker ("my apartment", "my project") or names years: a near miss of that kind
        shares a few words with one sentence too."""
        t = self.thresholds
        if not candidates or candidates[0].confidence < t.clarify:
            return False
        if self.scope.speaks_of_asker(query.norm) or any(self.scope.question_years(query.norm)):
            return False
        best = candidates[0]
        rivals = [c for c in candidates[1:] if best.demoted or not c.demoted]
        second = rivals[0].confidence if rivals else 0.0
        if (quoted := _quoted(query)) and _says(best, quoted) and not any(
                _says(c, quoted) for c in rivals[:MAX_CLARIFY]) and not any(
                q in self._proper_names for q in quoted):
            # The one line that says what the question quotes. Not a programme's, park's or
            # body's name: "the monthly stipend of the 'Jingwei talent' programme" asks what
            # the line that names it does not give, and words like "stipend" are endless.
            return True
        return best.confidence - second >= t.lead_gap or self._one_topic(candidates)

    def _own_beyond(self, query: Query, second: _Candidate, first: _Candidate) -> float:
        """The share of the question `second` says in its own words, leaving out what the
        headings of `first` already say for it (every sentence of part II is about the 14th
        Five-Year Plan, whether or not it repeats the name)."""
        own = self.index.own_features(second.sentence)
        context = self.index.context_credit(first.sentence)
        return sum(w for f, w in query.weights.items() if f in own and f not in context) / (
            query.mass or 1.0)

    def _year_only_named(self, query: Query, cand: _Candidate, years: list[int]) -> bool:
        """"What was GDP in 2015?": a sentence that names 2015 only for something else ("the
        proportion of the three industries ... in 2015") does not give 2015's GDP. A year a
        sentence covers only by naming it needs the rest of the question in its own words."""
        named = self.scope.years_named_only(cand.sentence)
        if not any(y in named for y in years):
            return False
        own = self.index.own_features(cand.sentence)
        # The year and the plan period that names it are when, not what is asked.
        when = self.index.features(" ".join(self.scope.period_names(query.norm)))
        rest = {f: w for f, w in query.weights.items()
                if not any(str(y) in f for y in years) and f not in when}
        if any(f.startswith("~") and " " in f and f in own for f in rest):
            return False  # it names the report's term asked about: the year is that term's
        total = sum(rest.values())
        return bool(total) and sum(w for f, w in rest.items() if f in own) < (
            YEAR_SUBJECT_SHARE * total)

    def _cited_theory(self, query: Query) -> Term | None:
        """"What is Marxism-Leninism?": a theory the report only cites in its guiding
        ideology, asked what it is, is general knowledge; so is a general concept the report
        uses, asked to be explained ("explain blockchain in simple terms", "what is GDP and
        how is it calculated"). The term is returned so that the refusal can say the report
        names it. What the report says of it ("does the guiding ideology follow
        Marxism-Leninism?", "what are the blockchain parks?") is still answered."""
        cues = [m.group() for m in _EXPLAIN.finditer(query.norm)] + [
            m.group().replace(m.group(1), " ") for m in _HOW_WORKS.finditer(query.norm)]
        # "In simple terms", 解释一下的基本原理: the asking, not what is asked about.
        cue = self.index.features(" ".join(cues)) | {
            key for m in _EXPLAIN_ZH.finditer(query.norm) for key in cjk_features(m.group())}
        asked = {f: w for f, w in query.weights.items() if f not in cue}
        if cues or _WHAT_IS.search(query.norm):
            found = self._general_term(query, self._theories, asked, THEORY_SHARE)
            if found is not None:
                return found
        if not cues:
            return None
        return self._general_term(query, self._concepts, asked, CONCEPT_SHARE)

    @staticmethod
    def _general_term(query: Query, terms: list[tuple[Term, frozenset[str]]],
                      weights: Mapping[str, float], share: float) -> Term | None:
        mass = sum(weights.values()) or 1.0
        for term, feats in terms:
            if not feats & weights.keys() or term.key not in query.text:
                continue
            if sum(w for f, w in weights.items() if f in feats) >= share * mass:
                return term
        return None

    def _list_question(self, query: Query) -> ListQuestion | None:
        """A question about one of the report's numbered lists as a list ("how many key
        tasks", "the sixth and seventh"), and nothing else besides: "what are the key tasks
        for attracting talent" asks about talent, and goes to the search."""
        listed = self.kb.lists.asked(query.corrected or query.norm, query.text)
        if listed is None:
            return None
        if not listed.pick and self.scope.left_out_named(normalise(listed.rest)):
            # "养老方面有什么新举措？老年食堂会不会多建几个": "how many" counts canteens, a topic
            # the English version leaves out, not the aspects of the 2021 work.
            return None
        own = self.index.text_features(listed.report_list.words)  # "next 5 yrs", "plan"
        if listed.pick:
            picked = self._picked_item(query, listed, own)
            if picked is not None:
                return picked
            if not listed.whole:
                return None  # "which task ..." that no item answers: the search may
        # "What's the first of the 2021 priorities - is industry at the top?": a word the
        # item asked for says itself is part of what is asked of it, not another question.
        # Not when it asks for particulars of the item ("what exactly will it do"): those are
        # under the item, not in its line.
        items = frozenset().union(*(self.index.own_features(s) for s in listed.sentences[1:])) \
            if listed.positions and not self.scope.asks_specifics(self._cue_text(query)) \
            else frozenset()
        known = [f for f in self.index.text_features(listed.rest) - own - LIST_NEUTRAL - items
                 if not f.startswith(("zh:", "~")) and not f.isdigit()
                 and f not in STOPWORDS_EN and self.index.weight(f) < self.index.unknown_weight]
        return listed if len(known) <= LIST_OTHER_WORDS else None

    def _picked_item(self, query: Query, listed: ListQuestion,
                     own: frozenset[str]) -> ListQuestion | None:
        """The item of a list that "which task is about the environment" asks for: the one
        whose line (or, at less credit, the lines under it) explains most of what the
        question says besides the list, clearly more than any other item does. A line under
        it that says more of it than the item's own line is quoted too ("which task covers
        the financial industry": the third, and the line naming modern finance)."""
        rest = {f: query.weights[f] for f in self.index.text_features(listed.rest)
                if f in query.weights and f not in own  # "covers", "deals with": asking
                and self.index.weight(f) < self.index.unknown_weight}
        mass = sum(rest.values())
        if not mass:
            return None
        sub = replace(query, weights=rest)

        def explains(credit: Mapping[str, float]) -> float:
            return sum(rest[f] * c for f, c in credit.items()) / mass

        scored: list[tuple[float, int, Sentence | None]] = []
        for position, item in enumerate(listed.report_list.items, 1):
            credit = dict(self.index.credit(sub, item))
            best_said, line_under = explains(credit), None  # a line under must say more
            for s in self._below.get(item.id, ()):
                said = self.index.credit(sub, s)
                for f, c in said.items():
                    credit[f] = max(credit.get(f, 0.0), PICK_BODY_CREDIT * c)
                if (share := explains(said)) > best_said:
                    best_said, line_under = share, s
            scored.append((explains(credit), position, line_under))
        scored.sort(key=lambda x: -x[0])
        first, position, line_under = scored[0]
        second = scored[1][0] if len(scored) > 1 else 0.0
        if first < PICK_SHARE or first < PICK_LEAD * second:
            return None
        return replace(listed, positions=(position,), pick=False,
                       details=(line_under,) if line_under else ())

    def _list_answer(self, query: Query, lang: str, listed: ListQuestion) -> Reply:
        sentences = listed.sentences
        refusal = self.scope.after(self._cue_text(query), sentences, aside=query.asker_parts)
        # "How many" is answered by the items themselves, not by a figure in them; another
        # district's key tasks, or another year's, are still not these.
        if refusal is not None and refusal.category != "no_figure":
            return self._refuse(query.question, lang, refusal, None, 100.0,
                                topic_sentences=sentences, query=query)
        pieces = [excerpts.Piece(s, s.text) for s in sentences]
        best = _Candidate(listed.report_list.intro, 100.0, 100.0, 100.0, None, 0.0,
                          frozenset(query.weights))
        reply = self._answer(query, lang, best, pieces)
        if listed.positions:
            return reply  # an item: "tell me more" goes on into it, any caveat is its own
        # The whole list: first lines by design, not a part the English version leaves out;
        # and how many, which is what "how many" asked.
        count = str(len(listed.report_list.items))
        return replace(reply, caveat=self.kb.text("labels.list", lang).replace(
            "{count}", count), handover=False)

    def _detail_answer(self, query: Query, lang: str, candidates: list[_Candidate],
                       alone: bool) -> Reply | None:
        """A practical detail the report does give ("Where will intelligent manufacturing be
        located?" -> "in the west of Erhuan Road"): the sentence on the point of a close
        candidate that holds it."""
        cue = self._cue_text(query)
        if not self.scope.asks_detail(cue):
            return None
        if not candidates or (candidates[0].confidence < self.thresholds.answer and not alone):
            # As sure of the topic as an answer needs to be: "how many days does it take to
            # get my business licence" is not the 361 days without local cases.
            return None
        for near in candidates[:5]:
            if near.confidence < self.thresholds.clarify:
                break
            sentence = self.scope.detail_sentence(cue, near.sentence)
            if sentence is None or (sentence.id != near.sentence.id and self.index.coverage(
                    query, [sentence]) < DETAIL_SHARE * self.index.coverage(
                    query, [near.sentence])):
                continue  # a neighbour's location is not this topic's
            pieces = excerpts.choose(query, sentence, self.index, self.kb.report)
            if self.scope.after(cue, [p.sentence for p in pieces],
                                aside=query.asker_parts) is None:
                return self._answer(query, lang, replace(near, sentence=sentence), pieces)
        return None

    def _confident(self, query: Query, lang: str, best: _Candidate, ranked: list[Candidate],
                   candidates: list[_Candidate]) -> Reply:
        """A passage covers the question: quote it, unless the scope check, a part the
        English version leaves out, a clearer out-of-scope topic or a close second topic
        says otherwise."""
        pieces, refusal = self._excerpt_for(query, best, self._tied(best, candidates))
        refusal = refusal or self._named_elsewhen(query, best, candidates)
        sentences = [p.sentence for p in pieces]
        owner = best.intent or self._owner.get(best.sentence.id)
        if refusal is not None:
            return self._refuse(query.question, lang, refusal, owner, best.confidence,
                                topic_sentences=sentences, query=query)
        heading = self._abridged_unexplained(query, best)
        partly = False
        if heading is not None:
            # Another passage close behind may say what the best one does not ("rural
            # revitalization in the five-year plan": the plan's fourth task, not its guiding
            # ideology); or the part left out may be a small aside of a question the passage
            # answers ("life services, such as domestic service, elderly care"): quote it and
            # say that the English version has no more.
            other = None if heading is best.sentence else self._explaining(
                query, candidates, best)  # particulars of a heading-only part stay refused
            if other is not None:
                best = other
                pieces, refusal = self._excerpt_for(query, best)
                if refusal is not None:
                    return self._refuse(query.question, lang, refusal, None, best.confidence)
            elif self._aside(query, best) or self._whether_heading(query, best, heading):
                partly = True
            elif siblings := self._sibling_headings(query, best, heading, candidates):
                partly = True
                pieces, _ = self._excerpt_for(query, best, siblings)
            else:
                return self._refuse(query.question, lang, Refusal("abridged", heading=heading),
                                    None, best.confidence)
        decline = self._decline_for(query, ranked, best)
        if decline is not None:
            return self._decline(query.question, lang, decline, best.confidence)
        options = () if self._clear(candidates) else self._options(candidates, lang)
        if len(options) >= MIN_CLARIFY:
            several = self._several(query, best, candidates)
            if not several and len(options) == MIN_CLARIFY:
                # Two topics close together: both lines quoted, each with where it stands,
                # answer at once what "did you mean A or B?" would have asked back.
                pair = self._beside(query, best, candidates, pieces,
                                    gap=self.thresholds.margin)
                if pair:
                    return self._answer(query, lang, best, sorted(
                        [*pieces, *pair], key=lambda p: self.index.position(p.sentence)))
            if not several:
                return self._clarify(query, lang, best, options)
            pieces, refusal = self._excerpt_for(query, best, several)
            if refusal is not None:
                return self._clarify(query, lang, best, options)
        announced = self._announces.get(best.sentence.id)
        if announced is not None and all(p.sentence is best.sentence for p in pieces):
            return self._list_answer(query, lang, ListQuestion(announced, ()))
        beside = self._beside(query, best, candidates, pieces)
        if beside:
            pieces = sorted([*pieces, *beside], key=lambda p: self.index.position(p.sentence))
        return self._answer(query, lang, best, pieces, partly=partly)

    def _beside(self, query: Query, best: _Candidate, candidates: list[_Candidate],
                pieces: list[excerpts.Piece], gap: float | None = None,
                ) -> list[excerpts.Piece]:
        """A line of another point that explains the question as well as the best one, or
        nearly ("any German companies here?": the world top 500 names and the Newborn Town
        listing): nothing the question says tells them apart, so both are quoted rather than
        one guessed, as far as a phone screen allows."""
        shown = {p.sentence.id for p in pieces}
        room = excerpts.MAX_EXCERPT_CHARS + BESIDE_CHARS - sum(len(p.text) for p in pieces)
        if room < BESIDE_CHARS:
            return []
        for c in candidates[1:MAX_CLARIFY + 1]:
            if best.confidence - c.confidence > (self.thresholds.beside if gap is None else gap):
                break
            if c.demoted or c.sentence.id in shown or self._same_topic(best, c):
                continue
            if self.scope.is_abridged(c.sentence):
                continue
            more = excerpts.trim(c.sentence, query, self.index, min(room, excerpts.CLAUSE_BUDGET))
            if self.scope.after(self._cue_text(query), [p.sentence for p in more],
                                aside=query.asker_parts) is not None:
                continue
            return more
        return []

    def _named_elsewhen(self, query: Query, best: _Candidate,
                        candidates: list[_Candidate]) -> Refusal | None:
        """"The urban unemployment rate in 2020": the report names that rate only among
        2021's targets. The line that names it gave way for its year; a line that shares
        only "urban" and "2020" with the question does not answer it, the year's refusal
        does. When the best line names none of the report's names the question uses, the
        weightiest of them is what it is about; and only a figure asked for is tied to its
        year."""
        terms = [f for f in query.weights if f.startswith("~")]
        if not terms or not self.scope.asks_figure(query.norm):
            return None
        if any(f in best.explained for f in terms):
            return None
        top = max(terms, key=lambda f: (query.weights[f], f))
        for c in candidates:
            if c.demoted and top in c.explained:
                return self.scope.year_refusal(query.norm, [c.sentence])
        return None

    def _several(self, query: Query, best: _Candidate,
                 candidates: list[_Candidate]) -> list[Sentence]:
        """"Which research institutes will the district push forward?": when every close
        rival of the best answer names, in its own words, the kind of place or body the
        question asks for (a park, a platform, an organisation: the report names several of
        each), the question asks for a list and each of them is an item of it: quoted
        together rather than offered as choices."""
        t = self.thresholds
        if _ASKS_MENTION.search(query.norm) and not _ASKS_SEVERAL.search(query.norm):
            # Every close rival says it too: the places it is mentioned, not a choice.
            return [c.sentence for c in candidates[1:MAX_CLARIFY]
                    if best.confidence - c.confidence < t.margin and not c.demoted]
        if not _ASKS_SEVERAL.search(query.norm):
            return []
        terms = [f for f in query.weights if self._term_kind.get(f) in LISTED_KINDS]
        keys: frozenset[str]
        if terms:
            keys = frozenset({max(terms, key=lambda f: (query.weights[f], f))})
        elif LISTED_WORDS & query.weights.keys():
            # "Which blockchain parks": a park, and what kind of park.
            known = [f for f in query.weights if f not in query.unknown and f not in
                     LISTED_WORDS]
            if not known:
                return []
            keys = (LISTED_WORDS & query.weights.keys()) | {
                max(known, key=lambda f: (query.weights[f], f))}
        else:
            return []
        own = self.index.own_features
        close = [c for c in candidates[1:]
                 if best.confidence - c.confidence < t.margin and not c.demoted]
        if not close or not all(keys <= own(c.sentence) for c in (best, *close)):
            return []
        return [c.sentence for c in close[:MAX_CLARIFY - 1]]

    def _explaining(self, query: Query, candidates: list[_Candidate],
                    best: _Candidate) -> _Candidate | None:
        """A close candidate that explains what the best one leaves to a heading-only part."""
        for other in candidates[1:MAX_CLARIFY + 2]:
            if other.confidence < max(self.thresholds.clarify, best.confidence
                                      - 2 * self.thresholds.margin):
                break
            if self._abridged_unexplained(query, other) is None:
                return other  # a clipped line that names it is quoted, with its caveat
        return None

    def _aside(self, query: Query, best: _Candidate) -> bool:
        """Whether what the best passage leaves unexplained (the topics of the part left out,
        words the report does not use) is a small part of the question, a fifth of its weight
        at most, beside what it answers."""
        found = self.scope.abridged_heading(self._cue_text(query))
        if found is None or self.scope.asks_specifics(self._cue_text(query)):
            return False
        total = sum(query.weights.values()) or 1.0
        missing = set(query.unknown - best.explained)
        for topic in found[1]:
            missing |= (self.index.text_features(topic) & query.weights.keys()) - best.explained
        return sum(query.weights[f] for f in missing) <= ASIDE_SHARE * total

    def _whether_heading(self, query: Query, best: _Candidate, heading: Sentence) -> bool:
        """"Does the outline include goals for social governance?": the heading is the
        answer (yes, and the English version has no more), when the question asks whether
        the report has it and the heading itself says what is asked; "what is the 2025
        forest coverage target?" asks for particulars the heading does not give."""
        # Whether there are goals for it is answered by a heading that names it as one.
        cue = _GOALS.sub(" ", self._cue_text(query))
        if not (heading is best.sentence and _ASKS_WHETHER.search(query.norm)
                and not self.scope.asks_specifics(cue)
                and best.coverage >= self.thresholds.answer):
            return False
        # The topic asked about must be the heading's own: "will there be more jobs" is a
        # topic the livelihood heading leaves out, not one it names.
        found = self.scope.abridged_heading(self._cue_text(query))
        own = self.index.own_features(heading)
        return found is None or all(
            self.index.text_features(topic) & query.weights.keys() <= own
            for topic in found[1])

    def _sibling_headings(self, query: Query, best: _Candidate, heading: Sentence,
                          candidates: list[_Candidate]) -> list[Sentence]:
        """"Besides the economy and innovation, which other areas get breakthroughs?": the
        lines set aside are headed in the best one's passage, and the best is a heading only
        ("New and greater breakthroughs in social governance…") that names one of the other
        areas: it is the answer, with the other such headings beside it, not particulars."""
        passage = best.sentence.passage_id
        if heading is not best.sentence or not query.aside_features or not any(
                c.demoted and c.sentence.passage_id == passage
                and query.aside_features & self._head_features(c.sentence)
                for c in candidates):
            return []
        return [c.sentence for c in candidates[1:]
                if c.sentence.passage_id == passage and not c.demoted
                and self.scope.is_abridged(c.sentence)
                and c.confidence >= self.thresholds.clarify]

    @staticmethod
    def _cue_text(query: Query) -> str:
        """The question as typed and with its typos corrected, before the glossary puts it in
        the report's words (which would add words the asker never used: "fee" for "tax")."""
        corrected = query.corrected or query.norm
        return corrected if corrected == query.norm else f"{corrected} | {query.norm}"

    def _abridged(self, query: Query) -> Sentence | None:
        found = self.scope.abridged_heading(self._cue_text(query))
        return found[0] if found else None

    def _abridged_unexplained(self, query: Query, best: _Candidate) -> Sentence | None:
        """The heading to quote when the question asks about a topic the English version
        leaves out ("schools") and the best passage does not speak of it, or asks for
        particulars ("which villages") of a part that is only a heading."""
        cue = self._cue_text(query)
        heading_answer = self.scope.is_abridged(best.sentence)
        found = self.scope.abridged_heading(cue)
        if found is not None:
            heading, topics = found
            # A topic said only of the asker ("an overseas-educated engineer") is not asked.
            unexplained = [t for t in topics if (
                feats := self.index.text_features(t) & query.weights.keys() - query.context)
                and not feats <= best.explained]
            if unexplained:
                # "air quality" under environmental governance, "schools" under people's
                # livelihood: that heading is where it would be, and it says nothing of it.
                return heading
        if heading_answer and self.scope.asks_specifics(cue):
            return best.sentence  # "which villages" of a heading-only item
        return None  # a heading that names what was asked is quoted, with its caveat

    def _clarify(self, query: Query, lang: str, best: _Candidate,
                 options: tuple[Suggestion, ...]) -> Reply:
        return Reply(
            question=query.question, status="clarify", kind="clarify", language=lang,
            intent_id=None, score=round(best.confidence, 1),
            text=self.kb.text("labels.clarify", lang), options=options,
            note=self.kb.text("labels.clarify_none", lang), handover=True,
        )

    def _clear(self, candidates: list[_Candidate]) -> bool:
        """No other topic comes close to the best (else: did you mean). Close means: as
        confident, as many of the question's own words, and examples that match as well."""
        t = self.thresholds
        best = candidates[0]
        for other in candidates[1:]:
            if self._same_topic(best, other) or (other.demoted and not best.demoted):
                continue  # the question's own cues already said the other is not it
            return (best.confidence - other.confidence >= t.margin
                    or best.own - other.own >= t.margin
                    or best.intent_score - other.intent_score >= t.intent_lead)
        return True

    def _topic(self, sentence: Sentence) -> str | None:
        return sentence.topic_id or (sentence.id if sentence.id in self._headings else None)

    def _same_topic(self, a: _Candidate, b: _Candidate) -> bool:
        if a.sentence.passage_id == b.sentence.passage_id and (
                self._topic(a.sentence) == self._topic(b.sentence)):
            return True
        owner_a = a.intent or self._owner.get(a.sentence.id)
        owner_b = b.intent or self._owner.get(b.sentence.id)
        return owner_a is not None and owner_a is owner_b

    def _candidates(self, query: Query, ranked: list[Candidate]) -> list[_Candidate]:
        """Sentences that could answer, by confidence: the words they share with the question,
        or an intent's examples vouching for them, as far as they explain the question."""
        t = self.thresholds
        found: dict[str, _Candidate] = {}
        credits: dict[str, dict[str, float]] = {}  # each sentence's credit, worked out once
        mass = query.mass or 1.0

        def credit_of(s: Sentence) -> dict[str, float]:
            got = credits.get(s.id)
            if got is None:
                got = credits[s.id] = self.index.credit(query, s)
            return got

        def share(credit: Mapping[str, float]) -> float:
            return 100 * sum(query.weights[f] * v for f, v in credit.items()) / mass

        for h in self.index.rank(query, limit=12):
            explained = frozenset(credit_of(h.sentence))
            owner = self._owner.get(h.sentence.id)
            if owner is not None:
                # What the sentence's own topic explains: "registration" is one-stop's word.
                explained |= self._intent_feats[owner.id] & query.weights.keys()
            found[h.sentence.id] = _Candidate(h.sentence, 100 * h.coverage, 100 * h.coverage,
                                              100 * h.own, None, 0.0, explained)
        for c in ranked:
            intent = self._intents[c.intent_id]
            if intent.kind != "report" or c.score < t.intent_floor:
                continue
            # An intent vouches for the sentences it quotes: the question's words its examples
            # use count as explained, as far as its examples match the question.
            strength = min(1.0, c.score / t.intent_scale)
            vocabulary = self._intent_feats[intent.id]
            for s in self._quoted.get(intent.id, ()):
                old = found.get(s.id)
                credit = dict(credit_of(s))
                for f in vocabulary & query.weights.keys():
                    credit[f] = max(credit.get(f, 0.0), strength)
                confidence = share(credit)
                if old is None or (round(confidence, 1), c.score) > (
                        round(old.confidence, 1), old.intent_score):
                    coverage = old.coverage if old else share(credit_of(s))
                    found[s.id] = _Candidate(s, max(confidence, coverage), coverage,
                                             old.own if old else 0.0, intent, c.score,
                                             frozenset(credit))
        years, periods = self.scope.question_years(query.norm)
        wants_figure = self.scope.asks_figure(query.norm)
        # "What is the '353' strategy?": the footnote that defines it answers, not the
        # sentence that only names it.
        defines = self.scope.asks_definition(query.norm) and any(
            c.sentence.passage_id.startswith("note.") and c.coverage >= t.answer
            for c in found.values())
        tense = _tense(query.norm)
        means = self.scope.asks_means(query.norm)
        # "during 2021-2025": a part about that whole period, when one is a candidate, before
        # a part about one year inside it (2021's targets).
        whole = [p for p in periods if any(self.scope.spans(c.sentence, p)
                                           for c in found.values())]
        for sid, cand in list(found.items()):
            # A passage that would be refused for its years, or that lacks the figure asked
            # for, gives way to one that has them.
            factor = 1.0
            off_year = (years or periods) and self.scope.year_refusal(
                query.norm, [cand.sentence])
            if off_year or (years and self._year_only_named(query, cand, years)):
                factor *= t.off_year
            elif not (years or periods) and tense and _part_tense(cand.sentence) not in (
                    None, tense):
                # "突破多少了", "how big did GDP get": what happened, not a target.
                factor *= t.other_tense
            if wants_figure and not self.scope.has_figure(cand.sentence.text):
                factor *= t.no_figure
            if means and self.scope.sets_targets(cand.sentence):
                factor *= t.not_means
            if whole and not any(self.scope.spans(cand.sentence, p) for p in whole):
                factor *= t.part_of_span
            if defines and not cand.sentence.passage_id.startswith("note."):
                factor *= t.not_definition
            if cand.sentence.id in self._defined and not (
                    self._defined[cand.sentence.id] & query.weights.keys()):
                # A footnote says what one name means ("353" leading strategy: ...); a
                # question that does not name it is not asking that, whatever words it shares.
                factor *= t.unnamed_note
            if cand.intent is None and not self.index.said_coverage(
                    query, cand.sentence, credit_of(cand.sentence)):
                # Only how people ask for it speaks for it, not one word of the report's own:
                # a guess, not evidence ("I need a job").
                factor *= t.asked_only
            if query.aside_features & self._head_features(cand.sentence):
                # "Besides the economy and innovation, which other areas get 2025
                # breakthroughs?": the line headed "… breakthroughs in innovation capability:"
                # is the one set aside.
                factor *= t.set_aside
            if factor != 1.0:
                found[sid] = replace(cand, confidence=cand.confidence * factor, demoted=True)
        ordered = sorted(found.values(), key=lambda c: (-round(c.confidence, 1),
                                                        -round(c.own, 1), -c.intent_score,
                                                        len(c.sentence.text)))
        ordered = self._about_first(query, ordered)
        ordered = self._verbatim_first(query, ordered)
        ordered = self._quoted_first(query, ordered)
        if len(ordered) > 1:
            # Nearly as confident and saying far more of the question in its own words: the
            # report's sentence beats one that only an intent's examples vouch for ("how many
            # residents by 2025": the target that names the population, not the innovation
            # targets whose examples speak of patents per 10,000 residents).
            first, second = ordered[0], ordered[1]
            if (first.confidence - second.confidence < t.margin
                    and self._own_beyond(query, second, first) - first.own / 100 >= OWN_LEAD):
                ordered[0], ordered[1] = second, first
            elif (first.intent is None and second.intent_score >= t.intent_scale
                  and first.confidence - second.confidence < t.margin
                  and second.own >= first.own - t.margin):
                # As close, in as many of its own words, and the one an intent's examples
                # match fully: the examples settle it ("the three focuses for optimising
                # the business environment": the business environment's point, not the
                # project services that mention its "continuous optimization").
                ordered[0], ordered[1] = second, first
        return ordered

    def _head_features(self, sentence: Sentence) -> frozenset[str]:
        """The features of a "heading: body" line's heading ("New and greater breakthroughs
        in innovation capability: …"): what the line is about. None for other lines."""
        got = self._heads.get(sentence.id)
        if got is None:
            # "… targets by 2025: new and greater breakthroughs in comprehensive strength: …"
            head, colon, _ = sentence.text[:HEAD_CHARS].rpartition(":")
            got = self._heads[sentence.id] = frozenset(
                self.index.text_features(head) if colon and len(head.split()) <= HEAD_WORDS
                else ())
        return got

    def _quoted_first(self, query: Query, ordered: list[_Candidate]) -> list[_Candidate]:
        """The sentence that says what the question quotes, when another one leads: "what is
        the 'two wheel drive' in the guiding ideology?" asks about the line that says "two
        wheel drive", not the one that says "guiding ideology"."""
        quoted = _quoted(query)
        if not quoted or len(ordered) < 2:
            return ordered
        first = ordered[0]
        if _says(first, quoted):
            return ordered
        for c in ordered[1:MAX_CLARIFY + 1]:
            if _says(c, quoted) and first.confidence - c.confidence < QUOTED_WINDOW and (
                    not c.demoted):
                return [c, *(o for o in ordered if o is not c)]
        return ordered

    def _verbatim_first(self, query: Query, ordered: list[_Candidate]) -> list[_Candidate]:
        """Of sentences as close as a did-you-mean would offer, the one that has the words
        the question quotes, in its order: "conversion of old growth drivers" is the review's
        "speed up the conversion of old growth drivers", not the science park's "new and old
        growth driver conversion" that an intent's examples vouch for."""
        if len(ordered) < 2:
            return ordered
        # Content words only: "in the 14th five-year" is every plan question's frame.
        words = [w for w in (query.corrected or query.norm).split() if w not in STOPWORDS_EN]
        if len(words) < VERBATIM_WORDS:
            return ordered
        first = ordered[0]
        close = [c for c in ordered[1:MAX_CLARIFY + 1]
                 if first.confidence - c.confidence < self.thresholds.margin and not c.demoted]
        if not close:
            return ordered

        # Words the best one's headings already say count for nothing: "... for the 14th
        # Five-Year Plan period" is when, said by every sentence of part II, not what is asked.
        context = self.index.context_credit(first.sentence).keys()
        said = [0 if (feats := self.index.features(w)) and feats <= context else 1
                for w in words]

        def run(c: _Candidate) -> int:
            text = " " + " ".join(w for w in normalise(c.sentence.text).split()
                                  if w not in STOPWORDS_EN) + " "
            longest = 0
            for i in range(len(words)):
                for j in range(i + VERBATIM_WORDS, len(words) + 1):
                    if f" {' '.join(words[i:j])} " not in text:
                        break
                    if sum(said[i:j]) >= VERBATIM_WORDS:
                        longest = max(longest, sum(said[i:j]))
            return longest

        mine = run(first)
        best, best_run = None, mine
        for c in close:
            got = run(c)
            if got > best_run:
                best, best_run = c, got
        if best is None:
            return ordered
        return [best, *(c for c in ordered if c is not best)]

    def _about_first(self, query: Query, ordered: list[_Candidate]) -> list[_Candidate]:
        """A sentence that is about what was asked before one that names it in passing: "how
        is the business environment improved" is the point "continuously optimize the
        business environment", not the 2025 target list that ends with "business environment
        optimized". Only where the best has nothing but its words behind it and its lead says
        nothing asked, and the other's lead says much of it with an intent's examples fully
        behind it: tried wider (any close sentence with a fuller lead), it cost 40 right answers
        in the development data, since the answer is often in the body of a long sentence
        ("the four guides" of the guiding ideology). The one set aside is marked demoted, as
        when the question's own cues set a candidate aside."""
        if len(ordered) < 2:
            return ordered
        mass = query.mass or 1.0

        def lead(c: _Candidate) -> float:
            feats = self._leads.get(c.sentence.id, frozenset())
            return sum(w for f, w in query.weights.items() if f in feats) / mass

        first = ordered[0]
        if first.intent is not None or lead(first) > 0:
            return ordered
        best, best_lead = None, LEAD_GAP
        for c in ordered[1:MAX_CLARIFY + 1]:
            if first.confidence - c.confidence > LEAD_WINDOW or c.demoted:
                break
            if c.intent_score >= self.thresholds.intent_scale and lead(c) >= best_lead:
                best, best_lead = c, lead(c)
        if best is None:
            return ordered
        rest = [c for c in ordered if c is not best and c is not first]
        return [best, replace(first, demoted=True), *rest]

    # -- answers --------------------------------------------------------------------------

    def _tied(self, best: _Candidate, candidates: list[_Candidate]) -> list[Sentence]:
        """Other sentences of the best one's point that answer as well as it does ("which
        digital parks will be built": the digital economy park and the BIM and energy parks,
        two lines of one point): quoted with it."""
        return [c.sentence for c in candidates[1:MAX_CLARIFY + 1]
                if c.sentence.passage_id == best.sentence.passage_id
                and self._topic(c.sentence) == self._topic(best.sentence)
                and self._topic(best.sentence) is not None
                and round(c.confidence, 1) >= round(best.confidence, 1)]

    def _excerpt_for(self, query: Query, best: _Candidate, tied: Sequence[Sentence] = (),
                     ) -> tuple[list[excerpts.Piece], Refusal | None]:
        """The pieces to quote for the best candidate, and the scope check's verdict on them."""
        base: list[Sentence] = []
        if best.intent is not None and 100 * best.intent_score / self.thresholds.intent_scale >= (
                best.coverage):
            # The intent vouched for this answer more than the words did: its curated quote
            # is the answer, unless the question asks for a detail elsewhere in the passage.
            base = self._quoted[best.intent.id]
            if self._singled_out(query, best, base):
                base = []
        pieces = excerpts.choose(query, best.sentence, self.index, self.kb.report, base,
                                 tied=tied)
        cue = self._cue_text(query)
        years, periods = self.scope.question_years(cue)
        if years or periods:
            # A curated quote may span years ("high-tech enterprises": the review's count and
            # 2021's "31 new"): asked about one year, the pieces about another go, so that
            # the 2021 figure is not read as 2020's.
            fitting = [p for p in pieces if self.scope.year_refusal(cue, [p.sentence]) is None]
            if fitting:
                pieces = fitting
        refusal = self.scope.after(cue, [p.sentence for p in pieces], aside=query.asker_parts)
        return pieces, refusal

    def _singled_out(self, query: Query, best: _Candidate, base: Sequence[Sentence]) -> bool:
        """Particulars asked of one point of a curated list ("which industries are the
        priority for the next five years?": the third key task, whose body names them): the
        point with its body answers, not the list of headings. Only where the point's own
        words set it clearly apart from the list's other points."""
        if best.sentence not in base or len(base) < 3:
            return False
        if not self.scope.asks_specifics(self._cue_text(query)):
            return False
        if best.sentence.id not in self._headings:
            return False  # a point with nothing under its heading: the list says as much
        mine = self.index.coverage(query, [best.sentence])
        others = max(self.index.coverage(query, [s]) for s in base if s is not best.sentence)
        return mine - others >= SINGLED_OUT

    def _answer(self, query: Query, lang: str, best: _Candidate,
                pieces: list[excerpts.Piece], partly: bool = False) -> Reply:
        sentences = [p.sentence for p in pieces]
        intent = best.intent
        owner = intent or self._owner.get(best.sentence.id)
        excerpt_values = tuple(self._excerpt(p) for p in pieces)
        labels: list[str] = []
        for e in excerpt_values:
            if e.label(lang) not in labels:
                labels.append(e.label(lang))
        related: tuple[Suggestion, ...] = ()
        if owner is not None:
            related = tuple(Suggestion(r, self._intents[r].title(lang))
                            for r in owner.related[:MAX_RELATED] if r in self._intents)
        abridged = partly or any(self.scope.is_abridged(s) for s in sentences)
        via_intent = owner is not None and (intent is not None or best.coverage >= 50)
        return Reply(
            question=query.question, status="answered",
            kind="report" if via_intent else "search", language=lang,
            intent_id=owner.id if via_intent and owner else None,
            score=round(best.confidence, 1), text=excerpts.render(pieces),
            excerpts=excerpt_values, related=related,
            note=self.kb.text("labels.quoted_from" if via_intent else "labels.search_result",
                              lang),
            source_label=("；" if lang == "zh" else "; ").join(labels),
            caveat=self.kb.text("labels.abridged", lang) if abridged else "",
            handover=abridged,
            sentence_ids=tuple(dict.fromkeys(s.id for s in sentences)),
        )

    def _excerpt(self, piece: excerpts.Piece) -> Excerpt:
        passage = self.kb.report.passage(piece.sentence.passage_id)
        assert passage is not None
        return Excerpt(piece.text, passage.id, passage.label_en, passage.label_zh,
                       cut_before=piece.cut_before, cut_after=piece.cut_after)

    def answer_intent(self, intent_id: str, lang: str, question: str = "",
                      score: float = 100.0) -> Reply:
        """The reply for one intent, as if the question had matched it (a topic button)."""
        intent = self._intents[intent_id]
        related = tuple(
            Suggestion(r, self._intents[r].title(lang)) for r in intent.related[:MAX_RELATED]
        )
        if intent.kind == "decline":
            return self._decline(question, lang, intent, score)
        if intent.kind == "service":
            assert intent.service_key is not None
            return Reply(
                question=question, status="answered", kind="service", language=lang,
                intent_id=intent.id, score=score,
                text=self.kb.text(f"services.{intent.service_key}", lang),
                related=related, note=self.kb.text("service_note", lang),
            )
        labels = []
        for e in intent.excerpts:
            if e.label(lang) not in labels:
                labels.append(e.label(lang))
        return Reply(
            question=question, status="answered", kind="report", language=lang,
            intent_id=intent.id, score=score, text=" … ".join(e.text for e in intent.excerpts),
            excerpts=intent.excerpts, related=related,
            note=self.kb.text("labels.quoted_from", lang),
            source_label=("；" if lang == "zh" else "; ").join(labels),
            sentence_ids=tuple(s.id for s in self._quoted.get(intent.id, ())),
        )

    def intent(self, intent_id: str) -> Intent | None:
        return self._intents.get(intent_id)

    def _service(self, question: str, lang: str, ranked: list[Candidate],
                 query: Query) -> Reply | None:
        """Greetings, thanks, help: only when the question is clearly that, and names none of
        the report's terms that the service's examples do not ("where will intelligent
        manufacturing be based?" is not "where do your answers come from?")."""
        if not ranked:
            return None
        top = ranked[0]
        intent = self._intents[top.intent_id]
        if intent.kind != "service" or top.score < self.thresholds.service or (
                top.explained < SERVICE_EXPLAINED):
            return None
        if any(f"~{t.key}" in query.weights and f"~{t.key}" not in self._intent_feats[intent.id]
               for t in query.terms if " " in t.key):
            return None
        return self.answer_intent(intent.id, lang, question=question, score=top.score)

    # -- not sure -------------------------------------------------------------------------

    def _not_sure(self, query: Query, lang: str, ranked: list[Candidate],
                  candidates: list[_Candidate]) -> Reply:
        t = self.thresholds
        best = candidates[0] if candidates else None
        # Judged on the passages' own merit (before they gave way for lacking a year or a
        # figure): the one that best says what the report does name.
        named = max(candidates, key=lambda c: c.raw) if candidates else None
        evidence = [named.sentence] if named is not None and named.raw >= t.clarify else []
        owner = (named.intent or self._owner.get(named.sentence.id)) if named else None
        # Not confident: "the report has nothing for 2019" only if that is true of all of it.
        refusal = self.scope.after(self._cue_text(query), evidence, years_in=(),
                                  aside=query.asker_parts)
        if refusal is not None and refusal.category == "no_figure" and named is not None \
                and named.raw >= t.answer and self.scope.is_abridged(named.sentence):
            # "Urban construction in the last five years, any figures?": the line that names
            # it stops at "…"; the English version leaves the figures out, it does not say
            # there are none.
            refusal = Refusal("abridged", heading=named.sentence)
        if refusal is not None and (refusal.category != "no_figure" or (
                named is not None and named.raw >= t.answer)):
            return self._refuse(query.question, lang, refusal, owner,
                                best.confidence if best else 0.0, topic_sentences=evidence,
                                query=query)
        # A practical request clearly of a tailored kind ("which bus goes to…", "air quality
        # today") gets that refusal before the heading of a part that would hold its topic.
        decline = self._decline_for(query, ranked, best if evidence else None, lead=t.decline_lead)
        if decline is not None:
            return self._decline(query.question, lang, decline, ranked[0].score)
        heading = (self._abridged_unexplained(query, best) if best is not None
                   else self._abridged(query))
        if heading is not None:
            return self._refuse(query.question, lang, Refusal("abridged", heading=heading),
                                None, best.confidence if best else 0.0)
        options = self._options(candidates, lang)
        if len(options) >= MIN_CLARIFY and best is not None:
            return self._clarify(query, lang, best, options)
        return self._plain_fallback(query.question, lang,
                                    round(best.confidence, 1) if best else 0.0)

    def _plain_fallback(self, question: str, lang: str, score: float) -> Reply:
        return Reply(
            question=question, status="fallback", kind="fallback", language=lang,
            intent_id=None, score=score, text=self.kb.text("services.fallback", lang),
            note=self.kb.text("service_note", lang), refusal="not_in_report", handover=True,
        )

    def _offered(self, candidates: list[_Candidate]) -> list[tuple[_Candidate, Intent]]:
        """The candidates a did-you-mean could offer, one per topic, best first."""
        if not candidates:
            return []
        t = self.thresholds
        top = candidates[0].confidence
        offered: list[tuple[_Candidate, Intent]] = []
        for c in candidates:
            if c.demoted and not candidates[0].demoted:
                continue
            intent = c.intent or self._owner.get(c.sentence.id)
            if intent is None or intent.kind != "report" or c.confidence < t.clarify or (
                    c.own < t.clarify_own and c.intent is None):
                continue  # a topic offered must share words with the question
            if top - c.confidence > 2 * t.margin:
                break
            if any(self._same_topic(c, o) for o, _ in offered):
                continue
            offered.append((c, intent))
        return offered

    def _one_topic(self, candidates: list[_Candidate]) -> bool:
        """Every topic close enough to offer is the best's own point of the report (its
        heading, or the sentences under it), each under another intent's name: a
        did-you-mean would offer one answer under two names; the best answers instead.
        For a best one confident enough to be offered (see `_alone`)."""
        best = candidates[0]
        if self._topic(best.sentence) is None:
            return False  # a paragraph, not a point: its sentences may be several topics
        offered = self._offered(candidates)
        return len(offered) == 1 and offered[0][0] is best and any(
            c.sentence.passage_id == best.sentence.passage_id
            and self._topic(c.sentence) == self._topic(best.sentence)
            and (c.intent or self._owner.get(c.sentence.id)) is not offered[0][1]
            and c.confidence >= self.thresholds.clarify for c in candidates[1:])

    def _options(self, candidates: list[_Candidate], lang: str) -> tuple[Suggestion, ...]:
        """Two or three distinct topics close to the best, or none."""
        options: list[Suggestion] = []
        for _, intent in self._offered(candidates):
            if all(o.intent_id != intent.id for o in options):
                options.append(Suggestion(intent.id, intent.title(lang)))
            if len(options) == MAX_CLARIFY:
                break
        return tuple(options) if len(options) >= MIN_CLARIFY else ()

    def _decline_for(self, query: Query, ranked: list[Candidate], best: _Candidate | None,
                     lead: float = 0.0) -> Intent | None:
        """A tailored refusal only when the question is clearly about its topic: an
        out-of-scope intent explains a good share of the question that the best answer
        does not (it never wins on words they share)."""
        t = self.thresholds
        explained = best.explained if best is not None else frozenset()
        in_scope = max((c.score for c in ranked if self._intents[c.intent_id].kind == "report"),
                       default=0.0)
        chosen: tuple[float, Intent] | None = None
        for c in ranked:
            intent = self._intents[c.intent_id]
            if intent.kind != "decline" or c.score < t.decline or (
                    lead and c.score - in_scope < lead):
                continue
            own = (self._decline_core[intent.id] & query.weights.keys()) - explained
            share = 100 * sum(query.weights[f] for f in own) / (query.mass or 1.0)
            if share >= t.foreign and (chosen is None or share > chosen[0]):
                chosen = (share, intent)
        return chosen[1] if chosen else None

    def _decline(self, question: str, lang: str, intent: Intent, score: float) -> Reply:
        assert intent.service_key is not None
        return Reply(
            question=question, status="fallback", kind="decline", language=lang, intent_id=None,
            score=score, text=self.kb.text(f"services.{intent.service_key}", lang),
            note=self.kb.text("service_note", lang), refusal=intent.service_key,
        )

    def _refuse(self, question: str, lang: str, refusal: Refusal, owner: Intent | None,
                confidence: float, topic_sentences: list[Sentence] | None = None,
                query: Query | None = None, term: Term | None = None) -> Reply:
        """An honest "the report doesn't say", saying why (`term`: the name it does use)."""
        topic = (f"“{term.zh[0]}”" if lang == "zh" and term.zh else f"“{term.en}”") if term else (
            self._topic_name(owner, lang, topic_sentences or [], query, confidence))
        values = {
            "place": refusal.place.name(lang) if refusal.place else "",
            "year": refusal.year,
            "covered": ("；" if lang == "zh" else "; ").join(self.scope.year_labels(lang)),
            "detail": (self.kb.text(f"refusals.details.{refusal.detail}", lang)
                       if refusal.detail else ""),
            "topic": topic,
        }
        key = f"refusals.{refusal.category}"
        if values["topic"] and self.kb.has_text(f"{key}_topic"):
            key = f"{key}_topic"
        text = self.kb.text(key, lang)
        for name, value in values.items():
            text = text.replace("{" + name + "}", value)
        quoted: tuple[Excerpt, ...] = ()
        label = ""
        if refusal.heading is not None:
            passage = self.kb.report.passage(refusal.heading.passage_id)
            assert passage is not None
            quoted = (Excerpt(refusal.heading.text, passage.id, passage.label_en,
                              passage.label_zh),)
            label = passage.label(lang)
        reply = Reply(
            question=question, status="fallback", kind="refusal", language=lang,
            intent_id=None, score=round(confidence, 1), text=text, excerpts=quoted,
            note=self.kb.text("service_note", lang), source_label=label,
            refusal=refusal.category,
            handover=refusal.category not in ("general", "other_language"),
        )
        return replace(reply, note=self.kb.text("service_note", lang))

    def _topic_name(self, owner: Intent | None, lang: str, sentences: list[Sentence],
                    query: Query | None, confidence: float) -> str:
        """What the report does name, for "the report names X but gives no deadline": a name
        the question used that the passage has, else (only when the passage answers the
        question well) a name in the passage or its topic's title; else nothing."""
        said = " ".join(normalise(s.text) for s in sentences)
        asked = [t for t in (query.terms if query else ()) if t in self._named_terms]
        sure = confidence >= self.thresholds.answer
        # A name the question did not use only when the question speaks of it: "where's the
        # tax bureau" is not about "streamline administration, delegate powers ...".
        spoken = [t for t in self._named_terms if sure and query is not None
                  and len((feats := self.index.features(t.en)) & query.weights.keys()) >= max(
                      2, len(feats) / 2)]
        for term in [*asked, *spoken]:
            if term.key in said:
                if lang == "zh" and term.zh:
                    return f"“{term.zh[0]}”"
                return f"“{term.en}”"
        if owner is not None and sure:
            return f"“{owner.title(lang)}”"
        return ""


_PAST = re.compile(r"\b(?:did|was|were|has been|have been|had|so far|already|became|to date|"
                   r"how far along|these days|nowadays|"
                   r"got|grew|reached|achieved|managed)\b|(?<![为除])了(?!解)|已经|过去|以来")
_FUTURE = re.compile(r"\b(?:will|going to|plans? to|planning|planned|aims?|aiming|targets?|"
                     r"goals?|hopes? to|intends?|wants? to|seeks? to|keen to|upcoming|"
                     r"in the pipeline|coming years|years ahead|supposed to|meant to|"
                     r"expected to|set to)\b"
                     r"|将|计划|目标|力争|打算|今后|未来")


def _lead(text: str) -> str:
    """The words that say what a sentence is about (see _LEAD_OPENER)."""
    rest = _LEAD_OPENER.sub("", text.strip())
    end = _LEAD_END.search(rest)
    return rest[:end.start()] if end else rest


def _tense(norm: str) -> str | None:
    """"past" or "future" when the question's words say so, and only one of them."""
    past, future = bool(_PAST.search(norm)), bool(_FUTURE.search(norm))
    return None if past == future else ("past" if past else "future")


def _part_tense(sentence: Sentence) -> str | None:
    part = sentence.passage_id.split(".")[0]
    return "past" if part == "I" else "future" if part in ("II", "III") else None


def plain_text(reply: Reply, kb: KnowledgeBase) -> str:
    """The reply as the user sees it, without markup (terminal chat and batch output)."""
    lang = reply.language
    colon = "：" if lang == "zh" else ": "
    lines: list[str] = []
    if reply.kind == "search":
        lines += [reply.note, "", f"“{reply.text}”"]
    elif reply.kind == "report":
        lines.append(f"“{reply.text}”")
    else:
        lines.append(reply.text)
        if reply.excerpts:
            lines += ["", "“" + " … ".join(e.quoted for e in reply.excerpts) + "”"]
    if reply.caveat:
        lines += ["", reply.caveat]
    if reply.options:
        lines += [f"  {n}. {o.title}" for n, o in enumerate(reply.options, start=1)]
        lines += [reply.note]
    if reply.source_label:
        lines += ["", f"{kb.text('labels.source', lang)}{colon}{reply.source_label}"]
    if reply.kind == "report":
        lines.append(reply.note)
    if reply.related:
        titles = ("；" if lang == "zh" else "; ").join(r.title for r in reply.related)
        lines.append(f"{kb.text('labels.related', lang)}{colon}{titles}")
    if reply.kind in ("service", "decline", "fallback", "refusal"):
        lines += ["", reply.note]
    return "\n".join(lines).strip()
