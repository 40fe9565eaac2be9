"""Tokenizers for the ONNX paths: one per file content, shared, and quick to start.

The embedder and the reader tokenize with the same 250k-piece XLM-R tokenizer. Loading it
(``tokenizers`` builds a trie of every piece) takes 0.5-1 s, a third of a cold ``newsqa ask``
that then tokenizes one question and three passages. So a Unigram tokenizer starts *small*:
for each call, the pieces that occur as substrings of the call's normalised words are looked
up in a table of all pieces (``_Vocabulary``, a marshal file cached beside the models), and a
``tokenizers`` Unigram model of just those pieces does the work, ids mapped back to the full
vocabulary's. Unigram's Viterbi search only ever considers pieces that match the text, and the
unknown-piece score depends only on the lowest piece score (kept in every small model), so the
result is the full tokenizer's, id for id and offset for offset (tests/test_tokenizer.py
checks it). After ``FULL_AFTER`` texts (an ingest, a bot answering all day) or ``load_all``,
the full tokenizer is loaded and used from then on.

Truncation and padding are settings of the ``tokenizers.Tokenizer`` object, so every call sets
its own under the tokenizer's lock instead of relying on what the previous caller left.
"""

from __future__ import annotations

import contextlib
import json
import marshal
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import offline_model

__all__ = ["SharedTokenizer", "load_all", "load_tokenizer"]

FULL_AFTER = 64  # texts tokenised small before the full tokenizer is worth its load
_VOCAB_FORMAT = 1


class SharedTokenizer:
    """A tokenizer whose callers each say how to truncate and pad.

    Built on a loaded ``tokenizers.Tokenizer``, or on the ``tokenizer.json`` at ``path``, which
    is then loaded whole only once it pays (see the module doc).
    """

    def __init__(self, tokenizer: Any = None, *, path: Path | None = None) -> None:
        if tokenizer is None and path is None:
            raise ValueError("SharedTokenizer needs a tokenizer or the path of one")
        self._tokenizer = tokenizer
        self._path = path
        self._vocabulary = _Vocabulary.load(path) if tokenizer is None and path else None
        self._texts = 0
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
        """Encodings (``ids``, ``attention_mask``, ``type_ids``, ``offsets``, ``sequence_ids``,
        ``overflowing``); ``max_length`` None: no truncation; ``pad_id`` None: no padding.

        With ``pad_id`` set, a batch is padded to its longest input (what a Hugging Face
        tokenizer does with ``padding=True``).
        """
        texts = [t for item in inputs for t in ((item,) if isinstance(item, str) else item)]
        with self._lock:
            small = self._small(texts)
            if small is not None:
                tokenizer, table = small
            else:
                tokenizer, table = self._whole(), None
            if max_length is None:
                tokenizer.no_truncation()
            else:
                tokenizer.enable_truncation(max_length, stride=stride, strategy=strategy)
            if pad_id is None:
                tokenizer.no_padding()
            else:
                tokenizer.enable_padding(direction=padding_side, pad_id=pad_id,
                                         pad_token=pad_token)
            encodings = tokenizer.encode_batch(list(inputs), add_special_tokens=add_special_tokens)
        if table is None:
            return list(encodings)
        return [_Encoding(e, table) for e in encodings]

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids``, special tokens included (as a Hugging Face tokenizer decodes)."""
        with self._lock:
            vocabulary = self._vocabulary
            if self._tokenizer is None and vocabulary is not None:
                return vocabulary.decode(ids)
            return str(self._whole().decode(list(ids), skip_special_tokens=False))

    def to_str(self) -> str:
        """The tokenizer as ``tokenizer.json`` text (no truncation or padding settings)."""
        with self._lock:
            tokenizer = self._whole()
            tokenizer.no_truncation()
            tokenizer.no_padding()
            return str(tokenizer.to_str())

    def load_whole(self) -> None:
        """Load the full tokenizer now (a server's warm-up), not on a later call."""
        with self._lock:
            self._whole()

    def _whole(self) -> Any:
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            self._tokenizer = Tokenizer.from_file(str(self._path))
            self._vocabulary = None
        return self._tokenizer

    def _small(self, texts: list[str]) -> tuple[Any, list[int]] | None:
        """A tokenizer of the pieces ``texts`` can use and its ids' full-vocabulary ids; None
        when the full tokenizer is loaded, due, or needed (texts holding a special token)."""
        vocabulary = self._vocabulary
        if self._tokenizer is not None or vocabulary is None:
            return None
        self._texts += len(texts)
        if self._texts > FULL_AFTER or any(vocabulary.special(t) for t in texts):
            return None
        table = vocabulary.table(vocabulary.pieces_in(texts))
        return vocabulary.tokenizer(table), table


class _Encoding:
    """What newsqa reads of a ``tokenizers.Encoding``, with full-vocabulary ids."""

    __slots__ = ("attention_mask", "ids", "offsets", "overflowing", "sequence_ids", "type_ids")

    def __init__(self, encoding: Any, table: list[int]) -> None:
        n = len(table)
        # Ids past the small model's are added tokens', which the small tokenizer keeps as
        # the full one numbers them.
        self.ids = [table[i] if i < n else i for i in encoding.ids]
        self.attention_mask = encoding.attention_mask
        self.type_ids = encoding.type_ids
        self.offsets = encoding.offsets
        self.sequence_ids = encoding.sequence_ids
        self.overflowing = [_Encoding(o, table) for o in encoding.overflowing]


class _Vocabulary:
    """Every piece and score of a Unigram ``tokenizer.json``, and that tokenizer without them."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.pieces: list[str] = data["pieces"]
        self.scores: list[float] = data["scores"]
        self.ids = {piece: i for i, piece in enumerate(self.pieces)}
        self.longest: int = data["longest"]
        self.unk_id: int = data["unk_id"]
        # Always in a small model: the added tokens' pieces keep their ids at the front (the
        # post-processor and padding use them) and the lowest score sets the unknown's score.
        self.keep: list[int] = data["keep"]
        self.added: list[str] = data["added"]
        from tokenizers import Tokenizer

        self._skeleton = Tokenizer.from_str(data["skeleton"])
        self._normalize = self._skeleton.normalizer.normalize_str
        self._split = self._skeleton.pre_tokenizer.pre_tokenize_str

    @classmethod
    def load(cls, path: Path) -> _Vocabulary | None:
        """The vocabulary of the tokenizer at ``path`` (derived once, then cached); None when
        it is not a Unigram tokenizer of the kind this handles."""
        from ..wordtables import derived_path, write_atomically

        cache = derived_path("tokenizer-vocabulary", path)
        try:
            fmt, data = marshal.loads(cache.read_bytes())
            if fmt == _VOCAB_FORMAT:
                return cls(data) if data is not None else None
        except (OSError, ValueError, EOFError, TypeError):
            pass
        data = _derive(path)
        with contextlib.suppress(OSError):  # an unwritable cache: derive again next time
            write_atomically(cache, [marshal.dumps((_VOCAB_FORMAT, data))])
        return cls(data) if data is not None else None

    def special(self, text: str) -> bool:
        return any(token in text for token in self.added)

    def pieces_in(self, texts: list[str]) -> set[int]:
        """Ids of every piece that is a substring of a normalised, pre-tokenised word of
        ``texts``: all Unigram's search can use on them."""
        ids, longest, found = self.ids, self.longest, set()
        for text in texts:
            for word, _ in self._split(self._normalize(text)):
                n = len(word)
                for i in range(n):
                    for j in range(i + 1, min(n, i + longest) + 1):
                        k = ids.get(word[i:j])
                        if k is not None:
                            found.add(k)
        return found

    def table(self, ids: Any) -> list[int]:
        """Full-vocabulary ids of a small model's pieces, in order (theirs are positions)."""
        return sorted({*self.keep, *(i for i in ids if 0 <= i < len(self.pieces))})

    def decode(self, ids: Sequence[int]) -> str:
        # What Tokenizer.decode does when no token is skipped: ids to pieces, then the decoder.
        return str(self._skeleton.decoder.decode([self.pieces[i] for i in ids]))

    def tokenizer(self, table: list[int]) -> Any:
        from tokenizers import models

        self._skeleton.model = models.Unigram(
            [(self.pieces[i], self.scores[i]) for i in table],
            unk_id=table.index(self.unk_id), byte_fallback=False)
        return self._skeleton


def _derive(path: Path) -> dict[str, Any] | None:
    data = json.loads(path.read_text(encoding="utf-8"))
    model = data.get("model") or {}
    added = data.get("added_tokens") or []
    vocab = model.get("vocab")
    if model.get("type") != "Unigram" or model.get("byte_fallback") or not vocab:
        return None
    added_ids = sorted(int(t["id"]) for t in added)
    # Added tokens' ids must be the small model's too: those at the front of the vocabulary
    # (<s> <pad> </s> <unk>) are, as positions 0..k in every table; an added token further on
    # (<mask>) is only ever produced by the added vocabulary, past the small model's ids.
    front = [i for i in added_ids if i < len(added_ids)]
    if front != list(range(len(front))) or any(
            not (i in front or i >= len(vocab) - len(added_ids)) for i in added_ids):
        return None
    lowest = min(range(len(vocab)), key=lambda i: vocab[i][1])
    skeleton = dict(data, model={**model, "vocab": [vocab[i] for i in front]})
    return {
        "pieces": [str(p) for p, _ in vocab],
        "scores": [float(s) for _, s in vocab],
        "longest": max(len(p) for p, _ in vocab),
        "unk_id": int(model.get("unk_id", 0)),
        "keep": sorted({*front, lowest, int(model.get("unk_id", 0))}),
        "added": [str(t["content"]) for t in added],
        "skeleton": json.dumps(skeleton, ensure_ascii=False),
    }


_CACHE: dict[str, SharedTokenizer] = {}
_CACHE_LOCK = threading.Lock()


def load_tokenizer(path: Path) -> SharedTokenizer:
    """The tokenizer saved at ``path`` (a ``tokenizer.json``), one per content."""
    # Keyed by content, not path: the embedder's export keeps its own copy of the model's file.
    digest = offline_model.sha256_file(path)
    with _CACHE_LOCK:
        if digest not in _CACHE:
            _CACHE[digest] = SharedTokenizer(path=path)
        return _CACHE[digest]


def load_all() -> None:
    """Load every tokenizer opened so far in full (a long-running process's warm-up)."""
    with _CACHE_LOCK:
        tokenizers = list(_CACHE.values())
    for tokenizer in tokenizers:
        tokenizer.load_whole()
