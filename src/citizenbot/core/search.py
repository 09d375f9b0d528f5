"""Find the report sentences that cover a question: the knowledge base is the report itself.

Every sentence of the report is indexed by its features: English word stems, the glossary's
multi-word names ("~shandong new financial industry park") and numbers. A question is rewritten
into the report's words through the glossary (which is how Chinese questions arrive here),
typos are corrected against the report's vocabulary, and each feature is weighted by how rare it
is in the report. A sentence's *coverage* is the weighted share of the question it explains:
by its own words, or, at a discount, by the sentence that names its point ("Fourth, speed up
the construction of intelligent manufacturing industry highland.") and the heading of its part
("Work Arrangement in 2021"). Words the report never uses weigh the most, so a question about
something else cannot reach a high coverage.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
from rapidfuzz import fuzz, process

from citizenbot.core.glossary import Glossary, Synonyms, Term
from citizenbot.core.report import Report, Sentence
from citizenbot.core.text import (
    CJK_RUN,
    FILLER_EN,
    MAX_MATCH_CHARS,
    STOPWORDS_EN,
    content_stems,
    english_frequency,
    is_english_word,
    language_of,
    normalise,
    stem,
    strip_zh_filler,
)

# Credit for a question word found outside the sentence itself.
TOPIC_CREDIT = 0.7
HEADING_CREDIT = 0.5
PART_CREDIT = 0.8  # "Work Arrangement in 2021", "the 13th Five-Year Plan period"
PROPER_KINDS = ("programme", "park", "platform", "organisation")
COMMON_IN = 3  # a word in more sentences than this is not a name
CLAUSE_WAY_SHARED = 2  # words a way of asking must share with a clause to point to it
ASKED_CREDIT = 0.6  # a word of how people ask for a sentence (asked.yml): less than a heading
IN_TERM_SHARE = 0.25  # the weight of a word inside a named term, beside the name
ASKER_SHARE = 0.3  # the weight of words where the asker speaks of themselves
FRAME_SHARE = 0.15  # the weight of "does the mayor say", "how does the report describe"
_PARTS = re.compile(r"[.?!;。？！；，]+|,\s|\s[-–—]+\s|[:：]\s")
# Chinese has no word boundary to test: "我是海归" must match on 我 alone.
# "Thinking about whether…", "just curious", "Writing an explainer for readers abroad",
# "Journalist here": the asker's reasons and task, with the subject left out.
_ASKER = re.compile(r"^(?:(?:i|i'm|im|i am|we|we're|we are|my|our|as an?|thinking|wondering|"
                    r"considering|planning|curious|just curious|asking because|asking since|"
                    r"journalist|reporter|writing|working on|researching|fact checking|"
                    r"fact-checking|listing)"
                    r"\b|我|本人)",
                    re.IGNORECASE)
# A part that goes on with the asker's story without saying who: "just moved back from
# Boston", 刚从美国回国, 现在在德国工作.
_GOES_ON = re.compile(r"^(?:just|recently|currently|now|moved|came|coming|back|based|living|"
                      r"working|born|studying|studied|graduated|returned|returning|"
                      r"originally|from|used to)\b|^(?:刚|刚刚|现在|目前|之前|以前|去年|今年|"
                      r"从|在|打算|准备|已经|正在|也|还|曾|毕业|回国)", re.IGNORECASE)
_REASON = re.compile(r"^(?:thinking|wondering|considering|curious|just curious|asking because|"
                     r"asking since)\b", re.IGNORECASE)
# "I'm deciding where to rent an office": the asker's own errand, though it says "where".
_ERRAND = re.compile(r"^(?:i'm|im|i am|we're|we are|i|we)?\s*(?:deciding|choosing|trying to "
                     r"decide|trying to choose|figuring out|working out|comparing)\b",
                     re.IGNORECASE)
_WH = re.compile(r"\b(?:what|which|how|where|when|why|who)\b|什么|什麼|甚麼|哪|怎么|怎麼|如何|多少",
                 re.IGNORECASE)
_NAMES_SUBJECT = re.compile(r"\b(?:meant|mean|asking about|talking about|read about|"
                            r"heard about|heard that|heard there|hear that|hear there|"
                            r"read that|read there|looking at|interested in|curious about|"
                            r"wondering about|referring to)\b|我说的是|我问的是|我指的是|听说",
                            re.IGNORECASE)
_ASKS = re.compile(r"\?|？|\b(?:what|which|how|where|when|why|who|is there|are there|does|do|"
                   r"can|could|will)\b|吗|嗎|什么|什麼|甚麼|哪|怎么|怎麼|如何|多少", re.IGNORECASE)
# A pair of Chinese characters the glossary could not translate: evidence of something
# unknown, but less sure than an unknown English word (it may be an unlisted way of saying a
# known thing, and a word of n characters gives n-1 pairs).
ZH_LEFTOVER_SHARE = 0.35
# Who said it, and that it was said: "what does the mayor claim about...", "how does the
# report describe...", "according to the report", "报告里怎么说". The speaker and the verb frame
# the question; they are not its subject, and "mayor" alone would pull it to the line that
# names the mayor. Run on the normalised question.
_SPEAKER = (r"(?:the\s+)?(?:district\s+)?"
            r"(?:mayor|report|government|outline|plan|document|district|they)")
_SAYING = (r"(?:say|says|said|claim|claims|state|states|mention|mentions|describe|describes|"
           r"sum\s+up|summari[sz]e|characteri[sz]e|call|point\s+to|talk\s+about|list|"
           r"present|put\s+it|see|view|assess|single\s+out|highlight|hold\s+up|cite|"
           r"point\s+out|stress|emphasi[sz]e|name|identify|flag)")
_FRAME = re.compile(
    rf"\b(?:(?:do|does|did|will|would)\s+{_SPEAKER}\s+{_SAYING}"
    rf"|{_SPEAKER}\s+(?:says|said|claims|mentions|states|describes)"
    # Normalised, "in the government's words" reads "in the government words".
    rf"|according\s+to\s+{_SPEAKER}|in\s+(?:the\s+)?(?:\w+\s+){{0,2}}words"
    r"|(?:in|of|from)\s+(?:this|the)\s+(?:report|document|speech|work\s+report)"
    # "…on the environment, in general terms?": how to answer, not what about. ("In simple
    # terms" asks for an explanation: the general-knowledge check reads it.)
    r"|in\s+(?:general|broad|short|brief)(?:\s+terms)?"
    r"|in\s+a\s+nutshell|(?:generally|broadly|roughly)\s+speaking"
    # "In one line, how does the report sum up the economy?": how long an answer, not a word
    # of it ("total", "line").
    r"|in\s+(?:one|a|a\s+single)\s+(?:line|sentence|word)|(?:to\s+)?sum(?:s|med)?\s+up"
    r"|bottom\s+line|one\s+liner|the\s+headline"
    # "How big is the economy these days?": when, not a word of the answer ("361 days").
    r"|these\s+days|nowadays"
    # "Where does Shizhong see itself in 2035?": how it sees itself is its vision, asked.
    r"|(?:see|sees|seeing|picture|pictures|imagine|imagines)\s+(?=itself|themselves)"
    # "How important is it in the government's eyes?": whose view, not a word of the answer.
    r"|in\s+(?:the\s+)?(?:eyes\s+of(?:\s+the)?\s+\w+|(?:\w+\s+){1,2}eyes)"
    # "the relationship between A and B" asks how A and B go together: A and B are the
    # subject, not the word "relationship", which the report uses only once.
    r"|(?:relationships?|relations?|links?|connections?|interactions?|interplay)\s+between"
    # "what support can I expect", "what should investors expect": what the asker will get.
    r"|(?:can|could|should|will|would|may|do)\s+(?:i|we|you|investors?|companies|firms|"
    r"businesses|they|(?:my|our|a|an|the)\s+\w+)\s+expect"
    # "Is it true GDP is going to hit…": a claim to check, not a word of the answer.
    r"|is\s+(?:it|that|this)\s+(?:really\s+)?(?:true|right|correct)(?:\s+that)?"
    r"|(?:true|correct)\s*$)\b"
    r"|(?:报告|区长|政府)(?:里|中|上)?(?:是)?(?:怎么|如何)?(?:说|提到|提出|讲|描述|总结|表述)(?:的|了)?")
# "Apart from the export park, what other digital parks…", "…besides the internet export
# one?": what is set aside is not what is asked; the answer is the other one. Run on the
# question as typed (lower case), up to the next comma or the end of the clause.
_EXCEPT = re.compile(
    r"\b(?:apart from|aside from|besides|other than|except for|except|excluding|"
    r"not counting|leaving aside)\s+(?P<what>[^;:?!.]+)")
# Where the asking starts: a question word, after a comma or not ("besides the economy,
# innovation and reform, which other areas…": all three are set aside, not only the first).
_EXCEPT_END = re.compile(
    r",?\s*\b(?:what|which|who|whose|whom|when|why|how|where|are|is|was|were|will|do|does|did|can|could|should|"
    r"has|have|any|anything|i|we)\s.*$")
_LIST_ITEM_WORDS = 4


def _set_aside_words(what: str) -> str:
    """What "besides …" names: up to the question ("besides the BIM park what other…"),
    across commas only for a list of short items that the question follows ("besides the
    economy, innovation and reform, which other areas…"), else up to the first comma."""
    chunks = what.split(",")
    first = _EXCEPT_END.sub("", chunks[0])
    if first != chunks[0] or len(chunks) == 1:
        return first
    for i, chunk in enumerate(chunks[1:], start=1):
        if _EXCEPT_END.match("," + chunk):
            return ",".join(chunks[:i])
        if len(chunk.split()) > _LIST_ITEM_WORDS:
            break
    return first


# "the three directions", "which five sectors": a count of what is asked for.
_COUNTED = re.compile(r"\b(?:the|these|those|its|their|main|key|what|which)\s+"
                      r"(two|three|four|five|six|seven|eight|nine|ten)\s+"
                      r"(?!years?\b|billion|million)[a-z]+s\b")
# What something is taken as: the report says "take investment promotion … as the
# 'lifeline' of economic work", "reform and innovation as the first driving force"; people
# ask how it is positioned, framed, regarded (定位, 视为). One feature for both.
ROLE = "@role"
_AS_ROLE = re.compile(r"(?<!such )\bas (?:the|our) (?!same\b|above\b|following\b|whole\b)")
_ROLE_CUE = re.compile(r"\b(?:positioned|position|framed|frame|regarded|seen as|treated as|"
                       r"viewed as|described as|how important|importance|how much weight|"
                       r"what priority|how high a priority)\b|定位|视为|看作|当作|当成|地位|"
                       r"称为|重要性|多重要|有多重要")
# A long sentence is judged by its best run of clauses: words of a question scattered over
# 1,400 characters are not an answer the way words in one clause are.
# (The guiding ideology, 1,400 characters, had outbid 33 lines about the question asked.)
LONG_CHARS = 400
WINDOW_CHARS = 200
SCATTERED_SHARE = 0.5  # what a word outside the sentence's best run of clauses counts
WIDE = 8  # times the hits asked for: the best sentences judged clause by clause
_CLAUSE_CUT = re.compile(r"[,;:]\s")
_NUMBER = re.compile(r"^\d+$")
_AMOUNT = re.compile(r"\b(\d+(?: \d{3})*(?: \d+)?) (billion|million)\b")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_MEMO_LIMIT = 20_000  # texts whose features are kept: about 10 MB at most


def _split_asker(question: str) -> tuple[list[str], list[str]]:
    """The parts of a question where the asker speaks of themselves ("I'm a returnee
    founder", 我在美国读博), and the rest, when another part asks the question."""
    parts = [p.strip() for p in _PARTS.split(question) if p.strip()]
    if len(parts) < 2:
        return [], parts
    asker: list[str] = []
    rest: list[str] = []
    last_asker = False
    for part in parts:
        # "wondering if housing will get tight": a reason for asking, though it says "will";
        # "wondering which parks …" asks.
        reason = (_REASON.match(part) and not _WH.search(part)) or _ERRAND.match(part)
        # "我是生物医药博士，刚从美国回国，…", "I'm a chemist, just moved back from Boston, …":
        # the asker's story goes on without saying "I" again.
        goes_on = last_asker and _GOES_ON.match(part) is not None
        last_asker = bool((_ASKER.match(part) or goes_on)
                          and (reason or not _ASKS.search(part)))
        (asker if last_asker else rest).append(part)
    return (asker, rest) if rest else ([], parts)


@dataclass(frozen=True)
class Query:
    """A question as the search sees it."""

    question: str
    language: str
    norm: str  # normalised question
    text: str  # normalised, in the report's words (glossary applied, typos corrected)
    terms: tuple[Term, ...]  # glossary terms named
    weights: Mapping[str, float] = field(default_factory=dict)  # feature -> weight
    unknown: frozenset[str] = frozenset()  # features the report does not use
    corrected: str = ""  # normalised, typos corrected, before the glossary
    # Features only in the parts where the asker speaks of themselves ("I'm an
    # overseas-educated engineer"): who asks, not what about.
    context: frozenset[str] = frozenset()
    # Those parts themselves, normalised: a place named there ("I'm in Canada") is where the
    # asker is, not what the question is about.
    asker_parts: tuple[str, ...] = ()
    # What the question sets aside ("besides the BIM park"), normalised, and its features
    # the rest of the question does not ask: not what it asks.
    set_aside: tuple[str, ...] = ()
    aside_features: frozenset[str] = frozenset()

    @property
    def mass(self) -> float:
        return sum(self.weights.values())


@dataclass(frozen=True)
class Hit:
    sentence: Sentence
    coverage: float  # 0-1: weighted share of the question explained
    own: float  # 0-1: the share explained by the sentence's own words
    matched: frozenset[str]  # features found in the sentence itself


def text_features(text: str, glossary: Glossary, synonyms: Synonyms | None = None,
                  normalised: bool = False) -> set[str]:
    """Features of a text in the report's words (normalised here unless it already is)."""
    if not normalised:
        text = normalise(text)
    feats = {f"~{t.key}" for t in glossary.terms_in(text) if " " in t.key}
    # An amount is one thing: "10 billion" is not "10%" and "14 billion" ("突破100亿" is the
    # review's "threshold of 10 billion yuan", not the 2025 target's "10%" and "14 billion").
    feats |= {f"#{m.group(1)} {m.group(2)}" for m in _AMOUNT.finditer(text)}
    if _AS_ROLE.search(text) or _ROLE_CUE.search(text):
        feats.add(ROLE)
    if synonyms is not None:
        text = synonyms.apply(text)
    feats |= set(content_stems(text))
    return feats


# A capitalised word after another word: a name, not the first word of a sentence.
_CAPITALISED = re.compile(r"(?<=[A-Za-z0-9,;:'\)] )([A-Z][a-z]{2,})\b")


def _vowel_slip(typed: str, known: str) -> bool:
    """Whether the two differ only by vowels put for vowels."""
    if len(typed) != len(known):
        return False
    return all(a in "aeiou" and b in "aeiou" for a, b in zip(typed, known, strict=True)
               if a != b)


def cjk_features(run: str) -> list[str]:
    """Character pairs (or the character) of Chinese the glossary did not translate."""
    features = []
    for piece in strip_zh_filler(run).split():
        if len(piece) == 1:
            features.append(f"zh:{piece}")
        features += [f"zh:{piece[i:i + 2]}" for i in range(len(piece) - 1)]
    return features


class SentenceIndex:
    """Every sentence of the report, ready to be ranked against a question."""

    def __init__(self, report: Report, glossary: Glossary, known_words: Iterable[str] = (),
                 covered_years: Callable[[Sentence], frozenset[int]] | None = None,
                 synonyms: Synonyms | None = None,
                 asked: Mapping[str, Sequence[str]] | None = None) -> None:
        self.report = report
        self.glossary = glossary
        self.synonyms = synonyms
        self._covered_years = covered_years or (lambda s: frozenset())
        self.sentences: list[Sentence] = [s for p in report.passages for s in p.sentences]
        self._by_id = {s.id: s for s in self.sentences}
        self._own: dict[str, frozenset[str]] = {}
        vocabulary: set[str] = set()
        for s in self.sentences:
            norm = normalise(s.text)
            self._own[s.id] = frozenset(text_features(norm, glossary, synonyms, normalised=True))
            vocabulary.update(w for w in norm.split() if not CJK_RUN.fullmatch(w))
        part_feats = {part: frozenset(text_features(h, glossary, synonyms))
                      for part, h in report.part_headings}
        self._context: dict[str, dict[str, float]] = {}
        for p in report.passages:
            heading = p.sentences[0] if p.part == "III" and not p.id[4:].isdigit() else None
            for s in p.sentences:
                credit: dict[str, float] = {}
                for f in part_feats.get(p.part, ()):
                    credit[f] = PART_CREDIT
                if heading is not None and heading.id != s.id:
                    for f in self._own[heading.id]:
                        credit[f] = max(credit.get(f, 0.0), HEADING_CREDIT)
                if s.topic_id is not None:
                    for f in self._own[s.topic_id]:
                        credit[f] = TOPIC_CREDIT
                self._context[s.id] = credit

        # How people ask for a sentence (asked.yml): the words of those questions that the
        # sentence and its headings do not already explain, at a discount. Never the name of
        # a programme, park or company the sentence does not name: a way of asking that says
        # "talent programme" must not make the awards line an answer about the Jingwei talent
        # programme.
        names: set[str] = set()
        common = self._common_words()
        for term in glossary.terms:
            if term.kind in PROPER_KINDS:
                names.add(f"~{term.key}")
                capitalised = " ".join(w for w in term.en.split() if w[:1].isupper())
                names.update(set(content_stems(normalise(capitalised))) - common)
        self._asked: dict[str, frozenset[str]] = {}
        self._ways: dict[str, tuple[frozenset[str], ...]] = {}  # each way's features
        asked_words: set[str] = set()
        for sid, questions in (asked or {}).items():
            if sid not in self._by_id:
                continue
            ways: set[str] = set()
            each: list[frozenset[str]] = []
            for q in questions:
                feats = self.example_features(q)
                ways |= feats
                each.append(feats)
                asked_words.update(w for w in normalise(q).split() if not CJK_RUN.fullmatch(w))
            self._asked[sid] = frozenset(
                ways - self._own[sid] - self._context[sid].keys() - names)
            self._ways[sid] = tuple(each)

        n = len(self.sentences)
        df: dict[str, int] = defaultdict(int)
        for feats in self._own.values():
            for f in feats:
                df[f] += 1
        self._idf = {f: math.log((n + 1) / (d + 0.5)) for f, d in df.items()}
        # A word the report never uses weighs as much as its rarest words: it may be the
        # subject of the question, or only the asker's own way of putting it.
        self.unknown_weight = math.log((n + 1) / 1.5)
        # Ranking runs as array operations: per feature, the sentences that explain it and how
        # much (own words 1, a year the sentence covers 1, its point's or part's heading less),
        # so that a report a hundred times larger stays within milliseconds per question.
        self._row = {s.id: i for i, s in enumerate(self.sentences)}
        credit_lists: dict[str, dict[int, float]] = defaultdict(dict)
        own_lists: dict[str, list[int]] = defaultdict(list)
        for s in self.sentences:
            row = self._row[s.id]
            for f, c in self._context[s.id].items():
                credit_lists[f][row] = c
            for f in self._asked.get(s.id, ()):
                credit_lists[f][row] = ASKED_CREDIT
            for f in self._own[s.id]:
                credit_lists[f][row] = 1.0
                own_lists[f].append(row)
            for year in self._covered_years(s):
                credit_lists[str(year)][row] = 1.0
        # The same credit per sentence, for the few candidates weighed one by one.
        self._credit_table: dict[str, dict[str, float]] = {}
        for s in self.sentences:
            table = dict.fromkeys(self._asked.get(s.id, ()), ASKED_CREDIT)
            table.update(self._context[s.id])
            table.update(dict.fromkeys(self._own[s.id], 1.0))
            table.update(dict.fromkeys(
                (str(y) for y in self._covered_years(s) if _YEAR.match(str(y))), 1.0))
            self._credit_table[s.id] = table
        self._credit_rows = {f: (np.fromiter(d.keys(), dtype=np.int64, count=len(d)),
                                 np.fromiter(d.values(), dtype=np.float64, count=len(d)))
                             for f, d in credit_lists.items()}
        self._own_rows = {f: np.array(rows, dtype=np.int64) for f, rows in own_lists.items()}
        self._lengths = np.array([len(s.text) for s in self.sentences])
        self._window_memo: dict[str, list[frozenset[str]]] = {}
        # Words a question may use: the report's, the glossary's, the intents' examples'.
        for term in glossary.terms:
            for variant in (term.en, *term.also):
                vocabulary.update(normalise(variant).split())
        vocabulary.update(w for w in known_words if w.isascii())
        vocabulary.update(asked_words)
        if synonyms is not None:
            vocabulary.update(w for w in synonyms.words if w.isascii())
        self._vocabulary = frozenset(vocabulary | STOPWORDS_EN | FILLER_EN)
        # Words the report writes with a capital inside a sentence: its names ("Shizhong",
        # "Dangjia"). A capitalised word a question misspells is corrected only to one of
        # these: "a firm in Lyon" is a place the report does not know, not "long".
        self._proper = frozenset(m.group(1).lower() for s in self.sentences
                                 for m in _CAPITALISED.finditer(s.text))
        self._spelling = sorted(w for w in vocabulary if len(w) >= 4 and w.isalpha())
        self._corrections: dict[str, str] = {}
        self._clauses: dict[str, tuple[list[tuple[int, int]], list[frozenset[str]]]] = {}
        self._clause_asked: dict[str, list[frozenset[str]]] = {}
        # The same few texts (a list's own words, the topics of the parts left out) are
        # weighed again for most questions; bounded, since some pieces are user input.
        self._text_features: dict[str, frozenset[str]] = {}
        self._features: dict[str, frozenset[str]] = {}

    def _common_words(self) -> frozenset[str]:
        """Features of more than a few sentences ("park", "talent"): not a name on their own."""
        counts: dict[str, int] = defaultdict(int)
        for feats in self._own.values():
            for f in feats:
                counts[f] += 1
        return frozenset(f for f, c in counts.items() if c > COMMON_IN)

    def sentence(self, sentence_id: str) -> Sentence:
        return self._by_id[sentence_id]

    def has(self, sentence_id: str) -> bool:
        return sentence_id in self._by_id

    def position(self, sentence: Sentence) -> int:
        """Where a sentence stands in the report (to quote pieces in reading order)."""
        return self._row[sentence.id]

    # -- questions -------------------------------------------------------------------------

    def _correct(self, word: str) -> str:
        """The nearest known word for a misspelt one ('finacial' -> 'financial')."""
        if word in self._corrections:
            return self._corrections[word]
        fixed = word
        if len(word) >= 4 and word.isalpha():
            cutoff = 80 if len(word) >= 6 else 75
            best = process.extract(word, self._spelling, scorer=fuzz.ratio,
                                   score_cutoff=cutoff, limit=3)
            if best:
                top = [b for b in best if b[1] == best[0][1]]
                same_letters = [b for b in top if sorted(b[0]) == sorted(word)]
                # A tie is settled by the likelier slip: letters swapped, then a vowel for a
                # vowel ("mayer" is "mayor", not "maker"), then the commoner word.
                fixed = str(same_letters[0][0]) if same_letters else max(
                    (str(b[0]) for b in top),
                    key=lambda c: (_vowel_slip(word, c), english_frequency(c)))
            else:
                # A missing space: "onestopservice" -> "onestop service".
                for cut in range(3, len(word) - 2):
                    left, right = word[:cut], word[cut:]
                    if left in self._vocabulary and right in self._vocabulary:
                        fixed = f"{left} {right}"
                        break
        if len(self._corrections) < 50_000:  # bounded: questions are user input
            self._corrections[word] = fixed
        return fixed

    def _correct_name(self, word: str) -> str:
        """A name as typed, unless it is a misspelling of one of the report's names."""
        fixed = self._correct(word)
        return fixed if fixed in self._proper else word

    def query(self, question: str) -> Query:
        """Rewrite and weigh a question."""
        norm = normalise(question, MAX_MATCH_CHARS)
        # A real English word the report does not use is kept ("divided" is not a typo of
        # "dividend"), and so is another form of a report word ("ecology" beside
        # "ecological", rarer in general English than the bar, is not "technology"); only
        # what no dictionary knows is corrected.
        named = {m.group(1).lower() for m in _CAPITALISED.finditer(question)}
        corrected = " ".join(
            w if CJK_RUN.fullmatch(w) or w in self._vocabulary or w.isdigit()
            or is_english_word(w) or (len(w) >= 6 and stem(w) in self._idf)
            else self._correct_name(w) if w in named
            else self._correct(w)
            for w in norm.split()
        )
        rewritten = self.glossary.rewrite(corrected)
        text = rewritten.text
        # The asker's own words stay when the report uses them too: rewriting "5G coverage"
        # as "5G base stations" must not lose "coverage", which the answer says.
        in_words = text_features(text, self.glossary, self.synonyms, normalised=True)
        feats = in_words | ((in_words if corrected == text else text_features(
            corrected, self.glossary, self.synonyms, normalised=True)) & self._idf.keys())
        # A named term is one thing asked about: its own words weigh little beside its name,
        # so that a glossary rewrite ("fiscal revenue" -> "general public budget revenue")
        # does not make a question look longer and easier to cover than it is.
        masked = self.glossary.mask(text)
        outside = in_words if masked == text else text_features(
            masked, self.glossary, self.synonyms, normalised=True)
        weights: dict[str, float] = {}
        unknown: set[str] = set()
        for f in feats:
            if f in self._idf:
                weights[f] = self._idf[f]
            elif f.startswith("~"):
                continue  # a name no sentence uses: its words speak for it
            else:
                weights[f] = self.unknown_weight
                unknown.add(f)
            if not f.startswith("~") and f not in outside:
                weights[f] *= IN_TERM_SHARE
        for run in CJK_RUN.findall(text):
            for key in cjk_features(run):
                weights[key] = self.unknown_weight * ZH_LEFTOVER_SHARE
                unknown.add(key)
        # "How good is 5G coverage? I'm thinking of relocating my tech team": what the asker
        # says about themselves is context, not the subject.
        asker, rest = _split_asker(question)
        about_asker = self._about_asker(asker, rest)
        framing = self._framing(norm)
        excluded, set_aside = self._set_aside(question)
        # "What are the three directions…": how many things are asked for, not a word of the
        # answer ("three handlings" is another line). Inside a named term it stays.
        for m in _COUNTED.finditer(corrected):
            f = m.group(1)
            if f in weights and f in outside:
                weights[f] *= FRAME_SHARE
        for f in list(weights):
            if f in about_asker:
                weights[f] *= ASKER_SHARE
            if f in framing or f in excluded:
                weights[f] *= FRAME_SHARE
        return Query(question=question, language=language_of(question), norm=norm, text=text,
                     terms=rewritten.terms, weights=weights, unknown=frozenset(unknown),
                     corrected=corrected, context=frozenset(about_asker & weights.keys()),
                     set_aside=set_aside, aside_features=frozenset(excluded),
                     # "I meant Shizhong District in Zaozhuang", "I read about …": the
                     # asker names the subject there, it is not where they are.
                     asker_parts=tuple(normalise(p) for p in asker
                                       if not _NAMES_SUBJECT.search(p)))

    def _said_features(self, text: str) -> set[str]:
        """A piece of a question's features as typed and as the glossary names them."""
        norm = normalise(text)
        return text_features(norm, self.glossary, self.synonyms, normalised=True) | (
            text_features(self.glossary.rewrite(norm).text, self.glossary, self.synonyms,
                          normalised=True))

    def _set_aside(self, question: str) -> tuple[set[str], tuple[str, ...]]:
        """The features of what a question sets aside ("apart from the export park"), when
        the rest asks something of its own, and the words that name it (normalised)."""
        lowered = question.lower()
        found: list[str] = []
        rest, at = [], 0
        for m in _EXCEPT.finditer(lowered):
            what = _set_aside_words(m.group("what"))
            found.append(what)
            rest.append(lowered[at:m.start()])
            at = m.start("what") + len(what)
        if not found:
            return set(), ()
        rest.append(lowered[at:])
        aside = set().union(*(self._said_features(w) for w in found))
        asked = self._said_features(" ".join(rest))
        if not asked & self._idf.keys():
            return set(), ()
        # Only the name set aside: its words that the rest uses too ("park" in "what other
        # parks") are still asked.
        return ({f for f in aside - asked if f.startswith("~") or f in self._idf},
                tuple(n for n in (normalise(w) for w in found) if n))

    def _about_asker(self, asker: list[str], rest: list[str]) -> set[str]:
        """Features that stand only in the parts of a question where the asker speaks of
        themselves, not in the part that asks."""
        if not asker:
            return set()
        said = set().union(*(self._part_features(p) for p in asker))
        asked = set().union(*(self._part_features(p) for p in rest))
        return said - asked

    def _part_features(self, part: str) -> set[str]:
        """A part's features as the query weighs them: Chinese the glossary leaves untranslated
        ("我是海外留学回来的") counts by its character pairs."""
        features = text_features(part, self.glossary, self.synonyms)
        if CJK_RUN.search(part):
            for run in CJK_RUN.findall(self.glossary.rewrite(normalise(part)).text):
                features.update(cjk_features(run))
        return features

    def _framing(self, norm: str) -> set[str]:
        """Features that stand only in the words that frame a question as what someone said
        ("what does the mayor claim about the environment"), when the rest asks something."""
        spans = [m.span() for m in _FRAME.finditer(norm)]
        if not spans:
            return set()
        rest, framed, at = [], [], 0
        for start, end in spans:
            rest.append(norm[at:start])
            framed.append(norm[start:end])
            at = end
        rest.append(norm[at:])
        asked = text_features(" ".join(rest), self.glossary, self.synonyms)
        if not asked & self._idf.keys():
            return set()  # "what does the report say?": the frame is all there is
        framed_text = " ".join(framed)
        said = text_features(framed_text, self.glossary, self.synonyms) | text_features(
            self.glossary.rewrite(framed_text).text, self.glossary, self.synonyms)
        return said - asked

    # -- ranking ---------------------------------------------------------------------------

    def credit(self, query: Query, sentence: Sentence) -> dict[str, float]:
        """Per question feature, how much of it this sentence explains (0-1)."""
        table = self._credit_table[sentence.id]
        return {f: table[f] for f in query.weights if f in table}

    def said_coverage(self, query: Query, sentence: Sentence,
                      credit: Mapping[str, float] | None = None) -> float:
        """The share of the question a sentence explains in the report's words (its own and
        its headings'), leaving out how people ask for it. `credit`: the sentence's credit
        for this query, if already worked out."""
        asked = self._asked.get(sentence.id, frozenset())
        if credit is None:
            credit = self.credit(query, sentence)
        return sum(query.weights[f] * c for f, c in credit.items()
                   if f not in asked) / (query.mass or 1.0)

    def coverage(self, query: Query, sentences: Iterable[Sentence]) -> float:
        """The weighted share of the question that a group of sentences explains."""
        mass = query.mass
        if not mass:
            return 0.0
        best: dict[str, float] = {}
        for s in sentences:
            for f, c in self.credit(query, s).items():
                best[f] = max(best.get(f, 0.0), c)
        return sum(query.weights[f] * c for f, c in best.items()) / mass

    def rank(self, query: Query, limit: int = 10) -> list[Hit]:
        """Sentences by coverage, best first."""
        mass = query.mass
        if not mass:
            return []
        n = len(self.sentences)
        covered = np.zeros(n)
        own = np.zeros(n)
        for f, w in query.weights.items():
            rows = self._credit_rows.get(f)
            if rows is not None:
                covered[rows[0]] += w * rows[1]
            own_rows = self._own_rows.get(f)
            if own_rows is not None:
                own[own_rows] += w
        # Only the few best are judged clause by clause (and then sorted), so that a much
        # larger report costs little more.
        shortlist = np.flatnonzero(covered > 0)
        if len(shortlist) > WIDE * limit:
            keep = np.argpartition(-covered[shortlist], WIDE * limit)[:WIDE * limit]
            shortlist = shortlist[keep]
        for row in shortlist[self._lengths[shortlist] > LONG_CHARS]:
            s = self.sentences[int(row)]
            feats = {f: w for f, w in query.weights.items() if f in self._own[s.id]}
            if feats:
                local = max(sum(w for f, w in feats.items() if f in window)
                            for window in self._windows(s))
                outside = (1 - SCATTERED_SHARE) * (sum(feats.values()) - local)
                covered[row] -= outside
                own[row] -= outside
        # Best coverage, then most in the sentence's own words, then the shortest.
        if len(shortlist) > 4 * limit:
            keep = np.argpartition(-covered[shortlist], 4 * limit)[:4 * limit]
            shortlist = shortlist[keep]
        order = shortlist[np.lexsort((self._lengths[shortlist], -np.round(own[shortlist], 6),
                                      -np.round(covered[shortlist], 3)))]
        hits = []
        for row in order[:limit]:
            if covered[row] <= 0:
                break
            s = self.sentences[int(row)]
            hits.append(Hit(
                sentence=s,
                coverage=float(covered[row]) / mass,
                own=float(own[row]) / mass,
                matched=frozenset(f for f in query.weights if f in self._own[s.id]),
            ))
        return hits

    def _windows(self, sentence: Sentence) -> list[frozenset[str]]:
        """The features of each run of a long sentence's clauses that fits WINDOW_CHARS."""
        found = self._window_memo.get(sentence.id)
        if found is None:
            text = sentence.text
            cuts = [0, *(m.end() for m in _CLAUSE_CUT.finditer(text)), len(text)]
            spans = [(a, b) for a, b in pairwise(cuts) if b > a]
            found = []
            for i in range(len(spans)):
                j = i
                while j + 1 < len(spans) and spans[j + 1][1] - spans[i][0] <= WINDOW_CHARS:
                    j += 1
                found.append(self.features(text[spans[i][0]:spans[j][1]]))
            self._window_memo[sentence.id] = found
        return found

    def own_features(self, sentence: Sentence) -> frozenset[str]:
        """What a sentence says in its own words."""
        return self._own[sentence.id]

    def features_of(self, sentence: Sentence) -> frozenset[str]:
        """What a sentence explains: its own features and those of its context."""
        return self._own[sentence.id] | frozenset(self._context[sentence.id])

    def clauses(self, sentence: Sentence, split: Callable[[str], list[tuple[int, int]]],
                ) -> tuple[list[tuple[int, int]], list[frozenset[str]]]:
        """A long sentence's clauses and their features, worked out once per sentence."""
        found = self._clauses.get(sentence.id)
        if found is None:
            spans = split(sentence.text)
            found = (spans, [self.features(sentence.text[a:b]) for a, b in spans])
            self._clauses[sentence.id] = found
        return found

    def clause_asked(self, sentence: Sentence, clause_features: Sequence[frozenset[str]],
                     ) -> list[frozenset[str]]:
        """For each clause of a long sentence, the words of the ways of asking for the
        sentence that point to it: a way of asking is about the clause it shares most of the
        sentence's own words with ("what is development ultimately for" and "meeting
        people's growing needs ... as the fundamental purpose" share "development"; a way
        that also says "purpose" settles which clause), if that is one clause."""
        found = self._clause_asked.get(sentence.id)
        if found is None:
            asked = self._asked.get(sentence.id, frozenset())
            pointed: list[set[str]] = [set() for _ in clause_features]
            for way in self._ways.get(sentence.id, ()):
                shared = [len(way & cf) for cf in clause_features]
                top = max(shared, default=0)
                if top >= CLAUSE_WAY_SHARED and shared.count(top) == 1:
                    pointed[shared.index(top)] |= way & asked
            found = [frozenset(p) for p in pointed]
            self._clause_asked[sentence.id] = found
        return found

    def context_credit(self, sentence: Sentence) -> Mapping[str, float]:
        """What a sentence's point and part headings explain, and how much."""
        return self._context[sentence.id]

    def features(self, text: str) -> frozenset[str]:
        """Features of a piece of the report, as its sentences' are computed."""
        found = self._features.get(text)
        if found is None:
            found = frozenset(text_features(text, self.glossary, self.synonyms))
            if len(self._features) < _MEMO_LIMIT:
                self._features[text] = found
        return found

    def example_features(self, text: str) -> frozenset[str]:
        """Features of a curated example, as written and in the report's words (examples are
        spelled as meant: no typo correction, no reading of who asks)."""
        norm = normalise(text)
        rewritten = self.glossary.rewrite(norm).text
        feats = text_features(norm, self.glossary, self.synonyms, normalised=True)
        if rewritten != norm:
            feats |= text_features(rewritten, self.glossary, self.synonyms, normalised=True)
        for run in CJK_RUN.findall(rewritten):
            feats.update(cjk_features(run))
        return frozenset(feats)

    def text_features(self, text: str) -> frozenset[str]:
        """Features of any text (an intent's example, say) as a question's would be."""
        found = self._text_features.get(text)
        if found is None:
            found = frozenset(self.query(text).weights)
            if len(self._text_features) < _MEMO_LIMIT:
                self._text_features[text] = found
        return found

    def weight(self, feature: str) -> float:
        return self._idf.get(feature, self.unknown_weight)


def is_number(feature: str) -> bool:
    return bool(_NUMBER.match(feature))
