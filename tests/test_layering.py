"""The stages stay separate: bot/ speaks Telegram and calls the library, nothing lower."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STORAGE_LIBRARIES = {"faiss", "sqlite3", "jieba"}


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_bot_never_imports_faiss_sqlite_or_jieba() -> None:
    for path in sorted((ROOT / "bot").rglob("*.py")):
        roots = {name.split(".")[0] for name in _imported_modules(path)}
        found = roots & STORAGE_LIBRARIES
        assert not found, f"{path.relative_to(ROOT)} imports {found}"


def test_bot_reaches_the_index_only_through_the_library() -> None:
    for path in sorted((ROOT / "bot").rglob("*.py")):
        lower = {n for n in _imported_modules(path) if n.startswith("retrieval.index")}
        assert not lower, f"{path.relative_to(ROOT)} imports {lower}"


def test_retrieval_knows_nothing_about_telegram() -> None:
    # `newsqa serve` is the one door from the command line into the bot.
    entry = ROOT / "retrieval/cli/serve_cmd.py"
    for path in sorted(p for p in (ROOT / "retrieval").rglob("*.py") if p != entry):
        roots = {name.split(".")[0] for name in _imported_modules(path)}
        assert not roots & {"telegram", "bot"}, f"{path.relative_to(ROOT)} imports Telegram code"
