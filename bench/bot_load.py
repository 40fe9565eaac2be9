"""Load benchmark: N simulated users asking the real bot at once, through the Telegram emulator.

    python -m bench.bot_load                      # 10 and 50 users, 4 questions each
    python -m bench.bot_load --users 50 --rounds 6 --index ~/.local/share/newsqa/index

Starts the emulator (tests/telegram) and a real ``newsqa serve`` process, then every simulated
user (own Telegram id, own HTTP client, own thread) asks its questions one after another:
send, wait for the answer, send the next. Turnaround is measured at the user: from the moment
the emulator accepted the question to the moment the answer was readable. Afterwards every chat
is checked: exactly one answer per question, each replying to its own question (none lost, none
duplicated). Needs node and ``make setup`` (the emulator's npm packages).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.telegram.harness import EmulatorClient, TelegramEmulator, User

TOKEN = "5550002:NEWSQA-bench-token"
SAMPLE_PAGE = Path(__file__).resolve().parent.parent / "retrieval/data/liaocheng-daily-page.txt"
QUESTIONS = (
    "冠县有多少家绿色建材企业？",
    "东昌府区如何推动工业经济提质增效？",
    "刘修建是做什么工作的？",
    "市国土空间规划审查委员会开了第几次会议？",
    "普惠金融有什么新举措？",
    "民营小微企业三年提升行动是什么？",
    "火星上的沙尘暴持续多久？",  # not in the archive: the not-found path is timed too
    "美安建材集团生产什么？",
)


@dataclass
class UserRun:
    user: User
    turnarounds: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def build_index(folder: Path) -> Path:
    from retrieval.library import Library
    from retrieval.sources.loading import load_articles

    path = folder / "index"
    with Library.create(path) as library:
        library.ingest(load_articles(SAMPLE_PAGE))
    return path


def start_bot(emulator: TelegramEmulator, index: Path, folder: Path) -> subprocess.Popen[bytes]:
    newsqa = shutil.which("newsqa", path=str(Path(sys.executable).parent)) or "newsqa"
    env = {**os.environ, **emulator.bot_env(TOKEN), "NEWSQA_BOT_CONFIG": ""}
    log = (folder / "serve.log").open("wb")
    command = [newsqa, "serve", "--index", str(index), "--feedback", str(folder / "fb.sqlite"),
               "--state", str(folder / "state.sqlite"),
               "--rate-limit", "100000", "--log-level", "WARNING"]
    with EmulatorClient(emulator.url, TOKEN) as probe:
        polls = probe.bot_state()["poll_count"]
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and process.poll() is None:
            try:
                probe.wait_until_polling(after=polls, timeout=30)
                return process
            except AssertionError:
                continue
    process.kill()
    raise SystemExit(f"newsqa serve did not start; see {folder / 'serve.log'}")


def run_user(emulator: TelegramEmulator, run: UserRun, rounds: int, offset: int,
             start: threading.Barrier) -> None:
    with EmulatorClient(emulator.url, TOKEN, run.user) as client:
        start.wait()
        for n in range(rounds):
            question = QUESTIONS[(offset + n) % len(QUESTIONS)]
            began = time.perf_counter()
            sent = client.send_message(question)
            try:
                [reply] = client.wait_for_bot_messages(count=1, timeout=120)
            except AssertionError as exc:
                run.problems.append(f"lost: {question!r} ({exc})")
                continue
            run.turnarounds.append(time.perf_counter() - began)
            if reply.reply_to_message_id != sent.message_id:
                run.problems.append(f"answer to {reply.reply_to_message_id}, "
                                    f"expected {sent.message_id}")
        try:  # anything more would be a duplicate (or a stray) answer
            client.expect_no_bot_messages(within=1.0)
        except AssertionError as exc:
            run.problems.append(f"extra message: {exc}")


def measure(emulator: TelegramEmulator, n_users: int, rounds: int,
            first_id: int) -> dict[str, float]:
    runs = [UserRun(User(first_id + i, f"读者{i}", f"reader{first_id + i}"))
            for i in range(n_users)]
    barrier = threading.Barrier(n_users + 1)
    threads = [threading.Thread(target=run_user, args=(emulator, r, rounds, i, barrier))
               for i, r in enumerate(runs)]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    times = sorted(t for r in runs for t in r.turnarounds)
    problems = [f"user {r.user.id}: {p}" for r in runs for p in r.problems]
    for problem in problems[:10]:
        print("  PROBLEM", problem)
    answered = len(times)
    expected = n_users * rounds
    counts = Counter(len(r.turnarounds) for r in runs)
    return {
        "users": n_users, "questions": expected, "answered": answered,
        "lost_or_duplicated": expected - answered + sum("extra" in p for p in problems),
        "answers_per_s": answered / elapsed,
        "p50_ms": 1000 * statistics.median(times) if times else float("nan"),
        "p95_ms": 1000 * times[max(0, int(0.95 * len(times)) - 1)] if times else float("nan"),
        "max_ms": 1000 * times[-1] if times else float("nan"),
        "users_fully_answered": counts.get(rounds, 0),
    }


def baseline(index: Path) -> None:
    """What the library alone costs, to separate it from the bot's and Telegram's share."""
    from retrieval.library import Library

    with Library.open(index) as library:
        library.ask_batch(list(QUESTIONS))  # load the model and warm caches
        single = []
        for question in QUESTIONS:
            began = time.perf_counter()
            library.ask(question)
            single.append(time.perf_counter() - began)
        batch = [q for _ in range(4) for q in QUESTIONS]
        began = time.perf_counter()
        library.ask_batch(batch)
        per_batch = time.perf_counter() - began
    print(f"library alone: ask p50 {1000 * statistics.median(single):.0f} ms; "
          f"ask_batch of {len(batch)}: {1000 * per_batch:.0f} ms "
          f"({1000 * per_batch / len(batch):.0f} ms per question)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[1, 10, 50],
                        help="Simulated user counts to measure, one run each.")
    parser.add_argument("--rounds", type=int, default=4, help="Questions each user asks.")
    parser.add_argument("--index", type=Path,
                        help="Index to serve (default: a fresh one of the sample page).")
    parser.add_argument("--no-baseline", action="store_true",
                        help="Skip timing Library.ask alone (in this process, no Telegram).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="newsqa-bot-load-") as tmp:
        folder = Path(tmp)
        index = args.index or build_index(folder)
        if not args.no_baseline:
            baseline(index)
        with TelegramEmulator() as emulator:
            process = start_bot(emulator, index, folder)
            try:
                warm = measure(emulator, 1, 2, 900_000)  # first answers load lazy state
                print(f"warm-up: {warm['p50_ms']:.0f} ms per answer")
                for i, users in enumerate(args.users):
                    result = measure(emulator, users, args.rounds, 100_000 * (i + 1))
                    print(
                        f"{result['users']:>3} users × {args.rounds} questions: "
                        f"{result['answered']}/{result['questions']} answered, "
                        f"{result['lost_or_duplicated']} lost or duplicated, "
                        f"{result['answers_per_s']:.1f} answers/s, "
                        f"p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms, "
                        f"max {result['max_ms']:.0f} ms"
                    )
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


if __name__ == "__main__":
    main()
