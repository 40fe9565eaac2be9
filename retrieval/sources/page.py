"""Split the extracted text of a printed newspaper page into articles.

One module (~450 lines) with ``page_lines``: stories, captions and paragraphs are decided on
the same units and thresholds; line classification lives apart in ``page_lines``.

The text is what a PDF/OCR tool gives for a typeset page: lines cut at the column width,
blank lines at column breaks as well as between paragraphs, layout spaces, and the page's
stories one after another with their headlines either before or after the body. The
rules are documented in docs/page-format.md; in short:

1. Every line is classified (``retrieval.page_lines``): byline box, subtitle ("——…"),
   headline candidate, body text.
   A headline candidate is a short run of lines without sentence punctuation that starts
   after a finished sentence; it is accepted when the context says a story starts or ends
   there (a byline, a dateline, a subtitle, a paragraph start, another headline, the end
   of the page, or a line that cannot belong to the next paragraph's column).
2. The page's headline order (before or after the body) is read from the page's edges.
3. Bylines attach to the body that follows them, unless a dateline with its own credit or
   a headline follows (then they close the previous body, as under a photo caption).
4. Body lines are rejoined into paragraphs: a paragraph ends at a finished sentence on a
   line clearly shorter than the column, before a blank line, or before an indented line.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Literal

from ..articles import Article, ArticleKind, printed_article
from .bylines import Byline, match_dateline, parse_byline, starts_with_dateline
from .jumps import opens_with_jump
from .layout import (
    SPACES,
    clean_layout_spacing,
    display_width,
    ends_sentence,
    is_ideograph,
    join_lines,
    join_raw_lines,
)
from .page_lines import (
    SUBTITLE_RE,
    Line,
    classify,
    closes,
    column_width,
    credit_line,
    effective_width,
    find_headlines,
    is_closed,
    read_lines,
    run_in_credit,
    take_photo_credit,
)

__all__ = ["clean_layout_spacing", "looks_like_page", "parse_page"]

# -- thresholds (cells: display width, a Chinese character is 2), with the commit that set
# them (git log -S); tuned on the sample page's answer key and bench/page_parser.py seeds 2-9.

_MIN_IDEOGRAPHS = 10  # below this a "page" has nothing an article could be made of (336d779)
# A story without headline or credit needs this many ideographs to be kept (336d779).
_MIN_STORY_IDEOGRAPHS = 20
# Captions are short: a text this long or shorter, closed by a run-in credit, or a story
# without headline this short, is a photo caption (docs/page-format.md rule 7; 336d779).
_MAX_CAPTION_CHARS = 300
# A sentence end on a line this much shorter than the column ends its paragraph (rule 8;
# 336d779): a full line is at most a cell or two short.
_LAST_LINE_SHORT = 3
# Of two head lines without a blank, a first line at least this much shorter than the second
# is a kicker; a headline broken over two lines fills its first line (rule 3; 44405f6).
_KICKER_SHORTER = 4
# looks_like_page (336d779): at least this many lines with ideographs; a column no wider
# than _PAGE_MAX_COLUMN cells; lines "near the column" within max(_NEAR_COLUMN_CELLS,
# _NEAR_COLUMN_SHARE × column) of it; a page has at least _PAGE_MIN_SHARE of its lines near
# the column and the same share cut mid-sentence; evidence adds up to _PAGE_SCORE.
_PAGE_MIN_LINES = 6
_PAGE_MAX_COLUMN = 70
_NEAR_COLUMN_CELLS = 4
_NEAR_COLUMN_SHARE = 0.15
_PAGE_MIN_SHARE = 0.5
_PAGE_SCORE = 3.0
# A blank-separated block whose widest lines are this many times wider than the text above
# (its widest of _BLOCK_LINES lines) is set to another measure: not that text's next column.
_OTHER_MEASURE = 1.6
_BLOCK_LINES = 8


_UnitKind = Literal["text", "box", "head"]  # body text, a byline box, a headline block


@dataclass(slots=True)
class _Unit:
    kind: _UnitKind
    lines: list[Line] = field(default_factory=list)
    byline: Byline | None = None


@dataclass(slots=True)
class _Story:
    body: _Unit
    head: list[_Unit] = field(default_factory=list)  # head units: kicker?, title, subtitle?
    boxes: list[tuple[Byline, bool]] = field(default_factory=list)  # (byline, after_body)


# --------------------------------------------------------------------------- units


def _units(lines: list[Line]) -> list[_Unit]:
    units: list[_Unit] = []
    for index, line in enumerate(lines):
        if line.kind == "furniture":
            continue
        if line.kind == "box":
            if units and units[-1].kind == "box" and not line.blank_before:
                prev = units[-1].byline
                assert prev is not None and line.byline is not None
                units[-1].byline = Byline(
                    tuple(dict.fromkeys(prev.authors + line.byline.authors)),
                    prev.photo or line.byline.photo,
                )
                units[-1].lines.append(line)
            else:
                units.append(_Unit("box", [line], line.byline))
            continue
        kind: _UnitKind = "head" if line.kind in ("head", "subtitle") else "text"
        new_unit = (
            not units
            or units[-1].kind != kind
            or (kind == "head" and line.kind == "head" and line.blank_before)
            or (kind == "head" and units[-1].lines[-1].kind == "subtitle")
            or (kind == "text" and (starts_with_dateline(line.text) or opens_with_jump(line.text))
                and is_closed(lines, index))
            or (kind == "text" and line.blank_before and is_closed(lines, index)
                and _other_measure(lines, index))
        )
        if new_unit:
            units.append(_Unit(kind, [line]))
        else:
            units[-1].lines.append(line)
    return units


def _widest(lines: list[Line], start: int, step: int, *, cross_blanks: bool) -> int:
    """The widest of up to _BLOCK_LINES text lines from ``start`` one way, within the
    blank-separated block or, ``cross_blanks``, through blank lines too."""
    widths: list[int] = []
    i = start
    while 0 <= i < len(lines) and len(widths) < _BLOCK_LINES and lines[i].kind == "text":
        widths.append(lines[i].width)
        edge = lines[i].blank_after if step > 0 else lines[i].blank_before
        if edge and not cross_blanks:
            break
        i += step
    return max(widths, default=0)


def _other_measure(lines: list[Line], index: int) -> bool:
    """Is the block opening at ``lines[index]`` set wider than the text above it (a caption
    across a picture after a one-column story)? A column break never widens the measure, so
    such a block does not continue the text above."""
    if index == 0 or lines[index - 1].kind != "text":
        return False
    here = _widest(lines, index, 1, cross_blanks=False)
    above = _widest(lines, index - 1, -1, cross_blanks=True)
    return here >= _OTHER_MEASURE * above


def _head_groups(units: list[_Unit]) -> list[_Unit | list[_Unit]]:
    """Gather consecutive head units (kicker, title, subtitle) into one group."""
    out: list[_Unit | list[_Unit]] = []
    for unit in units:
        if unit.kind == "head" and out and isinstance(out[-1], list):
            out[-1].append(unit)
        elif unit.kind == "head":
            out.append([unit])
        else:
            out.append(unit)
    return out


def _headlines_first(items: list[_Unit | list[_Unit]]) -> bool:
    """Read the page's headline order from its edges.

    A page that opens with a headline prints headlines before their bodies; one that
    opens with a byline or a dateline (a story starting with no headline above it)
    prints them after. Photo captions at the page's edges say nothing and are skipped.
    A page opening with plain text (a story continued from another page) is decided by
    its end: a final headline, followed by nothing or only captions, means headlines
    come after.
    """
    k = 0
    while k < len(items) and (_photo_box(items[k]) or _caption_at(items, k)):
        k += 1
    if k == len(items):
        return True
    first = items[k]
    if isinstance(first, list):
        return True
    if first.kind == "box" or _dateline_credit(first) or starts_with_dateline(
            first.lines[0].text):
        return False
    heads = [k for k, item in enumerate(items) if isinstance(item, list)]
    if not heads:
        return True
    return not all(_photo_box(items[k]) or _caption_at(items, k)
                   for k in range(heads[-1] + 1, len(items)))


def _caption_at(items: list[_Unit | list[_Unit]], k: int) -> bool:
    """A text closed by a photographer's box or a run-in credit ("…一种。（吕远 摄）")."""
    item = items[k]
    if not isinstance(item, _Unit) or item.kind != "text":
        return False
    if k + 1 < len(items) and _photo_box(items[k + 1]):
        return True
    # Only a caption-sized text: on a headline-first page a caption's run-in credit may
    # close a story's body unit.
    text = "".join(line.text for line in item.lines)
    return len(text) <= _MAX_CAPTION_CHARS and run_in_credit(text)


def _photo_box(item: _Unit | list[_Unit]) -> bool:
    return isinstance(item, _Unit) and item.kind == "box" and item.byline is not None \
        and item.byline.photo


def _stories(items: list[_Unit | list[_Unit]], headlines_first: bool) -> list[_Story]:
    stories: list[_Story] = []
    index_of: dict[int, int] = {}  # item index -> story index, for text units
    for k, item in enumerate(items):
        if isinstance(item, _Unit) and item.kind == "text":
            index_of[k] = len(stories)
            stories.append(_Story(body=item))

    def text_story(k: int, step: int) -> int | None:
        while 0 <= k < len(items):
            item = items[k]
            if isinstance(item, list):
                return None
            if item.kind == "text":
                return index_of[k]
            k += step
        return None

    for k, item in enumerate(items):
        if isinstance(item, _Unit) and item.kind == "box":
            assert item.byline is not None
            nxt = items[k + 1] if k + 1 < len(items) else None
            prev = items[k - 1] if k > 0 else None
            # A photographer's credit ("摄") closes the caption above it.
            closes_caption = item.byline.photo and isinstance(prev, _Unit) and prev.kind == "text"
            forward = (
                isinstance(nxt, _Unit) and nxt.kind == "text"
                and not _dateline_credit(nxt) and not closes_caption
            )
            target = text_story(k + 1, 1) if forward else text_story(k - 1, -1)
            if target is None:
                target = text_story(k - 1, -1) if forward else text_story(k + 1, 1)
                forward = not forward
            if target is not None:
                stories[target].boxes.append((item.byline, not forward))
    for k, item in enumerate(items):
        if not isinstance(item, list):
            continue
        primary, secondary = (1, -1) if headlines_first else (-1, 1)
        target = text_story(k + primary, primary)
        if target is None:
            # Only at the page's edge (or next to another head) may a headline sit on the
            # other side of its body. A body already headlined is not taken from its
            # owner: that would shift every headline after it by one story.
            target = text_story(k + secondary, secondary)
        if target is not None and not stories[target].head:
            stories[target].head = item
    # Where the page prints credits above bodies, a box after a body is not that story's
    # byline but the credit of a photo caption printed after it.
    leading_credits = any(
        any(not after for _, after in story.boxes) or _dateline_credit(story.body)
        for story in stories)
    parts = [part for story in stories for part in _split_run_in(story, headlines_first)]
    return [piece for part in parts
            for piece in _split_caption(part, headlines_first and leading_credits)]


def _split_run_in(story: _Story, headlines_first: bool) -> list[_Story]:
    """Cut a text unit after a paragraph closed by a run-in credit ("…。（记者 X 摄）").

    Such a paragraph ends a photo caption. On a headline-first page the caption follows
    the previous story's body; otherwise it opens the unit and the rest is the next story.
    """
    paragraphs = _paragraphs(story.body.lines)
    for j, paragraph in enumerate(paragraphs):
        last = "".join(line.text for line in paragraph)
        if j == len(paragraphs) - 1 and not (headlines_first and story.head and j > 0):
            break
        if not run_in_credit(last):
            continue
        cut = sum(len(p) for p in paragraphs[: j + 1])
        if headlines_first and story.head:
            start = cut - len(paragraph)
            body = _Story(_Unit("text", story.body.lines[:start]), story.head, story.boxes)
            caption = _Story(_Unit("text", story.body.lines[start:cut]))
            rest = _Story(_Unit("text", story.body.lines[cut:])) if cut < len(
                story.body.lines) else None
            return [body, caption, *([rest] if rest else [])]
        caption = _Story(_Unit("text", story.body.lines[:cut]))
        rest = _Story(_Unit("text", story.body.lines[cut:]), story.head, story.boxes)
        return [caption, *_split_run_in(rest, headlines_first)]
    return [story]


def _split_caption(story: _Story, trailing_boxes_are_credits: bool = False) -> list[_Story]:
    """Separate a photo caption that follows a headlined story's last paragraph.

    When headlines precede bodies, a caption printed between two stories runs on from the
    previous body; its photographer's credit ("…摄") after it marks it, or any byline box
    after it on a page that prints bylines above bodies. The caption is taken to be the
    last paragraph, the usual length of a caption.
    """
    credits: list[tuple[Byline, bool]] = [(byline, after) for byline, after in story.boxes
               if after and (byline.photo or trailing_boxes_are_credits)]
    if not story.head or not credits:
        return [story]
    paragraphs = _paragraphs(story.body.lines)
    if len(paragraphs) < 2:
        return [story]
    cut = len(story.body.lines) - len(paragraphs[-1])
    kept = [(b, after) for b, after in story.boxes if (b, after) not in credits]
    body = _Story(_Unit("text", story.body.lines[:cut]), story.head, kept)
    caption = _Story(_Unit("text", story.body.lines[cut:]), [], credits)
    return [body, caption]


def _dateline_credit(unit: _Unit) -> bool:
    dateline = match_dateline(unit.lines[0].text)
    return dateline is not None and bool(dateline.authors)


# --------------------------------------------------------------------------- paragraphs


def _paragraphs(lines: list[Line]) -> list[list[Line]]:
    column = column_width(line.width for line in lines if not ends_sentence(line.text))
    paragraphs: list[list[Line]] = []
    for i, line in enumerate(lines):
        new = i == 0 or line.indented
        if not new:
            prev = lines[i - 1]
            if closes(prev.text):
                short = effective_width(lines, i - 1) <= column - _LAST_LINE_SHORT
                new = short or line.blank_before
        if new and i > 0 and credit_line(line.text):
            new = False  # "（钟平 摄）" wrapped onto a line of its own closes the caption
        if new:
            paragraphs.append([line])
        else:
            paragraphs[-1].append(line)
    return paragraphs


def _headline_text(units: list[_Unit]) -> tuple[str | None, str | None, str | None]:
    """(kicker, title, subtitle) of a head group."""
    subtitle_parts: list[str] = []
    titles: list[str] = []
    for unit in units:
        head_lines = [line.text for line in unit.lines if line.kind == "head"]
        sub_lines = [line.text for line in unit.lines if line.kind == "subtitle"]
        if len(head_lines) == 2 and display_width(head_lines[0]) + _KICKER_SHORTER <= \
                display_width(head_lines[1]):
            # A shorter line directly above the headline is a kicker; a headline broken
            # over two lines fills its first line.
            titles.append(clean_layout_spacing(head_lines[0], keep_phrase_gaps=True))
            head_lines = head_lines[1:]
        if head_lines:
            titles.append(clean_layout_spacing(" ".join(_join_head(head_lines)),
                                               keep_phrase_gaps=True))
        for sub in sub_lines:
            subtitle_parts.append(clean_layout_spacing(SUBTITLE_RE.sub("", sub),
                                                       keep_phrase_gaps=True))
    title = titles[-1] if titles else None
    kicker = titles[-2] if len(titles) >= 2 else None
    subtitle = "".join(subtitle_parts) or None
    return kicker, title, subtitle


def _join_head(lines: list[str]) -> list[str]:
    # A headline broken over lines continues without a space, like body text.
    return ["".join(line.strip(SPACES) for line in lines)]


def _article(story: _Story, *, source: str | None, date: str | None,
             page: str | None) -> Article | None:
    raw_paragraphs = [[line.raw for line in p] for p in _paragraphs(story.body.lines)]
    if not raw_paragraphs:
        return None
    authors: list[str] = []
    photo = False
    for byline, _after in story.boxes:
        authors.extend(byline.authors)
        photo = photo or byline.photo
    # The dateline is read before layout spaces are closed up: they separate its names.
    first = join_raw_lines(raw_paragraphs[0])
    dateline = match_dateline(first)
    if dateline is not None:
        authors.extend(dateline.authors)
        raw_paragraphs = [[first[dateline.end:]], *raw_paragraphs[1:]]
    paragraphs, credited = take_photo_credit(
        [p for p in (join_lines(lines) for lines in raw_paragraphs) if p]
    )
    if credited is not None:
        authors.extend(credited)
        photo = True
    if not paragraphs:
        return None
    kicker, title, subtitle = _headline_text(story.head) if story.head else (None, None, None)
    body = "\n".join(paragraphs)
    if title is None and not authors and \
            sum(1 for ch in body if is_ideograph(ch)) < _MIN_STORY_IDEOGRAPHS:
        return None
    trailing_box = any(after for _, after in story.boxes)
    short = len(body) <= _MAX_CAPTION_CHARS
    kind: ArticleKind = "photo" if title is None and (photo or trailing_box or short) \
        else "article"
    return printed_article(
        paragraphs=paragraphs, title=title, subtitle=subtitle, kicker=kicker, authors=authors,
        date=date, source=source, page=page, kind=kind,
    )


# --------------------------------------------------------------------------- public


def parse_page(text: str, *, source: str | None = None, date: str | None = None,
               page: str | None = None) -> list[Article]:
    """Split page text into articles; [] when nothing in it is recognisable as a story."""
    if sum(1 for ch in text if is_ideograph(ch)) < _MIN_IDEOGRAPHS:
        return []
    lines = read_lines(text)
    classify(lines)
    find_headlines(lines)
    items = _head_groups(_units(lines))
    stories = _stories(items, _headlines_first(items))
    articles: list[Article] = []
    for story in stories:
        article = _article(story, source=source, date=date, page=page)
        if article is not None:
            articles.append(article)
    return articles


def looks_like_page(text: str) -> bool:
    """True for text extracted from a typeset page rather than one clean article.

    A page has many short lines of about the same width that stop mid-sentence (the
    column width cuts them); a clean article has one long line per paragraph ending in
    sentence punctuation. Byline boxes and datelines add evidence.
    """
    lines = [line for line in read_lines(text) if sum(is_ideograph(ch) for ch in line.text) >= 2]
    if len(lines) < _PAGE_MIN_LINES:
        return False
    widths = [line.width for line in lines]
    column = statistics.median(widths)
    near = max(_NEAR_COLUMN_CELLS, column * _NEAR_COLUMN_SHARE)
    near_column = sum(1 for w in widths if abs(w - column) <= near) / len(lines)
    open_ended = sum(1 for line in lines if not ends_sentence(line.text)) / len(lines)
    markers = sum(1 for line in lines
                  if parse_byline(line.text) is not None or starts_with_dateline(line.text))
    score = 0.0
    score += 1.0 if column <= _PAGE_MAX_COLUMN else 0.0
    score += 1.0 if near_column >= _PAGE_MIN_SHARE else 0.0
    score += 1.0 if open_ended >= _PAGE_MIN_SHARE else 0.0
    score += 0.5 if markers else 0.0
    return score >= _PAGE_SCORE
