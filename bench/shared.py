"""Where the benchmarks find the shared data (CMRC 2018 dev, …) that is not in the repository.

The shared folder sits beside the clone (``<repo>/../shared``, as CI sets it up) unless
``$NEWSQA_SHARED`` names another place. ``$NEWSQA_CMRC`` still points at a CMRC folder directly.

    from bench.shared import cmrc_dir
    contexts = cmrc_dir() / "contexts.jsonl"
"""

from __future__ import annotations

import os
from pathlib import Path

SHARED_ENV = "NEWSQA_SHARED"
CMRC_ENV = "NEWSQA_CMRC"
REPO = Path(__file__).resolve().parent.parent
CMRC = ("benchmarks", "cmrc2018-dev")


class SharedDataMissing(FileNotFoundError):
    """Raised when a benchmark's data is not where the shared folder should hold it."""


def shared_dir() -> Path:
    """``$NEWSQA_SHARED``, else the ``shared`` folder beside the repository."""
    setting = os.environ.get(SHARED_ENV)
    return Path(setting).expanduser() if setting else REPO.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A path inside the shared folder; ``SharedDataMissing`` says where it looked."""
    path = shared_dir().joinpath(*parts)
    if not path.exists():
        where = (f"${SHARED_ENV} is {os.environ[SHARED_ENV]}" if os.environ.get(SHARED_ENV)
                 else f"${SHARED_ENV} is not set, so the folder beside the repository is used")
        raise SharedDataMissing(
            f"{path} not found ({where}); put the shared data folder beside the repository "
            f"({REPO.parent / 'shared'}) or set {SHARED_ENV} to where it is"
        )
    return path


def cmrc_dir() -> Path:
    """The CMRC 2018 dev folder (contexts.jsonl, qa.jsonl): ``$NEWSQA_CMRC`` or the shared one."""
    setting = os.environ.get(CMRC_ENV)
    if setting:
        path = Path(setting).expanduser()
        if not path.is_dir():
            raise SharedDataMissing(f"{path} not found (set by ${CMRC_ENV}); unset it to use "
                                    f"the shared folder, or point it at a CMRC 2018 dev folder")
        return path
    return shared_path(*CMRC)


def process_mb(field: str = "VmRSS") -> float:
    """A memory figure of this process from /proc/self/status, in MB (0 where there is none):
    VmRSS resident, VmHWM its peak, RssAnon / RssFile the heap and the mapped files."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0
