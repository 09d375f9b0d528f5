"""Settings: one frozen object built at the entry point from the environment (and `.env`).

Nothing else in citizenbot reads `os.environ`. Every setting has a default that works out of
the box; the README's settings table and `deploy/example.env` list the same names.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from citizenbot.core.responder import Thresholds

DEFAULT_API_URL = "https://api.telegram.org/bot"
# A salt shorter than this is almost certainly a truncated or hand-edited value; hashing with it
# would make user hashes (and the button signatures keyed by it) easy to brute-force.
MIN_SALT_CHARS = 32

# name -> (default shown in docs, meaning). The single list the docs are checked against.
SETTINGS: dict[str, tuple[str, str]] = {
    "TELEGRAM_BOT_TOKEN": ("", "Bot token from @BotFather; without it the terminal chat opens"),
    "TELEGRAM_API_URL": (DEFAULT_API_URL, "Bot API base URL (python-telegram-bot base_url form)"),
    "CITIZENBOT_DB": ("<data dir>/citizenbot/citizenbot.db", "Path of the SQLite enquiry log"),
    "CITIZENBOT_INTENTS": ("<shipped knowledge base>", "Knowledge-base directory"),
    "CITIZENBOT_SALT": ("<generated>", "Salt for hashing user ids; generated and kept beside "
                        "the database when empty"),
    "CITIZENBOT_ANSWER_THRESHOLD": ("50", "Confidence (0-100) needed for an answer: the share of "
                                    "the question the quoted passage (or the intent vouching "
                                    "for it) explains"),
    "CITIZENBOT_CLARIFY_THRESHOLD": ("40", "Confidence a topic needs to be offered in a 'did "
                                     "you mean' list"),
    "CITIZENBOT_CLARIFY_MARGIN": ("8", "Lead over a different runner-up topic needed to answer "
                                  "outright"),
    "CITIZENBOT_SEARCH_THRESHOLD": ("50", "Coverage a passage found by searching the report "
                                    "needs when no intent vouches for it"),
    "CITIZENBOT_FALLBACK_TEXT": ("<texts.yml>", "English 'I don't know' text, replacing texts.yml"),
    "CITIZENBOT_FALLBACK_TEXT_ZH": ("<texts.yml>", "Chinese 'I don't know' text"),
    "CITIZENBOT_LOG_LEVEL": ("INFO", "Logging level: DEBUG, INFO, WARNING, ERROR"),
    "CITIZENBOT_LOG_FORMAT": ("text", "Log format: text (one line per record) or json (one "
                              "JSON object per line: ts, level, logger, message, exception)"),
    "ADMIN_IDS": ("", "Numeric Telegram user ids (comma-separated) allowed to use /stats, "
                  "/unanswered, /reload, /tickets, /reply and /close"),
    "CITIZENBOT_WEBHOOK_URL": ("", "Public HTTPS URL for webhook mode; empty means long polling"),
    "CITIZENBOT_WEBHOOK_LISTEN": ("127.0.0.1", "Address the webhook server listens on"),
    "CITIZENBOT_WEBHOOK_PORT": ("8443", "Port the webhook server listens on"),
    "CITIZENBOT_WEBHOOK_PATH": ("telegram", "URL path of the webhook"),
    "CITIZENBOT_WEBHOOK_SECRET": ("", "Secret token Telegram sends in a header (required for "
                                  "webhook mode)"),
    "CITIZENBOT_RATE_LIMIT": ("20", "Messages one user may send per minute"),
    "CITIZENBOT_CONTEXT_MINUTES": ("5", "How long after an answer a message can continue it "
                                   "('tell me more', 'in Chinese', 'and the parks?'); 0 "
                                   "switches follow-ups off"),
    "CITIZENBOT_RETENTION_DAYS": ("0", "Delete enquiries older than this many days, once a day "
                                  "while the bot runs; 0 keeps them forever"),
    "STAFF_CHAT_ID": ("", "Id of the private staff group that receives questions "
                      "handed to district staff; empty switches the handover off"),
    "CITIZENBOT_STAFF_LANGUAGE": ("zh", "Language of the bot's messages to staff: zh or en"),
}


class SettingsError(Exception):
    """A setting has a value that cannot be used; the message names it."""


@dataclass(frozen=True)
class Settings:
    token: str | None = None
    api_url: str = DEFAULT_API_URL
    db_path: Path = field(default_factory=lambda: default_db_path({}))
    intents_dir: Path | None = None
    salt: str | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    fallback_text: dict[str, str] = field(default_factory=dict)
    log_level: str = "INFO"
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_path: str = "telegram"
    webhook_secret: str | None = None
    rate_limit: int = 20
    context_minutes: float = 5.0  # a last answer can be continued this long (0: never)
    retention_days: int = 0  # 0: keep enquiries forever
    staff_chat_id: int | None = None  # None: no handing questions to staff
    staff_language: str = "zh"
    log_format: str = "text"  # "text" or "json"
    admin_ids: frozenset[int] = frozenset()  # Telegram user ids allowed the admin commands

    @property
    def salt_path(self) -> Path:
        return self.db_path.with_name(self.db_path.name + ".salt")


def default_db_path(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "citizenbot" / "citizenbot.db"


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments ignored; quotes around values stripped."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):]
        key, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Z_][A-Z0-9_]*", key.strip()):
            raise SettingsError(f"{path.name} line {number}: expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={raw} must be between {low:g} and {high:g}")
    return value


def _whole(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    value = float(_number(env, name, default, low, high))
    if not value.is_integer():
        raise SettingsError(f"{name}={env[name].strip()} must be a whole number")
    return int(value)


def _user_ids(env: Mapping[str, str], name: str) -> frozenset[int]:
    """Comma-separated numeric Telegram user ids (spaces allowed; empty means none)."""
    ids = set()
    for part in env.get(name, "").split(","):
        part = part.strip()
        if not part:
            continue
        if not re.fullmatch(r"[0-9]{1,20}", part):
            raise SettingsError(f"{name}: {part!r} is not a numeric Telegram user id "
                                "(digits only, e.g. 123456789)")
        ids.add(int(part))
    return frozenset(ids)


def _chat_id(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not re.fullmatch(r"-?[1-9][0-9]{0,18}", raw):
        raise SettingsError(f"{name}={raw!r} is not a Telegram chat id (a whole number; a "
                            "group's id starts with -100)")
    return int(raw)


def _choice(env: Mapping[str, str], name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name, "").strip().lower() or default
    if value not in allowed:
        raise SettingsError(f"{name}={value!r} must be one of: {', '.join(allowed)}")
    return value


def load_settings(env: Mapping[str, str] | None = None, env_file: Path | None = None) -> Settings:
    """Build the settings from `env` (default: os.environ) over the `.env` file's values."""
    environ = dict(os.environ) if env is None else dict(env)
    file_values = read_env_file(env_file or Path(".env")) if env is None or env_file else {}
    merged = {**file_values, **{k: v for k, v in environ.items() if v != ""}}

    defaults = Thresholds()
    thresholds = Thresholds(
        answer=_number(merged, "CITIZENBOT_ANSWER_THRESHOLD", defaults.answer, 0, 100),
        clarify=_number(merged, "CITIZENBOT_CLARIFY_THRESHOLD", defaults.clarify, 0, 100),
        margin=_number(merged, "CITIZENBOT_CLARIFY_MARGIN", defaults.margin, 0, 100),
        search=_number(merged, "CITIZENBOT_SEARCH_THRESHOLD", defaults.search, 0, 100),
    )
    if thresholds.clarify > thresholds.answer:
        raise SettingsError("CITIZENBOT_CLARIFY_THRESHOLD must not be above "
                            "CITIZENBOT_ANSWER_THRESHOLD")

    level = merged.get("CITIZENBOT_LOG_LEVEL", "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise SettingsError(f"CITIZENBOT_LOG_LEVEL={level!r} must be DEBUG, INFO, WARNING or ERROR")

    log_format = merged.get("CITIZENBOT_LOG_FORMAT", "text").strip().lower()
    if log_format not in ("text", "json"):
        raise SettingsError(f"CITIZENBOT_LOG_FORMAT={log_format!r} must be text or json")

    admin_ids = _user_ids(merged, "ADMIN_IDS")

    token = merged.get("TELEGRAM_BOT_TOKEN") or None
    if token is not None and not re.fullmatch(r"\d+:[A-Za-z0-9_-]{20,}", token):
        raise SettingsError("TELEGRAM_BOT_TOKEN does not look like a bot token "
                            "(expected digits, a colon and a secret, as @BotFather gives it)")

    api_url = merged.get("TELEGRAM_API_URL", DEFAULT_API_URL)
    if not re.match(r"https?://", api_url):
        raise SettingsError("TELEGRAM_API_URL must start with http:// or https://")

    intents = merged.get("CITIZENBOT_INTENTS")
    db = merged.get("CITIZENBOT_DB")
    webhook_url = merged.get("CITIZENBOT_WEBHOOK_URL") or None
    secret = merged.get("CITIZENBOT_WEBHOOK_SECRET") or None
    if webhook_url and not secret:
        raise SettingsError("CITIZENBOT_WEBHOOK_SECRET is required in webhook mode "
                            "(1-256 characters A-Z a-z 0-9 _ -)")
    if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise SettingsError("CITIZENBOT_WEBHOOK_SECRET may only use A-Z a-z 0-9 _ - "
                            "(1-256 characters)")
    salt = merged.get("CITIZENBOT_SALT") or None
    if salt is not None and len(salt.strip()) < MIN_SALT_CHARS:
        raise SettingsError(f"CITIZENBOT_SALT has {len(salt.strip())} characters; it needs at "
                            f"least {MIN_SALT_CHARS} (e.g. the output of `openssl rand -hex 32`)")
    fallback = {}
    if merged.get("CITIZENBOT_FALLBACK_TEXT"):
        fallback["en"] = merged["CITIZENBOT_FALLBACK_TEXT"]
    if merged.get("CITIZENBOT_FALLBACK_TEXT_ZH"):
        fallback["zh"] = merged["CITIZENBOT_FALLBACK_TEXT_ZH"]

    return Settings(
        token=token,
        api_url=api_url,
        db_path=Path(db).expanduser() if db else default_db_path(merged),
        intents_dir=Path(intents).expanduser() if intents else None,
        salt=salt.strip() if salt else None,
        thresholds=thresholds,
        fallback_text=fallback,
        log_level=level,
        webhook_url=webhook_url,
        webhook_listen=merged.get("CITIZENBOT_WEBHOOK_LISTEN", "127.0.0.1"),
        webhook_port=int(_number(merged, "CITIZENBOT_WEBHOOK_PORT", 8443, 1, 65535)),
        webhook_path=merged.get("CITIZENBOT_WEBHOOK_PATH", "telegram").strip("/"),
        webhook_secret=secret,
        rate_limit=int(_number(merged, "CITIZENBOT_RATE_LIMIT", 20, 1, 10000)),
        context_minutes=_number(merged, "CITIZENBOT_CONTEXT_MINUTES", 5, 0, 1440),
        retention_days=_whole(merged, "CITIZENBOT_RETENTION_DAYS", 0, 0, 36500),
        staff_chat_id=_chat_id(merged, "STAFF_CHAT_ID"),
        staff_language=_choice(merged, "CITIZENBOT_STAFF_LANGUAGE", "zh", ("zh", "en")),
        log_format=log_format,
        admin_ids=admin_ids,
    )
