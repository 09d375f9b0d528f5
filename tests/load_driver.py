"""Load and faults: simulated Telegram users against the real bot through the fake Bot API.

`run_load(users, per_user, faults=None)` starts the bot exactly as `citizenbot run` does
(build_application, start_bot, long polling; see harness.py) against tests/fake_bot_api.py, lets `users`
simulated people ask `per_user` questions each, all at the same time, checks that every
message got exactly one reply and the log holds exactly one row per enquiry, and returns the
figures: messages per second, p50 / p99 reply time (question injected -> the bot's sendMessage
received by the fake), peak memory, counts. `bench/load` prints them; tests/test_load.py and
tests/test_faults.py run smaller loads and check the counts.

Each simulated user behaves like a person: asks, waits for the answer (at most
`reply_timeout`), asks the next question. Every question used is answered from the report, so
every reply carries the 👍/👎 buttons whose data names the enquiry's row id: that is how a reply
is matched to its row in the log, and how a reply sent twice would be caught.

Bounded throughout: every wait has a timeout and every loop an end.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import sqlite3
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from citizenbot import callback_data as cb
from citizenbot.config import Settings
from citizenbot.core.knowledge import load_knowledge_base
from citizenbot.core.responder import Responder
from citizenbot.evaluate import read_cases
from citizenbot.html_text import split_html
from citizenbot.service import Service, hash_user
from citizenbot.store import Store
from citizenbot.telegram.answers import reply_view
from citizenbot.telegram.app import OVERALL_MAX_RATE, build_application, start_bot, stop_bot
from fake_bot_api import JSON, FakeBotApi

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "5151515151:LOAD-token_for_citizenbot_fake_api"
SALT = "10ad" * 16
FIRST_USER_ID = 700_000_001
# A send that the fake refused outright, or closed before it took effect, is not sent again by
# the bot (see Audit.lost_to_faults): these are the kinds of fault that can cost a reply.
REFUSING = {"500", "502", "drop-before"}
EXTRA_ROUNDS = 4  # at most this many more questions per user while set faults are pending


# --------------------------------------------------------------------------- questions

def answerable_questions(responder: Responder, limit: int = 60) -> list[str]:
    """Questions from tests/data/eval.tsv that get a one-message answer quoted from the report
    (so that each reply carries feedback buttons naming its enquiry)."""
    found: list[str] = []
    for case in read_cases(ROOT / "tests" / "data" / "eval.tsv"):
        reply = responder.respond(case.question)
        if reply.status != "answered" or reply.kind != "report":
            continue
        blocks, _ = reply_view(reply, responder.kb, 1)
        if len(split_html(blocks)) == 1:
            found.append(case.question)
        if len(found) >= limit:
            break
    if not found:
        raise AssertionError("no question in eval.tsv gets a one-message report answer")
    return found


# --------------------------------------------------------------------------- faults

@dataclass(frozen=True)
class FaultPlan:
    """While the load runs, give one call of `method` the fault `kind` every `every` seconds
    (a new one only once the previous was used, so faults never pile up).

    Kinds: "429" (flood control, retry_after 1 s), "500", "502", "slow" (answer after `delay`
    seconds), "drop-before" / "drop-after" (connection closed before / after the call took
    effect). The first comes after `start` seconds (default every / 2); with `times`, no more
    than that many.
    """

    method: str
    kind: str
    every: float = 1.0
    delay: float = 1.0
    start: float | None = None
    times: int | None = None

    def inject(self, api: FakeBotApi) -> None:
        if self.kind == "429":
            api.fail(self.method, 429, "Too Many Requests: retry after 1", retry_after=1)
        elif self.kind == "500":
            api.fail(self.method, 500, "Internal Server Error")
        elif self.kind == "502":
            api.fail(self.method, 502, "Bad Gateway")
        elif self.kind == "slow":
            api.slow(self.method, self.delay)
        elif self.kind in ("drop-before", "drop-after"):
            api.drop(self.method, after=self.kind == "drop-after")
        else:
            raise ValueError(f"unknown fault kind {self.kind!r}")


# Every kind of fault on both the calls that matter: fetching updates and sending replies. Each
# failed getUpdates pauses polling for a second or more (python-telegram-bot backs off, 1 s then
# x1.5 on each further failure), and a 429 on a send holds every send for retry_after seconds,
# as Telegram asks: so those come less often than the faults that cost one reply.
DEFAULT_FAULTS: tuple[FaultPlan, ...] = (
    FaultPlan("getUpdates", "429", every=8.0),
    FaultPlan("getUpdates", "500", every=6.0),
    FaultPlan("getUpdates", "502", every=7.0),
    FaultPlan("getUpdates", "slow", every=3.0, delay=0.8),
    FaultPlan("getUpdates", "drop-before", every=6.0),
    FaultPlan("getUpdates", "drop-after", every=5.0),
    FaultPlan("sendMessage", "429", every=5.0),
    FaultPlan("sendMessage", "500", every=1.5),
    FaultPlan("sendMessage", "502", every=2.0),
    FaultPlan("sendMessage", "slow", every=0.5, delay=1.0),
    FaultPlan("sendMessage", "drop-before", every=1.5),
    FaultPlan("sendMessage", "drop-after", every=1.0),
)


async def inject_faults(api: FakeBotApi, plans: Sequence[FaultPlan], done: asyncio.Event,
                        max_rounds: int = 10_000) -> None:
    """Apply `plans` until `done` is set, or until every plan has a `times` and all those faults
    have been applied (at most `max_rounds` ticks of 0.1 s)."""
    mine: Counter[tuple[str, str]] = Counter()
    count: Counter[FaultPlan] = Counter()
    begun = time.monotonic()
    next_at = {plan: begun + (plan.every / 2 if plan.start is None else plan.start)
               for plan in plans}
    for _ in range(max_rounds):
        if done.is_set():
            return
        now = time.monotonic()
        used = Counter(api.injected)
        if all(p.times is not None and count[p] >= p.times for p in plans) \
                and all(used[key] >= n for key, n in mine.items()):
            return
        for plan in plans:
            key = (plan.method, plan.kind)
            if now >= next_at[plan] and used[key] >= mine[key] \
                    and (plan.times is None or count[plan] < plan.times):
                plan.inject(api)
                mine[key] += 1
                count[plan] += 1
                next_at[plan] = now + plan.every
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 0.1)


# --------------------------------------------------------------------------- simulated users

@dataclass(frozen=True)
class Asked:
    user_id: int
    question: str
    update_id: int
    at: float


class Crowd:
    """`users` people asking `per_user` questions each, all at once; works with any bot that
    polls `api` (in this process or another)."""

    def __init__(self, api: FakeBotApi, users: int, per_user: int, questions: Sequence[str],
                 *, first_id: int = FIRST_USER_ID, reply_timeout: float = 10.0) -> None:
        self.api = api
        self.user_ids = [first_id + n for n in range(users)]
        self.per_user = per_user
        self.questions = list(questions)
        self.reply_timeout = reply_timeout
        self.asked: list[Asked] = []
        self.reply_times: list[float] = []  # seconds, question injected -> reply received
        # (a reply later than reply_timeout counts as a timeout, and is not in reply_times)
        self.timeouts = 0
        self.first_at: float | None = None
        self.last_reply_at: float | None = None
        self._inbox: dict[int, asyncio.Queue[float]] = defaultdict(asyncio.Queue)
        api.hooks["sendMessage"] = self._on_send

    async def _on_send(self, params: JSON) -> None:
        now = time.monotonic()
        self.last_reply_at = now
        with contextlib.suppress(TypeError, ValueError):
            self._inbox[int(params.get("chat_id"))].put_nowait(now)  # type: ignore[arg-type]

    @property
    def replies(self) -> int:
        return len(self.reply_times)

    async def run(self) -> None:
        """Every user asks all their questions; returns when all are done."""
        self.first_at = time.monotonic()
        await asyncio.gather(*(self._user(n, uid) for n, uid in enumerate(self.user_ids)))

    async def _user(self, n: int, user_id: int) -> None:
        user = FakeBotApi.user(user_id, f"User{n}", "en")
        inbox = self._inbox[user_id]
        for k in range(self.per_user):
            while not inbox.empty():  # a late reply to the previous question
                inbox.get_nowait()
            question = self.questions[(n * 7 + k) % len(self.questions)]
            started = time.monotonic()
            self.api.send_text(user, question)
            self.asked.append(Asked(user_id, question, self.api.last_update_id, started))
            try:
                received = await asyncio.wait_for(inbox.get(), self.reply_timeout)
            except TimeoutError:
                self.timeouts += 1
                continue
            self.reply_times.append(received - started)


# --------------------------------------------------------------------------- checking the log

def enquiry_of(markup: Any, key: bytes) -> int | None:
    """The enquiry id named by a reply's 👍/👎 buttons, if it has them."""
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    for row in rows:
        for button in row:
            try:
                action = cb.decode(button.get("callback_data"), key)
            except cb.CallbackDataError:
                continue
            if isinstance(action, cb.Feedback):
                return action.enquiry_id
    return None


@dataclass
class Audit:
    """What the fake saw against what the log holds."""

    messages: int  # questions the users sent
    rows: int  # enquiries in the log
    delivered: int  # replies that reached a user
    answered_twice: int  # enquiries whose reply reached the user more than once
    replied_not_logged: int  # replies naming no row of that user (must be 0)
    not_logged: int  # questions sent that have no row
    logged_extra: int  # rows beyond the questions sent (an update handled twice)
    not_attempted: int  # rows the bot never tried to send a reply for
    lost_to_faults: int  # rows whose every send was refused by an injected fault
    unexplained: int  # rows with a reply attempt that was accepted yet never delivered
    retried: int  # replies delivered only after more than one attempt
    integrity: str = "ok"
    details: list[str] = field(default_factory=list)

    def assert_exact(self) -> None:
        """Every message got exactly one reply and has exactly one row."""
        assert (self.rows, self.delivered) == (self.messages, self.messages), self
        self.assert_sound()

    def assert_sound(self) -> None:
        """Whatever the faults: nothing answered twice, nothing answered unlogged, every
        question logged once, a reply missing only where Telegram refused it."""
        assert self.integrity == "ok", self
        assert self.answered_twice == 0, self
        assert self.replied_not_logged == 0, self
        assert (self.not_logged, self.logged_extra) == (0, 0), self
        assert self.not_attempted == 0, self
        assert self.unexplained == 0, self
        assert self.delivered == self.rows - self.lost_to_faults, self


def audit(api: FakeBotApi, db_path: Path, salt: str, asked: Sequence[Asked]) -> Audit:
    key = cb.derive_key(salt)
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        rows = db.execute("SELECT id, user_hash, question FROM enquiries").fetchall()
    by_id = {row_id: (user_hash, question) for row_id, user_hash, question in rows}

    delivered: Counter[int] = Counter()
    stray = 0
    for sent in api.sent:
        if sent.method != "sendMessage":
            continue
        enquiry = enquiry_of(sent.message.get("reply_markup"), key)
        if enquiry is None or enquiry not in by_id \
                or by_id[enquiry][0] != hash_user(salt, sent.chat_id):
            stray += 1
            continue
        delivered[enquiry] += 1

    attempts: dict[int, list[bool]] = defaultdict(list)
    for call in api.calls_of("sendMessage"):
        enquiry = enquiry_of(call.params.get("reply_markup"), key)
        if enquiry is not None:
            attempts[enquiry].append(call.ok)

    sent_questions: dict[str, Counter[str]] = defaultdict(Counter)
    for a in asked:
        sent_questions[hash_user(salt, a.user_id)][a.question] += 1
    logged_questions: dict[str, Counter[str]] = defaultdict(Counter)
    for user_hash, question in by_id.values():
        logged_questions[user_hash][question] += 1
    not_logged = sum(sum((sent_questions[u] - logged_questions[u]).values())
                     for u in sent_questions)
    extra = sum(sum((logged_questions[u] - sent_questions[u]).values())
                for u in logged_questions)

    lost = unexplained = not_attempted = 0
    details: list[str] = []
    for row_id in by_id:
        tries = attempts.get(row_id, [])
        if not tries:
            not_attempted += 1
        elif not delivered[row_id]:
            if any(tries):
                unexplained += 1
                details.append(f"enquiry {row_id}: accepted {tries} but never delivered")
            else:
                lost += 1
    return Audit(
        messages=len(asked), rows=len(rows), delivered=sum(delivered.values()),
        answered_twice=sum(1 for n in delivered.values() if n > 1), replied_not_logged=stray,
        not_logged=not_logged, logged_extra=extra, not_attempted=not_attempted,
        lost_to_faults=lost, unexplained=unexplained,
        retried=sum(1 for r, n in delivered.items() if n and len(attempts[r]) > 1),
        integrity=str(integrity), details=details[:10],
    )


# --------------------------------------------------------------------------- the whole run

def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def drive(users: int, per_user: int, faults: Sequence[FaultPlan] | None = None, *,
                directory: Path | None = None, responder: Responder | None = None,
                overall_max_rate: float = OVERALL_MAX_RATE,
                reply_timeout: float | None = None) -> tuple[dict[str, Any], Audit]:
    """Run the load; the figures and the audit (not yet asserted)."""
    responder = responder or Responder(load_knowledge_base())
    questions = answerable_questions(responder)
    messages = users * per_user
    if reply_timeout is None:
        # With faults a reply may never come: wait a little longer than a busy turn takes.
        reply_timeout = 2.0 + users / 40 if faults else 30.0 + messages / 30
    rss_before = _peak_rss_mb()
    with contextlib.ExitStack() as stack:
        if directory is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        async with FakeBotApi(TOKEN) as api:
            settings = Settings(token=TOKEN, api_url=api.base_url,
                                db_path=directory / "citizenbot.db", salt=SALT,
                                rate_limit=max(20, per_user * (1 + EXTRA_ROUNDS)))
            store = await Store.open(settings.db_path)
            app = build_application(settings, Service(responder, store, salt=SALT),
                                    overall_max_rate=overall_max_rate)
            crowd = Crowd(api, users, per_user, questions, reply_timeout=reply_timeout)
            done = asyncio.Event()
            # Generous, but an end: with Telegram's 30 messages/s this load needs messages/30 s.
            limit = 60 + messages / 10 + (messages * 0.5 if faults else 0)
            try:
                async with asyncio.timeout(15):
                    await start_bot(app)
                injector = asyncio.create_task(inject_faults(api, faults or (), done))
                try:
                    async with asyncio.timeout(limit):
                        await crowd.run()
                        # Faults to apply a set number of times: ask on until all have been.
                        finite = bool(faults) and all(p.times for p in faults or ())
                        for _ in range(EXTRA_ROUNDS):
                            if not finite or injector.done():
                                break
                            await crowd.run()
                finally:
                    done.set()
                    await injector
                    api.clear_faults()
                await api.wait_confirmed(timeout=30)
            finally:
                async with asyncio.timeout(60):
                    await stop_bot(app)  # finishes every update in hand
                await store.close()
            result = audit(api, settings.db_path, SALT, crowd.asked)
            injected = Counter(f"{m} {k}" for m, k in api.injected)
    elapsed = (crowd.last_reply_at or time.monotonic()) - (crowd.first_at or 0)
    times = [t * 1000 for t in crowd.reply_times]
    figures: dict[str, Any] = {
        "users": users,
        "questions_per_user": per_user,
        "messages": len(crowd.asked),
        "replies": result.delivered,
        "log_rows": result.rows,
        "answered_twice": result.answered_twice,
        "replied_not_logged": result.replied_not_logged,
        "lost_to_faults": result.lost_to_faults,
        "retried_replies": result.retried,
        "timeouts": crowd.timeouts,
        "seconds": round(elapsed, 2),
        "messages_per_s": round(result.delivered / elapsed, 1) if elapsed > 0 else 0.0,
        "reply_p50_ms": round(percentile(times, 50), 1),
        "reply_p99_ms": round(percentile(times, 99), 1),
        "reply_max_ms": round(max(times), 1) if times else float("nan"),
        "reply_mean_ms": round(statistics.fmean(times), 1) if times else float("nan"),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "rss_growth_mb": round(_peak_rss_mb() - rss_before, 1),
        "overall_max_rate": overall_max_rate or "lifted",
        "faults_injected": sum(injected.values()),
        "faults_by_kind": dict(sorted(injected.items())),
    }
    return figures, result


def run_load(users: int, per_user: int, faults: Sequence[FaultPlan] | None = None,
             **options: Any) -> dict[str, Any]:
    """Run the load in a fresh event loop, check it, return the figures.

    Without faults every message must get exactly one reply; with faults, a reply may be missing
    only where Telegram refused every attempt to send it. Either way nothing is answered twice
    and the log holds exactly one row per question.
    """
    figures, result = asyncio.run(drive(users, per_user, faults, **options))
    if faults:
        result.assert_sound()
    else:
        result.assert_exact()
    return figures
