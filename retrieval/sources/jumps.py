"""Jumps: an article begun on one page and continued on another, joined into one.

A story too long for its page ends its first part with "（下转第3版）" and goes on elsewhere,
where its rest opens with "（上接第1版）", often under a short repeat of the headline. The page
readers (``page``, ``page_geometry``) leave the markers in the text; here they are taken out
(they are print furniture, not the story's words) and remembered as a ``Part``'s pages. When
both pages are read — one whole-issue PDF, or pages given together to ``parse``/``ingest`` —
the parts become one ``Article``: the first part's id, headline and byline, both parts' words,
and both pages ("1、3") so citations name them. A part whose other page is not there stays an
article of its own, without the marker.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..articles import Article, derive_article_id
from .layout import SPACES, ends_sentence, is_ideograph
from .page_facts import page_number

_S = f"[{SPACES}]*"
_PAGE = f"第?{_S}(?P<page>[A-Za-zＡ-Ｚａ-ｚ]?{_S}[0-9０-９]{{1,3}}){_S}版?"
# "（下转第3版）", "下转A3版", "(下转第3版)": the last thing in a part's last paragraph.
_JUMP_OUT = re.compile(f"[（(]?{_S}下转{_S}{_PAGE}{_S}[）)]?{_S}$")
# "（上接第1版）", "上接第1版": the first thing in a continued part.
_JUMP_IN = re.compile(f"^{_S}[（(]?{_S}上接{_S}{_PAGE}{_S}[）)]?{_S}")
# Pages written in a citation: first page, then the pages it continues on.
PAGE_SEPARATOR = "、"
# A repeated headline shares at least this share of its characters with the headline
# (abbreviated "工业提质增效" for "东昌府区工业经济提质增效" shares them all).
_SAME_HEADLINE = 0.5


def jump_marker(text: str) -> bool:
    """Is ``text`` (one printed line) only a jump marker, "（下转第3版）" or "（上接第1版）"?"""
    stripped = text.strip(SPACES)
    for pattern in (_JUMP_OUT, _JUMP_IN):
        m = pattern.search(stripped)
        if m is not None and m.group(0).strip(SPACES) == stripped and "版" in stripped:
            return True
    return False


def ends_with_jump(text: str) -> bool:
    """Does ``text`` end with "（下转第3版）" (a part's end: nothing of the story follows)?"""
    m = _JUMP_OUT.search(text)
    return m is not None and "版" in m.group(0)


def opens_with_jump(text: str) -> bool:
    """Does ``text`` open with "（上接第1版）" (a continued story's first line)?"""
    return _JUMP_IN.match(text) is not None


@dataclass(frozen=True, slots=True)
class Part:
    """An article read off one page, and where its print says it goes on or came from."""

    article: Article
    to_page: str | None = None  # "下转第3版": it goes on on page 3
    from_page: str | None = None  # "上接第1版": it began on page 1

    @property
    def jumps(self) -> bool:
        return self.to_page is not None or self.from_page is not None


def take_jumps(articles: Iterable[Article]) -> list[Part]:
    """The articles without their jump markers, each with the pages the markers named."""
    return [_take(article) for article in articles]


def _take(article: Article) -> Part:
    paragraphs = list(article.paragraphs)
    to_page = from_page = None
    if paragraphs:
        out = _JUMP_OUT.search(paragraphs[-1])
        if out is not None:
            to_page = page_number(out["page"])
            paragraphs[-1] = paragraphs[-1][:out.start()].rstrip(SPACES)
    paragraphs = [p for p in paragraphs if p]
    if paragraphs:
        into = _JUMP_IN.match(paragraphs[0])
        if into is not None:
            from_page = page_number(into["page"])
            paragraphs[0] = paragraphs[0][into.end():].lstrip(SPACES)
    paragraphs = [p for p in paragraphs if p]
    if to_page is None and from_page is None:
        return Part(article)
    if not paragraphs:  # nothing but a marker: keep it rather than lose the article
        return Part(article)
    body = "\n".join(paragraphs)
    # The id is derived again: a headline-less part's id is taken from its opening words,
    # which the marker no longer is.
    stripped = dataclasses.replace(
        article, paragraphs=tuple(paragraphs),
        id=derive_article_id(source=article.source, date=article.date, title=article.title,
                             body=body, page=article.page))
    return Part(stripped, to_page=to_page, from_page=from_page)


def join_parts(parts: Sequence[Part]) -> list[tuple[Part, list[Part]]]:
    """Parts whose pages name each other joined: (the result, the parts it was made of).

    A first part (下转第M版, read on page N) and a rest (上接第N版, read on page M) of the same
    paper and issue are one story. When a page holds several such pairs, a repeated headline
    tells them apart (the most similar first); otherwise they pair in reading order. A story
    jumping twice (1 → 3 → 5) is joined along the chain. Results keep the input's order (a
    joined story where its first part was); unpaired parts come back as they are.
    """
    follows: dict[int, int] = {}  # index of a first part -> index of its rest
    taken: set[int] = set()
    candidates: list[tuple[float, int, int]] = []
    for i, first in enumerate(parts):
        if first.to_page is None or first.article.page is None:
            continue
        for j, rest in enumerate(parts):
            if j == i or rest.from_page is None or rest.article.page is None:
                continue
            a, b = first.article, rest.article
            if (a.source, a.date) != (b.source, b.date):
                continue
            if first.to_page != page_number(_first_page(b.page or "")) or \
                    rest.from_page != page_number(_last_page(a.page or "")):
                continue
            similarity = _headline_similarity(a, b)
            if similarity is not None and similarity < _SAME_HEADLINE:
                continue  # a different story jumping between the same pages
            candidates.append((-(similarity or 0.0), i, j))
    for _score, i, j in sorted(candidates):
        if i in follows or j in taken:
            continue
        follows[i] = j
        taken.add(j)
    results: list[tuple[Part, list[Part]]] = []
    for i, part in enumerate(parts):
        if i in taken:
            continue  # a rest: joined onto its first part
        chain = [part]
        k = i
        while k in follows and len(chain) <= len(parts):
            k = follows[k]
            chain.append(parts[k])
        results.append((_joined(chain) if len(chain) > 1 else part, chain))
    return results


def _first_page(page: str) -> str:
    return page.split(PAGE_SEPARATOR, 1)[0]


def _last_page(page: str) -> str:
    return page.rsplit(PAGE_SEPARATOR, 1)[-1]


def _headline_similarity(first: Article, rest: Article) -> float | None:
    """Share of the repeated headline's characters found in the first part's head; None
    when the rest has no headline of its own (nothing to compare)."""
    if not rest.title:
        return None
    head = "".join(x for x in (first.kicker, first.title, first.subtitle) if x)
    chars = [ch for ch in rest.title if is_ideograph(ch) or ch.isalnum()]
    if not chars:
        return None
    return sum(1 for ch in chars if ch in head) / len(chars)


def _joined(chain: list[Part]) -> Part:
    """One article from a chain of parts: the first part's head and id, every part's words."""
    first = chain[0].article
    paragraphs = list(first.paragraphs)
    authors = list(first.authors)
    pages = [first.page or ""]
    for part in chain[1:]:
        more = list(part.article.paragraphs)
        if paragraphs and more and not ends_sentence(paragraphs[-1]):
            # The jump cut a sentence (and so its paragraph): it goes on where it was cut.
            paragraphs[-1] += more.pop(0)
        paragraphs += more
        authors += part.article.authors
        pages.append(part.article.page or "")
    article = dataclasses.replace(
        first, paragraphs=tuple(paragraphs), authors=tuple(dict.fromkeys(authors)),
        page=PAGE_SEPARATOR.join(dict.fromkeys(pages)), kind="article")
    return Part(article, to_page=chain[-1].to_page, from_page=chain[0].from_page)
