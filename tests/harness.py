"""The shared test harness: the bot as `citizenbot run` starts it, the users who talk to it, and
the command line run in this process.

The Telegram stories run the real python-telegram-bot Application over real HTTP against
tests/fake_bot_api.py on 127.0.0.1 (the `api` fixture in conftest.py), and read the enquiry log
from disk as `citizenbot stats` would.
"""

from __future__ import annotations

import asyncio
import io
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from citizenbot import callback_data as cb
from citizenbot.cli import main
from citizenbot.config import Settings
from citizenbot.core.knowledge import KnowledgeBase
from citizenbot.core.responder import Reply, Responder
from citizenbot.service import Service
from citizenbot.store import Journal, Store, journal_path
from citizenbot.telegram.app import build_application, start_bot, stop_bot
from citizenbot.telegram.common import BotApp, BotServices, services_of
from citizenbot.texts import fill
from fake_bot_api import FakeBotApi

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "4242424242:TEST-token_for_citizenbot_fake_api"
TOKEN_SECRET = TOKEN.split(":")[1]
SALT = "c0ffee" * 8
KEY = cb.derive_key(SALT)
ANSWERED = "one stop service"  # -> one-stop-service
NONSENSE = "xyzzy blorp quux"
AMBIGUOUS = ("park", "industrial park", "tax", "services", "innovation", "financial park")
OUR_PREFIXES = ("CITIZENBOT_", "TELEGRAM_", "STAFF_", "ADMIN_")

ANN = FakeBotApi.user(1001, "Ann", "en")
BOB = FakeBotApi.user(1002, "Bob", "en")
LI = FakeBotApi.user(1003, "Li", "zh-hans")


# --------------------------------------------------------------------------- the running bot

@dataclass
class Bot:
    api: FakeBotApi
    app: BotApp
    store: Store
    settings: Settings

    @property
    def services(self) -> BotServices:
        return services_of(self.app)

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the enquiry log as it is on disk (a second connection, like `citizenbot stats`)."""
        with sqlite3.connect(self.settings.db_path) as db:
            return db.execute(sql, params).fetchall()

    def metric(self, name: str, **labels: str) -> float:
        """One figure as /metrics shows it (0 if it has no sample yet)."""
        return self.services.metrics.registry.get_sample_value(name, labels) or 0.0

    def reloads(self, result: str) -> float:
        return self.metric("citizenbot_knowledge_base_reloads_total", result=result)


def make_service(responder: Responder, store: Store, db_path: Path) -> Service:
    return Service(responder, store, salt=SALT, journal=Journal(journal_path(db_path)))


@asynccontextmanager
async def running_bot(api: FakeBotApi, responder: Responder, tmp_path: Path,
                      **changes: Any) -> AsyncIterator[Bot]:
    """The bot, started exactly as `citizenbot run` starts it, until the block ends."""
    settings = Settings(token=TOKEN, api_url=api.base_url, db_path=tmp_path / "citizenbot.db",
                        salt=SALT, **changes)
    store = await Store.open(settings.db_path)
    try:
        app = build_application(settings, make_service(responder, store, settings.db_path))
        async with asyncio.timeout(10):
            await start_bot(app)
        try:
            yield Bot(api, app, store, settings)
        finally:
            async with asyncio.timeout(10):
                await stop_bot(app)
    finally:
        await store.close()


async def eventually(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


def ambiguous_question(responder: Responder) -> tuple[str, Reply]:
    for question in AMBIGUOUS:
        reply = responder.respond(question, "en")
        if reply.status == "clarify" and len(reply.options) >= 2:
            return question, reply
    raise AssertionError(f"none of {AMBIGUOUS} asks 'did you mean' any more; update the list")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def t(kb: KnowledgeBase, key: str, lang: str = "en", **values: object) -> str:
    """A text as the bot shows it."""
    return fill(kb.text(key, lang), **values)


async def fill_disk(store: Store) -> None:
    """SQLite's own "database or disk is full" from now on: not one more page on this store's
    connection, as when the disk fills up."""
    conn = store._db._conn
    assert conn is not None
    pages = (await (await conn.execute("PRAGMA page_count")).fetchone())[0]
    await conn.execute(f"PRAGMA max_page_count = {pages}")


# --------------------------------------------------------------------------- the command line

@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


class Cli:
    """`citizenbot ARGS` run in this process through cli.main, as a member of staff runs it:
    with these settings in the environment, from this directory, with this standard input."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
                 cwd: Path, env: dict[str, str]) -> None:
        self.monkeypatch = monkeypatch
        self.capfd = capfd
        self.cwd = cwd
        self.env = dict(env)

    def __call__(self, *args: str, stdin: str | bytes = "", **env: str) -> Ran:
        for name in [n for n in os.environ if n.startswith(OUR_PREFIXES)]:
            self.monkeypatch.delenv(name)
        for name, value in {**self.env, **env}.items():
            self.monkeypatch.setenv(name, value)
        self.monkeypatch.chdir(self.cwd)
        data = stdin.encode() if isinstance(stdin, str) else stdin
        self.monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
        self.capfd.readouterr()
        try:
            code = main(list(args))
        except SystemExit as stop:  # argparse: --help, or a usage error
            code = stop.code if isinstance(stop.code, int) else 2
        sys.stdout.flush()
        out, err = self.capfd.readouterr()
        return Ran(code, out, err)


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment of a `citizenbot` child process: ours removed, ``extra`` added."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(OUR_PREFIXES)}
    return {**base, **extra}


def run_subprocess(args: list[str], stdin: str | bytes = "", cwd: Path = ROOT,
                   **env: str) -> subprocess.CompletedProcess[bytes]:
    """`citizenbot ARGS` (or `python bot.py`, for args[0] == "bot.py") as its own process."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    command = ([sys.executable, str(ROOT / "bot.py"), *args[1:]] if args[0] == "bot.py"
               else [sys.executable, "-m", "citizenbot.cli", *args])
    return subprocess.run(command, input=data, capture_output=True, timeout=60,
                          env=subprocess_env(**env), cwd=cwd)
