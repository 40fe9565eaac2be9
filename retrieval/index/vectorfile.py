"""The vectors file's own framing, readable without FAISS (``newsqa check --quick``, backups).

``vectors.faiss`` is FAISS's serialised index, then the ids of its vectors whose chunks are gone
from the database (HNSW cannot remove a vector; int64, little-endian), then a trailer: magic,
the database generation it reflects, the payload's length, crc32 of payload and ids, and how
many ids. Files written before 2026-11-28 d ("NQVEC001") have magic, generation, length and
crc32 in a header in front and no ids (they are then recomputed from the database).
"""

from __future__ import annotations

import contextlib
import os
import struct
import zlib
from pathlib import Path

VECTORS_NAME = "vectors.faiss"
_MAGIC = b"NQVEC002"
_MAGIC_HEADER = b"NQVEC001"
_FIELDS = struct.Struct("<8sqQI")  # NQVEC001's header: magic, generation, length, crc32
_TRAILER = struct.Struct("<8sqQIQ")  # magic, generation, payload length, crc32, dead ids
_BLOCK = 1 << 24


def trailer(generation: int, length: int, crc: int, dead: int) -> bytes:
    """What follows a payload of ``length`` bytes and ``dead`` ids (crc32 over both)."""
    return _TRAILER.pack(_MAGIC, generation, length, crc, dead)


class VectorFile:
    """One version of the vectors file, held open: a later read sees the same bytes even
    after a save has renamed a newer file over it."""

    def __init__(self, path: Path, fd: int, generation: int, offset: int, length: int,
                 crc: int, dead: int | None) -> None:
        self.path, self.fd, self.generation = path, fd, generation
        self.offset, self.length, self.crc = offset, length, crc
        # How many dead ids follow the payload; None: not recorded (the old layout), and
        # FAISS's bytes do not start the file, so FAISS cannot map it either.
        self.dead = dead

    @property
    def mappable(self) -> bool:
        return self.dead is not None

    @classmethod
    def open(cls, path: Path) -> VectorFile | None:
        """The file at ``path``; None when it is torn or not a vectors file (OSError when it
        cannot be opened)."""
        fd = os.open(path, os.O_RDONLY)
        try:
            size = os.fstat(fd).st_size
            if size >= _TRAILER.size:
                magic, generation, length, crc, dead = _TRAILER.unpack(
                    os.pread(fd, _TRAILER.size, size - _TRAILER.size))
                if magic == _MAGIC and length + 8 * dead == size - _TRAILER.size:
                    return cls(path, fd, generation, 0, length, crc, dead)
            if size >= _FIELDS.size:
                magic, generation, length, crc = _FIELDS.unpack(os.pread(fd, _FIELDS.size, 0))
                if magic == _MAGIC_HEADER and length == size - _FIELDS.size:
                    return cls(path, fd, generation, _FIELDS.size, length, crc, None)
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
        return None

    def dead_ids(self) -> bytes:
        """The recorded dead ids, int64 little-endian (b"" when none or not recorded)."""
        return os.pread(self.fd, 8 * (self.dead or 0), self.offset + self.length)

    def pread(self, start: int, n: int) -> bytes:
        """Up to ``n`` payload bytes from ``start``."""
        return os.pread(self.fd, max(0, min(n, self.length - start)), self.offset + start)

    def intact(self) -> bool:
        """Payload and dead ids match their crc32 (read through once, in blocks)."""
        crc = 0
        for start in range(0, self.length, _BLOCK):
            crc = zlib.crc32(self.pread(start, _BLOCK), crc)
        return zlib.crc32(self.dead_ids(), crc) == self.crc

    def close(self) -> None:
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1


def read_generation(path: Path) -> int | None:
    """The database generation a vectors file records (None: missing or not one)."""
    try:
        file = VectorFile.open(path)
    except OSError:
        return None
    if file is None:
        return None
    file.close()
    return file.generation
