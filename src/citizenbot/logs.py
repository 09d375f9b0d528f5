"""Log output: plain text lines by default, JSON lines with CITIZENBOT_LOG_FORMAT=json.

Either way records go to stderr (the journal under systemd, `docker logs` in a container).
Secrets are blanked where records are made (telegram_bot.protect_secrets), so both formats
only ever see redacted text.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Final, TextIO

TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FORMATS: Final = ("text", "json")


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
