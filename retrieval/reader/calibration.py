"""The no-answer threshold: answer when (best span score − no-answer score) exceeds it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
