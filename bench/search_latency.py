"""Search latency and footprint of the index at 10k / 100k / 1M chunks.

    python bench/search_latency.py [--sizes 10000,100000] [--dense-only 1000000] [--hnsw 100000]
                                   [--common-caps 20000,10000] [--vectors real-like]

- Full-path figures (``Index.search_vectors`` incl. SQLite id resolution, ``Index.lexical_search``
  incl. jieba on the query) on synthetic indexes: chunks are 2–4 random sentences of CMRC 2018
  dev passages (../shared/benchmarks/cmrc2018-dev, CC BY-SA 4.0; realistic Chinese word
  statistics), vectors are random unit vectors (the cost of exact search does not depend on the
  values), queries are the CMRC dev questions (lexical) and random unit vectors (dense).
- ``--dense-only``: the bare FAISS side at that size (exact search), random unit vectors.
- ``--hnsw``: HNSW build time, latency and recall@10 against exact search at that size, bare
  FAISS side (random vectors: the hardest case for a graph index; real embeddings cluster).
  ``--vectors real-like``: chunk vectors are means of 2–4 real CMRC sentence embeddings and
  queries real CMRC question embeddings (class ``RealLike``), closer to an archive.
Disk per chunk is the whole index directory; RAM per chunk is the RSS growth of loading it.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.shared import process_mb
from retrieval.articles import Article, Chunk, ChunkingConfig
from retrieval.index import Index, VectorConfig, core
from retrieval.index.manifest import Manifest
from retrieval.index.store import NewChunk, Store
from retrieval.index.vectors import VectorIndex
from retrieval.normalize import NORMALIZATION, query_words, tokenize_for_search

ROOT = Path(__file__).resolve().parents[1]
CMRC = ROOT.parent / "shared" / "benchmarks" / "cmrc2018-dev"
DIM = 384
QUERIES = 200


def rss_mb() -> float:
    return process_mb("VmRSS")


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM), dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v


def percentiles(samples: list[float]) -> str:
    ms = np.array(samples) * 1000
    return f"p50 {np.percentile(ms, 50):7.2f} ms  p95 {np.percentile(ms, 95):7.2f} ms"


def sentences() -> list[tuple[str, str]]:
    """(sentence, its search words) from CMRC passages, tokenised once."""
    out = []
    for line in (CMRC / "contexts.jsonl").read_text(encoding="utf-8").splitlines():
        text = json.loads(line)["text"]
        for s in re.findall(r"[^。！？\n]+[。！？]?", text):
            if len(s) >= 8:
                out.append((s, " ".join(tokenize_for_search(s))))
    return out


def build(path: Path, n: int, pool: list[tuple[str, str]], seed: int,
          vectors_of: Callable[[np.random.Generator, int], np.ndarray] | None = None) -> float:
    """A synthetic index of ``n`` chunks (4 per article) written straight into the store.

    ``vectors_of(rng, m)``: the chunk vectors (default: random unit vectors). With it, ``path``
    must already hold an index (e.g. made by ``Library.create``) whose manifest is kept.
    """
    rng, prng = np.random.default_rng(seed), random.Random(seed)
    if vectors_of is None:
        path.mkdir(parents=True)
        Manifest(model="synthetic-random-vectors", revision="none", dimension=DIM,
                 query_prompt="", passage_prompt="", backend="none",
                 normalization=NORMALIZATION,
                 chunking={k: getattr(ChunkingConfig(), k) for k in ChunkingConfig.__slots__},
                 vector_index={"hnsw_threshold": 10**9}).save(path)
    store = Store(path, create=vectors_of is None)
    started = time.perf_counter()
    per_batch = 1000
    for first in range(0, n, per_batch):
        articles, chunks = [], []
        m = min(per_batch, n - first)
        vectors = (unit(rng, m) if vectors_of is None else vectors_of(rng, m)).astype(np.float16)
        for i in range(first, min(first + per_batch, n), 4):
            parts = [prng.sample(pool, prng.randint(2, 4)) for _ in range(min(4, n - i))]
            paragraphs = tuple("".join(s for s, _ in p) for p in parts)
            article = Article(id=f"a{i}", title=None, paragraphs=paragraphs,
                              date=f"20{10 + (i // 4) % 14}-01-01", source="bench")
            articles.append(article)
            offset = 0
            for ordinal, (para, p) in enumerate(zip(paragraphs, parts, strict=True)):
                chunk = Chunk(article.id, ordinal, offset, offset + len(para), para, None)
                chunks.append(NewChunk(chunk, " ".join(w for _, w in p),
                                       vectors[i - first + ordinal]))
                offset += len(para) + 1
        store.write_batch(articles, chunks)
    store.close()
    return time.perf_counter() - started


def full_path(n: int, pool: list[tuple[str, str]], questions: list[str], tmp: Path,
              caps: tuple[int, ...] = ()) -> None:
    default_cap = core.COMMON_CAP
    path = tmp / f"idx-{n}"
    seconds = build(path, n, pool, seed=n)
    before = rss_mb()
    started = time.perf_counter()
    index = Index.open(path)  # no vectors file yet: built from the vectors stored in SQLite
    rebuild = time.perf_counter() - started
    ram = (rss_mb() - before) * 1024 * 1024 / n
    disk = index.stats().bytes_on_disk / n
    rng = np.random.default_rng(1)
    queries = unit(rng, QUERIES)
    index.search_vectors(queries[:1], 20)
    dense = []
    for q in queries:
        t = time.perf_counter()
        index.search_vectors(q[None, :], 20)
        dense.append(time.perf_counter() - t)
    t = time.perf_counter()
    index.search_vectors(queries[:32], 20)
    batch32 = (time.perf_counter() - t) / 32
    dated = []
    for q in queries[:50]:
        t = time.perf_counter()
        index.search_vectors(q[None, :], 20, date_from="2015-01-01", date_to="2015-12-31")
        dated.append(time.perf_counter() - t)
    lexical, every_word, overlap = [], [], []
    for question in questions[:QUERIES]:
        t = time.perf_counter()
        hits = index.lexical_search(question, 20)
        lexical.append(time.perf_counter() - t)
        # FTS5 with every query word kept: the exact BM25 ranking the word index approximates
        t = time.perf_counter()
        words = query_words(question)
        exact = index._store.lexical(
            " OR ".join('"' + w.replace('"', '""') + '"' for w in words), 20, None, None
        ) if words else []
        every_word.append(time.perf_counter() - t)
        if exact:
            found = {h.chunk_id for h in hits}
            overlap.append(len(found & {row[0] for row in exact}) / len(exact))
    capped = []
    # The cap prunes FTS5's query, which answers only while the word index lags: force that.
    index._words_current = lambda: False  # type: ignore[method-assign]
    for cap in caps:
        core.COMMON_CAP = cap
        times, agree = [], []
        for question in questions[:QUERIES]:
            t = time.perf_counter()
            hits = index.lexical_search(question, 20)
            times.append(time.perf_counter() - t)
            words = query_words(question)
            exact = index._store.lexical(
                " OR ".join('"' + w.replace('"', '""') + '"' for w in words), 20, None, None
            ) if words else []
            if exact:
                agree.append(len({h.chunk_id for h in hits} & {r[0] for r in exact}) / len(exact))
        capped.append((cap, times, agree))
    core.COMMON_CAP = default_cap
    index.close()
    print(f"[{n:>9,} chunks] store write {seconds:6.1f}s ({n / seconds:,.0f} chunks/s), "
          f"FAISS and word index built from SQLite in {rebuild:5.1f}s; disk {disk:,.0f} B/chunk, "
          f"RAM {ram:,.0f} B/chunk")
    print(f"    dense  (exact, k=20, single query)  {percentiles(dense)}; "
          f"batch of 32: {batch32 * 1000:.2f} ms/query")
    print(f"    dense  with a 1-year date filter    {percentiles(dated)}")
    print(f"    lexical (Tantivy BM25, k=20, CMRC q) {percentiles(lexical)}")
    print(f"    lexical, FTS5 with every word        {percentiles(every_word)}; top-20 overlap "
          f"with it: mean {np.mean(overlap):.3f}, min {np.min(overlap):.2f}")
    for cap, times, agree in capped:
        print(f"    lexical, FTS5 + COMMON_CAP {cap:>9,} {percentiles(times)}; top-20 overlap "
              f"with every word: mean {np.mean(agree):.3f}")


class RealLike:
    """Vectors shaped like an archive's: each chunk vector is the normalised mean of the real
    embeddings of 2-4 random CMRC sentences (as the bench's chunks are 2-4 random sentences),
    queries are real CMRC question embeddings. Random unit vectors are the worst case for a
    graph index; this is closer to what HNSW meets in an archive (still not the real thing:
    a mean of sentence vectors only approximates the embedding of their concatenation)."""

    def __init__(self, pool: list[tuple[str, str]], questions: list[str]) -> None:
        from retrieval.embed.embedder import load_embedder

        embedder = load_embedder()
        started = time.perf_counter()
        self.sentences = embedder.embed_passages([text for text, _ in pool]).astype(np.float32)
        self.queries = embedder.embed_queries(questions[:100]).astype(np.float32)
        print(f"real-like vectors: {len(pool):,} sentences and 100 questions encoded in "
              f"{time.perf_counter() - started:.0f}s")

    def chunks(self, rng: np.random.Generator, m: int) -> np.ndarray:
        counts = rng.integers(2, 5, size=m)
        picks = rng.integers(0, len(self.sentences), size=(m, 4))
        mask = np.arange(4)[None, :] < counts[:, None]
        v = (self.sentences[picks] * mask[:, :, None]).sum(axis=1)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        return v.astype(np.float32)


def bare(n: int, kind: str, ef_searches: tuple[int, ...] = (),
         real: RealLike | None = None, config: VectorConfig | None = None) -> None:
    """Build time, RAM and latency of the bare FAISS side; for HNSW also recall@10 against
    exact search of the same vectors, at the configured efSearch and at ``ef_searches``.
    ``real``: real-like vectors and queries instead of random unit vectors."""
    rng = np.random.default_rng(7)
    before = rss_mb()
    vi = VectorIndex(DIM, config or VectorConfig(), kind=kind)
    exact = faiss.IndexFlatIP(DIM) if kind == "hnsw" else None
    started = time.perf_counter()
    build_s = 0.0
    for first in range(0, n, 100_000):
        m = min(100_000, n - first)
        vectors = unit(rng, m) if real is None else real.chunks(rng, m)
        t = time.perf_counter()
        vi.add(np.arange(first, first + m), vectors)
        build_s += time.perf_counter() - t
        if exact is not None:
            exact.add(vectors)  # ids are positions: the same as vi's here
    ram = (rss_mb() - before) * 1024 * 1024 / n
    queries = unit(rng, 100) if real is None else real.queries
    vi.search(queries[:1], 20)
    lat = []
    for q in queries:
        t = time.perf_counter()
        vi.search(q[None, :], 20)
        lat.append(time.perf_counter() - t)
    t = time.perf_counter()
    vi.search(queries[:32], 20)
    batch32 = (time.perf_counter() - t) / 32
    label = "random" if real is None else "real-like"
    print(f"[{n:>9,} {label} vectors, bare FAISS {kind}, efConstruction "
          f"{vi.config.ef_construction}] built in {build_s:.1f}s "
          f"({n / build_s:,.0f} vectors/s), RAM {ram:,.0f} B/vector (incl. an exact copy for "
          f"recall when HNSW); single query {percentiles(lat)}; batch of 32: "
          f"{batch32 * 1000:.2f} ms/query ({time.perf_counter() - started:.0f}s in all)")
    if exact is None:
        return
    scores, truth = exact.search(queries, 10)
    default = vi.config.ef_search
    for ef in (default, *ef_searches):
        vi.config = replace(vi.config, ef_search=ef)
        times, found = [], []
        for q in queries:
            t = time.perf_counter()
            _, ids = vi.search(q[None, :], 10)
            times.append(time.perf_counter() - t)
            found.append(ids[0])
        recall = np.mean([len(set(f.tolist()) & set(g.tolist())) / 10
                          for f, g in zip(found, truth, strict=True)])
        # Chunks sharing sentences tie; a found chunk scoring as high as the exact 10th is as good.
        tied = np.mean([
            sum(float(exact.reconstruct(int(i)) @ q) >= tenth - 1e-5 for i in f if i >= 0) / 10
            for f, q, tenth in zip(found, queries, scores[:, 9], strict=True)
        ])
        print(f"    efSearch {ef:>4}: recall@10 vs exact {recall:.3f} ({tied:.3f} counting "
              f"ties); single query {percentiles(times)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="full-path index sizes")
    parser.add_argument("--dense-only", default="1000000", help="bare exact FAISS sizes")
    parser.add_argument("--hnsw", default="100000", help="bare HNSW sizes ('' to skip)")
    parser.add_argument("--ef-search", default="64,256",
                        help="also measure HNSW recall@10 at these efSearch values")
    parser.add_argument("--vectors", choices=("random", "real-like"), default="random",
                        help="HNSW vectors: random unit vectors (worst case) or means of real "
                        "CMRC sentence embeddings with real question queries")
    parser.add_argument("--ef-construction", type=int, default=VectorConfig().ef_construction,
                        help="HNSW efConstruction for --hnsw (the product's default otherwise)")
    parser.add_argument("--threads", type=int, default=0, help="FAISS threads (0: as newsqa)")
    parser.add_argument("--common-caps", default="",
                        help="also time lexical search with these COMMON_CAP values")
    args = parser.parse_args()

    if args.threads:
        faiss.omp_set_num_threads(args.threads)

    load = Path("/proc/loadavg").read_text().split()[0]
    print(f"faiss {faiss.__version__}, {faiss.omp_get_max_threads()} threads; "
          f"load average at start {load}")
    pool = sentences()
    questions = [json.loads(line)["question"] for line in
                 (CMRC / "qa.jsonl").read_text(encoding="utf-8").splitlines()]
    random.Random(3).shuffle(questions)
    print(f"sentence pool: {len(pool):,} CMRC sentences; queries: {QUERIES}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",") if s):
            full_path(n, pool, questions, Path(tmp),
                      tuple(int(c) for c in args.common_caps.split(",") if c))
    for n in (int(s) for s in args.dense_only.split(",") if s):
        bare(n, "flat")
    real = RealLike(pool, questions) if args.vectors == "real-like" and args.hnsw else None
    for n in (int(s) for s in args.hnsw.split(",") if s):
        bare(n, "hnsw", tuple(int(e) for e in args.ef_search.split(",") if e), real,
             VectorConfig(ef_construction=args.ef_construction))


if __name__ == "__main__":
    main()
