"""Crash safety: `python bot.py` killed (SIGKILL) or stopped (SIGTERM) in the middle of a load.

Two orders make this safe: the enquiry is committed to the log *before* the reply is sent (so
whenever a user has an answer, its row is on disk), and every update is stored in the inbox
*before* Telegram is told it arrived (so the questions in flight at a kill are answered after
the restart; tests/test_faults_real.py kills at random moments under heavier loads). SQLite's
WAL keeps the file whole whatever instant the process dies.

SIGTERM is a clean stop: no new updates are fetched, every update already fetched is answered and
logged, the fetched ones are confirmed to Telegram, and the process exits 0. Updates not fetched
stay with Telegram and are handled on the next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from citizenbot.core.responder import Responder
from fake_bot_api import FakeBotApi
from harness import TOKEN, TOKEN_SECRET
from load_driver import SALT, Crowd, answerable_questions, audit

ROOT = Path(__file__).resolve().parents[1]
STARTED = "receiving updates by long polling"

pytestmark = pytest.mark.slow


async def until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    try:
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout} s: {what}") from None


class BotProcess:
    """`python bot.py` against the fake Bot API, its output in a file."""

    def __init__(self, api: FakeBotApi, db: Path, log: Path, level: str = "INFO", *,
                 paced: bool = True, **env: str) -> None:
        self.api, self.log = api, log
        self.env = {**{k: v for k, v in os.environ.items()
                       if not k.startswith(("CITIZENBOT_", "TELEGRAM_", "STAFF_"))},
                    "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api.base_url,
                    "CITIZENBOT_DB": str(db), "CITIZENBOT_SALT": SALT,
                    "CITIZENBOT_LOG_LEVEL": level, **env}
        # paced: `python bot.py` as deployed; else Telegram's overall cap lifted.
        self.script = ROOT / ("bot.py" if paced else "tests/unpaced_bot.py")
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        # Its own log line, not a getUpdates call: the long poll a killed process left waiting
        # is answered (and counted) up to a second later.
        started = self.output().count(STARTED) if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, str(self.script), cwd=self.log.parent, env=self.env,
                stdout=out, stderr=out)
        await until(lambda: self.output().count(STARTED) > started
                    or self.process is None or self.process.returncode is not None,
                    20, "the bot never started polling")
        assert self.process.returncode is None, self.output()[-3000:]

    async def stop(self, sig: int, timeout: float = 20) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        async with asyncio.timeout(timeout):
            return await self.process.wait()

    async def ensure_dead(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10):
                    await self.process.wait()

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


async def test_sigkill_mid_load_loses_no_answered_enquiry(api: FakeBotApi, responder: Responder,
                                                          tmp_path: Path) -> None:
    db = tmp_path / "citizenbot.db"
    bot = BotProcess(api, db, tmp_path / "bot.log")
    questions = answerable_questions(responder)
    crowd = Crowd(api, 20, 10, questions, reply_timeout=5)
    try:
        await bot.start()
        load = asyncio.create_task(crowd.run())
        await until(lambda: crowd.replies >= 60, 30, "60 replies under load")
        assert await bot.stop(signal.SIGKILL) == -signal.SIGKILL
        answered_before_kill = sum(1 for s in api.sent if s.method == "sendMessage")
        load.cancel()
        await asyncio.gather(load, return_exceptions=True)

        # The file is whole, and every answer the users have is in the log.
        with contextlib.closing(sqlite3.connect(db)) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        killed = audit(api, db, SALT, crowd.asked)
        assert killed.integrity == "ok"
        assert killed.delivered == answered_before_kill
        assert killed.replied_not_logged == 0

        # Restarted, the bot carries on: updates Telegram still holds are answered, new users too.
        await bot.start()
        later = Crowd(api, 10, 3, questions, first_id=800_000_001, reply_timeout=10)
        async with asyncio.timeout(30):
            await later.run()
        await api.wait_confirmed(timeout=20)
        assert await bot.stop(signal.SIGTERM) == 0, bot.output()[-3000:]
    finally:
        await bot.ensure_dead()

    final = audit(api, db, SALT, [*crowd.asked, *later.asked])
    assert final.integrity == "ok" and final.replied_not_logged == 0
    assert later.timeouts == 0 and later.replies == 30
    # The questions in flight at the kill were in the inbox: answered after the restart.
    assert (final.not_logged, final.logged_extra, final.answered_twice) == (0, 0, 0), final
    print(f"SIGKILL after {answered_before_kill} of {len(crowd.asked)} questions were answered: "
          f"0 answered enquiries missing from the log; every question in flight logged and "
          f"answered after the restart ({final.delivered} replies for {final.rows} rows); "
          f"integrity_check ok")


async def test_sigterm_mid_load_finishes_the_work_in_hand_and_exits_0(
        api: FakeBotApi, responder: Responder, tmp_path: Path) -> None:
    db = tmp_path / "citizenbot.db"
    bot = BotProcess(api, db, tmp_path / "bot.log", level="DEBUG")
    crowd = Crowd(api, 20, 10, answerable_questions(responder), reply_timeout=10)
    try:
        await bot.start()
        load = asyncio.create_task(crowd.run())
        await until(lambda: crowd.replies >= 40, 30, "40 replies under load")
        assert await bot.stop(signal.SIGTERM) == 0, bot.output()[-3000:]
        load.cancel()
        await asyncio.gather(load, return_exceptions=True)

        # Everything fetched (stored in the inbox) was answered once and logged once; the
        # rest waits at Telegram.
        with contextlib.closing(sqlite3.connect(db)) as conn:
            stored = {u for (u,) in conn.execute("SELECT update_id FROM inbox")}
        fetched = [a for a in crowd.asked if a.update_id in stored]
        waiting = [a for a in crowd.asked if a.update_id not in stored]
        audit(api, db, SALT, fetched).assert_exact()
        assert len(fetched) >= 40

        await bot.start()  # the next start answers the updates left waiting
        await api.wait_confirmed(timeout=20)
        assert await bot.stop(signal.SIGTERM) == 0, bot.output()[-3000:]
    finally:
        await bot.ensure_dead()
    audit(api, db, SALT, crowd.asked).assert_exact()
    output = bot.output()
    assert "Application.stop() complete" in output
    assert TOKEN_SECRET not in output and SALT not in output
    print(f"SIGTERM after {len(fetched)} of {len(crowd.asked)} questions were fetched: all "
          f"{len(fetched)} answered and logged before exit 0; the {len(waiting)} left at Telegram "
          f"answered after the restart; each exactly once")
