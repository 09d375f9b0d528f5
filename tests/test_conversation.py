"""A conversation in Telegram, not a lookup: the commands and choices of the terminal chat,
follow-ups kept in the store, a language that sticks, short labels, "typing…".

Each story runs the real python-telegram-bot Application against the fake Bot API
(tests/harness.py) and plays a user; some compare what Telegram shows with what the terminal
chat prints for the same words.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from citizenbot.core.knowledge import KnowledgeBase
from citizenbot.core.responder import Responder
from citizenbot.model import LastAnswer
from citizenbot.service import hash_user
from citizenbot.telegram import answers
from fake_bot_api import FakeBotApi, Sent
from harness import ANN, BOB, LI, SALT, Bot, run_subprocess, running_bot

FINANCIAL_PARK = "what is the financial industry park"


def quotes(message: Sent) -> set[str]:
    return set(re.findall(r"<blockquote>(.*?)</blockquote>", message.html, flags=re.S))


# --------------------------------------------------------------------------- 1. commands

async def test_the_same_words_give_the_same_choices_in_telegram_and_the_terminal(
        bot: Bot, api: FakeBotApi, tmp_path: Path) -> None:
    api.send_text(ANN, "one stop service")
    answer = await api.next_message(ANN)
    api.send_text(ANN, "/about")
    about = await api.next_message(ANN)
    terminal = run_subprocess(["chat", "--no-log"], "one stop service\n/about\n",
                              cwd=tmp_path, HOME=str(tmp_path))
    printed = terminal.stdout.decode()
    listed = re.findall(r"(?m)^  +\d+\. (.*)$", printed)
    assert answer.labels == listed  # buttons there, numbered choices here
    for paragraph in about.text.split("\n\n"):
        assert paragraph in printed


async def test_commands_are_not_logged_and_the_menu_is_in_both_languages(
        bot: Bot, api: FakeBotApi, kb: KnowledgeBase) -> None:
    for command in ("/start", "/help", "/topics", "/about", "/lang", "/forget"):
        api.send_text(ANN, command)
        await api.next_message(ANN)
    assert bot.rows("SELECT COUNT(*) FROM enquiries") == [(0,)]
    assert [c["command"] for c in api.commands["en"]] == [
        "start", "help", "topics", "about", "lang", "forget"]


# --------------------------------------------------------------------------- 2. follow-ups

async def test_tell_me_more_in_chinese_and_a_fragment_continue_the_last_answer(
        bot: Bot, api: FakeBotApi, kb: KnowledgeBase) -> None:
    api.send_text(ANN, FINANCIAL_PARK)
    first = await api.next_message(ANN)
    api.send_text(ANN, "tell me more")
    more = await api.next_message(ANN)
    assert quotes(more) and not quotes(more) & quotes(first)
    assert "Source: Part I" in more.text and "👍 Helpful" in more.labels
    api.send_text(ANN, "用中文")
    chinese = await api.next_message(ANN)
    # What was shown last (the continuation), with Chinese labels.
    assert quotes(chinese) == quotes(more) and "出处：第一部分" in chinese.text
    # The switch sticks: the buttons and notices that follow are in Chinese.
    api.send_text(ANN, "/help")
    assert kb.text("services.help", "zh") in (await api.next_message(ANN)).text
    api.send_text(ANN, "and its phase III?")
    fragment = await api.next_message(ANN)
    assert "Phase III" in fragment.text and "出处：" in fragment.text
    assert bot.rows("SELECT question, status FROM enquiries ORDER BY id") == [
        (FINANCIAL_PARK, "answered"), ("tell me more", "answered"), ("用中文", "answered"),
        ("and its phase III?", "answered")]
    state = await bot.store.user_state(hash_user(SALT, ANN["id"]))
    assert state.language == "zh" and state.last is not None


async def test_the_context_is_per_user_survives_a_restart_and_goes_with_start(
        api: FakeBotApi, responder: Responder, tmp_path: Path, kb: KnowledgeBase) -> None:
    async with running_bot(api, responder, tmp_path):
        api.send_text(ANN, FINANCIAL_PARK)
        await api.next_message(ANN)
    async with running_bot(api, responder, tmp_path):  # a restart: nothing in memory
        api.send_text(BOB, "tell me more")  # Bob never asked: an ordinary question
        assert "Source: Part I" not in (await api.next_message(BOB)).text
        api.send_text(ANN, "tell me more")
        assert "Source: Part I" in (await api.next_message(ANN)).text
        api.send_text(ANN, "/start")
        await api.next_message(ANN)
        api.send_text(ANN, "tell me more")
        assert "Source: Part I" not in (await api.next_message(ANN)).text


async def test_an_old_answer_is_not_continued(bot: Bot, api: FakeBotApi,
                                              kb: KnowledgeBase) -> None:
    from datetime import UTC, datetime, timedelta
    first = bot.services.responder.respond(FINANCIAL_PARK)
    ten_minutes_ago = datetime.now(UTC) - timedelta(minutes=10)
    await bot.store.remember_answer(hash_user(SALT, ANN["id"]), LastAnswer(
        FINANCIAL_PARK, "en", first.intent_id, first.sentence_ids, ten_minutes_ago))
    api.send_text(ANN, "tell me more")
    assert "Source: Part I" not in (await api.next_message(ANN)).text


# --------------------------------------------------------------------------- 3. language

async def test_lang_is_kept_in_the_store_across_a_restart(
        api: FakeBotApi, responder: Responder, tmp_path: Path, kb: KnowledgeBase) -> None:
    async with running_bot(api, responder, tmp_path):
        api.send_text(ANN, "/lang zh")
        assert (await api.next_message(ANN)).text == kb.text("chat.lang_set", "zh")
    async with running_bot(api, responder, tmp_path) as bot:
        api.send_text(ANN, "/help")
        assert kb.text("services.help", "zh") in (await api.next_message(ANN)).text
        api.send_text(ANN, "one stop service")
        answer = await api.next_message(ANN)
        assert "出处：" in answer.text and "👍 有帮助" in answer.labels
        assert bot.rows("SELECT language FROM user_state") == [("zh",)]
        # /forget resets it, as it says it does.
        api.send_text(ANN, "/forget")
        confirm = await api.next_message(ANN)
        api.press(ANN, confirm, confirm.data(kb.text("chat.buttons.forget_yes", "zh")))
        await api.next_message(ANN)
        assert bot.rows("SELECT COUNT(*) FROM user_state") == [(0,)]
        api.send_text(ANN, "/help")
        assert kb.text("services.help", "en") in (await api.next_message(ANN)).text


async def test_related_buttons_answer_in_the_language_of_their_answer(
        bot: Bot, api: FakeBotApi, kb: KnowledgeBase) -> None:
    api.send_text(ANN, "一站式服务")  # Chinese, from a user whose Telegram app is in English
    answer = await api.next_message(ANN)
    related = kb.intent("one-stop-service").related  # type: ignore[union-attr]
    assert answer.labels[:len(related)] == [kb.intent(r).label("zh")  # type: ignore[union-attr]
                                            for r in related]
    api.press(ANN, answer, answer.data(answer.labels[0]))
    topic = await api.next_message(ANN)
    assert "出处：" in topic.text and "👍 有帮助" in topic.labels


async def test_typing_is_shown_while_a_slow_answer_is_prepared(
        bot: Bot, api: FakeBotApi, monkeypatch: pytest.MonkeyPatch) -> None:
    service = bot.services.service
    ask = service.ask

    async def slow_ask(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.3)  # as while another process holds the database
        return await ask(*args, **kwargs)

    monkeypatch.setattr(service, "ask", slow_ask)
    monkeypatch.setattr(answers, "TYPING_AFTER", 0.05)
    api.send_text(ANN, "one stop service")
    await api.next_message(ANN)
    calls = [c.method for c in api.calls if c.method in ("sendChatAction", "sendMessage")]
    assert calls == ["sendChatAction", "sendMessage"]
    [typing] = api.calls_of("sendChatAction")
    assert typing.params["action"] == "typing" and typing.params["chat_id"] == ANN["id"]


async def test_a_quick_answer_needs_no_typing_indicator(bot: Bot, api: FakeBotApi) -> None:
    """The Bot API recommends "typing…" only for a noticeable wait; an answer found in a
    millisecond is not one, and the indicator would cost a request per question."""
    api.send_text(ANN, "one stop service")
    await api.next_message(ANN)
    assert api.calls_of("sendChatAction") == []


async def test_every_topic_button_fits_a_phone_and_chinese_uses_chinese_punctuation(
        bot: Bot, api: FakeBotApi, kb: KnowledgeBase) -> None:
    api.send_text(LI, "/topics")
    topics = await api.next_message(LI)
    for area in topics.labels:
        api.press(LI, topics, topics.data(area))
        listed = await api.next_message(LI)
        assert all(len(label) <= 16 for label in listed.labels), listed.labels
    for question in ("iTOT是什么", "金融产业园", "2025年的目标"):
        api.send_text(LI, question)
        reply = await api.next_message(LI)
        assert not re.search(r"[\u4e00-\u9fff（）][:;,?!]", reply.text), reply.text


async def test_another_language_gets_a_reply_in_english_and_chinese(
        bot: Bot, api: FakeBotApi, kb: KnowledgeBase) -> None:
    for question in ("日本の企業への支援はありますか", "투자 지원이 있나요?", "Какие есть парки?"):
        api.send_text(ANN, question)
        reply = await api.next_message(ANN)
        assert "Sorry, I read only English and Chinese." in reply.text
        assert "抱歉，我只能读懂" in reply.text
    assert bot.rows("SELECT DISTINCT refusal FROM enquiries") == [("other_language",)]


# --------------------------------------------------------------------------- staff views

async def test_a_question_cut_short_for_staff_has_one_ellipsis(
        api: FakeBotApi, responder: Responder, tmp_path: Path) -> None:
    staff = FakeBotApi.user(4242, "Staff", "en")
    async with running_bot(api, responder, tmp_path, admin_ids=frozenset({4242})):
        # Cut at 200 characters for the list, right after the asker's own "...".
        long = ("xyzzy blorp quux " * 20)[:196] + "... and then some more words"
        api.send_text(ANN, long)
        await api.next_message(ANN)
        api.send_text(staff, "/stats")
        stats = await api.next_message(staff)
    assert "xyzzy" in stats.text and "…" in stats.text
    assert "...…" not in stats.text and ".…" not in stats.text
