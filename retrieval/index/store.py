"""SQLite store: articles, chunks with their vectors, the FTS5 word index and generation counters.

SQLite (WAL) is the source of truth: everything else — the FAISS file in particular — can be
rebuilt from it. Chunk rowids are AUTOINCREMENT so an id is never reused: a FAISS file that
still holds a deleted chunk's vector can therefore never point at a different chunk.

Words first, vectors catching up: a chunk is written with its words and a NULL vector, and
its vector is filled in later (``set_vectors``). A partial index on the NULLs keeps counting
and listing the pending chunks cheap however large the table. Two counters: ``generation``
moves with every commit (the FAISS file records the one it reflects), ``words_generation``
only with commits that change chunks or words (the Tantivy word index records that one), so
filling in vectors never makes the word index look stale.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ..articles import Article, Chunk
from ..errors import IndexError_

DB_NAME = "newsqa.sqlite"
# 2: chunks.vector may be NULL (waiting for its vector), the chunks_pending partial index and
# meta.words_generation. A schema-1 database is read as it is and upgraded by the next write.
SCHEMA_VERSION = 2

# Vectors are stored as float16: half the disk of float32 and a cosine error around 1e-4. The
# FAISS index is always fed the same float16-rounded values, so a rebuild reproduces it exactly.
VECTOR_DTYPE = np.float16

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    date TEXT,
    source TEXT,
    title TEXT,
    seq INTEGER NOT NULL,          -- ingest order, breaks ties between same-date articles
    data TEXT NOT NULL             -- Article.to_dict() as JSON
);
CREATE INDEX IF NOT EXISTS articles_by_date ON articles(date, seq);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,   -- = FAISS id
    chunk_id TEXT NOT NULL UNIQUE,
    article_id TEXT NOT NULL REFERENCES articles(id),
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL,
    title TEXT,
    date TEXT,                     -- copy of the article's, for date-filtered search
    vector BLOB                    -- float16; NULL until the chunk is embedded
);
CREATE INDEX IF NOT EXISTS chunks_by_article ON chunks(article_id);
CREATE INDEX IF NOT EXISTS chunks_by_date ON chunks(date);
-- jieba-segmented, normalised title + text, space-joined; rowid = chunks.id
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    words, tokenize = 'unicode61 remove_diacritics 0'
);
"""
# Only the chunks still waiting for a vector: small, and kept small as the catch-up proceeds.
_PENDING_INDEX = "CREATE INDEX IF NOT EXISTS chunks_pending ON chunks(id) WHERE vector IS NULL;"


@dataclass(frozen=True, slots=True)
class NewChunk:
    """A chunk ready to store: its search words and its (already rounded) vector, or None
    when it is to wait for one (``Store.pending``)."""

    chunk: Chunk
    words: str
    vector: np.ndarray | None = None  # VECTOR_DTYPE, shape (dim,)


class Store:
    def __init__(self, directory: Path, *, create: bool) -> None:
        self.path = directory / DB_NAME
        if not create and not self.path.exists():
            raise IndexError_(f"{self.path} is missing; re-ingest into a new --index directory")
        try:
            # Autocommit mode: every write below opens its own explicit transaction.
            self.conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
            self.conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed batch survives power loss, not only a killed process.
            self.conn.execute("PRAGMA synchronous=FULL")
            if create:
                self.conn.executescript(_SCHEMA + _PENDING_INDEX)
                self.conn.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('schema', ?), ('generation', '0'), "
                    "('words_generation', '0')",
                    (str(SCHEMA_VERSION),),
                )
            schema = self._meta("schema")
        except sqlite3.DatabaseError as exc:
            raise IndexError_(
                f"{self.path} is not a readable newsqa database ({exc}); "
                "re-ingest into a new --index directory"
            ) from exc
        if schema is None or int(schema) > SCHEMA_VERSION:
            raise IndexError_(
                f"{self.path} has database schema {schema!r}, this newsqa reads {SCHEMA_VERSION}; "
                "upgrade newsqa or re-ingest into a new --index directory"
            )

    def close(self) -> None:
        self.conn.close()

    def schema(self) -> int:
        """Re-read each time: another process may upgrade the database while this one reads."""
        return int(self._meta("schema") or 0)

    def upgrade(self) -> None:
        """Bring a schema-1 database to this version (the caller holds the writer lock).

        Schema 1 declared ``vector BLOB NOT NULL``. SQLite cannot drop a NOT NULL with ALTER
        TABLE; its documented procedure for removing one ("Making Other Kinds Of Table Schema
        Changes", sqlite.org/lang_altertable.html) edits the table's CREATE statement in
        ``sqlite_master`` in one transaction, without copying a row, where rebuilding the table
        would rewrite gigabytes at a million chunks.
        """
        if self.schema() >= SCHEMA_VERSION:
            return
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            if self.schema() < SCHEMA_VERSION:
                sql = conn.execute(
                    "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'chunks'"
                ).fetchone()[0]
                if "vector BLOB NOT NULL" not in sql:
                    raise IndexError_(f"{self.path}: unexpected chunks table; re-ingest into "
                                      "a new --index directory")
                version = int(conn.execute("PRAGMA schema_version").fetchone()[0])
                conn.execute("PRAGMA writable_schema = ON")
                conn.execute(
                    "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'chunks'",
                    (sql.replace("vector BLOB NOT NULL", "vector BLOB"),))
                conn.execute(f"PRAGMA schema_version = {version + 1}")
                conn.execute("PRAGMA writable_schema = OFF")
                conn.execute(_PENDING_INDEX)
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('words_generation', ?)",
                             (str(self.generation()),))
                conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'",
                             (str(SCHEMA_VERSION),))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    # -- change detection -------------------------------------------------------------------

    def generation(self) -> int:
        """Bumped by every committed write; the FAISS file records the one it reflects."""
        return int(self._meta("generation") or 0)

    def words_generation(self) -> int:
        """The generation of the last commit that changed chunks or words (not only vectors);
        the word index records the one it reflects. Schema 1: every commit did."""
        value = self._meta("words_generation")
        return int(value) if value is not None else self.generation()

    def data_version(self) -> int:
        """Changes when another connection commits; costs no I/O (see SQLite PRAGMA docs)."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    # -- writes ------------------------------------------------------------------------------

    def content_hashes(self, article_ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(article_ids), 500):
            part = article_ids[start : start + 500]
            marks = ",".join("?" * len(part))
            found.update(
                self.conn.execute(
                    f"SELECT id, content_hash FROM articles WHERE id IN ({marks})", part
                ).fetchall()
            )
        return found

    def write_batch(
        self, articles: Sequence[Article], chunks: Sequence[NewChunk],
        retired: Sequence[str] = (),
    ) -> tuple[list[int], list[int], int]:
        """Replace ``articles`` (and all their old chunks) and delete the ``retired`` articles
        they supersede, in ONE transaction.

        Returns (removed chunk rowids, added chunk rowids, new generation). Either all of it is
        committed or none of it.
        """
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            removed = self._remove_chunks([*(a.id for a in articles), *retired])
            for article_id in retired:
                conn.execute("DELETE FROM articles WHERE id = ?", (article_id,))
            seq = int(conn.execute("SELECT coalesce(max(seq), 0) FROM articles").fetchone()[0])
            for offset, article in enumerate(articles, start=1):
                conn.execute(
                    "INSERT OR REPLACE INTO articles (id, content_hash, date, source, title, seq, "
                    "data) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (article.id, article.content_hash, article.date, article.source,
                     article.title, seq + offset,
                     json.dumps(article.to_dict(), ensure_ascii=False)),
                )
            dates = {a.id: a.date for a in articles}
            added: list[int] = []
            for new in chunks:
                c = new.chunk
                cursor = conn.execute(
                    'INSERT INTO chunks (chunk_id, article_id, ordinal, start, "end", text, title, '
                    "date, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (c.id, c.article_id, c.ordinal, c.start, c.end, c.text, c.title,
                     dates.get(c.article_id),
                     None if new.vector is None else new.vector.astype(VECTOR_DTYPE).tobytes()),
                )
                rowid = int(cursor.lastrowid or 0)
                conn.execute(
                    "INSERT INTO chunks_fts (rowid, words) VALUES (?, ?)", (rowid, new.words)
                )
                added.append(rowid)
            generation = self._bump_generation(words=True)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return removed, added, generation

    def set_vectors(self, rowids: Sequence[int], vectors: np.ndarray) -> tuple[list[int], int]:
        """Fill in the vectors of pending chunks in ONE transaction → (rowids filled in, new
        generation). A chunk deleted or already embedded meanwhile is left alone."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            filled = [
                int(rowid) for rowid, vector in zip(rowids, vectors, strict=True)
                if conn.execute(
                    "UPDATE chunks SET vector = ? WHERE id = ? AND vector IS NULL",
                    (vector.astype(VECTOR_DTYPE).tobytes(), int(rowid)),
                ).rowcount
            ]
            generation = self._bump_generation(words=False) if filled else self.generation()
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return filled, generation

    def delete_articles(self, article_ids: Sequence[str]) -> tuple[int, list[int], int]:
        """Delete articles and their chunks in one transaction → (articles, rowids, generation)."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            removed = self._remove_chunks(article_ids)
            deleted = 0
            for article_id in article_ids:
                deleted += conn.execute("DELETE FROM articles WHERE id = ?", (article_id,)).rowcount
            generation = self._bump_generation(words=True) if deleted else self.generation()
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return deleted, removed, generation

    def _remove_chunks(self, article_ids: Iterable[str]) -> list[int]:
        removed: list[int] = []
        for article_id in article_ids:
            rowids = [
                r[0]
                for r in self.conn.execute(
                    "SELECT id FROM chunks WHERE article_id = ?", (article_id,)
                )
            ]
            if rowids:
                marks = ",".join("?" * len(rowids))
                self.conn.execute(f"DELETE FROM chunks_fts WHERE rowid IN ({marks})", rowids)
                self.conn.execute(f"DELETE FROM chunks WHERE id IN ({marks})", rowids)
                removed += rowids
        return removed

    def _bump_generation(self, *, words: bool) -> int:
        """The next generation; ``words``: this commit changes chunks or words too."""
        generation = self.generation() + 1
        self.conn.execute(
            "UPDATE meta SET value = ? WHERE key = 'generation'", (str(generation),)
        )
        if words and self.schema() >= 2:
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('words_generation', ?)",
                              (str(generation),))
        # When the archive last changed, for `newsqa stats` and the bot's metrics.
        self.conn.execute(
            "INSERT OR REPLACE INTO meta VALUES ('updated', ?)",
            (datetime.now(UTC).isoformat(timespec="seconds"),),
        )
        return generation

    def updated(self) -> str | None:
        return self._meta("updated")

    # -- reads -------------------------------------------------------------------------------

    def article(self, article_id: str) -> Article | None:
        row = self.conn.execute("SELECT data FROM articles WHERE id = ?", (article_id,)).fetchone()
        return None if row is None else Article.from_dict(json.loads(row[0]))

    def articles(self, *, newest_first: bool, limit: int) -> list[Article]:
        order = "date DESC, seq DESC" if newest_first else "date IS NULL, date ASC, seq ASC"
        rows = self.conn.execute(f"SELECT data FROM articles ORDER BY {order} LIMIT ?", (limit,))
        return [Article.from_dict(json.loads(r[0])) for r in rows]

    def chunk(self, chunk_id: str) -> Chunk | None:
        row = self.conn.execute(
            'SELECT article_id, ordinal, start, "end", text, title FROM chunks WHERE chunk_id = ?',
            (chunk_id,),
        ).fetchone()
        return None if row is None else Chunk(*row)

    def resolve(self, rowids: Iterable[int]) -> dict[int, tuple[str, str]]:
        """rowid → (chunk_id, article_id) for the rowids that still exist."""
        ids = list({int(r) for r in rowids})
        found: dict[int, tuple[str, str]] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            for rowid, chunk_id, article_id in self.conn.execute(
                f"SELECT id, chunk_id, article_id FROM chunks WHERE id IN ({marks})", part
            ):
                found[rowid] = (chunk_id, article_id)
        return found

    def rowids(self, date_from: str | None = None, date_to: str | None = None) -> np.ndarray:
        """Every chunk's rowid (in a date range), sorted; the word index holds them all."""
        where, params = _date_clause("date", date_from, date_to)
        # No ORDER BY: without it SQLite reads the small date index, with it the whole table.
        cursor = self.conn.execute(f"SELECT id FROM chunks {where}", params)
        return np.sort(np.fromiter((r[0] for r in cursor), dtype=np.int64))

    def embedded_rowids(self, date_from: str | None = None,
                        date_to: str | None = None) -> np.ndarray:
        """The rowids of chunks that have their vector (in a date range), sorted: what FAISS
        holds. All rowids less the pending ones: both come from small indexes, where asking
        for ``vector IS NOT NULL`` would read every row's vector."""
        pending = self.pending_rowids()
        every = self.rowids(date_from, date_to)
        return np.setdiff1d(every, pending, assume_unique=True) if len(pending) else every

    def pending_rowids(self, limit: int | None = None) -> np.ndarray:
        """Rowids of chunks waiting for their vector, newest first (at most ``limit``)."""
        if self.schema() < 2:
            return np.empty(0, dtype=np.int64)  # schema 1 had no NULL vectors
        cursor = self.conn.execute(
            "SELECT id FROM chunks WHERE vector IS NULL ORDER BY id DESC LIMIT ?",
            (-1 if limit is None else int(limit),))
        return np.fromiter((r[0] for r in cursor), dtype=np.int64)

    def pending_count(self) -> int:
        if self.schema() < 2:
            return 0
        return int(self.conn.execute(
            "SELECT count(*) FROM chunks WHERE vector IS NULL").fetchone()[0])

    def pending(self, limit: int) -> list[tuple[int, Chunk]]:
        """(rowid, chunk) of up to ``limit`` chunks waiting for their vector, newest first:
        a newsroom wants today's articles found by meaning before last decade's backlog."""
        if self.schema() < 2:
            return []
        # Walks the partial index newest first and reads only the rows it returns.
        rows = self.conn.execute(
            'SELECT id, article_id, ordinal, start, "end", text, title FROM chunks '
            "WHERE vector IS NULL ORDER BY id DESC LIMIT ?", (int(limit),))
        return [(int(row[0]), Chunk(*row[1:])) for row in rows]

    def vectors(self, rowids: np.ndarray, dimension: int) -> np.ndarray:
        """float32 vectors of ``rowids`` in the same order (rounded as stored)."""
        out = np.zeros((len(rowids), dimension), dtype=np.float32)
        position = {int(r): i for i, r in enumerate(rowids)}
        ids = [int(r) for r in rowids]
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            for rowid, blob in self.conn.execute(
                f"SELECT id, vector FROM chunks WHERE id IN ({marks}) AND vector IS NOT NULL",
                part,
            ):
                out[position[rowid]] = np.frombuffer(blob, dtype=VECTOR_DTYPE)
        return out

    def word_rows(self, rowids: np.ndarray) -> list[tuple[int, str, str | None]]:
        """(rowid, search words, date) of the chunks ``rowids`` that exist, for the word index."""
        ids = [int(r) for r in rowids]
        marks = ",".join("?" * len(ids))
        return [(int(r), str(w), d) for r, w, d in self.conn.execute(
            f"SELECT c.id, f.words, c.date FROM chunks c JOIN chunks_fts f ON f.rowid = c.id "
            f"WHERE c.id IN ({marks})", ids)]

    def document_counts(self, words: Sequence[str]) -> dict[str, int]:
        """How many chunks hold each word, from FTS5's own term index (missing: none)."""
        if not words:
            return {}
        # fts5vocab reads the FTS5 index directly (a lookup per term); a temp table leaves
        # the index file's schema alone.
        self.conn.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunks_fts_terms "
            "USING fts5vocab(main, chunks_fts, row)"
        )
        marks = ",".join("?" * len(words))
        rows = self.conn.execute(
            f"SELECT term, doc FROM temp.chunks_fts_terms WHERE term IN ({marks})", list(words)
        )
        return {str(term): int(doc) for term, doc in rows}

    def lexical(
        self, match: str, k: int, date_from: str | None, date_to: str | None
    ) -> list[tuple[str, str, float]]:
        """Best ``k`` chunks for an FTS5 MATCH expression as (chunk_id, article_id, −bm25)."""
        if date_from is None and date_to is None:
            # FTS5 answers "ORDER BY rank LIMIT k" without sorting every match.
            sql = (
                "SELECT c.chunk_id, c.article_id, -f.rank FROM "
                "(SELECT rowid, rank FROM chunks_fts WHERE chunks_fts MATCH ? "
                "ORDER BY rank LIMIT ?) AS f JOIN chunks c ON c.id = f.rowid ORDER BY f.rank"
            )
            params: list[object] = [match, k]
        else:
            where, date_params = _date_clause("c.date", date_from, date_to)
            sql = (
                "SELECT c.chunk_id, c.article_id, -bm25(chunks_fts) AS score FROM chunks_fts "
                f"JOIN chunks c ON c.id = chunks_fts.rowid {where} "
                f"{'AND' if where else 'WHERE'} chunks_fts MATCH ? ORDER BY score DESC LIMIT ?"
            )
            params = [*date_params, match, k]
        try:
            return [(r[0], r[1], float(r[2])) for r in self.conn.execute(sql, params)]
        except sqlite3.OperationalError as exc:
            raise IndexError_(f"lexical search failed in {self.path}: {exc}") from exc

    # -- summaries ---------------------------------------------------------------------------

    def counts(self) -> tuple[int, int]:
        articles = self.conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        chunks = self.conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
        return int(articles), int(chunks)

    def date_range(self) -> tuple[str | None, str | None]:
        row = self.conn.execute("SELECT min(date), max(date) FROM articles").fetchone()
        return row[0], row[1]

    def sources(self) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT coalesce(source, ''), count(*) FROM articles GROUP BY 1 ORDER BY 2 DESC, 1"
        )
        return {name: int(n) for name, n in rows}

    def problems(self, dimension: int) -> list[str]:
        """Consistency of the SQLite side alone (FTS ↔ chunks ↔ articles, spans, vectors)."""
        conn = self.conn
        found: list[str] = []
        integrity = conn.execute("PRAGMA quick_check").fetchone()[0]
        if integrity != "ok":
            found.append(f"{self.path}: SQLite integrity check failed: {integrity}")
        try:
            conn.execute("INSERT INTO chunks_fts (chunks_fts, rank) VALUES ('integrity-check', 1)")
        except sqlite3.DatabaseError as exc:
            found.append(f"{self.path}: full-text index is corrupt: {exc}")
        orphans = conn.execute(
            "SELECT count(*) FROM chunks WHERE article_id NOT IN (SELECT id FROM articles)"
        ).fetchone()[0]
        if orphans:
            found.append(f"{orphans} chunks belong to no article")
        fts_missing = conn.execute(
            "SELECT count(*) FROM chunks WHERE id NOT IN (SELECT rowid FROM chunks_fts)"
        ).fetchone()[0]
        fts_extra = conn.execute(
            "SELECT count(*) FROM chunks_fts WHERE rowid NOT IN (SELECT id FROM chunks)"
        ).fetchone()[0]
        if fts_missing or fts_extra:
            found.append(
                f"full-text index disagrees with chunks: {fts_missing} chunks missing from it, "
                f"{fts_extra} entries without a chunk"
            )
        # A NULL vector is a chunk waiting for its vector (words come first), not damage.
        bad_vectors = conn.execute(
            "SELECT count(*) FROM chunks WHERE vector IS NOT NULL AND length(vector) != ?",
            (dimension * np.dtype(VECTOR_DTYPE).itemsize,),
        ).fetchone()[0]
        if bad_vectors:
            found.append(f"{bad_vectors} chunks have a vector of the wrong size (not {dimension})")
        bad_spans = 0
        rows = conn.execute(
            'SELECT a.id, a.data, c.start, c."end", c.text FROM chunks c JOIN articles a '
            "ON a.id = c.article_id ORDER BY c.article_id"
        )
        text_of: tuple[str, str] = ("", "")
        for article_id, data, start, end, text in rows:
            if text_of[0] != article_id:  # rows come grouped by article: parse each once
                text_of = (article_id, Article.from_dict(json.loads(data)).text)
            if text_of[1][start:end] != text:
                bad_spans += 1
        if bad_spans:
            found.append(f"{bad_spans} chunks do not match their article's text at their offsets")
        return found


def _date_clause(
    column: str, date_from: str | None, date_to: str | None
) -> tuple[str, list[object]]:
    """Inclusive ISO-date bounds; articles without a date never match a date filter."""
    conditions: list[str] = []
    params: list[object] = []
    if date_from is not None:
        conditions.append(f"{column} >= ?")
        params.append(date_from)
    if date_to is not None:
        conditions.append(f"{column} <= ?")
        params.append(date_to)
    return ("WHERE " + " AND ".join(conditions)) if conditions else "", params
