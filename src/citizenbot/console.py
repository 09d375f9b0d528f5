"""The conversation in a terminal: the same service, commands and choices as Telegram.

What Telegram shows as buttons is printed as a numbered list (clarify options, related topics,
👍/👎, topic areas, English/中文, confirm erasure), and a number typed while that list is on
screen picks from it; at any other time a number is an ordinary message. Commands and choices
are not logged as enquiries. Interactive input goes through `input()` with the standard
library's readline loaded, so the arrow keys edit the line and recall earlier ones.
"""

from __future__ import annotations

import contextlib
import getpass
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, TextIO

from citizenbot import callback_data as cb
from citizenbot import chat
from citizenbot.core.knowledge import KnowledgeBase
from citizenbot.core.responder import Reply
from citizenbot.html_text import Block, Span
from citizenbot.model import Transport, Vote
from citizenbot.service import Answer, Asker, Service
from citizenbot.texts import declare, fill

PROMPT: Final = "you> "
QUIT_WORDS: Final = frozenset({"quit", "exit", "/quit", "/exit", "退出"})

TEXTS: Final = chat.TEXTS | declare("texts.console.yml", {
    "console.banner": ("title",), "console.choose": (), "console.staff_in_telegram": (),
    "console.vote_gone": (),
}) | declare("texts.admin.yml", {"admin.unknown_command": ()})

ReadLine = Callable[[str], str | None]  # prompt -> the line typed, None at end of input


def console_user() -> str:
    """Who is at the terminal, as the id the service hashes: the login name, so that one
    person's language and last answer are theirs across sessions."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no login name (some containers)
        name = "terminal"
    return f"console:{name}"


def line_reader(stdin: TextIO, stdout: TextIO, interactive: bool) -> ReadLine:
    """How lines are read: ``input()`` with line editing and history at a terminal, plain
    reads from a pipe or a file (each echoed after the prompt, as a terminal would show it)."""
    if not interactive:
        def read_piped(prompt: str) -> str | None:
            # Echoed after the prompt, so that what a pipe or a file typed reads as a
            # conversation: question, answer, question.
            line = stdin.readline()
            if line:
                stdout.write(f"{prompt}{line.rstrip()}\n")
            return line if line else None
        return read_piped
    # Loading readline is all it takes: input() then edits lines with the arrow keys and keeps
    # this session's history (nothing is written to disk: the lines are what citizens typed).
    with contextlib.suppress(ImportError):  # not on Windows; input() still works there
        import readline  # noqa: F401

    def read_typed(prompt: str) -> str | None:
        try:
            return input(prompt)
        except EOFError:
            return None
    return read_typed


@dataclass
class Terminal:
    """One person's conversation at the terminal."""

    service: Service
    asker: Asker
    out: TextIO
    lang: str = "en"  # the language of the texts that are not a reply: chosen, or last used
    choices: list[tuple[str, cb.Action]] = field(default_factory=list)  # the list on screen
    asked: int = 0

    @property
    def kb(self) -> KnowledgeBase:
        return self.service.kb

    # ------------------------------------------------------------------ output

    def say(self, blocks: list[Block], rows: chat.Rows | None = None) -> None:
        """Print ``blocks`` and number the choices of ``rows``; they replace the list on
        screen (no rows: no list, and numbers are ordinary messages again)."""
        paragraphs = ["".join(span.text for span in block) for block in blocks]
        self.choices = [choice for row in rows or [] for choice in row]
        text = "\n\n".join(p for p in paragraphs if p)
        if self.choices:
            width = len(str(len(self.choices)))
            lines = [f"  {n:>{width}}. {label}" for n, (label, _) in
                     enumerate(self.choices, start=1)]
            text += "\n\n" + "\n".join(lines) + "\n" + self.kb.text("console.choose", self.lang)
        self.out.write(text + "\n\n")
        self.out.flush()

    def text(self, key: str, **values: object) -> list[Block]:
        return [[Span(fill(self.kb.text(key, self.lang), **values))]]

    def noted(self, key: str) -> list[Block]:
        """A service text with the note that it is not from the report."""
        return [*self.text(key), *self.text("service_note")]

    # ------------------------------------------------------------------ input

    async def take(self, typed: str) -> None:
        """Act on one line the user typed: a choice, a command or a question."""
        if typed.isdigit() and 1 <= int(typed) <= len(self.choices):
            await self.act(self.choices[int(typed) - 1][1])
            return
        found = chat.command(typed)
        if found is not None:
            await self.command(found)
            return
        await self.show(await self.service.ask(self.asker, typed))

    async def show(self, answer: Answer) -> None:
        reply: Reply = answer.reply
        self.asked += 1
        chosen = await self.service.language(self.asker)
        self.lang = chosen or reply.language
        self.say(chat.reply_blocks(reply, self.kb),
                 chat.reply_rows(reply, self.kb, answer.enquiry_id))

    async def command(self, found: chat.Command) -> None:
        name = found.name
        if name == "start":
            await self.service.start(self.asker)
            self.say(self.noted("services.greeting"), chat.topic_rows(self.kb, self.lang, False))
        elif name == "help":
            self.say(self.noted("services.help"))
        elif name == "topics":
            self.say(self.text("chat.topics"), chat.topic_rows(self.kb, self.lang, True))
        elif name == "about":
            self.say([[Span(line)] for line in chat.about(self.kb, self.lang)]
                     + self.text("service_note"))
        elif name == "lang":
            wanted = found.args.lower()[:2]
            if wanted in cb.LANGS:
                await self.act(cb.SetLanguage(wanted))
            else:
                self.say(self.text("chat.lang_prompt"), chat.language_rows(self.kb, self.lang))
        elif name == "forget":
            self.say(self.text("chat.forget_confirm"),
                     chat.forget_rows(self.kb, self.lang, self.asker.user_hash[:8]))
        elif name in ("ask", "mytickets"):
            self.say(self.text("console.staff_in_telegram"))
        else:
            self.say(self.text("admin.unknown_command"))

    async def act(self, action: cb.Action) -> None:
        """Do what a numbered choice (or a Telegram button: the same actions) stands for."""
        match action:
            case cb.ShowIntent(intent_id, enquiry_id, lang):
                intent = self.service.responder.intent(intent_id)
                if intent is None:
                    return
                lang = lang or self.lang
                question = intent.title(lang)
                if enquiry_id is not None:
                    # A "did you mean" choice: logged under the question that offered it, as
                    # Telegram logs it; "1" alone tells staff nothing about what people ask.
                    asked = await self.service.asked(enquiry_id, self.asker.user_hash)
                    question = asked.question if asked is not None else question
                await self.show(await self.service.choose(self.asker, intent_id, lang,
                                                          question))
            case cb.ShowTopics():
                self.say(self.text("chat.topics"), chat.topic_rows(self.kb, self.lang, True))
            case cb.ShowArea(area, _, lang):
                rows = chat.area_rows(self.kb, area, lang or self.lang)
                if rows is not None:
                    self.say([[Span(chat.area_title(self.kb, area, lang or self.lang))]],
                             rows)
            case cb.Feedback(enquiry_id, helpful):
                vote = await self.service.vote(enquiry_id, self.asker.user_hash, helpful)
                self.say(self.text("console.vote_gone" if vote is Vote.GONE
                                   else "chat.feedback_thanks"))
            case cb.SetLanguage(lang):
                await self.service.set_language(self.asker, lang)
                self.lang = lang
                self.say(self.text("chat.lang_set"))
            case cb.Forget(confirm):
                if not confirm:
                    self.say(self.text("chat.forget_cancelled"))
                    return
                erasure = await self.service.erase(self.asker.user_hash)
                self.say([[Span(chat.forget_done(self.kb, self.lang, erasure.enquiries))]])


async def chat_loop(service: Service, read: ReadLine, stdout: TextIO,
                    user: str | None = None) -> int:
    """Run the terminal chat until end of input or 'quit'. Returns the number of questions
    answered (choices included, commands not)."""
    asker = Asker(Transport.CONSOLE, "console", service.user_hash(user or console_user()))
    terminal = Terminal(service, asker, stdout)
    terminal.lang = await service.language(asker) or "en"
    stdout.write(fill(service.kb.text("console.banner", terminal.lang),
                      title=service.kb.text("chat.report_title", terminal.lang)) + "\n\n")
    terminal.say(terminal.noted("services.greeting"))
    while True:
        line = read(PROMPT)
        if line is None:
            break
        typed = line.strip()
        if typed.lower() in QUIT_WORDS:
            break
        if typed:
            await terminal.take(typed)
    return terminal.asked


async def converse(service: Service, stdin: TextIO, stdout: TextIO,
               interactive: bool = True) -> int:
    """The terminal chat on ``stdin``/``stdout`` (see chat_loop)."""
    return await chat_loop(service, line_reader(stdin, stdout, interactive), stdout)
