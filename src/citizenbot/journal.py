"""Never lose an enquiry: when the database cannot take a row, keep it in a JSON-lines journal.

Transports log through `EnquiryLog`. If the database refuses a write (disk full, read-only,
locked, corrupt), the enquiry is appended to the journal file next to the database and flushed
to disk before the user gets the answer; the next start imports the journal into the database.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

from citizenbot.store import Enquiry, Store, StoreError

log = logging.getLogger(__name__)


def journal_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".journal.jsonl")


class EnquiryLog:
    """The store with a journal behind it."""

    def __init__(self, store: Store, journal: Path) -> None:
        self.store = store
        self.journal = journal
        self.journaled = 0

    async def log_enquiry(self, enquiry: Enquiry) -> int | None:
        """The row id, or None when the enquiry went to the journal instead."""
        if enquiry.ts is None:
            enquiry = replace(enquiry, ts=datetime.now(UTC))
        try:
            return await self.store.log_enquiry(enquiry)
        except StoreError as exc:
            self._append(enquiry)
            self.journaled += 1
            log.error("%s; the enquiry was kept in the journal %s", exc, self.journal.name)
            return None

    def _append(self, enquiry: Enquiry) -> None:
        record = asdict(enquiry)
        record["ts"] = enquiry.ts.isoformat() if enquiry.ts else None
        line = json.dumps(record, ensure_ascii=False) + "\n"
        fd = os.open(self.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)


async def import_journal(store: Store, journal: Path) -> int:
    """Move every journaled enquiry into the database; returns how many were imported.

    The journal is removed only after all its rows are in; a line that cannot be read is kept
    in a `.bad` file rather than dropped.
    """
    if not journal.exists():
        return 0
    enquiries: list[Enquiry] = []
    bad: list[str] = []
    for line in journal.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            record["ts"] = datetime.fromisoformat(record["ts"]) if record.get("ts") else None
            enquiries.append(Enquiry(**record))
        except (ValueError, TypeError, KeyError):
            bad.append(line)
    # One transaction: a crash while importing leaves the journal whole and the database
    # without any of its rows, so nothing is imported twice.
    imported = await store.log_enquiries(enquiries) if enquiries else 0
    if bad:
        with journal.with_suffix(".bad").open("a", encoding="utf-8") as f:
            f.write("\n".join(bad) + "\n")
    journal.unlink()
    if imported:
        log.info("imported %d enquiries from the journal", imported)
    return imported
