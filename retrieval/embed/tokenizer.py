"""Tokenizers for the ONNX paths: one per file content, shared, and quick to start.

The embedder and the reader tokenize with the same 250k-piece XLM-R tokenizer. Loading it
(``tokenizers`` builds a trie of every piece) takes 0.5-1 s, a third of a cold ``newsqa ask``
that then tokenizes one question and three passages. So a Unigram tokenizer starts *small*:
for each call, the pieces that occur as substrings of the call's normalised words are looked
up in a table of all pieces read by first character (``_Vocabulary``), and a
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

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..wordtables import WordTable, open_table
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
                text = vocabulary.decode(ids)
                if text is not None:
                    return text
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
        table = vocabulary.pieces_in(texts)
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
    """The pieces and scores of a Unigram ``tokenizer.json``, read by first character as texts
    need them (a ``WordTable``: building a dict of all 250k pieces took ~0.15 s), and that
    tokenizer without its pieces (the "skeleton": normaliser, pre-tokenizer, template)."""

    def __init__(self, table: WordTable) -> None:
        extra = table.extra
        self._pieces = table  # piece -> (id, score)
        self.size: int = extra["size"]
        self.longest: int = extra["longest"]
        self.unk_id: int = extra["unk_id"]
        # Always in a small model: the added tokens' pieces keep their ids at the front (the
        # post-processor and padding use them), and the lowest score, which sets the unknown
        # piece's score.
        self.keep: dict[int, tuple[str, float]] = {i: (p, sc) for i, p, sc in extra["keep"]}
        self.added: list[str] = extra["added"]
        self._known = dict(self.keep)  # id -> (piece, score) of every piece read so far
        from tokenizers import Tokenizer

        self._skeleton = Tokenizer.from_str(extra["skeleton"])
        self._normalize = self._skeleton.normalizer.normalize_str
        self._split = self._skeleton.pre_tokenizer.pre_tokenize_str

    @classmethod
    def load(cls, path: Path) -> _Vocabulary | None:
        """The vocabulary of the tokenizer at ``path`` (derived once, then cached); None when
        it is not a Unigram tokenizer of the kind this handles."""
        table = open_table(f"tokenizer-pieces-v{_VOCAB_FORMAT}", path, lambda: _derive(path))
        return cls(table) if table.extra is not None else None

    def special(self, text: str) -> bool:
        return any(token in text for token in self.added)

    def pieces_in(self, texts: list[str]) -> list[int]:
        """Full-vocabulary ids of a small model's pieces, in order (the small model's ids are
        their positions): every piece that is a substring of a normalised, pre-tokenised word
        of ``texts`` (all Unigram's search can use on them), and ``keep``."""
        longest, found, known = self.longest, set(self.keep), self._known
        entries = self._pieces.entries
        for text in texts:
            for word, _ in self._split(self._normalize(text)):
                self._pieces.load(word)
                n = len(word)
                for i in range(n):
                    for j in range(i + 1, min(n, i + longest) + 1):
                        piece = word[i:j]
                        entry = entries.get(piece)
                        if entry is not None:
                            found.add(entry[0])
                            known[entry[0]] = (piece, entry[1])
        return sorted(found)

    def decode(self, ids: Sequence[int]) -> str | None:
        """What Tokenizer.decode does when no token is skipped (ids to pieces, then the
        decoder); None when an id's piece has not been read (the full tokenizer decodes)."""
        if any(i not in self._known for i in ids):
            return None
        return str(self._skeleton.decoder.decode([self._known[i][0] for i in ids]))

    def tokenizer(self, table: list[int]) -> Any:
        from tokenizers import models

        self._skeleton.model = models.Unigram(
            [self._known[i] for i in table], unk_id=table.index(self.unk_id),
            byte_fallback=False)
        return self._skeleton


def _derive(path: Path) -> tuple[dict[str, tuple[int, float]], dict[str, Any] | None]:
    """piece -> (id, score) and what else a small model needs; ({}, None) when the
    tokenizer is not a Unigram one whose added tokens this can keep numbered."""
    data = json.loads(path.read_text(encoding="utf-8"))
    model = data.get("model") or {}
    added = data.get("added_tokens") or []
    vocab = model.get("vocab")
    if model.get("type") != "Unigram" or model.get("byte_fallback") or not vocab:
        return {}, None
    added_ids = sorted(int(t["id"]) for t in added)
    # Added tokens' ids must be the small model's too: those at the front of the vocabulary
    # (<s> <pad> </s> <unk>) are, as positions 0..k in every table; an added token further on
    # (<mask>) is only ever produced by the added vocabulary, past the small model's ids.
    front = [i for i in added_ids if i < len(added_ids)]
    if front != list(range(len(front))) or any(
            not (i in front or i >= len(vocab) - len(added_ids)) for i in added_ids):
        return {}, None
    lowest = min(range(len(vocab)), key=lambda i: vocab[i][1])
    unk_id = int(model.get("unk_id", 0))
    skeleton = dict(data, model={**model, "vocab": [vocab[i] for i in front]})
    entries = {str(p): (i, float(sc)) for i, (p, sc) in enumerate(vocab)}
    return entries, {
        "size": len(vocab),
        "longest": max(len(p) for p, _ in vocab),
        "unk_id": unk_id,
        "keep": [(i, str(vocab[i][0]), float(vocab[i][1]))
                 for i in sorted({*front, lowest, unk_id})],
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
