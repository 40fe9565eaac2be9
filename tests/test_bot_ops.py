"""Running the bot in a newsroom, end to end against the Telegram emulator: conversations and
rate windows survive a killed bot, and the metrics endpoint counts what users did."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.sample_values import QUESTION, READER
from tests.telegram.harness import TelegramEmulator, User
from tests.telegram.processes import free_port, newsqa_serve

NOT_IN_ARCHIVE = "聊城大学有多少名在校学生？"


def test_a_killed_bot_keeps_the_conversation_and_the_rate_window(
        telegram_emulator: TelegramEmulator, sample_index_copy: Path, tmp_path: Path
) -> None:
    index = sample_index_copy
    token = "5550002:NEWSQA-restart-token"
    state = tmp_path / "state.sqlite"
    options = ("--state", str(state), "--rate-limit", "3", "--rate-window", "600")
    user = telegram_emulator.client(token=token, user=READER)
    with newsqa_serve(telegram_emulator, index, *options, token=token, may_exit=(0, -9),
                      log=tmp_path / "first.log") as bot:
        user.send_message(QUESTION)
        [answer] = user.wait_for_bot_messages(count=1, timeout=60)
        assert "冠县" in answer.plain_text
        bot.send_signal(signal.SIGKILL)  # no clean shutdown: nothing may depend on one
        assert bot.wait(timeout=30) == -signal.SIGKILL

    with newsqa_serve(telegram_emulator, index, *options, token=token,
                      log=tmp_path / "second.log"):
        user.send_message("那它有几条生产线？")
        [follow] = user.wait_for_bot_messages(count=1, timeout=60)
        understood = follow.plain_text.splitlines()[0]
        assert understood.startswith("理解为：") and "冠县" in understood, follow.plain_text
        user.send_message("还有呢")
        user.wait_for_bot_messages(count=1, timeout=60)
        # The window (3 per 600 s) held the question asked before the kill: a fourth is refused.
        user.send_message("冠县有几家企业？")
        [limited] = user.wait_for_bot_messages(count=1, timeout=60)
        assert limited.plain_text.startswith("提问太快了"), limited.plain_text


def _scrape(port: int) -> dict[str, float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            values[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return values


def test_metrics_count_questions_outcomes_votes_and_the_index(
        telegram_emulator: TelegramEmulator, sample_index_copy: Path, tmp_path: Path
) -> None:
    index = sample_index_copy
    token = "5550003:NEWSQA-metrics-token"
    port = free_port()
    user = telegram_emulator.client(token=token, user=User(1003, "编辑部", "desk"))
    with newsqa_serve(telegram_emulator, index, "--metrics-port", str(port),
                      "--feedback", str(tmp_path / "feedback.sqlite"), token=token,
                      log=tmp_path / "serve.log"):
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert (health.status_code, health.text) == (200, "ok\n")
        before = _scrape(port)
        assert before["newsqa_questions_total{outcome=answered}"] == 0
        assert before["newsqa_index_articles"] == 8
        assert before["newsqa_index_chunks"] > 8 and before["newsqa_index_bytes"] > 0
        assert before["newsqa_index_chunks_pending_vectors"] == 0
        assert before["newsqa_index_last_ingest_timestamp_seconds"] > 1.7e9

        user.send_message(QUESTION)
        [answer] = user.wait_for_bot_messages(count=1, timeout=60)
        user.send_message(NOT_IN_ARCHIVE)
        user.wait_for_bot_messages(count=1, timeout=60)
        press = user.press_button(answer, "👍")
        user.callback_answer(press)

        after = _scrape(port)
        assert after["newsqa_questions_total{outcome=answered}"] == 1
        assert after["newsqa_questions_total{outcome=not_found}"] == 1
        assert after["newsqa_answer_seconds_count"] == 2
        assert 0 < after["newsqa_answer_seconds_sum"] < 60
        assert after["newsqa_votes_total{vote=up}"] == 1
        assert after["newsqa_votes_total{vote=down}"] == 0
        assert after["newsqa_errors_total"] == 0


def test_healthz_says_what_is_wrong_and_a_taken_port_is_refused_by_name() -> None:
    from bot.metrics import Metrics, serve
    from retrieval.errors import InputError

    port = free_port()
    problem: list[str | None] = ["index unavailable: database is locked"]
    server = serve(Metrics(), port, healthy=lambda: problem[0])
    try:
        sick = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert (sick.status_code, sick.text) == (503, "index unavailable: database is locked\n")
        problem[0] = None
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
        with pytest.raises(InputError, match=f"cannot serve metrics on 127.0.0.1:{port}"):
            serve(Metrics(), port, healthy=lambda: None)
    finally:
        server.shutdown()
        server.server_close()
