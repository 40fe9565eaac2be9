"""Ingest throughput: chunks/s of the whole pipeline (`Library.ingest`: chunk, jieba, SQLite
commit of the words, then the vectors' catch-up: embed, SQLite commit, FAISS add + save)
against plain `SentenceTransformer.encode` of the same chunk texts, in the same run, on the
same model folder. Target (issue 12): ratio ≥ 2.5. Also: how long until every article was
searchable by words (the words phase), as a share of the whole ingest.

    python bench/ingest_throughput.py [--articles 120] [--repeats 2]

Corpus: CMRC 2018 dev passages (../shared/benchmarks/cmrc2018-dev, CC BY-SA 4.0) as articles.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from retrieval.articles import Article
from retrieval.chunks import chunk_article
from retrieval.embed.embedder import load_embedder
from retrieval.embed.offline_model import ensure_default_model
from retrieval.index import passage_text
from retrieval.library import Library

ROOT = Path(__file__).resolve().parents[1]
CONTEXTS = ROOT.parent / "shared" / "benchmarks" / "cmrc2018-dev" / "contexts.jsonl"


def corpus(n: int) -> list[Article]:
    articles = []
    for line in CONTEXTS.read_text(encoding="utf-8").splitlines()[:n]:
        r = json.loads(line)
        paragraphs = tuple(p for p in r["text"].split("\n") if p.strip())
        articles.append(Article(id=r["context_id"], title=r["title"], paragraphs=paragraphs,
                                date="2018-01-01", source="CMRC 2018"))
    return articles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    from sentence_transformers import SentenceTransformer

    articles = corpus(args.articles)
    texts = [passage_text(c) for a in articles for c in chunk_article(a)]
    embedder = load_embedder()
    plain = SentenceTransformer(str(ensure_default_model()), device="cpu")
    prompt = embedder.info.passage_prompt
    plain.encode(texts[:32], prompt=prompt, batch_size=32)  # warm-up
    embedder.embed_passages(texts[:32])

    plain_rates, pipeline_rates, words_shares = [], [], []
    for _ in range(args.repeats):
        started = time.perf_counter()
        plain.encode(texts, prompt=prompt, batch_size=32, normalize_embeddings=True)
        plain_rates.append(len(texts) / (time.perf_counter() - started))
        with tempfile.TemporaryDirectory() as tmp:
            library = Library.create(Path(tmp) / "index", embedder=embedder)
            started = time.perf_counter()
            report = library.ingest(articles)
            pipeline_rates.append(report.chunks_added / (time.perf_counter() - started))
            words_shares.append(report.words_seconds / report.seconds)
            assert report.chunks_pending == 0 and report.chunks_embedded == report.chunks_added
            library.close()
    p, q = statistics.median(plain_rates), statistics.median(pipeline_rates)
    print(f"corpus: {len(articles)} CMRC articles, {len(texts)} chunks "
          f"(mean {sum(map(len, texts)) / len(texts):.0f} chars incl. headline)")
    print(f"model: {embedder.info.name} backend={embedder.info.backend}")
    print(f"plain SentenceTransformer.encode: {p:.1f} chunks/s  (runs: "
          f"{', '.join(f'{r:.1f}' for r in plain_rates)})")
    print(f"Library.ingest pipeline:          {q:.1f} chunks/s  (runs: "
          f"{', '.join(f'{r:.1f}' for r in pipeline_rates)})")
    print(f"searchable by words after {statistics.median(words_shares):.1%} of the ingest "
          f"(runs: {', '.join(f'{w:.1%}' for w in words_shares)})")
    print(f"ratio pipeline/plain: {q / p:.2f} (target >= 2.5); load={os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
