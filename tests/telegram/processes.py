"""Real bot processes against the Telegram emulator: start, wait until ready, stop.

The one way tests start and stop ``newsqa serve`` (``newsqa_serve``) or any other bot script
(``bot_process``):

    with newsqa_serve(emulator, index_dir, "--admin", "42", log=tmp_path / "serve.log") as bot:
        user = emulator.client()
        user.send_command("/start")
        ...
    # the bot got SIGTERM (SIGKILL after 10 s); its output is in serve.log
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO

from tests.telegram.harness import DEFAULT_TOKEN, EmulatorClient, TelegramEmulator


@contextlib.contextmanager
def bot_process(command: Sequence[str], emulator: TelegramEmulator, *,
                token: str = DEFAULT_TOKEN, env: Mapping[str, str] | None = None,
                cwd: str | os.PathLike[str] | None = None,
                ready_timeout: float = 60.0, ready: str = "polling",
                log: Path | None = None, may_exit: Sequence[int] = (0,),
                ) -> Iterator[subprocess.Popen[bytes]]:
    """Run a real bot process (e.g. ``["newsqa", "serve"]``) against ``emulator``.

    The process gets TELEGRAM_API_BASE_URL, TELEGRAM_FILE_BASE_URL and TELEGRAM_BOT_TOKEN; the
    block starts once it is ready: it has called getUpdates (``ready="polling"``) or setWebhook
    (``ready="webhook"``). On exit it gets SIGTERM (then SIGKILL after 10 s). Its output (stdout
    and stderr) goes to ``log`` if given (read it after the block), else to a temporary file,
    and is attached to any failure. A bot that exits with a status other than 0 during the
    block fails it; exit status 0 is a clean stop, e.g. by a SIGTERM the test sent (a test
    that kills the bot itself lists the status in ``may_exit``, e.g. ``(0, -9)``).
    """
    name = " ".join(command)
    full_env = {**os.environ, **emulator.bot_env(token), **(env or {})}
    with contextlib.ExitStack() as stack:
        out: IO[bytes] = (stack.enter_context(log.open("w+b")) if log is not None
                          else stack.enter_context(tempfile.TemporaryFile()))
        client = stack.enter_context(EmulatorClient(emulator.url, token))

        def output() -> str:
            out.flush()
            out.seek(0)
            return out.read().decode("utf-8", "replace")[-4000:]

        polls_before = client.bot_state()["poll_count"]
        process = subprocess.Popen(list(command), env=full_env, cwd=cwd, stdout=out, stderr=out)
        try:
            _wait_until_ready(client, process, ready, polls_before, ready_timeout,
                              lambda: f"{name} ({_state(process)}) never {_READY[ready]}:\n"
                                      f"{output()}")
            yield process
            if process.poll() not in (None, *may_exit):
                raise AssertionError(f"{name} exited early ({process.returncode}):\n{output()}")
        finally:
            stop_process(process)


_READY = {"polling": "polled getUpdates", "webhook": "called setWebhook"}


def _state(process: subprocess.Popen[bytes]) -> str:
    code = process.poll()
    return "still running" if code is None else f"exited with {code}"


def _wait_until_ready(client: EmulatorClient, process: subprocess.Popen[bytes], ready: str,
                      polls_before: int, timeout: float, failure: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while True:
        # Short slices, so a bot that dies during startup fails the test at once.
        if ready == "webhook":
            if client.bot_state()["webhook"] is not None:
                return
            time.sleep(0.5)
        else:
            try:
                client.wait_until_polling(after=polls_before, timeout=0.5)
                return
            except AssertionError:
                pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(failure()) from None


def stop_process(process: subprocess.Popen[bytes], *, timeout: float = 10.0) -> None:
    """SIGTERM a process still running, then SIGKILL it after ``timeout`` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# The `newsqa` script of the Python running the tests (the .venv's).
NEWSQA = str(Path(sys.executable).with_name("newsqa"))


def newsqa(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the installed ``newsqa`` command as a user would; ``ok``: it must succeed."""
    result = subprocess.run([NEWSQA, *args], capture_output=True, text=True, timeout=600)
    if ok:
        assert result.returncode == 0, (result.stdout, result.stderr)
    return result


def newsqa_serve(emulator: TelegramEmulator, index: Path, *options: str,
                 token: str = DEFAULT_TOKEN, log: Path | None = None,
                 ready: str = "polling", ready_timeout: float = 300.0,
                 may_exit: Sequence[int] = (0,),
                 ) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
    """``newsqa serve --index INDEX OPTIONS…`` as a bot process (see :func:`bot_process`).

    No bot config file is read (NEWSQA_BOT_CONFIG is empty). Unless ``--state`` is among the
    options, the bot remembers conversations in a fresh state file of its own (never the
    user's). Loading the model can take minutes on a busy CI machine, hence the long default
    ``ready_timeout``.
    """
    command = [NEWSQA, "serve", "--index", str(index), *options]
    state = Path(tempfile.mkdtemp(prefix="newsqa-state-")) / "state.sqlite"
    env = {"NEWSQA_BOT_CONFIG": "", "PYTHONUNBUFFERED": "1", "NEWSQA_STATE": str(state)}
    return bot_process(command, emulator, token=token, env=env, log=log, ready=ready,
                       ready_timeout=ready_timeout, may_exit=may_exit)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
