"""The inbox as the doors use it: store what arrived before saying it arrived, ignore repeats,
settle each update once it is handled.

Door-neutral: an update is its id and its payload as text. The payload names the user (their
id, their name), which the enquiry log otherwise never keeps: it is stored encrypted (Fernet,
with a key derived from the installation's salt) for the few moments until the update is
handled, and then dropped. When storage cannot take writes the
updates are still handed out (a user must get an answer while the disk is full) and the inbox
falls back to remembering the recent ids in memory, so a repeat is still ignored; the log says
once per episode that updates are now handled without being stored.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Coroutine, Sequence
from dataclasses import replace
from typing import Any, Final

from cryptography.fernet import Fernet, InvalidToken

from citizenbot.model import Backlog, StoreError
from citizenbot.service.ports import Storage

log = logging.getLogger(__name__)

REMEMBERED_IDS: Final = 10_000  # update ids kept in memory to catch repeats without storage


class UpdateInbox:
    """Incoming updates, stored before they are acknowledged."""

    def __init__(self, storage: Storage, salt: str) -> None:
        self.storage = storage
        key = hashlib.sha256(f"citizenbot inbox:{salt}".encode()).digest()
        self._cipher = Fernet(base64.urlsafe_b64encode(key))
        self.unstored = 0  # updates handed out although storage refused them
        self.repeats = 0  # updates ignored because their id came before
        self._recent: OrderedDict[int, None] = OrderedDict()
        self._failing = False
        self._background: set[asyncio.Task[None]] = set()

    async def receive(self, updates: Sequence[tuple[int, str]]) -> list[int]:
        """Store (update id, payload) pairs, committed when this returns; the ids to handle
        (those never seen before), in the order given."""
        unseen = [(update_id, payload) for update_id, payload in updates
                  if update_id not in self._recent]
        fresh: list[int]
        try:
            # surrogatepass: what a user types may hold lone surrogates, which are not UTF-8.
            sealed = [(update_id, self._cipher.encrypt(
                payload.encode("utf-8", "surrogatepass")).decode("ascii"))
                for update_id, payload in unseen]
            fresh = await self.storage.receive_updates(sealed) if sealed else []
        except StoreError as exc:
            self._trouble(exc)
            fresh = [update_id for update_id, _ in unseen]
            self.unstored += len(fresh)
        else:
            self._recovered()
        for update_id, _ in updates:
            self._recent[update_id] = None
            self._recent.move_to_end(update_id)
        while len(self._recent) > REMEMBERED_IDS:
            self._recent.popitem(last=False)
        self.repeats += len(updates) - len(fresh)
        return fresh

    async def answering(self, update_id: int) -> None:
        """The update's first reply is about to go out: it must never be handled again."""
        await self._settle(self.storage.mark_answering(update_id))

    async def done(self, update_id: int) -> None:
        """The update is handled."""
        await self._settle(self.storage.mark_done(update_id))

    async def _settle(self, write: Coroutine[Any, Any, None]) -> None:
        if self._failing:
            # The database refused the last write (locked, full): the reply does not wait a
            # second for a mark that will most likely fail too; it is tried in the background.
            task = asyncio.create_task(self._quietly(write))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return
        await self._quietly(write)

    async def _quietly(self, write: Coroutine[Any, Any, None]) -> None:
        try:
            await write
        except StoreError as exc:
            self._trouble(exc)
        else:
            self._recovered()

    async def backlog(self) -> Backlog:
        """At start: what the last process left unhandled, payloads readable again (StoreError
        if the inbox cannot be read; an update sealed under another salt is left out)."""
        backlog = await self.storage.take_backlog()
        pending = []
        for update_id, sealed in backlog.pending:
            try:
                pending.append((update_id, self._cipher.decrypt(sealed.encode("ascii")).decode(
                    "utf-8", "surrogatepass")))
            except (InvalidToken, ValueError):
                log.error("update %s in the inbox cannot be read (stored under another salt?);"
                          " it is not answered", update_id)
                await self.done(update_id)
        backlog = replace(backlog, pending=tuple(pending))
        if backlog.interrupted:
            log.warning("%d updates were being answered when the bot last stopped without "
                        "finishing; their replies may or may not have arrived, so they are not "
                        "answered again (inbox state 'interrupted')", backlog.interrupted)
        if backlog.pending:
            log.info("answering %d updates received before the bot last stopped",
                     len(backlog.pending))
        for update_id, _ in backlog.pending:
            self._recent[update_id] = None
        return backlog

    def _trouble(self, exc: StoreError) -> None:
        if not self._failing:
            log.critical("the inbox cannot store updates (%s): updates are answered without "
                         "being stored, so a crash now can lose the ones in hand", exc)
        self._failing = True

    def _recovered(self) -> None:
        if self._failing:
            log.warning("the inbox stores updates again")
        self._failing = False
