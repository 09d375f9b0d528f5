"""Staff commands in Telegram: /stats, /unanswered, /reload; and the reply to unknown commands.

Only the numeric user ids in ADMIN_IDS may use the staff commands, and only in a private chat
with the bot (their replies quote what citizens asked, which must not land in a group).
Anyone else gets exactly the reply an unknown command gets, so the commands do not reveal
themselves. `/reload` (and SIGHUP, see `watch_sighup`) re-reads and re-validates the
knowledge base; on any problem the bot keeps serving the one it has.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, cast

from telegram import Update
from telegram.ext import CommandHandler, MessageHandler, filters

from citizenbot.config import Settings
from citizenbot.core import load_responder
from citizenbot.html_text import Block, Span, split_html
from citizenbot.intents import KnowledgeBase, KnowledgeBaseError, Problem
from citizenbot.responder import Responder
from citizenbot.store import Overview
from citizenbot.suggest import QuestionGroup, group_questions
from citizenbot.telegram_bot import (
    SERVICES,
    BotApp,
    BotServices,
    Context,
    _lang,
    _send,
    _services,
    check_texts,
)

log = logging.getLogger(__name__)

ADMIN_COMMANDS: Final = ("stats", "unanswered", "reload")
# Unknown commands are answered from a later handler group than the commands themselves, so a
# command registered anywhere in group 0 (in any order) is never taken for an unknown one.
UNKNOWN_COMMAND_GROUP: Final = 1
UNANSWERED_SHOWN: Final = 10
TOP_SHOWN: Final = 5
MAX_QUESTION_SHOWN: Final = 200
MAX_PROBLEMS_SHOWN: Final = 20
MAX_GROUPED: Final = 5000  # the week's newest unanswered questions grouped for /stats
RELOAD_LOCK: Final = "citizenbot.reload_lock"
RELOAD_TASKS: Final = "citizenbot.reload_tasks"

REQUIRED_ADMIN_TEXTS: Final = (
    "admin.unknown_command", "admin.stats.title", "admin.stats.today", "admin.stats.week",
    "admin.stats.period", "admin.stats.top_intents", "admin.stats.top_unanswered",
    "admin.stats.none", "admin.unanswered.title", "admin.unanswered.none",
    "admin.unanswered.clarify", "admin.unanswered.fallback", "admin.reload.ok",
    "admin.reload.failed", "admin.reload.more",
)

Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


def check_admin_texts(kb: KnowledgeBase) -> None:
    """Raise KnowledgeBaseError naming every staff-command text the knowledge base lacks."""
    missing = [key for key in REQUIRED_ADMIN_TEXTS if not kb.has_text(key)]
    if missing:
        raise KnowledgeBaseError([Problem("texts.admin.yml", f"missing the text '{key}'")
                                  for key in missing])


def is_admin(update: Update, settings: Settings) -> bool:
    """The update comes from an ADMIN_IDS user in their private chat with the bot."""
    user, chat = update.effective_user, update.effective_chat
    return (user is not None and chat is not None and chat.type == "private"
            and user.id in settings.admin_ids)


def _fill(template: str, **values: object) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", str(value))
    return template


def _cut(text: str, limit: int = MAX_QUESTION_SHOWN) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


# --------------------------------------------------------------------------- unknown commands

async def unknown_command(update: Update, context: Context) -> None:
    """"Unknown command, see /help", in private chats only: in a group the command may be
    meant for another bot."""
    chat = update.effective_chat
    if chat is None or chat.type != "private":
        return
    svc, lang = _services(context), _lang(update, context)
    await _send(update, context, split_html([[Span(svc.text("admin.unknown_command", lang))]]))


def _command_name(update: Update) -> str:
    message = update.effective_message
    text = (message.text if message is not None else None) or ""
    word = text.split(maxsplit=1)[0] if text.strip() else ""
    return word[1:].split("@", 1)[0].lower()


def _known_commands(context: Context) -> set[str]:
    return {command for handlers in context.application.handlers.values()
            for handler in handlers if isinstance(handler, CommandHandler)
            for command in handler.commands}


async def _unknown_unless_handled(update: Update, context: Context) -> None:
    if _command_name(update) not in _known_commands(context):
        await unknown_command(update, context)


def admin_only(handler: Handler) -> Handler:
    """Run `handler` for ADMIN_IDS users in a private chat; anyone else: an unknown command."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: Context) -> None:
        svc = _services(context)
        if not is_admin(update, svc.settings):
            await unknown_command(update, context)
            return
        user = update.effective_user
        assert user is not None
        log.info("staff command /%s from user %s…", _command_name(update),
                 svc.user_hash(user)[:8])
        await handler(update, context)

    return guarded


# --------------------------------------------------------------------------- /stats

def _period_line(svc: BotServices, lang: str, label_key: str, o: Overview) -> str:
    answered = o.by_status.get("answered", 0)
    rate = f"{100 * answered / o.total:.0f}%" if o.total else "–"
    return _fill(svc.text("admin.stats.period", lang), period=svc.text(label_key, lang),
                 total=o.total, rate=rate, answered=answered,
                 clarify=o.by_status.get("clarify", 0), fallback=o.by_status.get("fallback", 0))


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
    svc, lang = _services(context), _lang(update, context)
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    today = await svc.store.overview(midnight, None, top=TOP_SHOWN, unanswered_limit=0)
    week = await svc.store.overview(midnight - timedelta(days=6), None, top=TOP_SHOWN,
                                    unanswered_limit=MAX_GROUPED)
    # Grouping thousands of questions takes a second or two: off the event loop.
    groups = await asyncio.to_thread(group_questions, week.unanswered)
    await _send(update, context, split_html(stats_view(svc, lang, today, week, groups)))


# --------------------------------------------------------------------------- /unanswered

@admin_only
async def unanswered(update: Update, context: Context) -> None:
    """The latest questions the bot could not answer outright (fallback or clarify)."""
    svc, lang = _services(context), _lang(update, context)
    rows = await svc.store.unanswered(limit=UNANSWERED_SHOWN)
    if not rows:
        await _send(update, context, split_html([[Span(svc.text("admin.unanswered.none", lang))]]))
        return
    lines = "\n".join(
        f"{ts[:16].replace('T', ' ')} · {svc.text(f'admin.unanswered.{status}', lang)} · "
        f"{_cut(question)}" for ts, status, question in rows)
    title = _fill(svc.text("admin.unanswered.title", lang), count=len(rows))
    await _send(update, context, split_html([[Span(title, "b")], [Span(lines)]]))


# --------------------------------------------------------------------------- /reload and SIGHUP

def load_checked_responder(settings: Settings) -> Responder:
    """A responder over the knowledge base the settings name, with every text the bot needs.

    Raises KnowledgeBaseError listing the problems.
    """
    from citizenbot.telegram_tickets import check_texts as check_ticket_texts  # imports us

    responder = load_responder(settings)
    check_texts(responder.kb)
    check_admin_texts(responder.kb)
    check_ticket_texts(responder.kb)
    return responder


async def reload_knowledge_base(application: BotApp) -> list[str]:
    """Re-read and re-validate the knowledge base; swap it in if sound. The problems, if any.

    On any problem the bot keeps serving the knowledge base it had. Reloads never overlap.
    """
    svc = cast(BotServices, application.bot_data[SERVICES])
    lock = application.bot_data.setdefault(RELOAD_LOCK, asyncio.Lock())
    async with lock:
        try:
            # Parsing and indexing take a moment: off the event loop, so answering goes on.
            responder = await asyncio.to_thread(load_checked_responder, svc.settings)
        except KnowledgeBaseError as exc:
            problems = [str(p) for p in exc.problems]
        except Exception as exc:  # an unreadable directory, a bug: still keep the old one
            log.exception("reload: could not load the knowledge base")
            problems = [f"{type(exc).__name__}: {exc}"]
        else:
            svc.responder = responder
            svc.metrics.reload("ok")
            kb = responder.kb
            log.info("reload: now serving the knowledge base in %s (%d intents, %d examples)",
                     kb.directory, len(kb.intents), sum(len(i.examples) for i in kb.intents))
            return []
    svc.metrics.reload("failed")
    log.error("reload: kept the previous knowledge base; the new one has %d problem(s):\n%s",
              len(problems), "\n".join(f"  - {p}" for p in problems))
    return problems


@admin_only
async def reload(update: Update, context: Context) -> None:
    """Reloads the knowledge base, or says why not (and that the old one still serves)."""
    svc, lang = _services(context), _lang(update, context)
    problems = await reload_knowledge_base(context.application)
    kb = _services(context).kb
    if not problems:
        text = _fill(svc.text("admin.reload.ok", lang), intents=len(kb.intents),
                     examples=sum(len(i.examples) for i in kb.intents))
        await _send(update, context, split_html([[Span(text)]]))
        return
    shown = problems[:MAX_PROBLEMS_SHOWN]
    blocks: list[Block] = [
        [Span(_fill(svc.text("admin.reload.failed", lang), count=len(problems)), "b")],
        [Span("\n".join(f"• {p}" for p in shown))],
    ]
    if len(problems) > len(shown):
        blocks.append([Span(_fill(svc.text("admin.reload.more", lang),
                                  count=len(problems) - len(shown)), "i")])
    await _send(update, context, split_html(blocks))


def request_reload(application: BotApp) -> None:
    """SIGHUP: reload in the background, logging the outcome."""
    log.info("SIGHUP: reloading the knowledge base")
    tasks: set[asyncio.Task[list[str]]] = application.bot_data.setdefault(RELOAD_TASKS, set())
    task = asyncio.get_running_loop().create_task(reload_knowledge_base(application))
    tasks.add(task)  # a reference, so the task is not collected half-way
    task.add_done_callback(tasks.discard)


def watch_sighup(application: BotApp) -> None:
    """From now on SIGHUP reloads the knowledge base (where the platform has SIGHUP)."""
    sighup = getattr(signal, "SIGHUP", None)
    if sighup is not None:
        with contextlib.suppress(NotImplementedError):
            asyncio.get_running_loop().add_signal_handler(sighup, request_reload, application)


async def unwatch_sighup(application: BotApp) -> None:
    """Stop reacting to SIGHUP and let a reload under way finish."""
    sighup = getattr(signal, "SIGHUP", None)
    if sighup is not None:
        with contextlib.suppress(NotImplementedError):
            asyncio.get_running_loop().remove_signal_handler(sighup)
    tasks = application.bot_data.get(RELOAD_TASKS) or set()
    await asyncio.gather(*tasks, return_exceptions=True)


# --------------------------------------------------------------------------- wiring

def add_admin_handlers(application: BotApp) -> None:
    """Register the staff commands and the unknown-command reply on `application`."""
    check_admin_texts(cast(BotServices, application.bot_data[SERVICES]).kb)
    application.add_handler(CommandHandler("stats", stats))
    application.add_handler(CommandHandler("unanswered", unanswered))
    application.add_handler(CommandHandler("reload", reload))
    application.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND & filters.ChatType.PRIVATE,
                       _unknown_unless_handled),
        group=UNKNOWN_COMMAND_GROUP)
