"""Interface texts as a checked schema: which texts each part of citizenbot uses, and which
{placeholders} it fills into each.

Every feature declares its texts (``TEXTS = declare("texts.telegram.yml", {...})``); a door
joins the declarations of its features with ``|`` and checks them against the knowledge base at
start (`require`), `/reload` checks the same, and `citizenbot validate` checks the declarations
of every door, so that validate reports whatever would stop any of them. A text is checked in
every language: present, using no placeholder its code does not fill in (a ``{cuont}`` typo),
and using the same placeholders in English and Chinese. `fill` is the one way to put values into
a text, and it refuses a placeholder it was not given rather than show ``{cuont}`` to a user.
A text that depends on a count is declared with `plural`: ``key.one`` and ``key.other``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from citizenbot.core.knowledge import LANGS, KnowledgeBase, KnowledgeBaseError, Problem

PLACEHOLDER: Final = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

Texts = Mapping[str, Mapping[str, str]]  # key -> language -> text, as KnowledgeBase.texts


class TextError(ValueError):
    """A text asks for a value its code does not give; `citizenbot validate` reports it."""


def fill(template: str, **values: object) -> str:
    """``template`` with each ``{name}`` replaced by ``values[name]``.

    Values a text does not use are fine (a translation may leave one out); a placeholder
    without a value raises TextError.
    """

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            given = ", ".join(f"{{{v}}}" for v in sorted(values)) or "no placeholders"
            raise TextError(f"the text {template[:60]!r} uses {{{name}}}, but its code gives "
                            f"{given}")
        return str(values[name])

    return PLACEHOLDER.sub(value, template)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters with one "…" where it was cut; dots or an
    ellipsis already at the cut go, so that nobody reads "...…"."""
    if len(text) <= limit:
        return text
    return text[:limit - 1].rstrip(" .。…") + "…"


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@dataclass(frozen=True)
class TextSchema:
    """Text keys -> the placeholders the code fills into that text, and the file it lives in."""

    texts: Mapping[str, frozenset[str]] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)

    def __or__(self, other: TextSchema) -> TextSchema:
        merged = dict(self.texts)
        for key, names in other.texts.items():
            merged[key] = merged.get(key, frozenset()) | names
        return TextSchema(merged, {**self.files, **other.files})

    def __contains__(self, key: object) -> bool:
        return key in self.texts

    def __len__(self) -> int:
        return len(self.texts)

    def problems(self, texts: Texts) -> list[Problem]:
        """Everything wrong with ``texts`` for this schema, in every language."""
        found: list[Problem] = []
        for key in sorted(self.texts):
            file = self.files.get(key, "texts.yml")
            entry = texts.get(key)
            if entry is None:
                found.append(Problem(file, "missing the text", field=key))
                continue
            allowed = self.texts[key]
            used: dict[str, set[str]] = {}
            for lang in LANGS:
                text = entry.get(lang)
                if not text:
                    found.append(Problem(file, f"needs a non-empty '{lang}' text", field=key))
                    continue
                used[lang] = placeholders(text)
                for name in sorted(used[lang] - allowed):
                    offer = (", ".join(f"{{{n}}}" for n in sorted(allowed))
                             or "no placeholders")
                    found.append(Problem(
                        file, f"the {lang} text uses {{{name}}}, which is never filled in "
                              f"(this text takes {offer})", field=key))
            for name in sorted(allowed):
                having = [lang for lang in used if name in used[lang]]
                lacking = [lang for lang in used if name not in used[lang]]
                if having and lacking:
                    found.append(Problem(
                        file, f"the {having[0]} text uses {{{name}}} but the {lacking[0]} text "
                              "does not", field=key))
        return found


def declare(file: str, texts: Mapping[str, Iterable[str]]) -> TextSchema:
    """The texts of one feature: key -> the placeholder names its code fills in; ``file`` is
    the texts file they live in (named in problems)."""
    return TextSchema({key: frozenset(names) for key, names in texts.items()},
                      dict.fromkeys(texts, file))


def plural(key: str, *names: str) -> dict[str, tuple[str, ...]]:
    """The declaration of a text that depends on a count: ``key.one`` (for 1) and
    ``key.other``, both taking ``names`` (the count among them)."""
    return {f"{key}.one": names, f"{key}.other": names}


def plural_key(key: str, count: int) -> str:
    """Which of a plural text's forms fits ``count``."""
    return f"{key}.{'one' if count == 1 else 'other'}"


def require(kb: KnowledgeBase, schema: TextSchema) -> None:
    """Raise KnowledgeBaseError listing every problem of ``kb``'s texts for ``schema``."""
    found = schema.problems(kb.texts)
    if found:
        raise KnowledgeBaseError(found)
