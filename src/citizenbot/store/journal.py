"""Never lose an enquiry: when the database cannot take a row, keep it in a JSON-lines journal.

The journal file sits next to the database. A line is appended and flushed to disk before the
user gets the answer; the next start imports the journal into the database.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Protocol

from citizenbot.model import Enquiry

log = logging.getLogger(__name__)


def journal_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".journal.jsonl")


class Journal:
    """The append-only file of enquiries the database refused."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.appended = 0  # lines written by this process

    def append(self, enquiry: Enquiry) -> None:
        """Append one enquiry (its ts must be set) and fsync it; OSError if that fails."""
        record = asdict(enquiry)
        record["transport"] = str(enquiry.transport)
        record["ts"] = enquiry.ts.isoformat() if enquiry.ts else None
        line = json.dumps(record, ensure_ascii=False) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        self.appended += 1


class BulkLog(Protocol):
    async def log_enquiries(self, enquiries: Sequence[Enquiry]) -> int: ...


async def import_journal(store: BulkLog, journal: Path) -> int:
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
