"""The conversation every door holds: the same commands, choices and words in Telegram and in
the terminal chat.

What a reply says (`reply_blocks`) and what can be chosen under it (`reply_rows`: clarify
options, related topics, 👍/👎, browse topics) are built here once, as text blocks and rows of
(label, action). Telegram turns the rows into buttons whose data is the action; the terminal
prints them as numbered choices and runs the action a typed number picks. The actions are the
ones `callback_data` carries, so a choice means the same whichever door it was made in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, TypeAlias

from citizenbot import callback_data as cb
from citizenbot.core.knowledge import Excerpt, KnowledgeBase
from citizenbot.core.report import Report
from citizenbot.core.responder import Reply
from citizenbot.html_text import Block, Span
from citizenbot.texts import declare, fill, plural, plural_key

Rows: TypeAlias = list[list[tuple[str, cb.Action]]]  # choices: (label, what it does)

COMMANDS: Final = ("start", "help", "topics", "about", "lang", "forget", "ask", "mytickets")
TOPIC_AREAS: Final = ("business", "talent", "parks", "plans")
ELLIPSIS: Final = "…"
_MONTHS: Final = ("January", "February", "March", "April", "May", "June", "July", "August",
                  "September", "October", "November", "December")
_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?(?:\s+(.*))?$", re.S)

TEXTS: Final = declare("texts.yml", {
    "services.greeting": (), "services.help": (), "services.bot_info": (), "service_note": (),
    "labels.source": (), **{f"areas.{area}": () for area in TOPIC_AREAS},
}) | declare("texts.chat.yml", {
    "chat.report_title": (), "chat.about": ("title", "date"), "chat.topics": (),
    "chat.area": ("area",), "chat.clarify_one": (), "chat.lang_prompt": (), "chat.lang_set": (),
    "chat.forget_confirm": (), **plural("chat.forget_done", "count"),
    "chat.forget_cancelled": (), "chat.feedback_thanks": (),
    **{f"chat.buttons.{b}": () for b in ("helpful", "not_helpful", "topics", "all_topics",
                                          "forget_yes", "forget_no", "english", "chinese")},
})


@dataclass(frozen=True)
class Command:
    """A command as typed: ``/lang zh`` is Command("lang", "zh")."""

    name: str
    args: str = ""
    to: str | None = None  # the bot it is addressed to (/help@citizen_bot), if any


def command(text: str) -> Command | None:
    """The command ``text`` is, or None for an ordinary message."""
    found = _COMMAND.match(text.strip())
    if found is None:
        return None
    return Command(found.group(1).lower(), (found.group(3) or "").strip(), found.group(2))


# --------------------------------------------------------------------------- words

def colon(lang: str) -> str:
    """The colon after a label: full-width in Chinese (出处：), else ": "."""
    return "：" if lang == "zh" else ": "


def listed(items: list[str], lang: str) -> str:
    """Items in a run of text, with the separator of the language."""
    return ("；" if lang == "zh" else "; ").join(items)


def delivered(report: Report, lang: str) -> str:
    """The day the report was delivered, written as people write dates in ``lang``."""
    if not report.delivered:
        return report.date
    year, month, day = (int(part) for part in report.delivered.split("-"))
    if lang == "zh":
        return f"{year}年{month}月{day}日"
    return f"{day} {_MONTHS[month - 1]} {year}"


def about(kb: KnowledgeBase, lang: str) -> list[str]:
    """/about: which report the answers are quoted from, when it was delivered, who answers."""
    return [fill(kb.text("chat.about", lang), title=kb.text("chat.report_title", lang),
                 date=delivered(kb.report, lang)),
            kb.text("services.bot_info", lang)]


def forget_done(kb: KnowledgeBase, lang: str, count: int) -> str:
    return fill(kb.text(plural_key("chat.forget_done", count), lang), count=count)


def quoted(excerpt: Excerpt) -> str:
    """The excerpt as shown, "…" where it was cut, but never beside the report's own "..."."""
    text = excerpt.text
    if excerpt.cut_before and not text.startswith((ELLIPSIS, "...")):
        text = f"{ELLIPSIS} {text}"
    if excerpt.cut_after and not text.rstrip(".。").endswith(ELLIPSIS) \
            and not text.endswith("..."):
        text = f"{text} {ELLIPSIS}"
    return text


def sources(reply: Reply) -> str:
    """Where the quoted words stand, each place once, separated as the language separates."""
    labels = list(dict.fromkeys(e.label(reply.language) for e in reply.excerpts))
    return listed(labels, reply.language) if labels else reply.source_label


def label(kb: KnowledgeBase, intent_id: str, fallback: str, lang: str) -> str:
    """The short label of a topic for a button or a numbered choice."""
    intent = kb.intent(intent_id)
    return intent.label(lang) if intent is not None else fallback


# --------------------------------------------------------------------------- a reply

def reply_blocks(reply: Reply, kb: KnowledgeBase) -> list[Block]:
    """What the user reads for ``reply``: paragraphs of styled text (quotes as blockquotes)."""
    lang = reply.language
    source = [Span(f"{kb.text('labels.source', lang)}{colon(lang).rstrip()}", "b"),
              Span(("" if lang == "zh" else " ") + sources(reply))]
    blocks: list[Block] = []
    if reply.kind in ("report", "search"):
        if reply.kind == "search":
            blocks.append([Span(reply.note)])
        blocks += [[Span(f"“{quoted(e)}”", "blockquote")] for e in reply.excerpts]
        if reply.caveat:
            blocks.append([Span(reply.caveat, "i")])
        if sources(reply):
            blocks.append(source)
        if reply.kind == "report":
            blocks.append([Span(reply.note, "i")])
        return blocks
    text = reply.text
    if reply.status == "clarify" and len(reply.options) == 1:
        text = kb.text("chat.clarify_one", lang)
    blocks.append([Span(text)])
    # A refusal that quotes the heading a topic would stand under says where it is.
    blocks += [[Span(f"“{quoted(e)}”", "blockquote")] for e in reply.excerpts]
    if reply.excerpts and sources(reply):
        blocks.append(source)
    # Under "did you mean" the way out is the "browse topics" choice itself.
    if reply.note and reply.status != "clarify":
        blocks.append([Span(reply.note, "i")])
    return blocks


def reply_rows(reply: Reply, kb: KnowledgeBase, enquiry_id: int | None) -> Rows:
    """What can be chosen under ``reply``: its clarify options (logged under the question
    that needed them), related topics, 👍/👎 on a quote, and browsing the topics."""
    lang = reply.language
    rows: Rows = [[(label(kb, o.intent_id, o.title, lang),
                    cb.ShowIntent(o.intent_id, enquiry_id, lang))] for o in reply.options]
    rows += [[(label(kb, r.intent_id, r.title, lang), cb.ShowIntent(r.intent_id, None, lang))]
             for r in reply.related]
    if reply.kind in ("report", "search") and enquiry_id is not None:
        rows.append([(kb.text("chat.buttons.helpful", lang), cb.Feedback(enquiry_id, True)),
                     (kb.text("chat.buttons.not_helpful", lang),
                      cb.Feedback(enquiry_id, False))])
    if reply.status != "answered":
        rows.append([(kb.text("chat.buttons.topics", lang), cb.ShowTopics())])
    return rows


# --------------------------------------------------------------------------- lists

def topic_rows(kb: KnowledgeBase, lang: str, replace: bool) -> Rows:
    """One choice per topic area that has intents."""
    areas = kb.by_area()
    return [[(kb.text(f"areas.{area}", lang), cb.ShowArea(area, replace, lang))]
            for area in TOPIC_AREAS if areas.get(area) and kb.has_text(f"areas.{area}")]


def area_title(kb: KnowledgeBase, area: str, lang: str) -> str:
    return fill(kb.text("chat.area", lang), area=kb.text(f"areas.{area}", lang))


def area_rows(kb: KnowledgeBase, area: str, lang: str) -> Rows | None:
    """The topics of one area, then the way back to all areas; None if the area is unknown."""
    intents = kb.by_area().get(area) if area in TOPIC_AREAS else None
    if not intents:
        return None
    rows: Rows = [[(i.label(lang), cb.ShowIntent(i.id, None, lang))] for i in intents]
    rows.append([(kb.text("chat.buttons.all_topics", lang), cb.ShowTopics(replace=True))])
    return rows


def language_rows(kb: KnowledgeBase, lang: str) -> Rows:
    return [[(kb.text("chat.buttons.english", lang), cb.SetLanguage("en")),
             (kb.text("chat.buttons.chinese", lang), cb.SetLanguage("zh"))]]


def forget_rows(kb: KnowledgeBase, lang: str, owner: str) -> Rows:
    return [[(kb.text("chat.buttons.forget_yes", lang), cb.Forget(True, owner)),
             (kb.text("chat.buttons.forget_no", lang), cb.Forget(False, owner))]]
