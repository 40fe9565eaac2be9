"""Sentence selection and highlighting on the sample page's own articles (no model needed)."""

from __future__ import annotations

import pytest

from retrieval.answer.question import analyze
from retrieval.answer.sentences import extract
from retrieval.articles import Article
from retrieval.sources.loading import load_articles
from tests.sample_values import SAMPLE_PAGE

PAGE = SAMPLE_PAGE


@pytest.fixture(scope="module")
def articles() -> dict[str, Article]:
    return {a.title or "": a for a in load_articles(PAGE, source="聊城日报")}


@pytest.mark.parametrize(
    ("question", "title", "sentence_part", "highlight"),
    [
        ("冠县有多少家绿色建材企业？", "链上发力 攀高向强", "冠县共有绿色建材企业15家", "15家"),
        ("昊泉机械的产品出口到多少个国家和地区？", "链上发力 攀高向强", "先后出口60多个", "60多个"),
        ("谁主持召开了市国土空间规划审查委员会会议？",
         "市国土空间规划审查委员会召开2023年第六次会议", "副市长王峰主持召开", "王峰"),
        ("山东凿岩钎具有限公司销售部负责人是谁？", "链上发力 攀高向强", "负责人雷全岭表示",
         "雷全岭"),
        ("8月份全市普惠小微贷款加权平均利率是多少？",
         "开展金融支持民营小微企业和个体工商户发展三年提升行动", "加权平均利率为4.93%",
         "4.93%"),
        ("刘修建哪一年获评聊城市最美公务员？", "刘修建：身先士卒续写忠诚担当", "2022年获评",
         "2022年"),
    ],
)
def test_answer_sentence_is_quoted_and_its_answering_span_highlighted(
    articles: dict[str, Article], question: str, title: str, sentence_part: str, highlight: str
) -> None:
    article = articles[title]
    got = extract(analyze(question), article.text, title=article.title)
    assert got is not None
    assert 1 <= len(got.sentences) <= 3
    assert any(sentence_part in s.of(article.text) for s in got.sentences)
    assert [h.of(article.text) for h in got.highlights] == [highlight]


def test_every_span_lies_inside_the_article_and_highlights_inside_a_quoted_sentence(
    articles: dict[str, Article],
) -> None:
    for article in articles.values():
        for question in ("有多少家企业？", "谁说的？", "什么时候？", "哪些措施？", "为什么？"):
            got = extract(analyze(question), article.text, title=article.title)
            assert got is not None
            for span in got.sentences:
                assert 0 <= span.start < span.end <= len(article.text)
            for mark in got.highlights:
                assert any(s.start <= mark.start < mark.end <= s.end for s in got.sentences)


def test_sentences_come_in_text_order(articles: dict[str, Article]) -> None:
    article = articles["链上发力 攀高向强"]
    got = extract(analyze("冠县绿色建材企业有哪些类型？"), article.text, title=article.title)
    assert got is not None
    starts = [s.start for s in got.sentences]
    assert starts == sorted(starts)


def test_preferred_passage_is_always_quoted(articles: dict[str, Article]) -> None:
    article = articles["链上发力 攀高向强"]
    start = article.text.index("我市将工业发展放在突出位置")
    got = extract(analyze("冠县有多少家绿色建材企业？"), article.text, title=article.title,
                  prefer=(start, len(article.text)))
    assert got is not None
    assert any(s.start >= start for s in got.sentences)


def test_empty_article_gives_no_extraction() -> None:
    assert extract(analyze("冠县有多少家绿色建材企业？"), "", title="空") is None


def test_unrelated_question_scores_low_relevance(articles: dict[str, Article]) -> None:
    article = articles["链上发力 攀高向强"]
    related = extract(analyze("冠县有多少家绿色建材企业？"), article.text, title=article.title)
    unrelated = extract(analyze("聊城大学有多少名在校学生？"), article.text, title=article.title)
    assert related is not None and unrelated is not None
    assert related.score == 1.0
    assert unrelated.score < 0.5
