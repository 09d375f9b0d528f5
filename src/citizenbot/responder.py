"""Decide answered / clarify / fallback for a question and compose the reply.

Transport-free: the reply is a structured value; `plain_text` renders it for terminals and the
batch command, the Telegram module renders the same value as HTML with buttons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from citizenbot.intents import Excerpt, Intent, KnowledgeBase
from citizenbot.matcher import Candidate, Matcher, language_of
from citizenbot.search import ReportSearch

Status = Literal["answered", "clarify", "fallback"]
Kind = Literal["report", "service", "search", "decline", "clarify", "fallback"]

MAX_RELATED = 3
MAX_CLARIFY = 3


@dataclass(frozen=True)
class Thresholds:
    """Named decision thresholds (0-100); see the README for how they were chosen."""

    answer: float = 35.0
    clarify: float = 30.0
    margin: float = 5.0
    search: float = 70.0
    decline: float = 15.0
    strong: float = 50.0


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

    @property
    def sources(self) -> list[str]:
        """Where the answer stands in the report: "<passage id> / <section label>"."""
        seen: list[str] = []
        for e in self.excerpts:
            entry = f"{e.passage_id} / {e.label_en}"
            if entry not in seen:
                seen.append(entry)
        return seen


class Responder:
    """The one core every door (Telegram, terminal, batch) calls."""

    def __init__(self, kb: KnowledgeBase, thresholds: Thresholds | None = None) -> None:
        self.kb = kb
        self.thresholds = thresholds or Thresholds()
        self.matcher = Matcher(kb)
        self.search = ReportSearch(kb.report)
        self._intents = {i.id: i for i in kb.intents}

    def respond(self, question: str, lang: str | None = None) -> Reply:
        """Answer `question`; `lang` is the interface language (default: the question's)."""
        lang = lang or language_of(question)
        t = self.thresholds
        ranked = self.matcher.rank(question)
        if not ranked or ranked[0].score < t.clarify:
            return self._search_or_fallback(question, lang, ranked)
        top = ranked[0]
        intent = self._intents[top.intent_id]
        runner_up = next((c for c in ranked[1:] if c.intent_id != top.intent_id), None)
        clear = runner_up is None or top.score - runner_up.score >= t.margin
        if intent.kind == "decline":
            return self._decline(question, lang, intent, top.score)
        decline = self._competing_decline(question, ranked)
        if decline is not None:
            return self._decline(question, lang, decline, top.score)
        if top.score >= t.answer and clear:
            if top.score < t.strong:
                # A weak intent match loses to a report sentence that covers the question
                # much better: quoting the right sentence beats a curated but wrong answer.
                hit = self._search_hit(question, lang, instead_of=intent)
                if hit is not None:
                    return hit
            return self.answer_intent(intent.id, lang, question=question, score=top.score)
        options = self._options(ranked, lang)
        if not options:
            return self._search_or_fallback(question, lang, ranked)
        if len(options) == 1 and top.score >= t.answer:
            return self.answer_intent(intent.id, lang, question=question, score=top.score)
        return Reply(
            question=question, status="clarify", kind="clarify", language=lang, intent_id=None,
            score=top.score, text=self.kb.text("labels.clarify", lang), options=options,
        )

    def answer_intent(self, intent_id: str, lang: str, question: str = "",
                      score: float = 100.0) -> Reply:
        """The reply for one intent, as if the question had matched it."""
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
            note=self.kb.text("labels.quoted_from", lang), source_label="; ".join(labels),
        )

    def intent(self, intent_id: str) -> Intent | None:
        return self._intents.get(intent_id)

    def _competing_decline(self, question: str, ranked: list[Candidate]) -> Intent | None:
        """An out-of-scope intent that explains a good part of what the top intent cannot."""
        top = ranked[0]
        for c in ranked[1:]:
            intent = self._intents[c.intent_id]
            if intent.kind != "decline" or c.score < self.thresholds.decline:
                continue
            if self.matcher.foreign_share(question, top.intent_id, c.intent_id) >= 0.2:
                return intent
        return None

    def _options(self, ranked: list[Candidate], lang: str) -> tuple[Suggestion, ...]:
        top = ranked[0].score
        options = []
        for c in ranked:
            intent = self._intents[c.intent_id]
            if intent.kind == "decline" or c.score < self.thresholds.clarify:
                continue
            if top - c.score > 2 * self.thresholds.margin:
                break
            options.append(Suggestion(intent.id, intent.title(lang)))
            if len(options) == MAX_CLARIFY:
                break
        return tuple(options)

    def _decline(self, question: str, lang: str, intent: Intent, score: float) -> Reply:
        assert intent.service_key is not None
        return Reply(
            question=question, status="fallback", kind="decline", language=lang, intent_id=None,
            score=score, text=self.kb.text(f"services.{intent.service_key}", lang),
            note=self.kb.text("service_note", lang),
        )

    def _search_hit(self, question: str, lang: str, instead_of: Intent | None = None,
                    ) -> Reply | None:
        hit = self.search.best(question)
        if hit is None or hit.score < self.thresholds.search:
            return None
        if instead_of is not None and any(hit.text in e.text for e in instead_of.excerpts):
            return None
        excerpt = Excerpt(hit.text, hit.passage.id, hit.passage.label_en, hit.passage.label_zh)
        return Reply(
            question=question, status="answered", kind="search", language=lang,
            intent_id=None, score=hit.score, text=hit.text, excerpts=(excerpt,),
            note=self.kb.text("labels.search_result", lang), source_label=excerpt.label(lang),
        )

    def _search_or_fallback(self, question: str, lang: str, ranked: list[Candidate]) -> Reply:
        best = ranked[0].score if ranked else 0.0
        hit = self._search_hit(question, lang)
        if hit is not None:
            return hit
        return Reply(
            question=question, status="fallback", kind="fallback", language=lang, intent_id=None,
            score=best, text=self.kb.text("services.fallback", lang),
            note=self.kb.text("service_note", lang),
        )


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
    if reply.options:
        lines += [f"  {n}. {o.title}" for n, o in enumerate(reply.options, start=1)]
    if reply.source_label:
        lines += ["", f"{kb.text('labels.source', lang)}{colon}{reply.source_label}"]
    if reply.kind == "report":
        lines.append(reply.note)
    if reply.related:
        titles = ("；" if lang == "zh" else "; ").join(r.title for r in reply.related)
        lines.append(f"{kb.text('labels.related', lang)}{colon}{titles}")
    if reply.kind in ("service", "decline", "fallback"):
        lines += ["", reply.note]
    return "\n".join(lines).strip()
