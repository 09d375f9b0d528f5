"""The terminal chat as a person uses it: typed lines in, the screen out.

Most stories pipe lines into `citizenbot chat` in this process (harness.Cli) and read the
transcript; the line-editing story runs it on a pseudo-terminal, as a shell would, and presses
the arrow keys.
"""

from __future__ import annotations

import os
import pty
import re
import select
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from citizenbot.core.knowledge import KnowledgeBase
from harness import Cli, subprocess_env

FINANCIAL_PARK = "what is the financial industry park"


def logged(db: Path, columns: str = "question, status") -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT {columns} FROM enquiries ORDER BY id").fetchall()


def turns(out: str) -> list[str]:
    """What the chat printed after each line typed (the first: the banner and greeting)."""
    return [re.sub(r"^you> .*\n", "", t, count=1) for t in re.split(r"(?m)^(?=you> )", out)]


def quotes(turn: str) -> set[str]:
    """The report's words quoted in a reply (each in a paragraph of its own)."""
    return {p for p in turn.split("\n\n") if p.startswith("“")}


def choices(out: str) -> list[str]:
    """The numbered choices of the last list printed."""
    blocks = re.findall(r"((?:^  +\d+\. .*\n)+)", out, flags=re.M)
    return [re.sub(r"^ +\d+\. ", "", line) for line in blocks[-1].splitlines()] if blocks else []


# --------------------------------------------------------------------------- 1. commands

def test_the_commands_mean_what_they_mean_in_telegram_and_are_not_logged(
        cli: Cli, kb: KnowledgeBase, tmp_path: Path) -> None:
    result = cli("chat", stdin="/help\n/about\n/topics\n/ask\n/mytickets\n/frobnicate\n")
    assert result.code == 0, result.err
    out = result.out
    assert kb.text("services.help", "en") in out
    # /about: the day the report was delivered, and its title as people write it.
    assert "27 January 2021" in out and "2021-02-25" not in out
    assert "Report in 2021(English Version)" not in out
    assert kb.text("chat.report_title", "en") in out
    # /topics: the areas, numbered, as Telegram shows them as buttons.
    assert choices(out.split(kb.text("console.staff_in_telegram", "en"))[0]) == [
        kb.text(f"areas.{a}", "en") for a in ("business", "talent", "parks", "plans")]
    assert out.count(kb.text("console.staff_in_telegram", "en")) == 2  # /ask and /mytickets
    assert kb.text("admin.unknown_command", "en") in out
    assert kb.text("services.fallback", "en") not in out  # no command was taken as a question
    assert logged(tmp_path / "log.db") == []


def test_topics_are_browsed_by_number_and_each_number_is_a_choice_only_while_listed(
        cli: Cli, kb: KnowledgeBase, tmp_path: Path) -> None:
    parks = kb.by_area()["parks"]
    result = cli("chat", stdin="1\n/topics\n3\n1\n")
    assert result.code == 0, result.err
    _, topics, area, answer = turns(result.out)[1:]
    # "1" before any list is a question like any other (and logged as one).
    assert kb.text("chat.topics", "en") in topics
    assert choices(area) == [i.label("en") for i in parks] + [
        kb.text("chat.buttons.all_topics", "en")]
    assert parks[0].excerpts[0].text in answer and "Source: " in answer
    assert [(q, i) for q, i in logged(tmp_path / "log.db", "question, intent")][-1] == (
        parks[0].title("en"), parks[0].id)
    assert [q for q, in logged(tmp_path / "log.db", "question")] == ["1", parks[0].title("en")]


def test_a_did_you_mean_choice_is_logged_under_the_question_and_a_number_past_the_list_is_not_one(
        cli: Cli, kb: KnowledgeBase, tmp_path: Path) -> None:
    result = cli("chat", stdin="park\n1\n2025\n")
    assert result.code == 0, result.err
    clarify = turns(result.out)[-3]
    assert kb.text("labels.clarify", "en") in clarify
    offered = choices(clarify)
    assert len(offered) >= 3 and offered[-1] == kb.text("chat.buttons.topics", "en")
    rows = logged(tmp_path / "log.db", "question, status, intent")
    assert rows[:2] == [("park", "clarify", None), ("park", "answered", rows[1][2])]
    assert kb.intent(str(rows[1][2])).label("en") == offered[0]  # type: ignore[union-attr]
    # The answer's list had fewer than 2025 entries: the number is a question.
    assert rows[2][0] == "2025"


def test_feedback_lang_and_forget_are_numbered_choices(cli: Cli, kb: KnowledgeBase,
                                                       tmp_path: Path) -> None:
    result = cli("chat", stdin="one stop service\n4\n/forget\n2\n/forget\n1\n")
    assert result.code == 0, result.err
    answer, thanks, confirm, cancelled, _, done = turns(result.out)[1:]
    assert choices(answer)[-2:] == ["👍 Helpful", "👎 Not helpful"]
    assert thanks.strip() == kb.text("chat.feedback_thanks", "en")
    assert choices(confirm) == ["Yes, delete my data", "Cancel"]
    assert cancelled.strip() == kb.text("chat.forget_cancelled", "en")
    assert done.strip() == "Done. 1 logged question and its feedback were deleted."
    with sqlite3.connect(tmp_path / "log.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM enquiries").fetchone() == (0,)
        assert conn.execute("SELECT COUNT(*) FROM feedback").fetchone() == (0,)


def test_arrow_keys_edit_the_line_and_recall_the_last_one(tmp_path: Path) -> None:
    """On a real terminal: ← moves the cursor (no ^[[D on screen), ↑ brings a line back."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the chat on the pseudo-terminal
        env = subprocess_env(CITIZENBOT_DB=str(tmp_path / "log.db"), HOME=str(tmp_path),
                             TERM="xterm")
        os.chdir(tmp_path)
        os.execve(sys.executable, [sys.executable, "-m", "citizenbot.cli", "chat"], env)
    screen = b""

    def read_until(marker: bytes, times: int = 1, timeout: float = 60) -> bytes:
        """The screen so far, once ``marker`` is on it ``times`` times."""
        nonlocal screen
        deadline = time.monotonic() + timeout
        while screen.count(marker) < times:
            assert time.monotonic() < deadline, screen.decode(errors="replace")[-2000:]
            if select.select([fd], [], [], 0.5)[0]:
                screen += os.read(fd, 65536)
        return screen

    try:
        read_until(b"you> ")
        # "ne stop service", then ← fifteen times to the start of the line and the missing "o".
        os.write(fd, b"ne stop service" + b"\x1b[D" * 15 + b"o\r")
        read_until(b"you> ", times=2)  # answered, and the prompt is back
        first = screen
        screen = b""
        os.write(fd, b"\x1b[A\r")  # ↑: the last line again
        after = read_until(b"you> ", times=1)
        os.write(fd, b"quit\r")
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    assert b"one stop\" handling" in first and b"one stop\" handling" in after
    assert b"^[[D" not in after and b"^[[A" not in after
    assert logged(tmp_path / "log.db") == [("one stop service", "answered")] * 2


# --------------------------------------------------------------------------- 2. follow-ups

def test_tell_me_more_in_chinese_and_a_fragment_continue_the_last_answer(
        cli: Cli, kb: KnowledgeBase, tmp_path: Path) -> None:
    result = cli("chat", stdin=f"{FINANCIAL_PARK}\ntell me more\n用中文\nand its phase III?\n")
    assert result.code == 0, result.err
    first, more, chinese, fragment = turns(result.out)[-4:]
    assert "Shandong New Financial Industry Park" in first
    quoted, continued = quotes(first), quotes(more)
    assert continued and not continued & quoted  # the next sentences, not the same ones
    assert "Source: Part I" in more and kb.text("labels.quoted_from", "en") in more
    # "In Chinese" repeats what was shown last: the continuation, with Chinese labels.
    assert "出处：第一部分" in chinese and quotes(chinese) == continued
    assert "Phase III" in fragment
    assert kb.text("services.fallback", "en") not in result.out
    assert [status for _, status in logged(tmp_path / "log.db")] == ["answered"] * 4


def test_the_last_answer_is_kept_in_the_store_until_it_expires_or_start(
        cli: Cli, kb: KnowledgeBase, tmp_path: Path) -> None:
    cli("chat", stdin=f"{FINANCIAL_PARK}\n")
    # A new process, the same person: the conversation goes on from the store.
    again = cli("chat", stdin="tell me more\n")
    assert "Source: Part I" in turns(again.out)[-1]
    # /start begins afresh: "tell me more" is then a question of its own.
    fresh = cli("chat", stdin=f"{FINANCIAL_PARK}\n/start\ntell me more\n")
    assert "Source: Part I" not in turns(fresh.out)[-1]
    # And so it is once the context has expired.
    expired = cli("chat", stdin=f"{FINANCIAL_PARK}\ntell me more\n",
                  CITIZENBOT_CONTEXT_MINUTES="0")
    assert "Source: Part I" not in turns(expired.out)[-1]


# --------------------------------------------------------------------------- 3. language

def test_lang_sticks_across_sessions_and_every_text_follows_it(cli: Cli, kb: KnowledgeBase,
                                                              tmp_path: Path) -> None:
    cli("chat", stdin="/lang zh\n")
    result = cli("chat", stdin="/help\none stop service\n")
    greeting, help_text, answer = turns(result.out)
    assert greeting.startswith("citizenbot — 回答引自《济南市市中区2021年政府工作报告》")
    assert kb.text("services.greeting", "zh") in greeting
    assert kb.text("services.help", "zh") in help_text
    assert "出处：" in answer and "Source" not in answer
    assert choices(answer) == [
        *(kb.intent(r).label("zh") for r in kb.intent("one-stop-service").related),  # type: ignore[union-attr]
        "👍 有帮助", "👎 没帮助"]
    assert kb.text("console.choose", "zh") in answer
    assert all(len(label) <= 16 for label in choices(answer))
    # Chinese texts are written with Chinese punctuation.
    assert not re.search(r"[\u4e00-\u9fff][:;,?!]", result.out)
    assert logged(tmp_path / "log.db", "language") == [("zh",)]


def test_a_related_topic_answers_in_the_language_of_the_answer_it_was_under(
        cli: Cli, kb: KnowledgeBase) -> None:
    result = cli("chat", stdin="一站式服务\n1\n")
    related = turns(result.out)[-1]
    assert "出处：" in related and "👍 有帮助" in choices(related)


def test_another_language_gets_a_reply_in_english_and_chinese(cli: Cli,
                                                               kb: KnowledgeBase) -> None:
    result = cli("chat", stdin="市中区の日本企業向けの支援は？\n")
    reply = turns(result.out)[-1]
    assert "Sorry, I read only English and Chinese." in reply
    assert "抱歉，我只能读懂" in reply
    assert kb.text("services.fallback", "en") not in reply


def test_no_stacked_ellipses(cli: Cli) -> None:
    result = cli("chat", stdin="ecological civilization and environmental protection\n"
                               "what about the yellow river basin?\n")
    assert "...…" not in result.out and "… …" not in result.out and "... …" not in result.out


def test_the_process_can_be_driven_by_a_pipe_like_a_script(tmp_path: Path) -> None:
    """`printf ... | citizenbot chat`: the lines read are echoed after the prompt, so the
    output reads as a conversation; exit 0 at end of input."""
    done = subprocess.run([sys.executable, "-m", "citizenbot.cli", "chat"],
                          input=b"/about\n", capture_output=True, timeout=60,
                          cwd=tmp_path, env=subprocess_env(CITIZENBOT_DB=str(tmp_path / "l.db"),
                                                           HOME=str(tmp_path)))
    assert done.returncode == 0 and b"you> /about\n" in done.stdout
    assert b"27 January 2021" in done.stdout
    assert b"INFO" not in done.stderr  # the chat is not interleaved with log lines
