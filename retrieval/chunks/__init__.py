"""Stage 3, chunks: sentence-aware pieces of an article with exact character spans."""

from .chunking import DEFAULT_CHUNKING, chunk_article, split_sentences

__all__ = ["DEFAULT_CHUNKING", "chunk_article", "split_sentences"]
