"""A strict checker of Telegram's HTML parse mode, used on every message the bot sends in tests.

The emulator does not parse markup (real Telegram answers 400 "can't parse entities"), so tests run
this instead. It is written independently of ``bot/html.py`` so it can catch that module's bugs.
Rules (https://core.telegram.org/bots/api#html-style):
  * tags: b strong i em u ins s strike del a(href) code pre tg-spoiler span(class="tg-spoiler")
    blockquote(expandable) tg-emoji(emoji-id); ``code`` may carry class="language-…" inside pre;
  * tags balanced and properly nested; bold/italic/underline/strike/spoiler may nest in anything
    except pre and code; pre and code contain only text (pre may wrap one code); links, emoji and
    blockquotes do not nest in themselves;
  * ``&`` ``<`` ``>`` outside tags escaped; only &lt; &gt; &amp; &quot; and numeric entities;
  * 1..4096 UTF-16 units of text after parsing (1024 for captions).
Error texts mimic Telegram's "can't parse entities: …" with UTF-8 byte offsets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_STYLE_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "span": "spoiler",
}
_OTHER_TAGS = {
    "a": "text_link", "code": "code", "pre": "pre", "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_ATTRIBUTE = re.compile(r"""\s*([A-Za-z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]+|#[xX][0-9a-fA-F]+);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class TelegramHTMLError(ValueError):
    """Markup real Telegram would reject with 400 Bad Request: can't parse entities."""


@dataclass(frozen=True)
class Entity:
    type: str
    offset: int  # UTF-16 units, as Telegram reports them
    length: int
    url: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class ParsedHTML:
    text: str
    entities: tuple[Entity, ...] = field(default=())

    def entity_texts(self, entity_type: str) -> list[str]:
        """Text covered by each entity of ``entity_type`` (e.g. all bold spans)."""
        units = self.text.encode("utf-16-le")
        return [
            units[2 * e.offset : 2 * (e.offset + e.length)].decode("utf-16-le")
            for e in self.entities
            if e.type == entity_type
        ]


@dataclass
class _Open:
    name: str
    kind: str
    offset: int
    byte_offset: int
    attributes: dict[str, str]


def _u16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fail(what: str) -> TelegramHTMLError:
    return TelegramHTMLError(f"can't parse entities: {what}")


def _parse_attributes(raw: str, name: str, byte_offset: int) -> dict[str, str]:
    attributes: dict[str, str] = {}
    pos = 0
    while pos < len(raw):
        match = _ATTRIBUTE.match(raw, pos)
        if not match or match.end() == pos:
            if raw[pos:].strip() == "":
                break
            raise _fail(f'invalid attributes of tag "{name}" at byte offset {byte_offset}')
        value = next((g for g in match.groups()[1:] if g is not None), "")
        attributes[match.group(1).lower()] = _decode_attribute(value, byte_offset)
        pos = match.end()
    return attributes


def _decode_attribute(value: str, byte_offset: int) -> str:
    if "<" in value or re.search(r"&(?!(lt|gt|amp|quot|#[0-9]+|#[xX][0-9a-fA-F]+);)", value):
        raise _fail(f"unescaped character in attribute value at byte offset {byte_offset}")
    return _ENTITY.sub(lambda m: _decode_entity(m.group(1)), value)


def _decode_entity(body: str) -> str:
    if body in _NAMED:
        return _NAMED[body]
    code = int(body[2:], 16) if body[1:2] in ("x", "X") else int(body[1:])
    return chr(code)


def _check_start_tag(name: str, attributes: dict[str, str], stack: list[_Open], at: int) -> str:
    """Validate a start tag against its ancestors; returns the entity kind."""
    kind = _STYLE_TAGS.get(name) or _OTHER_TAGS.get(name)
    if kind is None:
        raise _fail(f'unsupported start tag "{name}" at byte offset {at}')
    allowed = {"a": {"href"}, "span": {"class"}, "tg-emoji": {"emoji-id"},
               "blockquote": {"expandable"}, "code": {"class"}}.get(name, set())
    unknown = set(attributes) - allowed
    if unknown:
        attribute = sorted(unknown)[0]
        raise _fail(f'unsupported attribute "{attribute}" of tag "{name}" at byte offset {at}')
    if name == "a" and not attributes.get("href"):
        raise _fail(f'tag "a" must have a non-empty href attribute at byte offset {at}')
    if name == "span" and attributes.get("class") != "tg-spoiler":
        raise _fail(f'tag "span" must have class "tg-spoiler" at byte offset {at}')
    if name == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
        raise _fail(f'tag "tg-emoji" must have a numeric emoji-id at byte offset {at}')
    if name == "code" and "class" in attributes and not (
        attributes["class"].startswith("language-") and stack and stack[-1].name == "pre"
    ):
        raise _fail(f'tag "code" may have class "language-…" only inside pre, byte offset {at}')
    parent_kinds = {open_.kind for open_ in stack}
    parent = stack[-1] if stack else None
    if parent and parent.kind in ("code", "pre", "custom_emoji") and not (
        name == "code" and parent.kind == "pre"
    ):
        raise _fail(f'tag "{name}" can\'t be nested inside "{parent.name}" at byte offset {at}')
    if kind in ("text_link", "blockquote", "custom_emoji") and kind in parent_kinds:
        raise _fail(f'tag "{name}" can\'t be nested in another "{name}" at byte offset {at}')
    if kind == "pre" and "text_link" in parent_kinds:
        raise _fail(f'tag "pre" can\'t be nested inside "a" at byte offset {at}')
    return kind


def _close_tag(name: str, rest: str, stack: list[_Open], offset: int, at: int) -> Entity | None:
    """Check an end tag against the open one and pop it; its entity, unless it is empty."""
    if not stack:
        raise _fail(f'unexpected end tag "{name}" at byte offset {at}')
    if stack[-1].name != name:
        raise _fail(
            f'unmatched end tag at byte offset {at}, expected "</{stack[-1].name}>", '
            f'found "</{name}>"'
        )
    if rest.strip():
        raise _fail(f'end tag "{name}" with attributes at byte offset {at}')
    opened = stack.pop()
    if offset <= opened.offset:  # Telegram silently drops empty entities
        return None
    attrs = opened.attributes
    language = attrs.get("class", "")[len("language-") :] or None
    return Entity(
        "expandable_blockquote" if opened.kind == "blockquote"
        and "expandable" in attrs else opened.kind,
        opened.offset,
        offset - opened.offset,
        url=attrs.get("href"),
        language=language if opened.name == "code" else None,
    )


def parse(markup: str, *, limit: int = 4096) -> ParsedHTML:
    """Parse Telegram HTML like the Bot API does; raise TelegramHTMLError where it would."""
    text_parts: list[str] = []
    entities: list[Entity] = []
    stack: list[_Open] = []
    offset = 0  # UTF-16 units of parsed text so far
    pos = 0
    while pos < len(markup):
        ch = markup[pos]
        at = len(markup[:pos].encode("utf-8"))
        if ch == "<":
            end = markup.find(">", pos)
            if end < 0 or "<" in markup[pos + 1 : end]:
                raise _fail(f'unclosed start tag or unescaped "<" at byte offset {at}')
            inner = markup[pos + 1 : end].strip()
            closing = inner.startswith("/")
            match = re.match(r"/?\s*([A-Za-z][\w-]*)", inner)
            if not match:
                raise _fail(f'empty or invalid tag at byte offset {at}')
            name = match.group(1).lower()
            if closing:
                closed = _close_tag(name, inner[match.end() :], stack, offset, at)
                if closed is not None:
                    entities.append(closed)
            else:
                attributes = _parse_attributes(inner[match.end() :], name, at)
                kind = _check_start_tag(name, attributes, stack, at)
                stack.append(_Open(name, kind, offset, at, attributes))
            pos = end + 1
            continue
        if ch == "&":
            entity = _ENTITY.match(markup, pos)
            if not entity:
                raise _fail(f'unsupported or unescaped "&" at byte offset {at}')
            decoded = _decode_entity(entity.group(1))
            text_parts.append(decoded)
            offset += _u16(decoded)
            pos = entity.end()
            continue
        if ch == ">":
            raise _fail(f'unescaped ">" at byte offset {at}')
        text_parts.append(ch)
        offset += _u16(ch)
        pos += 1
    if stack:
        raise _fail(f'can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    text = "".join(text_parts)
    if not text.strip():
        raise TelegramHTMLError("message text is empty")
    if _u16(text) > limit:
        raise TelegramHTMLError(f"message is too long: {_u16(text)} UTF-16 units > {limit}")
    entities.sort(key=lambda e: (e.offset, -e.length))
    return ParsedHTML(text, tuple(entities))


def assert_valid(markup: str, *, limit: int = 4096) -> ParsedHTML:
    """``parse`` for use in tests: the failure names the offending markup."""
    try:
        return parse(markup, limit=limit)
    except TelegramHTMLError as exc:
        shown = markup if len(markup) <= 300 else markup[:300] + "…"
        raise AssertionError(f"Telegram would reject this HTML ({exc}):\n{shown}") from exc
