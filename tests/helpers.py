"""Assertions shared by the test files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from retrieval.errors import InputError, NewsqaError


def assert_rejected(
    outcome: Callable[[], object] | Result, message: str, *,
    error: type[NewsqaError] = InputError,
) -> NewsqaError | None:
    """A bad input was refused with exactly ``message``, the words the user reads.

    ``outcome`` is either a call into the library, which must raise ``error`` with that text
    (the error is returned for further checks), or the result of a CLI run, which must have
    printed nothing, ``error: <message>`` on stderr and exited with ``error.exit_code``.
    """
    if isinstance(outcome, Result):
        assert (outcome.exit_code, outcome.stdout, outcome.stderr) == (
            error.exit_code, "", f"error: {message}\n"), outcome.output
        return None
    with pytest.raises(error) as excinfo:
        outcome()
    assert str(excinfo.value) == message
    return excinfo.value


def write(path: Path, content: str | bytes) -> Path:
    """Write a test input file (bytes as they are, text as UTF-8), creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path
