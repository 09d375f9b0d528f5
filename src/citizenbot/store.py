"""The enquiry log: every question a transport handles, plus the feedback it received.

One SQLite database, reached through a single aiosqlite connection. aiosqlite runs every
statement on its own worker thread in submission order; on top of that, this module holds
an asyncio lock around each transaction so that statements from concurrent tasks never end
up inside somebody else's transaction.

User ids never reach the database: transports store ``hash_user(salt, user_id)`` instead,
with a per-installation salt from ``load_or_create_salt``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import secrets
import sqlite3
import stat
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import aiosqlite

__all__ = [
    "MAX_QUESTION_CHARS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "STATUSES",
    "TICKET_STATUSES",
    "Enquiry",
    "LoggedEnquiry",
    "Overview",
    "Stats",
    "Store",
    "StoreError",
    "Ticket",
    "hash_user",
    "load_or_create_salt",
]

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS: Final = 1000
STATUSES: Final = frozenset({"answered", "clarify", "fallback"})
UNANSWERED_STATUSES: Final = ("clarify", "fallback")
MEMORY: Final = ":memory:"
DEFAULT_BUSY_TIMEOUT_MS: Final = 5000
# A salt shorter than this is almost certainly a truncated or hand-edited file; hashing with it
# would make user hashes easy to reverse by brute force over Telegram's id space.
MIN_SALT_CHARS: Final = 32

# Each entry upgrades the schema by one version: entry i takes PRAGMA user_version from i to
# i + 1. Never edit an entry that has shipped; append a new one instead.
MIGRATIONS: Final[tuple[str, ...]] = (
    """
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
    -- Without it every enquiry deleted by erase_user would scan the whole feedback table.
    CREATE INDEX feedback_enquiry_id ON feedback (enquiry_id);
    """,
    # 2: tickets, questions handed to district staff (see citizenbot.tickets).
    """
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
    """,
)
SCHEMA_VERSION: Final = len(MIGRATIONS)


_INSERT_ENQUIRY = (
    "INSERT INTO enquiries (ts, transport, user_hash, chat_type, language, question, status,"
    " intent, score, latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _enquiry_row(e: Enquiry) -> tuple[Any, ...]:
    """The parameters of _INSERT_ENQUIRY; ValueError for a status the log does not know."""
    if e.status not in STATUSES:
        raise ValueError(f"unknown enquiry status {e.status!r}; expected one of {sorted(STATUSES)}")
    return (_iso(e.ts) if e.ts is not None else _now(), e.transport, e.user_hash, e.chat_type,
            e.language, _storable(e.question), e.status, e.intent, float(e.score),
            float(e.latency_ms))


def _storable(text: str) -> str:
    """The question as SQLite can keep it: capped, and lone surrogates (which are not UTF-8)
    replaced, so that no text a user can type makes logging fail."""
    return text[:MAX_QUESTION_CHARS].encode("utf-8", "replace").decode("utf-8")


class StoreError(Exception):
    """The enquiry log could not do what was asked; the message says why and where."""


@dataclass(frozen=True)
class Enquiry:
    """What a transport logs for one question."""

    transport: str  # "telegram" | "console" | "batch"
    user_hash: str  # hash_user(...) of the user id, or "" for console/batch
    chat_type: str  # "private" | "group" | "supergroup" | "console" | "batch"
    language: str  # "en" | "zh"
    question: str  # capped to MAX_QUESTION_CHARS by Store.log_enquiry
    status: str  # one of STATUSES
    intent: str | None
    score: float  # 0-100
    latency_ms: float
    ts: datetime | None = None  # UTC; None means "now"; a naive value is taken as UTC


@dataclass(frozen=True)
class Stats:
    """Summary of the log, as returned by Store.stats."""

    total: int
    by_status: dict[str, int]
    top_intents: list[tuple[str, int]]  # most asked answered intents, most first
    recent_unanswered: list[tuple[str, str]]  # (ISO time, question), newest first
    feedback: dict[str, tuple[int, int]]  # intent -> (helpful, not helpful)


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
    helpful: int  # "helpful" votes on this enquiry
    not_helpful: int


@dataclass(frozen=True)
class Overview:
    """Figures over one period for the staff report, as returned by Store.overview."""

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


TICKET_STATUSES: Final = ("open", "answered", "undeliverable", "closed")
_TICKET_COLUMNS: Final = (
    "id, ts, user_hash, chat_id, language, question, enquiry_id, status, staff_chat_id,"
    " staff_message_id, forward_error, answer, answered_via, answer_ts, claim_ts, closed_ts, note"
)


@dataclass(frozen=True)
class Ticket:
    """A question handed to district staff, as kept in the tickets table.

    ``status`` is "open" until the staff answer reached the citizen ("answered"), could not
    reach them ("undeliverable": blocked bot, chat gone), or staff closed it unanswered
    ("closed"). An open ticket with an ``answer`` has one waiting to be delivered.
    """

    id: int
    ts: str  # ISO 8601 in UTC: when it was asked
    user_hash: str
    chat_id: int  # the chat the answer goes to
    language: str
    question: str
    enquiry_id: int | None
    status: str
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
        return self.status == "open" and self.answer is not None


def _ticket(row: Sequence[Any]) -> Ticket:
    return Ticket(
        id=int(row[0]), ts=str(row[1]), user_hash=str(row[2]), chat_id=int(row[3]),
        language=str(row[4]), question=str(row[5]),
        enquiry_id=None if row[6] is None else int(row[6]), status=str(row[7]),
        staff_chat_id=None if row[8] is None else int(row[8]),
        staff_message_id=None if row[9] is None else int(row[9]),
        forward_error=row[10], answer=row[11], answered_via=row[12], answer_ts=row[13],
        claim_ts=row[14], closed_ts=row[15], note=row[16],
    )


def hash_user(salt: str, user_id: int | str) -> str:
    """Return the SHA-256 hex digest of ``f"{salt}:{user_id}"``: what the log stores for a user."""
    return hashlib.sha256(f"{salt}:{user_id}".encode()).hexdigest()


def load_or_create_salt(path: Path) -> str:
    """Return the salt kept in ``path``, creating the file (mode 0600) with a fresh one if absent.

    Raises StoreError when the file cannot be read or created, or holds an unusably short salt.
    """
    path = Path(path)
    try:
        return _read_salt(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise StoreError(f"cannot read the salt file {path}: {_os_reason(exc)}") from exc

    salt = secrets.token_hex(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL so that two processes starting together cannot both write a salt and end up
        # hashing the same user differently; the loser reads the winner's salt below.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_or_create_salt(path)
    except OSError as exc:
        raise StoreError(f"cannot create the salt file {path}: {_os_reason(exc)}") from exc
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(salt + "\n")
            fh.flush()
            # A salt lost in a crash would silently orphan every stored user hash.
            os.fsync(fh.fileno())
    except OSError as exc:
        raise StoreError(f"cannot write the salt file {path}: {_os_reason(exc)}") from exc
    log.info("created a new salt file at %s", path)
    return salt


def _read_salt(path: Path) -> str:
    salt = path.read_text(encoding="utf-8").strip()
    if len(salt) < MIN_SALT_CHARS:
        raise StoreError(
            f"the salt file {path} holds {len(salt)} characters, fewer than {MIN_SALT_CHARS}; "
            "restore it from a backup, or delete it to create a new one "
            "(enquiries already logged will then no longer match their users)"
        )
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning(
            "the salt file %s is readable by other users (mode %o); chmod 600 it", path, mode
        )
    return salt


def _os_reason(exc: OSError) -> str:
    if exc.errno is not None:
        return os.strerror(exc.errno).lower()
    return str(exc)


def _sqlite_reason(exc: sqlite3.Error) -> str:
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


def _iso(ts: datetime) -> str:
    # Fixed-width UTC text so that ORDER BY ts and ts >= ? compare correctly as strings.
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).isoformat(timespec="microseconds")


def _now() -> str:
    return _iso(datetime.now(UTC))


def _bounds(since: datetime | None, until: datetime | None) -> tuple[str, str]:
    """[since, until) as stored-ts strings; an open end becomes a bound no row can pass."""
    start = _iso(since) if since is not None else _iso(datetime(1970, 1, 1, tzinfo=UTC))
    end = _iso(until) if until is not None else "9999-12-31T23:59:59.999999+00:00"
    return start, end


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        log.warning("could not remove the temporary file %s", path)


def _statements(script: str) -> list[str]:
    """Split a migration script into complete statements (semicolons in strings/triggers kept)."""
    out: list[str] = []
    buf = ""
    for piece in script.split(";"):
        buf += piece + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \t\r\n;"):
                out.append(buf)
            buf = ""
    if buf.strip(" \t\r\n;"):
        raise ValueError(f"incomplete SQL statement in migration: {buf.strip()[:80]!r}")
    return out


def _create_owner_only(path: Path) -> None:
    """Create the database file 0600 if it does not exist yet; leave an existing one alone.

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


class Store:
    """The enquiry log. Open it with ``await Store.open(path)``; use it as an async context."""

    def __init__(self, db: aiosqlite.Connection, where: str) -> None:
        """Wrap an already configured connection; callers should use Store.open instead."""
        self._db: aiosqlite.Connection | None = db
        self._where = where
        self._lock = asyncio.Lock()

    # ------------------------------------------------------------------ opening and closing

    @classmethod
    async def open(
        cls, path: str | Path, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS
    ) -> Store:
        """Return an open store at ``path`` (":memory:" for a throwaway one), schema up to date.

        A new database file is created owner-only (0600), with its parent directories.
        Raises StoreError, naming the path, when the file cannot be opened or migrated:
        not a database, corrupt, locked, read-only, or written by a newer citizenbot.
        """
        memory = str(path) == MEMORY
        where = MEMORY if memory else str(Path(path))
        if not memory:
            file = Path(path)
            try:
                file.parent.mkdir(parents=True, exist_ok=True)
                _create_owner_only(file)
            except FileExistsError as exc:  # mkdir: the directory's name is taken by a file
                raise StoreError(f"cannot open the database at {where}: not a directory "
                                 f"({file.parent} is a file)") from exc
            except OSError as exc:
                raise StoreError(f"cannot open the database at {where}: {_os_reason(exc)}") from exc

        try:
            # isolation_level=None: the sqlite3 module must not open transactions behind our
            # back; _transaction() issues BEGIN IMMEDIATE/COMMIT itself.
            db = await aiosqlite.connect(where, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database at {where}: {_sqlite_reason(exc)}") from exc

        store = cls(db, where)
        try:
            await store._configure(busy_timeout_ms, memory)
            await store._migrate()
        except BaseException:
            await db.close()
            raise
        return store

    async def _configure(self, busy_timeout_ms: int, memory: bool) -> None:
        db = self._conn()
        try:
            # PRAGMA values cannot be bound as parameters; int() keeps this injection-free.
            # busy_timeout first, so that the journal-mode switch below waits for other writers.
            await db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            await db.execute("PRAGMA foreign_keys = ON")
            async with db.execute("PRAGMA journal_mode = WAL") as cur:
                row = await cur.fetchone()
            await db.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            raise self._error("cannot open the database", exc) from exc
        mode = str(row[0]).lower() if row else ""
        if not memory and mode != "wal":
            raise StoreError(
                f"cannot open the database at {self._where}: could not switch it to WAL mode "
                f"(journal mode is {mode!r}; is the directory read-only or on a network share?)"
            )

    async def _migrate(self) -> None:
        """Bring the schema to SCHEMA_VERSION, one transaction per migration."""
        db = self._conn()
        try:
            while True:
                # Even when nothing is due, BEGIN IMMEDIATE proves now that we can write, so a
                # locked or read-only database fails at start-up rather than on the first
                # question. Reading the version under the write lock also stops two processes
                # from applying the same migration.
                async with self._transaction():
                    version = await self._user_version()
                    if version > SCHEMA_VERSION:
                        raise StoreError(
                            f"the database at {self._where} has schema version {version}, newer"
                            f" than this citizenbot understands ({SCHEMA_VERSION});"
                            " upgrade citizenbot"
                        )
                    if version == SCHEMA_VERSION:
                        break
                    for statement in _statements(MIGRATIONS[version]):
                        await db.execute(statement)
                    await db.execute(f"PRAGMA user_version = {int(version) + 1}")
                log.info(
                    "migrated the database at %s to schema version %d", self._where, version + 1
                )
        except sqlite3.Error as exc:
            raise self._error("cannot open the database", exc) from exc

    async def _user_version(self) -> int:
        async with self._conn().execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def close(self) -> None:
        """Close the connection; further calls raise StoreError. Closing twice is harmless."""
        db, self._db = self._db, None
        if db is not None:
            async with self._lock:
                await db.close()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ------------------------------------------------------------------ writes

    async def log_enquiry(self, e: Enquiry) -> int:
        """Record one enquiry and return its row id; it is committed when this returns.

        The question is cut to MAX_QUESTION_CHARS. Raises ValueError for an unknown status
        and StoreError if the database refuses the write.
        """
        params = _enquiry_row(e)
        try:
            async with (
                self._transaction() as db,
                db.execute(
                    _INSERT_ENQUIRY,
                    params,
                ) as cur,
            ):
                row_id = cur.lastrowid
        except sqlite3.Error as exc:
            raise self._error("cannot log the enquiry", exc) from exc
        if row_id is None:  # pragma: no cover - sqlite3 always sets it after an INSERT
            raise StoreError(f"cannot log the enquiry in the database at {self._where}")
        return row_id

    async def log_enquiries(self, enquiries: Sequence[Enquiry]) -> int:
        """Record many enquiries in one transaction (all or none); returns how many."""
        rows = [_enquiry_row(e) for e in enquiries]
        try:
            async with self._transaction() as db:
                await db.executemany(_INSERT_ENQUIRY, rows)
        except sqlite3.Error as exc:
            raise self._error("cannot log the enquiries", exc) from exc
        return len(rows)

    async def log_feedback(self, enquiry_id: int, helpful: bool) -> int:
        """Record a helpful / not helpful vote on an enquiry and return the feedback row id.

        Every call adds a row. Raises StoreError if the enquiry does not exist (for instance
        because its user asked for erasure meanwhile).
        """
        try:
            # INSERT ... SELECT ... WHERE EXISTS rather than relying on the foreign key, so that
            # a missing enquiry is reported as such instead of as a constraint failure.
            async with (
                self._transaction() as db,
                db.execute(
                    "INSERT INTO feedback (enquiry_id, ts, helpful)"
                    " SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM enquiries WHERE id = ?)",
                    (enquiry_id, _now(), int(bool(helpful)), enquiry_id),
                ) as cur,
            ):
                inserted, row_id = cur.rowcount, cur.lastrowid
        except sqlite3.Error as exc:
            raise self._error("cannot log the feedback", exc) from exc
        if inserted != 1 or row_id is None:
            raise StoreError(f"cannot log the feedback: there is no enquiry with id {enquiry_id}")
        return row_id

    async def erase_user(self, user_hash: str) -> int:
        """Delete the enquiries of ``user_hash`` and their feedback; return how many enquiries.

        Raises ValueError for an empty hash: console and batch enquiries share it, and erasing
        them all is never what a user's erasure request means.
        """
        if not user_hash:
            raise ValueError(
                "erase_user needs a user hash; the empty hash is shared by all"
                " console and batch enquiries"
            )
        try:
            async with self._transaction() as db:
                # Explicit, not just ON DELETE CASCADE: erasure must hold even for a database
                # somebody opened elsewhere with foreign keys off and wrote orphans into.
                await db.execute(
                    "DELETE FROM feedback WHERE enquiry_id IN"
                    " (SELECT id FROM enquiries WHERE user_hash = ?)",
                    (user_hash,),
                )
                async with db.execute(
                    "DELETE FROM enquiries WHERE user_hash = ?", (user_hash,)
                ) as cur:
                    deleted = cur.rowcount
        except sqlite3.Error as exc:
            raise self._error("cannot erase the user's enquiries", exc) from exc
        return max(deleted, 0)

    # ------------------------------------------------------------------ reads

    async def count_enquiries(self) -> int:
        """Return the number of enquiries in the log."""
        try:
            async with self._lock:
                return await self._scalar("SELECT COUNT(*) FROM enquiries", ())
        except sqlite3.Error as exc:
            raise self._error("cannot count the enquiries", exc) from exc

    async def get_enquiry(self, enquiry_id: int) -> Enquiry | None:
        """Return the enquiry stored under ``enquiry_id`` (ts as an aware UTC datetime), or None."""
        try:
            async with self._lock:
                rows = await self._fetch(
                    "SELECT transport, user_hash, chat_type, language, question, status, intent,"
                    " score, latency_ms, ts FROM enquiries WHERE id = ?",
                    (enquiry_id,),
                )
        except sqlite3.Error as exc:
            raise self._error("cannot read the enquiry", exc) from exc
        if not rows:
            return None
        r = rows[0]
        return Enquiry(
            transport=r[0],
            user_hash=r[1],
            chat_type=r[2],
            language=r[3],
            question=r[4],
            status=r[5],
            intent=r[6],
            score=r[7],
            latency_ms=r[8],
            ts=datetime.fromisoformat(r[9]),
        )

    async def stats(self, since: datetime | None = None, limit: int = 10) -> Stats:
        """Return figures over enquiries logged at or after ``since`` (all of them if None).

        ``limit`` caps ``top_intents`` and ``recent_unanswered``. Feedback counts votes given
        at or after ``since`` on enquiries that have an intent. Raises ValueError for a
        negative limit.
        """
        if limit < 0:
            raise ValueError(f"limit must be 0 or more, got {limit}")
        # The epoch sorts before every stored ts, so "no since" needs no second set of queries.
        start = _iso(since) if since is not None else _iso(datetime(1970, 1, 1, tzinfo=UTC))
        try:
            async with self._lock:
                db = self._conn()
                # One read transaction: all figures come from the same snapshot even if another
                # process writes meanwhile.
                await db.execute("BEGIN")
                try:
                    by_status_rows = await self._fetch(
                        "SELECT status, COUNT(*) FROM enquiries WHERE ts >= ?"
                        " GROUP BY status ORDER BY status",
                        (start,),
                    )
                    top_rows = await self._fetch(
                        "SELECT intent, COUNT(*) AS n FROM enquiries"
                        " WHERE ts >= ? AND status = ? AND intent IS NOT NULL"
                        " GROUP BY intent ORDER BY n DESC, intent ASC LIMIT ?",
                        (start, "answered", limit),
                    )
                    unanswered_rows = await self._fetch(
                        "SELECT ts, question FROM enquiries"
                        " WHERE ts >= ? AND status IN (?, ?)"
                        " ORDER BY ts DESC, id DESC LIMIT ?",
                        (start, *UNANSWERED_STATUSES, limit),
                    )
                    feedback_rows = await self._fetch(
                        "SELECT e.intent, SUM(f.helpful), SUM(1 - f.helpful)"
                        " FROM feedback AS f JOIN enquiries AS e ON e.id = f.enquiry_id"
                        " WHERE f.ts >= ? AND e.intent IS NOT NULL"
                        " GROUP BY e.intent ORDER BY e.intent",
                        (start,),
                    )
                finally:
                    await db.rollback()
        except sqlite3.Error as exc:
            raise self._error("cannot compute the statistics", exc) from exc
        by_status = {str(s): int(n) for s, n in by_status_rows}
        return Stats(
            total=sum(by_status.values()),
            by_status=by_status,
            top_intents=[(str(i), int(n)) for i, n in top_rows],
            recent_unanswered=[(str(t), str(q)) for t, q in unanswered_rows],
            feedback={str(i): (int(h), int(u)) for i, h, u in feedback_rows},
        )

    # ------------------------------------------------------------------ staff tools

    async def overview(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        top: int = 10,
        unanswered_limit: int = 5000,
    ) -> Overview:
        """Return the staff report's figures over enquiries logged in [since, until).

        ``None`` leaves that end open. All figures come from one snapshot. ``top`` caps
        ``top_intents``; ``unanswered_limit`` caps ``unanswered`` (the newest are kept).
        Feedback counts the votes on the period's enquiries, whenever they were given.
        """
        if top < 0 or unanswered_limit < 0:
            raise ValueError("top and unanswered_limit must be 0 or more")
        start, end = _bounds(since, until)
        try:
            async with self._lock:
                db = self._conn()
                await db.execute("BEGIN")
                try:
                    day_rows = await self._fetch(
                        "SELECT substr(ts, 1, 10) AS day, status, COUNT(*) FROM enquiries"
                        " WHERE ts >= ? AND ts < ? GROUP BY day, status ORDER BY day, status",
                        (start, end),
                    )
                    language_rows = await self._fetch(
                        "SELECT language, COUNT(*) AS n FROM enquiries WHERE ts >= ? AND ts < ?"
                        " GROUP BY language ORDER BY n DESC, language",
                        (start, end),
                    )
                    top_rows = await self._fetch(
                        "SELECT intent, COUNT(*) AS n FROM enquiries"
                        " WHERE ts >= ? AND ts < ? AND status = ? AND intent IS NOT NULL"
                        " GROUP BY intent ORDER BY n DESC, intent ASC LIMIT ?",
                        (start, end, "answered", top),
                    )
                    feedback_rows = await self._fetch(
                        "SELECT e.intent, SUM(f.helpful), SUM(1 - f.helpful)"
                        " FROM feedback AS f JOIN enquiries AS e ON e.id = f.enquiry_id"
                        " WHERE e.ts >= ? AND e.ts < ? AND e.intent IS NOT NULL"
                        " GROUP BY e.intent ORDER BY e.intent",
                        (start, end),
                    )
                    unanswered = await self._unanswered_rows(start, end, unanswered_limit)
                    span = await self._fetch(
                        "SELECT MIN(ts), MAX(ts) FROM enquiries WHERE ts >= ? AND ts < ?",
                        (start, end),
                    )
                finally:
                    await db.rollback()
        except sqlite3.Error as exc:
            raise self._error("cannot compute the report figures", exc) from exc
        by_day: dict[str, dict[str, int]] = {}
        by_status: dict[str, int] = {}
        for day, status, n in day_rows:
            by_day.setdefault(str(day), {})[str(status)] = int(n)
            by_status[str(status)] = by_status.get(str(status), 0) + int(n)
        first, last = span[0] if span else (None, None)
        return Overview(
            total=sum(by_status.values()),
            by_status=by_status,
            by_language={str(lang): int(n) for lang, n in language_rows},
            by_day=list(by_day.items()),
            top_intents=[(str(i), int(n)) for i, n in top_rows],
            feedback={str(i): (int(h), int(u)) for i, h, u in feedback_rows},
            unanswered=unanswered,
            first_ts=None if first is None else str(first),
            last_ts=None if last is None else str(last),
        )

    async def unanswered(
        self, since: datetime | None = None, until: datetime | None = None, *, limit: int = 5000
    ) -> list[tuple[str, str, str]]:
        """Return (ts, status, question) of clarify and fallback enquiries in [since, until).

        Newest first, at most ``limit`` of them.
        """
        if limit < 0:
            raise ValueError(f"limit must be 0 or more, got {limit}")
        start, end = _bounds(since, until)
        try:
            async with self._lock:
                return await self._unanswered_rows(start, end, limit)
        except sqlite3.Error as exc:
            raise self._error("cannot read the unanswered questions", exc) from exc

    async def _unanswered_rows(
        self, start: str, end: str, limit: int
    ) -> list[tuple[str, str, str]]:
        rows = await self._fetch(
            "SELECT ts, status, question FROM enquiries"
            " WHERE ts >= ? AND ts < ? AND status IN (?, ?)"
            " ORDER BY ts DESC, id DESC LIMIT ?",
            (start, end, *UNANSWERED_STATUSES, limit),
        )
        return [(str(t), str(s), str(q)) for t, s, q in rows]

    async def enquiries(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        after_id: int = 0,
        limit: int = 1000,
    ) -> list[LoggedEnquiry]:
        """Return up to ``limit`` enquiries in [since, until) with an id above ``after_id``.

        In id order, each with its helpful / not helpful vote counts. Page through the whole
        log by passing the last id returned as the next ``after_id``.
        """
        if limit < 0:
            raise ValueError(f"limit must be 0 or more, got {limit}")
        start, end = _bounds(since, until)
        try:
            async with self._lock:
                rows = await self._fetch(
                    "SELECT e.id, e.ts, e.transport, e.user_hash, e.chat_type, e.language,"
                    " e.question, e.status, e.intent, e.score, e.latency_ms,"
                    " COALESCE(SUM(f.helpful), 0), COALESCE(SUM(1 - f.helpful), 0)"
                    " FROM enquiries AS e LEFT JOIN feedback AS f ON f.enquiry_id = e.id"
                    " WHERE e.id > ? AND e.ts >= ? AND e.ts < ?"
                    " GROUP BY e.id ORDER BY e.id LIMIT ?",
                    (after_id, start, end, limit),
                )
        except sqlite3.Error as exc:
            raise self._error("cannot read the enquiries", exc) from exc
        return [
            LoggedEnquiry(
                id=int(r[0]), ts=str(r[1]), transport=str(r[2]), user_hash=str(r[3]),
                chat_type=str(r[4]), language=str(r[5]), question=str(r[6]), status=str(r[7]),
                intent=None if r[8] is None else str(r[8]), score=float(r[9]),
                latency_ms=float(r[10]), helpful=int(r[11]), not_helpful=int(r[12]),
            )
            for r in rows
        ]

    async def purge_older_than(self, days: int, *, now: datetime | None = None) -> int:
        """Delete enquiries logged more than ``days`` days before ``now`` (default: now), with
        their feedback; return how many enquiries were deleted.

        What CITIZENBOT_RETENTION_DAYS applies daily and ``citizenbot purge`` on demand.
        Raises ValueError unless ``days`` is 1 or more: a retention of 0 means "keep
        forever", never "delete everything".
        """
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise ValueError(f"days must be a whole number of 1 or more, got {days!r}")
        cutoff = _iso((now or datetime.now(UTC)) - timedelta(days=days))
        try:
            async with self._transaction() as db:
                # Explicit, as in erase_user: a purge must hold even for orphans written by a
                # connection with foreign keys off.
                await db.execute(
                    "DELETE FROM feedback WHERE enquiry_id IN"
                    " (SELECT id FROM enquiries WHERE ts < ?)",
                    (cutoff,),
                )
                async with db.execute("DELETE FROM enquiries WHERE ts < ?", (cutoff,)) as cur:
                    deleted = cur.rowcount
        except sqlite3.Error as exc:
            raise self._error("cannot purge old enquiries", exc) from exc
        if deleted:
            log.info("purged %d enquiries logged before %s", deleted, cutoff)
        return max(deleted, 0)

    async def backup(self, target: str | Path) -> Path:
        """Write a consistent copy of the log to ``target``, owner-only (0600); return its path.

        Uses SQLite's online backup API, so other connections (a running bot) may keep
        writing: the copy holds exactly what was committed when it was taken. It is written
        beside ``target`` under a temporary name and renamed over ``target`` only once
        complete, so an interrupted backup never leaves a half-written file there.
        Raises StoreError when the copy cannot be made or ``target`` is the log itself.
        """
        target = Path(target)
        if self._where != MEMORY and any(
            _same_file(target, Path(self._where + suffix))
            for suffix in ("", "-wal", "-shm", "-journal")
        ):
            raise StoreError(f"cannot back up the database at {self._where} onto itself")
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            _create_owner_only(tmp)
        except OSError as exc:
            raise StoreError(f"cannot create the backup {target}: {_os_reason(exc)}") from exc
        try:
            # check_same_thread=False: aiosqlite drives the copy from its own worker thread.
            dest = sqlite3.connect(tmp, check_same_thread=False)
            try:
                # Under the lock no transaction of this connection is half-done, so the copy
                # cannot pick up uncommitted rows. pages=0 copies everything in one step: one
                # read snapshot, consistent while other processes write.
                async with self._lock:
                    await self._conn().backup(dest, pages=0)
                # The copy inherits WAL mode; a backup should be one self-contained file that
                # opening it read-only does not surround with -wal and -shm files.
                dest.execute("PRAGMA journal_mode = DELETE")
            finally:
                dest.close()
            with open(tmp, "rb") as fh:
                # The rename below must not land before the data on disk.
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except sqlite3.Error as exc:
            _unlink_quietly(tmp)
            raise self._error(f"cannot back up to {target}", exc) from exc
        except OSError as exc:
            _unlink_quietly(tmp)
            raise StoreError(f"cannot write the backup {target}: {_os_reason(exc)}") from exc
        except BaseException:
            _unlink_quietly(tmp)
            raise
        return target

    # ------------------------------------------------------------------ tickets

    async def create_ticket(
        self,
        *,
        user_hash: str,
        chat_id: int,
        language: str,
        question: str,
        enquiry_id: int | None = None,
        ts: datetime | None = None,
    ) -> Ticket:
        """Record a question for district staff and return it; committed when this returns.

        ``enquiry_id`` links the enquiry it came from (dropped if that enquiry is gone).
        """
        if not user_hash:
            raise ValueError("a ticket needs the asking user's hash")
        params = (_iso(ts) if ts is not None else _now(), user_hash, int(chat_id), language,
                  _storable(question), enquiry_id)
        try:
            async with self._transaction() as db:
                async with db.execute(
                    "INSERT INTO tickets (ts, user_hash, chat_id, language, question, enquiry_id)"
                    " VALUES (?, ?, ?, ?, ?, (SELECT id FROM enquiries WHERE id = ?))",
                    params,
                ) as cur:
                    row_id = cur.lastrowid
                rows = await self._fetch(
                    f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE id = ?", (row_id,)
                )
        except sqlite3.Error as exc:
            raise self._error("cannot record the ticket", exc) from exc
        return _ticket(rows[0])

    async def get_ticket(self, ticket_id: int) -> Ticket | None:
        return await self._one_ticket("id = ?", (ticket_id,))

    async def ticket_for_staff_message(self, chat_id: int, message_id: int) -> Ticket | None:
        """The ticket whose staff-chat message is ``message_id`` in ``chat_id``, if any."""
        return await self._one_ticket(
            "staff_chat_id = ? AND staff_message_id = ?", (chat_id, message_id)
        )

    async def ticket_for_enquiry(self, enquiry_id: int) -> Ticket | None:
        """The (first) ticket made from the enquiry ``enquiry_id``, if any."""
        return await self._one_ticket("enquiry_id = ?", (enquiry_id,))

    async def tickets(
        self,
        *,
        open_only: bool = False,
        user_hash: str | None = None,
        newest_first: bool = False,
        limit: int = 10000,
    ) -> list[Ticket]:
        """Tickets in the order they were made (or newest first), optionally only open ones
        or only one user's."""
        where, params = ["1"], []
        if open_only:
            where.append("status = 'open'")
        if user_hash is not None:
            where.append("user_hash = ?")
            params.append(user_hash)
        order = "DESC" if newest_first else "ASC"
        return await self._ticket_rows(
            f"{' AND '.join(where)} ORDER BY id {order} LIMIT ?", (*params, int(limit))
        )

    async def count_open_tickets(self, user_hash: str) -> int:
        try:
            async with self._lock:
                return await self._scalar(
                    "SELECT COUNT(*) FROM tickets WHERE user_hash = ? AND status = 'open'",
                    (user_hash,),
                )
        except sqlite3.Error as exc:
            raise self._error("cannot count the tickets", exc) from exc

    async def unforwarded_tickets(self) -> list[Ticket]:
        """Open tickets that never reached the staff chat (and have no answer yet), oldest first."""
        return await self._ticket_rows(
            "status = 'open' AND staff_message_id IS NULL AND answer IS NULL ORDER BY id", ()
        )

    async def mark_ticket_forwarded(self, ticket_id: int, staff_chat_id: int,
                                    staff_message_id: int) -> None:
        """Remember the staff-chat message that carries the ticket (replies to it answer it)."""
        await self._update_ticket(
            "staff_chat_id = ?, staff_message_id = ?, forward_error = NULL WHERE id = ?",
            (staff_chat_id, staff_message_id, ticket_id), "cannot mark the ticket forwarded",
        )

    async def note_forward_error(self, ticket_id: int, reason: str) -> None:
        await self._update_ticket(
            "forward_error = ? WHERE id = ?", (reason[:300], ticket_id),
            "cannot note the forwarding error",
        )

    async def record_answer(self, ticket_id: int, answer: str,
                            via: str) -> tuple[str, Ticket | None]:
        """Keep a staff answer for delivery; return (outcome, the ticket as it now is).

        Outcomes: "recorded"; "unknown" (no such ticket); "pending" (an answer is already
        waiting to be delivered); or the ticket's status when it is no longer open
        ("answered", "undeliverable", "closed"). Only "recorded" changes anything.
        """
        return await self._settle_open_ticket(
            ticket_id, "recorded", "cannot record the answer",
            "UPDATE tickets SET answer = ?, answered_via = ?, answer_ts = ?, claim_ts = NULL"
            " WHERE id = ?", (answer, via, _now(), ticket_id))

    async def claim_delivery(self, ticket_id: int, *, lease_seconds: float = 300,
                             now: datetime | None = None) -> bool:
        """Take the job of delivering the ticket's waiting answer; False if there is none or
        another process holds it. A claim older than ``lease_seconds`` (a crashed deliverer)
        may be taken over, so an answer is delivered at least once."""
        moment = now or datetime.now(UTC)
        stale = _iso(moment - timedelta(seconds=lease_seconds))
        try:
            async with (
                self._transaction() as db,
                db.execute(
                    "UPDATE tickets SET claim_ts = ? WHERE id = ? AND status = 'open'"
                    " AND answer IS NOT NULL AND (claim_ts IS NULL OR claim_ts < ?)",
                    (_iso(moment), ticket_id, stale),
                ) as cur,
            ):
                claimed = cur.rowcount
        except sqlite3.Error as exc:
            raise self._error("cannot claim the delivery", exc) from exc
        return claimed == 1

    async def release_delivery(self, ticket_id: int) -> None:
        """Give the claim back: the answer stays waiting, to be tried again."""
        await self._update_ticket("claim_ts = NULL WHERE id = ? AND status = 'open'",
                                  (ticket_id,), "cannot release the delivery")

    async def finish_delivery(self, ticket_id: int, status: str, note: str | None = None) -> None:
        """The waiting answer reached the citizen ("answered") or cannot ("undeliverable")."""
        if status not in ("answered", "undeliverable"):
            raise ValueError(f"a delivery ends answered or undeliverable, not {status!r}")
        await self._update_ticket(
            "status = ?, note = ?, closed_ts = ?, claim_ts = NULL WHERE id = ?",
            (status, None if note is None else note[:300], _now(), ticket_id),
            "cannot finish the delivery",
        )

    async def pending_answers(self, *, lease_seconds: float = 300,
                              now: datetime | None = None) -> list[Ticket]:
        """Open tickets with an answer waiting and no live claim, oldest first."""
        stale = _iso((now or datetime.now(UTC)) - timedelta(seconds=lease_seconds))
        return await self._ticket_rows(
            "status = 'open' AND answer IS NOT NULL AND (claim_ts IS NULL OR claim_ts < ?)"
            " ORDER BY id", (stale,)
        )

    async def close_ticket(self, ticket_id: int,
                           note: str | None = None) -> tuple[str, Ticket | None]:
        """Close an open ticket without an answer; (outcome, ticket) as in record_answer,
        with "closed" meaning it was closed now (or already was)."""
        return await self._settle_open_ticket(
            ticket_id, "closed", "cannot close the ticket",
            "UPDATE tickets SET status = 'closed', note = ?, closed_ts = ? WHERE id = ?",
            (note, _now(), ticket_id))

    async def _settle_open_ticket(self, ticket_id: int, outcome: str, failure: str, sql: str,
                                  params: Sequence[Any]) -> tuple[str, Ticket | None]:
        """Run `sql` on a ticket that is open with no answer waiting, in one transaction.

        Returns (outcome, ticket after the change), or without changing anything ("unknown",
        None), (its status, ticket) when it is no longer open, ("pending", ticket) when an
        answer is already waiting to be delivered.
        """
        select = f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE id = ?"
        try:
            async with self._transaction():
                rows = await self._fetch(select, (ticket_id,))
                if not rows:
                    return "unknown", None
                ticket = _ticket(rows[0])
                if ticket.status != "open":
                    return ticket.status, ticket
                if ticket.answer is not None:
                    return "pending", ticket
                await self._conn().execute(sql, params)
                rows = await self._fetch(select, (ticket_id,))
        except sqlite3.Error as exc:
            raise self._error(failure, exc) from exc
        return outcome, _ticket(rows[0])

    async def erase_user_tickets(self, user_hash: str) -> list[Ticket]:
        """Delete every ticket of ``user_hash`` (any status); return them as they were, so the
        caller can withdraw their staff-chat messages."""
        if not user_hash:
            raise ValueError("erase_user_tickets needs a user hash")
        try:
            async with self._transaction() as db:
                rows = await self._fetch(
                    f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE user_hash = ? ORDER BY id",
                    (user_hash,),
                )
                await db.execute("DELETE FROM tickets WHERE user_hash = ?", (user_hash,))
        except sqlite3.Error as exc:
            raise self._error("cannot erase the user's tickets", exc) from exc
        return [_ticket(r) for r in rows]

    async def purge_closed_tickets(self, days: int, *, now: datetime | None = None) -> int:
        """Delete tickets that stopped being open (answered, undeliverable, closed) more than
        ``days`` days before ``now``; return how many. Open tickets are never purged: they are
        work still to do. Raises ValueError unless ``days`` is 1 or more."""
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise ValueError(f"days must be a whole number of 1 or more, got {days!r}")
        cutoff = _iso((now or datetime.now(UTC)) - timedelta(days=days))
        try:
            async with (
                self._transaction() as db,
                db.execute(
                    "DELETE FROM tickets WHERE status != 'open' AND closed_ts < ?", (cutoff,)
                ) as cur,
            ):
                deleted = cur.rowcount
        except sqlite3.Error as exc:
            raise self._error("cannot purge closed tickets", exc) from exc
        if deleted:
            log.info("purged %d closed tickets that closed before %s", deleted, cutoff)
        return max(deleted, 0)

    async def _one_ticket(self, where: str, params: Sequence[Any]) -> Ticket | None:
        found = await self._ticket_rows(f"{where} ORDER BY id LIMIT 1", params)
        return found[0] if found else None

    async def _ticket_rows(self, where: str, params: Sequence[Any]) -> list[Ticket]:
        try:
            async with self._lock:
                rows = await self._fetch(
                    f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE {where}", params
                )
        except sqlite3.Error as exc:
            raise self._error("cannot read the tickets", exc) from exc
        return [_ticket(r) for r in rows]

    async def _update_ticket(self, assignments: str, params: Sequence[Any], action: str) -> None:
        try:
            async with self._transaction() as db:
                await db.execute(f"UPDATE tickets SET {assignments}", params)
        except sqlite3.Error as exc:
            raise self._error(action, exc) from exc

    # ------------------------------------------------------------------ helpers

    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StoreError(f"the enquiry log at {self._where} is closed")
        return self._db

    def _error(self, action: str, exc: sqlite3.Error) -> StoreError:
        preposition = "at" if action.startswith("cannot open") else "in the database at"
        return StoreError(f"{action} {preposition} {self._where}: {_sqlite_reason(exc)}")

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Hold the lock and a write transaction; commit on success, roll back otherwise."""
        async with self._lock:
            db = self._conn()
            # IMMEDIATE takes the write lock up front, so a busy database fails here (after
            # busy_timeout) rather than half-way through the work.
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                await db.commit()
            except BaseException:
                # Also after a failed COMMIT: a transaction left open would make every later
                # BEGIN fail with "cannot start a transaction within a transaction".
                await db.rollback()
                raise

    async def _fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        rows: Iterable[Any] = await self._conn().execute_fetchall(sql, params)
        return [tuple(r) for r in rows]

    async def _scalar(self, sql: str, params: Sequence[Any]) -> int:
        rows = await self._fetch(sql, params)
        return int(rows[0][0]) if rows else 0
