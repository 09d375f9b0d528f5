"""The Telegram bot, end to end: the real Application over real HTTP against a fake Bot API.

Every story starts the bot exactly as `citizenbot run` does (build_application, then
initialize / post_init / long polling or the webhook / start; tests/harness.py) with its base URL
pointed at tests/fake_bot_api.py, and plays a user on the other side.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from hypothesis import given
from hypothesis import strategies as st
from telegram.constants import MessageLimit

from citizenbot import callback_data as cb
from citizenbot.config import Settings
from citizenbot.core.followup import Previous
from citizenbot.core.knowledge import KnowledgeBase, KnowledgeBaseError
from citizenbot.core.responder import Reply, Responder
from citizenbot.flood import FloodGate, Verdict
from citizenbot.html_text import MAX_MESSAGE, Span, split_html, utf16_len
from citizenbot.service import hash_user
from citizenbot.store import Store
from citizenbot.telegram.app import build_application
from citizenbot.telegram.common import interface_language
from citizenbot.telegram.webhook import webhook_target
from fake_bot_api import FakeBotApi, parse_html
from harness import (
    ANN,
    ANSWERED,
    BOB,
    KEY,
    LI,
    NONSENSE,
    ROOT,
    SALT,
    TOKEN,
    TOKEN_SECRET,
    Bot,
    ambiguous_question,
    eventually,
    free_port,
    make_service,
    running_bot,
)

# --------------------------------------------------------------------------- commands

async def test_start_greets_with_topic_buttons_and_the_menu_is_registered(
        bot: Bot, api: FakeBotApi, kb: KnowledgeBase) -> None:
    assert set(api.commands) == {None, "en", "zh"}
    assert [c["command"] for c in api.commands["zh"]] == [
        "start", "help", "topics", "about", "lang", "forget"]
    assert api.commands["zh"][0]["description"] == kb.text("telegram.commands.start", "zh")

    api.send_text(ANN, "/start")
    greeting = await api.next_message(ANN)
    assert kb.text("services.greeting", "en") in greeting.text
    assert kb.text("service_note", "en") in greeting.text
    assert greeting.labels == [kb.text(f"areas.{a}", "en")
                               for a in ("business", "talent", "parks", "plans")]

    api.press(ANN, greeting, greeting.data(kb.text("areas.business", "en")))
    area = await api.next_message(ANN)
    assert area.method == "sendMessage"  # the greeting stays
    business = kb.by_area()["business"]
    assert area.labels[:-1] == [i.label("en") for i in business]
    assert all(len(label) <= 32 for label in area.labels)  # no button cut off on a phone

    api.press(ANN, area, area.data(business[0].label("en")))
    answer = await api.next_message(ANN)
    assert "<blockquote>" in answer.html and business[0].excerpts[0].text in answer.text

    api.press(ANN, area, area.data("All topics"))
    back = await api.next_message(ANN)
    assert back.method == "editMessageText" and back.message_id == area.message_id
    assert back.text == kb.text("chat.topics", "en")


async def test_a_command_menu_failure_does_not_stop_the_bot(api: FakeBotApi,
                                                           responder: Responder,
                                                           tmp_path: Path) -> None:
    api.fail("setMyCommands", 400, "Bad Request: BOT_COMMAND_INVALID", times=3)
    async with running_bot(api, responder, tmp_path):
        assert api.commands == {}
        api.send_text(ANN, "/start")
        assert (await api.next_message(ANN)).labels


async def test_help_topics_and_about(bot: Bot, api: FakeBotApi, kb: KnowledgeBase) -> None:
    api.send_text(ANN, "/help")
    assert kb.text("services.help", "en") in (await api.next_message(ANN)).text
    api.send_text(ANN, "/topics")
    topics = await api.next_message(ANN)
    assert len(topics.labels) == 4
    api.press(ANN, topics, topics.data(kb.text("areas.parks", "en")))
    parks = await api.next_message(ANN)
    assert parks.method == "editMessageText"  # browsing replaces the list in place
    api.send_text(ANN, "/about")
    about = await api.next_message(ANN)
    # The day the report was delivered, not the day a web page published it, and its title
    # as people write it, not the web page's.
    assert "27 January 2021" in about.text and kb.report.date not in about.text
    assert kb.text("chat.report_title", "en") in about.text
    assert kb.report.title not in about.text
    assert kb.text("service_note", "en") in about.text


# --------------------------------------------------------------------------- questions

async def test_a_question_is_answered_with_the_excerpt_its_source_and_buttons(
        bot: Bot, api: FakeBotApi, kb: KnowledgeBase) -> None:
    logged_before_sending: list[int] = []

    async def count_rows(params: dict[str, Any]) -> None:
        logged_before_sending.append(await bot.store.count_enquiries())

    api.hooks["sendMessage"] = count_rows
    started = time.perf_counter()
    api.send_text(ANN, ANSWERED)
    answer = await api.next_message(ANN)
    round_trip_ms = (time.perf_counter() - started) * 1000

    intent = kb.intent("one-stop-service")
    assert intent is not None
    for excerpt in intent.excerpts:
        assert f"“{excerpt.text}”" in answer.text
    assert answer.html.count("<blockquote>") == len(intent.excerpts)
    assert f"{kb.text('labels.source', 'en')}: {intent.excerpts[0].label_en}" in answer.text
    assert kb.text("labels.quoted_from", "en") in answer.text
    related = [kb.intent(r) for r in intent.related]
    assert answer.labels == [r.label("en") for r in related if r] + ["👍 Helpful",
                                                                     "👎 Not helpful"]
    assert logged_before_sending == [1]
    [row] = bot.rows("SELECT transport, user_hash, chat_type, language, question, status, intent,"
                     " score, latency_ms FROM enquiries")
    assert row[:7] == ("telegram", hash_user(SALT, ANN["id"]), "private", "en", ANSWERED,
                       "answered", "one-stop-service")
    assert 0 < row[7] <= 100 and row[8] >= 0
    print(f"round trip of one question through the fake Bot API: {round_trip_ms:.1f} ms")


async def test_report_text_is_html_escaped(bot: Bot, api: FakeBotApi, kb: KnowledgeBase) -> None:
    special = [i for i in kb.intents if any(c in e.text for e in i.excerpts for c in "<>&")]
    assert special, "no excerpt has a character HTML must escape; pick another check"
    api.send_text(ANN, "/topics")
    topics = await api.next_message(ANN)
    for intent in special[:2]:
        api.press(ANN, topics, cb.encode(cb.ShowIntent(intent.id), KEY))
        answer = await api.next_message(ANN)  # the fake refuses HTML with a bare < > or &
        assert intent.excerpts[0].text in answer.text
    api.send_text(ANN, "<b>what</b> & <i>why</i>?")
    assert (await api.next_message(ANN)).method == "sendMessage"


async def test_thumbs_up_is_stored_and_linked_to_its_enquiry(bot: Bot, api: FakeBotApi,
                                                              kb: KnowledgeBase) -> None:
    api.send_text(ANN, ANSWERED)
    answer = await api.next_message(ANN)
    [(enquiry_id,)] = bot.rows("SELECT id FROM enquiries")

    stranger = api.press(BOB, answer, answer.data("👍"))
    assert (await api.answer_to(stranger))["text"] == kb.text("telegram.not_yours", "en")

    query = api.press(ANN, answer, answer.data("👍"))
    assert (await api.answer_to(query))["text"] == kb.text("chat.feedback_thanks", "en")
    edited = await api.next_message(ANN)
    assert edited.method == "editMessageReplyMarkup" and edited.message_id == answer.message_id
    assert "👍 Helpful" not in edited.labels and edited.labels == answer.labels[:-2]
    assert bot.rows("SELECT enquiry_id, helpful FROM feedback") == [(enquiry_id, 1)]


async def test_a_double_tap_on_thumbs_up_is_one_vote(bot: Bot, api: FakeBotApi,
                                                     kb: KnowledgeBase) -> None:
    api.send_text(ANN, ANSWERED)
    answer = await api.next_message(ANN)
    [(enquiry_id,)] = bot.rows("SELECT id FROM enquiries")
    # Both taps arrive before the 👍/👎 row is taken away: each carries the old message.
    first = api.press(ANN, answer, answer.data("👍"))
    second = api.press(ANN, answer, answer.data("👍"))
    for query in (first, second):
        assert (await api.answer_to(query))["text"] == kb.text("chat.feedback_thanks", "en")
    assert bot.rows("SELECT enquiry_id, helpful FROM feedback") == [(enquiry_id, 1)]


async def test_a_did_you_mean_choice_is_answered_in_the_language_it_was_asked_in(
        bot: Bot, api: FakeBotApi, kb: KnowledgeBase, responder: Responder) -> None:
    question = "金融"  # Chinese, from a user whose Telegram app is in English
    expected = responder.respond(question)
    assert expected.status == "clarify" and expected.language == "zh"
    api.send_text(ANN, question)
    clarify = await api.next_message(ANN)
    chosen = expected.options[0]
    api.press(ANN, clarify, clarify.data(kb.intent(chosen.intent_id).label("zh")))
    answer = await api.next_message(ANN)
    assert "出处：" in answer.text and "出处:" not in answer.text
    assert "👍 有帮助" in answer.labels
    assert bot.rows("SELECT language FROM enquiries ORDER BY id") == [("zh",), ("zh",)]


async def test_a_did_you_mean_choice_answers_it(bot: Bot, api: FakeBotApi, kb: KnowledgeBase,
                                                responder: Responder) -> None:
    question, expected = ambiguous_question(responder)
    api.send_text(ANN, question)
    clarify = await api.next_message(ANN)
    assert clarify.text.startswith(kb.text("labels.clarify", "en"))
    titles = [kb.intent(o.intent_id).label("en") for o in expected.options]
    assert clarify.labels[:len(titles)] == titles
    # ... and always a way out: browse the topics instead.
    assert kb.text("chat.buttons.topics", "en") in clarify.labels[len(titles):]

    chosen = expected.options[1]
    query = api.press(ANN, clarify, clarify.data(kb.intent(chosen.intent_id).label("en")))
    assert "text" not in await api.answer_to(query)
    answer = await api.next_message(ANN)
    intent = kb.intent(chosen.intent_id)
    assert intent is not None and intent.excerpts[0].text in answer.text
    assert bot.rows("SELECT question, status, intent FROM enquiries ORDER BY id") == [
        (question, "clarify", None), (question, "answered", chosen.intent_id)]


async def test_an_unknown_question_gets_an_honest_fallback_with_a_topics_button(
        bot: Bot, api: FakeBotApi, kb: KnowledgeBase) -> None:
    api.send_text(ANN, NONSENSE)
    fallback = await api.next_message(ANN)
    assert kb.text("services.fallback", "en") in fallback.text
    assert kb.text("service_note", "en") in fallback.text
    assert fallback.labels == [kb.text("chat.buttons.topics", "en")]
    assert bot.rows("SELECT status, intent FROM enquiries") == [("fallback", None)]
    api.press(ANN, fallback, fallback.data("topics"))
    topics = await api.next_message(ANN)
    assert topics.method == "sendMessage" and topics.text == kb.text("chat.topics", "en")


async def test_a_long_reply_is_split_under_telegrams_limit(api: FakeBotApi, kb: KnowledgeBase,
                                                           tmp_path: Path) -> None:
    sentence = "Please ask the district's service hall & check <the> official notices. "
    texts = dict(kb.texts)
    texts["services.fallback"] = {"en": sentence * 150, "zh": sentence * 150}
    responder = Responder(dataclasses.replace(kb, texts=texts))
    async with running_bot(api, responder, tmp_path):
        api.send_text(ANN, NONSENSE)
        parts = [await api.next_message(ANN) for _ in range(3)]
        assert all(utf16_len(p.text) <= MessageLimit.MAX_TEXT_LENGTH for p in parts)
        assert [bool(p.buttons) for p in parts] == [False, False, True]
        assert "".join(p.text for p in parts).count("official notices") == 150


# --------------------------------------------------------------------------- groups

async def test_in_a_group_only_commands_mentions_and_replies_are_answered(
        bot: Bot, api: FakeBotApi, kb: KnowledgeBase) -> None:
    group = api.group()
    api.send_text(ANN, ANSWERED, chat=group)
    api.send_sticker(BOB, chat=group)
    mention = api.send_text(ANN, f"@citizen_test_bot {ANSWERED}", chat=group)
    answer = await api.next_message(group)
    assert answer.message["reply_to_message"]["message_id"] == mention["message_id"]
    assert "<blockquote>" in answer.html

    follow_up = api.send_text(BOB, "tax and fee reduction", chat=group, reply_to=answer)
    second = await api.next_message(group)
    assert second.message["reply_to_message"]["message_id"] == follow_up["message_id"]

    api.send_text(BOB, "/help@citizen_test_bot", chat=group)
    assert kb.text("services.help", "en") in (await api.next_message(group)).text
    api.send_text(BOB, "/help@some_other_bot", chat=group)
    api.send_text(ANN, "@citizen_test_bot", chat=group)  # a bare mention: how to ask
    assert kb.text("services.help", "en") in (await api.next_message(group)).text
    await api.wait_confirmed()
    assert api.unread(group) == []
    assert bot.rows("SELECT question, chat_type FROM enquiries ORDER BY id") == [
        (ANSWERED, "supergroup"), ("tax and fee reduction", "supergroup")]


# --------------------------------------------------------------------------- language

async def test_lang_switches_the_interface(bot: Bot, api: FakeBotApi, kb: KnowledgeBase) -> None:
    api.send_text(ANN, "/lang")
    prompt = await api.next_message(ANN)
    assert prompt.labels == ["English", "中文"]
    api.press(ANN, prompt, prompt.data("中文"))
    switched = await api.next_message(ANN)
    assert switched.method == "editMessageText"
    assert switched.text == kb.text("chat.lang_set", "zh")

    api.send_text(ANN, "/help")
    assert kb.text("services.help", "zh") in (await api.next_message(ANN)).text
    api.send_text(ANN, ANSWERED)
    answer = await api.next_message(ANN)
    assert "出处：" in answer.text and "出处:" not in answer.text  # full-width, as Chinese is written
    assert "👍 有帮助" in answer.labels
    assert bot.rows("SELECT language FROM enquiries") == [("zh",)]

    api.send_text(ANN, "/lang en")
    assert (await api.next_message(ANN)).text == kb.text("chat.lang_set", "en")
    api.send_text(LI, "/start")  # no choice made: the Telegram app's language decides
    assert kb.text("services.greeting", "zh") in (await api.next_message(LI)).text


# --------------------------------------------------------------------------- forget

async def test_forget_erases_my_rows_after_confirmation(bot: Bot, api: FakeBotApi,
                                                        kb: KnowledgeBase) -> None:
    api.send_text(ANN, ANSWERED)
    answer = await api.next_message(ANN)
    api.press(ANN, answer, answer.data("👍"))
    await api.next_message(ANN)
    api.send_text(ANN, NONSENSE)
    await api.next_message(ANN)
    api.send_text(BOB, ANSWERED)
    await api.next_message(BOB)
    ann = hash_user(SALT, ANN["id"])

    api.send_text(ANN, "/forget")
    confirm = await api.next_message(ANN)
    assert confirm.text == kb.text("chat.forget_confirm", "en")
    api.press(ANN, confirm, confirm.data("Cancel"))
    assert (await api.next_message(ANN)).text == kb.text("chat.forget_cancelled", "en")
    assert bot.rows("SELECT COUNT(*) FROM enquiries WHERE user_hash = ?", ann) == [(2,)]

    api.send_text(ANN, "/forget")
    confirm = await api.next_message(ANN)
    stranger = api.press(BOB, confirm, confirm.data("Yes"))
    assert (await api.answer_to(stranger))["text"] == kb.text("telegram.not_yours", "en")
    api.press(ANN, confirm, confirm.data("Yes"))
    done = await api.next_message(ANN)
    assert done.method == "editMessageText" and done.buttons == []
    assert done.text == "Done. 2 logged questions and their feedback were deleted."
    assert bot.rows("SELECT COUNT(*) FROM enquiries WHERE user_hash = ?", ann) == [(0,)]
    assert bot.rows("SELECT COUNT(*) FROM feedback") == [(0,)]
    assert bot.rows("SELECT user_hash FROM enquiries") == [(hash_user(SALT, BOB["id"]),)]

    late = api.press(ANN, answer, answer.data("👎"))  # a vote on an erased answer
    assert (await api.answer_to(late))["text"] == kb.text("telegram.stale_button", "en")


# --------------------------------------------------------------------------- abuse and errors

async def test_a_flooding_user_gets_one_notice_then_silence(api: FakeBotApi, responder: Responder,
                                                            kb: KnowledgeBase,
                                                            tmp_path: Path) -> None:
    async with running_bot(api, responder, tmp_path, rate_limit=3) as bot:
        for n in range(7):
            api.send_text(ANN, f"{ANSWERED} {n}")
        replies = [await api.next_message(ANN) for _ in range(4)]
        await eventually(lambda: bot.services.gate.dropped == 4)
        assert [kb.text("telegram.flood", "en") in r.text for r in replies] == [
            False, False, False, True]
        query = api.press(ANN, replies[0], replies[0].data("👍"))
        assert await api.answer_to(query) == {"callback_query_id": query}  # answered, silently
        api.send_text(BOB, ANSWERED)  # other users are not affected
        assert "<blockquote>" in (await api.next_message(BOB)).html
        await api.wait_confirmed()
        assert api.unread(ANN) == []
        assert bot.services.gate.dropped == 5
        assert bot.rows("SELECT COUNT(*) FROM enquiries") == [(4,)]
        assert bot.rows("SELECT COUNT(*) FROM feedback") == [(0,)]


async def test_stickers_photos_voice_files_and_locations_get_please_type(
        bot: Bot, api: FakeBotApi, kb: KnowledgeBase) -> None:
    for send in (api.send_sticker, api.send_photo, api.send_voice, api.send_document,
                 api.send_location):
        send(ANN)
        assert (await api.next_message(ANN)).text == kb.text("telegram.type_question", "en")
    assert bot.rows("SELECT COUNT(*) FROM enquiries") == [(0,)]


@pytest.mark.parametrize("data", [
    "1|i|one-stop-service|AAAAAAAA",  # a forged signature
    "0|i|one-stop-service|AAAAAAAA",  # an older format
    "1|f|1|1",  # no signature
    "hello",
    "1|" + "x" * 70,
])
async def test_altered_or_stale_button_data_gets_a_short_notice(
        bot: Bot, api: FakeBotApi, kb: KnowledgeBase, caplog: pytest.LogCaptureFixture,
        data: str) -> None:
    api.send_text(ANN, ANSWERED)
    answer = await api.next_message(ANN)
    query = api.press(ANN, answer, data)
    assert (await api.answer_to(query))["text"] == kb.text("telegram.stale_button", "en")
    gone = api.press(ANN, answer, cb.encode(cb.ShowIntent("no-such-intent"), KEY))
    assert (await api.answer_to(gone))["text"] == kb.text("telegram.stale_button", "en")
    api.send_text(ANN, ANSWERED)
    assert "<blockquote>" in (await api.next_message(ANN)).html
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


class ExplodingResponder(Responder):
    def respond(self, question: str, lang: str | None = None,
                previous: Previous | None = None) -> Reply:
        if "boom" in question:
            raise RuntimeError("the matcher fell over")
        return super().respond(question, lang, previous)


async def test_an_error_in_a_handler_is_logged_and_the_bot_keeps_running(
        api: FakeBotApi, kb: KnowledgeBase, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    async with running_bot(api, ExplodingResponder(kb), tmp_path):
        api.send_text(ANN, "boom")
        update_id = api.last_update_id
        sorry = await api.next_message(ANN)
        assert sorry.text == kb.text("telegram.error", "en")
        [error] = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert error.exc_info is not None and "matcher fell over" in str(error.exc_info[1])
        assert f"update {update_id} " in error.getMessage()
        api.send_text(ANN, ANSWERED)
        assert "<blockquote>" in (await api.next_message(ANN)).html


# python-telegram-bot's own RetryAfter constructor reads its deprecated int-valued property.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
@pytest.mark.slow  # faults: waits out a 429 and polling's pause after a 502
async def test_telegram_errors_are_handled_as_telegram_documents_them(
        bot: Bot, api: FakeBotApi, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    # 403: the user blocked the bot. Logged; no retry, no apology (it could not be delivered).
    api.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
    api.send_text(ANN, ANSWERED)
    await eventually(lambda: any("blocked" in r.getMessage() for r in caplog.records))
    assert len(api.calls_of("sendMessage")) == 1
    assert bot.rows("SELECT COUNT(*) FROM enquiries") == [(1,)]  # logged before sending

    # 429: flood control. The rate limiter waits retry_after seconds, then sends again.
    api.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    started = time.monotonic()
    api.send_text(ANN, ANSWERED)
    delivered = await api.next_message(ANN)
    assert "<blockquote>" in delivered.html and time.monotonic() - started >= 1

    # 502 while polling: a network error. Polling carries on after a pause.
    api.fail("getUpdates", 502, "Bad Gateway")
    await eventually(lambda: any(not c.ok for c in api.calls_of("getUpdates")))
    api.send_text(ANN, NONSENSE)
    assert (await api.next_message(ANN)).method == "sendMessage"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# --------------------------------------------------------------------------- webhook

async def test_webhook_mode_accepts_only_telegrams_secret(api: FakeBotApi, responder: Responder,
                                                           tmp_path: Path) -> None:
    port = free_port()
    async with running_bot(api, responder, tmp_path, webhook_url=f"http://127.0.0.1:{port}",
                           webhook_port=port, webhook_path="telegram-hook",
                           webhook_secret="s3cret_Token-1") as bot:
        assert api.webhook == {"url": f"http://127.0.0.1:{port}/telegram-hook",
                               "secret_token": "s3cret_Token-1",
                               "allowed_updates": ["message", "callback_query"]}
        forged = {"message": {"message_id": 1, "date": int(time.time()), "text": ANSWERED,
                              "chat": {"id": ANN["id"], "type": "private"}, "from": ANN}}
        assert await api.post_to_webhook(api.make_update(**forged), "wrong-secret") == 403
        assert await api.post_to_webhook(api.make_update(**forged), None) == 403

        api.send_text(ANN, ANSWERED)  # delivered by the fake with the right secret
        answer = await api.next_message(ANN)
        assert "<blockquote>" in answer.html
        assert [status for _, status in api.webhook_deliveries] == [200]
        assert api.calls_of("getUpdates") == []
        assert bot.rows("SELECT COUNT(*) FROM enquiries") == [(1,)]


# --------------------------------------------------------------------------- secrets and shutdown

async def test_the_token_never_reaches_the_logs(api: FakeBotApi, responder: Responder,
                                                tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_bot(api, responder, tmp_path):
        api.send_text(ANN, ANSWERED)
        await api.next_message(ANN)
        api.fail("sendMessage", 400, "Bad Request: chat not found")
        api.send_text(ANN, NONSENSE)
        await eventually(lambda: any(r.levelno >= logging.ERROR for r in caplog.records))
    assert "getUpdates" in caplog.text and "<redacted>" in caplog.text  # DEBUG was on
    assert TOKEN_SECRET not in caplog.text
    for record in caplog.records:
        assert TOKEN_SECRET not in record.getMessage()
        assert TOKEN_SECRET not in (record.exc_text or "")


async def test_run_serves_until_sigterm_and_loses_nothing(api: FakeBotApi,
                                                          tmp_path: Path) -> None:
    db = tmp_path / "data" / "citizenbot.db"
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api.base_url,
           "CITIZENBOT_DB": str(db), "CITIZENBOT_LOG_LEVEL": "DEBUG"}
    env.pop("CITIZENBOT_SALT", None)
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "bot.py"), cwd=tmp_path, env=env,
            stdout=log_file, stderr=log_file)
        try:
            await eventually(lambda: bool(api.calls_of("getUpdates"))
                             or process.returncode is not None, timeout=20)
            assert process.returncode is None, log_path.read_text(errors="replace")[-3000:]
            api.send_text(ANN, ANSWERED)
            assert "<blockquote>" in (await api.next_message(ANN, timeout=10)).html
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(10):
                assert await process.wait() == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    output = log_path.read_text(encoding="utf-8", errors="replace")
    assert "Application.stop() complete" in output and "<redacted>" in output
    assert TOKEN_SECRET not in output
    assert (db.parent / "citizenbot.db.salt").is_file()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT question, status FROM enquiries").fetchall() == [
            (ANSWERED, "answered")]


# --------------------------------------------------------------------------- the fake itself

async def test_the_fake_api_speaks_json_and_form_bodies_and_checks_the_token(
        api: FakeBotApi) -> None:
    url = f"{api.base_url}{TOKEN}"
    api.send_text(ANN, "hello")  # Ann's chat exists once she has written
    async with ClientSession() as http:
        async with http.post(f"{url}/getMe", json={}) as r:
            assert (await r.json())["result"]["is_bot"] is True
        async with http.post(f"{url}/sendMessage",
                             json={"chat_id": ANN["id"], "text": "a < b", "parse_mode": "HTML"}) as r:
            assert r.status == 400 and "can't parse entities" in (await r.json())["description"]
        async with http.post(f"{url}/sendMessage",
                             data={"chat_id": str(ANN["id"]), "text": "42"}) as r:
            assert (await r.json())["result"]["text"] == "42"
        async with http.post(f"{api.base_url}123:wrong/getMe") as r:
            assert r.status == 401


# --------------------------------------------------------------------------- the pure parts

@given(st.lists(st.lists(st.tuples(st.text(min_size=0, max_size=300),
                                   st.sampled_from(["", "b", "i", "blockquote"])),
                         max_size=4), max_size=6),
       st.integers(min_value=40, max_value=400))
def test_split_html_keeps_every_character_and_every_message_parses(
        blocks: list[list[tuple[str, str]]], limit: int) -> None:
    spans = [[Span(text, tag) for text, tag in block] for block in blocks]
    messages = split_html(spans, limit=limit, sep="")
    assert all(utf16_len(m) <= limit for m in messages)
    plain = "".join(parse_html(m) for m in messages)
    assert plain == "".join(text for block in blocks for text, _ in block)


def test_split_html_prefers_word_boundaries_and_the_limit_is_telegrams() -> None:
    assert MAX_MESSAGE == MessageLimit.MAX_TEXT_LENGTH
    words = " ".join(f"word{n}" for n in range(2000))
    messages = split_html([[Span(words, "i")]])
    assert len(messages) > 1
    assert all(m.startswith("<i>word") and m.endswith("</i>") for m in messages)


_actions = st.one_of(
    st.builds(cb.ShowIntent, st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}", fullmatch=True),
              st.none() | st.integers(1, 10**9)),
    st.builds(cb.ShowArea, st.sampled_from(["business", "plans"]), st.booleans()),
    st.builds(cb.ShowTopics, st.booleans()),
    st.builds(cb.Feedback, st.integers(1, 10**12), st.booleans()),
    st.builds(cb.SetLanguage, st.sampled_from(["en", "zh"])),
    st.builds(cb.Forget, st.booleans(), st.from_regex(r"[0-9a-f]{8}", fullmatch=True)),
)


@given(_actions, st.data())
def test_button_data_round_trips_fits_and_any_change_is_caught(action: cb.Action,
                                                               data: st.DataObject) -> None:
    encoded = cb.encode(action, KEY)
    assert len(encoded.encode()) <= 64
    assert cb.decode(encoded, KEY) == action
    position = data.draw(st.integers(0, len(encoded) - 1))
    replacement = data.draw(st.sampled_from("0123456789abcdefxyz|-_"))
    altered = encoded[:position] + replacement + encoded[position + 1:]
    if altered != encoded:
        with pytest.raises(cb.CallbackDataError):
            cb.decode(altered, KEY)
    with pytest.raises(cb.CallbackDataError):
        cb.decode(encoded, cb.derive_key("another installation's salt"))


def test_the_flood_gate_counts_per_user_in_a_sliding_minute() -> None:
    gate = FloodGate(limit=2, window=60)
    assert [gate.check("ann", t) for t in (0, 1, 2, 3)] == [
        Verdict.PASS, Verdict.PASS, Verdict.NOTICE, Verdict.DROP]
    assert gate.check("bob", 3) is Verdict.PASS
    assert gate.check("ann", 60.5) is Verdict.PASS  # the first message left the window
    assert gate.check("ann", 61.5) is Verdict.PASS
    assert gate.check("ann", 62) is Verdict.NOTICE  # a new burst: told again, once
    assert (gate.dropped, gate.dropped_for("ann"), gate.dropped_for("bob")) == (3, 3, 0)


async def test_a_knowledge_base_without_the_telegram_texts_is_refused_at_start(
        kb: KnowledgeBase, tmp_path: Path) -> None:
    texts = {k: v for k, v in kb.texts.items() if k != "chat.forget_confirm"}
    responder = Responder(dataclasses.replace(kb, texts=texts))
    settings = Settings(token=TOKEN, db_path=tmp_path / "unused.db")
    async with await Store.open(":memory:") as store:
        with pytest.raises(KnowledgeBaseError, match=r"chat\.forget_confirm"):
            build_application(settings, make_service(responder, store, settings.db_path))


def test_webhook_target_and_interface_language() -> None:
    assert webhook_target("https://bot.example.org", "telegram") == \
        "https://bot.example.org/telegram"
    assert webhook_target("https://bot.example.org/telegram/", "telegram") == \
        "https://bot.example.org/telegram"
    assert interface_language(None, "zh-hans") == "zh"
    assert interface_language(None, None) == "en"
    assert interface_language("en", "zh-hant") == "en"
