"""The Telegram door: python-telegram-bot handlers around the responder, and how the bot runs.

Handlers are thin: each turns an update into a call of the core (responder, store) and the
core's reply into an HTML message with inline buttons. `build_application` is the one place the
bot is put together; `run_telegram` runs it until SIGINT/SIGTERM. Only this module imports
`telegram`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias, cast
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from citizenbot import callback_data as cb
from citizenbot.config import Settings
from citizenbot.flood import FloodGate, Verdict
from citizenbot.html_text import Block, Span, split_html
from citizenbot.intents import LANGS, KnowledgeBase, KnowledgeBaseError, Problem
from citizenbot.journal import EnquiryLog, import_journal, journal_path
from citizenbot.ops import Metrics
from citizenbot.responder import Reply, Responder
from citizenbot.store import Enquiry, Store, StoreError, hash_user, load_or_create_salt

log = logging.getLogger(__name__)

BotApp: TypeAlias = Application[Any, Any, Any, Any, Any, Any]
Context: TypeAlias = ContextTypes.DEFAULT_TYPE

EXIT_UNUSABLE: Final = 2
MAX_TOAST: Final = 200  # answerCallbackQuery text limit
TOPIC_AREAS: Final = ("business", "talent", "parks", "plans")
COMMANDS: Final = ("start", "help", "topics", "about", "lang", "forget")
ALLOWED_UPDATES: Final = [Update.MESSAGE, Update.CALLBACK_QUERY]
POLL_TIMEOUT: Final = 30  # seconds a getUpdates long poll may wait
MAX_CONCURRENT_UPDATES: Final = 256
# How often a send is retried when Telegram answers 429 "retry after N" (its flood control):
# Telegram asks to wait N seconds and then try again, which AIORateLimiter does.
RETRIES_AFTER_FLOOD_CONTROL: Final = 3
# Telegram's limit on messages a second to all chats together; AIORateLimiter keeps to it.
OVERALL_MAX_RATE: Final = 30
SERVICES: Final = "citizenbot"
LANG_KEY: Final = "lang"
REDACTED: Final = "<redacted>"

REQUIRED_TEXTS: Final = (
    "services.greeting", "services.help", "services.bot_info", "service_note",
    "labels.source", "telegram.about", "telegram.topics", "telegram.area",
    "telegram.lang_prompt", "telegram.lang_set", "telegram.forget_confirm",
    "telegram.forget_done", "telegram.forget_cancelled", "telegram.feedback_thanks",
    "telegram.not_yours", "telegram.flood", "telegram.type_question", "telegram.stale_button",
    "telegram.error", "telegram.buttons.helpful", "telegram.buttons.not_helpful",
    "telegram.buttons.topics", "telegram.buttons.all_topics", "telegram.buttons.forget_yes",
    "telegram.buttons.forget_no", "telegram.buttons.english", "telegram.buttons.chinese",
    *(f"telegram.commands.{c}" for c in COMMANDS),
)


# --------------------------------------------------------------------------- pure helpers

Rows: TypeAlias = list[list[tuple[str, cb.Action]]]


def webhook_target(url: str, path: str) -> str:
    """The URL Telegram posts updates to: the public URL, ending in the webhook path."""
    base, path = url.rstrip("/"), path.strip("/")
    if not path or urlsplit(base).path.rstrip("/").endswith("/" + path):
        return base
    return f"{base}/{path}"


def interface_language(chosen: str | None, language_code: str | None) -> str:
    """The user's choice from /lang, else their Telegram app's language (zh or en)."""
    if chosen is not None and chosen in LANGS:
        return chosen
    return "zh" if (language_code or "").lower().startswith("zh") else "en"


def reply_view(reply: Reply, kb: KnowledgeBase, enquiry_id: int | None, *,
               ask_staff: bool = False) -> tuple[list[Block], Rows]:
    """What the user sees for `reply`: message blocks, and button rows (label, action).

    `ask_staff`: offer to hand an unanswered question to district staff (telegram_tickets)."""
    lang = reply.language
    blocks: list[Block] = []
    rows: Rows = []
    if reply.kind in ("report", "search"):
        if reply.kind == "search":
            blocks.append([Span(reply.note)])
        blocks += [[Span(f"“{e.text}”", "blockquote")] for e in reply.excerpts]
        if reply.source_label:
            blocks.append([Span(f"{kb.text('labels.source', lang)}:", "b"),
                           Span(f" {reply.source_label}")])
        if reply.kind == "report":
            blocks.append([Span(reply.note, "i")])
    else:
        blocks.append([Span(reply.text)])
        if reply.note:
            blocks.append([Span(reply.note, "i")])
    rows += [[(o.title, cb.ShowIntent(o.intent_id, enquiry_id))] for o in reply.options]
    rows += [[(r.title, cb.ShowIntent(r.intent_id))] for r in reply.related]
    if reply.kind in ("report", "search") and enquiry_id is not None:
        rows.append([(kb.text("telegram.buttons.helpful", lang), cb.Feedback(enquiry_id, True)),
                     (kb.text("telegram.buttons.not_helpful", lang),
                      cb.Feedback(enquiry_id, False))])
    if reply.status == "fallback":
        rows.append([(kb.text("telegram.buttons.topics", lang), cb.ShowTopics())])
        if ask_staff and enquiry_id is not None:
            rows.append([(kb.text("tickets.buttons.ask", lang), cb.AskStaff(enquiry_id))])
    return blocks, rows


def topic_rows(kb: KnowledgeBase, lang: str, replace: bool) -> Rows:
    """One button per topic area that has intents."""
    areas = kb.by_area()
    return [[(kb.text(f"areas.{area}", lang), cb.ShowArea(area, replace))]
            for area in TOPIC_AREAS if areas.get(area) and kb.has_text(f"areas.{area}")]


def check_texts(kb: KnowledgeBase) -> None:
    """Raise KnowledgeBaseError naming every interface text the Telegram bot needs but lacks."""
    missing = [key for key in REQUIRED_TEXTS if not kb.has_text(key)]
    if missing:
        raise KnowledgeBaseError([Problem("texts.telegram.yml", f"missing the text '{key}'")
                                  for key in missing])


# --------------------------------------------------------------------------- secrets in logs

class _SecretRedactor:
    """A log record factory that blanks secrets out of every record as it is made.

    python-telegram-bot logs the Bot API URL (which carries the token) at DEBUG and httpx logs
    every request URL at INFO. A filter on a logger does not see its children's records and
    handlers come and go (pytest adds its own), so the secret is removed where records are born.
    """

    def __init__(self, base: Any) -> None:
        self.base = base
        self.secrets: set[str] = set()

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.base(*args, **kwargs)
        if self.secrets:
            self._redact(record)
        return record

    def _blank(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    def _redact(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: logging itself reports it when emitting
            return
        if any(secret in message for secret in self.secrets):
            record.msg, record.args = self._blank(message), None
        if record.exc_info and record.exc_info[1] is not None:
            text = "".join(traceback.format_exception(record.exc_info[1])).rstrip("\n")
            if any(secret in text for secret in self.secrets):
                record.exc_text = self._blank(text)
        if record.stack_info and any(secret in record.stack_info for secret in self.secrets):
            record.stack_info = self._blank(record.stack_info)


_redactor: _SecretRedactor | None = None


def protect_secrets(*secrets: str | None) -> None:
    """From now on no log record of this process contains any of `secrets` (nor their URL form)."""
    global _redactor
    if _redactor is None:
        _redactor = _SecretRedactor(logging.getLogRecordFactory())
        logging.setLogRecordFactory(_redactor)
    for secret in secrets:
        if secret:
            _redactor.secrets.update({secret, secret.replace(":", "%3A")})


# --------------------------------------------------------------------------- services

@dataclass
class BotServices:
    """What the handlers need, kept in `application.bot_data` as python-telegram-bot suggests."""

    settings: Settings
    responder: Responder
    store: Store
    salt: str
    gate: FloodGate
    button_key: bytes
    enquiries: EnquiryLog
    metrics: Metrics = field(default_factory=Metrics)  # what /metrics shows in webhook mode

    @property
    def kb(self) -> KnowledgeBase:
        return self.responder.kb

    def text(self, key: str, lang: str) -> str:
        return self.kb.text(key, lang)

    def user_hash(self, user: User) -> str:
        return hash_user(self.salt, user.id)

    def markup(self, rows: Rows) -> InlineKeyboardMarkup | None:
        keyboard: list[list[InlineKeyboardButton]] = []
        for row in rows:
            buttons = []
            for label, action in row:
                try:
                    data = cb.encode(action, self.button_key)
                except ValueError as exc:
                    log.warning("left out the button %r: %s", label, exc)
                    continue
                buttons.append(InlineKeyboardButton(label, callback_data=data))
            if buttons:
                keyboard.append(buttons)
        return InlineKeyboardMarkup(keyboard) if keyboard else None


def _services(context: Context) -> BotServices:
    return cast(BotServices, context.bot_data[SERVICES])


def _chosen_language(context: Context) -> str | None:
    value = (context.user_data or {}).get(LANG_KEY)
    return value if value in LANGS else None


def _lang(update: Update, context: Context) -> str:
    user = update.effective_user
    return interface_language(_chosen_language(context), user.language_code if user else None)


def _service_html(svc: BotServices, key: str, lang: str) -> list[str]:
    """A service text with the note that it is not from the report."""
    return split_html([[Span(svc.text(key, lang))], [Span(svc.text("service_note", lang), "i")]])


async def _send(update: Update, context: Context, chunks: Sequence[str],
                markup: InlineKeyboardMarkup | None = None) -> Message | None:
    """Send `chunks` to the update's chat; buttons go under the last one, which is returned.

    In groups the first message quotes the one it answers, so it is clear whom it is for.
    """
    chat, message = update.effective_chat, update.effective_message
    if chat is None:
        return None
    quote = None
    if chat.type != "private" and message is not None and update.callback_query is None:
        quote = ReplyParameters(message.message_id, allow_sending_without_reply=True)
    sent = None
    for i, chunk in enumerate(chunks):
        sent = await context.bot.send_message(
            chat.id, chunk, reply_markup=markup if i == len(chunks) - 1 else None,
            reply_parameters=quote if i == 0 else None,
        )
    return sent


async def _show(update: Update, context: Context, chunks: Sequence[str],
                markup: InlineKeyboardMarkup | None, replace: bool) -> None:
    """Replace the pressed button's message with `chunks` (one chunk), or send them anew."""
    query = update.callback_query
    target = query.message if query else None
    if replace and len(chunks) == 1 and isinstance(target, Message):
        try:
            await target.edit_text(chunks[0], reply_markup=markup)
            return
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return
            log.info("update %s: could not edit the message (%s); sending a new one",
                     update.update_id, exc)
    await _send(update, context, chunks, markup)


async def _log_enquiry(svc: BotServices, update: Update, question: str, reply: Reply,
                       latency_ms: float) -> int | None:
    """Log the enquiry; its id, or None when the database refused it and it went to the
    journal instead (the user is answered anyway, without feedback buttons)."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    return await svc.enquiries.log_enquiry(Enquiry(
        transport="telegram", user_hash=svc.user_hash(user), chat_type=chat.type,
        language=reply.language, question=question, status=reply.status,
        intent=reply.intent_id, score=reply.score, latency_ms=latency_ms,
    ))


async def _reply(update: Update, context: Context, question: str,
                 answer: Callable[[], Reply]) -> None:
    """Compute a reply, log it, then send it: the log never misses an answered question."""
    svc = _services(context)
    started = time.perf_counter()
    reply = answer()
    latency_ms = (time.perf_counter() - started) * 1000
    enquiry_id = await _log_enquiry(svc, update, question, reply, latency_ms)
    svc.metrics.enquiry(reply.status)
    blocks, rows = reply_view(reply, svc.kb, enquiry_id, ask_staff=_offers_staff(svc, update))
    await _send(update, context, split_html(blocks), svc.markup(rows))
    svc.metrics.reply_sent(time.perf_counter() - started)


def _offers_staff(svc: BotServices, update: Update) -> bool:
    """Handing questions to staff is on (STAFF_CHAT_ID) and this is a private chat."""
    chat = update.effective_chat
    return svc.settings.staff_chat_id is not None and chat is not None and chat.type == "private"


# --------------------------------------------------------------------------- handlers

async def limit_flood(update: Update, context: Context) -> None:
    """Lets a user's messages through up to the per-minute limit, then one notice, then drops."""
    svc = _services(context)
    user = update.effective_user
    if user is None:
        return
    verdict = svc.gate.check(user.id, time.monotonic())
    if verdict is Verdict.PASS:
        return
    query = update.callback_query
    if verdict is Verdict.NOTICE:
        log.info("flood limit reached by user %s…; dropping their messages for now",
                 svc.user_hash(user)[:8])
        notice = svc.text("telegram.flood", _lang(update, context))
        if query is not None:
            await query.answer(notice[:MAX_TOAST], show_alert=True)
        else:
            await _send(update, context, split_html([[Span(notice)]]))
    else:
        log.debug("dropped update %s (flood limit; %d dropped in all)", update.update_id,
                  svc.gate.dropped)
        if query is not None:
            # Without an answer the client shows a spinner on the button for a long while.
            await query.answer()
    raise ApplicationHandlerStop


async def start(update: Update, context: Context) -> None:
    """Greets the user: what the bot knows, where answers come from, and topic buttons."""
    svc, lang = _services(context), _lang(update, context)
    rows = topic_rows(svc.kb, lang, replace=False)
    await _send(update, context, _service_html(svc, "services.greeting", lang), svc.markup(rows))


async def help_command(update: Update, context: Context) -> None:
    """Explains how to ask and lists the commands."""
    svc, lang = _services(context), _lang(update, context)
    if svc.settings.staff_chat_id is None:
        await _send(update, context, _service_html(svc, "services.help", lang))
        return
    await _send(update, context, split_html([  # with /ask and /mytickets (telegram_tickets)
        [Span(svc.text("services.help", lang))], [Span(svc.text("tickets.help", lang))],
        [Span(svc.text("service_note", lang), "i")]]))


async def topics(update: Update, context: Context) -> None:
    """Shows the topic areas as buttons."""
    svc, lang = _services(context), _lang(update, context)
    rows = topic_rows(svc.kb, lang, replace=True)
    await _send(update, context, split_html([[Span(svc.text("telegram.topics", lang))]]),
                svc.markup(rows))


async def about(update: Update, context: Context) -> None:
    """Says which report the answers are quoted from, and its date."""
    svc, lang = _services(context), _lang(update, context)
    report = svc.kb.report
    source = (svc.text("telegram.about", lang)
              .replace("{title}", report.title).replace("{date}", report.date))
    await _send(update, context, split_html([
        [Span(source)], [Span(svc.text("services.bot_info", lang))],
        [Span(svc.text("service_note", lang), "i")],
    ]))


async def choose_language(update: Update, context: Context) -> None:
    """Switches the interface language (/lang zh), or offers English / 中文 buttons."""
    svc = _services(context)
    wanted = (context.args or [""])[0].lower()[:2]
    if wanted in LANGS and context.user_data is not None:
        context.user_data[LANG_KEY] = wanted
        await _send(update, context, split_html([[Span(svc.text("telegram.lang_set", wanted))]]))
        return
    lang = _lang(update, context)
    rows: Rows = [[(svc.text("telegram.buttons.english", lang), cb.SetLanguage("en")),
                   (svc.text("telegram.buttons.chinese", lang), cb.SetLanguage("zh"))]]
    await _send(update, context, split_html([[Span(svc.text("telegram.lang_prompt", lang))]]),
                svc.markup(rows))


async def forget(update: Update, context: Context) -> None:
    """Asks for confirmation before erasing everything logged about the user."""
    svc, lang, user = _services(context), _lang(update, context), update.effective_user
    assert user is not None
    owner = svc.user_hash(user)[:8]
    rows: Rows = [[(svc.text("telegram.buttons.forget_yes", lang), cb.Forget(True, owner)),
                   (svc.text("telegram.buttons.forget_no", lang), cb.Forget(False, owner))]]
    from citizenbot.telegram_tickets import forget_note  # it imports this module
    blocks: list[Block] = [[Span(svc.text("telegram.forget_confirm", lang))]]
    note = await forget_note(svc, svc.user_hash(user), lang)
    if note:
        blocks.append([Span(note)])
    await _send(update, context, split_html(blocks), svc.markup(rows))


async def answer_question(update: Update, context: Context) -> None:
    """Answers with the report's words, "did you mean" buttons, or an honest "I don't know"."""
    svc, message = _services(context), update.effective_message
    assert message is not None and message.text is not None
    question = _without_mention(message.text, context.bot.username)
    if not question:
        await help_command(update, context)
        return
    chosen = _chosen_language(context)
    await _reply(update, context, question, lambda: svc.responder.respond(question, chosen))


async def ask_for_text(update: Update, context: Context) -> None:
    """Asks for a typed question when sent a sticker, photo, voice message, file or location."""
    svc, lang = _services(context), _lang(update, context)
    await _send(update, context, split_html([[Span(svc.text("telegram.type_question", lang))]]))


async def press_button(update: Update, context: Context) -> None:
    """Acts on a button; out-of-date or altered buttons get a short notice instead."""
    svc, query = _services(context), update.callback_query
    assert query is not None
    lang = _lang(update, context)
    try:
        action = cb.decode(query.data, svc.button_key)
    except cb.CallbackDataError as exc:
        log.info("update %s: %s", update.update_id, exc)
        await query.answer(svc.text("telegram.stale_button", lang)[:MAX_TOAST])
        return
    match action:
        case cb.Feedback():
            await _feedback(update, context, query, action, lang)
        case cb.ShowIntent():
            await _show_intent(update, context, query, action, lang)
        case cb.ShowArea():
            await _show_area(update, context, query, action, lang)
        case cb.ShowTopics(replace):
            await query.answer()
            rows = topic_rows(svc.kb, lang, replace=True)
            await _show(update, context, split_html([[Span(svc.text("telegram.topics", lang))]]),
                        svc.markup(rows), replace)
        case cb.SetLanguage(new):
            if context.user_data is not None:
                context.user_data[LANG_KEY] = new
            await query.answer()
            await _show(update, context, split_html([[Span(svc.text("telegram.lang_set", new))]]),
                        None, replace=True)
        case cb.Forget():
            await _forget(update, context, query, action, lang)


async def on_error(update: object, context: Context) -> None:
    """Logs the error with the update id and, where it helps, tells the user it went wrong."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    _services(context).metrics.error("telegram" if isinstance(error, TelegramError) else "handler")
    if isinstance(error, Forbidden):
        # The user blocked the bot or removed it from the group: Telegram's rule is to stop
        # writing to them, not to retry.
        log.info("update %s: Telegram refused to deliver (%s); not retrying", update_id, error)
        return
    if isinstance(error, RetryAfter):
        log.warning("update %s: %s, still after %d retries; that reply was dropped",
                    update_id, error, RETRIES_AFTER_FLOOD_CONTROL)
        return
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        # Transient (includes TimedOut): polling retries by itself with a growing pause; a reply
        # that timed out may have been delivered, so it is not sent twice.
        log.warning("update %s: network trouble talking to Telegram: %s", update_id, error)
        return
    if isinstance(error, Conflict):
        log.error("Telegram reports a conflict: %s (is another copy of this bot running with the "
                  "same token?)", error)
        return
    log.error("update %s caused an error", update_id, exc_info=error)
    if isinstance(update, Update):
        await _apologise(update, context)


# --------------------------------------------------------------------------- button actions

async def _feedback(update: Update, context: Context, query: CallbackQuery,
                    action: cb.Feedback, lang: str) -> None:
    svc = _services(context)
    enquiry = await svc.store.get_enquiry(action.enquiry_id)
    if enquiry is None or enquiry.user_hash != svc.user_hash(query.from_user):
        key = "telegram.stale_button" if enquiry is None else "telegram.not_yours"
        await query.answer(svc.text(key, lang)[:MAX_TOAST])
        return
    logged = await svc.store.enquiries(after_id=action.enquiry_id - 1, limit=1)
    if logged and logged[0].helpful + logged[0].not_helpful:  # one vote per answer (double tap)
        await query.answer(svc.text("telegram.feedback_thanks", lang)[:MAX_TOAST])
        return
    try:
        await svc.store.log_feedback(action.enquiry_id, action.helpful)
    except StoreError as exc:  # erased meanwhile (/forget in another chat)
        log.info("update %s: feedback not logged: %s", update.update_id, exc)
        await query.answer(svc.text("telegram.stale_button", lang)[:MAX_TOAST])
        return
    await query.answer(svc.text("telegram.feedback_thanks", lang)[:MAX_TOAST])
    message = query.message
    if isinstance(message, Message) and message.reply_markup is not None:
        # One vote per answer: the 👍/👎 row goes, the related topics stay.
        rows = [row for row in message.reply_markup.inline_keyboard
                if not any(_is_feedback(b, svc.button_key) for b in row)]
        ask = svc.markup([[(svc.text("tickets.buttons.ask", lang),
                            cb.AskStaff(action.enquiry_id))]])
        if not action.helpful and ask is not None and _offers_staff(svc, update):
            rows += ask.inline_keyboard  # 👎: offer to hand the question to staff
        with contextlib.suppress(BadRequest):
            await message.edit_reply_markup(InlineKeyboardMarkup(rows) if rows else None)


def _is_feedback(button: InlineKeyboardButton, key: bytes) -> bool:
    try:
        return isinstance(cb.decode(cast(str | None, button.callback_data), key), cb.Feedback)
    except cb.CallbackDataError:
        return False


async def _show_intent(update: Update, context: Context, query: CallbackQuery,
                       action: cb.ShowIntent, lang: str) -> None:
    svc = _services(context)
    intent = svc.responder.intent(action.intent_id)
    if intent is None:  # the knowledge base changed since the button was made
        await query.answer(svc.text("telegram.stale_button", lang)[:MAX_TOAST])
        return
    await query.answer()
    question = intent.title(lang)
    if action.enquiry_id is not None:
        # A "did you mean" choice: log it under the question the user actually asked.
        asked = await svc.store.get_enquiry(action.enquiry_id)
        if asked is not None and asked.user_hash == svc.user_hash(query.from_user):
            question = asked.question
            if _chosen_language(context) is None:  # answer in the language it was asked in
                lang = asked.language
    await _reply(update, context, question,
                 lambda: svc.responder.answer_intent(intent.id, lang, question=question))


async def _show_area(update: Update, context: Context, query: CallbackQuery,
                     action: cb.ShowArea, lang: str) -> None:
    svc = _services(context)
    intents = svc.kb.by_area().get(action.area) if action.area in TOPIC_AREAS else None
    if not intents:
        await query.answer(svc.text("telegram.stale_button", lang)[:MAX_TOAST])
        return
    await query.answer()
    area = svc.text(f"areas.{action.area}", lang)
    title = svc.text("telegram.area", lang).replace("{area}", area)
    rows: Rows = [[(i.title(lang), cb.ShowIntent(i.id))] for i in intents]
    rows.append([(svc.text("telegram.buttons.all_topics", lang), cb.ShowTopics(replace=True))])
    await _show(update, context, split_html([[Span(title)]]), svc.markup(rows), action.replace)


async def _forget(update: Update, context: Context, query: CallbackQuery, action: cb.Forget,
                  lang: str) -> None:
    svc = _services(context)
    user_hash = svc.user_hash(query.from_user)
    if action.owner != user_hash[:8]:
        await query.answer(svc.text("telegram.not_yours", lang)[:MAX_TOAST])
        return
    await query.answer()
    if not action.confirm:
        await _show(update, context, split_html([[Span(svc.text("telegram.forget_cancelled",
                                                                lang))]]), None, replace=True)
        return
    erased = await svc.store.erase_user(user_hash)
    if context.user_data is not None:
        context.user_data.clear()
    log.info("erased %d enquiries at the request of user %s…", erased, user_hash[:8])
    done = svc.text("telegram.forget_done", lang).replace("{count}", str(erased))
    from citizenbot.telegram_tickets import erase_tickets, stop_awaiting  # imports this module
    stop_awaiting(context, query.from_user.id)  # a bare /ask no longer waits for its question
    tickets_done = await erase_tickets(svc, context.bot, user_hash, lang)
    if tickets_done:
        done = f"{done} {tickets_done}"
    await _show(update, context, split_html([[Span(done)]]), None, replace=True)


async def _apologise(update: Update, context: Context) -> None:
    svc, lang = _services(context), _lang(update, context)
    text = svc.text("telegram.error", lang)
    if update.callback_query is not None:
        with contextlib.suppress(TelegramError):  # it may have been answered before the error
            await update.callback_query.answer(text[:MAX_TOAST])
            return
    with contextlib.suppress(TelegramError):
        await _send(update, context, split_html([[Span(text)]]))


def _without_mention(text: str, username: str) -> str:
    return re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE).strip()


# --------------------------------------------------------------------------- filters

class _AddressedToBot(filters.MessageFilter):
    """Messages that mention the bot or reply to one of its messages."""

    def filter(self, message: Message) -> bool:
        bot = message.get_bot()
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None \
                and replied.from_user.id == bot.id:
            return True
        mention = f"@{bot.username}".casefold()
        return any(text.casefold() == mention
                   for text in message.parse_entities([MessageEntity.MENTION]).values())


_ADDRESSED = _AddressedToBot(name="addressed_to_bot")
_FOR_US = filters.ChatType.PRIVATE | (filters.ChatType.GROUPS & _ADDRESSED)
QUESTION = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND & _FOR_US
NOT_TEXT = filters.UpdateType.MESSAGE & ~filters.TEXT & ~filters.StatusUpdate.ALL & _FOR_US
FLOOD_COUNTED = filters.UpdateType.MESSAGE & ~filters.StatusUpdate.ALL & (
    filters.COMMAND | _FOR_US)


class _OnePerChat(BaseUpdateProcessor):
    """Handles updates concurrently, but one at a time per chat and in arrival order.

    A slow send to one chat (Telegram's limits) does not hold up everyone else, and a user's
    questions are still answered in the order they were asked.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._users[chat.id] = self._users.get(chat.id, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[chat.id] -= 1
            if not self._users[chat.id]:
                del self._users[chat.id], self._locks[chat.id]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


# --------------------------------------------------------------------------- building and running

def build_application(settings: Settings, responder: Responder, store: Store,
                      salt: str, *, overall_max_rate: float = OVERALL_MAX_RATE) -> BotApp:
    """The bot with every handler registered: the one place it is put together.

    Raises ValueError without a token and KnowledgeBaseError if interface texts are missing.
    `overall_max_rate` is Telegram's; only the load benchmark lifts it (0: no overall cap), to
    measure the bot rather than the limit.
    """
    if not settings.token:
        raise ValueError("a bot token is needed (TELEGRAM_BOT_TOKEN)")
    check_texts(responder.kb)
    protect_secrets(settings.token, settings.webhook_secret)
    application = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.api_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML,
                           link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .rate_limiter(AIORateLimiter(overall_max_rate=overall_max_rate,
                                     max_retries=RETRIES_AFTER_FLOOD_CONTROL))
        .concurrent_updates(_OnePerChat(MAX_CONCURRENT_UPDATES))
        .build()
    )
    application.bot_data[SERVICES] = BotServices(
        settings=settings, responder=responder, store=store, salt=salt,
        gate=FloodGate(settings.rate_limit), button_key=cb.derive_key(salt),
        enquiries=EnquiryLog(store, journal_path(settings.db_path)),
    )
    application.add_handler(MessageHandler(FLOOD_COUNTED, limit_flood), group=-1)
    application.add_handler(CallbackQueryHandler(limit_flood), group=-1)
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(CommandHandler("topics", topics))
    application.add_handler(CommandHandler("about", about))
    application.add_handler(CommandHandler("lang", choose_language))
    application.add_handler(CommandHandler("forget", forget))
    from citizenbot.telegram_tickets import add_handlers as add_ticket_handlers
    add_ticket_handlers(application)  # /ask /mytickets /tickets /reply /close, staff replies
    application.add_handler(CallbackQueryHandler(press_button))
    application.add_handler(MessageHandler(QUESTION, answer_question))
    application.add_handler(MessageHandler(NOT_TEXT, ask_for_text))
    from citizenbot.telegram_admin import add_admin_handlers  # it imports this module
    add_admin_handlers(application)  # /stats /unanswered /reload, and unknown commands
    application.add_error_handler(on_error)
    return application


async def register_commands(application: BotApp) -> None:
    """Registers the command menu in English (the default too) and Chinese; failure is logged."""
    svc = cast(BotServices, application.bot_data[SERVICES])
    kb = svc.kb
    from citizenbot.telegram_tickets import menu_commands
    ticket_commands = menu_commands(svc)
    for language_code in (None, "en", "zh"):
        lang = language_code or "en"
        commands = [BotCommand(c, kb.text(f"telegram.commands.{c}", lang)) for c in COMMANDS]
        commands += [BotCommand(c, kb.text(f"tickets.commands.{c}", lang))
                     for c in ticket_commands]
        try:
            await application.bot.set_my_commands(commands, language_code=language_code)
        except TelegramError as exc:
            log.warning("could not register the %s command menu: %s", language_code or "default",
                        exc)


def _polling_error(error: TelegramError) -> None:
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        log.warning("cannot fetch updates (%s); retrying", error)
    else:
        log.error("fetching updates failed: %s", error)


async def start_bot(application: BotApp, settings: Settings) -> None:
    """Connect (getMe), register the command menu, start receiving and handling updates."""
    await application.initialize()
    await register_commands(application)
    updater = application.updater
    assert updater is not None
    from citizenbot import telegram_ops  # it imports this module
    if settings.webhook_url:
        # Our own server (webhook, /healthz, /metrics) rather than updater.start_webhook.
        url = await telegram_ops.start_webhook(application, settings)
        log.info("receiving updates by webhook at %s (listening on %s:%d; also /healthz and "
                 "/metrics)", url, settings.webhook_listen, settings.webhook_port)
    else:
        await updater.start_polling(timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES,
                                    error_callback=_polling_error)
        log.info("receiving updates by long polling")
    await application.start()
    telegram_ops.start_housekeeping(application, settings)  # heartbeat, daily retention
    from citizenbot.telegram_tickets import start_ticket_work
    await start_ticket_work(application)  # tickets the staff chat missed, answers to deliver


async def stop_bot(application: BotApp) -> None:
    """Stop receiving updates, finish the ones being handled, and disconnect."""
    from citizenbot import telegram_ops
    await telegram_ops.stop_webhook(application)
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    from citizenbot.telegram_tickets import stop_ticket_work
    await stop_ticket_work(application)
    if application.running:
        await application.stop()
    await telegram_ops.stop_housekeeping(application)
    await application.shutdown()


def run_telegram(settings: Settings, responder: Responder) -> int:
    """Serve Telegram users until SIGINT or SIGTERM; return the process exit code."""
    if settings.log_level != "DEBUG":
        # httpx logs every request at INFO: noise (and its URLs carry the token, redacted).
        logging.getLogger("httpx").setLevel(logging.WARNING)
    protect_secrets(settings.token, settings.webhook_secret)
    try:
        return asyncio.run(_serve(settings, responder))
    except (StoreError, KnowledgeBaseError, ValueError) as exc:
        print(f"citizenbot: cannot start: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE


async def _serve(settings: Settings, responder: Responder) -> int:
    salt = settings.salt or load_or_create_salt(settings.salt_path)
    store = await Store.open(settings.db_path)
    try:
        # Enquiries kept in the journal while the database was unwritable come home first.
        await import_journal(store, journal_path(settings.db_path))
        application = build_application(settings, responder, store, salt)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        signals = (signal.SIGINT, signal.SIGTERM)
        for sig in signals:
            with contextlib.suppress(NotImplementedError):  # not on Windows' default loop
                loop.add_signal_handler(sig, stopping.set)
        from citizenbot.telegram_admin import unwatch_sighup, watch_sighup
        watch_sighup(application)  # SIGHUP reloads the knowledge base
        try:
            await start_bot(application, settings)
            await stopping.wait()
            log.info("stopping: finishing the updates in hand")
        except InvalidToken:
            print("citizenbot: cannot start: Telegram refused the bot token "
                  "(check TELEGRAM_BOT_TOKEN)", file=sys.stderr)
            return EXIT_UNUSABLE
        except (TelegramError, OSError) as exc:
            print(f"citizenbot: cannot start: {exc} (Bot API at {settings.api_url})",
                  file=sys.stderr)
            return EXIT_UNUSABLE
        finally:
            for sig in signals:
                with contextlib.suppress(NotImplementedError):
                    loop.remove_signal_handler(sig)
            await unwatch_sighup(application)
            await stop_bot(application)
        gate = cast(BotServices, application.bot_data[SERVICES]).gate
        log.info("stopped; %d messages were dropped by the flood limit", gate.dropped)
    finally:
        await store.close()
    return 0
