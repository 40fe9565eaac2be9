"""How often the reader answers a passage that does not answer, by kind of passage (prints figures).

    python bench/reader_negatives.py                       # the bundled weights
    python bench/reader_negatives.py --weights FILE ...    # others, e.g. from reader.ship --to

DRCD (Shao et al. 2018, CC BY-SA 3.0; ../shared/benchmarks/drcd-train): the questions of the
articles the shipped reader's training held out (the split in its weights' metadata, so never
seen in training), each read alone with one passage through the product's ONNX reader, as
``python -m retrieval.reader.ship`` measures:

* the held-out set with every kind of negative (``retrieval/reader/data.py``): the answering
  sentence cut, another paragraph of the same article, and the passage of another held-out
  article on the question's subject (``--retrieved-share``'s kind, drawn here at 0.5 whatever
  the weights were trained with); EM / F1 of the answerable ones and the share of each kind
  answered, at the weights' own threshold;
* harder: for each held-out question, the passage of another article among all 2,000 DRCD
  passages (training passages too) that shares the most of its words — what retrieval puts
  beside the right article in a larger archive.

No CMRC: the evaluation set is not used to choose anything about the reader.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from retrieval.reader import data as reader_data
from retrieval.reader.calibration import held_out_figures
from retrieval.reader.reader import BUNDLED_WEIGHTS, Reader, weights_info
from retrieval.reader.train import TrainConfig, split_data

KINDS = ("cut", "other", "retrieved")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--weights", type=Path, nargs="+", default=[BUNDLED_WEIGHTS])
    args = parser.parse_args()
    # The shipped run's split and negatives, plus retrieved negatives drawn from held-out
    # passages; any weights are measured on the same examples.
    shipped = TrainConfig(**weights_info(BUNDLED_WEIGHTS)["config"])
    config = replace(shipped, retrieved_share=0.3, init="")
    questions, _, held = split_data(config)
    answerable = [e for e in held if e.kind == "answer"]
    harder = reader_data.retrieved_negatives(
        answerable, share=1.0, seed=config.seed,
        pool=reader_data.load_examples(Path(config.data)),
    )
    counts = {kind: sum(e.kind == kind for e in held) for kind in ("answer", *KINDS)}
    print(f"held-out DRCD: {len(answerable)} answerable questions ({len(questions)} trained on); "
          "negatives: " + ", ".join(f"{kind} {counts[kind]}" for kind in KINDS)
          + f"; the harder other-article passage for {len(harder)} questions")
    for weights in args.weights:
        reader = Reader.load(weights)
        predictions = [read(reader, e) for e in held]
        figures = held_out_figures(held, predictions)
        # the threshold that refuses 5% of these answerable questions, as ``ship`` calibrates
        threshold = figures["threshold"]
        answered = {
            kind: sum(margin > threshold for e, (_, margin) in zip(held, predictions, strict=True)
                      if e.kind == kind) / counts[kind]
            for kind in KINDS
        }
        hard = sum(read(reader, e)[1] > threshold for e in harder) / len(harder)
        print(f"{weights}")
        print(f"  answerable: EM {figures['em']:.3f}, F1 {figures['f1']:.3f}; threshold "
              f"{threshold:.3f} refuses {figures['refused']:.3f} of them")
        print(f"  negatives answered: all {1 - figures['abstained']:.3f}; "
              + ", ".join(f"{k} {v:.3f}" for k, v in answered.items())
              + f"; the harder other-article passage {hard:.3f}")


def read(reader: Reader, example: reader_data.Example) -> tuple[str, float]:
    reading = reader.read(example.question, [example.passage])[0]
    return ("", -math.inf) if reading is None else (reading.text, reading.margin)


if __name__ == "__main__":
    main()
