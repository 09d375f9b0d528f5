"""The enquiries as CSV, for spreadsheets: one row per enquiry with its feedback votes."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from typing import Final, TextIO

from citizenbot.model import LoggedEnquiry

COLUMNS: Final = ("id", "ts", "transport", "user_hash", "chat_type", "language", "question",
                  "status", "intent", "score", "latency_ms", "helpful", "not_helpful", "refusal")
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
# (the full-width forms too, in some locales); a leading apostrophe makes it plain text.
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def csv_cell(value: object) -> str:
    """``value`` as CSV cell text that no spreadsheet will run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def row(e: LoggedEnquiry) -> list[object]:
    return [e.id, csv_cell(e.ts), csv_cell(e.transport), csv_cell(e.user_hash),
            csv_cell(e.chat_type), csv_cell(e.language), csv_cell(e.question),
            csv_cell(e.status), csv_cell(e.intent), f"{e.score:.1f}", f"{e.latency_ms:.1f}",
            e.helpful, e.not_helpful, csv_cell(e.refusal)]


async def write_csv(out: TextIO, pages: AsyncIterator[list[LoggedEnquiry]]) -> int:
    """Write the header and every enquiry the pages hold; how many enquiries."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    async for page in pages:
        writer.writerows(row(e) for e in page)
        count += len(page)
    return count
