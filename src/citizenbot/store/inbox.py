"""The inbox: every update a chat service delivered, kept until its reply has gone out.

An update is stored (state `received`) before the chat service is told it arrived; its enquiry,
once logged, is linked to it in the same transaction; it moves to `answering` just before its
first reply goes out, and to `done` once it is handled (its payload is dropped then). At the
next start `received` updates are handled again (an update whose enquiry was already logged
gets that row back instead of a second one) and `answering` ones become `interrupted`: their
reply may have reached the user, so it is never sent a second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from citizenbot.model import Backlog, InboxState
from citizenbot.store.db import Database, Tx, iso, stamp

MARK_ANSWERING: Final = (
    "UPDATE inbox SET state = 'answering' WHERE update_id = ? AND state = 'received'"
)


async def mark_answering(tx: Tx, update_id: int) -> None:
    """Inside another unit of work (a journaled enquiry's import): its reply went out."""
    await tx.execute(MARK_ANSWERING, (update_id,))


async def logged_for(tx: Tx, update_id: int) -> int | None:
    """The enquiry already logged for ``update_id`` (handled before a crash), if any."""
    row = await tx.row("SELECT i.enquiry_id AS id FROM inbox AS i JOIN enquiries AS e"
                       " ON e.id = i.enquiry_id WHERE i.update_id = ?", (update_id,))
    return None if row is None else int(row["id"])


async def link_enquiry(tx: Tx, update_id: int, enquiry_id: int) -> None:
    await tx.execute("UPDATE inbox SET enquiry_id = ? WHERE update_id = ?",
                     (enquiry_id, update_id))


class Inbox:
    """The inbox table's queries, on the store's database."""

    _db: Database

    async def receive_updates(self, updates: Sequence[tuple[int, str]]) -> list[int]:
        """Store (update id, payload) pairs in one transaction; the ids that were new (an id
        seen before, handled or not, is not handed out again)."""
        rows = [(int(update_id), payload) for update_id, payload in updates]

        async def insert(tx: Tx) -> list[int]:
            now = stamp()
            fresh: list[int] = []
            for update_id, payload in rows:
                changed = await tx.execute(
                    "INSERT INTO inbox (update_id, received_ts, payload) VALUES (?, ?, ?)"
                    " ON CONFLICT (update_id) DO NOTHING", (update_id, now, payload))
                if changed.rows:
                    fresh.append(update_id)
            return fresh

        return await self._db.write("cannot store the incoming updates", insert)

    async def mark_answering(self, update_id: int) -> None:
        """The update's first reply is about to be sent: from now on it is never handled
        again."""
        await self._db.write("cannot mark the update as being answered",
                             lambda tx: mark_answering(tx, update_id))

    async def mark_done(self, update_id: int) -> None:
        """The update is handled: its payload (what the user sent) is dropped."""

        async def done(tx: Tx) -> None:
            await tx.execute("UPDATE inbox SET state = 'done', payload = NULL, done_ts = ?"
                             " WHERE update_id = ?", (stamp(), update_id))

        await self._db.write("cannot mark the update as done", done)

    async def take_backlog(self) -> Backlog:
        """At start: the updates still to handle (oldest first), after marking those whose
        reply was on its way when the last process died as interrupted."""

        async def take(tx: Tx) -> Backlog:
            interrupted = await tx.execute(
                "UPDATE inbox SET state = 'interrupted', payload = NULL, done_ts = ?"
                " WHERE state = 'answering'", (stamp(),))
            rows = await tx.rows("SELECT update_id, payload FROM inbox WHERE state = 'received'"
                                 " ORDER BY update_id")
            newest = await tx.row("SELECT MAX(update_id) AS newest FROM inbox"
                                  " WHERE received_ts >= ?",
                                  (iso(datetime.now(UTC) - timedelta(days=1)),))
            return Backlog(
                pending=tuple((int(r["update_id"]), str(r["payload"] or "")) for r in rows),
                interrupted=interrupted.rows,
                newest=None if newest is None or newest["newest"] is None
                else int(newest["newest"]))

        return await self._db.write("cannot read the inbox", take)

    async def inbox_counts(self) -> dict[InboxState, int]:
        """How many updates are in each state (for health and the benchmark)."""
        rows = await self._db.read("cannot count the inbox", lambda tx: tx.rows(
            "SELECT state, COUNT(*) AS n FROM inbox GROUP BY state"))
        return {InboxState(str(r["state"])): int(r["n"]) for r in rows}

    async def prune_inbox(self, days: int = 2) -> int:
        """Forget handled updates older than ``days`` (Telegram keeps an update a day at most,
        so no repeat of an id can come later); how many."""

        cutoff = iso(datetime.now(UTC) - timedelta(days=days))

        async def prune(tx: Tx) -> int:
            return (await tx.execute("DELETE FROM inbox WHERE state IN ('done', 'interrupted')"
                                     " AND received_ts < ?", (cutoff,))).rows

        return await self._db.write("cannot prune the inbox", prune)

