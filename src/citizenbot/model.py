"""The domain's values: what the log keeps, what a ticket is, and how each operation can end.

Frozen dataclasses and enums shared by the store (which keeps them), the service (which decides
with them) and the doors (which show them), so that no view imports the storage module. The
outcome enums are `StrEnum`s whose values are the words the database and the logs have always
used, so a row or a journal line reads the same as before. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final

MAX_QUESTION_CHARS: Final = 1000
STATUSES: Final = frozenset({"answered", "clarify", "fallback"})
UNANSWERED_STATUSES: Final = ("clarify", "fallback")


class StoreError(Exception):
    """The enquiry log could not do what was asked; the message says why and where.

    Part of the storage interface, not of one backend: the service catches it whatever keeps
    the rows.
    """


class Transport(StrEnum):
    """The door a question came through."""

    TELEGRAM = "telegram"
    CONSOLE = "console"
    BATCH = "batch"


@dataclass(frozen=True)
class Enquiry:
    """What a door logs for one question."""

    transport: str  # a Transport
    user_hash: str  # hash_user(...) of the user id, or "" for console/batch
    chat_type: str  # "private" | "group" | "supergroup" | "console" | "batch"
    language: str  # "en" | "zh"
    question: str  # capped to MAX_QUESTION_CHARS when stored
    status: str  # one of STATUSES
    intent: str | None
    score: float  # 0-100
    latency_ms: float
    ts: datetime | None = None  # UTC; None means "now"; a naive value is taken as UTC
    refusal: str | None = None  # why a fallback gave no quote (a scope or topic category)
    # The chat service's update this answers: the row is linked to its inbox entry in the same
    # transaction, so answering it again after a crash logs no second row.
    update_id: int | None = None


@dataclass(frozen=True)
class LoggedEnquiry:
    """One enquiry as read back from the log, with its row id and the votes it received."""

    id: int
    ts: str  # ISO 8601 in UTC, as stored
    transport: str
    user_hash: str  # pseudonymous: hash_user(salt, user id), "" for console/batch
    chat_type: str
    language: str
    question: str
    status: str
    intent: str | None
    score: float
    latency_ms: float
    helpful: int  # "helpful" votes on this enquiry (0 or 1 since one vote per enquiry)
    not_helpful: int
    refusal: str | None = None  # why a fallback gave no quote


@dataclass(frozen=True)
class Stats:
    """Summary of the log for `citizenbot stats`."""

    total: int
    by_status: dict[str, int]
    top_intents: list[tuple[str, int]]  # most asked answered intents, most first
    recent_unanswered: list[tuple[str, str]]  # (ISO time, question), newest first
    feedback: dict[str, tuple[int, int]]  # intent -> (helpful, not helpful)


@dataclass(frozen=True)
class Overview:
    """Figures over one period for the staff report and /stats."""

    total: int
    by_status: dict[str, int]
    by_language: dict[str, int]
    # (YYYY-MM-DD in UTC, status -> count), oldest first; days without enquiries are absent.
    by_day: list[tuple[str, dict[str, int]]]
    top_intents: list[tuple[str, int]]  # answered intents, most asked first
    # intent -> (helpful, not helpful) votes on the period's enquiries
    feedback: dict[str, tuple[int, int]]
    # (ts, status, question) of clarify and fallback enquiries, newest first
    unanswered: list[tuple[str, str, str]]
    first_ts: str | None
    last_ts: str | None
    # why fallbacks gave no quote: refusal category -> count, most given first
    refusals: list[tuple[str, int]] = field(default_factory=list)

    @classmethod
    def empty(cls) -> Overview:
        return cls(total=0, by_status={}, by_language={}, by_day=[], top_intents=[],
                   feedback={}, unanswered=[], first_ts=None, last_ts=None)


class Vote(StrEnum):
    """What became of a 👍/👎."""

    RECORDED = "recorded"
    ALREADY_VOTED = "already voted"  # one vote per enquiry; a second tap changes nothing
    GONE = "gone"  # the enquiry was erased or purged meanwhile
    NOT_YOURS = "not yours"  # somebody else's answer


# --------------------------------------------------------------------------- tickets

class TicketStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"  # the staff answer reached the citizen
    UNDELIVERABLE = "undeliverable"  # it could not (blocked bot, chat gone)
    CLOSED = "closed"  # staff closed it unanswered


@dataclass(frozen=True)
class Ticket:
    """A question handed to district staff, as kept in the tickets table.

    Open until the staff answer reached the citizen, could not reach them, or staff closed it.
    An open ticket with an ``answer`` has one waiting to be delivered.
    """

    id: int
    ts: str  # ISO 8601 in UTC: when it was asked
    user_hash: str
    chat_id: int  # the chat the answer goes to
    language: str
    question: str
    enquiry_id: int | None
    status: TicketStatus
    staff_chat_id: int | None = None
    staff_message_id: int | None = None  # None: not yet forwarded to the staff chat
    forward_error: str | None = None  # why the last forwarding attempt failed
    answer: str | None = None
    answered_via: str | None = None  # "telegram" | "cli"
    answer_ts: str | None = None
    claim_ts: str | None = None  # a delivery in progress since
    closed_ts: str | None = None  # when it stopped being open
    note: str | None = None  # why undeliverable / closed

    @property
    def forwarded(self) -> bool:
        return self.staff_message_id is not None

    @property
    def awaiting_delivery(self) -> bool:
        return self.status is TicketStatus.OPEN and self.answer is not None


class Settle(StrEnum):
    """What recording a staff answer (or closing a ticket) did.

    Only DONE changed anything: the answer was recorded, or the ticket closed. The others say
    why not: no such ticket, an answer already waiting, or the ticket is no longer open.
    """

    DONE = "done"
    UNKNOWN = "unknown"
    PENDING = "pending"
    ANSWERED = "answered"
    UNDELIVERABLE = "undeliverable"
    CLOSED = "closed"

    @classmethod
    def no_longer_open(cls, status: TicketStatus) -> Settle:
        return cls(status.value)


class DeliveryOutcome(StrEnum):
    DELIVERED = "delivered"
    UNDELIVERABLE = "undeliverable"  # the chat refuses for good: the ticket says so
    DELAYED = "delayed"  # could not get through now: kept for a later try
    BUSY = "busy"  # another process is delivering it, or nothing is waiting


@dataclass(frozen=True)
class Delivery:
    """What became of one attempt to bring a staff answer to the citizen."""

    outcome: DeliveryOutcome
    ticket: Ticket | None
    reason: str = ""


@dataclass(frozen=True)
class Erasure:
    """What `/forget` removed, in one transaction: the tickets as they were, so that the door
    can withdraw their staff-chat messages."""

    enquiries: int
    tickets: tuple[Ticket, ...]


@dataclass(frozen=True)
class Purge:
    """What a retention purge removed: old enquiries (with their votes) and finished tickets."""

    enquiries: int
    tickets: int


class InboxState(StrEnum):
    """Where an incoming update stands (store.inbox)."""

    RECEIVED = "received"  # stored, not yet answered
    ANSWERING = "answering"  # its reply may be on its way: never handled again
    DONE = "done"
    INTERRUPTED = "interrupted"  # the process died while its reply was on its way


@dataclass(frozen=True)
class Backlog:
    """What the inbox holds at start."""

    pending: tuple[tuple[int, str], ...]  # (update id, payload) still to handle, oldest first
    interrupted: int  # updates whose reply was on its way when the last process died
    newest: int | None  # the newest update id stored in the last day (the polling offset)


@dataclass(frozen=True)
class LastAnswer:
    """What a user was last answered, so that the next message can continue it ("tell me
    more", "in Chinese", "and the parks?"). Kept per user hash, for a few minutes."""

    question: str  # what reproduces the answer ("" for a topic picked from a list)
    language: str
    intent_id: str | None
    sentence_ids: tuple[str, ...]
    ts: datetime  # UTC, when it was answered


@dataclass(frozen=True)
class UserState:
    """What is kept for one user hash besides their enquiries: the language they chose with
    /lang (None: not chosen) and their last answer."""

    language: str | None = None
    last: LastAnswer | None = None
