"""Faults from Telegram: 429 "retry after", 500s, slow answers and dropped connections.

What must hold whatever Telegram does: the bot keeps running, waits as flood control asks,
never sends one answer twice, and logs every question exactly once. Policy for a reply Telegram
did not confirm: after a 429 the send is retried (up to 3 times, waiting retry_after each time,
as the Bot API documents); after a 5xx, a timeout or a dropped connection it is *not* sent again,
because the message may well have been delivered (at most once). Fetching updates is retried
after any error; an update is only confirmed once fetched, so none is skipped or doubled.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest

from citizenbot.core.responder import Responder
from citizenbot.service import hash_user
from citizenbot.store import Journal, Store, import_journal, journal_path
from fake_bot_api import FakeBotApi
from harness import ANN, ANSWERED, BOB, SALT, eventually, fill_disk, running_bot
from load_driver import FaultPlan, drive

# Every kind of fault once, on fetching updates and on sending replies, spread over the run.
KINDS = ("429", "500", "502", "slow", "drop-before", "drop-after")
EVERY_KIND = tuple(
    [FaultPlan("getUpdates", kind, start=0.3 + 0.8 * n, times=1, delay=0.6)
     for n, kind in enumerate(KINDS)]
    + [FaultPlan("sendMessage", kind, start=0.2 + 0.3 * n, times=1, delay=0.8)
       for n, kind in enumerate(KINDS)])

pytestmark = [
    pytest.mark.slow,
    # python-telegram-bot's own RetryAfter constructor reads its deprecated int-valued property.
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]


def replies_in(api: FakeBotApi, user: dict[str, object]) -> int:
    return sum(1 for s in api.sent if s.chat_id == user["id"] and s.method == "sendMessage")


async def test_under_every_kind_of_fault_no_answer_is_doubled_and_every_question_logged(
        responder: Responder, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    figures, audit = await drive(8, 6, EVERY_KIND, responder=responder, directory=tmp_path)
    audit.assert_sound()
    injected = figures["faults_by_kind"]
    assert injected == {f"{p.method} {p.kind}": 1 for p in EVERY_KIND}, injected
    assert audit.rows == audit.messages >= 48 and audit.answered_twice == 0
    # Only sends Telegram refused outright (500, 502, closed before taking effect) cost a reply.
    assert audit.lost_to_faults <= 3
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], \
        [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    print(f"faults: {figures['faults_injected']} injected {injected}; {audit.delivered} of "
          f"{audit.messages} replies delivered, {audit.lost_to_faults} refused by the fake, "
          f"{audit.retried} delivered after a retry, 0 doubled, {audit.rows} rows, "
          f"{figures['seconds']} s")


async def test_flood_control_is_waited_out_and_a_hopeless_send_is_given_up(
        api: FakeBotApi, responder: Responder, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with running_bot(api, responder, tmp_path) as bot:
        # Twice "retry after 1": sent on the third try, once, after waiting as asked.
        api.fail("sendMessage", 429, "Too Many Requests: retry after 1", times=2, retry_after=1)
        started = time.monotonic()
        api.send_text(ANN, ANSWERED)
        await api.next_message(ANN, timeout=10)
        assert time.monotonic() - started >= 2
        assert [c.ok for c in api.calls_of("sendMessage")] == [False, False, True]
        # Four times: the first try and three retries fail; the reply is dropped, logged.
        api.fail("sendMessage", 429, "Too Many Requests: retry after 1", times=4, retry_after=1)
        api.send_text(ANN, ANSWERED)
        await eventually(lambda: any("still after 3 retries" in r.getMessage()
                                     for r in caplog.records), timeout=10)
        assert [c.ok for c in api.calls_of("sendMessage")][3:] == [False] * 4
        api.send_text(BOB, ANSWERED)  # and the bot carries on
        assert "<blockquote>" in (await api.next_message(BOB)).html
        assert replies_in(api, ANN) == 1
        assert bot.rows("SELECT COUNT(*) FROM enquiries") == [(3,)]


@pytest.mark.parametrize("after", [False, True], ids=["before", "after"])
async def test_a_dropped_connection_is_not_answered_twice(
        api: FakeBotApi, responder: Responder, tmp_path: Path,
        caplog: pytest.LogCaptureFixture, after: bool) -> None:
    async with running_bot(api, responder, tmp_path) as bot:
        api.drop("sendMessage", after=after)
        api.send_text(ANN, ANSWERED)
        await eventually(lambda: any("network trouble" in r.getMessage()
                                     for r in caplog.records))
        api.send_text(BOB, ANSWERED)
        await api.next_message(BOB)
        # Delivered once if the connection broke after Telegram took the message, else not at
        # all: never twice. The question is logged either way.
        assert len(api.calls_of("sendMessage")) == 2
        assert replies_in(api, ANN) == (1 if after else 0)
        assert bot.rows("SELECT COUNT(*) FROM enquiries WHERE user_hash = ?",
                        hash_user(SALT, ANN["id"])) == [(1,)]


async def test_a_send_slower_than_the_timeout_is_not_repeated_and_holds_up_no_one_else(
        api: FakeBotApi, responder: Responder, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    async with running_bot(api, responder, tmp_path) as bot:
        api.slow("sendMessage", 5.5)  # python-telegram-bot gives up reading after 5 s
        api.send_text(ANN, ANSWERED)
        await eventually(lambda: len(api.calls) > 0 and api.injected != [], timeout=5)
        started = time.monotonic()
        api.send_text(BOB, ANSWERED)
        await api.next_message(BOB)
        assert time.monotonic() - started < 2  # Bob is not queued behind Ann's slow send
        await api.next_message(ANN, timeout=10)  # the slow send did arrive, late ...
        await eventually(lambda: any("network trouble" in r.getMessage() and "Timed out"
                                     in r.getMessage() for r in caplog.records), timeout=5)
        await asyncio.sleep(0.5)
        assert replies_in(api, ANN) == 1  # ... and it was not sent again
        assert bot.rows("SELECT COUNT(*) FROM enquiries") == [(2,)]


async def test_a_database_full_while_running_still_answers_and_loses_no_enquiry(
        api: FakeBotApi, responder: Responder, tmp_path: Path) -> None:
    async with running_bot(api, responder, tmp_path, rate_limit=100) as bot:
        api.send_text(ANN, ANSWERED)
        assert "👍 Helpful" in (await api.next_message(ANN)).labels
        await fill_disk(bot.store)  # not one more page for the log
        for n in range(30):
            api.send_text(BOB, f"{ANSWERED} {'x' * 900} {n}")
        replies = [await api.next_message(BOB) for _ in range(30)]
        assert all("<blockquote>" in r.html for r in replies)  # every one answered ...
        journaled = bot.services.service.journaled
        assert journaled > 0
        assert all("👍 Helpful" not in r.labels for r in replies[-journaled:])  # no row to vote on
    journal = journal_path(bot.settings.db_path)
    assert Journal(journal).waiting == journaled
    async with await Store.open(bot.settings.db_path) as store:  # ... and the next start
        assert await import_journal(store, journal) == journaled  # brings them home
        assert await store.count_enquiries() == 31
