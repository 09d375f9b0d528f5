"""Answering and logging: the work every door (Telegram, terminal, batch) used to repeat.

A door turns what the user typed into `ask` (or `choose`, for a "did you mean" choice or a
topic button) and shows the `Answer` it gets back; the service answers with the core, times it,
and logs it. A row the database refuses goes to the journal: the user is answered anyway.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from citizenbot.core.knowledge import KnowledgeBase
from citizenbot.core.responder import Reply, Responder
from citizenbot.model import Enquiry, Erasure, Purge, StoreError, Transport, Vote
from citizenbot.service.ports import Journal, Storage

log = logging.getLogger(__name__)


def hash_user(salt: str, user_id: int | str) -> str:
    """The SHA-256 hex digest of ``f"{salt}:{user_id}"``: what the log keeps for a user."""
    return hashlib.sha256(f"{salt}:{user_id}".encode()).hexdigest()


@dataclass(frozen=True)
class Asker:
    """Who asks, as the log keeps it: the door, the kind of chat, a salted hash (never an id)."""

    transport: Transport
    chat_type: str
    user_hash: str = ""
    # The chat service's update being answered (Telegram's update_id), linked to its enquiry
    # so that answering it again after a crash logs no second row; None without an inbox.
    update_id: int | None = None


@dataclass(frozen=True)
class Answer:
    """The reply to show and what became of it in the log."""

    reply: Reply
    enquiry_id: int | None  # None: not logged, or kept in the journal (nothing to vote on)
    latency_ms: float


class Service:
    """The service the doors share. ``storage`` None: answers are not logged (batch mode)."""

    def __init__(self, responder: Responder, storage: Storage | None = None, *,
                 salt: str = "", journal: Journal | None = None) -> None:
        self.responder = responder  # swapped whole by /reload
        self.storage = storage
        self.journal = journal
        self.salt = salt  # the installation's secret: keys user hashes (and button signatures)

    @property
    def kb(self) -> KnowledgeBase:
        return self.responder.kb

    @property
    def journaled(self) -> int:
        """Enquiries kept in the journal because the database refused them, since start."""
        return self.journal.appended if self.journal is not None else 0

    def user_hash(self, user_id: int | str) -> str:
        """What the log keeps for a user: never the id, only its salted hash."""
        if not self.salt:
            raise RuntimeError("this service was made without a salt")
        return hash_user(self.salt, user_id)

    # ------------------------------------------------------------------ questions

    async def ask(self, asker: Asker, question: str, lang: str | None = None) -> Answer:
        """Answer ``question`` (in ``lang``, default the question's language) and log it."""
        started = time.perf_counter()
        reply = self.responder.respond(question, lang)
        return await self._logged(asker, question, reply, started)

    async def choose(self, asker: Asker, intent_id: str, lang: str, question: str) -> Answer:
        """Answer the intent the user picked (a "did you mean" option or a topic button),
        logged under ``question``: what they asked, or the topic's title."""
        started = time.perf_counter()
        reply = self.responder.answer_intent(intent_id, lang, question=question)
        return await self._logged(asker, question, reply, started)

    async def _logged(self, asker: Asker, question: str, reply: Reply,
                      started: float) -> Answer:
        latency_ms = (time.perf_counter() - started) * 1000
        enquiry_id = None
        if self.storage is not None:
            enquiry_id = await self._record(Enquiry(
                transport=asker.transport, user_hash=asker.user_hash, chat_type=asker.chat_type,
                language=reply.language, question=question, status=reply.status,
                intent=reply.intent_id, score=reply.score, latency_ms=latency_ms,
                ts=datetime.now(UTC),
                refusal=reply.refusal if reply.status == "fallback" else None,
                update_id=asker.update_id))
        return Answer(reply, enquiry_id, latency_ms)

    async def _record(self, enquiry: Enquiry) -> int | None:
        """Log the enquiry; its id, or None when the database refused it and it went to the
        journal instead (committed to disk either way before the user is answered)."""
        assert self.storage is not None
        try:
            return await self.storage.log_enquiry(enquiry)
        except StoreError as exc:
            if self.journal is None:
                raise
            try:
                self.journal.append(replace(enquiry, ts=enquiry.ts or datetime.now(UTC)))
            except OSError as failure:
                # Still answered: a user must not pay for a full disk; but nothing of this
                # question is kept anywhere, and the log says so as loudly as it can.
                self.journal.lost += 1
                log.critical("%s; the journal %s cannot take it either (%s): this enquiry is "
                             "not recorded (%d lost since start)", exc, self.journal.path.name,
                             failure.strerror or failure, self.journal.lost)
                return None
            log.error("%s; the enquiry was kept in the journal %s", exc, self.journal.path.name)
            return None

    async def enquiry(self, enquiry_id: int) -> Enquiry | None:
        """The enquiry logged as ``enquiry_id``, or None (erased, purged, never logged)."""
        return await self._storage().get_enquiry(enquiry_id)

    async def asked(self, enquiry_id: int, user_hash: str) -> Enquiry | None:
        """The enquiry ``enquiry_id`` if it is this user's (None if gone or somebody else's)."""
        enquiry = await self.enquiry(enquiry_id)
        return enquiry if enquiry is not None and enquiry.user_hash == user_hash else None

    async def ping(self) -> None:
        """Raise StoreError unless the storage answers."""
        await self._storage().ping()

    # ------------------------------------------------------------------ votes and erasure

    async def vote(self, enquiry_id: int, user_hash: str, helpful: bool) -> Vote:
        """One 👍 or 👎 per answer, only by the person who asked."""
        storage = self._storage()
        enquiry = await storage.get_enquiry(enquiry_id)
        if enquiry is None:
            return Vote.GONE
        if enquiry.user_hash != user_hash:
            return Vote.NOT_YOURS
        return await storage.vote(enquiry_id, helpful)

    async def erase(self, user_hash: str) -> Erasure:
        """Everything kept about the user, in one transaction: enquiries, votes, tickets; and
        the enquiries of theirs the journal holds (else they would come back at the next
        start)."""
        erasure = await self._storage().erase_user(user_hash)
        if self.journal is not None:
            try:
                journaled = self.journal.erase_user(user_hash)
            except OSError as exc:
                raise StoreError(f"cannot erase the user's lines from the journal "
                                 f"{self.journal.path}: {exc.strerror or exc}") from exc
            if journaled:
                erasure = replace(erasure, enquiries=erasure.enquiries + journaled)
        log.info("erased %d enquiries and %d tickets at the request of user %s…",
                 erasure.enquiries, len(erasure.tickets), user_hash[:8])
        return erasure

    async def purge(self, days: int) -> Purge:
        """Apply a retention of ``days`` days (CITIZENBOT_RETENTION_DAYS, `citizenbot purge`)."""
        purged = await self._storage().purge(days)
        log.info("retention: deleted %d enquiries and %d finished tickets older than %d days",
                 purged.enquiries, purged.tickets, days)
        return purged

    def _storage(self) -> Storage:
        if self.storage is None:
            raise RuntimeError("this service was made without storage")
        return self.storage
