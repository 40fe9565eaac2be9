"""The no-answer threshold: answer when (best span score − no-answer score) exceeds it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
    held: Sequence[_HeldOut], predictions: Sequence[tuple[str, float]],
    threshold: float | None = None,
) -> dict[str, Any]:
    """Span EM/F1 on the answerable examples, and the shares of answerable questions refused
    and of negatives abstained, from one ``(span text, margin)`` per example (negatives have
    ``start`` None): at ``threshold``, or at the one calibrated on them when it is None."""
    pairs = list(zip(held, predictions, strict=True))
    answerable = [(e, p) for e, p in pairs if e.start is not None]
    margins = [m for e, (_, m) in answerable]
    negatives = [m for e, (_, m) in pairs if e.start is None]
    if threshold is None:
        threshold = calibrate(margins, negatives).threshold

    def mean(values: Sequence[float]) -> float | None:  # None: nothing of that kind here
        return float(np.mean(values)) if values else None

    return {
        "em": mean([exact_match(t, e.answers) for e, (t, _) in answerable]),
        "f1": mean([f1(t, e.answers) for e, (t, _) in answerable]),
        "answerable": len(answerable),
        "negatives": len(negatives),
        "threshold": float(threshold),
        "refused": mean([m <= threshold for m in margins]),
        "abstained": mean([m <= threshold for m in negatives]),
    }
