"""The ``onnx-int8`` backend: a model's transformer exported to ONNX, weights quantised to int8.

sentence-transformers' own ONNX backend needs ``optimum``, whose current release pins
transformers < 4.58; so we export with ``torch.onnx`` and quantise with onnxruntime's dynamic
quantisation (MatMul weights int8 per channel, activations quantised per batch at run time).
Pooling (mean or CLS, read from the model's ST Pooling module) and L2 normalisation run in numpy.

The artifact is built on first use next to the model in the cache, under a file lock, in a
temporary directory renamed into place, with the source revision and sha256 recorded. It also
keeps the tokenizer and the few settings encoding needs (``EncoderRecord``), so loading a built
artifact (``load_recorded_encoder``) needs neither torch nor sentence-transformers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort  # ImportError here tells embedding.py the backend is unavailable

from ..errors import ModelError
from . import offline_model
from .tokenizer import SharedTokenizer, load_tokenizer

ONNX_FORMAT = 3  # 2: fused with onnxruntime's BERT optimizer; 3: weights in model.onnx.data
_MODEL = "model.onnx"
_WEIGHTS = "model.onnx.data"
_RECORD = "newsqa-onnx.json"
# Written next to model.onnx from the loaded sentence-transformers model (at build, or on the
# first load of an older artifact), so later loads need no torch: tokenizer + session only.
_ENCODER_RECORD = "newsqa-encoder.json"
_TOKENIZER = "tokenizer.json"


def artifact_dir(name: str, revision: str) -> Path:
    """Cache folder of the int8 export of model ``name`` at ``revision``."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name if os.sep in name else name)
    return offline_model.cache_root() / "models" / f"{slug}-{revision}.onnx-int8-v{ONNX_FORMAT}"


# Accelerators onnxruntime may offer, best first, by the name NEWSQA_EMBED_DEVICE takes.
# TensorRT is left out on purpose: it compiles an engine per input shape, and every batch of
# passages has its own length.
ACCELERATORS = {
    "cuda": "CUDAExecutionProvider",
    "rocm": "ROCMExecutionProvider",
    "migraphx": "MIGraphXExecutionProvider",
    "dml": "DmlExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
}
CPU = "CPUExecutionProvider"
DEVICE_ENV = "NEWSQA_EMBED_DEVICE"


def choose_providers(available: Sequence[str], wanted: str | None = None) -> list[str]:
    """The onnxruntime providers to embed with: an accelerator when one is offered (the first
    of ``ACCELERATORS``), the CPU always last, for the nodes the accelerator has no kernel for.

    ``wanted`` (``NEWSQA_EMBED_DEVICE``): "auto" or unset as above, "cpu" for the CPU only, or
    an accelerator's name ("cuda", …), which must then be available.
    """
    choice = (wanted or "auto").strip().lower()
    if choice == "cpu":
        return [CPU]
    if choice == "auto":
        found = [p for p in ACCELERATORS.values() if p in available]
        return [*found[:1], CPU]
    provider = ACCELERATORS.get(choice)
    if provider is None:
        raise ModelError(
            f"{DEVICE_ENV}={wanted!r} is not a device newsqa knows; use auto, cpu or one of: "
            f"{', '.join(ACCELERATORS)}")
    if provider not in available:
        raise ModelError(
            f"{DEVICE_ENV}={wanted!r} asks for {provider}, but this onnxruntime offers only "
            f"{', '.join(available)}; install the onnxruntime build for that device (e.g. "
            f"`pip install onnxruntime-gpu` for CUDA) or set {DEVICE_ENV}=auto")
    return [provider, CPU]


def embedding_providers() -> list[str]:
    """``choose_providers`` for this machine and ``NEWSQA_EMBED_DEVICE``."""
    return choose_providers(ort.get_available_providers(), os.environ.get(DEVICE_ENV))


class OnnxEncoder:
    """Tokenizer + onnxruntime session + pooling; ``encode`` mirrors what Embedder needs.

    Loads from the artifact folder alone (``model.onnx``, ``tokenizer.json`` and the encoder
    record), so asking needs neither torch nor sentence-transformers. Runs on an accelerator
    when onnxruntime offers one (``choose_providers``).
    """

    def __init__(self, folder: Path, record: EncoderRecord) -> None:
        self._session = new_session(folder / _MODEL, embedding_providers())
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = load_tokenizer(folder / _TOKENIZER)
        self.record = record

    @property
    def providers(self) -> list[str]:
        """Where the session runs, best first (the CPU last, for what the others cannot)."""
        return list(self._session.get_providers())

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        # Longest first, so each batch pads to similar lengths (as sentence-transformers does).
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.empty((len(texts), 0), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            # What sentence-transformers' tokenizer call (padding=True, truncation=True) does:
            # pad to the batch's longest input, cut at max_length.
            encodings = self._tokenizer.encode_batch(
                [texts[i] for i in idx], max_length=self.record.max_length,
                pad_id=self.record.pad_id, pad_token=self.record.pad_token,
                padding_side=self.record.padding_side,
            )
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feed = {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                    "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feed["token_type_ids"] = np.array([e.type_ids for e in encodings], dtype=np.int64)
            hidden = self._session.run(None, feed)[0]
            vectors = _pool(hidden, mask, self.record.pooling)
            if out.shape[1] == 0:
                out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
            out[idx] = vectors
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


@dataclass(frozen=True)
class EncoderRecord:
    """What the ONNX path needs from the sentence-transformers model, recorded at build time."""

    pooling: str  # "mean" or "cls"
    max_length: int  # tokens; longer inputs are truncated
    dimension: int
    prompts: dict[str, str]  # the model's own configured ST prompts (family rules apply on top)
    pad_id: int
    pad_token: str
    padding_side: str  # "right" or "left"


def new_session(model: Path, providers: Sequence[str] = (CPU,)) -> ort.InferenceSession:
    """A session on ``providers`` (CPU by default) whose CPU part uses every core we may use
    (``OMP_NUM_THREADS`` caps it), without spinning."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = int(os.environ.get("OMP_NUM_THREADS") or 0) or _cores()
    # Busy-waiting threads burn the second core other work (the bot, jieba) needs.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(model), options, providers=list(providers))


def _pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    if mode == "cls":
        return hidden[:, 0, :].astype(np.float32)
    weights = mask[:, :, None].astype(np.float32)
    return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def pooling_mode(st_model: Any) -> str:
    """'mean' or 'cls' from the model's Pooling module; other layouts are refused."""
    modules = list(st_model)
    names = [type(m).__name__ for m in modules]
    if len(modules) < 2 or names[0] != "Transformer" or names[1] != "Pooling":
        raise ModelError(
            f"the onnx-int8 backend needs a Transformer → Pooling model, this one is "
            f"{' → '.join(names)}; use --backend torch"
        )
    mode = getattr(modules[1], "pooling_mode", "mean")
    mode = mode if isinstance(mode, str) else "+".join(mode)
    if mode not in {"mean", "cls"}:
        raise ModelError(f"the onnx-int8 backend supports mean or cls pooling, not {mode!r}")
    if names[2:] not in ([], ["Normalize"]):
        raise ModelError(f"the onnx-int8 backend cannot run {' → '.join(names[2:])}")
    return mode


def load_onnx_encoder(
    st_model: Any, name: str, revision: str, source: Path | None = None
) -> OnnxEncoder:
    """Build (once, cached) and load the int8 ONNX export of ``st_model`` (from ``source``)."""
    mode = pooling_mode(st_model)
    folder = artifact_dir(name, revision)
    if _valid(folder, revision) is not None or _recorded(folder) is None:
        from filelock import FileLock

        folder.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(folder) + ".lock"):
            if _valid(folder, revision) is not None:
                offline_model.announce_build("the embedding model's int8 ONNX export", "1 min")
                _build(st_model, folder, revision)
            if _recorded(folder) is None:
                _write_encoder_record(st_model, mode, folder, source)
    record = _recorded(folder)
    if record is None:
        raise ModelError(f"{folder / _ENCODER_RECORD} cannot be read back; delete {folder}")
    return OnnxEncoder(folder, record)


def load_recorded_encoder(name: str, revision: str) -> OnnxEncoder | None:
    """The built export of ``name`` at ``revision`` without torch, or None if not built yet."""
    folder = artifact_dir(name, revision)
    if _valid(folder, revision) is not None:
        return None
    record = _recorded(folder)
    return OnnxEncoder(folder, record) if record is not None else None


def _recorded(folder: Path) -> EncoderRecord | None:
    try:
        data = json.loads((folder / _ENCODER_RECORD).read_text("utf-8"))
        if not (folder / _TOKENIZER).is_file():
            return None
        return EncoderRecord(**data)
    except (OSError, ValueError, TypeError):
        return None


def _write_encoder_record(st_model: Any, mode: str, folder: Path, source: Path | None) -> None:
    """Save the tokenizer and the settings the ONNX path needs, each file renamed into place.

    The model folder's own ``tokenizer.json`` is copied when it is the tokenizer the model
    uses, so the reader (which reads that file) and the embedder share one loaded tokenizer.
    """
    from tokenizers import Tokenizer

    hf_tokenizer = st_model[0].tokenizer
    text = SharedTokenizer(Tokenizer.from_str(hf_tokenizer.backend_tokenizer.to_str())).to_str()
    original = source / _TOKENIZER if source is not None else None
    if (original is not None and original.is_file()
            and SharedTokenizer(Tokenizer.from_file(str(original))).to_str() == text):
        text = original.read_text("utf-8")
    getter = getattr(st_model, "get_embedding_dimension", None) or getattr(
        st_model, "get_sentence_embedding_dimension", None  # sentence-transformers < 6
    )
    record = EncoderRecord(
        pooling=mode, max_length=int(getattr(st_model, "max_seq_length", None) or 512),
        dimension=int(getter() if getter else 0),
        prompts={str(k): str(v) for k, v in (getattr(st_model, "prompts", {}) or {}).items()},
        pad_id=int(hf_tokenizer.pad_token_id or 0), pad_token=str(hf_tokenizer.pad_token or ""),
        padding_side=str(getattr(hf_tokenizer, "padding_side", "right")),
    )
    try:
        for target, content in (
            (folder / _TOKENIZER, text),
            (folder / _ENCODER_RECORD, json.dumps(asdict(record), indent=2) + "\n"),
        ):
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            tmp.write_text(content, "utf-8")
            tmp.chmod(0o644)
            os.replace(tmp, target)
    except OSError as exc:
        raise ModelError(
            f"cannot write {folder / _ENCODER_RECORD}: {exc}; make the model cache writable "
            "or set NEWSQA_CACHE_DIR"
        ) from exc


def _valid(folder: Path, revision: str) -> str | None:
    """Why ``folder`` is not a good export for ``revision``, or None if it is."""
    try:
        record = json.loads((folder / _RECORD).read_text("utf-8"))
    except (OSError, ValueError):
        return "missing"
    if record.get("revision") != revision or record.get("format") != ONNX_FORMAT:
        return "stale"
    for name in (_MODEL, _WEIGHTS):
        path = folder / name
        entry = record.get("files", {}).get(name, {})
        if not path.is_file():
            return "damaged"
        stale = offline_model.stat_key(path) != entry.get("stat")
        if stale and offline_model.sha256_file(path) != entry.get("sha256"):
            return "damaged"
    return None


def _build(st_model: Any, folder: Path, revision: str) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    started = time.perf_counter()
    hf_model = st_model[0].auto_model
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        fp32 = tmp / "fp32.onnx"
        staging = tmp / "out"
        staging.mkdir()
        _export_fp32(hf_model, fp32)
        fused = fuse_bert(fp32, tmp / "fused.onnx", hf_model.config)
        # Weights of MatMul/Attention int8 per output channel; the word embeddings stay float32
        # (inside EmbedLayerNormalization), which keeps the cosine to float32 vectors ≈ 0.996+.
        with offline_model.quiet_quantizer():
            quantize_dynamic(
                str(fused), str(staging / _MODEL), weight_type=QuantType.QInt8,
                per_channel=True, op_types_to_quantize=["MatMul", "Attention"],
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
        store_weights_apart(staging / _MODEL)
        for name in (_MODEL, _WEIGHTS):
            (staging / name).chmod(0o644)  # a service user other than the builder reads them
        files = {
            name: {"sha256": offline_model.sha256_file(staging / name),
                   "stat": offline_model.stat_key(staging / name)}
            for name in (_MODEL, _WEIGHTS)
        }
        record = {
            "format": ONNX_FORMAT, "revision": revision, "files": files,
            "build_seconds": round(time.perf_counter() - started, 1),
        }
        (staging / _RECORD).write_text(json.dumps(record, indent=2) + "\n", "utf-8")
        if folder.exists():
            folder.rename(tmp / "stale")
        staging.rename(folder)
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelError(
            f"exporting the model to ONNX int8 failed: {exc}; use --backend torch"
        ) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _export_fp32(hf_model: Any, target: Path) -> None:
    """Export the transformer (last_hidden_state only) to float32 ONNX with eager attention."""
    import torch

    inputs = ["input_ids", "attention_mask"]
    if getattr(hf_model.config, "type_vocab_size", 0) > 1:
        inputs.append("token_type_ids")

    class _Hidden(torch.nn.Module):
        """Returns last_hidden_state only, with positional inputs the exporter can trace."""

        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(inputs, args, strict=True))).last_hidden_state

    example = tuple(
        torch.tensor([[0, 5, 6, 2], [0, 7, 2, 1]]) if n == "input_ids"
        else torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]]) if n == "attention_mask"
        else torch.zeros(2, 4, dtype=torch.long)
        for n in inputs
    )
    was_training = hf_model.training
    attention = getattr(hf_model.config, "_attn_implementation", None)
    hf_model.eval()
    if attention and attention != "eager":
        # The eager attention graph is the pattern onnxruntime's BERT optimizer can fuse.
        hf_model.set_attn_implementation("eager")
    axes = {n: {0: "batch", 1: "seq"} for n in [*inputs, "last_hidden_state"]}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings on shape-dependent Python code
            torch.onnx.export(
                _Hidden(hf_model), example, str(target), input_names=inputs,
                output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                dynamic_axes=axes,
            )
    finally:
        hf_model.train(was_training)
        if attention and attention != "eager":
            hf_model.set_attn_implementation(attention)


def store_weights_apart(model: Path) -> None:
    """Move ``model``'s large tensors into ``<model>.data`` beside it (written fresh).

    onnxruntime memory-maps external weights instead of copying them: a session on the ~400 MB
    int8 export opens in ~0.03 s instead of ~0.6 s, and processes share the pages.
    """
    import onnx

    data = model.with_name(model.name + ".data")
    data.unlink(missing_ok=True)  # onnx appends to an existing data file
    graph = onnx.load(str(model))
    onnx.save_model(
        graph, str(model), save_as_external_data=True, all_tensors_to_one_file=True,
        location=data.name, size_threshold=1 << 20,
    )
    for path in (model, data):
        path.chmod(0o644)  # onnx writes the data file 0600; the cache may be shared


def fuse_bert(source: Path, target: Path, config: Any) -> Path:
    """Fuse attention/LayerNorm/GELU with onnxruntime's transformer optimizer (about 1.3-2x).

    BERT-family graphs only; if the optimizer cannot handle a model, the unfused graph is used.
    """
    from onnxruntime.transformers.optimizer import optimize_model

    try:
        optimized = optimize_model(
            str(source), model_type="bert", num_heads=int(config.num_attention_heads),
            hidden_size=int(config.hidden_size),
        )
        optimized.save_model_to_file(str(target))
    except Exception:  # any optimizer failure just means "run unfused"
        return source
    return target
