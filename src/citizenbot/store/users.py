"""What is kept per user hash besides the enquiries: the chosen language and the last answer.

A row exists once a user chose a language or got an answer worth continuing; it holds no id and
no name, only the salted hash the enquiries carry, and it goes with them on erasure.
"""

from __future__ import annotations

import json
from datetime import datetime

from citizenbot.model import LastAnswer, UserState
from citizenbot.store.db import Database, Tx, iso
from citizenbot.store.enquiries import storable


class Users:
    """The user_state table's queries, on the store's database."""

    _db: Database

    async def user_state(self, user_hash: str) -> UserState:
        """The user's language choice and last answer (empty when nothing is kept)."""
        row = await self._db.read("cannot read the user's settings", lambda tx: tx.row(
            "SELECT language, last_question, last_language, last_intent, last_sentences,"
            " last_ts FROM user_state WHERE user_hash = ?", (user_hash,)))
        if row is None:
            return UserState()
        last = None
        if row["last_ts"] is not None and row["last_question"] is not None:
            last = LastAnswer(
                question=str(row["last_question"]), language=str(row["last_language"]),
                intent_id=row["last_intent"],
                sentence_ids=tuple(json.loads(row["last_sentences"] or "[]")),
                ts=datetime.fromisoformat(str(row["last_ts"])))
        return UserState(row["language"], last)

    async def set_language(self, user_hash: str, language: str | None) -> None:
        """Keep the language the user chose (None: follow each question's language)."""
        _needs_hash(user_hash)

        async def upsert(tx: Tx) -> None:
            await tx.execute(
                "INSERT INTO user_state (user_hash, language) VALUES (?, ?)"
                " ON CONFLICT (user_hash) DO UPDATE SET language = excluded.language",
                (user_hash, language))

        await self._db.write("cannot keep the user's language", upsert)

    async def remember_answer(self, user_hash: str, last: LastAnswer) -> None:
        """Keep ``last`` as the answer the user's next message may continue."""
        _needs_hash(user_hash)
        params = (user_hash, storable(last.question), last.language, last.intent_id,
                  json.dumps(list(last.sentence_ids)), iso(last.ts))

        async def upsert(tx: Tx) -> None:
            await tx.execute(
                "INSERT INTO user_state (user_hash, last_question, last_language, last_intent,"
                " last_sentences, last_ts) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (user_hash) DO UPDATE SET last_question = excluded.last_question,"
                " last_language = excluded.last_language, last_intent = excluded.last_intent,"
                " last_sentences = excluded.last_sentences, last_ts = excluded.last_ts", params)

        await self._db.write("cannot keep the last answer", upsert)

    async def forget_answer(self, user_hash: str) -> None:
        """Drop the last answer: the next message starts afresh (/start)."""
        await self._db.write("cannot forget the last answer", lambda tx: tx.execute(
            "UPDATE user_state SET last_question = NULL, last_language = NULL,"
            " last_intent = NULL, last_sentences = NULL, last_ts = NULL WHERE user_hash = ?",
            (user_hash,)))

    async def forget_answers_before(self, before: datetime) -> int:
        """Drop every last answer older than ``before`` (their questions are what users
        typed: kept no longer than needed); how many were dropped."""

        async def clear(tx: Tx) -> int:
            changed = await tx.execute(
                "UPDATE user_state SET last_question = NULL, last_language = NULL,"
                " last_intent = NULL, last_sentences = NULL, last_ts = NULL"
                " WHERE last_ts IS NOT NULL AND last_ts < ?", (iso(before),))
            await tx.execute("DELETE FROM user_state WHERE language IS NULL"
                             " AND last_ts IS NULL")
            return changed.rows

        return await self._db.write("cannot drop old answers", clear)


def _needs_hash(user_hash: str) -> None:
    if not user_hash:
        raise ValueError("per-user state needs a user hash; the empty hash is shared by all"
                         " batch enquiries")
