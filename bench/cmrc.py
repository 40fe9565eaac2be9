"""CMRC 2018 dev as a retrieval + extractive-answer benchmark for newsqa (prints figures).

    python bench/cmrc.py                 # full run: every question through Library.ask
    python bench/cmrc.py --oracle        # the reader alone, on each question's gold passage
    python bench/cmrc.py --limit 500     # a quicker sample
    python bench/cmrc.py --near-miss     # the answering sentence cut: is "not found" said?

The 848 passages are indexed as articles (id = context_id, title, body = text) into a cached
index under the user cache dir, built once per model and reused. Data: CMRC 2018 (Cui et al.,
EMNLP 2019), CC BY-SA 4.0, from /work/shared/benchmarks/cmrc2018-dev (see its README).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.shared import cmrc_dir
from retrieval.articles import Article
from retrieval.reader.metrics import exact_match
from retrieval.reader.metrics import f1 as char_f1

DATA = cmrc_dir()  # <repo>/../shared/benchmarks/cmrc2018-dev, or $NEWSQA_SHARED / $NEWSQA_CMRC


def load_contexts() -> dict[str, dict]:
    with open(DATA / "contexts.jsonl", encoding="utf-8") as f:
        return {c["context_id"]: c for c in map(json.loads, f)}


def load_questions() -> list[dict]:
    with open(DATA / "qa.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def is_fit_half(context_id: str) -> bool:
    """The sentence ranker is fitted on these passages (bench/fit_sentences.py); the others
    are its test half."""
    return hashlib.md5(context_id.encode()).digest()[0] % 2 == 0


def as_articles(contexts: dict[str, dict]) -> Iterator[Article]:
    for c in contexts.values():
        yield Article(id=c["context_id"], title=c["title"], paragraphs=(c["text"],),
                      source="CMRC 2018 dev")


def index_dir(model: str | None) -> Path:
    from platformdirs import user_cache_dir

    from retrieval.embed.embedder import DEFAULT_BACKEND

    # The backend is part of the name: an index keeps the backend it was built with.
    name = (model or "default").replace("/", "_")
    return Path(user_cache_dir("newsqa")) / "bench" / f"cmrc2018-dev-{name}-{DEFAULT_BACKEND}"


def build_index(model: str | None) -> Path:
    """Build (or reuse) the cached benchmark index; returns its directory."""
    from retrieval.index import Index

    path = index_dir(model)
    contexts = load_contexts()
    with Index.open(path, model=model, create=True) as index:
        if index.stats().articles != len(contexts):
            started = time.perf_counter()
            index.upsert(list(as_articles(contexts)))
            print(f"built {path} in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    return path


def sample_index(tmp: Path) -> Path:
    """An index of the bundled sample page: unrelated to CMRC, so nothing there should answer."""
    from retrieval.index import Index
    from retrieval.sources.loading import load_articles

    root = Path(__file__).resolve().parent.parent
    page = root / "retrieval" / "data" / "liaocheng-daily-page.txt"
    path = tmp / "sample-index"
    with Index.open(path, create=True) as index:
        index.upsert(load_articles(page, source="聊城日报"))
    return path


def run_oracle(limit: int | None) -> None:
    """Each question's gold passage given (no retrieval): what the reader alone can do, and
    the sentence-ranking extraction it replaced."""
    from collections import Counter

    from retrieval.answer.question import analyze
    from retrieval.answer.sentences import extract
    from retrieval.reader.metrics import span_fit
    from retrieval.reader.reader import Reader

    contexts, questions = load_contexts(), load_questions()[:limit]
    reader = Reader.load()
    shown = highlighted = sentences = 0
    test_n = test_shown = 0
    em = f1 = 0.0
    fits: Counter[str] = Counter()
    started = time.perf_counter()
    for q in questions:
        c = contexts[q["context_id"]]
        got = extract(analyze(q["question"]), c["text"], title=c["title"])
        assert got is not None
        quote = "".join(s.of(c["text"]) for s in got.sentences)
        marks = "".join(s.of(c["text"]) for s in got.highlights)
        hit = any(a in quote for a in q["answers"])
        shown += hit
        if not is_fit_half(q["context_id"]):
            test_n += 1
            test_shown += hit
        highlighted += any(a in marks for a in q["answers"])
        sentences += len(got.sentences)
        reading = reader.read(q["question"], [c["text"]])[0]
        span = reading.text if reading is not None else ""
        em += exact_match(span, q["answers"])
        f1 += char_f1(span, q["answers"])
        fits[span_fit(span, q["answers"])] += 1
    n = len(questions)
    print(f"oracle (gold passage) n={n}, {1000 * (time.perf_counter() - started) / n:.1f} "
          f"ms/question")
    print(f"  reader, best span whatever its margin: EM {em / n:.3f}, F1 {f1 / n:.3f}")
    print("  its span against the gold answer: " + ", ".join(
        f"{kind} {fits[kind] / n:.3f}"
        for kind in ("exact", "inside", "around", "overlap", "apart", "none")))
    print(f"  sentence ranking: gold answer in answer sentences {shown / n:.3f} "
          f"(avg {sentences / n:.2f} sentences; test half {test_shown / max(test_n, 1):.3f}), "
          f"in highlight {highlighted / n:.3f}")


def run_full(limit: int | None, model: str | None, latency_sample: int) -> list:
    from retrieval.library import Library

    questions = load_questions()[:limit]
    path = build_index(model)
    library = Library.open(path, model=model)
    library.ask("热身")  # loads the model, jieba and the FAISS cache: measure warm latency
    answers = []
    started = time.perf_counter()
    for start in range(0, len(questions), 32):
        batch = questions[start: start + 32]
        answers += library.ask_batch([q["question"] for q in batch], k=10)
    batch_seconds = time.perf_counter() - started
    hit1 = hit5 = mrr = in_answer = in_top3 = not_found = ranked_first = 0.0
    em = f1 = 0.0
    shown_lengths = []
    lost = {"refused": 0.0, "another article cited": 0.0, "the right article, span off": 0.0}
    for q, a in zip(questions, answers, strict=True):
        short = short_answer(a)
        em += exact_match(short, q["answers"])
        score = char_f1(short, q["answers"])
        f1 += score
        lost[_where_lost(a, q["context_id"])] += 1 - score
        if a.found:
            shown_lengths.append(len(a.text))
        # Ranking alone: a not-found answer still lists its closest articles as suggestions.
        first = a.citations[0].article_id if a.found else a.suggestions[0].article_id
        ranked_first += first == q["context_id"]
        ids = [c.article_id for c in a.citations]
        rank = ids.index(q["context_id"]) + 1 if q["context_id"] in ids else None
        hit1 += rank == 1
        hit5 += rank is not None and rank <= 5
        mrr += 1 / rank if rank is not None and rank <= 10 else 0
        in_answer += a.found and any(g in a.text for g in q["answers"])
        top3 = "".join(c.excerpt for c in a.citations[:3])
        in_top3 += any(g in top3 for g in q["answers"])
        not_found += not a.found
    n = len(questions)
    latencies = []
    for q in questions[:latency_sample]:
        t = time.perf_counter()
        library.ask(q["question"])
        latencies.append(1000 * (time.perf_counter() - t))
    cuts = statistics.quantiles(latencies, n=20)
    stats = library.about()
    library.close()
    print(f"CMRC 2018 dev, {n} questions over {stats.articles} passages ({stats.chunks} chunks)")
    print(f"model {stats.model} ({stats.backend}, {stats.vector_index}); "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    print(f"passage hit@1 {hit1 / n:.3f}  hit@5 {hit5 / n:.3f}  MRR@10 {mrr / n:.3f} "
          f"(among citations); ranking hit@1 ignoring not-found {ranked_first / n:.3f}")
    print(f"gold answer in `answer` {in_answer / n:.3f}  in top-3 excerpts {in_top3 / n:.3f}  "
          f"not found {not_found / n:.3f}")
    print(f"short answer (the reader's span, else the highlight): exact match {em / n:.3f}  "
          f"F1 {f1 / n:.3f}; shown answer median {statistics.median(shown_lengths or [0]):.0f} "
          "characters")
    print("F1 lost (1 − F1 = " + f"{1 - f1 / n:.3f}): " + ", ".join(
        f"{where} {value / n:.3f}" for where, value in lost.items()))
    print(f"ask latency warm, single question (n={len(latencies)}): p50 {cuts[9]:.1f} ms  "
          f"p95 {cuts[18]:.1f} ms; batched {1000 * batch_seconds / n:.1f} ms/question")
    return answers


def _where_lost(answer: Any, context_id: str) -> str:
    """Which of ``run_full``'s F1-loss kinds an answer to a question on ``context_id`` is."""
    if not answer.found:
        return "refused"
    if answer.citations[0].article_id != context_id:
        return "another article cited"
    return "the right article, span off"


def short_answer(answer: Any) -> str:
    """What a reader takes as the answer: the reader's span, else the bold highlight."""
    if answer.span is not None:
        return str(answer.span)
    if not answer.found:
        return ""
    return "".join(s.text for s in answer.citations[0].segments if s.role == "highlight")


def cut_half(
    contexts: dict[str, dict], questions: list[dict], *, salt: str = ""
) -> tuple[dict[str, dict], list[dict], list[dict]]:
    """Half of the passages (the odd ones by hash) lose the sentence answering one of their
    questions, chosen among those whose answer occurs once; returns (passages as indexed,
    the cut questions, the questions on untouched passages).

    ``salt`` draws another half and another question per passage (the first that qualifies
    in an order hashed with it): more near misses from the same passages.
    """
    from retrieval.chunks import split_sentences

    if salt:
        questions = sorted(questions, key=lambda q: hashlib.md5((salt + q["id"]).encode()).digest())
    contexts = dict(contexts)
    cut_questions: list[dict] = []
    cut_ids: set[str] = set()
    for q in questions:
        cid = q["context_id"]
        if cid in cut_ids or is_fit_half(salt + cid):
            continue
        text = contexts[cid]["text"]
        answer = q["answers"][0]
        if not answer or text.count(answer) != 1:
            continue
        at = text.index(answer)
        spans = split_sentences(text)
        kept = "".join(text[a:b] for a, b in spans if b <= at or a >= at + len(answer))
        if len(kept) == sum(b - a for a, b in spans) or not kept:
            continue
        if any(g and g in kept for g in q["answers"]):
            continue
        contexts[cid] = {**contexts[cid], "text": kept}
        cut_ids.add(cid)
        cut_questions.append(q)
    untouched = [q for q in questions if q["context_id"] not in cut_ids]
    return contexts, cut_questions, untouched


def run_archive(
    name: str, contexts: dict[str, dict], cut: list[dict], untouched: list[dict],
    *, thresholds: bool = False, model: str | None = None,
    articles: Sequence[Article] | None = None,
) -> tuple[list, list]:
    """Index ``contexts`` (or ``articles`` made of them), ask every question, print the
    not-found figures (and a table); returns the answers to the cut and untouched questions."""
    from retrieval.index import Index
    from retrieval.library import Library

    path = index_dir(model).with_name(f"{name}-{index_dir(model).name}")
    with Index.open(path, model=model, create=True) as index:
        stored = {a.id: a.text for a in index.articles(limit=10**7)}
        wanted = {a.id: a for a in (articles or as_articles(contexts))}
        if {k: v.text for k, v in wanted.items()} != stored:
            index.upsert(list(wanted.values()))
    with Library.open(path, model=model) as library:
        on_cut = library.ask_batch([q["question"] for q in cut])
        on_untouched = library.ask_batch([q["question"] for q in untouched])
    refused_cut = sum(not a.found for a in on_cut) / len(cut)
    refused = sum(not a.found for a in on_untouched) / len(untouched)
    em = sum(exact_match(short_answer(a), q["answers"])
             for a, q in zip(on_untouched, untouched, strict=True)) / len(untouched)
    f1 = sum(char_f1(short_answer(a), q["answers"])
             for a, q in zip(on_untouched, untouched, strict=True)) / len(untouched)
    print(f"{name}: {len(wanted)} articles; {len(cut)} questions whose answering sentence was "
          f"cut, {len(untouched)} on untouched passages")
    print(f"  cut: answered 'not found' {refused_cut:.3f}; untouched: wrongly refused "
          f"{refused:.3f}, span exact match {em:.3f}, F1 {f1:.3f}")
    if thresholds:
        print("  support threshold  cut refused  untouched refused")
        for t in [x / 4 for x in range(-12, 9)]:
            print(f"  {t:6.1f}             {sum(a.relevance <= t for a in on_cut) / len(cut):.3f}"
                  f"        {sum(a.relevance <= t for a in on_untouched) / len(untouched):.3f}")
    return on_cut, on_untouched


def run_near_miss(model: str | None) -> None:
    contexts, cut, untouched = cut_half(load_contexts(), load_questions())
    run_archive("near-miss", contexts, cut, untouched, model=model)


def run_calibration(limit: int, model: str | None) -> None:
    """Relevance of true answers (CMRC over its own passages) vs of answers from an unrelated
    archive (CMRC questions over the sample newspaper page), to place the not-found threshold."""
    import tempfile

    from retrieval.library import Library

    questions = [q["question"] for q in load_questions()[:limit]]
    with Library.open(build_index(model), model=model) as library:
        positives = [a.relevance for a in library.ask_batch(questions)]
    with tempfile.TemporaryDirectory() as tmp, Library.open(sample_index(Path(tmp))) as library:
        negatives = [a.relevance for a in library.ask_batch(questions)]
    print("threshold  answerable-marked-not-found  unrelated-answered")
    for t in [x / 20 for x in range(4, 17)]:
        missed = sum(p < t for p in positives) / len(positives)
        wrong = sum(r >= t for r in negatives) / len(negatives)
        print(f"  {t:.2f}      {missed:.3f}                        {wrong:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oracle", action="store_true",
                        help="the reader (and the older extraction) on gold passages only")
    parser.add_argument("--calibrate", action="store_true", help="not-found threshold table")
    parser.add_argument("--near-miss", action="store_true",
                        help="passages with the answering sentence cut: not-found rates")
    parser.add_argument("--limit", type=int, default=None, help="first N questions only")
    parser.add_argument("--model", default=None, help="embedding model (default: the offline e5)")
    parser.add_argument("--latency-sample", type=int, default=300,
                        help="single-question asks timed for the latency percentiles")
    args = parser.parse_args()
    if args.oracle:
        run_oracle(args.limit)
    elif args.near_miss:
        run_near_miss(args.model)
    elif args.calibrate:
        run_calibration(args.limit or 1000, args.model)
    else:
        run_full(args.limit, args.model, args.latency_sample)


if __name__ == "__main__":
    main()
