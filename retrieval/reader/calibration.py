"""The no-answer threshold: answer when (best span score − no-answer score) exceeds it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

from .metrics import exact_match, f1

# Refusing a question the passage answers is the costlier error for a fact-checking desk only
# up to a point: the threshold is the one that abstains most on negatives while refusing at
# most this share of answerable questions.
MAX_REFUSED = 0.05


@dataclass(frozen=True, slots=True)
class Calibration:
    threshold: float
    refused: float  # share of answerable questions at or below the threshold
    abstained: float  # share of negatives at or below it


def calibrate(
    answerable: Sequence[float], negatives: Sequence[float], max_refused: float = MAX_REFUSED
) -> Calibration:
    """Largest threshold that refuses at most ``max_refused`` of the answerable margins."""
    pos = sorted(answerable)
    if not pos:
        return Calibration(0.0, 0.0, 0.0)
    k = int(max_refused * len(pos))  # this many answerable margins may fall at or below it
    threshold = pos[k] - 1e-6 if k < len(pos) else pos[-1]
    refused = sum(m <= threshold for m in pos) / len(pos)
    abstained = sum(m <= threshold for m in negatives) / len(negatives) if negatives else 0.0
    return Calibration(float(threshold), refused, abstained)


class _HeldOut(Protocol):
    @property
    def answers(self) -> tuple[str, ...]: ...
    @property
    def start(self) -> int | None: ...


def held_out_figures(
    held: Sequence[_HeldOut], predictions: Sequence[tuple[str, float]]
) -> dict[str, Any]:
    """Span EM/F1 on the answerable examples and the calibrated threshold, from one
    ``(span text, margin)`` per example (negatives have ``start`` None)."""
    pairs = list(zip(held, predictions, strict=True))
    answerable = [(e, p) for e, p in pairs if e.start is not None]
    calibration = calibrate(
        [m for e, (_, m) in pairs if e.start is not None],
        [m for e, (_, m) in pairs if e.start is None],
    )
    return {
        "em": float(np.mean([exact_match(t, e.answers) for e, (t, _) in answerable])),
        "f1": float(np.mean([f1(t, e.answers) for e, (t, _) in answerable])),
        "answerable": len(answerable),
        "negatives": len(pairs) - len(answerable),
        **asdict(calibration),
    }
