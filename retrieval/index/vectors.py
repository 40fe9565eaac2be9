"""The FAISS side: an id-mapped inner-product index whose ids are SQLite chunk rowids.

Exact search (``IndexFlatIP``) until the index outgrows ``hnsw_threshold`` chunks, then HNSW.
The file is a cache of vectors stored in SQLite: it records the database generation it reflects,
and ``sync`` reconciles it with the database by id (adds missing vectors, drops extra ones), which
is how a file left behind by a crash, or a reader's copy after someone else's ingest, catches up.

HNSW cannot remove vectors; ids that are in the graph but no longer in the database are
excluded at search time with an ``IDSelector`` and the graph is rebuilt once they exceed
``REBUILD_DEAD_FRACTION``. Deleted chunks are therefore never returned by either kind.

The file is FAISS's own format followed by a trailer (magic, generation, payload length,
crc32), so FAISS can memory-map it: opening an index maps the vectors instead of reading them
(1.5 GB at a million chunks took seconds to read and checksum on every cold ``newsqa ask``).
A mapped index is read-only; the first write in a process reads the file whole, crc checked,
into memory it owns (``own``). ``newsqa check`` reads it whole too. Files written before the
trailer (a header in front, "NQVEC001") are read whole, and the next save writes the new form.
"""

from __future__ import annotations

import contextlib
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from .files import atomic_write, crash_here, write_all
from .vectorfile import VECTORS_NAME, VectorFile, trailer

_READ_BLOCK = 1 << 24
REBUILD_DEAD_FRACTION = 0.1

# Bulk work (adding, batch search) uses up to 4 cores. A handful of queries runs on ONE thread:
# measured on 2 shared cores, OpenMP's spinning workers made a single 100k-vector query 2.5x
# slower with 2 threads than with 1 (95 vs 248 ms) while torch's own pool was busy.
BULK_THREADS = max(1, min(os.cpu_count() or 1, 4))
SMALL_QUERY_BATCH = 8
faiss.omp_set_num_threads(BULK_THREADS)


@dataclass(frozen=True, slots=True)
class VectorConfig:
    hnsw_threshold: int = 200_000  # chunks; exact search below, HNSW from here on
    hnsw_m: int = 32
    # Measured on archive-like vectors (bench/search_latency.py --vectors real-like): at 1M,
    # efConstruction 80 reached recall@10 0.90 (0.92 at efSearch 512); 200 reaches 0.996 at
    # efSearch 256 for ~1.6 ms a query, at the price of a 2.4x slower one-off build.
    ef_construction: int = 200
    ef_search: int = 256

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VectorConfig:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


class VectorIndex:
    def __init__(self, dimension: int, config: VectorConfig, *, kind: str = "flat") -> None:
        self.dimension = dimension
        self.config = config
        self.kind = kind
        self.generation = -1  # database generation this reflects; -1 = none yet
        self.index = self._empty(kind)
        self._dead = np.empty(0, dtype=np.int64)  # HNSW only: ids gone from the database
        self._dead_selector: Any = None
        self._mapped: VectorFile | None = None  # set while ``index`` is a read-only file mapping
        # The dead ids came with the file at ``generation`` (else the database must say them).
        self.dead_known = False

    def _empty(self, kind: str) -> faiss.IndexIDMap2:
        inner: Any
        if kind == "hnsw":
            inner = faiss.IndexHNSWFlat(
                self.dimension, self.config.hnsw_m, faiss.METRIC_INNER_PRODUCT
            )
            inner.hnsw.efConstruction = self.config.ef_construction
        else:
            inner = faiss.IndexFlatIP(self.dimension)
        index = faiss.IndexIDMap2(inner)
        self._inner = inner  # the wrapper does not own `inner`: keep it alive alongside
        return index

    # -- contents ----------------------------------------------------------------------------

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    def ids(self) -> np.ndarray:
        return faiss.vector_to_array(self.index.id_map).astype(np.int64, copy=False)

    def add(self, ids: np.ndarray | list[int], vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        self.own()
        self.index.add_with_ids(
            np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64)
        )

    def remove(self, ids: np.ndarray | list[int]) -> None:
        if len(ids) == 0:
            return
        ids = np.asarray(ids, dtype=np.int64)
        if self.kind == "flat":
            self.own()
            self.index.remove_ids(faiss.IDSelectorBatch(ids))
        else:
            self._set_dead(np.union1d(self._dead, ids))

    def _set_dead(self, dead: np.ndarray) -> None:
        self._dead = dead
        self._dead_selector = (
            faiss.IDSelectorNot(faiss.IDSelectorBatch(dead)) if len(dead) else None
        )

    @property
    def live(self) -> int:
        return self.ntotal - len(self._dead)

    def sync(
        self, db_ids: np.ndarray, fetch: Callable[[np.ndarray], np.ndarray], generation: int
    ) -> bool:
        """Make the contents equal the database's ``db_ids``; True if anything changed."""
        have = self.ids()
        missing = np.setdiff1d(db_ids, have, assume_unique=True)
        extra = np.setdiff1d(have, db_ids, assume_unique=True)
        changed = bool(len(missing)) or not np.array_equal(extra, self._dead)
        for start in range(0, len(missing), 20_000):  # bounded memory while catching up
            part = missing[start : start + 20_000]
            self.add(part, fetch(part))
        if self.kind == "flat":
            self.remove(extra)
        else:
            self._set_dead(extra)
        self.generation = generation
        self.dead_known = True
        return changed

    def needs_rebuild(self) -> str | None:
        """The kind this index should be rebuilt as, or None when it is fine as it is."""
        if self.kind == "flat" and self.live >= self.config.hnsw_threshold:
            return "hnsw"
        if self.kind == "hnsw" and len(self._dead) > REBUILD_DEAD_FRACTION * max(self.ntotal, 1):
            return "hnsw"
        return None

    def rebuild(
        self, kind: str, db_ids: np.ndarray, fetch: Callable[[np.ndarray], np.ndarray]
    ) -> None:
        self.kind = kind
        self.index = self._empty(kind)
        self._mapped = None
        self._set_dead(np.empty(0, dtype=np.int64))
        self.sync(db_ids, fetch, self.generation)

    # -- search ------------------------------------------------------------------------------

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (scores, ids) per query row; ids are -1 where fewer exist.

        ``allowed`` restricts the search to those ids (date filters).
        """
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        selector: Any = self._dead_selector
        if allowed is not None:
            if self.kind == "hnsw" and len(self._dead):
                allowed = np.setdiff1d(allowed, self._dead)
            selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
        if self.kind == "hnsw":
            # faiss's generated type hints lack the search-parameter classes' keywords.
            params: Any = faiss.SearchParametersHNSW(  # type: ignore[attr-defined]
                efSearch=max(self.config.ef_search, k))
            if selector is not None:
                params.sel = selector
        else:
            params = (faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
                      if selector is not None else None)
        if self.ntotal == 0 or k <= 0:
            return (
                np.zeros((len(queries), max(k, 0)), dtype=np.float32),
                np.full((len(queries), max(k, 0)), -1, dtype=np.int64),
            )
        if len(queries) >= SMALL_QUERY_BATCH:
            return self.index.search(queries, k, params=params)
        faiss.omp_set_num_threads(1)
        try:
            return self.index.search(queries, k, params=params)
        finally:
            faiss.omp_set_num_threads(BULK_THREADS)

    # -- persistence -------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        crc, length, torn = 0, 0, False

        def write(fd: int) -> None:
            def chunk(data: bytes) -> None:
                nonlocal crc, length, torn
                write_all(fd, data)
                crc, length = zlib.crc32(data, crc), length + len(data)
                if not torn:
                    torn = True
                    crash_here("mid-faiss-save")  # test hook: a torn temp file must not matter

            # Streamed in blocks: no second copy of the vectors in memory while saving.
            faiss.write_index(self.index,
                              faiss.PyCallbackIOWriter(chunk, _READ_BLOCK))  # type: ignore[attr-defined]
            payload = length
            dead = self._dead.astype("<i8").tobytes()
            chunk(dead)
            write_all(fd, trailer(self.generation, payload, crc, len(self._dead)))

        atomic_write(directory / VECTORS_NAME, write)

    @classmethod
    def load(
        cls, directory: Path, dimension: int, config: VectorConfig, *, mapped: bool = True
    ) -> VectorIndex | None:
        """The saved index, or None when it is missing, torn, corrupt or of another dimension
        (the caller then rebuilds it from the database).

        ``mapped``: map the file instead of reading it (see the module doc); the crc is then
        checked when the index is first written to, not now. ``mapped=False`` reads and
        checks all of it.
        """
        try:
            payload = VectorFile.open(directory / VECTORS_NAME)
        except OSError:
            return None
        if payload is None:
            return None
        index: Any = None
        with contextlib.suppress(RuntimeError):
            index = _map(payload) if mapped and payload.mappable else _read(payload)
        if index is None or index.d != dimension or not isinstance(index, faiss.IndexIDMap2):
            payload.close()
            return None
        inner: Any = faiss.downcast_index(index.index)
        kind = "hnsw" if isinstance(inner, faiss.IndexHNSW) else "flat"
        loaded = cls(dimension, config, kind=kind)
        loaded.index, loaded._inner = index, inner
        loaded.generation = payload.generation
        if payload.dead is not None:
            loaded._set_dead(np.frombuffer(payload.dead_ids(), dtype="<i8").astype(np.int64))
            loaded.dead_known = True
        if mapped and payload.mappable:
            loaded._mapped = payload
        else:
            payload.close()
        return loaded

    def close(self) -> None:
        """Let go of the mapped file's descriptor (the mapping itself goes with the index)."""
        if self._mapped is not None:
            self._mapped.close()

    def own(self) -> None:
        """Replace a mapped index by a copy in memory (FAISS aborts on writes to a mapping)."""
        if self._mapped is None:
            return
        payload, self._mapped = self._mapped, None
        index: Any = None
        try:
            with contextlib.suppress(RuntimeError):
                index = _read(payload)
        finally:
            payload.close()
        if index is None:
            from ..errors import IndexError_

            raise IndexError_(
                f"{payload.path} changed on disk or fails its checksum; delete it and open the "
                "index again to have it rebuilt from the database"
            )
        self.index, self._inner = index, faiss.downcast_index(index.index)


def _map(file: VectorFile) -> Any:
    # Through /proc/self/fd: the file whose trailer was checked, even if a save has just
    # renamed a newer one over it.
    name = f"/proc/self/fd/{file.fd}"
    return faiss.read_index(name if os.path.exists(name) else str(file.path),
                            faiss.IO_FLAG_MMAP_IFC)


def _read(file: VectorFile) -> Any:
    """The whole index in memory, or None when the bytes fail their crc (checked first:
    FAISS is never handed bytes that may be garbage)."""
    if not file.intact():
        return None
    done = 0

    def block(n: int) -> bytes:
        nonlocal done
        data = file.pread(done, n)
        done += len(data)
        return data

    # Streamed: no second copy of the vectors in memory while reading.
    return faiss.read_index(
        faiss.PyCallbackIOReader(block, _READ_BLOCK))  # type: ignore[attr-defined]
