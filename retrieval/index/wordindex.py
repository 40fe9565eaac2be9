"""The word side at scale: a Tantivy index of the chunks' search words, derived from SQLite.

FTS5's ``bm25()`` scores every chunk that holds any query word, so at a million chunks one
common word costs hundreds of milliseconds. Tantivy (MIT) answers a top-k BM25 disjunction with
block-max WAND: it skips the blocks of a posting list that cannot reach the current top k, and
returns the same top k as scoring everything (bench/lexical_engines.py measures both).

Like ``vectors.faiss``, the directory ``words/`` is a cache of what SQLite holds (``chunks_fts``
keeps every chunk's words and stays the source of truth). Each Tantivy commit carries the
database generation it reflects in a marker document (rowid 0: SQLite rowids start at 1), so
the marker and the words it describes become visible atomically. An index whose marker is
not the database's generation is caught up by rowid (``sync``), or rebuilt when missing,
unreadable or ahead of the database. While it lags (another process is ingesting), searches go
to FTS5, which is always current.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import tantivy

from .files import crash_here

WORDS_NAME = "words"
_MARKER = 0  # rowid of the document carrying the generation
_WRITER_HEAP = 64_000_000  # bytes; Tantivy wants ≥ 15 MB per indexing thread
_WRITER_THREADS = 1  # ingest is bound by embedding; one indexing thread leaves a core to it
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("rowid", stored=False, indexed=True, fast=True)
    builder.add_integer_field("day", stored=False, indexed=True, fast=True)
    builder.add_integer_field("generation", stored=False, indexed=False, fast=True)
    # The words are jieba words already normalised and space-joined (as in chunks_fts); the
    # whitespace tokenizer keeps them as they are. Term frequencies, no positions: BM25 needs
    # no more, and positions would double the index.
    builder.add_text_field("words", stored=False, tokenizer_name="whitespace",
                           index_option="freq")
    return builder.build()


def day_number(date: str | None) -> int | None:
    """``YYYY-MM-DD`` → YYYYMMDD (orders like the string); None for anything else."""
    match = _ISO_DATE.match(date or "")
    return int("".join(match.groups())) if match else None


class WordIndex:
    """A Tantivy index under ``DIR/words``; every write is committed with a generation."""

    def __init__(self, directory: Path, index: tantivy.Index) -> None:
        self.path = directory / WORDS_NAME
        self._index = index
        self._schema = index.schema
        self._writer: tantivy.IndexWriter | None = None

    @classmethod
    def open(cls, directory: Path, *, create: bool) -> WordIndex | None:
        """The word index of ``directory``; None when missing (and not ``create``) or unreadable."""
        path = directory / WORDS_NAME
        if not (path / "meta.json").exists():
            if not create:
                return None
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(parents=True)
        try:
            index = tantivy.Index(_schema(), path=str(path), reuse=True)
            index.config_reader(reload_policy="Manual")
        except (OSError, ValueError):
            return None
        return cls(directory, index)

    @classmethod
    def recreate(cls, directory: Path) -> WordIndex:
        """An empty word index, replacing whatever is there (torn, unreadable or stale)."""
        shutil.rmtree(directory / WORDS_NAME, ignore_errors=True)
        made = cls.open(directory, create=True)
        if made is None:  # a fresh directory that cannot be opened: a bug or a full disk
            raise OSError(f"cannot create a word index in {directory / WORDS_NAME}")
        return made

    # -- state -------------------------------------------------------------------------------

    def generation(self) -> int:
        """The database generation of the last commit; -1 for none or unreadable (a new or
        damaged index, or segments another process's writer removed while this one read)."""
        try:
            self._index.reload()
            searcher = self._index.searcher()
            query = tantivy.Query.term_query(self._schema, "rowid", _MARKER)
            hits = searcher.search(query, 1, count=False).hits
            if not hits:
                return -1
            value = searcher.fast_field_values("generation", [hits[0][1]])[0]
        except (OSError, ValueError, RuntimeError):
            return -1
        return -1 if value is None else int(value)

    def rowids(self) -> np.ndarray:
        """Every chunk rowid held (sorted), for ``sync`` and ``newsqa check``."""
        self._index.reload()
        searcher = self._index.searcher()
        total = searcher.num_docs
        if total == 0:
            return np.empty(0, dtype=np.int64)
        hits = searcher.search(tantivy.Query.all_query(), total, count=False).hits
        values = searcher.fast_field_values("rowid", [address for _, address in hits])
        ids = np.array([v for v in values if v is not None and v != _MARKER], dtype=np.int64)
        ids.sort()
        return ids

    def documents(self) -> int:
        self._index.reload()
        return max(0, self._index.searcher().num_docs - 1)  # less the marker

    # -- writes ------------------------------------------------------------------------------

    def _open_writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            self._writer = self._index.writer(_WRITER_HEAP, _WRITER_THREADS)
        return self._writer

    def apply(
        self, removed: Iterable[int], added: Iterable[tuple[int, str, str | None]],
        generation: int,
    ) -> None:
        """Remove ``removed`` rowids, add (rowid, words, date) rows, commit at ``generation``.

        Added rowids are never already here: SQLite's rowids are AUTOINCREMENT, and a catch-up
        adds only what ``rowids()`` lacks. The caller holds the index's writer lock (Tantivy
        also allows one writer per directory).
        """
        writer = self._open_writer()
        for rowid in removed:
            writer.delete_documents_by_term("rowid", int(rowid))
        for rowid, words, date in added:
            writer.add_document(self._document(rowid, words, date))
        writer.delete_documents_by_term("rowid", _MARKER)
        marker = tantivy.Document()
        marker.add_integer("rowid", _MARKER)
        marker.add_integer("generation", int(generation))
        writer.add_document(marker)
        crash_here("mid-words")
        writer.commit()
        self._index.reload()

    def _document(self, rowid: int, words: str, date: str | None) -> tantivy.Document:
        doc = tantivy.Document()
        doc.add_integer("rowid", int(rowid))
        doc.add_text("words", words)
        day = day_number(date)
        if day is not None:
            doc.add_integer("day", day)
        return doc

    def close(self) -> None:
        """Let go of the writer (its background merges finish first) so another may open."""
        if self._writer is not None:
            with contextlib.suppress(ValueError, RuntimeError):
                self._writer.wait_merging_threads()
            self._writer = None

    # -- search ------------------------------------------------------------------------------

    def search(
        self, words: Sequence[str], k: int, day_from: int | None = None,
        day_to: int | None = None,
    ) -> list[tuple[int, float]]:
        """Best ``k`` (rowid, BM25) for any of ``words``; days are inclusive YYYYMMDD bounds."""
        if not words or k <= 0:
            return []
        query = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(self._schema, "words", w))
             for w in words]
        )
        if day_from is not None or day_to is not None:
            days = tantivy.Query.range_query(
                self._schema, "day", tantivy.FieldType.Integer, day_from, day_to)
            # A filter, not a scoring clause: it must not change the BM25 ranking.
            query = tantivy.Query.boolean_query([
                (tantivy.Occur.Must, query),
                (tantivy.Occur.Must, tantivy.Query.const_score_query(days, 0.0)),
            ])
        searcher = self._index.searcher()
        # count=False: counting every match would visit every posting and undo WAND's skipping.
        hits = searcher.search(query, k, count=False).hits
        rowids = searcher.fast_field_values("rowid", [address for _, address in hits])
        return [(int(r), float(s)) for (s, _), r in zip(hits, rowids, strict=True)
                if r is not None]

    def reload(self) -> None:
        self._index.reload()
