"""Running it for real: logs (text / JSON, secrets blanked), /healthz and /metrics in webhook
mode, the heartbeat and `citizenbot health`, the daily retention, SIGHUP reloads."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, ClientTimeout

from citizenbot.cli import main
from citizenbot.config import Settings, SettingsError, load_settings
from citizenbot.core.knowledge import default_directory
from citizenbot.core.responder import Responder
from citizenbot.logs import JsonFormatter, make_handler, protect_secrets
from citizenbot.metrics import Metrics
from citizenbot.model import Enquiry, StoreError
from citizenbot.ops import check_health, heartbeat_path
from citizenbot.store import Store
from citizenbot.telegram import app as telegram_app
from fake_bot_api import FakeBotApi
from harness import (
    ANN,
    ANSWERED,
    NONSENSE,
    ROOT,
    SALT,
    TOKEN,
    TOKEN_SECRET,
    Bot,
    eventually,
    free_port,
    make_service,
    running_bot,
)

SECRET = "s3cret_Token-1"


def old_enquiry(question: str, days: float) -> Enquiry:
    return Enquiry(transport="telegram", user_hash="cd" * 32, chat_type="private",
                   language="en", question=question, status="fallback", intent=None,
                   score=1.0, latency_ms=1.0, ts=datetime.now(UTC) - timedelta(days=days))


# --------------------------------------------------------------------------- settings

def test_log_format_and_admin_ids_settings() -> None:
    assert load_settings({}).log_format == "text"
    assert load_settings({}).admin_ids == frozenset()
    s = load_settings({"CITIZENBOT_LOG_FORMAT": "JSON", "ADMIN_IDS": " 42, 1001 ,,7"})
    assert (s.log_format, s.admin_ids) == ("json", frozenset({42, 1001, 7}))
    with pytest.raises(SettingsError, match="CITIZENBOT_LOG_FORMAT"):
        load_settings({"CITIZENBOT_LOG_FORMAT": "xml"})
    with pytest.raises(SettingsError, match="ADMIN_IDS"):
        load_settings({"ADMIN_IDS": "42,@staffer"})
    with pytest.raises(SettingsError, match="ADMIN_IDS"):
        load_settings({"ADMIN_IDS": "-5"})


# --------------------------------------------------------------------------- logs

def _record_through(handler: logging.Handler, emit: Any) -> str:
    logger = logging.getLogger("citizenbot.test_ops.logs")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    stream = handler.stream  # type: ignore[attr-defined]
    return str(stream.getvalue())


def test_json_logs_are_one_object_per_line_with_the_exception() -> None:
    def emit(logger: logging.Logger) -> None:
        logger.info("hello %s, 你好", "world")
        try:
            raise ValueError("it broke\nacross lines")
        except ValueError:
            logger.exception("failed with %d", 3)

    out = _record_through(make_handler("json", io.StringIO()), emit)
    lines = out.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert set(first) == {"ts", "level", "logger", "message"}
    assert first["message"] == "hello world, 你好" and first["level"] == "INFO"
    assert first["logger"] == "citizenbot.test_ops.logs"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["ts"])
    assert second["level"] == "ERROR" and second["message"] == "failed with 3"
    assert second["exception"].startswith("Traceback") and "it broke" in second["exception"]


def test_text_logs_are_the_default_plain_lines() -> None:
    out = _record_through(make_handler("text", io.StringIO()),
                          lambda logger: logger.warning("plain %s", "text"))
    assert re.fullmatch(r"\S+ \S+ WARNING citizenbot\.test_ops\.logs: plain text\n", out)
    with pytest.raises(ValueError):
        make_handler("xml")


def test_the_token_is_blanked_in_json_logs_too() -> None:
    secret = "777000111:JSON-log-secret_part_abcdefghijk"
    protect_secrets(secret)

    def emit(logger: logging.Logger) -> None:
        logger.debug("POST https://api.telegram.org/bot%s/getMe", secret)
        logger.info("escaped form %s", secret.replace(":", "%3A"))
        try:
            raise RuntimeError(f"connect failed for https://api.telegram.org/bot{secret}/x")
        except RuntimeError:
            logger.exception("request failed")
        try:
            raise RuntimeError("no secret in here")
        except RuntimeError:
            logger.error("second failure", exc_info=True)

    out = _record_through(make_handler("json", io.StringIO()), emit)
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 4
    assert "JSON-log-secret" not in out
    assert "<redacted>" in records[0]["message"] and "<redacted>" in records[1]["message"]
    assert "<redacted>" in records[2]["exception"]
    assert "no secret in here" in records[3]["exception"]


def test_json_formatter_keeps_a_stack() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None,
                               sinfo="Stack (most recent call last):\n  here")
    entry = json.loads(JsonFormatter().format(record))
    assert entry["stack"].endswith("here")


# --------------------------------------------------------------------------- metrics

def samples(text: str) -> dict[str, float]:
    """{'name{labels}': value} of a Prometheus text exposition; checks its shape."""
    values: dict[str, float] = {}
    families: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            families[name] = kind
            continue
        if line.startswith("#"):
            assert line.startswith("# HELP ")
            continue
        m = re.fullmatch(r'([a-z_]+)(\{[a-z]+="[^"]*"\})? (\S+)', line)
        assert m, line
        name = m.group(1)
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in families or base in families, line
        values[name + (m.group(2) or "")] = float(m.group(3))
    return values


def test_metrics_render_as_prometheus_text() -> None:
    metrics = Metrics()
    metrics.enquiries.labels("answered").inc()
    metrics.enquiries.labels("answered").inc()
    metrics.enquiries.labels("fallback").inc()
    for seconds in (0.004, 0.03, 0.2, 45.0):
        metrics.reply_latency.observe(seconds)
    metrics.errors.labels("telegram").inc()
    metrics.webhook_requests.labels("forbidden").inc()
    metrics.reloads.labels("failed").inc()
    text = metrics.render().decode()
    assert text.endswith("\n")
    values = samples(text)
    assert values['citizenbot_enquiries_total{status="answered"}'] == 2
    assert values['citizenbot_enquiries_total{status="clarify"}'] == 0  # there from the start
    assert values['citizenbot_enquiries_total{status="fallback"}'] == 1
    # Cumulative buckets: each counts every reply at most that slow.
    assert values['citizenbot_reply_latency_seconds_bucket{le="0.01"}'] == 1
    assert values['citizenbot_reply_latency_seconds_bucket{le="0.05"}'] == 2
    assert values['citizenbot_reply_latency_seconds_bucket{le="0.25"}'] == 3
    assert values['citizenbot_reply_latency_seconds_bucket{le="30.0"}'] == 3
    assert values['citizenbot_reply_latency_seconds_bucket{le="+Inf"}'] == 4
    assert values["citizenbot_reply_latency_seconds_count"] == 4
    assert values["citizenbot_reply_latency_seconds_sum"] == pytest.approx(45.234)
    assert values['citizenbot_errors_total{kind="telegram"}'] == 1
    assert values['citizenbot_errors_total{kind="handler"}'] == 0
    assert values['citizenbot_webhook_requests_total{outcome="forbidden"}'] == 1
    assert values['citizenbot_knowledge_base_reloads_total{result="failed"}'] == 1
    assert values["citizenbot_start_time_seconds"] == pytest.approx(time.time(), abs=60)
    assert "# TYPE citizenbot_reply_latency_seconds histogram" in text
    # Two bots in one process (the tests) count apart.
    assert samples(Metrics().render().decode())[
        'citizenbot_enquiries_total{status="answered"}'] == 0


# --------------------------------------------------------------------------- webhook server

@asynccontextmanager
async def webhook_bot(api: FakeBotApi, responder: Responder, tmp_path: Path,
                      **changes: Any) -> AsyncIterator[tuple[Bot, str]]:
    port = free_port()
    async with running_bot(api, responder, tmp_path, webhook_url=f"http://127.0.0.1:{port}",
                           webhook_port=port, webhook_path="telegram-hook",
                           webhook_secret=SECRET, **changes) as bot:
        yield bot, f"http://127.0.0.1:{port}"


async def get(url: str) -> tuple[int, str, str]:
    async with ClientSession(timeout=ClientTimeout(total=5)) as http, http.get(url) as r:
        return r.status, r.headers.get("Content-Type", ""), await r.text()


async def test_healthz_and_metrics_share_the_webhook_server(
        api: FakeBotApi, responder: Responder, tmp_path: Path) -> None:
    async with webhook_bot(api, responder, tmp_path) as (bot, base):
        assert await get(f"{base}/healthz") == (200, "text/plain; charset=utf-8", "ok\n")
        status, content_type, body = await get(f"{base}/metrics")
        assert status == 200 and content_type.startswith("text/plain; version=0.0.4")
        before = samples(body)
        assert before['citizenbot_enquiries_total{status="answered"}'] == 0
        assert before["citizenbot_reply_latency_seconds_count"] == 0

        api.send_text(ANN, ANSWERED)
        await api.next_message(ANN)
        api.send_text(ANN, NONSENSE)
        await api.next_message(ANN)
        api.fail("sendMessage", 400, "Bad Request: chat not found")
        api.send_text(ANN, ANSWERED)
        assert await api.post_to_webhook(api.make_update(message={}), "wrong") == 403

        async def figures() -> dict[str, float]:
            return samples((await get(f"{base}/metrics"))[2])

        async def settled() -> dict[str, float]:
            async with asyncio.timeout(5):
                while True:
                    now = await figures()
                    if now['citizenbot_errors_total{kind="telegram"}'] == 1 \
                            and now["citizenbot_reply_latency_seconds_count"] == 2:
                        return now
                    await asyncio.sleep(0.02)

        after = await settled()
        assert after['citizenbot_enquiries_total{status="answered"}'] == 2  # one not delivered
        assert after['citizenbot_enquiries_total{status="fallback"}'] == 1
        assert after['citizenbot_reply_latency_seconds_bucket{le="+Inf"}'] == 2
        assert 0 < after["citizenbot_reply_latency_seconds_sum"] < 10
        assert after['citizenbot_errors_total{kind="handler"}'] == 0
        assert after['citizenbot_webhook_requests_total{outcome="accepted"}'] == 3
        assert after['citizenbot_webhook_requests_total{outcome="forbidden"}'] == 1
        assert bot.rows("SELECT COUNT(*) FROM enquiries") == [(3,)]


async def test_the_webhook_refuses_what_is_not_an_update_from_telegram(
        api: FakeBotApi, responder: Responder, tmp_path: Path) -> None:
    async with webhook_bot(api, responder, tmp_path) as (bot, base):
        hook = f"{base}/telegram-hook"
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with ClientSession(timeout=ClientTimeout(total=5)) as http:
            async with http.get(hook) as r:
                assert r.status == 405
            async with http.post(hook, data=b"{not json", headers=headers) as r:
                assert r.status == 400
            async with http.post(hook, json=[1, 2], headers=headers) as r:
                assert r.status == 400
            async with http.post(hook, json={}, headers={
                    "X-Telegram-Bot-Api-Secret-Token": SECRET + "x"}) as r:
                assert r.status == 403
            async with http.post(hook, data=b"x" * (2 * 1024 * 1024), headers=headers) as r:
                assert r.status in (400, 413)
            async with http.get(f"{base}/elsewhere") as r:
                assert r.status == 404
        assert bot.metric("citizenbot_webhook_requests_total", outcome="bad_request") == 2
        assert bot.metric("citizenbot_webhook_requests_total", outcome="forbidden") == 1
        # and the bot still serves
        api.send_text(ANN, ANSWERED)
        assert "<blockquote>" in (await api.next_message(ANN)).html


async def test_healthz_says_unhealthy_when_the_database_does_not_answer(
        api: FakeBotApi, responder: Responder, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    async with webhook_bot(api, responder, tmp_path) as (bot, base):
        async def broken() -> None:
            raise StoreError("disk I/O error in the database at somewhere")

        monkeypatch.setattr(bot.store, "ping", broken)
        assert await get(f"{base}/healthz") == (
            503, "text/plain; charset=utf-8", "unhealthy: the database does not answer\n")


async def test_a_reserved_webhook_path_is_refused(api: FakeBotApi, responder: Responder,
                                                  tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="healthz"):
        async with running_bot(api, responder, tmp_path, webhook_url="http://127.0.0.1:1",
                               webhook_port=free_port(), webhook_path="metrics",
                               webhook_secret=SECRET):
            pass


# --------------------------------------------------------------------------- housekeeping

async def test_the_jobs_beat_and_purge_on_schedule(api: FakeBotApi, responder: Responder,
                                                   tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(telegram_app, "HEARTBEAT_EVERY", 0.05)
    monkeypatch.setattr(telegram_app, "PURGE_EVERY", 0.1)
    db = tmp_path / "citizenbot.db"
    async with await Store.open(db) as store:
        await store.log_enquiry(old_enquiry("very old", 40))
        await store.log_enquiry(old_enquiry("recent", 1))
    async with running_bot(api, responder, tmp_path, retention_days=30) as bot:
        await eventually(lambda: bot.rows("SELECT question FROM enquiries") == [("recent",)])
        beat = heartbeat_path(db)
        assert beat.is_file() and (beat.stat().st_mode & 0o777) == 0o600
        first = beat.stat().st_mtime_ns
        await bot.store.log_enquiry(old_enquiry("old too", 31))  # the next round gets it
        await eventually(lambda: bot.rows("SELECT COUNT(*) FROM enquiries") == [(1,)])
        await eventually(lambda: beat.stat().st_mtime_ns > first)
    assert not beat.exists()  # a stopped bot is not a stuck one


async def test_no_retention_means_no_purge_and_a_failing_job_is_survived(
        api: FakeBotApi, responder: Responder, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(telegram_app, "PURGE_EVERY", 0.05)
    async with running_bot(api, responder, tmp_path) as bot:  # retention 0: keep forever
        await bot.store.log_enquiry(old_enquiry("very old", 4000))
        await asyncio.sleep(0.2)
        assert bot.rows("SELECT COUNT(*) FROM enquiries") == [(1,)]
    async with running_bot(api, responder, tmp_path, retention_days=10) as bot:
        async def locked(days: int) -> None:
            raise StoreError("the database is locked by another process")

        monkeypatch.setattr(bot.store, "purge", locked)
        # The job's error reaches the error handler, is logged and counted; the bot serves on.
        await eventually(lambda: any("job 'retention" in r.getMessage() and "failed" in
                                     r.getMessage()
                                     for r in caplog.records))
        assert bot.metric("citizenbot_errors_total", kind="handler") >= 1
        api.send_text(ANN, ANSWERED)
        assert "<blockquote>" in (await api.next_message(ANN)).html


async def test_the_running_bot_applies_retention_at_start_and_keeps_a_heartbeat(
        api: FakeBotApi, responder: Responder, tmp_path: Path) -> None:
    db = tmp_path / "citizenbot.db"
    async with await Store.open(db) as store:
        await store.log_enquiry(old_enquiry("from last year", 400))
        await store.log_enquiry(old_enquiry("from last week", 7))
    async with running_bot(api, responder, tmp_path, retention_days=30) as bot:
        await eventually(lambda: bot.rows("SELECT question FROM enquiries") == [
            ("from last week",)])
        assert heartbeat_path(db).is_file()
        assert check_health(db)[0] is True
    assert not heartbeat_path(db).exists()


# --------------------------------------------------------------------------- citizenbot health

def test_health_checks_the_database_and_the_heartbeat(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "data" / "citizenbot.db"
    healthy, why = check_health(db)
    assert not healthy and "no database" in why
    assert not db.exists()  # looking never creates it

    asyncio.run(_create(db))
    healthy, why = check_health(db)
    assert healthy and "no bot heartbeat" in why

    beat = heartbeat_path(db)
    beat.write_text("now")
    assert check_health(db)[0]
    stale = time.time() - 301
    os.utime(beat, (stale, stale))
    healthy, why = check_health(db)
    assert not healthy and "heartbeat" in why and "stuck" in why
    assert check_health(db, max_heartbeat_age=600)[0]

    assert main(["health", "--db", str(db)]) == 1
    assert "unhealthy" in capsys.readouterr().err
    beat.touch()
    assert main(["health", "--db", str(db)]) == 0
    assert capsys.readouterr().out.startswith("ok: ")

    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    healthy, why = check_health(garbage)
    assert not healthy and "garbage.db" in why


def test_health_notices_a_corrupt_database(tmp_path: Path) -> None:
    db = tmp_path / "citizenbot.db"
    asyncio.run(_create(db, rows=300))
    with sqlite3.connect(db) as con:
        page_size = con.execute("PRAGMA page_size").fetchone()[0]
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    data = bytearray(db.read_bytes())
    assert len(data) > 4 * page_size
    # Scribble over an interior page (not the header): the file still opens, the check fails.
    data[2 * page_size + 8: 3 * page_size - 8] = b"\xff" * (page_size - 16)
    db.write_bytes(bytes(data))
    healthy, why = check_health(db)
    assert not healthy and ("quick check" in why or "cannot read" in why)


async def _create(db: Path, rows: int = 0) -> None:
    store = await Store.open(db)
    for i in range(rows):
        await store.log_enquiry(old_enquiry(f"question {i} " + "padding " * 20, 1))
    await store.close()


# --------------------------------------------------------------------------- the real process

async def test_a_running_bot_logs_json_reloads_on_sighup_and_is_healthy(
        api: FakeBotApi, tmp_path: Path) -> None:
    """`python bot.py` as deployed: JSON logs with the token blanked, SIGHUP reloads (a broken
    knowledge base is refused and the old one keeps serving), `citizenbot health` passes."""
    directory = tmp_path / "kb"
    shutil.copytree(default_directory(), directory)
    db = tmp_path / "data" / "citizenbot.db"
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api.base_url,
           "CITIZENBOT_DB": str(db), "CITIZENBOT_LOG_LEVEL": "DEBUG",
           "CITIZENBOT_LOG_FORMAT": "json", "CITIZENBOT_INTENTS": str(directory),
           "CITIZENBOT_RETENTION_DAYS": "30", "CITIZENBOT_SALT": SALT}
    log_path = tmp_path / "bot.log"

    def log_text() -> str:
        return log_path.read_text(encoding="utf-8", errors="replace")

    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "bot.py"), cwd=tmp_path, env=env,
            stdout=log_file, stderr=log_file)
        try:
            await eventually(lambda: bool(api.calls_of("getUpdates"))
                             or process.returncode is not None, timeout=20)
            assert process.returncode is None, log_text()[-3000:]
            api.send_text(ANN, ANSWERED)
            assert "<blockquote>" in (await api.next_message(ANN, timeout=10)).html
            await eventually(lambda: heartbeat_path(db).is_file(), timeout=10)
            health = subprocess.run(
                [sys.executable, "-m", "citizenbot.cli", "health", "--db", str(db)],
                capture_output=True, text=True, timeout=30, cwd=tmp_path, env=env, check=False)
            assert health.returncode == 0, health.stderr
            assert "heartbeat" in health.stdout

            # A broken file: SIGHUP is refused and logged; the old knowledge base serves on.
            (directory / "broken.yml").write_text("area: business\nintents: [\n")
            process.send_signal(signal.SIGHUP)
            await eventually(lambda: "kept the previous knowledge base" in log_text(),
                             timeout=15)
            assert process.returncode is None
            api.send_text(ANN, ANSWERED)
            assert "<blockquote>" in (await api.next_message(ANN, timeout=10)).html

            # Fixed, with a new example: SIGHUP swaps it in.
            (directory / "broken.yml").unlink()
            business = directory / "business.yml"
            business.write_text(business.read_text(encoding="utf-8").replace(
                "        - one stop service\n",
                "        - one stop service\n        - zorblax frobnication permit\n", 1),
                encoding="utf-8")
            process.send_signal(signal.SIGHUP)
            await eventually(lambda: "now serving the knowledge base" in log_text(),
                             timeout=15)
            api.send_text(ANN, "zorblax frobnication permit")
            assert "<blockquote>" in (await api.next_message(ANN, timeout=10)).html

            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(10):
                assert await process.wait() == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert not heartbeat_path(db).exists()
    output = log_text()
    assert TOKEN_SECRET not in output
    records = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert all({"ts", "level", "logger", "message"} <= set(r) for r in records)
    messages = [r["message"] for r in records]
    assert any("<redacted>" in m for m in messages)  # DEBUG shows the Bot API URLs
    assert any(m.startswith("SIGHUP: reloading") for m in messages)
    assert any(m.startswith("retention: deleted 0 enquiries") for m in messages)
    failed = next(r for r in records if "kept the previous knowledge base" in r["message"])
    assert failed["level"] == "ERROR" and "broken.yml" in failed["message"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM enquiries").fetchone() == (3,)


# --------------------------------------------------------------------------- build without start

async def test_build_application_registers_the_staff_commands(responder: Responder,
                                                               tmp_path: Path) -> None:
    from telegram.ext import CommandHandler

    async with await Store.open(":memory:") as store:
        settings = Settings(token=TOKEN, db_path=tmp_path / "x.db")
        app = telegram_app.build_application(settings, make_service(responder, store,
                                                                    settings.db_path))
    commands = {c for handlers in app.handlers.values() for h in handlers
                if isinstance(h, CommandHandler) for c in h.commands}
    assert {"stats", "unanswered", "reload"} <= commands
