"""The bot's state store (retrieval/state.py) and the rate limiter written through to it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bot.limits import RateLimiter
from retrieval.answer.conversation import History, Turn
from retrieval.errors import InputError
from retrieval.state import BotState


def turn(question: str, entity: str) -> Turn:
    return Turn(question=question, entity=entity, person=None, offset=0, k=3)


def test_many_chats_written_at_once_each_keep_their_own_conversation(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    with BotState.open(path) as state:
        def chat(chat_id: int) -> None:
            for n in range(20):
                state.set_history(chat_id, History((turn(f"问题{chat_id}-{n}", f"实体{chat_id}"),)))

        threads = [threading.Thread(target=chat, args=(c,)) for c in range(-8, 8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    with BotState.open(path) as reopened:  # as after a restart
        for chat_id in range(-8, 8):
            history = reopened.history(chat_id)
            assert history is not None and history.last == turn(f"问题{chat_id}-19",
                                                                f"实体{chat_id}")
        reopened.set_history(3, None)  # /reset
        assert reopened.history(3) is None


def test_a_rate_window_outlives_the_limiter(tmp_path: Path) -> None:
    now = [1_000_000.0]
    with BotState.open(tmp_path / "state.sqlite") as state:
        limiter = RateLimiter(2, 60, clock=lambda: now[0], state=state)
        assert limiter.retry_after(7) == 0 and limiter.retry_after(7) == 0
        restarted = RateLimiter(2, 60, clock=lambda: now[0] + 10, state=state)
        assert restarted.retry_after(7) == pytest.approx(50)
        assert restarted.retry_after(8) == 0  # other users are untouched
        elsewhere = RateLimiter(2, 60, clock=lambda: now[0] + 10, state=state, name="refusals")
        assert elsewhere.retry_after(7) == 0  # each limiter has its own windows
        later = RateLimiter(2, 60, clock=lambda: now[0] + 61, state=state)
        assert later.retry_after(7) == 0


def test_windows_that_have_run_out_are_dropped_on_restart(tmp_path: Path) -> None:
    import sqlite3

    now = [1_000_000.0]
    with BotState.open(tmp_path / "state.sqlite") as state:
        limiter = RateLimiter(3, 60, clock=lambda: now[0], state=state)
        for user_id in range(50):  # fifty users asked once, long ago
            limiter.retry_after(user_id)
        now[0] += 3600
        limiter.retry_after(7)
        restarted = RateLimiter(3, 60, clock=lambda: now[0] + 1, state=state)
        assert restarted.retry_after(7) == 0 and restarted.retry_after(7) == 0
        assert restarted.retry_after(7) == pytest.approx(59)  # user 7's window survived
    with sqlite3.connect(tmp_path / "state.sqlite") as db:
        assert db.execute("SELECT user_id FROM rate").fetchall() == [(7,)]


def test_a_file_that_is_not_a_state_database_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    path.write_bytes(b"not a database at all, just some bytes" * 100)
    with pytest.raises(InputError) as caught:
        BotState.open(path)
    assert str(path) in str(caught.value) and "move it aside" in str(caught.value)
