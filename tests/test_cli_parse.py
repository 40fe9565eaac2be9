"""`newsqa parse` as a user runs it: human output, --json shape, options and errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from retrieval.cli import main
from tests.helpers import assert_rejected
from tests.sample_values import ROOT, SAMPLE_PAGE

JSON_KEYS = [
    "id",
    "title",
    "subtitle",
    "kicker",
    "authors",
    "date",
    "source",
    "page",
    "paragraphs",
    "kind",
    "url",
]


def run(*args: str):
    return CliRunner().invoke(main, ["parse", *args])


def test_demo_command_prints_every_article_readably():
    result = run(str(SAMPLE_PAGE), "--source", "聊城日报")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "[1/8] 东昌府区推动工业经济提质增效" in out
    assert (
        "[2/8] 链上发力 攀高向强\n——我市加速产业链聚集助推制造业高质量发展\n"
        "作者 王培源、李子涛 · 聊城日报" in out
    )
    assert "国家金融监督管理总局聊城监管分局\n[6/8] 助推普惠金融量增面扩质升本降" in out
    assert "[5/8] （图片新闻）" in out
    assert "　　10月7日，记者从东昌府区工信局获悉" in out
    assert result.stderr == "\n8 articles.\n"


def test_json_output_has_exactly_the_documented_shape(tmp_path: Path):
    result = run(
        str(SAMPLE_PAGE), "--source", "聊城日报", "--date", "2023-10-08", "--page", "2", "--json"
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["articles"]
    articles = data["articles"]
    assert len(articles) == 8
    assert all(list(a) == JSON_KEYS for a in articles)
    first = articles[0]
    assert (first["title"], first["authors"], first["date"], first["source"], first["page"]) == (
        "东昌府区推动工业经济提质增效",
        ["林金彦"],
        "2023-10-08",
        "聊城日报",
        "2",
    )
    assert first["paragraphs"][0].startswith("10月7日，记者从东昌府区工信局获悉")
    assert "\\u" not in result.stdout  # Chinese is printed as is, not escaped


def test_directory_output_names_each_file(tmp_path: Path):
    (tmp_path / "a.md").write_text("# 标题甲\n\n正文甲。\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("# 标题乙\n\n正文乙。\n", encoding="utf-8")
    result = run(str(tmp_path))
    assert result.exit_code == 0
    assert f"══ {tmp_path / 'a.md'} (article, 1 article)" in result.stdout
    assert f"══ {tmp_path / 'b.md'} (article, 1 article)" in result.stdout
    assert result.stderr == "\n2 articles from 2 files.\n"


def test_format_option_forces_the_reader(tmp_path: Path):
    result = run(str(SAMPLE_PAGE), "--format", "article", "--json")
    [article] = json.loads(result.stdout)["articles"]
    assert article["title"] == "本报讯（记者 林金彦）10月7日，"


def test_bad_jsonl_line_is_reported_with_file_and_line(tmp_path: Path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "好。"}\n{"title": "无正文"}\n', encoding="utf-8")
    assert_rejected(run(str(path), "--json"), (
        f'{path}:2: no text: a record needs a "text", "body" or "content" field; '
        "fix or remove that line - nothing from this file was loaded"
    ))


def test_invalid_date_option_is_a_usage_error():
    result = run(str(SAMPLE_PAGE), "--date", "2023-13-01")
    assert result.exit_code == 2
    assert (
        "Invalid value for '--date': date '2023-13-01' is not a valid date; "
        "write it as YYYY-MM-DD, e.g. 2023-10-08" in result.stderr
    )


def test_unknown_format_is_a_usage_error():
    result = run(str(SAMPLE_PAGE), "--format", "docx")
    assert result.exit_code == 2
    assert "Invalid value for '--format': 'docx' is not one of" in result.stderr


def test_a_text_file_forced_to_pdf_is_refused_naming_it():
    assert_rejected(run(str(SAMPLE_PAGE), "--format", "pdf"),
                    f"{SAMPLE_PAGE}: not a readable PDF (No /Root object! - Is this really a "
                    "PDF?); is the file complete and without a password?")


def test_missing_file_is_an_error_naming_it(tmp_path: Path):
    assert_rejected(run(str(tmp_path / "nope.txt")),
                    f"{tmp_path / 'nope.txt'}: no such file or directory")


def test_help_describes_every_option():
    from retrieval.cli.parse_cmd import parse

    options = [p for p in parse.params if isinstance(p, click.Option)]
    assert {o.name for o in options} == {"format_", "date", "source", "page", "as_json"}
    assert all(o.help for o in options)
    result = CliRunner().invoke(main, ["parse", "--help"])
    assert result.exit_code == 0
    assert all(o.opts[0] in result.stdout for o in options)
    assert "parse" in CliRunner().invoke(main, ["--help"]).stdout


def test_parse_runs_as_a_real_process_and_pipes_json():
    result = subprocess.run(
        [sys.executable, "-m", "retrieval", "parse", str(SAMPLE_PAGE), "--json"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["articles"]) == 8
