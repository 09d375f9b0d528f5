"""When the database cannot take a row, the enquiry is kept and imported on the next start."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from citizenbot.journal import EnquiryLog, import_journal, journal_path
from citizenbot.store import Enquiry, Store


def enquiry(n: int) -> Enquiry:
    return Enquiry(transport="telegram", user_hash=f"user{n % 3}", chat_type="private",
                   language="en", question=f"question {n}", status="answered",
                   intent="targets-2021", score=80.0, latency_ms=1.0)


async def test_a_full_disk_sends_enquiries_to_the_journal_and_nothing_is_lost(
        tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    store = await Store.open(db)
    log = EnquiryLog(store, journal_path(db))
    assert await log.log_enquiry(enquiry(0)) is not None
    # SQLite's own "database or disk is full": no more pages may be added on this connection.
    conn = store._db
    assert conn is not None
    pages = (await (await conn.execute("PRAGMA page_count")).fetchone())[0]
    await conn.execute(f"PRAGMA max_page_count = {pages}")
    ids = [await log.log_enquiry(enquiry(n)) for n in range(1, 400)]
    assert None in ids  # some rows could not be written ...
    assert log.journaled == ids.count(None)
    journal = journal_path(db)
    assert stat.S_IMODE(os.stat(journal).st_mode) == 0o600
    lines = journal.read_text(encoding="utf-8").splitlines()
    assert len(lines) == log.journaled and json.loads(lines[0])["ts"]
    await store.close()

    # ... and the next start imports them: every enquiry is in the database exactly once.
    store = await Store.open(db)
    assert await import_journal(store, journal) == log.journaled
    assert await store.count_enquiries() == 400
    assert not journal.exists()
    assert await import_journal(store, journal) == 0
    await store.close()


async def test_an_unreadable_journal_line_is_kept_aside_not_dropped(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    journal = journal_path(db)
    good = {"transport": "telegram", "user_hash": "u", "chat_type": "private", "language": "en",
            "question": "q", "status": "fallback", "intent": None, "score": 0.0,
            "latency_ms": 1.0, "ts": "2026-01-01T00:00:00+00:00"}
    journal.write_text(json.dumps(good) + "\n{broken\n", encoding="utf-8")
    async with await Store.open(db) as store:
        assert await import_journal(store, journal) == 1
        assert await store.count_enquiries() == 1
    assert journal.with_suffix(".bad").read_text(encoding="utf-8").strip() == "{broken"
