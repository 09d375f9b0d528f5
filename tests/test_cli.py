"""The command line as a newcomer uses it: batch answers, validation, the terminal chat.

Most stories call `citizenbot` in this process (harness.Cli); a few run it as its own process,
as a shell would: the batch contract, `python bot.py`, and Ctrl-C.
"""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from citizenbot.core.knowledge import default_directory
from harness import Cli, run_subprocess, subprocess_env


def logged(db: Path, columns: str = "transport, question, status") -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(f"SELECT {columns} FROM enquiries ORDER BY id").fetchall()


# --------------------------------------------------------------------------- as a process

def test_the_same_question_gets_the_same_decision_after_a_restart(tmp_path: Path) -> None:
    """Python orders sets differently in every process; a question whose confidence sits on
    the answer threshold must not be answered in one run and refused in the next."""
    question = ("What's the ratio of primary, secondary and tertiary industry now compared "
                "with 2015?\n")
    decisions = set()
    for seed in ("1", "2", "3", "4"):
        result = run_subprocess(["answer"], question, cwd=tmp_path,
                                PYTHONHASHSEED=seed, HOME=str(tmp_path))
        assert result.returncode == 0, result.stderr.decode()
        row = json.loads(result.stdout)
        decisions.add((row["status"], row["score"], row["answer"]))
    assert len(decisions) == 1


def test_answer_writes_one_json_object_per_question(tmp_path: Path) -> None:
    questions = ["is there a one-stop service for companies?", "十四五时期的目标是什么",
                 "wat is the finacial industy park", "what's the weather tomorrow", ""]
    result = run_subprocess(["answer"], "\n".join(questions) + "\n", cwd=tmp_path,
                            CITIZENBOT_DB=str(tmp_path / "log.db"), HOME=str(tmp_path))
    assert result.returncode == 0, result.stderr.decode()
    rows = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [r["question"] for r in rows] == questions
    for row in rows:
        assert set(row) == {"question", "status", "intent", "score", "answer", "sources"}
        assert 0 <= row["score"] <= 100
    one_stop, targets, park, weather, empty = rows
    assert (one_stop["status"], one_stop["intent"]) == ("answered", "one-stop-service")
    assert '"one stop" handling' in one_stop["answer"]
    assert one_stop["sources"] == ["III.VI / Part III (Work arrangement in 2021), item (VI)"]
    assert (targets["status"], targets["intent"]) == ("answered", "targets-2025")
    assert (park["status"], park["intent"]) == ("answered", "financial-industry-park")
    assert weather["status"] == "fallback" and weather["intent"] is None
    assert weather["sources"] == []
    assert empty["status"] == "fallback"
    # Batch mode writes nothing unless asked.
    assert not (tmp_path / "log.db").exists()


def test_bot_py_without_a_token_opens_the_terminal_chat_and_logs(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    result = run_subprocess(["bot.py"], "tell me about the financial park\n十四五目标\nquit\n",
                            cwd=tmp_path, CITIZENBOT_DB=str(db), HOME=str(tmp_path))
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode()
    assert "Shandong New Financial Industry Park" in out
    assert "Source: Part I" in out
    assert logged(db, "transport, status, intent") == [
        ("console", "answered", "financial-industry-park"),
        ("console", "answered", "targets-2025")]


def test_ctrl_c_ends_the_terminal_chat_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    proc = subprocess.Popen([sys.executable, "-m", "citizenbot.cli", "chat"], cwd=tmp_path,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=subprocess_env(CITIZENBOT_DB=str(db), HOME=str(tmp_path)))
    assert proc.stdin is not None
    proc.stdin.write(b"what are the 2021 targets\n")
    proc.stdin.flush()
    deadline = time.monotonic() + 30
    with sqlite3.connect(db, timeout=5) as conn:
        while time.monotonic() < deadline:  # the answered question is logged ...
            try:
                if conn.execute("SELECT COUNT(*) FROM enquiries").fetchone()[0] == 1:
                    break
            except sqlite3.OperationalError:
                pass  # the table is not created yet
            time.sleep(0.1)
    proc.send_signal(signal.SIGINT)  # ... then Ctrl-C while it waits for the next line
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()
    assert b"Traceback" not in err


# --------------------------------------------------------------------------- batch

def test_answer_with_log_records_each_question(cli: Cli, tmp_path: Path) -> None:
    result = cli("answer", "--log", stdin="what are the 2021 targets\nhello\n")
    assert result.code == 0, result.err
    assert logged(tmp_path / "log.db") == [("batch", "what are the 2021 targets", "answered"),
                                           ("batch", "hello", "answered")]


def test_answer_survives_binary_and_huge_input(cli: Cli) -> None:
    blob = b"\xff\xfe\x00binary\x01\n" + b"tax " * 50_000 + b"\n" + "🙂🙂🙂\n".encode()
    result = cli("answer", stdin=blob)
    assert result.code == 0, result.err
    rows = [json.loads(line) for line in result.out.splitlines()]
    assert len(rows) == 3
    assert rows[2]["status"] == "fallback"


def test_a_lone_carriage_return_does_not_split_a_batch_line(cli: Cli) -> None:
    result = cli("answer", stdin="tax\rcuts\n2021 targets\n")
    assert len(result.out.splitlines()) == 2


# --------------------------------------------------------------------------- validate

def test_validate_reports_problems_and_exits_non_zero(make_kb: Callable[..., Path],
                                                       cli: Cli) -> None:
    ok = cli("validate")
    assert ok.code == 0 and ok.out.startswith("OK:")
    broken = make_kb(business="area: business\nintents:\n  - id: Bad Id\n    colour: red\n")
    result = cli("validate", str(broken))
    assert result.code == 1
    assert "business.yml:3, intent 'Bad Id', colour: unknown key 'colour'" in result.out
    assert "kebab-case" in result.out


def copy_kb(tmp_path: Path) -> Path:
    directory = tmp_path / "kb"
    shutil.copytree(default_directory(), directory)
    return directory


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_validate_names_a_target_part_the_report_does_not_have(tmp_path: Path,
                                                              cli: Cli) -> None:
    kb = copy_kb(tmp_path)
    edit(kb / "scope.yml", "  parts: [II.2, II.3, III.1]\n", "  parts: [II.2, II.9, III.1]\n")
    result = cli("validate", str(kb))
    assert result.code == 1
    assert any("targets.parts: no part or passage II.9" in line
               for line in result.out.splitlines())


def test_validate_checks_every_text_a_door_needs_with_its_placeholders(
        tmp_path: Path, cli: Cli) -> None:
    kb = copy_kb(tmp_path)
    # A text the Telegram bot needs, gone; a placeholder misspelt in one language; a text
    # that drops a placeholder its translation keeps; a report text gone.
    edit(kb / "texts.telegram.yml", "  flood:\n", "  flood_renamed:\n")
    edit(kb / "texts.chat.yml", 'en: "Done. {count} logged questions',
         'en: "Done. {cuont} logged questions')
    edit(kb / "texts.tickets.yml", "  sent:\n    en: \"Your question {ref} is recorded",
         "  sent:\n    en: \"Your question is recorded")
    edit(kb / "texts.staff.yml", "  heading:\n", "  headline:\n")
    result = cli("validate", str(kb))
    assert result.code == 1
    lines = result.out.splitlines()
    assert "texts.telegram.yml, telegram.flood: missing the text" in lines
    assert any(line.startswith("texts.chat.yml, chat.forget_done.other: the en text uses "
                               "{cuont}, which is never filled in") for line in lines)
    assert ("texts.tickets.yml, tickets.sent: the zh text uses {ref} but the en text does not"
            in lines)
    assert "texts.staff.yml, report.heading: missing the text" in lines

    # What validate reports is what stops the bot from starting: the same knowledge base.
    started = cli("run", CITIZENBOT_INTENTS=str(kb),
                  TELEGRAM_BOT_TOKEN="4242424242:TEST-token_for_citizenbot_fake_api",
                  TELEGRAM_API_URL="http://127.0.0.1:9/bot")
    assert started.code == 2
    assert "telegram.flood" in started.err and "{cuont}" in started.err


def test_the_bot_refuses_to_start_on_a_broken_knowledge_base(
        make_kb: Callable[..., Path], cli: Cli) -> None:
    broken = make_kb(business="area: business\nintents: [\n")
    result = cli("chat", stdin="hello\n", CITIZENBOT_INTENTS=str(broken))
    assert result.code == 2
    assert "business.yml" in result.err and "not valid YAML" in result.err


def test_a_bad_setting_gives_one_clear_line_and_exit_2(cli: Cli) -> None:
    result = cli("answer", stdin="hi\n", CITIZENBOT_ANSWER_THRESHOLD="lots")
    assert result.code == 2
    assert result.err.strip() == \
        "citizenbot: bad setting: CITIZENBOT_ANSWER_THRESHOLD='lots' is not a number"


# --------------------------------------------------------------------------- the terminal chat

def test_chat_lets_the_user_pick_a_suggestion_by_number_and_logs_the_question(
        cli: Cli, tmp_path: Path) -> None:
    result = cli("chat", stdin="park\n1\n")
    assert result.code == 0, result.err
    assert "1. " in result.out  # "park" alone is ambiguous: the bot offers choices
    assert result.out.count("“") >= 1  # picking one answers it with a quote
    # The choice is logged under the question that offered it, not as "1".
    assert logged(tmp_path / "log.db", "question, status") == [("park", "clarify"),
                                                               ("park", "answered")]


def test_chat_without_a_log_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    result = cli("chat", "--no-log", stdin="park\n1\nquit\n")
    assert result.code == 0 and "1. " in result.out
    assert not (tmp_path / "log.db").exists()


# --------------------------------------------------------------------------- the rest

def test_stats_summarise_the_log(cli: Cli) -> None:
    cli("answer", "--log", stdin="2021 targets\nweather tomorrow?\n")
    result = cli("stats", "--lang", "en")
    assert result.code == 0
    assert "Enquiries: 2" in result.out
    assert "targets-2021" in result.out
    assert "weather tomorrow?" in result.out


def test_help_lists_every_command(cli: Cli) -> None:
    out = cli("--help").out
    for verb in ("run", "chat", "answer", "validate", "stats", "eval", "report", "suggest",
                 "export", "purge", "backup", "tickets", "reply", "health"):
        assert f"    {verb} " in out


def test_eval_reports_figures_and_fails_below_target(tmp_path: Path, cli: Cli) -> None:
    labelled = tmp_path / "eval.tsv"
    labelled.write_text(
        "question\texpected\ttags\n"
        "what are the targets for 2025\ttargets-2025\t\n"
        "十四五目标是什么\ttargets-2025\t\n"
        "wat is the finacial industy park\tfinancial-industry-park\ttypo\n"
        "how do i renew my passport\tnone\t\n"
        "is there a one stop service\ttargets-2021\t\n",  # deliberately mislabelled
        encoding="utf-8")
    result = cli("eval", str(labelled), "--json")
    assert result.code == 0, result.err
    figures = json.loads(result.out)
    assert figures["questions"] == 5
    assert figures["chinese"] == {"n": 1, "correct": 1, "accuracy": 100.0}
    assert figures["misspelt"]["accuracy"] == 100.0
    assert figures["out_of_scope_refused"]["accuracy"] == 100.0
    assert figures["accuracy"]["correct"] == 3
    assert figures["confident_wrong"]["count"] == 1  # answered one-stop, expected targets-2021
    assert {"expected": "targets-2021", "got": "one-stop-service", "count": 1} in \
        figures["confused"]
    assert figures["per_intent"]["targets-2021"]["recall"] == 0.0
    strict = cli("eval", str(labelled), "--min-english", "90", "--max-confident-wrong", "2")
    assert strict.code == 1
    assert "english 66.7% is below 90.0%" in strict.err
    assert "Most confused" in strict.out


def test_backup_to_a_new_directory_and_refusing_special_files(tmp_path: Path, cli: Cli) -> None:
    cli("answer", "--log", stdin="hello\n")
    made = cli("backup", "backups/")
    assert made.code == 0, made.err
    copies = list((tmp_path / "backups").glob("citizenbot-*.db"))
    assert len(copies) == 1
    (tmp_path / "link").symlink_to(copies[0])
    refused = cli("backup", "link")
    assert refused.code == 2 and "not a regular file" in refused.err
    odd = cli("backup", "with?odd#name.db")
    assert odd.code == 0 and (tmp_path / "with?odd#name.db").is_file()


def test_export_takes_no_format_flag(cli: Cli) -> None:
    # CSV is the only format; a flag that chose nothing is gone.
    assert cli("export", "--csv").code == 2


@pytest.mark.parametrize("command", ["stats", "report", "export", "purge", "backup", "tickets"])
def test_a_database_that_is_not_one_gives_one_line_and_exit_2(tmp_path: Path, cli: Cli,
                                                              command: str) -> None:
    (tmp_path / "log.db").write_bytes(b"not a database at all\n" * 200)
    extra = {"purge": ["--older-than", "30"], "backup": [str(tmp_path / "copy.db")],
             "report": ["--out", str(tmp_path / "r.html")]}.get(command, [])
    result = cli(command, *extra)
    assert result.code == 2, (result.out, result.err)
    assert "Traceback" not in result.err
    assert [line for line in result.err.splitlines() if line.startswith("citizenbot:")] != []
