"""A message can continue the last answer: more of the same passage, the same answer in the
other language, or a fragment read with the last question."""

from __future__ import annotations

from collections import Counter

import pytest

from citizenbot.core.followup import FollowUp, Previous
from citizenbot.core.knowledge import KnowledgeBase
from citizenbot.core.responder import Reply, Responder


def previous_of(reply: Reply, question: str) -> Previous:
    return Previous(question, reply.language, reply.intent_id, reply.sentence_ids)


def test_tell_me_more_quotes_the_next_sentences_of_the_same_passage(
        responder: Responder, kb: KnowledgeBase) -> None:
    question = "what is the financial industry park"
    first = responder.respond(question)
    more = responder.respond("tell me more", previous=previous_of(first, question))
    assert (more.status, more.followup) == ("answered", FollowUp.MORE)
    assert more.sentence_ids and not set(more.sentence_ids) & set(first.sentence_ids)
    sentences = {s.id: s for p in kb.report.passages for s in p.sentences}
    # The passage the answer quoted most (the review's lines on the park), not a line of
    # another point quoted beside them.
    main, _ = Counter(sentences[i].passage_id for i in first.sentence_ids).most_common(1)[0]
    assert all(sentences[i].passage_id == main for i in more.sentence_ids)
    for excerpt in more.excerpts:  # verbatim and cited, like every answer
        assert any(excerpt.text in s.text for s in sentences.values())
    assert more.source_label


def test_more_in_chinese_and_at_the_end_of_a_passage(responder: Responder) -> None:
    first = responder.respond("iTOT是什么")
    previous = previous_of(first, "iTOT是什么")
    more = responder.respond("更多", previous=previous)
    assert more.followup is FollowUp.MORE
    # A footnote is one sentence: there is nothing more, and the reply says so.
    if not more.sentence_ids:
        assert (more.status, more.refusal) == ("fallback", "no_more")
        assert "报告" in more.text


def test_in_chinese_repeats_the_last_answer_with_chinese_labels(responder: Responder) -> None:
    question = "what is the 353 strategy"
    first = responder.respond(question)
    again = responder.respond("用中文", previous=previous_of(first, question))
    assert again.followup is FollowUp.CHINESE
    assert again.language == "zh"
    assert again.sentence_ids == first.sentence_ids
    back = responder.respond("in English please", previous=previous_of(again, question))
    assert back.language == "en" and back.followup is FollowUp.ENGLISH


def test_a_fragment_is_read_with_the_last_question_when_it_does_not_stand_alone(
        responder: Responder) -> None:
    question = "what is the shandong new financial industry park"
    first = responder.respond(question)
    alone = responder.respond("and its phase III?")
    follow = responder.respond("and its phase III?", previous=previous_of(first, question))
    assert follow.status == "answered"
    assert "Phase III" in follow.text
    assert alone.status != "answered" or "Phase III" in alone.text


def test_without_a_last_answer_the_same_words_are_an_ordinary_question(
        responder: Responder) -> None:
    reply = responder.respond("tell me more")
    assert reply.followup is None


def test_in_chinese_after_tell_me_more_repeats_the_continuation(responder: Responder) -> None:
    question = "what is the financial industry park"
    first = responder.respond(question)
    more = responder.respond("tell me more", previous=previous_of(first, question))
    shown = Previous(question, more.language, more.intent_id, more.sentence_ids)
    again = responder.respond("用中文", previous=shown)
    assert again.language == "zh"
    assert again.sentence_ids == more.sentence_ids
    assert again.text == more.text


def test_a_bare_number_or_emoji_is_not_a_question(responder: Responder) -> None:
    for message, refusal in (("3", "no_choice"), ("42", "no_choice"), ("🙂", "not_in_report"),
                             ("？", "not_in_report")):
        reply = responder.respond(message)
        assert (reply.status, reply.refusal) == ("fallback", refusal), message
    assert "no list" in responder.respond("3").text


@pytest.mark.parametrize("question", ["tell me more", "更多"])
def test_more_with_nothing_before_says_so(responder: Responder, question: str) -> None:
    reply = responder.respond(question)
    assert (reply.status, reply.refusal) == ("fallback", "no_previous")
    assert "Ask a question first" in reply.text or "请先提一个问题" in reply.text
