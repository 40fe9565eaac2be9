"""End to end: a real ``newsqa serve`` process polling the Telegram emulator (tests/telegram).

One bot process serves a copy of the sample-page index for the whole module; each test plays a
different user or chat so their messages never mix. Every HTML message read is validated
against Telegram's rules by the harness. The last test stops the process with SIGTERM and reads
its log: it must have exited cleanly and never printed the token.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from retrieval.sources.loading import load_articles
from tests.sample_values import ADMIN, ANSWER, QUESTION, READER, SAMPLE_PAGE, STRANGER
from tests.telegram.harness import (
    BOT_USERNAME,
    Chat,
    EmulatorClient,
    TelegramEmulator,
    User,
)
from tests.telegram.offline import command_update
from tests.telegram.processes import NEWSQA, newsqa_serve

TOKEN = "5550001:NEWSQA-e2e-secret-token"
GROUP = Chat(-1009001, "group", title="报社群")


@dataclass
class Served:
    emulator: TelegramEmulator
    process: subprocess.Popen[bytes]
    log: Path
    feedback: Path
    index: Path

    def client(self, user: User = READER) -> EmulatorClient:
        return self.emulator.client(token=TOKEN, user=user)


@pytest.fixture(scope="module")
def served(telegram_emulator: TelegramEmulator, sample_page_index: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``newsqa serve`` on a writable copy of the sample index, with an allow-list and admin."""
    folder = tmp_path_factory.mktemp("serve")
    index = folder / "index"
    shutil.copytree(sample_page_index, index)
    log = folder / "serve.log"
    feedback = folder / "feedback.sqlite"
    with newsqa_serve(telegram_emulator, index, "--feedback", str(feedback),
                      "--admin", str(ADMIN.id), "--allow-user", str(READER.id),
                      "--allow-chat", str(GROUP.id), "--log-level", "DEBUG",
                      token=TOKEN, log=log) as process:
        yield Served(telegram_emulator, process, log, feedback, index)


def test_start_shows_examples_and_commands_are_registered(served: Served) -> None:
    user = served.client()
    user.send_command("/start")
    [reply] = user.wait_for_bot_messages(count=1, timeout=30)
    assert reply.plain_text.startswith("你好！我是报纸问答机器人。")
    assert reply.plain_text.count("\n· 《") == 3
    commands = [c["command"] for c in user.commands("default", "en")]
    assert commands == ["start", "help", "search", "latest", "about", "reset", "ask"]
    assert user.commands("default", "zh")[2]["description"] == "按关键词查找报道"


def test_a_question_is_answered_with_a_cited_quote_and_typing_shown(served: Served) -> None:
    user = served.client()
    asked = user.send_message(QUESTION)
    [answer] = user.wait_for_bot_messages(count=1, timeout=30)
    shown = answer.parsed()
    assert ANSWER in shown.text
    assert "[1] 《链上发力 攀高向强》 · 记者 王培源、李子涛" in shown.text
    assert shown.entity_texts("bold")
    assert answer.reply_to_message_id == asked.message_id
    actions = user.bot_state()["chat_actions"]
    assert any(str(a["chat_id"]) == str(READER.id) and a["action"] == "typing" for a in actions)
    # 👍 is stored with the question, ready for `newsqa feedback export`.
    press = user.press_button(answer, "👍")
    assert user.callback_answer(press)["text"] == "谢谢反馈 👍"
    exported = subprocess.run(
        [NEWSQA, "feedback", "export", "--format", "jsonl", "--feedback", str(served.feedback)],
        capture_output=True, text=True, check=True,
    ).stdout
    voted = json.loads(exported.splitlines()[-1])
    assert (voted["question"], voted["span"]) == (QUESTION, "15家")
    # … and, as a training pair for the reader, with `newsqa feedback pairs`.
    pairs = served.log.parent / "pairs"
    subprocess.run([NEWSQA, "feedback", "pairs", "-o", str(pairs), "--index", str(served.index),
                    "--feedback", str(served.feedback)], capture_output=True, check=True)
    [pair] = [json.loads(line) for line in (pairs / "qa.jsonl").read_text("utf-8").splitlines()]
    assert (pair["question"], pair["answers"]) == (QUESTION, ["15家"])


def test_a_follow_up_question_is_read_in_the_conversation(served: Served) -> None:
    user = served.client(READER)
    user.send_command("/reset")
    user.wait_for_bot_messages(count=1, timeout=30)
    user.send_message(QUESTION)
    user.wait_for_bot_messages(count=1, timeout=30)
    user.send_message("那它有几条生产线？")
    [follow] = user.wait_for_bot_messages(count=1, timeout=30)
    first_line = follow.plain_text.splitlines()[0]
    assert first_line.startswith("理解为：") and "它" not in first_line


def test_search_lists_headlines_with_excerpts(served: Served) -> None:
    user = served.client()
    user.send_command("/search 绿色建材")
    [reply] = user.wait_for_bot_messages(count=1, timeout=30)
    assert reply.plain_text.startswith("关于“绿色建材”的报道：")
    assert "1. 《链上发力 攀高向强》" in reply.plain_text
    assert reply.button("📄 原文 1")


def test_inline_query_returns_shareable_cited_excerpts(served: Served) -> None:
    user = served.client()
    answer = user.inline_query("建材企业", timeout=30)
    assert 1 <= len(answer.results) <= 10
    assert answer.results[0]["title"] == "链上发力 攀高向强"
    assert "—— 《链上发力 攀高向强》" in answer.results[0]["input_message_content"]["message_text"]


def test_in_a_group_only_mentions_are_answered(served: Served) -> None:
    user = served.client()
    user.group_message("今天开会吗？", chat=GROUP, mention=False)
    user.expect_no_bot_messages(GROUP.id, within=1.0)
    user.group_message(QUESTION, chat=GROUP, bot_username=BOT_USERNAME)
    [reply] = user.wait_for_bot_messages(GROUP.id, count=1, timeout=30)
    assert ANSWER in reply.plain_text


def test_users_outside_the_allow_list_are_refused(served: Served) -> None:
    user = served.client(STRANGER)
    user.send_message(QUESTION)
    [reply] = user.wait_for_bot_messages(count=1, timeout=30)
    assert reply.plain_text == "抱歉，这个机器人只对授权用户开放。"


def test_admin_upload_then_reading_a_long_article_page_by_page(
        served: Served, tmp_path: Path) -> None:
    # One long article made of the whole sample page: longer than a Telegram message.
    body = "\n".join(a.text for a in load_articles(SAMPLE_PAGE))
    record = {"id": "digest-2023-10-09", "title": "聊城日报要闻汇编", "date": "2023-10-09",
              "source": "聊城日报", "text": body}
    upload = tmp_path / "digest.jsonl"
    upload.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    admin = served.client(ADMIN)
    admin.send_document(upload)
    progress, summary = admin.wait_for_bot_messages(count=2, timeout=120)
    assert progress.plain_text.startswith("正在导入 digest.jsonl")
    assert summary.plain_text == (
        "导入完成：digest.jsonl\n新增 1 篇，替换 0 篇，未变 0 篇，拒收 0 个。")
    reader = served.client(READER)
    reader.send_document(upload)
    [refusal] = reader.wait_for_bot_messages(count=1, timeout=30)
    assert refusal.plain_text == "抱歉，只有管理员可以上传稿件。"

    admin.send_command("/search 聊城日报要闻汇编")
    [found] = admin.wait_for_bot_messages(count=1, timeout=30)
    number = next(n for n, line in enumerate(
        (ln for ln in found.plain_text.splitlines() if ln[:1].isdigit()), start=1)
        if "聊城日报要闻汇编" in line)
    admin.press_button(found, f"📄 原文 {number}")
    [page] = admin.wait_for_bot_messages(count=1, timeout=30)
    pages = int(page.plain_text.rsplit("/", 1)[1].split()[0])
    assert pages >= 2 and page.parsed().entity_texts("underline")
    current = int(page.plain_text.rsplit("第 ", 1)[1].split("/")[0])
    arrow = "▶" if current < pages else "◀"
    admin.press_button(page, arrow)
    turned = admin.wait_for_edit(page, timeout=30)
    moved = int(turned.plain_text.rsplit("第 ", 1)[1].split("/")[0])
    assert moved == (current + 1 if arrow == "▶" else current - 1)
    assert turned.plain_text != page.plain_text


def test_admin_upload_of_an_e_paper_pdf_page_is_ingested_and_answered(
        served: Served, tmp_path: Path) -> None:
    # A photo and a short story of the sample page typeset as page 5 of an e-paper
    # (bench/pdfgen.py; small, as the emulator takes uploads under 100 kB).
    from bench.pagegen import sample_articles
    from bench.pdfgen import PageSpec, typeset_page

    title = "市国土空间规划审查委员会召开2023年第六次会议"
    stories = [a for a in sample_articles() if a.title == title or a.kind == "photo"]
    upload = tmp_path / "lcrb-2023-10-12_05.pdf"
    truth = typeset_page(stories, PageSpec("聊城日报", "2023-10-12", 5, columns=6, body=9.0),
                         random.Random(5), upload)
    assert len(truth.articles) == 2
    admin = served.client(ADMIN)
    admin.send_document(upload)
    progress, summary = admin.wait_for_bot_messages(count=2, timeout=180)
    assert progress.plain_text.startswith("正在导入 lcrb-2023-10-12_05.pdf")
    assert summary.plain_text == (
        "导入完成：lcrb-2023-10-12_05.pdf\n新增 2 篇，替换 0 篇，未变 0 篇，拒收 0 个。")
    admin.send_command("/search 国土空间规划审查委员会")
    [found] = admin.wait_for_bot_messages(count=1, timeout=30)
    # The sample index already holds this story without date or page; the page's copy is
    # listed beside it with both.
    assert found.plain_text.count(title) == 2, found.plain_text
    assert "2023-10-12 · 聊城日报 5" in found.plain_text, found.plain_text


def test_sigterm_stops_the_bot_cleanly_and_the_token_never_reaches_the_log(
        served: Served) -> None:
    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=30) == 0
    log = served.log.read_text(encoding="utf-8", errors="replace")
    assert "getUpdates" in log  # DEBUG logging was on, request URLs included
    assert TOKEN not in log and TOKEN.split(":")[1] not in log


def test_webhook_mode_registers_the_url_and_accepts_only_updates_with_the_secret(
        telegram_emulator: TelegramEmulator, sample_page_index: Path, tmp_path: Path) -> None:
    token, secret = "5550003:NEWSQA-webhook-token", "webhook-secret-123"
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        port = probe_socket.getsockname()[1]
    url = f"http://127.0.0.1:{port}/newsqa"
    shutil.copytree(sample_page_index, tmp_path / "index")
    user = telegram_emulator.client(token=token, user=READER)
    with newsqa_serve(telegram_emulator, tmp_path / "index", "--feedback",
                      str(tmp_path / "fb.sqlite"), "--webhook-url", url, "--listen", "127.0.0.1",
                      "--port", str(port), "--webhook-secret", secret, token=token,
                      ready="webhook", log=tmp_path / "serve.log") as process:
        assert user.bot_state()["webhook"]["url"] == url
        update = command_update("/start", user=READER)
        forged = httpx.post(url, json=update, timeout=30)
        assert forged.status_code == 403
        genuine = httpx.post(url, json=update, timeout=30,
                             headers={"X-Telegram-Bot-Api-Secret-Token": secret})
        assert genuine.status_code == 200
        [reply] = user.wait_for_bot_messages(count=1, timeout=30)
        assert reply.plain_text.startswith("你好！我是报纸问答机器人。")
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
        assert code == 0, (tmp_path / "serve.log").read_text(errors="replace")[-3000:]
