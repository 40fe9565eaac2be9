"""Property-based fuzzing (hypothesis) of everything that reads untrusted input (issue 9).

* loaders: any bytes or text, under any source extension, either load into clean articles
  within the limits or raise ``InputError`` naming the file - never another exception;
* the question path: any string, surrogates and control characters included, is cleaned at the
  library's door and answered (or refused with ``InputError``), and the answer renders as valid
  Telegram HTML;
* the Telegram renderers: any article text, headline or query renders as HTML Telegram accepts,
  split into parts within the 4,096-character limit, losing no visible text.

Bounded for CI: derandomised (the same examples every run, no flaky failures) and ~1 minute in
all; raise HYPOTHESIS_EXAMPLES for a longer local run.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot import render
from bot.html import escape, split_html, visible_length
from retrieval.articles import Article
from retrieval.errors import InputError
from retrieval.index import Index
from retrieval.library import Library
from retrieval.limits import MAX_ARTICLE_CHARS, MAX_QUESTION_CHARS
from retrieval.sanitize import clean_query, clean_text, has_words
from retrieval.sources.loading import load_path
from tests.telegram.html_rules import assert_valid

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")

# Text that looks like what arrives: Chinese, ASCII, punctuation, escapes, controls, emoji.
_ALPHABET = st.sampled_from(
    list("冠县绿色建材企业有家。，！？“”《》——…　 \n\t\r标题本报记者王培源")
    + list("abcXYZ0123456789<>&\"'#[]{}:;=+-@/\\%")
    + ["\x1b", "\x1b[31m", "\x1b]0;t\x07", "\x00", "\x07", "\x9b", "\u202e", "\ufeff",
       "\ud800", "\udcff", "😀", "\U0002a6a5", "&#27;", "<script>", "</p>", "<p>", "\x85"]
)
texts = st.lists(_ALPHABET, max_size=120).map("".join)
any_text = st.one_of(texts, st.text(max_size=200))
SUFFIXES = [".txt", ".md", ".jsonl", ".html"]


def _assert_clean(article: Article) -> None:
    for value in (article.title, article.subtitle, article.kicker, article.source,
                  article.page, article.url, *article.authors, *article.paragraphs):
        if value is not None:
            assert not _CONTROL.search(value.replace("\n", "")), (value, article)
    assert has_words(article.text)
    assert len(article.text) <= MAX_ARTICLE_CHARS


def _load(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory(prefix="newsqa-fuzz-") as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data)
        try:
            loaded = load_path(path)
        except InputError as exc:
            assert str(exc).startswith(str(path)), exc  # every error names the file
            return
        for source in loaded:
            assert source.articles
            for article in source.articles:
                _assert_clean(article)


# -- loaders -------------------------------------------------------------------------------------


@FUZZ
@given(data=st.binary(max_size=400), suffix=st.sampled_from(SUFFIXES))
def test_any_bytes_load_cleanly_or_raise_input_error(data: bytes, suffix: str) -> None:
    _load(data, suffix)


@FUZZ
@given(text=texts, suffix=st.sampled_from([".txt", ".md", ".html"]))
def test_any_text_loads_cleanly_or_raises_input_error(text: str, suffix: str) -> None:
    _load(text.encode("utf-8", "surrogatepass"), suffix)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)
records = st.fixed_dictionaries(
    {},
    optional={name: st.one_of(any_text, json_values) for name in (
        "id", "title", "subtitle", "kicker", "source", "url", "date", "byline")}
    | {"text": st.one_of(any_text, st.lists(any_text, max_size=4), json_values),
       "page": json_values, "authors": st.one_of(st.lists(any_text, max_size=3), json_values)},
)


@FUZZ
@given(lines=st.lists(st.one_of(records, json_values), min_size=1, max_size=4))
def test_any_json_lines_load_cleanly_or_raise_input_error(lines: list[Any]) -> None:
    data = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    _load(data.encode("utf-8", "surrogatepass"), ".jsonl")


# -- the question path ---------------------------------------------------------------------------


@FUZZ
@given(text=any_text)
def test_clean_query_leaves_no_controls_and_is_idempotent(text: str) -> None:
    cleaned = clean_query(text)
    assert not _CONTROL.search(cleaned) and "\n" not in cleaned
    assert clean_query(cleaned) == cleaned
    assert clean_text(clean_text(text)) == clean_text(text)
    cleaned.encode("utf-8")  # storable, printable: no lone surrogates


@pytest.fixture(scope="module")
def library(sample_page_index: Path, embedder: Any) -> Iterator[Library]:
    with Library(Index.open(sample_page_index, embedder=embedder)) as opened:
        yield opened


@settings(FUZZ, max_examples=max(10, EXAMPLES // 4))
@given(question=st.one_of(any_text, texts.map(lambda t: "冠县" + t + "绿色建材企业？")))
def test_any_question_is_answered_or_refused_and_renders(library: Library,
                                                         question: str) -> None:
    try:
        answer = library.ask(question)
    except InputError as exc:
        cleaned = clean_query(question)
        assert not cleaned or len(cleaned) > MAX_QUESTION_CHARS, exc
        return
    answer.question.encode("utf-8")
    for lang in ("zh", "en"):
        for part in render.answer_message(answer, offset=0, k=3, lang=lang).parts:
            assert_valid(part)
    results = library.search(clean_query(question)[:200] or "建材")
    for part in render.search_message(question, results, "zh").parts:
        assert_valid(part)


# -- Telegram renderers --------------------------------------------------------------------------


def _article(title: str | None, body: str) -> Article:
    paragraphs = tuple(p for p in clean_text(body).split("\n") if p.strip()) or ("正文",)
    return Article(id="fuzz", title=title, paragraphs=paragraphs, authors=("王\x1b培源",),
                   date="2023-10-09", source="聊<b>城", page="A1")


@FUZZ
@given(text=any_text, limit=st.integers(min_value=8, max_value=300))
def test_escaped_text_splits_into_valid_parts_keeping_every_visible_character(
        text: str, limit: int) -> None:
    markup = escape(clean_text(text))
    assume(markup.strip())
    parts = split_html(f"<b>{markup}</b>", limit)
    for part in parts:
        assert visible_length(part) <= limit
        assert_valid(part, limit=limit)
    joined = "".join(assert_valid(p, limit=limit).text for p in parts)
    assert re.sub(r"\s", "", joined) == re.sub(r"\s", "", clean_text(text))


@FUZZ
@given(title=st.none() | any_text, body=st.lists(any_text, max_size=60).map("\n".join),
       start=st.integers(-5, 9000), length=st.integers(0, 400),
       lang=st.sampled_from(["zh", "en"]))
def test_article_pages_and_lists_are_valid_telegram_html(
        title: str | None, body: str, start: int, length: int, lang: str) -> None:
    article = _article(title, body)
    pages, quote_page = render.article_pages(article, start, start + length, lang)  # type: ignore[arg-type]
    assert 0 <= quote_page < len(pages)
    for page in pages:
        assert_valid(page)
    for part in render.latest_message([article, article], lang).parts:  # type: ignore[arg-type]
        assert_valid(part)
    assert_valid(render.byline(title, [title or "甲"], None, title, None, lang))  # type: ignore[arg-type]
    for part in render.search_message(title or "", [], lang).parts:  # type: ignore[arg-type]
        assert_valid(part)
    assert_valid(render.start_message([title or "问题"], lang))  # type: ignore[arg-type]
