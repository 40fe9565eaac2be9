"""``manifest.json``: what an index was built with, so it is never queried with the wrong model.

Plain JSON beside the stores, rewritten atomically. Vectors from two models are not comparable
and tokens from two normalisations do not match, so any difference in those is an error, never
a silent degradation.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import IndexError_, IndexMismatchError
from .files import atomic_write, write_all

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Manifest:
    model: str
    revision: str
    dimension: int
    query_prompt: str
    passage_prompt: str
    backend: str
    normalization: str
    chunking: dict[str, Any]
    user_dict: dict[str, str] | None = None  # {"path", "sha256"} of the jieba user dictionary
    vector_index: dict[str, Any] = field(default_factory=dict)
    format: int = FORMAT_VERSION
    created: str = field(default_factory=_now)
    updated: str = field(default_factory=_now)

    def save(self, directory: Path) -> None:
        self.updated = _now()
        data = json.dumps(asdict(self), ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
        atomic_write(directory / MANIFEST_NAME, lambda fd: write_all(fd, data))

    @classmethod
    def load(cls, directory: Path) -> Manifest:
        path = directory / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise IndexError_(
                f"{path} is missing, so it is unknown which model built index {directory}; "
                "re-ingest into a new --index directory"
            ) from exc
        except (OSError, ValueError) as exc:
            raise IndexError_(
                f"{path} cannot be read ({exc}); re-ingest into a new --index directory"
            ) from exc
        version = data.get("format")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise IndexMismatchError(
                f"index {directory} has format {version!r}, newer than this newsqa supports "
                f"({FORMAT_VERSION}); upgrade newsqa or re-ingest into a new --index directory"
            )
        known = {name for name in cls.__dataclass_fields__}
        try:
            return cls(**{k: v for k, v in data.items() if k in known})
        except TypeError as exc:
            raise IndexError_(
                f"{path} lacks required fields ({exc}); re-ingest into a new --index directory"
            ) from exc


def exists(directory: Path) -> bool:
    return os.path.exists(directory / MANIFEST_NAME)
