"""``VectorCatchUp``: fill in the vectors of chunks that are searchable by words but wait for
their vector, newest first, one committed batch at a time.

Per batch: read up to ``VECTOR_BATCH`` pending chunks, embed them OUTSIDE any lock or
transaction, then one SQLite transaction sets their vectors (only where still NULL: a chunk
deleted meanwhile is left alone) and moves the generation, then the in-memory FAISS index
takes them in. A kill at any point loses at most the batch being embedded: its chunks are
still NULL in the database, so the next catch-up embeds them again. The caller holds the
writer lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from .files import crash_here
from .types import VectorProgress, VectorReport
from .writer import PeriodicSave

if TYPE_CHECKING:
    from .core import Index

# Chunks per committed batch of vectors (the default of `newsqa embed`): ~5-10 s of embedding
# on 2 cores, so a kill loses little and progress moves, while a commit (one fsync) costs well
# under 1% of that. Smaller batches embed slower: the encoder sorts each call's texts by
# length to pad less, and calls of 64 CMRC chunks ran 15-25% slower than calls of 128 (same
# texts, alternating, load ~5).
VECTOR_BATCH = 128
# An ingest of ``batch_size`` articles per batch of words commits vectors in batches of this
# many times as many chunks: about the chunks those articles hold (2.6 an article in CMRC).
CHUNKS_PER_ARTICLE_BATCH = 2


class VectorCatchUp:
    """Embeds pending chunks until none is left, ``limit`` were done or ``seconds`` passed
    (checked between batches)."""

    def __init__(
        self, index: Index, saver: PeriodicSave, *, limit: int | None = None,
        seconds: float | None = None,
        progress: Callable[[VectorProgress], None] | None = None,
        batch: int = VECTOR_BATCH,
    ) -> None:
        self._index = index
        self._saver = saver
        self._limit = limit
        self._seconds = seconds
        self._progress = progress
        self._batch = max(1, batch)

    def run(self) -> VectorReport:
        from .core import passage_text

        index, store = self._index, self._index._store
        started = time.monotonic()
        report = VectorReport()
        with index._lock:
            waiting = store.pending_count()
        total = waiting if self._limit is None else min(waiting, max(0, self._limit))
        while report.chunks_embedded < total:
            if self._seconds is not None and time.monotonic() - started >= self._seconds:
                break
            with index._lock:
                rows = store.pending(min(self._batch, total - report.chunks_embedded))
            if not rows:
                break  # none left
            vectors = index._embed(index.embedder, [passage_text(chunk) for _, chunk in rows])
            with index._lock:
                filled, generation = store.set_vectors([rowid for rowid, _ in rows], vectors)
                crash_here("after-vectors-commit")
                index._data_version = store.data_version()
                keep = np.isin([rowid for rowid, _ in rows], filled)
                index._vectors.add(filled, vectors[keep].astype(np.float32))
                index._vectors.generation = generation
            self._saver.changed()
            report.chunks_embedded += len(filled)
            if self._progress is not None:
                self._progress(VectorProgress(report.chunks_embedded, total,
                                              time.monotonic() - started))
        with index._lock:
            report.chunks_pending = store.pending_count()
        report.seconds = time.monotonic() - started
        return report
