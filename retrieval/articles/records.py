"""The article record every stage after parsing works with."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any, Literal

# What an article is: a story, or a captioned news photo (a photo caption with its credit).
ArticleKind = Literal["article", "photo"]
ARTICLE_KINDS: tuple[ArticleKind, ...] = ("article", "photo")


@dataclass(frozen=True, slots=True)
class Article:
    """One article as printed: headline block, byline and body paragraphs.

    ``text`` (paragraphs joined by newlines) is the canonical body: chunk spans and
    citations are character offsets into it, so it must never be re-derived differently.
    """

    id: str
    title: str | None
    paragraphs: tuple[str, ...]
    subtitle: str | None = None
    kicker: str | None = None
    authors: tuple[str, ...] = ()
    date: str | None = None  # ISO 8601 (YYYY-MM-DD)
    source: str | None = None  # paper name, e.g. 聊城日报
    page: str | None = None
    url: str | None = None
    kind: ArticleKind = "article"

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)

    @property
    def content_hash(self) -> str:
        """Changes whenever anything a reader could see changes; used to skip re-ingests."""
        payload = repr(
            (self.title, self.subtitle, self.kicker, self.authors, self.date, self.source,
             self.page, self.url, self.kind, self.paragraphs)
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["authors"] = list(self.authors)
        data["paragraphs"] = list(self.paragraphs)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        fields: dict[str, Any] = {k: data.get(k) for k in cls.__slots__ if k in data}
        fields["authors"] = tuple(data.get("authors") or ())
        fields["paragraphs"] = tuple(data.get("paragraphs") or ())
        return cls(**fields)


def derive_article_id(
    *,
    source: str | None,
    date: str | None,
    title: str | None,
    body: str = "",
    page: str | None = None,
) -> str:
    """A stable id from what identifies an article in print.

    Re-ingesting the same page must give the same ids, so only printed facts go in:
    paper, date, page and headline (the opening of the body stands in for a missing
    headline). The page only joins the key when known, so recurring headlines such as
    图片新闻 on two pages of one issue stay distinct while page-less ids do not change.
    """
    parts = [source or "", date or "", title or "", "" if title else body[:80]]
    if page:
        parts.append(page)
    key = "\x1f".join(parts)
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def earlier_ids(article: Article) -> list[str]:
    """The ids an earlier version of newsqa gave this article, when its id is derived.

    Page text read before its running head was: no date or page (the id lacked them), and
    page numbers were kept as the file name wrote them ("A03", now "A3"). An index from then
    holds the same story under one of these ids; ``Index.upsert`` retires such a copy when
    its text is the same (``retrieval/index/writer.py``), so a re-ingest replaces it rather
    than adding it twice.
    """
    body = article.text
    if not (article.date or article.page) or article.id != derive_article_id(
            source=article.source, date=article.date, title=article.title, body=body,
            page=article.page):
        return []  # an id the source gave, or nothing that changed: no earlier id
    pages: list[str | None] = [None]
    if article.page:
        letters = article.page.rstrip("0123456789")
        digits = article.page[len(letters):]
        pages += [article.page] + [letters + digits.zfill(width) for width in (2, 3)
                                   if digits and len(digits) < width]
    ids = {
        derive_article_id(source=article.source, date=date, title=article.title, body=body,
                          page=page)
        for date in dict.fromkeys([article.date, None]) for page in dict.fromkeys(pages)
    }
    ids.discard(article.id)
    return sorted(ids)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A run of whole sentences from one article, the unit that is embedded and searched.

    ``start``/``end`` are offsets into ``Article.text`` so ``article.text[start:end] == text``.
    """

    article_id: str
    ordinal: int
    start: int
    end: int
    text: str
    title: str | None = None  # carried as context for embedding and lexical search

    @property
    def id(self) -> str:
        return f"{self.article_id}:{self.ordinal}"


@dataclass(frozen=True, slots=True)
class ChunkingConfig:
    """Sizes are in characters; Chinese averages ~0.6 model tokens per character."""

    target: int = 220
    max_chars: int = 300
    min_chars: int = 150
    overlap: int = 1  # whole sentences repeated at the start of the next chunk


def printed_article(
    *,
    paragraphs: list[str],
    title: str | None,
    subtitle: str | None,
    kicker: str | None,
    authors: list[str],
    date: str | None,
    source: str | None,
    page: str | None,
    kind: ArticleKind,
) -> Article:
    """An article read off a printed page (from its text or from its layout): the id from
    what print shows, each author once in the order met."""
    body = "\n".join(paragraphs)
    return Article(
        id=derive_article_id(source=source, date=date, title=title, body=body, page=page),
        title=title,
        paragraphs=tuple(paragraphs),
        subtitle=subtitle,
        kicker=kicker,
        authors=tuple(dict.fromkeys(authors)),
        date=date,
        source=source,
        page=page,
        kind=kind,
    )
