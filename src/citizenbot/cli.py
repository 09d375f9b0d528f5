"""`citizenbot` command line: one verb, one job. `citizenbot --help` is the manual.

Parsing and printing only: questions go through the service (citizenbot.service), figures come
from the store, pages and files from the staff tools (citizenbot.staff).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import io
import json
import logging
import os
import secrets
import signal
import sys
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Final, TextIO

from citizenbot import __version__
from citizenbot.assemble import load_kb, load_responder
from citizenbot.config import Settings, SettingsError, load_settings
from citizenbot.core.knowledge import KnowledgeBase, KnowledgeBaseError, load_knowledge_base
from citizenbot.core.responder import Responder, plain_text
from citizenbot.model import DeliveryOutcome, LoggedEnquiry, Overview, Settle, StoreError, Transport
from citizenbot.service import Asker, Service, StaffChat, TicketDesk, Unreachable
from citizenbot.store import (
    Journal,
    Store,
    check_file,
    import_journal,
    journal_path,
    load_or_create_salt,
)
from citizenbot.store.db import open_private
from citizenbot.store.files import quick_check
from citizenbot.texts import TextSchema, declare, fill, plural, plural_key, require, shorten
from citizenbot.tickets import MAX_ANSWER_CHARS, parse_reference, reference, table

EXIT_PROBLEMS: Final = 1
EXIT_UNUSABLE: Final = 2
SUGGEST_LIMIT: Final = 5000  # grouping is quadratic at worst; older questions wait for --since

TEXTS: Final[TextSchema] = declare("texts.staff.yml", {
    "cli.tickets.none": (), "cli.tickets.none_open": (),
    **plural("cli.tickets.summary", "count", "open"),
    "cli.tickets.header": (), "cli.tickets.answer_waiting": (), "cli.tickets.not_forwarded": (),
    **{f"cli.tickets.status.{s}": () for s in ("open", "answered", "undeliverable", "closed")},
    **{f"cli.reply.{s.value}": ("ref",) for s in Settle if s is not Settle.DONE},
    "cli.reply.recorded": ("ref",), "cli.reply.delivered": ("ref",),
    "cli.reply.undelivered": ("ref", "reason"), "cli.reply.busy": ("ref",),
    "cli.reply.delayed": ("ref", "reason"),
    "cli.wrote_report": ("file", "count", "period"), "cli.stats.no_log": ("path",),
    "cli.stats.total": ("count",), "cli.stats.top_intents": (),
    "cli.stats.recent_unanswered": (), "cli.stats.none": (),
    **{f"report.status.{s}": () for s in ("answered", "clarify", "fallback")},
    "cli.suggest.heading": ("count", "groups", "period"), "cli.suggest.min_count": ("count",),
    "cli.suggest.capped": ("count",), "cli.suggest.nothing": (),
    "cli.suggest.asked": ("statuses", "date"),
    "cli.suggest.asked_count": ("count", "statuses", "score"),
    "cli.suggest.nearest": ("intent", "title", "file", "score"),
    "cli.suggest.no_intent": ("score",), "cli.suggest.more_wordings": ("count",),
    "cli.suggest.yaml_hint": (), "cli.suggest.review": (), "cli.suggest.existing": ("count",),
    "cli.suggest.no_close_intent": ("score",), "cli.suggest.junk_title": ("count",),
    **{f"cli.suggest.junk.{reason}": () for reason in ("command", "injection", "number",
                                                       "too_short")},
    **{f"report.period.{key}": names for key, names in (
        ("between", ("since", "until")), ("since", ("since",)), ("until", ("until",)),
        ("all", ()))},
})

log = logging.getLogger("citizenbot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="citizenbot",
        description="Answers questions about Shizhong District (Jinan) from its 2021 Government "
                    "Work Report, quoting the report word for word.",
    )
    parser.add_argument("--version", action="version", version=f"citizenbot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, description=help_text)

    def kb_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--intents", type=Path, metavar="DIR",
                       help="knowledge-base directory "
                            "(default: CITIZENBOT_INTENTS or the shipped one)")

    def db_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--db", type=Path, metavar="PATH",
                       help="SQLite enquiry log (default: CITIZENBOT_DB)")

    p = add("run", "Run the bot: Telegram when TELEGRAM_BOT_TOKEN is set, else the terminal chat.")
    kb_option(p)
    db_option(p)

    p = add("chat", "Talk to the bot in this terminal (logged with transport 'console').")
    kb_option(p)
    db_option(p)
    p.add_argument("--no-log", action="store_true", help="do not write to the enquiry log")

    p = add("answer", "Batch mode: one question per line on stdin, one JSON object per line "
                      "on stdout.")
    kb_option(p)
    db_option(p)
    p.add_argument("--log", action="store_true", help="also write each question to the log")

    p = add("validate", "Check the knowledge base; print every problem; exit 1 if any.")
    p.add_argument("directory", nargs="?", type=Path, metavar="DIR",
                   help="knowledge-base directory (default: CITIZENBOT_INTENTS or the shipped one)")

    def lang_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--lang", choices=("en", "zh"),
                       help="language of the output (default: CITIZENBOT_STAFF_LANGUAGE, zh)")

    p = add("stats", "Totals by status, top intents and recent unanswered questions from the log.")
    db_option(p)
    lang_option(p)
    p.add_argument("--since", type=_date_arg, metavar="DATE",
                   help="only enquiries on or after DATE (YYYY-MM-DD, UTC)")
    p.add_argument("--limit", type=_count_arg, default=10, help="rows in each list (default 10)")

    p = add("eval", "Measure answer quality on labelled files: JSON lines with expected phrases "
                    "(the blind sets) or question<TAB>intent|none[:category]<TAB>tags.")
    kb_option(p)
    p.add_argument("file", type=Path, nargs="+",
                   help="labelled question file(s), e.g. tests/data/eval.tsv")
    p.add_argument("--min-accuracy", type=float, metavar="PCT",
                   help="exit 1 if in-scope accuracy (%%) is below PCT")
    p.add_argument("--max-confident-wrong", type=float, metavar="PCT",
                   help="exit 1 if the confident-wrong rate (%%) is above PCT")
    for group in ("english", "chinese", "misspelt"):
        p.add_argument(f"--min-{group}", type=float, metavar="PCT",
                       help=f"exit 1 if the accuracy on {group} questions is below PCT")
    p.add_argument("--min-refused", type=float, metavar="PCT",
                   help="exit 1 if fewer than PCT %% of out-of-scope questions are refused")
    p.add_argument("--max-wrong-redirect", type=float, metavar="PCT",
                   help="exit 1 if more than PCT %% of questions get a refusal that does not fit")
    p.add_argument("--max-clarify", type=float, metavar="PCT",
                   help="exit 1 if more than PCT %% of in-scope questions get a did-you-mean")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--show-errors", action="store_true", help="list every wrong answer")

    def period_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--since", type=_date_arg, metavar="DATE",
                       help="only enquiries on or after DATE (YYYY-MM-DD, UTC)")
        p.add_argument("--until", type=_date_arg, metavar="DATE",
                       help="only enquiries on or before DATE (YYYY-MM-DD, UTC; the whole day)")

    p = add("report", "Write a self-contained HTML report of the enquiries: totals, answer "
                      "rate, per day, unanswered questions grouped, helpfulness, languages.")
    db_option(p)
    kb_option(p)
    p.add_argument("--out", type=Path, default=Path("enquiries.html"), metavar="FILE",
                   help="the HTML file to write (default: enquiries.html)")
    period_options(p)
    lang_option(p)

    p = add("suggest", "Group the questions the bot could not answer and propose the nearest "
                       "intent for each; nothing is written to the knowledge base.")
    db_option(p)
    kb_option(p)
    period_options(p)
    p.add_argument("--min-count", type=int, default=1, metavar="N",
                   help="only groups asked at least N times (default 1)")
    p.add_argument("--yaml", action="store_true",
                   help="print the groups as YAML example lines to paste into intent files")
    lang_option(p)

    p = add("export", "Write the enquiries as CSV, one row per enquiry with its feedback votes "
                      "(to stdout, or to --out FILE).")
    db_option(p)
    period_options(p)
    p.add_argument("--out", type=Path, metavar="FILE",
                   help="write to FILE (owner-only, UTF-8 with a BOM for spreadsheets) "
                        "instead of stdout")

    p = add("purge", "Delete enquiries older than DAYS days, with their feedback; print how many.")
    db_option(p)
    p.add_argument("--older-than", type=_days_arg, required=True, metavar="DAYS",
                   help="age in days (1 or more) beyond which enquiries are deleted")

    p = add("backup", "Copy the enquiry log to PATH (owner-only), consistently, even while the "
                      "bot is running.")
    db_option(p)
    p.add_argument("path", metavar="PATH",
                   help="file to write (replaced if it exists), or a directory (existing, or "
                        "ending in /) to put a dated copy in")

    p = add("tickets", "List the questions handed to district staff (tickets), oldest first, "
                       "with their age and status.")
    db_option(p)
    p.add_argument("--open", action="store_true", help="only the open ones")
    lang_option(p)

    p = add("reply", "Answer a ticket: the answer goes to the citizen as one from district "
                     "staff. Sent at once through the Bot API when TELEGRAM_BOT_TOKEN is set, "
                     "else recorded for the running bot to deliver.")
    db_option(p)
    kb_option(p)
    p.add_argument("reference", metavar="REFERENCE", help="the ticket, e.g. Q-000042")
    p.add_argument("text", metavar="TEXT", help="the answer (quote it)")

    p = add("health", "Exit 0 when the enquiry log opens and passes a quick check and the "
                      "running bot's heartbeat (if any) is under 5 minutes old; else say why "
                      "and exit 1.")
    db_option(p)
    return parser



def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"citizenbot: bad setting: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    from citizenbot.logs import configure_logging
    level = settings.log_level
    if level == "INFO" and _opens_terminal_chat(args, settings):
        # Lines about migrations or erasures would land between the questions and answers of
        # the person at the keyboard; warnings and errors still show (DEBUG shows everything).
        level = "WARNING"
    configure_logging(level, settings.log_format)
    if getattr(args, "db", None):
        settings = dataclasses.replace(settings, db_path=args.db)
    if getattr(args, "intents", None):
        settings = dataclasses.replace(settings, intents_dir=args.intents)
    try:
        return _run(args, settings)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else EXIT_UNUSABLE
    except StoreError as exc:
        # The log failed mid-command (a corrupt page the quick check did not reach, a disk
        # error): one line and "cannot run like this", as when it cannot be opened.
        print(f"citizenbot: {exc} (CITIZENBOT_DB or --db chooses the file)", file=sys.stderr)
        return EXIT_UNUSABLE


def _opens_terminal_chat(args: argparse.Namespace, settings: Settings) -> bool:
    return bool(args.command == "chat" or (args.command == "run" and not settings.token))


def _run(args: argparse.Namespace, settings: Settings) -> int:
    command = args.command
    if command == "validate":
        return validate(args.directory or settings.intents_dir)
    lang = getattr(args, "lang", None) or settings.staff_language
    if command == "stats":
        words = _kb_or_exit(settings, TEXTS)
        if words is None:
            return EXIT_UNUSABLE
        return _quiet_on_closed_pipe(lambda: asyncio.run(
            stats(settings, words, args.since, args.limit, lang)))
    if command in ("report", "suggest", "export") and args.since and args.until \
            and args.since > args.until:
        print("citizenbot: --since is after --until", file=sys.stderr)
        return EXIT_UNUSABLE
    if command == "report":
        return asyncio.run(report(settings, args.out, args.since, args.until, lang))
    if command == "suggest":
        return asyncio.run(suggest(settings, args.since, args.until, args.min_count,
                                   as_yaml=args.yaml, lang=lang))
    if command == "export":
        return asyncio.run(export_csv(settings, args.since, args.until, args.out))
    if command == "purge":
        return asyncio.run(purge(settings, args.older_than))
    if command == "backup":
        return asyncio.run(backup(settings, args.path))
    if command == "health":
        return health(settings)
    if command in ("tickets", "reply"):
        kb = _kb_or_exit(settings, TEXTS)
        if kb is None:
            return EXIT_UNUSABLE
        if command == "tickets":
            return asyncio.run(list_tickets(settings, kb, args.open, lang))
        return asyncio.run(reply(settings, kb, args.reference, args.text))
    if command == "eval":
        from citizenbot.evaluate import Targets, run_eval
        responder = _responder_or_exit(settings)
        if responder is None:
            return EXIT_UNUSABLE
        targets = Targets(args.min_accuracy, args.min_english, args.min_chinese,
                          args.min_misspelt, args.min_refused, args.max_confident_wrong,
                          args.max_wrong_redirect, args.max_clarify)
        return run_eval(responder, args.file, targets, as_json=args.json,
                        show_errors=args.show_errors)
    if command == "run" and settings.token:
        responder = _responder_or_exit(settings)
        if responder is None:
            return EXIT_UNUSABLE
        from citizenbot.telegram.app import run_telegram
        return run_telegram(settings, responder)
    if command == "answer":
        batch = _responder_or_exit(settings)
        if batch is None:
            return EXIT_UNUSABLE
        return _quiet_on_closed_pipe(lambda: _answer_stdin(batch, settings if args.log else None))
    from citizenbot.console import TEXTS as CONSOLE_TEXTS
    responder = _responder_or_exit(settings, CONSOLE_TEXTS)
    if responder is None:
        return EXIT_UNUSABLE
    return asyncio.run(chat(responder, settings, not getattr(args, "no_log", False)))


@contextlib.contextmanager
def _stdin() -> Iterator[TextIO]:
    # Undecodable bytes must not stop a batch: they become U+FFFD and are answered.
    stream = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace", newline="\n")
    try:
        yield stream
    finally:
        stream.detach()  # sys.stdin stays usable: closing the wrapper would close it too


def _answer_stdin(responder: Responder, log_to: Settings | None) -> int:
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", errors="replace",
                           line_buffering=True, write_through=True)
    try:
        with _stdin() as stdin:
            return asyncio.run(answer(responder, log_to, stdin, out))
    finally:
        with contextlib.suppress(BrokenPipeError):
            out.flush()
        out.detach()


def _cannot_load(exc: KnowledgeBaseError) -> None:
    print(f"citizenbot: cannot start: {exc}", file=sys.stderr)


def _responder_or_exit(settings: Settings, texts: TextSchema | None = None) -> Responder | None:
    """The responder, with the texts the door needs; None after saying why not."""
    try:
        responder = load_responder(settings)
        if texts is not None:
            require(responder.kb, texts)
    except KnowledgeBaseError as exc:
        _cannot_load(exc)
        return None
    return responder


def _kb_or_exit(settings: Settings, texts: TextSchema) -> KnowledgeBase | None:
    try:
        kb = load_kb(settings)
        require(kb, texts)
    except KnowledgeBaseError as exc:
        _cannot_load(exc)
        return None
    return kb


def every_door_texts() -> TextSchema:
    """Every interface text any door needs: what `validate` checks."""
    from citizenbot.console import TEXTS as CONSOLE_TEXTS
    from citizenbot.staff.report import TEXTS as REPORT_TEXTS
    from citizenbot.telegram.app import TEXTS as TELEGRAM_TEXTS

    return TELEGRAM_TEXTS | CONSOLE_TEXTS | REPORT_TEXTS | TEXTS


def validate(directory: Path | None) -> int:
    try:
        kb = load_knowledge_base(directory, check_texts=every_door_texts().problems)
    except KnowledgeBaseError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"{len(exc.problems)} problem(s) found.", file=sys.stderr)
        return EXIT_PROBLEMS
    examples = sum(len(i.examples) for i in kb.intents)
    print(f"OK: {len(kb.intents)} intents, {examples} examples, "
          f"{len(kb.report.passages)} report passages ({kb.directory}).")
    return 0


# ---------------------------------------------------------------------- the store

async def _open_store(settings: Settings) -> Store:
    try:
        # A corrupt page with the header intact opens fine and fails half-way through.
        check_file(settings.db_path)
        return await Store.open(settings.db_path)
    except StoreError as exc:
        # One line, and exit code 2 ("cannot run like this"), as for a bad setting.
        print(f"citizenbot: {exc} (CITIZENBOT_DB or --db chooses the file)", file=sys.stderr)
        raise SystemExit(EXIT_UNUSABLE) from None


async def _open_log(settings: Settings) -> tuple[Store, Journal]:
    """The store, with enquiries journaled while it was unwritable imported first."""
    store = await _open_store(settings)
    journal = Journal(journal_path(settings.db_path))
    try:
        await import_journal(store, journal)
    except StoreError as exc:
        log.error("could not import the journal %s yet: %s", journal.path.name, exc)
    except OSError as exc:
        log.error("could not read the journal %s: %s", journal.path.name, exc.strerror or exc)
    return store, journal


# ---------------------------------------------------------------------- the conversation

def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


async def chat(responder: Responder, settings: Settings, log_enquiries: bool = True) -> int:
    from citizenbot.console import converse
    if log_enquiries:
        store, journal = await _open_log(settings)
        salt = settings.salt or load_or_create_salt(settings.salt_path)
    else:
        # Not logged: the conversation (language, last answer, votes) lives in a database in
        # memory, gone with the process; nothing is written to disk.
        store, journal = await Store.open(":memory:"), None
        salt = secrets.token_hex(32)
    service = Service(responder, store, journal=journal, salt=salt,
                      context_seconds=settings.context_minutes * 60)
    # asyncio.run would turn Ctrl-C into a cancellation that a blocking read never sees; with
    # a handler of our own the read is interrupted at once and the chat ends cleanly.
    previous = signal.signal(signal.SIGINT, _interrupt)
    try:
        with contextlib.nullcontext(sys.stdin) if sys.stdin.isatty() else _stdin() as stdin:
            await converse(service, stdin, sys.stdout, interactive=sys.stdin.isatty())
    except KeyboardInterrupt:
        sys.stdout.write("\n")
    finally:
        signal.signal(signal.SIGINT, previous)
        await store.close()
    return 0


async def answer(responder: Responder, log_to: Settings | None, stdin: TextIO,
                 stdout: TextIO) -> int:
    """The batch contract: one JSON object per input line, in input order."""
    store, journal = await _open_log(log_to) if log_to else (None, None)
    service = Service(responder, store, journal=journal)
    asker = Asker(Transport.BATCH, "batch")
    try:
        for line in stdin:
            question = line.rstrip("\r\n")
            reply = (await service.ask(asker, question)).reply
            record = {
                "question": question,
                "status": reply.status,
                "intent": reply.intent_id if reply.status == "answered" else None,
                "score": round(reply.score, 1),
                "answer": plain_text(reply, responder.kb),
                "sources": reply.sources,
            }
            stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        stdout.flush()
        if store is not None:
            await store.close()
    return 0


# ---------------------------------------------------------------------- figures

async def stats(settings: Settings, kb: KnowledgeBase, since: date | None, limit: int,
                lang: str) -> int:
    def t(key: str, **values: object) -> str:
        return fill(kb.text(key, lang), **values)

    since_dt, _ = _utc_range(since, None)
    if not settings.db_path.exists():
        print(t("cli.stats.no_log", path=settings.db_path))
        return 0
    store = await _open_store(settings)
    try:
        s = await store.stats(since=since_dt, limit=limit)
    finally:
        await store.close()
    print(t("cli.stats.total", count=s.total))
    names = {status: t(f"report.status.{status}") for status in ("answered", "clarify",
                                                                 "fallback")}
    width = max(len(name) for name in names.values())
    for status, name in names.items():
        n = s.by_status.get(status, 0)
        share = f"{100 * n / s.total:.0f}%" if s.total else "-"
        print(f"  {name:<{width}} {n:>6}  {share}")
    print("\n" + t("cli.stats.top_intents"))
    for intent_id, n in s.top_intents:
        intent = kb.intent(intent_id)
        print(f"  {n:>6}  {intent_id}" + (f" ({intent.title(lang)})" if intent else ""))
    if not s.top_intents:
        print("  " + t("cli.stats.none"))
    print("\n" + t("cli.stats.recent_unanswered"))
    for ts, question in s.recent_unanswered:
        print(f"  {ts[:16]:<16}  {shorten(question, 100)}")
    if not s.recent_unanswered:
        print("  " + t("cli.stats.none"))
    return 0


# ---------------------------------------------------------------------- staff tools


def _date_arg(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    # The last day has no following midnight to end a period at.
    if day >= date.max:
        raise argparse.ArgumentTypeError(f"{text!r} is too far in the future")
    return day


def _days_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if not 1 <= value <= 36_500:
        raise argparse.ArgumentTypeError(f"{text} must be between 1 and 36500 days")
    return value


def _count_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 100_000:
        raise argparse.ArgumentTypeError(f"{text} must be between 1 and 100000")
    return value


def _utc_range(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """[since, until] as whole UTC days -> the store's [start, end) instants."""
    start = datetime(since.year, since.month, since.day, tzinfo=UTC) if since else None
    end = None
    if until is not None:
        end = datetime(until.year, until.month, until.day, tzinfo=UTC) + timedelta(days=1)
    return start, end


def _period_text(since: date | None, until: date | None, kb: KnowledgeBase | None = None,
                 lang: str = "en") -> str:
    key, values = "all", {}
    if since and until:
        key, values = "between", {"since": since, "until": until}
    elif since:
        key, values = "since", {"since": since}
    elif until:
        key, values = "until", {"until": until}
    kb = kb or load_knowledge_base()
    return fill(kb.text(f"report.period.{key}", lang), **values)


def _open_private(path: Path, encoding: str = "utf-8") -> io.TextIOWrapper:
    """Open ``path`` for writing text, owner-only (an existing file too) and never through a
    symlink: it holds what citizens typed."""
    fd = open_private(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    return open(fd, "w", encoding=encoding, errors="replace", newline="")


def _quiet_on_closed_pipe(run: Callable[[], int]) -> int:
    """Run a command whose output may go to `| head`: a reader that stops early is fine."""
    try:
        return run()
    except BrokenPipeError:
        _silence_stdout()
        return 0


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that Python's final flush to a closed pipe stays quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _utf8_stdout() -> io.TextIOWrapper:
    """stdout as UTF-8 whatever the locale; csv writes its own line ends, so no translation."""
    return io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", errors="replace", newline="")


async def report(settings: Settings, out: Path, since: date | None, until: date | None,
                 lang: str) -> int:
    from citizenbot.staff.report import TEXTS as REPORT_TEXTS
    from citizenbot.staff.report import render_report
    from citizenbot.staff.suggest import group_questions

    try:
        kb = load_kb(settings)
        require(kb, REPORT_TEXTS | TEXTS)
    except KnowledgeBaseError as exc:
        # The report is still worth having: in the shipped knowledge base's words, with bare
        # intent ids where the titles are missing.
        log.warning("the knowledge base has problems; the report uses the shipped one's texts: "
                    "%s", exc)
        kb = load_knowledge_base()
    start, end = _utc_range(since, until)
    overview, open_tickets = Overview.empty(), []
    if settings.db_path.exists():
        store = await _open_store(settings)
        try:
            overview = await store.overview(start, end)
            open_tickets = await store.tickets(open_only=True)
        finally:
            await store.close()
    page = render_report(overview, group_questions(overview.unanswered), kb=kb,
                         generated=datetime.now(UTC), since=since, until=until,
                         titles={i.id: i.title(lang) for i in kb.intents},
                         open_tickets=open_tickets, lang=lang)
    try:
        with _open_private(out) as fh:
            fh.write(page)
    except OSError as exc:
        print(f"citizenbot: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    print(fill(kb.text("cli.wrote_report", lang), file=out, count=overview.total,
               period=_period_text(since, until, kb, lang)))
    return 0


async def suggest(settings: Settings, since: date | None, until: date | None, min_count: int,
                  *, as_yaml: bool, lang: str) -> int:
    from citizenbot.core.matcher import Matcher
    from citizenbot.staff.suggest import group_questions, propose, render_text, render_yaml

    kb = _kb_or_exit(settings, TEXTS)
    if kb is None:
        return EXIT_UNUSABLE
    start, end = _utc_range(since, until)
    rows: list[tuple[str, str, str]] = []
    if settings.db_path.exists():
        store = await _open_store(settings)
        try:
            rows = await store.unanswered(start, end, limit=SUGGEST_LIMIT)
        finally:
            await store.close()
    groups = [g for g in group_questions(rows) if g.count >= min_count]
    proposals = propose(groups, Matcher(kb))

    def t(key: str, **values: object) -> str:
        return fill(kb.text(f"cli.suggest.{key}", lang), **values)

    heading = t("heading", count=sum(g.count for g in groups), groups=len(groups),
                period=_period_text(since, until, kb, lang))
    if min_count > 1:
        heading += " " + t("min_count", count=min_count)
    if len(rows) >= SUGGEST_LIMIT:
        heading += " " + t("capped", count=SUGGEST_LIMIT)
    render = render_yaml if as_yaml else render_text
    out = _utf8_stdout()
    try:
        out.write(render(proposals, kb, heading, lang))
        out.flush()
    except BrokenPipeError:
        _silence_stdout()
    finally:
        out.detach()
    return 0


async def _pages(store: Store, start: datetime | None,
                 end: datetime | None) -> AsyncIterator[list[LoggedEnquiry]]:
    """The log page by page, by id, so that a large log never sits in memory at once."""
    after = 0
    while page := await store.enquiries(start, end, after_id=after, limit=1000):
        yield page
        after = page[-1].id


async def _no_pages() -> AsyncIterator[list[LoggedEnquiry]]:
    return
    yield  # an async generator that yields nothing


async def export_csv(settings: Settings, since: date | None, until: date | None,
                     out: Path | None) -> int:
    from citizenbot.staff.export import write_csv

    start, end = _utc_range(since, until)
    try:
        # A BOM in a file, so that spreadsheets read the Chinese questions as UTF-8; none on
        # stdout, where another program reads.
        stream = _open_private(out, "utf-8-sig") if out is not None else _utf8_stdout()
    except OSError as exc:
        print(f"citizenbot: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        if settings.db_path.exists():
            store = await _open_store(settings)
            try:
                count = await write_csv(stream, _pages(store, start, end))
            finally:
                await store.close()
        else:
            count = await write_csv(stream, _no_pages())
        stream.flush()
    except BrokenPipeError:
        # The reader (`| head`) has had enough; that is not an error.
        _silence_stdout()
        return 0
    finally:
        if out is None:
            stream.detach()  # leave sys.stdout usable
        else:
            stream.close()
    if out is not None:
        print(f"Exported {count} enquiries to {out} ({_period_text(since, until)}).")
    return 0


async def purge(settings: Settings, days: int) -> int:
    if days < 1:
        print("citizenbot: --older-than must be 1 or more days", file=sys.stderr)
        return EXIT_UNUSABLE
    deleted = tickets = 0
    if settings.db_path.exists():
        store = await _open_store(settings)
        try:
            purged = await store.purge(days)
        finally:
            await store.close()
        deleted, tickets = purged.enquiries, purged.tickets
    print(f"Deleted {deleted} enquir{'y' if deleted == 1 else 'ies'} older than {days} "
          f"day{'s' if days != 1 else ''}, with their feedback, and {tickets} finished "
          f"ticket{'' if tickets == 1 else 's'} (open tickets are kept).")
    return 0


def health(settings: Settings) -> int:
    from citizenbot.ops import check_health
    healthy, why = check_health(settings.db_path)
    if healthy:
        print(why)
        return 0
    print(f"citizenbot: unhealthy: {why}", file=sys.stderr)
    return EXIT_PROBLEMS


async def backup(settings: Settings, where: str) -> int:
    if not settings.db_path.exists():
        print(f"citizenbot: there is no enquiry log at {settings.db_path} to back up",
              file=sys.stderr)
        return EXIT_UNUSABLE
    path = target = Path(where)
    if path.is_dir() or where.endswith(os.sep):
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = path / f"citizenbot-{datetime.now(UTC):%Y%m%d-%H%M%S}.db"
    elif target.is_symlink() or (target.exists() and not target.is_file()):
        print(f"citizenbot: {target} exists and is not a regular file; give a new file name "
              "or a directory", file=sys.stderr)
        return EXIT_UNUSABLE
    store = await _open_store(settings)
    try:
        written = await store.backup(target)
        # Read the copy back: a backup nobody has opened is a hope, not a backup.
        checked = quick_check(written, count=True, read_only=True)
    except StoreError as exc:
        print(f"citizenbot: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    finally:
        await store.close()
    if checked.problems:
        print(f"citizenbot: the backup {written} fails its check: {checked.problems[0]}",
              file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"Backed up {checked.enquiries} enquiries to {written}.")
    return 0


# ---------------------------------------------------------------------- tickets

def _error(text: str) -> None:
    print(f"citizenbot: {text}", file=sys.stderr)


async def list_tickets(settings: Settings, kb: KnowledgeBase, open_only: bool,
                       lang: str) -> int:
    """`citizenbot tickets`: the tickets (only open ones with ``open_only``), oldest first."""
    found = []
    if settings.db_path.exists():
        store = await _open_store(settings)
        try:
            found = await store.tickets(open_only=open_only)
        finally:
            await store.close()

    def t(key: str, **values: object) -> str:
        return fill(kb.text(f"cli.tickets.{key}", lang), **values)

    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", errors="replace")
    try:
        if not found:
            out.write(t("none_open" if open_only else "none") + "\n")
        else:
            out.write(table(found, datetime.now(UTC), kb, lang) + "\n")
            waiting = sum(1 for ticket in found if ticket.status == "open")
            out.write("\n" + t(plural_key("summary", len(found)), count=len(found),
                               open=waiting) + "\n")
        out.flush()
    finally:
        out.detach()
    return 0


async def reply(settings: Settings, kb: KnowledgeBase, ref: str, text: str) -> int:
    """`citizenbot reply`: record a staff answer; deliver it now when a bot token is set."""
    ticket_id = parse_reference(ref)
    answer = text.strip()
    if ticket_id is None:
        _error(f"{ref!r} is not a ticket reference (like Q-000042)")
        return EXIT_UNUSABLE
    if not answer:
        _error("the answer is empty")
        return EXIT_UNUSABLE
    if len(answer) > MAX_ANSWER_CHARS:
        _error(f"the answer has {len(answer)} characters; at most {MAX_ANSWER_CHARS} fit")
        return EXIT_UNUSABLE
    ref = reference(ticket_id)

    def t(key: str, **values: object) -> str:
        return fill(kb.text(f"cli.reply.{key}", settings.staff_language), ref=ref, **values)

    if not settings.db_path.exists():
        _error(f"there is no ticket {ref}: no database at {settings.db_path}")
        return EXIT_PROBLEMS
    store = await _open_store(settings)
    try:
        desk = TicketDesk(store, lambda: kb,
                          StaffChat(settings.staff_chat_id, settings.staff_language))
        settle, _ = await desk.record_answer(ticket_id, answer, "cli")
        if settle is not Settle.DONE:
            _error(t(settle.value))
            return EXIT_PROBLEMS
        if not settings.token:
            print(t("recorded"))
            return 0
        from citizenbot.telegram.messenger import connect
        try:
            async with connect(settings) as messenger:
                answering = await desk.deliver_and_report(messenger, ticket_id)
        except Unreachable as exc:
            print(t("delayed", reason=exc.reason))
            return 0
    finally:
        await store.close()
    delivery = answering.delivery
    assert delivery is not None
    if delivery.outcome is DeliveryOutcome.DELIVERED:
        print(t("delivered"))
        return 0
    if delivery.outcome is DeliveryOutcome.UNDELIVERABLE:
        _error(t("undelivered", reason=delivery.reason))
        return EXIT_PROBLEMS
    if delivery.outcome is DeliveryOutcome.BUSY:
        print(t("busy"))
        return 0
    print(t("delayed", reason=delivery.reason))
    return 0


if __name__ == "__main__":
    sys.exit(main())
