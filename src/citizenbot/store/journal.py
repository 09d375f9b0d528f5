"""Never lose an enquiry: when the database cannot take a row, keep it in a journal file.

The journal sits next to the database and has its room taken in advance: `reserve` allocates
RESERVED_BYTES (posix_fallocate) at start, so that when the disk fills up, the enquiries the
database refuses still fit (about 8,000 at the usual size of a line). A line is JSON, written
into the reserved room with pwrite and fdatasync'ed before the user gets the answer; the unused
room reads as NUL bytes. Each line carries an id, so that importing it (at the next start, or
as soon as the database takes writes again) records it exactly once. A line is never moved:
importing or erasing it overwrites it with spaces in place, which needs no new room either
(/forget therefore reaches the journal too, full disk or not).

The file is created 0600 and never through a symlink (O_NOFOLLOW).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Final, Protocol

from citizenbot.model import Enquiry
from citizenbot.store.db import open_private

log = logging.getLogger(__name__)

RESERVED_BYTES: Final = 4 * 1024 * 1024


def journal_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".journal.jsonl")


@dataclass(frozen=True)
class Line:
    """One line of the journal as it stands in the file."""

    offset: int
    raw: bytes  # without the newline

    @property
    def blank(self) -> bool:
        return not self.raw.strip()

    @property
    def record(self) -> dict[str, object] | None:
        try:
            data = json.loads(self.raw.decode("utf-8", "replace"))
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    @property
    def line_id(self) -> str:
        """The id the line was written with; lines of older journals get their content's."""
        record = self.record
        given = record.get("id") if record else None
        return given if isinstance(given, str) and given else \
            "sha256:" + hashlib.sha256(self.raw).hexdigest()


class Journal:
    """The enquiries the database refused, in room reserved for them in advance."""

    def __init__(self, path: Path, reserve: int = RESERVED_BYTES) -> None:
        self.path = path
        self.reserved_bytes = reserve
        self.appended = 0  # lines written by this process
        self.lost = 0  # enquiries that did not fit even here (the reserve was used up)
        self.problem: str | None = None  # why room could not be reserved (None: it is)
        self._fd: int | None = None
        self._end = 0  # where the next line goes

    # ------------------------------------------------------------------ writing

    def reserve(self) -> bool:
        """Open the journal and take its room now; False (and `problem` says why) if the room
        could not be taken: then the journal works only while the disk has space."""
        try:
            self._file()
        except OSError as exc:
            self.problem = f"cannot open the journal {self.path}: {exc.strerror or exc}"
            log.critical("%s; enquiries the database refuses may be lost", self.problem)
            return False
        return self.problem is None

    def append(self, enquiry: Enquiry) -> None:
        """Keep one enquiry (its ts must be set), on disk when this returns; OSError if it
        cannot be kept (ENOSPC: the reserved room is used up and the disk is full)."""
        record = asdict(enquiry)
        record["transport"] = str(enquiry.transport)
        record["ts"] = enquiry.ts.isoformat() if enquiry.ts else None
        record["id"] = secrets.token_hex(12)
        data = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8", "replace")
        fd = self._file()
        if self._end + len(data) > os.fstat(fd).st_size:
            # Past the reserve: grow it by another reserve, which fails on a full disk.
            os.posix_fallocate(fd, 0, self._end + len(data) + self.reserved_bytes)
        os.pwrite(fd, data, self._end)
        os.fdatasync(fd)
        self._end += len(data)
        self.appended += 1

    def _file(self) -> int:
        if self._fd is not None:
            return self._fd
        fd = open_private(self.path, os.O_RDWR | os.O_CREAT)
        try:
            data = _read_all(fd)
            end = data.find(b"\0")
            self._end = len(data) if end < 0 else end
            if os.fstat(fd).st_size < self._end + self.reserved_bytes:
                try:
                    os.posix_fallocate(fd, 0, self._end + self.reserved_bytes)
                    self.problem = None
                except OSError as exc:
                    self.problem = (f"cannot reserve {self.reserved_bytes // 1024} KiB for the "
                                    f"journal {self.path}: {exc.strerror or exc}")
                    log.critical("%s; enquiries the database refuses may be lost",
                                 self.problem)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return fd

    # ------------------------------------------------------------------ reading and erasing

    def lines(self) -> list[Line]:
        """The lines written so far, blank ones included, in order."""
        if self._fd is None and not self.path.exists():
            return []
        fd = self._file()
        data = _read_all(fd)[:self._end]
        found, offset = [], 0
        for raw in data.split(b"\n"):
            if raw:
                found.append(Line(offset, raw))
            offset += len(raw) + 1
        return found

    @property
    def waiting(self) -> int:
        """Enquiries in the journal not yet imported."""
        return sum(1 for line in self.lines() if not line.blank)

    def blank(self, lines: Sequence[Line]) -> None:
        """Overwrite ``lines`` with spaces in place (no new room needed), durably; once every
        line is blank the journal starts again from its beginning."""
        if not lines:
            return
        fd = self._file()
        for line in lines:
            os.pwrite(fd, b" " * len(line.raw), line.offset)
        if all(line.blank for line in self.lines()):
            os.pwrite(fd, b"\0" * self._end, 0)
            self._end = 0
        os.fdatasync(fd)

    def erase(self, matches: Callable[[dict[str, object]], bool]) -> int:
        """Blank every line whose record ``matches`` (an erasure request); how many."""
        chosen = [line for line in self.lines()
                  if not line.blank and (record := line.record) is not None and matches(record)]
        self.blank(chosen)
        return len(chosen)

    def erase_user(self, user_hash: str) -> int:
        """Blank every enquiry of ``user_hash`` (/forget); how many."""
        if not user_hash:
            raise ValueError("erasure needs a user hash")
        return self.erase(lambda record: record.get("user_hash") == user_hash)

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def _read_all(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    chunks, offset = [], 0
    while offset < size:
        chunk = os.pread(fd, min(size - offset, 1 << 20), offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


class JournalImport(Protocol):
    async def import_journaled(self, records: Sequence[tuple[str, Enquiry]]) -> int: ...


def _enquiry(line: Line) -> Enquiry | None:
    record = line.record
    if record is None:
        return None
    fields = {k: v for k, v in record.items() if k != "id"}
    try:
        ts = fields.get("ts")
        fields["ts"] = datetime.fromisoformat(ts) if isinstance(ts, str) and ts else None
        return Enquiry(**fields)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return None


async def import_journal(store: JournalImport, journal: Journal | Path) -> int:
    """Move every journaled enquiry into the database; returns how many were new.

    The lines are blanked only after their rows are committed, and each is recorded under its
    id, so a crash in between imports nothing twice. A line that cannot be read is kept in a
    `.bad` file (0600) rather than dropped.
    """
    own = not isinstance(journal, Journal)
    keeper = Journal(journal, reserve=0) if not isinstance(journal, Journal) else journal
    if own and not keeper.path.exists():
        return 0
    try:
        lines = [line for line in keeper.lines() if not line.blank]
        if not lines:
            return 0
        good: list[tuple[Line, Enquiry]] = []
        bad: list[Line] = []
        for line in lines:
            enquiry = _enquiry(line)
            if enquiry is None:
                bad.append(line)
            else:
                good.append((line, enquiry))
        imported = await store.import_journaled(
            [(line.line_id, enquiry) for line, enquiry in good]) if good else 0
        if bad:
            fd = open_private(keeper.path.with_suffix(".bad"), os.O_WRONLY | os.O_CREAT
                              | os.O_APPEND)
            try:
                os.write(fd, b"".join(line.raw + b"\n" for line in bad))
                os.fsync(fd)
            finally:
                os.close(fd)
        keeper.blank(lines)
    finally:
        if own:
            keeper.close()
    if imported:
        log.info("imported %d enquiries from the journal", imported)
    return imported
