"""Interface texts as a checked schema: what each door declares is what it uses, and what the
knowledge base must hold, in every language, placeholders included."""

from __future__ import annotations

import ast
import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from citizenbot.cli import every_door_texts
from citizenbot.core.knowledge import REQUIRED_TEXTS, KnowledgeBase, KnowledgeBaseError
from citizenbot.model import Overview, Ticket, TicketStatus
from citizenbot.staff.report import TEXTS as REPORT_TEXTS
from citizenbot.staff.report import render_report
from citizenbot.staff.suggest import group_questions
from citizenbot.texts import TextError, declare, fill, require

SRC = Path(__file__).resolve().parents[1] / "src" / "citizenbot"
KEY = re.compile(r"^(telegram|tickets|admin|cli|console|report|services|labels|areas)\.[a-z_.]*$")
FILE = re.compile(r"\.(txt|html|css|yml)$")


def test_fill_puts_values_in_and_refuses_a_placeholder_it_was_not_given() -> None:
    assert fill("{ref} is closed", ref="Q-000001", reason="unused") == "Q-000001 is closed"
    assert fill("no placeholders") == "no placeholders"
    with pytest.raises(TextError, match=r"\{cuont\}.*\{count\}"):
        fill("Deleted {cuont} questions", count=3)


def test_a_schema_reports_missing_texts_typos_and_translations_that_differ() -> None:
    schema = declare("texts.demo.yml", {"demo.done": ("count",), "demo.gone": (),
                                        "demo.plain": ()})
    texts = {
        "demo.done": {"en": "Deleted {cuont} questions", "zh": "已删除 {count} 个"},
        "demo.plain": {"en": "Hello {name}", "zh": "你好"},
    }
    problems = [str(p) for p in schema.problems(texts)]
    assert problems == [
        "texts.demo.yml, demo.done: the en text uses {cuont}, which is never filled in "
        "(this text takes {count})",
        "texts.demo.yml, demo.done: the zh text uses {count} but the en text does not",
        "texts.demo.yml, demo.gone: missing the text",
        "texts.demo.yml, demo.plain: the en text uses {name}, which is never filled in "
        "(this text takes no placeholders)",
    ]


def test_the_shipped_knowledge_base_has_every_text_every_door_declares(kb: KnowledgeBase) -> None:
    require(kb, every_door_texts())


def test_each_door_refuses_a_knowledge_base_without_its_texts(kb: KnowledgeBase) -> None:
    texts = {k: v for k, v in kb.texts.items() if k != "report.footer"}
    with pytest.raises(KnowledgeBaseError, match=r"texts\.staff\.yml, report\.footer"):
        require(dataclasses.replace(kb, texts=texts), REPORT_TEXTS)


def _declared() -> set[str]:
    return set(every_door_texts().texts) | set(REQUIRED_TEXTS)


def test_every_text_key_in_the_code_is_declared() -> None:
    """A key used in code but declared nowhere would pass validate and fail in front of a
    user the day somebody removes it from a texts file."""
    declared = _declared()
    undeclared = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and KEY.match(node.value) and not FILE.search(node.value)):
                continue
            key = node.value
            # "areas." + area, or a plural's base ("report.summary.days" + ".one"/".other").
            prefix = key if key.endswith(".") else key + "."
            known = key in declared or any(d.startswith(prefix) for d in declared)
            if not known:
                undeclared.append(f"{path.relative_to(SRC)}: {key}")
    assert undeclared == []


def test_the_report_uses_only_the_texts_it_declares(kb: KnowledgeBase) -> None:
    only = dataclasses.replace(kb, texts={k: v for k, v in kb.texts.items()
                                          if k in REPORT_TEXTS})
    overview = Overview(
        total=3, by_status={"answered": 1, "clarify": 1, "fallback": 1},
        by_language={"en": 2, "zh": 1, "fr": 0},
        by_day=[("2024-03-01", {"answered": 1, "fallback": 1}), ("2024-03-02", {"clarify": 1})],
        top_intents=[("one-stop-service", 1)], feedback={"one-stop-service": (1, 1)},
        unanswered=[("2024-03-02T09:00:00+00:00", "clarify", "park"),
                    ("2024-03-01T09:00:00+00:00", "fallback", "parks")],
        first_ts="2024-03-01T08:00:00+00:00", last_ts="2024-03-02T09:00:00+00:00")
    ticket = Ticket(id=1, ts="2024-03-01T08:00:00+00:00", user_hash="a" * 64, chat_id=1,
                    language="zh", question="q", enquiry_id=None, status=TicketStatus.OPEN)
    for lang in ("en", "zh"):
        page = render_report(overview, group_questions(overview.unanswered), kb=only,
                             generated=datetime(2024, 3, 3, tzinfo=UTC), open_tickets=[ticket],
                             lang=lang)
        assert "{" not in page.split("<style>")[0] + page.split("</style>")[1]
