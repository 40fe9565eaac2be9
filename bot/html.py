"""Telegram-HTML helpers: escaping, visible length, and splitting long messages safely.

Telegram's HTML parse mode is not HTML: only a handful of tags exist, only ``&lt; &gt; &amp;
&quot;`` and numeric references are entities, and the 4096-character limit applies to the text
*after* tags are removed and entities decoded. ``split_html`` therefore measures visible text, cuts
only between tokens (never inside a tag or an entity), prefers paragraph, then line, then sentence,
then word boundaries, and closes the tags open at a cut and reopens them in the next part.
"""

from __future__ import annotations

import html as _stdlib_html
import re
from dataclasses import dataclass

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024

_TAG_OR_ENTITY = re.compile(
    r"<\s*(?P<end>/)?\s*(?P<name>[A-Za-z][\w-]*)[^<>]*>"
    r"|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z]+);"
)
# Break quality after a character; higher is a better place to split.
_PARAGRAPH, _LINE, _SENTENCE, _SPACE = 4, 3, 2, 1
_SENTENCE_END = frozenset("。！？!?；;…")
_CLOSING_PUNCT = frozenset("”’」』）)】》\"'")


_SURROGATE = re.compile("[\ud800-\udfff]")


def escape(text: str) -> str:
    """Escape text for Telegram HTML: only ``&``, ``<`` and ``>`` need it outside attributes.

    A lone surrogate (possible in JSON from a Bot API server or a file) cannot be sent at all:
    it becomes U+FFFD here rather than failing the whole message.
    """
    text = _SURROGATE.sub("\ufffd", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attribute(value: str) -> str:
    """Escape a value placed inside a double-quoted attribute such as ``href``."""
    return escape(value).replace('"', "&quot;")


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units: the unit Telegram uses for limits and entity offsets."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


@dataclass(frozen=True, slots=True)
class _Token:
    raw: str
    visible: int  # UTF-16 units this token contributes to the parsed text
    tag: str | None = None  # lower-case tag name for tags, None for text and entities
    closing: bool = False


def _tokenize(markup: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    for match in _TAG_OR_ENTITY.finditer(markup):
        tokens.extend(_Token(ch, utf16_length(ch)) for ch in markup[pos : match.start()])
        raw = match.group(0)
        if match.group("name"):
            tokens.append(_Token(raw, 0, match.group("name").lower(), bool(match.group("end"))))
        else:
            tokens.append(_Token(raw, utf16_length(_stdlib_html.unescape(raw))))
        pos = match.end()
    tokens.extend(_Token(ch, utf16_length(ch)) for ch in markup[pos:])
    return tokens


def visible_length(markup: str) -> int:
    """UTF-16 length of ``markup`` once Telegram has removed tags and decoded entities."""
    return sum(token.visible for token in _tokenize(markup))


def _break_quality(tokens: list[_Token], index: int) -> int:
    """How good a split right after ``tokens[index]`` is (0 = not a boundary)."""
    ch = tokens[index].raw
    if ch == "\n":
        previous = tokens[index - 1].raw if index > 0 else ""
        return _PARAGRAPH if previous == "\n" else _LINE
    following = tokens[index + 1].raw if index + 1 < len(tokens) else ""
    if ch in _SENTENCE_END and following not in _CLOSING_PUNCT:
        return _SENTENCE
    if ch in _CLOSING_PUNCT and index > 0 and tokens[index - 1].raw in _SENTENCE_END:
        return _SENTENCE
    if ch == "." and following in (" ", "\n"):
        return _SENTENCE
    if ch in (" ", "\t"):
        return _SPACE
    return 0


def _update_stack(stack: list[_Token], token: _Token) -> None:
    if token.tag is None:
        return
    if not token.closing:
        stack.append(token)
        return
    # Close the innermost matching tag; input from our own renderer is well nested, so anything
    # else is tolerated rather than raised on (the validator in tests reports it).
    for depth in range(len(stack) - 1, -1, -1):
        if stack[depth].tag == token.tag:
            del stack[depth:]
            return


def _is_blank(token: _Token) -> bool:
    return token.tag is None and token.raw.isspace()


def _choose_cut(tokens: list[_Token], start: int, stop: int, limit: int) -> int:
    """Index to cut before, given that tokens[start:stop] fit and tokens[stop] does not."""
    best: dict[int, int] = {}
    seen = 0
    for index in range(start, stop):
        seen += tokens[index].visible
        quality = _break_quality(tokens, index) if tokens[index].tag is None else 0
        # Only consider boundaries in the second half so parts are not needlessly short.
        if quality and seen * 2 >= limit:
            best[quality] = index + 1
    # Cutting right before the whitespace that did not fit is as good as cutting after it.
    if tokens[stop].tag is None and tokens[stop].raw in ("\n", " ", "\t"):
        following = tokens[stop + 1].raw if stop + 1 < len(tokens) else ""
        if tokens[stop].raw != "\n":
            best[_SPACE] = stop
        else:
            best[_PARAGRAPH if following == "\n" else _LINE] = stop
    cut = best[max(best)] if best else stop
    # Keep end tags with the text they close and start tags with the text they open.
    while cut < len(tokens) and tokens[cut].tag is not None and tokens[cut].closing:
        cut += 1
    while cut - 1 > start and tokens[cut - 1].tag is not None and not tokens[cut - 1].closing:
        cut -= 1
    return cut


def split_html(markup: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Split Telegram HTML into parts whose visible text is at most ``limit`` UTF-16 units.

    Every part is well-formed on its own: tags open at a cut are closed at the end of one part and
    reopened (with their attributes) at the start of the next. Whitespace at a cut is dropped, as
    Telegram would trim it anyway; parts with no visible text are omitted.
    """
    if limit < 2:
        raise ValueError(f"limit must be at least 2 UTF-16 units, got {limit}")
    tokens = _tokenize(markup)
    parts: list[str] = []
    stack: list[_Token] = []  # tags open at `start`
    start = 0
    while start < len(tokens):
        # Leading whitespace of a part is dropped, except inside pre/code where it is content.
        if not any(token.tag in ("pre", "code") for token in stack):
            while start < len(tokens) and _is_blank(tokens[start]):
                start += 1
        used, stop = 0, start
        while stop < len(tokens) and used + tokens[stop].visible <= limit:
            used += tokens[stop].visible
            stop += 1
        if stop == len(tokens):
            cut = stop
        else:
            cut = _choose_cut(tokens, start, stop, limit)
            if cut <= start:  # a single token larger than the limit cannot be split further
                cut = start + 1
        reopened = [token.raw for token in stack]
        body = tokens[start:cut]
        for token in body:
            _update_stack(stack, token)
        while body and _is_blank(body[-1]):
            body.pop()
        if any(token.visible and not token.raw.isspace() for token in body):
            closing = [f"</{token.tag}>" for token in reversed(stack)]
            parts.append("".join(reopened) + "".join(t.raw for t in body) + "".join(closing))
        start = cut
    return parts
