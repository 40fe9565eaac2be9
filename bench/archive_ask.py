"""Full ``ask`` on a large archive: warm latency with the reader, RAM, and cold ``newsqa ask``.

    python bench/archive_ask.py [--chunks 1000000] [--keep DIR] [--questions 200] [--cold 5]

The archive is a real newsqa index (the default model's manifest, HNSW past 200k chunks, the
Tantivy word index) whose chunks are 2-4 random sentences of CMRC 2018 dev passages
(../shared/benchmarks/cmrc2018-dev, CC BY-SA 4.0) and whose vectors are "real-like": the
normalised mean of the real e5 embeddings of those sentences (``search_latency.RealLike``;
embedding a million chunks would take ~14 h here). Questions are CMRC dev questions, so every
ask runs the whole path: query embedding, HNSW and Tantivy search, fusion, the reader over the
best passages, sentence choice. The answers themselves mean nothing (the chunks are sentence
salad); the figures are time and memory.

Phases, each printed with the load average: building the archive (skipped when ``--keep DIR``
already holds one), the first open (FAISS and the word index built from SQLite), a warm
``Library`` answering ``--questions`` questions one at a time (p50/p95) after ``--warm-up``
others (not counted), and the process's RSS; before that, ``--cold`` runs of ``newsqa ask`` as
a new process each (wall time, peak RSS).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.search_latency import CMRC, RealLike, build, sentences
from bench.shared import process_mb
from retrieval.library import Library


def load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def ms(samples: list[float], q: float) -> float:
    return float(np.percentile(np.array(samples) * 1000, q))


def make_archive(path: Path, n: int, questions: list[str]) -> None:
    pool = sentences()
    real = RealLike(pool, questions)
    Library.create(path).close()  # the default model's manifest and stores
    started = time.perf_counter()
    build(path, n, pool, seed=n, vectors_of=real.chunks)
    print(f"archive: {n:,} chunks written to SQLite in {time.perf_counter() - started:.0f}s "
          f"(load {load()})", flush=True)


def warm(path: Path, questions: list[str], warm_up: list[str]) -> None:
    started = time.perf_counter()
    library = Library.open(path)
    opened = time.perf_counter() - started
    library.warm_up()
    if not questions:
        library.close()
        print(f"opened in {opened:.1f}s (load {load()})", flush=True)
        return
    stats = library.about()
    print(f"opened in {opened:.1f}s (after a build, that includes making FAISS and the word "
          f"index from SQLite), {stats.chunks:,} chunks; RSS {process_mb('VmRSS'):,.0f} MB after "
          f"warm-up (load {load()})", flush=True)
    started = time.perf_counter()
    for question in warm_up:  # jieba's and the tokenizer's buckets, the mapped pages
        library.ask(question)
    if warm_up:
        print(f"{len(warm_up)} other questions first, not counted: "
              f"{time.perf_counter() - started:.1f}s", flush=True)
    times, found = [], 0
    for question in questions:
        t = time.perf_counter()
        answer = library.ask(question)
        times.append(time.perf_counter() - t)
        found += answer.found
    print(f"warm ask, {len(questions)} CMRC questions one at a time: p50 {ms(times, 50):.0f} ms  "
          f"p95 {ms(times, 95):.0f} ms  max {max(times) * 1000:.0f} ms ({found} answered); "
          f"RSS {process_mb('VmRSS'):,.0f} MB, peak {process_mb('VmHWM'):,.0f} MB "
          f"(load {load()})", flush=True)
    library.close()


def cold(path: Path, questions: list[str]) -> None:
    newsqa = Path(sys.executable).with_name("newsqa")
    walls = []
    for question in questions:
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t = time.perf_counter()
        done = subprocess.run([str(newsqa), "ask", question, "--index", str(path)],
                              capture_output=True, text=True,
                              env={**os.environ, "NEWSQA_INDEX": str(path)})
        walls.append(time.perf_counter() - t)
        if done.returncode not in (0, 1):  # 1: not found
            raise SystemExit(f"newsqa ask failed ({done.returncode}): {done.stderr[-500:]}")
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(f"cold `newsqa ask`: {walls[-1]:.2f} s wall, peak RSS so far "
              f"{max(peak, before) / 1024:,.0f} MB (load {load()})", flush=True)
    print(f"cold `newsqa ask`, {len(walls)} runs: best {min(walls):.2f} s, median "
          f"{float(np.median(walls)):.2f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--chunks", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None,
                        help="build the archive here, or reuse the one already here")
    parser.add_argument("--questions", type=int, default=200, help="warm asks")
    parser.add_argument("--warm-up", type=int, default=50,
                        help="questions asked before the timed ones, not counted")
    parser.add_argument("--cold", type=int, default=5, help="cold `newsqa ask` runs")
    args = parser.parse_args()

    questions = [json.loads(line)["question"] for line in
                 (CMRC / "qa.jsonl").read_text(encoding="utf-8").splitlines()]
    random.Random(5).shuffle(questions)
    print(f"load average at start {load()}; {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "archive"
        if not (path / "manifest.json").exists():
            make_archive(path, args.chunks, questions)
        else:
            print(f"reusing the archive at {path}", flush=True)
        if args.cold and (path / "vectors.faiss").exists():
            # First, while this process is small: a child's peak RSS counts what it shared
            # with its parent before exec.
            cold(path, questions[-args.cold:])
        first = args.questions + args.warm_up
        # The first open after a build makes FAISS and the word index from SQLite.
        warm(path, questions[args.warm_up:first], questions[:args.warm_up])


if __name__ == "__main__":
    main()
