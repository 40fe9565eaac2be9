"""Stage 2, articles: the records every source turns into, and the chunks cut from them."""

from .records import Article, Chunk, ChunkingConfig, derive_article_id

__all__ = ["Article", "Chunk", "ChunkingConfig", "derive_article_id"]
