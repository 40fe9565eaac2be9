"""``newsqa ingest | embed | delete | list | stats | check``: build and look after an index."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import InputError, NewsqaError
from . import main, page_progress

if TYPE_CHECKING:
    from ..articles import Article
    from ..index import IngestProgress, VectorProgress
    from ..library import Library
    from ..sources.jumps import Part
    from ..sources.loading import SourceFile

INDEX_HELP = (
    "Index directory. Default: $NEWSQA_INDEX, else the per-user data directory "
    "(e.g. ~/.local/share/newsqa/index on Linux)."
)
index_option = click.option(
    "--index", "index_dir", type=click.Path(file_okay=False, path_type=Path), help=INDEX_HELP
)


def _open(index_dir: Path | None) -> Library:
    from ..library import Library

    return Library.open(index_dir)


@dataclass
class _Inputs:
    articles: int = 0  # counted, not kept: the second pass streams them into the index
    files: int = 0
    rejected: list[str] = field(default_factory=list)  # one message per file, naming it
    skipped: list[str] = field(default_factory=list)  # files not tried (extension), and why
    parsed: dict[Path, SourceFile] = field(default_factory=dict)  # PDFs and scans, read once
    jumps: list[Part] = field(default_factory=list)  # parts of stories continued across files


def _check_inputs(
    paths: tuple[Path, ...], fmt: str, date: str | None, source: str | None,
    quiet: bool = False,
) -> _Inputs:
    """Parse every input before anything is written, so one bad file cannot half-ingest.

    Only counts are kept for text files: parsing them is cheap next to embedding, so their
    articles are parsed again by ``_good_articles`` and streamed into the index in bounded
    memory. Pages read by layout (PDFs, scans: OCR takes seconds a page) are kept instead —
    a page is a few kilobytes of text — so nothing is read or recognised twice.
    """
    from ..sources.loading import LoadReport, iter_path

    inputs = _Inputs()
    on_page = None if quiet else page_progress
    for path in paths:
        report = LoadReport()
        try:
            for source_file in iter_path(path, format=fmt, date=date, source=source,
                                         report=report, on_page=on_page):
                if not source_file.articles:
                    inputs.rejected.append(f"{source_file.path}: no articles found")
                    continue
                inputs.files += 1
                inputs.articles += len(source_file.articles)
                inputs.jumps.extend(source_file.jumps)
                if source_file.format in ("pdf", "scan"):
                    inputs.parsed[source_file.path] = source_file
        except InputError as exc:
            inputs.rejected.append(str(exc))
        finally:
            # Each bad file of a folder counts (and is named) on its own.
            inputs.rejected.extend(str(exc) for exc in report.rejected)
            inputs.skipped.extend(f"{p}: {why}" for p, why in report.skipped)
    if inputs.jumps:
        from ..sources.jumps import join_parts

        # Two parts of a story continued on another page are ingested as one article.
        inputs.articles -= len(inputs.jumps) - len(join_parts(inputs.jumps))
    return inputs


def _good_articles(
    paths: tuple[Path, ...], fmt: str, date: str | None, source: str | None,
    late: list[str], parsed: dict[Path, SourceFile], quiet: bool = False,
) -> Iterator[Article]:
    """The articles of the files ``_check_inputs`` accepted, one file at a time.

    A file that became unreadable since the check is added to ``late`` (and skipped). A PDF
    or scan read here again (not handed over in ``parsed``) shows its pages again. Parts of
    stories continued on another page ("下转第3版") come last, joined where both pages were
    given (only they are held back, so memory stays bounded).
    """
    from ..sources.jumps import join_parts
    from ..sources.loading import LoadReport, iter_path

    pending: list[Part] = []
    for path in paths:
        report = LoadReport()
        try:
            for source_file in iter_path(path, format=fmt, date=date, source=source,
                                         report=report, parsed=parsed,
                                         on_page=None if quiet else page_progress):
                held = {id(part.article) for part in source_file.jumps}
                pending.extend(source_file.jumps)
                yield from (a for a in source_file.articles if id(a) not in held)
        except InputError as exc:
            report.rejected.append(exc)
        late.extend(str(exc) for exc in report.rejected)
    yield from (joined.article for joined, _ in join_parts(pending))


class _Progress:
    """tqdm bar on a terminal, one plain line per batch otherwise (logs, CI), nothing if quiet."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.quiet = quiet
        self.bar: Any = None
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="article", desc="ingest", file=sys.stderr)

    def __call__(self, p: IngestProgress) -> None:
        if self.quiet:
            return
        chunk_rate = p.chunks_done / p.elapsed if p.elapsed > 0 else 0.0
        if self.bar is not None:
            self.bar.update(p.articles_done - self.bar.n)
            self.bar.set_postfix(chunks=p.chunks_done, chunks_per_s=f"{chunk_rate:.1f}")
            return
        rate = p.articles_done / p.elapsed if p.elapsed > 0 else 0.0
        eta = (p.articles_total - p.articles_done) / rate if rate > 0 else 0.0
        click.echo(
            f"ingest: {p.articles_done}/{p.articles_total} articles, {p.chunks_done} chunks, "
            f"{rate:.1f} articles/s, {chunk_rate:.1f} chunks/s, ETA {eta:.0f}s",
            err=True,
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _VectorProgress:
    """The vectors' catch-up, on its own bar or line, after the words are all committed."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar: Any = None

    def __call__(self, p: VectorProgress) -> None:
        if self.quiet:
            return
        rate = p.chunks_done / p.elapsed if p.elapsed > 0 else 0.0
        if sys.stderr.isatty():
            if self.bar is None:
                from tqdm import tqdm

                self.bar = tqdm(total=p.chunks_total, unit="chunk", desc="vectors",
                                file=sys.stderr)
            self.bar.update(p.chunks_done - self.bar.n)
            return
        eta = (p.chunks_total - p.chunks_done) / rate if rate > 0 else 0.0
        click.echo(f"vectors: {p.chunks_done}/{p.chunks_total} chunks, {rate:.1f} chunks/s, "
                   f"ETA {eta:.0f}s", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _pending_note(pending: int) -> str:
    """What the summary says about chunks still waiting for vectors (nothing when none)."""
    if not pending:
        return ""
    return (f"; {pending} chunks wait for vectors (found by words now, by meaning after "
            "`newsqa embed`)")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@index_option
@click.option("--format", "fmt", default="auto", show_default=True,
              help="Input format of the files (see `newsqa parse --help`); auto detects it.")
@click.option("--date", help="Publication date (YYYY-MM-DD) for articles whose file has none.")
@click.option("--source", help="Paper name (e.g. 聊城日报) for articles whose file has none.")
@click.option("--model", help="Embedding model for a NEW index; an existing index must match it.")
@click.option("--user-dict", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="jieba user dictionary for a NEW index (recorded; also used for queries).")
@click.option("--batch-size", default=64, show_default=True, type=click.IntRange(1),
              help="Articles per committed batch of words; twice as many chunks per "
                   "committed batch of vectors.")
@click.option("--skip-bad", is_flag=True,
              help="Ingest the good files even if some are rejected (exit status is still 2).")
@click.option("--words-only", is_flag=True,
              help="Commit articles and their words only: found by word search at once, their "
                   "vectors wait for `newsqa embed` (or the next ingest).")
@click.option("--quiet", "-q", is_flag=True, help="No progress output, only the summary line.")
def ingest(
    paths: tuple[Path, ...], index_dir: Path | None, fmt: str, date: str | None,
    source: str | None, model: str | None, user_dict: Path | None, batch_size: int,
    skip_bad: bool, words_only: bool, quiet: bool,
) -> None:
    """Add articles from PATHS (files or folders) to the index; unchanged ones are skipped.

    All files are read and checked first: if any is rejected nothing is written, unless
    --skip-bad is given. Words first: each batch is searchable by words once committed; then
    the vectors of every chunk waiting for one are filled in (unless --words-only).
    """
    inputs = _check_inputs(paths, fmt, date, source, quiet)
    for message in inputs.skipped:
        click.echo(f"skipped: {message}", err=True)
    for message in inputs.rejected:
        click.echo(f"rejected: {message}", err=True)
    if inputs.rejected and not skip_bad:
        raise InputError(
            f"{len(inputs.rejected)} of {len(inputs.rejected) + inputs.files} input files "
            "rejected, nothing was ingested; fix them or pass --skip-bad to ingest the rest"
        )
    from ..library import Library

    with Library.create(index_dir, model=model, user_dict=user_dict) as library:
        progress = _Progress(inputs.articles, quiet)
        vector_progress = _VectorProgress(quiet)
        late: list[str] = []
        try:
            report = library.ingest(_good_articles(paths, fmt, date, source, late,
                                                   inputs.parsed, quiet),
                                    batch_size=batch_size, progress=progress,
                                    total=inputs.articles, vectors=not words_only,
                                    vector_progress=vector_progress)
        finally:
            progress.close()
            vector_progress.close()
        where = library.path
    rejected = set(inputs.rejected)
    for message in late:
        if message not in rejected:  # changed between the check and the ingest
            click.echo(f"rejected: {message}", err=True)
            inputs.rejected.append(message)
    rate = report.chunks_added / report.seconds if report.seconds > 0 else 0.0
    click.echo(
        f"{where}: {len(report.added)} added, {len(report.replaced)} replaced, "
        f"{len(report.unchanged)} unchanged, {len(inputs.rejected)} files rejected; "
        f"{report.chunks_added} chunks in {report.seconds:.1f}s ({rate:.1f} chunks/s)"
        + _pending_note(report.chunks_pending)
    )
    if inputs.rejected:
        sys.exit(InputError.exit_code)


@main.command()
@index_option
@click.option("--limit", type=click.IntRange(1),
              help="Embed at most this many chunks (newest first); the rest keep waiting.")
@click.option("--minutes", type=click.FloatRange(0, min_open=True),
              help="Stop after about this many minutes (at the end of a batch); the rest keep "
                   "waiting.")
@click.option("--batch-size", default=128, show_default=True, type=click.IntRange(1),
              help="Chunks per committed batch of vectors.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output, only the summary line.")
def embed(index_dir: Path | None, limit: int | None, minutes: float | None, batch_size: int,
          quiet: bool) -> None:
    """Fill in the vectors of chunks that wait for them (after `ingest --words-only`, or an
    ingest that was stopped), newest first. Each batch is committed as it is done."""
    with _open(index_dir) as library:
        progress = _VectorProgress(quiet)
        try:
            report = library.embed_pending(
                limit=limit, seconds=None if minutes is None else minutes * 60,
                progress=progress, batch_size=batch_size)
        finally:
            progress.close()
        where = library.path
    rate = report.chunks_embedded / report.seconds if report.seconds > 0 else 0.0
    waiting = report.chunks_pending
    click.echo(f"{where}: {report.chunks_embedded} chunks embedded in {report.seconds:.1f}s "
               f"({rate:.1f} chunks/s); {waiting or 'none'} waiting for vectors")


@main.command()
@click.argument("article_ids", nargs=-1, required=True)
@index_option
def delete(article_ids: tuple[str, ...], index_dir: Path | None) -> None:
    """Delete articles (ids as shown by `newsqa list`) with all their chunks.

    If any id is unknown nothing is deleted.
    """
    with _open(index_dir) as library:
        unknown = [a for a in dict.fromkeys(article_ids) if library.article(a) is None]
        if unknown:
            raise InputError(
                f"not in index {library.path}: {', '.join(unknown)}; nothing was deleted "
                "(see `newsqa list` for ids)"
            )
        deleted = library.delete(article_ids)
        click.echo(f"{library.path}: deleted {deleted} articles")


@main.command(name="list")
@index_option
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1),
              help="How many articles to show.")
@click.option("--oldest-first", is_flag=True, help="Oldest first instead of newest first.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_articles(index_dir: Path | None, limit: int, oldest_first: bool, as_json: bool) -> None:
    """List articles: id, date, paper and headline."""
    with _open(index_dir) as library:
        for article in library.articles(newest_first=not oldest_first, limit=limit):
            if as_json:
                row = {"id": article.id, "date": article.date, "source": article.source,
                       "title": article.title, "authors": list(article.authors)}
                click.echo(json.dumps(row, ensure_ascii=False))
            else:
                click.echo(
                    f"{article.id}  {article.date or '----------'}  {article.source or '-'}  "
                    f"{article.title or article.text[:30]}"
                )


@main.command()
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
def stats(index_dir: Path | None, as_json: bool) -> None:
    """Size, date range, papers and model of the index."""
    with _open(index_dir) as library:
        s = library.about()
    if as_json:
        click.echo(json.dumps(s.to_dict(), ensure_ascii=False, indent=2))
        return
    sources = ", ".join(f"{name or '(unknown)'} {n}" for name, n in s.sources.items()) or "-"
    click.echo(
        f"index       {s.path}\n"
        f"articles    {s.articles}\n"
        f"chunks      {s.chunks}\n"
        f"dates       {s.first_date or '-'} … {s.last_date or '-'}\n"
        f"sources     {sources}\n"
        f"model       {s.model} (revision {s.revision[:12]}, {s.dimension} dims, {s.backend})\n"
        f"vectors     {s.vector_index}, {_waiting(s.pending_vectors)}\n"
        f"words       {s.word_index}\n"
        f"on disk     {s.bytes_on_disk / 1e6:.1f} MB"
    )


def _waiting(pending: int) -> str:
    if not pending:
        return "every chunk embedded"
    return (f"{pending} chunks wait for vectors (found by words meanwhile; "
            "`newsqa embed` fills them in)")


class UnhealthyIndex(NewsqaError):
    """Raised by `newsqa check` when problems were found (they are printed first)."""

    exit_code = 1


@main.command()
@index_option
@click.option("--quick", is_flag=True,
              help="Only what serving needs, in well under a second (manifest, model built, "
                   "database opens, vector file not ahead): for container health checks.")
def check(index_dir: Path | None, quick: bool) -> None:
    """Verify the index: manifest, SQLite, full-text and vector stores agree."""
    from ..library import Library

    if quick:
        problems = Library.quick_check(index_dir)
        for problem in problems:
            click.echo(f"problem: {problem}")
        if problems:
            raise UnhealthyIndex(f"{len(problems)} problem(s), listed above")
        click.echo("ok")
        return
    with _open(index_dir) as library:
        problems = library.check()
        s = library.about()
    for problem in problems:
        click.echo(f"problem: {problem}")
    if problems:
        raise UnhealthyIndex(f"index {s.path} has {len(problems)} problem(s), listed above")
    waiting = f", {s.pending_vectors} waiting for vectors" if s.pending_vectors else ""
    click.echo(f"ok: {s.path} ({s.articles} articles, {s.chunks} chunks{waiting}) is consistent")
