"""``newsqa ask | search | chat`` as a user runs them (click's CliRunner, real model and index)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from retrieval.cli import main
from tests.helpers import assert_rejected


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)


def test_ask_json_prints_the_documented_answer_object(sample_page_index: Path) -> None:
    result = run("ask", "冠县有多少家绿色建材企业？", "--index", str(sample_page_index), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["found"] is True
    assert data["question"] == "冠县有多少家绿色建材企业？"
    assert "冠县共有绿色建材企业15家" in data["answer"]
    assert data["span"] == "15家"
    start, end = data["span_offsets"]
    first = data["citations"][0]
    assert [start, end] == first["highlights"][0] and end - start == len("15家")
    assert first["n"] == 1 and first["title"] == "链上发力 攀高向强"
    assert first["authors"] == ["王培源", "李子涛"]
    assert {"article_id", "date", "excerpt", "chunk_id", "score"} <= set(first)


def test_ask_prints_the_answer_then_numbered_citations(sample_page_index: Path) -> None:
    result = run("ask", "谁主持召开了市国土空间规划审查委员会会议？", "--index",
                 str(sample_page_index), "-k", "2")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "答：王峰"  # the short answer on its own line
    assert "王峰主持召开" in lines[1]  # then the sentence that says it
    assert "[1] 《市国土空间规划审查委员会召开2023年第六次会议》 · 记者 苑莘" in result.output
    assert "[3]" not in result.output


def test_an_answer_without_a_short_answer_is_the_quote_alone(sample_page_index: Path) -> None:
    """English questions are not read by the reader: no span, so no "答：" line; the bot
    renders them the same way."""
    result = run("ask", "How many green building material companies does Guanxian have?",
                 "--index", str(sample_page_index))
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert "冠县共有绿色建材企业15家" in first and not first.startswith("答：")
    assert "[1] 《链上发力 攀高向强》" in result.output


def test_ask_says_plainly_when_asked_for_more_and_there_is_none(sample_page_index: Path) -> None:
    result = run("chat", "--index", str(sample_page_index), "-k", "10",
                 stdin="小萝卜头牺牲时几岁？\n还有呢\n")
    assert result.exit_code == 0, result.output
    assert "关于“小萝卜头牺牲时几岁？”，报纸资料中没有更多内容了。" in result.output


def test_ask_says_plainly_when_the_paper_does_not_answer(sample_page_index: Path) -> None:
    result = run("ask", "聊城大学有多少名在校学生？", "--index", str(sample_page_index))
    assert result.exit_code == 0
    assert result.output.startswith(
        "没有在报纸资料中找到“聊城大学有多少名在校学生？”的答案。\n相近的报道：\n  · 《"
    )


def test_ask_batch_writes_one_json_answer_per_question(
    sample_page_index: Path, tmp_path: Path
) -> None:
    batch = tmp_path / "questions.jsonl"
    batch.write_text(
        '{"id": "a", "question": "小萝卜头牺牲时几岁？"}\n\n'
        '{"id": 7, "question": "聊城房价每平方米多少钱？"}\n',
        encoding="utf-8",
    )
    result = run("ask", "--batch", str(batch), "--index", str(sample_page_index))
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.output.splitlines()]
    assert [(a["id"], a["found"]) for a in answers] == [("a", True), ("7", False)]
    assert "8岁" in answers[0]["answer"]


def test_ask_batch_rejects_a_bad_line_naming_file_and_line(
    sample_page_index: Path, tmp_path: Path
) -> None:
    batch = tmp_path / "bad.jsonl"
    batch.write_text('{"id": "a", "question": "小萝卜头牺牲时几岁？"}\n{"id": "b"}\n', "utf-8")
    result = CliRunner().invoke(main, ["ask", "--batch", str(batch), "--index",
                                       str(sample_page_index)])
    assert_rejected(result, (
        f'{batch}:2: no "question" text in this line; each line must be an object '
        'like {"id": "q1", "question": "…"}'
    ))


def test_ask_batch_rejects_invalid_json_before_answering_anything(
    sample_page_index: Path, tmp_path: Path
) -> None:
    batch = tmp_path / "bad.jsonl"
    batch.write_text('{"question": "小萝卜头牺牲时几岁？"}\n{"question": 小萝卜头\n', "utf-8")
    result = CliRunner().invoke(main, ["ask", "--batch", str(batch), "--index",
                                       str(sample_page_index)])
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {batch}:2: not valid JSON (Expecting value)")


def test_ask_needs_a_question_or_a_batch_file() -> None:
    result = CliRunner().invoke(main, ["ask"])
    assert result.exit_code == 2
    assert "give either a QUESTION or --batch FILE, not both or neither" in result.output


def test_ask_on_a_missing_index_says_how_to_create_one(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = CliRunner().invoke(main, ["ask", "冠县有多少家绿色建材企业？", "--index",
                                       str(missing)])
    assert result.exit_code == 4
    assert result.output == (
        f"error: no index at {missing}; create one with `newsqa ingest PATH --index {missing}` "
        "(or set NEWSQA_INDEX to the right directory)\n"
    )


def test_chat_resolves_follow_ups_from_piped_stdin(sample_page_index: Path) -> None:
    result = run("chat", "--index", str(sample_page_index), "--json",
                 stdin="美安建材集团的董事长是谁？\n\n那它有几条深加工生产线？\n还有呢\n")
    assert result.exit_code == 0, result.output
    turns = [json.loads(line) for line in result.output.splitlines()]
    assert len(turns) == 3
    assert "张书海" in turns[0]["answer"]
    assert turns[1]["resolved_question"] == "美安建材集团有几条深加工生产线？"
    assert "深加工生产线10条" in turns[1]["answer"]
    assert turns[2]["resolved_question"] == "美安建材集团有几条深加工生产线？"
    assert {c["article_id"] for c in turns[2]["citations"]}.isdisjoint(
        c["article_id"] for c in turns[1]["citations"]
    )


def test_search_lists_one_headline_and_passage_per_article(sample_page_index: Path) -> None:
    result = run("search", "退役军人", "--index", str(sample_page_index), "-k", "2")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("[1] 《刘修建：身先士卒续写忠诚担当》 · 记者 王文轩")
    assert "退役军人" in result.output.splitlines()[1]
