"""Log output: plain text lines by default, JSON lines with CITIZENBOT_LOG_FORMAT=json.

Either way records go to stderr (the journal under systemd, `docker logs` in a container).
Secrets are blanked where records are made (`protect_secrets`), so both formats only ever see
redacted text.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any, Final, TextIO

TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FORMATS: Final = ("text", "json")
REDACTED: Final = "<redacted>"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line: ts, level, logger, message, [exception]."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC)
                          .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # As logging.Formatter does: exc_text, once made (or redacted), is what is shown.
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def make_handler(log_format: str, stream: TextIO | None = None) -> logging.Handler:
    """A stderr handler (or `stream`) writing records as `log_format` says: text or json."""
    if log_format not in FORMATS:
        raise ValueError(f"log format must be one of {FORMATS}, got {log_format!r}")
    handler = logging.StreamHandler(stream or sys.stderr)
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    return handler


def configure_logging(level: str, log_format: str = "text") -> None:
    """Set up the root logger once per process (a no-op if something set it up already)."""
    logging.basicConfig(level=level, handlers=[make_handler(log_format)])


# --------------------------------------------------------------------------- secrets in logs

class _SecretRedactor:
    """A log record factory that blanks secrets out of every record as it is made.

    python-telegram-bot logs the Bot API URL (which carries the token) at DEBUG and httpx logs
    every request URL at INFO. A filter on a logger does not see its children's records and
    handlers come and go (pytest adds its own), so the secret is removed where records are born.
    """

    def __init__(self, base: Any) -> None:
        self.base = base
        self.secrets: set[str] = set()

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.base(*args, **kwargs)
        if self.secrets:
            self._redact(record)
        return record

    def _blank(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    def _redact(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: logging itself reports it when emitting
            return
        if any(secret in message for secret in self.secrets):
            record.msg, record.args = self._blank(message), None
        if record.exc_info and record.exc_info[1] is not None:
            text = "".join(traceback.format_exception(record.exc_info[1])).rstrip("\n")
            if any(secret in text for secret in self.secrets):
                record.exc_text = self._blank(text)
        if record.stack_info and any(secret in record.stack_info for secret in self.secrets):
            record.stack_info = self._blank(record.stack_info)


_redactor: _SecretRedactor | None = None


def protect_secrets(*secrets: str | None) -> None:
    """From now on no log record of this process contains any of `secrets` (nor their URL form)."""
    global _redactor
    if _redactor is None:
        _redactor = _SecretRedactor(logging.getLogRecordFactory())
        logging.setLogRecordFactory(_redactor)
    for secret in secrets:
        if secret:
            _redactor.secrets.update({secret, secret.replace(":", "%3A")})
