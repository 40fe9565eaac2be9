"""The public names of each package users import from are pinned (as httpx's tests do).

Adding a name is a decision: add it here too. Removing or renaming one breaks callers, so the
changelog says so.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

EXPORTED = {
    "retrieval": [
        "Article", "ArticleKind", "Chunk", "ChunkingConfig", "IndexError_",
        "IndexMismatchError", "InputError", "Library", "ModelError", "NewsqaError",
        "derive_article_id",
    ],
    "retrieval.sources": [
        "FORMATS", "SourceFile", "load_articles", "load_path", "looks_like_page", "parse_date",
        "parse_page", "split_byline",
    ],
    "retrieval.articles": [
        "ARTICLE_KINDS", "Article", "ArticleKind", "Chunk", "ChunkingConfig",
        "derive_article_id", "printed_article",
    ],
    "retrieval.chunks": ["DEFAULT_CHUNKING", "chunk_article", "split_sentences"],
    "retrieval.embed": ["BACKENDS", "DEFAULT_BACKEND", "Embedder", "load_embedder",
                        "resolve_model"],
    "retrieval.answer": ["Answer", "Citation", "Headline", "SearchResult", "Span"],
    "retrieval.index": [
        "Hit", "HitKind", "Index", "IndexStats", "IngestProgress", "IngestReport",
        "VectorConfig", "VectorProgress", "VectorReport", "default_index_path", "passage_text",
    ],
}


@pytest.mark.parametrize("module_name", sorted(EXPORTED))
def test_exported_members_are_pinned_and_importable(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert sorted(module.__all__) == sorted(EXPORTED[module_name])
    assert len(set(module.__all__)) == len(module.__all__)
    for name in module.__all__:
        assert getattr(module, name) is not None, f"{module_name}.{name}"


def test_importing_the_package_and_the_cli_loads_no_heavy_library() -> None:
    # `newsqa --help` imports retrieval and retrieval.cli; Library is exported lazily.
    heavy = ["torch", "jieba", "faiss", "numpy", "onnxruntime", "sentence_transformers",
             "telegram"]
    code = ("import sys, retrieval, retrieval.cli; "
            f"print([m for m in {heavy!r} if m in sys.modules])")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"


def test_library_is_exported_from_the_package_on_first_use() -> None:
    import retrieval
    from retrieval.library import Library

    assert retrieval.Library is Library
    with pytest.raises(AttributeError, match="no attribute 'Libary'"):
        retrieval.Libary  # noqa: B018
