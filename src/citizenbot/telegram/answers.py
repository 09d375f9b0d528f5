"""Answering in Telegram: questions, topic browsing, 👍/👎, /lang and /forget.

Each handler turns an update into a call of the service and the answer into an HTML message
with buttons. `reply_view` is where a structured reply becomes what the user sees.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Final, cast

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from citizenbot import callback_data as cb
from citizenbot import chat
from citizenbot.config import Settings
from citizenbot.core.knowledge import LANGS, KnowledgeBase
from citizenbot.core.responder import Reply
from citizenbot.html_text import Block, Span, split_html
from citizenbot.model import Transport, Vote
from citizenbot.service import Answer, Asker, Service
from citizenbot.telegram.common import (
    FEATURE_GROUP,
    FOR_US,
    LANG_KEY,
    USER_GROUP,
    BotApp,
    BotServices,
    Context,
    Rows,
    chosen_language,
    language,
    send,
    service_html,
    services,
    show,
    toast,
    typing,
)
from citizenbot.texts import declare

log = logging.getLogger(__name__)

COMMANDS: Final = ("start", "help", "topics", "about", "lang", "forget")
# "typing…" only when an answer is slow to come (a locked database, a busy bot): the Bot API
# recommends the indicator for a noticeable wait, and for an answer found in a millisecond it
# only costs a request per question (about an eighth of the bot's CPU at full load).
TYPING_AFTER: Final = 0.5

TEXTS: Final = chat.TEXTS | declare("texts.telegram.yml", {
    "telegram.type_question": (), **{f"telegram.commands.{c}": () for c in COMMANDS},
})

QUESTION: Final = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND & FOR_US
NOT_TEXT: Final = filters.UpdateType.MESSAGE & ~filters.TEXT & ~filters.StatusUpdate.ALL & FOR_US


# --------------------------------------------------------------------------- what the user sees

def reply_view(reply: Reply, kb: KnowledgeBase, enquiry_id: int | None) -> tuple[list[Block], Rows]:
    """What the user sees for ``reply``: message blocks, and button rows (label, action)."""
    return chat.reply_blocks(reply, kb), chat.reply_rows(reply, kb, enquiry_id)


def _asker(svc: BotServices, update: Update) -> Asker:
    user, chat_ = update.effective_user, update.effective_chat
    assert user is not None and chat_ is not None
    return Asker(Transport.TELEGRAM, chat_.type, svc.user_hash(user), update.update_id)


async def _reply(update: Update, context: Context,
                 answering: Callable[[Service, Asker], Awaitable[Answer]]) -> None:
    """Answer and log through the service, then send: the log never misses an answered
    question."""
    svc = services(context)
    started = time.perf_counter()
    ready = asyncio.Event()
    indicator = asyncio.create_task(_typing_unless(ready, update, context))
    try:
        answer = await answering(svc.service, _asker(svc, update))
    finally:
        ready.set()
    await indicator
    svc.metrics.enquiries.labels(answer.reply.status).inc()
    if answer.reply.language != chosen_language(context) and context.user_data is not None \
            and answer.reply.followup is not None and answer.reply.language in LANGS:
        # "in Chinese" switched the language for good (the service kept it): so do the
        # buttons and notices of this conversation from now on.
        context.user_data[LANG_KEY] = answer.reply.language
    blocks, rows = reply_view(answer.reply, svc.kb, answer.enquiry_id)
    if answer.reply.handover and answer.enquiry_id is not None:
        # District staff could help with what the report does not say (or a choice that
        # fits nothing): the ticket feature offers to hand the question over.
        rows += svc.offers_for(update, answer.enquiry_id, answer.reply.language)
    await send(update, context, split_html(blocks), svc.markup(rows))
    svc.metrics.reply_latency.observe(time.perf_counter() - started)


async def _typing_unless(ready: asyncio.Event, update: Update, context: Context) -> None:
    """Show "typing…" if the answer is not ready within TYPING_AFTER seconds."""
    try:
        await asyncio.wait_for(ready.wait(), TYPING_AFTER)
    except TimeoutError:
        await typing(update, context)


def _without_mention(text: str, username: str) -> str:
    return re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE).strip()


# --------------------------------------------------------------------------- commands

async def start(update: Update, context: Context) -> None:
    """Greets the user: what the bot knows, where answers come from, and topic buttons."""
    svc, lang = services(context), language(update, context)
    # A new start: the next message is a question of its own, not a follow-up.
    await svc.service.start(_asker(svc, update))
    rows = chat.topic_rows(svc.kb, lang, replace=False)
    await send(update, context, service_html(svc, "services.greeting", lang), svc.markup(rows))


async def help_command(update: Update, context: Context) -> None:
    """Explains how to ask and lists the commands."""
    svc, lang = services(context), language(update, context)
    blocks: list[Block] = [[Span(svc.text(key, lang))]
                           for key in ("services.help", *svc.help_lines)]
    blocks.append([Span(svc.text("service_note", lang), "i")])
    await send(update, context, split_html(blocks))


async def topics(update: Update, context: Context) -> None:
    """Shows the topic areas as buttons."""
    svc, lang = services(context), language(update, context)
    rows = chat.topic_rows(svc.kb, lang, replace=True)
    await send(update, context, split_html([[Span(svc.text("chat.topics", lang))]]),
               svc.markup(rows))


async def about(update: Update, context: Context) -> None:
    """Says which report the answers are quoted from, and when it was delivered."""
    svc, lang = services(context), language(update, context)
    blocks: list[Block] = [[Span(line)] for line in chat.about(svc.kb, lang)]
    blocks.append([Span(svc.text("service_note", lang), "i")])
    await send(update, context, split_html(blocks))


async def choose_language(update: Update, context: Context) -> None:
    """Switches the interface language (/lang zh), or offers English / 中文 buttons."""
    svc = services(context)
    wanted = (context.args or [""])[0].lower()[:2]
    if wanted in LANGS:
        await _set_language(update, context, wanted)
        await send(update, context, split_html([[Span(svc.text("chat.lang_set", wanted))]]))
        return
    lang = language(update, context)
    await send(update, context, split_html([[Span(svc.text("chat.lang_prompt", lang))]]),
               svc.markup(chat.language_rows(svc.kb, lang)))


async def _set_language(update: Update, context: Context, lang: str) -> None:
    """Keep the choice in the store (it outlives a restart) and for this conversation."""
    svc = services(context)
    await svc.service.set_language(_asker(svc, update), lang)
    if context.user_data is not None:
        context.user_data[LANG_KEY] = lang


async def forget(update: Update, context: Context) -> None:
    """Asks for confirmation before erasing everything logged about the user."""
    svc, lang, user = services(context), language(update, context), update.effective_user
    assert user is not None
    blocks: list[Block] = [[Span(svc.text("chat.forget_confirm", lang))]]
    for hook in svc.erase_hooks:
        note = await hook.note(svc, svc.user_hash(user), lang)
        if note:
            blocks.append([Span(note)])
    await send(update, context, split_html(blocks),
               svc.markup(chat.forget_rows(svc.kb, lang, svc.owner(user))))


# --------------------------------------------------------------------------- messages

async def answer_question(update: Update, context: Context) -> None:
    """Answers with the report's words, "did you mean" buttons, or an honest "I don't know"."""
    message = update.effective_message
    assert message is not None and message.text is not None
    question = _without_mention(message.text, context.bot.username)
    if not question:
        await help_command(update, context)
        return
    await _reply(update, context, lambda service, asker: service.ask(asker, question))


async def ask_for_text(update: Update, context: Context) -> None:
    """Asks for a typed question when sent a sticker, photo, voice message, file or location."""
    svc, lang = services(context), language(update, context)
    await send(update, context, split_html([[Span(svc.text("telegram.type_question", lang))]]))


# --------------------------------------------------------------------------- buttons

async def press_button(update: Update, context: Context) -> None:
    """Acts on a button; out-of-date or altered buttons get a short notice instead."""
    svc, query = services(context), update.callback_query
    assert query is not None
    lang = language(update, context)
    try:
        action = cb.decode(query.data, svc.button_key)
    except cb.CallbackDataError as exc:
        log.info("update %s: %s", update.update_id, exc)
        await toast(query, context, "telegram.stale_button", lang)
        return
    match action:
        case cb.Feedback():
            await _feedback(update, context, query, action, lang)
        case cb.ShowIntent():
            await _show_intent(update, context, query, action, action.lang or lang)
        case cb.ShowArea():
            await _show_area(update, context, query, action, action.lang or lang)
        case cb.ShowTopics(replace):
            await query.answer()
            rows = chat.topic_rows(svc.kb, lang, replace=True)
            await show(update, context, split_html([[Span(svc.text("chat.topics", lang))]]),
                       svc.markup(rows), replace)
        case cb.SetLanguage(new):
            # Answered first, as every press is: clients show a spinner on the button until then.
            await query.answer()
            await _set_language(update, context, new)
            await show(update, context, split_html([[Span(svc.text("chat.lang_set", new))]]),
                       None, replace=True)
        case cb.Forget():
            await _forget(update, context, query, action, lang)
        case _:  # a ticket button whose feature is not running: as good as out of date
            await toast(query, context, "telegram.stale_button", lang)


async def _feedback(update: Update, context: Context, query: CallbackQuery,
                    action: cb.Feedback, lang: str) -> None:
    svc = services(context)
    vote = await svc.service.vote(action.enquiry_id, svc.user_hash(query.from_user),
                                  action.helpful)
    if vote is Vote.GONE:  # erased meanwhile (/forget in another chat) or purged
        await toast(query, context, "telegram.stale_button", lang)
        return
    if vote is Vote.NOT_YOURS:
        await toast(query, context, "telegram.not_yours", lang)
        return
    await toast(query, context, "chat.feedback_thanks", lang)
    message = query.message
    if vote is Vote.ALREADY_VOTED or not isinstance(message, Message) \
            or message.reply_markup is None:
        return
    # One vote per answer: the 👍/👎 row goes, the related topics stay; after 👎 the features'
    # offers (handing the question to staff) join them.
    rows = [row for row in message.reply_markup.inline_keyboard
            if not any(_is_feedback(b, svc.button_key) for b in row)]
    if not action.helpful:
        extra = svc.markup(svc.offers_for(update, action.enquiry_id, lang))
        if extra is not None:
            rows += extra.inline_keyboard
    with contextlib.suppress(BadRequest):
        await message.edit_reply_markup(InlineKeyboardMarkup(rows) if rows else None)


def _is_feedback(button: InlineKeyboardButton, key: bytes) -> bool:
    try:
        return isinstance(cb.decode(cast(str | None, button.callback_data), key), cb.Feedback)
    except cb.CallbackDataError:
        return False


async def _show_intent(update: Update, context: Context, query: CallbackQuery,
                       action: cb.ShowIntent, lang: str) -> None:
    svc = services(context)
    intent = svc.responder.intent(action.intent_id)
    if intent is None:  # the knowledge base changed since the button was made
        await toast(query, context, "telegram.stale_button", lang)
        return
    await query.answer()
    question = intent.title(lang)
    if action.enquiry_id is not None:
        # A "did you mean" choice: logged under the question the user actually asked.
        asked = await svc.service.asked(action.enquiry_id, svc.user_hash(query.from_user))
        if asked is not None:
            question = asked.question
            if action.lang is None and chosen_language(context) is None:
                lang = asked.language  # a button from before buttons carried the language
    await _reply(update, context,
                 lambda service, asker: service.choose(asker, intent.id, lang, question))


async def _show_area(update: Update, context: Context, query: CallbackQuery,
                     action: cb.ShowArea, lang: str) -> None:
    svc = services(context)
    rows = chat.area_rows(svc.kb, action.area, lang)
    if rows is None:
        await toast(query, context, "telegram.stale_button", lang)
        return
    await query.answer()
    title = chat.area_title(svc.kb, action.area, lang)
    await show(update, context, split_html([[Span(title)]]), svc.markup(rows), action.replace)


async def _forget(update: Update, context: Context, query: CallbackQuery, action: cb.Forget,
                  lang: str) -> None:
    svc = services(context)
    if action.owner != svc.owner(query.from_user):
        await toast(query, context, "telegram.not_yours", lang)
        return
    await query.answer()
    if not action.confirm:
        await show(update, context, split_html([[Span(svc.text("chat.forget_cancelled",
                                                               lang))]]), None, replace=True)
        return
    erasure = await svc.service.erase(svc.user_hash(query.from_user))
    if context.user_data is not None:
        # The language choice, and any dialogue under way (a bare /ask waiting for its
        # question), go with the rest.
        context.user_data.clear()
    lines = [chat.forget_done(svc.kb, lang, erasure.enquiries)]
    for hook in svc.erase_hooks:
        line = await hook.done(svc, erasure, lang)
        if line:
            lines.append(line)
    await show(update, context, split_html([[Span(" ".join(lines))]]), None, replace=True)


# --------------------------------------------------------------------------- the user

async def recall_language(update: Update, context: Context) -> None:
    """Before any handler: the language the user chose, as the store keeps it, so that every
    text of this update is in it (after a restart too)."""
    user = update.effective_user
    if user is None or context.user_data is None:
        return
    svc = services(context)
    chosen = await svc.service.language(Asker(Transport.TELEGRAM, "", svc.user_hash(user)))
    if chosen is None:
        context.user_data.pop(LANG_KEY, None)
    else:
        context.user_data[LANG_KEY] = chosen


# --------------------------------------------------------------------------- wiring

def menu(settings: Settings) -> list[tuple[str, str]]:
    """This feature's commands in the command menu: (command, description text key)."""
    return [(command, f"telegram.commands.{command}") for command in COMMANDS]


def register(application: BotApp) -> None:
    """Register the commands, the general button handler and the question handlers."""
    application.add_handler(TypeHandler(Update, recall_language), group=USER_GROUP)
    for command, handler in (("start", start), ("help", help_command), ("topics", topics),
                             ("about", about), ("lang", choose_language), ("forget", forget)):
        application.add_handler(CommandHandler(command, handler), group=FEATURE_GROUP)
    application.add_handler(CallbackQueryHandler(press_button), group=FEATURE_GROUP)
    application.add_handler(MessageHandler(QUESTION, answer_question), group=FEATURE_GROUP)
    application.add_handler(MessageHandler(NOT_TEXT, ask_for_text), group=FEATURE_GROUP)
