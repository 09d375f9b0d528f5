"""The whole report can be found and quoted, in English and Chinese, with the words that
answer the question and the sentence that says what they are about; never a word added."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from citizenbot.core.knowledge import KnowledgeBase
from citizenbot.core.responder import Responder, plain_text

DATA = Path(__file__).parent / "data"


def report_sentences(kb: KnowledgeBase) -> list[str]:
    return [s.text for p in kb.report.passages for s in p.sentences]


def dev_questions() -> list[str]:
    questions = [json.loads(line)["q"] for path in sorted(DATA.glob("blind-*.jsonl"))
                 for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for path in sorted(DATA.glob("*.tsv")):
        questions += [line.split("\t")[0] for line in
                      path.read_text(encoding="utf-8").splitlines()[1:] if line.strip()]
    return questions


def test_every_quote_of_every_answer_stands_word_for_word_in_the_report(
        responder: Responder, kb: KnowledgeBase) -> None:
    sentences = report_sentences(kb)
    checked = 0
    for question in dev_questions():
        reply = responder.respond(question)
        for excerpt in reply.excerpts:
            assert any(excerpt.text in s for s in sentences), (question, excerpt.text)
            checked += 1
        if reply.status == "answered" and reply.kind in ("report", "search"):
            # What the user reads is the pieces, joined by spaces and "…" only.
            rest = reply.text
            for excerpt in reply.excerpts:
                rest = rest.replace(excerpt.text, "", 1)
            assert re.fullmatch(r"[\s…]*", rest), (question, rest)
    assert checked > 300


@pytest.mark.parametrize(("question", "words", "topic"), [
    ("Which manufacturing industries are they clustering together?",
     "transportation equipment, power equipment",
     "Fourth, speed up the construction of intelligent manufacturing industry highland."),
    ("what is planned for the cluster development of power equipment",
     "transportation equipment, power equipment",
     "Fourth, speed up the construction of intelligent manufacturing industry highland."),
    ("How many commercial buildings over 5000 square meters are there?",
     "90 commercial buildings", "Economic structure has been optimized."),
])
def test_a_detail_comes_with_the_sentence_that_names_its_point(
        responder: Responder, question: str, words: str, topic: str) -> None:
    reply = responder.respond(question)
    assert reply.status == "answered", reply.text
    assert words in reply.text
    assert topic in reply.text


def test_the_ways_of_asking_for_a_long_sentence_point_to_its_clause(
        responder: Responder) -> None:
    """The guiding ideology is one sentence of 1,400 characters: the clause shown is the one
    that the ways of asking about balancing development and security point to, not its
    opening list of theories."""
    reply = responder.respond("Does the plan talk about balancing development with security?")
    assert reply.status == "answered", reply.text
    assert "coordinate development and safety" in reply.text


def test_a_long_sentence_is_cut_to_the_clauses_asked_about(responder: Responder) -> None:
    reply = responder.respond("What is the main theme of the district's 14th five-year plan?")
    assert "promoting high-quality development as the theme" in reply.text
    assert reply.text.startswith("Guiding ideology")  # what the clauses are about
    assert "…" in reply.text
    assert len(reply.text) <= 700


@pytest.mark.parametrize(("question", "words"), [
    ("what are the fundamental purpose and driving force in the guiding ideology",
     "meeting people's growing needs for a better life as the fundamental purpose"),
    ("How is the district divided into spatial areas in the plan?",
     "northern core area, the central thriving area and the southern ecological area"),
    ("What counts as new infrastructure?", "5G base station construction, ultra-high voltage"),
    ("Which big regional strategies does Shizhong want to contribute to?",
     "construction of Shandong Peninsula urban agglomeration"),
    ("what are the four guides", "party building, strategy, innovation and system"),
    ("what are the 4 guides", "party building, strategy, innovation and system"),  # figures
    ("what is 5 Jinan", "Science and creativity Jinan"),
    ("What's meant by an innovation platform of platforms?",
     "innovation platform that gathers innovation platforms"),
    ("How strong is high-tech industry there compared with the rest of Jinan?",
     "ranking first in the city"),
    # "trying hardest" says how keen, not what.
    ("What kinds of companies are they trying hardest to attract?", "leading enterprises"),
    # "opened" is not "opening up".
    ("Which new tech office buildings have opened?", "Shandong Digital Industry Building"),
    ("What were total imports and exports over the last five years?",
     "total import and export volume 25.8 billion US dollars"),
])
def test_sentences_no_intent_names_are_found_and_quoted(responder: Responder, question: str,
                                                        words: str) -> None:
    reply = responder.respond(question)
    assert reply.status == "answered", reply.text
    assert words in reply.text


@pytest.mark.parametrize(("question", "words"), [
    ("规上服务业企业有多少家", "188 service enterprises above designated size"),
    ("十四五 指导思想 主题是什么", "promoting high-quality development as the theme"),
    ("新基建包括哪些领域", "5G base station construction"),
    ("山东新金融产业园的基金管理规模", "fund management scale has topped 180 billion yuan"),
    ("四个引领是什么", "party building, strategy, innovation and system"),
    ("過去五年改革方面怎麼說", "focus on reform and advance efficiency"),
    # Chatter around the term ("often hear in the news", "what exactly") is not asked.
    ("经常在新闻里听到“五个济南”，到底是哪五个？", "ecological Jinan"),
    # 第几项 asks which item, not for a figure.
    ("十四五的重点任务里，以人民为中心是第几项？", "Eighth"),
])
def test_chinese_questions_reach_english_sentences_through_the_glossary(
        responder: Responder, kb: KnowledgeBase, question: str, words: str) -> None:
    reply = responder.respond(question)
    assert reply.status == "answered", reply.text
    assert words in reply.text
    assert "出处" in plain_text(reply, kb)  # Chinese labels around the English quote


def test_a_vague_question_offers_two_or_three_choices_and_a_way_out(
        responder: Responder, kb: KnowledgeBase) -> None:
    reply = responder.respond("park")
    assert reply.status == "clarify"
    assert 2 <= len(reply.options) <= 3
    assert reply.handover
    assert "/topics" in plain_text(reply, kb)


def test_did_you_mean_never_offers_a_single_choice(responder: Responder) -> None:
    for question in dev_questions():
        reply = responder.respond(question)
        if reply.status == "clarify":
            assert 2 <= len(reply.options) <= 3, question


@pytest.mark.parametrize("question", [
    "where is the tax bureau of shizhong district?", "老旧小区改造",
])
def test_questions_that_once_got_one_option_get_an_answer_or_a_refusal(
        responder: Responder, question: str) -> None:
    assert responder.respond(question).status in ("answered", "fallback")


def test_quotes_stand_in_reading_order_each_under_its_own_heading(
        responder: Responder, kb: KnowledgeBase) -> None:
    order = {s.id: n for n, s in enumerate(s for p in kb.report.passages for s in p.sentences)}
    for question in dev_questions():
        reply = responder.respond(question)
        if reply.status == "answered" and reply.kind in ("report", "search"):
            positions = [order[i] for i in reply.sentence_ids]
            assert positions == sorted(positions), question


def test_more_goes_on_into_the_next_paragraph_of_the_review(responder: Responder) -> None:
    from citizenbot.core.followup import Previous

    question = "what did the district achieve over the past five years"
    first = responder.respond(question)
    previous = Previous(question, "en", first.intent_id, ("I.1.s26",))
    more = responder.respond("more", previous=previous)
    assert more.status == "answered"
    assert more.sentence_ids[0].startswith("I.2")


def test_talent_from_china_and_overseas_is_the_international_and_domestic_orientation(
        responder: Responder) -> None:
    """"China and overseas" is the report's "international and domestic areas" of talent
    recruitment (a glossary paraphrase), not the review's talent achievements."""
    reply = responder.respond("is the talent drive aimed at china and overseas both?")
    assert reply.status == "answered", reply.text
    assert "Oriented at both the international and domestic areas" in reply.text


@pytest.mark.parametrize(("question", "words"), [
    ("Our project has run into practical problems. How will the government help?",
     "solve the practical problems of project implementation"),
    ("how will the government help investors with formalities and paperwork?",
     "acting on behalf"),
])
def test_the_word_help_alone_does_not_name_the_cadres_mechanism(
        responder: Responder, question: str, words: str) -> None:
    """"Help companies" was a glossary paraphrase of "one hundred cadres unite with one
    hundred enterprises", so every question about government help got the cadres; the help
    asked for is in the project assistance sentences."""
    reply = responder.respond(question)
    assert reply.status == "answered", reply.text
    assert words in reply.text


def test_a_shift_away_from_services_is_the_proportion_of_the_three_industries(
        responder: Responder) -> None:
    """Everyday words for the sector mix (a glossary paraphrase) reach the review's line on
    the proportion of the three industries."""
    reply = responder.respond("is there a shift away from services in the economy?")
    assert reply.status == "answered", reply.text
    assert "0.5:16.8:82.7" in reply.text
