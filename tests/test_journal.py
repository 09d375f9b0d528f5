"""When the database cannot take a row, the enquiry is kept and imported later, exactly once."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from citizenbot.core.responder import Responder
from citizenbot.model import Transport
from citizenbot.service import Asker
from citizenbot.store import Journal, Store, import_journal, journal_path
from citizenbot.store.journal import RESERVED_BYTES
from harness import fill_disk, make_service


async def test_a_full_disk_sends_enquiries_to_the_journal_and_nothing_is_lost(
        tmp_path: Path, responder: Responder) -> None:
    db = tmp_path / "log.db"
    store = await Store.open(db)
    service = make_service(responder, store, db)
    asker = Asker(Transport.TELEGRAM, "private", "user")
    assert (await service.ask(asker, "question 0")).enquiry_id is not None
    await fill_disk(store)
    answers = [await service.ask(asker, f"question {n} " + "x" * 900) for n in range(1, 400)]
    ids = [a.enquiry_id for a in answers]
    assert None in ids  # some rows could not be written ...
    assert all(a.reply.text for a in answers)  # ... yet every question was answered
    assert service.journaled == ids.count(None)
    journal = journal_path(db)
    assert stat.S_IMODE(os.stat(journal).st_mode) == 0o600
    kept = Journal(journal)
    records = [line.record for line in kept.lines() if not line.blank]
    assert len(records) == service.journaled
    assert records[0] is not None and records[0]["ts"] and records[0]["transport"] == "telegram"
    kept.close()
    await store.close()

    # ... and the next start imports them: every enquiry is in the database exactly once.
    store = await Store.open(db)
    assert await import_journal(store, journal) == service.journaled
    assert await store.count_enquiries() == 400
    assert Journal(journal).waiting == 0
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
        logged = await store.get_enquiry(1)
        assert logged is not None and logged.question == "q" and logged.status == "fallback"
    bad = journal.with_suffix(".bad")
    assert bad.read_text(encoding="utf-8").strip() == "{broken"
    assert stat.S_IMODE(os.stat(bad).st_mode) == 0o600


async def test_the_journal_takes_its_room_in_advance(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "log.db.journal.jsonl")
    assert journal.reserve() and journal.problem is None
    # Allocated blocks, not a sparse promise: a full disk cannot take them back.
    assert os.stat(journal.path).st_blocks * 512 >= RESERVED_BYTES
    assert journal.waiting == 0
    journal.close()


async def test_a_crash_between_import_and_clearing_imports_nothing_twice(
        tmp_path: Path, responder: Responder) -> None:
    db = tmp_path / "log.db"
    async with await Store.open(db) as store:
        service = make_service(responder, store, db)
        await fill_disk(store)
        asker = Asker(Transport.TELEGRAM, "private", "user")
        for n in range(30):
            await service.ask(asker, f"question {n} " + "x" * 900)
        journaled = service.journaled
        assert journaled
    copy = (journal_path(db)).read_bytes()  # the journal as it was before the import
    async with await Store.open(db) as store:
        before = await store.count_enquiries()
        assert await import_journal(store, journal_path(db)) == journaled
        journal_path(db).write_bytes(copy)  # as if the process died before blanking the lines
        assert await import_journal(store, journal_path(db)) == 0
        assert await store.count_enquiries() == before + journaled


async def test_forget_erases_the_users_journaled_enquiries_too(
        tmp_path: Path, responder: Responder) -> None:
    db = tmp_path / "log.db"
    async with await Store.open(db) as store:
        service = make_service(responder, store, db)
        mine, theirs = service.user_hash(1), service.user_hash(2)
        db.unlink()  # deleted under the running bot: nothing more is written into the void
        for user_hash in (mine, theirs, mine):
            await service.ask(Asker(Transport.TELEGRAM, "private", user_hash),
                              "locked question " + "x" * 900)
        assert service.journaled == 3
        assert store.trouble is not None and "deleted" in store.trouble
    async with await Store.open(tmp_path / "other.db") as other:
        service.storage = other
        erasure = await service.erase(mine)
    assert erasure.enquiries == 2
    raw = journal_path(db).read_bytes()
    assert mine.encode() not in raw and theirs.encode() in raw
    async with await Store.open(db) as store:
        assert await import_journal(store, journal_path(db)) == 1  # only the other user's


def test_a_journal_behind_a_symlink_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("")
    link = tmp_path / "log.db.journal.jsonl"
    link.symlink_to(target)
    journal = Journal(link)
    assert not journal.reserve()
    with pytest.raises(OSError):
        journal.lines()
    assert target.read_text() == ""
