"""newsqa's core: sources → articles → chunks → index → retrieval → answer.

Nothing in this package knows about Telegram; ``bot/`` renders what it returns.
"""

from .articles import Article, Chunk, ChunkingConfig, derive_article_id
from .errors import IndexError_, IndexMismatchError, InputError, ModelError, NewsqaError

__all__ = [
    "Article",
    "Chunk",
    "ChunkingConfig",
    "IndexError_",
    "IndexMismatchError",
    "InputError",
    "ModelError",
    "NewsqaError",
    "derive_article_id",
]
