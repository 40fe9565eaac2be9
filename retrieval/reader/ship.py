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

from .calibration import held_out_figures
from .data import Example
from .model import quantize_int8, read_trained, write_safetensors
from .reader import BUNDLED_WEIGHTS, DEFAULT_PRECISION, Reader, weights_info
from .train import TrainConfig, split_data


def measure(reader: Reader, held: list[Example]) -> dict[str, Any]:
    """The held-out figures of ``reader``, each example read alone, as asking does."""
    predictions = []
    for e in held:
        reading = reader.read(e.question, [e.passage])[0]
        predictions.append(("", -np.inf) if reading is None else (reading.text, reading.margin))
    return {
        k: round(v, 4) if isinstance(v, float) else v
        for k, v in held_out_figures(held, predictions).items()
    }


def ship(run: Path, to: Path, precision: str = DEFAULT_PRECISION) -> dict[str, Any]:
    source = run / "reader.safetensors"
    info = weights_info(source)
    _, _, held = split_data(TrainConfig(**info["config"]))
    tensors = quantize_int8(read_trained(source))
    staging = to.with_name(to.stem + ".staging.safetensors")
    write_safetensors(tensors, staging, {**info, "weights": "int8 per row"})
    try:
        figures = measure(Reader.load(staging, precision=precision), held)
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
