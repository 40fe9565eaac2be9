"""👍 answers as the reader's training pairs, and feedback databases from before the span."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from retrieval.articles import Article
from retrieval.errors import InputError
from retrieval.feedback import (
    CitedArticle,
    Feedback,
    FeedbackStore,
    read_review,
    training_pairs,
)

TEXT = ("冠县去年新增绿色建材企业3家。目前，冠县共有绿色建材企业15家，年产值超过20亿元。"
        "全县3家企业入选省级名单。")
ARTICLE = Article(id="p1-2", title="链上发力 攀高向强", paragraphs=(TEXT,))


def vote(vote: int, question: str, span: str | None, shown: str, user: int = 1,
         article_id: str = "p1-2") -> Feedback:
    return Feedback(chat_id=1, message_id=2, user_id=user,
                    vote=vote, question=question, answer=shown,
                    citations=(CitedArticle(1, article_id, "链上发力 攀高向强"),), span=span)


def lookup(article_id: str) -> Article | None:
    return ARTICLE if article_id == ARTICLE.id else None


def test_the_quoted_sentence_settles_which_occurrence_is_the_answer() -> None:
    # "3家" is printed twice; the answer quoted the second sentence holding it.
    shown = "答：3家\n全县3家企业入选省级名单。 [1]"
    made = training_pairs([vote(1, "几家企业入选省级名单？", "3家", shown)], lookup)
    [pair] = made.questions
    [context] = made.contexts.values()
    at = pair["answer_starts"][0]
    assert context["text"][at:at + 2] == "3家"
    assert TEXT.index(context["text"]) + at == TEXT.rindex("3家")
    assert pair["context_id"].rsplit("-", 1)[0] == "p1-2"  # grouped by article for held-out


def test_votes_are_weighed_and_unusable_ones_are_counted_not_guessed() -> None:
    shown = "答：15家\n目前，冠县共有绿色建材企业15家，年产值超过20亿元。 [1]"
    rows = [
        vote(1, "冠县有多少家绿色建材企业？", "15家", shown, user=1),
        vote(1, "冠县有多少家绿色建材企业？", "15家", shown, user=2),  # one pair, not two
        vote(1, "年产值多少？", "20亿元", "答：20亿元", user=1),
        vote(-1, "年产值多少？", "20亿元", "答：20亿元", user=2),   # disputed: left out
        vote(-1, "新增几家？", "15家", "答：15家"),                    # voted down: to review
        vote(1, "哪家企业？", "3家", "答：3家\n（quote not in the article） [1]"),  # ambiguous
        vote(1, "冠县在哪？", None, "冠县……"),                               # no short answer
        vote(1, "谁？", "张三", "答：张三", article_id="deleted"),
    ]
    made = training_pairs(rows, lookup)
    assert [q["question"] for q in made.questions] == ["冠县有多少家绿色建材企业？"]
    assert made.left_out == {
        "as many 👍 as 👎": 1, "short answer not found once in the article": 1,
        "no short answer": 1, "article no longer in the archive": 1,
    }
    [review] = made.review  # never guessed into "no answer": staff say what is right
    assert (review["question"], review["rejected"], review["answer"]) == ("新增几家？", "15家",
                                                                          None)
    assert "冠县去年新增绿色建材企业3家" in review["text"]


def test_reviewed_answers_become_pairs_and_a_passage_that_does_not_say_a_negative() -> None:
    down = [vote(-1, "新增几家？", "15家", "答：15家"),
            vote(-1, "冠县县长是谁？", "15家", "答：15家", user=2)]
    [first, second] = training_pairs(down, lookup).review
    first["answer"], second["answer"] = "3家", ""  # as staff edit review.jsonl
    made = training_pairs(down, lookup, [first, second])
    assert made.review == [first, second]  # kept for the next run
    right, none = made.questions
    assert right["answers"] == ["3家"] and first["text"][right["answer_starts"][0]:].startswith(
        "3家")
    assert (none["question"], none["answers"], none["answer_starts"]) == ("冠县县长是谁？", [], [])
    # Votes that change after the review do not override it.
    later = [*down, vote(1, "新增几家？", "15家", "答：15家", user=3),
             vote(1, "新增几家？", "15家", "答：15家", user=4)]
    assert training_pairs(later, lookup, [first, second]).questions == made.questions


def test_a_review_file_that_cannot_be_used_names_its_line(tmp_path: Path) -> None:
    [line] = training_pairs([vote(-1, "新增几家？", "15家", "答：15家")], lookup).review
    path = tmp_path / "review.jsonl"
    line["answer"] = "4家"  # not in the passage
    path.write_text(json.dumps({"id": "x"}) + "\n" + json.dumps(line, ensure_ascii=False),
                    "utf-8")
    with pytest.raises(InputError) as raised:
        read_review(path)
    assert str(raised.value) == f'{path}:1: "question" must be a non-empty string; fix or ' \
                                "remove that line"
    path.write_text("\n" + json.dumps(line, ensure_ascii=False), "utf-8")
    with pytest.raises(InputError) as raised:
        read_review(path)
    assert str(raised.value).startswith(f"{path}:2: \"answer\" '4家' is not in \"text\"")
    assert read_review(tmp_path / "none.jsonl") == []


def test_a_feedback_database_from_before_the_span_column_opens_and_keeps_its_rows(
        tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite"
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE feedback (chat_id INTEGER NOT NULL, message_id INTEGER NOT "
                    "NULL, user_id INTEGER NOT NULL, time TEXT NOT NULL, vote INTEGER NOT NULL "
                    "CHECK (vote IN (-1, 1)), question TEXT NOT NULL, answer TEXT NOT NULL, "
                    "citations TEXT NOT NULL, PRIMARY KEY (chat_id, message_id, user_id))")
        old.execute("INSERT INTO feedback VALUES (1, 2, 3, '2026-01-01T00:00:00', 1, '问', "
                    "'答：15家', '[]')")
    old.close()
    with FeedbackStore.open(path, create=False) as store:
        [before] = store.all()
        assert (before.question, before.span) == ("问", None)
        store.record(vote(1, "冠县有多少家绿色建材企业？", "15家", "答：15家"))
        assert [row.span for row in store.all()] == [None, "15家"]
