"""Staff tools: the HTML report, suggestions from unanswered questions, export, purge, backup.

Each test fills a fresh enquiry log the way the bot would have, then uses the tool the way a
member of staff does: through the `citizenbot` command (run in this process, see harness.Cli).
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import sqlite3
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from citizenbot.config import SETTINGS, SettingsError, load_settings
from citizenbot.core.knowledge import KnowledgeBase, default_directory
from citizenbot.core.matcher import Matcher
from citizenbot.model import Enquiry, Overview
from citizenbot.service import hash_user
from citizenbot.staff.report import render_report
from citizenbot.staff.suggest import (
    QuestionGroup,
    group_questions,
    propose,
    render_yaml,
    yaml_scalar,
)
from citizenbot.store import Store
from harness import Cli

SALT = "0123456789abcdef" * 4
SCRIPT_QUESTION = "<script>alert('hi')</script> when does the park open?"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """The log the `cli` fixture's commands read."""
    return tmp_path / "log.db"


def at(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def asked(question: str, status: str, intent: str | None, ts: datetime, language: str = "en",
          user: int = 1) -> Enquiry:
    return Enquiry(transport="telegram", user_hash=hash_user(SALT, user), chat_type="private",
                   language=language, question=question, status=status, intent=intent,
                   score=80.0 if status == "answered" else 20.0, latency_ms=4.0, ts=ts)


async def fill(path: Path, enquiries: list[Enquiry],
               votes: dict[int, bool] | None = None) -> list[int]:
    """Log the enquiries one by one (as the bot does); votes: list index -> helpful or not."""
    async with await Store.open(path) as store:
        ids = [await store.log_enquiry(e) for e in enquiries]
        for index, helpful in (votes or {}).items():
            await store.vote(ids[index], helpful)
    return ids


# A week in March as the bot logged it, and one enquiry before the period asked for.
WEEK = [
    asked("is there a one stop service for companies", "answered", "one-stop-service",
          at("2024-03-01", 8)),
    asked("can i register my company online", "answered", "one-stop-service", at("2024-03-01")),
    asked("what are the 2021 targets", "answered", "targets-2021", at("2024-03-01", 10)),
    asked(SCRIPT_QUESTION, "fallback", None, at("2024-03-01", 11)),
    asked("企业办事有一站式服务吗", "answered", "one-stop-service", at("2024-03-02"), "zh"),
    asked("企业能不能网上办手续", "answered", "one-stop-service", at("2024-03-02", 10), "zh"),
    asked("金融产业园在哪里", "clarify", None, at("2024-03-02", 11), "zh"),
    asked("how do i renew my passport", "fallback", None, at("2024-03-02", 12)),
    asked("2021 targets", "answered", "targets-2021", at("2024-03-03")),
    asked("passport renewal", "fallback", None, at("2024-03-03", 10), user=2),
    asked("How do I renew my passport?", "fallback", None, at("2024-03-03", 11), user=3),
]
BEFORE = asked("hello", "answered", "greeting", at("2024-02-20"))
# Indexes into WEEK (one vote per answer): one-stop-service gets 2 helpful + 1 not,
# targets-2021 gets 2 not helpful.
VOTES = {0: True, 1: True, 4: False, 2: False, 8: False}


# ----------------------------------------------------------------------- reading the page


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self) -> Iterator[Node]:
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        return [n for n in self.iter() if (tag is None or n.tag == tag)
                and all(n.attrs.get(k.rstrip("_").replace("_", "-")) == v
                        for k, v in attrs.items())]

    def with_attr(self, name: str) -> list[Node]:
        return [n for n in self.iter() if name in n.attrs]

    def has_class(self, name: str) -> bool:
        return name in self.attrs.get("class", "").split()


VOID = {"meta", "br", "hr", "img", "input", "link", "area", "base", "col", "source", "wbr"}


class Page(HTMLParser):
    """The report as a tree, built with the standard library's HTML parser."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)

    def figures(self) -> dict[str, str]:
        return {n.attrs["data-figure"]: n.text() for n in self.root.with_attr("data-figure")}

    def section(self, ident: str) -> Node:
        found = self.root.find_all("section", id=ident)
        assert len(found) == 1, f"section #{ident} appears {len(found)} times"
        return found[0]


SECTIONS = ["summary", "per-day", "outcomes", "unanswered", "top-intents", "feedback",
            "languages"]


# ----------------------------------------------------------------------- the HTML report


def test_the_report_shows_every_section_with_the_figures_of_the_logged_rows(
        tmp_path: Path, db: Path, cli: Cli) -> None:
    asyncio.run(fill(db, [BEFORE, *WEEK], {i + 1: v for i, v in VOTES.items()}))
    out = tmp_path / "enquiries.html"
    result = cli("report", "--lang", "en", "--out", str(out), "--since", "2024-03-01", "--until", "2024-03-07")
    assert result.code == 0, result.err
    assert "11 enquiries" in result.out
    html = out.read_text(encoding="utf-8")
    page = Page(html)

    assert [s.attrs["id"] for s in page.root.find_all("section")] == SECTIONS
    assert page.figures() == {
        "total": "11",  # the February greeting is outside the period
        "answer-rate": "55%",  # 6 of 11
        "unanswered": "5",
        "helpful-share": "40%",  # 2 of 5 votes
        "status-answered": "6",
        "status-clarify": "1",
        "status-fallback": "4",
        "language-en": "8",
        "language-zh": "3",
    }

    # One bar per day from the first day asked for; the figures table under the chart agrees.
    per_day = {row.attrs["data-bucket"]: [td.text() for td in row.find_all("td")][1:]
               for row in page.section("per-day").with_attr("data-bucket")}
    assert per_day["2024-03-01"] == ["4", "3", "0", "1"]  # total, answered, clarify, fallback
    assert per_day["2024-03-02"] == ["4", "2", "1", "1"]
    assert per_day["2024-03-03"] == ["3", "1", "0", "2"]
    assert set(per_day) == {f"2024-03-0{d}" for d in range(1, 8)}
    assert per_day["2024-03-07"] == ["0", "0", "0", "0"]
    assert page.section("per-day").find_all("svg")

    top = [(n.attrs["data-intent"], n.attrs["data-count"])
           for n in page.section("top-intents").find_all("li", class_="intent")]
    assert top == [("one-stop-service", "4"), ("targets-2021", "2")]
    # Intent titles from the knowledge base, not just ids.
    assert "One-stop and online business services" in page.section("top-intents").text()

    rated = [(n.attrs["data-intent"], n.attrs["data-helpful"], n.attrs["data-not-helpful"])
             for n in page.section("feedback").find_all("li", class_="rated")]
    assert rated == [("targets-2021", "0", "2"), ("one-stop-service", "2", "1")]

    groups = page.section("unanswered").find_all("li", class_="group")
    by_question = {g.find_all("span", class_="q")[0].text(): g.attrs["data-count"]
                   for g in groups}
    assert by_question == {"How do I renew my passport?": "3", "金融产业园在哪里": "1",
                           SCRIPT_QUESTION: "1"}
    passport = next(g for g in groups if g.attrs["data-count"] == "3")
    assert "passport renewal" in passport.text()

    # The question with a script tag is text on the page, never markup.
    assert not page.root.find_all("script")
    assert "&lt;script&gt;alert(&#39;hi&#39;)&lt;/script&gt;" in html
    assert "<script" not in html
    # Self-contained: nothing is fetched from anywhere.
    for attr in ("src", "href"):
        assert not page.root.with_attr(attr)
    assert "http://" not in html and "https://" not in html
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_an_empty_log_gives_a_friendly_page_and_creates_no_database(
        tmp_path: Path, db: Path, cli: Cli) -> None:
    out = tmp_path / "report.html"
    result = cli("report", "--lang", "en", "--out", str(out))
    assert result.code == 0, result.err
    page = Page(out.read_text(encoding="utf-8"))
    assert "No enquiries yet" in page.section("empty").text()
    assert not db.exists()

    # A log with rows, but none in the period asked for, says the same.
    asyncio.run(fill(db, [BEFORE]))
    result = cli("report", "--lang", "en", "--out", str(out), "--since", "2024-03-01")
    assert result.code == 0, result.err
    assert "No enquiries yet" in out.read_text(encoding="utf-8")


def test_the_report_speaks_the_language_of_its_texts(kb: KnowledgeBase) -> None:
    overview = Overview(
        total=2, by_status={"answered": 1, "fallback": 1}, by_language={"zh": 2},
        by_day=[("2024-03-01", {"answered": 1, "fallback": 1})],
        top_intents=[("one-stop-service", 1)], feedback={}, unanswered=[
            ("2024-03-01T09:00:00+00:00", "fallback", "护照怎么办")],
        first_ts="2024-03-01T08:00:00+00:00", last_ts="2024-03-01T09:00:00+00:00")
    html = render_report(overview, group_questions(overview.unanswered), kb=kb,
                         generated=datetime(2024, 3, 2, tzinfo=UTC), lang="zh")
    page = Page(html)
    assert page.root.find_all("html")[0].attrs["lang"] == "zh"
    assert kb.text("report.heading", "zh") in html and "What citizens asked" not in html
    assert page.figures()["language-zh"] == "2"
    assert "护照怎么办" in page.section("unanswered").text()


def test_a_period_that_ends_before_it_starts_is_refused(tmp_path: Path, cli: Cli) -> None:
    result = cli("report", "--lang", "en", "--out", str(tmp_path / "r.html"), "--since", "2024-03-07",
                 "--until", "2024-03-01")
    assert result.code == 2
    assert "--since is after --until" in result.err
    result = cli("export", "--since", "March")
    assert result.code == 2 and "is not a date" in result.err


def test_report_rendering_escapes_intent_ids_and_languages_too(kb: KnowledgeBase) -> None:
    hostile = "<b>x</b>"
    overview = Overview(
        total=1, by_status={"answered": 1}, by_language={hostile: 1},
        by_day=[("2024-03-01", {"answered": 1})], top_intents=[(hostile, 1)],
        feedback={hostile: (0, 1)}, unanswered=[], first_ts="2024-03-01T00:00:00+00:00",
        last_ts="2024-03-01T00:00:00+00:00",
    )
    html = render_report(overview, [], kb=kb, generated=datetime(2024, 3, 2, tzinfo=UTC),
                         titles={hostile: hostile})
    assert "<b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


# ----------------------------------------------------------------------- suggest


@pytest.fixture(scope="module")
def matcher(kb: KnowledgeBase) -> Matcher:
    return Matcher(kb)


def test_similar_unanswered_questions_form_one_group_with_the_nearest_intent(
        kb: KnowledgeBase, matcher: Matcher) -> None:
    rows = [
        ("2024-03-01T09:00:00+00:00", "fallback", "how do i renew my passport"),
        ("2024-03-01T10:00:00+00:00", "fallback", "passport renewal"),
        ("2024-03-02T10:00:00+00:00", "fallback", "How do I renew my passport?"),
        ("2024-03-02T11:00:00+00:00", "fallback", "what's the weather tomorrow"),
        ("2024-03-03T11:00:00+00:00", "fallback", "weather tomorrow"),
        ("2024-03-03T12:00:00+00:00", "clarify", "金融产业园在哪里"),
        ("2024-03-04T12:00:00+00:00", "clarify", "金融产业园在哪"),
        ("2024-03-04T13:00:00+00:00", "fallback", "park"),
    ]
    groups = group_questions(rows)
    def group_of(question: str) -> QuestionGroup:
        (group,) = [g for g in groups if question in dict(g.wordings)]
        return group

    passport = group_of("passport renewal")
    # Repeats that differ only in case and punctuation count as one wording asked twice,
    # shown as typed last; the most asked wording comes first.
    assert passport.wordings == (("How do I renew my passport?", 2), ("passport renewal", 1))
    assert passport.count == 3 and passport.last_ts.startswith("2024-03-02")
    assert group_of("weather tomorrow") is group_of("what's the weather tomorrow")
    assert group_of("金融产业园在哪里") is group_of("金融产业园在哪")
    assert group_of("金融产业园在哪").statuses == {"clarify": 2}
    # A bare keyword is not swallowed by every longer question containing it.
    assert group_of("park").count == 1
    assert len(groups) == 4
    assert groups[0] is passport  # biggest first

    nearest = {p.group.representative: (p.intent_id, p.score) for p in propose(groups, matcher)}
    assert nearest[passport.representative][0] == "oos-documents"
    assert nearest[group_of("weather tomorrow").representative][0] == "oos-weather"
    assert nearest[group_of("金融产业园在哪").representative][0] == "financial-industry-park"
    assert all(0 < score <= 100 for _, score in nearest.values())


def _intents_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(default_directory().rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def test_suggest_yaml_is_valid_yaml_grouped_by_intent_and_writes_nothing(db: Path,
                                                                          cli: Cli) -> None:
    asyncio.run(fill(db, [BEFORE, *WEEK, asked(
        "what's the weather tomorrow", "fallback", None, at("2024-03-04")), asked(
        "weather tomorrow", "fallback", None, at("2024-03-04", 10)), asked(
        "yes: no", "fallback", None, at("2024-03-04", 11))]))
    before = _intents_fingerprint()
    result = cli("suggest", "--lang", "en", "--yaml", "--since", "2024-03-01")
    assert result.code == 0, result.err
    text = result.out
    data = yaml.safe_load(text)
    assert data["oos-documents"] == {"en": ["How do I renew my passport?", "passport renewal"]}
    assert data["oos-weather"] == {"en": ["weather tomorrow", "what's the weather tomorrow"]}
    assert data["financial-industry-park"] == {"zh": ["金融产业园在哪里"]}
    # Every list item is ready to paste: a string under en or zh.
    for intent_id, langs in data.items():
        assert set(langs) <= {"en", "zh"}, intent_id
        assert all(isinstance(q, str) for qs in langs.values() for q in qs)
    assert "# asked 3× (Could not answer 3)" in text
    assert "Nothing was written to intents/" in text
    assert _intents_fingerprint() == before

    # The plain listing: biggest group first, with its nearest intent and score.
    plain = cli("suggest", "--lang", "en", "--min-count", "2")
    assert plain.code == 0, plain.err
    out = plain.out
    assert "in 2 groups" in out
    assert out.index("3× How do I renew my passport?") < out.index("2× weather tomorrow")
    assert "nearest intent: oos-documents" in out


def test_yaml_scalars_are_quoted_only_when_they_must_be() -> None:
    for text in ["is there a one stop service", "yes", "key: value", "- dash", "# hash",
                 "it's", 'say "hi"', "100", "null", "@home", "a #b", "金融产业园在哪里", "*x"]:
        assert yaml.safe_load(f"- {yaml_scalar(text)}") == [text], text
    assert yaml_scalar("is there a one stop service") == "is there a one stop service"


def test_wordings_that_already_are_examples_are_left_out(kb: KnowledgeBase,
                                                         matcher: Matcher) -> None:
    existing = kb.intents[0].examples_en[0]
    groups = group_questions([("2024-03-01T00:00:00+00:00", "clarify", existing.upper())])
    text = render_yaml(propose(groups, matcher), kb, "heading")
    assert "already an example" in text
    assert not yaml.safe_load(text)


# ----------------------------------------------------------------------- export


def test_export_writes_csv_with_formulas_defused_within_the_period(
        tmp_path: Path, db: Path, cli: Cli) -> None:
    hostile = ["=HYPERLINK(\"http://x\",\"click\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd",
               "\rcmd", "＝1+1", "plain question"]
    day = at("2024-03-05")
    enquiries = [asked(q, "fallback", None, day + timedelta(minutes=i))
                 for i, q in enumerate(hostile)]
    ids = asyncio.run(fill(db, [BEFORE, *enquiries, asked(
        "later", "answered", "greeting", at("2024-03-09"))], {1: False}))

    result = cli("export", "--since", "2024-03-01", "--until", "2024-03-08")
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out, newline="")))
    assert [int(r["id"]) for r in rows] == ids[1:-1]  # neither February nor 9 March
    assert [r["question"] for r in rows] == ["'" + q for q in hostile[:-1]] + [hostile[-1]]
    first = rows[0]
    assert first["user_hash"] == hash_user(SALT, 1)  # pseudonymous, never the Telegram id
    assert (first["status"], first["intent"], first["helpful"], first["not_helpful"]) == (
        "fallback", "", "0", "1")
    assert first["ts"].startswith("2024-03-05T09:00")

    out = tmp_path / "export.csv"
    result = cli("export", "--out", str(out))
    assert result.code == 0, result.err
    assert "Exported 10 enquiries" in result.out
    assert out.read_bytes().startswith(b"\xef\xbb\xbfid,ts,")  # BOM: spreadsheets read UTF-8
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_export_of_a_missing_log_is_just_the_header(db: Path, cli: Cli) -> None:
    result = cli("export")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "id,ts,transport,user_hash,chat_type,language,question,status,intent,score,latency_ms,"
        "helpful,not_helpful,refusal"]
    assert not db.exists()


# ----------------------------------------------------------------------- purge


def test_purge_deletes_old_enquiries_with_their_feedback(db: Path, cli: Cli) -> None:
    now = datetime.now(UTC)
    ids = asyncio.run(fill(db, [
        asked("old", "answered", "greeting", now - timedelta(days=100)),
        asked("oldish", "answered", "greeting", now - timedelta(days=31)),
        asked("recent", "answered", "greeting", now - timedelta(days=10)),
    ], {0: True, 1: False, 2: True}))

    result = cli("purge", "--older-than", "30")
    assert result.code == 0, result.err
    assert result.out.startswith("Deleted 2 enquiries older than 30 days")
    assert "open tickets are kept" in result.out
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT id, question FROM enquiries").fetchall() == [(ids[2], "recent")]
        assert con.execute("SELECT enquiry_id FROM feedback").fetchall() == [(ids[2],)]

    again = cli("purge", "--older-than", "30")
    assert again.out.startswith("Deleted 0 enquiries")
    refused = cli("purge", "--older-than", "0")
    assert refused.code == 2


async def test_purge_older_than_is_what_the_daily_retention_job_calls(tmp_path: Path) -> None:
    now = datetime(2024, 6, 1, tzinfo=UTC)
    async with await Store.open(tmp_path / "log.db") as store:
        for days in (1, 7, 8, 400):
            await store.log_enquiry(asked(f"{days} days ago", "answered", "greeting",
                                          now - timedelta(days=days)))
        assert await store.purge_older_than(7, now=now) == 2
        assert await store.count_enquiries() == 2
        with pytest.raises(ValueError):
            await store.purge_older_than(0, now=now)
        with pytest.raises(ValueError):
            await store.purge_older_than(True, now=now)


def test_retention_days_setting() -> None:
    assert "CITIZENBOT_RETENTION_DAYS" in SETTINGS
    assert load_settings({}).retention_days == 0
    assert load_settings({"CITIZENBOT_RETENTION_DAYS": "90"}).retention_days == 90
    for bad in ("-1", "1.5", "forever"):
        with pytest.raises(SettingsError, match="CITIZENBOT_RETENTION_DAYS"):
            load_settings({"CITIZENBOT_RETENTION_DAYS": bad})


# ----------------------------------------------------------------------- backup


async def test_a_backup_taken_while_the_bot_writes_is_consistent_and_complete(
        tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    # A log big enough that copying it takes a while, so the writes below overlap it.
    async with await Store.open(db) as store:
        await store.log_enquiries([asked(f"question {i} " + "x" * 300, "answered", "greeting",
                                         at("2024-03-01")) for i in range(5000)])
    bot = await Store.open(db)  # the running bot: its own connection, writing all along
    staff = await Store.open(db)
    committed: list[int] = []
    stop = asyncio.Event()

    async def keep_writing() -> None:
        while not stop.is_set():
            committed.append(await bot.log_enquiry(asked("live", "fallback", None,
                                                         datetime.now(UTC))))

    writer = asyncio.create_task(keep_writing())
    try:
        while len(committed) < 20:
            await asyncio.sleep(0.001)
        before_backup = list(committed)
        copy = await staff.backup(tmp_path / "backups" / "copy.db")
        during_backup = len(committed)
        while len(committed) < during_backup + 20:
            await asyncio.sleep(0.001)
    finally:
        stop.set()
        await writer
        await bot.close()
        await staff.close()

    con = sqlite3.connect(copy)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        ids = [row[0] for row in con.execute("SELECT id FROM enquiries ORDER BY id")]
    finally:
        con.close()
    # Everything committed before the backup started is in it, and the copy is one moment
    # of the log: a gapless prefix of ids, each of them really committed.
    assert set(before_backup) <= set(ids)
    assert ids == list(range(1, len(ids) + 1))
    assert ids[-1] <= max(committed)
    assert len(ids) < 5000 + len(committed)  # rows written after the backup are not in it
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert [p.name for p in copy.parent.iterdir()] == ["copy.db"]  # no temporary left over


def test_backup_command_writes_a_dated_copy_into_a_directory(tmp_path: Path, db: Path,
                                                             cli: Cli) -> None:
    asyncio.run(fill(db, WEEK))
    target = tmp_path / "backups"
    target.mkdir()
    result = cli("backup", str(target))
    assert result.code == 0, result.err
    (copy,) = target.iterdir()
    assert copy.name.startswith("citizenbot-") and copy.suffix == ".db"
    assert f"Backed up 11 enquiries to {copy}" in result.out

    onto_itself = cli("backup", str(db))
    assert onto_itself.code == 2
    assert "onto itself" in onto_itself.err
    missing = cli("backup", str(tmp_path / "x.db"), CITIZENBOT_DB=str(tmp_path / "none.db"))
    assert missing.code == 2 and "no enquiry log" in missing.err


def test_every_staff_command_has_help(cli: Cli) -> None:
    for command in ("report", "suggest", "export", "purge", "backup", "tickets", "reply"):
        result = cli(command, "--help")
        assert result.code == 0
        assert len(result.out.splitlines()) > 3, command
