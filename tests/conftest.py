"""Shared fixtures: the shipped knowledge base, a responder, tiny knowledge bases to break, the
fake Bot API, a running bot, and the command line in this process (see harness.py)."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from citizenbot.core.knowledge import KnowledgeBase, default_directory, load_knowledge_base
from citizenbot.core.responder import Responder
from fake_bot_api import FakeBotApi
from harness import TOKEN, Bot, Cli, running_bot

MINIMAL_TEXTS = """\
service_note: {en: "Service message, not from the report.", zh: "服务提示，非报告原文。"}
labels:
  source: {en: Source, zh: 出处}
  related: {en: Related topics, zh: 相关话题}
  clarify: {en: "Did you mean:", zh: "您是想问："}
  search_result: {en: "Search result:", zh: "搜索结果："}
  quoted_from: {en: "Quoted from the report.", zh: "摘自报告。"}
  clarify_none: {en: "None of these?", zh: "都不是？"}
  abridged: {en: "Only the heading.", zh: "只有标题。"}
  list: {en: "The report lists {count}.", zh: "报告列出{count}项。"}
  language_switched: {en: "English from now on.", zh: "从现在起用中文。"}
refusals:
  other_place: {en: "Nothing on {place}.", zh: "没有{place}的内容。"}
  other_year: {en: "Nothing for {year}.", zh: "没有{year}的内容。"}
  personal: {en: "No individual cases.", zh: "无法判断个人情况。"}
  practical_detail: {en: "No {detail}.", zh: "没有{detail}。"}
  no_figure: {en: "No figure.", zh: "没有数字。"}
  abridged: {en: "Only the heading:", zh: "只有标题："}
  general: {en: "Only the report.", zh: "只回答报告。"}
  other_language: {en: "English or Chinese.", zh: "中文或英文。"}
  outcome: {en: "Not whether it was met.", zh: "无法说明是否实现。"}
  no_more: {en: "That is all.", zh: "就这些。"}
  no_previous: {en: "Nothing to go on with.", zh: "没有可以接着讲的。"}
  no_choice: {en: "No list.", zh: "没有列表。"}
areas:
  business: {en: Business services, zh: 营商服务}
  plans: {en: Plans, zh: 规划}
  smalltalk: {en: About, zh: 关于}
services:
  fallback: {en: "I don't know.", zh: "我不知道。"}
  greeting: {en: "Hello!", zh: "你好！"}
"""


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge_base()


@pytest.fixture(scope="session")
def responder(kb: KnowledgeBase) -> Responder:
    return Responder(kb)


@pytest.fixture
def make_kb(tmp_path: Path) -> Callable[..., Path]:
    """Write a small knowledge base: make_kb(business="yaml text", texts=None) -> its directory."""

    def make(texts: str | None = MINIMAL_TEXTS, **files: str) -> Path:
        directory = tmp_path / "kb"
        directory.mkdir(exist_ok=True)
        (directory / "report.txt").write_bytes((default_directory() / "report.txt").read_bytes())
        if texts is not None:
            (directory / "texts.yml").write_text(texts, encoding="utf-8")
        for name, body in files.items():
            (directory / f"{name}.yml").write_text(textwrap.dedent(body), encoding="utf-8")
        return directory

    return make


@pytest_asyncio.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    """The fake Telegram Bot API on 127.0.0.1, for one test."""
    async with FakeBotApi(TOKEN) as fake:
        yield fake


@pytest_asyncio.fixture
async def bot(api: FakeBotApi, responder: Responder, tmp_path: Path) -> AsyncIterator[Bot]:
    """The bot with default settings, running against ``api``."""
    async with running_bot(api, responder, tmp_path) as running:
        yield running


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str],
        tmp_path: Path) -> Cli:
    """`citizenbot` in this process, from ``tmp_path``, logging to ``tmp_path/log.db``."""
    return Cli(monkeypatch, capfd, tmp_path,
               {"CITIZENBOT_DB": str(tmp_path / "log.db"), "HOME": str(tmp_path)})
