"""Fuse dense and lexical hits into one ranking of articles.

Plain reciprocal-rank fusion of the default model and BM25 did not beat BM25 alone on news
text, because it throws away how *much* better the first hit is. Here each list's scores are
min-max normalised over its own top hits and mixed with a weight (``DENSE_WEIGHT``, tuned on
CMRC 2018 dev with bench/cmrc.py); a chunk missing from one list gets 0 from it. Chunks are
then grouped per article (its best chunk counts), so one long article cannot fill every slot;
the article's other hit chunks are kept in order, for the reader to read a second part of a
long article.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..index.types import Hit

DENSE_WEIGHT = 0.5


@dataclass(frozen=True, slots=True)
class Candidate:
    """An article with its best-scoring chunk after fusion."""

    article_id: str
    chunk_id: str
    score: float  # fused, in 0..1 (+ boosts applied by the caller)
    dense: float  # the best chunk's raw cosine (0 when only lexical search found it)
    lexical: float  # the best chunk's raw BM25 (0 when only dense search found it)
    others: tuple[str, ...] = ()  # the article's other hit chunks, best first


def _normalised(hits: Sequence[Hit]) -> dict[str, float]:
    if not hits:
        return {}
    scores = [h.score for h in hits]
    low, high = min(scores), max(scores)
    if high - low < 1e-9:
        return {h.chunk_id: 1.0 for h in hits}
    return {h.chunk_id: (h.score - low) / (high - low) for h in hits}


def fuse(
    dense: Sequence[Hit], lexical: Sequence[Hit], *, dense_weight: float = DENSE_WEIGHT
) -> list[Candidate]:
    """Articles ranked by the weighted, normalised scores of their best chunk."""
    dense_norm, lexical_norm = _normalised(dense), _normalised(lexical)
    raw_dense = {h.chunk_id: h.score for h in dense}
    raw_lexical = {h.chunk_id: h.score for h in lexical}  # already −bm25: higher is better
    article_of = {h.chunk_id: h.article_id for h in (*dense, *lexical)}
    scored = sorted(
        (
            (dense_weight * dense_norm.get(chunk_id, 0.0)
             + (1 - dense_weight) * lexical_norm.get(chunk_id, 0.0), chunk_id)
            for chunk_id in article_of
        ),
        key=lambda sc: -sc[0],
    )
    chunks: dict[str, list[tuple[float, str]]] = {}
    for score, chunk_id in scored:  # best first, so each article's list is in order
        chunks.setdefault(article_of[chunk_id], []).append((score, chunk_id))
    candidates = []
    for article_id, ((score, best), *rest) in chunks.items():  # in order of their best chunk
        candidates.append(Candidate(
            article_id, best, score, raw_dense.get(best, 0.0), raw_lexical.get(best, 0.0),
            others=tuple(chunk_id for _, chunk_id in rest),
        ))
    return candidates
