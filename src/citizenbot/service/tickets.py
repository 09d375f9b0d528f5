"""The ticket workflow: a question handed to district staff, forwarded, answered, delivered.

Door-neutral: the chat service is a `Messenger` (Telegram's lives in citizenbot.telegram), so
the bot's handlers, its background jobs and `citizenbot reply` all run the same steps.

Nothing is lost when a part fails. A ticket is committed at once, before and outside anything
that waits on the chat service; posting it to the staff chat is queued work (`forward_waiting`,
run by the door as soon as a ticket is opened, and again later for any the staff chat did not
take), so a burst of tickets waits in the store, not in memory. A staff answer is recorded
before it is delivered; one that could not be delivered now stays waiting, and
`deliver_waiting` tries again. Deliveries are claimed in the store first, so two processes
never both send one.

Delivery is at least once: an answer the chat service refused (a 429 after its retries, a 5xx,
no connection) was not delivered and is sent again at the next round; an answer whose response
was lost (a timeout, a connection closed mid-request) may have arrived, so its claim is kept
and it is tried again only once the claim's lease has run out (DELIVERY_LEASE_SECONDS): a
second copy is then possible, never a quick one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from citizenbot.core.knowledge import KnowledgeBase
from citizenbot.html_text import Span
from citizenbot.model import (
    Delivery,
    DeliveryOutcome,
    Settle,
    StoreError,
    Ticket,
    TicketStatus,
)
from citizenbot.service.ports import Messenger, MessengerError, Refused, Storage, Uncertain
from citizenbot.texts import fill
from citizenbot.tickets import answer_blocks, parse_ts, reference, staff_card

log = logging.getLogger(__name__)

DELIVERY_LEASE_SECONDS: Final = 300.0  # a claim older than this (a crashed sender) is taken over
LATE_SECONDS: Final = 120.0  # a card posted later than this after its ticket says so
MAX_REASON_CHARS: Final = 200


@dataclass(frozen=True)
class StaffChat:
    """Where tickets go (STAFF_CHAT_ID; None: handing questions over is off) and the language
    the bot speaks there (CITIZENBOT_STAFF_LANGUAGE)."""

    chat_id: int | None
    language: str = "zh"

    @property
    def enabled(self) -> bool:
        return self.chat_id is not None


@dataclass(frozen=True)
class Opened:
    ticket: Ticket
    forwarded: bool  # False: recorded, but the staff chat did not take it yet


@dataclass(frozen=True)
class Answering:
    """What became of a staff answer: ``settle`` DONE when it was recorded (else why not);
    ``delivery`` when a delivery was tried; ``told`` when the staff chat heard the outcome."""

    settle: Settle
    delivery: Delivery | None = None
    told: bool = False


class TicketDesk:
    """Tickets between citizens and district staff. ``texts`` gives the knowledge base whose
    texts the messages are made of (the current one: /reload swaps it)."""

    def __init__(self, storage: Storage, texts: Callable[[], KnowledgeBase],
                 staff: StaffChat) -> None:
        self.storage = storage
        self.texts = texts
        self.staff = staff
        # Held while one ticket is posted: two rounds of forwarding at once must not post the
        # same ticket twice. Never held while a ticket is recorded.
        self._forwarding = asyncio.Lock()
        self.reachable = True  # the last post to the staff chat went through

    # ------------------------------------------------------------------ the citizen's side

    async def open(self, *, user_hash: str, chat_id: int, language: str, question: str,
                   enquiry_id: int | None = None) -> Opened:
        """Record the question (committed when this returns); the door then queues
        `forward_waiting` to post it. ``forwarded`` in the result says whether the staff chat
        took the last card posted, i.e. whether this one is expected to get there soon."""
        ticket = await self.storage.create_ticket(
            user_hash=user_hash, chat_id=chat_id, language=language, question=question,
            enquiry_id=enquiry_id)
        log.info("%s opened by user %s…", reference(ticket.id), user_hash[:8])
        return Opened(ticket, self.reachable)

    async def withdraw(self, messenger: Messenger, erased: Sequence[Ticket]) -> None:
        """Replace the staff-chat cards of tickets erased at the citizen's request."""
        lang = self.staff.language
        for ticket in erased:
            if ticket.staff_chat_id is None or ticket.staff_message_id is None:
                continue
            text = fill(self.texts().text("tickets.staff.erased", lang), ref=reference(ticket.id))
            try:
                await messenger.replace(ticket.staff_chat_id, ticket.staff_message_id, text)
            except MessengerError as exc:
                log.warning("could not withdraw %s from the staff chat: %s",
                            reference(ticket.id), exc.reason)

    async def count_open(self, user_hash: str) -> int:
        return await self.storage.count_open_tickets(user_hash)

    async def mine(self, user_hash: str, limit: int = 100) -> list[Ticket]:
        """The user's tickets, newest first."""
        return await self.storage.tickets(user_hash=user_hash, newest_first=True, limit=limit)

    async def for_enquiry(self, enquiry_id: int) -> Ticket | None:
        return await self.storage.ticket_for_enquiry(enquiry_id)

    # ------------------------------------------------------------------ the staff's side

    async def open_tickets(self) -> list[Ticket]:
        """Open tickets, oldest first."""
        return await self.storage.tickets(open_only=True)

    async def for_staff_message(self, chat_id: int, message_id: int) -> Ticket | None:
        """The ticket whose staff-chat card is that message, if any."""
        return await self.storage.ticket_for_staff_message(chat_id, message_id)

    # ------------------------------------------------------------------ forwarding

    async def forward(self, messenger: Messenger, ticket: Ticket, *, late: bool = False) -> bool:
        """Post ``ticket`` to the staff chat and remember the message; False if it did not get
        there (the ticket stays open and unforwarded, and is tried again later)."""
        chat_id = self.staff.chat_id
        if chat_id is None:
            return False
        card = staff_card(ticket, self.texts(), self.staff.language, late=late)
        try:
            message_id = await messenger.send(chat_id, card)
        except MessengerError as exc:
            self.reachable = False
            log.error("could not post %s to the staff chat %s: %s; it stays open and is posted "
                      "again later (a second card, if the first did arrive, answers it too)",
                      reference(ticket.id), chat_id, exc.reason)
            with contextlib.suppress(StoreError):
                await self.storage.note_forward_error(ticket.id, exc.reason[:MAX_REASON_CHARS])
            return False
        self.reachable = True
        try:
            await self.storage.mark_ticket_forwarded(ticket.id, chat_id, message_id)
        except StoreError as exc:
            log.error("%s reached the staff chat but could not be marked so (%s); it may be "
                      "posted twice", reference(ticket.id), exc)
        log.info("posted %s to the staff chat", reference(ticket.id))
        return True

    async def forward_waiting(self, messenger: Messenger,
                              going_on: Callable[[], bool] = lambda: True) -> int:
        """Post the tickets the staff chat has not got, oldest first, while ``going_on()``
        (a stopping bot leaves the rest in the store for its next start); how many."""
        if not self.staff.enabled:
            return 0
        posted = 0
        for waiting in await self.storage.unforwarded_tickets():
            if not going_on():
                break
            async with self._forwarding:
                ticket = await self.storage.get_ticket(waiting.id)  # posted meanwhile? erased?
                if ticket is None or ticket.forwarded or ticket.status is not TicketStatus.OPEN \
                        or ticket.answer is not None:
                    continue
                # Staff see it was held back: an earlier post failed, or it waited long.
                late = ticket.forward_error is not None or \
                    (datetime.now(UTC) - parse_ts(ticket.ts)).total_seconds() > LATE_SECONDS
                if not await self.forward(messenger, ticket, late=late):
                    break  # the staff chat is still unreachable; the rest wait for next round
                posted += 1
        return posted

    # ------------------------------------------------------------------ answers

    async def record_answer(self, ticket_id: int, answer: str,
                            via: str) -> tuple[Settle, Ticket | None]:
        """Keep a staff answer for delivery (DONE), or say why not."""
        return await self.storage.record_answer(ticket_id, answer, via)

    async def close(self, ticket_id: int, note: str | None) -> Settle:
        """Close an open ticket without an answer; the citizen is not told."""
        settle, _ = await self.storage.close_ticket(ticket_id, note)
        return settle

    async def answer(self, messenger: Messenger, ticket_id: int, answer: str,
                     via: str) -> Answering:
        """Record a staff answer, deliver it, and tell the staff chat how it went."""
        settle, _ = await self.record_answer(ticket_id, answer, via)
        if settle is not Settle.DONE:
            return Answering(settle)
        return await self.deliver_and_report(messenger, ticket_id)

    async def deliver_and_report(self, messenger: Messenger, ticket_id: int) -> Answering:
        """Deliver the ticket's recorded answer, then tell the staff chat (unless another
        process is delivering it)."""
        delivery = await self.deliver(messenger, ticket_id)
        told = False
        if delivery.outcome is not DeliveryOutcome.BUSY:
            told = await self.tell_staff(messenger, delivery.ticket,
                                         self.delivery_text(ticket_id, delivery))
        return Answering(Settle.DONE, delivery, told)

    async def deliver(self, messenger: Messenger, ticket_id: int) -> Delivery:
        """Send the ticket's recorded answer to the citizen and mark the ticket accordingly."""
        if not await self.storage.claim_delivery(ticket_id, lease_seconds=DELIVERY_LEASE_SECONDS):
            return Delivery(DeliveryOutcome.BUSY, await self.storage.get_ticket(ticket_id))
        ticket = await self.storage.get_ticket(ticket_id)
        if ticket is None or ticket.answer is None:  # erased meanwhile (/forget)
            return Delivery(DeliveryOutcome.BUSY, ticket)
        try:
            await messenger.send(ticket.chat_id, answer_blocks(ticket, self.texts()))
        except Refused as exc:
            # Blocked, chat deleted, account gone: the chat service's rule is not to try again.
            reason = exc.reason[:MAX_REASON_CHARS]
            log.warning("%s: the answer could not be delivered (%s); marked undeliverable",
                        reference(ticket.id), reason)
            await self.storage.finish_delivery(ticket.id, TicketStatus.UNDELIVERABLE, reason)
            return Delivery(DeliveryOutcome.UNDELIVERABLE,
                            await self.storage.get_ticket(ticket.id), reason)
        except Uncertain as exc:
            # It may have arrived: keeping the claim means no copy before the lease runs out.
            log.warning("%s: no answer from the chat service (%s); the answer may have arrived, "
                        "so it is sent again only after %g s", reference(ticket.id), exc.reason,
                        DELIVERY_LEASE_SECONDS)
            return Delivery(DeliveryOutcome.DELAYED, ticket, exc.reason[:MAX_REASON_CHARS])
        except MessengerError as exc:
            log.warning("%s: the answer did not get through (%s); it is kept and sent again",
                        reference(ticket.id), exc.reason)
            await self.storage.release_delivery(ticket.id)
            return Delivery(DeliveryOutcome.DELAYED, ticket, exc.reason[:MAX_REASON_CHARS])
        await self.storage.finish_delivery(ticket.id, TicketStatus.ANSWERED)
        log.info("%s: the staff answer was delivered", reference(ticket.id))
        return Delivery(DeliveryOutcome.DELIVERED, await self.storage.get_ticket(ticket.id))

    async def deliver_waiting(self, messenger: Messenger) -> None:
        """Deliver the answers waiting for delivery (the delivery round)."""
        for ticket in await self.storage.pending_answers(lease_seconds=DELIVERY_LEASE_SECONDS):
            delivery = await self.deliver(messenger, ticket.id)
            if delivery.outcome is DeliveryOutcome.DELAYED:
                # Unreachable: no point trying the others now, and no notice every round
                # (staff heard "delayed" when they answered).
                return
            if delivery.outcome is not DeliveryOutcome.BUSY:
                await self.tell_staff(messenger, delivery.ticket,
                                      self.delivery_text(ticket.id, delivery))

    def delivery_text(self, ticket_id: int, delivery: Delivery) -> str:
        """What the staff chat is told about a delivery, in the staff language."""
        key = {
            DeliveryOutcome.DELIVERED: "tickets.staff.delivered",
            DeliveryOutcome.UNDELIVERABLE: "tickets.staff.undeliverable",
            DeliveryOutcome.DELAYED: "tickets.staff.delayed",
            DeliveryOutcome.BUSY: "tickets.staff.already_pending",
        }[delivery.outcome]
        return fill(self.texts().text(key, self.staff.language), ref=reference(ticket_id),
                    reason=delivery.reason)

    async def tell_staff(self, messenger: Messenger, ticket: Ticket | None, text: str) -> bool:
        """Post ``text`` in the staff chat, under the ticket's card; False if it did not get
        there."""
        if self.staff.chat_id is None:
            return False
        reply_to = None
        if ticket is not None and ticket.staff_chat_id == self.staff.chat_id:
            reply_to = ticket.staff_message_id
        try:
            await messenger.send(self.staff.chat_id, [[Span(text)]], reply_to=reply_to)
        except MessengerError as exc:
            log.warning("could not tell the staff chat %r: %s", text[:60], exc.reason)
            return False
        return True
