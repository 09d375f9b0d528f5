"""asked.yml: how people ask for each report sentence, in their own words."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from citizenbot.core.knowledge import KnowledgeBaseError, default_directory, load_knowledge_base
from citizenbot.core.responder import Responder


def _with_asked(tmp_path: Path, extra: dict[str, list[str]]) -> Responder:
    """The shipped knowledge base with more ways of asking for some sentences."""
    directory = tmp_path / "kb"
    shutil.copytree(default_directory(), directory)
    path = directory / "asked.yml"
    asked = yaml.safe_load(path.read_text(encoding="utf-8"))
    for sentence_id, questions in extra.items():
        asked.setdefault(sentence_id, {}).setdefault("en", []).extend(questions)
    path.write_text(yaml.safe_dump(asked, allow_unicode=True), encoding="utf-8")
    return Responder(load_knowledge_base(directory))


def test_a_way_of_asking_leads_to_its_sentence(responder: Responder, tmp_path: Path) -> None:
    """A question that shares no word with the sentence reaches it through the ways people
    ask for it; the answer is still the report's own words."""
    question = "which are the hippest hangouts for spenders?"
    assert responder.respond(question).status != "answered"
    reply = _with_asked(tmp_path, {"I.1.s15": ["hippest hangouts for spenders"]}).respond(
        question)
    assert reply.status == "answered", reply.text
    assert "Old Commercial Ports" in reply.text


def test_asking_under_a_heading_does_not_make_it_speak_of_what_it_leaves_out(
        tmp_path: Path) -> None:
    """The 2021 people's livelihood item is a heading only: a way of asking for it that
    names schools must not make the heading look like an answer about schools."""
    reply = _with_asked(tmp_path, {"III.VII.s1": ["are new schools being built"]}).respond(
        "are new schools being built this year?")
    assert (reply.status, reply.refusal) == ("fallback", "abridged")


def test_no_sentence_is_made_to_speak_of_what_the_english_version_leaves_out(
        tmp_path: Path) -> None:
    """Schools are left out of the English version everywhere, not only under the heading
    where they would stand: a way of asking for the shopping districts line that mentions
    schools must not make that line an answer about schools."""
    reply = _with_asked(tmp_path, {"I.1.s15": ["are there new schools near the shopping "
                                               "streets for families"]}).respond(
        "are there new schools for families?")
    assert "Old Commercial Ports" not in reply.text
    assert reply.status != "answered", reply.text


def test_a_way_of_asking_never_names_what_the_sentence_does_not(tmp_path: Path) -> None:
    """The awards line does not name the Jingwei talent programme; a way of asking for it that
    does must not make it an answer about that programme."""
    reply = _with_asked(tmp_path, {"I.1.s26": ["how many Jingwei talent programme people"]}
                        ).respond("how many talents came through the jingwei programme")
    assert reply.status == "fallback", reply.text


def test_a_way_of_asking_for_a_sentence_the_report_lacks_is_a_problem(tmp_path: Path) -> None:
    directory = tmp_path / "kb"
    shutil.copytree(default_directory(), directory)
    (directory / "asked.yml").write_text("IX.9.s9:\n  en: [anything]\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as info:
        load_knowledge_base(directory)
    assert any("IX.9.s9" in str(p) and "not a sentence of the report" in str(p)
               for p in info.value.problems)
