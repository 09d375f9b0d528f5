"""Running the bot for real: metrics, the heartbeat, daily retention and the health check.

Transport-free: the Telegram layer feeds `Metrics` and starts `Housekeeping`; `citizenbot health`
calls `check_health`. Metrics are written by hand in Prometheus' text exposition format
(version 0.0.4), so no client library is needed for three families of figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from citizenbot.store import STATUSES, Store, StoreError

log = logging.getLogger(__name__)

HEARTBEAT_EVERY: Final = 60.0  # seconds between heartbeats of the running bot
HEARTBEAT_MAX_AGE: Final = 300.0  # `citizenbot health` calls an older heartbeat stuck
PURGE_EVERY: Final = 24 * 60 * 60.0  # the retention purge runs at start and then this often
# Reply latency buckets in seconds: answering takes milliseconds, sending to Telegram most of
# the rest; anything past a few seconds is the rate limiter waiting out Telegram's limits.
LATENCY_BUCKETS: Final = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
ERROR_KINDS: Final = ("telegram", "handler")
WEBHOOK_OUTCOMES: Final = ("accepted", "forbidden", "bad_request")
RELOAD_RESULTS: Final = ("ok", "failed")
CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"


def heartbeat_path(db_path: Path) -> Path:
    """The file the running bot touches every minute: `<db>.heartbeat`."""
    return db_path.with_name(db_path.name + ".heartbeat")


# --------------------------------------------------------------------------- metrics

def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Histogram:
    """A Prometheus histogram: cumulative bucket counts, the sum and the count."""

    def __init__(self, buckets: Sequence[float]) -> None:
        self.bounds = tuple(sorted(buckets))
        self.counts = [0] * len(self.bounds)  # per bucket, not cumulative
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.sum += value
        self.count += 1
        for i, bound in enumerate(self.bounds):
            if value <= bound:
                self.counts[i] += 1
                break

    def samples(self, name: str) -> Iterable[str]:
        running = 0
        for bound, n in zip(self.bounds, self.counts, strict=True):
            running += n
            yield f'{name}_bucket{{le="{_number(bound)}"}} {running}'
        yield f'{name}_bucket{{le="+Inf"}} {self.count}'
        yield f"{name}_sum {_number(self.sum)}"
        yield f"{name}_count {self.count}"


class Metrics:
    """The bot's figures since it started, as `/metrics` shows them.

    Only touched from the event loop, so plain integers suffice.
    """

    def __init__(self) -> None:
        self.started = time.time()
        self.enquiries = dict.fromkeys(sorted(STATUSES), 0)
        self.latency = Histogram(LATENCY_BUCKETS)
        self.errors = dict.fromkeys(ERROR_KINDS, 0)
        self.webhook_requests = dict.fromkeys(WEBHOOK_OUTCOMES, 0)
        self.reloads = dict.fromkeys(RELOAD_RESULTS, 0)

    def enquiry(self, status: str) -> None:
        """One question answered (and logged) with `status`."""
        self.enquiries[status] = self.enquiries.get(status, 0) + 1

    def reply_sent(self, seconds: float) -> None:
        """A reply reached Telegram `seconds` after the bot started answering."""
        self.latency.observe(max(seconds, 0.0))

    def error(self, kind: str) -> None:
        """An error reached the error handler: 'telegram' (the Bot API) or 'handler' (ours)."""
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def webhook(self, outcome: str) -> None:
        self.webhook_requests[outcome] = self.webhook_requests.get(outcome, 0) + 1

    def reload(self, result: str) -> None:
        self.reloads[result] = self.reloads.get(result, 0) + 1

    def render(self) -> str:
        """Every figure in Prometheus' text exposition format."""
        lines: list[str] = []

        def family(name: str, kind: str, help_text: str) -> None:
            lines.extend((f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"))

        def labelled(name: str, label: str, values: dict[str, int]) -> None:
            lines.extend(f'{name}{{{label}="{_label(key)}"}} {n}' for key, n in values.items())

        family("citizenbot_enquiries_total", "counter",
               "Questions answered since start, by status (answered, clarify, fallback).")
        labelled("citizenbot_enquiries_total", "status", self.enquiries)
        family("citizenbot_reply_latency_seconds", "histogram",
               "Time from starting to answer a question to the reply accepted by Telegram.")
        lines.extend(self.latency.samples("citizenbot_reply_latency_seconds"))
        family("citizenbot_errors_total", "counter",
               "Errors while handling updates: telegram (the Bot API refused or failed) or "
               "handler (a fault in the bot).")
        labelled("citizenbot_errors_total", "kind", self.errors)
        family("citizenbot_webhook_requests_total", "counter",
               "Requests to the webhook path, by outcome.")
        labelled("citizenbot_webhook_requests_total", "outcome", self.webhook_requests)
        family("citizenbot_knowledge_base_reloads_total", "counter",
               "Knowledge-base reloads (/reload or SIGHUP), by result.")
        labelled("citizenbot_knowledge_base_reloads_total", "result", self.reloads)
        family("citizenbot_start_time_seconds", "gauge",
               "When the bot started, in seconds since the Unix epoch.")
        lines.append(f"citizenbot_start_time_seconds {_number(round(self.started, 3))}")
        return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- housekeeping

class Housekeeping:
    """Background jobs of the running bot: the heartbeat and the daily retention purge."""

    def __init__(self, store: Store, db_path: Path, retention_days: int, *,
                 heartbeat_every: float = HEARTBEAT_EVERY,
                 purge_every: float = PURGE_EVERY) -> None:
        self.store = store
        self.heartbeat = heartbeat_path(db_path)
        self.retention_days = retention_days
        self.heartbeat_every = heartbeat_every
        self.purge_every = purge_every
        self.purged = 0  # enquiries deleted by the retention purge since start
        self._tasks: list[asyncio.Task[None]] = []
        self._heartbeat_failed = False

    def start(self) -> None:
        """Start the jobs on the running event loop (the purge only with a retention set)."""
        self._tasks.append(asyncio.create_task(self._beat(), name="citizenbot-heartbeat"))
        if self.retention_days > 0:
            self._tasks.append(asyncio.create_task(self._retain(), name="citizenbot-retention"))
            log.info("retention: enquiries older than %d days are deleted now and every %s",
                     self.retention_days, _duration(self.purge_every))

    async def stop(self) -> None:
        """Cancel the jobs and remove the heartbeat: a stopped bot is not a stuck one."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if tasks:
            with contextlib.suppress(OSError):
                self.heartbeat.unlink(missing_ok=True)

    def beat(self) -> None:
        """Write the heartbeat file now (its time of change is what the health check reads)."""
        try:
            fd = os.open(self.heartbeat, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(f"{datetime.now(UTC).isoformat(timespec='seconds')} pid {os.getpid()}\n")
        except OSError as exc:
            if not self._heartbeat_failed:  # once, not every minute
                log.warning("cannot write the heartbeat file %s: %s", self.heartbeat,
                            exc.strerror or exc)
            self._heartbeat_failed = True
        else:
            self._heartbeat_failed = False

    async def purge_once(self) -> int:
        """Apply the retention now; errors are logged, never raised (the bot keeps serving)."""
        try:
            deleted = await self.store.purge_older_than(self.retention_days)
            # Tickets still open are work to do and stay; finished ones follow the same rule.
            tickets = await self.store.purge_closed_tickets(self.retention_days)
        except StoreError as exc:
            log.error("retention: the purge failed, will try again later: %s", exc)
            return 0
        self.purged += deleted
        log.info("retention: deleted %d enquiries and %d finished tickets older than %d days",
                 deleted, tickets, self.retention_days)
        return deleted

    async def _beat(self) -> None:
        while True:
            self.beat()
            await asyncio.sleep(self.heartbeat_every)

    async def _retain(self) -> None:
        while True:
            await self.purge_once()
            await asyncio.sleep(self.purge_every)


def _duration(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        hours = int(seconds // 3600)
        return f"{hours} h"
    return f"{seconds:g} s"


# --------------------------------------------------------------------------- health check

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
        # mode=rw: never create a database by looking for one.
        con = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=rw", uri=True, timeout=5)
        try:
            result = [str(row[0]) for row in con.execute("PRAGMA quick_check")]
        finally:
            con.close()
    except sqlite3.Error as exc:
        return False, f"cannot read the database at {db_path}: {exc}"
    if result != ["ok"]:
        return False, f"the database at {db_path} fails its quick check: {'; '.join(result[:5])}"
    beat = heartbeat_path(db_path)
    try:
        changed = beat.stat().st_mtime
    except FileNotFoundError:
        return True, f"ok: the database at {db_path} passes its quick check (no bot heartbeat)"
    except OSError as exc:
        return False, f"cannot read the heartbeat {beat}: {exc.strerror or exc}"
    age = max((time.time() if now is None else now) - changed, 0.0)
    if age > max_heartbeat_age:
        return False, (f"the bot's heartbeat {beat.name} is {age:.0f} s old (more than "
                       f"{max_heartbeat_age:.0f} s): the bot is stuck, or was killed")
    return True, (f"ok: the database at {db_path} passes its quick check; bot heartbeat "
                  f"{age:.0f} s ago")
