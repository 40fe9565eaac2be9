"""Search normalisation and word segmentation, applied identically to indexed text and queries.

Readers type traditional or simplified characters, full-width or half-width digits, upper or
lower case; the archive is stored as printed. Both sides are folded to one form before matching
(``normalize_for_search``), and Chinese is segmented into words with jieba before lexical
indexing (``tokenize_for_search``). Originals are never modified: this is for matching only, and
the folding is NOT length-preserving, so never use its offsets against the original text.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from . import wordtables

if TYPE_CHECKING:
    import jieba

# Recorded in every index manifest: change it whenever the folding below changes, because an
# index built with another normalisation would silently miss matches.
NORMALIZATION = "nfkc+opencc-t2s+lower"

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _t2s():  # -> opencc.OpenCC; imported lazily so `newsqa --help` stays instant
    import opencc

    return opencc.OpenCC("t2s")


def normalize_for_search(text: str) -> str:
    """Fold width (NFKC), script (traditional → simplified) and case for matching."""
    # NFKC first: it maps full-width ASCII and CJK compatibility ideographs to the forms
    # OpenCC's dictionaries are keyed on.
    folded = unicodedata.normalize("NFKC", text)
    return _t2s().convert(folded).lower()


def user_dict_fingerprint(path: str | Path) -> dict[str, str]:
    """Identity of a jieba user dictionary as recorded in the manifest (path + sha256)."""
    resolved = Path(path).expanduser().resolve()
    stat = resolved.stat()
    return {"path": str(resolved), "sha256": _digest(str(resolved), stat.st_mtime_ns, stat.st_size)}


@lru_cache(maxsize=16)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    # Keyed on mtime and size so tokenising many chunks hashes the file once, yet an edited
    # dictionary is noticed.
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _tokenizer(user_dict: str | None, digest: str | None) -> jieba.Tokenizer:
    # One jieba.Tokenizer per (dictionary, content hash): loading a user dictionary mutates the
    # tokenizer, so queries without it must not share an instance with it. The digest is part
    # of the key so an edited dictionary file is reloaded.
    key = (user_dict, digest)
    with _lock:
        cached = _TOKENIZERS.get(key)
        if cached is not None:
            return cached
        jieba = jieba_module()
        # Without a user dictionary, jieba's default tokenizer (which question analysis and
        # the tagger use too) segments the same way; sharing it saves reading buckets twice.
        tokenizer = jieba.dt if user_dict is None else jieba.Tokenizer()
        wordtables.install(tokenizer)
        if user_dict is not None:
            tokenizer.load_userdict(user_dict)
        _TOKENIZERS[key] = tokenizer
        return tokenizer


_TOKENIZERS: dict[tuple[str | None, str | None], jieba.Tokenizer] = {}


@lru_cache(maxsize=1)
def jieba_module() -> ModuleType:
    """``jieba``, quiet, its default tokenizer reading its dictionary by first character.

    Every use of jieba in newsqa goes through here, so none of them makes jieba load its whole
    dictionary (~0.45 s of a cold ``newsqa ask``; see ``retrieval/wordtables.py``).
    """
    import jieba

    # jieba announces dictionary loading on stderr at DEBUG level; the CLI must stay quiet.
    jieba.setLogLevel(logging.WARNING)
    wordtables.install(jieba.dt)
    return jieba


def _is_word(token: str) -> bool:
    """True when the token has at least one letter or digit (drops punctuation and spaces)."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in token)


# Function and question words dropped from lexical QUERIES (never from indexed text): their
# BM25 weight is near zero anyway, but their posting lists cover most chunks, so matching them
# dominated lexical search time.
QUERY_STOPWORDS = frozenset({
    "的", "了", "是", "在", "和", "与", "及", "或", "有", "被", "把", "对",
    "于", "从", "也", "都", "就", "而", "之", "其", "这", "那", "这个", "那个",
    "个", "一个", "中", "上", "什么", "哪", "哪里", "哪儿", "哪个", "哪些", "哪一", "谁",
    "几", "多少", "怎么", "怎样", "怎么样", "如何", "为什么", "为何", "吗", "呢", "吧", "啊",
    "请问", "请", "我", "你", "他", "她", "它", "我们", "你们", "他们", "是否", "是不是",
    "有没有", "会", "能", "要",
})


def query_words(text: str, *, user_dict: str | Path | None = None) -> list[str]:
    """Distinct search words of a query without ``QUERY_STOPWORDS`` (kept if nothing else)."""
    words = list(dict.fromkeys(tokenize_for_search(text, user_dict=user_dict)))
    content = [w for w in words if w not in QUERY_STOPWORDS]
    return content or words


def tokenize_for_search(text: str, *, user_dict: str | Path | None = None) -> list[str]:
    """Normalise then segment with jieba's search mode (words plus their sub-words, for recall).

    ``user_dict`` is a jieba user dictionary (one ``word [freq] [tag]`` per line); the index
    records which one it was built with and passes it here for queries too.
    """
    path: str | None = None
    digest: str | None = None
    if user_dict is not None:
        fingerprint = user_dict_fingerprint(user_dict)
        path, digest = fingerprint["path"], fingerprint["sha256"]
    tokenizer = _tokenizer(path, digest)
    return [tok for tok in tokenizer.cut_for_search(normalize_for_search(text)) if _is_word(tok)]
