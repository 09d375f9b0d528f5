"""The enquiry log in SQLite: the only package that holds SQL.

`Store` is the SQLite backend of the storage interface the service uses
(`citizenbot.service.ports.Storage`): the enquiry queries (store.enquiries) and the ticket
queries (store.tickets) on one database (store.db), plus the operations that span both tables.
Files beside the log (salt, backups, checks, the one-instance lock) are in store.files, the
fallback journal in store.journal, the incoming updates in store.inbox.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType

from citizenbot.model import Erasure, Purge, StoreError
from citizenbot.store.db import (
    DEFAULT_BUSY_TIMEOUT_MS,
    MIGRATIONS,
    Database,
    Migration,
    Tx,
)
from citizenbot.store.enquiries import Enquiries
from citizenbot.store.files import InstanceLock, backup, check_file, load_or_create_salt
from citizenbot.store.inbox import Inbox
from citizenbot.store.journal import Journal, import_journal, journal_path
from citizenbot.store.tickets import Tickets, select_tickets
from citizenbot.store.users import Users

__all__ = [
    "MIGRATIONS",
    "InstanceLock",
    "Journal",
    "Migration",
    "Store",
    "StoreError",
    "check_file",
    "import_journal",
    "journal_path",
    "load_or_create_salt",
]


class Store(Enquiries, Tickets, Users, Inbox):
    """The enquiry log. Open it with ``await Store.open(path)``; use it as an async context."""

    def __init__(self, database: Database) -> None:
        self._db = database

    @classmethod
    async def open(cls, path: str | Path, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
                   migrations: tuple[Migration, ...] = MIGRATIONS) -> Store:
        """The store at ``path`` (":memory:" for a throwaway one), schema up to date.

        Raises StoreError naming the path when the file cannot be opened or migrated.
        """
        return cls(await Database.open(path, busy_timeout_ms=busy_timeout_ms,
                                       migrations=migrations))

    @property
    def where(self) -> str:
        return self._db.where

    @property
    def trouble(self) -> str | None:
        """Why the database does not take writes now (None: the last write committed)."""
        gone = self._db.gone
        if gone is not None:
            return f"the database file {self.where} {gone}"
        return self._db.trouble

    @property
    def writer(self) -> Database:
        """The database and its writer's figures (batches, units), for the benchmark."""
        return self._db

    async def erase_user(self, user_hash: str) -> Erasure:
        """Delete everything kept about ``user_hash`` in one transaction: enquiries, their
        votes, tickets, the language chosen and the last answer. The tickets are returned as
        they were, so that their staff-chat messages can be withdrawn.

        Raises ValueError for an empty hash: console and batch enquiries share it, and erasing
        them all is never what a user's erasure request means.
        """
        if not user_hash:
            raise ValueError("erasure needs a user hash; the empty hash is shared by all"
                             " console and batch enquiries")

        async def erase(tx: Tx) -> Erasure:
            tickets = await select_tickets(tx, "user_hash = ? ORDER BY id", (user_hash,))
            # Explicit, not only ON DELETE CASCADE: erasure must hold even for a database
            # somebody opened elsewhere with foreign keys off and wrote orphans into.
            await tx.execute("DELETE FROM feedback WHERE enquiry_id IN"
                             " (SELECT id FROM enquiries WHERE user_hash = ?)", (user_hash,))
            erased = await tx.execute("DELETE FROM enquiries WHERE user_hash = ?", (user_hash,))
            await tx.execute("DELETE FROM tickets WHERE user_hash = ?", (user_hash,))
            await tx.execute("DELETE FROM user_state WHERE user_hash = ?", (user_hash,))
            return Erasure(erased.rows, tuple(tickets))

        return await self._db.write("cannot erase the user's data", erase)

    async def purge(self, days: int) -> Purge:
        """Apply a retention of ``days``: old enquiries with their votes, and tickets finished
        that long ago (open tickets are work still to do and stay), and last answers kept
        that long."""
        purged = Purge(await self.purge_older_than(days), await self.purge_closed_tickets(days))
        await self.forget_answers_before(datetime.now(UTC) - timedelta(days=days))
        return purged

    async def backup(self, target: str | Path) -> Path:
        """A consistent owner-only copy at ``target``; see store.files.backup."""
        return await backup(self._db, Path(target))

    async def close(self) -> None:
        """Close the store; further calls raise StoreError. Closing twice is harmless."""
        await self._db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()
