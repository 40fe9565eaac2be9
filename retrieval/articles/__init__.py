"""Stage 2, articles: the records every source turns into, and the chunks cut from them."""

from .records import (
    ARTICLE_KINDS,
    Article,
    ArticleKind,
    Chunk,
    ChunkingConfig,
    derive_article_id,
    printed_article,
)

__all__ = [
    "ARTICLE_KINDS",
    "Article",
    "ArticleKind",
    "Chunk",
    "ChunkingConfig",
    "derive_article_id",
    "printed_article",
]
