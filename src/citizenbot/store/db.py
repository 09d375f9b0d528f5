"""The SQLite file: opening it, migrating it by name, and the one way to read and to write.

One aiosqlite connection per open database, and one writer on it. `Database.write` hands a unit
of work to a queue; one drain task takes everything queued, runs it as one transaction (BEGIN
IMMEDIATE, each unit inside its own SAVEPOINT, COMMIT) and gives every caller its own result or
its own StoreError (group commit, as datasette's execute_write_fn serialises writes). So the
fsync of `synchronous = FULL` is paid once per batch rather than once per message, and a busy or
locked database delays one batch by at most WRITE_WAIT_MS instead of every message by the whole
busy timeout. A unit that raises fails alone: the batch is rolled back and run again with each
unit in a savepoint of its own (savepoints cost a trip to SQLite's thread each, so the common
case goes without); an error that ends the transaction (a full disk, an I/O error) fails the
whole batch. Before each batch the file is
checked to be the one opened: a database deleted or replaced under the running bot would
otherwise swallow every later write without a word.

Reads and the writer share one asyncio lock, so that a read never lands inside a batch's
transaction. Rows are read by column name (sqlite3.Row).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Final, TypeVar, cast

import aiosqlite

from citizenbot.model import StoreError

log = logging.getLogger(__name__)

T = TypeVar("T")

MEMORY: Final = ":memory:"
DEFAULT_BUSY_TIMEOUT_MS: Final = 5000  # at open: migrations may wait for another process
# Once open, how long a batch waits for another process's write lock before its units fail (and
# their enquiries go to the journal): long enough for a backup's or a CLI command's short
# transaction, short enough that users still get their answers at once.
WRITE_WAIT_MS: Final = 1000
MAX_BATCH: Final = 500  # units in one transaction; the rest wait for the next


@dataclass(frozen=True)
class Migration:
    """One step of the schema, recorded by name in the `migrations` table once applied."""

    name: str
    sql: str


# Applied in this order, each in its own transaction. Never edit a migration that has shipped;
# append a new one. The first two predate names: a database at PRAGMA user_version n has the
# first n applied (see _applied).
MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration("0001_enquiries_and_feedback", """
        CREATE TABLE enquiries (
            id         INTEGER PRIMARY KEY,
            ts         TEXT    NOT NULL,
            transport  TEXT    NOT NULL,
            user_hash  TEXT    NOT NULL,
            chat_type  TEXT    NOT NULL,
            language   TEXT    NOT NULL,
            question   TEXT    NOT NULL,
            status     TEXT    NOT NULL,
            intent     TEXT,
            score      REAL    NOT NULL,
            latency_ms REAL    NOT NULL
        );
        CREATE INDEX enquiries_ts ON enquiries (ts);
        CREATE INDEX enquiries_user_hash ON enquiries (user_hash);
        CREATE INDEX enquiries_status ON enquiries (status);
        CREATE TABLE feedback (
            id         INTEGER PRIMARY KEY,
            enquiry_id INTEGER NOT NULL REFERENCES enquiries (id) ON DELETE CASCADE,
            ts         TEXT    NOT NULL,
            helpful    INTEGER NOT NULL CHECK (helpful IN (0, 1))
        );
        -- Without it every enquiry deleted by an erasure would scan the whole feedback table.
        CREATE INDEX feedback_enquiry_id ON feedback (enquiry_id);
    """),
    Migration("0002_tickets", """
        CREATE TABLE tickets (
            id               INTEGER PRIMARY KEY,
            ts               TEXT    NOT NULL,
            user_hash        TEXT    NOT NULL,
            chat_id          INTEGER NOT NULL,
            language         TEXT    NOT NULL,
            question         TEXT    NOT NULL,
            enquiry_id       INTEGER REFERENCES enquiries (id) ON DELETE SET NULL,
            status           TEXT    NOT NULL DEFAULT 'open'
                             CHECK (status IN ('open', 'answered', 'undeliverable', 'closed')),
            staff_chat_id    INTEGER,
            staff_message_id INTEGER,
            forward_error    TEXT,
            answer           TEXT,
            answered_via     TEXT,
            answer_ts        TEXT,
            claim_ts         TEXT,
            closed_ts        TEXT,
            note             TEXT
        );
        CREATE INDEX tickets_user_hash ON tickets (user_hash);
        CREATE INDEX tickets_status ON tickets (status, id);
        CREATE INDEX tickets_enquiry_id ON tickets (enquiry_id);
        CREATE UNIQUE INDEX tickets_staff_message ON tickets (staff_chat_id, staff_message_id);
    """),
    Migration("0003_one_vote_per_enquiry", """
        -- Logs written before this rule may hold several votes on one answer (a double tap):
        -- the first one counts.
        DELETE FROM feedback WHERE id NOT IN (SELECT MIN(id) FROM feedback GROUP BY enquiry_id);
        DROP INDEX feedback_enquiry_id;
        CREATE UNIQUE INDEX feedback_one_per_enquiry ON feedback (enquiry_id);
    """),
    Migration("0004_refusal_category", """
        -- Why a question got no quote (another place, a year, a personal case, a part the
        -- English version leaves out, a tailored topic...), so staff see which refusal was
        -- given. Rows logged before stay NULL.
        ALTER TABLE enquiries ADD COLUMN refusal TEXT;
    """),
    Migration("0005_user_state", """
        -- Per user hash: the language chosen with /lang, and the last answer, so that the
        -- next message can continue it. Erased with the user's enquiries.
        CREATE TABLE user_state (
            user_hash     TEXT PRIMARY KEY,
            language      TEXT CHECK (language IN ('en', 'zh')),
            last_question TEXT,
            last_language TEXT,
            last_intent   TEXT,
            last_sentences TEXT,
            last_ts       TEXT
        );
    """),
    Migration("0006_inbox", """
        -- Every update fetched from Telegram, stored before Telegram is told it arrived, so
        -- that a crash cannot lose it: received (not yet answered), answering (its reply is
        -- being sent: never sent again), done, or interrupted (the process died while its
        -- reply was being sent, so whether the user got it is unknown). The payload (what the
        -- user sent, encrypted) is dropped as soon as the update is done. enquiry_id: the
        -- enquiry logged for it, so that handling it again after a crash logs no second row.
        CREATE TABLE inbox (
            update_id   INTEGER PRIMARY KEY,
            received_ts TEXT    NOT NULL,
            state       TEXT    NOT NULL DEFAULT 'received'
                        CHECK (state IN ('received', 'answering', 'done', 'interrupted')),
            payload     TEXT,
            done_ts     TEXT,
            enquiry_id  INTEGER REFERENCES enquiries (id) ON DELETE SET NULL
        );
        CREATE INDEX inbox_state ON inbox (state, update_id);
        CREATE INDEX inbox_received_ts ON inbox (received_ts);
        -- Journal lines already imported, by their id: a crash between importing the journal
        -- and clearing it must not import its enquiries twice.
        CREATE TABLE journal_imported (
            id          TEXT PRIMARY KEY,
            imported_ts TEXT NOT NULL
        );
    """),
)

_BOOKKEEPING = (
    "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_ts TEXT NOT NULL)"
)


# --------------------------------------------------------------------------- errors

def sqlite_reason(exc: sqlite3.Error) -> str:
    """What an SQLite error means for whoever runs citizenbot."""
    code = getattr(exc, "sqlite_errorcode", None)
    # Extended result codes carry the primary code in their low byte.
    primary = code & 0xFF if isinstance(code, int) else None
    if primary == sqlite3.SQLITE_NOTADB:
        return "the file is not an SQLite database (or it is encrypted)"
    if primary == sqlite3.SQLITE_CORRUPT:
        return "the database file is corrupt; restore it from a backup or move it aside"
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return "the database is locked by another process (is another citizenbot running?)"
    if primary == sqlite3.SQLITE_READONLY:
        return "the database is read-only (check the permissions of the file and its directory)"
    if primary == sqlite3.SQLITE_CANTOPEN:
        return "unable to open the database file (check the path and its permissions)"
    if primary == sqlite3.SQLITE_FULL:
        return "the disk is full"
    if primary == sqlite3.SQLITE_IOERR:
        return "a disk I/O error (is the disk full, over its quota, or failing?)"
    return str(exc)


def os_reason(exc: OSError) -> str:
    if exc.errno is not None:
        return os.strerror(exc.errno).lower()
    return str(exc)


# --------------------------------------------------------------------------- time as stored

def iso(ts: datetime) -> str:
    """A moment as stored: fixed-width UTC text, so ORDER BY ts and ts >= ? compare correctly."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).isoformat(timespec="microseconds")


def stamp() -> str:
    """The current moment as stored."""
    return iso(datetime.now(UTC))


def bounds(since: datetime | None, until: datetime | None) -> tuple[str, str]:
    """[since, until) as stored-ts strings; an open end becomes a bound no row can pass."""
    start = iso(since) if since is not None else iso(datetime(1970, 1, 1, tzinfo=UTC))
    end = iso(until) if until is not None else "9999-12-31T23:59:59.999999+00:00"
    return start, end


# --------------------------------------------------------------------------- a unit of work

@dataclass(frozen=True)
class Changed:
    """What a data-changing statement did."""

    rows: int
    last_id: int | None


class Tx:
    """The connection as a unit of work sees it: inside a write transaction or a read."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Changed:
        # One trip to aiosqlite's thread, not two: the cursor of a data-changing statement
        # holds nothing once executed, so it is left to the garbage collector, not closed.
        cur = await self._conn.execute(sql, params)
        return Changed(max(cur.rowcount, 0), cur.lastrowid)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, rows)

    async def rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    async def row(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        found = await self.rows(sql, params)
        return found[0] if found else None

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> int:
        found = await self.row(sql, params)
        return int(found[0]) if found is not None and found[0] is not None else 0


Work = Callable[[Tx], Awaitable[T]]


# --------------------------------------------------------------------------- the database

@dataclass
class _Unit:
    """One caller's work, waiting in the writer's queue."""

    action: str
    work: Work[Any]
    future: asyncio.Future[Any]


class Database:
    """One open SQLite file. Open it with ``await Database.open(path)``."""

    def __init__(self, conn: aiosqlite.Connection, where: str) -> None:
        """Wrap an already configured connection; use Database.open instead."""
        self._conn: aiosqlite.Connection | None = conn
        self.where = where
        self._lock = asyncio.Lock()
        self._queue: list[_Unit] = []
        self._drain: asyncio.Task[None] | None = None
        self._identity: tuple[int, int] | None = None
        self._gone: str | None = None  # why the file on disk is no longer this database
        # Why the last batch failed (None: the last batch committed): what health shows.
        self.trouble: str | None = None
        self._write_wait_ms = WRITE_WAIT_MS
        self._impatient = False  # the database was found locked: batches do not wait for it
        self.batches = 0  # transactions committed by the writer (for the benchmark)
        self.units = 0  # units of work committed in them

    @classmethod
    async def open(cls, path: str | Path, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
                   migrations: Sequence[Migration] = MIGRATIONS,
                   write_wait_ms: int = WRITE_WAIT_MS) -> Database:
        """The database at ``path`` (":memory:" for a throwaway one), schema up to date.

        A new file is created owner-only (0600), with its parent directories. Raises StoreError,
        naming the path, when the file cannot be opened or migrated: not a database, corrupt,
        locked, read-only, or written by a newer citizenbot.
        """
        memory = str(path) == MEMORY
        where = MEMORY if memory else str(Path(path))
        if not memory:
            file = Path(path)
            try:
                file.parent.mkdir(parents=True, exist_ok=True)
                create_owner_only(file)
            except FileExistsError as exc:  # mkdir: the directory's name is taken by a file
                raise StoreError(f"cannot open the database at {where}: not a directory "
                                 f"({file.parent} is a file)") from exc
            except OSError as exc:
                raise StoreError(f"cannot open the database at {where}: {os_reason(exc)}") from exc
        try:
            # isolation_level=None: the sqlite3 module must not open transactions behind our
            # back; the writer issues BEGIN IMMEDIATE and COMMIT itself.
            conn = await aiosqlite.connect(where, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database at {where}: {sqlite_reason(exc)}") from exc
        conn.row_factory = sqlite3.Row
        database = cls(conn, where)
        try:
            await database._configure(busy_timeout_ms, memory)
            await database._migrate(migrations)
            await conn.execute(f"PRAGMA busy_timeout = {int(write_wait_ms)}")
            database._write_wait_ms = write_wait_ms
            if not memory:
                database._identity = _identity(Path(where))
        except sqlite3.Error as exc:
            await conn.close()
            raise database.error("cannot open the database", exc) from exc
        except BaseException:
            await conn.close()
            raise
        return database

    async def _configure(self, busy_timeout_ms: int, memory: bool) -> None:
        conn = self._connection()
        try:
            # PRAGMA values cannot be bound as parameters; int() keeps this injection-free.
            # busy_timeout first, so that the journal-mode switch below waits for other writers.
            await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            await conn.execute("PRAGMA foreign_keys = ON")
            async with conn.execute("PRAGMA journal_mode = WAL") as cur:
                row = await cur.fetchone()
            # FULL: a commit is on disk (the WAL fsynced) before the caller hears of it, so an
            # answered question survives a power cut too; group commit keeps that cheap.
            await conn.execute("PRAGMA synchronous = FULL")
            # Deleted content is overwritten, not left in free space: an update's payload (which
            # names the user) is dropped once it is answered, and an erasure must erase.
            await conn.execute("PRAGMA secure_delete = ON")
        except sqlite3.Error as exc:
            raise self.error("cannot open the database", exc) from exc
        mode = str(row[0]).lower() if row else ""
        if not memory and mode != "wal":
            raise StoreError(
                f"cannot open the database at {self.where}: could not switch it to WAL mode "
                f"(journal mode is {mode!r}; is the directory read-only or on a network share?)"
            )

    async def _migrate(self, migrations: Sequence[Migration]) -> None:
        """Apply the migrations not yet applied, one transaction each, in order."""
        names = [m.name for m in migrations]

        async def step(tx: Tx) -> str | None:
            applied = await _applied(tx, names)
            newer = [name for name in applied if name not in names]
            if newer:
                raise StoreError(
                    f"the database at {self.where} has schema changes this citizenbot does not "
                    f"know ({', '.join(newer)}): it was written by a newer citizenbot;"
                    " upgrade citizenbot"
                )
            due = next((m for m in migrations if m.name not in applied), None)
            if due is None:
                return None
            for statement in _statements(due.sql):
                await tx.execute(statement)
            await tx.execute("INSERT INTO migrations (name, applied_ts) VALUES (?, ?)",
                             (due.name, stamp()))
            # Kept in step for citizenbot versions that only read user_version: they refuse a
            # database with more migrations than they know, rather than misread it.
            await tx.execute(f"PRAGMA user_version = {len(applied) + 1}")
            return due.name

        while True:
            # Even when nothing is due, BEGIN IMMEDIATE proves now that we can write, so a
            # locked or read-only database fails at start-up rather than on the first question;
            # reading what is applied under the write lock stops two processes applying the
            # same migration.
            name = await self.write("cannot open the database", step)
            if name is None:
                return
            log.info("migrated the database at %s: %s", self.where, name)

    # ------------------------------------------------------------------ the two primitives

    async def write(self, action: str, work: Work[T]) -> T:
        """Run ``work`` in a write transaction and return its result.

        Committed when this returns; rolled back (and re-raised) if the work raises. Any SQLite
        error becomes a StoreError: "<action> in the database at <path>: <what to do>". The
        work may share its transaction with other callers' (group commit); it must not await
        anything but the Tx it is given.
        """
        return cast(T, await self.submit(action, work))

    def submit(self, action: str, work: Work[T]) -> asyncio.Future[T]:
        """Queue ``work`` for the writer and return the future of its result at once: for
        writes the caller need not wait for (marking an update done). The work runs even if
        nobody awaits the future."""
        if self._conn is None:
            raise StoreError(f"the enquiry log at {self.where} is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.append(_Unit(action, work, future))
        if self._drain is None or self._drain.done():
            self._drain = loop.create_task(self._run_writer(), name="citizenbot database writer")
        return future

    async def _run_writer(self) -> None:
        """Commit what is queued, a batch per transaction, until the queue is empty."""
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                await self._commit(batch)
            except BaseException as exc:  # cancelled at shutdown: nobody may wait for ever
                for unit in batch:
                    if not unit.future.done():
                        unit.future.set_exception(StoreError(
                            f"{unit.action} in the database at {self.where}: interrupted"))
                raise exc

    async def _commit(self, batch: list[_Unit]) -> None:
        async with self._lock:
            conn = self._conn
            if conn is None:
                self._fail(batch, lambda unit: StoreError(
                    f"the enquiry log at {self.where} is closed"))
                return
            if self._moved():
                gone = self._gone
                self._fail(batch, lambda unit: StoreError(
                    f"{unit.action}: the database file {self.where} {gone}; nothing more is "
                    "written there until citizenbot restarts (enquiries go to the journal)"))
                return
            try:
                # IMMEDIATE takes the write lock up front, so a busy database fails here (after
                # WRITE_WAIT_MS) rather than half-way through the work.
                await conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                if _busy(exc) and not self._impatient:
                    # The first batch of a locked episode waited; the next ones look once and
                    # fail at once while the lock is held, and succeed as soon as it is let go.
                    self._impatient = True
                    await conn.execute("PRAGMA busy_timeout = 0")
                self._fail(batch, partial(self._sqlite_failure, exc))
                return
            try:
                outcomes = await self._run_units(conn, batch, careful=False)
                if outcomes is None:
                    # A unit raised: start again, each unit in a savepoint of its own, so that
                    # it fails alone (the first try costs no savepoints in the common case).
                    await conn.rollback()
                    await conn.execute("BEGIN IMMEDIATE")
                    outcomes = await self._run_units(conn, batch, careful=True)
                    assert outcomes is not None
                await conn.commit()
            except sqlite3.Error as exc:
                # Also after a failed COMMIT: a transaction left open would make every later
                # BEGIN fail with "cannot start a transaction within a transaction".
                await _rollback_quietly(conn)
                self._fail(batch, partial(self._sqlite_failure, exc))
                return
            except BaseException:
                await _rollback_quietly(conn)
                raise
        if self._impatient:
            self._impatient = False
            with contextlib.suppress(sqlite3.Error):
                await conn.execute(f"PRAGMA busy_timeout = {int(self._write_wait_ms)}")
        self.batches += 1
        self.units += len(batch)
        if self.trouble is not None:
            log.warning("the database at %s takes writes again", self.where)
            self.trouble = None
        for unit, ok, value in outcomes:
            if unit.future.done():
                continue
            if ok:
                unit.future.set_result(value)
            elif isinstance(value, sqlite3.Error):
                unit.future.set_exception(self.error(unit.action, value))
            else:
                unit.future.set_exception(value)

    @staticmethod
    async def _run_units(conn: aiosqlite.Connection, batch: list[_Unit], *,
                         careful: bool) -> list[tuple[_Unit, bool, Any]] | None:
        """Run every unit of ``batch`` in the open transaction: (unit, ok, result or error)
        each. Not ``careful``: None as soon as one raises (the caller rolls back and tries again
        carefully). ``careful``: each in a savepoint, a unit that raises rolled back alone. An
        SQLite error that ends the transaction itself (a full disk) is raised."""
        outcomes: list[tuple[_Unit, bool, Any]] = []
        for unit in batch:
            if careful:
                await conn.execute("SAVEPOINT unit")
            try:
                result = await unit.work(Tx(conn))
            except Exception as exc:
                if not conn.in_transaction:
                    raise  # the error ended the whole transaction: the batch fails
                if not careful:
                    return None
                await conn.execute("ROLLBACK TO unit")
                await conn.execute("RELEASE unit")
                outcomes.append((unit, False, exc))
                continue
            if careful:
                await conn.execute("RELEASE unit")
            outcomes.append((unit, True, result))
        return outcomes

    def _sqlite_failure(self, exc: sqlite3.Error, unit: _Unit) -> StoreError:
        return self.error(unit.action, exc)

    def _fail(self, batch: list[_Unit], error: Callable[[_Unit], StoreError]) -> None:
        first = error(batch[0])
        if self.trouble is None:
            # Loud once per episode; each refused enquiry is logged again where it is journaled.
            log.critical("the database cannot take writes: %s", first)
        self.trouble = str(first)
        for unit in batch:
            if not unit.future.done():
                unit.future.set_exception(error(unit))

    def _moved(self) -> bool:
        """Whether the file at our path is no longer the one we opened (deleted, replaced)."""
        if self._gone is not None:
            return True
        if self._identity is None:
            return False
        try:
            now = _identity(Path(self.where))
        except FileNotFoundError:
            self._gone = "was deleted (or moved away) while citizenbot was running"
            return True
        except OSError:
            return False  # cannot tell; SQLite will say if it cannot write
        if now != self._identity:
            self._gone = "was replaced by another file while citizenbot was running"
            return True
        return False

    async def read(self, action: str, work: Work[T], *, snapshot: bool = False) -> T:
        """Run ``work`` that only reads; ``snapshot``: all its queries see one moment of the
        file even if another process writes meanwhile. SQLite errors become StoreError."""
        try:
            async with self._lock:
                conn = self._connection()
                if not snapshot:
                    return await work(Tx(conn))
                await conn.execute("BEGIN")
                try:
                    return await work(Tx(conn))
                finally:
                    await conn.rollback()
        except sqlite3.Error as exc:
            raise self.error(action, exc) from exc

    async def copy_to(self, action: str, target: sqlite3.Connection) -> None:
        """Copy every committed page into ``target`` with SQLite's online backup."""
        try:
            # Under the lock no transaction of this connection is half-done, so the copy cannot
            # pick up uncommitted rows. pages=0 copies everything in one step: one read
            # snapshot, consistent while other processes write.
            async with self._lock:
                await self._connection().backup(target, pages=0)
        except sqlite3.Error as exc:
            raise self.error(action, exc) from exc

    # ------------------------------------------------------------------ the rest

    def error(self, action: str, exc: sqlite3.Error) -> StoreError:
        preposition = "at" if action.startswith("cannot open") else "in the database at"
        return StoreError(f"{action} {preposition} {self.where}: {sqlite_reason(exc)}")

    def _connection(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise StoreError(f"the enquiry log at {self.where} is closed")
        return self._conn

    @property
    def memory(self) -> bool:
        return self.where == MEMORY

    @property
    def gone(self) -> str | None:
        """Why the file at the path is no longer this database (None: it still is)."""
        self._moved()
        return self._gone

    async def close(self) -> None:
        """Finish the queued writes, then close; further use raises StoreError. Closing twice
        is harmless."""
        drain = self._drain
        if drain is not None and not drain.done():
            with contextlib.suppress(Exception):
                await drain
        conn, self._conn = self._conn, None
        if conn is not None:
            async with self._lock:
                await conn.close()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()


def _busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _identity(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_dev, info.st_ino


async def _rollback_quietly(conn: aiosqlite.Connection) -> None:
    with contextlib.suppress(sqlite3.Error):
        if conn.in_transaction:
            await conn.rollback()


async def _applied(tx: Tx, known: Sequence[str]) -> list[str]:
    """Names of the migrations applied to this database, oldest first.

    A database from before migration names has none recorded; its user_version says how many
    of the first migrations it has, and they are recorded now under their names.
    """
    await tx.execute(_BOOKKEEPING)
    names = [str(r["name"]) for r in await tx.rows(
        "SELECT name FROM migrations ORDER BY applied_ts, rowid")]
    version = await tx.scalar("PRAGMA user_version")
    if not names and version:
        if version > len(known):
            raise StoreError(
                f"the database has schema version {version}, newer than this citizenbot "
                f"understands ({len(known)}); upgrade citizenbot")
        names = list(known[:version])
        await tx.executemany("INSERT INTO migrations (name, applied_ts) VALUES (?, ?)",
                             [(name, stamp()) for name in names])
    return names


def _statements(script: str) -> list[str]:
    """Split a migration script into complete statements (semicolons in strings kept)."""
    out: list[str] = []
    buf = ""
    for piece in script.split(";"):
        buf += piece + ";"
        if sqlite3.complete_statement(buf):
            if _without_comments(buf).strip(" \t\r\n;"):
                out.append(buf)
            buf = ""
    if _without_comments(buf).strip(" \t\r\n;"):
        raise ValueError(f"incomplete SQL statement in migration: {buf.strip()[:80]!r}")
    return out


def _without_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))


def create_owner_only(path: Path) -> None:
    """Create the file 0600 if it does not exist yet; leave an existing one alone.

    SQLite gives the -wal and -shm files the mode of the database file, so this also keeps
    those owner-only without touching the process-wide umask.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    try:
        # The umask may have stripped more than we asked for (e.g. 0o277); the owner still
        # needs to write.
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def open_private(path: Path, flags: int) -> int:
    """A file descriptor for ``path`` opened with ``flags``: created owner-only (0600) if new,
    made 0600 if it existed (it holds what citizens typed), and never through a symlink
    (OSError ELOOP), so nobody can point a file citizenbot writes at another one."""
    fd = os.open(path, flags | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.fchmod(fd, 0o600)
    except BaseException:
        os.close(fd)
        raise
    return fd
