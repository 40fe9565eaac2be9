"""Fuse dense and lexical hits into one ranking of articles.

Plain reciprocal-rank fusion of the default model and BM25 did not beat BM25 alone on news
text, because it throws away how *much* better the first hit is. Here each list's scores are
min-max normalised over its own top hits and mixed with a weight (``DENSE_WEIGHT``, tuned on
CMRC 2018 dev with bench/cmrc.py); a chunk missing from one list gets 0 from it. Chunks are
then grouped per article (its best chunk counts), so one long article cannot fill every slot.
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
    best: dict[str, Candidate] = {}
    for chunk_id, article_id in article_of.items():
        score = dense_weight * dense_norm.get(chunk_id, 0.0) + (1 - dense_weight) * (
            lexical_norm.get(chunk_id, 0.0)
        )
        current = best.get(article_id)
        if current is None or score > current.score:
            best[article_id] = Candidate(
                article_id, chunk_id, score, raw_dense.get(chunk_id, 0.0),
                raw_lexical.get(chunk_id, 0.0),
            )
    return sorted(best.values(), key=lambda c: -c.score)
