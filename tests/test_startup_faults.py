"""Faults at start: an unusable database or knowledge base stops `citizenbot run` and `chat` with
a clear message and exit code 2, before the bot says a word to Telegram.

As root, chmod does not stop writes, so the faults are made the way they happen to anyone: the
database path lies under a regular file (an unwritable location), the file holds garbage, another
process holds the write lock, the process may not grow a file past 4 KiB (RLIMIT_FSIZE: a full
disk or an exhausted quota). Knowledge-base faults: a missing directory, broken YAML, a file that
is not UTF-8, a directory where a file should be, a quote that is not in the report.
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import sqlite3
import sys
import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from citizenbot.model import Enquiry
from citizenbot.store import Store
from fake_bot_api import FakeBotApi
from test_intents import GOOD_INTENT, SMALLTALK

pytestmark = pytest.mark.slow

TOKEN = "6161616161:START-token_for_citizenbot_fake_api"
EXIT_UNUSABLE = 2


@pytest_asyncio.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(TOKEN) as fake:
        yield fake


def _small_files_only() -> None:
    """In the child: files may not grow past 4 KiB, and writing past it fails (EFBIG) instead
    of killing the process, as writing to a full disk fails with ENOSPC."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


async def citizenbot(command: str, env: dict[str, str], api: FakeBotApi | None = None,
                     small_files: bool = False) -> tuple[int, str]:
    """Run `citizenbot <command>` (as a Telegram bot when `api` is given); (exit code, stderr)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CITIZENBOT_", "TELEGRAM_"))}
    # No .pyc may be written by a child whose files are capped: it would be cut short.
    full_env = {**base, "PYTHONDONTWRITEBYTECODE": "1", **env}
    if api is not None:
        full_env.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api.base_url)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "citizenbot.cli", command, env=full_env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, preexec_fn=_small_files_only if small_files else None)
    try:
        async with asyncio.timeout(40):
            _, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return int(process.returncode or 0), err.decode("utf-8", "replace")


def the_message(stderr: str) -> str:
    """The one line that explains the refusal (log lines may come before it)."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("citizenbot:")]
    assert len(lines) == 1, stderr
    return lines[0]


def under_a_file(tmp_path: Path) -> Path:
    (tmp_path / "not-a-directory").write_text("a file, not a directory\n")
    return tmp_path / "not-a-directory" / "citizenbot.db"


def garbage(tmp_path: Path) -> Path:
    db = tmp_path / "garbage.db"
    db.write_bytes(bytes(range(256)) * 64)
    return db


async def test_an_unusable_database_stops_run_and_chat_with_one_clear_line_and_exit_2(
        api: FakeBotApi, tmp_path: Path) -> None:
    cases: dict[str, tuple[Path, bool, str]] = {
        "unwritable location": (under_a_file(tmp_path), False, "not a directory"),
        "corrupt file": (garbage(tmp_path), False, "not an SQLite database"),
        "full disk": (tmp_path / "full" / "citizenbot.db", True, "disk"),
    }
    # Both doors, every fault, all at once (each is a separate process).
    runs = {(name, command): citizenbot(command, {"CITIZENBOT_DB": str(db)},
                                        api if command == "run" else None, small)
            for name, (db, small, _) in cases.items() for command in ("run", "chat")}
    results = dict(zip(runs, await asyncio.gather(*runs.values()), strict=True))
    for (name, command), (code, stderr) in results.items():
        db, _, reason = cases[name]
        assert code == EXIT_UNUSABLE, (name, command, stderr)
        message = the_message(stderr)
        assert reason in message and str(db.parent) in message, (name, command, message)
        print(f"{name:>20} / {command:<4}: {message}")
    assert api.calls == []  # refused before connecting to Telegram


async def test_a_locked_database_stops_run_and_chat_with_exit_2(api: FakeBotApi,
                                                                 tmp_path: Path) -> None:
    db = tmp_path / "citizenbot.db"
    async with await Store.open(db) as store:
        await store.log_enquiry(Enquiry("console", "", "console", "en", "q", "fallback", None,
                                        0.0, 1.0))
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # another process writing, and not letting go
        (run_code, run_err), (chat_code, chat_err) = await asyncio.gather(
            citizenbot("run", {"CITIZENBOT_DB": str(db)}, api),
            citizenbot("chat", {"CITIZENBOT_DB": str(db)}))
    finally:
        holder.close()
    for code, stderr in ((run_code, run_err), (chat_code, chat_err)):
        assert code == EXIT_UNUSABLE, stderr
        assert "locked by another process" in the_message(stderr)
    assert api.calls == []


async def test_a_broken_knowledge_base_is_refused_before_connecting_with_every_problem(
        api: FakeBotApi, make_kb: Callable[..., Path], tmp_path: Path) -> None:
    invented = GOOD_INTENT.replace("tax reduction and fee reduction", "free money for everyone")
    kb = make_kb(business=invented, smalltalk=SMALLTALK,
                 parks="area: parks\nintents:\n  - id: a: b\n    title: x\n")
    (kb / "talent.yml").write_bytes(b"area: talent\nintents: []\n# \xff\xfe not UTF-8\n")
    (kb / "plans.yml").mkdir()  # a directory where an intent file is expected
    missing = tmp_path / "no-such-kb"
    db = tmp_path / "data" / "citizenbot.db"

    (code, stderr), (missing_code, missing_err), (chat_code, chat_err) = await asyncio.gather(
        citizenbot("run", {"CITIZENBOT_INTENTS": str(kb), "CITIZENBOT_DB": str(db)}, api),
        citizenbot("run", {"CITIZENBOT_INTENTS": str(missing), "CITIZENBOT_DB": str(db)}, api),
        citizenbot("chat", {"CITIZENBOT_INTENTS": str(kb), "CITIZENBOT_DB": str(db)}))
    assert code == missing_code == chat_code == EXIT_UNUSABLE
    assert "Traceback" not in stderr + missing_err + chat_err
    problems = [line.strip() for line in stderr.splitlines() if line.strip().startswith("- ")]
    expected = {
        "parks.yml:3": "not valid YAML",  # the file and the line
        "business.yml": "not found word for word",
        "talent.yml": "cannot read the file",
        "plans.yml": "cannot read the file",
    }
    for where, what in expected.items():
        assert any(p.startswith(f"- {where}") and what in p for p in problems), (where, stderr)
    assert f"{len(problems)} problem(s)" in stderr
    assert chat_err == stderr  # the same list whichever door
    assert str(missing) in missing_err and "does not exist" in missing_err
    assert api.calls == []  # the bot never connected
    assert not db.exists()  # nor created a database
    print(textwrap.indent(stderr.strip(), "    "))


def test_the_store_names_an_io_error_as_a_possible_full_disk() -> None:
    from citizenbot.store.db import sqlite_reason  # the wording the message above relies on

    error = sqlite3.OperationalError("disk I/O error")
    error.sqlite_errorcode = sqlite3.SQLITE_IOERR_WRITE  # type: ignore[attr-defined]
    assert "full" in sqlite_reason(error)
