"""``Library``: the one API the CLI and the bot use to ask, search and browse an archive.

    with Library.open() as library:
        answer = library.ask("冠县有多少家绿色建材企业？")
        follow = library.ask("那它有几条生产线？", history=answer.history)

``ask`` is ``ask_batch([question])[0]``: one code path, and a batch embeds all questions in
one model call. Per question: resolve follow-ups → dense + lexical retrieval → weighted fusion
and date boosts → sentence extraction in the best articles → rerank by fused score plus
extraction relevance → not-found decision → citations cut from the article text.

One module (~450 lines) on purpose: the front door's methods and the ask pipeline's steps
(rank, read, cite) share the private ``_Ranked`` record and nothing else uses them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .answer.conversation import History, Resolution, remember, resolve
from .answer.found import FoundBar, span_coverages
from .answer.fusion import Candidate, fuse
from .answer.question import AnswerKind, DateHint, Question, analyze
from .answer.regions import read_region
from .answer.sentences import Extraction, answer_sentences, extract, holds_enumeration
from .answer.types import Answer, Citation, Headline, SearchResult, Span
from .articles import Article
from .index import (
    Hit,
    Index,
    IndexStats,
    IngestProgress,
    IngestReport,
    VectorProgress,
    VectorReport,
    upkeep,
)
from .index.identity import directory_of
from .limits import check_question, check_search
from .reader import Reader, Reading

if TYPE_CHECKING:
    from .embed import Embedder

# Hits fetched from each retriever before fusion.
RETRIEVE_K = 30
# Articles whose sentences are read before the final ranking (extraction is ~1 ms each).
RERANK_DEPTH = 8
# Final score = fused score + this × extraction relevance (tuned on CMRC 2018 dev).
RELEVANCE_WEIGHT = 1.0
# Boosts for articles whose date matches a date in the question / for recency on "最近".
# Not tuned on a benchmark (CMRC has no dates): sized to outweigh the fused-score spread of
# near-identical reports (tests/test_answers.py, dated_library).
DATE_BOOST = 0.3
RECENT_BOOST = 0.3
# Not found below this relevance (bench/cmrc.py --calibrate, docs/answers.md): 600 CMRC
# questions over their own passages fall below it 1.3% of the time, over an unrelated archive
# (the sample page) never reach it; on the sample page the 12 unanswerable questions score
# ≤ 0.40 and the 30 answerable ones ≥ 0.51.
NOT_FOUND_THRESHOLD = 0.45
# A question without Chinese characters shares no words with the archive, so its relevance
# comes from the model alone: how far the best article's cosine stands above the next one's,
# divided by this (a 0.02 lead reaches the threshold). Cross-lingual cosines of right and
# wrong articles overlap (0.73-0.81 on the sample page), their lead does not (≥0.03 vs ≤0.01).
CROSS_LINGUAL_LEAD = 0.04
_CJK = re.compile(r"[\u3400-\u9fff]")
# "What does it say / what is it about": a request for the article's gist, not a fact.
_SUMMARY = re.compile(r"(说|讲|写|报道)了?(些)?什么[？?]?$|主要内容|讲的是什么|大意")
# Articles the reader reads per question (from the top of the ranking at the asked offset),
# each around its retrieved chunk (``read_region``: READ_CHARS, one model window).
READ_DEPTH = 3
# A second part of the first article is read only when at most this much of it was read
# already (a third of READ_CHARS; not tuned): with more, it mostly repeats the first part.
SECOND_REGION_OVERLAP = 120
# When a read article answers (margin bar, lower-rank extra, the sentence term, the lead of a
# lower-ranked article): retrieval/answer/found.py, chosen on the held-out DRCD archives.
FOUND_BAR = FoundBar()
# Among a passage's spans whose margins are within this of the best one's, the one whose
# sentence speaks more of the question is taken, by the found bar's own support: of two
# numbers ("从1990参军到2014年卸任"), the one in the sentence about what was asked. Chosen on
# held-out DRCD (docs/reader.md, "The span the bar supports"); 0 takes the reader's best.
SPAN_CHOICE_DELTA = 2.0
SPAN_ALTERNATIVES = 19  # next best spans the reader returns for that choice


@dataclass(frozen=True, slots=True)
class _Read:
    """What the reader said of one article: its best span (offsets into the article's text)
    and how much of the question that span's sentence speaks of (``span_coverages``)."""

    reading: Reading
    coverage: float
    # the span shown instead of ``reading``'s, when the question asks for another kind of
    # words than the best-supported span is (an enumeration for "有哪些")
    words: Reading | None = None

    @property
    def support(self) -> float:
        return FOUND_BAR.support(self.reading.margin, self.coverage)

    @property
    def shown(self) -> Reading:
        return self.words or self.reading


@dataclass(frozen=True, slots=True)
class _Ranked:
    candidate: Candidate
    article: Article
    extraction: Extraction
    score: float
    relevance: float  # what the not-found threshold applies to
    chunk_start: int
    chunk_end: int


class Library:
    """An opened archive. Thread-safe for reads (the index is); close it when done."""

    def __init__(self, index: Index) -> None:
        self.index = index  # the library's own: callers outside it use the methods below
        self._reader: Reader | None = None
        self._reader_lock = threading.Lock()

    @classmethod
    def open(
        cls, dir: str | Path | None = None, *, model: str | None = None,
        embedder: Embedder | None = None,
    ) -> Library:
        """Open the index at ``dir`` (default: ``$NEWSQA_INDEX`` or the user data dir).

        ``embedder`` shares a model already loaded in this process (tests, benchmarks).
        """
        return cls(Index.open(dir, model=model, embedder=embedder))

    @classmethod
    def create(
        cls, dir: str | Path | None = None, *, model: str | None = None,
        user_dict: str | Path | None = None, embedder: Embedder | None = None,
    ) -> Library:
        """Open the index at ``dir``, creating it (with ``model`` and ``user_dict``) if absent.

        An existing index must have been built with the same model and user dictionary.
        """
        return cls(Index.create(dir, model=model, user_dict=user_dict, embedder=embedder))

    @property
    def path(self) -> Path:
        """The index directory."""
        return self.index.path

    @property
    def reader(self) -> Reader:
        """The span reader, loaded on the first question (its ONNX model is built once)."""
        with self._reader_lock:
            if self._reader is None:
                self._reader = Reader.load()
            return self._reader

    def close(self) -> None:
        self.index.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- asking ------------------------------------------------------------------------------

    def ask(
        self, question: str, *, history: History | None = None, k: int = 3, offset: int = 0
    ) -> Answer:
        """Answer one question; ``answer.history`` goes into the next call for follow-ups."""
        return self.ask_batch([question], histories=[history], k=k, offset=offset)[0]

    def ask_batch(
        self,
        questions: Sequence[str],
        *,
        histories: Sequence[History | None] | None = None,
        ids: Sequence[str | None] | None = None,
        k: int = 3,
        offset: int = 0,
    ) -> list[Answer]:
        """Answer many questions with one embedding call."""
        questions = [check_question(q) for q in questions]  # sanitised; InputError if too long
        histories = histories or [None] * len(questions)
        ids = ids or [None] * len(questions)
        resolutions = [
            resolve(q, h, k=k, offset=offset) for q, h in zip(questions, histories, strict=True)
        ]
        deepest = max(r.offset for r in resolutions) + k
        ranked = self._rank([r.question for r in resolutions], depth=max(RERANK_DEPTH, deepest))
        return [
            self._answer(text, resolution, hits, history, id_, k)
            for text, resolution, hits, history, id_ in zip(
                questions, resolutions, ranked, histories, ids, strict=True
            )
        ]

    def search(self, query: str, k: int = 5) -> list[SearchResult]:
        """Articles about ``query``: headline and best passage each, best first."""
        question = analyze(check_search(query))
        ranked = self._rank([question], depth=max(k, RERANK_DEPTH))[0]
        return [
            SearchResult(_citation(n, item)) for n, item in enumerate(ranked[:k], start=1)
        ]

    # -- browsing ----------------------------------------------------------------------------

    def article(self, article_id: str) -> Article | None:
        return self.index.article(article_id)

    def latest(self, n: int = 10) -> list[Article]:
        return self.articles(newest_first=True, limit=n)

    def articles(self, *, newest_first: bool = True, limit: int = 20) -> list[Article]:
        """Articles by date (undated ones last), as ``newsqa list`` shows them."""
        return self.index.articles(newest_first=newest_first, limit=limit)

    def about(self) -> IndexStats:
        """Size, dates, papers and model of the archive (cheap: cached per generation)."""
        return self.index.stats()

    def check(self) -> list[str]:
        """Problems found in the index, each saying what to do; [] when healthy."""
        return self.index.check()

    @staticmethod
    def quick_check(dir: str | Path | None = None) -> list[str]:
        """What stops the index at ``dir`` from serving, without opening it for search or
        scanning a table (container health checks); [] when it can serve."""
        return upkeep.quick_problems(directory_of(dir))

    @staticmethod
    def backup(dest: str | Path, dir: str | Path | None = None) -> upkeep.BackupReport:
        """Back up the index at ``dir`` into the new directory ``dest``; safe while other
        processes ingest and answer."""
        return upkeep.backup(directory_of(dir), Path(dest))

    @staticmethod
    def restore(backup: str | Path, dir: str | Path | None = None, *,
                model: str | None = None) -> Path:
        """Restore ``backup`` as the new index directory ``dir`` after checking it was made
        for ``model`` (None: the default model) and passes the full check."""
        source = Path(backup)
        manifest = upkeep.read_backup(source)
        upkeep.check_backup_model(source, manifest, model)

        def verify(copy: Path) -> list[str]:
            with Index.open(copy) as index:  # opening catches the vector file up
                return index.check()

        return upkeep.restore(source, directory_of(dir), verify)

    def warm_up(self) -> None:
        """Load the models and the archive's figures now, so the first question does not wait."""
        from .embed.tokenizer import load_all

        self.index.stats()
        self.index.embedder.embed_queries(["预热"])
        _ = self.reader
        load_all()  # a cold CLI call tokenizes small; a server has time to load it whole

    # -- writing -----------------------------------------------------------------------------

    def ingest(
        self,
        articles: Iterable[Article],
        *,
        batch_size: int = 64,
        progress: Callable[[IngestProgress], None] | None = None,
        total: int | None = None,
        vectors: bool = True,
        vector_progress: Callable[[VectorProgress], None] | None = None,
    ) -> IngestReport:
        """Add or replace articles; readers of this library see them on their next question.

        Words first: each batch of ``batch_size`` articles is committed atomically and found by
        word search at once; unchanged articles (same content hash) are skipped. Then the
        vectors of every chunk still waiting for one are filled in, ``2 × batch_size`` chunks
        per commit (``vectors=False`` leaves them pending for ``embed_pending``); dense search
        finds an article once they are.
        ``articles`` may be a generator: it is read one batch at a time (``total``, if known,
        is what progress counts towards).
        """
        return self.index.upsert(articles, batch_size=batch_size, progress=progress, total=total,
                                 vectors=vectors, vector_progress=vector_progress)

    def embed_pending(
        self, *, limit: int | None = None, seconds: float | None = None,
        progress: Callable[[VectorProgress], None] | None = None, batch_size: int = 128,
    ) -> VectorReport:
        """Fill in the vectors of chunks that wait for them, newest first, until none is left,
        ``limit`` were done or ``seconds`` have passed; each batch of ``batch_size`` chunks is
        committed atomically."""
        return self.index.embed_pending(limit=limit, seconds=seconds, progress=progress,
                                        batch_size=batch_size)

    def delete(self, article_ids: Iterable[str]) -> int:
        """Delete articles with all their chunks; returns how many existed."""
        return self.index.delete(article_ids)

    # -- internals ---------------------------------------------------------------------------

    def _rank(self, questions: Sequence[Question], *, depth: int) -> list[list[_Ranked]]:
        vectors = self.index.embedder.embed_queries([q.normalized for q in questions])
        dense = self.index.search_vectors(vectors, RETRIEVE_K)
        newest = self.index.stats().last_date if any(
            q.wants_recent or q.dates for q in questions
        ) else None
        results: list[list[_Ranked]] = []
        for question, dense_hits in zip(questions, dense, strict=True):
            lexical = self.index.lexical_search(question.normalized, RETRIEVE_K)
            candidates = fuse(dense_hits, lexical)[:depth]
            ranked: list[_Ranked] = []
            for candidate in candidates:
                item = self._read(question, candidate, newest)
                if item is not None:
                    ranked.append(item)
            ranked.sort(key=lambda r: -r.score)
            if not _CJK.search(question.normalized):
                ranked = _cross_lingual_relevance(ranked, dense_hits)
            results.append(ranked)
        return results

    def _read(self, question: Question, candidate: Candidate, newest: str | None) -> _Ranked | None:
        article = self.index.article(candidate.article_id)
        chunk = self.index.chunk(candidate.chunk_id)
        if article is None or chunk is None:  # deleted by a concurrent writer
            return None
        extraction = extract(
            question, article.text, title=article.title, prefer=(chunk.start, chunk.end),
            check_names=False,
        )
        if extraction is None:
            return None
        score = candidate.score + RELEVANCE_WEIGHT * extraction.score
        score += _date_boost(question, article.date, newest)
        return _Ranked(candidate, article, extraction, score, extraction.score, chunk.start,
                       chunk.end)

    def _quote(self, question: Question, item: _Ranked) -> _Ranked:
        """Re-read a cited article with the POS tagger on (names, places, time words)."""
        extraction = extract(
            question, item.article.text, title=item.article.title,
            prefer=(item.chunk_start, item.chunk_end),
        )
        return item if extraction is None else replace(item, extraction=extraction)

    def _answer(
        self,
        text: str,
        resolution: Resolution,
        ranked: list[_Ranked],
        history: History | None,
        id_: str | None,
        k: int,
    ) -> Answer:
        question = resolution.question
        window = ranked[resolution.offset:]
        if _CJK.search(question.normalized) and not _SUMMARY.search(question.normalized):
            return self._read_answer(text, resolution, window, history, id_, k)
        # A question with no Chinese is outside what the reader was trained on, and "what does
        # 《…》 say" has no span to point at: both are answered from the sentence ranking, with
        # its relevance threshold (cross-lingual for English).
        page = window[:k]
        relevance = page[0].relevance if page else 0.0
        if not page or relevance < NOT_FOUND_THRESHOLD:
            return _not_found(text, resolution, window, history, id_, k, relevance)
        cited = [self._quote(question, page[0]), *_also_cited(page[1:])]
        citations = tuple(_citation(n, item) for n, item in enumerate(cited, start=1))
        return Answer(
            question=text, resolved=question.text, found=True, text=citations[0].quote,
            citations=citations, history=remember(history, resolution, k=k, person=None),
            id=id_, relevance=relevance,
        )

    def _read_answer(
        self,
        text: str,
        resolution: Resolution,
        window: list[_Ranked],
        history: History | None,
        id_: str | None,
        k: int,
    ) -> Answer:
        """The reader reads the best few articles; the best-read span is the answer."""
        question = resolution.question
        candidates = window[:READ_DEPTH]
        reads = self._readings(question, candidates)
        best = FOUND_BAR.choose([None if r is None else r.reading.margin for r in reads],
                                [None if r is None else r.coverage for r in reads])
        if best is None:
            most = max((r.support for r in reads if r is not None), default=0.0)
            return _not_found(text, resolution, window, history, id_, k, most)
        read = reads[best]
        assert read is not None  # only read articles are chosen
        relevance, chosen, span = read.support, candidates[best], reading_span(read.shown)
        others = [r for r in window[:k] if r is not chosen]
        first = Citation.build(
            n=1, article=chosen.article, chunk_id=chosen.candidate.chunk_id, score=chosen.score,
            sentences=answer_sentences(chosen.article.text, span), highlights=(span,),
        )
        citations = (first, *(
            _citation(n, item) for n, item in enumerate(_also_cited(others[: k - 1]), start=2)
        ))
        person = span.of(chosen.article.text) if question.kind is AnswerKind.PERSON else None
        return Answer(
            question=text, resolved=question.text, found=True, text=first.quote,
            citations=citations, history=remember(history, resolution, k=k, person=person),
            id=id_, relevance=relevance, span=span.of(chosen.article.text), span_at=span,
        )

    def _readings(self, question: Question, items: Sequence[_Ranked]) -> list[_Read | None]:
        """What the reader said of each item (None where it found no span).

        Retrieval's best chunk of a long article is not always the answer's: on the held-out
        DRCD articles joined to news length, 4% of the answers lay outside the part read
        around it (docs/reader.md). So the first article is also read around its next best
        hit chunk (``_second_region``), in the same reader call, and the part whose span the
        found bar supports more stands for the article — also when both pass, since a
        confident span of the wrong fact is the near miss the bar exists for."""
        parts = [(item.article.text, read_region(item.article.text, item.chunk_start,
                                                 item.chunk_end)) for item in items]
        second = self._second_region(items[0], parts[0][1]) if items else None
        if second is not None:
            parts.append((items[0].article.text, second))
        readings = self.reader.read(
            question.normalized, [t[lo:hi] for t, (lo, hi) in parts],
            alternatives=SPAN_ALTERNATIVES if SPAN_CHOICE_DELTA else 0,
        )
        reads = [
            None if r is None else _best_supported_span(question, text, lo, r)
            for r, (text, (lo, _)) in zip(readings, parts, strict=True)
        ]
        if second is not None:
            reads[0] = _better_supported(reads[0], reads.pop())
        return reads

    def _second_region(self, item: _Ranked, first: tuple[int, int]) -> tuple[int, int] | None:
        """Around the article's best other hit chunk that adds mostly new text, if any."""
        for chunk_id in item.candidate.others:
            chunk = self.index.chunk(chunk_id)
            if chunk is None:  # deleted by a concurrent writer
                continue
            lo, hi = read_region(item.article.text, chunk.start, chunk.end)
            if min(hi, first[1]) - max(lo, first[0]) <= SECOND_REGION_OVERLAP:
                return lo, hi
        return None


def _best_supported_span(question: Question, text: str, lo: int, reading: Reading) -> _Read:
    """Of the reader's best spans in ``text[lo:]`` (offsets made the article's), the one the
    found bar supports most among those within ``SPAN_CHOICE_DELTA`` of the best's margin;
    for a list question, the words shown may be another of them (``_Read.words``)."""
    options = [reading, *(a for a in reading.alternatives
                          if reading.margin - a.margin <= SPAN_CHOICE_DELTA)]
    coverages = span_coverages(question, text, [r.start + lo for r in options])
    reads = [
        _Read(replace(r, start=r.start + lo, end=r.end + lo, alternatives=()), coverage)
        for r, coverage in zip(options, coverages, strict=True)
    ]
    best = max(reads, key=lambda r: r.support)  # the first (the reader's best) on ties
    if question.kind is AnswerKind.LIST:
        # "有哪些…" asks for all of them: one item, or the count after a list ("…等6种类型"),
        # is not the answer when a close span is the enumeration. DRCD, the reader's
        # training data, has 58 such questions in 7,017, so its best spans rarely are. The
        # words change, not the evidence: whether the article answers is still the best's.
        enumerations = [r for r in reads if holds_enumeration(r.reading.text)]
        if enumerations and not holds_enumeration(best.reading.text):
            return replace(best, words=max(enumerations, key=lambda r: r.support).reading)
    return best


def _better_supported(first: _Read | None, second: _Read | None) -> _Read | None:
    """Of two reads of one article, the one whose span the found bar supports more."""
    if first is None or second is None:
        return first or second
    return second if second.support > first.support else first


def reading_span(reading: Reading) -> Span:
    return Span(reading.start, reading.end)


def _also_cited(items: Sequence[_Ranked]) -> list[_Ranked]:
    """Further sources: only articles that themselves pass the relevance bar."""
    return [r for r in items if r.relevance >= NOT_FOUND_THRESHOLD]


def _not_found(
    text: str, resolution: Resolution, ranked: Sequence[_Ranked], history: History | None,
    id_: str | None, k: int, relevance: float,
) -> Answer:
    return Answer(
        question=text, resolved=resolution.question.text, found=False, text="", citations=(),
        suggestions=tuple(_headline(r.article) for r in ranked[:3]),
        history=remember(history, resolution, k=k, person=None), id=id_, relevance=relevance,
        more=resolution.more,
    )


def _cross_lingual_relevance(ranked: list[_Ranked], dense: Sequence[Hit]) -> list[_Ranked]:
    """Relevance from the model's cosine lead over the best *other* article."""
    best: dict[str, float] = {}
    for hit in dense:
        best[hit.article_id] = max(best.get(hit.article_id, -1.0), hit.score)
    out: list[_Ranked] = []
    for item in ranked:
        own = best.get(item.article.id)
        others = [score for article_id, score in best.items() if article_id != item.article.id]
        lead = own - max(others) if own is not None and others else 0.0
        out.append(replace(item, relevance=max(0.0, lead / CROSS_LINGUAL_LEAD)))
    out.sort(key=lambda r: -r.relevance)
    return out


def _citation(n: int, item: _Ranked) -> Citation:
    return Citation.build(
        n=n, article=item.article, chunk_id=item.candidate.chunk_id, score=item.score,
        sentences=item.extraction.sentences, highlights=item.extraction.highlights,
    )


def _headline(article: Article) -> Headline:
    return Headline(article.id, article.title, article.date, article.source)


def _date_boost(question: Question, date: str | None, newest: str | None) -> float:
    """Favour articles dated as the question says; undated articles are never penalised."""
    if date is None:
        return 0.0
    year, month, day = (int(p) for p in date.split("-"))
    boost = 0.0
    for hint in question.dates:
        if _date_matches(hint, year, month, day, newest):
            boost = DATE_BOOST
    if question.wants_recent and newest:
        newest_year = int(newest[:4])
        # Linear decay over a year: this week's paper beats last year's.
        age_days = (newest_year - year) * 365 + (int(newest[5:7]) - month) * 30
        boost += RECENT_BOOST * max(0.0, 1 - age_days / 365)
    return boost


def _date_matches(hint: DateHint, year: int, month: int, day: int, newest: str | None) -> bool:
    wanted_year = hint.year
    if wanted_year is None and hint.relative_year is not None and newest:
        wanted_year = int(newest[:4]) + hint.relative_year
    if wanted_year is not None and wanted_year != year:
        return False
    if hint.month is not None and hint.month != month:
        return False
    return not (hint.day is not None and hint.day != day)

