"""Real faults, not emulated ones: `python bot.py` killed with SIGKILL at random moments under
load, a real full filesystem, a burst of tickets cut short by SIGTERM and SIGKILL, a second
process on the same database or with the same token, a database with a corrupt page.

Each run prints its figures (pytest -s shows them); docs/reliability.md keeps a record.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import random
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from citizenbot.core.knowledge import KnowledgeBase
from citizenbot.core.responder import Responder
from citizenbot.store import Journal, journal_path
from fake_bot_api import FakeBotApi
from harness import NONSENSE
from load_driver import SALT, Crowd, answerable_questions, audit
from test_crash import BotProcess, until
from test_reliability import corrupt
from test_tickets import STAFF, WANG

pytestmark = pytest.mark.slow


def inbox_states(db: Path, update_ids: list[int]) -> dict[int, str]:
    with contextlib.closing(sqlite3.connect(db, timeout=5)) as conn:
        rows = conn.execute("SELECT update_id, state FROM inbox").fetchall()
    wanted = set(update_ids)
    return {int(u): str(s) for u, s in rows if u in wanted}


# --------------------------------------------------------------------------- SIGKILL under load

@pytest.mark.parametrize(("users", "per_user", "paced"), [
    (20, 10, False), (20, 6, True), (400, 2, False), (400, 1, True)],
    ids=["20-users-cap-lifted", "20-users-paced", "400-users-cap-lifted", "400-users-paced"])
async def test_sigkill_at_random_moments_under_load_loses_no_question(
        api: FakeBotApi, responder: Responder, tmp_path: Path, users: int, per_user: int,
        paced: bool) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    db = tmp_path / "citizenbot.db"
    bot = BotProcess(api, db, tmp_path / "bot.log", paced=paced)
    messages = users * per_user
    # Long enough for a paced turn (30 replies a second) plus a restart.
    crowd = Crowd(api, users, per_user, answerable_questions(responder),
                  reply_timeout=15 + messages / 30)
    kills = 0
    try:
        await bot.start()
        load = asyncio.create_task(crowd.run())
        for _ in range(3):
            await asyncio.sleep(rng.uniform(0.2, 1.5))  # a random moment, questions in flight
            if load.done():
                break
            assert await bot.stop(signal.SIGKILL) == -signal.SIGKILL
            kills += 1
            await bot.start()
        async with asyncio.timeout(60 + 2 * messages / 30):
            await load
        asked = [a.update_id for a in crowd.asked]
        await until(lambda: len(inbox_states(db, asked)) == len(asked) and all(
            s in ("done", "interrupted") for s in inbox_states(db, asked).values()),
            30, "every question settled in the inbox")
        assert await bot.stop(signal.SIGTERM) == 0, bot.output()[-3000:]
    finally:
        await bot.ensure_dead()

    states = inbox_states(db, [a.update_id for a in crowd.asked])
    interrupted = sum(1 for s in states.values() if s == "interrupted")
    result = audit(api, db, SALT, crowd.asked)
    assert result.integrity == "ok"
    assert len(states) == result.messages  # 0 lost: every question reached the inbox
    assert (result.not_logged, result.logged_extra) == (0, 0), result  # each logged once
    assert result.answered_twice == 0 and result.replied_not_logged == 0, result
    assert result.unexplained == 0, result
    unanswered = result.rows - sum(1 for _ in range(result.delivered))
    assert unanswered <= interrupted, (result, interrupted)  # unanswered = logged as such
    print(f"\n{users} users x {per_user}, {'paced' if paced else 'cap lifted'}, seed {seed}: "
          f"{kills} SIGKILLs; {result.messages} questions, {result.rows} logged once each, "
          f"{result.delivered} answered once, {result.answered_twice} twice, "
          f"{interrupted} interrupted (reply possibly on its way at a kill), 0 lost")


# --------------------------------------------------------------------------- a full filesystem

@contextlib.contextmanager
def small_filesystem(where: Path, size: str = "16m"):  # type: ignore[no-untyped-def]
    where.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                           str(where)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here to fill up for real "
                    f"({made.stderr.strip() or made.returncode}); needs root or CAP_SYS_ADMIN")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill_up(directory: Path) -> Path:
    """Write a file until the filesystem says ENOSPC, down to the last byte; the file."""
    filler = directory / "filler"
    for chunk in (b"\0" * 65536, b"\0" * 512, b"\0"):
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            while True:
                os.write(fd, chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
        finally:
            os.close(fd)
    return filler


async def test_a_real_full_filesystem_loses_no_enquiry_and_everyone_is_answered(
        api: FakeBotApi, responder: Responder, tmp_path: Path) -> None:
    with small_filesystem(tmp_path / "small") as small:
        db = small / "citizenbot.db"
        bot = BotProcess(api, db, tmp_path / "bot.log", paced=False)
        questions = answerable_questions(responder)
        try:
            await bot.start()
            before = Crowd(api, 5, 2, questions, first_id=100_000_001)
            await before.run()
            assert before.replies == 10
            filler = fill_up(small)
            crowd = Crowd(api, 30, 10, questions, reply_timeout=10)
            await crowd.run()
            # Everyone answered; every enquiry in the journal's reserved room.
            assert (crowd.replies, crowd.timeouts) == (300, 0)
            journal = Journal(journal_path(db), reserve=0)
            assert journal.waiting == 300
            journal.close()
            assert "the database cannot take writes" in bot.output()
            assert "Sorry" not in "".join(s.text for s in api.sent)
            filler.unlink()
            assert await bot.stop(signal.SIGTERM) == 0, bot.output()[-3000:]
            await bot.start()  # the next start brings the journal home
            await until(lambda: Journal(journal_path(db), reserve=0).waiting == 0, 20,
                        "the journal imported")
            assert await bot.stop(signal.SIGTERM) == 0, bot.output()[-3000:]
        finally:
            await bot.ensure_dead()
        result = audit(api, db, SALT, [*before.asked, *crowd.asked])
        assert result.rows == 310 and (result.not_logged, result.logged_extra) == (0, 0)
        print("\nreal full tmpfs: 300 questions while full: 300 answered, 300 journaled, "
              "310 rows after the restart, 0 lost")


# --------------------------------------------------------------------------- a burst of tickets

async def test_sixty_sends_then_sigterm_and_sigkill_keep_sixty_tickets(
        api: FakeBotApi, kb: KnowledgeBase, tmp_path: Path) -> None:
    db = tmp_path / "citizenbot.db"
    bot = BotProcess(api, db, tmp_path / "bot.log", STAFF_CHAT_ID=str(STAFF["id"]),
                     CITIZENBOT_STAFF_LANGUAGE="en")
    people = [FakeBotApi.user(610_000 + n, f"C{n}", "en") for n in range(60)]
    try:
        await bot.start()
        api.send_text(WANG, "Good morning, colleagues", chat=STAFF)
        for person in people:
            api.send_text(person, NONSENSE)
        fallbacks = await asyncio.gather(*(api.next_message(p, timeout=30) for p in people))
        for person, fallback in zip(people, fallbacks, strict=True):
            api.press(person, fallback, fallback.data(kb.text("tickets.buttons.ask", "en")))
        confirms = await asyncio.gather(*(api.next_message(p, timeout=30) for p in people))
        started = time.monotonic()
        for person, confirm in zip(people, confirms, strict=True):
            api.press(person, confirm, confirm.data(kb.text("tickets.buttons.send", "en")))
        await asyncio.sleep(10)
        told = sum(1 for p in people if api.unread(p))
        bot.process.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        try:
            async with asyncio.timeout(30):  # the usual stop grace, then SIGKILL
                code = await bot.process.wait()  # type: ignore[union-attr]
        except TimeoutError:
            await bot.ensure_dead()
            code = -signal.SIGKILL
        stopped_after = time.monotonic() - started
    finally:
        await bot.ensure_dead()
    with contextlib.closing(sqlite3.connect(db)) as conn:
        stored = conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0]
        posted = conn.execute("SELECT COUNT(*) FROM tickets"
                              " WHERE staff_message_id IS NOT NULL").fetchone()[0]
    assert stored == 60 and told == 60
    cards = [s for s in api.sent if s.chat_id == STAFF["id"] and "Q-" in s.text.split("\n")[0]]
    assert len(cards) == len({c.text.split()[1] for c in cards})  # no ticket posted twice
    print(f"\n60 simultaneous Sends: 60 confirmed within 10 s, SIGTERM at 10 s, exit {code} "
          f"after {stopped_after:.1f} s; 60 tickets stored, {posted} posted to staff so far "
          "(the rest at the next start)")


# --------------------------------------------------------------------------- one instance

async def test_a_second_process_on_the_same_database_refuses_to_start(
        api: FakeBotApi, tmp_path: Path) -> None:
    db = tmp_path / "citizenbot.db"
    first = BotProcess(api, db, tmp_path / "first.log")
    second = BotProcess(api, db, tmp_path / "second.log")
    try:
        await first.start()
        with (tmp_path / "second.log").open("ab") as out:
            second.process = await asyncio.create_subprocess_exec(
                str(Path(os.sys.executable)), str(second.script), env=second.env,  # type: ignore[attr-defined]
                stdout=out, stderr=out)
        async with asyncio.timeout(30):
            assert await second.process.wait() == 2
        lines = [line for line in second.output().splitlines() if line.startswith("citizenbot:")]
        assert len(lines) == 1 and "already running" in lines[0], second.output()
        assert first.process is not None and first.process.returncode is None
        assert await first.stop(signal.SIGTERM) == 0
    finally:
        await first.ensure_dead()
        await second.ensure_dead()


async def test_a_409_conflict_stops_polling_with_one_clear_line(
        api: FakeBotApi, tmp_path: Path) -> None:
    first = BotProcess(api, tmp_path / "one.db", tmp_path / "first.log")
    second = BotProcess(api, tmp_path / "two.db", tmp_path / "second.log")
    try:
        await first.start()
        await second.start()  # same token, another machine as far as Telegram knows
        assert first.process is not None
        async with asyncio.timeout(30):
            assert await first.process.wait() == 2
        output = first.output()
        lines = [line for line in output.splitlines() if line.startswith("citizenbot:")]
        assert len(lines) == 1 and "another process" in lines[0], output[-2000:]
        assert output.count("Conflict") <= 2  # not a loop
        assert second.process is not None and second.process.returncode is None
        assert await second.stop(signal.SIGTERM) == 0
    finally:
        await first.ensure_dead()
        await second.ensure_dead()


async def test_the_bot_refuses_to_serve_on_a_database_with_a_corrupt_page(
        api: FakeBotApi, tmp_path: Path) -> None:
    db = tmp_path / "citizenbot.db"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        conn.execute("CREATE TABLE filler (x TEXT)")
        conn.executemany("INSERT INTO filler VALUES (?)", [("x" * 500,)] * 100)
        conn.commit()
    corrupt(db)
    bot = BotProcess(api, db, tmp_path / "bot.log")
    with (tmp_path / "bot.log").open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            str(Path(os.sys.executable)), str(bot.script), env=bot.env,  # type: ignore[attr-defined]
            stdout=out, stderr=out)
    async with asyncio.timeout(30):
        assert await process.wait() == 2
    lines = [line for line in bot.output().splitlines() if line.strip()]
    assert len(lines) == 1 and "corrupt" in lines[0], bot.output()
    assert not api.calls_of("getUpdates")
