"""Answering and logging: the work every door (Telegram, terminal, batch) used to repeat.

A door turns what the user typed into `ask` (or `choose`, for a "did you mean" choice or a
topic button) and shows the `Answer` it gets back; the service answers with the core, times it,
and logs it. A row the database refuses goes to the journal: the user is answered anyway.

Per user (by hash, never by id) the storage keeps the language chosen with /lang and the last
answer: a message within `context_seconds` of it may continue it ("tell me more", "in
Chinese", "and the parks?"), whatever the door. Batch questions (no user hash) stand alone.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from citizenbot.core.followup import FollowUp, Previous
from citizenbot.core.knowledge import LANGS, KnowledgeBase
from citizenbot.core.responder import Reply, Responder
from citizenbot.model import (
    Enquiry,
    Erasure,
    LastAnswer,
    Purge,
    StoreError,
    Transport,
    UserState,
    Vote,
)
from citizenbot.service.ports import Journal, Storage

log = logging.getLogger(__name__)

CONTEXT_SECONDS = 300.0  # how long a last answer can be continued (CITIZENBOT_CONTEXT_MINUTES)


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
                 salt: str = "", journal: Journal | None = None,
                 context_seconds: float = CONTEXT_SECONDS) -> None:
        self.responder = responder  # swapped whole by /reload
        self.storage = storage
        self.journal = journal
        self.salt = salt  # the installation's secret: keys user hashes (and button signatures)
        self.context_seconds = context_seconds

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
        """Answer ``question`` and log it. The labels are in ``lang``, else in the language the
        user chose, else in the question's; a message may continue the user's last answer."""
        started = time.perf_counter()
        state = await self.state(asker)
        previous = self._previous(state)
        reply = self.responder.respond(question, lang or state.language, previous)
        answer = await self._logged(asker, question, reply, started)
        await self._remember(asker, question, reply, previous)
        return answer

    async def choose(self, asker: Asker, intent_id: str, lang: str, question: str) -> Answer:
        """Answer the intent the user picked (a "did you mean" option or a topic button),
        logged under ``question``: what they asked, or the topic's title."""
        started = time.perf_counter()
        reply = self.responder.answer_intent(intent_id, lang, question=question)
        answer = await self._logged(asker, question, reply, started)
        # "" stands for the topic itself: "in Chinese" repeats the topic, not the question
        # that needed a choice.
        await self._keep(asker, LastAnswer("", reply.language, intent_id, reply.sentence_ids,
                                           datetime.now(UTC)))
        return answer

    # ------------------------------------------------------------------ per user

    async def state(self, asker: Asker) -> UserState:
        """The user's language choice and last answer; empty for batch questions, or when
        the storage cannot say (the question is answered all the same)."""
        if self.storage is None or not asker.user_hash:
            return UserState()
        try:
            return await self.storage.user_state(asker.user_hash)
        except StoreError as exc:
            log.warning("answering without the user's settings: %s", exc)
            return UserState()

    async def language(self, asker: Asker) -> str | None:
        """The language the user chose with /lang, or None."""
        return (await self.state(asker)).language

    async def set_language(self, asker: Asker, lang: str | None) -> None:
        """Keep the user's language choice (None: each question's own language)."""
        if lang is not None and lang not in LANGS:
            raise ValueError(f"unknown language {lang!r}; expected one of {LANGS}")
        await self._storage().set_language(asker.user_hash, lang)

    async def start(self, asker: Asker) -> None:
        """/start: the next message starts afresh, whatever came before."""
        if self.storage is not None and asker.user_hash:
            await self.storage.forget_answer(asker.user_hash)

    def _previous(self, state: UserState) -> Previous | None:
        last = state.last
        if last is None or (datetime.now(UTC) - last.ts).total_seconds() > self.context_seconds:
            return None
        return Previous(last.question, last.language, last.intent_id, last.sentence_ids)

    async def _remember(self, asker: Asker, question: str, reply: Reply,
                        previous: Previous | None) -> None:
        """Keep what the next message may continue, and a language a follow-up switched to."""
        now = datetime.now(UTC)
        if reply.followup is FollowUp.MORE:
            if previous is None or not reply.sentence_ids:
                return  # nothing more: "more" again says so, "in Chinese" still repeats
            # What was shown last: "more" again goes on after it, "in Chinese" repeats it.
            await self._keep(asker, LastAnswer(
                previous.question, reply.language, reply.intent_id or previous.intent_id,
                reply.sentence_ids, now))
            return
        if reply.followup in (FollowUp.CHINESE, FollowUp.ENGLISH) and previous is not None:
            await self._keep(asker, LastAnswer(previous.question, reply.language,
                                               previous.intent_id, reply.sentence_ids, now))
            if self.storage is not None and asker.user_hash:
                try:
                    await self.storage.set_language(asker.user_hash, reply.language)
                except StoreError as exc:
                    log.warning("could not keep the language the user switched to: %s", exc)
            return
        await self._keep(asker, LastAnswer(self._standing(question, reply, previous),
                                           reply.language, reply.intent_id, reply.sentence_ids,
                                           now))

    def _standing(self, question: str, reply: Reply, previous: Previous | None) -> str:
        """The question that reproduces ``reply``: a fragment answered together with the last
        question ("and its phase III?") is kept with it, so that "in Chinese" or another
        fragment after it still has the topic."""
        rules = self.kb.followups
        if previous is None or reply.status != "answered" or not rules.is_fragment(question):
            return question
        alone = self.responder.respond(question, reply.language)
        if alone.sentence_ids == reply.sentence_ids:
            return question
        return f"{previous.question} {rules.strip_opener(question)}".strip()

    async def _keep(self, asker: Asker, last: LastAnswer) -> None:
        if self.storage is None or not asker.user_hash:
            return
        try:
            await self.storage.remember_answer(asker.user_hash, last)
        except StoreError as exc:
            # The answer was given; only a follow-up to it will stand alone.
            log.warning("could not keep the last answer: %s", exc)

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
