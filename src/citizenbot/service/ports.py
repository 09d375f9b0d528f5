"""What the service needs from the outside world, as narrow interfaces.

`Storage` is everything the service and the doors ask of the enquiry log; `store.Store` (SQLite)
is one backend, and another (PostgreSQL, to run several instances) would implement the same
methods. `Journal` takes an enquiry the storage refused. `Messenger` is what the ticket workflow
needs from a chat service: send a message to a chat, replace one. Telegram implements it in
`citizenbot.telegram.messenger`, so that the command line can deliver a staff answer without
importing the bot's handlers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

from citizenbot.html_text import Block
from citizenbot.model import (
    Backlog,
    Enquiry,
    Erasure,
    LastAnswer,
    Overview,
    Purge,
    Settle,
    Ticket,
    TicketStatus,
    UserState,
    Vote,
)


class Storage(Protocol):
    """The enquiry log, its votes, the tickets and per-user state, as the service sees them.

    Every method raises `model.StoreError` when the storage cannot do what was asked.
    """

    # ---- enquiries
    async def log_enquiry(self, enquiry: Enquiry) -> int: ...
    async def log_enquiries(self, enquiries: Sequence[Enquiry]) -> int: ...
    async def import_journaled(self, records: Sequence[tuple[str, Enquiry]]) -> int: ...
    async def get_enquiry(self, enquiry_id: int) -> Enquiry | None: ...
    async def vote(self, enquiry_id: int, helpful: bool) -> Vote: ...
    async def erase_user(self, user_hash: str) -> Erasure: ...
    async def purge(self, days: int) -> Purge: ...
    async def ping(self) -> None: ...
    async def overview(self, since: datetime | None = None, until: datetime | None = None, *,
                       top: int = 10, unanswered_limit: int = 5000) -> Overview: ...
    async def unanswered(self, since: datetime | None = None, until: datetime | None = None, *,
                         limit: int = 5000) -> list[tuple[str, str, str]]: ...

    @property
    def trouble(self) -> str | None:
        """Why the storage does not take writes now (None: it does)."""
        ...

    # ---- incoming updates (the inbox)
    async def receive_updates(self, updates: Sequence[tuple[int, str]]) -> list[int]: ...
    async def mark_answering(self, update_id: int) -> None: ...
    async def mark_done(self, update_id: int) -> None: ...
    async def take_backlog(self) -> Backlog: ...
    async def prune_inbox(self, days: int = 2) -> int: ...

    # ---- per user: the language chosen, the last answer (erased with the enquiries)
    async def user_state(self, user_hash: str) -> UserState: ...
    async def set_language(self, user_hash: str, language: str | None) -> None: ...
    async def remember_answer(self, user_hash: str, last: LastAnswer) -> None: ...
    async def forget_answer(self, user_hash: str) -> None: ...

    # ---- tickets
    async def create_ticket(self, *, user_hash: str, chat_id: int, language: str, question: str,
                            enquiry_id: int | None = None, ts: datetime | None = None,
                            ) -> Ticket: ...
    async def get_ticket(self, ticket_id: int) -> Ticket | None: ...
    async def ticket_for_staff_message(self, chat_id: int, message_id: int) -> Ticket | None: ...
    async def ticket_for_enquiry(self, enquiry_id: int) -> Ticket | None: ...
    async def tickets(self, *, open_only: bool = False, user_hash: str | None = None,
                      newest_first: bool = False, limit: int = 10000) -> list[Ticket]: ...
    async def count_open_tickets(self, user_hash: str) -> int: ...
    async def unforwarded_tickets(self) -> list[Ticket]: ...
    async def mark_ticket_forwarded(self, ticket_id: int, staff_chat_id: int,
                                    staff_message_id: int) -> None: ...
    async def note_forward_error(self, ticket_id: int, reason: str) -> None: ...
    async def record_answer(self, ticket_id: int, answer: str,
                            via: str) -> tuple[Settle, Ticket | None]: ...
    async def close_ticket(self, ticket_id: int,
                           note: str | None = None) -> tuple[Settle, Ticket | None]: ...
    async def claim_delivery(self, ticket_id: int, *, lease_seconds: float = 300,
                             now: datetime | None = None) -> bool: ...
    async def release_delivery(self, ticket_id: int) -> None: ...
    async def finish_delivery(self, ticket_id: int, status: TicketStatus,
                              note: str | None = None) -> None: ...
    async def pending_answers(self, *, lease_seconds: float = 300,
                              now: datetime | None = None) -> list[Ticket]: ...


class Journal(Protocol):
    """Where an enquiry goes when storage refuses it, so that no answered question is lost
    (`store.Journal`: a JSON-lines file, imported at the next start)."""

    path: Path
    appended: int  # enquiries kept here by this process
    lost: int  # enquiries that could not be kept even here
    problem: str | None  # why room could not be reserved in advance (None: it was)

    def append(self, enquiry: Enquiry) -> None:
        """Keep ``enquiry`` (its ts set); durable when this returns. OSError if it cannot."""
        ...

    def erase_user(self, user_hash: str) -> int:
        """Erase the user's enquiries kept here (/forget); how many."""
        ...

    @property
    def waiting(self) -> int:
        """Enquiries kept here and not yet back in storage."""
        ...


class MessengerError(Exception):
    """A message did not get through; ``reason`` is what the chat service said."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Refused(MessengerError):
    """The chat refuses for good (the user blocked the bot, the chat is gone): do not retry."""


class Unreachable(MessengerError):
    """The chat service could not be reached or did not take it now: try again later."""


class Uncertain(Unreachable):
    """The request went out but no answer came back (a timeout, a connection closed
    mid-request): the message may have been delivered."""


class Messenger(Protocol):
    """A chat service, as the ticket workflow needs it. Both methods raise MessengerError."""

    async def send(self, chat_id: int, blocks: Sequence[Block], *,
                   reply_to: int | None = None) -> int:
        """Send ``blocks`` (split into messages if long); the id of the first message."""
        ...

    async def replace(self, chat_id: int, message_id: int, text: str) -> None:
        """Replace the text of a message sent earlier with plain ``text``."""
        ...
