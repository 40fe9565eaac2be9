"""Round trip user -> emulator -> python-telegram-bot -> emulator -> user, in milliseconds.

    python -m bench.telegram_roundtrip [--messages 50]     # from the repository root

Measures an echo bot two ways: a PTB Application polling from a thread of this process
(``running_application``) and a separate ``run_polling`` process (``bot_process``). Each round trip
is send_message + wait_for_bot_messages (server-side long polls, no sleeps). Prints median/p90/max.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from telegram import Update
from telegram.ext import ContextTypes, MessageHandler, filters

from tests.telegram.harness import (
    EmulatorClient,
    TelegramEmulator,
    running_application,
)
from tests.telegram.processes import bot_process

ECHO_PROCESS = textwrap.dedent("""
    import os
    from telegram.ext import ApplicationBuilder, MessageHandler, filters

    async def echo(update, context):
        await update.message.reply_text(update.message.text)

    app = (ApplicationBuilder().token(os.environ["TELEGRAM_BOT_TOKEN"])
           .base_url(os.environ["TELEGRAM_API_BASE_URL"]).build())
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(poll_interval=0, timeout=10)
""")


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(update.message.text)


def measure(user: EmulatorClient, messages: int) -> list[float]:
    user.send_message("warm-up")
    user.wait_for_bot_messages()
    samples = []
    for n in range(messages):
        started = time.perf_counter()
        user.send_message(f"第{n}条")
        [reply] = user.wait_for_bot_messages(timeout=10)
        samples.append((time.perf_counter() - started) * 1000)
        if reply.text != f"第{n}条":
            raise SystemExit(f"wrong echo: {reply.text!r}")
    return samples


def report(label: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p90 = ordered[int(len(ordered) * 0.9) - 1]
    print(f"{label:<28} n={len(samples):<4} median {statistics.median(samples):6.1f} ms  "
          f"p90 {p90:6.1f} ms  max {ordered[-1]:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50, help="round trips per mode")
    args = parser.parse_args()
    with TelegramEmulator() as emulator:
        app = emulator.application_builder("1:thread").build()
        app.add_handler(MessageHandler(filters.TEXT, echo))
        with running_application(app):
            report("PTB thread (in-process)", measure(emulator.client(token="1:thread"),
                                                      args.messages))
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "echo.py"
            script.write_text(ECHO_PROCESS)
            with bot_process([sys.executable, str(script)], emulator, token="2:process"):
                report("run_polling subprocess", measure(emulator.client(token="2:process"),
                                                         args.messages))


if __name__ == "__main__":
    main()
