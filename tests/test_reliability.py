"""Nothing lost, nothing doubled: the writer, the inbox, deliveries, and what staff are shown.

The stories here run the bot in this process against the fake Bot API; the ones that need a
real fault of the machine (SIGKILL, a full filesystem, a second process) are in
tests/test_faults_real.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from citizenbot.config import SettingsError, load_settings
from citizenbot.core.knowledge import KnowledgeBase
from citizenbot.core.responder import Responder
from citizenbot.model import MAX_QUESTION_CHARS, StoreError, Ticket, TicketStatus
from citizenbot.service.inbox import UpdateInbox
from citizenbot.store import Journal, Store, journal_path
from citizenbot.store.db import Database, Tx
from citizenbot.tickets import staff_card
from fake_bot_api import FakeBotApi
from harness import ANN, ANSWERED, NONSENSE, SALT, Bot, Cli, eventually, free_port, running_bot, t
from test_tickets import STAFF, WANG, hand_over, open_staff_chat, staffed_bot, tickets

ANSWER = "The service hall on Jingshi Road opens at 9."


# --------------------------------------------------------------------------- the writer

async def test_concurrent_writes_share_transactions_and_one_failure_stays_its_own(
        tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "w.db") as db:
        await db.write("make", lambda tx: tx.execute("CREATE TABLE t (n INTEGER UNIQUE)"))
        before = db.batches

        async def insert(n: int) -> None:
            async def work(tx: Tx) -> None:
                await tx.execute("INSERT INTO t (n) VALUES (?)", (n,))
            await db.write("insert", work)

        # 0 twice: the second one breaks the UNIQUE rule, and only it fails.
        outcomes = await asyncio.gather(*(insert(n) for n in [*range(200), 0]),
                                        return_exceptions=True)
        assert [type(o).__name__ for o in outcomes if o is not None] == ["StoreError"]
        assert await db.read("count", lambda tx: tx.scalar("SELECT COUNT(*) FROM t")) == 200
        assert db.batches - before < 20  # group commit: far fewer transactions than writes


async def test_a_database_replaced_under_the_writer_is_not_written_into_the_void(
        tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    async with await Database.open(path) as db:
        await db.write("make", lambda tx: tx.execute("CREATE TABLE t (n INTEGER)"))
        other = tmp_path / "other.db"
        sqlite3.connect(other).close()
        os.replace(other, path)  # restored from a backup, say, while the bot runs
        with pytest.raises(StoreError, match="replaced"):
            await db.write("insert", lambda tx: tx.execute("INSERT INTO t VALUES (1)"))
        assert db.trouble is not None and "replaced" in db.trouble


async def test_a_locked_database_delays_a_batch_not_every_message(
        bot: Bot, api: FakeBotApi) -> None:
    users = [FakeBotApi.user(5_000 + n, f"U{n}", "en") for n in range(20)]
    other = sqlite3.connect(bot.settings.db_path, timeout=1)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock meanwhile
    try:
        started = time.monotonic()
        for user in users:
            api.send_text(user, ANSWERED)
        replies = await asyncio.gather(*(api.next_message(u, timeout=15) for u in users))
        took = time.monotonic() - started
    finally:
        other.rollback()
        other.close()
    assert all("one-stop" in r.text.lower() or "“" in r.text for r in replies)
    # Before: one message per 5 s busy timeout, under one lock (100 s for these 20).
    print(f"20 questions while locked: all answered in {took:.1f} s")
    assert took < 8, took
    service = bot.services.service
    assert service.journaled + len(bot.rows("SELECT id FROM enquiries")) == 20


async def test_journaled_enquiries_come_home_once_the_database_takes_writes(
        bot: Bot, api: FakeBotApi) -> None:
    from citizenbot.telegram.app import bring_journal_home

    other = sqlite3.connect(bot.settings.db_path, timeout=1)
    other.execute("BEGIN IMMEDIATE")
    try:
        api.send_text(ANN, ANSWERED)
        await api.next_message(ANN, timeout=10)
    finally:
        other.rollback()
        other.close()
    assert bot.services.service.journaled == 1
    assert bot.app.job_queue is not None
    bot.app.job_queue.run_once(bring_journal_home, 0)
    journal = bot.services.service.journal
    assert journal is not None and journal.waiting == 1
    # The rows are committed before the journal's lines are blanked (so a crash between the
    # two imports nothing twice): wait for both, not the row alone.
    await eventually(lambda: len(bot.rows("SELECT id FROM enquiries")) == 1
                     and journal.waiting == 0, 10)


async def test_a_deleted_database_is_noticed_and_its_enquiries_are_journaled(
        bot: Bot, api: FakeBotApi, caplog: pytest.LogCaptureFixture) -> None:
    api.send_text(ANN, ANSWERED)
    await api.next_message(ANN)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{bot.settings.db_path}{suffix}").unlink(missing_ok=True)
    with caplog.at_level(logging.CRITICAL):
        for _ in range(10):
            api.send_text(ANN, ANSWERED)
            await api.next_message(ANN)
    store = bot.services.service.storage
    assert store is not None and store.trouble is not None and "deleted" in store.trouble
    assert bot.services.service.journaled == 10
    assert any("cannot take writes" in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------- the inbox

async def test_an_update_is_stored_before_it_is_confirmed_and_done_once_answered(
        bot: Bot, api: FakeBotApi) -> None:
    seen_at_confirmation: list[list[tuple[Any, ...]]] = []

    async def on_poll(params: dict[str, Any]) -> None:
        if int(params.get("offset") or 0) > api.last_update_id > 0 and not seen_at_confirmation:
            seen_at_confirmation.append(bot.rows(
                "SELECT update_id FROM inbox WHERE update_id = ?", api.last_update_id))

    api.hooks["getUpdates"] = on_poll
    api.send_text(ANN, ANSWERED)
    await api.next_message(ANN)
    await api.wait_confirmed()
    assert seen_at_confirmation == [[(api.last_update_id,)]]
    await eventually(lambda: bot.rows("SELECT state, payload FROM inbox WHERE update_id = ?",
                                      api.last_update_id) == [("done", None)])


async def test_updates_left_at_a_crash_are_answered_at_the_next_start_and_only_those(
        api: FakeBotApi, responder: Responder, tmp_path: Path) -> None:
    async with running_bot(api, responder, tmp_path) as bot:
        store = bot.store
    # What a killed process leaves: one update stored and not begun, one whose reply was on
    # its way, as the inbox holds them.
    async with await Store.open(tmp_path / "citizenbot.db") as store:
        inbox = UpdateInbox(store, SALT)
        waiting = api.make_update(message={
            "message_id": 1, "date": int(time.time()), "text": ANSWERED, "from": ANN,
            "chat": {"id": ANN["id"], "type": "private", "first_name": "Ann"}})
        api._chat(waiting["message"]["chat"])
        import json
        await inbox.receive([(waiting["update_id"], json.dumps(waiting)),
                             (waiting["update_id"] + 1, json.dumps(waiting))])
        await store.mark_answering(waiting["update_id"] + 1)
    async with running_bot(api, responder, tmp_path) as bot:
        reply = await api.next_message(ANN)
        assert "“" in reply.text
        await eventually(lambda: bot.rows("SELECT state FROM inbox ORDER BY update_id") ==
                         [("done",), ("interrupted",)])
        await asyncio.sleep(0.3)
        assert api.unread(ANN) == []  # the interrupted one is not answered a second time
    assert store is not None


async def test_a_repeated_update_id_is_answered_once(bot: Bot, api: FakeBotApi) -> None:
    update = api.make_update(message={
        "message_id": 7, "date": int(time.time()), "text": ANSWERED, "from": ANN,
        "chat": {"id": ANN["id"], "type": "private", "first_name": "Ann"}})
    api._chat(update["message"]["chat"])
    api._updates.append(update)
    api._notify()
    await api.next_message(ANN)
    await api.wait_confirmed()
    api._updates.append(dict(update))  # Telegram sends it again (its confirmation was lost)
    api._notify()
    await api.wait_confirmed()
    await asyncio.sleep(0.3)
    assert api.unread(ANN) == []
    assert len(bot.rows("SELECT id FROM enquiries")) == 1


async def test_the_webhook_stores_before_200_ignores_repeats_and_incomplete_updates(
        api: FakeBotApi, responder: Responder, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    secret = "s3cret_Token-1"
    async with running_bot(api, responder, tmp_path, webhook_url=f"http://127.0.0.1:{port}",
                           webhook_port=port, webhook_path="hook", webhook_secret=secret) as bot:
        chat = {"id": ANN["id"], "type": "private", "first_name": "Ann"}
        api._chat(chat)
        update = api.make_update(message={"message_id": 1, "date": int(time.time()),
                                          "text": ANSWERED, "from": ANN, "chat": chat})
        assert await api.post_to_webhook(update, secret) == 200
        assert bot.rows("SELECT update_id FROM inbox") == [(update["update_id"],)]
        assert await api.post_to_webhook(update, secret) == 200  # the same update again
        await api.next_message(ANN)
        # With the secret but without a sender: accepted, and nothing raises.
        anonymous = api.make_update(message={"message_id": 2, "date": int(time.time()),
                                             "text": ANSWERED, "chat": chat})
        with caplog.at_level(logging.ERROR):
            assert await api.post_to_webhook(anonymous, secret) == 200
            await eventually(lambda: bot.rows(
                "SELECT state FROM inbox WHERE update_id = ?", anonymous["update_id"]) ==
                [("done",)])
        await asyncio.sleep(0.3)
        assert api.unread(ANN) == []
        assert len(bot.rows("SELECT id FROM enquiries")) == 1
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_memory_per_user_is_let_go(bot: Bot, api: FakeBotApi) -> None:
    users = [FakeBotApi.user(900_000 + n, f"P{n}", "en") for n in range(300)]
    for user in users:
        api.send_text(user, "/start")
    await asyncio.gather(*(api.next_message(u, timeout=20) for u in users))
    await asyncio.sleep(0.2)
    app = bot.app
    assert len(app.user_data) == 0 and len(app.chat_data) == 0
    for name in ("_user_ids_to_be_updated_in_persistence", "_chat_ids_to_be_updated_in_persistence",
                 "_user_ids_to_be_deleted_in_persistence", "_chat_ids_to_be_deleted_in_persistence"):
        assert len(getattr(app, name)) < 10, name  # the last updates' notes, not one per user


# --------------------------------------------------------------------------- tickets

async def test_a_burst_of_sends_is_recorded_at_once_not_behind_the_staff_chat_limit(
        api: FakeBotApi, responder: Responder, kb: KnowledgeBase, tmp_path: Path) -> None:
    async with staffed_bot(api, responder, tmp_path) as bot:
        await open_staff_chat(api)
        people = [FakeBotApi.user(600_000 + n, f"C{n}", "en") for n in range(40)]
        for person in people:
            api.send_text(person, NONSENSE)
        fallbacks = await asyncio.gather(*(api.next_message(p) for p in people))
        for person, fallback in zip(people, fallbacks, strict=True):
            api.press(person, fallback, fallback.data(kb.text("tickets.buttons.ask", "en")))
        confirms = await asyncio.gather(*(api.next_message(p) for p in people))
        started = time.monotonic()
        for person, confirm in zip(people, confirms, strict=True):
            api.press(person, confirm, confirm.data(kb.text("tickets.buttons.send", "en")))
        told = await asyncio.gather(*(api.next_message(p, timeout=20) for p in people))
        # Before: each Send waited its turn in the staff chat (20 cards a minute): the last
        # confirmation came after a minute. Now every ticket is on disk within seconds.
        assert time.monotonic() - started < 10
        assert {m.text.split()[2] for m in told} == {f"Q-{n:06d}" for n in range(1, 41)}
        assert len(tickets(bot)) == 40


async def test_a_lost_response_does_not_make_a_quick_second_copy_but_a_5xx_is_retried(
        api: FakeBotApi, responder: Responder, kb: KnowledgeBase, tmp_path: Path) -> None:
    async with staffed_bot(api, responder, tmp_path) as bot:
        await open_staff_chat(api)
        await hand_over(api, kb)
        card = await api.next_message(STAFF)
        await eventually(lambda: tickets(bot, "staff_message_id") == [(card.message_id,)])
        desk, messenger = bot.services.desk, bot.services.messenger
        # The answer reaches the citizen but Telegram's response is lost on the way back.
        api.drop("sendMessage", after=True)
        api.send_text(WANG, ANSWER, chat=STAFF, reply_to=card)
        delivered = await api.next_message(ANN)
        assert ANSWER in delivered.text
        await api.next_message(STAFF)  # "delayed"
        for _ in range(3):  # the delivery rounds that follow send no second copy
            await desk.deliver_waiting(messenger)
        assert [m for m in api.unread(ANN) if ANSWER in m.text] == []
        assert tickets(bot, "status") == [("open",)]  # kept, claimed until the lease ends

        # A 502: Telegram did not take it, so the next round sends it, once.
        await hand_over(api, kb, question=NONSENSE + " again")
        second = await api.next_message(STAFF)
        await eventually(lambda: len(tickets(bot, "staff_message_id")) == 2
                         and tickets(bot, "staff_message_id")[1] == (second.message_id,))
        api.fail("sendMessage", 502, "Bad Gateway")
        api.send_text(WANG, ANSWER, chat=STAFF, reply_to=second)
        await api.next_message(STAFF)  # "delayed"
        await desk.deliver_waiting(messenger)
        await desk.deliver_waiting(messenger)
        copies = [m for m in api.sent if m.chat_id == ANN["id"] and ANSWER in m.text]
        assert len(copies) == 2  # the first ticket's once, the second's once
        assert tickets(bot, "status") == [("open",), ("answered",)]


async def test_a_second_card_of_a_ticket_still_answers_it(
        api: FakeBotApi, responder: Responder, kb: KnowledgeBase, tmp_path: Path) -> None:
    async with staffed_bot(api, responder, tmp_path):
        await open_staff_chat(api)
        api.drop("sendMessage", after=True, times=1)  # not the citizen's: the card is next...
        api.send_text(ANN, NONSENSE)
        fallback = await api.next_message(ANN)
        api.press(ANN, fallback, fallback.data(kb.text("tickets.buttons.ask", "en")))
        confirm = await api.next_message(ANN)
        api.clear_faults()
        api.drop("sendMessage", after=True, times=1)  # ...the card: it arrives, no answer
        api.press(ANN, confirm, confirm.data(kb.text("tickets.buttons.send", "en")))
        first = await api.next_message(STAFF)
        await api.next_message(ANN)
    async with staffed_bot(api, responder, tmp_path) as bot:  # posted again at the next start
        second = await api.next_message(STAFF)
        assert "Q-000001" in first.text and "Q-000001" in second.text
        api.send_text(WANG, ANSWER, chat=STAFF, reply_to=first)  # staff answer the first copy
        assert ANSWER in (await api.next_message(ANN)).text
        await eventually(lambda: tickets(bot) == [(1, "answered")])


async def test_ask_confirms_what_staff_get_and_says_it_was_cut(
        api: FakeBotApi, responder: Responder, kb: KnowledgeBase, tmp_path: Path) -> None:
    long_question = ("How do I register a company in the financial park? " * 100)[:4719]
    async with staffed_bot(api, responder, tmp_path) as bot:
        await open_staff_chat(api)
        api.send_text(ANN, f"/ask {long_question}")
        confirm = await api.next_message(ANN)
        shown = long_question[:MAX_QUESTION_CHARS].rstrip()
        assert shown in confirm.text and long_question[:MAX_QUESTION_CHARS + 10] not in confirm.text
        assert t(kb, "tickets.cut", limit=MAX_QUESTION_CHARS) in confirm.text
        api.press(ANN, confirm, confirm.data(kb.text("tickets.buttons.send", "en")))
        await api.next_message(ANN)
        assert tickets(bot, "question") == [(shown,)]


async def test_send_works_when_the_confirmations_response_was_lost(
        api: FakeBotApi, responder: Responder, kb: KnowledgeBase, tmp_path: Path) -> None:
    async with staffed_bot(api, responder, tmp_path) as bot:
        await open_staff_chat(api)
        api.drop("sendMessage", after=True)
        api.send_text(ANN, "/ask Where is the tax office?")
        confirm = await api.next_message(ANN)  # it arrived; the bot never heard so
        api.press(ANN, confirm, confirm.data(kb.text("tickets.buttons.send", "en")))
        told = await api.next_message(ANN)
        assert told.text == t(kb, "tickets.sent", ref="Q-000001")
        assert tickets(bot, "question") == [("Where is the tax office?",)]


def test_staff_see_no_bidi_overrides_or_control_characters(kb: KnowledgeBase) -> None:
    ticket = Ticket(id=1, ts="2026-01-01T00:00:00+00:00", user_hash="u" * 64, chat_id=1,
                    language="en", question="pay \u202eetis siht\u202c now\x00\x1b[31m!",
                    enquiry_id=None, status=TicketStatus.OPEN, staff_chat_id=None,
                    staff_message_id=None, forward_error=None, answer=None, answered_via=None,
                    answer_ts=None, claim_ts=None, closed_ts=None, note=None)
    text = "".join(span.text for block in staff_card(ticket, kb, "en") for span in block)
    assert "etis siht" in text
    assert not any(c in text for c in "\u202e\u202c\x00\x1b")


# --------------------------------------------------------------------------- files and settings

def test_a_short_salt_from_the_environment_is_refused() -> None:
    with pytest.raises(SettingsError, match="CITIZENBOT_SALT"):
        load_settings({"CITIZENBOT_SALT": "a"})
    assert load_settings({"CITIZENBOT_SALT": SALT}).salt == SALT


def test_export_and_report_write_owner_only_files_and_refuse_symlinks(
        cli: Cli, tmp_path: Path) -> None:
    assert cli("answer", "--log", stdin="one stop service\n").code == 0
    existing = tmp_path / "out.csv"
    existing.write_text("old")
    existing.chmod(0o644)
    assert cli("export", "--out", str(existing)).code == 0
    assert stat.S_IMODE(existing.stat().st_mode) == 0o600
    target = tmp_path / "elsewhere.html"
    target.write_text("keep me")
    link = tmp_path / "report.html"
    link.symlink_to(target)
    assert cli("report", "--out", str(link)).code == 2
    assert target.read_text() == "keep me"
    for path in (tmp_path / "log.db", journal_path(tmp_path / "log.db")):
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600


def corrupt(db: Path) -> None:
    """One page of ``db`` overwritten with garbage, its header intact."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(db.read_bytes())
    assert len(data) > 4 * size
    data[2 * size:3 * size] = os.urandom(size)
    db.write_bytes(bytes(data))


def test_a_corrupt_database_gives_one_line_and_exit_2_in_every_command(
        cli: Cli, tmp_path: Path) -> None:
    questions = "\n".join(f"one stop service {n} " + "x" * 300 for n in range(200)) + "\n"
    assert cli("answer", "--log", stdin=questions).code == 0
    corrupt(tmp_path / "log.db")
    for args in (["stats"], ["report", "--out", str(tmp_path / "r.html")], ["export"],
                 ["tickets"], ["purge", "--older-than", "30"], ["backup", str(tmp_path / "b")],
                 ["reply", "Q-1", "hello"], ["answer", "--log"], ["chat"],
                 ["suggest"]):
        ran = cli(*args, stdin="hello\n")
        assert ran.code == 2, (args, ran)
        lines = [line for line in ran.err.splitlines() if line.strip()]
        assert len(lines) == 1 and ("corrupt" in lines[0] or "malformed" in lines[0]), (args, ran)
        assert "Traceback" not in ran.err


async def test_the_journal_and_health_say_loudly_when_writes_fail(
        bot: Bot, api: FakeBotApi) -> None:
    from citizenbot.ops import check_health
    from citizenbot.telegram.app import problems

    api.send_text(ANN, ANSWERED)
    await api.next_message(ANN)
    Path(bot.settings.db_path).unlink()
    api.send_text(ANN, ANSWERED)
    await api.next_message(ANN)
    found = problems(bot.services)
    assert any("cannot take writes" in p for p in found)
    assert any("wait in the journal" in p for p in found)
    heartbeat = bot.services.heartbeat
    assert heartbeat is not None
    heartbeat.beat(found)
    bot.settings.db_path.write_bytes(b"")  # health needs a file to look at
    healthy, why = check_health(bot.settings.db_path)
    assert not healthy and "cannot take writes" in why
    assert isinstance(bot.services.service.journal, Journal)
