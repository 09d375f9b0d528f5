"""Questions about the report's numbered lists as lists: how many, which is the second, the
last; answered with the introducing sentence and the items asked for, verbatim. And the
checks validate makes on lists.yml and everyday.yml, the two newest word lists."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from citizenbot.core.knowledge import KnowledgeBase, default_directory
from citizenbot.core.responder import Responder
from harness import Cli

KEY_TASKS_INTRO = "the Outline proposes key tasks"


def assert_quotes_only(responder: Responder, question: str, wanted: list[str],
                       not_wanted: list[str]) -> None:
    """The question is answered with every wanted item and none of the others."""
    reply = responder.respond(question)
    assert reply.status == "answered", reply.text
    for phrase in wanted:
        assert phrase in reply.text
    for phrase in not_wanted:
        assert phrase not in reply.text


@pytest.mark.parametrize(("question", "wanted", "not_wanted"), [
    ("what's the second of the key tasks in the outline?",
     ["Second, construct a new pattern"], ["First, build", "Third,"]),
    ("And the last key task of the 14th five-year plan?",
     ["Eighth, firmly practice the people-centered"], ["Seventh,"]),
    ("十四五纲要的第五项重点任务讲的是什么", ["Fifth, build an all-round open"], ["Sixth,"]),
])
def test_an_item_asked_by_its_position_is_quoted_with_its_list(
        responder: Responder, question: str, wanted: list[str], not_wanted: list[str]) -> None:
    reply = responder.respond(question)
    assert reply.status == "answered", reply.text
    assert KEY_TASKS_INTRO in reply.text  # says what list the item belongs to
    for phrase in wanted:
        assert phrase in reply.text
    for phrase in not_wanted:
        assert phrase not in reply.text


@pytest.mark.parametrize(("question", "first", "last"), [
    ("十四五纲要一共有几项重点任务？", "First, build a high-level", "Eighth, firmly practice"),
    ("how many key tasks does the outline set out", "First, build a high-level",
     "Eighth, firmly practice"),
    ("How many parts does the work arrangement for 2021 have?",
     "(I) Insist on the principle", "(VII) Insist on the advancement"),
    ("what are the industry highlands the district is building?",
     "First, speed up the construction of modern financial industry highland",
     "Fifth, speed up the construction of high-end commercial and trade industry highland"),
])
def test_how_many_gets_the_whole_list(responder: Responder, question: str, first: str,
                                      last: str) -> None:
    reply = responder.respond(question)
    assert reply.status == "answered", reply.text
    assert first in reply.text and last in reply.text


def test_the_fourth_aspect_of_2021_is_its_fourth_heading(responder: Responder) -> None:
    reply = responder.respond("what is the fourth aspect of the 2021 work?")
    assert "(IV) Insist on reform and innovation" in reply.text
    assert "(III)" not in reply.text and "(V)" not in reply.text


@pytest.mark.parametrize(("question", "wanted", "not_wanted"), [
    ("Which of the key tasks deals with the natural environment?",
     ["Sixth, present Shizhong district as the model of lucid water"], ["Fifth,", "Seventh,"]),
    ("which key task is about rural revitalization", ["Fourth, build a Shizhong benchmark"],
     ["Third,", "Fifth,"]),
    ("十四五重点任务中哪一项是关于乡村振兴的？", ["Fourth, build a Shizhong benchmark"], ["Fifth,"]),
    ("which one of the seven aspects for 2021 deals with the environment",
     ["(VI) Insist on environmental governance"], ["(V)", "(VII)"]),
    # The item's own line does not name finance; the line under it does, and comes along.
    ("Which of the key tasks covers the financial industry?",
     ["Third, accelerate the development of modern industrial system", "modern finance"],
     ["Fourth,"]),
])
def test_which_item_is_about_something_is_that_item_not_a_heading_only_refusal(
        responder: Responder, question: str, wanted: list[str], not_wanted: list[str]) -> None:
    assert_quotes_only(responder, question, wanted, not_wanted)


@pytest.mark.parametrize(("question", "wanted", "not_wanted"), [
    ("What are the first two of the eight key tasks in the Outline?",
     ["First, build a high-level", "Second, construct a new pattern"], ["Third,"]),
    ("what are the last two key tasks", ["Seventh, forge", "Eighth, firmly practice"],
     ["Sixth,"]),
    ("十四五的前三项重点任务是什么", ["First, build", "Second,", "Third, accelerate"], ["Fourth,"]),
])
def test_the_first_or_last_few_items_are_those_items(
        responder: Responder, question: str, wanted: list[str], not_wanted: list[str]) -> None:
    assert_quotes_only(responder, question, wanted, not_wanted)


def test_which_particulars_under_a_heading_only_item_are_still_refused(
        responder: Responder) -> None:
    reply = responder.respond(
        "Which roads or subway projects are planned for 2021 under the urban construction item?")
    assert reply.status == "fallback" and reply.refusal == "abridged", reply.text


@pytest.mark.parametrize("question", [
    "What are the key tasks for attracting talent?",  # about talent, not the list
    "which industry ranks first in the city",  # "first" without a list
])
def test_a_question_that_only_shares_a_list_word_is_not_answered_with_the_list(
        responder: Responder, question: str) -> None:
    reply = responder.respond(question)
    assert "Eighth, firmly practice" not in reply.text
    assert KEY_TASKS_INTRO not in reply.text


def test_a_list_of_another_place_is_still_another_place(responder: Responder) -> None:
    reply = responder.respond("How many key tasks does Lixia District's outline have?")
    assert (reply.status, reply.refusal) == ("fallback", "other_place")


def test_the_lists_are_found_in_the_report(kb: KnowledgeBase) -> None:
    sizes = {rl.id: len(rl.items) for rl in kb.lists.lists}
    assert sizes == {"key-tasks-14th-plan": 8, "work-2021": 7, "highlands-2021": 5}


def test_validate_refuses_a_list_the_report_does_not_introduce(tmp_path: Path,
                                                               cli: Cli) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(default_directory(), kb)
    lists = kb / "lists.yml"
    lists.write_text(lists.read_text(encoding="utf-8").replace(
        "intro: the Outline proposes key tasks", "intro: the Outline proposes nine wishes"),
        encoding="utf-8")
    result = cli("validate", str(kb))
    assert result.code == 1
    assert "lists.yml" in result.out and "the Outline proposes nine wishes" in result.out


def test_validate_refuses_an_everyday_word_that_is_the_reports_own(tmp_path: Path,
                                                                   cli: Cli) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(default_directory(), kb)
    everyday = kb / "everyday.yml"
    everyday.write_text(everyday.read_text(encoding="utf-8")
                        + "  attract: [introduce]\n  teleport: [beam]\n"
                        + "  opening-up: [openness]\n", encoding="utf-8")
    result = cli("validate", str(kb))
    assert result.code == 1
    assert "everyday.yml, en.attract: 'introduce' is itself a word of the report" in result.out
    assert "everyday.yml, en.teleport: not a word of the report" in result.out
    # Matched by its stem, "openness" would be the report's "open".
    assert "everyday.yml, en.opening-up: 'openness' is a form of a word of the report" in (
        result.out)


def test_how_many_of_a_left_out_topic_is_not_how_many_aspects(responder: Responder) -> None:
    """"几个" counts elderly canteens, which the English version leaves out, not the seven
    aspects of the 2021 work."""
    reply = responder.respond("今年区里养老方面有什么新举措？老年食堂会不会多建几个")
    assert (reply.status, reply.refusal) == ("fallback", "abridged"), reply.text
    assert responder.respond("2021年工作分几个方面？").status == "answered"


def test_a_whole_list_says_how_many_and_is_not_called_a_heading_only_part(
        responder: Responder) -> None:
    reply = responder.respond("how many key tasks are there and what is the third?")
    assert "The report lists 8" in reply.caveat
    assert "heading" not in reply.caveat and not reply.handover


def test_one_item_asked_by_its_position_is_that_item(responder: Responder) -> None:
    reply = responder.respond("what is the third key task?")
    assert "Third, accelerate the development of modern industrial system" in reply.text
    assert "Fourth," not in reply.text


def test_the_main_areas_of_the_district_are_still_the_list(responder: Responder) -> None:
    """"Main" and "the district" say whose list and how it is called, not something else
    asked besides it."""
    reply = responder.respond("How many main areas of work will the district have in 2021?")
    assert reply.status == "answered", reply.text
    assert "(I) Insist on the principle" in reply.text and "(VII)" in reply.text


def test_an_item_asked_for_with_its_own_words(responder: Responder) -> None:
    """"What's the first of the 2021 priorities - is industry at the top?": "industry" is
    the first item's own word, not a question besides the list."""
    reply = responder.respond("What's the first of the 2021 priorities - is industry at the top?")
    assert reply.status == "answered", reply.text
    assert "(I) Insist on the principle of boosting the district through industry" in reply.text
    assert "(II)" not in reply.text


def test_an_item_asked_for_by_its_number(responder: Responder) -> None:
    """"Section two", "part IV": an item by its number, like "the second"."""
    assert_quotes_only(responder, "What is section two of the 2021 work arrangement about?",
                       ["(II) Insist on tackling project"], ["(I) Insist", "(III) Make"])
    assert_quotes_only(responder, "what is part iv of the 2021 work arrangement",
                       ["(IV) Insist on reform and innovation"], ["(II) Insist", "(V) Insist"])


def test_the_list_whose_context_the_question_names_most(responder: Responder) -> None:
    """"Priority" and "plan" fit the outline's key tasks too, but "the 2021 plan" names the
    2021 work: its first aspect, not a refusal for 2021 or the outline's first task."""
    reply = responder.respond("What's the very first priority area of the 2021 plan?")
    assert reply.status == "answered", reply.text
    assert "boosting the district through industry" in reply.text


def test_an_item_of_the_2021_work_by_position(responder: Responder) -> None:
    """"The last item on the mayor's list of things to do in 2021": "item" and "things to
    do" name the 2021 work's seven aspects; the seventh answers."""
    reply = responder.respond("What's the last item on the mayor's list of things to do "
                              "in 2021?")
    assert reply.status == "answered", reply.text
    assert "Insist on the advancement of people's livelihood" in reply.text
