"""Lexical engines side by side on one synthetic archive: FTS5 as shipped, FTS5 with every word,
Tantivy (block-max WAND over the same words), same CMRC questions, one run.

    python bench/lexical_engines.py [--chunks 1000000] [--keep DIR] [--queries 200]
                                    [--product-only]

The archive is bench/search_latency.py's (chunks of 2–4 random CMRC dev sentences, random
vectors); ``--keep DIR`` writes it there and reuses it on the next run (building 1M chunks
takes minutes). Quality is the overlap of each engine's top 20 with the exact every-word FTS5
BM25 top 20 (Tantivy's BM25 differs from FTS5's slightly: its idf is ln(1 + (N−n+.5)/(n+.5)),
FTS5's ln((N−n+.5)/(n+.5)), and it quantises document lengths to one byte), plus Tantivy's
own top 20 with every word against the same.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.search_latency import CMRC, build, percentiles, rss_mb, sentences
from retrieval.index import Index
from retrieval.index.wordindex import WordIndex
from retrieval.normalize import query_words


def fts5_match(words: list[str]) -> str:
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in words)


def fts5_scores(index: Index, words: list[str], chunk_ids: list[str]) -> dict[str, float]:
    """FTS5's −bm25 of the every-word query for the given chunks."""
    if not chunk_ids:
        return {}
    marks = ",".join("?" * len(chunk_ids))
    rows = index._store.conn.execute(
        "SELECT c.chunk_id, -bm25(chunks_fts) FROM chunks_fts JOIN chunks c ON "
        f"c.id = chunks_fts.rowid WHERE chunks_fts MATCH ? AND c.chunk_id IN ({marks})",
        [fts5_match(words), *chunk_ids])
    return {str(c): float(score) for c, score in rows}


def build_words(path: Path, index: Index) -> tuple[WordIndex, float]:
    """A Tantivy index of the archive's words (from chunks_fts, as a rebuild reads them)."""
    started = time.perf_counter()
    words = WordIndex.recreate(path)
    rows = index._store.conn.execute(
        "SELECT c.id, f.words, c.date FROM chunks c JOIN chunks_fts f ON f.rowid = c.id")
    words.apply([], rows, index._store.generation())
    words.close()
    return words, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, default=None,
                        help="build the archive here (reused when already there)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--product-only", action="store_true",
                        help="time Index.lexical_search alone, three passes")
    parser.add_argument("--rebuild-words", action="store_true",
                        help="rebuild the Tantivy index even if --keep DIR has one")
    args = parser.parse_args()
    load = Path("/proc/loadavg").read_text().split()[0]
    print(f"load average at start {load}")
    questions = [json.loads(line)["question"] for line in
                 (CMRC / "qa.jsonl").read_text(encoding="utf-8").splitlines()]
    random.Random(3).shuffle(questions)
    questions = questions[: args.queries]
    tmp = None
    if args.keep is None:
        tmp = Path(tempfile.mkdtemp(prefix="lexical-engines-"))
        path = tmp / f"idx-{args.chunks}"
    else:
        path = args.keep
    try:
        if not (path / "newsqa.sqlite").exists():
            seconds = build(path, args.chunks, sentences(), seed=args.chunks)
            print(f"archive: {args.chunks:,} chunks written in {seconds:.0f}s")
        index = Index.open(path)
        n = index.stats().chunks
        if WordIndex.open(path, create=False) is None or args.rebuild_words:
            _, seconds = build_words(path, index)
            print(f"tantivy index built from SQLite in {seconds:.0f}s")
        before = rss_mb()
        words_index = WordIndex.open(path, create=False)
        assert words_index is not None
        words_index.reload()
        size = sum(p.stat().st_size for p in (path / "words").rglob("*") if p.is_file())
        print(f"{n:,} chunks; tantivy: {size / n:,.0f} B/chunk on disk, "
              f"RSS +{rss_mb() - before:,.0f} MB to open")
        if args.product_only:
            index.lexical_search(questions[0], 20)  # jieba's dictionary loads here
            for attempt in range(1, 4):
                one_pass: list[float] = []
                for question in questions:
                    t = time.perf_counter()
                    index.lexical_search(question, 20)
                    one_pass.append(time.perf_counter() - t)
                load = Path("/proc/loadavg").read_text().split()[0]
                print(f"    Index.lexical_search, pass {attempt} (load {load}) "
                      f"{percentiles(one_pass)}")
            index.close()
            return
        names = ("fts5 every word", "fts5 5% share (before)", "tantivy every word",
                 "Index.lexical_search")
        times: dict[str, list[float]] = {name: [] for name in names}
        overlap: dict[str, list[float]] = {name: [] for name in names[1:3]}
        tied: dict[str, list[float]] = {name: [] for name in names[1:3]}
        store = index._store
        for question in questions:
            t = time.perf_counter()
            words = query_words(question)
            exact_rows = store.lexical(fts5_match(words), 20, None, None)
            times[names[0]].append(time.perf_counter() - t)
            t = time.perf_counter()
            pruned = index._rare_enough(query_words(question), n)
            today = [r[0] for r in store.lexical(fts5_match(pruned), 20, None, None)]
            times[names[1]].append(time.perf_counter() - t)
            t = time.perf_counter()
            found = words_index.search(query_words(question), 20)
            known = store.resolve(rowid for rowid, _ in found)
            tv = [known[r][0] for r, _ in found if r in known]
            times[names[2]].append(time.perf_counter() - t)
            t = time.perf_counter()
            index.lexical_search(question, 20)
            times[names[3]].append(time.perf_counter() - t)
            if not exact_rows:
                continue
            exact = {r[0] for r in exact_rows}
            floor = exact_rows[-1][2] - 1e-9 if len(exact_rows) == 20 else -np.inf
            for name, got in ((names[1], today), (names[2], tv)):
                overlap[name].append(len(set(got) & exact) / len(exact))
                # Ties: many synthetic chunks share sentences, so equal scores abound and
                # which of them make the top 20 is arbitrary. A hit counts here when FTS5
                # scores it at least as high as its own 20th hit.
                scores = fts5_scores(index, words, got)
                good = sum(scores.get(c, -np.inf) >= floor for c in got[: len(exact)])
                tied[name].append(good / len(exact))
        for name in names:
            tail = ""
            if name in overlap:
                tail = (f"; top-20 overlap with fts5 every word: mean {np.mean(overlap[name]):.3f}"
                        f", min {np.min(overlap[name]):.2f}; counting ties "
                        f"{np.mean(tied[name]):.3f}")
            print(f"    {name:<22} {percentiles(times[name])}{tail}")
        index.close()
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
