"""Load articles from files: page text, one-article .txt/.md, JSON Lines, HTML, or directories.

One module (~510 lines): the readers share the file-level rules (defaults, dates, ids, the
bad-input policy); page text itself is parsed in ``page``/``page_lines``.

Every loader returns finished ``Article`` records (ids, dates, source filled in) or raises
``InputError`` naming the file (and line) before anything is returned, so a caller that
indexes the result never indexes half a file. Formats and the bad-input policy are
documented in docs/sources.md.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import re
import stat
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..articles import Article, derive_article_id
from ..errors import InputError
from ..limits import (
    MAX_ARTICLE_CHARS,
    check_article_size,
    check_json_depth,
    check_lines,
)
from ..sanitize import clean_line, clean_text, has_words
from .bylines import match_dateline, parse_byline
from .encoding import read_bytes, read_text
from .jumps import Part, join_parts, take_jumps
from .page_facts import page_number, parse_date

if TYPE_CHECKING:
    from trafilatura.settings import Document

# Called after each page of a PDF or scan is read: (file, page number, pages in the file).
PageProgress = Callable[[Path, int, int], None]

log = logging.getLogger(__name__)

FORMATS = ("auto", "page", "article", "jsonl", "html", "pdf", "scan")
EXTENSIONS = {
    ".txt": "text",  # page or article, decided by looking at the text
    ".md": "text",
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",  # e-paper pages: text layer read with its geometry, scanned pages by OCR
    ".png": "scan",
    ".jpg": "scan",
    ".jpeg": "scan",
    ".tif": "scan",
    ".tiff": "scan",
}
# Laid-out pages, read by their geometry (``page_geometry``) rather than as text.
_LAID_OUT = ("pdf", "scan")
# A file's first bytes say it is a PDF or an image whatever its name: such a file is read
# as what it is (a PDF saved as .txt, a scan without an extension).
_SIGNATURES = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG", "scan"),
    (b"\xff\xd8\xff", "scan"),
    (b"II*\x00", "scan"),
    (b"MM\x00*", "scan"),
)
_NAME_PAGE = re.compile(r"(?:第|page|p|[_\-. ]|^)([A-Za-z]?\d{1,3})版?$", re.IGNORECASE)
_MAX_LISTED_ERRORS = 5
_NAME_DATE = re.compile(r"(?<!\d)(\d{4})([-_]?)(\d{2})\2(\d{2})(?!\d)")
_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")
_SETEXT_RULE = re.compile(r"^(=+|-+)\s*$")
_SUBTITLE_DASH = re.compile(r"^\s*(?:——|──|--|—)\s*(?=\S)")
_AUTHOR_SEPARATORS = re.compile(r"\s*[;；,，、/|]\s*")


@dataclass(frozen=True)
class SourceFile:
    """One input file and the articles it held, in file order.

    ``jumps``: those of ``articles`` (the same objects) that print says go on on another page
    or come from one ("下转第3版", "上接第1版") and whose other part this file does not hold;
    ``join_files`` joins them with the other files' parts.
    """

    path: Path
    format: str
    articles: list[Article]
    jumps: tuple[Part, ...] = ()


@dataclass
class LoadReport:
    """What ``load_path`` could not load (``rejected``) or did not try (``skipped``).

    Rejected files are errors (a caller exits non-zero); skipped ones are files in a folder
    whose extension is not a source format, listed so that nothing is left out unsaid.
    """

    rejected: list[InputError] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def load_path(
    path: str | Path,
    *,
    format: str = "auto",
    date: str | None = None,
    source: str | None = None,
    page: str | None = None,
    report: LoadReport | None = None,
    on_page: PageProgress | None = None,
) -> list[SourceFile]:
    """Load a file, or every loadable file under a directory (recursively, sorted).

    ``date``, ``source`` and ``page`` fill in what a record does not say itself; ``date``
    may be YYYY-MM-DD, YYYY_MM_DD, YYYY/MM/DD or YYYYMMDD and must be a real date.

    Without ``report`` the first bad file raises its ``InputError``. With it, every bad file
    (and every unreadable folder, dangling or looping link, FIFO or device) is added to
    ``report.rejected`` and loading goes on; files skipped for their extension are listed in
    ``report.skipped``. The returned list holds only the files that loaded.

    ``on_page(path, page, pages)`` is called after each page of a PDF or scan is read
    (OCR takes seconds a page, so callers show progress by page).

    An article continued on another page ("下转第3版") is joined with its rest when both
    pages are loaded (``join_files``).
    """
    return join_files(list(iter_path(path, format=format, date=date, source=source, page=page,
                                     report=report, on_page=on_page)))


def join_files(files: list[SourceFile]) -> list[SourceFile]:
    """The files with articles continued from one file in another joined (``jumps``).

    A joined article takes the place of its first part, in that part's file; its other
    parts leave their files. Files are kept even if a part was all they held.
    """
    owners: list[tuple[int, Part]] = [(k, part) for k, f in enumerate(files) for part in f.jumps]
    if not owners:
        return files
    results = join_parts([part for _, part in owners])
    where = {id(part.article): k for k, part in owners}
    replaced: dict[int, Article] = {}  # id() of a first part's article -> the joined article
    dropped: set[int] = set()
    waiting: dict[int, list[Part]] = {}  # file index -> its parts still waiting
    for result, chain in results:
        if len(chain) > 1:
            replaced[id(chain[0].article)] = result.article
            dropped.update(id(part.article) for part in chain[1:])
        else:
            waiting.setdefault(where[id(result.article)], []).append(result)
    joined: list[SourceFile] = []
    for k, source_file in enumerate(files):
        articles = [replaced.get(id(a), a) for a in source_file.articles if id(a) not in dropped]
        joined.append(dataclasses.replace(source_file, articles=articles,
                                          jumps=tuple(waiting.get(k, ()))))
    return joined


def iter_path(
    path: str | Path,
    *,
    format: str = "auto",
    date: str | None = None,
    source: str | None = None,
    page: str | None = None,
    report: LoadReport | None = None,
    on_page: PageProgress | None = None,
    parsed: Mapping[Path, SourceFile] | None = None,
) -> Iterator[SourceFile]:
    """``load_path`` one file at a time, so a large folder is never held in memory at once.

    ``parsed``: files the caller already read (by their path as this yields it), yielded as
    they are instead of being read again — a check pass keeps OCR'd pages this way.
    """
    if format not in FORMATS:
        raise InputError(f"unknown format {format!r}; use one of: {', '.join(FORMATS)}")
    fallback_date = parse_date(date, what="--date") if date is not None else None
    root = Path(path)
    local = LoadReport() if report is None else report
    if root.is_dir():
        files = _directory_files(root, local)
        if report is None and local.rejected:
            raise local.rejected[0]
        if not files and not local.rejected:
            kinds = ", ".join(EXTENSIONS)
            raise InputError(f"no loadable files ({kinds}) in this directory", path=str(root))
    else:
        files = [root]  # read_text names what is wrong: missing, a FIFO, a dangling link…
    for file in files:
        if parsed is not None and file in parsed:
            yield parsed[file]
            continue
        try:
            loaded = _load_checked(file, format=format, date=fallback_date, source=source,
                                   page=page, on_page=on_page)
        except InputError as exc:
            if report is None:
                raise
            report.rejected.append(exc)
            continue
        yield loaded


def _load_checked(
    path: Path, *, format: str, date: str | None, source: str | None, page: str | None,
    on_page: PageProgress | None = None,
) -> SourceFile:
    """``_load_file``, with any unexpected failure turned into an InputError naming the file.

    A parser bug on strange input must cost that one file, not the whole run: ``--skip-bad``
    and the bot's upload reply work for every error. The traceback is logged for a bug report.
    """
    try:
        return _load_file(path, format=format, date=date, source=source, page=page,
                          on_page=on_page)
    except InputError:
        raise
    except (RecursionError, MemoryError) as exc:
        raise InputError(f"the file is too complex to read ({type(exc).__name__})",
                         path=str(path)) from exc
    except Exception as exc:
        log.warning("unexpected error while loading %s", path, exc_info=True)
        raise InputError(
            f"could not be read ({type(exc).__name__}: {str(exc)[:200]}); this is a bug in "
            "newsqa, please report it with the file",
            path=str(path),
        ) from exc


def load_articles(
    path: str | Path,
    *,
    format: str = "auto",
    date: str | None = None,
    source: str | None = None,
    page: str | None = None,
) -> list[Article]:
    """All articles of ``load_path`` in one list, file by file."""
    loaded = load_path(path, format=format, date=date, source=source, page=page)
    return [article for source_file in loaded for article in source_file.articles]


# --------------------------------------------------------------------------- files


def _directory_files(root: Path, report: LoadReport) -> list[Path]:
    """Source files under ``root`` (sorted); problems and skips go into ``report``.

    Hidden names (starting with ".") are left out, as everywhere. Links to folders are not
    followed (a loop could never end); links to files are read like files, and a dangling or
    looping one is rejected by name when it is read.
    """
    files: list[Path] = []

    def unreadable(error: OSError) -> None:
        where = error.filename or str(root)
        report.rejected.append(
            InputError(f"cannot read this folder ({error.strerror}); nothing in it was loaded",
                       path=str(where))
        )

    for folder, dirnames, filenames in os.walk(root, onerror=unreadable, followlinks=False):
        base = Path(folder)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in list(dirnames):
            if (base / name).is_symlink():
                report.skipped.append(
                    (base / name, "a symbolic link to a folder (not followed; give the "
                                  "folder itself)")
                )
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            file = base / name
            if file.suffix.lower() not in EXTENSIONS:
                report.skipped.append(
                    (file, f"not a source file extension ({', '.join(EXTENSIONS)})")
                )
                continue
            files.append(file)
    return sorted(files)


def _load_file(
    path: Path, *, format: str, date: str | None, source: str | None, page: str | None,
    on_page: PageProgress | None = None,
) -> SourceFile:
    kind = format
    if kind == "auto":
        kind = _signature(path) or EXTENSIONS.get(path.suffix.lower(), "text")
    if kind in _LAID_OUT:
        defaults = _Defaults(date=date or _date_from_path(path), source=source, page=page)
        return _page_file(path, kind, _load_laid_out(path, kind, defaults, on_page))
    text = read_text(path)
    if kind != "html":  # minified HTML is one long line by nature; its text is checked below
        check_lines(text, path=str(path))
    if kind == "text":
        from .page import looks_like_page

        kind = "page" if looks_like_page(text) else "article"
    if kind != "jsonl":  # JSON escapes are decoded per record, and cleaned there
        text = clean_text(text)
        if not text.strip():
            raise InputError("the file holds only control characters; nothing to load",
                             path=str(path))
    defaults = _Defaults(date=date or _date_from_path(path), source=source, page=page)
    loader: Callable[[str, Path, _Defaults], list[Article]] = _LOADERS[kind]
    if kind == "page":
        return _page_file(path, kind, loader(text, path, defaults))
    articles = _distinct_ids(loader(text, path, defaults))
    _check_articles(articles, path)
    log.debug("%s: %d articles as %s", path, len(articles), kind)
    return SourceFile(path=path, format=kind, articles=articles)


def _page_file(path: Path, kind: str, articles: list[Article]) -> SourceFile:
    """A printed page's (or issue's) articles, jump markers taken out and parts joined."""
    results = join_parts(take_jumps(articles))
    distinct = _distinct_ids([part.article for part, _ in results])
    parts = [dataclasses.replace(part, article=article)
             for (part, _), article in zip(results, distinct, strict=True)]
    _check_articles(distinct, path)
    log.debug("%s: %d articles as %s", path, len(distinct), kind)
    return SourceFile(path=path, format=kind, articles=distinct,
                      jumps=tuple(part for part in parts if part.jumps))


def _check_articles(articles: list[Article], path: Path) -> None:
    """Refuse articles with nothing to read (only punctuation) or too large to index."""
    for number, article in enumerate(articles, start=1):
        problem = _article_problem(article)
        if problem is not None:
            which = f"article {number} ({article.title!r})" if article.title else (
                f"article {number}")
            raise InputError(f"{which}: {problem}; nothing from this file was loaded",
                             path=str(path))


def _article_problem(article: Article) -> str | None:
    text = article.text
    if not has_words(text):
        return "its text has no letters or digits (only punctuation or symbols)"
    chunks = None
    if len(text) > MAX_ARTICLE_CHARS // 10 and len(text) <= MAX_ARTICLE_CHARS:
        from ..chunks import chunk_article

        chunks = len(chunk_article(article))
    return check_article_size(len(text), chunks)


def _signature(path: Path) -> str | None:
    """"pdf" or "scan" when the file's first bytes say so, whatever its name."""
    # Opened without blocking and read only if a regular file: a FIFO or a device must not
    # hang here; read_text names them.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        head = os.read(fd, 8)
    except OSError:
        return None
    finally:
        os.close(fd)
    return next((kind for magic, kind in _SIGNATURES if head.startswith(magic)), None)


def _load_laid_out(path: Path, kind: str, defaults: _Defaults,
                   on_page: PageProgress | None) -> list[Article]:
    """Articles of a PDF (every page) or a page scan, read from the page geometry.

    The running head's date and page number win over the file name's; a page number comes
    from the file name ("2023-10-09_03.pdf", "A03.png") for a one-page file, else from the
    page's place in the file. Every page must give articles or the file is refused, naming
    the page, so a whole-issue PDF never loads with a page silently missing.
    """
    from .page_geometry import parse_layout

    def progress(number: int, total: int) -> None:
        if on_page is not None:
            on_page(path, number, total)

    data = read_bytes(path)  # names a missing file, a FIFO, one over the size limit
    if kind == "pdf":
        from .pdf import read_pdf

        pages = [(p.number, p.layout) for p in read_pdf(path, data, progress=progress)]
    else:
        from .scan import read_scan

        pages = [(1, read_scan(path, data))]
        progress(1, 1)
    named_page = defaults.page or _page_from_name(path)
    articles: list[Article] = []
    for number, layout in pages:
        fallback = named_page if len(pages) == 1 else str(number)
        found, _facts = parse_layout(layout, source=defaults.source, date=defaults.date,
                                     page=fallback)
        if not found:
            where = f"page {number}" if len(pages) > 1 else "the page"
            raise InputError(
                f"{where}: no article could be recognised (no text found"
                f"{' by OCR' if kind == 'scan' else ''}); check that it is a newspaper page",
                path=str(path))
        articles.extend(found)
    return articles


def _page_from_name(path: Path) -> str | None:
    """A page number at the end of the file name, once a date is taken out of it."""
    stem = _NAME_DATE.sub("", path.stem)
    m = _NAME_PAGE.search(stem)
    return page_number(m.group(1)) if m is not None else None


@dataclass(frozen=True)
class _Defaults:
    date: str | None
    source: str | None
    page: str | None


def _date_from_path(path: Path) -> str | None:
    """A real date in the file name, else in its directory's name (archives by day)."""
    for name in (path.stem, path.parent.name):
        for m in _NAME_DATE.finditer(name):
            try:
                return dt.date(int(m[1]), int(m[3]), int(m[4])).isoformat()
            except ValueError:
                continue  # eight digits that are not a date, e.g. an issue number
    return None


def _distinct_ids(articles: list[Article]) -> list[Article]:
    """Suffix repeated ids by order (-2, -3, …): the same headline can appear twice a page."""
    seen: dict[str, int] = {}
    result: list[Article] = []
    for article in articles:
        count = seen.get(article.id, 0) + 1
        seen[article.id] = count
        result.append(
            article if count == 1 else dataclasses.replace(article, id=f"{article.id}-{count}")
        )
    return result


# --------------------------------------------------------------------------- page


def _load_page(text: str, path: Path, defaults: _Defaults) -> list[Article]:
    """Page text's articles; the date and page number its running head prints win over the
    file name's and the caller's, as on a PDF (a jump names pages: "下转第3版")."""
    from .page import parse_page
    from .page_lines import running_head

    printed_date, printed_page = running_head(text.split("\n"))
    articles = parse_page(text, source=defaults.source, date=printed_date or defaults.date,
                          page=printed_page or defaults.page or _page_from_name(path))
    if not articles:
        raise InputError(
            "no article could be recognised in this page text; if the file holds a single "
            "article, load it with --format article",
            path=str(path),
        )
    return articles


# --------------------------------------------------------------------------- article


def _load_article(text: str, path: Path, defaults: _Defaults) -> list[Article]:
    lines = text.split("\n")
    index = _next_nonblank(lines, 0)
    heading = _HEADING.match(lines[index])
    title = (heading.group(1) if heading else lines[index]).strip()
    index += 1
    if index < len(lines) and _SETEXT_RULE.match(lines[index]) and not heading:
        index += 1
    subtitle = None
    authors: tuple[str, ...] = ()
    index = _next_nonblank(lines, index)
    if index < len(lines):
        line = lines[index]
        sub_heading = _HEADING.match(line)
        if sub_heading or _SUBTITLE_DASH.match(line):
            raw = sub_heading.group(1) if sub_heading else line
            subtitle = _SUBTITLE_DASH.sub("", raw).strip() or None
            index = _next_nonblank(lines, index + 1)
    if index < len(lines):
        byline = parse_byline(lines[index])
        if byline is not None:
            authors = byline.authors
            index += 1
    paragraphs = _paragraphs(lines[index:])
    if paragraphs:
        dateline = match_dateline(paragraphs[0])
        if dateline is not None:
            # The dateline credit is metadata, printed before the story proper.
            authors = authors or dateline.authors
            rest = paragraphs[0][dateline.end :].strip()
            paragraphs = ([rest] if rest else []) + paragraphs[1:]
    if not paragraphs:
        raise InputError(
            "found a headline but no body text; an article file holds the headline on its "
            "first line and the body below it",
            path=str(path),
        )
    return [
        _article(
            path,
            defaults,
            title=title or None,
            subtitle=subtitle,
            authors=authors,
            paragraphs=paragraphs,
        )
    ]


def _next_nonblank(lines: list[str], index: int) -> int:
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index


def _paragraphs(lines: list[str]) -> list[str]:
    """Blank lines separate paragraphs; without any, every line is a paragraph."""
    body = "\n".join(lines).strip()
    if not body:
        return []
    if re.search(r"\n\s*\n", body):
        blocks = re.split(r"\n\s*\n", body)
        return [_join_lines(block.split("\n")) for block in blocks if block.strip()]
    return [line.strip() for line in body.split("\n") if line.strip()]


def _join_lines(lines: list[str]) -> str:
    """Re-join a wrapped paragraph: no space between CJK text, one space between words."""
    joined = ""
    for line in (line.strip() for line in lines):
        if not line:
            continue
        if joined and joined[-1].isascii() and line[0].isascii():
            joined += " "
        joined += line
    return joined


# --------------------------------------------------------------------------- jsonl

_TEXT_FIELDS = ("text", "body", "content")
_STRING_FIELDS = ("id", "title", "subtitle", "kicker", "source", "url")


def _load_jsonl(text: str, path: Path, defaults: _Defaults) -> list[Article]:
    articles: list[Article] = []
    errors: list[tuple[int, str]] = []
    given_ids: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        too_deep = check_json_depth(line)
        if too_deep is not None:
            errors.append((number, too_deep))
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append((number, f"not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        except RecursionError:  # backstop; check_json_depth refuses such lines first
            errors.append((number, "JSON nested too deeply to read"))
            continue
        try:
            article = _record_article(record, path, defaults)
            problem = _article_problem(article)
            if problem is not None:
                raise ValueError(problem)
        except ValueError as exc:
            errors.append((number, str(exc)))
            continue
        if isinstance(record.get("id"), str):
            if article.id in given_ids:
                errors.append(
                    (number, f"id {article.id!r} is already used on line {given_ids[article.id]}")
                )
                continue
            given_ids[article.id] = number
        articles.append(article)
    if errors:
        raise _jsonl_error(path, errors)
    if not articles:
        raise InputError("the file holds no records", path=str(path))
    return articles


def _jsonl_error(path: Path, errors: list[tuple[int, str]]) -> InputError:
    advice = "fix or remove {} - nothing from this file was loaded"
    if len(errors) == 1:
        number, problem = errors[0]
        return InputError(f"{problem}; {advice.format('that line')}", path=str(path), line=number)
    listed = "; ".join(f"line {n}: {problem}" for n, problem in errors[:_MAX_LISTED_ERRORS])
    more = len(errors) - _MAX_LISTED_ERRORS
    if more > 0:
        listed += f"; and {more} more"
    return InputError(
        f"{len(errors)} bad records - {listed}; {advice.format('these lines')}",
        path=str(path),
        line=errors[0][0],
    )


def _record_article(record: Any, path: Path, defaults: _Defaults) -> Article:
    """Build an Article from one JSON record; ValueError says what is wrong with it."""
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    paragraphs = _record_paragraphs(record)
    fields: dict[str, str | None] = {}
    for name in _STRING_FIELDS:
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            raise ValueError(f'"{name}" must be a string')
        fields[name] = (clean_line(value) or None) if isinstance(value, str) else None
    raw_page = record.get("page")
    if raw_page is not None and (
        isinstance(raw_page, bool) or not isinstance(raw_page, str | int)
    ):
        raise ValueError(f'"page" must be a string or a whole number, not {json.dumps(raw_page)}')
    page = clean_line(str(raw_page)) or None if raw_page is not None else None
    authors = _record_authors(record)
    date = defaults.date
    if record.get("date") is not None:
        if not isinstance(record["date"], str):
            raise ValueError('"date" must be a string like "2023-10-08"')
        try:
            date = parse_date(record["date"], what='"date"')
        except InputError as exc:
            raise ValueError(str(exc)) from None
    source = fields["source"] or defaults.source
    return Article(
        id=fields["id"]
        or derive_article_id(
            source=source,
            date=date,
            title=fields["title"],
            body="\n".join(paragraphs),
            page=str(page) if page is not None else defaults.page,
        ),
        title=fields["title"],
        paragraphs=tuple(paragraphs),
        subtitle=fields["subtitle"],
        kicker=fields["kicker"],
        authors=authors,
        date=date,
        source=source,
        page=str(page) if page is not None else defaults.page,
        url=fields["url"],
    )


def _record_paragraphs(record: dict[str, Any]) -> list[str]:
    for name in _TEXT_FIELDS:
        value = record.get(name)
        if value is None:
            continue
        if isinstance(value, str):
            paragraphs = _paragraphs(clean_text(value).split("\n"))
        elif isinstance(value, list) and all(isinstance(p, str) for p in value):
            paragraphs = [
                clean_line(p) for p in value if clean_line(p)
            ]
        else:
            raise ValueError(f'"{name}" must be a string or a list of paragraph strings')
        if not paragraphs:
            raise ValueError(f'"{name}" is empty')
        return paragraphs
    raise ValueError('no text: a record needs a "text", "body" or "content" field')


def _record_authors(record: dict[str, Any]) -> tuple[str, ...]:
    authors = record.get("authors")
    if authors is not None:
        if not isinstance(authors, list) or not all(isinstance(a, str) for a in authors):
            raise ValueError('"authors" must be a list of names')
        return tuple(clean_line(a) for a in authors if clean_line(a))
    byline = record.get("byline")
    if byline is None:
        return ()
    if not isinstance(byline, str):
        raise ValueError('"byline" must be a string such as "本报记者 王培源 通讯员 李子涛"')
    return split_byline(clean_line(byline))


def split_byline(byline: str) -> tuple[str, ...]:
    """Names in a byline string: role words dropped ("本报记者 王培源" → 王培源)."""
    parsed = parse_byline(byline, require_role=False)
    if parsed is not None:
        return parsed.authors
    # Not the Chinese role-and-name shape (e.g. "Jane Doe; John Roe"): split on separators.
    return tuple(name for name in _AUTHOR_SEPARATORS.split(byline.strip()) if name)


# --------------------------------------------------------------------------- html

# Chinese carries more per character than the English the defaults were tuned on: a
# 100-character news brief is a whole article, not a scrap to replace by a fallback.
_MIN_EXTRACTED_CHARS = "60"
_MIN_HTML_BODY_CHARS = 20
# Elements whose content is never reader-visible text: removed before extraction, because a
# <script> inside the headline's <h1> would otherwise become part of the title.
_INVISIBLE = re.compile(
    r"<(script|style|noscript|template|iframe|object|svg)\b[^>]*>.*?</\1\s*>"
    r"|<(script|style|noscript|template|iframe|object|svg)\b[^>]*/?>",
    re.IGNORECASE | re.DOTALL,
)
# Character references to control characters (&#27; is ESC): the XML tree trafilatura builds
# cannot hold them, so a page using one would come out empty. They are decoded and then
# cleaned like raw ones, so an escape sequence written as "&#27;[5m" goes as a whole.
_CONTROL_REFERENCE = re.compile(
    r"&#(0*(?:[0-8]|1[1-24-9]|2[0-9]|3[01]|12[7-9]|1[3-5][0-9])"
    r"|[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF]|[89][0-9a-fA-F]));"
)


def _control_character(match: re.Match[str]) -> str:
    number = match.group(1)
    return chr(int(number[1:], 16) if number[0] in "xX" else int(number))


def _load_html(text: str, path: Path, defaults: _Defaults) -> list[Article]:
    import trafilatura
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", _MIN_EXTRACTED_CHARS)
    # A Document (a dict only with as_dict=True, which is not asked for).
    doc: Document | None = trafilatura.bare_extraction(  # type: ignore[assignment]
        clean_text(_CONTROL_REFERENCE.sub(_control_character, _INVISIBLE.sub(" ", text))),
        with_metadata=True, include_comments=False,
        include_tables=False, config=config,
    )
    # Entities such as &#27; decode to control characters only now: clean the results too.
    body = clean_text(doc.text or "") if doc is not None else ""
    title = (clean_line(doc.title or "") or None) if doc is not None else None
    paragraphs = [clean_line(line) for line in body.split("\n") if clean_line(line)]
    if paragraphs and title and paragraphs[0] == title:
        paragraphs = paragraphs[1:]  # the page's <h1> repeats the headline
    # A few words (a lone nav link surviving the fallback extractor) are not an article.
    if doc is None or sum(len(p) for p in paragraphs) < _MIN_HTML_BODY_CHARS:
        raise InputError(
            "no article text found in this HTML page (is it an index or a login page?)",
            path=str(path),
        )
    date = defaults.date
    if doc.date:
        try:
            date = parse_date(doc.date, what="date")
        except InputError:
            log.debug("%s: ignoring unparseable page date %r", path, doc.date)
    return [
        _article(
            path,
            _Defaults(
                date=date,
                source=clean_line(doc.sitename or "") or defaults.source,
                page=defaults.page,
            ),
            title=title,
            authors=split_byline(clean_line(doc.author)) if doc.author else (),
            paragraphs=paragraphs,
            url=clean_line(doc.url) if doc.url else None,
        )
    ]


def _article(
    path: Path,
    defaults: _Defaults,
    *,
    title: str | None,
    paragraphs: list[str],
    subtitle: str | None = None,
    authors: tuple[str, ...] = (),
    url: str | None = None,
) -> Article:
    return Article(
        id=derive_article_id(
            source=defaults.source,
            date=defaults.date,
            title=title,
            body="\n".join(paragraphs),
            page=defaults.page,
        ),
        title=title,
        paragraphs=tuple(paragraphs),
        subtitle=subtitle,
        authors=authors,
        date=defaults.date,
        source=defaults.source,
        page=defaults.page,
        url=url,
    )


_LOADERS: dict[str, Callable[[str, Path, _Defaults], list[Article]]] = {
    "page": _load_page,
    "article": _load_article,
    "jsonl": _load_jsonl,
    "html": _load_html,
}
