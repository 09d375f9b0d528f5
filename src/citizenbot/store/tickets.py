"""Tickets: questions handed to district staff, from recording to delivering the answer."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from citizenbot.model import Settle, Ticket, TicketStatus
from citizenbot.store.db import Database, Tx, iso, stamp
from citizenbot.store.enquiries import storable

log = logging.getLogger(__name__)

_COLUMNS: Final = (
    "id, ts, user_hash, chat_id, language, question, enquiry_id, status, staff_chat_id,"
    " staff_message_id, forward_error, answer, answered_via, answer_ts, claim_ts, closed_ts, note"
)
MAX_NOTE_CHARS: Final = 300


def _ticket(row: sqlite3.Row) -> Ticket:
    def number(name: str) -> int | None:
        return None if row[name] is None else int(row[name])

    return Ticket(
        id=int(row["id"]), ts=str(row["ts"]), user_hash=str(row["user_hash"]),
        chat_id=int(row["chat_id"]), language=str(row["language"]),
        question=str(row["question"]), enquiry_id=number("enquiry_id"),
        status=TicketStatus(row["status"]), staff_chat_id=number("staff_chat_id"),
        staff_message_id=number("staff_message_id"), forward_error=row["forward_error"],
        answer=row["answer"], answered_via=row["answered_via"], answer_ts=row["answer_ts"],
        claim_ts=row["claim_ts"], closed_ts=row["closed_ts"], note=row["note"],
    )


async def select_tickets(tx: Tx, where: str, params: Sequence[Any] = ()) -> list[Ticket]:
    return [_ticket(r) for r in await tx.rows(f"SELECT {_COLUMNS} FROM tickets WHERE {where}",
                                              params)]


class Tickets:
    """The tickets table's queries, on the store's database."""

    _db: Database

    async def create_ticket(self, *, user_hash: str, chat_id: int, language: str, question: str,
                            enquiry_id: int | None = None, ts: datetime | None = None) -> Ticket:
        """Record a question for district staff and return it; committed when this returns.

        ``enquiry_id`` links the enquiry it came from (dropped if that enquiry is gone).
        """
        if not user_hash:
            raise ValueError("a ticket needs the asking user's hash")
        params = (iso(ts) if ts is not None else stamp(), user_hash, int(chat_id), language,
                  storable(question), enquiry_id)

        async def insert(tx: Tx) -> Ticket:
            changed = await tx.execute(
                "INSERT INTO tickets (ts, user_hash, chat_id, language, question, enquiry_id)"
                " VALUES (?, ?, ?, ?, ?, (SELECT id FROM enquiries WHERE id = ?))", params)
            [ticket] = await select_tickets(tx, "id = ?", (changed.last_id,))
            return ticket

        return await self._db.write("cannot record the ticket", insert)

    async def get_ticket(self, ticket_id: int) -> Ticket | None:
        return await self._one_ticket("id = ?", (ticket_id,))

    async def ticket_for_staff_message(self, chat_id: int, message_id: int) -> Ticket | None:
        """The ticket whose staff-chat message is ``message_id`` in ``chat_id``, if any."""
        return await self._one_ticket("staff_chat_id = ? AND staff_message_id = ?",
                                      (chat_id, message_id))

    async def ticket_for_enquiry(self, enquiry_id: int) -> Ticket | None:
        """The (first) ticket made from the enquiry ``enquiry_id``, if any."""
        return await self._one_ticket("enquiry_id = ?", (enquiry_id,))

    async def tickets(self, *, open_only: bool = False, user_hash: str | None = None,
                      newest_first: bool = False, limit: int = 10000) -> list[Ticket]:
        """Tickets in the order they were made (or newest first), optionally only open ones or
        only one user's."""
        where, params = ["1"], []
        if open_only:
            where.append("status = 'open'")
        if user_hash is not None:
            where.append("user_hash = ?")
            params.append(user_hash)
        order = "DESC" if newest_first else "ASC"
        return await self._ticket_rows(f"{' AND '.join(where)} ORDER BY id {order} LIMIT ?",
                                       (*params, int(limit)))

    async def count_open_tickets(self, user_hash: str) -> int:
        return await self._db.read("cannot count the tickets", lambda tx: tx.scalar(
            "SELECT COUNT(*) FROM tickets WHERE user_hash = ? AND status = 'open'", (user_hash,)))

    async def unforwarded_tickets(self) -> list[Ticket]:
        """Open tickets that never reached the staff chat (and have no answer yet), oldest first."""
        return await self._ticket_rows(
            "status = 'open' AND staff_message_id IS NULL AND answer IS NULL ORDER BY id")

    async def mark_ticket_forwarded(self, ticket_id: int, staff_chat_id: int,
                                    staff_message_id: int) -> None:
        """Remember the staff-chat message that carries the ticket (replies to it answer it)."""
        await self._update_ticket(
            "staff_chat_id = ?, staff_message_id = ?, forward_error = NULL WHERE id = ?",
            (staff_chat_id, staff_message_id, ticket_id), "cannot mark the ticket forwarded")

    async def note_forward_error(self, ticket_id: int, reason: str) -> None:
        await self._update_ticket("forward_error = ? WHERE id = ?",
                                  (reason[:MAX_NOTE_CHARS], ticket_id),
                                  "cannot note the forwarding error")

    async def record_answer(self, ticket_id: int, answer: str,
                            via: str) -> tuple[Settle, Ticket | None]:
        """Keep a staff answer for delivery; (what happened, the ticket as it now is).

        DONE: recorded. Otherwise nothing changed: UNKNOWN (no such ticket), PENDING (an answer
        already waits to be delivered), or the status of a ticket that is no longer open.
        """
        return await self._settle_open_ticket(
            ticket_id, "cannot record the answer",
            "UPDATE tickets SET answer = ?, answered_via = ?, answer_ts = ?, claim_ts = NULL"
            " WHERE id = ?", (answer, via, stamp(), ticket_id))

    async def close_ticket(self, ticket_id: int,
                           note: str | None = None) -> tuple[Settle, Ticket | None]:
        """Close an open ticket without an answer; (what happened, ticket) as in record_answer."""
        return await self._settle_open_ticket(
            ticket_id, "cannot close the ticket",
            "UPDATE tickets SET status = 'closed', note = ?, closed_ts = ? WHERE id = ?",
            (note, stamp(), ticket_id))

    async def claim_delivery(self, ticket_id: int, *, lease_seconds: float = 300,
                             now: datetime | None = None) -> bool:
        """Take the job of delivering the ticket's waiting answer; False if there is none or
        another process holds it. A claim older than ``lease_seconds`` (a crashed deliverer)
        may be taken over, so an answer is delivered at least once."""
        moment = now or datetime.now(UTC)
        stale = iso(moment - timedelta(seconds=lease_seconds))

        async def claim(tx: Tx) -> bool:
            changed = await tx.execute(
                "UPDATE tickets SET claim_ts = ? WHERE id = ? AND status = 'open'"
                " AND answer IS NOT NULL AND (claim_ts IS NULL OR claim_ts < ?)",
                (iso(moment), ticket_id, stale))
            return changed.rows == 1

        return await self._db.write("cannot claim the delivery", claim)

    async def release_delivery(self, ticket_id: int) -> None:
        """Give the claim back: the answer stays waiting, to be tried again."""
        await self._update_ticket("claim_ts = NULL WHERE id = ? AND status = 'open'",
                                  (ticket_id,), "cannot release the delivery")

    async def finish_delivery(self, ticket_id: int, status: TicketStatus,
                              note: str | None = None) -> None:
        """The waiting answer reached the citizen (ANSWERED) or cannot (UNDELIVERABLE)."""
        if status not in (TicketStatus.ANSWERED, TicketStatus.UNDELIVERABLE):
            raise ValueError(f"a delivery ends answered or undeliverable, not {status!r}")
        await self._update_ticket(
            "status = ?, note = ?, closed_ts = ?, claim_ts = NULL WHERE id = ?",
            (status.value, None if note is None else note[:MAX_NOTE_CHARS], stamp(), ticket_id),
            "cannot finish the delivery")

    async def pending_answers(self, *, lease_seconds: float = 300,
                              now: datetime | None = None) -> list[Ticket]:
        """Open tickets with an answer waiting and no live claim, oldest first."""
        stale = iso((now or datetime.now(UTC)) - timedelta(seconds=lease_seconds))
        return await self._ticket_rows(
            "status = 'open' AND answer IS NOT NULL AND (claim_ts IS NULL OR claim_ts < ?)"
            " ORDER BY id", (stale,))

    async def purge_closed_tickets(self, days: int, *, now: datetime | None = None) -> int:
        """Delete tickets that stopped being open more than ``days`` days before ``now``; how
        many. Open tickets are never purged: they are work still to do."""
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise ValueError(f"days must be a whole number of 1 or more, got {days!r}")
        cutoff = iso((now or datetime.now(UTC)) - timedelta(days=days))

        async def purge(tx: Tx) -> int:
            return (await tx.execute(
                "DELETE FROM tickets WHERE status != 'open' AND closed_ts < ?", (cutoff,))).rows

        deleted = await self._db.write("cannot purge closed tickets", purge)
        if deleted:
            log.info("purged %d closed tickets that closed before %s", deleted, cutoff)
        return deleted

    # ------------------------------------------------------------------ helpers

    async def _settle_open_ticket(self, ticket_id: int, failure: str, sql: str,
                                  params: Sequence[Any]) -> tuple[Settle, Ticket | None]:
        """Run ``sql`` on a ticket that is open with no answer waiting, in one transaction."""

        async def settle(tx: Tx) -> tuple[Settle, Ticket | None]:
            found = await select_tickets(tx, "id = ?", (ticket_id,))
            if not found:
                return Settle.UNKNOWN, None
            ticket = found[0]
            if ticket.status is not TicketStatus.OPEN:
                return Settle.no_longer_open(ticket.status), ticket
            if ticket.answer is not None:
                return Settle.PENDING, ticket
            await tx.execute(sql, params)
            [changed] = await select_tickets(tx, "id = ?", (ticket_id,))
            return Settle.DONE, changed

        return await self._db.write(failure, settle)

    async def _one_ticket(self, where: str, params: Sequence[Any]) -> Ticket | None:
        found = await self._ticket_rows(f"{where} ORDER BY id LIMIT 1", params)
        return found[0] if found else None

    async def _ticket_rows(self, where: str, params: Sequence[Any] = ()) -> list[Ticket]:
        return await self._db.read("cannot read the tickets",
                                   lambda tx: select_tickets(tx, where, params))

    async def _update_ticket(self, assignments: str, params: Sequence[Any], action: str) -> None:
        async def update(tx: Tx) -> None:
            await tx.execute(f"UPDATE tickets SET {assignments}", params)

        await self._db.write(action, update)
