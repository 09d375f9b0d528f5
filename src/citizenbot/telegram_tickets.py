"""Handing a question to district staff in Telegram, and bringing their answer back.

The citizen: an "Ask district staff" button under an "I don't know" (and after 👎), or
`/ask <question>` (or `/ask`, then the question), then a confirmation button. The ticket is
written to the store *before* the citizen is told its reference; then it is posted to the staff
chat (STAFF_CHAT_ID). `/mytickets` lists the citizen's tickets.

Staff: reply to the ticket's message in the staff chat, or `/reply Q-000042 <answer>` there or
(from an ADMIN_IDS user) in a private chat; `/tickets` lists the open ones, `/close` closes one
unanswered. Anyone else gets the unknown-command reply. An answer is recorded first, then
delivered, then the ticket is marked answered (or undeliverable) and the staff chat is told.

Nothing is lost when a part fails: a ticket the staff chat did not take stays open and is
posted again at the next start (and every FORWARD_RETRY_SECONDS); an answer recorded by
`citizenbot reply` without a token, or one Telegram did not take, is delivered by the running
bot's background loop. Deliveries are claimed in the store, so two processes never both send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final, cast

from telegram import Bot, CallbackQuery, LinkPreviewOptions, Message, ReplyParameters, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from citizenbot import callback_data as cb
from citizenbot.config import Settings
from citizenbot.html_text import Block, Span, split_html
from citizenbot.intents import KnowledgeBase, KnowledgeBaseError, Problem
from citizenbot.store import Store, StoreError, Ticket
from citizenbot.telegram_admin import is_admin
from citizenbot.telegram_admin import unknown_command as refuse
from citizenbot.telegram_bot import (
    MAX_TOAST,
    SERVICES,
    BotApp,
    BotServices,
    Context,
    Rows,
    _lang,
    _send,
    _services,
    _show,
)
from citizenbot.tickets import (
    MAX_OPEN_PER_USER,
    answer_blocks,
    fill,
    mine_blocks,
    open_list_blocks,
    parse_reference,
    reference,
    refusal_key,
    staff_card,
)

log = logging.getLogger(__name__)

DESK: Final = "citizenbot.tickets"
DRAFT_KEY: Final = "ticket_draft"
PENDING_CHECK_SECONDS: Final = 10.0  # how often the bot looks for answers waiting to be delivered
FORWARD_RETRY_SECONDS: Final = 600.0  # how often tickets the staff chat did not take are retried
DELIVERY_LEASE_SECONDS: Final = 300.0  # a claim older than this (a crashed sender) is taken over
AWAIT_SECONDS: Final = 600.0  # how long "/ask" alone waits for the question
STOP_GRACE_SECONDS: Final = 10.0
CITIZEN_COMMANDS: Final = ("ask", "mytickets")
STAFF_COMMANDS: Final = ("tickets", "reply", "close")

REQUIRED_TEXTS: Final = (
    "tickets.buttons.ask", "tickets.buttons.send", "tickets.buttons.cancel",
    "tickets.commands.ask", "tickets.commands.mytickets", "tickets.help", "tickets.ask_prompt",
    "tickets.confirm", "tickets.sent", "tickets.queued", "tickets.cancelled",
    "tickets.not_enabled", "tickets.private_only", "tickets.too_many", "tickets.already",
    "tickets.answer_title", "tickets.your_question", "tickets.answer_note", "tickets.mine_title",
    "tickets.mine_none", "tickets.status.open", "tickets.status.on_its_way",
    "tickets.status.answered", "tickets.status.undeliverable", "tickets.status.closed",
    "tickets.forget_note", "tickets.forget_done",
    "tickets.staff.new", "tickets.staff.retried", "tickets.staff.meta", "tickets.staff.how",
    "tickets.staff.delivered", "tickets.staff.undeliverable", "tickets.staff.delayed",
    "tickets.staff.unknown", "tickets.staff.already_answered",
    "tickets.staff.already_undeliverable", "tickets.staff.already_closed",
    "tickets.staff.already_pending", "tickets.staff.not_a_ticket", "tickets.staff.reply_usage",
    "tickets.staff.close_usage", "tickets.staff.closed_now", "tickets.staff.list_title",
    "tickets.staff.list_empty", "tickets.staff.not_forwarded", "tickets.staff.answer_waiting",
    "tickets.staff.more", "tickets.staff.erased",
)

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


# --------------------------------------------------------------------------- shared with the CLI

async def _send_html(bot: Bot, chat_id: int, blocks: Sequence[Block],
                     reply_to: int | None = None) -> Message:
    """Send `blocks` to `chat_id` (split if long); the first message sent."""
    first: Message | None = None
    for chunk in split_html(blocks):
        sent = await bot.send_message(
            chat_id, chunk, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW,
            reply_parameters=(ReplyParameters(reply_to, allow_sending_without_reply=True)
                              if reply_to is not None and first is None else None),
        )
        first = first or sent
    assert first is not None
    return first


def _reason(exc: TelegramError) -> str:
    return str(exc.message if hasattr(exc, "message") else exc)[:200]


async def forward(bot: Bot, store: Store, kb: KnowledgeBase, settings: Settings, ticket: Ticket,
                  *, late: bool = False) -> bool:
    """Post `ticket` to the staff chat and remember the message; False if it did not get there
    (the ticket stays open and unforwarded, and is tried again later)."""
    chat_id = settings.staff_chat_id
    if chat_id is None:
        return False
    try:
        message = await _send_html(bot, chat_id, staff_card(ticket, kb, settings.staff_language,
                                                             late=late))
    except TelegramError as exc:
        log.error("could not post %s to the staff chat %s: %s; it stays open and is posted "
                  "again later", reference(ticket.id), chat_id, exc)
        with contextlib.suppress(StoreError):
            await store.note_forward_error(ticket.id, _reason(exc))
        return False
    try:
        await store.mark_ticket_forwarded(ticket.id, chat_id, message.message_id)
    except StoreError as exc:
        log.error("%s reached the staff chat but could not be marked so (%s); it may be "
                  "posted twice", reference(ticket.id), exc)
    log.info("posted %s to the staff chat", reference(ticket.id))
    return True


@dataclass(frozen=True)
class Delivery:
    """What became of a staff answer: delivered, undeliverable, delayed (kept for a later
    try) or busy (another process is delivering it)."""

    outcome: str
    ticket: Ticket | None
    reason: str = ""


async def deliver(bot: Bot, store: Store, kb: KnowledgeBase, ticket_id: int) -> Delivery:
    """Send the ticket's recorded answer to the citizen and mark the ticket accordingly."""
    if not await store.claim_delivery(ticket_id, lease_seconds=DELIVERY_LEASE_SECONDS):
        return Delivery("busy", await store.get_ticket(ticket_id))
    ticket = await store.get_ticket(ticket_id)
    if ticket is None or ticket.answer is None:  # erased meanwhile (/forget)
        return Delivery("busy", ticket)
    try:
        await _send_html(bot, ticket.chat_id, answer_blocks(ticket, kb))
    except (Forbidden, BadRequest) as exc:
        # Blocked, chat deleted, account gone: Telegram's rule is not to try again.
        reason = _reason(exc)
        log.warning("%s: the answer could not be delivered (%s); marked undeliverable",
                    reference(ticket.id), reason)
        await store.finish_delivery(ticket.id, "undeliverable", reason)
        return Delivery("undeliverable", await store.get_ticket(ticket.id), reason)
    except TelegramError as exc:
        log.warning("%s: Telegram did not take the answer (%s); it is kept and sent again",
                    reference(ticket.id), exc)
        await store.release_delivery(ticket.id)
        return Delivery("delayed", ticket, _reason(exc))
    await store.finish_delivery(ticket.id, "answered")
    log.info("%s: the staff answer was delivered", reference(ticket.id))
    return Delivery("delivered", await store.get_ticket(ticket.id))


def delivery_text(kb: KnowledgeBase, lang: str, ticket_id: int, delivery: Delivery) -> str:
    ref = reference(ticket_id)
    if delivery.outcome in ("delivered", "undeliverable", "delayed"):
        return fill(kb.text(f"tickets.staff.{delivery.outcome}", lang), ref=ref,
                    reason=delivery.reason)
    return fill(kb.text("tickets.staff.already_pending", lang), ref=ref)


async def tell_staff(bot: Bot, settings: Settings, ticket: Ticket | None, text: str) -> bool:
    """Post `text` in the staff chat, under the ticket's message; False if it did not get there."""
    if settings.staff_chat_id is None:
        return False
    reply_to = None
    if ticket is not None and ticket.staff_chat_id == settings.staff_chat_id:
        reply_to = ticket.staff_message_id
    try:
        await _send_html(bot, settings.staff_chat_id, [[Span(text)]], reply_to=reply_to)
    except TelegramError as exc:
        log.warning("could not tell the staff chat %r: %s", text[:60], exc)
        return False
    return True


async def answer_and_deliver(bot: Bot, store: Store, kb: KnowledgeBase, settings: Settings,
                             ticket_id: int, answer: str, via: str) -> tuple[str, str, bool]:
    """Record a staff answer, deliver it, tell the staff chat.

    Returns (outcome, text for whoever answered, whether the staff chat was told). The outcome
    is a Delivery outcome, or why the answer was not taken ("unknown", "answered",
    "undeliverable", "closed", "pending"): then nothing was sent.
    """
    lang = settings.staff_language
    outcome, _ = await store.record_answer(ticket_id, answer, via)
    if outcome != "recorded":
        return outcome, fill(kb.text(refusal_key(outcome), lang), ref=reference(ticket_id)), False
    delivery = await deliver(bot, store, kb, ticket_id)
    text = delivery_text(kb, lang, ticket_id, delivery)
    told = await tell_staff(bot, settings, delivery.ticket, text)
    return delivery.outcome, text, told


# --------------------------------------------------------------------------- the bot's side

@dataclass
class TicketDesk:
    """Ticket state of a running bot, kept in `application.bot_data[DESK]`."""

    awaiting: dict[int, float] = field(default_factory=dict)  # user id -> monotonic deadline
    task: asyncio.Task[None] | None = None
    stopping: asyncio.Event | None = None
    # Held while a ticket is made and posted, or a waiting one re-posted: the loop must not
    # post a ticket a "Send" is posting right now (the staff chat would get it twice).
    forwarding: asyncio.Lock = field(default_factory=asyncio.Lock)

    def awaits(self, user_id: int) -> bool:
        deadline = self.awaiting.get(user_id)
        if deadline is not None and deadline < time.monotonic():
            del self.awaiting[user_id]
            return False
        return deadline is not None


def _desk(context: Context) -> TicketDesk:
    return cast(TicketDesk, context.bot_data[DESK])


def enabled(settings: Settings) -> bool:
    return settings.staff_chat_id is not None


def _is_staff(update: Update, settings: Settings) -> bool:
    """Sent in the staff chat (its members are staff), or by an ADMIN_IDS user privately."""
    chat = update.effective_chat
    if chat is not None and settings.staff_chat_id is not None \
            and chat.id == settings.staff_chat_id:
        return True
    return is_admin(update, settings)


def _owner(svc: BotServices, update: Update) -> str:
    assert update.effective_user is not None
    return svc.user_hash(update.effective_user)[:8]


def _after_command(message: Message) -> str:
    """The message text after its leading /command, line breaks kept."""
    text = message.text or ""
    parts = text.split(maxsplit=1)
    return parts[1].strip() if len(parts) == 2 else ""


async def _offer(update: Update, context: Context, question: str,
                 enquiry_id: int | None) -> None:
    """Show the question and ask for confirmation before anything goes to staff."""
    svc, lang = _services(context), _lang(update, context)
    owner = _owner(svc, update)
    rows: Rows = [[(svc.text("tickets.buttons.send", lang),
                    cb.SendTicket(True, owner, enquiry_id)),
                   (svc.text("tickets.buttons.cancel", lang),
                    cb.SendTicket(False, owner, enquiry_id))]]
    text = fill(svc.text("tickets.confirm", lang), question=question)
    sent = await _send(update, context, split_html([[Span(text)]]), svc.markup(rows))
    if enquiry_id is None and context.user_data is not None and sent is not None:
        # Kept with its confirmation: "Send" under an older one must not send this question.
        context.user_data[DRAFT_KEY] = (sent.message_id, question)


def _take_draft(context: Context, query: CallbackQuery) -> str | None:
    """The question typed after /ask whose confirmation carries the pressed button (taken)."""
    draft = (context.user_data or {}).get(DRAFT_KEY)
    if context.user_data is None or not isinstance(draft, tuple) or query.message is None \
            or draft[0] != query.message.message_id:
        return None
    del context.user_data[DRAFT_KEY]
    return cast(str, draft[1])


async def _say(update: Update, context: Context, key: str, **values: object) -> None:
    svc, lang = _services(context), _lang(update, context)
    await _send(update, context, split_html([[Span(fill(svc.text(key, lang), **values))]]))


async def ask(update: Update, context: Context) -> None:
    """/ask <question>: offer to hand it to staff; /ask alone: the next message is the question."""
    svc, chat, message = _services(context), update.effective_chat, update.effective_message
    assert chat is not None and message is not None and update.effective_user is not None
    if not enabled(svc.settings):
        await _say(update, context, "tickets.not_enabled")
        return
    if chat.type != "private":
        await _say(update, context, "tickets.private_only")
        return
    question = _after_command(message)
    if question:
        await _offer(update, context, question, None)
        return
    _desk(context).awaiting[update.effective_user.id] = time.monotonic() + AWAIT_SECONDS
    lang = _lang(update, context)
    rows: Rows = [[(svc.text("tickets.buttons.cancel", lang),
                    cb.SendTicket(False, _owner(svc, update)))]]
    await _send(update, context, split_html([[Span(svc.text("tickets.ask_prompt", lang))]]),
                svc.markup(rows))


async def awaited_question(update: Update, context: Context) -> None:
    """The message after a bare /ask: the question to offer."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and message.text is not None and user is not None
    _desk(context).awaiting.pop(user.id, None)
    await _offer(update, context, message.text.strip(), None)


async def my_tickets(update: Update, context: Context) -> None:
    """/mytickets: the user's tickets and their status, newest first (private chats only)."""
    svc, lang, chat = _services(context), _lang(update, context), update.effective_chat
    assert chat is not None and update.effective_user is not None
    if chat.type != "private":
        await _say(update, context, "tickets.private_only")
        return
    mine = await svc.store.tickets(user_hash=svc.user_hash(update.effective_user),
                                   newest_first=True, limit=100)
    await _send(update, context, split_html(mine_blocks(mine, svc.kb, lang)))


async def list_open(update: Update, context: Context) -> None:
    """/tickets (staff): open tickets, oldest first, with the ones not yet forwarded flagged."""
    svc = _services(context)
    if not _is_staff(update, svc.settings):
        await refuse(update, context)
        return
    waiting = await svc.store.tickets(open_only=True)
    blocks = open_list_blocks(waiting, svc.kb, svc.settings.staff_language, datetime.now(UTC))
    await _send(update, context, split_html(blocks))


async def reply_command(update: Update, context: Context) -> None:
    """/reply Q-000042 <answer> (staff chat or an admin)."""
    svc, message = _services(context), update.effective_message
    assert message is not None
    if not _is_staff(update, svc.settings):
        await refuse(update, context)
        return
    ref, _, answer = _after_command(message).partition(" ")
    if "\n" in ref:
        ref, _, rest = ref.partition("\n")
        answer = f"{rest} {answer}".strip()
    ticket_id = parse_reference(ref)
    if ticket_id is None or not answer.strip():
        await _staff_say(update, context, "tickets.staff.reply_usage")
        return
    await _answer(update, context, ticket_id, answer.strip())


async def close_command(update: Update, context: Context) -> None:
    """/close Q-000042 (staff): close a ticket without an answer (spam, duplicates)."""
    svc, message = _services(context), update.effective_message
    assert message is not None
    if not _is_staff(update, svc.settings):
        await refuse(update, context)
        return
    ref, _, note = _after_command(message).partition(" ")
    ticket_id = parse_reference(ref)
    if ticket_id is None:
        await _staff_say(update, context, "tickets.staff.close_usage")
        return
    outcome, _ = await svc.store.close_ticket(ticket_id, note.strip()[:300] or None)
    if outcome == "closed":
        log.info("%s closed without an answer", reference(ticket_id))
    key = "tickets.staff.closed_now" if outcome == "closed" else refusal_key(outcome)
    await _staff_say(update, context, key, ref=reference(ticket_id))


async def staff_reply(update: Update, context: Context) -> None:
    """A reply to one of the bot's messages in the staff chat: the answer to that ticket."""
    svc, message, chat = _services(context), update.effective_message, update.effective_chat
    assert message is not None and chat is not None and message.reply_to_message is not None
    ticket = await svc.store.ticket_for_staff_message(chat.id, message.reply_to_message.message_id)
    if ticket is None:
        await _staff_say(update, context, "tickets.staff.not_a_ticket")
        return
    answer = (message.text or "").strip()
    username = context.bot.username
    if username and answer.casefold().startswith(f"@{username}".casefold()):
        answer = answer[len(username) + 1:].strip()
    if not answer:
        await _staff_say(update, context, "tickets.staff.reply_usage")
        return
    await _answer(update, context, ticket.id, answer)


async def _staff_say(update: Update, context: Context, key: str, **values: object) -> None:
    svc = _services(context)
    text = fill(svc.text(key, svc.settings.staff_language), **values)
    await _send(update, context, split_html([[Span(text)]]))


async def _answer(update: Update, context: Context, ticket_id: int, answer: str) -> None:
    svc, chat = _services(context), update.effective_chat
    assert chat is not None
    _, text, told = await answer_and_deliver(context.bot, svc.store, svc.kb, svc.settings,
                                             ticket_id, answer, "telegram")
    if not told or chat.id != svc.settings.staff_chat_id:
        # The staff chat heard it already, unless the answer came from elsewhere (an admin).
        await _send(update, context, split_html([[Span(text)]]))


# --------------------------------------------------------------------------- buttons

def _is_ticket_action(data: object, key: bytes) -> bool:
    try:
        action = cb.decode(cast(str | None, data), key)
    except cb.CallbackDataError:
        return False
    return isinstance(action, cb.AskStaff | cb.SendTicket)


async def press_ticket_button(update: Update, context: Context) -> None:
    svc, query = _services(context), update.callback_query
    assert query is not None
    lang = _lang(update, context)
    action = cb.decode(query.data, svc.button_key)
    stale = svc.text("telegram.stale_button", lang)[:MAX_TOAST]
    if not enabled(svc.settings):
        await query.answer(svc.text("tickets.not_enabled", lang)[:MAX_TOAST])
        return
    if isinstance(action, cb.AskStaff):
        enquiry = await svc.store.get_enquiry(action.enquiry_id)
        if enquiry is None or enquiry.user_hash != svc.user_hash(query.from_user):
            key = "telegram.stale_button" if enquiry is None else "telegram.not_yours"
            await query.answer(svc.text(key, lang)[:MAX_TOAST])
            return
        await query.answer()
        existing = await svc.store.ticket_for_enquiry(action.enquiry_id)
        if existing is not None:
            await _say(update, context, "tickets.already", ref=reference(existing.id))
            return
        await _offer(update, context, enquiry.question, action.enquiry_id)
    elif isinstance(action, cb.SendTicket):
        if action.owner != _owner(svc, update):
            await query.answer(svc.text("telegram.not_yours", lang)[:MAX_TOAST])
            return
        if not action.confirm:
            _desk(context).awaiting.pop(query.from_user.id, None)
            _take_draft(context, query)
            await query.answer()
            await _show(update, context, split_html([[Span(svc.text("tickets.cancelled",
                                                                    lang))]]), None, replace=True)
            return
        await _send_ticket(update, context, query, action, lang, stale)


async def _send_ticket(update: Update, context: Context, query: CallbackQuery,
                       action: cb.SendTicket, lang: str, stale: str) -> None:
    svc, chat = _services(context), update.effective_chat
    assert chat is not None
    user_hash = svc.user_hash(query.from_user)
    question: str | None = None
    if action.enquiry_id is not None:
        enquiry = await svc.store.get_enquiry(action.enquiry_id)
        if enquiry is not None and enquiry.user_hash == user_hash:
            question = enquiry.question
        existing = await svc.store.ticket_for_enquiry(action.enquiry_id)
        if existing is not None:  # pressed twice
            await query.answer()
            await _replace(update, context, "tickets.already", lang, ref=reference(existing.id))
            return
    else:
        question = _take_draft(context, query)
    if not question:
        await query.answer(stale)
        return
    waiting = await svc.store.count_open_tickets(user_hash)
    await query.answer()
    if waiting >= MAX_OPEN_PER_USER:
        await _replace(update, context, "tickets.too_many", lang, count=waiting)
        return
    async with _desk(context).forwarding:
        # Written first: whatever fails after this, the question is not lost.
        ticket = await svc.store.create_ticket(
            user_hash=user_hash, chat_id=chat.id, language=lang, question=question,
            enquiry_id=action.enquiry_id)
        log.info("%s opened by user %s…", reference(ticket.id), user_hash[:8])
        forwarded = await forward(context.bot, svc.store, svc.kb, svc.settings, ticket)
    await _replace(update, context, "tickets.sent" if forwarded else "tickets.queued", lang,
                   ref=reference(ticket.id))


async def _replace(update: Update, context: Context, key: str, lang: str,
                   **values: object) -> None:
    svc = _services(context)
    text = fill(svc.text(key, lang), **values)
    await _show(update, context, split_html([[Span(text)]]), None, replace=True)


# --------------------------------------------------------------------------- used by /forget

async def forget_note(svc: BotServices, user_hash: str, lang: str) -> str | None:
    """The line /forget adds to its confirmation when the user has tickets."""
    mine = await svc.store.tickets(user_hash=user_hash, limit=1)
    return svc.text("tickets.forget_note", lang) if mine else None


async def erase_tickets(svc: BotServices, bot: Bot, user_hash: str, lang: str) -> str | None:
    """Erase the user's tickets and withdraw their questions from the staff chat; the line
    /forget adds to its report (None when there were none)."""
    erased = await svc.store.erase_user_tickets(user_hash)
    for ticket in erased:
        if ticket.staff_chat_id is None or ticket.staff_message_id is None:
            continue
        text = fill(svc.text("tickets.staff.erased", svc.settings.staff_language),
                    ref=reference(ticket.id))
        try:
            await bot.edit_message_text(text, chat_id=ticket.staff_chat_id,
                                        message_id=ticket.staff_message_id, parse_mode=None)
        except TelegramError as exc:
            log.warning("could not withdraw %s from the staff chat: %s", reference(ticket.id),
                        exc)
    if not erased:
        return None
    log.info("erased %d tickets at the request of user %s…", len(erased), user_hash[:8])
    return fill(svc.text("tickets.forget_done", lang), count=len(erased))


def stop_awaiting(context: Context, user_id: int) -> None:
    """The user's next message is a question again, not the one a bare /ask waits for."""
    desk = context.bot_data.get(DESK)
    if isinstance(desk, TicketDesk):
        desk.awaiting.pop(user_id, None)


def menu_commands(svc: BotServices) -> tuple[str, ...]:
    """Commands to add to the command menu (the citizen's; only when the handover is on)."""
    return CITIZEN_COMMANDS if enabled(svc.settings) else ()


# --------------------------------------------------------------------------- background work

async def catch_up(application: BotApp, *, forward_waiting: bool) -> None:
    """Deliver answers waiting for delivery; post tickets the staff chat never got."""
    svc = cast(BotServices, application.bot_data[SERVICES])
    bot = application.bot
    desk = application.bot_data.get(DESK)
    if forward_waiting and enabled(svc.settings) and isinstance(desk, TicketDesk):
        for waiting in await svc.store.unforwarded_tickets():
            async with desk.forwarding:
                ticket = await svc.store.get_ticket(waiting.id)  # posted meanwhile? erased?
                if ticket is None or ticket.forwarded or ticket.status != "open" \
                        or ticket.answer is not None:
                    continue
                if not await forward(bot, svc.store, svc.kb, svc.settings, ticket, late=True):
                    break  # the staff chat is still unreachable; the rest wait for the next round
    for ticket in await svc.store.pending_answers(lease_seconds=DELIVERY_LEASE_SECONDS):
        delivery = await deliver(bot, svc.store, svc.kb, ticket.id)
        if delivery.outcome == "delayed":
            break  # Telegram is unreachable: no point trying the others now (and no notice
            # every round: staff heard "delayed" when they answered)
        if delivery.outcome != "busy":
            await tell_staff(bot, svc.settings, delivery.ticket,
                             delivery_text(svc.kb, svc.settings.staff_language, ticket.id,
                                           delivery))


async def _work(application: BotApp, desk: TicketDesk) -> None:
    assert desk.stopping is not None
    last_forward = -float("inf")
    while not desk.stopping.is_set():
        due = time.monotonic() - last_forward >= FORWARD_RETRY_SECONDS
        try:
            await catch_up(application, forward_waiting=due)
        except Exception:  # the loop must outlive a bad round (database locked, a bug)
            log.exception("the ticket round failed; trying again later")
        if due:
            last_forward = time.monotonic()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(desk.stopping.wait(), PENDING_CHECK_SECONDS)


async def start_ticket_work(application: BotApp) -> None:
    """Start the background loop (after application.start): first it posts the tickets the
    staff chat did not take and delivers answers waiting, then it checks every few seconds."""
    desk = application.bot_data.get(DESK)
    if not isinstance(desk, TicketDesk) or desk.task is not None:
        return
    desk.stopping = asyncio.Event()
    desk.task = asyncio.create_task(_work(application, desk), name="citizenbot tickets")


async def stop_ticket_work(application: BotApp) -> None:
    """Let the loop finish its round (a delivery is never cut in half), then end it."""
    desk = application.bot_data.get(DESK)
    if not isinstance(desk, TicketDesk) or desk.task is None:
        return
    task, desk.task = desk.task, None
    assert desk.stopping is not None
    desk.stopping.set()
    try:
        await asyncio.wait_for(task, STOP_GRACE_SECONDS)
    except TimeoutError:
        log.warning("the ticket loop did not stop in %d s; cancelled", STOP_GRACE_SECONDS)
    except Exception:
        log.exception("the ticket loop failed")


# --------------------------------------------------------------------------- wiring

class _AwaitingQuestion(filters.MessageFilter):
    """A private text message from a user who sent /ask alone."""

    def __init__(self, desk: TicketDesk) -> None:
        super().__init__(name="awaiting_ticket_question")
        self.desk = desk

    def filter(self, message: Message) -> bool:
        user = message.from_user
        return message.chat.type == "private" and user is not None and self.desk.awaits(user.id)


class _ReplyToBot(filters.MessageFilter):
    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        return replied is not None and replied.from_user is not None \
            and replied.from_user.id == message.get_bot().id


def check_texts(kb: KnowledgeBase) -> None:
    missing = [key for key in REQUIRED_TEXTS if not kb.has_text(key)]
    if missing:
        raise KnowledgeBaseError([Problem("texts.tickets.yml", f"missing the text '{key}'")
                                  for key in missing])


def add_handlers(application: BotApp) -> None:
    """Register the ticket handlers; call before the general button and question handlers."""
    svc = cast(BotServices, application.bot_data[SERVICES])
    check_texts(svc.kb)
    desk = TicketDesk()
    application.bot_data[DESK] = desk
    key = svc.button_key
    application.add_handler(CommandHandler("ask", ask))
    application.add_handler(CommandHandler("mytickets", my_tickets))
    application.add_handler(CommandHandler("tickets", list_open))
    application.add_handler(CommandHandler("reply", reply_command))
    application.add_handler(CommandHandler("close", close_command))
    application.add_handler(CallbackQueryHandler(
        press_ticket_button, pattern=lambda data: _is_ticket_action(data, key)))
    text = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
    if svc.settings.staff_chat_id is not None:
        application.add_handler(MessageHandler(
            text & filters.Chat(svc.settings.staff_chat_id) & _ReplyToBot(), staff_reply))
    application.add_handler(MessageHandler(text & _AwaitingQuestion(desk), awaited_question))


# --------------------------------------------------------------------------- the command line

async def deliver_from_cli(settings: Settings, store: Store, kb: KnowledgeBase,
                           ticket_id: int) -> Delivery:
    """`citizenbot reply` with a token: deliver a recorded answer through the Bot API now and
    tell the staff chat. When Telegram cannot be reached (or refuses the token) the answer
    stays recorded ("delayed") and the running bot delivers it."""
    from citizenbot.telegram_bot import protect_secrets

    assert settings.token
    protect_secrets(settings.token)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the token URL
    bot = Bot(settings.token, base_url=settings.api_url)
    try:
        async with bot:  # getMe first: a wrong token or no connection shows here
            delivery = await deliver(bot, store, kb, ticket_id)
            if delivery.outcome != "busy":
                await tell_staff(bot, settings, delivery.ticket,
                                 delivery_text(kb, settings.staff_language, ticket_id, delivery))
            return delivery
    except TelegramError as exc:
        with contextlib.suppress(StoreError):
            await store.release_delivery(ticket_id)
        return Delivery("delayed", await store.get_ticket(ticket_id), _reason(exc))
