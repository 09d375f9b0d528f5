"""The conversation in a terminal: same responder, same log, no token and no network."""

from __future__ import annotations

import time
from typing import TextIO

from citizenbot.intents import KnowledgeBase
from citizenbot.journal import EnquiryLog
from citizenbot.responder import Reply, Responder, plain_text
from citizenbot.store import Enquiry

PROMPT = "you> "
QUIT_WORDS = frozenset({"quit", "exit", "/quit", "/exit", "退出"})


def _banner(kb: KnowledgeBase) -> str:
    return (
        f"citizenbot — {kb.report.title} (Shizhong District, Jinan)\n"
        "Ask in English or Chinese. Type a number to pick a suggestion, 'quit' to leave.\n"
    )


async def chat(responder: Responder, store: EnquiryLog | None, stdin: TextIO, stdout: TextIO,
               interactive: bool = True) -> int:
    """Run the terminal chat until end of input or 'quit'. Returns the number of questions."""
    kb = responder.kb
    stdout.write(_banner(kb) + "\n")
    if kb.has_text("services.greeting"):
        stdout.write(kb.text("services.greeting", "en") + "\n\n")
    asked = 0
    last: Reply | None = None
    while True:
        if interactive:
            stdout.write(PROMPT)
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        question = line.strip()
        if question.lower() in QUIT_WORDS:
            break
        if not question:
            continue
        started = time.perf_counter()
        if last is not None and last.options and question.isdigit() \
                and 1 <= int(question) <= len(last.options):
            option = last.options[int(question) - 1]
            reply = responder.answer_intent(option.intent_id, last.language, question=question)
        else:
            reply = responder.respond(question)
        latency = (time.perf_counter() - started) * 1000
        if store is not None:
            await store.log_enquiry(Enquiry(
                transport="console", user_hash="", chat_type="console", language=reply.language,
                question=question, status=reply.status, intent=reply.intent_id,
                score=reply.score, latency_ms=latency,
            ))
        asked += 1
        last = reply
        stdout.write(plain_text(reply, kb) + "\n\n")
        stdout.flush()
    return asked
