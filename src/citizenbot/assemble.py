"""Assemble the core from settings: the validated knowledge base and the responder."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from citizenbot.config import Settings
from citizenbot.core.knowledge import KnowledgeBase, load_knowledge_base
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


def load_responder(settings: Settings, directory: Path | None = None) -> Responder:
    return Responder(load_kb(settings, directory), settings.thresholds)
