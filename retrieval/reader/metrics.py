"""CMRC 2018's answer metrics: exact match and F1, each the best over the gold answers.

Follows the official evaluation script (cmrc2018_evaluate.py): exact match compares the
lower-cased, stripped texts with punctuation removed; for F1 both texts are lower-cased and
split into units (each Chinese character alone, a run of ASCII letters/digits as one unit),
punctuation and whitespace are dropped, and F1 is computed from the longest common
*substring* of units, as the official script does (not a bag of characters).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

_UNIT = re.compile(r"[a-z0-9]+|\S", re.S)
# The official script's punctuation list; every Unicode punctuation character is dropped too.
_PUNCTUATION = set("-:_*^/\\~`+=，。：？！“”；’《》……·、「」（）－～『』")


def units(text: str) -> list[str]:
    """The units CMRC compares: ASCII runs, single other characters, no punctuation."""
    return [
        u
        for u in _UNIT.findall(text.lower())
        if not (len(u) == 1 and (u in _PUNCTUATION or unicodedata.category(u).startswith("P")))
    ]


def _longest_common_substring(a: list[str], b: list[str]) -> int:
    best = 0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            if x == y:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def _without_punctuation(text: str) -> str:
    return "".join(
        ch
        for ch in text.lower().strip()
        if not (ch in _PUNCTUATION or unicodedata.category(ch).startswith("P"))
    )


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """1.0 when the prediction equals a gold answer once punctuation is removed."""
    pred = _without_punctuation(prediction)
    return float(any(pred == _without_punctuation(g) for g in golds))


def f1(prediction: str, golds: Sequence[str]) -> float:
    pred = units(prediction)
    best = 0.0
    for gold in golds:
        ref = units(gold)
        common = _longest_common_substring(pred, ref)
        if common:
            precision, recall = common / len(pred), common / len(ref)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def span_fit(prediction: str, golds: Sequence[str]) -> str:
    """How a predicted span sits against the gold answers (punctuation ignored, best fit
    first): "exact", "inside" (a part of a gold answer), "around" (a gold answer and more),
    "overlap", "apart" (no unit in common) or "none" (no prediction)."""
    pred = _without_punctuation(prediction)
    refs = [_without_punctuation(g) for g in golds]
    if not pred:
        return "none"
    if pred in refs:
        return "exact"
    if any(pred in r for r in refs):
        return "inside"
    if any(r and r in pred for r in refs):
        return "around"
    return "overlap" if f1(prediction, golds) > 0 else "apart"
