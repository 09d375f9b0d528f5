"""Many users at once through the real python-telegram-bot application: nothing missed, nothing
doubled. The counts are checked here; the times are only printed (bench/load measures them at
200 users x 20 questions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from citizenbot.core.responder import Responder
from load_driver import drive

pytestmark = pytest.mark.slow


async def test_twenty_users_asking_ten_questions_at_once_each_get_every_answer_once(
        responder: Responder, tmp_path: Path) -> None:
    # Production settings, Telegram's overall limit of 30 messages a second included.
    figures, audit = await drive(20, 10, responder=responder, directory=tmp_path)
    audit.assert_exact()
    assert figures["messages"] == figures["replies"] == figures["log_rows"] == 200
    assert figures["timeouts"] == 0 and figures["answered_twice"] == 0
    print(f"20 users x 10 questions: {figures['messages_per_s']} messages/s, reply p50 "
          f"{figures['reply_p50_ms']} ms, p99 {figures['reply_p99_ms']} ms (30/s cap on)")
