"""Whether what the reader read answers the question: the end-to-end "found" bar.

The reader scores its best span in each article it reads (``margin``: span score − no-answer
score). Alone, that margin cannot tell a near miss — an article that names the company or
person but not the asked fact, where the reader still finds a span of the right type in a
sentence about something else ("哪一年出生" → the year of another event). So the bar applies
to the article's *support*: the margin plus how much of the question the span's sentence
speaks of. Rank matters too: retrieval's first article is right ~98% of the time, so a
lower-ranked article must be surer to answer.

The numbers were chosen together on the held-out DRCD archives (``bench/reader_dev.py --grid``,
docs/reader.md), never on CMRC, the evaluation set.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from ..chunks import split_sentences
from .question import Question
from .sentences import question_coverage


@dataclass(frozen=True, slots=True)
class FoundBar:
    """When a read article answers, as plain data (a bench replays other settings)."""

    # support must exceed this on the first article read ...
    margin: float = -2.0
    # ... and this much more on a lower-ranked one
    lower_rank_extra: float = 2.0
    # support = margin + sentence_weight × (coverage − sentence_center)
    sentence_weight: float = 10.0
    sentence_center: float = 0.4  # where the sentence term is zero; not tuned
    # a lower-ranked article that passes is cited first only when its margin leads by more
    lead: float = 2.0

    def support(self, margin: float, coverage: float) -> float:
        return margin + self.sentence_weight * (coverage - self.sentence_center)

    def passes(self, support: float, rank: int) -> bool:
        return support > self.margin + (self.lower_rank_extra if rank else 0.0)

    def choose(
        self, margins: Sequence[float | None], coverages: Sequence[float | None]
    ) -> int | None:
        """The article that answers, by rank (0: first; None where nothing was read): the
        first whose support passes, unless a later passing one beats its margin by more than
        ``lead``; None when none passes."""
        passing = [
            i for i, (m, c) in enumerate(zip(margins, coverages, strict=True))
            if m is not None and c is not None and self.passes(self.support(m, c), i)
        ]
        if not passing:
            return None
        first = passing[0]
        best = max(passing, key=lambda i: margins[i])  # type: ignore[arg-type,return-value]
        lead = margins[best] - margins[first]  # type: ignore[operator]
        return best if lead > self.lead else first


def span_coverages(question: Question, text: str, starts: Sequence[int]) -> list[float]:
    """How much of ``question`` the sentence of ``text`` holding each offset of ``starts``
    speaks of (``question_coverage``, 0..1; 0 between sentences), the text split once."""
    sentences = split_sentences(text)
    ends = [b for _, b in sentences]
    covered: dict[int, float] = {}
    out = []
    for start in starts:
        i = bisect.bisect_right(ends, start)
        if i == len(sentences) or sentences[i][0] > start:
            i = -1  # between sentences (whitespace): no sentence holds it
        if i not in covered:
            covered[i] = question_coverage(question, text[slice(*sentences[i])] if i >= 0 else "")
        out.append(covered[i])
    return out
