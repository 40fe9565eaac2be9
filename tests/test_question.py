"""Question analysis: answer kind, topic words, units and dates (no model needed)."""

from __future__ import annotations

import pytest

from retrieval.answer.question import AnswerKind, analyze


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("冠县有多少家绿色建材企业？", AnswerKind.NUMBER),
        ("小萝卜头牺牲时几岁？", AnswerKind.NUMBER),
        ("谁主持召开了会议？", AnswerKind.PERSON),
        ("刘修建之前在哪里工作？", AnswerKind.PLACE),
        ("刘修建哪一年获评最美公务员？", AnswerKind.TIME),
        ("会议是什么时候召开的？", AnswerKind.TIME),
        ("东昌府区重点关注哪些技改项目？", AnswerKind.LIST),
        ("为什么要发展普惠金融？", AnswerKind.REASON),
        ("如何降低综合融资成本？", AnswerKind.MANNER),
        ("小萝卜头的真名叫什么？", AnswerKind.ENTITY),
        ("Who chaired the meeting?", AnswerKind.PERSON),
        ("冠县绿色建材", AnswerKind.OTHER),
    ],
)
def test_question_words_decide_the_kind_of_answer(question: str, kind: AnswerKind) -> None:
    assert analyze(question).kind is kind


def test_how_many_question_keeps_its_unit_out_of_the_topic_words() -> None:
    question = analyze("那它有几条生产线？")
    assert question.unit == "条"
    assert question.terms == ("生产", "生产线")


def test_question_words_and_particles_are_not_topic_words() -> None:
    terms = analyze("冠县有多少家绿色建材企业？").terms
    assert "冠县" in terms and "绿色建材" in terms
    assert not {"多少", "有", "家", "?"} & set(terms)


def test_traditional_script_question_is_read_as_simplified() -> None:
    question = analyze("冠縣有多少家綠色建材企業？")
    assert question.text == "冠縣有多少家綠色建材企業？"
    assert question.normalized == "冠县有多少家绿色建材企业?"
    assert "绿色建材" in question.terms


def test_explicit_day_is_parsed_and_kept_whole_as_a_topic_word() -> None:
    question = analyze("10月7日记者在冠县看到了什么？")
    (date,) = question.dates
    assert (date.year, date.month, date.day) == (None, 10, 7)
    assert question.terms[0] == "10月7日"


def test_this_year_month_is_relative_to_the_archive() -> None:
    (date,) = analyze("今年8月人民银行开展了什么行动？").dates
    assert (date.month, date.relative_year) == (8, 0)


def test_year_in_chinese_numerals_is_parsed() -> None:
    (date,) = analyze("二〇二三年召开了几次会议？").dates
    assert date.year == 2023


def test_latest_news_question_wants_recent_articles() -> None:
    assert analyze("最近有什么新闻？").wants_recent
    assert not analyze("冠县有多少家绿色建材企业？").wants_recent


def test_function_character_jieba_glues_onto_an_unknown_name_is_dropped() -> None:
    # jieba reads 潘淑是 and 尚恩有 as words; the article prints only the names.
    assert analyze("潘淑是哪里人？").terms == ("潘淑", "人")
    assert analyze("尚恩有什么爱好？").terms == ("尚恩", "爱好")
    # A word jieba's dictionary knows keeps its last character (于是, not 于).
    assert "于是" in analyze("于是发生了什么？").terms


def test_which_phrases_are_scaffolding_not_topic_words() -> None:
    terms = analyze("侏罗纪早期，中国是由哪两个板块碰撞形成的？").terms
    assert "两个" not in terms and "板块" in terms
    assert "一年" not in analyze("矢井田瞳于哪一年出道？").terms
    assert analyze("潘淑是哪里人？").kind.value == "place"
