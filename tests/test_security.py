"""Security: secrets stay secret, what is stored is pseudonymous and owner-only, and nothing a
user (or a forged client) sends can make the bot misbehave.

See also: test_telegram (the token in DEBUG logs, the webhook's secret header, altered buttons),
test_hostile_input (any text through the core), test_staff_tools (CSV formula injection).
"""

from __future__ import annotations

import io
import logging
import os
import stat
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from citizenbot import callback_data as cb
from citizenbot.core.followup import Previous
from citizenbot.core.knowledge import KnowledgeBase
from citizenbot.core.responder import Reply, Responder
from citizenbot.model import Transport
from citizenbot.service import Asker, hash_user
from citizenbot.store import Store, load_or_create_salt
from fake_bot_api import FakeBotApi
from harness import (
    ANSWERED,
    KEY,
    SALT,
    TOKEN,
    TOKEN_SECRET,
    eventually,
    fill_disk,
    make_service,
    running_bot,
)
from test_hostile_input import NASTY

LEAKY = f"could not reach https://api.telegram.org/bot{TOKEN}/sendMessage with token {TOKEN}"


@contextmanager
def formatted_logs(level: int = logging.DEBUG) -> Iterator[io.StringIO]:
    """Everything logged meanwhile, formatted as a log file would have it (tracebacks too)."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


class LeakyResponder(Responder):
    """A responder whose failure message carries the token, as a careless library's might."""

    def respond(self, question: str, lang: str | None = None,
                previous: Previous | None = None) -> Reply:
        if "boom" in question:
            try:
                raise ConnectionError(LEAKY)
            except ConnectionError as exc:
                raise RuntimeError(f"answering failed: {exc}") from exc
        return super().respond(question, lang, previous)


def everything_sent(api: FakeBotApi) -> str:
    return "\n".join(repr(call.params) for call in api.calls)


# --------------------------------------------------------------------------- secrets

async def test_a_token_inside_an_error_reaches_neither_logs_nor_tracebacks_nor_the_user(
        api: FakeBotApi, kb: KnowledgeBase, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    user = FakeBotApi.user(31337, "Eve")
    with formatted_logs() as logged:
        async with running_bot(api, LeakyResponder(kb), tmp_path):
            api.send_text(user, "boom")
            sorry = await api.next_message(user)
            logging.getLogger("citizenbot.test").warning("a careless line: %s", LEAKY)
            logging.getLogger("citizenbot.test").debug("url-encoded: %s",
                                                       TOKEN.replace(":", "%3A"))
    assert sorry.text == kb.text("telegram.error", "en")  # the user sees a fixed apology
    text = logged.getvalue()
    assert "Traceback" in text and "answering failed" in text  # the error was logged in full
    assert "<redacted>" in text
    assert TOKEN_SECRET not in text and TOKEN_SECRET not in caplog.text
    for record in caplog.records:
        assert TOKEN_SECRET not in record.getMessage()
        assert TOKEN_SECRET not in (record.exc_text or "")
    # Nothing the bot sent to Telegram carries it either (the URL path does, as it must).
    assert TOKEN_SECRET not in everything_sent(api)


async def test_the_salt_is_never_logged_and_files_are_owner_only_whatever_the_umask(
        responder: Responder, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    db = tmp_path / "data" / "citizenbot.db"
    old_umask = os.umask(0)  # the most careless setting: files would come out 0666
    try:
        with formatted_logs() as logged:
            salt = load_or_create_salt(db.with_name(db.name + ".salt"))
            store = await Store.open(db)
            service = make_service(responder, store, db)
            await service.ask(Asker(Transport.TELEGRAM, "private", hash_user(salt, 1)), "q")
            await fill_disk(store)  # filled to the brim: the next rows go to the journal
            for n in range(300):
                await service.ask(Asker(Transport.TELEGRAM, "private", hash_user(salt, n)),
                                  "q" * 900)
            assert service.journaled
            files = [p for p in db.parent.iterdir()]
            assert {p.name for p in files} >= {"citizenbot.db", "citizenbot.db.salt",
                                               "citizenbot.db-wal", "citizenbot.db-shm",
                                               "citizenbot.db.journal.jsonl"}
            for path in files:
                assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
            await store.close()
    finally:
        os.umask(old_umask)
    assert salt not in logged.getvalue() and salt not in caplog.text


# --------------------------------------------------------------------------- what is stored

def id_forms(user_id: int) -> list[bytes]:
    """Every way a user id could sit in a file: text, and SQLite's big-endian integers."""
    forms = [str(user_id).encode(), str(user_id).encode("utf-16-le")]
    for width in (4, 6, 8):
        if user_id < 1 << (8 * width - 1):
            forms.append(user_id.to_bytes(width, "big"))
            forms.append(user_id.to_bytes(width, "little"))
    forms.append(struct.pack(">d", float(user_id)))
    return forms


async def test_user_ids_reach_the_database_only_as_salted_hashes(
        api: FakeBotApi, responder: Responder, tmp_path: Path) -> None:
    users = [FakeBotApi.user(7_123_456_789 + n, f"Zebulon{n}", "en", username=f"zeb_secret_{n}")
             for n in range(3)]
    group = api.group(-1009876543210987)
    async with running_bot(api, responder, tmp_path) as bot:
        for user in users:
            api.send_text(user, ANSWERED)
            answer = await api.next_message(user)
            api.press(user, answer, answer.data("👍"))
            await api.next_message(user)  # the buttons lose the vote row
        api.send_text(users[0], f"@citizen_test_bot {ANSWERED}", chat=group)
        await api.next_message(group)
        db_path = bot.settings.db_path
        assert bot.rows("SELECT COUNT(*) FROM enquiries") == [(4,)]
        assert bot.rows("SELECT COUNT(*) FROM feedback") == [(3,)]
    files = [p for p in db_path.parent.iterdir() if p.name.startswith(db_path.name)]
    data = b"".join(p.read_bytes() for p in files)
    for user in users:
        assert hash_user(SALT, user["id"]).encode() in data  # stored, as the hash
        for form in id_forms(user["id"]):
            assert form not in data, (user["id"], form)
        assert user["first_name"].encode() not in data and user["username"].encode() not in data
    for form in id_forms(-group["id"]):
        assert form not in data
    assert SALT.encode() not in data and bytes.fromhex(SALT) not in data


# --------------------------------------------------------------------------- forged and odd input

@given(st.text(max_size=80))
def test_no_text_at_all_passes_for_button_data_and_none_breaks_the_check(data: str) -> None:
    with pytest.raises(cb.CallbackDataError):
        cb.decode(data, KEY)


@given(st.sampled_from([cb.ShowIntent("one-stop-service"), cb.Feedback(1, True),
                        cb.Forget(True, "0123abcd"), cb.SetLanguage("zh")]))
def test_a_button_signed_by_another_installation_is_refused(action: cb.Action) -> None:
    forged = cb.encode(action, cb.derive_key("another installation's salt, also secret"))
    with pytest.raises(cb.CallbackDataError, match="tampered"):
        cb.decode(forged, KEY)


HOSTILE_BUTTONS = ["\ud800", "1|f|1|1|\udfff", "1|x|1|" + "0" * 8 + "|AAAAAAAA",
                   "1|f|1 OR 1=1|1|AAAAAAAA", "<b>1|i|x</b>", "1|i|../../etc/passwd|AAAAAAAA",
                   "🏛️" * 16, "1|" + "|" * 62]


async def test_forged_buttons_get_a_short_notice_and_no_error(
        api: FakeBotApi, responder: Responder, kb: KnowledgeBase, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    user = FakeBotApi.user(4242, "Mallory")
    async with running_bot(api, responder, tmp_path) as bot:
        api.send_text(user, ANSWERED)
        answer = await api.next_message(user)
        for data in HOSTILE_BUTTONS:
            query = api.press(user, answer, data)
            assert (await api.answer_to(query))["text"] == kb.text("telegram.stale_button", "en")
        assert bot.rows("SELECT COUNT(*) FROM feedback") == [(0,)]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_hostile_messages_through_telegram_get_one_safe_reply_each(
        api: FakeBotApi, responder: Responder, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    texts = [t for t in NASTY if t.strip()] + [
        "</blockquote><a href='javascript:alert(1)'>x</a>", "&amp;lt;script&amp;gt;", "<",
        "a < b & c > d", "\u202e\u2066🇨🇳\u2069", "\x00" * 10 + "税收", "SELECT * FROM feedback;--",
        "{{7*7}} ${7*7} %s %n", "\\x00\\n", "=cmd|'/c calc'!A1", "@admin /forget",
    ]
    async with running_bot(api, responder, tmp_path, rate_limit=1000) as bot:
        for n, text in enumerate(texts):
            user = FakeBotApi.user(5000 + n, "Tester")
            api.send_text(user, text)
        # The fake refuses a reply whose HTML does not parse or that is over 4096 characters,
        # so one reply in each chat means: answered, safely escaped, within Telegram's limits.
        await eventually(lambda: len([s for s in api.sent if s.method == "sendMessage"])
                         >= len(texts), timeout=20)
        await api.wait_confirmed()
        for n, text in enumerate(texts):
            replies = [s for s in api.sent if s.chat_id == 5000 + n]
            assert len(replies) == 1, text[:40]
            if len(text.strip()) > 3 and text.strip() not in "<>&":
                assert text.strip()[:40] not in replies[0].html  # never echoed unescaped
        assert bot.rows("SELECT COUNT(*) FROM enquiries") == [(len(texts),)]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [c for c in api.calls if not c.ok]
    print(f"hostile inputs through Telegram: {len(texts)} messages, {len(texts)} safe replies")
