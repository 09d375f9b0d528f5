"""The report is loaded into citable passages whose ids and labels say where text stands."""

from citizenbot.core.knowledge import KnowledgeBase
from citizenbot.core.report import parse_report, split_sentences


def test_parts_items_and_footnotes_get_stable_ids_and_labels(kb: KnowledgeBase) -> None:
    report = kb.report
    ids = [p.id for p in report.passages]
    assert ids[:1] == ["front.1"]
    assert {"I.1", "I.6", "II.2", "II.3", "III.1"} <= set(ids)
    assert [i for i in ids if i.startswith("III.") and not i[4:].isdigit()] == [
        "III.I", "III.II", "III.III", "III.IV", "III.V", "III.VI", "III.VII"]
    assert [i for i in ids if i.startswith("note.")] == [f"note.{n}" for n in range(1, 8)]
    item = report.passage("III.VI")
    assert item is not None
    assert item.label_en == "Part III (Work arrangement in 2021), item (VI)"
    assert item.label_zh.endswith("第（六）项")
    footnote = report.passage("note.7")
    assert footnote is not None and footnote.label_en == "Footnote ⑦"


def test_page_chrome_is_not_part_of_the_report(kb: KnowledgeBase) -> None:
    text = " ".join(p.text for p in kb.report.passages)
    assert "Print" not in text and "Produced By" not in text and "Hits:" not in text
    assert kb.report.date == "2021-02-25"


def test_sentences_keep_the_reports_own_words() -> None:
    paragraph = ('Shanghai Fosun and China Venture Capital Co. Ltd, have settled. Newborn Town '
                 'Inc. become the first. "One stop" handling. 5391 projects were introduced.')
    sentences = split_sentences(paragraph)
    assert sentences == [
        "Shanghai Fosun and China Venture Capital Co. Ltd, have settled.",
        "Newborn Town Inc. become the first.",
        '"One stop" handling.',
        "5391 projects were introduced.",
    ]
    assert " ".join(sentences) == paragraph


def test_every_sentence_stands_word_for_word_in_its_passage(kb: KnowledgeBase) -> None:
    for passage in kb.report.passages:
        for sentence in passage.sentences:
            assert sentence.text in passage.text


def test_a_file_without_the_reports_structure_is_refused() -> None:
    import pytest

    from citizenbot.core.report import ReportError
    with pytest.raises(ReportError):
        parse_report("just one line")
