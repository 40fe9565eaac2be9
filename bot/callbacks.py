"""Callback-data codec for inline buttons: short ASCII strings that carry all they need.

Telegram allows 64 bytes of callback data. Nothing is looked up in memory, so a button pressed
after a restart (or on another replica) still works:

* ``a:<article id>:<start>:<end>`` — open an article in a new message, at the page holding the
  quoted span ``start``/``end`` (offsets into ``Article.text``; ``0:0``: no quote, first page);
* ``p:<article id>:<page>:<start>:<end>`` — turn an article message to page ``page`` (0-based);
* ``m:<offset>`` — the next results for the question this answer replied to (the question is
  read back from the answer message itself);
* ``v:1`` / ``v:0`` — 👍 / 👎 on the answer it is attached to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CALLBACK_BYTES = 64


@dataclass(frozen=True, slots=True)
class OpenArticle:
    article_id: str
    start: int = 0  # quoted span to mark; start == end: nothing to mark
    end: int = 0


@dataclass(frozen=True, slots=True)
class ArticlePage:
    article_id: str
    page: int  # 0-based
    start: int = 0  # quoted span to mark; start == end: nothing to mark
    end: int = 0


@dataclass(frozen=True, slots=True)
class MoreResults:
    offset: int


@dataclass(frozen=True, slots=True)
class Vote:
    up: bool


Callback = OpenArticle | ArticlePage | MoreResults | Vote

_OPEN = re.compile(r"a:([0-9A-Za-z_-]{1,40}):(\d{1,7}):(\d{1,7})")
_PAGE = re.compile(r"p:([0-9A-Za-z_-]{1,40}):(\d{1,4}):(\d{1,7}):(\d{1,7})")
_MORE = re.compile(r"m:(\d{1,4})")
_VOTE = re.compile(r"v:([01])")


def encode(callback: Callback) -> str:
    """The callback_data string; raises ValueError if it would not fit in 64 bytes."""
    if isinstance(callback, OpenArticle):
        data = f"a:{callback.article_id}:{callback.start}:{callback.end}"
    elif isinstance(callback, ArticlePage):
        data = f"p:{callback.article_id}:{callback.page}:{callback.start}:{callback.end}"
    elif isinstance(callback, MoreResults):
        data = f"m:{callback.offset}"
    else:
        data = f"v:{int(callback.up)}"
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES or decode(data) != callback:
        raise ValueError(f"callback {callback!r} cannot be encoded in {MAX_CALLBACK_BYTES} bytes")
    return data


def decode(data: str | None) -> Callback | None:
    """The callback ``data`` stands for, or None when it is not one of ours (old or forged)."""
    if not data:
        return None
    if match := _OPEN.fullmatch(data):
        article_id, start, end = match.groups()
        if int(end) < int(start):
            return None
        return OpenArticle(article_id, int(start), int(end))
    if match := _PAGE.fullmatch(data):
        article_id, page, start, end = match.groups()
        if int(end) < int(start):
            return None
        return ArticlePage(article_id, int(page), int(start), int(end))
    if match := _MORE.fullmatch(data):
        return MoreResults(int(match.group(1)))
    if match := _VOTE.fullmatch(data):
        return Vote(match.group(1) == "1")
    return None
