"""Tokenizers for the ONNX paths: one ``tokenizers.Tokenizer`` per file content, shared.

The embedder and the reader tokenize with the same 250k-piece XLM-R tokenizer, whose load
takes 0.6-1 s; loading it once per process is a large part of a fast cold start. Truncation
and padding are settings of the ``tokenizers.Tokenizer`` object, so every call sets its own
under the tokenizer's lock instead of relying on what the previous caller left.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import offline_model

__all__ = ["SharedTokenizer", "load_tokenizer"]


class SharedTokenizer:
    """A ``tokenizers.Tokenizer`` whose callers each say how to truncate and pad."""

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer
        self._lock = threading.Lock()

    def encode_batch(
        self,
        inputs: Sequence[str] | Sequence[tuple[str, str]],
        *,
        add_special_tokens: bool = True,
        max_length: int | None = None,
        stride: int = 0,
        strategy: str = "longest_first",
        pad_id: int | None = None,
        pad_token: str = "",
        padding_side: str = "right",
    ) -> list[Any]:
        """``tokenizers`` Encodings; ``max_length`` None: no truncation; ``pad_id`` None: none.

        With ``pad_id`` set, a batch is padded to its longest input (what a Hugging Face
        tokenizer does with ``padding=True``).
        """
        with self._lock:
            tokenizer = self._tokenizer
            if max_length is None:
                tokenizer.no_truncation()
            else:
                tokenizer.enable_truncation(max_length, stride=stride, strategy=strategy)
            if pad_id is None:
                tokenizer.no_padding()
            else:
                tokenizer.enable_padding(direction=padding_side, pad_id=pad_id,
                                         pad_token=pad_token)
            return list(tokenizer.encode_batch(list(inputs), add_special_tokens=add_special_tokens))

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids``, special tokens included (as a Hugging Face tokenizer decodes)."""
        return str(self._tokenizer.decode(list(ids), skip_special_tokens=False))

    def to_str(self) -> str:
        """The tokenizer as ``tokenizer.json`` text (no truncation or padding settings)."""
        with self._lock:
            self._tokenizer.no_truncation()
            self._tokenizer.no_padding()
            return str(self._tokenizer.to_str())


_CACHE: dict[str, SharedTokenizer] = {}
_CACHE_LOCK = threading.Lock()


def load_tokenizer(path: Path) -> SharedTokenizer:
    """The tokenizer saved at ``path`` (a ``tokenizer.json``), loaded once per content."""
    from tokenizers import Tokenizer

    # Keyed by content, not path: the embedder's export keeps its own copy of the model's file.
    digest = offline_model.sha256_file(path)
    with _CACHE_LOCK:
        if digest not in _CACHE:
            _CACHE[digest] = SharedTokenizer(Tokenizer.from_file(str(path)))
        return _CACHE[digest]
