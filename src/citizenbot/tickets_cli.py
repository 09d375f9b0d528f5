"""`citizenbot tickets` and `citizenbot reply`: working the staff queue from a terminal.

`reply` records the answer first. With TELEGRAM_BOT_TOKEN set it then delivers it through the
Bot API at once (and tells the staff chat); without one, or when Telegram cannot be reached,
the running bot delivers it within a few seconds.
"""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime

from citizenbot.config import Settings
from citizenbot.intents import KnowledgeBaseError
from citizenbot.store import Store, StoreError
from citizenbot.tickets import MAX_ANSWER_CHARS, parse_reference, reference, table

EXIT_PROBLEMS = 1
EXIT_UNUSABLE = 2

REFUSED = {
    "unknown": "there is no ticket {ref} (it may have been erased at the citizen's request)",
    "answered": "{ref} was already answered; this answer was not recorded",
    "undeliverable": "{ref} is marked undeliverable (the citizen cannot be reached); "
                     "this answer was not recorded",
    "closed": "{ref} is closed; this answer was not recorded",
    "pending": "{ref} already has an answer waiting to be delivered; this one was not recorded",
}


def _error(text: str) -> None:
    print(f"citizenbot: {text}", file=sys.stderr)


async def _open(settings: Settings) -> Store | None:
    if not settings.db_path.exists():
        return None
    try:
        return await Store.open(settings.db_path)
    except StoreError as exc:
        raise SystemExit(f"citizenbot: {exc}\n(set CITIZENBOT_DB to a writable path)") from None


async def list_tickets(settings: Settings, open_only: bool) -> int:
    """Print the tickets (only open ones with `open_only`), oldest first."""
    store = await _open(settings)
    found = []
    if store is not None:
        try:
            found = await store.tickets(open_only=open_only)
        finally:
            await store.close()
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", errors="replace")
    try:
        if not found:
            out.write(f"No {'open ' if open_only else ''}tickets.\n")
        else:
            out.write(table(found, datetime.now(UTC)) + "\n")
            waiting = sum(1 for t in found if t.status == "open")
            out.write(f"\n{len(found)} ticket{'s' if len(found) != 1 else ''}, "
                      f"{waiting} open.\n")
        out.flush()
    finally:
        out.detach()
    return 0


async def reply(settings: Settings, ref: str, text: str) -> int:
    """Record a staff answer to ticket `ref`; deliver it now when a bot token is set."""
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
    kb = None
    if settings.token:
        from citizenbot.core import load_kb
        try:
            kb = load_kb(settings)  # the citizen's message is made of its texts
        except KnowledgeBaseError as exc:
            _error(f"cannot load the knowledge base: {exc}")
            return EXIT_UNUSABLE
    store = await _open(settings)
    if store is None:
        _error(f"there is no ticket {ref}: no database at {settings.db_path}")
        return EXIT_PROBLEMS
    try:
        outcome, _ = await store.record_answer(ticket_id, answer, "cli")
        if outcome != "recorded":
            _error(REFUSED[outcome].format(ref=ref))
            return EXIT_PROBLEMS
        if kb is None:
            print(f"Recorded the answer to {ref}. The running bot delivers it within seconds "
                  "and confirms in the staff chat; `citizenbot tickets` shows when it is done.")
            return 0
        from citizenbot.telegram_tickets import deliver_from_cli
        delivery = await deliver_from_cli(settings, store, kb, ticket_id)
    finally:
        await store.close()
    if delivery.outcome == "delivered":
        print(f"Delivered the answer to {ref}.")
        return 0
    if delivery.outcome == "undeliverable":
        _error(f"{ref}: the answer could not be delivered ({delivery.reason}); the citizen has "
               "probably blocked the bot. The ticket is marked undeliverable.")
        return EXIT_PROBLEMS
    if delivery.outcome == "busy":
        print(f"Recorded the answer to {ref}; the running bot is delivering it.")
        return 0
    print(f"Recorded the answer to {ref}, but Telegram could not be reached "
          f"({delivery.reason}); the running bot will deliver it.")
    return 0
