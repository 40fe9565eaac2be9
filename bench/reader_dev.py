"""The reader's held-out DRCD articles as a small archive: an end-to-end dev set (prints figures).

    python bench/reader_dev.py [--compare-leads] [--depths 1 3]

DRCD (Shao et al. 2018, CC BY-SA 3.0; ../shared/benchmarks/drcd-train): the questions of the
articles the reader's training held out (the split stored in the shipped weights' metadata),
never seen in training. As in ``bench/cmrc.py --near-miss``, half of the passages lose the
sentence answering one of their questions. Every question goes through ``Library.ask``; the
table shows, per not-found threshold on the reader's margin, the share of cut questions refused
and of untouched questions wrongly refused. This, not CMRC (the evaluation set), is where the
library's threshold may be chosen.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cmrc import cut_half, run_archive
from retrieval.reader.reader import BUNDLED_WEIGHTS, weights_info
from retrieval.reader.train import TrainConfig, split_data


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


def main() -> None:
    import argparse

    import retrieval.library as library

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--compare-leads", action="store_true",
                        help="also run with READ_LEAD 0 (max margin) and inf (rank order only)")
    parser.add_argument("--depths", type=int, nargs="+", default=[library.READ_DEPTH],
                        help="READ_DEPTH values to compare (articles the reader reads)")
    args = parser.parse_args()
    contexts, questions = held_out_archive()
    contexts, cut, untouched = cut_half(contexts, questions)
    default = library.READ_LEAD
    leads = (default, 0.0, float("inf")) if args.compare_leads else (default,)
    for depth in args.depths:
        library.READ_DEPTH = depth
        for lead in leads:
            library.READ_LEAD = lead
            print(f"READ_DEPTH {depth}, READ_LEAD {lead} (cite a lower-ranked article first "
                  "when its margin leads by more than this)")
            run_archive("drcd-held-out", contexts, cut, untouched, thresholds=lead == default)


if __name__ == "__main__":
    main()
