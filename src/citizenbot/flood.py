"""A per-user flood limit: so many messages a minute, then one polite notice, then silence.

Transport-free and clock-free: the caller passes the time, so tests need no sleeping.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from enum import Enum

# Forget users who have been quiet for a whole window, at most this often, so that the table
# does not grow with every user the bot has ever seen.
SWEEP_EVERY = 1000


class Verdict(Enum):
    PASS = "pass"  # handle the message
    NOTICE = "notice"  # the first message over the limit: tell the user once, do not handle
    DROP = "drop"  # over the limit and already told: ignore it


@dataclass
class _Track:
    accepted: deque[float] = field(default_factory=deque)
    noticed: bool = False
    dropped: int = 0


class FloodGate:
    """At most `limit` accepted messages per user within any `window` seconds."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        if limit < 1:
            raise ValueError(f"the flood limit must be at least 1 message, got {limit}")
        if window <= 0:
            raise ValueError(f"the flood window must be positive, got {window}")
        self.limit = limit
        self.window = window
        self.dropped = 0  # messages not handled (notice included), all users together
        self._tracks: dict[Hashable, _Track] = {}
        self._checks = 0

    def check(self, user: Hashable, now: float) -> Verdict:
        """Decide what to do with a message `user` sent at `now` (seconds, monotonic)."""
        self._checks += 1
        if self._checks % SWEEP_EVERY == 0:
            self._sweep(now)
        track = self._tracks.setdefault(user, _Track())
        while track.accepted and track.accepted[0] <= now - self.window:
            track.accepted.popleft()
        if len(track.accepted) < self.limit:
            track.accepted.append(now)
            track.noticed = False
            return Verdict.PASS
        track.dropped += 1
        self.dropped += 1
        if track.noticed:
            return Verdict.DROP
        track.noticed = True
        return Verdict.NOTICE

    def dropped_for(self, user: Hashable) -> int:
        """How many messages of `user` were not handled since the gate was made."""
        track = self._tracks.get(user)
        return track.dropped if track else 0

    def __len__(self) -> int:
        return len(self._tracks)

    def _sweep(self, now: float) -> None:
        quiet = [user for user, t in self._tracks.items()
                 if not t.accepted or t.accepted[-1] <= now - self.window]
        for user in quiet:
            del self._tracks[user]
