"""newsqa's core: sources → articles → chunks → index → retrieval → answer.

Nothing in this package knows about Telegram; ``bot/`` renders what it returns.

    from retrieval import Library

    with Library.open("/path/to/index") as library:
        answer = library.ask("冠县有多少家绿色建材企业？")

``Library`` is imported on first use (PEP 562 ``__getattr__``): it pulls in numpy and FAISS,
and ``import retrieval`` (so ``newsqa --help``) must stay instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .articles import Article, ArticleKind, Chunk, ChunkingConfig, derive_article_id
from .errors import IndexError_, IndexMismatchError, InputError, ModelError, NewsqaError

if TYPE_CHECKING:
    from .library import Library

__all__ = [
    "Article",
    "ArticleKind",
    "Chunk",
    "ChunkingConfig",
    "IndexError_",
    "IndexMismatchError",
    "InputError",
    "Library",
    "ModelError",
    "NewsqaError",
    "derive_article_id",
]


def __getattr__(name: str) -> Any:
    if name == "Library":
        from .library import Library

        return Library
    raise AttributeError(f"module 'retrieval' has no attribute {name!r}")
