"""``newsqa parse``: show the articles newsqa reads from a file or directory."""

from __future__ import annotations

import json

import click

from ..articles import Article
from ..errors import InputError
from ..sources.loading import FORMATS, LoadReport, SourceFile, load_path, parse_date
from . import main

_RULE = "─" * 40


def _check_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return parse_date(value, what="date")
    except InputError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command()
@click.argument("path", type=click.Path(path_type=str))
@click.option(
    "--format",
    "format_",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="How to read the input. auto: .jsonl/.json → jsonl, .html/.htm → html, "
    ".pdf → pdf (e-paper pages, read by their layout; pages without text by OCR), "
    ".png/.jpg/.tif → scan (OCR), .txt/.md → page if it looks like page text, else one "
    "article. A PDF or image is recognised by its first bytes whatever its name.",
)
@click.option(
    "--date",
    callback=_check_date,
    metavar="YYYY-MM-DD",
    help="Publication date for articles whose record does not give one "
    "(default: a date in the file or directory name).",
)
@click.option(
    "--source", metavar="NAME", help="Paper name for articles whose record has none, e.g. 聊城日报."
)
@click.option("--page", metavar="PAGE", help="Page (版面) the articles were printed on.")
@click.option("--json", "as_json", is_flag=True, help="Print the articles as one JSON object.")
def parse(
    path: str,
    format_: str,
    date: str | None,
    source: str | None,
    page: str | None,
    as_json: bool,
) -> None:
    """Parse PATH (a file or a directory of files) and print the articles found.

    Nothing is indexed; use this to check what newsqa reads before ingesting.
    """
    report = LoadReport()
    from . import page_progress

    loaded = load_path(path, format=format_, date=date, source=source, page=page, report=report,
                       on_page=page_progress)
    for file, why in report.skipped:
        click.echo(f"skipped: {file}: {why}", err=True)
    if report.rejected and not loaded:
        if len(report.rejected) == 1:
            raise report.rejected[0]
        for problem in report.rejected:
            click.echo(f"rejected: {problem}", err=True)
        raise InputError(f"all {len(report.rejected)} files were rejected")
    if as_json:
        articles = [a for f in loaded for a in f.articles]
        click.echo(
            json.dumps({"articles": [_json(a) for a in articles]}, ensure_ascii=False, indent=2)
        )
        _report_rejected(report, len(loaded))
        return
    for index, source_file in enumerate(loaded):
        if len(loaded) > 1:
            click.echo(("\n" if index else "") + click.style(_file_header(source_file), bold=True))
        for number, article in enumerate(source_file.articles, start=1):
            click.echo(_render(article, number, len(source_file.articles)))
    total = sum(len(f.articles) for f in loaded)
    files = f" from {len(loaded)} files" if len(loaded) > 1 else ""
    click.echo(f"\n{total} article{'s' if total != 1 else ''}{files}.", err=True)
    _report_rejected(report, len(loaded))


def _report_rejected(report: LoadReport, loaded: int) -> None:
    """Name every rejected file on stderr and exit 2, after the good files were printed."""
    if not report.rejected:
        return
    for problem in report.rejected:
        click.echo(f"rejected: {problem}", err=True)
    raise InputError(
        f"{len(report.rejected)} of {len(report.rejected) + loaded} files rejected (listed above)"
    )


def _json(article: Article) -> dict[str, object]:
    return {
        "id": article.id,
        "title": article.title,
        "subtitle": article.subtitle,
        "kicker": article.kicker,
        "authors": list(article.authors),
        "date": article.date,
        "source": article.source,
        "page": article.page,
        "paragraphs": list(article.paragraphs),
        "kind": article.kind,
        "url": article.url,
    }


def _file_header(source_file: SourceFile) -> str:
    count = len(source_file.articles)
    return (
        f"══ {source_file.path} ({source_file.format}, {count} article{'s' if count != 1 else ''})"
    )


def _render(article: Article, number: int, total: int) -> str:
    """A block as a paper prints it: kicker above the headline, subtitle below, byline."""
    lines = [_RULE]
    if article.kicker:
        lines.append(article.kicker)
    headline = article.title or ("（图片新闻）" if article.kind == "photo" else "（无标题）")
    lines.append(click.style(f"[{number}/{total}] {headline}", bold=True))
    if article.subtitle:
        lines.append(f"——{article.subtitle}")
    facts = []
    if article.authors:
        facts.append("作者 " + "、".join(article.authors))
    facts.extend(x for x in (article.date, article.source) if x)
    if article.page:
        facts.append(f"第{article.page}版")
    facts.append(f"id {article.id}")
    lines.append(click.style(" · ".join(facts), dim=True))
    if article.url:
        lines.append(click.style(article.url, dim=True))
    lines.append("")
    lines.extend(f"　　{paragraph}" for paragraph in article.paragraphs)
    lines.append("")
    return "\n".join(lines)
