"""Chunking throughput: how many chunks per second `chunk_article` produces.

    python bench/bench_chunking.py [--contexts PATH] [--repeat N]

Uses the CMRC 2018 dev passages (Chinese Wikipedia, CC BY-SA 4.0) when present, else the
bundled newspaper page; each passage becomes one article. Prints chunks/s and characters/s.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from retrieval.articles import Article
from retrieval.chunks import chunk_article

ROOT = Path(__file__).resolve().parent.parent
CMRC = ROOT.parent / "shared" / "benchmarks" / "cmrc2018-dev" / "contexts.jsonl"
PAGE = ROOT / "retrieval" / "data" / "liaocheng-daily-page.txt"


def load(path: Path | None) -> list[Article]:
    if path is not None and path.exists():
        with path.open(encoding="utf-8") as f:
            texts = [json.loads(line)["text"] for line in f if line.strip()]
    else:
        texts = [p.replace("\n", "") for p in PAGE.read_text(encoding="utf-8").split("\n\n")]
        texts = ["\n".join(texts)]
    return [
        Article(id=str(i), title=None, paragraphs=tuple(t.split("\n"))) for i, t in enumerate(texts)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contexts", type=Path, default=CMRC, help="JSONL with a 'text' field")
    parser.add_argument("--repeat", type=int, default=20, help="passes over the articles")
    args = parser.parse_args()
    articles = load(args.contexts)
    chars = sum(len(a.text) for a in articles) * args.repeat
    chunks = 0
    start = time.perf_counter()
    for _ in range(args.repeat):
        for article in articles:
            chunks += len(chunk_article(article))
    elapsed = time.perf_counter() - start
    rate, char_rate = chunks / elapsed, chars / elapsed / 1e6
    print(
        f"{len(articles)} articles x {args.repeat}: {chunks} chunks, {chars} chars "
        f"in {elapsed:.2f}s -> {rate:,.0f} chunks/s, {char_rate:.1f}M chars/s"
    )


if __name__ == "__main__":
    main()
