"""Where an index lives, atomic file replacement, the writer lock and test-only crash points."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import IndexError_

ENV_INDEX = "NEWSQA_INDEX"
ENV_CRASH = "NEWSQA_CRASH_AT"
LOCK_NAME = "write.lock"


def default_index_path() -> Path:
    """``$NEWSQA_INDEX`` if set, else ``user_data_dir("newsqa")/index``."""
    env = os.environ.get(ENV_INDEX)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("newsqa")) / "index"


def atomic_write(path: Path, write: Callable[[int], None]) -> None:
    """Write through ``write(fd)`` to a temp file, fsync, then rename over ``path``.

    Readers see the old file or the new one, never a torn one; a crash leaves at most a
    ``*.tmp-<pid>`` file that the next writer removes (see ``remove_stale_temp_files``).
    """
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        write(fd)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    os.close(fd)
    os.replace(tmp, path)
    # The rename itself is only durable once the directory entry is flushed.
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view[: 1 << 24])
        view = view[written:]


def remove_stale_temp_files(directory: Path) -> None:
    for tmp in directory.glob("*.tmp-*"):
        with contextlib.suppress(OSError):
            tmp.unlink()


@contextlib.contextmanager
def writer_lock(directory: Path) -> Iterator[None]:
    """Hold the index's single-writer lock, or fail at once naming the process holding it.

    ``flock`` is released by the kernel when the holder dies, so a killed ingest never leaves
    the index locked.
    """
    lock_path = directory / LOCK_NAME
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise IndexError_(
                f"index {directory} is being written by another process (pid {holder}); "
                "wait for that ingest or delete to finish, then retry"
            ) from exc
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        yield
    finally:
        os.close(fd)  # closing releases the flock


class _CrashCounter:
    counts: dict[str, int] = {}  # noqa: RUF012 - process-wide by design


def crash_here(point: str) -> None:
    """Test hook: SIGKILL this process at the n-th time ``point`` is reached.

    ``NEWSQA_CRASH_AT=after-commit:2`` kills at the second batch commit. Points: words phase
    ``after-commit`` (articles, chunks and words committed), ``mid-words`` (before the word index
    commits); vectors phase ``mid-embedding`` (before a batch of vectors is committed),
    ``after-vectors-commit``; ``mid-faiss-save``. Unset in normal use, where this is one dict
    lookup.
    """
    spec = os.environ.get(ENV_CRASH)
    if not spec:
        return
    name, _, nth = spec.partition(":")
    if name != point:
        return
    _CrashCounter.counts[point] = _CrashCounter.counts.get(point, 0) + 1
    if _CrashCounter.counts[point] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
