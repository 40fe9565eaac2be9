"""fuse: dense and lexical hits become one ranking of articles, each with its other chunks."""

from __future__ import annotations

from retrieval.answer.fusion import fuse
from retrieval.index.types import Hit


def hits(kind: str, *chunks: tuple[str, float]) -> list[Hit]:
    return [
        Hit(chunk_id, chunk_id.split(":")[0], score, rank, kind)  # type: ignore[arg-type]
        for rank, (chunk_id, score) in enumerate(chunks, start=1)
    ]


def test_articles_rank_by_their_best_chunk_with_the_others_kept_in_order() -> None:
    dense = hits("dense", ("a:2", 0.9), ("b:0", 0.6), ("a:0", 0.7), ("a:1", 0.5))
    lexical = hits("lexical", ("a:0", -1.0), ("b:0", -2.0), ("a:1", -9.0))
    candidates = fuse(dense, lexical)
    assert [c.article_id for c in candidates] == ["a", "b"]
    a, b = candidates
    # a:0: 0.5 × 0.5 + 0.5 × 1.0 beats b:0 (0.5 × 0.25 + 0.5 × 0.875) and a:2 (0.5 × 1.0)
    assert (a.chunk_id, a.others) == ("a:0", ("a:2", "a:1"))
    assert (b.chunk_id, b.others) == ("b:0", ())
    assert a.dense == 0.7 and a.lexical == -1.0


def test_a_chunk_found_by_one_search_only_gets_nothing_from_the_other() -> None:
    dense = hits("dense", ("a:0", 0.9), ("b:0", 0.1))
    candidates = fuse(dense, [])
    assert [(c.article_id, c.score, c.lexical) for c in candidates] == [
        ("a", 0.5, 0.0), ("b", 0.0, 0.0),
    ]
