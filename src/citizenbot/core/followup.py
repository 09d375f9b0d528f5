"""Follow-ups: a message that continues the last answer instead of asking something new.

"tell me more" / 更多 continues with the next sentences of the passage just quoted; "in
Chinese" / 用中文 repeats the last answer with the other language's labels; a short fragment
("and the parks?") is read with the last question when it does not stand on its own. The
phrases are data (`followups.yml`); what the last answer was is kept by the service, per user,
as a `Previous`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from citizenbot.core.text import CJK_RUN, normalise

KINDS = ("more", "chinese", "english")
# A fragment is at most this long; longer messages stand on their own.
FRAGMENT_WORDS = 5
FRAGMENT_CJK = 8
_POLITE = re.compile(r"\b(?:please|pls|plz|thanks|thank you)\b|请|谢谢")


class FollowUp(StrEnum):
    MORE = "more"
    CHINESE = "chinese"
    ENGLISH = "english"


@dataclass(frozen=True)
class Previous:
    """What the last answer was, as the service keeps it for one user."""

    question: str
    language: str
    intent_id: str | None = None
    sentence_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class FollowUpRules:
    phrases: dict[str, frozenset[str]]  # kind -> normalised phrases
    openers: tuple[str, ...] = ()  # "and", "what about", 还有, 那 ...

    def classify(self, text: str) -> FollowUp | None:
        """The follow-up a whole message is, if it is one ("tell me more", 用中文)."""
        norm = normalise(_POLITE.sub(" ", normalise(text))).strip()
        if not norm:
            return None
        for kind in KINDS:
            if norm in self.phrases.get(kind, frozenset()):
                return FollowUp(kind)
        return None

    def is_fragment(self, text: str) -> bool:
        """A short message that may lean on the last question ("and the parks?")."""
        norm = normalise(text)
        words = [w for w in norm.split() if not CJK_RUN.fullmatch(w)]
        cjk = sum(len(w) for w in norm.split() if CJK_RUN.fullmatch(w))
        if len(words) > FRAGMENT_WORDS or cjk > FRAGMENT_CJK or not (words or cjk):
            return False
        return len(words) + cjk // 2 <= 3 or any(
            norm == o or norm.startswith(o + " ") or (CJK_RUN.match(o) and norm.startswith(o))
            for o in self.openers)

    def strip_opener(self, text: str) -> str:
        """The fragment without "and" / "what about" / 还有 in front."""
        norm = normalise(text)
        for opener in sorted(self.openers, key=len, reverse=True):
            if norm.startswith(opener + " ") or (CJK_RUN.match(opener) and norm.startswith(opener)):
                return norm[len(opener):].strip()
        return norm


def parse_followups(data: Any) -> tuple[FollowUpRules, list[str]]:
    """followups.yml's data, checked; problems as 'field: message' strings."""
    problems: list[str] = []
    if not isinstance(data, dict):
        return FollowUpRules({}), ["expected more:, chinese:, english: and openers: lists"]
    phrases: dict[str, frozenset[str]] = {}
    for kind in (*KINDS, "openers"):
        value = data.get(kind)
        found: list[str] = []
        if isinstance(value, dict):
            for lang in ("en", "zh"):
                items = value.get(lang) or []
                if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                    problems.append(f"{kind}.{lang}: expected a list of phrases")
                    continue
                found += items
        elif value is not None:
            problems.append(f"{kind}: expected en: [...] and zh: [...]")
        phrases[kind] = frozenset(n for n in (normalise(p) for p in found) if n)
    for key in sorted(set(data) - {*KINDS, "openers", "__line__"}):
        problems.append(f"{key}: unknown key (expected {', '.join(KINDS)}, openers)")
    openers = tuple(sorted(phrases.pop("openers", frozenset())))
    return FollowUpRules(phrases, openers), problems
