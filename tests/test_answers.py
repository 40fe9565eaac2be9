"""Library.ask end to end: real model, real index of the sample page (tests/conftest.py).

The gold set is tests/data/sample-questions.jsonl: 33 questions answered on the page (each
with the headline it must be cited to), 12 about things it never mentions and 5 near misses
(its companies and people, a fact it does not give). Every answer must quote verbatim and
bold the reader's span inside the sentence shown; the unrelated questions must all be
refused; how often the reader is right is held to thresholds (see each test).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from retrieval.answer.conversation import History
from retrieval.answer.types import Answer
from retrieval.library import Library

QUESTIONS = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "sample-questions.jsonl").read_text("utf-8")
    .splitlines()
    if line.strip()
]


@pytest.fixture(scope="module")
def library(sample_page_index: Path):
    with Library.open(sample_page_index) as opened:
        yield opened


@pytest.fixture(scope="module")
def answers(library: Library) -> dict[str, Answer]:
    got = library.ask_batch([q["question"] for q in QUESTIONS], ids=[q["id"] for q in QUESTIONS])
    return {a.id: a for a in got if a.id is not None}


def assert_verbatim(library: Library, answer: Answer) -> None:
    """Every quoted character is the article's own: spans slice ``Article.text`` exactly."""
    for citation in answer.citations:
        article = library.article(citation.article_id)
        assert article is not None
        text = article.text
        for segment in citation.segments:
            assert text[segment.start: segment.start + len(segment.text)] == segment.text
        for span in (*citation.sentences, *citation.highlights):
            assert 0 <= span.start < span.end <= len(text)
        for piece in citation.quote.split("……"):
            assert piece in text
    if answer.found:
        assert answer.text == answer.citations[0].quote


def test_the_gold_set_has_thirty_answerable_and_ten_unanswerable_questions() -> None:
    assert sum(q["title"] is not None for q in QUESTIONS) >= 30
    assert len(UNRELATED) >= 10 and len(NEAR_MISSES) >= 5


ANSWERABLE = [q for q in QUESTIONS if q["title"]]
# The first 12 unanswerable questions are about things the page never mentions; the others
# (near misses) name its companies and people but ask a fact it does not give.
UNRELATED = [q for q in QUESTIONS if not q["title"] and "note" not in q]
NEAR_MISSES = [q for q in QUESTIONS if not q["title"] and "note" in q]


def _misses(ids: list[str], answers: dict[str, Answer]) -> str:
    return "; ".join(f"{i}: found={answers[i].found} span={answers[i].span!r}" for i in ids)


def test_answerable_questions_are_answered_from_the_right_article(
    answers: dict[str, Answer]
) -> None:
    """A trained reader is right most of the time, not always: the thresholds are what it
    measures on this page less one question, and the misses are listed in docs/reader.md."""
    wrong = [q["id"] for q in ANSWERABLE
             if not answers[q["id"]].found or answers[q["id"]].citations[0].title != q["title"]]
    assert len(wrong) <= 3, _misses(wrong, answers)
    unshown = [q["id"] for q in ANSWERABLE if "answer" in q and answers[q["id"]].found
               and q["answer"] not in answers[q["id"]].text]
    assert len(unshown) <= 3, _misses(unshown, answers)


def test_unanswerable_questions_are_not_answered(answers: dict[str, Answer]) -> None:
    answered = [q["id"] for q in UNRELATED if answers[q["id"]].found]
    assert not answered, _misses(answered, answers)
    near = [q["id"] for q in NEAR_MISSES if answers[q["id"]].found]
    assert len(near) <= 2, _misses(near, answers)
    for q in UNRELATED + NEAR_MISSES:
        answer = answers[q["id"]]
        if not answer.found:
            assert answer.citations == () and answer.text == "" and answer.span is None
            assert answer.suggestions, "the closest headlines are offered instead"


@pytest.mark.parametrize("item", QUESTIONS, ids=lambda q: q["id"])
def test_every_answer_quotes_the_article_verbatim(
    item: dict, answers: dict[str, Answer], library: Library
) -> None:
    assert_verbatim(library, answers[item["id"]])


def test_the_short_answer_is_the_bold_span_of_the_quoted_sentence(
    answers: dict[str, Answer], library: Library
) -> None:
    found = [a for a in answers.values() if a.found and "How many" not in a.question]
    assert len(found) >= 25
    for answer in found:
        if answer.span is None:  # only the gist questions and English have no span
            gist = re.search(r"什么[？?]?$|主要内容", answer.question)
            assert gist or not re.search(r"[\u3400-\u9fff]", answer.question), answer.question
            continue
        assert answer.span_at is not None
        citation = answer.citations[0]
        article = library.article(citation.article_id)
        assert article is not None
        assert answer.span_at.of(article.text) == answer.span
        assert answer.span == answer.span.strip()
        assert citation.highlights == (answer.span_at,)
        # the shown answer is the sentence holding the span, not a paragraph around it
        sentence = next(s for s in citation.sentences if s.start <= answer.span_at.start < s.end)
        assert sentence.of(article.text) in answer.text
        assert len(answer.text) <= 300, answer.text


def test_an_attribution_is_shown_with_the_quotation_it_closes(
    answers: dict[str, Answer],
) -> None:
    # "…旧改项目。”该集团董事长张书海说。": the span's sentence alone is a fragment, and its
    # neighbour is the quotation it attributes, not the next paragraph; read in article order
    answer = answers["s03"]
    assert answer.span == "张书海"
    assert answer.text.startswith("“企业现有硅酸钙板生产线3条")
    assert answer.text.endswith("旧改项目。”该集团董事长张书海说。")


def test_what_someone_said_is_the_quotation_not_only_its_attribution(library: Library) -> None:
    # a gist question (no short answer): the sentence naming the speaker brings the words
    answer = library.ask("雷全岭说了什么？")
    assert answer.found and answer.span is None
    assert answer.text.startswith("“我们根据市场需求，积极研发重型台车产品")
    assert "”山东凿岩钎具有限公司销售部负责人雷全岭表示。" in answer.text


def test_the_issues_examples_get_their_short_answers(answers: dict[str, Answer]) -> None:
    spans = {q["id"]: q["span"] for q in QUESTIONS if "span" in q}
    right = [i for i, span in spans.items() if answers[i].span == span]
    assert len(right) >= 2, _misses([i for i in spans if i not in right], answers)


def test_number_answer_highlights_the_count(library: Library) -> None:
    answer = library.ask("冠县有多少家绿色建材企业？")
    citation = answer.citations[0]
    article = library.article(citation.article_id)
    assert article is not None
    assert [h.of(article.text) for h in citation.highlights] == ["15家"]
    assert citation.authors == ("王培源", "李子涛")


def test_the_answer_leads_with_the_sentence_that_answers(library: Library) -> None:
    answer = library.ask("冠县有多少家绿色建材企业？")
    assert answer.text.startswith("目前，冠县共有绿色建材企业15家，")
    # the excerpt under the citation keeps the article's own order
    excerpt = answer.citations[0].excerpt
    assert all(piece in excerpt for piece in answer.text.split("……"))


def test_ask_is_a_batch_of_one(library: Library, answers: dict[str, Answer]) -> None:
    single = library.ask(QUESTIONS[0]["question"])
    assert single.to_dict() | {"id": "s01"} == answers["s01"].to_dict()


def test_follow_up_with_a_pronoun_is_resolved_against_the_previous_answer(
    library: Library,
) -> None:
    first = library.ask("美安建材集团的董事长是谁？")
    assert "张书海" in first.text
    follow = library.ask("那它有几条深加工生产线？", history=first.history)
    assert follow.resolved == "美安建材集团有几条深加工生产线？"
    assert follow.found and "深加工生产线10条" in follow.text
    assert_verbatim(library, follow)


def test_more_returns_the_next_articles_for_the_previous_question(library: Library) -> None:
    first = library.ask("聊城的金融机构如何支持小微企业？", k=1)
    more = library.ask("还有呢", history=first.history, k=1)
    assert more.resolved == first.resolved
    shown = {c.article_id for c in first.citations}
    assert not shown & {c.article_id for c in more.citations}


def test_history_survives_a_round_trip_through_json(library: Library) -> None:
    first = library.ask("刘修建现在担任什么职务？")
    stored = json.loads(json.dumps(first.history.to_dict()))
    follow = library.ask("他哪一年获评聊城市最美公务员？", history=History.from_dict(stored))
    assert follow.resolved == "刘修建哪一年获评聊城市最美公务员？"
    assert "2022年" in follow.text


def test_answer_json_has_the_documented_keys(answers: dict[str, Answer]) -> None:
    data = answers["s01"].to_dict()
    assert list(data)[:7] == [
        "id", "question", "found", "answer", "span", "span_offsets", "citations"
    ]
    assert list(data["citations"][0])[:8] == [
        "n", "article_id", "title", "authors", "date", "excerpt", "chunk_id", "score"
    ]
    assert [c["n"] for c in data["citations"]] == list(range(1, len(data["citations"]) + 1))


def test_search_gives_one_result_per_article(library: Library) -> None:
    results = library.search("普惠金融 小微企业", k=5)
    ids = [r.citation.article_id for r in results]
    assert len(ids) == len(set(ids)) >= 2
    assert results[0].title in {
        "助推普惠金融量增面扩质升本降", "开展金融支持民营小微企业和个体工商户发展三年提升行动"
    }


def test_library_browses_latest_articles_and_stats(library: Library) -> None:
    assert len(library.latest(3)) == 3
    assert library.about().articles == 8
    first = library.latest(1)[0]
    assert library.article(first.id) == first
    assert library.article("no-such-id") is None


def test_what_an_article_says_is_quoted_without_a_short_answer(library: Library) -> None:
    answer = library.ask("《链上发力 攀高向强》说了什么？")
    assert answer.found and answer.span is None  # a gist, not a fact: no span to point at
    assert answer.citations[0].title == "链上发力 攀高向强"
    assert_verbatim(library, answer)


def test_a_follow_up_reads_the_same_article_for_the_new_fact(library: Library) -> None:
    first = library.ask("8月份全市普惠小微贷款加权平均利率是多少？")
    assert first.span == "4.93%"
    follow = library.ask("那它同比下降了多少？", history=first.history)
    assert follow.resolved == "8月份全市普惠小微贷款加权平均利率同比下降了多少？"
    assert follow.citations[0].article_id == first.citations[0].article_id
    assert follow.span == "0.51个百分点"


def test_a_list_question_is_answered_with_the_list(library: Library) -> None:
    answer = library.ask("冠县绿色建材企业有哪些类型？")
    assert answer.found and answer.span is not None
    assert "装配式预制构件、复合板材、轻型门窗" in answer.span  # not just "6种类型"
    assert_verbatim(library, answer)


def test_more_says_plainly_when_nothing_more_is_there(library: Library) -> None:
    first = library.ask("小萝卜头牺牲时几岁？", k=10)  # the page has only 8 articles
    more = library.ask("还有呢", history=first.history, k=10)
    assert not more.found
    assert more.more and more.resolved == "小萝卜头牺牲时几岁？"


@pytest.fixture(scope="module")
def dated_library(tmp_path_factory, embedder):
    """Two reports of the same kind on different days, and one undated."""
    from retrieval.articles import Article
    from retrieval.index import Index

    def report(article_id: str, date: str | None, count: int) -> Article:
        return Article(
            id=article_id, title=f"冠县绿色建材企业发展（{article_id}）", date=date,
            source="聊城日报", paragraphs=(f"目前，冠县共有绿色建材企业{count}家，涵盖6种类型。",),
        )

    path = tmp_path_factory.mktemp("dated") / "index"
    with Index.open(path, create=True, embedder=embedder) as index:
        index.upsert([report("old", "2022-03-01", 9), report("new", "2023-10-07", 15),
                      report("undated", None, 12)])
    with Library.open(path) as opened:
        yield opened


def test_a_date_in_the_question_favours_articles_of_that_date(dated_library: Library) -> None:
    for question, expected in [
        ("2022年3月冠县有多少家绿色建材企业？", "old"),
        ("2023年10月7日冠县有多少家绿色建材企业？", "new"),
    ]:
        assert dated_library.ask(question).citations[0].article_id == expected


def test_latest_question_favours_the_newest_article(dated_library: Library) -> None:
    answer = dated_library.ask("最近冠县有多少家绿色建材企业？")
    assert answer.citations[0].article_id == "new"
    assert {c.article_id for c in answer.citations} == {"old", "new", "undated"}


@pytest.fixture(scope="module")
def long_library(tmp_path_factory, embedder):
    """One news-length article (tests/data/long-article.txt, written for this test) whose
    last paragraph repeats the event's name, so retrieval's best chunk is far from the facts
    asked about below, which only its first paragraph gives."""
    from retrieval.articles import Article
    from retrieval.index import Index

    text = (Path(__file__).parent / "data" / "long-article.txt").read_text("utf-8")
    article = Article(
        id="dragon-boat", title="东昌湖龙舟邀请赛开赛", date="2023-06-11", source="聊城日报",
        paragraphs=tuple(p for p in text.split("\n\n") if p.strip()),
    )
    path = tmp_path_factory.mktemp("long") / "index"
    with Index.open(path, create=True, embedder=embedder) as index:
        index.upsert([article])
    with Library.open(path) as opened:
        yield opened


def test_a_long_article_is_read_beyond_its_best_chunk(long_library: Library) -> None:
    from retrieval.chunks import chunk_article

    article = long_library.article("dragon-boat")
    assert article is not None
    [best] = long_library.search("东昌湖龙舟邀请赛是第几届？", k=1)
    chunks = {chunk.id: chunk for chunk in chunk_article(article)}
    assert chunks[best.citation.chunk_id].start > len(article.text) // 2  # retrieval: the end
    for question, span in [("东昌湖龙舟邀请赛是第几届？", "第十届"),
                           ("东昌湖龙舟邀请赛在哪里举行？", "东昌湖南岸")]:
        answer = long_library.ask(question)
        assert answer.found and answer.span is not None and span in answer.span, question
        assert answer.span_at is not None and answer.span_at.start < 100  # the first paragraph
        assert_verbatim(long_library, answer)
