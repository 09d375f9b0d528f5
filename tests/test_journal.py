"""When the database cannot take a row, the enquiry is kept and imported on the next start."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from citizenbot.core.responder import Responder
from citizenbot.model import Transport
from citizenbot.service import Asker
from citizenbot.store import Store, import_journal, journal_path
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
    lines = journal.read_text(encoding="utf-8").splitlines()
    assert len(lines) == service.journaled and json.loads(lines[0])["ts"]
    assert json.loads(lines[0])["transport"] == "telegram"
    await store.close()

    # ... and the next start imports them: every enquiry is in the database exactly once.
    store = await Store.open(db)
    assert await import_journal(store, journal) == service.journaled
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
        logged = await store.get_enquiry(1)
        assert logged is not None and logged.question == "q" and logged.status == "fallback"
    assert journal.with_suffix(".bad").read_text(encoding="utf-8").strip() == "{broken"
