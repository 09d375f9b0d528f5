"""Start citizenbot: the Telegram bot when TELEGRAM_BOT_TOKEN is set, else the terminal chat."""

import sys

from citizenbot.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
