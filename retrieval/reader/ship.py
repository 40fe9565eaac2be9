"""Ship a trained run: ``python -m retrieval.reader.ship --run DIR [--to PATH]``.

Takes the run's best weights (``DIR/reader.safetensors``, float16, chosen on the held-out
set), quantises them to int8 per row (~21 MB, see ``model.quantize_int8``), measures them on
the same held-out questions through the product's own ``Reader`` (ONNX, the precision asking
uses), calibrates the no-answer threshold there, and writes the file the product loads.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .calibration import calibrate
from .data import Example
from .metrics import exact_match, f1
from .model import quantize_int8, read_trained, weights_info, write_safetensors
from .reader import BUNDLED_WEIGHTS, DEFAULT_PRECISION, Reader
from .train import TrainConfig, split_data


def held_out_figures(reader: Reader, held: list[Example]) -> dict[str, Any]:
    """Span EM/F1 on the answerable held-out questions, and the calibrated threshold."""
    margins, em, f = [], [], []
    for e in held:
        reading = reader.read(e.question, [e.passage])[0]
        margin = reading.margin if reading is not None else -np.inf
        margins.append(margin)
        if e.start is not None:
            shown = reading.text if reading is not None else ""
            em.append(exact_match(shown, e.answers))
            f.append(f1(shown, e.answers))
    calibration = calibrate(
        [m for m, e in zip(margins, held, strict=True) if e.start is not None],
        [m for m, e in zip(margins, held, strict=True) if e.start is None],
    )
    return {
        "answerable": len(em),
        "negatives": len(held) - len(em),
        "em": round(float(np.mean(em)), 4),
        "f1": round(float(np.mean(f)), 4),
        "threshold": round(calibration.threshold, 4),
        "refused": round(calibration.refused, 4),
        "abstained": round(calibration.abstained, 4),
    }


def ship(run: Path, to: Path, precision: str = DEFAULT_PRECISION) -> dict[str, Any]:
    source = run / "reader.safetensors"
    info = weights_info(source)
    _, _, held = split_data(TrainConfig(**info["config"]))
    tensors = quantize_int8(read_trained(source))
    staging = to.with_name(to.stem + ".staging.safetensors")
    write_safetensors(tensors, staging, {**info, "weights": "int8 per row"})
    try:
        figures = held_out_figures(Reader.load(staging, precision=precision), held)
    finally:
        staging.unlink(missing_ok=True)
    shipped = {
        **info,
        "weights": "int8 per row",
        "precision": precision,
        "threshold": figures["threshold"],
        "shipped_held_out": figures,
    }
    write_safetensors(tensors, to, shipped)
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m retrieval.reader.ship",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument("--run", required=True, type=Path, help="the training --out folder")
    parser.add_argument("--to", type=Path, default=BUNDLED_WEIGHTS, help="where to write")
    parser.add_argument("--precision", default=DEFAULT_PRECISION, choices=("int8", "fp32"))
    args = parser.parse_args(argv)
    figures = ship(args.run, args.to, args.precision)
    print(json.dumps(figures, ensure_ascii=False), file=sys.stdout)


if __name__ == "__main__":
    main()
