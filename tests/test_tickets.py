"""Handing questions to district staff: the real Application against the fake Bot API.

A citizen, a staff group and an admin play their parts; the tickets table is read from disk as
`citizenbot tickets` would. The command-line stories run `citizenbot` in this process, beside
the fake Bot API.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from citizenbot import callback_data as cb
from citizenbot.config import SettingsError, load_settings
from citizenbot.core.knowledge import KnowledgeBase
from citizenbot.core.responder import Responder
from citizenbot.model import Ticket, TicketStatus
from citizenbot.service import hash_user
from citizenbot.store import Store
from citizenbot.telegram import tickets as telegram_tickets
from citizenbot.tickets import MAX_OPEN_PER_USER, age, one_line, parse_reference, reference
from fake_bot_api import FakeBotApi, Sent
from harness import ANN, BOB, NONSENSE, SALT, TOKEN, Bot, Cli, eventually, running_bot, t

KEY = cb.derive_key(SALT)
STAFF = FakeBotApi.group(-1009999000001, "District staff")
WANG = FakeBotApi.user(2001, "Wang", "zh-hans")  # a member of the staff group
ADMIN = FakeBotApi.user(3001, "Zhao", "en")
OTHER_GROUP = FakeBotApi.group(-1005555000002, "Neighbours")
PARK_QUESTION = "When does the new pocket park in my street open?"
ANSWER = "The park opens after the inspection; details follow on the district's notice board."
ROOT = Path(__file__).resolve().parents[1]


@asynccontextmanager
async def staffed_bot(api: FakeBotApi, responder: Responder, tmp_path: Path,
                      **changes: Any) -> AsyncIterator[Bot]:
    async with running_bot(api, responder, tmp_path, staff_chat_id=STAFF["id"],
                           staff_language="en", admin_ids=frozenset({ADMIN["id"]}),
                           **changes) as bot:
        yield bot


async def open_staff_chat(api: FakeBotApi, bot_running: bool = True) -> None:
    """A staff member writes in the group: from now on the (fake) Bot API knows the chat."""
    api.send_text(WANG, "Good morning, colleagues", chat=STAFF)
    if bot_running:
        await api.wait_confirmed()


def tickets(bot: Bot, columns: str = "id, status") -> list[tuple[Any, ...]]:
    return bot.rows(f"SELECT {columns} FROM tickets ORDER BY id")


async def hand_over(api: FakeBotApi, kb: KnowledgeBase, user: dict[str, Any] = ANN,
                    question: str = NONSENSE) -> Sent:
    """`user` asks what the bot cannot answer, presses "Ask district staff", then "Send"; the
    bot's last word to them (the edited confirmation)."""
    api.send_text(user, question)
    fallback = await api.next_message(user)
    api.press(user, fallback, fallback.data(kb.text("tickets.buttons.ask", "en")))
    confirm = await api.next_message(user)
    api.press(user, confirm, confirm.data(kb.text("tickets.buttons.send", "en")))
    return await api.next_message(user)


# --------------------------------------------------------------------------- the whole round

async def test_an_unanswered_question_goes_to_staff_and_their_reply_comes_back(
        api: FakeBotApi, responder: Responder, kb: KnowledgeBase, tmp_path: Path) -> None:
    async with staffed_bot(api, responder, tmp_path) as bot:
        await open_staff_chat(api)
        assert [c["command"] for c in api.commands["en"]][-2:] == ["ask", "mytickets"]

        api.send_text(ANN, NONSENSE)
        fallback = await api.next_message(ANN)
        assert kb.text("services.fallback", "en") in fallback.text
        assert fallback.labels == [kb.text("chat.buttons.topics", "en"),
                                   kb.text("tickets.buttons.ask", "en")]
        [(enquiry_id,)] = bot.rows("SELECT id FROM enquiries")

        api.press(ANN, fallback, fallback.data("Ask district staff"))
        confirm = await api.next_message(ANN)
        assert confirm.method == "sendMessage"  # the fallback answer stays
        assert f"“{NONSENSE}”" in confirm.text and "not your name" in confirm.text
        assert confirm.labels == [kb.text("tickets.buttons.send", "en"),
                                  kb.text("tickets.buttons.cancel", "en")]
        assert tickets(bot) == []  # nothing is sent on before the citizen confirms

        stranger = api.press(BOB, confirm, confirm.data("Send"))
        assert (await api.answer_to(stranger))["text"] == kb.text("telegram.not_yours", "en")

        rows_when_told: list[int] = []

        async def count_tickets(params: dict[str, Any]) -> None:
            rows_when_told.append(len(tickets(bot)))

        api.hooks["editMessageText"] = count_tickets
        api.press(ANN, confirm, confirm.data("Send"))
        card = await api.next_message(STAFF)
        told = await api.next_message(ANN)
        assert told.method == "editMessageText" and told.message_id == confirm.message_id
        assert told.text == t(kb, "tickets.sent", ref="Q-000001") and told.buttons == []
        assert rows_when_told == [1]  # the ticket was on disk before Ann was told

        ann = hash_user(SALT, ANN["id"])
        # Posting is a queued job: the card's id is remembered once Telegram has answered.
        await eventually(lambda: tickets(bot, "staff_message_id") == [(card.message_id,)])
        assert tickets(bot, "id, user_hash, chat_id, language, question, enquiry_id, status,"
                            " staff_chat_id, staff_message_id") == [
            (1, ann, ANN["id"], "en", NONSENSE, enquiry_id, "open", STAFF["id"], card.message_id)]
        # The staff see the reference, the question, its language and a pseudonym: no name, id.
        assert "Q-000001" in card.text and NONSENSE in card.text
        assert f"<blockquote>{NONSENSE}</blockquote>" in card.html
        assert "Language: en" in card.text and ann[:12] in card.text and ann[:13] not in card.text
        assert "Ann" not in card.text and str(ANN["id"]) not in card.text
        assert "/reply Q-000001" in card.text

        # A staff member answers by replying to the ticket's message.
        api.send_text(WANG, ANSWER, chat=STAFF, reply_to=card)
        delivered = await api.next_message(ANN)
        assert delivered.text.startswith(t(kb, "tickets.answer_title", ref="Q-000001"))
        assert ANSWER in delivered.text and NONSENSE in delivered.text
        assert delivered.text.endswith(kb.text("tickets.answer_note", "en"))
        assert "not quoted from the Government Work Report" in delivered.text
        confirmed = await api.next_message(STAFF)
        assert confirmed.text == t(kb, "tickets.staff.delivered", ref="Q-000001")
        assert confirmed.message["reply_to_message"]["message_id"] == card.message_id
        assert tickets(bot, "status, answer, answered_via, closed_ts IS NOT NULL") == [
            ("answered", ANSWER, "telegram", 1)]

        # Another reply to the same ticket is not sent twice.
        api.send_text(WANG, "One more thing", chat=STAFF, reply_to=card)
        assert (await api.next_message(STAFF)).text == t(
            kb, "tickets.staff.already_answered", ref="Q-000001")
        # A reply to a message of the bot's that is not a ticket gets told so.
        api.send_text(WANG, "Thanks", chat=STAFF, reply_to=confirmed)
        assert (await api.next_message(STAFF)).text == kb.text("tickets.staff.not_a_ticket", "en")

        api.send_text(ANN, "/help")
        assert kb.text("tickets.help", "en") in (await api.next_message(ANN)).text
        api.send_text(ANN, "/mytickets")
        mine = await api.next_message(ANN)
        assert mine.text.startswith(kb.text("tickets.mine_title", "en"))
        assert "Q-000001" in mine.text and kb.text("tickets.status.answered", "en") in mine.text
        api.send_text(WANG, "/tickets", chat=STAFF)
        assert (await api.next_message(STAFF)).text == kb.text("tickets.staff.list_empty", "en")
        await api.wait_confirmed()
        assert api.unread(ANN) == [] and api.unread(STAFF) == []


async def test_ask_command_then_admin_reply_and_strangers_are_refused(
        api: FakeBotApi, responder: Responder, kb: KnowledgeBase, tmp_path: Path) -> None:
    unknown = kb.text("admin.unknown_command", "en")
    async with staffed_bot(api, responder, tmp_path) as bot:
        await open_staff_chat(api)
        api.send_text(ANN, "/ask")
        prompt = await api.next_message(ANN)
        assert prompt.text == kb.text("tickets.ask_prompt", "en")
        api.send_text(ANN, PARK_QUESTION)  # the next message is the question, not a search
        confirm = await api.next_message(ANN)
        assert PARK_QUESTION in confirm.text
        assert bot.rows("SELECT COUNT(*) FROM enquiries") == [(0,)]
        api.press(ANN, confirm, confirm.data("Send"))
        card = await api.next_message(STAFF)
        assert PARK_QUESTION in card.text
        assert (await api.next_message(ANN)).text == t(kb, "tickets.sent", ref="Q-000001")
        assert tickets(bot, "id, question, enquiry_id") == [(1, PARK_QUESTION, None)]

        # /ask with the question on the same line, then cancelled.
        api.send_text(ANN, "/ask Is there parking near the service hall?")
        confirm = await api.next_message(ANN)
        api.press(ANN, confirm, confirm.data("Cancel"))
        assert (await api.next_message(ANN)).text == kb.text("tickets.cancelled", "en")
        late = api.press(ANN, confirm, confirm.data("Send"))  # the draft is gone
        assert (await api.answer_to(late))["text"] == kb.text("telegram.stale_button", "en")
        assert len(tickets(bot)) == 1

        # Not staff: /reply, /tickets and /close are unknown commands to Bob, here and in a group.
        for command in ("/reply Q-000001 I am staff, honestly", "/tickets", "/close Q-000001"):
            api.send_text(BOB, command)
            assert (await api.next_message(BOB)).text == unknown
        api.send_text(BOB, "/reply Q-000001 hello", chat=OTHER_GROUP)
        await api.wait_confirmed()
        assert api.unread(OTHER_GROUP) == []
        assert tickets(bot, "status, answer") == [("open", None)]

        # An admin, in a private chat: the open list, then bad references, then the answer.
        api.send_text(ADMIN, "/tickets")
        listing = await api.next_message(ADMIN)
        assert listing.text.startswith(t(kb, "tickets.staff.list_title", count=1))
        assert "Q-000001" in listing.text and PARK_QUESTION in listing.text
        api.send_text(ADMIN, "/reply Q-000099 Hello")
        assert (await api.next_message(ADMIN)).text == t(kb, "tickets.staff.unknown",
                                                         ref="Q-000099")
        api.send_text(ADMIN, "/reply Q-000001")
        assert (await api.next_message(ADMIN)).text == kb.text("tickets.staff.reply_usage", "en")
        api.send_text(ADMIN, f"/reply q-1 {ANSWER}\nSecond line.")
        delivered = await api.next_message(ANN)
        assert f"{ANSWER}\nSecond line." in delivered.text
        done = t(kb, "tickets.staff.delivered", ref="Q-000001")
        assert (await api.next_message(STAFF)).text == done
        assert (await api.next_message(ADMIN)).text == done
        api.send_text(ADMIN, "/reply Q-000001 again")
        assert (await api.next_message(ADMIN)).text == t(
            kb, "tickets.staff.already_answered", ref="Q-000001")
        assert tickets(bot, "status, answered_via") == [("answered", "telegram")]


async def test_send_under_an_older_confirmation_does_not_send_the_newer_question(
        api: FakeBotApi, responder: Responder, kb: KnowledgeBase, tmp_path: Path) -> None:
    stale = kb.text("telegram.stale_button", "en")
    async with staffed_bot(api, responder, tmp_path) as bot:
        await open_staff_chat(api)
        api.send_text(ANN, f"/ask {PARK_QUESTION}")
        first = await api.next_message(ANN)
        api.send_text(ANN, "/ask Is there parking near the service hall?")
        second = await api.next_message(ANN)
        assert PARK_QUESTION in first.text and PARK_QUESTION not in second.text
        cancel = api.press(ANN, first, first.data("Cancel"))  # leaves the newer draft alone
        assert "text" not in await api.answer_to(cancel)
        await api.next_message(ANN)
        late = api.press(ANN, first, first.data("Send"))
        assert (await api.answer_to(late))["text"] == stale
        assert tickets(bot) == []
        api.press(ANN, second, second.data("Send"))
        assert (await api.next_message(ANN)).text == t(kb, "tickets.sent", ref="Q-000001")
        assert tickets(bot, "question") == [("Is there parking near the service hall?",)]


async def test_a_bare_ask_waits_only_so_long_for_its_question(
        api: FakeBotApi, responder: Responder, kb: KnowledgeBase, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(telegram_tickets, "AWAIT_SECONDS", 0.3)
    async with staffed_bot(api, responder, tmp_path) as bot:
        await open_staff_chat(api)
        api.send_text(ANN, "/ask")
        assert (await api.next_message(ANN)).text == kb.text("tickets.ask_prompt", "en")
        await asyncio.sleep(0.6)  # the dialogue times out
        api.send_text(ANN, NONSENSE)  # a question again, answered, not offered to staff
        assert kb.text("services.fallback", "en") in (await api.next_message(ANN)).text
        api.send_text(ANN, f"/ask {PARK_QUESTION}")
        confirm = await api.next_message(ANN)
        await asyncio.sleep(0.6)
        late = api.press(ANN, confirm, confirm.data("Send"))
        assert (await api.answer_to(late))["text"] == kb.text("telegram.stale_button", "en")
        assert tickets(bot) == []
        api.send_text(ANN, f"/ask {PARK_QUESTION}")  # asked again in time: sent
        confirm = await api.next_message(ANN)
        api.press(ANN, confirm, confirm.data("Send"))
        await api.next_message(STAFF)
        assert (await api.next_message(ANN)).text == t(kb, "tickets.sent", ref="Q-000001")


async def test_the_loop_does_not_post_a_ticket_that_send_is_posting(
        api: FakeBotApi, responder: Responder, kb: KnowledgeBase, tmp_path: Path) -> None:
    async with staffed_bot(api, responder, tmp_path) as bot:
        await open_staff_chat(api)
        api.send_text(ANN, f"/ask {PARK_QUESTION}")
        confirm = await api.next_message(ANN)
        api.slow("sendMessage", 1.0)  # the staff chat is busy: the card takes a while
        api.press(ANN, confirm, confirm.data("Send"))
        await eventually(lambda: tickets(bot) == [(1, "open")])
        await bot.services.desk.forward_waiting(bot.services.messenger)  # the retry job's round
        assert (await api.next_message(ANN)).text == t(kb, "tickets.sent", ref="Q-000001")
        await api.next_message(STAFF)
        await asyncio.sleep(0.2)
        assert api.unread(STAFF) == []  # one card, not two


async def test_forget_also_ends_a_bare_ask_waiting_for_its_question(
        api: FakeBotApi, responder: Responder, kb: KnowledgeBase, tmp_path: Path) -> None:
    async with staffed_bot(api, responder, tmp_path) as bot:
        await open_staff_chat(api)
        api.send_text(ANN, "/ask")
        await api.next_message(ANN)
        api.send_text(ANN, "/forget")
        confirm = await api.next_message(ANN)
        api.press(ANN, confirm, confirm.data(kb.text("chat.buttons.forget_yes", "en")))
        await api.next_message(ANN)
        api.send_text(ANN, NONSENSE)  # a question again, answered, not offered to staff
        assert kb.text("services.fallback", "en") in (await api.next_message(ANN)).text
        assert bot.rows("SELECT COUNT(*) FROM enquiries") == [(1,)]


async def test_thumbs_down_offers_staff_and_a_ticket_is_made_once(
        api: FakeBotApi, responder: Responder, kb: KnowledgeBase, tmp_path: Path) -> None:
    async with staffed_bot(api, responder, tmp_path) as bot:
        await open_staff_chat(api)
        api.send_text(ANN, "one stop service")
        answer = await api.next_message(ANN)
        assert kb.text("tickets.buttons.ask", "en") not in answer.labels
        api.press(ANN, answer, answer.data("👎"))
        edited = await api.next_message(ANN)
        assert edited.labels[-1] == kb.text("tickets.buttons.ask", "en")
        assert "👎 Not helpful" not in edited.labels
        api.press(ANN, edited, edited.data("Ask district staff"))
        confirm = await api.next_message(ANN)
        api.press(ANN, confirm, confirm.data("Send"))
        await api.next_message(STAFF)
        assert (await api.next_message(ANN)).text == t(kb, "tickets.sent", ref="Q-000001")
        api.press(ANN, edited, edited.data("Ask district staff"))  # again: the same ticket
        assert (await api.next_message(ANN)).text == t(kb, "tickets.already", ref="Q-000001")
        assert tickets(bot, "question") == [("one stop service",)]

        # In a group there is no such button and /ask points to the private chat.
        api.send_text(ANN, f"@citizen_test_bot {NONSENSE}", chat=OTHER_GROUP)
        assert kb.text("tickets.buttons.ask", "en") not in (
            await api.next_message(OTHER_GROUP)).labels
        api.send_text(ANN, "/ask why?", chat=OTHER_GROUP)
        assert (await api.next_message(OTHER_GROUP)).text == kb.text("tickets.private_only", "en")


async def test_without_a_staff_chat_nothing_is_offered(api: FakeBotApi, responder: Responder,
                                                       kb: KnowledgeBase, tmp_path: Path) -> None:
    async with running_bot(api, responder, tmp_path):
        api.send_text(ANN, NONSENSE)
        assert (await api.next_message(ANN)).labels == [kb.text("chat.buttons.topics", "en")]
        api.send_text(ANN, "/ask hello")
        assert (await api.next_message(ANN)).text == kb.text("tickets.not_enabled", "en")
        assert "ask" not in [c["command"] for c in api.commands["en"]]


async def test_staff_close_a_ticket_without_an_answer(api: FakeBotApi, responder: Responder,
                                                      kb: KnowledgeBase, tmp_path: Path) -> None:
    async with staffed_bot(api, responder, tmp_path) as bot:
        await open_staff_chat(api)
        await hand_over(api, kb)
        card = await api.next_message(STAFF)
        api.send_text(WANG, "/close", chat=STAFF)
        assert (await api.next_message(STAFF)).text == kb.text("tickets.staff.close_usage", "en")
        api.send_text(WANG, "/close Q-000001 a test message, not a question", chat=STAFF)
        assert (await api.next_message(STAFF)).text == t(kb, "tickets.staff.closed_now",
                                                         ref="Q-000001")
        assert tickets(bot, "status, note") == [("closed", "a test message, not a question")]
        api.send_text(WANG, ANSWER, chat=STAFF, reply_to=card)
        assert (await api.next_message(STAFF)).text == t(kb, "tickets.staff.already_closed",
                                                         ref="Q-000001")
        api.send_text(ANN, "/mytickets")
        assert kb.text("tickets.status.closed", "en") in (await api.next_message(ANN)).text
        await api.wait_confirmed()
        assert api.unread(ANN) == []  # the citizen is not told


async def test_too_many_open_tickets_are_refused(api: FakeBotApi, responder: Responder,
                                                  kb: KnowledgeBase, tmp_path: Path) -> None:
    async with staffed_bot(api, responder, tmp_path) as bot:
        await open_staff_chat(api)
        for n in range(MAX_OPEN_PER_USER):
            await bot.store.create_ticket(user_hash=hash_user(SALT, ANN["id"]), chat_id=ANN["id"],
                                          language="en", question=f"question {n}")
        told = await hand_over(api, kb)
        assert told.text == t(kb, "tickets.too_many", count=MAX_OPEN_PER_USER)
        assert len(tickets(bot)) == MAX_OPEN_PER_USER


# --------------------------------------------------------------------------- faults

async def test_a_staff_chat_that_fails_keeps_the_ticket_until_the_next_start(
        api: FakeBotApi, responder: Responder, kb: KnowledgeBase, tmp_path: Path) -> None:
    await open_staff_chat(api, bot_running=False)
    async with staffed_bot(api, responder, tmp_path) as bot:
        api.send_text(ANN, NONSENSE)
        fallback = await api.next_message(ANN)
        api.press(ANN, fallback, fallback.data("Ask district staff"))
        confirm = await api.next_message(ANN)
        # The staff card is the next message the bot sends; Telegram refuses it.
        api.fail("sendMessage", 403, "Forbidden: bot was kicked from the supergroup chat")
        api.press(ANN, confirm, confirm.data("Send"))
        told = await api.next_message(ANN)
        # Recorded at once, posted by a queued job: the citizen hears before the staff chat
        # fails (later tickets, while it keeps failing, are told they are queued).
        assert told.text == t(kb, "tickets.sent", ref="Q-000001")
        await eventually(lambda: tickets(bot, "status, staff_message_id, forward_error") == [
            ("open", None, "Forbidden: bot was kicked from the supergroup chat")])
        # Listed, flagged, in /tickets.
        api.send_text(ADMIN, "/tickets")
        listing = await api.next_message(ADMIN)
        assert "Q-000001" in listing.text
        assert kb.text("tickets.staff.not_forwarded", "en") in listing.text
        assert api.unread(STAFF) == []

    async with staffed_bot(api, responder, tmp_path) as bot:  # the next start
        card = await api.next_message(STAFF)
        assert "Q-000001" in card.text and NONSENSE in card.text
        assert "(held back since" in card.text  # staff see it was late, and since when
        await eventually(lambda: tickets(bot, "status, staff_message_id, forward_error") == [
            ("open", card.message_id, None)])
        api.send_text(WANG, ANSWER, chat=STAFF, reply_to=card)
        assert ANSWER in (await api.next_message(ANN)).text
        assert (await api.next_message(STAFF)).text == t(kb, "tickets.staff.delivered",
                                                         ref="Q-000001")
        assert tickets(bot) == [(1, "answered")]


async def test_an_unknown_staff_chat_is_retried_too(api: FakeBotApi, responder: Responder,
                                                     kb: KnowledgeBase, tmp_path: Path) -> None:
    # The bot is not in the staff group yet: Telegram answers "chat not found".
    async with staffed_bot(api, responder, tmp_path) as bot:
        assert (await hand_over(api, kb)).text == t(kb, "tickets.sent", ref="Q-000001")
        await eventually(lambda: tickets(bot, "forward_error") == [("Chat not found",)])
        api.send_text(BOB, NONSENSE)  # the next ticket, while the staff chat still fails
        fallback = await api.next_message(BOB)
        api.press(BOB, fallback, fallback.data("Ask district staff"))
        confirm = await api.next_message(BOB)
        api.press(BOB, confirm, confirm.data("Send"))
        assert (await api.next_message(BOB)).text == t(kb, "tickets.queued", ref="Q-000002")
    await open_staff_chat(api, bot_running=False)
    async with staffed_bot(api, responder, tmp_path) as bot:
        assert "Q-000001" in (await api.next_message(STAFF)).text
        await eventually(lambda: tickets(bot, "staff_message_id IS NOT NULL") == [(1,), (1,)])


async def test_a_citizen_who_blocked_the_bot_makes_the_ticket_undeliverable(
        api: FakeBotApi, responder: Responder, kb: KnowledgeBase, tmp_path: Path) -> None:
    async with staffed_bot(api, responder, tmp_path) as bot:
        await open_staff_chat(api)
        await hand_over(api, kb)
        card = await api.next_message(STAFF)
        api.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
        api.send_text(WANG, ANSWER, chat=STAFF, reply_to=card)
        notice = await api.next_message(STAFF)
        assert notice.text == t(kb, "tickets.staff.undeliverable", ref="Q-000001",
                                reason="Forbidden: bot was blocked by the user")
        assert notice.message["reply_to_message"]["message_id"] == card.message_id
        assert tickets(bot, "status, answer, note") == [
            ("undeliverable", ANSWER, "Forbidden: bot was blocked by the user")]
        api.send_text(WANG, "/reply Q-000001 trying again", chat=STAFF)
        assert (await api.next_message(STAFF)).text == t(
            kb, "tickets.staff.already_undeliverable", ref="Q-000001")
        api.send_text(ANN, "/mytickets")  # Ann unblocked the bot since
        assert kb.text("tickets.status.undeliverable", "en") in (await api.next_message(ANN)).text


async def test_telegram_unreachable_on_delivery_keeps_the_answer_for_later(
        api: FakeBotApi, responder: Responder, kb: KnowledgeBase, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(telegram_tickets, "PENDING_CHECK_SECONDS", 0.2)
    async with staffed_bot(api, responder, tmp_path) as bot:
        await open_staff_chat(api)
        await hand_over(api, kb)
        card = await api.next_message(STAFF)
        api.fail("sendMessage", 502, "Bad Gateway")
        api.send_text(WANG, ANSWER, chat=STAFF, reply_to=card)
        assert (await api.next_message(STAFF)).text == t(kb, "tickets.staff.delayed",
                                                         ref="Q-000001")
        # The background round delivers it a moment later, and says so.
        assert ANSWER in (await api.next_message(ANN)).text
        assert (await api.next_message(STAFF)).text == t(kb, "tickets.staff.delivered",
                                                         ref="Q-000001")
        assert tickets(bot) == [(1, "answered")]


# --------------------------------------------------------------------------- privacy

async def test_forget_erases_tickets_and_withdraws_them_from_the_staff_chat(
        api: FakeBotApi, responder: Responder, kb: KnowledgeBase, tmp_path: Path) -> None:
    async with staffed_bot(api, responder, tmp_path) as bot:
        await open_staff_chat(api)
        await hand_over(api, kb)
        card = await api.next_message(STAFF)
        await hand_over(api, kb, BOB)
        await api.next_message(STAFF)

        api.send_text(ANN, "/forget")
        confirm = await api.next_message(ANN)
        assert confirm.text.endswith(kb.text("tickets.forget_note", "en"))
        api.press(ANN, confirm, confirm.data("Yes"))
        withdrawn = await api.next_message(STAFF)
        assert withdrawn.method == "editMessageText" and withdrawn.message_id == card.message_id
        assert withdrawn.text == t(kb, "tickets.staff.erased", ref="Q-000001")
        assert NONSENSE not in withdrawn.text
        done = await api.next_message(ANN)
        assert done.text.endswith(t(kb, "tickets.forget_done", count=1))
        assert tickets(bot, "id, user_hash") == [(2, hash_user(SALT, BOB["id"]))]

        api.send_text(WANG, ANSWER, chat=STAFF, reply_to=card)
        assert (await api.next_message(STAFF)).text == kb.text("tickets.staff.not_a_ticket", "en")
        api.send_text(WANG, f"/reply Q-000001 {ANSWER}", chat=STAFF)
        assert (await api.next_message(STAFF)).text == t(kb, "tickets.staff.unknown",
                                                         ref="Q-000001")
        api.send_text(ANN, "/mytickets")
        assert (await api.next_message(ANN)).text == kb.text("tickets.mine_none", "en")
        await api.wait_confirmed()
        assert api.unread(ANN) == []


async def test_closed_tickets_are_purged_after_the_retention_and_open_ones_kept(
        tmp_path: Path) -> None:
    now = datetime(2024, 6, 1, tzinfo=UTC)
    async with await Store.open(tmp_path / "t.db") as store:
        made = [await store.create_ticket(user_hash="h", chat_id=1, language="en",
                                          question=f"q{n}") for n in range(4)]
        await store.record_answer(made[0].id, "a", "cli")
        assert await store.claim_delivery(made[0].id)
        assert not await store.claim_delivery(made[0].id)  # another sender holds it
        assert await store.claim_delivery(made[0].id, now=datetime.now(UTC) + timedelta(hours=1))
        await store.finish_delivery(made[0].id, TicketStatus.ANSWERED)
        await store.close_ticket(made[1].id)
        await store.record_answer(made[2].id, "waiting", "cli")
        assert [t.id for t in await store.pending_answers()] == [made[2].id]
        assert await store.purge_closed_tickets(30, now=now) == 0  # they closed just now
        later = datetime.now(UTC) + timedelta(days=31)
        assert await store.purge_closed_tickets(30, now=later) == 2
        assert [(t.id, t.status) for t in await store.tickets()] == [
            (made[2].id, "open"), (made[3].id, "open")]
        with pytest.raises(ValueError):
            await store.purge_closed_tickets(0)


# --------------------------------------------------------------------------- the command line

async def run_cli(cli: Cli, *args: str, **env: str) -> tuple[int, str, str]:
    """`citizenbot ARGS` in this process, on a thread of its own: it runs its own event loop
    while this one keeps serving the fake Bot API."""
    ran = await asyncio.to_thread(cli, *args, CITIZENBOT_STAFF_LANGUAGE="en", **env)
    return ran.code, ran.out, ran.err


async def test_cli_lists_tickets_and_replies_through_the_bot_api(
        api: FakeBotApi, kb: KnowledgeBase, tmp_path: Path, cli: Cli) -> None:
    db = tmp_path / "log.db"
    api.send_text(ANN, "hello")  # Ann's chat exists at the (fake) Bot API
    await open_staff_chat(api, bot_running=False)
    async with await Store.open(db) as store:
        first = await store.create_ticket(user_hash="a" * 64, chat_id=ANN["id"], language="en",
                                          question=PARK_QUESTION)
        await store.mark_ticket_forwarded(first.id, STAFF["id"], 1)
        await store.create_ticket(user_hash="b" * 64, chat_id=BOB["id"], language="zh",
                                  question="\x1b[31mred\x1b[0m 公园几点开门？")

    code, out, _ = await run_cli(cli, "tickets", "--open")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["REF", "ASKED", "(UTC)"]
    assert lines[1].startswith("Q-000001") and PARK_QUESTION in lines[1] and " open " in lines[1]
    assert lines[2].startswith("Q-000002") and "open, not forwarded" in lines[2]
    assert "公园几点开门？" in lines[2] and "\x1b" not in out  # no terminal escapes from users

    token = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api.base_url,
             "STAFF_CHAT_ID": str(STAFF["id"])}
    code, out, err = await run_cli(cli, "reply", "Q-000001", ANSWER, **token)
    assert (code, out.strip()) == (0, "Delivered the answer to Q-000001."), err
    delivered = await api.next_message(ANN)
    assert ANSWER in delivered.text and kb.text("tickets.answer_note", "en") in delivered.text
    confirmed = await api.next_message(STAFF)
    assert confirmed.text == t(kb, "tickets.staff.delivered", ref="Q-000001")
    assert TOKEN.split(":")[1] not in out + err

    code, _, err = await run_cli(cli, "reply", "Q-000001", "again", **token)
    assert code == 1 and "already answered" in err
    code, _, err = await run_cli(cli, "reply", "Q-000077", "hello", **token)
    assert code == 1 and "no ticket Q-000077" in err
    code, _, err = await run_cli(cli, "reply", "yesterday", "hello", **token)
    assert code == 2 and "not a ticket reference" in err

    code, out, _ = await run_cli(cli, "tickets")
    assert "answered" in out.splitlines()[1] and "2 tickets, 1 open." in out


async def test_cli_reply_when_telegram_cannot_be_reached_leaves_it_to_the_bot(
        api: FakeBotApi, kb: KnowledgeBase, tmp_path: Path, cli: Cli) -> None:
    async with await Store.open(tmp_path / "log.db") as store:
        await store.create_ticket(user_hash="a" * 64, chat_id=ANN["id"], language="en",
                                  question=PARK_QUESTION)
    api.fail("getMe", 502, "Bad Gateway")
    code, out, err = await run_cli(cli, "reply", "Q-000001", ANSWER,
                                   TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api.base_url)
    assert code == 0, err
    assert out.startswith("Recorded the answer to Q-000001, but Telegram could not be reached")
    with sqlite3.connect(tmp_path / "log.db") as conn:
        assert conn.execute("SELECT status, answer, claim_ts FROM tickets").fetchall() == [
            ("open", ANSWER, None)]  # waiting, and free for the running bot to deliver


async def test_cli_reply_without_a_token_is_delivered_by_the_running_bot(
        api: FakeBotApi, responder: Responder, kb: KnowledgeBase, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, cli: Cli) -> None:
    db = tmp_path / "citizenbot.db"
    env = {"CITIZENBOT_DB": str(db)}
    async with staffed_bot(api, responder, tmp_path):
        await open_staff_chat(api)
        await hand_over(api, kb)
        await hand_over(api, kb, BOB, "plugh frobnicate quux")
        await api.next_message(STAFF)
        await api.next_message(STAFF)
    # The bot is stopped: the answer is only recorded.
    code, out, err = await run_cli(cli, "reply", "Q-000001", ANSWER, **env)
    assert code == 0 and out.startswith("Recorded the answer to Q-000001."), err
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status, answer, answered_via FROM tickets WHERE id = 1"
                            ).fetchall() == [("open", ANSWER, "cli")]
    assert api.unread(ANN) == []

    monkeypatch.setattr(telegram_tickets, "PENDING_CHECK_SECONDS", 0.2)
    async with staffed_bot(api, responder, tmp_path) as bot:
        # At start the bot delivers what was recorded while it was down...
        assert ANSWER in (await api.next_message(ANN)).text
        assert (await api.next_message(STAFF)).text == t(kb, "tickets.staff.delivered",
                                                         ref="Q-000001")
        # ... and while it runs, within a few seconds of `citizenbot reply`.
        code, out, _ = await run_cli(cli, "reply", "Q-000002", "Second answer", **env)
        assert code == 0
        assert "Second answer" in (await api.next_message(BOB)).text
        assert (await api.next_message(STAFF)).text == t(kb, "tickets.staff.delivered",
                                                         ref="Q-000002")
        assert tickets(bot, "id, status, answered_via") == [(1, "answered", "cli"),
                                                             (2, "answered", "cli")]


# --------------------------------------------------------------------------- the pure parts

def test_references_ages_and_settings() -> None:
    assert reference(42) == "Q-000042" and reference(1234567) == "Q-1234567"
    for text in ("Q-000042", "q-42", "Q42", "42", " Q-000042 "):
        assert parse_reference(text) == 42
    for text in ("Q-", "Q-0", "QQ-1", "-1", "Q-1a", ""):
        assert parse_reference(text) is None
    now = datetime(2024, 6, 10, 12, 0, tzinfo=UTC)
    assert age((now - timedelta(minutes=5)).isoformat(), now) == "5 min"
    assert age((now - timedelta(hours=5)).isoformat(), now) == "5 h"
    assert age((now - timedelta(days=2, hours=3)).isoformat(), now) == "2 d 3 h"
    assert age((now - timedelta(days=30)).isoformat(), now) == "30 d"
    assert one_line("a\nb\tc\x1b[0m", 80) == "a b c [0m"
    assert one_line("x" * 100, 10) == "x" * 9 + "…"

    settings = load_settings({"STAFF_CHAT_ID": "-1001234", "ADMIN_IDS": "7, 8"})
    assert settings.staff_chat_id == -1001234 and settings.admin_ids == {7, 8}
    assert settings.staff_language == "zh"
    assert load_settings({}).staff_chat_id is None
    with pytest.raises(SettingsError, match="STAFF_CHAT_ID"):
        load_settings({"STAFF_CHAT_ID": "staff"})
    with pytest.raises(SettingsError, match="CITIZENBOT_STAFF_LANGUAGE"):
        load_settings({"CITIZENBOT_STAFF_LANGUAGE": "fr"})


@given(st.one_of(
    st.builds(cb.AskStaff, st.integers(1, 10**17)),
    st.builds(cb.SendTicket, st.booleans(), st.from_regex(r"[0-9a-f]{8}", fullmatch=True),
              st.none() | st.integers(1, 10**17)),
))
def test_ticket_buttons_round_trip_and_fit(action: cb.Action) -> None:
    encoded = cb.encode(action, KEY)
    assert len(encoded.encode()) <= 64 and cb.decode(encoded, KEY) == action


async def test_the_html_report_shows_open_tickets_and_their_age(tmp_path: Path,
                                                                cli: Cli) -> None:
    db = tmp_path / "log.db"
    asked = datetime.now(UTC) - timedelta(days=2, hours=3)
    async with await Store.open(db) as store:
        waiting = await store.create_ticket(user_hash="a" * 64, chat_id=1, language="zh",
                                            question="<script>alert(1)</script> 公园？", ts=asked)
        done = await store.create_ticket(user_hash="b" * 64, chat_id=2, language="en",
                                         question="answered already")
        await store.record_answer(done.id, "yes", "cli")
        await store.finish_delivery(done.id, TicketStatus.ANSWERED)
    out = tmp_path / "report.html"
    code, _, err = await run_cli(cli, "report", "--out", str(out))
    assert code == 0, err
    page = out.read_text(encoding="utf-8")
    assert 'id="tickets"' in page and "1 open ticket," in page
    assert f'data-ref="{reference(waiting.id)}"' in page and "answered already" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 公园？" in page and "<script>" not in page
    assert ">2 d 3 h<" in page and "not yet in the staff chat" in page and "Chinese" in page


def test_a_staff_card_stays_one_message_whatever_the_question(kb: KnowledgeBase) -> None:
    from citizenbot.html_text import split_html
    from citizenbot.tickets import staff_card

    worst = Ticket(id=42, ts="2026-01-01T00:00:00.000000+00:00", user_hash="ab" * 32,
                   chat_id=1, language="en", question="&<" * 500, enquiry_id=None,
                   status=TicketStatus.OPEN)
    assert len(split_html(staff_card(worst, kb, "en"))) == 1
