"""What a button does, in the compact signed form a chat button can carry.

Telegram gives a button at most 64 bytes of data and hands back whatever a client sends, so the
data is versioned (buttons from an older release are recognised as out of date) and carries a
short MAC (any edited byte is recognised as tampering). Nothing here knows about Telegram.

Format: ``<version>|<verb>|<argument>|...|<mac>``, e.g. ``1|i|one-stop-service|zh|q0yG3nfz``.
A topic button carries the language of the message it is under, so that it answers in that
language whatever the app's; buttons made before it did still work (in the user's language).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Final, Literal

VERSION: Final = "1"
MAX_BYTES: Final = 64
SEP: Final = "|"
MAC_BYTES: Final = 6  # 8 characters once base64-encoded; 48 bits is plenty against guessing

_ID = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
_NUMBER = re.compile(r"^[1-9][0-9]{0,17}$")
_OWNER = re.compile(r"^[0-9a-f]{8}$")
LANGS: Final = ("en", "zh")


class CallbackDataError(ValueError):
    """The button data cannot be acted on; `reason` is "stale" or "tampered"."""

    def __init__(self, reason: Literal["stale", "tampered"], detail: str) -> None:
        super().__init__(f"{reason} button data: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class ShowIntent:
    """Answer one intent; `enquiry_id` is the clarify question it answers, if any; `lang` the
    language to answer in (None: the user's)."""

    intent_id: str
    enquiry_id: int | None = None
    lang: str | None = None


@dataclass(frozen=True)
class ShowArea:
    """List the intents of one area; `replace` the pressed button's message or send anew;
    `lang` the language of the list (None: the user's)."""

    area: str
    replace: bool = False
    lang: str | None = None


@dataclass(frozen=True)
class ShowTopics:
    """List the areas; `replace` the pressed button's message or send anew."""

    replace: bool = False


@dataclass(frozen=True)
class Feedback:
    """👍 (helpful) or 👎 on the answer logged as `enquiry_id`."""

    enquiry_id: int
    helpful: bool


@dataclass(frozen=True)
class SetLanguage:
    lang: str


@dataclass(frozen=True)
class Forget:
    """Confirm (or cancel) erasure; `owner` is the start of the asking user's hash."""

    confirm: bool
    owner: str


@dataclass(frozen=True)
class AskStaff:
    """Offer to hand the question logged as `enquiry_id` to district staff."""

    enquiry_id: int


@dataclass(frozen=True)
class SendTicket:
    """Send (or cancel) a question to district staff; `owner` is the start of the asking
    user's hash. The question is the enquiry `enquiry_id`, or the one typed after /ask."""

    confirm: bool
    owner: str
    enquiry_id: int | None = None


Action = ShowIntent | ShowArea | ShowTopics | Feedback | SetLanguage | Forget | AskStaff \
    | SendTicket


def derive_key(secret: str) -> bytes:
    """The MAC key for button data, derived from the installation's secret salt."""
    return hashlib.sha256(b"citizenbot callback data\x00" + secret.encode()).digest()


def _mac(key: bytes, payload: str) -> str:
    digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(digest).decode("ascii")


def _fields(action: Action) -> list[str]:
    match action:
        case ShowIntent(intent_id, None, lang):
            return ["i", intent_id, *_lang(lang)]
        case ShowIntent(intent_id, enquiry_id, lang):
            return ["c", str(enquiry_id), intent_id, *_lang(lang)]
        case ShowArea(area, replace, lang):
            return ["A" if replace else "a", area, *_lang(lang)]
        case ShowTopics(replace):
            return ["T" if replace else "t"]
        case Feedback(enquiry_id, helpful):
            return ["f", str(enquiry_id), "1" if helpful else "0"]
        case SetLanguage(lang):
            return ["l", lang]
        case Forget(confirm, owner):
            return ["x", "1" if confirm else "0", owner]
        case AskStaff(enquiry_id):
            return ["h", str(enquiry_id)]
        case SendTicket(confirm, owner, enquiry_id):
            fields = ["k", "1" if confirm else "0", owner]
            return fields if enquiry_id is None else [*fields, str(enquiry_id)]
    raise TypeError(f"not a button action: {action!r}")  # pragma: no cover


def _lang(lang: str | None) -> list[str]:
    return [] if lang is None else [lang]


def encode(action: Action, key: bytes) -> str:
    """The button data for `action`. Raises ValueError if it would not fit in 64 bytes."""
    payload = SEP.join([VERSION, *_fields(action)])
    data = f"{payload}{SEP}{_mac(key, payload)}"
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"button data for {action!r} is {len(data.encode())} bytes; "
                         f"Telegram allows {MAX_BYTES}")
    # Decoding what we encode must give the action back, or the button would only ever fail.
    if decode(data, key) != action:
        raise ValueError(f"{action!r} cannot be carried by a button (invalid field)")
    return data


def decode(data: str | None, key: bytes) -> Action:
    """The action a button's data stands for. Raises CallbackDataError if it cannot be used."""
    try:
        size = len(data.encode()) if data else 0
    except UnicodeEncodeError:  # lone surrogates: no button of ours carries them
        raise CallbackDataError("tampered", "not valid UTF-8") from None
    if not data or size > MAX_BYTES:
        raise CallbackDataError("tampered", "empty or too long")
    version, _, rest = data.partition(SEP)
    if version != VERSION:
        raise CallbackDataError("stale", f"version {version[:8]!r}, expected {VERSION}")
    payload, _, mac = data.rpartition(SEP)
    if not rest or not hmac.compare_digest(mac.encode(), _mac(key, payload).encode()):
        raise CallbackDataError("tampered", "bad signature")
    fields = payload.split(SEP)[1:]
    action = _parse(fields)
    if action is None:
        raise CallbackDataError("tampered", f"unknown fields {fields!r}")
    return action


def _known(lang: list[str]) -> bool:
    """No language (an older button), or one we speak."""
    return not lang or (len(lang) == 1 and lang[0] in LANGS)


def _one(lang: list[str]) -> str | None:
    return lang[0] if lang else None


def _parse(fields: list[str]) -> Action | None:
    match fields:
        case ["i", intent_id, *lang] if _ID.match(intent_id) and _known(lang):
            return ShowIntent(intent_id, None, _one(lang))
        case ["c", enquiry, intent_id, *lang] if _NUMBER.match(enquiry) \
                and _ID.match(intent_id) and _known(lang):
            return ShowIntent(intent_id, int(enquiry), _one(lang))
        case [("a" | "A") as verb, area, *lang] if _ID.match(area) and _known(lang):
            return ShowArea(area, verb == "A", _one(lang))
        case [("t" | "T") as verb]:
            return ShowTopics(verb == "T")
        case ["f", enquiry, ("1" | "0") as vote] if _NUMBER.match(enquiry):
            return Feedback(int(enquiry), vote == "1")
        case ["l", lang] if lang in LANGS:
            return SetLanguage(lang)
        case ["x", ("1" | "0") as confirm, owner] if _OWNER.match(owner):
            return Forget(confirm == "1", owner)
        case ["h", enquiry] if _NUMBER.match(enquiry):
            return AskStaff(int(enquiry))
        case ["k", ("1" | "0") as confirm, owner] if _OWNER.match(owner):
            return SendTicket(confirm == "1", owner)
        case ["k", ("1" | "0") as confirm, owner, enquiry] if _OWNER.match(owner) \
                and _NUMBER.match(enquiry):
            return SendTicket(confirm == "1", owner, int(enquiry))
    return None
