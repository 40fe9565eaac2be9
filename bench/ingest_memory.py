"""Memory while ingesting a large archive (issue 12: "memory flat while ingesting 100k
articles"), through the real path: `Library.ingest` (words first) then `Library.embed_pending`
with the real default model, sampling this process's RSS as it goes.

    nice -n 5 python bench/ingest_memory.py [--articles 100000] [--vector-minutes 8]
                                            [--every 10000] [--keep DIR]

1. Words: ``--articles`` articles, generated lazily (a generator: the archive is never held in
   memory), each 2-4 paragraphs of 2-4 random sentences of CMRC 2018 dev passages (as
   bench/search_latency.py builds its chunks; realistic Chinese text and word statistics),
   one date a day over a decade, go through ``Library.ingest(..., vectors=False)``: chunking,
   jieba, SQLite, the Tantivy word index. RSS is printed every ``--every`` articles.
2. Vectors: ``Library.embed_pending(seconds=...)`` embeds the newest chunks for
   ``--vector-minutes`` minutes (a decade's 300k chunks would take hours on 2 cores), RSS
   printed every ~30 s beside the size of the FAISS copy (1.5 KB per embedded chunk, float32:
   that part of the growth is the index itself).

Corpus: CMRC 2018 dev (Cui et al., EMNLP 2019; CC BY-SA 4.0), from the shared folder
(bench/shared.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from bench.shared import cmrc_dir, process_mb
from retrieval.articles import Article
from retrieval.index import IngestProgress, VectorProgress
from retrieval.library import Library

FAISS_BYTES = 384 * 4  # per embedded chunk: the float32 vector in the in-memory FAISS copy


def rss_mb() -> float:
    return process_mb("VmRSS")


def rss_parts() -> str:
    """RSS split: anonymous memory (the heap: what would leak) and file pages (the model's
    memory-mapped weights, touched as new tokens appear: shared, bounded by the file)."""
    return f"anon {process_mb('RssAnon'):5.0f} file {process_mb('RssFile'):4.0f} MB"


def peak_mb() -> float:
    return process_mb("VmHWM")


def sentences() -> list[str]:
    out: list[str] = []
    for line in (cmrc_dir() / "contexts.jsonl").read_text(encoding="utf-8").splitlines():
        text = json.loads(line)["text"]
        out.extend(s for s in re.findall(r"[^。！？\n]+[。！？]?", text) if len(s) >= 8)
    return out


def articles(n: int, pool: list[str], seed: int = 12) -> Iterator[Article]:
    """``n`` articles made of random CMRC sentences, one at a time."""
    rng = random.Random(seed)
    first = date(2014, 1, 1)
    for i in range(n):
        paragraphs = tuple("".join(rng.sample(pool, rng.randint(2, 4)))
                           for _ in range(rng.randint(2, 4)))
        yield Article(id=f"bench-{i:07d}", title=rng.choice(pool)[:24], paragraphs=paragraphs,
                      date=(first + timedelta(days=i // 25)).isoformat(), source="bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--vector-minutes", type=float, default=8.0)
    parser.add_argument("--every", type=int, default=10_000, help="articles between RSS lines")
    parser.add_argument("--keep", type=Path, help="build the index here and keep it")
    args = parser.parse_args()

    pool = sentences()
    print(f"corpus: {args.articles} articles of {len(pool)} CMRC dev sentences; "
          f"load {os.getloadavg()[0]:.1f}; RSS at start {rss_mb():.0f} MB")
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "index"
        library = Library.create(path)
        words_rows: list[tuple[int, int, float, float]] = []
        next_line = args.every

        def on_words(p: IngestProgress) -> None:
            nonlocal next_line
            if p.articles_done >= next_line or p.articles_done == p.articles_total:
                rss = rss_mb()
                words_rows.append((p.articles_done, p.chunks_done, p.elapsed, rss))
                print(f"  words: {p.articles_done:>7} articles {p.chunks_done:>7} chunks "
                      f"{p.elapsed:7.1f} s  {p.chunks_done / max(p.elapsed, 1e-9):6.0f} chunks/s"
                      f"  RSS {rss:6.0f} MB ({rss_parts()})  load {os.getloadavg()[0]:.1f}",
                      flush=True)
                next_line += args.every

        print("1. words (Library.ingest, vectors=False)")
        report = library.ingest(articles(args.articles, pool), total=args.articles,
                                vectors=False, progress=on_words)
        print(f"   {len(report.added)} articles, {report.chunks_added} chunks in "
              f"{report.seconds:.1f} s ({report.chunks_added / report.seconds:.0f} chunks/s); "
              f"{report.chunks_pending} wait for vectors; peak RSS {peak_mb():.0f} MB")
        settled = [rss for done, *_, rss in words_rows if done >= args.every]
        if len(settled) >= 2:
            print(f"   RSS from {args.every} articles on: min {min(settled):.0f} MB, "
                  f"max {max(settled):.0f} MB (growth {max(settled) - settled[0]:+.0f} MB)")

        print(f"2. vectors (Library.embed_pending for {args.vector_minutes} min, newest first)")
        last_print = 0.0
        vector_rows: list[tuple[int, float, float]] = []

        def on_vectors(p: VectorProgress) -> None:
            nonlocal last_print
            if p.elapsed - last_print < 30 and vector_rows:
                vector_rows.append((p.chunks_done, p.elapsed, rss_mb()))
                return
            last_print = p.elapsed
            rss = rss_mb()
            vector_rows.append((p.chunks_done, p.elapsed, rss))
            faiss_mb = p.chunks_done * FAISS_BYTES / 2**20
            print(f"  vectors: {p.chunks_done:>6} chunks {p.elapsed:6.1f} s "
                  f"{p.chunks_done / max(p.elapsed, 1e-9):5.1f} chunks/s  RSS {rss:6.0f} MB  "
                  f"({rss_parts()})  FAISS copy {faiss_mb:5.1f} MB  "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)

        vectors = library.embed_pending(seconds=args.vector_minutes * 60, progress=on_vectors)
        print(f"   {vectors.chunks_embedded} chunks embedded in {vectors.seconds:.1f} s "
              f"({vectors.chunks_embedded / max(vectors.seconds, 1e-9):.1f} chunks/s); "
              f"{vectors.chunks_pending} still wait; peak RSS {peak_mb():.0f} MB")
        if len(vector_rows) >= 2:
            base = vector_rows[0][2] - vector_rows[0][0] * FAISS_BYTES / 2**20
            rest = [rss - done * FAISS_BYTES / 2**20 for done, _, rss in vector_rows]
            print(f"   RSS less the FAISS copy, from the first batch on: {base:.0f} → "
                  f"{rest[-1]:.0f} MB (max {max(rest):.0f})")
        stats = library.about()
        print(f"index: {stats.articles} articles, {stats.chunks} chunks, "
              f"{stats.pending_vectors} waiting for vectors, "
              f"{stats.bytes_on_disk / stats.chunks:.0f} B/chunk on disk")
        library.close()


if __name__ == "__main__":
    main()
