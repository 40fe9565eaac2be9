"""Typeset clean articles as e-paper PDF pages, with the truth beside each page.

One module on purpose, like ``bench/pagegen.py`` (whose articles it typesets): every drawing
step takes from the one random stream, so a seed reproduces a page only while they run in
order.

A page is modular, as newspapers are laid out: rows of rectangular blocks over a grid of 6-8
columns; each story block has its headline in large type across the block (a kicker above,
a "——" subtitle below, sometimes), a "■ 本报记者 X" byline box or a "本报讯（记者 X）" dateline,
and justified body lines with a two-character first-line indent, flowed through the block's
columns. Photo blocks are a grey picture with the caption below, credited "（X 摄）" or on a
line of its own. A running head carries the paper name, the date and the page number, a
running foot the editors. Text is set in WenQuanYi Micro Hei (wqy-microhei, Apache-2.0),
installed from PyPI by ``paperang-p2-fonts-cjk`` and embedded, so pdfium can render the pages
to images for the OCR path.

    python -m bench.pdfgen OUT_DIR --pages 3 --seed 7   # writes page PDFs + truth JSON
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from bench.pagegen import load_cmrc, make_articles, sample_articles
from retrieval.articles import Article

FONT = "WenQuanYi"
PAGE_WIDTH, PAGE_HEIGHT = 842.0, 1191.0  # A3 portrait, in points
MARGIN = 40.0
GUTTER = 14.0
CONTENT_TOP = 86.0  # below the running head and its rule
CONTENT_BOTTOM = PAGE_HEIGHT - 56.0
ROW_GAP = 18.0
_CLOSERS = "，。、；：！？”’）》」』…"
_OPENERS = "“‘（《「『"
_PAPERS = ("聊城日报", "齐鲁晚报", "大众日报", "江城日报", "东方早报")
_SECTIONS = ("要闻", "综合", "经济", "民生", "文化", "时评")
_WEEKDAYS = "一二三四五六日"


def font_path() -> Path:
    import paperang_p2_fonts_cjk

    return Path(paperang_p2_fonts_cjk.__file__).resolve().parent / "fonts" / "wqy-microhei.ttc"


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(font_path()), subfontIndex=0))


def _width(text: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, FONT, size)


# --------------------------------------------------------------------------- truth


@dataclass(frozen=True, slots=True)
class PageTruth:
    """What a reader should get back from one generated page."""

    paper: str
    date: str  # ISO
    page: str
    articles: tuple[Article, ...]

    def to_dict(self) -> dict[str, object]:
        return {"paper": self.paper, "date": self.date, "page": self.page,
                "articles": [a.to_dict() for a in self.articles]}


# --------------------------------------------------------------------------- typesetting


@dataclass(slots=True)
class _Run:
    """One line to draw: its text, size, left x, baseline y (from the top) and set width."""

    text: str
    size: float
    x: float
    y: float
    justify_to: float | None = None  # spread the characters over this width
    center_in: float | None = None  # centre the line in this width from x
    tracking: float = 0.0  # extra space after each character (letter-spaced headlines)


def _tokens(text: str) -> list[str]:
    """Characters, with Latin words and numbers kept whole (they never break)."""
    out: list[str] = []
    for ch in text:
        if out and ch.isascii() and ch.isalnum() and out[-1][-1:].isascii() \
                and out[-1][-1:].isalnum():
            out[-1] += ch
        else:
            out.append(ch)
    return out


def wrap(text: str, size: float, width: float, *, indent: float = 0.0) -> list[str]:
    """Cut text into lines no wider than ``width``; closing marks hang, opening ones go down."""
    lines: list[str] = []
    current = ""
    limit = width - indent
    for token in _tokens(text):
        if current and _width(current + token, size) > limit + 0.01:
            if token in _CLOSERS:
                lines.append(current + token)  # hanging punctuation
                current, limit = "", width
                continue
            carry = ""
            if current[-1] in _OPENERS:  # an opening mark never ends a line
                current, carry = current[:-1], current[-1]
            lines.append(current.rstrip(" "))
            current, limit = carry, width
        if token == " " and not current:
            continue
        current += token
    if current:
        lines.append(current)
    return lines


def _draw(canvas: Canvas, run: _Run) -> None:
    canvas.setFont(FONT, run.size)
    y = PAGE_HEIGHT - run.y
    if run.center_in is not None:
        set_width = _width(run.text, run.size) + run.tracking * (len(run.text) - 1)
        x = run.x + (run.center_in - set_width) / 2
        for ch in run.text:
            canvas.drawString(x, y, ch)
            x += _width(ch, run.size) + run.tracking
        return
    if run.justify_to is None or len(run.text) < 2:
        canvas.drawString(run.x, y, run.text)
        return
    # Justified: the slack is spread over the gaps between characters, as typesetters do;
    # a line with a hanging closing mark is squeezed by the same rule instead.
    slack = run.justify_to - _width(run.text, run.size)
    gap = slack / (len(run.text) - 1)
    x = run.x
    for ch in run.text:
        canvas.drawString(x, y, ch)
        x += _width(ch, run.size) + gap


@dataclass(slots=True)
class _Block:
    """A story or photo laid out in ``columns`` columns; runs are relative to (0, 0)."""

    article: Article
    columns: int
    width: float
    height: float
    runs: list[_Run]
    picture: tuple[float, float, float, float] | None = None  # x, y, w, h


def _byline_lines(article: Article, rng: random.Random, width: float, size: float
                  ) -> list[str]:
    """The byline box; one role and name a line when both do not fit the column."""
    marker = rng.choice(("■ ", "■", "□ "))
    parts = [f"{marker}本报记者 {article.authors[0]}"]
    if len(article.authors) > 1:
        parts.append(f"{rng.choice(('通讯员', '实习生'))} {article.authors[1]}")
    joined = " ".join(parts)
    if _width(joined, size) <= width:
        return [joined]
    return [line for part in parts for line in wrap(part, size, width)]


def _dateline_text(article: Article, rng: random.Random) -> str:
    names = " ".join(article.authors)
    if rng.random() < 0.7:
        return f"本报讯（记者 {names}）"
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    return f"本报{rng.choice(('北京', '济南', '聊城'))}{month}月{day}日电（记者 {names}）"


def _head_runs(article: Article, width: float, body: float) -> tuple[list[_Run], float]:
    """Kicker, headline (large, across the block) and subtitle; returns runs and height."""
    runs: list[_Run] = []
    y = 0.0
    if article.kicker:
        size = min(1.5 * body, width / max(len(article.kicker), 1) * 0.95)
        y += size * 1.2
        runs.append(_Run(article.kicker, size, 0.0, y, center_in=width))
        y += size * 0.35
    if not article.title:  # the rest of a continued story, printed without a headline
        return runs, y + body * 0.5
    title = article.title
    # The headline runs across its block: the size that fills the block on one line, capped
    # (then letter-spaced to fill it); below a floor it breaks over two lines, as
    # typesetters do on narrow blocks.
    size = min(5.0 * body, width * 0.94 / max(_width(title, 1.0), 1.0))
    lines = [title]
    if size < 1.9 * body:
        size = max(1.9 * body, min(3.0 * body, width * 0.94 / max(_width(title, 1.0) / 2, 1.0)))
        lines = wrap(title, size, width * 0.94)
    for line in lines:
        y += size * 1.15
        slack = width * 0.9 - _width(line, size)
        tracking = max(0.0, min(size * 0.8, slack / max(len(line) - 1, 1)))
        runs.append(_Run(line, size, 0.0, y, center_in=width, tracking=tracking))
    y += size * 0.3
    if article.subtitle:
        sub = "——" + article.subtitle
        size = 1.3 * body
        for line in wrap(sub, size, width * 0.96):
            y += size * 1.3
            runs.append(_Run(line, size, 0.0, y, center_in=width))
    return runs, y + body * 1.1


@dataclass(frozen=True, slots=True)
class Jump:
    """How a part of a story continued on another page is printed."""

    opening: str | None = None  # "（上接第1版）", on the first line of the rest
    closing: str | None = None  # "（下转第3版）", on a line of its own, flush right
    runs_on: bool = False  # the rest opens mid-paragraph: its first line is not indented


def _story_block(article: Article, columns: int, column_width: float, body: float,
                 rng: random.Random, jump: Jump | None = None) -> tuple[_Block, Article]:
    width = columns * column_width + (columns - 1) * GUTTER
    runs, head_height = _head_runs(article, width, body)
    # (text, indent in points, last line of its paragraph)
    lines: list[tuple[str, float, bool]] = []
    paragraphs = list(article.paragraphs)
    if article.authors and rng.random() < 0.5:
        for text in _byline_lines(article, rng, column_width, body):
            lines.append((text, 0.0, True))
    elif article.authors:
        paragraphs[0] = _dateline_text(article, rng) + paragraphs[0]
    if jump is not None and jump.opening:
        lines.append((jump.opening, 0.0, True))
    for number, paragraph in enumerate(paragraphs):
        indent = 0.0 if number == 0 and jump is not None and jump.runs_on else 2 * body
        wrapped = wrap(paragraph, body, column_width, indent=indent)
        for k, text in enumerate(wrapped):
            lines.append((text, indent if k == 0 else 0.0, k == len(wrapped) - 1))
    if jump is not None and jump.closing:
        lines.append((jump.closing, column_width - _width(jump.closing, body), True))
    leading = body * 1.5
    per_column = math.ceil(len(lines) / columns)
    for index, (text, shift, last) in enumerate(lines):
        column, row = divmod(index, per_column)
        x = column * (column_width + GUTTER) + shift
        y = head_height + (row + 1) * leading
        room = column_width - shift
        # A paragraph's last line, or one cut short by a long Latin word, is not spread.
        ragged = (last and _width(text, body) <= room) or _width(text, body) < room * 0.6
        fill = None if ragged else room
        runs.append(_Run(text, body, x, y, justify_to=fill))
    height = head_height + per_column * leading + body * 0.4
    return _Block(article, columns, width, height, runs), article


def _photo_block(article: Article, columns: int, column_width: float, body: float,
                 rng: random.Random) -> tuple[_Block, Article]:
    width = columns * column_width + (columns - 1) * GUTTER
    picture_height = width * rng.uniform(0.45, 0.65)
    size = body * 0.85
    y = picture_height + size * 0.6
    runs: list[_Run] = []
    name = article.authors[0]
    paragraphs = list(article.paragraphs)
    style = rng.choice(("run-in", "run-in", "line", "box"))
    if style == "run-in":
        paragraphs[-1] += f"（{rng.choice(('记者 ', '本报记者 ', ''))}{name} 摄）"
    for paragraph in paragraphs:
        wrapped = wrap(paragraph, size, width, indent=2 * size)
        for k, text in enumerate(wrapped):
            y += size * 1.45
            indent = 2 * size if k == 0 else 0.0
            last = k == len(wrapped) - 1 and _width(text, size) <= width - indent
            runs.append(_Run(text, size, indent, y,
                             justify_to=None if last else width - indent))
    if style != "run-in":
        credit = f"{name} 摄" if style == "line" else f"■本报记者 {name} 摄"
        y += size * 1.45
        runs.append(_Run(credit, size, width - _width(credit, size), y))
    return _Block(article, columns, width, y + size * 0.6, runs,
                  picture=(0.0, 0.0, width, picture_height)), article


# --------------------------------------------------------------------------- pages


@dataclass(frozen=True, slots=True)
class PageSpec:
    paper: str
    date: str  # ISO
    page: int
    columns: int
    body: float  # body type size in points


def _spans(article: Article, columns: int, column_width: float, body: float,
           rng: random.Random) -> int:
    """How many columns a story takes: enough that its columns stay well under half a page."""
    if article.kind == "photo":
        return rng.randint(2, min(3, columns))
    chars_per_line = max(1, int(column_width / body))
    lines = sum(math.ceil(len(p) / chars_per_line) + 0.5 for p in article.paragraphs)
    max_lines = (CONTENT_BOTTOM - CONTENT_TOP) * 0.38 / (body * 1.5)
    need = math.ceil(lines / max_lines)
    return min(columns, max(need, rng.randint(1, 4), 2 if len(article.title or "") > 12 else 1))


def typeset_page(articles: Sequence[Article], spec: PageSpec, rng: random.Random,
                 out: Path, jumps: Mapping[str, Jump] | None = None) -> PageTruth:
    """Lay ``articles`` out in rows of blocks and write the PDF; those that fit are the truth.

    ``jumps``: jump markers to print, by article id (parts of stories continued elsewhere).
    """
    _register_font()
    marks = jumps or {}
    column_width = (PAGE_WIDTH - 2 * MARGIN - (spec.columns - 1) * GUTTER) / spec.columns
    rows: list[list[_Block]] = []
    row: list[_Block] = []
    used = 0
    queue = list(articles)
    while queue:
        article = queue[0]
        span = _spans(article, spec.columns, column_width, spec.body, rng)
        if used + span > spec.columns:
            if used < spec.columns and row:
                # The row's last block widens to fill the row, as a make-up editor would.
                last = row.pop()
                used -= last.columns
                row.append(_layout(last.article, spec.columns - used, column_width, spec.body,
                                   rng, marks))
            rows.append(row)
            row, used = [], 0
            continue
        queue.pop(0)
        row.append(_layout(article, span, column_width, spec.body, rng, marks))
        used += span
    if row:
        if used < spec.columns:
            last = row.pop()
            used -= last.columns
            row.append(_layout(last.article, spec.columns - used, column_width, spec.body, rng,
                               marks))
        rows.append(row)
    canvas = Canvas(str(out), pagesize=(PAGE_WIDTH, PAGE_HEIGHT), pageCompression=1)
    canvas.setTitle(f"{spec.paper} {spec.date} 第{spec.page}版")
    _running_head(canvas, spec, rng)
    placed: list[Article] = []
    y = CONTENT_TOP
    for row_blocks in rows:
        height = max(block.height for block in row_blocks)
        if y + height > CONTENT_BOTTOM:
            break
        x = MARGIN
        for block in row_blocks:
            if block.picture is not None:
                px, py, pw, ph = block.picture
                canvas.setFillGray(0.82)
                canvas.rect(x + px, PAGE_HEIGHT - (y + py + ph), pw, ph, stroke=0, fill=1)
                canvas.setFillGray(0.0)
            for run in block.runs:
                _draw(canvas, replace(run, x=run.x + x, y=run.y + y))
            placed.append(block.article)
            x += block.width + GUTTER
        y += height + ROW_GAP
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, PAGE_HEIGHT - (y - ROW_GAP / 2), PAGE_WIDTH - MARGIN,
                    PAGE_HEIGHT - (y - ROW_GAP / 2))
    canvas.showPage()
    canvas.save()
    return PageTruth(spec.paper, spec.date, str(spec.page), tuple(placed))


def _layout(article: Article, columns: int, column_width: float, body: float,
            rng: random.Random, jumps: Mapping[str, Jump]) -> _Block:
    if article.kind == "photo":
        return _photo_block(article, columns, column_width, body, rng)[0]
    return _story_block(article, columns, column_width, body, rng,
                        jumps.get(article.id) if article.id else None)[0]


def _running_head(canvas: Canvas, spec: PageSpec, rng: random.Random) -> None:
    year, month, day = (int(part) for part in spec.date.split("-"))
    import datetime as dt

    weekday = _WEEKDAYS[dt.date(year, month, day).weekday()]
    head_y = PAGE_HEIGHT - 62
    canvas.setFont(FONT, 18)
    canvas.drawString(MARGIN, head_y, spec.paper)
    canvas.setFont(FONT, 9)
    middle = f"{year}年{month}月{day}日 星期{weekday}"
    canvas.drawString((PAGE_WIDTH - _width(middle, 9)) / 2, head_y, middle)
    right = f"第{spec.page}版 · {rng.choice(_SECTIONS)}"
    canvas.drawString(PAGE_WIDTH - MARGIN - _width(right, 9), head_y, right)
    canvas.setLineWidth(1.2)
    canvas.line(MARGIN, PAGE_HEIGHT - 72, PAGE_WIDTH - MARGIN, PAGE_HEIGHT - 72)
    foot = "责编：{} 版式：{} 校对：{}".format(*(rng.choice("王李张刘陈杨") + rng.choice("伟芳娜敏")
                                                for _ in range(3)))
    canvas.setFont(FONT, 8)
    canvas.drawString(MARGIN, 30, foot)


def generate_pdf_pages(count: int, seed: int, out_dir: Path, *,
                       stories: tuple[int, int] = (4, 8)) -> list[tuple[Path, PageTruth]]:
    """``count`` page PDFs in ``out_dir`` (truth JSON beside each), reproducible from ``seed``."""
    rng = random.Random(seed)
    cmrc = load_cmrc()
    sample = sample_articles()
    out_dir.mkdir(parents=True, exist_ok=True)
    pages: list[tuple[Path, PageTruth]] = []
    paper = rng.choice(_PAPERS)
    date = f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    for number in range(1, count + 1):
        articles = [_printable(a) for a in
                    make_articles(rng, rng.randint(*stories), cmrc=cmrc, sample=sample)]
        spec = PageSpec(paper, date, number, rng.choice((6, 7, 8)), rng.choice((8.5, 9.0, 9.5)))
        pages.append(_write_page(articles, spec, rng, out_dir))
    return pages


def _write_page(articles: Sequence[Article], spec: PageSpec, rng: random.Random, out_dir: Path,
                jumps: Mapping[str, Jump] | None = None) -> tuple[Path, PageTruth]:
    path = out_dir / f"{spec.date}_{spec.page:02d}.pdf"
    truth = typeset_page(articles, spec, rng, path, jumps)
    path.with_suffix(".truth.json").write_text(
        json.dumps(truth.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    return path, truth


def generate_pdf_issue(count: int, seed: int, out_dir: Path, *,
                       stories: tuple[int, int] = (4, 7)
                       ) -> tuple[list[tuple[Path, PageTruth]], list[Article]]:
    """An issue of ``count`` pages whose longest stories jump to a later page.

    Each page but the last continues its longest story on a later page ("（下转第M版）" at
    the end of the first part, "（上接第N版）" opening the rest, under the headline repeated
    in full or shortened, or under none), cut mid-sentence or between paragraphs. Returns the
    pages with each page's truth (the parts as printed, markers left out) and the issue's
    truth: a story both of whose parts were printed is one article on pages "N、M".
    """
    rng = random.Random(seed)
    cmrc = load_cmrc()
    sample = sample_articles()
    out_dir.mkdir(parents=True, exist_ok=True)
    paper = rng.choice(_PAPERS)
    date = f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    plans = [[_printable(a) for a in
              make_articles(rng, rng.randint(*stories), cmrc=cmrc, sample=sample)]
             for _ in range(count)]
    # An issue prints a story once (the sample's articles could come up on two pages).
    printed: set[str] = set()
    for plan in plans:
        plan[:] = [a for a in plan if not a.title or a.title not in printed]
        printed.update(a.title for a in plan if a.title)
    jumps: dict[str, Jump] = {}
    whole: dict[str, tuple[Article, str]] = {}  # first part's id -> (the story, rest's id)
    for number in range(1, count):
        stories_here = [a for a in plans[number - 1] if a.kind == "article"]
        if not stories_here:
            continue
        story = max(stories_here, key=lambda a: len(a.text))
        target = rng.randint(number + 1, count)
        split = _split_story(story, rng, f"jump-{number}")
        if split is None:
            continue
        first, rest, runs_on = split
        plans[number - 1][plans[number - 1].index(story)] = first
        plans[target - 1].insert(rng.randint(0, min(1, len(plans[target - 1]))), rest)
        jumps[first.id] = Jump(closing=f"（下转第{target}版）")
        jumps[rest.id] = Jump(opening=f"（上接第{number}版）", runs_on=runs_on)
        whole[first.id] = (story, rest.id)
    pages = [_write_page(articles, PageSpec(paper, date, number, rng.choice((6, 7, 8)),
                                            rng.choice((8.5, 9.0, 9.5))), rng, out_dir, jumps)
             for number, articles in enumerate(plans, start=1)]
    placed = {a.id: (a, truth.page) for _, truth in pages for a in truth.articles if a.id}
    issue: list[Article] = []
    for _, truth in pages:
        for article in truth.articles:
            plain = replace(article, page=truth.page)
            if article.id in whole and whole[article.id][1] in placed:
                story, rest_id = whole[article.id]
                plain = replace(story, page=f"{truth.page}、{placed[rest_id][1]}")
            elif any(rest_id == article.id and first_id in placed
                     for first_id, (_, rest_id) in whole.items()):
                continue  # printed, and joined to its first part above
            issue.append(plain)
    return pages, issue


def _split_story(story: Article, rng: random.Random, key: str
                 ) -> tuple[Article, Article, bool] | None:
    """``split_story`` at a random place, the headline repeated in full, shortened or not."""
    total = sum(len(p) for p in story.paragraphs)
    if total < 300:
        return None
    aim = int(total * rng.uniform(0.4, 0.65))
    between = rng.random() < 0.3
    roll = rng.random()
    title = story.title or ""
    repeat: str | None = title
    if roll < 0.25:
        repeat = None
    elif roll < 0.5 and " " in title:
        repeat = title.split(" ")[-1]
    return split_story(story, aim, key, repeat=repeat, between=between)


def split_story(story: Article, aim: int, key: str, *, repeat: str | None,
                between: bool = False) -> tuple[Article, Article, bool] | None:
    """The story cut in two near character ``aim``: (first part, rest, whether the rest opens
    mid-paragraph); the parts' ids are ``key``-first and ``key``-rest.

    The cut falls between two ideographs inside a sentence or, with ``between``, between two
    paragraphs after a finished sentence; the rest is headed ``repeat`` (None: no headline).
    """
    paragraphs = list(story.paragraphs)
    seen = 0
    for k, paragraph in enumerate(paragraphs):
        if seen + len(paragraph) < aim:
            seen += len(paragraph)
            continue
        cut = aim - seen
        if between and k > 0 and _ends(paragraphs[k - 1]):
            head, tail, runs_on = paragraphs[:k], paragraphs[k:], False
        else:
            while cut < len(paragraph) - 1 and not (
                    _ideograph(paragraph[cut - 1]) and _ideograph(paragraph[cut])):
                cut += 1
            if cut <= 0 or cut >= len(paragraph) - 1:
                return None
            head = [*paragraphs[:k], paragraph[:cut]]
            tail = [paragraph[cut:], *paragraphs[k + 1:]]
            runs_on = True
        break
    else:
        return None
    first = replace(story, id=f"{key}-first", paragraphs=tuple(head))
    rest = Article(id=f"{key}-rest", title=repeat, paragraphs=tuple(tail))
    return first, rest, runs_on


def _ideograph(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _ends(paragraph: str) -> bool:
    return paragraph.rstrip().endswith(("。", "！", "？", "”", "…"))


def _printable(article: Article) -> Article:
    """The article without characters the font has no glyph for: no page can show them."""
    _register_font()
    font = pdfmetrics.getFont(FONT)
    known = font.face.charToGlyph

    def keep(text: str) -> str:
        return "".join(ch for ch in text if ord(ch) in known or ch in " \n")

    return replace(
        article,
        title=keep(article.title) if article.title else None,
        subtitle=keep(article.subtitle) if article.subtitle else None,
        kicker=keep(article.kicker) if article.kicker else None,
        paragraphs=tuple(keep(p) for p in article.paragraphs),
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--pages", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for path, truth in generate_pdf_pages(args.pages, args.seed, args.out):
        print(f"{path}: {len(truth.articles)} articles")


if __name__ == "__main__":
    main()
