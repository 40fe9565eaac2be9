"""Split the extracted text of a printed newspaper page into articles.

The text is what a PDF/OCR tool gives for a typeset page: lines cut at the column width,
blank lines at column breaks as well as between paragraphs, layout spaces, and the page's
stories one after another with their headlines either before or after the body. The
rules are documented in docs/page-format.md; in short:

1. Every line is classified: byline box, subtitle ("——…"), headline candidate, body text.
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

import itertools
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from .articles import Article, derive_article_id
from .bylines import Byline, match_dateline, parse_byline, starts_with_dateline
from .layout import (
    SPACES,
    clean_layout_spacing,
    display_width,
    ends_sentence,
    is_ideograph,
    join_lines,
    join_raw_lines,
)

__all__ = ["clean_layout_spacing", "looks_like_page", "parse_page"]

_SUBTITLE_RE = re.compile(f"^[{SPACES}]*(?:——|──|--|—|－－)[{SPACES}]*(?=\\S)")
# Punctuation that never occurs inside a headline but does inside running text.
_NOT_IN_HEADLINE = re.compile("[。；;]")
_CLAUSE_MARKS = re.compile("[，、,]")
_OPEN_END = re.compile("[，、；：,;:（(“‘《—]$")
_LINE_START_CLOSERS = "，。、；：！？”’）》」』…,.;:!?)"
# Editorial furniture printed in page margins (责任编辑, 版式, 校对, 第X版 …).
_FURNITURE_RE = re.compile(
    f"^[{SPACES}]*(?:责任编辑|责编|美术编辑|美编|版式|版式设计|组版|校对|审读|编辑|值班)"
    f"[{SPACES}]*[：:]|^[{SPACES}]*第?[{SPACES}]*[0-9０-９A-ZＡ-Ｚ]+[{SPACES}]*版[{SPACES}]*$"
)
# Running heads and feet: "2023年10月9日 星期一 责编：X 版式：Y", "第3版 要闻", "A2版".
_S = f"[{SPACES}]*"
_NAME = "[\u4e00-\u9fff]{2,4}(?![：:\u4e00-\u9fff])"
_FURNITURE_PARTS = re.compile(
    f"(?P<date>[0-9０-９]{{4}}{_S}年{_S}[0-9０-９]{{1,2}}{_S}月{_S}[0-9０-９]{{1,2}}{_S}日)"
    f"|(?P<weekday>星期[一二三四五六日天]|周[一二三四五六日])"
    f"|(?P<label>(?:责任编辑|责编|美术编辑|美编|版式设计|版式|组版|校对|审读|编辑|值班编辑|主编|"
    f"图片编辑|排版|视觉){_S}[：:]{_S}{_NAME}(?:[{SPACES}、，,/]+{_NAME})*)"
    f"|(?P<page>第?{_S}[A-ZＡ-Ｚ]?{_S}[0-9０-９]{{1,2}}{_S}版)"
    f"|(?P<lunar>农历[\u4e00-\u9fff]{{2,6}}(?:年|月|日|初[一二三四五六七八九十]|"
    f"[一二三四五六七八九十廿]{{1,3}}))"
)
_FURNITURE_LEFTOVER_MAX = 8  # a paper or section name beside the date/page/editors

_PHOTO_CREDIT_RE = re.compile(
    f"[{SPACES}]*[（(](?P<credit>[^（()）]{{2,40}}?(?:摄|摄影|文/图|文／图))[）)]$"
)
_MAX_HEADLINE_LINES = 3
_MAX_HEADLINE_CHARS = 48
_MIN_IDEOGRAPHS = 10  # below this a "page" has nothing an article could be made of


@dataclass(slots=True)
class _Line:
    number: int  # 1-based line number in the input, for diagnostics
    raw: str  # right-stripped, layout spaces kept
    blank_before: bool
    indented: bool  # leading spaces: an extraction that kept the paragraph indent
    width: int  # display width as printed, spaces included (the column fill)
    kind: str = "text"  # text | box | subtitle | head | furniture
    byline: Byline | None = None
    blank_after: bool = False

    @property
    def text(self) -> str:
        return self.raw.strip(SPACES)


@dataclass(slots=True)
class _Unit:
    kind: str  # text | box | head
    lines: list[_Line] = field(default_factory=list)
    byline: Byline | None = None


@dataclass(slots=True)
class _Story:
    body: _Unit
    head: list[_Unit] = field(default_factory=list)  # head units: kicker?, title, subtitle?
    boxes: list[tuple[Byline, bool]] = field(default_factory=list)  # (byline, after_body)


# --------------------------------------------------------------------------- lines


def _read_lines(text: str) -> list[_Line]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    lines: list[_Line] = []
    blank = True
    for number, raw in enumerate(text.split("\n"), start=1):
        raw = raw.rstrip(SPACES)
        if not raw.strip(SPACES):
            blank = True
            if lines:
                lines[-1].blank_after = True
            continue
        stripped = raw.lstrip(SPACES)
        lines.append(_Line(
            number=number, raw=raw, blank_before=blank,
            indented=display_width(raw[: len(raw) - len(stripped)]) >= 2,
            width=_fill_width(raw),
        ))
        blank = False
    if lines:
        lines[-1].blank_after = True
    return lines


_LATIN_HEAD = re.compile(r"[A-Za-z0-9][A-Za-z0-9.%'\-]*")


def _effective_width(lines: list[_Line], i: int) -> int:
    """The fill of line ``i`` plus the Latin word that did not fit at its end.

    Typesetters do not split Latin words or numbers, so a line followed by
    "PlayStation…" stops short of the column although it is full.
    """
    line = lines[i]
    if i + 1 >= len(lines) or lines[i + 1].kind != "text":
        return line.width
    m = _LATIN_HEAD.match(lines[i + 1].text)
    return line.width + (len(m.group(0)) + 1 if m else 0)


def _first_word_width(text: str) -> int:
    """Cells the first unbreakable piece of a line takes: a Latin word, else a character."""
    m = _LATIN_HEAD.match(text)
    return len(m.group(0)) + 1 if m else display_width(text[:1])


def _fill_width(raw: str) -> int:
    """How much of the column a printed line fills, in cells.

    Justification spaces stretch a line to the column edge, so they count, but only a
    little: a letter-spaced line ("在 国 际 市 场") is a full line, not a double-width one.
    A space between two Latin words is a real word space and takes its cell.
    """
    stripped = raw.strip(SPACES)
    indent = display_width(raw[: len(raw) - len(raw.lstrip(SPACES))])
    word_spaces = len(_WORD_SPACE.findall(stripped))
    gaps = len(re.findall(f"[{SPACES}]+", stripped)) - word_spaces
    return indent + _ink_width(stripped) + word_spaces + min(gaps, 2)


_WORD_SPACE = re.compile(f"(?<=[!-~])[{SPACES}](?=[!-~])")


def _ink_width(text: str) -> int:
    """Display width without any spaces: what a line's characters take."""
    return display_width(re.sub(f"[{SPACES}]+", "", text))


def _column_width(widths: Iterable[int]) -> float:
    """The column fill: the typical width of lines that are cut mid-sentence."""
    values = sorted(widths)
    if not values:
        return 0.0
    return float(values[min(len(values) - 1, int(len(values) * 0.75))])


def _local_column(lines: list[_Line], index: int, *, direction: int, span: int = 6) -> float:
    """Column width around ``lines[index]``, looking at up to ``span`` body lines one way."""
    return _column_width(_local_widths(lines, index, direction=direction, span=span))


def _local_widths(lines: list[_Line], index: int, *, direction: int, span: int = 6) -> list[int]:
    """Fill of up to ``span`` running lines cut mid-sentence from ``lines[index]`` one way."""
    widths: list[int] = []
    i = index
    while 0 <= i < len(lines) and len(widths) < span:
        line = lines[i]
        if line.kind in ("box", "subtitle", "head", "furniture"):
            break
        if not ends_sentence(line.text) and line.text[-1] not in _HANGING:
            widths.append(line.width)
        i += direction
    return widths


# Marks a typesetter lets hang past the column edge: a line ending in one may be wider.
_HANGING = "，、；：”’）》」』"


def _headlike(line: _Line) -> bool:
    text = line.text
    if line.kind != "text" or starts_with_dateline(text) or text[0] in _LINE_START_CLOSERS:
        return False
    if _NOT_IN_HEADLINE.search(text) or _OPEN_END.search(text) or _run_in_credit(text):
        return False  # "（钟平 摄）" alone on a line ends the caption above it
    if ends_sentence(text) and not re.search("[！？!?]$", text):
        return False
    return len(text) <= _MAX_HEADLINE_CHARS


def _is_furniture(text: str) -> bool:
    """A running head/foot: dates, weekdays, editors and page numbers, and little else."""
    if _FURNITURE_RE.search(text):
        return True
    if ends_sentence(text) or _NOT_IN_HEADLINE.search(text) or len(text) > 60:
        return False
    strong = False
    leftover: list[str] = []
    last = 0
    for m in _FURNITURE_PARTS.finditer(text):
        leftover.append(text[last:m.start()])
        last = m.end()
        strong = strong or m.lastgroup in ("weekday", "label", "page")
    leftover.append(text[last:])
    rest = re.sub(rf"[{SPACES}|｜·•/、，,\-—]+", "", "".join(leftover))
    return strong and len(rest) <= _FURNITURE_LEFTOVER_MAX and not re.search("[。；！？]", rest)


def _classify(lines: list[_Line]) -> None:
    """Mark furniture, byline boxes and subtitles; headlines are found afterwards."""
    for i, line in enumerate(lines):
        text = line.text
        if _is_furniture(text):
            line.kind = "furniture"
            continue
        byline = parse_byline(text)
        if byline is not None:
            line.kind, line.byline = "box", byline
            continue
        if _SUBTITLE_RE.match(text) and not _NOT_IN_HEADLINE.search(text) and i > 0:
            # A "——" line is a subtitle only right under a headline-like run that follows
            # a finished sentence; in running text a dash can also start a line.
            j = i - 1
            while j >= 0 and i - j <= _MAX_HEADLINE_LINES and lines[j].kind == "text" \
                    and _headlike(lines[j]) and not _is_closed(lines, j):
                j -= 1
            if j >= 0 and (lines[j].kind == "box" or (
                    lines[j].kind == "text" and _headlike(lines[j]) and _is_closed(lines, j))):
                line.kind = "subtitle"


def _is_closed(lines: list[_Line], i: int) -> bool:
    """True when a new story element may start at line ``i`` (nothing is left open)."""
    if i == 0:
        return True
    prev = lines[i - 1]
    if lines[i].text[0] in _LINE_START_CLOSERS:
        return False  # a quote or clause closed on the next line: the sentence runs on
    return prev.kind in ("box", "subtitle", "head", "furniture") or _closes(prev.text)


_CREDIT_TAIL = re.compile(f"(?:摄|摄影|文/图|文／图)[{SPACES}]*[）)]$")


def _closes(text: str) -> bool:
    """A finished sentence, or a caption's run-in credit ("…（记者 X 摄）")."""
    return ends_sentence(text) or bool(_CREDIT_TAIL.search(text))


def _starts_paragraph(lines: list[_Line], i: int, fallback: float = 0.0) -> bool:
    """Does line ``i`` look like the first line of a paragraph (indented or short)?

    The column is measured on the lines after it; when they are too few (a short last
    paragraph), on ``fallback``, the column measured around the caller's line.
    """
    line = lines[i]
    if line.indented or starts_with_dateline(line.text):
        return True
    column = _local_column(lines, i + 1, direction=1) or fallback
    if column == 0:
        return True
    # A typeset first line is two cells short of the column (extraction drops the
    # indent); a one-line paragraph is shorter still. A line cut before a Latin word
    # that would have fitted a running line is a first line; one that would not have
    # fitted either is taken to run on (a short line is more often a long word's cut).
    carried = _effective_width(lines, i)
    if carried > line.width:
        return carried <= column
    return line.width <= column - 3


def _find_headlines(lines: list[_Line]) -> None:
    """Mark accepted headline runs (kind "head"), deciding from the end of the page back."""
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(lines):
        # A run may also start right after another run: a kicker above its headline.
        after_run = bool(runs) and runs[-1][1] == i and lines[i].blank_before
        if lines[i].kind == "text" and (_is_closed(lines, i) or after_run) \
                and _headlike(lines[i]):
            j = i + 1
            while (j < len(lines) and j - i < _MAX_HEADLINE_LINES and not lines[j].blank_before
                   and _headlike(lines[j])):
                j += 1
            runs.append((i, j))
            i = j
        else:
            i += 1
    tight = _paragraphs_run_together(lines)
    for start, stop in reversed(runs):
        if _accept_headline(lines, start, stop, tight=tight):
            for line in lines[start:stop]:
                line.kind = "head"


def _paragraphs_run_together(lines: list[_Line]) -> bool:
    """Does the page set paragraphs one under another, with no blank line between them?

    Then a blank line is a column break or a story's edge, and since two column breaks
    are never one line apart, a line with a blank above and below is no body line.
    Judged on paragraph ends (a short line closing a sentence) followed by running text
    (a line with no blank under it, so not a headline).
    """
    column = _column_width(line.width for line in lines
                           if line.kind == "text" and not ends_sentence(line.text))
    ends = [nxt.blank_before for line, nxt in itertools.pairwise(lines)
            if line.kind == nxt.kind == "text" and ends_sentence(line.text)
            and line.width <= column - 6 and not nxt.blank_after]
    return len(ends) >= 4 and sum(ends) <= len(ends) * 0.4


def _balanced(text: str) -> bool:
    """Brackets and quotes opened in a headline are closed in it."""
    for left, right in ("（）", "()", "《》", "“”", "「」", "【】"):
        if text.count(left) != text.count(right):
            return False
    return True


def _accept_headline(lines: list[_Line], start: int, stop: int, *, tight: bool = False) -> bool:
    run = lines[start:stop]
    text = "".join(line.text for line in run)
    if sum(1 for ch in text if is_ideograph(ch)) < 2 or not _balanced(text):
        return False
    if stop >= len(lines):
        column = _local_column(lines, start - 1, direction=-1)
        short = column == 0 or all(line.width <= column - 5 for line in run)
        return (short or not _CLAUSE_MARKS.search(text)) and len(run) <= 2 and start > 0
    nxt = lines[stop]
    if nxt.kind in ("box", "subtitle") or starts_with_dateline(nxt.text):
        return True
    if nxt.kind == "head":
        # A kicker: a short line above an accepted headline, set apart by a blank.
        return len(run) == 1
    # The column around the run: a few running lines after it and before it.
    column = _column_width(
        _local_widths(lines, stop, direction=1) + _local_widths(lines, start - 1, direction=-1))
    # Too short to be the opening line of the paragraph after it: the next line's first
    # word would have fitted on it even under a first line's indent (and a character of
    # slack: the sample page sets some first lines a character short), so the run ended
    # there on purpose and what follows is not its continuation. Measured on that
    # paragraph's column: a caption beside a story is often set narrower.
    after = _local_column(lines, stop, direction=1) or column
    clearly_short = after > 0 and run[-1].width + _first_word_width(nxt.text) <= after - 6
    if ends_sentence(text) and not (re.search("[！？!?]$", text) and nxt.blank_before and (
            clearly_short or _starts_paragraph(lines, stop, column))):
        return False  # "…焕发新活力！" set apart from a new paragraph is still a headline
    if _word_across(run[-1].text, nxt.text) or nxt.text[0] in _LINE_START_CLOSERS:
        return False  # "…扶持体" + "系。…": a word or a clause runs on into the next line
    if run[0].indented and not nxt.indented:
        return False  # an indented first line followed by its unindented continuation
    if column == 0:
        return not _CLAUSE_MARKS.search(text)
    if all(line.width >= column - 2 for line in run) and len(run) > 1:
        return False  # several lines filling the column are running text
    if any(_word_across(a.text, b.text) for a, b in itertools.pairwise(run)):
        return False  # "…分" / "裂能…": a headline is broken between words, not inside one
    before = lines[start - 1] if start > 0 else None
    if before is not None and before.kind == "text" and len(run) == 1 \
            and _effective_width(lines, start - 1) <= column - 6 and run[0].width >= column:
        # The paragraph above ended on a line shorter than a first line, so the next body
        # line would be a first line, two characters short; a line filling the column is
        # not one.
        return True
    if any(line.width > column + 2 for line in run):
        return True  # wider than the column: set across columns, as headlines are
    if tight and run[0].blank_before and nxt.blank_before and len(run) == 1 \
            and before is not None and before.kind == "text":
        return True  # alone between blanks in running text where paragraphs run together
    if not clearly_short and not _starts_paragraph(lines, stop, column):
        # The next line runs on at full width: the run is the opening of its paragraph
        # (a first line that lost its indent is often set loose, so it can be short).
        return False
    if nxt.indented:
        return True  # the next paragraph opens there, and the run is not part of it
    last = _effective_width(lines, stop - 1)
    if last >= column - 5 and ends_sentence(nxt.text):
        # A full line (or a first line) followed by the short rest of its sentence
        # ("…相似头骨" / blank / "相比，…较大。") is running text cut at a column break.
        return False
    if not (nxt.blank_before or run[0].blank_before):
        # Nothing sets it apart: only a clearly short line without clause marks.
        return last < column - 5 and not _CLAUSE_MARKS.search(text)
    return True


def _word_across(left: str, right: str) -> bool:
    """True when a dictionary word spans the break between ``left`` and ``right``.

    A headline ends at a word boundary; a line cut at the column width often does not.
    The word across the break must beat the words each side makes on its own:
    "…扶持体" + "系。" reads "体系", while "…前世今生" + "长鼻王…" is not cut into "生长".
    jieba is loaded only when a page has such an ambiguous line.
    """
    tail, head = left.strip(SPACES)[-4:], right.strip(SPACES)[:4]
    if not (tail and head and is_ideograph(tail[-1]) and is_ideograph(head[0])):
        return False
    import jieba  # a 1 s dictionary load, so only when needed

    jieba.setLogLevel(60)
    offset = 0
    for word in jieba.cut(tail + head, HMM=False):
        if offset < len(tail) < offset + len(word):
            left_word = jieba.lcut(tail, HMM=False)[-1]
            right_word = jieba.lcut(head, HMM=False)[0]
            return len(word) > max(len(left_word), len(right_word))
        offset += len(word)
    return False


# --------------------------------------------------------------------------- units


def _units(lines: list[_Line]) -> list[_Unit]:
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
        kind = "head" if line.kind in ("head", "subtitle") else "text"
        new_unit = (
            not units
            or units[-1].kind != kind
            or (kind == "head" and line.kind == "head" and line.blank_before)
            or (kind == "head" and units[-1].lines[-1].kind == "subtitle")
            or (kind == "text" and starts_with_dateline(line.text) and _is_closed(lines, index))
        )
        if new_unit:
            units.append(_Unit(kind, [line]))
        else:
            units[-1].lines.append(line)
    return units


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
    prints them after. A page opening with plain text (a caption, a story continued from
    another page) is decided by its end: a final headline, followed by nothing or only
    photo captions, means headlines come after.
    """
    if not items:
        return True
    first = items[0]
    if isinstance(first, list):
        return True
    if first.kind == "box" or _dateline_credit(first) or starts_with_dateline(
            first.lines[0].text):
        return False
    heads = [k for k, item in enumerate(items) if isinstance(item, list)]
    if not heads:
        return True
    # What follows the last headline: nothing, or only photo captions (a text closed by a
    # photographer's box), means the headline closed the story above it.
    tail = items[heads[-1] + 1:]
    return not all(
        _photo_box(item) or (k + 1 < len(tail) and _photo_box(tail[k + 1])
                             and isinstance(item, _Unit) and item.kind == "text")
        for k, item in enumerate(tail))


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
        if not _run_in_credit(last):
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


def _credit_line(text: str) -> bool:
    credit = _PHOTO_CREDIT_RE.search(text)
    return credit is not None and credit.start() == 0 and _run_in_credit(text)


def _run_in_credit(paragraph: str) -> bool:
    credit = _PHOTO_CREDIT_RE.search(paragraph)
    return credit is not None and parse_byline(credit.group("credit"),
                                               require_role=False) is not None


def _split_caption(story: _Story, trailing_boxes_are_credits: bool = False) -> list[_Story]:
    """Separate a photo caption that follows a headlined story's last paragraph.

    When headlines precede bodies, a caption printed between two stories runs on from the
    previous body; its photographer's credit ("…摄") after it marks it, or any byline box
    after it on a page that prints bylines above bodies. The caption is taken to be the
    last paragraph, the usual length of a caption.
    """
    credits = [(byline, after) for byline, after in story.boxes
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


def _paragraphs(lines: list[_Line]) -> list[list[_Line]]:
    column = _column_width(line.width for line in lines if not ends_sentence(line.text))
    paragraphs: list[list[_Line]] = []
    for i, line in enumerate(lines):
        new = i == 0 or line.indented
        if not new:
            prev = lines[i - 1]
            if _closes(prev.text):
                short = _effective_width(lines, i - 1) <= column - 3
                new = short or line.blank_before
        if new and i > 0 and _credit_line(line.text):
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
        if len(head_lines) == 2 and display_width(head_lines[0]) + 4 <= display_width(
                head_lines[1]):
            # A shorter line directly above the headline is a kicker; a headline broken
            # over two lines fills its first line.
            titles.append(clean_layout_spacing(head_lines[0], keep_phrase_gaps=True))
            head_lines = head_lines[1:]
        if head_lines:
            titles.append(clean_layout_spacing(" ".join(_join_head(head_lines)),
                                               keep_phrase_gaps=True))
        for sub in sub_lines:
            subtitle_parts.append(clean_layout_spacing(_SUBTITLE_RE.sub("", sub),
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
    paragraphs = [p for p in (join_lines(lines) for lines in raw_paragraphs) if p]
    credit = _PHOTO_CREDIT_RE.search(paragraphs[-1]) if paragraphs else None
    if credit is not None:
        byline = parse_byline(credit.group("credit"), require_role=False)
        if byline is not None:
            authors.extend(byline.authors)
            photo = True
            last = paragraphs[-1][: credit.start()].strip(SPACES)
            paragraphs = paragraphs[:-1] + ([last] if last else [])
    if not paragraphs:
        return None
    kicker, title, subtitle = _headline_text(story.head) if story.head else (None, None, None)
    body = "\n".join(paragraphs)
    if title is None and not authors and sum(1 for ch in body if is_ideograph(ch)) < 20:
        return None
    trailing_box = any(after for _, after in story.boxes)
    kind = "photo" if title is None and (photo or trailing_box or len(body) <= 300) else "article"
    return Article(
        id=derive_article_id(source=source, date=date, title=title, body=body, page=page),
        title=title,
        paragraphs=tuple(paragraphs),
        subtitle=subtitle,
        kicker=kicker,
        authors=tuple(dict.fromkeys(authors)),
        date=date,
        source=source,
        page=page,
        kind=kind,
    )


# --------------------------------------------------------------------------- public


def parse_page(text: str, *, source: str | None = None, date: str | None = None,
               page: str | None = None) -> list[Article]:
    """Split page text into articles; [] when nothing in it is recognisable as a story."""
    if sum(1 for ch in text if is_ideograph(ch)) < _MIN_IDEOGRAPHS:
        return []
    lines = _read_lines(text)
    _classify(lines)
    _find_headlines(lines)
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
    lines = [line for line in _read_lines(text) if sum(is_ideograph(ch) for ch in line.text) >= 2]
    if len(lines) < 6:
        return False
    widths = [line.width for line in lines]
    column = statistics.median(widths)
    near_column = sum(1 for w in widths if abs(w - column) <= max(4, column * 0.15)) / len(lines)
    open_ended = sum(1 for line in lines if not ends_sentence(line.text)) / len(lines)
    markers = sum(1 for line in lines
                  if parse_byline(line.text) is not None or starts_with_dateline(line.text))
    score = 0.0
    score += 1.0 if column <= 70 else 0.0
    score += 1.0 if near_column >= 0.5 else 0.0
    score += 1.0 if open_ended >= 0.5 else 0.0
    score += 0.5 if markers else 0.0
    return score >= 3.0
