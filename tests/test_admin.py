"""Staff commands in Telegram (/stats, /unanswered, /reload), through the fake Bot API.

Only ADMIN_IDS users in a private chat may use them; anyone else gets exactly the reply an
unknown command gets. /reload keeps the old knowledge base when the new one has problems.
"""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from citizenbot.core.knowledge import KnowledgeBase, default_directory
from citizenbot.core.responder import Responder
from citizenbot.model import Enquiry
from citizenbot.telegram.admin import reload_knowledge_base
from fake_bot_api import FakeBotApi
from harness import ANN, ANSWERED, NONSENSE, running_bot

STAFF = FakeBotApi.user(4242, "Staff", "en")
STAFF_ZH = FakeBotApi.user(4343, "Wang", "zh-hans")
ADMINS = frozenset({STAFF["id"], STAFF_ZH["id"]})
NEW_EXAMPLE = "zorblax frobnication permit"


def copy_kb(tmp_path: Path) -> Path:
    directory = tmp_path / "kb"
    shutil.copytree(default_directory(), directory)
    return directory


def add_example(directory: Path, after: str, example: str) -> None:
    path = directory / "business.yml"
    text = path.read_text(encoding="utf-8")
    line = f"        - {after}\n"
    assert line in text
    path.write_text(text.replace(line, f"{line}        - {example}\n", 1), encoding="utf-8")


def enquiry(question: str, status: str, ts: datetime, intent: str | None = None) -> Enquiry:
    return Enquiry(transport="telegram", user_hash="ab" * 32, chat_type="private",
                   language="en", question=question, status=status, intent=intent,
                   score=50.0 if intent else 10.0, latency_ms=1.0, ts=ts)


# A reload builds the whole knowledge base before it can say whether the new one is sound:
# as long as a start-up (about 4 s here, more on a busy CI machine), so its reply gets longer.
RELOAD_WAIT = 60.0


async def ask(api: FakeBotApi, user: dict[str, object], text: str,
              timeout: float = 5.0) -> str:
    api.send_text(user, text)
    return (await api.next_message(user, timeout)).text


# --------------------------------------------------------------------------- who may use them

async def test_others_get_exactly_the_unknown_command_reply(
        api: FakeBotApi, responder: Responder, tmp_path: Path, kb: KnowledgeBase) -> None:
    async with running_bot(api, responder, tmp_path, admin_ids=ADMINS):
        api.send_text(ANN, "/nosuchcommand")
        unknown = await api.next_message(ANN)
        assert unknown.text == kb.text("admin.unknown_command", "en")
        for command in ("/stats", "/unanswered", "/reload", "/STATS", "/stats@citizen_test_bot"):
            api.send_text(ANN, command)
            refused = await api.next_message(ANN)
            assert (refused.text, refused.html, refused.buttons) == (
                unknown.text, unknown.html, unknown.buttons), command
        # Known commands are not taken for unknown ones (one reply each, the right one).
        api.send_text(ANN, "/help")
        assert (await api.next_message(ANN)).text.startswith(
            kb.text("services.help", "en")[:20])
        api.send_text(ANN, ANSWERED)
        assert "one" in (await api.next_message(ANN)).text.lower()
        assert api.unread(ANN) == []


async def test_no_admin_ids_means_nobody_and_groups_never_see_staff_replies(
        api: FakeBotApi, responder: Responder, tmp_path: Path, kb: KnowledgeBase) -> None:
    async with running_bot(api, responder, tmp_path):  # ADMIN_IDS empty
        api.send_text(STAFF, "/stats")
        assert (await api.next_message(STAFF)).text == kb.text("admin.unknown_command", "en")
    async with running_bot(api, responder, tmp_path, admin_ids=ADMINS):
        group = FakeBotApi.group()
        # An admin in a group: treated as an unknown command there, which is silence (it may
        # be meant for another bot); the group's next reply is for the question after it.
        api.send_text(STAFF, "/stats", chat=group)
        api.send_text(STAFF, "/nosuchcommand", chat=group)
        api.send_text(STAFF, f"@citizen_test_bot {ANSWERED}", chat=group)
        first = await api.next_message(group)
        assert "<blockquote>" in first.html
        assert api.unread(group) == []


# --------------------------------------------------------------------------- /stats

async def test_stats_shows_today_and_the_last_7_days(api: FakeBotApi, responder: Responder,
                                                     tmp_path: Path, kb: KnowledgeBase) -> None:
    async with running_bot(api, responder, tmp_path, admin_ids=ADMINS) as bot:
        now = datetime.now(UTC)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        three_days_ago = midnight - timedelta(days=3) + timedelta(hours=1)
        await bot.store.log_enquiry(enquiry("how to register a company", "answered",
                                            three_days_ago, "one-stop-service"))
        await bot.store.log_enquiry(enquiry("where is the blorp office", "fallback",
                                            three_days_ago))
        await bot.store.log_enquiry(enquiry("ancient question", "fallback",
                                            midnight - timedelta(days=10)))
        await ask(api, ANN, ANSWERED)
        await ask(api, ANN, NONSENSE)
        await ask(api, ANN, NONSENSE + "!")  # the same question, asked again

        text = await ask(api, STAFF, "/stats")
        assert kb.text("admin.stats.title", "en") in text
        assert "Today: 3 enquiries, 33% answered (1 answered, 0 did-you-mean, " \
               "2 not answered)" in text
        assert "Last 7 days: 5 enquiries, 40% answered (2 answered, 0 did-you-mean, " \
               "3 not answered)" in text
        top, unanswered = text.split(kb.text("admin.stats.top_intents", "en"))[1].split(
            kb.text("admin.stats.top_unanswered", "en"))
        title = kb.intent("one-stop-service").title("en")  # type: ignore[union-attr]
        assert f"1. {title} — 2" in top
        assert f"1. “{NONSENSE}!” × 2" in unanswered or f"1. “{NONSENSE}” × 2" in unanswered
        assert "blorp office" in unanswered and "ancient question" not in text

        zh = await ask(api, STAFF_ZH, "/stats")
        assert kb.text("admin.stats.title", "zh") in zh
        assert kb.intent("one-stop-service").title("zh") in zh  # type: ignore[union-attr]


async def test_stats_on_an_empty_log(api: FakeBotApi, responder: Responder, tmp_path: Path,
                                     kb: KnowledgeBase) -> None:
    async with running_bot(api, responder, tmp_path, admin_ids=ADMINS):
        text = await ask(api, STAFF, "/stats")
        assert "Today: 0 enquiries, – answered" in text
        assert text.count(kb.text("admin.stats.none", "en")) == 2


# --------------------------------------------------------------------------- /unanswered

async def test_unanswered_lists_the_latest_ten_newest_first_as_text(
        api: FakeBotApi, responder: Responder, tmp_path: Path, kb: KnowledgeBase) -> None:
    async with running_bot(api, responder, tmp_path, admin_ids=ADMINS) as bot:
        assert await ask(api, STAFF, "/unanswered") == kb.text("admin.unanswered.none", "en")
        start = datetime.now(UTC) - timedelta(hours=1)
        for i in range(12):
            await bot.store.log_enquiry(enquiry(f"question number {i}",
                                                "clarify" if i % 2 else "fallback",
                                                start + timedelta(minutes=i)))
        await bot.store.log_enquiry(enquiry("answered one", "answered",
                                            start + timedelta(minutes=30), "one-stop-service"))
        await bot.store.log_enquiry(enquiry("<script>alert('x')</script> & more", "fallback",
                                            start + timedelta(minutes=40)))
        api.send_text(STAFF, "/unanswered")
        sent = await api.next_message(STAFF)
        lines = [line for line in sent.text.splitlines() if line]
        assert lines[0] == kb.text("admin.unanswered.title", "en").replace("{count}", "10")
        assert len(lines) == 11
        assert lines[1].endswith("· not answered · <script>alert('x')</script> & more")
        assert "&lt;script&gt;" in sent.html  # escaped in the HTML, plain in the chat
        assert [re.sub(r".* · ", "", line) for line in lines[2:]] == [
            f"question number {i}" for i in range(11, 2, -1)]
        assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d · did you mean · question number 11$",
                        lines[2])
        assert "answered one" not in sent.text


# --------------------------------------------------------------------------- /reload

async def test_reload_swaps_in_the_new_knowledge_base(api: FakeBotApi, responder: Responder,
                                                      tmp_path: Path) -> None:
    directory = copy_kb(tmp_path)
    async with running_bot(api, responder, tmp_path, admin_ids=ADMINS,
                           intents_dir=directory) as bot:
        api.send_text(ANN, NEW_EXAMPLE)
        assert "<blockquote>" not in (await api.next_message(ANN)).html
        add_example(directory, "one stop service", NEW_EXAMPLE)
        text = await ask(api, STAFF, "/reload", RELOAD_WAIT)
        kb = bot.services.kb
        assert kb is not responder.kb
        examples = sum(len(i.examples) for i in kb.intents)
        assert text == (f"Knowledge base reloaded: {len(kb.intents)} intents, "
                        f"{examples} examples.")
        api.send_text(ANN, NEW_EXAMPLE)
        assert "<blockquote>" in (await api.next_message(ANN)).html
        assert bot.rows("SELECT intent FROM enquiries ORDER BY id DESC LIMIT 1") == [
            ("one-stop-service",)]
        assert (bot.reloads("ok"), bot.reloads("failed")) == (1, 0)


@pytest.mark.parametrize("breakage", ["bad yaml", "bad quote", "missing admin texts"])
async def test_reload_with_a_broken_file_keeps_the_old_knowledge_base(
        api: FakeBotApi, responder: Responder, tmp_path: Path, breakage: str,
        caplog: pytest.LogCaptureFixture) -> None:
    directory = copy_kb(tmp_path)
    async with running_bot(api, responder, tmp_path, admin_ids=ADMINS,
                           intents_dir=directory) as bot:
        add_example(directory, "one stop service", NEW_EXAMPLE)  # would be picked up...
        if breakage == "bad yaml":
            (directory / "broken.yml").write_text("area: business\nintents: [\n")
            expected = "broken.yml"
        elif breakage == "bad quote":
            path = directory / "parks.yml"
            text = path.read_text(encoding="utf-8")
            real = "With the rapid development of modern financial industry"
            assert real in text
            path.write_text(text.replace(real, "With the invented development of fake industry"),
                            encoding="utf-8")
            expected = "parks.yml"
        else:
            (directory / "texts.admin.yml").unlink()
            expected = "admin.unknown_command"
        sent = await ask(api, STAFF, "/reload", RELOAD_WAIT)
        assert sent.startswith("Not reloaded: the knowledge base has ")
        assert "The previous one is still in use." in sent
        assert expected in sent
        assert bot.services.responder is responder  # ...but the old one still serves
        api.send_text(ANN, NEW_EXAMPLE)
        assert "<blockquote>" not in (await api.next_message(ANN)).html
        api.send_text(ANN, ANSWERED)
        assert "<blockquote>" in (await api.next_message(ANN)).html
        assert (bot.reloads("ok"), bot.reloads("failed")) == (0, 1)
        assert any("kept the previous knowledge base" in r.getMessage()
                   for r in caplog.records)


async def test_concurrent_reloads_do_not_overlap(api: FakeBotApi, responder: Responder,
                                                 tmp_path: Path) -> None:
    import asyncio

    directory = copy_kb(tmp_path)
    async with running_bot(api, responder, tmp_path, intents_dir=directory) as bot:
        results = await asyncio.gather(*(reload_knowledge_base(bot.app) for _ in range(3)))
        assert results == [[], [], []]
        assert bot.reloads("ok") == 3


async def test_a_long_list_of_problems_is_cut_and_still_sent(
        api: FakeBotApi, responder: Responder, tmp_path: Path) -> None:
    directory = copy_kb(tmp_path)
    async with running_bot(api, responder, tmp_path, admin_ids=ADMINS,
                           intents_dir=directory):
        for i in range(30):
            (directory / f"broken{i:02}.yml").write_text("intents: [\n")
        api.send_text(STAFF, "/reload")
        sent = await api.next_message(STAFF, RELOAD_WAIT)
        assert sent.text.startswith("Not reloaded")
        assert sent.text.count("• ") == 20
        more = re.search(r"… and (\d+) more", sent.text)
        assert more is not None and int(more.group(1)) >= 10
