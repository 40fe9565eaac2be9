"""Crash safety: real `newsqa ingest` processes are SIGKILLed at named points and at random
times; afterwards the index opens, `check` passes, every article present is complete in every
store (its vectors may still be pending: words come first), nothing of the others exists, and
a rerun (or `newsqa embed`) completes without duplicates, every chunk embedded.

Named points come from the test-only hook NEWSQA_CRASH_AT=<point>:<n> (retrieval/index/files.py).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from retrieval.articles import Article
from retrieval.chunks import chunk_article
from retrieval.index import Index
from retrieval.index.vectorfile import read_generation

CORPUS = Path(__file__).parent / "data" / "cmrc2018-small-articles.jsonl"
N_ARTICLES = 48
BATCH = 6
PRELOADED = 18  # three batches ingested cleanly first, so a vectors file exists to fall behind
VECTORS = 2 * BATCH  # chunks per committed batch of vectors (twice --batch-size)


def load_corpus() -> tuple[list[dict], list[Article]]:
    records = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    records = records[:N_ARTICLES]
    articles = [
        Article(id=r["id"], title=r["title"], paragraphs=(r["text"],), date=r["date"],
                source=r["source"])
        for r in records
    ]
    return records, articles


@pytest.fixture()
def setup(tmp_path: Path, embedder) -> tuple[Path, Path, list[Article]]:
    records, articles = load_corpus()
    source = tmp_path / "articles.jsonl"
    source.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    index_dir = tmp_path / "index"
    with Index.open(index_dir, create=True, embedder=embedder) as index:
        index.upsert(articles[:PRELOADED], batch_size=BATCH)
    return index_dir, source, articles


def ingest(index_dir: Path, source: Path, crash_at: str | None = None,
           command: tuple[str, ...] = ()) -> subprocess.Popen:
    """`newsqa ingest SOURCE` (or ``command`` instead, e.g. ``("embed",)``) into ``index_dir``."""
    env = dict(os.environ)
    env.pop("NEWSQA_CRASH_AT", None)
    if crash_at:
        env["NEWSQA_CRASH_AT"] = crash_at
    args = list(command) if command else ["ingest", str(source)]
    return subprocess.Popen(
        [sys.executable, "-m", "retrieval", *args, "--index", str(index_dir),
         "--batch-size", str(BATCH)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def saved_generation(index_dir: Path) -> int | None:
    """Generation recorded in vectors.faiss (None when there is no such file)."""
    return read_generation(index_dir / "vectors.faiss")


def database_generation(index_dir: Path) -> int:
    import sqlite3

    with sqlite3.connect(index_dir / "newsqa.sqlite") as conn:
        return int(conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0])


def assert_consistent(index_dir: Path, articles: list[Article]) -> tuple[int, int]:
    """Whole batches only, each article complete everywhere (its chunks' vectors filled in
    or still pending); returns how many articles are present and how many chunks wait."""
    with Index.open(index_dir) as index:
        assert index.check() == []
        conn = index._store.conn
        present = {row[0] for row in conn.execute("SELECT id FROM articles")}
        n = len(present)
        # batches commit atomically and in input order: exactly a prefix of whole batches
        assert n % BATCH == 0 or n == len(articles), n
        assert present == {a.id for a in articles[:n]}
        rows = {cid: rowid for cid, rowid in conn.execute("SELECT chunk_id, id FROM chunks")}
        expected = {c.id for a in articles[:n] for c in chunk_article(a)}
        assert set(rows) == expected
        fts = {r[0] for r in conn.execute("SELECT rowid FROM chunks_fts")}
        assert fts == set(rows.values())
        pending = {r[0] for r in conn.execute("SELECT id FROM chunks WHERE vector IS NULL")}
        assert index.stats().pending_vectors == len(pending)
        # the catch-up goes newest first: what still waits is older than what it embedded
        if pending:
            embedded_since = [r for r in rows.values() if r not in pending and r > min(pending)]
            assert not embedded_since or max(pending) < min(embedded_since)
        vector_ids = index._vectors.ids()
        assert len(vector_ids) == len(np.unique(vector_ids))
        assert set(vector_ids.tolist()) == set(rows.values()) - pending
        assert index._word_index is not None  # the word index too, caught up on open
        word_ids = index._word_index.rowids()
        assert word_ids.tolist() == sorted(rows.values())  # pending chunks are found by words
        assert index.stats().word_index == "tantivy"
    assert saved_generation(index_dir) == database_generation(index_dir)  # repaired on open
    return n, len(pending)


def finish_and_verify(index_dir: Path, source: Path, articles: list[Article], present: int,
                      command: tuple[str, ...] = ()) -> None:
    rerun = ingest(index_dir, source, command=command)
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err
    if command:
        assert "none waiting for vectors" in out, out
    else:
        assert f"{N_ARTICLES - present} added, 0 replaced, {present} unchanged" in out
        assert "wait for vectors" not in out, out
    assert assert_consistent(index_dir, articles) == (N_ARTICLES, 0)


def chunks_of(articles: list[Article], start: int = PRELOADED, stop: int = N_ARTICLES) -> int:
    return sum(len(chunk_article(a)) for a in articles[start:stop])


@pytest.mark.parametrize(
    ("crash_at", "present", "embedded"),
    [
        # words phase: whole batches of articles, none of the new chunks embedded yet
        ("after-commit:2", 30, 0),  # killed right after a commit, before the vectors save
        ("mid-words:2", 30, 0),  # killed after a commit, while the word index takes it in
        # vectors catching up: every article found by words, vectors in whole batches
        ("mid-embedding:3", 48, 2 * VECTORS),  # killed while embedding the 3rd batch of vectors
        ("after-vectors-commit:2", 48, 2 * VECTORS),  # right after a commit of vectors
        ("mid-faiss-save:1", 48, None),  # everything committed, the final vectors save torn
    ],
)
def test_kill_at_a_named_point_leaves_whole_batches_and_recovers(
    setup, crash_at: str, present: int, embedded: int | None
) -> None:
    index_dir, source, articles = setup
    process = ingest(index_dir, source, crash_at)
    _out, err = process.communicate(timeout=600)
    assert process.returncode == -signal.SIGKILL, err
    # the vectors file is saved once, at the end: every kill leaves it behind the database
    assert saved_generation(index_dir) < database_generation(index_dir)
    if crash_at.startswith("mid-faiss-save"):
        assert list(index_dir.glob("vectors.faiss.tmp-*"))  # the torn temp file
    waiting = 0 if embedded is None else chunks_of(articles, stop=present) - embedded
    assert assert_consistent(index_dir, articles) == (present, waiting)
    assert not list(index_dir.glob("*.tmp-*"))
    finish_and_verify(index_dir, source, articles, present)


def test_a_catch_up_killed_midway_is_finished_by_newsqa_embed(setup) -> None:
    """Words for everything, then vectors: a kill during the catch-up leaves the rest
    pending, and `newsqa embed` (no input needed) fills them in."""
    index_dir, source, articles = setup
    process = ingest(index_dir, source, "after-vectors-commit:1")
    process.communicate(timeout=600)
    assert process.returncode == -signal.SIGKILL
    assert assert_consistent(index_dir, articles) == (N_ARTICLES, chunks_of(articles) - VECTORS)
    finish_and_verify(index_dir, source, articles, N_ARTICLES, command=("embed",))


def test_kill_at_random_times_then_rerun_completes(setup) -> None:
    index_dir, source, articles = setup
    seed = int(time.time())
    rng = random.Random(seed)
    present, waiting = PRELOADED, 0
    for _ in range(2):
        process = ingest(index_dir, source)
        assert process.stderr is not None
        # wait until it is really ingesting (a batch with new chunks committed, or vectors
        # filled in; progress lines of skipped, unchanged batches say "0 chunks"), then kill
        # it at a random moment
        while True:
            line = process.stderr.readline()
            if not line or line.startswith("vectors:") or (
                    line.startswith("ingest:") and ", 0 chunks," not in line):
                break
        time.sleep(rng.uniform(0.0, 1.5))
        process.kill()
        process.communicate(timeout=60)
        before = present, waiting
        present, waiting = assert_consistent(index_dir, articles)
        # each run gets further: more articles, or as many with fewer chunks waiting
        assert (present, -waiting) > (before[0], -before[1]) or (present, waiting) == (
            N_ARTICLES, 0), f"seed {seed}"
    finish_and_verify(index_dir, source, articles, present)


def test_kill_while_streaming_a_folder_keeps_every_committed_batch(setup, tmp_path) -> None:
    """A folder of one-article files streams through the index batch by batch; a kill after
    a commit loses nothing committed, and the rerun finishes the rest."""
    index_dir, _source, articles = setup
    folder = tmp_path / "folder"
    folder.mkdir()
    records, _ = load_corpus()
    for n, record in enumerate(records):  # sorted names keep the corpus order
        (folder / f"{n:03d}.jsonl").write_text(json.dumps(record, ensure_ascii=False) + "\n",
                                               encoding="utf-8")
    process = ingest(index_dir, folder, "after-commit:3")
    _out, err = process.communicate(timeout=600)
    assert process.returncode == -signal.SIGKILL, err
    assert assert_consistent(index_dir, articles) == (
        PRELOADED + 3 * BATCH, chunks_of(articles, stop=PRELOADED + 3 * BATCH))
    finish_and_verify(index_dir, folder, articles, PRELOADED + 3 * BATCH)
