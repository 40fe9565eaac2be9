"""Word tables read by first character: jieba's dictionary and IDF table, loaded as needed.

A cold ``newsqa ask`` spent ~0.45 s unmarshalling jieba's 580k-entry prefix dictionary and
~0.2 s parsing its IDF table, to look up the few dozen words one question holds. Every lookup
either table gets is a word (or, for jieba, a prefix of a word) that starts at a character of
the text at hand, so the tables are stored split by first character, and a text loads only
the buckets of the characters it contains. The first use builds the file (~1-2 s) in the
cache directory; every later process opens it in milliseconds.

jieba stays the segmenter: ``install`` hands a ``jieba.Tokenizer`` its dictionary this way
and segmentation is the same, word for word (tests/test_wordtables.py checks it against
jieba's own loading). Nothing here is a second segmenter or a copy of jieba's code.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import struct
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jieba

__all__ = ["WordTable", "install", "open_table"]

_MAGIC = b"NQWT0001"
_HEAD = struct.Struct("<8sQ")  # magic, length of the marshalled (extra, {char: (offset, size)})

Entries = dict[str, Any]


class WordTable:
    """A table keyed by words whose entries are read one first character at a time.

    ``entries`` holds what has been read so far (jieba uses it as its dictionary); ``extra``
    is what the table was built with besides its entries (jieba's frequency total, the IDF
    median).
    """

    def __init__(self, read: Callable[[str], Entries | None], extra: Any) -> None:
        self._read = read
        self.extra = extra
        self.entries: Entries = {}
        self._read_chars: set[str] = set()
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: Path) -> WordTable:
        with path.open("rb") as f:
            magic, size = _HEAD.unpack(f.read(_HEAD.size))
            if magic != _MAGIC:
                raise ValueError(f"{path} is not a newsqa word table")
            extra, where = marshal.loads(f.read(size))
        start = _HEAD.size + size

        def read(char: str) -> Entries | None:
            place = where.get(char)
            if place is None:
                return None
            with path.open("rb") as f:
                f.seek(start + place[0])
                return dict(marshal.loads(f.read(place[1])))

        return cls(read, extra)

    @classmethod
    def in_memory(cls, entries: Entries, extra: Any) -> WordTable:
        return cls(_buckets(entries).get, extra)

    def load(self, text: Iterable[str]) -> None:
        """Read the entries of every word starting with a character of ``text``, once.

        Keys already in ``entries`` keep their value: what the owner set wins over the file.
        """
        with self._lock:
            for char in set(text) - self._read_chars:
                bucket = self._read(char)
                if bucket:
                    entries = self.entries
                    for word, value in bucket.items():
                        if word not in entries:
                            entries[word] = value
                self._read_chars.add(char)

    def get(self, word: str, default: Any = None) -> Any:
        """The entry of ``word`` (``default`` when the table has none)."""
        if not word:
            return default
        if word[0] not in self._read_chars:
            self.load(word[0])
        return self.entries.get(word, default)


def _buckets(entries: Entries) -> dict[str, Entries]:
    buckets: dict[str, Entries] = {}
    for word, value in entries.items():
        if word:
            buckets.setdefault(word[0], {})[word] = value
    return buckets


def _write(path: Path, entries: Entries, extra: Any) -> None:
    blobs, where, offset = [], {}, 0
    for char, bucket in _buckets(entries).items():
        blob = marshal.dumps(bucket)
        where[char] = (offset, len(blob))
        blobs.append(blob)
        offset += len(blob)
    head = marshal.dumps((extra, where))
    _write_atomically(path, [_HEAD.pack(_MAGIC, len(head)), head, *blobs])


def _derived_path(name: str, source: Path) -> Path:
    """Where a file derived from ``source`` is cached: named after the source's path, size
    and modification time, so an edited source is derived again."""
    from .embed.offline_model import cache_root

    stat = source.stat()
    key = hashlib.sha256(
        f"{_MAGIC.decode()}|{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()
    ).hexdigest()[:16]
    return cache_root() / "wordtables" / f"{name}-{key}.bin"


def _write_atomically(path: Path, chunks: Iterable[bytes]) -> None:
    """Write ``chunks`` to ``path`` whole or not at all (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, staging = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
        os.chmod(staging, 0o644)  # mkstemp makes it 0600; the cache's other files are 0644
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


def open_table(
    name: str, source: Path, make: Callable[[], tuple[Entries, Any]]
) -> WordTable:
    """The table built by ``make()`` from ``source``, cached under the cache directory.

    The cache file is named after the source's path, size and modification time, so an edited
    source is read again. When the cache directory cannot be written, the table is built in
    memory for this process only (slower to start, same lookups).
    """
    path = _derived_path(name, source)
    try:
        return WordTable.from_file(path)
    except (OSError, ValueError, EOFError, struct.error):
        pass
    entries, extra = make()
    try:
        _write(path, entries, extra)
    except OSError:
        return WordTable.in_memory(entries, extra)
    return WordTable.from_file(path)


def install(tokenizer: jieba.Tokenizer) -> None:
    """Give ``tokenizer`` its dictionary by first character instead of loading it whole.

    jieba looks words up only in ``get_DAG`` (every way of cutting goes through it) and in
    code that runs after it on the same text, plus ``add_word`` (user dictionaries): those two
    first read the buckets of the text's characters into ``tokenizer.FREQ``, so every lookup
    jieba makes finds what its own loading would have put there. A tokenizer already loaded
    is left alone.
    """
    import jieba as jieba_module

    with tokenizer.lock:
        if tokenizer.initialized:
            return
        if tokenizer.dictionary is None:  # jieba's own dictionary, inside the package
            source = Path(jieba_module.__file__).parent / jieba_module.DEFAULT_DICT_NAME
        else:
            source = Path(tokenizer.dictionary)
        table = open_table("jieba-dict", source,
                           lambda: jieba_module.Tokenizer.gen_pfdict(tokenizer.get_dict_file()))
        get_dag, add_word = tokenizer.get_DAG, tokenizer.add_word

        def lazy_get_dag(sentence: str) -> dict[int, list[int]]:
            table.load(sentence)
            return get_dag(sentence)

        def lazy_add_word(word: str, freq: int | None = None, tag: str | None = None) -> None:
            table.load(jieba_module.strdecode(word))
            add_word(word, freq, tag)

        tokenizer.FREQ, tokenizer.total = table.entries, table.extra
        tokenizer.get_DAG = lazy_get_dag
        tokenizer.add_word = lazy_add_word
        tokenizer.initialized = True
