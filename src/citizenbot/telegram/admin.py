"""Staff commands in Telegram: /stats, /unanswered, /reload; and the reply to unknown commands.

Only the numeric user ids in ADMIN_IDS may use the staff commands, and only in a private chat
with the bot (their replies quote what citizens asked, which must not land in a group). Anyone
else gets exactly the reply an unknown command gets, so the commands do not reveal themselves.
`/reload` (and SIGHUP, wired in app) re-reads and re-validates the knowledge base, texts
included; on any problem the bot keeps serving the one it has.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from citizenbot.assemble import load_responder
from citizenbot.config import Settings
from citizenbot.core.knowledge import KnowledgeBaseError
from citizenbot.core.responder import Responder
from citizenbot.html_text import Block, Span, split_html
from citizenbot.model import Overview
from citizenbot.staff.suggest import QuestionGroup, group_questions
from citizenbot.telegram.common import (
    FEATURE_GROUP,
    UNKNOWN_COMMAND_GROUP,
    BotApp,
    BotServices,
    Context,
    is_admin,
    language,
    send,
    services,
    services_of,
    unknown_command,
)
from citizenbot.texts import TextSchema, declare, require, shorten

log = logging.getLogger(__name__)

ADMIN_COMMANDS: Final = ("stats", "unanswered", "reload")
UNANSWERED_SHOWN: Final = 10
TOP_SHOWN: Final = 5
MAX_QUESTION_SHOWN: Final = 200
MAX_PROBLEMS_SHOWN: Final = 20
MAX_GROUPED: Final = 5000  # the week's newest unanswered questions grouped for /stats
RELOAD_LOCK: Final = "citizenbot.reload_lock"

TEXTS: Final = declare("texts.admin.yml", {
    "admin.stats.title": (), "admin.stats.today": (), "admin.stats.week": (),
    "admin.stats.period": ("period", "total", "rate", "answered", "clarify", "fallback"),
    "admin.stats.top_intents": (), "admin.stats.top_unanswered": (), "admin.stats.none": (),
    "admin.unanswered.title": ("count",), "admin.unanswered.none": (),
    "admin.unanswered.clarify": (), "admin.unanswered.fallback": (),
    "admin.reload.ok": ("intents", "examples"), "admin.reload.failed": ("count",),
    "admin.reload.more": ("count",),
})

Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


def _cut(text: str, limit: int = MAX_QUESTION_SHOWN) -> str:
    return shorten(" ".join(text.split()), limit)


def admin_only(handler: Handler) -> Handler:
    """Run ``handler`` for ADMIN_IDS users in a private chat; anyone else: an unknown command."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: Context) -> None:
        svc = services(context)
        if not is_admin(update, svc.settings):
            await unknown_command(update, context)
            return
        user = update.effective_user
        assert user is not None
        log.info("staff command /%s from user %s…", _command_name(update), svc.owner(user))
        await handler(update, context)

    return guarded


# --------------------------------------------------------------------------- unknown commands

def _command_name(update: Update) -> str:
    message = update.effective_message
    text = (message.text if message is not None else None) or ""
    word = text.split(maxsplit=1)[0] if text.strip() else ""
    return word[1:].split("@", 1)[0].lower()


def _command_handlers(handlers: Sequence[BaseHandler[Any, Any, Any]],
                      ) -> Iterator[CommandHandler[Any, Any]]:
    for handler in handlers:
        if isinstance(handler, CommandHandler):
            yield handler
        elif isinstance(handler, ConversationHandler):
            yield from _command_handlers(handler.entry_points)


def _known_commands(context: Context) -> set[str]:
    return {command for handlers in context.application.handlers.values()
            for handler in _command_handlers(handlers) for command in handler.commands}


async def _unknown_unless_handled(update: Update, context: Context) -> None:
    if _command_name(update) not in _known_commands(context):
        await unknown_command(update, context)


# --------------------------------------------------------------------------- /stats

def _period_line(svc: BotServices, lang: str, label_key: str, o: Overview) -> str:
    answered = o.by_status.get("answered", 0)
    rate = f"{100 * answered / o.total:.0f}%" if o.total else "–"
    return svc.fill("admin.stats.period", lang, period=svc.text(label_key, lang), total=o.total,
                    rate=rate, answered=answered, clarify=o.by_status.get("clarify", 0),
                    fallback=o.by_status.get("fallback", 0))


def stats_view(svc: BotServices, lang: str, today: Overview, week: Overview,
               unanswered: Sequence[QuestionGroup]) -> list[Block]:
    """What /stats shows: both periods, then the week's top intents and top unanswered."""
    none = svc.text("admin.stats.none", lang)
    blocks: list[Block] = [
        [Span(svc.text("admin.stats.title", lang), "b")],
        [Span(_period_line(svc, lang, "admin.stats.today", today) + "\n"
              + _period_line(svc, lang, "admin.stats.week", week))],
    ]
    lines = []
    for rank, (intent_id, n) in enumerate(week.top_intents[:TOP_SHOWN], start=1):
        intent = svc.responder.intent(intent_id)
        lines.append(f"{rank}. {intent.title(lang) if intent else intent_id} — {n}")
    blocks.append([Span(svc.text("admin.stats.top_intents", lang), "b"),
                   Span("\n" + ("\n".join(lines) or none))])
    lines = [f"{rank}. “{_cut(g.representative)}” × {g.count}"
             for rank, g in enumerate(unanswered[:TOP_SHOWN], start=1)]
    blocks.append([Span(svc.text("admin.stats.top_unanswered", lang), "b"),
                   Span("\n" + ("\n".join(lines) or none))])
    return blocks


@admin_only
async def stats(update: Update, context: Context) -> None:
    """Today and the last 7 days (UTC): enquiries, answer rate, top intents, top unanswered."""
    svc, lang = services(context), language(update, context)
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    today = await svc.storage.overview(midnight, None, top=TOP_SHOWN, unanswered_limit=0)
    week = await svc.storage.overview(midnight - timedelta(days=6), None, top=TOP_SHOWN,
                                  unanswered_limit=MAX_GROUPED)
    # Grouping thousands of questions takes a second or two: off the event loop.
    groups = await asyncio.to_thread(group_questions, week.unanswered)
    await send(update, context, split_html(stats_view(svc, lang, today, week, groups)))


# --------------------------------------------------------------------------- /unanswered

@admin_only
async def unanswered(update: Update, context: Context) -> None:
    """The latest questions the bot could not answer outright (fallback or clarify)."""
    svc, lang = services(context), language(update, context)
    rows = await svc.storage.unanswered(limit=UNANSWERED_SHOWN)
    if not rows:
        await send(update, context, split_html([[Span(svc.text("admin.unanswered.none", lang))]]))
        return
    lines = "\n".join(
        f"{ts[:16].replace('T', ' ')} · {svc.text(f'admin.unanswered.{status}', lang)} · "
        f"{_cut(question)}" for ts, status, question in rows)
    title = svc.fill("admin.unanswered.title", lang, count=len(rows))
    await send(update, context, split_html([[Span(title, "b")], [Span(lines)]]))


# --------------------------------------------------------------------------- /reload and SIGHUP

def load_checked_responder(settings: Settings, texts: TextSchema) -> Responder:
    """A responder over the knowledge base the settings name, with every text ``texts`` names.

    Raises KnowledgeBaseError listing the problems.
    """
    responder = load_responder(settings)
    require(responder.kb, texts)
    return responder


async def reload_knowledge_base(application: BotApp) -> list[str]:
    """Re-read and re-validate the knowledge base; swap it in if sound. The problems, if any.

    On any problem the bot keeps serving the knowledge base it had. Reloads never overlap.
    """
    svc = services_of(application)
    lock = application.bot_data.setdefault(RELOAD_LOCK, asyncio.Lock())
    async with lock:
        try:
            # Parsing and indexing take a moment: off the event loop, so answering goes on.
            responder = await asyncio.to_thread(load_checked_responder, svc.settings, svc.texts)
        except KnowledgeBaseError as exc:
            problems = [str(p) for p in exc.problems]
        except Exception as exc:  # an unreadable directory, a bug: still keep the old one
            log.exception("reload: could not load the knowledge base")
            problems = [f"{type(exc).__name__}: {exc}"]
        else:
            svc.service.responder = responder
            svc.metrics.reloads.labels("ok").inc()
            kb = responder.kb
            log.info("reload: now serving the knowledge base in %s (%d intents, %d examples)",
                     kb.directory, len(kb.intents), sum(len(i.examples) for i in kb.intents))
            return []
    svc.metrics.reloads.labels("failed").inc()
    log.error("reload: kept the previous knowledge base; the new one has %d problem(s):\n%s",
              len(problems), "\n".join(f"  - {p}" for p in problems))
    return problems


@admin_only
async def reload(update: Update, context: Context) -> None:
    """Reloads the knowledge base, or says why not (and that the old one still serves)."""
    svc, lang = services(context), language(update, context)
    problems = await reload_knowledge_base(context.application)
    kb = svc.kb
    if not problems:
        text = svc.fill("admin.reload.ok", lang, intents=len(kb.intents),
                        examples=sum(len(i.examples) for i in kb.intents))
        await send(update, context, split_html([[Span(text)]]))
        return
    shown = problems[:MAX_PROBLEMS_SHOWN]
    blocks: list[Block] = [
        [Span(svc.fill("admin.reload.failed", lang, count=len(problems)), "b")],
        [Span("\n".join(f"• {p}" for p in shown))],
    ]
    if len(problems) > len(shown):
        blocks.append([Span(svc.fill("admin.reload.more", lang,
                                     count=len(problems) - len(shown)), "i")])
    await send(update, context, split_html(blocks))


# --------------------------------------------------------------------------- wiring

def register(application: BotApp) -> None:
    """Register the staff commands and, after every feature, the unknown-command reply."""
    for command, handler in (("stats", stats), ("unanswered", unanswered), ("reload", reload)):
        application.add_handler(CommandHandler(command, handler), group=FEATURE_GROUP)
    # In a later group than every command, so a command registered anywhere (in any order) is
    # never taken for an unknown one.
    application.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND & filters.ChatType.PRIVATE,
                       _unknown_unless_handled),
        group=UNKNOWN_COMMAND_GROUP)
