"""The command line as a newcomer uses it: batch answers, validation, the terminal chat."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(args: list[str], stdin: str | bytes = "", env: dict[str, str] | None = None,
        cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("CITIZENBOT_", "TELEGRAM_"))}
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run([sys.executable, "-m", "citizenbot.cli", *args] if args[0] != "bot.py"
                          else [sys.executable, str(ROOT / "bot.py"), *args[1:]],
                          input=data, capture_output=True, timeout=60,
                          env={**base, **(env or {})}, cwd=cwd or ROOT)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"CITIZENBOT_DB": str(tmp_path / "log.db"), "HOME": str(tmp_path)}


def test_answer_writes_one_json_object_per_question(tmp_path: Path,
                                                     env: dict[str, str]) -> None:
    questions = ["is there a one-stop service for companies?", "十四五时期的目标是什么",
                 "wat is the finacial industy park", "what's the weather tomorrow", ""]
    result = run(["answer"], "\n".join(questions) + "\n", env=env, cwd=tmp_path)
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
    assert not Path(env["CITIZENBOT_DB"]).exists()


def test_answer_with_log_records_each_question(tmp_path: Path, env: dict[str, str]) -> None:
    result = run(["answer", "--log"], "what are the 2021 targets\nhello\n", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    with sqlite3.connect(env["CITIZENBOT_DB"]) as db:
        rows = db.execute("SELECT transport, question, status FROM enquiries ORDER BY id").fetchall()
    assert rows == [("batch", "what are the 2021 targets", "answered"),
                    ("batch", "hello", "answered")]


def test_answer_survives_binary_and_huge_input(tmp_path: Path, env: dict[str, str]) -> None:
    blob = b"\xff\xfe\x00binary\x01\n" + b"tax " * 50_000 + b"\n" + "🙂🙂🙂\n".encode()
    result = run(["answer"], blob, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    rows = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(rows) == 3
    assert rows[2]["status"] == "fallback"


def test_validate_reports_problems_and_exits_non_zero(make_kb: Callable[..., Path],
                                                       env: dict[str, str]) -> None:
    ok = run(["validate"], env=env)
    assert ok.returncode == 0 and ok.stdout.decode().startswith("OK:")
    broken = make_kb(business="area: business\nintents:\n  - id: Bad Id\n    colour: red\n")
    result = run(["validate", str(broken)], env=env)
    assert result.returncode == 1
    out = result.stdout.decode()
    assert "business.yml:3, intent 'Bad Id', colour: unknown key 'colour'" in out
    assert "kebab-case" in out


def test_the_bot_refuses_to_start_on_a_broken_knowledge_base(
        make_kb: Callable[..., Path], env: dict[str, str]) -> None:
    broken = make_kb(business="area: business\nintents: [\n")
    result = run(["chat"], "hello\n", env={**env, "CITIZENBOT_INTENTS": str(broken)})
    assert result.returncode == 2
    assert "business.yml" in result.stderr.decode() and "not valid YAML" in result.stderr.decode()


def test_a_bad_setting_gives_one_clear_line_and_exit_2(env: dict[str, str]) -> None:
    result = run(["answer"], "hi\n", env={**env, "CITIZENBOT_ANSWER_THRESHOLD": "lots"})
    assert result.returncode == 2
    assert result.stderr.decode().strip() == \
        "citizenbot: bad setting: CITIZENBOT_ANSWER_THRESHOLD='lots' is not a number"


def test_bot_py_without_a_token_opens_the_terminal_chat_and_logs(
        tmp_path: Path, env: dict[str, str]) -> None:
    result = run(["bot.py"], "tell me about the financial park\n十四五目标\nquit\n", env=env,
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode()
    assert "Shandong New Financial Industry Park" in out
    assert "Source: Part I" in out
    with sqlite3.connect(env["CITIZENBOT_DB"]) as db:
        rows = db.execute("SELECT transport, status, intent FROM enquiries ORDER BY id").fetchall()
    assert rows == [("console", "answered", "financial-industry-park"),
                    ("console", "answered", "targets-2025")]


def test_chat_lets_the_user_pick_a_suggestion_by_number(tmp_path: Path,
                                                        env: dict[str, str]) -> None:
    result = run(["chat", "--no-log"], "park\n1\n", env=env, cwd=tmp_path)
    out = result.stdout.decode()
    assert result.returncode == 0
    assert "1. " in out  # "park" alone is ambiguous: the bot offers choices
    assert out.count("“") >= 1  # picking one answers it with a quote


def test_stats_summarise_the_log(tmp_path: Path, env: dict[str, str]) -> None:
    run(["answer", "--log"], "2021 targets\nweather tomorrow?\n", env=env, cwd=tmp_path)
    result = run(["stats"], env=env, cwd=tmp_path)
    out = result.stdout.decode()
    assert result.returncode == 0
    assert "Enquiries: 2" in out
    assert "targets-2021" in out
    assert "weather tomorrow?" in out


def test_help_lists_every_command(env: dict[str, str]) -> None:
    out = run(["--help"], env=env).stdout.decode()
    for verb in ("run", "chat", "answer", "validate", "stats", "eval"):
        assert f"    {verb} " in out


def test_eval_reports_figures_and_fails_below_target(tmp_path: Path, env: dict[str, str]) -> None:
    labelled = tmp_path / "eval.tsv"
    labelled.write_text(
        "question\texpected\ttags\n"
        "what are the targets for 2025\ttargets-2025\t\n"
        "十四五目标是什么\ttargets-2025\t\n"
        "wat is the finacial industy park\tfinancial-industry-park\ttypo\n"
        "how do i renew my passport\tnone\t\n"
        "where is the one stop service\ttargets-2021\t\n",  # deliberately mislabelled
        encoding="utf-8")
    result = run(["eval", str(labelled), "--json"], env=env)
    assert result.returncode == 0, result.stderr.decode()
    figures = json.loads(result.stdout.decode())
    assert figures["questions"] == 5
    assert figures["chinese"] == {"n": 1, "correct": 1, "accuracy": 100.0}
    assert figures["misspelt"]["accuracy"] == 100.0
    assert figures["out_of_scope_refused"]["accuracy"] == 100.0
    assert figures["accuracy"]["correct"] == 3
    assert figures["confident_wrong"]["count"] == 1  # answered one-stop, expected targets-2021
    assert {"expected": "targets-2021", "got": "one-stop-service", "count": 1} in \
        figures["confused"]
    assert figures["per_intent"]["targets-2021"]["recall"] == 0.0
    strict = run(["eval", str(labelled), "--min-english", "90", "--max-confident-wrong", "2"],
                 env=env)
    assert strict.returncode == 1
    assert "english 66.7% is below 90.0%" in strict.stderr.decode()
    assert "Most confused" in strict.stdout.decode()


def test_ctrl_c_ends_the_terminal_chat_cleanly(tmp_path: Path, env: dict[str, str]) -> None:
    import signal
    import time

    base = {k: v for k, v in os.environ.items() if not k.startswith(("CITIZENBOT_", "TELEGRAM_"))}
    proc = subprocess.Popen([sys.executable, "-m", "citizenbot.cli", "chat"], cwd=tmp_path,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**base, **env})
    assert proc.stdin is not None
    proc.stdin.write(b"what are the 2021 targets\n")
    proc.stdin.flush()
    deadline = time.monotonic() + 30
    with sqlite3.connect(env["CITIZENBOT_DB"], timeout=5) as db:
        while time.monotonic() < deadline:  # the answered question is logged ...
            try:
                if db.execute("SELECT COUNT(*) FROM enquiries").fetchone()[0] == 1:
                    break
            except sqlite3.OperationalError:
                pass  # the table is not created yet
            time.sleep(0.1)
    proc.send_signal(signal.SIGINT)  # ... then Ctrl-C while it waits for the next line
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()
    assert b"Traceback" not in err


def test_backup_to_a_new_directory_and_refusing_special_files(tmp_path: Path,
                                                              env: dict[str, str]) -> None:
    run(["answer", "--log"], "hello\n", env=env, cwd=tmp_path)
    made = run(["backup", "backups/"], env=env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr.decode()
    copies = list((tmp_path / "backups").glob("citizenbot-*.db"))
    assert len(copies) == 1
    (tmp_path / "link").symlink_to(copies[0])
    refused = run(["backup", "link"], env=env, cwd=tmp_path)
    assert refused.returncode == 2 and "not a regular file" in refused.stderr.decode()
    odd = run(["backup", "with?odd#name.db"], env=env, cwd=tmp_path)
    assert odd.returncode == 0 and (tmp_path / "with?odd#name.db").is_file()


def test_a_lone_carriage_return_does_not_split_a_batch_line(env: dict[str, str]) -> None:
    result = run(["answer"], "tax\rcuts\n2021 targets\n", env=env)
    assert len(result.stdout.decode().splitlines()) == 2
