"""Turn what the bot could not answer into candidate intent examples, for staff to review.

Questions that ended in a fallback or a clarification are grouped by similarity, and each
group is matched against the knowledge base to propose the nearest intent. The result is
printed (as text, or as YAML example lines to paste into an intent file); nothing here writes
to the knowledge base: staff decide what becomes an example.

Pure and synchronous: the caller reads the questions from the log.
"""

from __future__ import annotations

import json
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import yaml
from rapidfuzz import fuzz, process

from citizenbot.core.knowledge import KnowledgeBase, example_key
from citizenbot.core.matcher import Matcher
from citizenbot.core.text import STOPCHARS_ZH, STOPWORDS_EN, has_cjk, language_of, normalise, stem

# Two wordings share a group when the mean of their token-set and token-sort similarity
# (0-100) reaches this. Token-set alone calls "park" identical to "digital economy park"
# (one is a subset of the other); the sort ratio pulls such pairs below the bar while
# keeping reorderings ("register company online" / "online company registration") together.
SIMILARITY = 70.0
# Below this nearest-intent score a group is listed as "no close intent": pasting it under
# whatever intent happened to score highest would teach the matcher nonsense.
MIN_PROPOSAL_SCORE = 15.0
# Wordings of a group ranked against the knowledge base, and listed as examples.
MAX_WORDINGS = 10
NO_INTENT = "_no_close_intent"


@dataclass(frozen=True)
class QuestionGroup:
    """Questions close enough to be one topic."""

    wordings: tuple[tuple[str, int], ...]  # (question as asked, times asked), most asked first
    statuses: dict[str, int]  # "clarify" / "fallback" -> count
    last_ts: str  # ISO time the group was last asked

    @property
    def count(self) -> int:
        return sum(n for _, n in self.wordings)

    @property
    def representative(self) -> str:
        return self.wordings[0][0]


@dataclass(frozen=True)
class Proposal:
    """A group with the intent nearest to it; intent_id None when no intent came close."""

    group: QuestionGroup
    intent_id: str | None
    score: float  # 0-100, the mean score of the nearest intent over the group's questions


def similarity_key(text: str) -> str:
    """What grouping compares: normalised words stemmed, Chinese as characters, no stopwords."""
    parts: list[str] = []
    norm = normalise(text)
    for token in norm.split(" "):
        if not token:
            continue
        if has_cjk(token):
            parts.extend(c for c in token if c not in STOPCHARS_ZH)
        elif token not in STOPWORDS_EN:
            parts.append(stem(token))
    # A question of stopwords only ("what is it?") still groups with its exact repeats.
    return " ".join(parts) or norm


def similarity(a: str, b: str) -> float:
    """0-100 similarity of two similarity keys (see SIMILARITY for why this blend)."""
    return (fuzz.token_set_ratio(a, b) + fuzz.token_sort_ratio(a, b)) / 2


def clean_wording(text: str) -> str:
    """The question on one line: control characters dropped, whitespace collapsed."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = "".join(c if unicodedata.category(c) != "Cc" else " " for c in text)
    return " ".join(text.split())


def group_questions(asked: Iterable[tuple[str, str, str]],
                    threshold: float = SIMILARITY) -> list[QuestionGroup]:
    """Group (ts, status, question) rows by similarity; biggest group first.

    Identical questions (ignoring case, punctuation and spacing) count as one wording asked
    several times, shown as it was typed last. Each wording joins the group whose first (most
    asked) wording is most similar to it, if that similarity reaches ``threshold``; otherwise
    it starts a group.
    """
    wordings: dict[str, _Wording] = {}
    for ts, status, question in asked:
        text = clean_wording(question)
        if not text:
            continue
        key = example_key(text) or text
        w = wordings.get(key)
        if w is None:
            w = wordings[key] = _Wording(text, similarity_key(text))
        w.count += 1
        w.statuses[status] += 1
        if ts >= w.last_ts:
            # Shown as it was typed most recently.
            w.text, w.last_ts = text, ts

    # Most asked first, so that each group is anchored on its commonest wording.
    ordered = sorted(wordings.values(), key=lambda w: (-w.count, w.text))
    anchors: list[str] = []
    members: list[list[_Wording]] = []
    for w in ordered:
        # token_set_ratio is (all but) never below the blend: a safe, fast prefilter.
        near = process.extract(w.key, anchors, scorer=fuzz.token_set_ratio,
                               score_cutoff=threshold, limit=20)
        # Most similar anchor wins; on a tie, the older (bigger) group.
        best = max(((similarity(w.key, anchors[i]), -i) for _, _, i in near), default=None)
        if best is None or best[0] < threshold:
            anchors.append(w.key)
            members.append([w])
        else:
            members[-best[1]].append(w)

    groups = []
    for group in members:
        statuses: dict[str, int] = defaultdict(int)
        for w in group:
            for status, n in w.statuses.items():
                statuses[status] += n
        groups.append(QuestionGroup(
            wordings=tuple((w.text, w.count) for w in group),
            statuses=dict(sorted(statuses.items())),
            last_ts=max(w.last_ts for w in group),
        ))
    groups.sort(key=lambda g: (-g.count, g.representative))
    return groups


class _Wording:
    def __init__(self, text: str, key: str) -> None:
        self.text = text
        self.key = key
        self.count = 0
        self.statuses: dict[str, int] = defaultdict(int)
        self.last_ts = ""


def propose(groups: Iterable[QuestionGroup], matcher: Matcher,
            min_score: float = MIN_PROPOSAL_SCORE) -> list[Proposal]:
    """The nearest intent for each group: the one with the best mean score over its wordings."""
    proposals = []
    for group in groups:
        totals: dict[str, float] = defaultdict(float)
        weight = 0
        for wording, n in group.wordings[:MAX_WORDINGS]:
            weight += n
            for candidate in matcher.rank(wording, limit=3):
                totals[candidate.intent_id] += candidate.score * n
        if not totals:
            proposals.append(Proposal(group, None, 0.0))
            continue
        intent_id, total = min(totals.items(), key=lambda item: (-item[1], item[0]))
        score = round(total / weight, 1)
        proposals.append(Proposal(group, intent_id if score >= min_score else None, score))
    return proposals


def _statuses(group: QuestionGroup) -> str:
    return ", ".join(f"{status} {n}" for status, n in group.statuses.items())


def render_text(proposals: Sequence[Proposal], kb: KnowledgeBase, heading: str) -> str:
    """A plain-text list of the groups, biggest first, each with its nearest intent."""
    lines = [heading, ""]
    if not proposals:
        lines.append("Nothing to suggest: no unanswered or clarify questions in this period.")
        return "\n".join(lines) + "\n"
    for number, p in enumerate(proposals, start=1):
        g = p.group
        lines.append(f"{number:>3}. {g.count}× {g.representative}")
        lines.append(f"     {_statuses(g)}; last asked {g.last_ts[:10]}")
        intent = kb.intent(p.intent_id) if p.intent_id else None
        if intent is not None:
            lines.append(f"     nearest intent: {intent.id} ({intent.title_en}, "
                         f"{intent.source_file}), score {p.score:.1f}")
        else:
            lines.append(f"     no close intent (best score {p.score:.1f}): "
                         "a new intent, or out of scope?")
        for wording, n in g.wordings[1:MAX_WORDINGS]:
            lines.append(f"       - {wording}" + (f"  ({n}×)" if n > 1 else ""))
        if len(g.wordings) > MAX_WORDINGS:
            lines.append(f"       … and {len(g.wordings) - MAX_WORDINGS} more wordings")
        lines.append("")
    lines.append("`citizenbot suggest --yaml` prints these as example lines for intent files.")
    return "\n".join(lines) + "\n"


def yaml_scalar(text: str) -> str:
    """``text`` as a one-line YAML scalar: plain when that reads back unchanged, else quoted."""
    try:
        plain = yaml.safe_load(text) == text
    except yaml.YAMLError:
        plain = False
    if plain and text == text.strip() and text[:1] not in "#'\"&*!|>%@`-?:[]{},":
        return text
    # JSON strings are valid YAML double-quoted scalars.
    return json.dumps(text, ensure_ascii=False)


def render_yaml(proposals: Sequence[Proposal], kb: KnowledgeBase, heading: str) -> str:
    """The groups as YAML: intent id -> en/zh lists of example lines, with comments.

    Wordings that already are an example of some intent are left out (the knowledge base
    forbids duplicates), and so is every repeat of a wording within the output.
    """
    existing = {example_key(e) for intent in kb.intents for e in intent.examples}
    emitted: set[str] = set()
    # intent key -> lang -> list of lines (comments and items)
    by_intent: dict[str, dict[str, list[str]]] = {}
    order: list[str] = []
    skipped = 0
    for p in sorted(proposals, key=lambda p: (p.intent_id is None, p.intent_id or "")):
        key = p.intent_id or NO_INTENT
        if key not in by_intent:
            by_intent[key] = {"en": [], "zh": []}
            order.append(key)
        items: dict[str, list[str]] = {"en": [], "zh": []}
        for wording, _ in p.group.wordings[:MAX_WORDINGS]:
            k = example_key(wording)
            if not k or k in existing or k in emitted:
                skipped += k in existing
                continue
            emitted.add(k)
            items[language_of(wording)].append(f"- {yaml_scalar(wording)}")
        for lang, lines in items.items():
            if lines:
                by_intent[key][lang] += [
                    f"# asked {p.group.count}× ({_statuses(p.group)}), score {p.score:.1f}",
                    *lines,
                ]

    out = [f"# {line}" if line else "#" for line in heading.splitlines()]
    out += [
        "# Review every line before pasting it under the intent's `examples:` (en or zh)",
        "# in the file named; then run `citizenbot validate`. Nothing was written to intents/.",
    ]
    if skipped:
        out.append(f"# {skipped} wording(s) left out: already an example of some intent.")
    if not any(any(langs.values()) for langs in by_intent.values()):
        out.append("{}  # nothing to suggest")
        return "\n".join(out) + "\n"
    for key in order:
        langs = by_intent[key]
        if not any(langs.values()):
            continue
        intent = kb.intent(key)
        out.append(f"{key}:")
        if intent is not None:
            out.append(f"  # {intent.title_en} — {intent.source_file}")
        else:
            out.append(f"  # No intent scored {MIN_PROPOSAL_SCORE:g} or more: a new intent, "
                       "or out of scope?")
        for lang in ("en", "zh"):
            if langs[lang]:
                out.append(f"  {lang}:")
                out += [f"    {line}" for line in langs[lang]]
    return "\n".join(out) + "\n"
