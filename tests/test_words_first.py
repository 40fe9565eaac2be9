"""Words first, vectors catching up (issue 12): an ingest commits articles and their words,
then fills in vectors; until it does, an article is found by word search, `newsqa stats` says
how many chunks wait, `newsqa check` calls that healthy, and `newsqa embed` catches up.

Run as a user would: the installed `newsqa` command, the real model, the sample page.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest

from retrieval.index import Hit, Index, VectorProgress
from retrieval.library import Library
from tests.sample_values import ANSWER, ANSWER_HEADLINE, QUESTION, SAMPLE_PAGE, SAMPLE_SOURCE
from tests.telegram.processes import newsqa

PAGE_ARGS = ["--source", SAMPLE_SOURCE, "--date", "2023-10-08"]


def stats(index: Path) -> dict:
    return json.loads(newsqa("stats", "--index", str(index), "--json").stdout)


def title(index: Index, hit: Hit) -> str | None:
    article = index.article(hit.article_id)
    assert article is not None
    return article.title


def ask(index: Path, question: str = QUESTION) -> dict:
    return json.loads(newsqa("ask", question, "--index", str(index), "--json").stdout)


@pytest.fixture()
def words_only(tmp_path: Path) -> Path:
    """The sample page ingested with --words-only: every chunk waits for its vector."""
    index = tmp_path / "index"
    result = newsqa("ingest", str(SAMPLE_PAGE), "--index", str(index), *PAGE_ARGS, "--words-only")
    chunks = stats(index)["chunks"]
    assert result.stdout.strip().endswith(
        f"; {chunks} chunks wait for vectors (found by words now, by meaning after "
        "`newsqa embed`)"), result.stdout
    assert "vectors:" not in result.stderr  # no catch-up was run
    return index


def test_a_words_only_ingest_answers_at_once_and_embed_catches_up(words_only: Path) -> None:
    index = words_only
    before = stats(index)
    assert before["articles"] == 8 and before["pending_vectors"] == before["chunks"] > 8
    text = newsqa("stats", "--index", str(index)).stdout
    assert (f"vectors     flat, {before['chunks']} chunks wait for vectors (found by words "
            "meanwhile; `newsqa embed` fills them in)") in text
    checked = newsqa("check", "--index", str(index)).stdout  # pending is not corruption
    assert checked == (f"ok: {index} (8 articles, {before['chunks']} chunks, "
                       f"{before['chunks']} waiting for vectors) is consistent\n")

    # no chunk has a vector yet: the answer comes from word search alone
    answer = ask(index)
    assert answer["found"] and ANSWER in answer["answer"], answer
    assert answer["citations"][0]["title"] == ANSWER_HEADLINE

    first = newsqa("embed", "--index", str(index), "--limit", "5", "--batch-size", "2")
    assert first.stdout.startswith(f"{index}: 5 chunks embedded in ")
    assert first.stdout.endswith(f"; {before['chunks'] - 5} waiting for vectors\n")
    # one progress line per committed batch of vectors: 2 + 2 + 1
    assert [line.split(",")[0] for line in first.stderr.splitlines()] == [
        "vectors: 2/5 chunks", "vectors: 4/5 chunks", "vectors: 5/5 chunks"]
    assert stats(index)["pending_vectors"] == before["chunks"] - 5

    rest = newsqa("embed", "--index", str(index), "-q")
    assert rest.stdout.endswith("; none waiting for vectors\n") and rest.stderr == ""
    after = stats(index)
    assert after["pending_vectors"] == 0 and after["chunks"] == before["chunks"]
    assert "vectors     flat, every chunk embedded" in newsqa("stats", "--index",
                                                             str(index)).stdout
    assert newsqa("check", "--index", str(index)).stdout.startswith(f"ok: {index} (8 articles")
    assert ask(index)["span"] == answer["span"]
    with Index.open(index) as opened:  # now dense search finds the article too
        assert title(opened, opened.dense_search(QUESTION, k=1)[0]) == ANSWER_HEADLINE


def test_newest_chunks_are_embedded_first(words_only: Path) -> None:
    newsqa("embed", "--index", str(words_only), "--limit", "4", "-q")
    with sqlite3.connect(words_only / "newsqa.sqlite") as db:
        embedded = [r for (r,) in db.execute("SELECT id FROM chunks WHERE vector IS NOT NULL")]
        every = sorted(r for (r,) in db.execute("SELECT id FROM chunks"))
    assert sorted(embedded) == every[-4:]


def test_a_plain_ingest_embeds_what_an_earlier_one_left_waiting(words_only: Path,
                                                                 tmp_path: Path) -> None:
    """Nothing new to add: the rerun still fills in every pending vector (its own line)."""
    rerun = newsqa("ingest", str(SAMPLE_PAGE), "--index", str(words_only), *PAGE_ARGS)
    assert " 0 added, 0 replaced, 8 unchanged" in rerun.stdout
    assert "wait for vectors" not in rerun.stdout
    chunks = stats(words_only)["chunks"]
    assert rerun.stderr.splitlines()[-1].startswith(f"vectors: {chunks}/{chunks} chunks")
    assert stats(words_only)["pending_vectors"] == 0


def test_a_running_reader_finds_the_vectors_another_process_fills_in(words_only: Path,
                                                                    embedder) -> None:
    """The bot's view: an index opened while chunks wait answers by words, then by meaning
    once `newsqa embed` (another process) has committed their vectors — no restart."""
    with Index.open(words_only, embedder=embedder) as index, \
            Library.open(words_only, embedder=embedder) as library:
        assert index.dense_search(QUESTION, k=3) == []
        # a date filter on chunks without vectors is no error either
        assert index.dense_search(QUESTION, k=3, date_from="2023-10-01") == []
        assert title(index, index.lexical_search(QUESTION, k=1)[0]) == ANSWER_HEADLINE
        assert library.ask(QUESTION).found
        assert library.about().pending_vectors > 0
        newsqa("embed", "--index", str(words_only), "-q")
        hits = index.dense_search(QUESTION, k=3, date_from="2023-10-01")
        assert title(index, hits[0]) == ANSWER_HEADLINE
        assert library.about().pending_vectors == 0


def test_a_time_bound_catch_up_stops_between_batches(words_only: Path, embedder) -> None:
    """`embed --minutes` / ``seconds=``: the batch under way is finished and committed, no
    further one is started; what is left keeps waiting."""
    with Library.open(words_only, embedder=embedder) as library:
        waiting = library.about().pending_vectors
        seen: list[VectorProgress] = []

        def slow(progress: VectorProgress) -> None:  # the first batch outlasts the budget
            seen.append(progress)
            time.sleep(1.2)

        report = library.embed_pending(seconds=1.0, batch_size=4, progress=slow)
        assert (report.chunks_embedded, report.chunks_pending) == (4, waiting - 4)
        assert [(p.chunks_done, p.chunks_total) for p in seen] == [(4, waiting)]
        assert library.about().pending_vectors == waiting - 4
        assert library.check() == []


def test_an_index_of_the_previous_schema_is_read_as_it_is_and_upgraded_by_a_write(
        sample_index_copy: Path, tmp_path: Path) -> None:
    """Schema 1 declared every vector NOT NULL. Reading such an index needs no change; the
    next ingest lifts the constraint in place (no row is copied) and keeps every vector."""
    index = sample_index_copy
    _make_schema_1(index / "newsqa.sqlite")
    with sqlite3.connect(index / "newsqa.sqlite") as db:
        kept = dict(db.execute("SELECT id, vector FROM chunks"))
    assert stats(index)["pending_vectors"] == 0
    assert newsqa("check", "--index", str(index)).stdout.startswith("ok: ")
    assert _schema(index) == "1"  # reading changed nothing

    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps({"id": "extra-1", "title": "东昌府区龙舟赛事开幕",
                                 "text": "东昌府区首届龙舟赛事在古运河开幕，十六支队伍参赛。",
                                 "date": "2023-10-09", "source": SAMPLE_SOURCE},
                                ensure_ascii=False) + "\n", encoding="utf-8")
    newsqa("ingest", str(extra), "--index", str(index), "--words-only", "-q")
    assert _schema(index) == "2"
    with sqlite3.connect(index / "newsqa.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = ",".join(str(r) for r in kept)
        assert dict(db.execute(f"SELECT id, vector FROM chunks WHERE id IN ({ids})")) == kept
    assert stats(index)["pending_vectors"] == 1
    assert newsqa("check", "--index", str(index)).stdout.startswith("ok: ")
    newsqa("embed", "--index", str(index), "-q")
    assert stats(index)["pending_vectors"] == 0
    with Index.open(index) as opened:
        assert len(opened._vectors.ids()) == len(kept) + 1
        assert np.array_equal(np.sort(opened._vectors.ids()), opened._store.rowids())


def _schema(index: Path) -> str:
    with sqlite3.connect(index / "newsqa.sqlite") as db:
        return str(db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0])


def _make_schema_1(database: Path) -> None:
    """Turn a current database into what newsqa wrote before words came first: the chunks
    table as schema 1 declared it, no pending index, no words_generation."""
    with sqlite3.connect(database, isolation_level=None) as db:
        sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'chunks'").fetchone()[0]
        start = sql.index("vector BLOB")
        old = sql[:start] + "vector BLOB NOT NULL\n)"
        db.execute("BEGIN")
        version = db.execute("PRAGMA schema_version").fetchone()[0]
        db.execute("PRAGMA writable_schema = ON")
        db.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'chunks'", (old,))
        db.execute(f"PRAGMA schema_version = {version + 1}")
        db.execute("PRAGMA writable_schema = OFF")
        db.execute("DROP INDEX chunks_pending")
        db.execute("DELETE FROM meta WHERE key = 'words_generation'")
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
        db.execute("COMMIT")
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
