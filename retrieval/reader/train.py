"""Train the span reader: ``python -m retrieval.reader.train --data DIR --out DIR``.

Reproducible (one seed decides the split, the negatives, the batch order and the head's
initialisation), resumable (a checkpoint every ``--checkpoint-every`` steps, written
atomically; rerunning the same command continues from it), and honest about held-out data:
a share of the articles in ``--data`` is held out, and both the checkpoint choice and the
no-answer threshold are decided on it. Never point ``--data`` at the evaluation set.

One module (~430 lines): features, batches, the held-out round and the run loop of this one
command; nothing else imports them except ``ship`` (the held-out split) and the tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import re
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from . import data as reader_data
from .calibration import held_out_figures
from .features import MAX_LENGTH, STRIDE, Window, best_per_passage, best_span, label, windows
from .model import SpanReaderModel, apply_trained, base_encoder, save_weights


@dataclass(frozen=True)
class TrainConfig:
    data: str
    out: str
    seed: int = 13
    epochs: float = 1.6
    batch_size: int = 32
    lr: float = 1e-4
    warmup: float = 0.06
    weight_decay: float = 0.01
    trained_layers: int = 12
    held_out: float = 0.08
    cut_share: float = 0.4
    other_share: float = 0.3
    retrieved_share: float = 0.0  # passages of other articles on the question's subject
    empty_window_share: float = 0.5  # windows of an answerable passage that miss the answer
    checkpoint_every: int = 50
    eval_every: int = 245  # steps between held-out rounds (and at the end)
    limit: int = 0  # use only the first N questions of each folder (smoke runs)
    bf16: bool = True
    init: str = ""  # a reader.safetensors whose trained tensors this run starts from
    more_data: tuple[str, ...] = ()  # further folders mixed in, e.g. a newsroom's own pairs
    # each layer's learning rate is this times the one above it's (1.0: one rate for all)
    layer_decay: float = 1.0


@dataclass(frozen=True, slots=True)
class Feature:
    input_ids: list[int]
    context: list[bool]
    start: int
    end: int


def _log(out: Path, message: str) -> None:
    line = f"{time.strftime('%H:%M:%S')} {message}"
    print(line, file=sys.stderr, flush=True)
    with (out / "train.log").open("a", encoding="utf-8") as f:
        f.write(line + "\n")


def build_features(
    tokenizer: Any, examples: list[reader_data.Example], cfg: TrainConfig, seed: int
) -> list[Feature]:
    rng = random.Random(seed)
    out = []
    wins = windows(tokenizer, [e.question for e in examples], [e.passage for e in examples])
    by_item: dict[int, list[Window]] = {}
    for w in wins:
        by_item.setdefault(w.item, []).append(w)
    for i, e in enumerate(examples):
        group = by_item.get(i, [])
        if e.start is None:
            group = [rng.choice(group)] if group else []  # one window per negative is enough
        for w in group:
            start, end = (
                (0, 0) if e.start is None else label(w, e.start, e.start + len(e.answers[0]))
            )
            if e.start is not None and start == 0 and rng.random() >= cfg.empty_window_share:
                continue
            context = [o is not None for o in w.offsets]
            out.append(Feature(w.input_ids, context, start, end))
    return out


def batches(features: list[Feature], batch_size: int, seed: int) -> list[list[int]]:
    """Length-bucketed batches (less padding), in a seeded random order."""
    rng = random.Random(seed)
    order = list(range(len(features)))
    rng.shuffle(order)
    pool = batch_size * 50
    out: list[list[int]] = []
    for i in range(0, len(order), pool):
        chunk = sorted(order[i : i + pool], key=lambda k: len(features[k].input_ids))
        out.extend(chunk[j : j + batch_size] for j in range(0, len(chunk), batch_size))
    rng.shuffle(out)
    return out


def collate(features: list[Feature], pad_id: int) -> dict[str, torch.Tensor]:
    # Lengths rounded up to a multiple of 32: oneDNN compiles (and caches) kernels per shape,
    # so a few shapes instead of ~200 keeps steps fast and memory flat.
    n = -(-max(len(f.input_ids) for f in features) // 32) * 32
    ids = torch.full((len(features), n), pad_id, dtype=torch.long)
    mask = torch.zeros((len(features), n), dtype=torch.long)
    allowed = torch.zeros((len(features), n), dtype=torch.bool)
    for i, f in enumerate(features):
        ids[i, : len(f.input_ids)] = torch.tensor(f.input_ids)
        mask[i, : len(f.input_ids)] = 1
        allowed[i, : len(f.context)] = torch.tensor(f.context)
    allowed[:, 0] = True  # <s>: "no answer"
    return {
        "input_ids": ids,
        "attention_mask": mask,
        "allowed": allowed,
        "start": torch.tensor([f.start for f in features]),
        "end": torch.tensor([f.end for f in features]),
    }


def masked_logits(
    model: SpanReaderModel, batch: dict[str, torch.Tensor], bf16: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        start, end = model(batch["input_ids"], batch["attention_mask"])
    fill = torch.finfo(torch.float32).min / 2
    return (
        start.float().masked_fill(~batch["allowed"], fill),
        end.float().masked_fill(~batch["allowed"], fill),
    )


# ---------------------------------------------------------------------------------- held out


@torch.no_grad()
def predict(
    model: SpanReaderModel,
    tokenizer: Any,
    examples: list[reader_data.Example],
    bf16: bool,
    batch_size: int = 32,
) -> list[tuple[str, float]]:
    """Per example: its best span's text and margin over "no answer", over all its windows."""
    model.eval()
    wins = windows(tokenizer, [e.question for e in examples], [e.passage for e in examples])
    order = sorted(range(len(wins)), key=lambda k: len(wins[k].input_ids))
    scored = []
    for i in range(0, len(order), batch_size):
        group = [wins[k] for k in order[i : i + batch_size]]
        feats = [Feature(w.input_ids, [o is not None for o in w.offsets], 0, 0) for w in group]
        start, end = masked_logits(model, collate(feats, tokenizer.pad_token_id), bf16)
        for w, s, e in zip(group, start.float().numpy(), end.float().numpy(), strict=True):
            scored.append((w, best_span(w, s, e)))
    model.train()
    best = best_per_passage(scored)
    return [
        (examples[i].passage[best[i][0].start : best[i][0].end], best[i][0].score - best[i][1])
        if i in best
        else ("", -math.inf)
        for i in range(len(examples))
    ]


def evaluate(
    model: SpanReaderModel, tokenizer: Any, held: list[reader_data.Example], bf16: bool
) -> dict[str, Any]:
    figures = held_out_figures(held, predict(model, tokenizer, held, bf16))
    # The checkpoint choice: span F1 on what is answered, plus abstention on the negatives
    # (a tiny held-out set may have none of one kind: it counts as nothing).
    f1, refused, abstained = (figures[k] or 0.0 for k in ("f1", "refused", "abstained"))
    figures["score"] = f1 * (1 - refused) + abstained
    return figures


# ---------------------------------------------------------------------------------- training


def _fingerprint(cfg: TrainConfig) -> str:
    h = hashlib.sha256()
    for folder in (cfg.data, *cfg.more_data):
        for name in ("contexts.jsonl", "qa.jsonl"):
            h.update((Path(folder) / name).read_bytes())
    recipe = {
        k: v for k, v in asdict(cfg).items() if k not in ("out", "checkpoint_every", "init")
    }
    # options added later leave the fingerprints of runs that keep their defaults unchanged
    for option, default in (("more_data", ()), ("retrieved_share", 0.0), ("layer_decay", 1.0)):
        if recipe[option] == default:
            del recipe[option]
    h.update(json.dumps(recipe, sort_keys=True).encode())
    if cfg.init:  # the starting weights by content: the same file under another name is one run
        h.update(Path(cfg.init).read_bytes())
    return h.hexdigest()[:16]


def split_data(
    cfg: TrainConfig,
) -> tuple[list[reader_data.Example], list[reader_data.Example], list[reader_data.Example]]:
    """(training questions, training examples with negatives, held-out examples with
    negatives): the same for every run with the same data, seed and shares."""
    # Each folder is split on its own: the first folder's held-out articles stay those of a
    # run without the others, so a run that mixes in a newsroom's pairs and starts from the
    # shipped weights (--init) is never calibrated on questions those weights trained on.
    train_ex: list[reader_data.Example] = []
    held_ex: list[reader_data.Example] = []
    for folder in (cfg.data, *cfg.more_data):
        examples = reader_data.load_examples(Path(folder))
        if cfg.limit:
            examples = examples[: cfg.limit]
        trained, held = reader_data.split_held_out(examples, cfg.held_out, cfg.seed)
        train_ex += trained
        held_ex += held
    train_all = reader_data.with_negatives(
        train_ex, cut_share=cfg.cut_share, other_share=cfg.other_share, seed=cfg.seed
    )
    held_all = reader_data.with_negatives(
        held_ex, cut_share=0.5, other_share=0.5, seed=cfg.seed + 1
    )
    if cfg.retrieved_share:  # each split draws only on its own passages
        train_all += reader_data.retrieved_negatives(
            train_ex, share=cfg.retrieved_share, seed=cfg.seed + 2
        )
        held_all += reader_data.retrieved_negatives(held_ex, share=0.5, seed=cfg.seed + 3)
    return train_ex, train_all, held_all


def param_groups(model: SpanReaderModel, cfg: TrainConfig) -> list[dict[str, Any]]:
    """The trained parameters by learning rate and weight decay: matrices decay, vectors do
    not; encoder layer i of n learns at ``lr × layer_decay ** (n - 1 - i)``, the head at lr
    (lower layers hold more of what pretraining learned, so they move less)."""
    layers = len(model.encoder.encoder.layer)
    groups: dict[tuple[float, float], list[torch.nn.Parameter]] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        depth = re.match(r"encoder\.encoder\.layer\.(\d+)\.", name)
        scale = cfg.layer_decay ** (layers - 1 - int(depth.group(1))) if depth else 1.0
        groups.setdefault((scale, cfg.weight_decay if p.ndim > 1 else 0.0), []).append(p)
    return [{"params": ps, "lr": cfg.lr * scale, "weight_decay": decay}
            for (scale, decay), ps in groups.items()]


class Run:
    """One training run in ``cfg.out``: set up (or resumed from its checkpoint), then stepped."""

    def __init__(self, cfg: TrainConfig) -> None:
        from transformers import AutoTokenizer

        from ..embed.offline_model import default_model_revision, ensure_default_model

        if cfg.init and not Path(cfg.init).is_file():
            raise SystemExit(f"--init {cfg.init}: no such weights file")
        self.cfg, self.out = cfg, Path(cfg.out)
        self.out.mkdir(parents=True, exist_ok=True)
        torch.set_num_threads(int(os.environ.get("NEWSQA_THREADS", os.cpu_count() or 1)))
        random.seed(cfg.seed)
        torch.manual_seed(cfg.seed)
        self.base = ensure_default_model()
        self.base_revision = default_model_revision(self.base)
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.base))
        train_ex, train_all, self.held = split_data(cfg)
        self.features = build_features(self.tokenizer, train_all, cfg, cfg.seed)
        self.steps_per_epoch = math.ceil(len(self.features) / cfg.batch_size)
        self.total = max(1, round(self.steps_per_epoch * cfg.epochs))
        self.fingerprint = _fingerprint(cfg)
        _log(
            self.out,
            f"{len(train_ex)} train / {sum(e.start is not None for e in self.held)} "
            f"held-out questions; {len(train_all)} examples → {len(self.features)} "
            f"windows; {self.total} steps of {cfg.batch_size}; run {self.fingerprint}",
        )
        self.model = SpanReaderModel(base_encoder(self.base))
        if cfg.init:
            self._start_from(Path(cfg.init))
        self.model.freeze_below(cfg.trained_layers)
        self.model.train()
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(param_groups(self.model, cfg), lr=cfg.lr)
        warmup, total = max(1, round(self.total * cfg.warmup)), self.total
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer,
            lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup))),
        )
        self.step, self.best_score = 0, -math.inf
        self.history: list[dict[str, Any]] = []
        self.checkpoint = self.out / "checkpoint.pt"
        if self.checkpoint.exists():
            self._resume()

    def _start_from(self, weights: Path) -> None:
        """Begin from an earlier run's weights: a second stage, or a newsroom's own pairs."""
        try:
            count = apply_trained(self.model, weights)
        except ValueError as e:
            raise SystemExit(f"--init: {e}") from None
        _log(self.out, f"starting from {weights} ({count} tensors)")

    def _resume(self) -> None:
        state = torch.load(self.checkpoint, weights_only=False)
        if state["fingerprint"] != self.fingerprint:
            raise SystemExit(
                f"{self.checkpoint} belongs to another run (data or options differ); "
                "remove it or choose another --out"
            )
        self.model.load_state_dict(state["model"], strict=False)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step, self.best_score, self.history = (
            state["step"],
            state["best_score"],
            state["history"],
        )
        torch.set_rng_state(state["torch_rng"])
        _log(self.out, f"resumed at step {self.step}")

    def save_checkpoint(self) -> None:
        """Everything a resumed run needs, written atomically (a kill never leaves half)."""
        tmp = self.checkpoint.with_suffix(".tmp")
        torch.save(
            {
                "fingerprint": self.fingerprint,
                "model": self.model.trained_state(self.cfg.trained_layers),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "step": self.step,
                "best_score": self.best_score,
                "history": self.history,
                "torch_rng": torch.get_rng_state(),
            },
            tmp,
        )
        os.replace(tmp, self.checkpoint)

    def held_out_round(self) -> None:
        """Measure on the held-out set; keep the weights if they are the best so far."""
        figures = evaluate(self.model, self.tokenizer, self.held, self.cfg.bf16)
        figures["step"] = self.step
        self.history.append(figures)
        rounded = {k: round(v, 4) if isinstance(v, float) else v for k, v in figures.items()}
        _log(self.out, "held-out " + json.dumps(rounded))
        if figures["score"] > self.best_score:
            self.best_score = figures["score"]
            meta = {
                "base_revision": self.base_revision,
                "run": self.fingerprint,
                "config": asdict(self.cfg),
                "held_out": figures,
                "threshold": figures["threshold"],
                "max_length": MAX_LENGTH,
                "stride": STRIDE,
            }
            save_weights(self.model, self.cfg.trained_layers, self.out / "reader.safetensors", meta)
            _log(self.out, f"best so far (score {self.best_score:.4f}): wrote reader.safetensors")

    def train_step(self, indices: list[int]) -> float:
        batch = collate([self.features[i] for i in indices], self.tokenizer.pad_token_id)
        start, end = masked_logits(self.model, batch, self.cfg.bf16)
        loss = (
            torch.nn.functional.cross_entropy(start, batch["start"])
            + torch.nn.functional.cross_entropy(end, batch["end"])
        ) / 2
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, 1.0)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        return loss.item()

    def run(self, stop_after: int = 0) -> dict[str, Any]:
        """Train to the end (or for ``stop_after`` more steps, leaving a checkpoint)."""
        from tqdm import tqdm

        cfg, stop_at = (
            self.cfg,
            self.total if not stop_after else min(self.total, self.step + stop_after),
        )
        bar = tqdm(
            total=self.total,
            initial=self.step,
            desc="training reader",
            unit="step",
            file=sys.stderr,
        )
        running = None
        while self.step < stop_at:
            epoch = self.step // self.steps_per_epoch
            plan = batches(self.features, cfg.batch_size, cfg.seed * 1000 + epoch)
            for indices in plan[self.step % self.steps_per_epoch :]:
                if self.step >= stop_at:
                    break
                loss = self.train_step(indices)
                running = loss if running is None else 0.9 * running + 0.1 * loss
                bar.update(1)
                top_lr = max(self.scheduler.get_last_lr())  # the head's, with --layer-decay
                bar.set_postfix(loss=f"{running:.3f}", lr=f"{top_lr:.2e}")
                if self.step % 10 == 0:
                    _log(self.out, f"step {self.step}/{self.total} loss {running:.4f}")
                if self.step % cfg.eval_every == 0 or self.step == self.total:
                    self.held_out_round()
                if self.step % cfg.checkpoint_every == 0 or self.step in (stop_at, self.total):
                    self.save_checkpoint()
        bar.close()
        summary = {
            "run": self.fingerprint,
            "step": self.step,
            "total": self.total,
            "best_score": self.best_score,
            "history": self.history,
        }
        (self.out / "summary.json").write_text(
            json.dumps(summary, indent=2, ensure_ascii=False) + "\n", "utf-8"
        )
        return summary


def train(cfg: TrainConfig, *, stop_after: int = 0) -> dict[str, Any]:
    return Run(cfg).run(stop_after)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m retrieval.reader.train", description=__doc__.splitlines()[0]
    )
    defaults = TrainConfig(data="", out="")
    parser.add_argument(
        "--data", required=True, action="append",
        help="folder with contexts.jsonl and qa.jsonl (repeat it to mix folders)",
    )
    parser.add_argument(
        "--out", required=True, help="folder for checkpoints, the log and reader.safetensors"
    )
    for name, value in asdict(defaults).items():
        if name in ("data", "out", "more_data"):
            continue
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=value)
        else:
            parser.add_argument(flag, type=type(value), default=value)
    parser.add_argument(
        "--stop-after",
        type=int,
        default=0,
        metavar="N",
        help="stop after N more steps, leaving a checkpoint (rerun to continue)",
    )
    args = vars(parser.parse_args(argv))
    stop_after = args.pop("stop_after")
    first, *more = args.pop("data")
    train(TrainConfig(data=first, more_data=tuple(more), **args), stop_after=stop_after)


if __name__ == "__main__":
    main()
