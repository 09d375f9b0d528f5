"""Running the bot for real: the heartbeat file and the health check.

Transport-free: the Telegram layer writes the heartbeat from a JobQueue job; `citizenbot health`
calls `check_health`.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from citizenbot.model import StoreError
from citizenbot.store.db import open_private
from citizenbot.store.files import quick_check

log = logging.getLogger(__name__)

HEARTBEAT_EVERY: Final = 60.0  # seconds between heartbeats of the running bot
HEARTBEAT_MAX_AGE: Final = 300.0  # `citizenbot health` calls an older heartbeat stuck
PROBLEM: Final = "problem: "  # a heartbeat line the running bot writes for each trouble


def heartbeat_path(db_path: Path) -> Path:
    """The file the running bot touches every minute: `<db>.heartbeat`."""
    return db_path.with_name(db_path.name + ".heartbeat")


class Heartbeat:
    """The file whose time of change tells `citizenbot health` that the bot is alive."""

    def __init__(self, db_path: Path) -> None:
        self.path = heartbeat_path(db_path)
        self._failing = False

    def beat(self, problems: Sequence[str] = ()) -> None:
        """Write the heartbeat now, with what is wrong (one line each, read back by `citizenbot
        health`); a failure to write it is logged once, not every minute."""
        for problem in problems:
            log.critical("the enquiry log is in trouble: %s", problem)
        try:
            fd = open_private(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(f"{datetime.now(UTC).isoformat(timespec='seconds')} pid {os.getpid()}\n")
                fh.writelines(f"{PROBLEM}{' '.join(p.split())}\n" for p in problems)
        except OSError as exc:
            if not self._failing:
                log.warning("cannot write the heartbeat file %s: %s", self.path,
                            exc.strerror or exc)
            self._failing = True
        else:
            self._failing = False

    def stop(self) -> None:
        """Remove the file: a stopped bot is not a stuck one."""
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("cannot remove the heartbeat file %s: %s", self.path, exc.strerror or exc)


def check_health(db_path: Path, *, max_heartbeat_age: float = HEARTBEAT_MAX_AGE,
                 now: float | None = None) -> tuple[bool, str]:
    """(healthy, why) for `citizenbot health`.

    Healthy: the database exists, opens, and passes `PRAGMA quick_check`, and if a heartbeat
    file exists (a bot is running on it) it changed within `max_heartbeat_age` seconds. Never
    creates or changes the database.
    """
    if not db_path.is_file():
        return False, f"no database at {db_path} (has the bot started?)"
    try:
        checked = quick_check(db_path)
    except StoreError as exc:
        return False, str(exc)
    if checked.problems:
        return False, (f"the database at {db_path} fails its quick check: "
                       f"{'; '.join(checked.problems[:5])}")
    beat = heartbeat_path(db_path)
    try:
        changed = beat.stat().st_mtime
    except FileNotFoundError:
        return True, f"ok: the database at {db_path} passes its quick check (no bot heartbeat)"
    except OSError as exc:
        return False, f"cannot read the heartbeat {beat}: {exc.strerror or exc}"
    age = max((time.time() if now is None else now) - changed, 0.0)
    try:
        reported = [line[len(PROBLEM):] for line in
                    beat.read_text(encoding="utf-8", errors="replace").splitlines()
                    if line.startswith(PROBLEM)]
    except OSError:
        reported = []
    if reported:
        return False, "the running bot reports: " + "; ".join(reported)
    if age > max_heartbeat_age:
        return False, (f"the bot's heartbeat {beat.name} is {age:.0f} s old (more than "
                       f"{max_heartbeat_age:.0f} s): the bot is stuck, or was killed")
    return True, (f"ok: the database at {db_path} passes its quick check; bot heartbeat "
                  f"{age:.0f} s ago")
