"""What every Telegram feature shares: the services, the user's language, sending, buttons.

Features (answers, tickets, admin, webhook) import this module and never each other; where one
feature adds to another's messages (a line in /help, a button under an unhelpful answer, a step
of /forget), it does so through the contribution lists of `BotServices`, filled in by its
`register(application)`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias, cast

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import ChatAction
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, ContextTypes, filters

from citizenbot import callback_data as cb
from citizenbot import chat
from citizenbot.config import Settings
from citizenbot.core.knowledge import LANGS, KnowledgeBase
from citizenbot.core.responder import Responder
from citizenbot.flood import FloodGate
from citizenbot.html_text import Span, split_html
from citizenbot.metrics import Metrics
from citizenbot.model import Erasure
from citizenbot.ops import Heartbeat
from citizenbot.service import Messenger, Service, Storage, TicketDesk
from citizenbot.texts import TextSchema, declare, fill

log = logging.getLogger(__name__)

BotApp: TypeAlias = Application[Any, Any, Any, Any, Any, Any]
Context: TypeAlias = ContextTypes.DEFAULT_TYPE
Rows: TypeAlias = chat.Rows  # button rows: (label, what it does)

SERVICES: Final = "citizenbot"
LANG_KEY: Final = "lang"  # the user's /lang choice, recalled from the store for each update
MAX_TOAST: Final = 200  # answerCallbackQuery text limit

# Handler groups, in the order python-telegram-bot tries them: the flood gate first, then the
# user's stored language is recalled, then the multi-step dialogues (which stop an update they
# take), then the features, then the reply to commands nobody handled. Within a group, the
# first handler registered that accepts wins.
FLOOD_GROUP: Final = -3
USER_GROUP: Final = -2
DIALOGUE_GROUP: Final = -1
FEATURE_GROUP: Final = 0
UNKNOWN_COMMAND_GROUP: Final = 1

TEXTS: Final = declare("texts.telegram.yml", {
    "telegram.error": (), "telegram.stale_button": (), "telegram.not_yours": (),
    "telegram.flood": (),
}) | declare("texts.admin.yml", {"admin.unknown_command": ()})

# What a feature offers under an answer that did not help (a fallback, or after 👎): button
# rows for (update, enquiry id, language).
Offer: TypeAlias = Callable[[Update, int, str], Rows]


@dataclass(frozen=True)
class EraseHook:
    """A feature's part in /forget: ``note`` adds a line to the confirmation question (or
    None), ``done`` runs after the erasure and adds a line to the report (or None)."""

    note: Callable[[BotServices, str, str], Awaitable[str | None]]
    done: Callable[[BotServices, Erasure, str], Awaitable[str | None]]


@dataclass
class BotServices:
    """What the handlers need, kept in ``application.bot_data`` as python-telegram-bot
    suggests; built once by app.build_application."""

    settings: Settings
    service: Service
    desk: TicketDesk
    messenger: Messenger
    gate: FloodGate
    button_key: bytes
    texts: TextSchema  # every text the running bot uses: checked at start and on /reload
    metrics: Metrics = field(default_factory=Metrics)
    heartbeat: Heartbeat | None = None
    # Contributions of the features to each other's messages (see the module docstring).
    help_lines: list[str] = field(default_factory=list)  # text keys added to /help
    offers: list[Offer] = field(default_factory=list)
    erase_hooks: list[EraseHook] = field(default_factory=list)

    @property
    def storage(self) -> Storage:
        """The enquiry log, for the staff commands' figures."""
        return self.desk.storage

    @property
    def responder(self) -> Responder:
        return self.service.responder

    @property
    def kb(self) -> KnowledgeBase:
        return self.service.kb

    def text(self, key: str, lang: str) -> str:
        return self.kb.text(key, lang)

    def fill(self, key: str, lang: str, **values: object) -> str:
        return fill(self.kb.text(key, lang), **values)

    def user_hash(self, user: User) -> str:
        return self.service.user_hash(user.id)

    def owner(self, user: User) -> str:
        """The start of the user's hash that buttons carry to know whose they are."""
        return self.user_hash(user)[:8]

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

    def offers_for(self, update: Update, enquiry_id: int, lang: str) -> Rows:
        return [row for offer in self.offers for row in offer(update, enquiry_id, lang)]


def every(application: BotApp, seconds: float,
          job: Callable[[Context], Coroutine[Any, Any, None]], name: str) -> None:
    """Run ``job`` as soon as the bot starts, then every ``seconds``, on the JobQueue (whose
    errors reach the error handler). Two jobs, because a repeating job added before the
    JobQueue starts would have its first run pushed back a whole interval."""
    jobs = application.job_queue
    assert jobs is not None, "python-telegram-bot's job-queue extra is a dependency"
    # misfire_grace_time None: a start slowed by the network still runs the first round.
    late_ok = {"misfire_grace_time": None}
    jobs.run_once(job, 0, name=f"{name} at start", job_kwargs=late_ok)
    jobs.run_repeating(job, seconds, first=seconds, name=name, job_kwargs=late_ok)


def install(application: BotApp, svc: BotServices) -> None:
    application.bot_data[SERVICES] = svc


def services(context: Context) -> BotServices:
    return cast(BotServices, context.bot_data[SERVICES])


def services_of(application: BotApp) -> BotServices:
    return cast(BotServices, application.bot_data[SERVICES])


# --------------------------------------------------------------------------- language

def interface_language(chosen: str | None, language_code: str | None) -> str:
    """The user's choice from /lang, else their Telegram app's language (zh or en)."""
    if chosen is not None and chosen in LANGS:
        return chosen
    return "zh" if (language_code or "").lower().startswith("zh") else "en"


def chosen_language(context: Context) -> str | None:
    value = (context.user_data or {}).get(LANG_KEY)
    return value if value in LANGS else None


def language(update: Update, context: Context) -> str:
    user = update.effective_user
    return interface_language(chosen_language(context), user.language_code if user else None)


# --------------------------------------------------------------------------- sending

async def send(update: Update, context: Context, chunks: Sequence[str],
               markup: InlineKeyboardMarkup | None = None) -> Message | None:
    """Send ``chunks`` to the update's chat; buttons go under the last one, which is returned.

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


async def show(update: Update, context: Context, chunks: Sequence[str],
               markup: InlineKeyboardMarkup | None, replace: bool) -> None:
    """Replace the pressed button's message with ``chunks`` (one chunk), or send them anew."""
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
    await send(update, context, chunks, markup)


async def typing(update: Update, context: Context) -> None:
    """Show "typing…" in the chat while an answer is prepared. A failure is not worth more
    than a log line: the answer matters, not the indicator."""
    chat_ = update.effective_chat
    if chat_ is None:
        return
    try:
        await context.bot.send_chat_action(chat_.id, ChatAction.TYPING)
    except TelegramError as exc:
        log.debug("update %s: no typing indicator (%s)", update.update_id, exc)


async def say(update: Update, context: Context, key: str, **values: object) -> None:
    """Send one text, in the user's language."""
    text = services(context).fill(key, language(update, context), **values)
    await send(update, context, split_html([[Span(text)]]))


async def toast(query: CallbackQuery, context: Context, key: str, lang: str) -> None:
    """Answer a button press with a short notice."""
    await query.answer(services(context).text(key, lang)[:MAX_TOAST])


def service_html(svc: BotServices, key: str, lang: str) -> list[str]:
    """A service text with the note that it is not from the report."""
    return split_html([[Span(svc.text(key, lang))], [Span(svc.text("service_note", lang), "i")]])


# --------------------------------------------------------------------------- who and where

def is_admin(update: Update, settings: Settings) -> bool:
    """The update comes from an ADMIN_IDS user in their private chat with the bot."""
    user, chat = update.effective_user, update.effective_chat
    return (user is not None and chat is not None and chat.type == "private"
            and user.id in settings.admin_ids)


async def unknown_command(update: Update, context: Context) -> None:
    """"Unknown command, see /help", in private chats only: in a group the command may be
    meant for another bot. Also what anyone but staff gets for a staff command."""
    chat = update.effective_chat
    if chat is None or chat.type != "private":
        return
    await say(update, context, "admin.unknown_command")


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


ADDRESSED: Final = _AddressedToBot(name="addressed_to_bot")
FOR_US: Final = filters.ChatType.PRIVATE | (filters.ChatType.GROUPS & ADDRESSED)
