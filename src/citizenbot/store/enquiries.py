"""The enquiries and their votes: logging, reading back, the figures staff look at, purging."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from citizenbot.model import (
    MAX_QUESTION_CHARS,
    STATUSES,
    UNANSWERED_STATUSES,
    Enquiry,
    LoggedEnquiry,
    Overview,
    Stats,
    Transport,
    Vote,
)
from citizenbot.store.db import Database, Tx, bounds, iso, stamp
from citizenbot.store.inbox import link_enquiry, logged_for, mark_answering

log = logging.getLogger(__name__)

_INSERT: Final = (
    "INSERT INTO enquiries (ts, transport, user_hash, chat_type, language, question, status,"
    " intent, score, latency_ms, refusal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_UNLESS_LOGGED: Final = (
    "INSERT INTO enquiries (ts, transport, user_hash, chat_type, language, question, status,"
    " intent, score, latency_ms, refusal) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
    " WHERE NOT EXISTS (SELECT 1 FROM inbox AS i JOIN enquiries AS e ON e.id = i.enquiry_id"
    " WHERE i.update_id = ?)"
)
_FEEDBACK_BY_INTENT: Final = (
    "SELECT e.intent AS intent, SUM(f.helpful) AS helpful, SUM(1 - f.helpful) AS not_helpful"
    " FROM feedback AS f JOIN enquiries AS e ON e.id = f.enquiry_id"
)


def storable(text: str) -> str:
    """The question as SQLite can keep it: capped, and lone surrogates (which are not UTF-8)
    replaced, so that no text a user can type makes logging fail."""
    return text[:MAX_QUESTION_CHARS].encode("utf-8", "replace").decode("utf-8")


def _params(e: Enquiry) -> tuple[Any, ...]:
    """The parameters of _INSERT; ValueError for a status the log does not know."""
    if e.status not in STATUSES:
        raise ValueError(f"unknown enquiry status {e.status!r}; expected one of {sorted(STATUSES)}")
    return (iso(e.ts) if e.ts is not None else stamp(), str(e.transport), e.user_hash, e.chat_type,
            e.language, storable(e.question), e.status, e.intent, float(e.score),
            float(e.latency_ms), e.refusal)


def _whole_days(days: int) -> None:
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"days must be a whole number of 1 or more, got {days!r}")


class Enquiries:
    """The enquiry log's queries, on the store's database."""

    _db: Database

    # ------------------------------------------------------------------ writes

    async def log_enquiry(self, e: Enquiry) -> int:
        """Record one enquiry and return its row id; committed when this returns.

        The question is cut to MAX_QUESTION_CHARS. Raises ValueError for an unknown status and
        StoreError if the database refuses the write.
        """
        params = _params(e)

        async def insert(tx: Tx) -> int:
            if e.update_id is None:
                changed = await tx.execute(_INSERT, params)
            else:
                # Handled again after a crash: the row logged the first time is the row (one
                # statement in the usual case, where there is none).
                changed = await tx.execute(_INSERT_UNLESS_LOGGED, (*params, e.update_id))
                if not changed.rows:
                    logged = await logged_for(tx, e.update_id)
                    assert logged is not None
                    return logged
            assert changed.last_id is not None  # sqlite3 always sets it after an INSERT
            if e.update_id is not None:
                await link_enquiry(tx, e.update_id, changed.last_id)
            return changed.last_id

        return await self._db.write("cannot log the enquiry", insert)

    async def log_enquiries(self, enquiries: Sequence[Enquiry]) -> int:
        """Record many enquiries in one transaction (all or none); returns how many."""
        rows = [_params(e) for e in enquiries]

        async def insert(tx: Tx) -> int:
            await tx.executemany(_INSERT, rows)
            return len(rows)

        return await self._db.write("cannot log the enquiries", insert)

    async def import_journaled(self, records: Sequence[tuple[str, Enquiry]]) -> int:
        """Record enquiries kept in the journal, each under its journal line id, in one
        transaction; a line imported before (a crash before the journal was cleared) is
        skipped. Returns how many were new."""
        rows = [(line_id, _params(e), e.update_id) for line_id, e in records]

        async def insert(tx: Tx) -> int:
            now, fresh = stamp(), 0
            for line_id, params, update_id in rows:
                seen = await tx.execute("INSERT INTO journal_imported (id, imported_ts)"
                                        " VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
                                        (line_id, now))
                if seen.rows:
                    changed = await tx.execute(_INSERT, params)
                    fresh += 1
                    if update_id is not None and changed.last_id is not None:
                        # Journaled just before its reply went out: never answered again.
                        await link_enquiry(tx, update_id, changed.last_id)
                        await mark_answering(tx, update_id)
            return fresh

        return await self._db.write("cannot import the journal", insert)

    async def vote(self, enquiry_id: int, helpful: bool) -> Vote:
        """Record a 👍 or 👎 on an enquiry: the first vote counts, later ones change nothing."""

        async def insert(tx: Tx) -> Vote:
            # The UNIQUE index on feedback.enquiry_id holds the one-vote rule even for two taps
            # arriving at once; EXISTS tells a vanished enquiry from a second vote.
            changed = await tx.execute(
                "INSERT INTO feedback (enquiry_id, ts, helpful)"
                " SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM enquiries WHERE id = ?)"
                " ON CONFLICT (enquiry_id) DO NOTHING",
                (enquiry_id, stamp(), int(bool(helpful)), enquiry_id))
            if changed.rows:
                return Vote.RECORDED
            exists = await tx.scalar("SELECT COUNT(*) FROM enquiries WHERE id = ?", (enquiry_id,))
            return Vote.ALREADY_VOTED if exists else Vote.GONE

        return await self._db.write("cannot log the feedback", insert)

    async def purge_older_than(self, days: int, *, now: datetime | None = None) -> int:
        """Delete enquiries logged more than ``days`` days before ``now`` (default: now), with
        their feedback; return how many enquiries.

        Raises ValueError unless ``days`` is 1 or more: a retention of 0 means "keep forever",
        never "delete everything".
        """
        _whole_days(days)
        cutoff = iso((now or datetime.now(UTC)) - timedelta(days=days))

        async def purge(tx: Tx) -> int:
            # Explicit, not only ON DELETE CASCADE: a purge must hold even for orphans written
            # by a connection with foreign keys off.
            await tx.execute("DELETE FROM feedback WHERE enquiry_id IN"
                             " (SELECT id FROM enquiries WHERE ts < ?)", (cutoff,))
            return (await tx.execute("DELETE FROM enquiries WHERE ts < ?", (cutoff,))).rows

        deleted = await self._db.write("cannot purge old enquiries", purge)
        if deleted:
            log.info("purged %d enquiries logged before %s", deleted, cutoff)
        return deleted

    # ------------------------------------------------------------------ reads

    async def ping(self) -> None:
        """Prove the database answers: a primary-key lookup, no scan."""
        await self._db.read("cannot read the database", lambda tx: tx.row(
            "SELECT id FROM enquiries WHERE id = 0"))

    async def count_enquiries(self) -> int:
        return await self._db.read("cannot count the enquiries",
                                   lambda tx: tx.scalar("SELECT COUNT(*) FROM enquiries"))

    async def get_enquiry(self, enquiry_id: int) -> Enquiry | None:
        """The enquiry stored under ``enquiry_id`` (ts as an aware UTC datetime), or None."""
        row = await self._db.read("cannot read the enquiry", lambda tx: tx.row(
            "SELECT * FROM enquiries WHERE id = ?", (enquiry_id,)))
        if row is None:
            return None
        return Enquiry(
            transport=Transport(row["transport"]), user_hash=row["user_hash"],
            chat_type=row["chat_type"], language=row["language"], question=row["question"],
            status=row["status"], intent=row["intent"], score=row["score"],
            latency_ms=row["latency_ms"], ts=datetime.fromisoformat(row["ts"]),
        )

    async def stats(self, since: datetime | None = None, limit: int = 10) -> Stats:
        """Figures over enquiries logged at or after ``since`` (all of them if None).

        ``limit`` caps ``top_intents`` and ``recent_unanswered``. Feedback counts votes given at
        or after ``since`` on enquiries that have an intent. ValueError for a negative limit.
        """
        if limit < 0:
            raise ValueError(f"limit must be 0 or more, got {limit}")
        start, _ = bounds(since, None)

        async def figures(tx: Tx) -> Stats:
            by_status = {str(r["status"]): int(r["n"]) for r in await tx.rows(
                "SELECT status, COUNT(*) AS n FROM enquiries WHERE ts >= ?"
                " GROUP BY status ORDER BY status", (start,))}
            top = await tx.rows(
                "SELECT intent, COUNT(*) AS n FROM enquiries"
                " WHERE ts >= ? AND status = 'answered' AND intent IS NOT NULL"
                " GROUP BY intent ORDER BY n DESC, intent ASC LIMIT ?", (start, limit))
            unanswered = await tx.rows(
                "SELECT ts, question FROM enquiries WHERE ts >= ? AND status IN (?, ?)"
                " ORDER BY ts DESC, id DESC LIMIT ?", (start, *UNANSWERED_STATUSES, limit))
            feedback = await tx.rows(
                f"{_FEEDBACK_BY_INTENT} WHERE f.ts >= ? AND e.intent IS NOT NULL"
                " GROUP BY e.intent ORDER BY e.intent", (start,))
            return Stats(
                total=sum(by_status.values()), by_status=by_status,
                top_intents=[(str(r["intent"]), int(r["n"])) for r in top],
                recent_unanswered=[(str(r["ts"]), str(r["question"])) for r in unanswered],
                feedback=_feedback(feedback),
            )

        return await self._db.read("cannot compute the statistics", figures, snapshot=True)

    async def overview(self, since: datetime | None = None, until: datetime | None = None, *,
                       top: int = 10, unanswered_limit: int = 5000) -> Overview:
        """The staff report's figures over enquiries logged in [since, until).

        ``None`` leaves that end open. All figures come from one snapshot. ``top`` caps
        ``top_intents``; ``unanswered_limit`` caps ``unanswered`` (the newest are kept).
        Feedback counts the votes on the period's enquiries, whenever they were given.
        """
        if top < 0 or unanswered_limit < 0:
            raise ValueError("top and unanswered_limit must be 0 or more")
        start, end = bounds(since, until)
        period = "WHERE ts >= ? AND ts < ?"

        async def figures(tx: Tx) -> Overview:
            days = await tx.rows(
                f"SELECT substr(ts, 1, 10) AS day, status, COUNT(*) AS n FROM enquiries {period}"
                " GROUP BY day, status ORDER BY day, status", (start, end))
            languages = await tx.rows(
                f"SELECT language, COUNT(*) AS n FROM enquiries {period}"
                " GROUP BY language ORDER BY n DESC, language", (start, end))
            top_rows = await tx.rows(
                f"SELECT intent, COUNT(*) AS n FROM enquiries {period}"
                " AND status = 'answered' AND intent IS NOT NULL"
                " GROUP BY intent ORDER BY n DESC, intent ASC LIMIT ?", (start, end, top))
            feedback = await tx.rows(
                f"{_FEEDBACK_BY_INTENT} WHERE e.ts >= ? AND e.ts < ? AND e.intent IS NOT NULL"
                " GROUP BY e.intent ORDER BY e.intent", (start, end))
            unanswered = await _unanswered(tx, start, end, unanswered_limit)
            refusals = await tx.rows(
                f"SELECT refusal, COUNT(*) AS n FROM enquiries {period}"
                " AND status = 'fallback' AND refusal IS NOT NULL"
                " GROUP BY refusal ORDER BY n DESC, refusal", (start, end))
            span = await tx.row(
                f"SELECT MIN(ts) AS first, MAX(ts) AS last FROM enquiries {period}", (start, end))
            by_day: dict[str, dict[str, int]] = {}
            by_status: dict[str, int] = {}
            for r in days:
                status, n = str(r["status"]), int(r["n"])
                by_day.setdefault(str(r["day"]), {})[status] = n
                by_status[status] = by_status.get(status, 0) + n
            first = span["first"] if span is not None else None
            last = span["last"] if span is not None else None
            return Overview(
                total=sum(by_status.values()), by_status=by_status,
                by_language={str(r["language"]): int(r["n"]) for r in languages},
                by_day=list(by_day.items()),
                top_intents=[(str(r["intent"]), int(r["n"])) for r in top_rows],
                feedback=_feedback(feedback), unanswered=unanswered,
                first_ts=None if first is None else str(first),
                last_ts=None if last is None else str(last),
                refusals=[(str(r["refusal"]), int(r["n"])) for r in refusals],
            )

        return await self._db.read("cannot compute the report figures", figures, snapshot=True)

    async def unanswered(self, since: datetime | None = None, until: datetime | None = None, *,
                         limit: int = 5000) -> list[tuple[str, str, str]]:
        """(ts, status, question) of clarify and fallback enquiries in [since, until), newest
        first, at most ``limit``."""
        if limit < 0:
            raise ValueError(f"limit must be 0 or more, got {limit}")
        start, end = bounds(since, until)
        return await self._db.read("cannot read the unanswered questions",
                                   lambda tx: _unanswered(tx, start, end, limit))

    async def enquiries(self, since: datetime | None = None, until: datetime | None = None, *,
                        after_id: int = 0, limit: int = 1000) -> list[LoggedEnquiry]:
        """Up to ``limit`` enquiries in [since, until) with an id above ``after_id``, in id order,
        each with its votes. Page through the whole log by passing the last id as ``after_id``."""
        if limit < 0:
            raise ValueError(f"limit must be 0 or more, got {limit}")
        start, end = bounds(since, until)
        rows = await self._db.read("cannot read the enquiries", lambda tx: tx.rows(
            "SELECT e.*, COALESCE(SUM(f.helpful), 0) AS helpful,"
            " COALESCE(SUM(1 - f.helpful), 0) AS not_helpful"
            " FROM enquiries AS e LEFT JOIN feedback AS f ON f.enquiry_id = e.id"
            " WHERE e.id > ? AND e.ts >= ? AND e.ts < ?"
            " GROUP BY e.id ORDER BY e.id LIMIT ?", (after_id, start, end, limit)))
        return [
            LoggedEnquiry(
                id=int(r["id"]), ts=str(r["ts"]), transport=str(r["transport"]),
                user_hash=str(r["user_hash"]), chat_type=str(r["chat_type"]),
                language=str(r["language"]), question=str(r["question"]),
                status=str(r["status"]), intent=None if r["intent"] is None else str(r["intent"]),
                score=float(r["score"]), latency_ms=float(r["latency_ms"]),
                helpful=int(r["helpful"]), not_helpful=int(r["not_helpful"]),
                refusal=None if r["refusal"] is None else str(r["refusal"]),
            )
            for r in rows
        ]


# Fallbacks that were no question for the report ("tell me more" at the end of a topic, a
# number typed with no list on screen): not what staff should look at as unanswered.
NOT_QUESTIONS: Final = ("no_more", "no_choice")


async def _unanswered(tx: Tx, start: str, end: str, limit: int) -> list[tuple[str, str, str]]:
    rows = await tx.rows(
        "SELECT ts, status, question FROM enquiries WHERE ts >= ? AND ts < ? AND status IN (?, ?)"
        " AND (refusal IS NULL OR refusal NOT IN (?, ?))"
        " ORDER BY ts DESC, id DESC LIMIT ?",
        (start, end, *UNANSWERED_STATUSES, *NOT_QUESTIONS, limit))
    return [(str(r["ts"]), str(r["status"]), str(r["question"])) for r in rows]


def _feedback(rows: Sequence[sqlite3.Row]) -> dict[str, tuple[int, int]]:
    return {str(r["intent"]): (int(r["helpful"]), int(r["not_helpful"])) for r in rows}
