"""Stage 6, answer: question analysis, follow-ups, fusion, sentence picking, answer types.

Only the answer types are imported here: ``fusion`` needs the index (and so FAISS), which the
bot must not load.
"""

from .types import Answer, Citation, Headline, SearchResult, Span

__all__ = ["Answer", "Citation", "Headline", "SearchResult", "Span"]
