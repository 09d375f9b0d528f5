#!/usr/bin/env python3
"""Benchmark: what durability costs. The bot as its own process (`python bot.py`, or with
Telegram's overall cap lifted), the tests' fake Bot API and simulated users in this one.

Usage: python bench/reliability.py [throughput] [latency] [memory] [--source DIR]

- throughput: 200 users x 20 questions at once, cap lifted: messages per second, reply p50/p99,
  and how many transactions the writer needed (group commit).
- latency: 30 questions a second offered (Telegram's own ceiling) from 300 users, open loop,
  for 20 s, with the production pacing: reply p50 / p99 / max from the update to the reply.
- memory: 100,000 distinct users ask one question each (cap lifted); the bot's RSS as it goes.

`--source DIR` runs the bot from another checkout's src/ (e.g. main before these changes) for
a before/after comparison. Prints figures; asserts nothing; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from citizenbot.core.knowledge import load_knowledge_base  # noqa: E402
from citizenbot.core.responder import Responder  # noqa: E402
from fake_bot_api import FakeBotApi  # noqa: E402
from harness import TOKEN  # noqa: E402
from load_driver import SALT, Crowd, answerable_questions, percentile  # noqa: E402


class Bot:
    """The bot as its own process against ``api``."""

    def __init__(self, api: FakeBotApi, directory: Path, *, paced: bool,
                 source: Path | None) -> None:
        self.api = api
        self.db = directory / "citizenbot.db"
        self.log = directory / "bot.log"
        self.script = ROOT / ("bot.py" if paced else "tests/unpaced_bot.py")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("CITIZENBOT_", "TELEGRAM_", "STAFF_"))}
        env.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api.base_url,
                   CITIZENBOT_DB=str(self.db), CITIZENBOT_SALT=SALT,
                   CITIZENBOT_LOG_LEVEL="WARNING", CITIZENBOT_RATE_LIMIT="1000")
        if source is not None:
            env["PYTHONPATH"] = str(source)
        self.env = env
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        polls = len(self.api.calls_of("getUpdates"))
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, str(self.script), env=self.env, stdout=out, stderr=out,
                cwd=self.db.parent)
        async with asyncio.timeout(30):
            while len(self.api.calls_of("getUpdates")) <= polls:
                assert self.process.returncode is None, self.log.read_text()[-2000:]
                await asyncio.sleep(0.05)

    def rss_mb(self) -> float:
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def cpu_seconds(self) -> float:
        """CPU time the bot process has used so far (user + system)."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                async with asyncio.timeout(60):
                    await self.process.wait()
            except TimeoutError:
                self.process.kill()
                await self.process.wait()

    def writer_figures(self) -> str:
        with contextlib.closing(sqlite3.connect(self.db)) as conn:
            rows = conn.execute("SELECT COUNT(*) FROM enquiries").fetchone()[0]
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        return f"{rows} rows, journal_mode {mode}"


async def throughput(questions: list[str], source: Path | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeBotApi(TOKEN) as api:
            bot = Bot(api, Path(tmp), paced=False, source=source)
            await bot.start()
            try:
                crowd = Crowd(api, 200, 20, questions, reply_timeout=60)
                cpu_before, mine_before = bot.cpu_seconds(), time.process_time()
                async with asyncio.timeout(600):
                    await crowd.run()
                elapsed = (crowd.last_reply_at or 0) - (crowd.first_at or 0)
                cpu = bot.cpu_seconds() - cpu_before
                harness = time.process_time() - mine_before
            finally:
                await bot.stop()
            times = [t * 1000 for t in crowd.reply_times]
            print(f"throughput, cap lifted: 200 users x 20 = {len(crowd.asked)} questions, "
                  f"{crowd.replies} replies in {elapsed:.1f} s = "
                  f"{crowd.replies / elapsed:.0f} msg/s; reply p50 {percentile(times, 50):.0f} "
                  f"ms, p99 {percentile(times, 99):.0f} ms; {crowd.timeouts} timeouts; "
                  f"{bot.writer_figures()}; the bot used {cpu:.1f} s of CPU "
                  f"({cpu / elapsed:.0%} of a core, {1000 * cpu / max(crowd.replies, 1):.2f} ms "
                  f"a message), this process (fake Telegram, users) {harness:.1f} s")


async def latency(questions: list[str], source: Path | None, rate: float = 30.0,
                  seconds: float = 20.0) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeBotApi(TOKEN) as api:
            bot = Bot(api, Path(tmp), paced=True, source=source)
            await bot.start()
            sent_at: dict[int, float] = {}
            got: list[float] = []

            async def on_send(params: dict[str, object]) -> None:
                chat = int(str(params.get("chat_id")))
                started = sent_at.pop(chat, None)
                if started is not None:
                    got.append((time.monotonic() - started) * 1000)

            api.hooks["sendMessage"] = on_send
            users = [FakeBotApi.user(300_000_000 + n, f"U{n}", "en") for n in range(300)]
            total = int(rate * seconds)
            try:
                begun = time.monotonic()
                for n in range(total):
                    # Open loop: the next question comes on time whether or not the last was
                    # answered (each user asks again only ten seconds later).
                    await asyncio.sleep(max(0.0, begun + n / rate - time.monotonic()))
                    user = users[n % len(users)]
                    sent_at[int(user["id"])] = time.monotonic()
                    api.send_text(user, questions[n % len(questions)])
                deadline = time.monotonic() + 30
                while len(got) < total and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
            finally:
                await bot.stop()
            print(f"latency at {rate:g} msg/s offered for {seconds:g} s ({total} questions, "
                  f"Telegram's pacing on): {len(got)} replies, {len(sent_at)} waiting; "
                  f"update to reply p50 "
                  f"{statistics.median(got):.1f} ms, p99 {percentile(got, 99):.1f} ms, "
                  f"max {max(got):.1f} ms")


async def memory(questions: list[str], source: Path | None, users: int = 100_000,
                 wave: int = 500) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeBotApi(TOKEN) as api:
            bot = Bot(api, Path(tmp), paced=False, source=source)
            await bot.start()
            samples: list[tuple[int, float]] = [(0, bot.rss_mb())]
            started = time.monotonic()
            try:
                for first in range(0, users, wave):
                    crowd = Crowd(api, wave, 1, questions, first_id=400_000_000 + first,
                                  reply_timeout=30)
                    async with asyncio.timeout(120):
                        await crowd.run()
                    done = first + wave
                    # The fake keeps every call; trimmed so that this process stays small.
                    api.calls.clear()
                    api.sent.clear()
                    if done % 10_000 == 0 or done == users:
                        samples.append((done, bot.rss_mb()))
                        print(f"  {done:>7} distinct users: bot RSS {samples[-1][1]:.1f} MB "
                              f"({time.monotonic() - started:.0f} s)", flush=True)
            finally:
                await bot.stop()
            low = min(rss for n, rss in samples if n >= 10_000)
            high = max(rss for n, rss in samples if n >= 10_000)
            print(f"memory over {users} distinct users: RSS {samples[0][1]:.1f} MB at start, "
                  f"{samples[1][1]:.1f} MB after 10,000, {samples[-1][1]:.1f} MB after "
                  f"{users}; between 10,000 and {users} it moved {high - low:.1f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="*", choices=("throughput", "latency", "memory"),
                        default=["throughput", "latency"])
    parser.add_argument("--source", type=Path, help="run the bot from this src/ directory")
    parser.add_argument("--users", type=int, default=100_000, help="users for memory")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; the bot in its own process"
          + (f", from {args.source}" if args.source else ""), flush=True)
    questions = answerable_questions(Responder(load_knowledge_base()))
    for what in args.what:
        if what == "throughput":
            asyncio.run(throughput(questions, args.source))
        elif what == "latency":
            asyncio.run(latency(questions, args.source))
        else:
            asyncio.run(memory(questions, args.source, args.users))
    return 0


if __name__ == "__main__":
    sys.exit(main())
