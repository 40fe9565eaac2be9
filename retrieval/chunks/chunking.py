"""Split an article's body into sentences and pack them into overlapping chunks.

A chunk is what gets embedded and searched, and what an answer quotes, so it is always a
run of whole sentences (a verbatim slice of ``Article.text``): quoting it never cuts a
sentence, a number or a book title in half.

Sentence rules (Chinese news text):

* a sentence ends after 。！？； (or ASCII ``! ? ;`` followed by a space, a CJK character or
  the end), together with any closing quote/bracket right after it (``。”`` ``！）``);
* a paragraph end (newline) always ends a sentence;
* nothing inside 《…》 or a quotation “…” / 「…」 ends a sentence, so quoted speech of
  several sentences stays one unit - unless the quotation is longer than ``max_chars``,
  where its own sentence ends are used (a unit that long could not be packed anyway);
* ``.`` is never a sentence end, so decimals such as 707.3 or 5.02% stay whole.

Everything is regex-driven (one scan per paragraph set) so chunking is never the bottleneck
of an ingest; ``bench/bench_chunking.py`` measures the rate.
"""

from __future__ import annotations

import re

from ..articles import Article, Chunk, ChunkingConfig

_CLOSERS = "”’」』）)\\]】\"'"
_CJK = "\u3400-\u9fff\uf900-\ufaff"
# Skip ordinary text with one possessive character-class run (fast in the regex engine),
# then take the next token:
# group 1: a protected span (quotation or book title) within one paragraph, consumed whole;
# group 2: a run of sentence terminators plus the closing quotes/brackets that follow it;
# group 3: a paragraph end; no group: a lone opening mark without its closing partner.
_SCAN = re.compile(
    "[^“「『《。！？；!?;\\n]*+(?:"
    "(“[^“”\\n]*”|「[^「」\\n]*」|『[^『』\\n]*』|《[^《》\\n]*》)"
    f"|([。！？；]+[{_CLOSERS}]*|[!?;]+(?=[\\s{_CJK}]|$)[{_CLOSERS}]*)"
    "|(\\n)|(?s:.))"
)
_ENDS = re.compile(f"[。！？；]+[{_CLOSERS}]*|[!?;]+(?=[\\s{_CJK}]|$)[{_CLOSERS}]*")
# Closers that may trail a protected span, e.g. the ） in （“……。”）.
_TRAILING_CLOSERS = re.compile(f"[{_CLOSERS}]*")
_TERMINATORS = frozenset("。！？；!?;")
# Where a too-long sentence may be cut: after a comma-like mark (never between digits).
_SOFT_BREAKS = "，、,：:"

DEFAULT_CHUNKING = ChunkingConfig()  # frozen, so safe to share as a default argument


def split_sentences(
    text: str, *, max_chars: int = DEFAULT_CHUNKING.max_chars
) -> list[tuple[int, int]]:
    """Return ``(start, end)`` spans of the sentences of ``text``, in order.

    Spans exclude surrounding whitespace (so newlines between paragraphs are in no span)
    and together cover every non-whitespace character. ``max_chars`` only decides when a
    quotation is too long to be kept as one unit.
    """
    cuts: list[int] = []
    for match in _SCAN.finditer(text):
        group = match.lastindex
        if group is None:
            continue
        if group == 1:
            start, end = match.span(1)
            if end - start > max_chars:
                cuts.extend(m.end() for m in _ENDS.finditer(text, start, end))
            # A quotation that itself ends a sentence (“……。”) ends one here too.
            if text[end - 2] in _TERMINATORS and text[start] != "《":
                closers = _TRAILING_CLOSERS.match(text, end)
                assert closers is not None  # the pattern matches the empty string
                cuts.append(closers.end())
        else:
            cuts.append(match.end() if group == 2 else match.start(3))
    cuts.append(len(text))
    return _trimmed_spans(text, cuts)


def _trimmed_spans(text: str, cuts: list[int]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    prev = 0
    for cut in cuts:
        if cut <= prev:
            continue
        start, end = prev, cut
        prev = cut
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            spans.append((start, end))
    return spans


def _split_long(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut a sentence longer than ``max_chars`` at a comma near the limit, else hard."""
    pieces: list[tuple[int, int]] = []
    while end - start > max_chars:
        limit = start + max_chars
        floor = start + max_chars // 2  # never leave a piece shorter than half the limit
        cut = -1
        for pos in range(limit - 1, floor - 1, -1):
            ch = text[pos]
            if ch in _SOFT_BREAKS and not (
                ch in ",:" and text[pos - 1].isdigit() and pos + 1 < end and text[pos + 1].isdigit()
            ):
                cut = pos + 1
                break
        if cut < 0:
            cut = limit
            # Don't cut through a number or a Latin word (3.5亿, 5.02%, COVID-19).
            while cut > floor and _is_word_char(text[cut - 1]) and _is_word_char(text[cut]):
                cut -= 1
            if cut == floor:
                cut = limit
        pieces.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if start < end:
        pieces.append((start, end))
    return pieces


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in ".,%-_")


def chunk_article(article: Article, config: ChunkingConfig = DEFAULT_CHUNKING) -> list[Chunk]:
    """Pack the article's sentences into chunks of about ``config.target`` characters.

    A chunk never exceeds ``config.max_chars`` and is closed at a paragraph end once it
    has ``config.min_chars``; shorter paragraphs are joined. The next chunk repeats the
    last ``config.overlap`` sentences when it continues the same paragraph. Photo
    captions and bodies no longer than ``max_chars`` become a single chunk.
    """
    _check(config)
    text = article.text
    stripped_start = len(text) - len(text.lstrip())
    stripped_end = len(text.rstrip())
    if stripped_start >= stripped_end:
        return []
    if article.kind == "photo" or stripped_end - stripped_start <= config.max_chars:
        return [_chunk(article, text, 0, stripped_start, stripped_end)]

    # (start, end, starts_paragraph) for each packable unit.
    units: list[tuple[int, int, bool]] = []
    prev_end = 0
    for start, end in split_sentences(text, max_chars=config.max_chars):
        new_para = not units or text.find("\n", prev_end, start) >= 0
        prev_end = end
        if end - start > config.max_chars:
            for i, (s, e) in enumerate(_split_long(text, start, end, config.max_chars)):
                units.append((s, e, new_para and i == 0))
        else:
            units.append((start, end, new_para))
    return _pack(article, text, units, config)


def _pack(
    article: Article, text: str, units: list[tuple[int, int, bool]], config: ChunkingConfig
) -> list[Chunk]:
    spans: list[tuple[int, int]] = []  # unit index ranges [first, last)
    n = len(units)
    first, last = 0, 1  # ``last`` starts past the overlap: every chunk brings a new unit
    while True:
        chunk_start = units[first][0]
        while last < n:
            end, new_para = units[last][1], units[last][2]
            length = units[last - 1][1] - chunk_start
            if end - chunk_start > config.max_chars:
                break
            if new_para and length >= config.min_chars:
                break
            if length >= config.target:
                break
            last += 1
        spans.append((first, last))
        if last >= n:
            break
        first = _overlap_start(units, first, last, config)
        last += 1

    spans = _absorb_short_tail(units, spans, config)
    return [
        _chunk(article, text, ordinal, units[a][0], units[b - 1][1])
        for ordinal, (a, b) in enumerate(spans)
    ]


def _overlap_start(
    units: list[tuple[int, int, bool]], first: int, last: int, config: ChunkingConfig
) -> int:
    """Index where the next chunk starts: up to ``overlap`` sentences back, same paragraph.

    The repeated text is capped at half the target size: overlap is there to keep a
    sentence's context, and repeating one very long sentence would mostly duplicate it.
    """
    if units[last][2]:  # the next chunk opens a paragraph: no overlap across the break
        return last
    begin = last
    next_end = units[last][1]
    while (
        begin > first + 1  # the repeated part must be shorter than the chunk it came from
        and last - begin < config.overlap
        and not units[begin][2]
        and units[last - 1][1] - units[begin - 1][0] <= config.target // 2
        and next_end - units[begin - 1][0] <= config.max_chars
    ):
        begin -= 1
    return begin


def _absorb_short_tail(
    units: list[tuple[int, int, bool]], spans: list[tuple[int, int]], config: ChunkingConfig
) -> list[tuple[int, int]]:
    """Fold a short last chunk into the previous one when the result still fits."""
    if len(spans) < 2:
        return spans
    (a, _), (c, d) = spans[-2], spans[-1]
    tail_len = units[d - 1][1] - units[c][0]
    if tail_len < config.min_chars and units[d - 1][1] - units[a][0] <= config.max_chars:
        return [*spans[:-2], (a, d)]
    return spans


def _chunk(article: Article, text: str, ordinal: int, start: int, end: int) -> Chunk:
    return Chunk(
        article_id=article.id,
        ordinal=ordinal,
        start=start,
        end=end,
        text=text[start:end],
        title=article.title,
    )


def _check(config: ChunkingConfig) -> None:
    if not 0 < config.min_chars <= config.target <= config.max_chars:
        raise ValueError(
            "ChunkingConfig needs 0 < min_chars <= target <= max_chars, got "
            f"min_chars={config.min_chars}, target={config.target}, max_chars={config.max_chars}"
        )
    if config.overlap < 0:
        raise ValueError(f"ChunkingConfig.overlap must be >= 0, got {config.overlap}")
