"""Ship a trained run: ``python -m retrieval.reader.ship --run DIR [--to PATH] [--force]``.

Takes the run's best weights (``DIR/reader.safetensors``, float16, chosen on the held-out
set), quantises them to int8 per row (~21 MB, see ``model.quantize_int8``), measures them on
the same held-out questions through the product's own ``Reader`` (ONNX, the precision asking
uses), calibrates the no-answer threshold there, and writes the file the product loads.

The reader already at ``--to`` (by default the shipped one) is measured on the same
questions, calibrated the same way, and each ``--data`` folder of the run is reported on its
own: a newsroom mixing in its pairs sees its own questions apart from DRCD's. The new reader
replaces the old one only when it is better on some folder (span EM or F1, or negatives
refused); ``--force`` replaces it anyway. The old reader's figures decide nothing when it
trained on some of these questions (its recorded split says so): they are shown, flagged.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ModelError, NewsqaError
from .calibration import held_out_figures
from .data import Example
from .model import quantize_int8, read_trained, write_safetensors
from .reader import BUNDLED_WEIGHTS, DEFAULT_PRECISION, Reader, weights_info
from .train import TrainConfig, split_data

# What "better" means per folder: higher is better for each.
COMPARED = ("em", "f1", "abstained")


@dataclass(frozen=True, slots=True)
class Measured:
    """A reader's held-out figures: on every question (with the threshold calibrated there)
    and per ``--data`` folder at that threshold."""

    figures: dict[str, Any]
    by_source: dict[str, dict[str, Any]]


@dataclass(slots=True)
class Shipping:
    """What ``ship`` measured and did."""

    new: Measured
    current: Measured | None = None  # the reader that was at ``to``, if any
    current_trained_on: int | None = None  # of these held-out questions; None: can't tell
    refusal: str = ""  # why it was not shipped; empty when it was
    notes: list[str] = field(default_factory=list)

    @property
    def shipped(self) -> bool:
        return not self.refusal

    @property
    def comparable(self) -> bool:
        return self.current is not None and self.current_trained_on == 0

    def better_somewhere(self) -> bool:
        """True when the new reader beats the current one on some folder and figure."""
        if self.current is None:
            return True
        for source, new in self.new.by_source.items():
            old = self.current.by_source[source]
            for key in COMPARED:
                if new[key] is not None and old[key] is not None and new[key] > old[key]:
                    return True
        return False

    def as_json(self) -> dict[str, Any]:
        return {
            "shipped": self.shipped,
            "new": {**self.new.figures, "by_source": self.new.by_source},
            "current": None if self.current is None else {
                **self.current.figures, "by_source": self.current.by_source,
                "trained_on_held_out": self.current_trained_on,
            },
        }


def measure(reader: Reader, held: list[Example]) -> Measured:
    """``reader``'s figures on ``held``, each example read alone, as asking does."""
    predictions = []
    for e in held:
        reading = reader.read(e.question, [e.passage])[0]
        predictions.append(("", float("-inf")) if reading is None
                           else (reading.text, reading.margin))
    figures = held_out_figures(held, predictions)
    by_source = {}
    for source in dict.fromkeys(e.source for e in held):
        mine = [(e, p) for e, p in zip(held, predictions, strict=True) if e.source == source]
        by_source[source] = _rounded(held_out_figures(
            [e for e, _ in mine], [p for _, p in mine], threshold=figures["threshold"]))
    return Measured(_rounded(figures), by_source)


def _rounded(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()}


def trained_on(info: dict[str, Any], held: list[Example]) -> int | None:
    """How many of the answerable ``held`` questions the reader described by ``info`` trained
    on, by its recorded data and split (question and passage); None when its data folders
    are not here to tell. Only its own run is checked, not the weights it started from."""
    try:
        config = TrainConfig(**info["config"])
        trained = split_data(config)[0]
    except (KeyError, TypeError, OSError, ValueError):
        return None
    seen = {(e.question, e.passage) for e in trained}
    return sum((e.question, e.passage) in seen for e in held if e.start is not None)


def ship(run: Path, to: Path, precision: str = DEFAULT_PRECISION, *,
         force: bool = False) -> Shipping:
    source = run / "reader.safetensors"
    if not source.is_file():
        raise ModelError(f"--run {run}: no reader.safetensors there; train first "
                         f"(python -m retrieval.reader.train --out {run} ...)")
    info = weights_info(source)
    current_info: dict[str, Any] = {}
    if to.is_file():  # before measuring anything: a wrong --to should fail fast
        try:
            current_info = weights_info(to)
        except Exception as exc:  # safetensors' own error type is not importable by name
            raise ModelError(f"--to {to}: not a reader weights file ({exc}); choose another "
                             "path or move that file away") from None
    _, _, held = split_data(TrainConfig(**info["config"]))
    tensors = quantize_int8(read_trained(source))
    staging = to.with_name(to.stem + ".staging.safetensors")
    write_safetensors(tensors, staging, {**info, "weights": "int8 per row"})
    try:
        shipping = Shipping(measure(Reader.load(staging, precision=precision), held))
    finally:
        staging.unlink(missing_ok=True)
    if to.is_file():
        shipping.current = measure(Reader.load(to, precision=precision), held)
        shipping.current_trained_on = trained_on(current_info, held)
        if shipping.current_trained_on is None:
            shipping.notes.append(f"can't tell whether the reader at {to} trained on these "
                                  "questions (its data folders are not here): its figures "
                                  "decide nothing")
        elif shipping.current_trained_on:
            shipping.notes.append(f"the reader at {to} trained on "
                                  f"{shipping.current_trained_on} of these questions: its "
                                  "figures are flattered and decide nothing")
    if shipping.comparable and not shipping.better_somewhere() and not force:
        shipping.refusal = (
            f"not shipped: {source} is no better than the reader at {to} on any --data "
            "folder's held-out questions (span EM, F1, negatives refused: the table above); "
            "--force ships it anyway, --to another path keeps both"
        )
        return shipping
    written = {
        **info,
        "weights": "int8 per row",
        "precision": precision,
        "threshold": shipping.new.figures["threshold"],
        "shipped_held_out": shipping.new.figures,
        "shipped_by_source": shipping.new.by_source,
    }
    if shipping.current is not None:
        written["replaced"] = {
            "run": current_info.get("run"),
            "held_out": shipping.current.figures,
            "trained_on_held_out": shipping.current_trained_on,
        }
    write_safetensors(tensors, to, written)
    return shipping


def table(shipping: Shipping, precision: str) -> str:
    """The figures side by side, one row per ``--data`` folder and one for all of them."""
    def cells(figures: dict[str, Any]) -> str:
        return "".join("        —" if figures[k] is None else f"{figures[k]:9.3f}"
                       for k in ("em", "f1", "refused", "abstained"))

    heads = "       EM       F1  refused abstained"
    width = max(len(s) for s in [*shipping.new.by_source, "all"])
    groups = f"{'':{width + 23}}| {'new reader':^36}"
    top = f"{'':{width}}  answerable negatives | {heads}"
    if shipping.current is not None:
        groups += f" | {'the reader it would replace':^36}"
        top += f" | {heads}"
    lines = [f"held-out questions through the {precision} reader; each reader's threshold "
             "refuses at most 5% of all answerable questions", groups.rstrip(), top]
    rows = [*shipping.new.by_source.items(), ("all", shipping.new.figures)]
    for name, figures in rows:
        line = (f"{name:{width}}  {figures['answerable']:10d} {figures['negatives']:9d} | "
                f"{cells(figures)}")
        if shipping.current is not None:
            current = shipping.current
            line += f" | {cells(current.figures if name == 'all' else current.by_source[name])}"
        lines.append(line)
    return "\n".join([*lines, *shipping.notes])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m retrieval.reader.ship",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument("--run", required=True, type=Path, help="the training --out folder")
    parser.add_argument("--to", type=Path, default=BUNDLED_WEIGHTS,
                        help="where to write (default: the bundled reader, which it replaces)")
    parser.add_argument("--precision", default=DEFAULT_PRECISION, choices=("int8", "fp32"))
    parser.add_argument("--force", action="store_true",
                        help="replace the reader at --to even when the new one is no better")
    args = parser.parse_args(argv)
    try:
        shipping = ship(args.run, args.to, args.precision, force=args.force)
    except NewsqaError as exc:
        raise SystemExit(str(exc)) from None
    print(table(shipping, args.precision), file=sys.stderr)
    print(json.dumps(shipping.as_json(), ensure_ascii=False), file=sys.stdout)
    if not shipping.shipped:
        raise SystemExit(shipping.refusal)


if __name__ == "__main__":
    main()
