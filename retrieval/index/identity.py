"""What an index was built with against what a caller asks for: checks and new manifests.

An index answers only with the model, normalisation and jieba dictionary it was built with;
every mismatch is an ``IndexMismatchError`` that says how to search it or where to re-ingest.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from ..articles import ChunkingConfig
from ..errors import IndexMismatchError
from ..normalize import NORMALIZATION, user_dict_fingerprint
from .files import default_index_path
from .manifest import Manifest
from .vectors import VectorConfig

if TYPE_CHECKING:
    from ..embed.embedder import Embedder


def load_embedder(model: str | None, backend: str | None) -> Embedder:
    from ..embed.embedder import load_embedder as load

    return load(model, backend=backend)


def directory_of(path: str | Path | None) -> Path:
    return Path(path).expanduser() if path is not None else default_index_path()


def check_existing(
    directory: Path, manifest: Manifest, *, model: str | None, embedder: Embedder | None,
    user_dict: str | Path | None,
) -> None:
    """Refuse to open an index with another normalisation, user dictionary or model."""
    if manifest.normalization != NORMALIZATION:
        raise IndexMismatchError(
            f"index {directory} was built with search normalisation "
            f"{manifest.normalization!r}, this newsqa uses {NORMALIZATION!r}; re-ingest "
            "into a new --index directory"
        )
    if user_dict is not None:
        wanted = user_dict_fingerprint(user_dict)
        if wanted != manifest.user_dict:
            recorded = manifest.user_dict["path"] if manifest.user_dict else "none"
            raise IndexMismatchError(
                f"index {directory} was built with jieba user dictionary {recorded}, "
                f"not {wanted['path']} (or that file changed since); re-ingest into a "
                "new --index directory to use another dictionary"
            )
    if embedder is None and model is not None:
        from ..embed.embedder import resolve_model

        name = resolve_model(model).name  # canonical name; loads nothing
        if name != manifest.model:
            raise IndexMismatchError(_mismatch(directory, manifest, name))
    if embedder is not None:
        check_model(directory, manifest, embedder)


def check_model(directory: Path, manifest: Manifest, embedder: Embedder) -> None:
    info = embedder.info
    # The backend is part of the identity: int8 and float32 vectors of one model differ
    # slightly, and an index must not mix them.
    if (info.name, info.revision, info.dimension, info.backend) != (
        manifest.model, manifest.revision, manifest.dimension, manifest.backend
    ):
        asked = (f"{info.name} (revision {info.revision[:12]}, {info.dimension} dimensions, "
                 f"backend {info.backend})")
        raise IndexMismatchError(_mismatch(directory, manifest, asked, info.name))


def _mismatch(directory: Path, manifest: Manifest, asked: str, name: str | None = None) -> str:
    return (
        f"index {directory} was built with model {manifest.model} (revision "
        f"{manifest.revision[:12]}, {manifest.dimension} dimensions, backend "
        f"{manifest.backend}), not {asked}; search it "
        f"with --model {manifest.model}, or re-ingest into a new --index directory to use "
        f"{name or asked}"
    )


def new_manifest(
    embedder: Embedder,
    user_dict: str | Path | None,
    chunking: ChunkingConfig | None,
    vector_config: VectorConfig | None,
) -> Manifest:
    info = embedder.info
    return Manifest(
        model=info.name, revision=info.revision, dimension=info.dimension,
        query_prompt=info.query_prompt, passage_prompt=info.passage_prompt,
        backend=info.backend, normalization=NORMALIZATION,
        chunking=asdict(chunking or ChunkingConfig()),
        user_dict=user_dict_fingerprint(user_dict) if user_dict is not None else None,
        vector_index={"metric": "inner-product", "passage": "title\\ntext",
                      **asdict(vector_config or VectorConfig())},
    )
