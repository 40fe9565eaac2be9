"""``BatchWriter``: the words phase of one ``Index.upsert`` call, written batch by batch.

Per batch: articles whose content hash is already stored are skipped; the others are chunked
and segmented into words OUTSIDE any lock or transaction, then committed (articles, chunks
with no vector yet, FTS5 words) in one SQLite transaction, then the replaced chunks leave the
in-memory FAISS index and the word index takes the batch in. Their vectors are filled in
afterwards by ``catchup.VectorCatchUp``: embedding is ~94% of ingest time, and an article is
searchable by words as soon as its batch is committed.

``PeriodicSave`` saves the FAISS file at most every ``SAVE_INTERVAL`` seconds and at the end
(see ``retrieval/index/core.py`` for why).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..articles import Article
from ..articles.records import earlier_ids
from .files import crash_here
from .store import NewChunk
from .types import IngestProgress, IngestReport

if TYPE_CHECKING:
    from .core import Index

SAVE_INTERVAL = 120.0  # seconds between FAISS saves during one long upsert


class PeriodicSave:
    """When to write ``vectors.faiss`` during one write call: every ``SAVE_INTERVAL`` seconds
    while it changes, and once at the end (``finish``) if it changed since."""

    def __init__(self, index: Index) -> None:
        self._index = index
        self._last = time.monotonic()
        self.dirty = False

    def changed(self) -> None:
        self.dirty = True
        if time.monotonic() - self._last > SAVE_INTERVAL:
            self._save()

    def finish(self) -> None:
        if self.dirty:
            self._save()

    def _save(self) -> None:
        with self._index._lock:
            self._index._save_vectors()
        self.dirty, self._last = False, time.monotonic()


class BatchWriter:
    """Writes the batches of one upsert call; the caller holds the index's writer lock.

    The index's thread lock is taken per batch, not for the whole call, so searches from
    other threads of this process keep being answered during a long ingest.
    """

    def __init__(
        self, index: Index, total: int | None, saver: PeriodicSave,
        progress: Callable[[IngestProgress], None] | None = None,
    ) -> None:
        self._index = index
        self._saver = saver
        self._total = total  # None: a stream of unknown length
        self._progress = progress
        self._done = 0
        # Ids written by this call: only ids are kept (not articles), so memory stays small
        # while a repeated id is still reported once, as the last copy wins.
        self._seen: set[str] = set()
        self.started = time.monotonic()
        self.report = IngestReport()

    def write(self, batch: Sequence[Article]) -> None:
        """Commit one batch atomically: every store has all of an article or none of it."""
        latest = {article.id: article for article in batch}  # the last copy of an id wins
        copies = self._earlier_copies(list(latest.values()))
        changed = self._sort_out(list(latest.values()), copies)
        retired = [old for olds in copies.values() for old in olds]
        if changed or retired:
            self._commit(changed, retired)
        self._done += len(batch)
        if self._progress is not None:
            self._progress(IngestProgress(
                self._done, max(self._total or 0, self._done), self.report.chunks_added,
                time.monotonic() - self.started,
            ))

    def finish(self) -> IngestReport:
        """The report of the words phase (every article is searchable by words now)."""
        self.report.words_seconds = self.report.seconds = time.monotonic() - self.started
        return self.report

    def _sort_out(self, batch: Sequence[Article],
                  copies: dict[str, list[str]]) -> list[Article]:
        """Record each article as added, replaced or unchanged; the ones to write. An article
        whose earlier copy is retired counts as replaced (and is not written again when it is
        already stored as it is: only the copy goes)."""
        index = self._index
        with index._lock:
            known = index._store.content_hashes([a.id for a in batch])
        changed = []
        for article in batch:
            previous = known.get(article.id)
            repeated = article.id in self._seen  # already reported by an earlier batch
            self._seen.add(article.id)
            if not repeated:
                if previous == article.content_hash and article.id not in copies:
                    self.report.unchanged.append(article.id)
                elif previous is not None or article.id in copies:
                    self.report.replaced.append(article.id)
                else:
                    self.report.added.append(article.id)
            if previous != article.content_hash:
                changed.append(article)
        return changed

    def _earlier_copies(self, batch: Sequence[Article]) -> dict[str, list[str]]:
        """Per article, the copies an earlier version of newsqa indexed under another id
        (``earlier_ids``) with the same source, headline and text: they are retired when it is
        written, so upgrading and re-ingesting a page does not list its stories twice. A copy
        whose text differs is left alone: it may be another story, and nothing is lost."""
        wanted = {a.id: earlier_ids(a) for a in batch}
        if not any(wanted.values()):
            return {}
        index = self._index
        with index._lock:
            present = index._store.content_hashes([i for ids in wanted.values() for i in ids])
            stored = {i: index._store.article(i) for i in present}
        copies: dict[str, list[str]] = {}
        for article in batch:
            same = [
                i for i in wanted[article.id]
                if (old := stored.get(i)) is not None and old.paragraphs == article.paragraphs
                and (old.source, old.title) == (article.source, article.title)
            ]
            if same:
                copies[article.id] = same
        return copies

    def _commit(self, changed: list[Article], retired: Sequence[str] = ()) -> None:
        from ..chunks import chunk_article
        from .core import passage_text

        index = self._index
        chunks = [c for a in changed for c in chunk_article(a, index._chunking)]
        new = [NewChunk(c, " ".join(index._words(passage_text(c)))) for c in chunks]
        with index._lock:
            words_before = index._store.words_generation()
            removed, added, generation = index._store.write_batch(changed, new, retired)
            crash_here("after-commit")
            index._data_version = index._store.data_version()
            index._vectors.remove(removed)  # the new chunks wait for their vectors
            index._vectors.generation = generation
            dates = {a.id: a.date for a in changed}
            index._apply_words(removed, [
                (rowid, n.words, dates.get(n.chunk.article_id))
                for rowid, n in zip(added, new, strict=True)
            ], generation, words_before)
        self.report.chunks_added += len(added)
        self.report.chunks_removed += len(removed)
        self._saver.changed()  # the file records the generation: it is behind even if no id moved
