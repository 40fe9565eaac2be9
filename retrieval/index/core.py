"""``Index``: the one front door to a newsqa index directory.

One class of ~400 lines on purpose: its opening, write, search and health verbs share one
thread lock and one view of the stores (generation, data version, FAISS cache). What stands
alone lives beside it: ``identity`` (manifest checks), ``writer`` (the batch writer),
``store`` (SQLite), ``vectors`` (FAISS).

Layout of a directory: ``manifest.json`` (what built it), ``newsqa.sqlite`` (+ WAL; the truth:
articles, chunks, vectors, FTS5 words, generation), ``vectors.faiss`` (a cache of the vectors
for fast dense search) and ``write.lock`` (single writer).

``Index.create`` makes a new directory (manifest and empty database); ``Index.open`` opens an
existing one after checking that it was built with this normalisation, model and dictionary.

Writes come in two phases. Words first (``writer.BatchWriter``): chunk and segment OUTSIDE any
transaction, then one SQLite transaction per batch writes articles, chunks (vector NULL) and
words, and the word index takes the batch in: the articles answer word searches at once.
Then vectors catch up (``catchup.VectorCatchUp``): pending chunks are embedded outside any
transaction and their vectors set in one transaction per batch, then added to the in-memory
FAISS index. Dense search sees only chunks with a vector; lexical search sees every chunk.
The FAISS file is saved (atomically) at the end of a call and at most every ``SAVE_INTERVAL``
seconds in between — rewriting a million-vector file after every batch would dominate ingest
time. A crash between commit and save is repaired when the index is next opened, from the
vectors stored in SQLite; a chunk whose vector was not committed is embedded by the next
ingest or ``newsqa embed``.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from collections.abc import Callable, Iterable, Sequence, Sized
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..articles import Article, Chunk, ChunkingConfig
from ..errors import IndexError_
from ..normalize import (
    query_words,
    tokenize_for_search,
)
from . import manifest as manifest_mod
from .catchup import CHUNKS_PER_ARTICLE_BATCH, VECTOR_BATCH, VectorCatchUp
from .files import crash_here, remove_stale_temp_files, writer_lock
from .identity import check_existing, check_model, directory_of, load_embedder, new_manifest
from .manifest import Manifest
from .store import VECTOR_DTYPE, Store
from .types import Hit, IndexStats, IngestProgress, IngestReport, VectorProgress, VectorReport
from .vectors import VectorConfig, VectorIndex
from .wordindex import WORDS_NAME, WordIndex, day_number
from .writer import BatchWriter, PeriodicSave

if TYPE_CHECKING:
    from ..embed.embedder import Embedder

EMBED_BATCH = 32
EXACT_BELOW = 20_000  # date-filtered dense search scores this many candidates exactly
WORD_ROWS = 500  # chunks read from SQLite per query when catching the word index up
# Lexical search normally goes to the Tantivy word index (wordindex.py), which finds the top k
# without scoring every match. While that index lags the database (another process is
# ingesting, or it is being rebuilt), FTS5 answers, pruned: it leaves out words held by more
# than COMMON_SHARE of the chunks (BM25 weighs them low: idf ≤ ln 19 ≈ 2.9 against ~10 for a
# rare word; FTS5 would score every chunk holding them), once the index holds more than
# COMMON_MIN chunks. If every word is that common, the COMMON_KEEP rarest are searched.
# bench/search_latency.py reports speed and top-20 overlap (at 200k chunks, share 0.02 / 0.05 /
# 0.10: lexical p95 70 / 77 / 123 ms, overlap 0.90 / 0.96 / 0.98; every word kept: p95
# ~400-600 ms).
COMMON_SHARE = 0.05
COMMON_MIN = 2_000
COMMON_KEEP = 2
# In a very large index a share still lets one word bring tens of thousands of chunks to be
# scored; above this many chunks a word is common whatever the share (None: no cap).
COMMON_CAP: int | None = None


def passage_text(chunk: Chunk) -> str:
    """What is embedded and word-indexed for a chunk: the headline gives every chunk context."""
    return f"{chunk.title}\n{chunk.text}" if chunk.title else chunk.text


class Index:
    """An index directory, opened for search and (under a lock, one process at a time) writes.

    Safe to share between threads; a long-running reader sees other processes' ingests before
    its next search without reopening.
    """

    def __init__(
        self,
        directory: Path,
        manifest: Manifest,
        store: Store,
        vectors: VectorIndex,
        embedder: Embedder | None,
        words: WordIndex | None = None,
    ) -> None:
        self.path = directory
        self.manifest = manifest
        self._store = store
        self._vectors = vectors
        self._embedder = embedder
        self._word_index = words
        # The database generation the word index reflects (-1: none); searches use it only
        # when it equals the database's.
        self._words_generation = words.generation() if words is not None else -1
        self._lock = threading.RLock()
        self._data_version = store.data_version()
        self._stats: IndexStats | None = None
        self._chunking = ChunkingConfig(**manifest.chunking)
        user_dict = manifest.user_dict
        self._user_dict: str | None = user_dict["path"] if user_dict else None

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        *,
        model: str | None = None,
        create: bool = False,
        embedder: Embedder | None = None,
        user_dict: str | Path | None = None,
        chunking: ChunkingConfig | None = None,
        vector_config: VectorConfig | None = None,
    ) -> Index:
        """Open the existing index at ``path`` (default: ``$NEWSQA_INDEX`` or the user data dir).

        ``model`` None → the model the index was built with. ``embedder`` lets a caller share
        an already loaded model. ``user_dict``, when given, must be the one the index was built
        with. ``create=True`` is ``Index.create`` (kept for callers written before it).
        """
        if create:
            return cls.create(path, model=model, embedder=embedder, user_dict=user_dict,
                              chunking=chunking, vector_config=vector_config)
        directory = directory_of(path)
        if not manifest_mod.exists(directory):
            raise IndexError_(
                f"no index at {directory}; create one with `newsqa ingest PATH --index "
                f"{directory}` (or set NEWSQA_INDEX to the right directory)"
            )
        manifest = Manifest.load(directory)
        check_existing(directory, manifest, model=model, embedder=embedder,
                        user_dict=user_dict)
        return cls._load(directory, manifest, embedder)

    @classmethod
    def create(
        cls,
        path: str | Path | None = None,
        *,
        model: str | None = None,
        embedder: Embedder | None = None,
        user_dict: str | Path | None = None,
        chunking: ChunkingConfig | None = None,
        vector_config: VectorConfig | None = None,
    ) -> Index:
        """Create an index at ``path`` and open it; an index already there is opened instead.

        ``model`` None → the default model. ``user_dict``, ``chunking`` and ``vector_config``
        are fixed for the life of an index: an existing one must match ``model`` and
        ``user_dict``, and keeps its own chunking and vector settings.
        """
        directory = directory_of(path)
        if manifest_mod.exists(directory):
            return cls.open(directory, model=model, embedder=embedder, user_dict=user_dict)
        directory.mkdir(parents=True, exist_ok=True)
        if embedder is None:
            embedder = load_embedder(model, None)
        manifest = new_manifest(embedder, user_dict, chunking, vector_config)
        with writer_lock(directory):
            if not manifest_mod.exists(directory):  # another process may have won the race
                Store(directory, create=True).close()
                manifest.save(directory)
        manifest = Manifest.load(directory)
        check_model(directory, manifest, embedder)
        return cls._load(directory, manifest, embedder)

    @classmethod
    def _load(cls, directory: Path, manifest: Manifest, embedder: Embedder | None) -> Index:
        """Open the stores of a directory whose manifest has been checked."""
        store = Store(directory, create=not (directory / "newsqa.sqlite").exists())
        config = VectorConfig.from_dict(manifest.vector_index)
        vectors = VectorIndex.load(directory, manifest.dimension, config)
        if vectors is None:
            vectors = VectorIndex(manifest.dimension, config)
        words = WordIndex.open(directory, create=False)
        index = cls(directory, manifest, store, vectors, embedder, words)
        index._catch_up_on_open()
        return index

    def _catch_up_on_open(self) -> None:
        """Bring the FAISS and word sides level with SQLite; persist the repair if no one else
        writes."""
        generation = self._store.generation()
        words_generation = self._store.words_generation()
        vectors_current = self._vectors.generation == generation
        if vectors_current and self._vectors.kind == "hnsw" and not self._vectors.dead_known:
            # The file keeps vectors of deleted chunks (HNSW cannot remove them); a file of
            # the old layout does not say which, so they are recomputed from the database
            # (~0.5 s at a million chunks, which the saved list spares every later open).
            self._sync_vectors(generation)
        vectors_current = vectors_current and self._vectors.needs_rebuild() is None
        if vectors_current and self._words_generation == words_generation:
            return
        try:
            with writer_lock(self.path):
                remove_stale_temp_files(self.path)
                if not vectors_current:
                    self._sync_vectors(generation)
                    self._vectors.save(self.path)
                self._sync_words(words_generation)
        except IndexError_:
            # An ingest holds the lock: repair the vectors in memory only (that ingest will
            # save the file); it brings the word index up to date, FTS5 answers until then.
            if not vectors_current:
                self._sync_vectors(generation)

    def _sync_words(self, generation: int) -> None:
        """Catch the word index up with the database (whose words are at ``generation``, its
        ``words_generation``) by rowid, or rebuild it when it is missing, unreadable or ahead
        (a restored database). The caller holds the writer lock."""
        words = self._word_index
        if words is not None and self._words_generation == generation:
            return
        if words is None or not 0 <= self._words_generation <= generation:
            if words is not None:
                words.close()
            words = self._word_index = WordIndex.recreate(self.path)
            have = np.empty(0, dtype=np.int64)
        else:
            have = words.rowids()
        db_ids = self._store.rowids()
        missing = np.setdiff1d(db_ids, have)
        extra = np.setdiff1d(have, db_ids)
        rows = (row for start in range(0, len(missing), WORD_ROWS)
                for row in self._store.word_rows(missing[start : start + WORD_ROWS]))
        try:
            words.apply(extra.tolist(), rows, generation)
        finally:
            words.close()
        self._words_generation = generation

    def _apply_words(self, removed: Sequence[int], added: Sequence[tuple[int, str, str | None]],
                     generation: int, before: int) -> None:
        """Mirror one committed write (which moved the database's words from ``before`` to
        ``generation``) into the word index, if it was level with the database before it;
        else the next open catches it up."""
        if self._word_index is None or self._words_generation != before:
            return
        self._word_index.apply(removed, added, generation)
        self._words_generation = generation

    def _words_current(self) -> bool:
        """Whether the word index reflects the database now (re-read while it lags: another
        process commits it just after the database)."""
        if self._word_index is None:
            self._word_index = WordIndex.open(self.path, create=False)
            if self._word_index is None:
                return False
        generation = self._store.words_generation()
        if self._words_generation != generation:
            self._words_generation = self._word_index.generation()
        return self._words_generation == generation

    def _sync_vectors(self, generation: int) -> None:
        db_ids = self._store.embedded_rowids()  # a chunk waiting for its vector is not missing
        fetch = self._fetch_vectors
        if self._vectors.generation > generation:
            # The file claims a future the database does not have (e.g. the database was
            # restored from a backup): its ids may be stale, so rebuild from scratch.
            self._vectors = VectorIndex(self.manifest.dimension, self._vectors.config)
        try:
            self._vectors.sync(db_ids, fetch, generation)
        except IndexError_:  # a mapped file that fails its checksum when first written to
            self._vectors = VectorIndex(self.manifest.dimension, self._vectors.config)
            self._vectors.sync(db_ids, fetch, generation)
        kind = self._vectors.needs_rebuild()
        if kind is not None:
            self._vectors.rebuild(kind, db_ids, fetch)

    def _own_vectors(self) -> None:
        """Before writing: the vectors in memory this process owns (an open index maps its
        file read-only). A file that fails its checksum is rebuilt from the database, as a
        missing one is, before anything is written."""
        try:
            self._vectors.own()
        except IndexError_:
            self._vectors = VectorIndex(self.manifest.dimension, self._vectors.config)
            self._sync_vectors(self._store.generation())
            self._vectors.save(self.path)

    def _fetch_vectors(self, rowids: np.ndarray) -> np.ndarray:
        return self._store.vectors(rowids, self.manifest.dimension)

    def _refresh(self) -> None:
        """Pick up commits made by other processes (cheap when there were none)."""
        version = self._store.data_version()
        if version == self._data_version:
            return
        self._data_version = version
        generation = self._store.generation()
        if generation != self._vectors.generation:
            self._sync_vectors(generation)

    # -- the model ---------------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        """The index's model, loaded on first use (stats, lexical search, delete never need it)."""
        with self._lock:
            if self._embedder is None:
                embedder = load_embedder(self.manifest.model, self.manifest.backend)
                check_model(self.path, self.manifest, embedder)
                self._embedder = embedder
            return self._embedder

    # -- writes ------------------------------------------------------------------------------

    def upsert(
        self,
        articles: Iterable[Article],
        *,
        batch_size: int = 64,
        progress: Callable[[IngestProgress], None] | None = None,
        total: int | None = None,
        vectors: bool = True,
        vector_progress: Callable[[VectorProgress], None] | None = None,
    ) -> IngestReport:
        """Add new articles, replace changed ones, skip identical ones (no embedding).

        Words first: ``articles`` is read lazily, one batch of ``batch_size`` at a time, so an
        archive of any size is ingested in bounded memory; ``total`` (if known) is what
        progress reports count towards. Each batch is committed atomically (articles, chunks,
        words): after a crash, an article is either completely searchable by words or not
        there at all. An id repeated within the call: the last copy wins. Then, unless
        ``vectors`` is False, every chunk still waiting for its vector (this call's and any
        left by an earlier one) is embedded, newest first, ``2 × batch_size`` chunks per
        committed batch (``embed_pending``).
        """
        if total is None and isinstance(articles, Sized):
            total = len(articles)
        size = max(1, batch_size)
        stream = iter(articles)
        with writer_lock(self.path):
            self._prepare_write()
            saver = PeriodicSave(self)
            writer = BatchWriter(self, total, saver, progress)
            try:
                while batch := list(itertools.islice(stream, size)):
                    writer.write(batch)
                report = writer.finish()
            finally:
                self._close_words_writer()
            if vectors:
                report.chunks_embedded = VectorCatchUp(
                    self, saver, progress=vector_progress,
                    batch=size * CHUNKS_PER_ARTICLE_BATCH).run().chunks_embedded
            saver.finish()
            report.chunks_pending = self._store.pending_count()
            report.seconds = time.monotonic() - writer.started
            return report

    def embed_pending(
        self, *, limit: int | None = None, seconds: float | None = None,
        progress: Callable[[VectorProgress], None] | None = None,
        batch_size: int = VECTOR_BATCH,
    ) -> VectorReport:
        """Embed chunks waiting for their vector, newest first, until none is left, ``limit``
        were done or ``seconds`` have passed (checked between batches of ``batch_size``).

        Each batch of vectors is committed atomically; a kill loses at most the batch being
        embedded, which stays pending. The model is loaded only if something is pending.
        """
        with writer_lock(self.path):
            self._prepare_write()
            saver = PeriodicSave(self)
            report = VectorCatchUp(self, saver, limit=limit, seconds=seconds,
                                   progress=progress, batch=batch_size).run()
            saver.finish()
            return report

    def _prepare_write(self) -> None:
        """Under the writer lock: clear a crashed writer's leftovers, bring an older database
        up to this schema, and bring the FAISS copy (owned in memory, no longer the mapped
        file) and the word index level with it."""
        with self._lock:
            remove_stale_temp_files(self.path)
            self._store.upgrade()
            self._refresh()
            self._own_vectors()
            self._sync_words(self._store.words_generation())

    def _embed(self, embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
        """Vectors rounded to the stored precision, so FAISS holds exactly what SQLite holds."""
        parts = []
        for start in range(0, len(texts), EMBED_BATCH * 4):
            parts.append(
                embedder.embed_passages(texts[start : start + EMBED_BATCH * 4],
                                        batch_size=EMBED_BATCH)
            )
            crash_here("mid-embedding")
        if not parts:
            return np.empty((0, self.manifest.dimension), dtype=VECTOR_DTYPE)
        return np.concatenate(parts).astype(VECTOR_DTYPE)

    def _words(self, text: str) -> list[str]:
        return tokenize_for_search(text, user_dict=self._user_dict)

    def _save_vectors(self) -> None:
        if self._vectors.needs_rebuild() is not None:
            self._sync_vectors(self._store.generation())
        self._vectors.save(self.path)

    def delete(self, article_ids: Iterable[str]) -> int:
        """Delete articles with all their chunks; returns how many existed."""
        ids = list(dict.fromkeys(article_ids))
        with self._lock, writer_lock(self.path):
            self._refresh()
            self._own_vectors()
            try:
                before = self._store.words_generation()
                self._sync_words(before)
                deleted, removed, generation = self._store.delete_articles(ids)
                if deleted:
                    self._data_version = self._store.data_version()
                    self._vectors.remove(removed)
                    self._vectors.generation = generation
                    self._save_vectors()
                    self._apply_words(removed, [], generation, before)
            finally:
                self._close_words_writer()
        return deleted

    def _close_words_writer(self) -> None:
        with self._lock:
            if self._word_index is not None:
                self._word_index.close()

    # -- search ------------------------------------------------------------------------------

    def dense_search(
        self, query: str, k: int = 20, *, date_from: str | None = None,
        date_to: str | None = None,
    ) -> list[Hit]:
        """Chunks nearest to ``query`` by cosine; dates are inclusive ISO bounds."""
        vectors = self.embedder.embed_queries([query])
        return self.search_vectors(vectors, k, date_from=date_from, date_to=date_to)[0]

    def search_vectors(
        self, vectors: np.ndarray, k: int, *, date_from: str | None = None,
        date_to: str | None = None,
    ) -> list[list[Hit]]:
        """Batch dense search with already embedded queries (rows of ``vectors``)."""
        with self._lock:
            self._refresh()
            allowed = None
            if date_from is not None or date_to is not None:
                allowed = self._store.embedded_rowids(date_from, date_to)
                if len(allowed) == 0:
                    return [[] for _ in range(len(vectors))]
            queries = np.atleast_2d(vectors).astype(np.float32, copy=False)
            if allowed is not None and self._vectors.kind == "hnsw" and len(allowed) <= EXACT_BELOW:
                # A selective filter starves HNSW's graph walk (fewer than k results); a few
                # thousand candidates are scored exactly faster anyway.
                scores, ids = _exact(queries, allowed, self._fetch_vectors(allowed), k)
            else:
                scores, ids = self._vectors.search(queries, k, allowed)
            known = self._store.resolve(i for i in ids.ravel() if i >= 0)
        results: list[list[Hit]] = []
        for row_scores, row_ids in zip(scores, ids, strict=True):
            hits: list[Hit] = []
            for score, rowid in zip(row_scores, row_ids, strict=True):
                # A chunk deleted by a concurrent writer after the search is simply skipped.
                found = known.get(int(rowid))
                if found is not None:
                    hits.append(Hit(found[0], found[1], float(score), len(hits) + 1, "dense"))
            results.append(hits)
        return results

    def lexical_search(
        self, query: str, k: int = 20, *, date_from: str | None = None,
        date_to: str | None = None,
    ) -> list[Hit]:
        """BM25 over jieba words of the normalised query (any word may match).

        The word index (Tantivy) answers with every query word kept. While it lags the
        database, FTS5 does; in a large index it leaves out words held by very many chunks:
        BM25 weighs them low, but FTS5 scores every chunk that holds any query word, so one
        such word made a search of 100k chunks take ~0.4 s (bench/search_latency.py).
        """
        words = query_words(query, user_dict=self._user_dict)
        if not words or k <= 0:
            return []
        with self._lock:
            days = day_number(date_from), day_number(date_to)
            if self._word_index is not None and self._words_current() and (
                    (date_from is None or days[0] is not None)
                    and (date_to is None or days[1] is not None)):
                try:
                    found = self._word_index.search(words, k, *days)
                except (OSError, ValueError, RuntimeError):
                    # Unreadable (e.g. damaged on disk): FTS5 answers; `newsqa check` says why.
                    found = None
                if found is not None:
                    known = self._store.resolve(rowid for rowid, _ in found)
                    hits = [(*known[rowid], score) for rowid, score in found if rowid in known]
                    return [Hit(chunk_id, article_id, score, rank, "lexical")
                            for rank, (chunk_id, article_id, score) in enumerate(hits, start=1)]
            chunks = self.stats().chunks  # cached per generation
            if chunks > COMMON_MIN:
                words = self._rare_enough(words, chunks)
            match = " OR ".join('"' + w.replace('"', '""') + '"' for w in words)
            rows = self._store.lexical(match, k, date_from, date_to)
        return [
            Hit(chunk_id, article_id, score, rank, "lexical")
            for rank, (chunk_id, article_id, score) in enumerate(rows, start=1)
        ]

    def _rare_enough(self, words: list[str], chunks: int) -> list[str]:
        """``words`` without those held by more than COMMON_SHARE of ``chunks`` chunks (and
        more than COMMON_MIN); if every word is that common, the COMMON_KEEP rarest."""
        counts = self._store.document_counts(words)
        limit = max(COMMON_MIN, COMMON_SHARE * chunks)
        if COMMON_CAP is not None:
            limit = max(COMMON_MIN, min(limit, COMMON_CAP))
        rare = [w for w in words if counts.get(w, 0) <= limit]
        if rare:
            return rare
        return sorted(words, key=lambda w: counts.get(w, 0))[:COMMON_KEEP]

    # -- lookups -----------------------------------------------------------------------------

    def article(self, article_id: str) -> Article | None:
        with self._lock:
            return self._store.article(article_id)

    def chunk(self, chunk_id: str) -> Chunk | None:
        with self._lock:
            return self._store.chunk(chunk_id)

    def articles(self, *, newest_first: bool = True, limit: int = 20) -> list[Article]:
        with self._lock:
            return self._store.articles(newest_first=newest_first, limit=limit)

    # -- health ------------------------------------------------------------------------------

    def stats(self) -> IndexStats:
        """Cached per database generation: counting a million rows costs tens of ms, and the
        answering stage asks for ``last_date`` on every question."""
        with self._lock:
            self._refresh()
            generation = self._store.generation()
            if self._stats is not None and self._stats.generation == generation:
                # The word index may have caught up since: that part is not cached.
                return dataclasses.replace(self._stats, word_index=self._word_state())
            n_articles, n_chunks = self._store.counts()
            first, last = self._store.date_range()
            m = self.manifest
            self._stats = IndexStats(
                path=str(self.path), articles=n_articles, chunks=n_chunks, model=m.model,
                revision=m.revision, dimension=m.dimension, backend=m.backend,
                vector_index=self._vectors.kind,
                word_index=self._word_state(),
                first_date=first, last_date=last,
                sources=self._store.sources(), bytes_on_disk=_bytes_on_disk(self.path),
                generation=generation, updated=self._store.updated(),
                pending_vectors=self._store.pending_count(),
            )
            return self._stats

    def _word_state(self) -> str:
        return "tantivy" if self._words_current() else "fts5 (tantivy catching up)"

    def check(self) -> list[str]:
        """Problems found, each saying what to do; [] when healthy."""
        with self._lock:
            problems = self._store.problems(self.manifest.dimension)
            generation = self._store.generation()
            # A chunk waiting for its vector is searchable by words and due to be embedded:
            # not a problem, and not expected in vectors.faiss.
            db_ids = self._store.embedded_rowids()
            on_disk = VectorIndex.load(
                self.path, self.manifest.dimension, self._vectors.config, mapped=False
            )
            problems += self._word_problems(self._store.words_generation(),
                                            self._store.rowids())
        if on_disk is None:
            problems.append(
                f"{self.path / 'vectors.faiss'} is missing or unreadable; open the index "
                "with no ingest running (e.g. `newsqa check` again) to rebuild it from the database"
            )
        else:
            have = on_disk.ids()
            missing = np.setdiff1d(db_ids, have)
            extra = np.setdiff1d(have, db_ids)
            if on_disk.generation != generation or len(missing):
                problems.append(
                    f"vectors.faiss reflects generation {on_disk.generation} but the database "
                    f"is at {generation} ({len(missing)} chunks missing from it); it is caught up "
                    "on the next open when no ingest is running"
                )
            if on_disk.kind == "flat" and len(extra):
                problems.append(
                    f"vectors.faiss holds {len(extra)} vectors of deleted chunks; run "
                    "`newsqa check` again with no ingest running to repair it"
                )
            if len(np.unique(have)) != len(have):
                problems.append("vectors.faiss holds duplicate ids; delete it to have it rebuilt")
        return problems

    def _word_problems(self, generation: int, db_ids: np.ndarray) -> list[str]:
        """The word index against the database: generation and chunk rowids."""
        unreadable = [f"{self.path / WORDS_NAME} is missing or unreadable; open the index with "
                      "no ingest running (e.g. `newsqa check` again) to rebuild it from the "
                      "database"]
        words = WordIndex.open(self.path, create=False)
        if words is None:
            return unreadable
        problems = []
        try:
            have = words.rowids()
        except (OSError, ValueError, RuntimeError):
            return unreadable
        missing = np.setdiff1d(db_ids, have)
        extra = np.setdiff1d(have, db_ids)
        if words.generation() != generation or len(missing) or len(extra):
            problems.append(
                f"{self.path / WORDS_NAME} reflects generation {words.generation()} but the "
                f"database is at {generation} ({len(missing)} chunks missing from it, "
                f"{len(extra)} deleted ones still in it); it is caught up on the next open "
                "when no ingest is running")
        if len(np.unique(have)) != len(have):
            problems.append(f"{self.path / WORDS_NAME} holds duplicate chunks; delete the "
                            "directory to have it rebuilt")
        return problems

    def close(self) -> None:
        with self._lock:
            self._close_words_writer()
            self._store.close()
            self._vectors.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

def _exact(
    queries: np.ndarray, ids: np.ndarray, vectors: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    scores = queries @ vectors.T
    top = min(k, len(ids))
    order = np.argsort(-scores, axis=1)[:, :top]
    return np.take_along_axis(scores, order, axis=1), ids[order]


def _bytes_on_disk(directory: Path) -> int:
    files = [*directory.iterdir(), *(directory / WORDS_NAME).glob("*")]
    return sum(p.stat().st_size for p in files if p.is_file())

