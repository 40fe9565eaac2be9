"""The part of an article the reader reads: the retrieved chunk widened to one model window.

Its own module because two stages must agree on it: ``Library.ask`` reads these parts, and
``newsqa feedback pairs`` exports the same parts as training passages, so a newsroom's
reader is trained on what it will be asked to read.
"""

from __future__ import annotations

# About one model window (256 tokens with the question) of Chinese text.
READ_CHARS = 360


def read_region(text: str, start: int, end: int, size: int = READ_CHARS) -> tuple[int, int]:
    """The chunk ``start:end`` of ``text`` widened evenly to about ``size`` characters."""
    if len(text) <= size:
        return 0, len(text)
    extra = max(0, size - (end - start))
    lo = max(0, start - extra // 2)
    hi = min(len(text), lo + max(size, end - start))
    return max(0, min(lo, hi - size)), hi
