"""Tests for the enquiry log (citizenbot.store)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import pytest_asyncio

from citizenbot.model import MAX_QUESTION_CHARS, Enquiry, StoreError, Vote
from citizenbot.service import hash_user
from citizenbot.store import MIGRATIONS, Migration, Store, load_or_create_salt

SCHEMA_VERSION = len(MIGRATIONS)

SALT = "0123456789abcdef" * 4
T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


def enquiry(**changes: object) -> Enquiry:
    base = Enquiry(
        transport="telegram",
        user_hash=hash_user(SALT, 42),
        chat_type="private",
        language="en",
        question="How much did the district's GDP grow?",
        status="answered",
        intent="economy_gdp",
        score=87.5,
        latency_ms=3.25,
        ts=T0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def rows(path: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Read the database file with the stdlib driver, independently of Store."""
    con = sqlite3.connect(path)
    try:
        return list(con.execute(sql, params).fetchall())
    finally:
        con.close()


@pytest_asyncio.fixture
async def store() -> AsyncIterator[Store]:
    async with await Store.open(":memory:") as s:
        yield s


# --------------------------------------------------------------------------- writes and reads


@pytest.mark.asyncio
async def test_enquiry_written_and_read_back(store: Store) -> None:
    e = enquiry()
    row_id = await store.log_enquiry(e)
    assert await store.get_enquiry(row_id) == e
    assert await store.count_enquiries() == 1
    assert await store.get_enquiry(row_id + 1) is None


@pytest.mark.asyncio
async def test_rows_land_in_the_file(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    async with await Store.open(db) as s:
        row_id = await s.log_enquiry(enquiry(intent=None, status="fallback", score=12.0))
    got = rows(db, "SELECT id, ts, transport, status, intent, score, latency_ms FROM enquiries")
    assert got == [
        (row_id, T0.isoformat(timespec="microseconds"), "telegram", "fallback", None, 12.0, 3.25)
    ]


@pytest.mark.asyncio
async def test_missing_ts_means_now_and_naive_ts_means_utc(store: Store) -> None:
    before = datetime.now(UTC)
    got = await store.get_enquiry(await store.log_enquiry(enquiry(ts=None)))
    assert got is not None and got.ts is not None
    assert before <= got.ts <= datetime.now(UTC)

    naive = datetime(2024, 5, 6, 7, 8, 9)
    got = await store.get_enquiry(await store.log_enquiry(enquiry(ts=naive)))
    assert got is not None and got.ts == naive.replace(tzinfo=UTC)

    jinan = datetime(2024, 5, 6, 15, 8, 9, tzinfo=timezone(timedelta(hours=8)))
    got = await store.get_enquiry(await store.log_enquiry(enquiry(ts=jinan)))
    assert got is not None and got.ts == jinan and got.ts.utcoffset() == timedelta(0)


@pytest.mark.asyncio
async def test_question_is_capped(store: Store) -> None:
    long = "税" * (MAX_QUESTION_CHARS + 500)
    got = await store.get_enquiry(await store.log_enquiry(enquiry(question=long)))
    assert got is not None
    assert got.question == long[:MAX_QUESTION_CHARS]
    assert len(got.question) == MAX_QUESTION_CHARS == 1000


@pytest.mark.asyncio
async def test_unknown_status_rejected(store: Store) -> None:
    with pytest.raises(ValueError, match="status"):
        await store.log_enquiry(enquiry(status="maybe"))
    assert await store.count_enquiries() == 0


@pytest.mark.asyncio
async def test_concurrent_writes_all_land(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    async with await Store.open(db) as s:
        ids = await asyncio.gather(
            *(s.log_enquiry(enquiry(question=f"q{i}", user_hash=f"u{i % 7}")) for i in range(200))
        )
        # Votes interleaved with more enquiries must not trip over open transactions either.
        votes = await asyncio.gather(
            *(s.vote(i, helpful=bool(i % 2)) for i in ids[:50]),
            *(s.log_enquiry(enquiry(question=f"r{i}")) for i in range(50)),
        )
        assert votes[:50] == [Vote.RECORDED] * 50
        assert await s.count_enquiries() == 250
    assert len(set(ids)) == 200
    assert rows(db, "SELECT COUNT(*) FROM enquiries WHERE question LIKE 'q%'") == [(200,)]
    assert rows(db, "SELECT COUNT(*) FROM feedback") == [(50,)]


# --------------------------------------------------------------------------- feedback, erasure


@pytest.mark.asyncio
async def test_one_vote_per_enquiry_and_none_on_a_missing_one(store: Store) -> None:
    row_id = await store.log_enquiry(enquiry())
    assert await store.vote(999, helpful=True) is Vote.GONE
    # Two taps at once: the UNIQUE index lets exactly one in, whoever comes first.
    votes = await asyncio.gather(store.vote(row_id, True), store.vote(row_id, False))
    assert sorted(votes) == sorted([Vote.RECORDED, Vote.ALREADY_VOTED])
    [logged] = await store.enquiries()
    assert logged.helpful + logged.not_helpful == 1


@pytest.mark.asyncio
async def test_erase_user_removes_only_that_users_rows_and_feedback(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    alice, bob = hash_user(SALT, 1), hash_user(SALT, 2)
    async with await Store.open(db) as s:
        a_ids = [await s.log_enquiry(enquiry(user_hash=alice)) for _ in range(3)]
        b_ids = [await s.log_enquiry(enquiry(user_hash=bob)) for _ in range(2)]
        console_id = await s.log_enquiry(
            enquiry(user_hash="", transport="console", chat_type="console")
        )
        for i in (*a_ids, *b_ids, console_id):
            await s.vote(i, helpful=True)
        await s.create_ticket(user_hash=alice, chat_id=1, language="en", question="for staff",
                              enquiry_id=a_ids[0])
        await s.create_ticket(user_hash=bob, chat_id=2, language="en", question="bob's")

        erased = await s.erase_user(alice)
        assert erased.enquiries == 3 and [t.question for t in erased.tickets] == ["for staff"]
        again = await s.erase_user(alice)
        assert (again.enquiries, again.tickets) == (0, ())
        with pytest.raises(ValueError):
            await s.erase_user("")

        for i in a_ids:
            assert await s.get_enquiry(i) is None
            assert await s.vote(i, helpful=False) is Vote.GONE
        assert await s.count_enquiries() == 3
        assert [t.user_hash for t in await s.tickets()] == [bob]
    assert rows(db, "SELECT COUNT(*) FROM enquiries WHERE user_hash = ?", (alice,)) == [(0,)]
    remaining = rows(db, "SELECT enquiry_id FROM feedback ORDER BY enquiry_id")
    assert remaining == [(i,) for i in sorted([*b_ids, console_id])]


# --------------------------------------------------------------------------- stats


@pytest.mark.asyncio
async def test_stats_match_the_rows(store: Store) -> None:
    plan = [
        # (minutes after T0, status, intent, question)
        (0, "answered", "economy_gdp", "gdp?"),
        (1, "answered", "economy_gdp", "gdp growth?"),
        (2, "answered", "education", "schools?"),
        (3, "answered", "economy_gdp", "gdp 2021?"),
        (4, "clarify", "education", "school or hospital?"),
        (5, "fallback", None, "weather tomorrow?"),
        (6, "fallback", None, "football score?"),
        (7, "answered", "housing", "housing?"),
    ]
    ids = [
        await store.log_enquiry(
            enquiry(ts=T0 + timedelta(minutes=m), status=st, intent=it, question=q)
        )
        for m, st, it, q in plan
    ]
    await store.vote(ids[0], helpful=True)
    await store.vote(ids[1], helpful=False)
    await store.vote(ids[3], helpful=True)
    await store.vote(ids[2], helpful=False)
    await store.vote(ids[5], helpful=False)  # no intent: not in the per-intent figures

    s = await store.stats()
    assert s.total == 8
    assert s.by_status == {"answered": 5, "clarify": 1, "fallback": 2}
    assert s.top_intents == [("economy_gdp", 3), ("education", 1), ("housing", 1)]
    assert s.recent_unanswered == [
        ((T0 + timedelta(minutes=6)).isoformat(timespec="microseconds"), "football score?"),
        ((T0 + timedelta(minutes=5)).isoformat(timespec="microseconds"), "weather tomorrow?"),
        ((T0 + timedelta(minutes=4)).isoformat(timespec="microseconds"), "school or hospital?"),
    ]
    assert s.feedback == {"economy_gdp": (2, 1), "education": (0, 1)}

    small = await store.stats(limit=1)
    assert small.top_intents == [("economy_gdp", 3)]
    assert small.recent_unanswered == [s.recent_unanswered[0]]
    assert small.total == 8

    later = await store.stats(since=T0 + timedelta(minutes=3))
    assert later.total == 5
    assert later.by_status == {"answered": 2, "clarify": 1, "fallback": 2}
    assert later.top_intents == [("economy_gdp", 1), ("housing", 1)]
    assert len(later.recent_unanswered) == 3

    # Feedback is windowed by when it was given (now), so a future `since` drops it all.
    future = await store.stats(since=datetime.now(UTC) + timedelta(days=1))
    assert future.total == 0 and future.by_status == {} and future.feedback == {}


@pytest.mark.asyncio
async def test_stats_on_empty_log(store: Store) -> None:
    s = await store.stats()
    assert s.total == 0
    assert (s.by_status, s.top_intents, s.recent_unanswered, s.feedback) == ({}, [], [], {})
    with pytest.raises(ValueError):
        await store.stats(limit=-1)


# --------------------------------------------------------------------------- hashing and salt


def test_hash_user_hides_the_id_and_depends_on_the_salt() -> None:
    h = hash_user(SALT, 123456789)
    assert "123456789" not in h
    assert len(h) == 64 and int(h, 16) >= 0
    assert h == hash_user(SALT, "123456789")
    assert h != hash_user("another salt entirely, also long enough", 123456789)
    assert h != hash_user(SALT, 123456780)


def test_salt_created_owner_only_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "salt"
    salt = load_or_create_salt(path)
    assert len(salt) == 64 and int(salt, 16) >= 0
    assert mode(path) == 0o600
    assert load_or_create_salt(path) == salt
    assert load_or_create_salt(tmp_path / "other") != salt


def test_truncated_salt_rejected(tmp_path: Path) -> None:
    path = tmp_path / "salt"
    path.write_text("abc\n")
    with pytest.raises(StoreError, match=str(path)):
        load_or_create_salt(path)


# --------------------------------------------------------------------------- opening and schema


@pytest.mark.asyncio
async def test_database_file_is_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "deep" / "er" / "log.sqlite3"
    async with await Store.open(db) as s:
        await s.log_enquiry(enquiry())
        for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            if p.exists():
                assert mode(p) == 0o600, p
    assert mode(db) == 0o600


@pytest.mark.asyncio
async def test_pragmas(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "log.sqlite3") as s:
        db = s._db._conn
        assert db is not None
        got = {}
        for pragma in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout"):
            async with db.execute(f"PRAGMA {pragma}") as cur:
                row = await cur.fetchone()
                assert row is not None
                got[pragma] = row[0]
    # synchronous FULL (2): a commit is on disk before the caller hears of it; writes wait
    # WRITE_WAIT_MS for another process, not the 5 s that opening may wait.
    assert got == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "busy_timeout": 1000}


@pytest.mark.asyncio
async def test_migrations_are_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    async with await Store.open(db) as s:
        await s.log_enquiry(enquiry())
    schema = rows(db, "SELECT type, name, sql FROM sqlite_master ORDER BY name")
    assert rows(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]

    async with await Store.open(db) as s:
        assert await s.count_enquiries() == 1
    assert rows(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert rows(db, "SELECT type, name, sql FROM sqlite_master ORDER BY name") == schema
    assert [name for (name,) in rows(db, "SELECT name FROM migrations ORDER BY rowid")] == [
        m.name for m in MIGRATIONS]
    names = {r[1] for r in schema}
    assert {
        "enquiries",
        "feedback",
        "tickets",
        "enquiries_ts",
        "enquiries_user_hash",
        "enquiries_status",
        "feedback_one_per_enquiry",
    } <= names


# The schema as the citizenbot before migration names wrote it (store.py, schema version 2),
# kept here verbatim: databases in the field look like this.
OLD_MIGRATIONS = (
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


def old_database(path: Path, version: int = 2) -> None:
    """A log as the older citizenbot left it: its migrations up to ``version``, an enquiry
    with two votes (older versions let a double tap through), a ticket."""
    con = sqlite3.connect(path)
    try:
        for script in OLD_MIGRATIONS[:version]:
            con.executescript(script)
        con.execute(f"PRAGMA user_version = {version}")
        con.execute("INSERT INTO enquiries (ts, transport, user_hash, chat_type, language,"
                    " question, status, intent, score, latency_ms) VALUES"
                    " ('2024-03-01T08:00:00.000000+00:00', 'telegram', 'abc', 'private', 'en',"
                    " 'old question', 'answered', 'one-stop-service', 80.0, 2.0)")
        con.execute("INSERT INTO feedback (enquiry_id, ts, helpful) VALUES"
                    " (1, '2024-03-01T08:01:00+00:00', 1), (1, '2024-03-01T08:01:01+00:00', 0)")
        if version >= 2:
            con.execute("INSERT INTO tickets (ts, user_hash, chat_id, language, question)"
                        " VALUES ('2024-03-01T08:02:00+00:00', 'abc', 42, 'en', 'for staff')")
        con.commit()
    finally:
        con.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("version", [1, 2])
async def test_a_log_written_by_the_older_citizenbot_opens_and_migrates(
        tmp_path: Path, version: int) -> None:
    db = tmp_path / "citizenbot.db"
    old_database(db, version)
    async with await Store.open(db) as s:
        [logged] = await s.enquiries()
        assert (logged.question, logged.intent) == ("old question", "one-stop-service")
        assert (logged.helpful, logged.not_helpful) == (1, 0)  # the first vote counts
        assert await s.vote(1, helpful=False) is Vote.ALREADY_VOTED
        assert [t.question for t in await s.tickets()] == (["for staff"] if version >= 2
                                                            else [])
        erased = await s.erase_user("abc")
        assert erased.enquiries == 1
    assert rows(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert [n for (n,) in rows(db, "SELECT name FROM migrations ORDER BY rowid")] == [
        m.name for m in MIGRATIONS]


@pytest.mark.asyncio
async def test_appended_migration_applies_once(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    async with await Store.open(db) as s:
        await s.log_enquiry(enquiry())
    extra = Migration("9999_channel_and_notes", """
        ALTER TABLE enquiries ADD COLUMN channel TEXT NOT NULL DEFAULT 'x;y';
        CREATE TABLE notes (body TEXT DEFAULT 'semi;colon');
    """)
    for _ in range(2):
        async with await Store.open(db, migrations=(*MIGRATIONS, extra)) as s:
            assert await s.count_enquiries() == 1
        assert rows(db, "PRAGMA user_version") == [(SCHEMA_VERSION + 1,)]
    assert rows(db, "SELECT channel FROM enquiries") == [("x;y",)]
    assert rows(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'notes'") == [(1,)]
    assert rows(db, "SELECT COUNT(*) FROM migrations WHERE name = ?", (extra.name,)) == [(1,)]
    # The citizenbot that does not know that migration refuses the file, by its name.
    with pytest.raises(StoreError, match=r"9999_channel_and_notes.*newer citizenbot"):
        await Store.open(db)


@pytest.mark.asyncio
async def test_failed_migration_rolls_back(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    async with await Store.open(db):
        pass
    broken = Migration("9999_broken",
                       "CREATE TABLE half_done (a); INSERT INTO no_such_table VALUES (1);")
    with pytest.raises(StoreError, match="no_such_table"):
        await Store.open(db, migrations=(*MIGRATIONS, broken))
    assert rows(db, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    assert rows(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'half_done'") == [(0,)]
    assert rows(db, "SELECT COUNT(*) FROM migrations WHERE name = '9999_broken'") == [(0,)]


@pytest.mark.asyncio
async def test_newer_schema_refused(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    old_database(db)
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")  # unnamed, and past ours
    con.close()
    with pytest.raises(StoreError, match="newer"):
        await Store.open(db)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "garbage",
    [b"this is not a database\n" * 50, bytes(range(256)) * 16],
    ids=["text", "binary"],
)
async def test_not_a_database(tmp_path: Path, garbage: bytes) -> None:
    db = tmp_path / "notes.db"
    db.write_bytes(garbage)
    with pytest.raises(StoreError, match="not an SQLite database") as info:
        await Store.open(db)
    assert str(db) in str(info.value)
    assert db.read_bytes() == garbage


@pytest.mark.asyncio
async def test_locked_database(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    async with await Store.open(db):
        pass
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreError, match="locked") as info:
            await Store.open(db, busy_timeout_ms=50)
        assert str(db) in str(info.value)
    finally:
        holder.close()


@pytest.mark.asyncio
async def test_read_only_directory(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("this user can write to a read-only directory (root?)")
        with pytest.raises(StoreError) as info:
            await Store.open(ro / "log.sqlite3")
        assert str(ro / "log.sqlite3") in str(info.value)
    finally:
        ro.chmod(0o700)


@pytest.mark.asyncio
async def test_closed_store_raises(tmp_path: Path) -> None:
    s = await Store.open(tmp_path / "log.sqlite3")
    await s.close()
    await s.close()
    with pytest.raises(StoreError, match="closed"):
        await s.log_enquiry(enquiry())
