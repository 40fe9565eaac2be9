"""The newsqa index: SQLite (articles, chunks, vectors, FTS5 words) + a FAISS cache of vectors.

    with Index.create("/path/to/index") as index:     # Index.open for an existing one
        index.upsert(articles)
        hits = index.dense_search("聊城今年粮食产量", k=10)
        article = index.article(hits[0].article_id)

See docs/index.md for the on-disk layout, crash safety and the CLI.
"""

from .core import Index, passage_text
from .files import default_index_path
from .types import (
    Hit,
    HitKind,
    IndexStats,
    IngestProgress,
    IngestReport,
    VectorProgress,
    VectorReport,
)
from .vectors import VectorConfig

__all__ = [
    "Hit",
    "HitKind",
    "Index",
    "IndexStats",
    "IngestProgress",
    "IngestReport",
    "VectorConfig",
    "VectorProgress",
    "VectorReport",
    "default_index_path",
    "passage_text",
]
