"""``BatchWriter``: one ``Index.upsert`` call, written batch by batch.

Per batch: articles whose content hash is already stored are skipped; the others are chunked
and embedded OUTSIDE any lock or transaction, then committed in one SQLite transaction, then
the in-memory FAISS index is updated. The FAISS file is saved at most every ``SAVE_INTERVAL``
seconds and at the end (see ``retrieval/index/core.py`` for why).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..articles import Article
from .files import crash_here
from .store import NewChunk
from .types import IngestProgress, IngestReport

if TYPE_CHECKING:
    from .core import Index

SAVE_INTERVAL = 120.0  # seconds between FAISS saves during one long upsert


class BatchWriter:
    """Writes the batches of one upsert call; the caller holds the index's writer lock.

    The index's thread lock is taken per batch, not for the whole call, so searches from
    other threads of this process keep being answered during a long ingest.
    """

    def __init__(
        self, index: Index, total: int | None,
        progress: Callable[[IngestProgress], None] | None = None,
    ) -> None:
        self._index = index
        self._total = total  # None: a stream of unknown length
        self._progress = progress
        self._done = 0
        # Ids written by this call: only ids are kept (not articles), so memory stays small
        # while a repeated id is still reported once, as the last copy wins.
        self._seen: set[str] = set()
        self._started = time.monotonic()
        self._last_save = self._started
        self._dirty = False
        self.report = IngestReport()

    def write(self, batch: Sequence[Article]) -> None:
        """Commit one batch atomically: every store has all of an article or none of it."""
        latest = {article.id: article for article in batch}  # the last copy of an id wins
        changed = self._sort_out(list(latest.values()))
        if changed:
            self._commit(changed)
        if self._dirty and time.monotonic() - self._last_save > SAVE_INTERVAL:
            self._save()
        self._done += len(batch)
        if self._progress is not None:
            self._progress(IngestProgress(
                self._done, max(self._total or 0, self._done), self.report.chunks_added,
                time.monotonic() - self._started,
            ))

    def finish(self) -> IngestReport:
        """Save what is not saved yet; the report of the whole call."""
        if self._dirty:
            self._save()
        self.report.seconds = time.monotonic() - self._started
        return self.report

    def _sort_out(self, batch: Sequence[Article]) -> list[Article]:
        """Record each article as added, replaced or unchanged; the ones to write."""
        index = self._index
        with index._lock:
            known = index._store.content_hashes([a.id for a in batch])
        changed = []
        for article in batch:
            previous = known.get(article.id)
            repeated = article.id in self._seen  # already reported by an earlier batch
            self._seen.add(article.id)
            if previous == article.content_hash:
                if not repeated:
                    self.report.unchanged.append(article.id)
                continue
            if not repeated:
                (self.report.replaced if previous is not None else self.report.added).append(
                    article.id)
            changed.append(article)
        return changed

    def _commit(self, changed: list[Article]) -> None:
        from ..chunks import chunk_article
        from .core import passage_text

        index = self._index
        chunks = [c for a in changed for c in chunk_article(a, index._chunking)]
        vectors = index._embed(index.embedder, [passage_text(c) for c in chunks])
        new = [
            NewChunk(c, " ".join(index._words(passage_text(c))), v)
            for c, v in zip(chunks, vectors, strict=True)
        ]
        with index._lock:
            removed, added, generation = index._store.write_batch(changed, new)
            crash_here("after-commit")
            index._data_version = index._store.data_version()
            index._vectors.remove(removed)
            index._vectors.add(added, vectors.astype(np.float32))
            index._vectors.generation = generation
            dates = {a.id: a.date for a in changed}
            index._apply_words(removed, [
                (rowid, n.words, dates.get(n.chunk.article_id))
                for rowid, n in zip(added, new, strict=True)
            ], generation)
        self.report.chunks_added += len(added)
        self.report.chunks_removed += len(removed)
        self._dirty = True

    def _save(self) -> None:
        with self._index._lock:
            self._index._save_vectors()
        self._dirty, self._last_save = False, time.monotonic()
