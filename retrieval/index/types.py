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

    def merge(self, other: IngestReport) -> None:
        self.added += other.added
        self.replaced += other.replaced
        self.unchanged += other.unchanged
        self.chunks_added += other.chunks_added
        self.chunks_removed += other.chunks_removed
        self.seconds += other.seconds

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": len(self.added),
            "replaced": len(self.replaced),
            "unchanged": len(self.unchanged),
            "chunks_added": self.chunks_added,
            "chunks_removed": self.chunks_removed,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True, slots=True)
class IngestProgress:
    """Passed to the ``progress`` callback of ``Index.upsert`` after every committed batch."""

    articles_done: int
    articles_total: int
    chunks_done: int  # chunks embedded and committed so far in this call
    elapsed: float  # seconds since the call started


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


    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}
