"""`citizenbot` command line: one verb, one job. `citizenbot --help` is the manual."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TextIO

from citizenbot import __version__
from citizenbot.config import Settings, SettingsError, load_settings
from citizenbot.core import load_responder
from citizenbot.intents import KnowledgeBaseError, load_knowledge_base
from citizenbot.journal import EnquiryLog, import_journal, journal_path
from citizenbot.responder import Responder, plain_text
from citizenbot.store import Enquiry, Store, StoreError

EXIT_PROBLEMS = 1
SUGGEST_LIMIT = 5000  # grouping is quadratic at worst; older questions wait for --since
EXIT_UNUSABLE = 2

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

    p = add("stats", "Totals by status, top intents and recent unanswered questions from the log.")
    db_option(p)
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

    p = add("suggest", "Group the questions the bot could not answer and propose the nearest "
                       "intent for each; nothing is written to the knowledge base.")
    db_option(p)
    kb_option(p)
    period_options(p)
    p.add_argument("--min-count", type=int, default=1, metavar="N",
                   help="only groups asked at least N times (default 1)")
    p.add_argument("--yaml", action="store_true",
                   help="print the groups as YAML example lines to paste into intent files")

    p = add("export", "Write the enquiries as CSV, one row per enquiry with its feedback votes "
                      "(to stdout, or to --out FILE).")
    db_option(p)
    p.add_argument("--csv", action="store_true", help="CSV (the only format, and the default)")
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
    configure_logging(settings.log_level, settings.log_format)
    if getattr(args, "db", None):
        settings = _with(settings, db_path=args.db)
    if getattr(args, "intents", None):
        settings = _with(settings, intents_dir=args.intents)

    command = args.command
    if command == "validate":
        return validate(args.directory or settings.intents_dir)
    if command == "stats":
        return _quiet_on_closed_pipe(lambda: asyncio.run(stats(settings, args.since, args.limit)))
    if command in ("report", "suggest", "export") and args.since and args.until \
            and args.since > args.until:
        print("citizenbot: --since is after --until", file=sys.stderr)
        return EXIT_UNUSABLE
    if command == "report":
        return asyncio.run(report(settings, args.out, args.since, args.until))
    if command == "suggest":
        return asyncio.run(suggest(settings, args.since, args.until, args.min_count,
                                   as_yaml=args.yaml))
    if command == "export":
        return asyncio.run(export_csv(settings, args.since, args.until, args.out))
    if command == "purge":
        return asyncio.run(purge(settings, args.older_than))
    if command == "backup":
        return asyncio.run(backup(settings, args.path))
    if command in ("tickets", "reply"):
        from citizenbot import tickets_cli
        if command == "tickets":
            return asyncio.run(tickets_cli.list_tickets(settings, args.open))
        return asyncio.run(tickets_cli.reply(settings, args.reference, args.text))
    if command == "health":
        return health(settings)
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
    responder = _responder_or_exit(settings)
    if responder is None:
        return EXIT_UNUSABLE
    if command == "answer":
        return _quiet_on_closed_pipe(lambda: asyncio.run(answer(
            responder, settings if args.log else None, _stdin(), _stdout())))
    if command == "run" and settings.token:
        from citizenbot.telegram_bot import run_telegram
        return run_telegram(settings, responder)
    return asyncio.run(chat(responder, None if getattr(args, "no_log", False) else settings))


def _with(settings: Settings, **changes: object) -> Settings:
    import dataclasses
    return dataclasses.replace(settings, **changes)  # type: ignore[arg-type]


def _stdin() -> TextIO:
    # Undecodable bytes must not stop a batch: they become U+FFFD and are answered.
    return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace", newline="\n")


def _stdout() -> TextIO:
    return io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", errors="replace",
                            line_buffering=True, write_through=True)


def _responder_or_exit(settings: Settings) -> Responder | None:
    try:
        return load_responder(settings)
    except KnowledgeBaseError as exc:
        print(f"citizenbot: cannot start: {exc}", file=sys.stderr)
        return None


def validate(directory: Path | None) -> int:
    try:
        kb = load_knowledge_base(directory)
    except KnowledgeBaseError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"{len(exc.problems)} problem(s) found.", file=sys.stderr)
        return EXIT_PROBLEMS
    examples = sum(len(i.examples) for i in kb.intents)
    print(f"OK: {len(kb.intents)} intents, {examples} examples, "
          f"{len(kb.report.passages)} report passages ({kb.directory}).")
    return 0


async def _open_store(settings: Settings) -> Store:
    try:
        return await Store.open(settings.db_path)
    except StoreError as exc:
        # One line, and exit code 2 ("cannot run like this"), as for a bad setting.
        print(f"citizenbot: {exc} (CITIZENBOT_DB or --db chooses the file)", file=sys.stderr)
        raise SystemExit(EXIT_UNUSABLE) from None


async def _open_log(settings: Settings) -> EnquiryLog:
    """The store, with enquiries journaled while it was unwritable imported first."""
    store = await _open_store(settings)
    journal = journal_path(settings.db_path)
    try:
        await import_journal(store, journal)
    except StoreError as exc:
        log.error("could not import the journal %s yet: %s", journal.name, exc)
    return EnquiryLog(store, journal)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


async def chat(responder: Responder, settings: Settings | None) -> int:
    from citizenbot.console import chat as console_chat
    enquiry_log = await _open_log(settings) if settings else None
    # asyncio.run would turn Ctrl-C into a cancellation that a blocking read never sees; with
    # a handler of our own the read is interrupted at once and the chat ends cleanly.
    previous = signal.signal(signal.SIGINT, _interrupt)
    try:
        stdin = sys.stdin if sys.stdin.isatty() else _stdin()
        await console_chat(responder, enquiry_log, stdin, sys.stdout,
                           interactive=sys.stdin.isatty())
    except KeyboardInterrupt:
        sys.stdout.write("\n")
    finally:
        signal.signal(signal.SIGINT, previous)
        if enquiry_log is not None:
            await enquiry_log.store.close()
    return 0


async def answer(responder: Responder, log_to: Settings | None, stdin: TextIO,
                 stdout: TextIO) -> int:
    """The batch contract: one JSON object per input line, in input order."""
    enquiry_log = await _open_log(log_to) if log_to else None
    try:
        for line in stdin:
            question = line.rstrip("\r\n")
            started = time.perf_counter()
            reply = responder.respond(question)
            latency = (time.perf_counter() - started) * 1000
            record = {
                "question": question,
                "status": reply.status,
                "intent": reply.intent_id if reply.status == "answered" else None,
                "score": round(reply.score, 1),
                "answer": plain_text(reply, responder.kb),
                "sources": reply.sources,
            }
            stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            if enquiry_log is not None:
                await enquiry_log.log_enquiry(Enquiry(
                    transport="batch", user_hash="", chat_type="batch", language=reply.language,
                    question=question, status=reply.status, intent=reply.intent_id,
                    score=reply.score, latency_ms=latency,
                ))
    finally:
        stdout.flush()
        if enquiry_log is not None:
            await enquiry_log.store.close()
    return 0


async def stats(settings: Settings, since: date | None, limit: int) -> int:
    since_dt, _ = _utc_range(since, None)
    if not settings.db_path.exists():
        print(f"No enquiries logged yet ({settings.db_path} does not exist).")
        return 0
    store = await _open_store(settings)
    try:
        s = await store.stats(since=since_dt, limit=limit)
    finally:
        await store.close()
    print(f"Enquiries: {s.total}")
    for status in ("answered", "clarify", "fallback"):
        n = s.by_status.get(status, 0)
        share = f"{100 * n / s.total:.0f}%" if s.total else "-"
        print(f"  {status:<9} {n:>6}  {share}")
    print("\nTop intents:")
    for intent, n in s.top_intents or [("(none yet)", 0)]:
        print(f"  {n:>6}  {intent}")
    print("\nRecent unanswered questions:")
    for ts, question in s.recent_unanswered or [("", "(none)")]:
        print(f"  {ts[:16]:<16}  {question[:100]}")
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


def _period_text(since: date | None, until: date | None) -> str:
    if since and until:
        return f"{since} to {until}"
    if since:
        return f"since {since}"
    if until:
        return f"up to {until}"
    return "all enquiries"


def _open_private(path: Path, encoding: str = "utf-8") -> io.TextIOWrapper:
    """Open ``path`` for writing text, creating it owner-only: it holds what citizens typed."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
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


async def report(settings: Settings, out: Path, since: date | None, until: date | None) -> int:
    from citizenbot.core import load_kb
    from citizenbot.report_html import render_report
    from citizenbot.store import Overview
    from citizenbot.suggest import group_questions

    start, end = _utc_range(since, until)
    open_tickets = []
    if settings.db_path.exists():
        store = await _open_store(settings)
        try:
            overview = await store.overview(start, end)
            open_tickets = await store.tickets(open_only=True)
        finally:
            await store.close()
    else:
        overview = Overview(total=0, by_status={}, by_language={}, by_day=[], top_intents=[],
                            feedback={}, unanswered=[], first_ts=None, last_ts=None)
    try:
        titles = {i.id: i.title_en for i in load_kb(settings).intents}
    except KnowledgeBaseError as exc:
        # The report is still worth having with bare intent ids.
        log.warning("intent titles unavailable: %s", exc)
        titles = {}
    page = render_report(overview, group_questions(overview.unanswered),
                         generated=datetime.now(UTC), since=since, until=until, titles=titles,
                         open_tickets=open_tickets)
    try:
        with _open_private(out) as fh:
            fh.write(page)
    except OSError as exc:
        print(f"citizenbot: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    print(f"Wrote {out}: {overview.total} enquiries ({_period_text(since, until)}).")
    return 0


async def suggest(settings: Settings, since: date | None, until: date | None, min_count: int,
                  *, as_yaml: bool) -> int:
    from citizenbot.core import load_kb
    from citizenbot.matcher import Matcher
    from citizenbot.suggest import group_questions, propose, render_text, render_yaml

    try:
        kb = load_kb(settings)
    except KnowledgeBaseError as exc:
        print(f"citizenbot: cannot load the knowledge base: {exc}", file=sys.stderr)
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
    shown = sum(g.count for g in groups)
    heading = (f"citizenbot suggest: {shown} unanswered or clarify question"
               f"{'s' if shown != 1 else ''} in {len(groups)} group"
               f"{'s' if len(groups) != 1 else ''} ({_period_text(since, until)}"
               + (f", groups asked at least {min_count} times" if min_count > 1 else "")
               + (f"; only the latest {SUGGEST_LIMIT}: narrow with --since/--until"
                  if len(rows) >= SUGGEST_LIMIT else "") + ").")
    render = render_yaml if as_yaml else render_text
    out = _utf8_stdout()
    try:
        out.write(render(proposals, kb, heading))
        out.flush()
    except BrokenPipeError:
        _silence_stdout()
    finally:
        out.detach()
    return 0


CSV_COLUMNS = ("id", "ts", "transport", "user_hash", "chat_type", "language", "question",
               "status", "intent", "score", "latency_ms", "helpful", "not_helpful")
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
# (the full-width forms too, in some locales); a leading apostrophe makes it plain text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def csv_cell(value: object) -> str:
    """``value`` as CSV cell text that no spreadsheet will run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


async def export_csv(settings: Settings, since: date | None, until: date | None,
                     out: Path | None) -> int:
    start, end = _utc_range(since, until)
    try:
        # A BOM in a file, so that spreadsheets read the Chinese questions as UTF-8; none on
        # stdout, where another program reads.
        stream = _open_private(out, "utf-8-sig") if out is not None else _utf8_stdout()
    except OSError as exc:
        print(f"citizenbot: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    count = 0
    try:
        writer = csv.writer(stream)
        writer.writerow(CSV_COLUMNS)
        if settings.db_path.exists():
            store = await _open_store(settings)
            try:
                after = 0
                # Page by id so that a large log never sits in memory at once.
                while page := await store.enquiries(start, end, after_id=after, limit=1000):
                    for e in page:
                        writer.writerow([
                            e.id, csv_cell(e.ts), csv_cell(e.transport), csv_cell(e.user_hash),
                            csv_cell(e.chat_type), csv_cell(e.language), csv_cell(e.question),
                            csv_cell(e.status), csv_cell(e.intent), f"{e.score:.1f}",
                            f"{e.latency_ms:.1f}", e.helpful, e.not_helpful,
                        ])
                    count += len(page)
                    after = page[-1].id
            finally:
                await store.close()
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
            deleted = await store.purge_older_than(days)
            tickets = await store.purge_closed_tickets(days)
        finally:
            await store.close()
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
    import sqlite3

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
    except StoreError as exc:
        print(f"citizenbot: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    finally:
        await store.close()
    # Read the copy back: a backup nobody has opened is a hope, not a backup.
    con = sqlite3.connect(f"{Path(written).resolve().as_uri()}?mode=ro", uri=True)
    try:
        check = con.execute("PRAGMA quick_check").fetchone()[0]
        count = con.execute("SELECT COUNT(*) FROM enquiries").fetchone()[0]
    finally:
        con.close()
    if check != "ok":
        print(f"citizenbot: the backup {written} fails its check: {check}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"Backed up {count} enquiries to {written}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
