"""Errors newsqa raises. Every message says what happened, where, and what to do next.

    NewsqaError
    ├── InputError        – a source file cannot be read or parsed (names file and line)
    ├── ModelError        – the embedding model cannot be built or loaded
    └── IndexError_       – the index is missing, corrupt, or built for another model/format
        └── IndexMismatchError – model or format of an existing index differs from the request

Third-party exceptions (sqlite3, faiss, torch, onnxruntime) are translated into these at
the module that calls the library, with ``raise ... from exc``. Telegram's errors never reach
this package: ``bot/`` handles them itself (network retries in ``bot/app.py``, one error handler
in ``bot/handlers.py`` that logs and apologises).
"""

from __future__ import annotations


class NewsqaError(Exception):
    """Base class; the CLI prints the message and exits non-zero."""

    exit_code = 1


class InputError(NewsqaError):
    """Raised when a source file cannot be decoded or parsed."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)


class ModelError(NewsqaError):
    """Raised when the embedding model cannot be built, found or loaded."""

    exit_code = 3


class IndexError_(NewsqaError):
    # The trailing underscore keeps the builtin IndexError usable in every module.
    """Raised when an index directory is missing, corrupt or unusable."""

    exit_code = 4


class IndexMismatchError(IndexError_):
    """Raised when an index was built with another model or a newer format."""
