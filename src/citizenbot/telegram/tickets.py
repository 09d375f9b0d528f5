"""Handing a question to district staff in Telegram, and bringing their answer back.

The citizen: an "Ask district staff" button under an "I don't know" (and after 👎), or
`/ask <question>`, or `/ask` and then the question, then a confirmation. The bare `/ask` and its
confirmation are one dialogue, a ConversationHandler: it waits AWAIT_SECONDS for each step and
ends on Send, Cancel, /forget or the timeout. The ticket is written to the store before the
citizen is told its reference; then it is posted to the staff chat (STAFF_CHAT_ID).
`/mytickets` lists the citizen's tickets.

Staff: reply to the ticket's message in the staff chat, or `/reply Q-000042 <answer>` there or
(from an ADMIN_IDS user) in a private chat; `/tickets` lists the open ones, `/close` closes one
unanswered. Anyone else gets the unknown-command reply.

Two JobQueue jobs keep the promise that nothing is lost: answers waiting for delivery (recorded
by `citizenbot reply`, or not taken by Telegram) are delivered every PENDING_CHECK_SECONDS, and
tickets the staff chat did not take are posted again every FORWARD_RETRY_SECONDS; both run at
start too. The workflow itself is service.tickets.TicketDesk.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, NoReturn, cast

from telegram import CallbackQuery, Message, Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from citizenbot import callback_data as cb
from citizenbot.config import Settings
from citizenbot.html_text import Span, split_html
from citizenbot.model import MAX_QUESTION_CHARS, Erasure, Settle
from citizenbot.telegram.common import (
    DIALOGUE_GROUP,
    FEATURE_GROUP,
    BotApp,
    BotServices,
    Context,
    EraseHook,
    Offer,
    Rows,
    every,
    is_admin,
    language,
    say,
    send,
    services,
    services_of,
    show,
    toast,
    unknown_command,
)
from citizenbot.texts import declare
from citizenbot.tickets import (
    MAX_OPEN_PER_USER,
    card_reference,
    mine_blocks,
    open_list_blocks,
    parse_reference,
    reference,
    refusal_key,
    storable_question,
    too_long,
)

log = logging.getLogger(__name__)

PENDING_CHECK_SECONDS: Final = 10.0  # how often answers waiting to be delivered are looked for
FORWARD_RETRY_SECONDS: Final = 600.0  # how often tickets the staff chat did not take are retried
AWAIT_SECONDS: Final = 600.0  # how long each step of the /ask dialogue waits
MAX_CLOSE_NOTE: Final = 300
CITIZEN_COMMANDS: Final = ("ask", "mytickets")
DRAFT_KEY: Final = "ticket_draft"
FORWARD_NOW: Final = "forwarding new tickets"
ASKING: Final = "waiting for the question"
CONFIRMING: Final = "waiting for send or cancel"

TEXTS: Final = declare("texts.tickets.yml", {
    "tickets.buttons.ask": (), "tickets.buttons.send": (), "tickets.buttons.cancel": (),
    "tickets.commands.ask": (), "tickets.commands.mytickets": (), "tickets.help": (),
    "tickets.ask_prompt": (), "tickets.confirm": ("question",), "tickets.cut": ("limit",),
    "tickets.sent": ("ref",),
    "tickets.queued": ("ref",), "tickets.cancelled": (), "tickets.not_enabled": (),
    "tickets.private_only": (), "tickets.too_many": ("count",), "tickets.already": ("ref",),
    "tickets.answer_title": ("ref",), "tickets.your_question": (), "tickets.answer_note": (),
    "tickets.mine_title": (), "tickets.mine_none": (),
    **{f"tickets.status.{s}": () for s in ("open", "on_its_way", "answered", "undeliverable",
                                           "closed")},
    "tickets.forget_note": (), "tickets.forget_done": ("count",),
    "tickets.staff.new": ("ref",), "tickets.staff.retried": ("time",),
    "tickets.staff.meta": ("lang", "user", "time"), "tickets.staff.how": ("ref",),
    "tickets.staff.delivered": ("ref", "reason"), "tickets.staff.undeliverable": ("ref", "reason"),
    "tickets.staff.delayed": ("ref", "reason"), "tickets.staff.unknown": ("ref",),
    "tickets.staff.already_answered": ("ref",), "tickets.staff.already_undeliverable": ("ref",),
    "tickets.staff.already_closed": ("ref",), "tickets.staff.already_pending": ("ref", "reason"),
    "tickets.staff.not_a_ticket": (), "tickets.staff.reply_usage": (),
    "tickets.staff.close_usage": (), "tickets.staff.closed_now": ("ref",),
    "tickets.staff.list_title": ("count",), "tickets.staff.list_empty": (),
    "tickets.staff.not_forwarded": (), "tickets.staff.answer_waiting": (),
    "tickets.staff.more": ("count",), "tickets.staff.erased": ("ref",),
})


@dataclass(frozen=True)
class _Draft:
    """The /ask dialogue's step, kept in user_data: the message whose buttons belong to it
    (the prompt, then the confirmation) and, once typed, the question."""

    message_id: int | None  # None: sent, but Telegram's response (its id) never came
    question: str | None = None

    def owns(self, message: object) -> bool:
        """Whether the buttons under ``message`` belong to this step of the dialogue."""
        if self.message_id is None:
            return True
        return isinstance(message, Message) and message.message_id == self.message_id


def _stop(state: object = None) -> NoReturn:
    """This update is handled: no feature after the dialogue sees it. ``state``: the next step
    (ConversationHandler.END ends the dialogue, None keeps the step it is at)."""
    raise ApplicationHandlerStop(state)


def _draft(context: Context) -> _Draft | None:
    draft = (context.user_data or {}).get(DRAFT_KEY)
    return draft if isinstance(draft, _Draft) else None


def _is_staff(update: Update, svc: BotServices) -> bool:
    """Sent in the staff chat (its members are staff), or by an ADMIN_IDS user privately."""
    chat = update.effective_chat
    if chat is not None and chat.id == svc.desk.staff.chat_id:
        return True
    return is_admin(update, svc.settings)


def _after_command(message: Message) -> str:
    """The message text after its leading /command, line breaks kept."""
    parts = (message.text or "").split(maxsplit=1)
    return parts[1].strip() if len(parts) == 2 else ""


async def _replace(update: Update, context: Context, key: str, lang: str,
                   **values: object) -> None:
    text = services(context).fill(key, lang, **values)
    await show(update, context, split_html([[Span(text)]]), None, replace=True)


async def _offer(update: Update, context: Context, question: str,
                 enquiry_id: int | None) -> None:
    """Show the question and ask for confirmation before anything goes to staff."""
    svc, lang, user = services(context), language(update, context), update.effective_user
    assert user is not None
    owner = svc.owner(user)
    rows: Rows = [[(svc.text("tickets.buttons.send", lang),
                    cb.SendTicket(True, owner, enquiry_id)),
                   (svc.text("tickets.buttons.cancel", lang),
                    cb.SendTicket(False, owner, enquiry_id))]]
    cut = too_long(question)
    question = storable_question(question)
    text = svc.fill("tickets.confirm", lang, question=question)
    if cut:
        # What staff get is what the citizen confirms: the first MAX_QUESTION_CHARS, and they
        # are told so.
        text += "\n\n" + svc.fill("tickets.cut", lang, limit=MAX_QUESTION_CHARS)
    if enquiry_id is None and context.user_data is not None:
        # Kept before the confirmation goes out: if Telegram's response to it is lost, its
        # Send button must still work (message id None: the newest confirmation is this one).
        context.user_data[DRAFT_KEY] = _Draft(None, question)
    sent = await send(update, context, split_html([[Span(text)]]), svc.markup(rows))
    if enquiry_id is None and context.user_data is not None and sent is not None:
        # Kept with its confirmation: "Send" under an older one must not send this question.
        context.user_data[DRAFT_KEY] = _Draft(sent.message_id, question)


async def _send_ticket(update: Update, context: Context, query: CallbackQuery, question: str,
                       enquiry_id: int | None, lang: str) -> None:
    svc, chat = services(context), update.effective_chat
    assert chat is not None
    user_hash = svc.user_hash(query.from_user)
    waiting = await svc.desk.count_open(user_hash)
    await query.answer()
    if waiting >= MAX_OPEN_PER_USER:
        await _replace(update, context, "tickets.too_many", lang, count=waiting)
        return
    opened = await svc.desk.open(user_hash=user_hash, chat_id=chat.id, language=lang,
                                 question=question, enquiry_id=enquiry_id)
    forward_soon(context)
    await _replace(update, context, "tickets.sent" if opened.forwarded else "tickets.queued",
                   lang, ref=reference(opened.ticket.id))


# --------------------------------------------------------------------------- the /ask dialogue

async def ask(update: Update, context: Context) -> object:
    """/ask <question>: offer to hand it to staff; /ask alone: the next message is the question."""
    svc, chat, message = services(context), update.effective_chat, update.effective_message
    assert chat is not None and message is not None and update.effective_user is not None
    if not svc.desk.staff.enabled:
        await say(update, context, "tickets.not_enabled")
        _stop(ConversationHandler.END)
    if chat.type != "private":
        await say(update, context, "tickets.private_only")
        _stop(ConversationHandler.END)
    question = _after_command(message)
    if question:
        await _offer(update, context, question, None)
        _stop(CONFIRMING)
    lang = language(update, context)
    rows: Rows = [[(svc.text("tickets.buttons.cancel", lang),
                    cb.SendTicket(False, svc.owner(update.effective_user)))]]
    sent = await send(update, context, split_html([[Span(svc.text("tickets.ask_prompt", lang))]]),
                      svc.markup(rows))
    if sent is not None and context.user_data is not None:
        context.user_data[DRAFT_KEY] = _Draft(sent.message_id)
    _stop(ASKING)


async def typed_question(update: Update, context: Context) -> object:
    """The message after a bare /ask: the question to offer."""
    message = update.effective_message
    assert message is not None and message.text is not None
    draft = _draft(context)
    if draft is None or draft.question is not None:
        # /forget cleared the dialogue meanwhile: an ordinary question again, for the features.
        return ConversationHandler.END
    await _offer(update, context, message.text.strip(), None)
    _stop(CONFIRMING)


async def draft_button(update: Update, context: Context) -> object:
    """Send or Cancel under the dialogue's prompt or confirmation."""
    svc, query = services(context), update.callback_query
    assert query is not None
    lang = language(update, context)
    action = cb.decode(query.data, svc.button_key)
    assert isinstance(action, cb.SendTicket)
    if action.owner != svc.owner(query.from_user):
        await toast(query, context, "telegram.not_yours", lang)
        _stop()
    draft = _draft(context)
    current = draft is not None and draft.owns(query.message)
    if not action.confirm:
        await query.answer()
        await _replace(update, context, "tickets.cancelled", lang)
        if current and context.user_data is not None:
            del context.user_data[DRAFT_KEY]
            _stop(ConversationHandler.END)
        _stop()  # an older confirmation: the newer draft stays
    if not current or draft is None or draft.question is None:
        await toast(query, context, "telegram.stale_button", lang)
        _stop()
    if context.user_data is not None:
        del context.user_data[DRAFT_KEY]
    await _send_ticket(update, context, query, draft.question, None, lang)
    _stop(ConversationHandler.END)


async def expired(update: Update, context: Context) -> None:
    """The dialogue timed out: its draft goes (its buttons are out of date from now on)."""
    if context.user_data is not None:
        context.user_data.pop(DRAFT_KEY, None)


def _is_draft_button(data: object, key: bytes) -> bool:
    try:
        action = cb.decode(cast(str | None, data), key)
    except cb.CallbackDataError:
        return False
    return isinstance(action, cb.SendTicket) and action.enquiry_id is None


def dialogue(key: bytes) -> ConversationHandler[Context]:
    """The bare /ask and its confirmation, as python-telegram-bot's ConversationHandler."""
    buttons = CallbackQueryHandler(draft_button, pattern=lambda data: _is_draft_button(data, key))
    text = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE
    with warnings.catch_warnings():
        # The dialogue's buttons are tracked per chat and user, not per message, on purpose
        # (a draft names the message it belongs to); python-telegram-bot warns that it is so.
        warnings.filterwarnings("ignore", message=".*per_message=False", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[CommandHandler("ask", ask)],
            states={ASKING: [MessageHandler(text, typed_question), buttons],
                    CONFIRMING: [buttons],
                    ConversationHandler.TIMEOUT: [TypeHandler(Update, expired)]},
            fallbacks=[],
            allow_reentry=True,  # a new /ask replaces the draft under way
            conversation_timeout=AWAIT_SECONDS,
            name="ask",
        )


# --------------------------------------------------------------------------- the citizen

async def my_tickets(update: Update, context: Context) -> None:
    """/mytickets: the user's tickets and their status, newest first (private chats only)."""
    svc, lang, chat = services(context), language(update, context), update.effective_chat
    assert chat is not None and update.effective_user is not None
    if chat.type != "private":
        await say(update, context, "tickets.private_only")
        return
    mine = await svc.desk.mine(svc.user_hash(update.effective_user))
    await send(update, context, split_html(mine_blocks(mine, svc.kb, lang)))


async def press_ticket_button(update: Update, context: Context) -> None:
    """"Ask district staff" under an answer, and Send or Cancel under a confirmation."""
    svc, query = services(context), update.callback_query
    assert query is not None
    lang = language(update, context)
    action = cb.decode(query.data, svc.button_key)
    if not svc.desk.staff.enabled:
        await toast(query, context, "tickets.not_enabled", lang)
        return
    if isinstance(action, cb.AskStaff):
        enquiry = await svc.service.enquiry(action.enquiry_id)
        if enquiry is None or enquiry.user_hash != svc.user_hash(query.from_user):
            await toast(query, context, "telegram.stale_button" if enquiry is None
                        else "telegram.not_yours", lang)
            return
        await query.answer()
        existing = await svc.desk.for_enquiry(action.enquiry_id)
        if existing is not None:
            await say(update, context, "tickets.already", ref=reference(existing.id))
            return
        await _offer(update, context, enquiry.question, action.enquiry_id)
    elif isinstance(action, cb.SendTicket):
        if action.owner != svc.owner(query.from_user):
            await toast(query, context, "telegram.not_yours", lang)
            return
        if not action.confirm:
            await query.answer()
            await _replace(update, context, "tickets.cancelled", lang)
            return
        if action.enquiry_id is None:
            draft = _draft(context)
            if draft is not None and draft.question is not None and draft.owns(query.message):
                # The dialogue never started: /ask <question> whose confirmation's response
                # was lost. The draft was kept before it was sent, so Send still works.
                if context.user_data is not None:
                    del context.user_data[DRAFT_KEY]
                await _send_ticket(update, context, query, draft.question, None, lang)
                return
            await toast(query, context, "telegram.stale_button", lang)  # the dialogue ended
            return
        await _send_enquiry(update, context, query, action.enquiry_id, lang)


async def _send_enquiry(update: Update, context: Context, query: CallbackQuery,
                        enquiry_id: int, lang: str) -> None:
    svc = services(context)
    existing = await svc.desk.for_enquiry(enquiry_id)
    if existing is not None:  # pressed twice
        await query.answer()
        await _replace(update, context, "tickets.already", lang, ref=reference(existing.id))
        return
    enquiry = await svc.service.asked(enquiry_id, svc.user_hash(query.from_user))
    if enquiry is None or not enquiry.question:
        await toast(query, context, "telegram.stale_button", lang)
        return
    await _send_ticket(update, context, query, enquiry.question, enquiry_id, lang)


def _is_ticket_action(data: object, key: bytes) -> bool:
    try:
        action = cb.decode(cast(str | None, data), key)
    except cb.CallbackDataError:
        return False
    return isinstance(action, cb.AskStaff | cb.SendTicket)


# --------------------------------------------------------------------------- staff

async def _staff_say(update: Update, context: Context, key: str, **values: object) -> None:
    svc = services(context)
    text = svc.fill(key, svc.desk.staff.language, **values)
    await send(update, context, split_html([[Span(text)]]))


async def list_open(update: Update, context: Context) -> None:
    """/tickets (staff): open tickets, oldest first, with the ones not yet forwarded flagged."""
    svc = services(context)
    if not _is_staff(update, svc):
        await unknown_command(update, context)
        return
    blocks = open_list_blocks(await svc.desk.open_tickets(), svc.kb, svc.desk.staff.language,
                              datetime.now(UTC))
    await send(update, context, split_html(blocks))


async def reply_command(update: Update, context: Context) -> None:
    """/reply Q-000042 <answer> (staff chat or an admin)."""
    svc, message = services(context), update.effective_message
    assert message is not None
    if not _is_staff(update, svc):
        await unknown_command(update, context)
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
    svc, message = services(context), update.effective_message
    assert message is not None
    if not _is_staff(update, svc):
        await unknown_command(update, context)
        return
    ref, _, note = _after_command(message).partition(" ")
    ticket_id = parse_reference(ref)
    if ticket_id is None:
        await _staff_say(update, context, "tickets.staff.close_usage")
        return
    settle = await svc.desk.close(ticket_id, note.strip()[:MAX_CLOSE_NOTE] or None)
    if settle is Settle.DONE:
        log.info("%s closed without an answer", reference(ticket_id))
    closed = settle in (Settle.DONE, Settle.CLOSED)
    await _staff_say(update, context, "tickets.staff.closed_now" if closed
                     else refusal_key(settle), ref=reference(ticket_id))


async def staff_reply(update: Update, context: Context) -> None:
    """A reply to one of the bot's messages in the staff chat: the answer to that ticket."""
    svc, message, chat = services(context), update.effective_message, update.effective_chat
    assert message is not None and chat is not None and message.reply_to_message is not None
    replied = message.reply_to_message
    ticket = await svc.desk.for_staff_message(chat.id, replied.message_id)
    if ticket is None:
        # A second card of one ticket (posted again because Telegram's response to the first
        # was lost) is not the one the store remembers: its heading names the ticket.
        card = card_reference(replied.text or "", svc.kb, svc.desk.staff.language)
        ticket = await svc.desk.storage.get_ticket(card) if card is not None else None
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


async def _answer(update: Update, context: Context, ticket_id: int, answer: str) -> None:
    svc, chat = services(context), update.effective_chat
    assert chat is not None
    answering = await svc.desk.answer(svc.messenger, ticket_id, answer, "telegram")
    if answering.delivery is None:
        text = svc.fill(refusal_key(answering.settle), svc.desk.staff.language,
                        ref=reference(ticket_id), reason="")
    else:
        text = svc.desk.delivery_text(ticket_id, answering.delivery)
    if not answering.told or chat.id != svc.desk.staff.chat_id:
        # The staff chat heard it already, unless the answer came from elsewhere (an admin).
        await send(update, context, split_html([[Span(text)]]))


class _ReplyToBot(filters.MessageFilter):
    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        return replied is not None and replied.from_user is not None \
            and replied.from_user.id == message.get_bot().id


# --------------------------------------------------------------------------- contributions

def _ask_staff(svc: BotServices) -> Offer:
    def offer(update: Update, enquiry_id: int, lang: str) -> Rows:
        """"Ask district staff" under an unhelpful answer, in private chats only (the answer
        comes to the chat where the question was asked)."""
        chat = update.effective_chat
        if chat is None or chat.type != "private":
            return []
        return [[(svc.text("tickets.buttons.ask", lang), cb.AskStaff(enquiry_id))]]

    return offer


async def _forget_note(svc: BotServices, user_hash: str, lang: str) -> str | None:
    """The line /forget adds to its confirmation when the user has tickets."""
    return svc.text("tickets.forget_note", lang) if await svc.desk.mine(user_hash, 1) else None


async def _forgotten(svc: BotServices, erasure: Erasure, lang: str) -> str | None:
    """After /forget: withdraw the erased tickets from the staff chat; the line to report."""
    if not erasure.tickets:
        return None
    await svc.desk.withdraw(svc.messenger, erasure.tickets)
    return svc.fill("tickets.forget_done", lang, count=len(erasure.tickets))


# --------------------------------------------------------------------------- jobs

async def deliver_waiting(context: Context) -> None:
    """Job: deliver the staff answers waiting for delivery."""
    svc = services(context)
    await svc.desk.deliver_waiting(svc.messenger)


async def forward_waiting(context: Context) -> None:
    """Job: post the tickets the staff chat has not taken yet (until the bot stops: the rest
    wait in the store for the next start)."""
    svc = services(context)
    await svc.desk.forward_waiting(svc.messenger, lambda: context.application.running)


def forward_soon(context: Context) -> None:
    """Queue the forwarding job now, unless a round is already queued (it takes every ticket
    waiting when it runs)."""
    jobs = context.job_queue
    if jobs is None or jobs.get_jobs_by_name(FORWARD_NOW):
        return
    jobs.run_once(forward_waiting, 0, name=FORWARD_NOW, job_kwargs={"misfire_grace_time": None})


# --------------------------------------------------------------------------- wiring

def menu(settings: Settings) -> list[tuple[str, str]]:
    """The citizen's commands in the command menu, while handing questions over is on."""
    if settings.staff_chat_id is None:
        return []
    return [(command, f"tickets.commands.{command}") for command in CITIZEN_COMMANDS]


def register(application: BotApp) -> None:
    """Register the /ask dialogue, the ticket commands, buttons and staff replies, and the
    delivery and forwarding jobs; before the features whose handlers are more general."""
    svc = services_of(application)
    key = svc.button_key
    application.add_handler(dialogue(key), group=DIALOGUE_GROUP)
    for command, handler in (("mytickets", my_tickets), ("tickets", list_open),
                             ("reply", reply_command), ("close", close_command)):
        application.add_handler(CommandHandler(command, handler), group=FEATURE_GROUP)
    application.add_handler(CallbackQueryHandler(
        press_ticket_button, pattern=lambda data: _is_ticket_action(data, key)),
        group=FEATURE_GROUP)
    staff = svc.desk.staff
    if staff.chat_id is not None:
        text = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
        application.add_handler(MessageHandler(
            text & filters.Chat(staff.chat_id) & _ReplyToBot(), staff_reply),
            group=FEATURE_GROUP)
        svc.help_lines.append("tickets.help")
        svc.offers.append(_ask_staff(svc))
    svc.erase_hooks.append(EraseHook(note=_forget_note, done=_forgotten))
    every(application, PENDING_CHECK_SECONDS, deliver_waiting, "deliveries")
    if staff.enabled:
        every(application, FORWARD_RETRY_SECONDS, forward_waiting, "forwarding")
