"""``newsqa ask | search | chat``: answer questions from the terminal, quoting the archive."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from ..errors import InputError
from . import main
from .index_cmd import index_option

if TYPE_CHECKING:
    from ..answer.types import Answer, Citation, Headline
    from ..library import Library

BATCH_SIZE = 32  # questions embedded per model call in --batch
k_option = click.option(
    "-k", "k", default=3, show_default=True, type=click.IntRange(1, 20),
    help="Maximum number of cited articles.",
)
json_option = click.option(
    "--json", "as_json", is_flag=True,
    help="Print one JSON object per answer (per result for search) instead of text."
)
model_option = click.option(
    "--model", help="Embedding model to query with (default: the one the index was built with)."
)


def _library(index_dir: Path | None, model: str | None) -> Library:
    from ..library import Library

    return Library.open(index_dir, model=model)


@main.command()
@click.argument("question", required=False)
@click.option("--batch", "batch_file", type=click.Path(dir_okay=False, path_type=Path),
              help='JSONL file of {"id", "question"} lines; writes one JSON answer per line.')
@index_option
@model_option
@k_option
@json_option
def ask(
    question: str | None, batch_file: Path | None, index_dir: Path | None, model: str | None,
    k: int, as_json: bool,
) -> None:
    """Answer QUESTION with quotes from the archive, each with its numbered citation."""
    if (question is None) == (batch_file is None):
        raise click.UsageError("give either a QUESTION or --batch FILE, not both or neither")
    if batch_file is not None:
        records = list(_read_batch(batch_file))  # all lines checked before anything is asked
        with _library(index_dir, model) as library:
            for start in range(0, len(records), BATCH_SIZE):
                chunk = records[start: start + BATCH_SIZE]
                answers = library.ask_batch([q for _, q in chunk], ids=[i for i, _ in chunk], k=k)
                for answer in answers:
                    click.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
        return
    assert question is not None
    with _library(index_dir, model) as library:
        answer = library.ask(question, k=k)
    _emit(answer, as_json)


@main.command()
@click.argument("query")
@index_option
@model_option
@click.option("-k", "k", default=5, show_default=True, type=click.IntRange(1, 50),
              help="Number of articles to list.")
@json_option
def search(query: str, index_dir: Path | None, model: str | None, k: int, as_json: bool) -> None:
    """List the articles about QUERY: headline, byline, date and best passage."""
    with _library(index_dir, model) as library:
        results = library.search(query, k=k)
    if as_json:
        for result in results:
            click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    if not results:
        click.echo("没有找到相关报道。")
    for result in results:
        _print_citation(result.citation)


@main.command()
@index_option
@model_option
@k_option
@json_option
def chat(index_dir: Path | None, model: str | None, k: int, as_json: bool) -> None:
    """A conversation on stdin: one question per line; follow-ups refer to earlier answers."""
    stdin = sys.stdin
    if hasattr(stdin, "reconfigure"):  # invalid UTF-8 typed or piped in becomes U+FFFD
        stdin.reconfigure(errors="replace")
    interactive = stdin.isatty()
    with _library(index_dir, model) as library:
        history = None
        lines = _edited_lines() if interactive and sys.stdout.isatty() else _lines(stdin,
                                                                                   interactive)
        for line in lines:
            answer = library.ask(line, history=history, k=k)
            history = answer.history
            _emit(answer, as_json)
            if not as_json:
                click.echo()


def _lines(stream: TextIO, interactive: bool) -> Iterator[str]:
    while True:
        if interactive:
            click.echo("问> ", nl=False)
        line = stream.readline()
        if not line:
            return
        if line.strip():
            yield line.strip()


CHAT_HISTORY_ENV = "NEWSQA_CHAT_HISTORY"
CHAT_HISTORY_LINES = 1000


def chat_history_path() -> Path:
    """``$NEWSQA_CHAT_HISTORY``, else chat_history in the per-user data directory."""
    import os

    if os.environ.get(CHAT_HISTORY_ENV):
        return Path(os.environ[CHAT_HISTORY_ENV])
    from platformdirs import user_data_path

    return user_data_path("newsqa") / "chat_history"


def _edited_lines() -> Iterator[str]:
    """Lines typed at a terminal, with line editing and history (↑/↓, Ctrl-R) through the
    standard library's readline, kept between sessions in :func:`chat_history_path`."""
    import contextlib

    try:
        import readline
    except ImportError:  # Python built without readline: plain input() still works
        readline = None  # type: ignore[assignment]
    path = chat_history_path()
    if readline is not None:
        with contextlib.suppress(OSError):
            readline.read_history_file(path)
        readline.set_history_length(CHAT_HISTORY_LINES)
    try:
        while True:
            try:
                line = input("问> ")
            except (EOFError, KeyboardInterrupt):
                click.echo()
                return
            if line.strip():
                yield line.strip()
    finally:
        if readline is not None:
            with contextlib.suppress(OSError):
                path.parent.mkdir(parents=True, exist_ok=True)
                readline.write_history_file(path)


def _read_batch(path: Path) -> Iterator[tuple[str | None, str]]:
    from ..limits import check_json_depth, check_lines, check_question
    from ..sources.encoding import read_bytes

    data = read_bytes(path)  # a regular file within the size limit, else InputError
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"cannot read it as UTF-8 text ({exc})", path=str(path)) from exc
    check_lines(text, path=str(path))
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        too_deep = check_json_depth(line)
        if too_deep is not None:
            raise InputError(too_deep, path=str(path), line=number)
        try:
            record = json.loads(line)
        except RecursionError as exc:  # backstop; check_json_depth refuses such lines first
            raise InputError("JSON nested too deeply to read", path=str(path),
                             line=number) from exc
        except json.JSONDecodeError as exc:
            raise InputError(
                f"not valid JSON ({exc.msg}); each line must be an object like "
                '{"id": "q1", "question": "…"}',
                path=str(path), line=number,
            ) from exc
        question = record.get("question") if isinstance(record, dict) else None
        if not isinstance(question, str) or not question.strip():
            raise InputError(
                'no "question" text in this line; each line must be an object like '
                '{"id": "q1", "question": "…"}',
                path=str(path), line=number,
            )
        try:
            question = check_question(question)
        except InputError as exc:
            raise InputError(str(exc), path=str(path), line=number) from None
        ident = record.get("id")
        yield (None if ident is None else str(ident)), question


# -- terminal rendering ----------------------------------------------------------------------

NOT_FOUND = "没有在报纸资料中找到“{question}”的答案。"
NOTHING_MORE = "关于“{question}”，报纸资料中没有更多内容了。"


def _emit(answer: Answer, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
        return
    if answer.resolved != answer.question:
        click.echo(click.style(f"（理解为：{answer.resolved}）", dim=True))
    if not answer.found:
        click.echo(NOTHING_MORE.format(question=answer.resolved) if answer.more
                   else NOT_FOUND.format(question=answer.question.strip()))
        if answer.suggestions:
            click.echo("相近的报道：")
            for headline in answer.suggestions:
                click.echo(f"  · {_headline_line(headline)}")
        return
    if answer.span:  # "答：" labels the reader's short answer, never a whole quote
        click.echo("答：" + click.style(answer.span.replace("\n", " "), bold=True))
    click.echo(_styled(answer.citations[0], with_context=False))
    click.echo()
    for citation in answer.citations:
        _print_citation(citation)


def _print_citation(citation: Citation) -> None:
    click.echo(click.style(f"[{citation.n}] ", bold=True) + _byline(citation))
    click.echo("    " + _styled(citation, with_context=True))


def _styled(citation: Citation, *, with_context: bool) -> str:
    parts: list[str] = []
    for segment in citation.pieces(with_context=with_context):
        text = segment.text.replace("\n", " ")
        if segment.role == "highlight":
            parts.append(click.style(text, fg="yellow", bold=True))
        elif segment.role == "context":
            parts.append(click.style(text, dim=True))
        else:
            parts.append(text)
    return "".join(parts)


def _byline(citation: Citation) -> str:
    bits = [f"《{citation.title}》" if citation.title else "（无标题）"]
    if citation.authors:
        bits.append("记者 " + "、".join(citation.authors))
    if citation.date:
        bits.append(citation.date)
    where = (citation.source or "") + (f" {citation.page}" if citation.page else "")
    if where.strip():
        bits.append(where.strip())
    return " · ".join(bits)


def _headline_line(headline: Headline) -> str:
    title = f"《{headline.title}》" if headline.title else "（无标题）"
    extra = " · ".join(x for x in (headline.date, headline.source) if x)
    return f"{title} {extra}".strip()
