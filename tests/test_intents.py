"""Loading the knowledge base: the shipped one is complete; every kind of mistake is reported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from citizenbot.core.knowledge import AREAS, KnowledgeBase, KnowledgeBaseError, load_knowledge_base

GOOD_INTENT = """\
area: business
intents:
  - id: tax-relief
    title: {en: Tax relief, zh: 减税降费}
    examples:
      en: [any tax cuts for my company]
      zh: [有减税政策吗]
    answer:
      quote: 'Moreover, implement the relevant policies on tax reduction and fee reduction, and realize the policy of "one stop" handling.'
    related: [greeting]
"""
SMALLTALK = """\
area: smalltalk
intents:
  - id: greeting
    title: {en: Hello, zh: 你好}
    examples: {en: [hello there], zh: [你好]}
    answer: {service: greeting}
"""


def problems_of(directory: Path) -> list[str]:
    with pytest.raises(KnowledgeBaseError) as info:
        load_knowledge_base(directory)
    return [str(p) for p in info.value.problems]


def test_the_shipped_knowledge_base_is_valid_and_covers_every_area(kb: KnowledgeBase) -> None:
    assert {i.area for i in kb.intents} == set(AREAS)
    assert len(kb.intents) >= 50


def test_every_topic_intent_has_enough_real_examples(kb: KnowledgeBase) -> None:
    for intent in kb.intents:
        assert len(intent.examples_en) >= 8, intent.id
        assert len(intent.examples_zh) >= 4, intent.id


def test_every_excerpt_stands_verbatim_in_the_report_and_is_short(kb: KnowledgeBase) -> None:
    full = " ".join(p.text for p in kb.report.passages)
    for intent in kb.intents:
        if intent.kind != "report":
            continue
        assert intent.excerpts, intent.id
        for excerpt in intent.excerpts:
            assert excerpt.text in full
        assert sum(len(e.text) for e in intent.excerpts) <= 700, intent.id


def test_a_good_small_knowledge_base_loads(make_kb: Callable[..., Path]) -> None:
    kb = load_knowledge_base(make_kb(business=GOOD_INTENT, smalltalk=SMALLTALK))
    intent = kb.intent("tax-relief")
    assert intent is not None
    assert intent.excerpts[0].passage_id == "III.VI"
    assert intent.excerpts[0].label_en == "Part III (Work arrangement in 2021), item (VI)"


def test_unknown_keys_are_named_with_file_intent_and_field(make_kb: Callable[..., Path]) -> None:
    broken = GOOD_INTENT.replace("    related:", "    answr: x\n    related:")
    found = problems_of(make_kb(business=broken, smalltalk=SMALLTALK))
    assert any("business.yml:3" in p and "intent 'tax-relief'" in p and "answr" in p
               for p in found), found


def test_duplicate_ids_across_files(make_kb: Callable[..., Path]) -> None:
    found = problems_of(make_kb(business=GOOD_INTENT, plans=GOOD_INTENT.replace(
        "area: business", "area: plans").replace("any tax cuts", "tax cuts please").replace(
        "有减税政策吗", "减税"), smalltalk=SMALLTALK))
    assert any("duplicate id" in p and "tax-relief" in p for p in found), found


def test_a_quote_that_is_not_in_the_report(make_kb: Callable[..., Path]) -> None:
    invented = GOOD_INTENT.replace("tax reduction and fee reduction", "free money for everyone")
    found = problems_of(make_kb(business=invented, smalltalk=SMALLTALK))
    assert any("answer.quote" in p and "not found word for word" in p for p in found), found


def test_a_quote_cut_mid_sentence(make_kb: Callable[..., Path]) -> None:
    cut = GOOD_INTENT.replace(', and realize the policy of "one stop" handling.', "")
    found = problems_of(make_kb(business=cut, smalltalk=SMALLTALK))
    assert any("whole sentences" in p for p in found), found


def test_dangling_passage_and_related_ids(make_kb: Callable[..., Path]) -> None:
    dangling = GOOD_INTENT.replace(
        "      quote: 'Moreover, implement the relevant policies on tax reduction and fee "
        "reduction, and realize the policy of \"one stop\" handling.'",
        "      passage: III.IX").replace("[greeting]", "[no-such-intent]")
    found = problems_of(make_kb(business=dangling, smalltalk=SMALLTALK))
    assert any("no passage 'III.IX'" in p for p in found), found
    assert any("no intent 'no-such-intent'" in p and "related" in p for p in found), found


def test_an_intent_without_examples(make_kb: Callable[..., Path]) -> None:
    empty = GOOD_INTENT.replace("      en: [any tax cuts for my company]\n", "").replace(
        "      zh: [有减税政策吗]\n", "")
    found = problems_of(make_kb(business=empty, smalltalk=SMALLTALK))
    assert any("has no examples" in p for p in found), found


def test_the_same_example_under_two_intents(make_kb: Callable[..., Path]) -> None:
    twice = SMALLTALK.replace("[hello there]", "[\"Any tax cuts for my company?\"]")
    found = problems_of(make_kb(business=GOOD_INTENT, smalltalk=twice))
    assert any("also under intent" in p for p in found), found


def test_broken_yaml_names_the_file_and_line(make_kb: Callable[..., Path]) -> None:
    found = problems_of(make_kb(business="area: business\nintents:\n  - id: [unclosed\n",
                                smalltalk=SMALLTALK))
    assert any(p.startswith("business.yml:") and "not valid YAML" in p for p in found), found


def test_all_problems_are_reported_at_once(make_kb: Callable[..., Path]) -> None:
    bad = GOOD_INTENT.replace("free", "x").replace("tax reduction", "tax holiday").replace(
        "[greeting]", "[nowhere]")
    found = problems_of(make_kb(business=bad, smalltalk=SMALLTALK.replace("greeting}",
                                                                          "missing}")))
    assert len(found) >= 3


def test_missing_directory_and_missing_texts(tmp_path: Path,
                                             make_kb: Callable[..., Path]) -> None:
    assert "does not exist" in problems_of(tmp_path / "nowhere")[0]
    found = problems_of(make_kb(texts=None, business=GOOD_INTENT, smalltalk=SMALLTALK))
    assert any("texts.yml" in p and "missing" in p for p in found), found


def test_every_shipped_intent_has_a_button_label_that_fits_a_phone(kb: KnowledgeBase) -> None:
    for intent in kb.intents:
        assert intent.label_en and len(intent.label_en) <= 32, intent.id
        assert intent.label_zh and len(intent.label_zh) <= 16, intent.id


def test_a_long_title_needs_a_short_label(make_kb: Callable[..., Path]) -> None:
    long_title = GOOD_INTENT.replace(
        "title: {en: Tax relief, zh: 减税降费}",
        "title: {en: Tax relief and fee reductions for small and medium companies, "
        "zh: 减税降费}")
    found = problems_of(make_kb(business=long_title, smalltalk=SMALLTALK))
    assert any("intent 'tax-relief', label.en: needs a 'en' label of at most 32" in p
               for p in found), found
    labelled = long_title.replace("    examples:", "    label: {en: Tax relief, zh: 减税}\n"
                                                    "    examples:", 1)
    kb = load_knowledge_base(make_kb(business=labelled, smalltalk=SMALLTALK))
    intent = kb.intent("tax-relief")
    assert intent is not None and (intent.label("en"), intent.label("zh")) == ("Tax relief", "减税")


def test_a_label_too_long_for_a_phone_is_reported(make_kb: Callable[..., Path]) -> None:
    labelled = GOOD_INTENT.replace("    examples:", "    label: {en: Tax relief, "
                                   "zh: 企业减税降费和一站式服务以及其他各项优惠政策}\n    examples:", 1)
    found = problems_of(make_kb(business=labelled, smalltalk=SMALLTALK))
    assert any("label.zh: the label has 22 characters; at most 16" in p for p in found), found
