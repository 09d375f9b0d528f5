"""The conversation in a terminal: the same service, the same log, no token and no network."""

from __future__ import annotations

from typing import Final, TextIO

from citizenbot.core.responder import Reply, plain_text
from citizenbot.model import Transport
from citizenbot.service import Asker, Service
from citizenbot.texts import declare, fill

PROMPT: Final = "you> "
QUIT_WORDS: Final = frozenset({"quit", "exit", "/quit", "/exit", "退出"})
LANG: Final = "en"  # the terminal's own texts; answers follow each question's language

TEXTS: Final = declare("texts.console.yml", {"console.banner": ("title",)}) | declare(
    "texts.yml", {"services.greeting": ()})


def _choice(last: Reply | None, typed: str) -> int | None:
    """The "did you mean" option a typed number picks, if a list is on screen."""
    if last is None or not last.options or not typed.isdigit():
        return None
    number = int(typed)
    return number - 1 if 1 <= number <= len(last.options) else None


async def chat(service: Service, stdin: TextIO, stdout: TextIO,
               interactive: bool = True) -> int:
    """Run the terminal chat until end of input or 'quit'. Returns the number of questions."""
    kb = service.kb
    asker = Asker(Transport.CONSOLE, "console")
    stdout.write(fill(kb.text("console.banner", LANG), title=kb.report.title) + "\n\n")
    stdout.write(kb.text("services.greeting", LANG) + "\n\n")
    asked = 0
    last: Reply | None = None
    while True:
        if interactive:
            stdout.write(PROMPT)
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        typed = line.strip()
        if typed.lower() in QUIT_WORDS:
            break
        if not typed:
            continue
        picked = _choice(last, typed)
        if last is not None and picked is not None:
            # Logged under the question that offered the choice, as Telegram does: "1" alone
            # tells staff nothing about what people ask.
            option = last.options[picked]
            answer = await service.choose(asker, option.intent_id, last.language, last.question)
        else:
            answer = await service.ask(asker, typed)
        asked += 1
        last = answer.reply
        stdout.write(plain_text(answer.reply, kb) + "\n\n")
        stdout.flush()
    return asked
