"""The ticket workflow's Messenger, on python-telegram-bot's Bot.

Used by the running bot (over its Application's bot) and by `citizenbot reply` (over a Bot of
its own, `connect`), so the command line delivers a staff answer without the bot's handlers.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Final

import httpx
from telegram import Bot, LinkPreviewOptions, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError, TimedOut

from citizenbot.config import Settings
from citizenbot.html_text import Block, split_html
from citizenbot.logs import protect_secrets
from citizenbot.service import MessengerError, Refused, Uncertain, Unreachable

log = logging.getLogger(__name__)

_NO_PREVIEW: Final = LinkPreviewOptions(is_disabled=True)
READ_TIMEOUT: Final = 30.0  # seconds to wait for Telegram's answer to a staff-chat send


def _failure(exc: TelegramError) -> MessengerError:
    reason = str(exc.message if hasattr(exc, "message") else exc)
    # Blocked, chat deleted, bot removed from the group: Telegram's rule is not to try again.
    if isinstance(exc, Forbidden | BadRequest):
        return Refused(reason)
    if _maybe_delivered(exc):
        return Uncertain(reason)
    # A 429 (after the rate limiter's own retries), a 5xx, no connection: Telegram did not
    # take the message, so sending it again cannot make a second copy.
    return Unreachable(reason)


def _maybe_delivered(exc: TelegramError) -> bool:
    """Whether the request may have reached Telegram and taken effect: it timed out waiting
    for the answer, or the connection broke after the request was sent."""
    cause = exc.__cause__
    if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return False  # never sent
    if isinstance(exc, TimedOut):
        return True
    return isinstance(cause, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError)


class TelegramMessenger:
    """Sends HTML messages (made of spans, split under Telegram's limit) through ``bot``."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: int, blocks: Sequence[Block], *,
                   reply_to: int | None = None) -> int:
        first: int | None = None
        try:
            for chunk in split_html(blocks):
                sent = await self.bot.send_message(
                    chat_id, chunk, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW,
                    # A slow Telegram is not a failed one: waiting longer than the default 5 s
                    # makes a lost response (and so a possible second copy) rarer.
                    read_timeout=READ_TIMEOUT,
                    reply_parameters=(ReplyParameters(reply_to, allow_sending_without_reply=True)
                                      if reply_to is not None and first is None else None),
                )
                first = first or sent.message_id
        except TelegramError as exc:
            raise _failure(exc) from exc
        assert first is not None
        return first

    async def replace(self, chat_id: int, message_id: int, text: str) -> None:
        try:
            await self.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id,
                                             parse_mode=None)
        except TelegramError as exc:
            raise _failure(exc) from exc


@asynccontextmanager
async def connect(settings: Settings) -> AsyncIterator[TelegramMessenger]:
    """A messenger of its own over the Bot API (getMe first: a wrong token or no connection
    raises Unreachable here, before anything is sent)."""
    assert settings.token
    protect_secrets(settings.token)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the token URL
    bot = Bot(settings.token, base_url=settings.api_url)
    try:
        await bot.initialize()
    except TelegramError as exc:
        raise Unreachable(str(exc)) from exc
    try:
        yield TelegramMessenger(bot)
    finally:
        await bot.shutdown()
