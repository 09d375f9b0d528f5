"""Assemble the core from settings: the validated knowledge base and the responder."""

from __future__ import annotations

import dataclasses
import gc
from pathlib import Path

from citizenbot.config import Settings
from citizenbot.core.knowledge import KnowledgeBase, default_directory, load_knowledge_base
from citizenbot.core.responder import Responder


def load_kb(settings: Settings, directory: Path | None = None) -> KnowledgeBase:
    """The knowledge base named by the settings, with text overrides from settings applied.

    Raises KnowledgeBaseError listing every problem.
    """
    kb = load_knowledge_base(directory or settings.intents_dir)
    if not settings.fallback_text:
        return kb
    texts = dict(kb.texts)
    texts["services.fallback"] = {**texts["services.fallback"], **settings.fallback_text}
    return dataclasses.replace(kb, texts=texts)


# Responders already built in this process, by what they were built from. Loading and indexing
# the knowledge base takes about a second; a process that loads the same files again (a
# /reload that changed nothing, the command line called many times in one test run) reuses
# it. Any change to a file changes its modification time or size, and so the key.
_BUILT: dict[tuple[object, ...], Responder] = {}
_KEEP = 4


def _fingerprint(directory: Path) -> tuple[tuple[str, int, int], ...]:
    try:
        return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size)
                            for p in directory.iterdir() if p.is_file()))
    except OSError:
        return ()


def load_responder(settings: Settings, directory: Path | None = None) -> Responder:
    """A responder for the knowledge base named by the settings (raises KnowledgeBaseError)."""
    where = (directory or settings.intents_dir or default_directory()).resolve()
    key = (where, _fingerprint(where), settings.thresholds,
           tuple(sorted(settings.fallback_text.items())) if settings.fallback_text else ())
    built = _BUILT.get(key)
    if built is None:
        built = Responder(load_kb(settings, directory), settings.thresholds)
        if len(_BUILT) >= _KEEP:
            _BUILT.pop(next(iter(_BUILT)))
        _BUILT[key] = built
        settle()
    return built


def settle() -> None:
    """Take what was just built out of the garbage collector's full passes.

    Once loaded, the process holds about 62,000 objects the collector tracks, nearly all of
    them the knowledge base and its indexes, which live as long as the process. A full
    collection walks them all (about 16 ms on the benchmark machine) every few hundred
    questions, and that made the slowest answers of a run (25-40 ms, against about 6 ms once
    they are set aside). Objects set aside are still freed when nothing refers to them; only
    reference cycles among them would stay.
    """
    gc.collect()
    gc.freeze()
