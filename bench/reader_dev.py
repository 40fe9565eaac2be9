"""The reader's held-out DRCD articles as small archives: the end-to-end dev set (prints figures).

    python bench/reader_dev.py                  # 8 archives: 2 shapes x 4 cut variants
    python bench/reader_dev.py --grid           # also the best bar for each refusal budget
    python bench/reader_dev.py --shapes paragraphs --variants 1 --depths 1 3 --compare-leads

DRCD (Shao et al. 2018, CC BY-SA 3.0; ../shared/benchmarks/drcd-train): the questions of the
articles the reader's training held out (the split stored in the shipped weights' metadata),
never seen in training. As in ``bench/cmrc.py --near-miss``, half of the passages lose the
sentence answering one of their questions; each variant draws another half and another
question (``cut_half``'s salt). Two shapes of archive:

* ``paragraphs``: each DRCD passage is an article (178, median 413 characters);
* ``articles``: the passages of each held-out Wikipedia article joined into one (40, median
  1,118 characters, the length of a news story): retrieval must also find the right part. A
  cut question whose answer another passage of the article still prints is left out.

Every question goes through ``Library.ask``. This, not CMRC (the evaluation set), is where
the library's "found" bar (``FOUND_BAR``: ``retrieval/answer/found.py``) may be
chosen: ``--grid`` records what the reader said of every article it read, replays the choice
for each setting, and prints the setting refusing the most near misses within each budget of
answerable questions refused.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cmrc import cut_half, run_archive
from retrieval.answer.found import FoundBar
from retrieval.answer.question import Question
from retrieval.articles import Article
from retrieval.reader.data import article_of
from retrieval.reader.metrics import exact_match
from retrieval.reader.reader import BUNDLED_WEIGHTS, weights_info
from retrieval.reader.train import TrainConfig, split_data

SHAPES = ("paragraphs", "articles")


def held_out_archive() -> tuple[dict[str, dict], list[dict]]:
    config = TrainConfig(**weights_info(BUNDLED_WEIGHTS)["config"])
    _, _, held = split_data(config)
    contexts: dict[str, dict] = {}
    questions = []
    for e in held:
        if e.start is None:
            continue
        cid = e.qid.rsplit("-", 1)[0]
        contexts[cid] = {"context_id": cid, "title": None, "text": e.passage}
        questions.append({"id": e.qid, "question": e.question, "answers": list(e.answers),
                          "context_id": cid})
    return contexts, questions


def still_answered(cut: list[dict], articles: list[Article]) -> list[dict]:
    """The cut questions whose answer another passage of the same joined article still
    prints: not near misses (in the ``articles`` shape only; a passage is cut, not the
    article)."""
    text = {a.id: a.text for a in articles}
    return [q for q in cut
            if any(g and g in text[article_of(q["context_id"])] for g in q["answers"])]


def as_whole_articles(contexts: dict[str, dict]) -> list[Article]:
    """The passages of each DRCD article (``<article>-<n>`` ids) joined, in order, into one."""
    parts: dict[str, list[tuple[int, str]]] = collections.defaultdict(list)
    for cid, c in contexts.items():
        parts[article_of(cid)].append((int(cid.rsplit("-", 1)[1]), c["text"]))
    return [
        Article(id=article, title=None, paragraphs=tuple(t for _, t in sorted(p)), source="DRCD")
        for article, p in sorted(parts.items())
    ]


# ------------------------------------------------------------------------------ --grid


@dataclass(frozen=True, slots=True)
class Asked:
    """One question asked, and what the reader said of each article it read (by rank; None
    where it read nothing)."""

    cut: bool
    answers: tuple[str, ...]
    margins: tuple[float | None, ...]
    coverages: tuple[float | None, ...]
    spans: tuple[str | None, ...]


class Recorder:
    """While open, keeps what the reader said of each article it read, per question text:
    ``Library._readings`` is wrapped, so the library's own asks are recorded (nothing is
    asked twice). A question the reader never read (a gist question) has no reads. Of the
    first article's two parts (``Library._readings``) the one recorded is the one the bar in
    force chose, so a replay under another sentence weight keeps that choice."""

    def __init__(self) -> None:
        import retrieval.library as library

        self.library = library
        self.readings = library.Library._readings
        self.reads: dict[str, tuple[tuple[float, float, str] | None, ...]] = {}

    def __enter__(self) -> Recorder:
        original = self.readings

        def readings(this: Any, question: Question, items: Any) -> Any:
            out = original(this, question, items)
            self.reads[question.text] = tuple(
                None if r is None else (r.reading.margin, r.coverage, r.shown.text)
                for r in out
            )
            return out

        self.library.Library._readings = readings  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        self.library.Library._readings = self.readings  # type: ignore[method-assign]

    def asked(self, item: dict, cut: bool) -> Asked:
        reads = self.reads.get(item["question"], ())
        return Asked(
            cut, tuple(item["answers"]),
            tuple(None if r is None else r[0] for r in reads),
            tuple(None if r is None else r[1] for r in reads),
            tuple(None if r is None else r[2] for r in reads),
        )


def replay(asked: list[Asked], bar: FoundBar) -> tuple[float, float, float]:
    """(cut refused, untouched refused, untouched span EM) had the library used ``bar``."""
    cut = refused_cut = untouched = refused = 0
    em = 0.0
    for a in asked:
        chosen = bar.choose(a.margins, a.coverages)
        if a.cut:
            cut += 1
            refused_cut += chosen is None
        else:
            untouched += 1
            refused += chosen is None
            em += chosen is not None and exact_match(a.spans[chosen] or "", list(a.answers))
    return refused_cut / cut, refused / untouched, em / untouched


WEIGHTS = (0.0, 2.5, 5.0, 10.0)


def grid(asked: list[Asked], current: FoundBar) -> Iterator[str]:
    cut, refused, em = replay(asked, current)
    yield (f"found bar now (margin {current.margin}, lower-rank extra {current.lower_rank_extra}"
           f", sentence weight {current.sentence_weight}): cut refused {cut:.3f}, untouched "
           f"refused {refused:.3f}, EM {em:.3f}")
    results = [
        (replay(asked, bar), bar)
        for bar in (
            replace(current, margin=m, lower_rank_extra=x, sentence_weight=w)
            for m, x, w in itertools.product(
                [x / 4 for x in range(-24, 9)], (0.0, 1.0, 2.0, 3.0, 4.0, 6.0), WEIGHTS
            )
        )
    ]
    yield "budget  weight  best (margin, extra): cut refused / untouched refused / EM"
    for budget, weight in itertools.product((0.04, 0.05, 0.06, 0.08), WEIGHTS):
        ok = [r for r in results if r[0][1] <= budget and r[1].sentence_weight == weight]
        if ok:
            (cut, refused, em), bar = max(ok, key=lambda r: (r[0][0], r[0][2]))
            yield (f"  {budget:.2f}   {weight:4.1f}   ({bar.margin:.2f}, "
                   f"{bar.lower_rank_extra:.0f}): {cut:.3f} / {refused:.3f} / {em:.3f}")


def main() -> None:
    import argparse

    import retrieval.library as library
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--shapes", nargs="+", choices=SHAPES, default=list(SHAPES))
    parser.add_argument("--variants", type=int, default=4, help="cut variants per shape")
    parser.add_argument("--grid", action="store_true",
                        help="record every read and print the best bar per refusal budget")
    parser.add_argument("--compare-leads", action="store_true",
                        help="also run with the lead 0 (max margin) and inf (rank order)")
    parser.add_argument("--depths", type=int, nargs="+", default=[library.READ_DEPTH],
                        help="READ_DEPTH values to compare (articles the reader reads)")
    args = parser.parse_args()
    held_contexts, questions = held_out_archive()
    current, read_depth = library.FOUND_BAR, library.READ_DEPTH
    leads = (current.lead, 0.0, float("inf")) if args.compare_leads else (current.lead,)
    asked: list[Asked] = []
    for depth, lead in itertools.product(args.depths, leads):
        library.READ_DEPTH, library.FOUND_BAR = depth, replace(current, lead=lead)
        print(f"READ_DEPTH {depth}, lead {lead} (cite a lower-ranked article first when its "
              "margin leads by more than this)")
        totals = [0, 0, 0, 0]  # cut, cut refused, untouched, untouched refused
        for shape, variant in itertools.product(args.shapes, range(1, args.variants + 1)):
            salt = f"v{variant}"
            contexts, cut, untouched = cut_half(held_contexts, questions, salt=salt)
            articles = as_whole_articles(contexts) if shape == "articles" else None
            if articles:
                answered = still_answered(cut, articles)
                cut = [q for q in cut if q not in answered]
                print(f"  {len(answered)} cut questions left out: another passage of the "
                      "article still gives the answer")
            name = f"drcd-{'long' if articles else 'para'}-{salt}"
            recording = args.grid and depth == args.depths[0] and lead == current.lead
            with Recorder() if recording else contextlib.nullcontext() as recorder:
                on_cut, on_untouched = run_archive(
                    name, contexts, cut, untouched, articles=articles
                )
            if recorder is not None:
                asked += [recorder.asked(q, True) for q in cut]
                asked += [recorder.asked(q, False) for q in untouched]
            totals[0] += len(cut)
            totals[1] += sum(not a.found for a in on_cut)
            totals[2] += len(untouched)
            totals[3] += sum(not a.found for a in on_untouched)
        print(f"all archives: {totals[0]} cut questions, answered 'not found' "
              f"{totals[1] / totals[0]:.3f}; {totals[2]} untouched, wrongly refused "
              f"{totals[3] / totals[2]:.3f}")
    library.READ_DEPTH, library.FOUND_BAR = read_depth, current
    if asked:
        for line in grid(asked, current):
            print(line)


if __name__ == "__main__":
    main()
