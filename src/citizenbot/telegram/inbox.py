"""Receiving updates through the inbox: stored before Telegram is told, handled from the store.

python-telegram-bot's Updater confirms an update to Telegram by asking for the next ones with a
higher offset, right after putting it on the Application's queue, in memory: a process killed
then loses every update fetched and not yet answered. `Poller` replaces the Updater and nothing
else: it calls getUpdates itself, stores each batch in the inbox (one transaction) before the
next call confirms it, and only then puts the new updates on `application.update_queue`, where
the Application, its handlers, its JobQueue and its rate limiter take over as before. An update
id seen before is not handed out again. At start the updates the last process stored and did
not finish are put on the queue first. The webhook stores each update the same way before it
answers 200 (telegram.webhook).

Two more points of the update's life are recorded: `answering` just before its first reply
goes out, after any wait for the rate limit (by `InboxRateLimiter`, which every Bot API request
passes through), and `done` once its handlers have finished (`handle`). An update found
`answering` at start is not answered again: ordinary replies are sent at most once. Marking as
late as that keeps the updates a crash leaves in doubt to the few milliseconds of a request.

A 409 Conflict from getUpdates means another process polls with this token: polling stops with
one clear line and the bot exits (code 2), rather than both fighting over the updates.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final

from telegram import Update
from telegram.error import (
    BadRequest,
    Conflict,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import AIORateLimiter
from telegram.warnings import PTBUserWarning

from citizenbot.service.inbox import UpdateInbox
from citizenbot.telegram.common import BotApp

log = logging.getLogger(__name__)

# Bot API calls that show the user something: the first one of an update marks it answering.
REPLIES: Final = frozenset({
    "sendMessage", "editMessageText", "editMessageReplyMarkup", "answerCallbackQuery",
    "deleteMessage", "sendPhoto", "sendDocument",
})
INBOX: Final = "citizenbot.inbox"  # the UpdateInbox, in bot_data
# First replies on their way at once. An update is in doubt (answering) from its mark until
# Telegram's response: bounding how many are, bounds what a crash can leave unanswered; a
# reply waiting for its turn here is not marked yet, so a crash leaves it to the next start.
FIRST_REPLIES_AT_ONCE: Final = 16
UNPACED: Final = frozenset({"sendChatAction"})  # "typing…": not a message, not rate-limited
INDICATORS_AT_ONCE: Final = 4  # typing indicators on their way at once; more are skipped
READ_MARGIN: Final = 10.0  # seconds a long poll may take beyond its own timeout
FIRST_PAUSE: Final = 1.0  # seconds after a failed getUpdates; grows by half each time
LONGEST_PAUSE: Final = 30.0


@dataclass
class _InFlight:
    inbox: UpdateInbox
    update_id: int
    marked: bool = False


_CURRENT: ContextVar[_InFlight | None] = ContextVar("citizenbot_update", default=None)


def inbox_of(application: BotApp) -> UpdateInbox:
    found = application.bot_data[INBOX]
    assert isinstance(found, UpdateInbox)
    return found


async def handle(inbox: UpdateInbox, update: object, coroutine: Awaitable[Any]) -> None:
    """Run the Application's handling of ``update`` with the inbox following it: answering
    before its first reply, done when its handlers have finished (even if they raised)."""
    if not isinstance(update, Update):
        await coroutine
        return
    token = _CURRENT.set(_InFlight(inbox, update.update_id))
    try:
        await coroutine
    finally:
        _CURRENT.reset(token)
        await inbox.done(update.update_id)


class InboxRateLimiter(AIORateLimiter):
    """python-telegram-bot's rate limiter, which sees every Bot API request: before the first
    reply to an update goes out, the update is marked as being answered; the typing indicator
    is not paced with the messages."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._first_replies = asyncio.Semaphore(FIRST_REPLIES_AT_ONCE)
        self._indicators = asyncio.Semaphore(INDICATORS_AT_ONCE)

    async def process_request(
        self, callback: Callable[..., Coroutine[Any, Any, Any]], args: Any,
        kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        if endpoint in UNPACED:
            # Not a message: waiting for a turn behind the replies would halve how many answers
            # fit in Telegram's 30 a second, and a 429 only costs the indicator (common.typing
            # ignores any failure), so it goes straight out, once. When several are on their
            # way already the bot is busy and answers come in a moment anyway: it is skipped
            # rather than queued for a connection, where it would delay the answers.
            if self._indicators.locked():
                return True  # what Telegram answers to sendChatAction
            async with self._indicators:
                return await callback(*args, **kwargs)
        inflight = _CURRENT.get()
        if inflight is None or inflight.marked or endpoint not in REPLIES:
            return await super().process_request(callback, args, kwargs, endpoint, data,
                                                 rate_limit_args)
        send = callback

        async def marked_then_sent(*a: Any, **kw: Any) -> Any:
            # Called once the rate limit lets the request go: the mark is committed, then the
            # request is made, so a crash in between leaves a reply unsent rather than doubled.
            if inflight.marked:
                return await send(*a, **kw)
            async with self._first_replies:
                inflight.marked = True
                await inflight.inbox.answering(inflight.update_id)
                return await send(*a, **kw)

        return await super().process_request(marked_then_sent, args, kwargs, endpoint, data,
                                             rate_limit_args)


async def accept(application: BotApp, inbox: UpdateInbox, updates: Sequence[Update],
                 raw: Sequence[str] | None = None) -> int:
    """Store ``updates`` (``raw``: their JSON as Telegram sent it, else made again from the
    objects), then queue the ones never seen before; how many were queued."""
    payloads = raw if raw is not None else [u.to_json() for u in updates]
    fresh = set(await inbox.receive([(u.update_id, data)
                                     for u, data in zip(updates, payloads, strict=True)]))
    queued = 0
    for update in updates:
        if update.update_id in fresh:
            await application.update_queue.put(update)
            queued += 1
    return queued


async def replay(application: BotApp, inbox: UpdateInbox) -> int | None:
    """Queue what the last process stored and did not handle; the newest update id stored in
    the last day (None if none), from which polling goes on."""
    backlog = await inbox.backlog()
    for update_id, data in backlog.pending:
        try:
            update = Update.de_json(json.loads(data), application.bot)
        except (ValueError, TypeError, KeyError) as exc:
            log.error("update %s in the inbox cannot be read (%s); skipped", update_id, exc)
            await inbox.done(update_id)
            continue
        await application.update_queue.put(update)
    return backlog.newest


class Poller:
    """Long polling through the inbox, in place of python-telegram-bot's Updater."""

    def __init__(self, application: BotApp, inbox: UpdateInbox, *, timeout: int,
                 allowed_updates: Sequence[str], on_fatal: Callable[[str], None]) -> None:
        self.application = application
        self.inbox = inbox
        self.timeout = timeout
        self.allowed_updates = list(allowed_updates)
        self.on_fatal = on_fatal  # told why polling cannot go on (409, token revoked)
        self.offset: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._accepting: asyncio.Future[int] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self, newest_stored: int | None) -> None:
        """Make sure no webhook is set (getUpdates is refused while one is), then poll."""
        await self.application.bot.delete_webhook()
        if newest_stored is not None:
            # Stored means safe to confirm: Telegram need not send those again.
            self.offset = newest_stored + 1
        self._task = asyncio.create_task(self._poll(), name="citizenbot poller")

    async def stop(self) -> None:
        """Stop asking for updates; the batch being stored is stored and queued first. No
        last getUpdates to confirm it (python-telegram-bot makes one): the next start confirms
        everything stored with its first call, and a repeat would be ignored anyway."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        accepting = self._accepting
        if accepting is not None:
            with contextlib.suppress(Exception):
                await accepting

    async def _poll(self) -> None:
        pause = 0.0
        while True:
            if pause:
                await asyncio.sleep(pause)
            try:
                raw = await self._fetch()
            except Conflict as exc:
                self.on_fatal(f"Telegram refuses to hand this bot its updates ({exc.message}): "
                              "another process is running with the same token; stopped, so "
                              "that only one answers")
                return
            except InvalidToken as exc:
                self.on_fatal(f"Telegram no longer accepts the bot token ({exc.message})")
                return
            except RetryAfter as exc:
                pause = float(exc.retry_after if isinstance(exc.retry_after, int | float)
                              else exc.retry_after.total_seconds())
                log.warning("Telegram asks to wait %g s before fetching updates again", pause)
                continue
            except TelegramError as exc:
                pause = min(max(pause * 1.5, FIRST_PAUSE), LONGEST_PAUSE)
                if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):
                    log.warning("cannot fetch updates (%s); retrying in %g s", exc, pause)
                else:
                    log.error("fetching updates failed: %s; retrying in %g s", exc, pause)
                continue
            pause = 0.0
            if not raw:
                continue
            # Shielded: a stop while the batch is being stored waits for it (stop awaits
            # _accepting), so what was stored is also queued and answered before exit.
            self._accepting = asyncio.ensure_future(self._accept(raw))
            await asyncio.shield(self._accepting)
            self._accepting = None

    async def _fetch(self) -> list[dict[str, Any]]:
        """getUpdates, as Telegram's JSON: the inbox keeps it as it came, and making it again
        from python-telegram-bot's objects would cost more than answering the question."""
        with warnings.catch_warnings():
            # python-telegram-bot suggests Bot.get_updates, which returns objects only.
            warnings.filterwarnings("ignore", message=r"Please use 'Bot\.get_updates'",
                                    category=PTBUserWarning)
            result = await self.application.bot.do_api_request(
                "get_updates",
                api_kwargs={"offset": self.offset, "timeout": self.timeout,
                            "allowed_updates": self.allowed_updates},
                read_timeout=self.timeout + READ_MARGIN)
        return [item for item in result if isinstance(item, dict)] \
            if isinstance(result, list) else []

    async def _accept(self, raw: Sequence[dict[str, Any]]) -> int:
        updates = [Update.de_json(data, self.application.bot) for data in raw]
        queued = await accept(self.application, self.inbox, updates,
                              [json.dumps(data, ensure_ascii=False) for data in raw])
        self.offset = updates[-1].update_id + 1
        return queued
