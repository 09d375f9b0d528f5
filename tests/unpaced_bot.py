"""`citizenbot run` with Telegram's overall cap of 30 messages a second lifted (nothing else
changed), for the crash tests and the benchmark that measure the bot rather than the cap."""

from __future__ import annotations

import functools
import sys

from citizenbot.cli import main
from citizenbot.telegram import app

app.build_application = functools.partial(app.build_application, overall_max_rate=0)

if __name__ == "__main__":
    sys.exit(main(["run"]))
