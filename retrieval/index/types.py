"""Value objects the index hands to its callers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

HitKind = Literal["dense", "lexical"]  # which retriever found a hit


@dataclass(frozen=True, slots=True)
class Hit:
    """One retrieved chunk. ``score``: cosine for ``kind="dense"``, −bm25 for ``"lexical"``
    (higher is better for both, but the scales differ: fuse by rank or normalise first)."""

    chunk_id: str
    article_id: str
    score: float
    rank: int  # 1-based within its result list
    kind: HitKind


@dataclass(slots=True)
class IngestReport:
    """What an ``Index.upsert`` call did, by article id."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    chunks_added: int = 0
    chunks_removed: int = 0
    seconds: float = 0.0
    # Words first, vectors catching up: the time until every article was searchable by words,
    # the vectors filled in by this call (its own chunks and any left pending before), and
    # the chunks still waiting for theirs when it returned.
    words_seconds: float = 0.0
    chunks_embedded: int = 0
    chunks_pending: int = 0

    def merge(self, other: IngestReport) -> None:
        self.added += other.added
        self.replaced += other.replaced
        self.unchanged += other.unchanged
        self.chunks_added += other.chunks_added
        self.chunks_removed += other.chunks_removed
        self.seconds += other.seconds
        self.words_seconds += other.words_seconds
        self.chunks_embedded += other.chunks_embedded
        self.chunks_pending = other.chunks_pending  # the later call's view is the current one

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": len(self.added),
            "replaced": len(self.replaced),
            "unchanged": len(self.unchanged),
            "chunks_added": self.chunks_added,
            "chunks_removed": self.chunks_removed,
            "seconds": round(self.seconds, 3),
            "words_seconds": round(self.words_seconds, 3),
            "chunks_embedded": self.chunks_embedded,
            "chunks_pending": self.chunks_pending,
        }


@dataclass(frozen=True, slots=True)
class IngestProgress:
    """Passed to the ``progress`` callback of ``Index.upsert`` after every committed batch."""

    articles_done: int
    articles_total: int
    chunks_done: int  # chunks committed (searchable by words) so far in this call
    elapsed: float  # seconds since the call started


@dataclass(frozen=True, slots=True)
class VectorProgress:
    """Passed to the ``vector_progress`` callback after every committed batch of vectors."""

    chunks_done: int  # vectors filled in so far by this catch-up
    chunks_total: int  # chunks that were waiting when it started (at most its limit)
    elapsed: float  # seconds since the catch-up started


@dataclass(slots=True)
class VectorReport:
    """What one catch-up of vectors (``Index.embed_pending``) did."""

    chunks_embedded: int = 0
    chunks_pending: int = 0  # still waiting when it stopped (a limit or time was reached)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"chunks_embedded": self.chunks_embedded, "chunks_pending": self.chunks_pending,
                "seconds": round(self.seconds, 3)}


@dataclass(frozen=True, slots=True)
class IndexStats:
    """Summary of an index, as ``newsqa stats`` shows it."""

    path: str
    articles: int
    chunks: int
    model: str
    revision: str
    dimension: int
    backend: str
    vector_index: str  # "flat" (exact) or "hnsw"
    word_index: str  # "tantivy", or "fts5 (tantivy catching up)" while it lags the database
    first_date: str | None
    last_date: str | None
    sources: dict[str, int]  # paper name → article count ("" when unknown)
    bytes_on_disk: int
    generation: int
    updated: str | None = None  # ISO time (UTC) of the last committed write; None: never
    pending_vectors: int = 0  # chunks searchable by words, still waiting for their vector


    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}
