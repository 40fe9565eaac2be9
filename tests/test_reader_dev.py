"""bench/reader_dev.py's archives: whole articles are the passages joined in order, and a cut
question another passage still answers is no near miss."""

from __future__ import annotations

from bench.reader_dev import as_whole_articles, still_answered


def test_passages_are_joined_into_their_article_in_order() -> None:
    contexts = {"a-2": {"text": "第三段。"}, "a-10": {"text": "第十一段。"},
                "b-0": {"text": "另一篇。"}, "a-0": {"text": "第一段。"}}
    articles = {a.id: a for a in as_whole_articles(contexts)}
    assert articles["a"].paragraphs == ("第一段。", "第三段。", "第十一段。")
    assert articles["b"].paragraphs == ("另一篇。",)


def test_a_cut_question_another_passage_still_answers_is_left_out() -> None:
    contexts = {"a-0": {"text": "他参军后去了北方。"}, "a-1": {"text": "他1990年参军。"},
                "b-0": {"text": "公司成立后发展很快。"}}
    cut = [{"context_id": "a-0", "answers": ["1990年"]},
           {"context_id": "b-0", "answers": ["2001年", ""]}]
    assert still_answered(cut, as_whole_articles(contexts)) == [cut[0]]
