"""`citizenbot` command line: one verb, one job. `citizenbot --help` is the manual."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
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
    p.add_argument("--since", metavar="DATE", help="only enquiries on or after DATE (YYYY-MM-DD)")
    p.add_argument("--limit", type=int, default=10, help="rows in each list (default 10)")

    p = add("eval", "Measure answer quality on a labelled file "
                    "(question<TAB>intent|none<TAB>tags).")
    kb_option(p)
    p.add_argument("file", type=Path, nargs="+",
                   help="labelled question file(s), e.g. tests/data/eval.tsv")
    p.add_argument("--min-accuracy", type=float, metavar="PCT",
                   help="exit 1 if in-scope accuracy (%%) is below PCT")
    p.add_argument("--max-confident-wrong", type=float, metavar="PCT",
                   help="exit 1 if the confident-wrong rate (%%) is above PCT")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--show-errors", action="store_true", help="list every wrong answer")
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
    logging.basicConfig(level=settings.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if getattr(args, "db", None):
        settings = _with(settings, db_path=args.db)
    if getattr(args, "intents", None):
        settings = _with(settings, intents_dir=args.intents)

    command = args.command
    if command == "validate":
        return validate(args.directory or settings.intents_dir)
    if command == "stats":
        return asyncio.run(stats(settings, args.since, args.limit))
    if command == "eval":
        from citizenbot.evaluate import run_eval
        responder = _responder_or_exit(settings)
        if responder is None:
            return EXIT_UNUSABLE
        return run_eval(responder, args.file, args.min_accuracy, args.max_confident_wrong,
                        as_json=args.json, show_errors=args.show_errors)
    responder = _responder_or_exit(settings)
    if responder is None:
        return EXIT_UNUSABLE
    if command == "answer":
        return asyncio.run(answer(responder, settings if args.log else None, _stdin(),
                                  _stdout()))
    if command == "run" and settings.token:
        from citizenbot.telegram_bot import run_telegram
        return run_telegram(settings, responder)
    return asyncio.run(chat(responder, None if getattr(args, "no_log", False) else settings))


def _with(settings: Settings, **changes: object) -> Settings:
    import dataclasses
    return dataclasses.replace(settings, **changes)  # type: ignore[arg-type]


def _stdin() -> TextIO:
    # Undecodable bytes must not stop a batch: they become U+FFFD and are answered.
    return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")


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
        raise SystemExit(f"citizenbot: {exc}\n(set CITIZENBOT_DB to a writable path)") from None


async def _open_log(settings: Settings) -> EnquiryLog:
    """The store, with enquiries journaled while it was unwritable imported first."""
    store = await _open_store(settings)
    journal = journal_path(settings.db_path)
    try:
        await import_journal(store, journal)
    except StoreError as exc:
        log.error("could not import the journal %s yet: %s", journal.name, exc)
    return EnquiryLog(store, journal)


async def chat(responder: Responder, settings: Settings | None) -> int:
    from citizenbot.console import chat as console_chat
    enquiry_log = await _open_log(settings) if settings else None
    try:
        await console_chat(responder, enquiry_log, sys.stdin, sys.stdout,
                           interactive=sys.stdin.isatty())
    except KeyboardInterrupt:
        pass
    finally:
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


async def stats(settings: Settings, since: str | None, limit: int) -> int:
    since_dt = None
    if since:
        try:
            since_dt = datetime.fromisoformat(since).replace(tzinfo=UTC)
        except ValueError:
            print(f"citizenbot: --since {since!r} is not a date (YYYY-MM-DD)", file=sys.stderr)
            return EXIT_UNUSABLE
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


if __name__ == "__main__":
    sys.exit(main())
