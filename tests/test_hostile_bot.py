"""Issue 9, finding 1: an update python-telegram-bot cannot parse must not wedge the bot.

A real ``newsqa serve`` polls the emulator (tests/telegram). It is fed an update PTB 22 fails
to parse, then a question: the question is answered within seconds, the log holds one line
about the bad update, and a restarted bot does not fetch it again.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.updates import SkippingUpdatesRequest, is_placeholder
from tests.telegram.harness import EmulatorClient, TelegramEmulator, User

TOKEN = "5550009:NEWSQA-hostile-token"
READER = User(1009, "读者", "reader9")
QUESTION = "冠县有多少家绿色建材企业？"
NEWSQA = str(Path(sys.executable).with_name("newsqa"))
STARTUP_SECONDS = 300
ANSWER_SECONDS = 10.0  # "within seconds"; typically well under 1 s on an idle machine


def _poisoned_message(user: User) -> dict[str, Any]:
    """A message PTB 22 cannot parse: an entity without offset and length."""
    return {"message": {"text": "坏", "entities": [{"type": "bold"}], "from": user.to_dict(),
                        "chat": {"id": user.id, "type": "private",
                                 "first_name": user.first_name}}}


POLL_ANSWER = {"poll_answer": {"poll_id": "1", "option_ids": [0],
                               "user": READER.to_dict()}}  # no option_persistent_ids


@contextmanager
def serving(emulator: TelegramEmulator, index: Path,
            log: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, **emulator.bot_env(TOKEN), "NEWSQA_BOT_CONFIG": "",
           "PYTHONUNBUFFERED": "1"}
    command = [NEWSQA, "serve", "--index", str(index), "--feedback",
               str(index.parent / "feedback.sqlite"), "--state", str(index.parent / "state.sqlite"),
               "--log-level", "INFO"]
    with log.open("ab") as out, EmulatorClient(emulator.url, TOKEN) as probe:
        polls = probe.bot_state()["poll_count"]
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                try:
                    probe.wait_until_polling(after=polls, timeout=1)
                    break
                except AssertionError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"newsqa serve never polled:\n{log.read_text()[-3000:]}")
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def test_a_poison_update_is_logged_once_confirmed_and_skipped(
        telegram_emulator: TelegramEmulator, sample_page_index: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(sample_page_index, index)
    log = tmp_path / "serve.log"
    user = telegram_emulator.client(token=TOKEN, user=READER)
    with serving(telegram_emulator, index, log) as process:
        # Not subscribed to: the emulator, like Telegram, never delivers it.
        user.send_update(POLL_ANSWER)
        bad = user.send_update(_poisoned_message(READER))
        started = time.monotonic()
        user.send_message(QUESTION)
        [answer] = user.wait_for_bot_messages(count=1, timeout=ANSWER_SECONDS)
        took = time.monotonic() - started
        assert "冠县共有绿色建材企业15家" in answer.plain_text
        assert took < ANSWER_SECONDS
        print(f"poison update then question: answered in {took:.2f} s")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    first_run = log.read_text(encoding="utf-8", errors="replace")
    skipped = [line for line in first_run.splitlines() if "cannot be parsed" in line]
    assert len(skipped) == 1, first_run[-3000:]
    assert f"skipped update {bad} " in skipped[0] and len(skipped[0]) < 800
    assert "CRITICAL" not in first_run and "Traceback" not in first_run
    assert TOKEN.split(":")[1] not in first_run

    # A restart does not fetch the bad update again, and still answers.
    log.write_text("")
    with serving(telegram_emulator, index, log):
        user.send_message(QUESTION)
        [again] = user.wait_for_bot_messages(count=1, timeout=ANSWER_SECONDS)
        assert "冠县共有绿色建材企业15家" in again.plain_text
    assert "cannot be parsed" not in log.read_text(encoding="utf-8", errors="replace")


def test_the_request_replaces_only_unparseable_updates(caplog: pytest.LogCaptureFixture) -> None:
    good = {"update_id": 7, "message": {"message_id": 1, "date": 1, "text": "好",
                                        "chat": {"id": 1, "type": "private"}}}
    bad = {"update_id": 8, **POLL_ANSWER, "padding": "x" * 10_000}
    with caplog.at_level(logging.WARNING, logger="bot.updates"):
        checked = [SkippingUpdatesRequest._checked(item) for item in (good, bad)]
    assert checked == [good, {"update_id": 8}]
    [record] = caplog.records
    assert "skipped update 8 that cannot be parsed (TypeError" in record.getMessage()
    assert len(record.getMessage()) < 800  # truncated, not 10 KB of padding
    from telegram import Update

    assert is_placeholder(Update.de_json({"update_id": 8}, None))
    assert not is_placeholder(Update.de_json(good, None))


def test_the_bot_subscribes_only_to_the_updates_it_handles() -> None:
    from bot.app import ALLOWED_UPDATES

    assert sorted(ALLOWED_UPDATES) == ["callback_query", "inline_query", "message"]
