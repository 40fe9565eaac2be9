"""Every size limit on untrusted input, in one place, with the check that enforces it.

Files, JSON records, articles, questions and search queries come from people the archive does
not control (an admin's upload, a reader's message). Each limit below is far above anything a
newspaper produces and far below what would exhaust memory or CPU; breaking one is an
``InputError`` that names the input (and line) and the limit, never a crash or a hang.
docs/sources.md lists them.

    check_question("冠县有多少家绿色建材企业？")     # the text, sanitised; InputError if too long
"""

from __future__ import annotations

import re

from .errors import InputError
from .sanitize import clean_query

MIB = 1024 * 1024
# One source file (and one bot upload: the Bot API's own download limit is 20 MB).
MAX_FILE_BYTES = 20 * MIB
# One line of page text, article text, JSON Lines or an ``ask --batch`` file. A JSONL line
# holds a whole article, so this is the article limit plus room for metadata and escapes.
MAX_LINE_CHARS = 200_000
# One article's body: ~60 printed pages of a newspaper. Chunks are cut from it (~220
# characters each), so this is what bounds a single embedding batch.
MAX_ARTICLE_CHARS = 100_000
# Chunks one article may yield with the default chunking (a backstop to MAX_ARTICLE_CHARS:
# text of very short sentences packs into more, smaller chunks).
MAX_CHUNKS_PER_ARTICLE = 1_000
# Nesting of a JSON value (records are flat: an object holding strings and lists of strings).
MAX_JSON_DEPTH = 20
# A reader's question (the bot's default max_question_chars) and a search query.
MAX_QUESTION_CHARS = 500
MAX_SEARCH_CHARS = 200

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def describe_bytes(size: int) -> str:
    return f"{size / MIB:.1f} MB" if size >= MIB else f"{size} bytes"


def check_file_size(size: int, *, path: str) -> None:
    if size > MAX_FILE_BYTES:
        raise InputError(
            f"the file is larger than the {describe_bytes(MAX_FILE_BYTES)} limit "
            f"({'at least ' if size == MAX_FILE_BYTES + 1 else ''}{describe_bytes(size)}); "
            "split it into smaller files",
            path=path,
        )


def check_lines(text: str, *, path: str) -> None:
    """Refuse a text with a line longer than MAX_LINE_CHARS (naming the first such line)."""
    if len(text) <= MAX_LINE_CHARS:
        return
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line) > MAX_LINE_CHARS:
            raise InputError(
                f"line is {len(line):,} characters long, over the {MAX_LINE_CHARS:,} limit; "
                "is this really text? (wrap long lines, or split the record)",
                path=path,
                line=number,
            )


def json_depth(line: str) -> int:
    """Deepest nesting of brackets in a JSON text, without parsing (strings are skipped)."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", line))
    depth = deepest = 0
    for ch in brackets:
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def check_json_depth(line: str) -> str | None:
    """A problem description if ``line`` nests deeper than MAX_JSON_DEPTH, else None."""
    depth = json_depth(line)
    if depth > MAX_JSON_DEPTH:
        return f"JSON nested {depth} levels deep, over the limit of {MAX_JSON_DEPTH}"
    return None


def check_article_size(chars: int, chunks: int | None = None) -> str | None:
    """A problem description if an article body is too long, else None."""
    if chars > MAX_ARTICLE_CHARS:
        return (
            f"article text is {chars:,} characters long, over the {MAX_ARTICLE_CHARS:,} "
            "limit; split it into several articles"
        )
    if chunks is not None and chunks > MAX_CHUNKS_PER_ARTICLE:
        return (
            f"article text splits into {chunks:,} chunks, over the {MAX_CHUNKS_PER_ARTICLE:,} "
            "limit; split it into several articles"
        )
    return None


def check_question(text: str, *, limit: int = MAX_QUESTION_CHARS, what: str = "question") -> str:
    """``text`` sanitised (see ``sanitize.clean_query``); InputError if longer than ``limit``."""
    cleaned = clean_query(text)
    if not cleaned:
        raise InputError(f"the {what} is empty (nothing but spaces or control characters)")
    if len(cleaned) > limit:
        raise InputError(
            f"the {what} is {len(cleaned):,} characters long; keep it under {limit:,}"
        )
    return cleaned


def check_search(text: str) -> str:
    return check_question(text, limit=MAX_SEARCH_CHARS, what="search query")
