"""The stages stay separate: bot/ speaks Telegram and calls the library, nothing lower."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STORAGE_LIBRARIES = {"faiss", "sqlite3", "jieba", "tantivy"}


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_bot_never_imports_faiss_sqlite_jieba_or_tantivy() -> None:
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


def _library_index_uses(path: Path) -> list[int]:
    """Lines where ``<something named library>.index`` is read, e.g. ``library.index.stats()``."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr == "index":
            owner = node.value
            name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if "library" in name.lower():
                lines.append(node.lineno)
    return sorted(lines)


def test_only_the_library_reaches_into_its_index() -> None:
    # The CLI, the bot, the benchmarks and the tests ask the Library (ingest, delete, articles,
    # about, check, warm_up); its index is its own business.
    outside = [p for folder in ("bot", "bench", "tests", "retrieval/cli")
               for p in sorted((ROOT / folder).rglob("*.py"))]
    assert outside
    for path in outside:
        found = _library_index_uses(path)
        assert not found, f"{path.relative_to(ROOT)}:{found[0]} reaches into library.index"


def test_the_layering_check_sees_a_reach_into_the_index(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f(services, library):\n    library.index.stats()\n"
                     "    services.library.index.embedder\n", encoding="utf-8")
    assert _library_index_uses(probe) == [2, 3]
