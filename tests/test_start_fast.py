"""Asking starts fast: the query path loads tokenizers and ONNX Runtime sessions, never torch.

Each check runs in a fresh process, as a user's `newsqa ask` or a bot start does, after the
models are built (building them is the one step that needs torch).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

NEWSQA = str(Path(sys.executable).with_name("newsqa"))
# What the query path must not import: torch and the model code built on it.
HEAVY = ("torch", "sentence_transformers", "transformers")


@pytest.fixture(scope="module")
def built_models(embedder) -> None:
    """Both ONNX models exist in the cache (first use builds them, with torch)."""
    from retrieval.reader import Reader

    Reader.load()


def test_cli_ask_answers_without_importing_torch(sample_page_index: Path, built_models) -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", NEWSQA, "ask", "冠县有多少家绿色建材企业？",
         "--index", str(sample_page_index)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("答：15家\n")
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")}
    assert "onnxruntime" in imported and "tokenizers" in imported  # the check sees imports
    assert sorted(imported & set(HEAVY)) == []


def test_library_ask_search_and_warm_up_import_no_torch(
    sample_page_index: Path, built_models
) -> None:
    code = f"""
import json, sys
from retrieval import Library
with Library.open({str(sample_page_index)!r}) as library:
    library.warm_up()  # what the bot does at start
    answer = library.ask("谁主持召开了市国土空间规划审查委员会会议？")
    results = library.search("绿色建材")
print(json.dumps({{"span": answer.span, "first": results[0].title,
                  "heavy": sorted(m for m in {HEAVY!r} if m in sys.modules)}}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["heavy"] == []
    assert result["span"] == "王峰"
    assert result["first"] == "链上发力 攀高向强"
