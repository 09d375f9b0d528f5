"""Chat messages as HTML: plain text escaped into spans, packed under a length limit.

Telegram's HTML parse mode wants every "<", ">" and "&" of the text escaped and a message of at
most 4096 characters; a message cut in the middle of a tag or an entity is refused. Nothing here
knows about Telegram beyond those two rules.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias

MAX_MESSAGE: Final = 4096


@dataclass(frozen=True)
class Span:
    """A run of plain text, shown inside one HTML tag ("" for none)."""

    text: str
    tag: str = ""


Block: TypeAlias = Sequence[Span]


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def render_span(span: Span) -> str:
    escaped = html.escape(span.text, quote=False)
    return f"<{span.tag}>{escaped}</{span.tag}>" if span.tag and escaped else escaped


def split_html(blocks: Sequence[Block], limit: int = MAX_MESSAGE,
               sep: str = "\n\n") -> list[str]:
    """`blocks` rendered as HTML and packed into messages of at most `limit` UTF-16 units.

    Blocks are separated by `sep`. A message never ends inside a tag or an entity: text too long
    for one message is cut between words (inside a word only if it has to be) and every piece is
    wrapped in its span's tag again. Tags are counted too, so each message is safely short.
    """
    messages: list[str] = []
    current, units = "", 0
    for block in blocks:
        joiner = sep
        for atom in _atoms(block, limit):
            size = utf16_len(atom)
            if current and units + utf16_len(joiner) + size <= limit:
                current += joiner + atom
                units += utf16_len(joiner) + size
            else:
                if current:
                    messages.append(current)
                current, units = atom, size
            joiner = ""
    if current:
        messages.append(current)
    return messages


def _atoms(block: Block, limit: int) -> Iterator[str]:
    for span in block:
        rendered = render_span(span)
        if not rendered:
            continue
        if utf16_len(rendered) <= limit:
            yield rendered
            continue
        overhead = utf16_len(render_span(Span("x", span.tag))) - 1
        for piece in _cut(span.text, limit - overhead):
            yield render_span(Span(piece, span.tag))


def _cut(text: str, budget: int) -> Iterator[str]:
    """Pieces of `text` whose escaped form fits `budget`, cut after whitespace when possible."""
    if budget < 8:
        raise ValueError(f"a message limit of {budget} leaves no room for text")

    def cost(s: str) -> int:
        return utf16_len(html.escape(s, quote=False))

    piece, used = "", 0
    for word in re.findall(r"\S+\s*|\s+", text):
        size = cost(word)
        if used + size <= budget:
            piece, used = piece + word, used + size
            continue
        if piece:
            yield piece
            piece, used = "", 0
        if size <= budget:
            piece, used = word, size
            continue
        for char in word:  # a "word" longer than a whole message
            size = cost(char)
            if used + size > budget:
                yield piece
                piece, used = "", 0
            piece, used = piece + char, used + size
    if piece:
        yield piece
