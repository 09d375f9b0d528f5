"""The knowledge base: intents, interface texts and synonyms from YAML, checked against the report.

Everything is validated at load time and every problem is reported at once, each naming the
file (and line), the intent and the field, so that a member of staff editing YAML can fix all of
them in one pass. A knowledge base with problems is never used.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from citizenbot.core.followup import FollowUpRules, parse_followups
from citizenbot.core.glossary import Gazetteer, Glossary, parse_glossary, parse_places
from citizenbot.core.outline import Lists, parse_lists
from citizenbot.core.report import Report, ReportError, load_report
from citizenbot.core.scope import ScopeRules, parse_scope
from citizenbot.core.text import normalise, stem

AREAS = ("business", "talent", "parks", "plans", "smalltalk", "out_of_scope")
LANGS = ("en", "zh")
MAX_EXCERPT_CHARS = 700
# A button label must fit a phone's width: the title is used when it fits, else a label is due.
MAX_LABEL = {"en": 32, "zh": 16}
SPECIAL_FILES = ("synonyms.yml", "everyday.yml", "glossary.yml", "places.yml", "scope.yml",
                 "followups.yml", "lists.yml", "asked.yml")
REQUIRED_TEXTS = (
    "service_note",
    "labels.source",
    "labels.related",
    "labels.clarify",
    "labels.search_result",
    "labels.quoted_from",
    "labels.clarify_none",
    "labels.abridged",
    "labels.list",
    "labels.language_switched",
    "services.fallback",
    "refusals.other_place",
    "refusals.other_year",
    "refusals.outcome",
    "refusals.personal",
    "refusals.practical_detail",
    "refusals.no_figure",
    "refusals.no_more",
    "refusals.no_previous",
    "refusals.no_choice",
    "refusals.abridged",
    "refusals.general",
    "refusals.other_language",
)

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_FILE_KEYS = {"area", "intents"}
_INTENT_KEYS = {"id", "title", "label", "examples", "answer", "related"}
_ANSWER_KEYS = {"quote", "passage", "service", "decline"}
_LINE_KEY = "__line__"

AnswerKind = Literal["report", "service", "decline"]


@dataclass(frozen=True)
class Problem:
    file: str
    message: str
    line: int | None = None
    intent: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        parts = [where]
        if self.intent:
            parts.append(f"intent '{self.intent}'")
        if self.field:
            parts.append(self.field)
        return ", ".join(parts) + f": {self.message}"


class KnowledgeBaseError(Exception):
    """The knowledge base cannot be used; `problems` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"the knowledge base has {len(problems)} problem(s):\n{lines}")


@dataclass(frozen=True)
class Excerpt:
    """A verbatim piece of the report and where it stands."""

    text: str
    passage_id: str
    label_en: str
    label_zh: str
    cut_before: bool = False  # the quote starts mid-sentence
    cut_after: bool = False  # ... or stops before the sentence ends

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en

    @property
    def quoted(self) -> str:
        """The text as shown, with "…" where the sentence was cut."""
        return ("… " if self.cut_before else "") + self.text + (" …" if self.cut_after else "")


@dataclass(frozen=True)
class Intent:
    id: str
    area: str
    title_en: str
    title_zh: str
    examples_en: tuple[str, ...]
    examples_zh: tuple[str, ...]
    kind: AnswerKind
    excerpts: tuple[Excerpt, ...] = ()
    service_key: str | None = None
    related: tuple[str, ...] = ()
    source_file: str = ""
    label_en: str = ""
    label_zh: str = ""

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en

    def label(self, lang: str) -> str:
        """The short name on a button: the label, or the title when it is short enough."""
        return (self.label_zh if lang == "zh" else self.label_en) or self.title(lang)

    @property
    def examples(self) -> tuple[str, ...]:
        return self.examples_en + self.examples_zh


@dataclass(frozen=True)
class KnowledgeBase:
    directory: Path
    report: Report
    intents: tuple[Intent, ...]
    texts: dict[str, dict[str, str]]
    synonyms: dict[str, dict[str, str]] = field(default_factory=dict)
    glossary: Glossary = field(default_factory=lambda: Glossary(()))
    gazetteer: Gazetteer = field(default_factory=lambda: Gazetteer(()))
    scope: ScopeRules = field(default_factory=ScopeRules)
    followups: FollowUpRules = field(default_factory=lambda: FollowUpRules({}))
    lists: Lists = field(default_factory=Lists)
    # How people ask for each report sentence, in their own words (asked.yml): sentence id ->
    # questions. Search vocabulary only; answers stay the report's words.
    asked: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def intent(self, intent_id: str) -> Intent | None:
        for intent in self.intents:
            if intent.id == intent_id:
                return intent
        return None

    def text(self, key: str, lang: str) -> str:
        entry = self.texts.get(key)
        if entry is None:
            raise KeyError(f"no interface text '{key}' in texts.yml")
        return entry.get(lang) or entry["en"]

    def has_text(self, key: str) -> bool:
        return key in self.texts

    def by_area(self) -> dict[str, list[Intent]]:
        areas: dict[str, list[Intent]] = {}
        for intent in self.intents:
            areas.setdefault(intent.area, []).append(intent)
        return areas


def default_directory() -> Path:
    """The knowledge base shipped with the package (or the source checkout's `intents/`)."""
    packaged = Path(str(resources.files("citizenbot"))) / "_kb"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "intents"


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line of every mapping, for error messages."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping[_LINE_KEY] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(path: Path, problems: list[Problem]) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(path.name,
                                f"cannot read the file ({exc.__class__.__name__}: {exc})"))
        return None
    try:
        return yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass: no code runs
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or str(exc)
        problems.append(Problem(path.name, f"not valid YAML: {what}", line=line))
    except yaml.YAMLError as exc:
        problems.append(Problem(path.name, f"not valid YAML: {exc}"))
    return None


def _strip_lines(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_lines(v) for k, v in value.items() if k != _LINE_KEY}
    if isinstance(value, list):
        return [_strip_lines(v) for v in value]
    return value


def example_key(text: str) -> str:
    """How examples are compared for duplicates: case, punctuation and spacing ignored."""
    return re.sub(r"[\W_]+", "", text.casefold())


def _flatten_texts(data: Any, prefix: str, out: dict[str, dict[str, str]], file: str,
                   problems: list[Problem]) -> None:
    if not isinstance(data, dict):
        problems.append(Problem(file, "expected a mapping", field=prefix or None))
        return
    line = data.get(_LINE_KEY)
    keys = {k for k in data if k != _LINE_KEY}
    if keys and keys <= set(LANGS) | {"en", "zh"} and prefix:
        entry: dict[str, str] = {}
        for lang in LANGS:
            value = data.get(lang)
            if not isinstance(value, str) or not value.strip():
                problems.append(Problem(file, f"needs a non-empty '{lang}' text", line=line,
                                        field=prefix))
            else:
                entry[lang] = value.strip()
        out[prefix] = entry
        return
    for key in keys:
        _flatten_texts(data[key], f"{prefix}.{key}" if prefix else str(key), out, file, problems)


def _load_texts(directory: Path, problems: list[Problem]) -> dict[str, dict[str, str]]:
    """All `texts*.yml` files (texts.yml, texts.telegram.yml, ...) merged; keys must not repeat."""
    paths = sorted(directory.glob("texts*.yml"))
    if not any(p.name == "texts.yml" for p in paths):
        problems.append(Problem("texts.yml", "missing: the interface texts live here"))
        return {}
    texts: dict[str, dict[str, str]] = {}
    for path in paths:
        data = _read_yaml(path, problems)
        if data is None:
            continue
        found: dict[str, dict[str, str]] = {}
        _flatten_texts(data, "", found, path.name, problems)
        for key in sorted(found.keys() & texts.keys()):
            problems.append(Problem(path.name, "defined in another texts file too", field=key))
        texts.update(found)
    for key in REQUIRED_TEXTS:
        if key not in texts:
            problems.append(Problem("texts.yml", "missing required text", field=key))
    return texts


def _load_synonyms(directory: Path, problems: list[Problem],
                   report_text: str = "") -> dict[str, dict[str, str]]:
    """Variant -> canonical word, per language: synonyms.yml, then everyday.yml's everyday
    English for the report's words where synonyms.yml does not already list the variant.
    An everyday key must be the report's word (in some form), and a variant must not be: it
    would merge two of the report's own words."""
    result = _load_word_map(directory / "synonyms.yml", problems)
    everyday = _load_word_map(directory / "everyday.yml", problems)
    report_words = set(normalise(report_text).split())
    report_stems = {stem(w) for w in report_words}
    for lang, mapping in everyday.items():
        for variant, canonical in mapping.items():
            typed = normalise(variant)
            if report_text and not all(stem(w) in report_stems
                                       for w in normalise(canonical).split()):
                problems.append(Problem("everyday.yml", "not a word of the report",
                                        field=f"{lang}.{canonical}"))
            elif report_text and typed in report_words:
                problems.append(Problem("everyday.yml", f"'{variant}' is itself a word of "
                                        "the report", field=f"{lang}.{canonical}"))
            elif report_text and " " not in typed and stem(typed) in report_stems and [
                    stem(typed)] != [stem(w) for w in normalise(canonical).split()]:
                # Variants are also matched by their stem: "openness" would read the report's
                # "open" (and every "opened") as "opening-up".
                problems.append(Problem("everyday.yml", f"'{variant}' is a form of a word of "
                                        "the report", field=f"{lang}.{canonical}"))
            else:
                result[lang].setdefault(variant, canonical)
    return result


def _load_word_map(path: Path, problems: list[Problem]) -> dict[str, dict[str, str]]:
    result: dict[str, dict[str, str]] = {lang: {} for lang in LANGS}
    if not path.is_file():
        return result
    data = _strip_lines(_read_yaml(path, problems))
    if data is None:
        return result
    if not isinstance(data, dict):
        problems.append(Problem(path.name, "expected a mapping of en/zh word lists"))
        return result
    for lang, groups in data.items():
        if lang not in LANGS:
            problems.append(Problem(path.name, f"unknown key '{lang}' (expected en, zh)"))
            continue
        if not isinstance(groups, dict):
            problems.append(Problem(path.name, "expected canonical: [variants]", field=lang))
            continue
        for canonical, variants in groups.items():
            if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
                problems.append(Problem(path.name, "expected a list of words",
                                        field=f"{lang}.{canonical}"))
                continue
            for variant in variants:
                result[lang][variant.casefold().strip()] = str(canonical).casefold().strip()
    return result


def _whole_sentence_run(report: Report, quote: str) -> tuple[str, str] | None:
    """(passage id, problem) when `quote` is verbatim; problem is '' if it is whole sentences."""
    passage = report.locate(quote)
    if passage is None:
        return None
    texts = [s.text for s in passage.sentences]
    for start, sentence in enumerate(texts):
        if not quote.startswith(sentence[: min(len(sentence), 20)]):
            continue
        joined = ""
        for end in range(start, len(texts)):
            joined = texts[end] if end == start else f"{joined} {texts[end]}"
            if joined == quote:
                return passage.id, ""
            if len(joined) >= len(quote):
                break
    return passage.id, "must be whole sentences of the report (it starts or ends mid-sentence)"


def _check_answer(answer: Any, report: Report, texts: dict[str, dict[str, str]], file: str,
                  line: int | None, intent_id: str,
                  problems: list[Problem]) -> tuple[AnswerKind, tuple[Excerpt, ...], str | None]:
    def problem(message: str, where: str = "answer") -> None:
        problems.append(Problem(file, message, line=line, intent=intent_id, field=where))

    if not isinstance(answer, dict):
        problem("expected one of quote, passage, service or decline")
        return "report", (), None
    keys = {k for k in answer if k != _LINE_KEY}
    for unknown in sorted(keys - _ANSWER_KEYS):
        problem(f"unknown key '{unknown}' (expected one of {', '.join(sorted(_ANSWER_KEYS))})",
                f"answer.{unknown}")
    chosen = sorted(keys & _ANSWER_KEYS)
    if len(chosen) != 1:
        problem("needs exactly one of quote, passage, service or decline")
        return "report", (), None
    kind_key = chosen[0]
    value = answer[kind_key]
    if kind_key in ("service", "decline"):
        if not isinstance(value, str) or f"services.{value}" not in texts:
            problem(f"no service text '{value}' in texts.yml (under services)",
                    f"answer.{kind_key}")
        return ("service" if kind_key == "service" else "decline"), (), str(value)
    excerpts: list[Excerpt] = []
    if kind_key == "passage":
        passage = report.passage(str(value))
        if passage is None:
            problem(f"no passage '{value}' in the report", "answer.passage")
            return "report", (), None
        excerpts.append(Excerpt(passage.text, passage.id, passage.label_en, passage.label_zh))
    else:
        quotes = value if isinstance(value, list) else [value]
        for i, quote in enumerate(quotes):
            where = f"answer.quote[{i}]" if isinstance(value, list) else "answer.quote"
            if not isinstance(quote, str) or not quote.strip():
                problem("expected text quoted from the report", where)
                continue
            quote = re.sub(r"\s+", " ", quote).strip()
            found = _whole_sentence_run(report, quote)
            if found is None:
                problem(f"not found word for word in the report: \"{quote[:80]}\"", where)
                continue
            passage_id, issue = found
            if issue:
                problem(issue, where)
                continue
            p = report.passage(passage_id)
            assert p is not None
            excerpts.append(Excerpt(quote, p.id, p.label_en, p.label_zh))
    total = sum(len(e.text) for e in excerpts) + max(0, len(excerpts) - 1)
    if total > MAX_EXCERPT_CHARS:
        problem(f"the excerpt is {total} characters; keep it under {MAX_EXCERPT_CHARS} "
                "(quote fewer sentences)")
    return "report", tuple(excerpts), None


def _check_label(label: Any, titles: dict[str, str],
                 problem: Callable[[str, str], None]) -> dict[str, str]:
    """The intent's short button labels; one is required where the title is too long."""
    labels: dict[str, str] = {}
    if label is not None and not isinstance(label, dict):
        problem("expected en: and zh: button labels", "label")
        return labels
    for lang in LANGS:
        value = label.get(lang) if isinstance(label, dict) else None
        limit = MAX_LABEL[lang]
        if value is None:
            if len(titles.get(lang, "")) > limit:
                problem(f"needs a '{lang}' label of at most {limit} characters for buttons "
                        f"(the title has {len(titles[lang])})", f"label.{lang}")
        elif not isinstance(value, str) or not value.strip():
            problem(f"needs a non-empty '{lang}' label", f"label.{lang}")
        elif len(value.strip()) > limit:
            problem(f"the label has {len(value.strip())} characters; at most {limit} fit a "
                    "button on a phone", f"label.{lang}")
        else:
            labels[lang] = value.strip()
    return labels


def _str_list(value: Any) -> list[str] | None:
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value]
    return None


def parse_asked(data: object, report: Report) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """asked.yml: `<sentence id>: {en: [questions], zh: [questions]}`."""
    problems: list[str] = []
    if not isinstance(data, dict):
        return {}, ["expected a mapping of report sentence ids to {en: [...], zh: [...]}"]
    known = {s.id for p in report.passages for s in p.sentences}
    asked: dict[str, tuple[str, ...]] = {}
    for key, value in data.items():
        if key == _LINE_KEY:
            continue
        if key not in known:
            problems.append(f"'{key}' is not a sentence of the report (ids such as I.1.s15: "
                            "part, paragraph, sentence)")
            continue
        if not isinstance(value, dict):
            problems.append(f"{key}: expected en: [...] and zh: [...]")
            continue
        questions: list[str] = []
        for lang in sorted(k for k in value if k != _LINE_KEY):
            values = _str_list(value.get(lang)) if lang in LANGS else None
            if values is None:
                problems.append(f"{key}.{lang}: expected a list of questions under en or zh")
                continue
            questions += [v for v in values if v]
        asked[key] = tuple(questions)
    return asked, problems


def load_knowledge_base(
    directory: Path | None = None, *,
    check_texts: Callable[[dict[str, dict[str, str]]], list[Problem]] | None = None,
) -> KnowledgeBase:
    """Load and validate the knowledge base in `directory` (default: the shipped one).

    `check_texts` adds the problems of the interface texts the doors use (texts.TextSchema).
    Raises KnowledgeBaseError listing every problem found.
    """
    directory = directory or default_directory()
    problems: list[Problem] = []
    if not directory.is_dir():
        raise KnowledgeBaseError(
            [Problem(str(directory), "the knowledge-base directory does not exist")])

    report_path = directory / "report.txt"
    if not report_path.is_file():
        report_path = default_directory() / "report.txt"
    try:
        report = load_report(report_path)
    except ReportError as exc:
        raise KnowledgeBaseError([Problem("report.txt", str(exc))]) from None

    texts = _load_texts(directory, problems)
    if check_texts is not None:
        problems += check_texts(texts)
    report_text = "\n".join([h for _, h in report.part_headings]
                            + [p.text for p in report.passages])
    synonyms = _load_synonyms(directory, problems, report_text)
    glossary = Glossary(())
    gazetteer = Gazetteer(())
    scope = ScopeRules()
    followups = FollowUpRules({})
    lists = Lists()
    asked: dict[str, tuple[str, ...]] = {}
    for name in ("glossary.yml", "places.yml", "scope.yml", "followups.yml", "lists.yml",
                 "asked.yml"):
        path = directory / name
        if not path.is_file():
            continue  # optional: without it the bot is only less capable
        data = _strip_lines(_read_yaml(path, problems))
        if data is None:
            continue
        if name == "glossary.yml":
            glossary, found = parse_glossary(data, report_text)
        elif name == "places.yml":
            gazetteer, found = parse_places(data)
        elif name == "followups.yml":
            followups, found = parse_followups(data)
        elif name == "lists.yml":
            lists, found = parse_lists(data, report)
        elif name == "asked.yml":
            asked, found = parse_asked(data, report)
        else:
            scope, found = parse_scope(data, report)
        problems.extend(Problem(name, message) for message in found)

    glossary = Glossary(glossary.terms, keep=gazetteer.chinese_names())

    files = sorted(p for p in directory.glob("*.y*ml")
                   if p.name not in SPECIAL_FILES and not p.name.startswith("texts"))
    if not files:
        problems.append(Problem(str(directory), "no intent files (*.yml) found"))

    intents: list[Intent] = []
    seen_ids: dict[str, str] = {}
    seen_examples: dict[str, tuple[str, str]] = {}
    pending_related: list[tuple[str, int | None, str, list[str]]] = []

    for path in files:
        data = _read_yaml(path, problems)
        if data is None:
            continue
        file = path.name
        if not isinstance(data, dict):
            problems.append(Problem(file, "expected a mapping with 'area' and 'intents'"))
            continue
        for unknown in sorted(k for k in data if k not in _FILE_KEYS and k != _LINE_KEY):
            problems.append(Problem(file, f"unknown key '{unknown}' (expected area, intents)"))
        area = data.get("area")
        if area not in AREAS:
            problems.append(Problem(file, f"'area' must be one of {', '.join(AREAS)}",
                                    field="area"))
            area = "plans"
        entries = data.get("intents")
        if not isinstance(entries, list):
            problems.append(Problem(file, "'intents' must be a list of intents", field="intents"))
            continue
        for entry in entries:
            if not isinstance(entry, dict):
                problems.append(Problem(file, "each intent must be a mapping"))
                continue
            line = entry.get(_LINE_KEY)
            raw_id = entry.get("id")
            intent_id = str(raw_id) if raw_id is not None else "?"

            def problem(message: str, where: str | None = None, _line: int | None = line,
                        _id: str = intent_id, _file: str = file) -> None:
                problems.append(Problem(_file, message, line=_line, intent=_id, field=where))

            for unknown in sorted(k for k in entry if k not in _INTENT_KEYS and k != _LINE_KEY):
                problem(f"unknown key '{unknown}' (expected {', '.join(sorted(_INTENT_KEYS))})",
                        unknown)
            if not isinstance(raw_id, str) or not _ID.match(raw_id):
                problem("needs an id in kebab-case, e.g. one-stop-service", "id")
            elif raw_id in seen_ids:
                problem(f"duplicate id (also in {seen_ids[raw_id]})", "id")
            else:
                seen_ids[raw_id] = file

            title = entry.get("title")
            titles = {}
            for lang in LANGS:
                value = title.get(lang) if isinstance(title, dict) else None
                if not isinstance(value, str) or not value.strip():
                    problem(f"needs a non-empty '{lang}' title", f"title.{lang}")
                else:
                    titles[lang] = value.strip()

            labels = _check_label(entry.get("label"), titles, problem)

            examples = entry.get("examples")
            per_lang: dict[str, list[str]] = {}
            if not isinstance(examples, dict):
                problem("has no examples (expected en: [...] and zh: [...])", "examples")
            else:
                for unknown in sorted(k for k in examples if k not in LANGS and k != _LINE_KEY):
                    problem(f"unknown language '{unknown}' (expected en, zh)",
                            f"examples.{unknown}")
                for lang in LANGS:
                    values = _str_list(examples.get(lang))
                    if values is None:
                        problem("expected a list of questions", f"examples.{lang}")
                        values = []
                    per_lang[lang] = [v for v in values if v]
                if not any(per_lang.values()):
                    problem("has no examples", "examples")
                for lang, values in per_lang.items():
                    for example in values:
                        key = example_key(example)
                        if not key:
                            continue
                        other = seen_examples.get(key)
                        if other and other[0] != intent_id:
                            problem(f"the example \"{example}\" is also under intent "
                                    f"'{other[0]}' ({other[1]})", f"examples.{lang}")
                        else:
                            seen_examples[key] = (intent_id, file)

            kind, excerpts, service_key = _check_answer(entry.get("answer"), report, texts, file,
                                                        line, intent_id, problems)
            related = _str_list(entry.get("related"))
            if related is None:
                problem("expected a list of intent ids", "related")
                related = []
            pending_related.append((file, line, intent_id, related))
            intents.append(Intent(
                id=intent_id,
                area=str(area),
                title_en=titles.get("en", intent_id),
                title_zh=titles.get("zh", intent_id),
                examples_en=tuple(per_lang.get("en", ())),
                examples_zh=tuple(per_lang.get("zh", ())),
                kind=kind,
                excerpts=excerpts,
                service_key=service_key,
                related=tuple(related),
                source_file=file,
                label_en=labels.get("en", ""),
                label_zh=labels.get("zh", ""),
            ))

    for file, line, intent_id, related in pending_related:
        for target in related:
            if target == intent_id:
                problems.append(Problem(file, "an intent cannot be related to itself", line=line,
                                        intent=intent_id, field="related"))
            elif target not in seen_ids:
                problems.append(Problem(file, f"no intent '{target}' to relate to", line=line,
                                        intent=intent_id, field="related"))

    for area in {i.area for i in intents} - {"out_of_scope"}:
        if f"areas.{area}" not in texts and texts:
            problems.append(Problem("texts.yml", "missing the area's title", field=f"areas.{area}"))

    if problems:
        raise KnowledgeBaseError(problems)
    return KnowledgeBase(directory=directory, report=report, intents=tuple(intents), texts=texts,
                         synonyms=synonyms, glossary=glossary, gazetteer=gazetteer, scope=scope,
                         followups=followups, lists=lists, asked=asked)
