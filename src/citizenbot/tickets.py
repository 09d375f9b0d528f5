"""Questions handed to district staff (tickets): references, and what each side is shown.

Pure: tickets in (citizenbot.model), message blocks or plain text out. The workflow lives in
`service.tickets`, the Telegram handlers in `telegram.tickets`, the SQL in `store.tickets`.

A ticket's reference is its row id, ``Q-000042``. The citizen is never shown to staff by name:
staff see the question, its language and the first characters of the salted user hash.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

from citizenbot.core.knowledge import KnowledgeBase
from citizenbot.html_text import Block, Span
from citizenbot.model import MAX_QUESTION_CHARS, Settle, Ticket, TicketStatus
from citizenbot.texts import fill, shorten

PREFIX: Final = "Q-"
USER_CHARS: Final = 12  # how much of the user hash staff see
MAX_ANSWER_CHARS: Final = 3500  # a staff answer, with its heading, fits one Telegram message
MAX_OPEN_PER_USER: Final = 5  # open tickets one citizen may have at a time
MAX_LISTED: Final = 30  # tickets in one /tickets or /mytickets message
SNIPPET: Final = 80

_REFERENCE = re.compile(r"^(?:q-?)?0*([1-9][0-9]{0,11})$", re.IGNORECASE)


def reference(ticket_id: int) -> str:
    """The reference staff and citizens use for a ticket: Q-000042."""
    return f"{PREFIX}{ticket_id:06d}"


def parse_reference(text: str) -> int | None:
    """The ticket id in "Q-000042", "q42" or "42" (None when it is not a reference)."""
    match = _REFERENCE.match(text.strip())
    return int(match.group(1)) if match else None


def card_reference(text: str, kb: KnowledgeBase, lang: str) -> int | None:
    """The ticket a staff card is for, read from its heading (tickets.staff.new): None for any
    other message, so that a reply to a notice about a ticket does not answer it."""
    heading = (text.splitlines() or [""])[0]
    before, _, after = kb.text("tickets.staff.new", lang).partition("{ref}")
    if not (heading.startswith(before) and heading.endswith(after)):
        return None
    return parse_reference(heading[len(before):len(heading) - len(after)])


# Bidirectional overrides and isolates can make a question read differently from what it says
# (U+202E turns the rest backwards); staff must see what was typed, so they go, as do other
# format and control characters (NUL, terminal escapes), except the line breaks people type.
_UNSHOWN: Final = {"Cc", "Cf", "Cs", "Co", "Cn"}


def shown_to_staff(text: str) -> str:
    """A citizen's text as staff see it: control, format and bidi characters removed."""
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) not in _UNSHOWN)


def storable_question(text: str) -> str:
    """The question as a ticket keeps it (and as the citizen confirms it): at most
    MAX_QUESTION_CHARS characters, control and bidi characters removed, no surrounding space."""
    return shown_to_staff(text).strip()[:MAX_QUESTION_CHARS].rstrip()


def too_long(text: str) -> bool:
    """Whether the ticket keeps less of the question than was typed."""
    return len(shown_to_staff(text).strip()) > MAX_QUESTION_CHARS


def one_line(text: str, width: int = SNIPPET) -> str:
    """`text` on one line, control characters (terminal escapes) blanked, cut to `width`."""
    flat = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text)
    flat = " ".join(flat.split())
    return shorten(flat, width)


def parse_ts(ts: str) -> datetime:
    moment = datetime.fromisoformat(ts)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def minute(ts: str) -> str:
    """A stored timestamp as "2021-03-04 09:15" (UTC)."""
    return parse_ts(ts).astimezone(UTC).strftime("%Y-%m-%d %H:%M")


_UNITS = {"en": (" min", " h", " d"), "zh": ("分钟", "小时", "天")}


def age(ts: str, now: datetime, lang: str = "en") -> str:
    """How long ago `ts` was, coarsely: "45 min", "5 h", "3 d 4 h" (in Chinese 3天4小时)."""
    minute_unit, hour_unit, day_unit = _UNITS.get(lang, _UNITS["en"])
    seconds = max(0, int((now - parse_ts(ts)).total_seconds()))
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours < 1:
        return f"{minutes}{minute_unit}"
    if days < 1:
        return f"{hours}{hour_unit}"
    rest = hours - days * 24
    gap = "" if lang == "zh" else " "
    return f"{days}{day_unit}{gap}{rest}{hour_unit}" if rest and days < 7 else f"{days}{day_unit}"


def status_key(ticket: Ticket) -> str:
    """The status as the citizen sees it: tickets.status.<key>."""
    return "on_its_way" if ticket.awaiting_delivery else ticket.status.value


def staff_status(ticket: Ticket) -> str:
    """The status as `citizenbot tickets` shows it: the text cli.tickets.<key>."""
    if ticket.awaiting_delivery:
        return "answer_waiting"
    if ticket.status is TicketStatus.OPEN and not ticket.forwarded:
        return "not_forwarded"
    return f"status.{ticket.status.value}"


# --------------------------------------------------------------------------- the citizen's side

def answer_blocks(ticket: Ticket, kb: KnowledgeBase) -> list[Block]:
    """The staff answer as the citizen receives it: clearly from staff, not from the report."""
    lang = ticket.language
    assert ticket.answer is not None
    return [
        [Span(fill(kb.text("tickets.answer_title", lang), ref=reference(ticket.id)), "b")],
        [Span(kb.text("tickets.your_question", lang) + " "),
         Span(one_line(ticket.question, 300), "i")],
        [Span(ticket.answer)],
        [Span(kb.text("tickets.answer_note", lang), "i")],
    ]


def mine_blocks(tickets: Sequence[Ticket], kb: KnowledgeBase, lang: str) -> list[Block]:
    """/mytickets: the user's tickets, newest first, each with its status."""
    if not tickets:
        return [[Span(kb.text("tickets.mine_none", lang))]]
    blocks: list[Block] = [[Span(kb.text("tickets.mine_title", lang))]]
    for ticket in tickets[:MAX_LISTED]:
        blocks.append([
            Span(reference(ticket.id), "b"),
            Span(f" · {minute(ticket.ts)} UTC · "),
            Span(kb.text(f"tickets.status.{status_key(ticket)}", lang), "i"),
            Span(f"\n{one_line(ticket.question)}"),
        ])
    return blocks


# --------------------------------------------------------------------------- the staff side

CARD_QUESTION_HTML = 3000  # escaped characters; the rest of the card needs well under 1,000


def fits_one_message(question: str) -> str:
    """The question cut (with "…") so that, escaped, the staff card stays one message: staff
    answer by replying to that message, so a card split in two could not be answered."""
    escaped = 0
    for i, char in enumerate(question):
        escaped += len(html.escape(char, quote=False))
        if escaped > CARD_QUESTION_HTML:
            return shorten(question[:i] + " …", i + 1)
    return question


def staff_card(ticket: Ticket, kb: KnowledgeBase, lang: str, *, late: bool = False) -> list[Block]:
    """The staff-chat message that carries a new ticket (replies to it answer it).

    No name, username or Telegram id: only the first characters of the salted user hash.
    """
    ref = reference(ticket.id)
    blocks: list[Block] = [[Span(fill(kb.text("tickets.staff.new", lang), ref=ref), "b")]]
    if late:
        blocks.append([Span(fill(kb.text("tickets.staff.retried", lang),
                                 time=minute(ticket.ts)), "i")])
    blocks += [
        [Span(fits_one_message(shown_to_staff(ticket.question)), "blockquote")],
        [Span(fill(kb.text("tickets.staff.meta", lang), lang=ticket.language,
                   user=ticket.user_hash[:USER_CHARS], time=minute(ticket.ts)))],
        [Span(fill(kb.text("tickets.staff.how", lang), ref=ref), "i")],
    ]
    return blocks


def open_list_blocks(tickets: Sequence[Ticket], kb: KnowledgeBase, lang: str,
                     now: datetime) -> list[Block]:
    """/tickets in the staff chat: open tickets, oldest first, with their age and state."""
    if not tickets:
        return [[Span(kb.text("tickets.staff.list_empty", lang))]]
    blocks: list[Block] = [[Span(fill(kb.text("tickets.staff.list_title", lang),
                                      count=len(tickets)), "b")]]
    for ticket in tickets[:MAX_LISTED]:
        line = [Span(reference(ticket.id), "b"),
                Span(f" · {age(ticket.ts, now, lang)} · {ticket.language}")]
        if ticket.awaiting_delivery:
            line.append(Span(" · " + kb.text("tickets.staff.answer_waiting", lang), "i"))
        elif not ticket.forwarded:
            line.append(Span(" · ⚠️ " + kb.text("tickets.staff.not_forwarded", lang), "i"))
        line.append(Span(f"\n{one_line(shown_to_staff(ticket.question))}"))
        blocks.append(line)
    if len(tickets) > MAX_LISTED:
        blocks.append([Span(fill(kb.text("tickets.staff.more", lang),
                                 count=len(tickets) - MAX_LISTED), "i")])
    return blocks


REFUSALS: Final = {
    Settle.UNKNOWN: "tickets.staff.unknown",
    Settle.ANSWERED: "tickets.staff.already_answered",
    Settle.UNDELIVERABLE: "tickets.staff.already_undeliverable",
    Settle.CLOSED: "tickets.staff.already_closed",
    Settle.PENDING: "tickets.staff.already_pending",
}


def refusal_key(settle: Settle) -> str:
    """The staff text explaining why an answer (or /close) was not taken."""
    return REFUSALS[settle]


def table(tickets: Sequence[Ticket], now: datetime, kb: KnowledgeBase, lang: str) -> str:
    """`citizenbot tickets`: one line per ticket, oldest first, for a terminal."""
    ref, asked, waited, status, language, question = kb.text("cli.tickets.header",
                                                             lang).split("|")
    lines = [f"{ref:<9} {asked:<16} {waited:>8}  {status:<19} {language:<4} {question}"]
    for t in tickets:
        lines.append(f"{reference(t.id):<9} {minute(t.ts):<16} {age(t.ts, now, lang):>8}  "
                     f"{kb.text('cli.tickets.' + staff_status(t), lang):<19} {t.language:<4} "
                     f"{one_line(t.question, 70)}")
    return "\n".join(lines)
