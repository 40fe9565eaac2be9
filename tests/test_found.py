"""The end-to-end "found" bar: the reader's margin plus how much of the question the span's
sentence speaks of, stricter on lower-ranked articles (retrieval/answer/found.py)."""

from __future__ import annotations

import pytest

from retrieval.answer.found import FoundBar, span_coverages
from retrieval.answer.question import analyze
from retrieval.answer.sentences import answer_sentences, question_coverage
from retrieval.answer.types import Span

BAR = FoundBar(margin=-2.0, lower_rank_extra=3.0, sentence_weight=10.0, sentence_center=0.4,
               lead=2.0)


def test_coverage_is_the_share_of_the_questions_bigrams_a_sentence_prints() -> None:
    question = analyze("刘修建是哪一年出生的？")
    # 7 bigrams once 哪 is left out: 刘修 修建 建是 一年 年出 出生 生的
    assert question_coverage(question, "刘修建是哪一年出生的") == 1.0
    assert question_coverage(question, "刘修建1968年出生于冠县。") == pytest.approx(4 / 7)
    assert question_coverage(question, "刘修建从1990参军到2014年卸任。") == pytest.approx(2 / 7)
    assert question_coverage(question, "2022年，公司搬到新厂区。") == 0.0


def test_coverage_reads_traditional_script_and_full_width_as_the_question_does() -> None:
    question = analyze("美安建材集团的董事长是谁？")
    assert question_coverage(question, "美安建材集團董事長張書海說。") == question_coverage(
        question, "美安建材集团董事长张书海说。"
    ) == pytest.approx(0.7)


def test_span_coverage_takes_the_sentence_holding_each_span() -> None:
    question = analyze("美安建材集团的董事长是谁？")
    text = "销售部长雷全岭介绍。\n\n美安建材集团董事长张书海说，产品销往全国。"
    starts = [text.index("张书海"), text.index("雷全岭"), text.index("\n"), len(text) - 1,
              text.index("张书海") + 1]
    # the whitespace between two sentences is in neither: nothing of the question
    assert span_coverages(question, text, starts) == [
        pytest.approx(0.7), 0.0, 0.0, pytest.approx(0.7), pytest.approx(0.7)]


def test_a_span_in_a_sentence_about_something_else_needs_a_surer_reader() -> None:
    # the same margin: enough where the sentence speaks of the question, not where it does not
    assert BAR.choose([0.0], [0.6]) == 0
    assert BAR.choose([0.0], [0.0]) is None
    assert BAR.choose([3.0], [0.0]) == 0  # a confident reader still answers
    assert BAR.support(1.5, 0.4) == 1.5  # the sentence term is zero at the center


def test_a_lower_ranked_article_must_pass_a_higher_bar() -> None:
    assert BAR.choose([None, 0.0], [None, 0.4]) is None  # would pass on the first article
    assert BAR.choose([None, 1.5], [None, 0.4]) == 1
    assert BAR.choose([-5.0, 1.5], [0.4, 0.4]) == 1


def test_the_first_passing_article_answers_unless_a_later_one_leads_by_the_lead() -> None:
    assert BAR.choose([3.0, 4.5], [0.4, 0.4]) == 0
    assert BAR.choose([3.0, 5.5], [0.4, 0.4]) == 1
    assert FoundBar(lead=float("inf")).choose([3.0, 9.0], [0.4, 0.4]) == 0


def test_nothing_read_is_not_found() -> None:
    assert BAR.choose([], []) is None
    assert BAR.choose([None, None], [None, None]) is None


def _shown(text: str, word: str) -> str:
    start = text.index(word)
    return "".join(s.of(text) for s in answer_sentences(text, Span(start, start + len(word))))


def test_a_long_enough_sentence_is_shown_alone() -> None:
    text = "冠县共有绿色建材企业15家，涵盖6种类型。其他内容在这里。"
    assert _shown(text, "15家") == "冠县共有绿色建材企业15家，涵盖6种类型。"


def test_a_fragment_takes_the_next_sentence_of_its_paragraph() -> None:
    assert _shown("记者王文轩报道。他在1990年参军，2014年卸任。", "王文轩") == (
        "记者王文轩报道。他在1990年参军，2014年卸任。"
    )
    # "他说：" introduces what follows, even after a quotation
    text = "“第一句话在这里。”他说：“我们有15家企业在本县。”"
    assert _shown(text, "他说") == "他说：“我们有15家企业在本县。”"


def test_an_attribution_takes_the_quotation_before_it_whatever_its_length() -> None:
    text = "“企业现有生产线3条。”张书海说。明年还要再建两条新的生产线。"
    assert _shown(text, "张书海") == "“企业现有生产线3条。”张书海说。"
    text = "“是国内同行业产品最全的生产企业。”山东凿岩钎具有限公司销售部负责人雷全岭表示。"
    assert _shown(text, "雷全岭") == text


def test_only_a_speaker_after_a_quotation_of_the_same_paragraph_takes_it() -> None:
    # not an attribution: the sentence after the quotation says something else
    text = "“企业现有生产线3条。”明年该企业还要再建两条新的生产线。"
    assert _shown(text, "两条") == "明年该企业还要再建两条新的生产线。"
    # the quotation ends the paragraph before: another thought
    text = "他说：“企业现有生产线3条。”\n该集团董事长张书海说。"
    assert _shown(text, "张书海") == "该集团董事长张书海说。"


def test_a_fragment_never_takes_a_sentence_of_another_paragraph() -> None:
    text = "第一段的第一句话比较长一些。该集团董事长张书海说。\n下一段讲的是另一件事情。"
    assert _shown(text, "张书海") == "第一段的第一句话比较长一些。该集团董事长张书海说。"
    assert _shown("张书海。\n下一段讲的是另一件事情。", "张书海") == "张书海。"


def test_of_two_close_spans_the_one_in_the_sentence_about_the_question_is_taken() -> None:
    from retrieval.library import SPAN_CHOICE_DELTA, _best_supported_span
    from retrieval.reader import Reading

    text = "8月份，全市普惠小微贷款加权平均利率为4.93%。贷款利率同比下降0.51个百分点。"
    question = analyze("8月份贷款利率同比下降了多少？")

    def reading(word: str, margin: float, *alternatives: Reading) -> Reading:
        start = text.index(word)
        return Reading(start, start + len(word), word, margin, True, alternatives)

    close = reading("4.93%", 5.0, reading("0.51个百分点", 5.0 - SPAN_CHOICE_DELTA + 0.5))
    assert _best_supported_span(question, text, 0, close).reading.text == "0.51个百分点"
    far = reading("4.93%", 5.0, reading("0.51个百分点", 5.0 - SPAN_CHOICE_DELTA - 0.5))
    assert _best_supported_span(question, text, 0, far).reading.text == "4.93%"


def test_a_list_question_shows_the_close_enumeration_not_the_count_after_it() -> None:
    from retrieval.library import SPAN_CHOICE_DELTA, _best_supported_span
    from retrieval.reader import Reading

    text = "冠县共有绿色建材企业15家，涵盖装配式预制构件、复合板材、轻型门窗等6种类型。"

    def reading(word: str, margin: float, *alternatives: Reading) -> Reading:
        start = text.index(word)
        return Reading(start, start + len(word), word, margin, True, alternatives)

    listed = "装配式预制构件、复合板材、轻型门窗"
    which = analyze("冠县绿色建材企业有哪些类型？")
    how_many = analyze("冠县绿色建材企业有多少种类型？")
    close = reading("6种类型", 5.0, reading(listed, 5.0 - SPAN_CHOICE_DELTA + 0.5))
    chosen = _best_supported_span(which, text, 0, close)
    assert chosen.shown.text == listed
    assert chosen.reading.text == "6种类型"  # the evidence, and so the found bar, is the best's
    # only a list question, and only a close enumeration
    assert _best_supported_span(how_many, text, 0, close).shown.text == "6种类型"
    far = reading("6种类型", 5.0, reading(listed, 5.0 - SPAN_CHOICE_DELTA - 0.5))
    assert _best_supported_span(which, text, 0, far).shown.text == "6种类型"
