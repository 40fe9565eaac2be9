"""Index API: ingest, replace, delete, dense/lexical search, filters, mismatch, freshness.

Real model throughout (the session ``embedder`` fixture from conftest.py).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from retrieval.articles import Article
from retrieval.errors import IndexError_, IndexMismatchError
from retrieval.index import Index, VectorConfig
from retrieval.index.files import writer_lock
from retrieval.normalize import normalize_for_search, query_words, tokenize_for_search

DATA = Path(__file__).parent / "data"
CORPUS = DATA / "cmrc2018-small-articles.jsonl"


def corpus(n: int | None = None) -> list[Article]:
    articles = []
    with CORPUS.open(encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            articles.append(
                Article(id=r["id"], title=r["title"], paragraphs=(r["text"],), date=r["date"],
                        source=r["source"])
            )
    return articles[:n]


WEATHER = Article(
    id="weather-1", title="聊城迎来今冬首场降雪", date="2023-12-11", source="聊城日报",
    authors=("林金彦",),
    paragraphs=("12月10日夜间，聊城迎来今冬首场降雪，最大积雪深度达到5厘米。",
                "气象部门提醒市民注意出行安全，预计降雪将持续到12日上午。"),
)


class CountingEmbedder:
    """The real embedder, counting the passages it is asked to embed."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.info = inner.info
        self.passages = 0

    def embed_passages(self, texts, *, batch_size: int = 32) -> np.ndarray:
        self.passages += len(texts)
        return self.inner.embed_passages(texts, batch_size=batch_size)

    def embed_queries(self, texts) -> np.ndarray:
        return self.inner.embed_queries(texts)


@pytest.fixture(scope="module")
def shared_index(tmp_path_factory, embedder) -> Index:
    """60 CMRC articles + one news article; tests using it only read."""
    index = Index.open(tmp_path_factory.mktemp("idx") / "index", create=True, embedder=embedder)
    index.upsert([*corpus(60), WEATHER], batch_size=16)
    yield index
    index.close()


@pytest.fixture()
def fresh(tmp_path, embedder) -> Index:
    index = Index.open(tmp_path / "index", create=True, embedder=embedder)
    yield index
    index.close()


def test_normalisation_folds_script_width_and_case() -> None:
    assert normalize_for_search("臺灣經濟ＡＢＣ１２３") == "台湾经济abc123"
    assert tokenize_for_search("聊城市舉行「全民健身」運動會！") == [
        "聊城", "城市", "聊城市", "举行", "全民", "健身", "运动", "运动会",
    ]


def test_query_words_drop_question_words_unless_nothing_else_is_left() -> None:
    assert query_words("《戰國無雙3》是由哪家公司開發的？") == [
        "战国", "无双", "3", "由", "哪家", "公司", "开发",
    ]
    assert query_words("是什么") == ["是", "什么"]


def test_user_dictionary_keeps_a_name_in_one_piece(tmp_path: Path) -> None:
    text = "东昌府区工信局获悉"
    assert "东昌府区工信局" not in tokenize_for_search(text)
    user_dict = tmp_path / "dict.txt"
    user_dict.write_text("东昌府区工信局 100 nt\n", encoding="utf-8")
    assert "东昌府区工信局" in tokenize_for_search(text, user_dict=user_dict)


def test_dense_search_finds_the_article_asked_about(shared_index: Index) -> None:
    hits = shared_index.dense_search("聊城下雪了吗？积雪有多深", k=5)
    assert hits[0].article_id == "weather-1"
    assert hits[0].kind == "dense" and hits[0].rank == 1
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


def test_lexical_search_ranks_by_bm25(shared_index: Index) -> None:
    hits = shared_index.lexical_search("首场降雪 积雪深度", k=5)
    assert hits[0].article_id == "weather-1"
    assert hits[0].kind == "lexical"
    assert all(a.score >= b.score for a, b in itertools.pairwise(hits))


def test_traditional_script_query_finds_simplified_text(shared_index: Index) -> None:
    query = "聊城今冬首場降雪積雪多深"
    assert shared_index.lexical_search(query, k=3)[0].article_id == "weather-1"
    assert shared_index.dense_search(query, k=3)[0].article_id == "weather-1"


def test_batch_vector_search_matches_single_searches(shared_index: Index, embedder) -> None:
    queries = ["聊城今冬首场降雪", "战国无双3是哪家公司开发的"]
    batch = shared_index.search_vectors(embedder.embed_queries(queries), 3)
    assert [[h.chunk_id for h in hits] for hits in batch] == [
        [h.chunk_id for h in shared_index.dense_search(q, k=3)] for q in queries
    ]
    assert batch[1][0].article_id == "DEV_0"


def test_date_filters_restrict_both_searches(shared_index: Index) -> None:
    for search in (shared_index.dense_search, shared_index.lexical_search):
        hits = search("中国的历史", k=10, date_from="2018-03-01", date_to="2018-03-31")
        assert hits, search.__name__
        dates = {shared_index.article(h.article_id).date for h in hits}
        assert all("2018-03-01" <= d <= "2018-03-31" for d in dates), (search.__name__, dates)
        assert search("降雪", k=10, date_from="2023-12-11")[0].article_id == "weather-1"


def test_lookups_return_articles_and_chunks_that_cite_exactly(shared_index: Index) -> None:
    hit = shared_index.dense_search("积雪深度", k=1)[0]
    chunk = shared_index.chunk(hit.chunk_id)
    article = shared_index.article(hit.article_id)
    assert article == WEATHER
    assert article.text[chunk.start : chunk.end] == chunk.text
    assert chunk.title == WEATHER.title
    assert shared_index.article("no-such-id") is None
    assert shared_index.chunk("no-such-id:0") is None


def test_articles_are_listed_newest_first(shared_index: Index) -> None:
    newest = shared_index.articles(limit=3)
    assert newest[0].id == "weather-1"
    assert [a.date for a in newest] == sorted((a.date for a in newest), reverse=True)
    oldest = shared_index.articles(newest_first=False, limit=1)
    assert oldest[0].date == "2018-01-01"


def test_stats_describe_the_index(shared_index: Index, embedder) -> None:
    s = shared_index.stats()
    assert (s.articles, s.first_date, s.last_date) == (61, "2018-01-01", "2023-12-11")
    assert s.chunks >= 61
    assert s.sources == {"CMRC 2018 (Chinese Wikipedia)": 60, "聊城日报": 1}
    assert (s.model, s.dimension) == (embedder.info.name, embedder.info.dimension)
    assert s.vector_index == "flat"
    assert s.bytes_on_disk > 0
    assert shared_index.check() == []


def test_reupserting_unchanged_articles_embeds_nothing(tmp_path: Path, embedder) -> None:
    counting = CountingEmbedder(embedder)
    with Index.open(tmp_path / "i", create=True, embedder=counting) as index:
        first = index.upsert(corpus(10))
        embedded = counting.passages
        again = index.upsert(corpus(10))
    assert (len(first.added), first.chunks_added) == (10, embedded)
    assert (again.added, again.replaced, len(again.unchanged)) == ([], [], 10)
    assert counting.passages == embedded


def test_changed_article_replaces_its_chunks_and_leaves_others_untouched(fresh: Index) -> None:
    articles = corpus(8)
    fresh.upsert(articles)
    before = {a.id: [h.chunk_id for h in fresh.lexical_search(a.title, k=50)] for a in articles}
    rows = dict(fresh._store.conn.execute("SELECT chunk_id, id FROM chunks"))
    edited = Article(**{**articles[3].to_dict(), "authors": ("新记者",),
                        "paragraphs": ("全新的正文：聊城大学举办龙舟赛。",)})
    report = fresh.upsert([edited, *articles[:3]])
    assert (report.replaced, len(report.unchanged)) == (["DEV_3"], 3)
    assert fresh.article("DEV_3").authors == ("新记者",)
    assert fresh.lexical_search("龙舟赛", k=1)[0].article_id == "DEV_3"
    assert fresh.dense_search("聊城大学龙舟赛", k=1)[0].article_id == "DEV_3"
    # words only the old body had (the headline, still indexed, is unchanged)
    assert all(h.article_id != "DEV_3" for h in fresh.lexical_search("寿光 寒亭 昌邑 招远", k=20))
    assert fresh.chunk("DEV_3:0").text == "全新的正文：聊城大学举办龙舟赛。"
    assert fresh.chunk("DEV_3:1") is None
    after = dict(fresh._store.conn.execute("SELECT chunk_id, id FROM chunks"))
    untouched = {c: r for c, r in rows.items() if not c.startswith("DEV_3:")}
    assert {c: after[c] for c in untouched} == untouched  # same rows, never rewritten
    assert before["DEV_0"] == [h.chunk_id for h in fresh.lexical_search("战国无双3", k=50)]
    assert fresh.check() == []


def test_deleted_article_is_gone_from_every_store(fresh: Index) -> None:
    fresh.upsert([*corpus(5), WEATHER])
    assert fresh.delete(["weather-1", "not-there"]) == 1
    assert fresh.article("weather-1") is None
    assert fresh.chunk("weather-1:0") is None
    assert all(h.article_id != "weather-1" for h in fresh.dense_search("聊城降雪", k=10))
    assert all(h.article_id != "weather-1" for h in fresh.lexical_search("聊城降雪", k=10))
    assert fresh.stats().articles == 5
    assert fresh.check() == []


def test_hnsw_index_never_returns_deleted_chunks(tmp_path: Path, embedder) -> None:
    config = VectorConfig(hnsw_threshold=20)
    with Index.open(tmp_path / "i", create=True, embedder=embedder,
                    vector_config=config) as index:
        index.upsert([*corpus(30), WEATHER])
        assert index.stats().vector_index == "hnsw"
        assert index.dense_search("聊城降雪", k=1)[0].article_id == "weather-1"
        dated = index.dense_search("聊城降雪", k=5, date_from="2018-02-01", date_to="2018-02-28")
        assert dated and all(index.article(h.article_id).date.startswith("2018-02") for h in dated)
        index.delete(["weather-1"])
        assert all(h.article_id != "weather-1" for h in index.dense_search("聊城降雪", k=31))
        assert len(index.dense_search("聊城降雪", k=31)) == 30
        assert index.check() == []
    with Index.open(tmp_path / "i") as reopened:
        assert reopened.stats().vector_index == "hnsw"
        assert len(reopened._vectors._dead) > 0  # the deleted chunks' ids, saved with the file
        hits = reopened.dense_search("聊城降雪", k=31)
        assert len(hits) == 30 and all(h.article_id != "weather-1" for h in hits)


def test_missing_vector_file_is_rebuilt_from_the_database(tmp_path: Path, embedder) -> None:
    with Index.open(tmp_path / "i", create=True, embedder=embedder) as index:
        index.upsert([*corpus(5), WEATHER])
    (tmp_path / "i" / "vectors.faiss").write_bytes(b"torn")
    with Index.open(tmp_path / "i", embedder=embedder) as index:
        assert index.dense_search("聊城降雪", k=1)[0].article_id == "weather-1"
        assert index.check() == []


def test_an_opened_index_maps_its_vectors_and_copies_them_only_to_write(
        tmp_path: Path, embedder) -> None:
    with Index.open(tmp_path / "i", create=True, embedder=embedder) as index:
        index.upsert(corpus(5))
    with Index.open(tmp_path / "i", embedder=embedder) as index:
        assert index._vectors._mapped is not None  # read-only mapping of the file
        before = index.dense_search("聊城降雪", k=3)
        index.upsert([WEATHER])  # the first write copies the vectors into memory first
        assert index._vectors._mapped is None
        assert index.dense_search("聊城降雪", k=1)[0].article_id == "weather-1"
        assert index.check() == []
    with Index.open(tmp_path / "i", embedder=embedder) as index:
        assert index.dense_search("聊城降雪", k=1)[0].article_id == "weather-1"
        assert {h.chunk_id for h in before} <= {h.chunk_id for h in index.dense_search(
            "聊城降雪", k=10)}
        mapped = index._vectors._mapped
        assert mapped is not None
    assert mapped.fd == -1  # closing the index let go of the file it mapped


def test_a_vectors_file_of_the_older_layout_is_read_and_saved_anew(
        tmp_path: Path, embedder) -> None:
    import struct
    import zlib

    import faiss

    from retrieval.index.vectorfile import read_generation

    with Index.open(tmp_path / "i", create=True, embedder=embedder) as index:
        index.upsert([*corpus(5), WEATHER])
        generation = index._store.generation()
    path = tmp_path / "i" / "vectors.faiss"
    payload = bytes(faiss.serialize_index(faiss.read_index(str(path))))
    # the layout written before NQVEC002: magic, generation, length, crc32 in front
    path.write_bytes(struct.pack("<8sqQI", b"NQVEC001", generation, len(payload),
                                 zlib.crc32(payload)) + payload)
    assert read_generation(path) == generation
    with Index.open(tmp_path / "i", embedder=embedder) as index:
        assert index._vectors._mapped is None  # read whole: FAISS cannot map it
        assert index.dense_search("聊城降雪", k=1)[0].article_id == "weather-1"
        index.delete(["weather-1"])
    assert path.read_bytes()[-36:-28] == b"NQVEC002"


def test_a_corrupt_vectors_file_is_reported_and_rebuilt_not_trusted(
        tmp_path: Path, embedder) -> None:
    with Index.open(tmp_path / "i", create=True, embedder=embedder) as index:
        index.upsert([*corpus(5), WEATHER])
    path = tmp_path / "i" / "vectors.faiss"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte among the vectors: length still right
    path.write_bytes(bytes(data))
    with Index.open(tmp_path / "i", embedder=embedder) as index:
        assert any("vectors.faiss is missing or unreadable" in p for p in index.check())
        # the first write finds the damage before writing anything, and rebuilds the vectors
        index.upsert([Article(id="new-1", title="新闻", paragraphs=("聊城新的一条新闻。",))])
        assert index.check() == []
        assert index.dense_search("聊城降雪", k=1)[0].article_id == "weather-1"
    # damaged AND behind the database: caught up from the database on open
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    with Index.open(tmp_path / "i", embedder=embedder) as index:
        index.upsert([Article(id="new-2", title="新闻", paragraphs=("聊城又一条新闻。",))])
    path.write_bytes(bytes(data))
    with Index.open(tmp_path / "i", embedder=embedder) as index:
        assert index.check() == []
        assert index.dense_search("聊城又一条新闻", k=1)[0].article_id == "new-2"


def test_opening_with_another_model_revision_is_refused(tmp_path: Path, embedder) -> None:
    path = tmp_path / "i"
    Index.open(path, create=True, embedder=embedder).close()
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    manifest["revision"] = "0123456789abcdef"
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    info = embedder.info
    with pytest.raises(IndexMismatchError) as caught:
        Index.open(path, embedder=embedder)
    assert str(caught.value) == (
        f"index {path} was built with model {info.name} (revision 0123456789ab, "
        f"{info.dimension} dimensions, backend {info.backend}), not {info.name} (revision "
        f"{info.revision[:12]}, {info.dimension} dimensions, backend {info.backend}); search "
        f"it with --model {info.name}, or re-ingest "
        f"into a new --index directory to use {info.name}"
    )


def test_opening_with_another_backend_of_the_same_model_is_refused(
    tmp_path: Path, embedder
) -> None:
    path = tmp_path / "i"
    Index.open(path, create=True, embedder=embedder).close()
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    manifest["backend"] = "torch"
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexMismatchError, match=r"backend torch\), not .*backend onnx-int8"):
        Index.open(path, embedder=embedder)


def test_index_of_a_newer_format_is_refused(tmp_path: Path, embedder) -> None:
    path = tmp_path / "i"
    Index.open(path, create=True, embedder=embedder).close()
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    manifest["format"] = 99
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexMismatchError) as caught:
        Index.open(path)
    assert str(caught.value) == (
        f"index {path} has format 99, newer than this newsqa supports (1); upgrade newsqa "
        "or re-ingest into a new --index directory"
    )


def test_opening_a_missing_index_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(IndexError_) as caught:
        Index.open(tmp_path / "nowhere")
    assert str(caught.value) == (
        f"no index at {tmp_path / 'nowhere'}; create one with `newsqa ingest PATH --index "
        f"{tmp_path / 'nowhere'}` (or set NEWSQA_INDEX to the right directory)"
    )


def test_second_writer_fails_with_a_clear_message(fresh: Index) -> None:
    with writer_lock(fresh.path), pytest.raises(IndexError_) as caught:
        fresh.upsert(corpus(1))
    assert str(caught.value) == (
        f"index {fresh.path} is being written by another process (pid {os.getpid()}); "
        "wait for that ingest or delete to finish, then retry"
    )
    assert fresh.stats().articles == 0


def test_reader_keeps_answering_during_an_ingest_and_sees_it_without_reopening(
    tmp_path: Path, embedder
) -> None:
    path = tmp_path / "i"
    with Index.open(path, create=True, embedder=embedder) as writer:
        writer.upsert(corpus(20))
    reader = Index.open(path, embedder=embedder)
    new = tmp_path / "new.jsonl"
    with new.open("w", encoding="utf-8") as f:
        for a in corpus(60)[20:]:
            f.write(json.dumps({"id": a.id, "title": a.title, "text": a.text, "date": a.date},
                               ensure_ascii=False) + "\n")
        f.write(json.dumps({"id": WEATHER.id, "title": WEATHER.title, "text": WEATHER.text,
                            "date": WEATHER.date}, ensure_ascii=False) + "\n")
    ingest = subprocess.Popen(
        [sys.executable, "-m", "retrieval", "ingest", str(new), "--index", str(path),
         "--batch-size", "8", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    answered = 0
    seen_growth = False
    while ingest.poll() is None:
        assert reader.dense_search("战国无双3", k=3)[0].article_id == "DEV_0"
        started = time.monotonic()
        assert reader.lexical_search("战国无双3", k=3)[0].article_id == "DEV_0"
        # milliseconds when idle; the bound only catches waiting on the writer's transaction
        # (loose, because the ingest shares the test machine's cores)
        assert time.monotonic() - started < 15.0
        answered += 1
        seen_growth = seen_growth or reader.stats().articles > 20
        time.sleep(0.2)
    _out, err = ingest.communicate()
    assert ingest.returncode == 0, err
    assert answered > 0
    assert seen_growth  # batches became visible while the ingest was still running
    assert reader.dense_search("聊城降雪", k=1)[0].article_id == "weather-1"
    assert reader.lexical_search("聊城降雪", k=1)[0].article_id == "weather-1"
    assert reader.stats().articles == 61
    assert reader.stats().word_index == "tantivy"  # the ingest brought the word index along
    reader.close()


def test_upsert_reads_a_stream_one_batch_at_a_time(fresh: Index) -> None:
    articles = corpus(12)
    pulled = 0
    pulled_at_commit: list[int] = []

    def stream():
        nonlocal pulled
        for article in articles:
            pulled += 1
            yield article

    report = fresh.upsert(stream(), batch_size=4,
                          progress=lambda p: pulled_at_commit.append(pulled))
    assert len(report.added) == 12
    # each commit happens after reading only its own batch: memory holds one batch, not all
    assert pulled_at_commit == [4, 8, 12]


def test_an_id_repeated_across_batches_is_reported_once_and_the_last_copy_wins(
    fresh: Index,
) -> None:
    articles = corpus(5)
    edited = Article(**{**articles[0].to_dict(), "paragraphs": ("后来的版本：聊城举办龙舟赛。",)})
    report = fresh.upsert(iter([*articles, edited]), batch_size=2)
    assert sorted(report.added) == sorted(a.id for a in articles)
    assert report.replaced == [] and report.unchanged == []
    assert fresh.article(articles[0].id).paragraphs == ("后来的版本：聊城举办龙舟赛。",)
    assert fresh.stats().articles == 5


def test_document_counts_are_the_chunks_holding_each_word(shared_index: Index) -> None:
    words = ["聊城", "降雪", "中国", "不存在的词语"]
    rows = shared_index._store.conn.execute("SELECT words FROM chunks_fts").fetchall()
    expected = {w: sum(w in row[0].split(" ") for row in rows) for w in words}
    counts = shared_index._store.document_counts(words)
    assert {w: counts.get(w, 0) for w in words} == expected
    assert expected["聊城"] >= 1 and expected["不存在的词语"] == 0


def test_lexical_search_leaves_out_words_most_chunks_hold(
    shared_index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    import retrieval.index.core as core

    # The pruning applies to FTS5, which answers while the word index lags the database.
    monkeypatch.setattr(shared_index, "_words_current", lambda: False)

    rows = shared_index._store.conn.execute("SELECT words FROM chunks_fts").fetchall()
    counts = {w: sum(w in r[0].split(" ") for r in rows) for w in ("中国", "首场", "降雪")}
    assert counts["中国"] > max(counts["首场"], counts["降雪"]) >= 1
    # as in a large archive: "common" = held by more chunks than 首场 and 降雪 are
    monkeypatch.setattr(core, "COMMON_MIN", 0)
    monkeypatch.setattr(core, "COMMON_SHARE", max(counts["首场"], counts["降雪"]) / len(rows))
    assert shared_index._rare_enough(["中国", "首场", "降雪"], len(rows)) == ["首场", "降雪"]
    assert shared_index.lexical_search("中国首场降雪", k=3)[0].article_id == "weather-1"
    # every word common: the rarest ones are still searched
    monkeypatch.setattr(core, "COMMON_SHARE", 0.0)
    rarest = sorted(["中国", "首场", "降雪"], key=counts.__getitem__)[: core.COMMON_KEEP]
    assert shared_index._rare_enough(["中国", "首场", "降雪"], len(rows)) == rarest
    assert shared_index.lexical_search("中国首场降雪", k=3)[0].article_id == "weather-1"
    # a cap in chunks per word makes a word common whatever the share says
    monkeypatch.setattr(core, "COMMON_SHARE", 1.0)
    monkeypatch.setattr(core, "COMMON_CAP", max(counts["首场"], counts["降雪"]))
    assert shared_index._rare_enough(["中国", "首场", "降雪"], len(rows)) == ["首场", "降雪"]


def fts5_every_word(index: Index, query: str, k: int) -> list[str]:
    """FTS5's own BM25 ranking with every query word: what the word index must agree with."""
    match = " OR ".join(f'"{w}"' for w in query_words(query))
    return [row[0] for row in index._store.lexical(match, k, None, None)]


def test_word_index_ranks_like_fts5_bm25(shared_index: Index) -> None:
    assert shared_index.stats().word_index == "tantivy"
    for article in corpus(40):
        query = article.title or article.text[:20]
        hits = shared_index.lexical_search(query, k=10)
        assert all(h.kind == "lexical" for h in hits)
        exact = fts5_every_word(shared_index, query, 10)
        # Same words, same BM25 (k1 1.2, b 0.75); Tantivy's idf and one-byte document lengths
        # differ slightly from FTS5's, so only the best hit and most of the ten must agree.
        assert hits[0].chunk_id == exact[0], query
        assert len({h.chunk_id for h in hits} & set(exact)) >= 0.7 * len(exact), query


def test_word_index_is_rebuilt_when_missing_or_unreadable(tmp_path: Path, embedder) -> None:
    import shutil

    path = tmp_path / "i"
    with Index.open(path, create=True, embedder=embedder) as index:
        index.upsert(corpus(12))
        before = [h.chunk_id for h in index.lexical_search("战国无双3", k=5)]
    shutil.rmtree(path / "words")
    with Index.open(path, embedder=embedder) as index:
        assert index.check() == []
        assert [h.chunk_id for h in index.lexical_search("战国无双3", k=5)] == before
    (path / "words" / "meta.json").write_text("{torn", encoding="utf-8")
    with Index.open(path, embedder=embedder) as index:
        assert index.check() == []
        assert index.stats().word_index == "tantivy"
        assert [h.chunk_id for h in index.lexical_search("战国无双3", k=5)] == before


def test_search_falls_back_to_fts5_while_the_word_index_lags(tmp_path: Path, embedder) -> None:
    path = tmp_path / "i"
    with Index.open(path, create=True, embedder=embedder) as index:
        index.upsert(corpus(12))
    reader = Index.open(path, embedder=embedder)
    new = tmp_path / "new.jsonl"
    new.write_text(json.dumps({"id": WEATHER.id, "title": WEATHER.title, "text": WEATHER.text,
                               "date": WEATHER.date}, ensure_ascii=False) + "\n", "utf-8")
    # killed right after the database commit: the word index is one write behind
    env = {**os.environ, "NEWSQA_CRASH_AT": "after-commit:1"}
    killed = subprocess.run(
        [sys.executable, "-m", "retrieval", "ingest", str(new), "--index", str(path)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert killed.returncode == -9, killed.stderr
    assert reader.stats().word_index == "fts5 (tantivy catching up)"
    assert reader.lexical_search("聊城降雪", k=1)[0].article_id == "weather-1"
    assert reader.lexical_search("战国无双3", k=1)[0].article_id == "DEV_0"
    reader.close()
    with Index.open(path, embedder=embedder) as reopened:  # no ingest running: caught up
        assert reopened.stats().word_index == "tantivy"
        assert reopened.check() == []
        assert reopened.lexical_search("聊城降雪", k=1)[0].article_id == "weather-1"


def test_word_index_ahead_of_a_restored_database_is_rebuilt(tmp_path: Path, embedder) -> None:
    import sqlite3

    path = tmp_path / "i"
    articles = corpus(24)
    with Index.open(path, create=True, embedder=embedder) as index:
        index.upsert(articles[:12])
    older = tmp_path / "older.sqlite"
    with sqlite3.connect(path / "newsqa.sqlite") as src, sqlite3.connect(older) as dst:
        src.backup(dst)
    with Index.open(path, embedder=embedder) as index:
        index.upsert(articles[12:])
        assert index.lexical_search(articles[20].title, k=1)[0].article_id == articles[20].id
    # the database goes back in time; words/ and vectors.faiss still hold the later articles
    for suffix in ("-wal", "-shm"):
        (path / f"newsqa.sqlite{suffix}").unlink(missing_ok=True)
    older.replace(path / "newsqa.sqlite")
    with Index.open(path, embedder=embedder) as index:
        assert index.check() == []
        assert index.stats().word_index == "tantivy"
        assert index._word_index is not None
        assert len(index._word_index.rowids()) == index.stats().chunks
        later = {a.id for a in articles[12:]}
        assert not later & {h.article_id for h in index.lexical_search(articles[20].title, k=20)}
        assert index.lexical_search(articles[3].title, k=1)[0].article_id == articles[3].id
