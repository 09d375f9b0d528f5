"""The files beside the log: the salt that pseudonymises users, backups, and checking a file.

User ids never reach the database: the service stores ``hash_user(salt, user_id)`` instead
(citizenbot.service), with the per-installation salt from ``load_or_create_salt``.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import secrets
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path

from citizenbot.config import MIN_SALT_CHARS
from citizenbot.model import StoreError
from citizenbot.store.db import (
    Database,
    create_owner_only,
    open_private,
    os_reason,
    sqlite_reason,
)

log = logging.getLogger(__name__)



def load_or_create_salt(path: Path) -> str:
    """The salt kept in ``path``, creating the file (mode 0600) with a fresh one if absent.

    Raises StoreError when the file cannot be read or created, or holds an unusably short salt.
    """
    path = Path(path)
    try:
        return _read_salt(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise StoreError(f"cannot read the salt file {path}: {os_reason(exc)}") from exc

    salt = secrets.token_hex(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL so that two processes starting together cannot both write a salt and end up
        # hashing the same user differently; the loser reads the winner's salt below.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_or_create_salt(path)
    except OSError as exc:
        raise StoreError(f"cannot create the salt file {path}: {os_reason(exc)}") from exc
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(salt + "\n")
            fh.flush()
            # A salt lost in a crash would silently orphan every stored user hash.
            os.fsync(fh.fileno())
    except OSError as exc:
        raise StoreError(f"cannot write the salt file {path}: {os_reason(exc)}") from exc
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
        log.warning("the salt file %s is readable by other users (mode %o); chmod 600 it",
                    path, mode)
    return salt


# --------------------------------------------------------------------------- backups

async def backup(database: Database, target: Path) -> Path:
    """Write a consistent copy of ``database`` to ``target``, owner-only (0600); its path.

    SQLite's online backup API: other connections (a running bot) may keep writing, and the
    copy holds exactly what was committed when it was taken. It is written beside ``target``
    under a temporary name and renamed over ``target`` only once complete, so an interrupted
    backup never leaves a half-written file there. Raises StoreError when the copy cannot be
    made or ``target`` is the log itself.
    """
    if not database.memory and any(_same_file(target, Path(database.where + suffix))
                                   for suffix in ("", "-wal", "-shm", "-journal")):
        raise StoreError(f"cannot back up the database at {database.where} onto itself")
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        create_owner_only(tmp)
    except OSError as exc:
        raise StoreError(f"cannot create the backup {target}: {os_reason(exc)}") from exc
    try:
        # check_same_thread=False: aiosqlite drives the copy from its own worker thread.
        dest = sqlite3.connect(tmp, check_same_thread=False)
        try:
            await database.copy_to(f"cannot back up to {target}", dest)
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
        raise StoreError(f"cannot back up to {target}: {sqlite_reason(exc)}") from exc
    except OSError as exc:
        _unlink_quietly(tmp)
        raise StoreError(f"cannot write the backup {target}: {os_reason(exc)}") from exc
    except BaseException:
        _unlink_quietly(tmp)
        raise
    return target


@dataclass(frozen=True)
class Checked:
    """What SQLite's quick check says of a file, and how many enquiries it holds."""

    problems: tuple[str, ...]  # empty: the file passes
    enquiries: int


def quick_check(path: Path, *, count: bool = False, read_only: bool = False) -> Checked:
    """Run ``PRAGMA quick_check`` on ``path`` (and, with ``count``, count the enquiries),
    never creating the file. Raises StoreError when it cannot be read."""
    mode = "ro" if read_only else "rw"
    try:
        # mode=rw or ro: never create a database by looking for one.
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True, timeout=5)
        try:
            result = [str(row[0]) for row in con.execute("PRAGMA quick_check")]
            enquiries = 0
            if count and result == ["ok"]:
                enquiries = int(con.execute("SELECT COUNT(*) FROM enquiries").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read the database at {path}: {sqlite_reason(exc)}") from exc
    return Checked(() if result == ["ok"] else tuple(result), enquiries)


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


def check_file(path: Path) -> None:
    """Refuse a database that fails SQLite's quick check (a corrupt page with the header
    intact opens fine and fails later, half-way through serving): StoreError, one line that
    says what to do. A file that does not exist yet passes."""
    if not path.exists():
        return
    checked = quick_check(path)
    if checked.problems:
        first = " ".join(" ".join(checked.problems[:2]).split())[:200]
        raise StoreError(f"the database at {path} is corrupt ({first}); restore "
                         "it from a backup (citizenbot backup) or move it aside")


# --------------------------------------------------------------------------- one instance

def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


class InstanceLock:
    """The one bot serving a database: an exclusive lock on `<db>.lock`, held while the bot
    runs and let go by the kernel however the process ends (SIGKILL included), so a stale lock
    never blocks a restart. Commands that only read or add a row (stats, reply, backup) do not
    take it."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def take(cls, db_path: Path) -> InstanceLock:
        """The lock, or StoreError naming the process that holds it."""
        path = lock_path(Path(db_path))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = open_private(path, os.O_RDWR | os.O_CREAT)
        except OSError as exc:
            raise StoreError(f"cannot create the lock file {path}: {os_reason(exc)}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise StoreError(
                    f"another citizenbot bot is already running on the database {db_path} "
                    f"(pid {holder}); stop it first, or give this one its own CITIZENBOT_DB"
                ) from None
            raise StoreError(f"cannot lock {path}: {os_reason(exc)}") from exc
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        return cls(path, fd)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __enter__(self) -> InstanceLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
