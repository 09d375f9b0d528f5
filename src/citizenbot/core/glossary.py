"""The report's vocabulary in two languages, and the places it is not about.

`glossary.yml` lists the report's named terms (programmes, parks, strategies, slogans, figures)
and ordinary concepts, each with the report's own English words, Chinese names and English
paraphrases. A question is rewritten into the report's words before it is matched: "fiscal
revenue" becomes "general public budget revenue", 山东新金融产业园 becomes "shandong new
financial industry park". That is how a Chinese question reaches an English sentence.

`places.yml` lists the district itself, the places that contain it (Jinan, Shandong, China) and
other places, in both languages, for the scope check.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache

from citizenbot.core.text import CJK_RUN, STOPWORDS_EN, fold, normalise, stem

# Questions remembered by the phrase finders; bounded, since questions are user input.
MEMO_SIZE = 512
TERM_KINDS = ("programme", "park", "platform", "strategy", "slogan", "figure", "organisation",
              "concept", "period", "place", "theory")


@dataclass(frozen=True)
class Term:
    en: str  # as the report writes it
    zh: tuple[str, ...] = ()
    also: tuple[str, ...] = ()
    kind: str = "concept"

    @cached_property
    def key(self) -> str:
        """The term's words as the matcher sees them."""
        return normalise(self.en)


@dataclass(frozen=True)
class Place:
    names_en: tuple[str, ...]
    names_zh: tuple[str, ...]
    role: str  # "home", "container" or "other"
    # For a container: words that show a passage speaks of it ("city" for Jinan).
    evidence: tuple[str, ...] = ()

    @property
    def name_en(self) -> str:
        return self.names_en[0] if self.names_en else self.names_zh[0]

    def name(self, lang: str) -> str:
        if lang == "zh" and self.names_zh:
            return self.names_zh[0]
        return self.name_en


class PhraseSet:
    """Finds phrases in a normalised text: English as whole words, Chinese as substrings.

    Longest phrase first, so that 产业园区 wins over 产业园 and "industrial park" over "park".
    """

    def __init__(self, phrases: Iterable[str]) -> None:
        en: set[str] = set()
        zh: set[str] = set()
        for phrase in phrases:
            norm = normalise(phrase)
            if not norm:
                continue
            (zh if CJK_RUN.fullmatch(norm.replace(" ", "")) else en).add(norm)
        parts = []
        if en:
            alternatives = "|".join(re.escape(p) for p in sorted(en, key=len, reverse=True))
            parts.append(rf"(?<![a-z0-9])(?:{alternatives})(?![a-z0-9])")
        if zh:
            parts.append("|".join(re.escape(p.replace(" ", ""))
                                  for p in sorted(zh, key=len, reverse=True)))
        self._pattern = re.compile("|".join(parts)) if parts else None
        self._found: dict[str, list[str]] = {}
        # A text with none of the phrases' first words or characters cannot hold one: most
        # questions skip most of the scope rules' word lists at this glance.
        self._firsts = frozenset(p.split(" ")[0] for p in en)
        self._first_chars = frozenset(p[0] for p in zh)

    def __bool__(self) -> bool:
        return self._pattern is not None

    def _may_hold(self, norm: str) -> bool:
        words, chars = _glance(norm)
        return bool(self._firsts & words or self._first_chars & chars)

    def find(self, norm: str) -> list[str]:
        """The phrases present, in order of appearance, without overlaps."""
        if self._pattern is None or not self._may_hold(norm):
            return []
        # The scope rules look for their words in the same question several times.
        found = self._found.get(norm)
        if found is None:
            found = [m.group(0) for m in self._pattern.finditer(norm)]
            if len(self._found) >= MEMO_SIZE:
                self._found.clear()
            self._found[norm] = found
        return list(found)

    def blank(self, norm: str) -> str:
        """The text with every phrase found replaced by a separator."""
        if self._pattern is None:
            return norm
        return self._pattern.sub(" | ", norm)

    def sub(self, norm: str, replace: dict[str, str]) -> str:
        if self._pattern is None:
            return norm
        return self._pattern.sub(lambda m: f" {replace.get(m.group(0), m.group(0))} ", norm)


class ManyPhrases(PhraseSet):
    """A PhraseSet for thousands of phrases (the glossary's names and variants, the places):
    looked up by their first word or character instead of one long alternation, which would
    try every phrase at every position."""

    def __init__(self, phrases: Iterable[str]) -> None:
        super().__init__(())
        self._en: dict[str, list[str]] = {}  # first word -> phrases, longest first
        self._zh: dict[str, list[str]] = {}  # first character -> phrases, longest first
        for phrase in {normalise(p) for p in phrases}:
            if not phrase:
                continue
            if CJK_RUN.fullmatch(phrase.replace(" ", "")):
                flat = phrase.replace(" ", "")
                self._zh.setdefault(flat[0], []).append(flat)
            else:
                self._en.setdefault(phrase.split(" ")[0], []).append(phrase)
        for table in (self._en, self._zh):
            for found in table.values():
                found.sort(key=len, reverse=True)
        self._spans_of: dict[str, list[tuple[int, int]]] = {}

    def __bool__(self) -> bool:
        return bool(self._en or self._zh)

    def _spans(self, norm: str) -> list[tuple[int, int]]:
        """(start, end) of every phrase found, in order, without overlaps."""
        spans = self._spans_of.get(norm)
        if spans is not None:
            return spans
        spans = []
        n = len(norm)
        i = 0
        while i < n:
            match = 0
            ch = norm[i]
            if CJK_RUN.match(ch):
                for phrase in self._zh.get(ch, ()):
                    if norm.startswith(phrase, i):
                        match = len(phrase)
                        break
            elif i == 0 or not norm[i - 1].isascii() or not norm[i - 1].isalnum():
                end = norm.find(" ", i)
                for phrase in self._en.get(norm[i:end if end >= 0 else n], ()):
                    after = i + len(phrase)
                    if norm.startswith(phrase, i) and (
                            after == n or not (norm[after].isascii() and norm[after].isalnum())):
                        match = len(phrase)
                        break
                if not match:  # on to the next word
                    i = end + 1 if end >= 0 else n
                    continue
            if match:
                spans.append((i, i + match))
                i += match
            else:
                i += 1
        if len(self._spans_of) >= MEMO_SIZE:
            self._spans_of.clear()
        self._spans_of[norm] = spans
        return spans

    def find(self, norm: str) -> list[str]:
        return [norm[a:b] for a, b in self._spans(norm)]

    def blank(self, norm: str) -> str:
        return self._replace(norm, lambda said: "|")

    def sub(self, norm: str, replace: dict[str, str]) -> str:
        return self._replace(norm, lambda said: replace.get(said, said))

    def _replace(self, norm: str, by: Callable[[str], str]) -> str:
        out, last = [], 0
        for a, b in self._spans(norm):
            out.append(norm[last:a])
            out.append(f" {by(norm[a:b])} ")
            last = b
        out.append(norm[last:])
        return "".join(out)


@lru_cache(maxsize=MEMO_SIZE)
def _glance(norm: str) -> tuple[frozenset[str], frozenset[str]]:
    """A text's words and characters, for the phrase sets' first look."""
    return frozenset(norm.split()), frozenset(norm)


class StemPhraseSet:
    """Like PhraseSet, but English phrases match whatever the ending of their words:
    "old communities" is found in "old community renovation"."""

    def __init__(self, phrases: Iterable[str]) -> None:
        en: list[str] = []
        zh: list[str] = []
        self._said: dict[str, str] = {}
        for phrase in phrases:
            norm = normalise(phrase)
            if not norm:
                continue
            if CJK_RUN.fullmatch(norm.replace(" ", "")):
                zh.append(norm)
            else:
                stems = _stems(norm)
                en.append(stems)
                self._said.setdefault(stems, norm)
        self._en = PhraseSet(en)
        self._zh = PhraseSet(zh)

    def __bool__(self) -> bool:
        return bool(self._en) or bool(self._zh)

    def find(self, norm: str) -> list[str]:
        """The phrases present (English ones as listed), in order of appearance."""
        found = [self._said.get(p, p) for p in self._en.find(_stems(norm))]
        return found + self._zh.find(norm)


@lru_cache(maxsize=MEMO_SIZE)
def _stems(norm: str) -> str:
    return " ".join(stem(w) if not CJK_RUN.fullmatch(w) else w for w in norm.split())


class Synonyms:
    """synonyms.yml: variants rewritten to their canonical word, longest variant first."""

    def __init__(self, mapping: dict[str, str], cjk: bool) -> None:
        pairs = sorted(((normalise(v), normalise(c)) for v, c in mapping.items()),
                       key=lambda p: -len(p[0]))
        self._pairs = [(v, c) for v, c in pairs if v and v != c]
        # The variants' words are words people use ("nite"), not typos of report words.
        self.words = frozenset(w for v, _ in self._pairs for w in v.split(" "))
        self._lookup = dict(self._pairs)
        # Chinese has no word boundaries: one alternation, longest first. English variants
        # are looked up by their first word, longest first: a thousand variants word by word
        # instead of tried as one long alternation at every position.
        self._pattern = (re.compile("|".join(re.escape(v) for v, _ in self._pairs))
                         if cjk and self._pairs else None)
        self._by_first: dict[str, list[tuple[list[str], str]]] = {}
        if not cjk:
            for v, c in self._pairs:
                words = v.split(" ")
                self._by_first.setdefault(words[0], []).append((words, c))
            for options in self._by_first.values():
                options.sort(key=lambda o: -len(o[0]))
        # One-word variants match whatever their ending ("aiming" as "aim"), unless the word
        # is itself a canonical word or stems like one ("parking" is not "park").
        canonical = {stem(c) for _, c in self._pairs if " " not in c}
        self._by_stem = {} if cjk else {
            stem(v): c for v, c in self._pairs if " " not in v and stem(v) not in canonical}

    def apply(self, text: str) -> str:
        if not self._pairs:
            return text
        if self._pattern is not None:
            return self._pattern.sub(lambda m: self._lookup[m.group(0)], text)
        words = text.split(" ")
        out: list[str] = []
        i = 0
        while i < len(words):
            for variant, canonical in self._by_first.get(words[i], ()):
                if words[i:i + len(variant)] == variant:
                    out.append(canonical)
                    i += len(variant)
                    break
            else:
                w = words[i]
                # A stopword is never another form of a variant: "under" stems like
                # "underlying" but is not it.
                out.append(self._by_stem.get(stem(w), w)
                           if self._by_stem and w.isalpha() and w not in STOPWORDS_EN else w)
                i += 1
        return " ".join(out)


@dataclass(frozen=True)
class Rewritten:
    text: str  # normalised, paraphrases and Chinese terms replaced by the report's words
    terms: tuple[Term, ...]  # glossary terms found, in order


_ARTICLES = frozenset({"the", "a", "an"})


_FIGURE = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten".split())}
_NUMBER_WORD = re.compile(rf"\b(?:{'|'.join(_FIGURE)})\b")


class Glossary:
    """Rewrites questions into the report's words and tells which named terms they use."""

    def __init__(self, terms: Iterable[Term], keep: Iterable[str] = ()) -> None:
        self.terms = tuple(terms)
        self._keep = tuple(keep)
        self._by_key = {t.key: t for t in self.terms}
        # Terms by their first word, for finding every term (overlapping ones too) in one pass.
        self._by_first: dict[str, list[tuple[list[str], Term]]] = {}
        for term in self.terms:
            words = _stems(term.key).split()
            if words:
                self._by_first.setdefault(words[0], []).append((words, term))
        # A term's own words map to themselves, so that a shorter variant of another term
        # cannot eat part of them ("night economy" keeps its "economy").
        self._replace: dict[str, str] = {t.key: t.key for t in self.terms}
        for term in self.terms:
            for variant in (*term.also, *term.zh):
                norm = normalise(variant)
                if CJK_RUN.fullmatch(norm.replace(" ", "")):
                    norm = norm.replace(" ", "")
                self._replace[norm] = term.key
                # People drop articles: "size of economy" is "size of the economy".
                bare = " ".join(w for w in norm.split(" ") if w not in _ARTICLES)
                if bare and bare != norm and " " in bare:
                    self._replace.setdefault(bare, term.key)
                # A list of three says its last item with "and": "primary secondary tertiary"
                # is typed "primary, secondary and tertiary".
                words = norm.split(" ")
                if len(words) >= 3 and not {"and", "or"} & set(words) and norm.isascii():
                    self._replace.setdefault(" ".join([*words[:-1], "and", words[-1]]),
                                             term.key)
        # Counts are typed in figures as often as in words: "3 handlings and 1 returning
        # visit", "5 Jinan", "2 wheel drive".
        for name, key in list(self._replace.items()):
            figures = _NUMBER_WORD.sub(lambda m: _FIGURE[m.group(0)], name)
            if figures != name:
                self._replace.setdefault(figures, key)
        # Chinese place names stay whole: 历城区 (Licheng District) is not 历 and the
        # glossary's 城区 (main urban area). The longest name at a place wins, so 山东新金融
        # 产业园 is still the park, not 山东.
        for name in self._keep:
            self._replace.setdefault(name, name)
        self._variants = ManyPhrases(self._replace)
        self._rewritten: dict[str, Rewritten] = {}
        self._keys = ManyPhrases(self._by_key)
        # Only names of more than one word are masked before places are looked for:
        # "Shandong New Financial Industry Park" is not a question about Shandong.
        self._multiword = ManyPhrases(k for k in self._by_key if " " in k)

    def rewrite(self, norm: str) -> Rewritten:
        """`norm` (from text.normalise) in the report's words, with the terms it names."""
        done = self._rewritten.get(norm)
        if done is None:
            done = self._rewrite(norm)
            if len(self._rewritten) >= MEMO_SIZE:
                self._rewritten.clear()
            self._rewritten[norm] = done
        return done

    def _rewrite(self, norm: str) -> Rewritten:
        text = self._variants.sub(norm, self._replace)
        text = re.sub(r"\s+", " ", text).strip()
        found = [self._by_key[k] for k in self._keys.find(text)]
        return Rewritten(text, tuple(dict.fromkeys(found)))

    def terms_in(self, norm: str) -> tuple[Term, ...]:
        """Every named term in a normalised text, those inside longer ones too ("manufacturing
        industry" in "digital transformation of manufacturing industry")."""
        # Compared by stems: "booming urban constructions" names "urban construction".
        tokens = _stems(norm).split()
        found: dict[str, Term] = {}
        for start, token in enumerate(tokens):
            for words, term in self._by_first.get(token, ()):
                if tokens[start:start + len(words)] == words:
                    found.setdefault(term.key, term)
        return tuple(found.values())

    def mask(self, norm: str, names: PhraseSet | None = None) -> str:
        """The text with multi-word report names blanked out (only those that contain one
        of `names`, if given)."""
        if names is None:
            return self._multiword.blank(norm)
        keys = [k for k in self._multiword.find(norm) if names.find(k)]
        return PhraseSet(keys).blank(norm) if keys else norm


@dataclass(frozen=True)
class PlaceMention:
    place: Place
    said: str  # the words as they stand in the question


class Gazetteer:
    def __init__(self, places: Iterable[Place]) -> None:
        self.places = tuple(places)
        self._by_name: dict[str, Place] = {}
        for place in self.places:
            for name in (*place.names_en, *place.names_zh):
                norm = normalise(name)
                if CJK_RUN.fullmatch(norm.replace(" ", "")):
                    norm = norm.replace(" ", "")
                self._by_name.setdefault(norm, place)
        self._names = ManyPhrases(self._by_name)
        self._home = PhraseSet(n for n, p in self._by_name.items() if p.role == "home")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def chinese_names(self) -> list[str]:
        return [n for n in self._by_name if CJK_RUN.fullmatch(n)]

    def find(self, norm: str) -> list[PlaceMention]:
        """Places named in `norm`; the district's own name is found first, so that
        济南市中区 is Shizhong and not 济南市 followed by 中区."""
        mentions = [PlaceMention(self._by_name[said], said) for said in self._home.find(norm)]
        rest = self._home.blank(norm)
        for said in self._names.find(rest):
            place = self._by_name[said]
            if place.role != "home":
                mentions.append(PlaceMention(place, said))
        return mentions


def mentions_any(norm_text: str, words: Iterable[str]) -> bool:
    """Whether a normalised text contains any of `words` (whole words / Chinese substrings)."""
    return bool(PhraseSet(words).find(norm_text))


def folded_in(text: str, phrase: str) -> bool:
    """Whether `phrase` stands in `text`, case, width and spacing ignored."""
    return normalise(phrase) in normalise(fold(text))


def _strings(value: object) -> list[str] | None:
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value):
        return [v.strip() for v in value]
    return None


def parse_glossary(data: object, report_text: str) -> tuple[Glossary, list[str]]:
    """glossary.yml's data, checked against the report; problems as 'field: message'."""
    problems: list[str] = []
    if not isinstance(data, dict) or not isinstance(data.get("terms"), list):
        return Glossary(()), ["expected 'terms:' with a list of terms"]
    folded_report = normalise(fold(report_text))
    terms: list[Term] = []
    owner: dict[str, str] = {}
    for i, entry in enumerate(data["terms"]):
        where = f"terms[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("en"), str):
            problems.append(f"{where}: expected en: (the report's words), zh: [...], also: [...]")
            continue
        en = entry["en"].strip()
        where = f"terms[{i}] '{en}'"
        for key in sorted(k for k in entry if k not in ("en", "zh", "also", "kind", "__line__")):
            problems.append(f"{where}: unknown key '{key}' (expected en, zh, also, kind)")
        norm = normalise(fold(en))
        if not norm or not re.search(rf"(?<![a-z0-9]){re.escape(norm)}(?![a-z0-9])",
                                     folded_report):
            problems.append(f"{where}.en: not found in the report (write it as the report does)")
        zh = _strings(entry.get("zh"))
        also = _strings(entry.get("also"))
        if zh is None or also is None:
            problems.append(f"{where}: zh and also must be lists of words or phrases")
            continue
        kind = entry.get("kind", "concept")
        if kind not in TERM_KINDS:
            problems.append(f"{where}.kind: expected one of {', '.join(TERM_KINDS)}")
            kind = "concept"
        for variant in (*zh, *also):
            key = normalise(variant)
            if key in owner and owner[key] != norm:
                problems.append(f"{where}: '{variant}' is also listed under '{owner[key]}'")
            owner[key] = norm
        terms.append(Term(en=en, zh=tuple(zh), also=tuple(also), kind=str(kind)))
    return Glossary(terms), problems


PLACE_ROLES = {"home": "home", "containers": "container", "others": "other"}


def parse_places(data: object) -> tuple[Gazetteer, list[str]]:
    """places.yml's data, checked; problems as 'field: message'."""
    problems: list[str] = []
    if not isinstance(data, dict):
        return Gazetteer(()), ["expected home:, containers: and others: lists"]
    places: list[Place] = []
    seen: dict[str, str] = {}
    for section, role in PLACE_ROLES.items():
        entries = data.get(section) or []
        if not isinstance(entries, list):
            problems.append(f"{section}: expected a list of places")
            continue
        for i, entry in enumerate(entries):
            where = f"{section}[{i}]"
            if not isinstance(entry, dict):
                problems.append(f"{where}: expected {{en: [...], zh: [...]}}")
                continue
            en = _strings(entry.get("en"))
            zh = _strings(entry.get("zh"))
            evidence = _strings(entry.get("evidence"))
            if en is None or zh is None or evidence is None or not (en or zh):
                problems.append(f"{where}: en, zh (and evidence) must be lists of names")
                continue
            for name in (*en, *zh):
                key = normalise(name)
                if key in seen:
                    problems.append(f"{where}: '{name}' is also listed in {seen[key]}")
                seen[key] = where
            places.append(Place(tuple(en), tuple(zh), role, tuple(evidence)))
    return Gazetteer(places), problems
