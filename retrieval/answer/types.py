"""What ``Library.ask`` and ``Library.search`` return: plain frozen values, no formatting.

Quoted text is never stored re-typed: a :class:`Citation` keeps offsets into ``Article.text``
and its strings are slices taken when it is built, so the CLI and the bot can only show what
the paper printed. Renderers decide on bold, colour or HTML from the spans.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Literal

from ..articles import Article

# Shown between two quoted sentences that are not adjacent in the article: it marks an
# omission, it is never part of a quotation.
GAP = "……"


@dataclass(frozen=True, slots=True)
class Span:
    """Characters ``start``..``end`` of ``Article.text``."""

    start: int
    end: int

    def of(self, text: str) -> str:
        return text[self.start: self.end]


SegmentRole = Literal["context", "quote", "highlight", "gap"]


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a citation's excerpt; ``role`` is "context", "quote" or "highlight" (or
    "gap" for the omission mark that ``Citation.pieces`` puts between non-adjacent pieces)."""

    text: str
    role: SegmentRole
    start: int  # offset into Article.text


@dataclass(frozen=True, slots=True)
class Citation:
    """One cited article: the sentences that answer, the span to highlight, a little context."""

    n: int  # 1-based number as shown ("[1]")
    article_id: str
    chunk_id: str  # the retrieved chunk the quote was taken from or next to
    title: str | None
    authors: tuple[str, ...]
    date: str | None
    source: str | None
    page: str | None
    score: float  # fused retrieval score (higher is better; comparable within one answer)
    sentences: tuple[Span, ...]  # the quoted sentences, in text order
    highlights: tuple[Span, ...]  # inside ``sentences``: the span that answers most directly
    context_before: Span  # a few characters leading up to the first sentence
    context_after: Span  # a few characters after the last sentence
    segments: tuple[Segment, ...] = field(repr=False)  # context/quote/highlight pieces in order

    @property
    def quote(self) -> str:
        """The quoted sentences; ``GAP`` joins sentences that are not adjacent."""
        return "".join(seg.text for seg in self.pieces(with_context=False))

    @property
    def excerpt(self) -> str:
        """Quote with its context, as a reader sees it."""
        return "".join(seg.text for seg in self.pieces(with_context=True))

    def pieces(self, *, with_context: bool) -> list[Segment]:
        """The excerpt (``with_context``: text order, with context) or the quote alone, which
        leads with the sentence holding the highlight so a reader sees the answer first —
        unless the sentences are one run of the article, which reads best in its own order
        ("“……。”该集团董事长张书海说。"). A ``GAP`` segment (role "gap") stands wherever the
        next piece does not continue the previous one in the article. Renderers style each
        piece by its role."""
        run = all(b.start == a.end for a, b in itertools.pairwise(self.sentences))
        if with_context or run:
            chosen = [s for s in self.segments if with_context or s.role != "context"]
        else:
            lead = next((i for i, s in enumerate(self.sentences)
                         if any(h.start < s.end and s.start < h.end for h in self.highlights)), 0)
            order = [lead] + [i for i in range(len(self.sentences)) if i != lead]

            def place(seg: Segment) -> tuple[int, int]:
                i = next(i for i, s in enumerate(self.sentences) if s.start <= seg.start < s.end)
                return order.index(i), seg.start

            chosen = sorted((seg for seg in self.segments if seg.role != "context"), key=place)
        out: list[Segment] = []
        end: int | None = None
        for seg in chosen:
            if end is not None and seg.start != end:
                out.append(Segment(GAP, "gap", end))
            out.append(seg)
            end = seg.start + len(seg.text)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "article_id": self.article_id,
            "title": self.title,
            "authors": list(self.authors),
            "date": self.date,
            "excerpt": self.excerpt,
            "chunk_id": self.chunk_id,
            "score": round(self.score, 4),
            "source": self.source,
            "page": self.page,
            "quote": self.quote,
            "sentences": [[s.start, s.end] for s in self.sentences],
            "highlights": [[s.start, s.end] for s in self.highlights],
        }

    @classmethod
    def build(
        cls,
        *,
        n: int,
        article: Article,
        chunk_id: str,
        score: float,
        sentences: tuple[Span, ...],
        highlights: tuple[Span, ...],
        context_chars: int = 24,
    ) -> Citation:
        """Cut the excerpt out of ``article.text``; context stops at a paragraph break."""
        text = article.text
        first, last = sentences[0], sentences[-1]
        before_start = max(0, first.start - context_chars)
        newline = text.rfind("\n", before_start, first.start)
        if newline >= 0:
            before_start = newline + 1
        after_end = min(len(text), last.end + context_chars)
        newline = text.find("\n", last.end, after_end)
        if newline >= 0:
            after_end = newline
        before, after = Span(before_start, first.start), Span(last.end, after_end)
        return cls(
            n=n, article_id=article.id, chunk_id=chunk_id, title=article.title,
            authors=article.authors, date=article.date, source=article.source,
            page=article.page, score=score, sentences=sentences, highlights=highlights,
            context_before=before, context_after=after,
            segments=_segments(text, before, sentences, highlights, after),
        )


def _segments(
    text: str, before: Span, sentences: tuple[Span, ...], highlights: tuple[Span, ...],
    after: Span,
) -> tuple[Segment, ...]:
    out: list[Segment] = []
    if before.end > before.start:
        out.append(Segment(before.of(text), "context", before.start))
    for sentence in sentences:
        pos = sentence.start
        for mark in sorted(highlights, key=lambda s: s.start):
            start, end = max(mark.start, sentence.start), min(mark.end, sentence.end)
            if start >= end:
                continue
            if start > pos:
                out.append(Segment(text[pos:start], "quote", pos))
            out.append(Segment(text[start:end], "highlight", start))
            pos = end
        if pos < sentence.end:
            out.append(Segment(text[pos: sentence.end], "quote", pos))
    if after.end > after.start:
        out.append(Segment(after.of(text), "context", after.start))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Headline:
    """An article offered when nothing answers: "maybe you meant …"."""

    article_id: str
    title: str | None
    date: str | None
    source: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"article_id": self.article_id, "title": self.title, "date": self.date,
                "source": self.source}


@dataclass(frozen=True, slots=True)
class Answer:
    """The reply to one question. ``text`` is what is shown as the answer (see ``found``)."""

    question: str  # as asked
    resolved: str  # after follow-up resolution: what was actually searched
    found: bool
    text: str  # the quoted answer sentence(s) when found, else "" (renderers word "not found")
    citations: tuple[Citation, ...]  # rank order; empty when not found
    suggestions: tuple[Headline, ...] = ()  # closest headlines when not found
    history: Any = None  # conversation.History after this turn (pass it to the next ask)
    id: str | None = None  # the caller's id (``ask --batch``)
    relevance: float = 0.0  # the score the not-found decision was made on
    span: str | None = None  # the short answer, the reader's words of citation 1's article
    span_at: Span | None = None  # where ``span`` is in citation 1's article text
    more: bool = False  # the question asked for further results ("还有呢")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "question": self.question,
            "found": self.found,
            "answer": self.text if self.found else None,
            "span": self.span,
            "span_offsets": [self.span_at.start, self.span_at.end] if self.span_at else None,
            "citations": [c.to_dict() for c in self.citations],
            "resolved_question": self.resolved,
            "suggestions": [s.to_dict() for s in self.suggestions],
            "relevance": round(self.relevance, 4),
            "more": self.more,
        }


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One article found by ``Library.search``: its headline and best passage."""

    citation: Citation

    @property
    def title(self) -> str | None:
        return self.citation.title

    @property
    def excerpt(self) -> str:
        return self.citation.excerpt

    def to_dict(self) -> dict[str, Any]:
        return self.citation.to_dict()
