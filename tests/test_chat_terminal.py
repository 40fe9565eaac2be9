"""``newsqa chat`` at a real terminal (a pseudo-terminal): line editing and a history that
outlives the session — ↑ recalls the question asked in the previous one."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from pathlib import Path

from tests.sample_values import QUESTION
from tests.telegram.processes import NEWSQA

# The answer's words before the highlighted figure (a terminal shows the figure in colour).
ANSWERED = "冠县共有绿色建材企业"
PROMPT = "问> "
UP = "\x1b[A"
CTRL_D = "\x04"


class Terminal:
    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen([NEWSQA, *args], stdin=slave, stdout=slave,
                                        stderr=slave, env=env, close_fds=True)
        os.close(slave)
        self.raw = b""

    @property
    def seen(self) -> str:
        return self.raw.decode("utf-8", "replace")  # whole, so no character is cut in two

    def read_until(self, text: str, timeout: float = 180.0) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"never saw {text!r}; the terminal showed:\n{self.seen[-2000:]}"
            ready, _, _ = select.select([self.master], [], [], min(left, 1.0))
            if ready:
                try:
                    self.raw += os.read(self.master, 65536)
                except OSError:  # the process closed the terminal
                    assert text in self.seen, self.seen[-2000:]
        return self.seen

    def wait_for_prompt(self, n: int) -> None:
        """Until the n-th prompt: keys typed before readline reads would race its terminal
        setup (a Ctrl-D could be taken by the line discipline instead)."""
        deadline = time.monotonic() + 180
        while self.seen.count(PROMPT) < n:
            assert time.monotonic() < deadline, self.seen[-2000:]
            self.read_until(PROMPT, timeout=max(1.0, deadline - time.monotonic()))
            if self.seen.count(PROMPT) < n:
                ready, _, _ = select.select([self.master], [], [], 1.0)
                if ready:
                    self.raw += os.read(self.master, 65536)

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode("utf-8"))

    def close(self) -> int:
        code = self.process.wait(timeout=60)
        os.close(self.master)
        return code


def test_chat_at_a_terminal_keeps_a_history_between_sessions(
        sample_page_index: Path, tmp_path: Path) -> None:
    history = tmp_path / "chat_history"
    env = {**os.environ, "NEWSQA_CHAT_HISTORY": str(history), "TERM": "xterm"}
    args = ("chat", "--index", str(sample_page_index))

    first = Terminal(*args, env=env)
    first.wait_for_prompt(1)
    first.type(QUESTION + "\r")
    first.read_until(ANSWERED)
    first.wait_for_prompt(2)
    first.type(CTRL_D)
    assert first.close() == 0
    assert QUESTION in history.read_text(encoding="utf-8")

    second = Terminal(*args, env=env)
    second.wait_for_prompt(1)
    before = second.seen.count(ANSWERED)
    second.type(UP + "\r")  # the last session's question, recalled and asked again
    second.read_until(ANSWERED)
    assert second.seen.count(ANSWERED) > before
    second.wait_for_prompt(2)
    second.type(CTRL_D)
    assert second.close() == 0
