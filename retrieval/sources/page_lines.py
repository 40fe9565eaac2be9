"""Line classification for page text: widths, the column, byline boxes, headlines.

One module (~490 lines): the headline rules weigh each other (a run is judged against the
same column measures), so they read best side by side with their named thresholds.

Every line of a page is read with its display width (the column fill) and classified:
running heads/feet (furniture), byline boxes, subtitles, accepted headline runs and body
text. Whether a short run of lines is a headline is decided from its context: what
follows it (a byline, a dateline, a subtitle, another headline, a paragraph start, the end
of the page) and how it sits in the column (see docs/page-format.md). ``retrieval.page``
builds stories from the classified lines.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from .bylines import Byline, parse_byline, starts_with_dateline
from .jumps import ends_with_jump, jump_marker, opens_with_jump
from .layout import SPACES, display_width, ends_sentence, is_ideograph
from .page_facts import page_number, printed_date

SUBTITLE_RE = re.compile(f"^[{SPACES}]*(?:——|──|--|—|－－)[{SPACES}]*(?=\\S)")
# Punctuation that never occurs inside a headline but does inside running text.
_NOT_IN_HEADLINE = re.compile("[。；;]")
_CLAUSE_MARKS = re.compile("[，、,]")
_OPEN_END = re.compile("[，、；：,;:（(“‘《—·]$")
# A photographer's credit on a line of its own: "雷海国 摄", "王伟 摄影".
_PHOTOGRAPHER_LINE = re.compile(f"^[\u4e00-\u9fff·]{{2,8}}(?:[{SPACES}]+[\u4e00-\u9fff·]{{2,8}})*"
                                f"[{SPACES}]+摄影?$")
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

PHOTO_CREDIT_RE = re.compile(
    f"[{SPACES}]*[（(](?P<credit>[^（()）]{{2,40}}?(?:摄|摄影|文/图|文／图))[）)]$"
)

# -- thresholds, in display cells (a Chinese character is 2) unless said otherwise ----------
# Where each was set: the commit that introduced it (git log -S), tuned on the sample page's
# answer key and bench/page_parser.py seeds 2-9 (docs/page-format.md, "Measuring").

# A headline candidate is at most this many lines and characters (docs/page-format.md rule 2;
# 336d779, the first parser, from the sample page's longest headline with room to spare).
_MAX_HEADLINE_LINES = 3
_MAX_HEADLINE_CHARS = 48
# A running head/foot is at most this many characters long (336d779/e9e4530).
_MAX_FURNITURE_CHARS = 60
# Leading spaces this wide mark a line that kept its paragraph indent (336d779).
_INDENT_CELLS = 2
# Justification spaces inside a line count at most this many cells towards its fill: a
# letter-spaced line is a full line, not a double-width one (a532f3d).
_MAX_JUSTIFICATION_CELLS = 2
# The column is this percentile of the fill of lines cut mid-sentence (336d779): most lines
# are full, first and last lines of paragraphs are shorter.
_COLUMN_PERCENTILE = 0.75
# Running lines read on one side of a line to measure the column around it (336d779).
_LOCAL_SPAN = 6
# A paragraph's first line is two cells short of the column (the lost indent), plus one cell
# of slack: the sample page sets some first lines a character short (336d779; rule 8).
FIRST_LINE_SHORT = 3
# A line this much shorter than the column clearly ends a paragraph, or is too short to be a
# first line (2fc24dd; _paragraphs_run_together and _accept_headline).
PARAGRAPH_END_SHORT = 6
# "Clearly too short to open the next paragraph": the next line's first word would have
# fitted under a first line's indent with a character of slack (3aa3050).
CLEARLY_SHORT = 6
# A run as short as this below the column, with nothing else to go by, stands apart as a
# headline (e9e4530; at the page's end and between paragraphs).
HEADLINE_SHORT = 5
# A line may exceed the column by this much in running text (quotes, commas); wider, it was
# set across columns as headlines are (336d779; lines ending in a hanging mark: 04cd213).
COLUMN_OVERRUN = 2
# Lines this close to the column fill it (several of them are running text, 2fc24dd).
FULL_LINE_SLACK = 2
# "Paragraphs run together" needs this many paragraph ends, at most this share of them
# followed by a blank line (3aa3050).
_MIN_PARAGRAPH_ENDS = 4
_MAX_BLANK_AFTER_END_SHARE = 0.4


# What a line of page text is: body text, a byline box, a "——" subtitle, part of an accepted
# headline run, or a running head/foot (furniture).
LineKind = Literal["text", "box", "subtitle", "head", "furniture"]


@dataclass(slots=True)
class Line:
    number: int  # 1-based line number in the input, for diagnostics
    raw: str  # right-stripped, layout spaces kept
    blank_before: bool
    indented: bool  # leading spaces: an extraction that kept the paragraph indent
    width: int  # display width as printed, spaces included (the column fill)
    kind: LineKind = "text"
    byline: Byline | None = None
    blank_after: bool = False

    @property
    def text(self) -> str:
        return self.raw.strip(SPACES)


def read_lines(text: str) -> list[Line]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    lines: list[Line] = []
    blank = True
    for number, raw in enumerate(text.split("\n"), start=1):
        raw = raw.rstrip(SPACES)
        if not raw.strip(SPACES):
            blank = True
            if lines:
                lines[-1].blank_after = True
            continue
        stripped = raw.lstrip(SPACES)
        lines.append(Line(
            number=number, raw=raw, blank_before=blank,
            indented=display_width(raw[: len(raw) - len(stripped)]) >= _INDENT_CELLS,
            width=_fill_width(raw),
        ))
        blank = False
    if lines:
        lines[-1].blank_after = True
    return lines


_LATIN_HEAD = re.compile(r"[A-Za-z0-9][A-Za-z0-9.%'\-]*")


def effective_width(lines: list[Line], i: int) -> int:
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
    return indent + _ink_width(stripped) + word_spaces + min(gaps, _MAX_JUSTIFICATION_CELLS)


_WORD_SPACE = re.compile(f"(?<=[!-~])[{SPACES}](?=[!-~])")


def _ink(line: Line) -> int:
    """A line's characters and word spaces, without justification spaces."""
    return _ink_width(line.text) + len(_WORD_SPACE.findall(line.text))


def _ink_width(text: str) -> int:
    """Display width without any spaces: what a line's characters take."""
    return display_width(re.sub(f"[{SPACES}]+", "", text))


def column_width(widths: Iterable[int]) -> float:
    """The column fill: the typical width of lines that are cut mid-sentence."""
    values = sorted(widths)
    if not values:
        return 0.0
    return float(values[min(len(values) - 1, int(len(values) * _COLUMN_PERCENTILE))])


def _local_column(lines: list[Line], index: int, *, direction: int,
                  span: int = _LOCAL_SPAN) -> float:
    """Column width around ``lines[index]``, looking at up to ``span`` body lines one way."""
    return column_width(_local_widths(lines, index, direction=direction, span=span))


def _local_widths(lines: list[Line], index: int, *, direction: int,
                  span: int = _LOCAL_SPAN) -> list[int]:
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


def _headlike(line: Line) -> bool:
    text = line.text
    if line.kind != "text" or starts_with_dateline(text) or text[0] in _LINE_START_CLOSERS:
        return False
    if opens_with_jump(text) or ends_with_jump(text):
        return False  # "（上接第1版）" opens a story's rest, "（下转第3版）" ends a part
    if _NOT_IN_HEADLINE.search(text) or _OPEN_END.search(text) or run_in_credit(text):
        return False  # "（钟平 摄）" alone on a line ends the caption above it
    if ends_sentence(text) and not re.search("[！？!?]$", text):
        return False
    return len(text) <= _MAX_HEADLINE_CHARS


def _is_furniture(text: str) -> bool:
    """A running head/foot: dates, weekdays, editors and page numbers, and little else."""
    if _FURNITURE_RE.search(text):
        return True
    if ends_sentence(text) or _NOT_IN_HEADLINE.search(text) or len(text) > _MAX_FURNITURE_CHARS:
        return False
    if _OPEN_END.search(text) or not _balanced(text):
        return False  # "划在周末（周五、六、": a running line cut mid-clause, not a running head
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


def running_head(texts: Iterable[str]) -> tuple[str | None, str | None]:
    """The (ISO date, page number) printed in a page's running head or foot lines, the
    first of each found; the lines that are no running head are passed over."""
    date = page = None
    for text in texts:
        if jump_marker(text) or not _is_furniture(text.strip(SPACES)):
            continue
        found_date, found_page, _ = head_facts(text)
        date, page = date or found_date, page or found_page
    return date, page


# Editors' labels as OCR may leave them, without the names after them.
_LABEL_WORD = re.compile("责编|责任编辑|版式|校对|美编")


def head_facts(text: str) -> tuple[str | None, str | None, bool]:
    """(ISO date, page number, whether it reads as a running head) of ``text``, the words of
    a page's head or foot band: a date, a weekday, a page number or an editor's label."""
    date = page = None
    found = bool(_LABEL_WORD.search(text))
    for m in _FURNITURE_PARTS.finditer(text):
        found = found or m.lastgroup in ("date", "weekday", "label", "page")
        if m.lastgroup == "date" and date is None:
            date = printed_date(m.group("date"))
        elif m.lastgroup == "page" and page is None:
            page = page_number(re.sub("[第版]", "", m.group("page")))
    return date, page, found


def classify(lines: list[Line]) -> None:
    """Mark furniture, byline boxes and subtitles; headlines are found afterwards."""
    for i, line in enumerate(lines):
        text = line.text
        if jump_marker(text):
            continue  # "（下转第3版）" names a page but is the story's, not the running head's
        if _is_furniture(text):
            line.kind = "furniture"
            continue
        byline = parse_byline(text)
        if byline is None and _PHOTOGRAPHER_LINE.search(text) and i > 0 \
                and lines[i - 1].kind == "text" and closes(lines[i - 1].text):
            # "雷海国 摄" under a caption: a photographer's credit needs no role word.
            byline = parse_byline(text, require_role=False)
        if byline is not None:
            line.kind, line.byline = "box", byline
            continue
        if SUBTITLE_RE.match(text) and not _NOT_IN_HEADLINE.search(text) and i > 0:
            # A "——" line is a subtitle only right under a headline-like run that follows
            # a finished sentence; in running text a dash can also start a line.
            j = i - 1
            while j >= 0 and i - j <= _MAX_HEADLINE_LINES and lines[j].kind == "text" \
                    and _headlike(lines[j]) and not is_closed(lines, j):
                j -= 1
            if j >= 0 and (lines[j].kind == "box" or (
                    lines[j].kind == "text" and _headlike(lines[j]) and is_closed(lines, j))):
                line.kind = "subtitle"
        elif i > 0 and lines[i - 1].kind == "subtitle" and not line.blank_before \
                and line.blank_after and _headlike(line) \
                and not ends_sentence(lines[i - 1].text):
            # A subtitle broken over two lines: its rest sits in the subtitle's block, with
            # nothing under it (a headline sits in a block of its own, never right under
            # its subtitle).
            line.kind = "subtitle"


def is_closed(lines: list[Line], i: int) -> bool:
    """True when a new story element may start at line ``i`` (nothing is left open)."""
    if i == 0:
        return True
    prev = lines[i - 1]
    if lines[i].text[0] in _LINE_START_CLOSERS:
        return False  # a quote or clause closed on the next line: the sentence runs on
    return prev.kind in ("box", "subtitle", "head", "furniture") or closes(prev.text)


_CREDIT_TAIL = re.compile(f"(?:摄|摄影|文/图|文／图)[{SPACES}]*[）)]$")


def closes(text: str) -> bool:
    """A finished sentence, a caption's run-in credit ("…（记者 X 摄）"), or a part's end
    ("…（下转第3版）")."""
    return ends_sentence(text) or bool(_CREDIT_TAIL.search(text)) or ends_with_jump(text)


def _starts_paragraph(lines: list[Line], i: int, fallback: float = 0.0) -> bool:
    """Does line ``i`` look like the first line of a paragraph (indented or short)?

    The column is measured on the lines after it; when they are too few (a short last
    paragraph), on ``fallback``, the column measured around the caller's line.
    """
    line = lines[i]
    if line.indented or starts_with_dateline(line.text) or opens_with_jump(line.text):
        return True
    column = _local_column(lines, i + 1, direction=1) or fallback
    if column == 0:
        return True
    # A typeset first line is two cells short of the column (extraction drops the
    # indent); a one-line paragraph is shorter still. A line cut before a Latin word
    # that would have fitted a running line is a first line; one that would not have
    # fitted either is taken to run on (a short line is more often a long word's cut).
    carried = effective_width(lines, i)
    if carried > line.width:
        return carried <= column
    return line.width <= column - FIRST_LINE_SHORT


def find_headlines(lines: list[Line]) -> None:
    """Mark accepted headline runs (kind "head"), deciding from the end of the page back."""
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(lines):
        # A run may also start right after another run: a kicker above its headline.
        after_run = bool(runs) and runs[-1][1] == i and lines[i].blank_before
        if lines[i].kind == "text" and (is_closed(lines, i) or after_run) \
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


def _paragraphs_run_together(lines: list[Line]) -> bool:
    """Does the page set paragraphs one under another, with no blank line between them?

    Then a blank line is a column break or a story's edge, and since two column breaks
    are never one line apart, a line with a blank above and below is no body line.
    Judged on paragraph ends (a short line closing a sentence) followed by running text
    (a line with no blank under it, so not a headline).
    """
    column = column_width(line.width for line in lines
                           if line.kind == "text" and not ends_sentence(line.text))
    ends = [nxt.blank_before for line, nxt in itertools.pairwise(lines)
            if line.kind == nxt.kind == "text" and ends_sentence(line.text)
            and line.width <= column - PARAGRAPH_END_SHORT and not nxt.blank_after]
    return len(ends) >= _MIN_PARAGRAPH_ENDS and sum(ends) <= len(ends) * _MAX_BLANK_AFTER_END_SHARE


def _opening(lines: list[Line], i: int) -> str:
    """Line ``i`` with the next one when it runs on: a dateline may wrap ("…１７日" / "电（…")."""
    if i + 1 < len(lines) and not lines[i + 1].blank_before and lines[i + 1].kind == "text":
        return lines[i].text + lines[i + 1].text
    return lines[i].text


def _balanced(text: str) -> bool:
    """Brackets and quotes opened in a headline are closed in it."""
    for left, right in ("（）", "()", "《》", "“”", "「」", "【】"):
        if text.count(left) != text.count(right):
            return False
    return True


def _accept_headline(lines: list[Line], start: int, stop: int, *, tight: bool = False) -> bool:
    """Is the candidate run ``lines[start:stop]`` a headline? Judged by what follows it."""
    run = lines[start:stop]
    text = "".join(line.text for line in run)
    if sum(1 for ch in text if is_ideograph(ch)) < 2 or not _balanced(text):
        return False
    if stop >= len(lines):
        column = _local_column(lines, start - 1, direction=-1)
        short = column == 0 or all(line.width <= column - HEADLINE_SHORT for line in run)
        return (short or not _CLAUSE_MARKS.search(text)) and len(run) <= 2 and start > 0
    nxt = lines[stop]
    if nxt.kind in ("box", "subtitle") or starts_with_dateline(_opening(lines, stop)) \
            or opens_with_jump(nxt.text):
        return True
    if nxt.kind == "head":
        # A kicker: a short line above an accepted headline, set apart by a blank.
        return len(run) == 1
    if not nxt.blank_before or (not run[0].blank_before and start > 0
                                and lines[start - 1].kind == "text"):
        # A headline sits in a block of its own: running text right under it (or right
        # above it) is the block the run belongs to, a caption's or a paragraph's.
        return False
    # The column around the run: a few running lines after it and before it.
    column = column_width(
        _local_widths(lines, stop, direction=1) + _local_widths(lines, start - 1, direction=-1))
    # Too short to be the opening line of the paragraph after it: the next line's first
    # word would have fitted on it even under a first line's indent (and a character of
    # slack: the sample page sets some first lines a character short), so the run ended
    # there on purpose and what follows is not its continuation. Measured on that
    # paragraph's column: a caption beside a story is often set narrower.
    after = _local_column(lines, stop, direction=1) or column
    clearly_short = after > 0 and \
        run[-1].width + _first_word_width(nxt.text) <= after - CLEARLY_SHORT
    if ends_sentence(text) and not (re.search("[！？!?]$", text) and nxt.blank_before and (
            clearly_short or _starts_paragraph(lines, stop, column))):
        return False  # "…焕发新活力！" set apart from a new paragraph is still a headline
    if _word_across(run[-1].text, nxt.text) or nxt.text[0] in _LINE_START_CLOSERS:
        return False  # "…扶持体" + "系。…": a word or a clause runs on into the next line
    if run[0].indented and not nxt.indented:
        return False  # an indented first line followed by its unindented continuation
    if column == 0:
        return not _CLAUSE_MARKS.search(text)
    return _headline_by_widths(lines, start, stop, column, clearly_short=clearly_short,
                               tight=tight)


def _headline_by_widths(lines: list[Line], start: int, stop: int, column: float, *,
                        clearly_short: bool, tight: bool) -> bool:
    """The rest of ``_accept_headline``: a run followed by plain text, judged by line widths
    against the ``column`` around it (``clearly_short``: too short to open the next line's
    paragraph)."""
    run = lines[start:stop]
    text = "".join(line.text for line in run)
    nxt = lines[stop]
    if any(_word_across(a.text, b.text) for a, b in itertools.pairwise(run)):
        return False  # "…分" / "裂能…": a headline is broken between words, not inside one
    if any(line.width > column + COLUMN_OVERRUN and not _WORD_SPACE.search(line.text)
           for line in run) or (not _CLAUSE_MARKS.search(text) and any(
                _ink(line) > column + (COLUMN_OVERRUN if line.text[-1] in _HANGING else 0)
                for line in run)):
        # Wider than the column, and not by a hanging mark: set across columns, as
        # headlines are. Running text with quotes and commas can exceed it a little, and
        # a line of Latin words is hard to measure.
        return True
    if all(line.width >= column - FULL_LINE_SLACK for line in run) and len(run) > 1:
        return False  # several lines filling the column are running text
    before = lines[start - 1] if start > 0 else None
    if before is not None and before.kind == "text" \
            and effective_width(lines, start - 1) <= column - PARAGRAPH_END_SHORT \
            and run[0].width >= column:
        # The paragraph above ended on a line shorter than a first line, so the next body
        # line would be a first line, two characters short; a line filling the column is
        # not one.
        return True
    if tight and run[0].blank_before and nxt.blank_before and len(run) == 1 \
            and before is not None and before.kind == "text":
        return True  # alone between blanks in running text where paragraphs run together
    if not clearly_short and not _starts_paragraph(lines, stop, column):
        # The next line runs on at full width: the run is the opening of its paragraph
        # (a first line that lost its indent is often set loose, so it can be short).
        return False
    if nxt.indented:
        return True  # the next paragraph opens there, and the run is not part of it
    last = effective_width(lines, stop - 1)
    if last >= column - HEADLINE_SHORT and ends_sentence(nxt.text):
        # A full line (or a first line) followed by the short rest of its sentence
        # ("…相似头骨" / blank / "相比，…较大。") is running text cut at a column break.
        return False
    if not (nxt.blank_before or run[0].blank_before):
        # Nothing sets it apart: only a clearly short line without clause marks.
        return last < column - HEADLINE_SHORT and not _CLAUSE_MARKS.search(text)
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
    from ..normalize import jieba_module

    jieba = jieba_module()
    offset = 0
    for word in jieba.cut(tail + head, HMM=False):
        if offset < len(tail) < offset + len(word):
            left_word = jieba.lcut(tail, HMM=False)[-1]
            right_word = jieba.lcut(head, HMM=False)[0]
            return len(word) > max(len(left_word), len(right_word))
        offset += len(word)
    return False


def credit_line(text: str) -> bool:
    credit = PHOTO_CREDIT_RE.search(text)
    return credit is not None and credit.start() == 0 and run_in_credit(text)


def run_in_credit(paragraph: str) -> bool:
    credit = PHOTO_CREDIT_RE.search(paragraph)
    return credit is not None and parse_byline(credit.group("credit"),
                                               require_role=False) is not None


def take_photo_credit(paragraphs: list[str]) -> tuple[list[str], list[str] | None]:
    """``paragraphs`` without a closing photo credit ("（刘帅 摄）"), and the credited names
    (None when the last paragraph ends in no credit that names someone)."""
    credit = PHOTO_CREDIT_RE.search(paragraphs[-1]) if paragraphs else None
    if credit is None:
        return paragraphs, None
    credited = parse_byline(credit.group("credit"), require_role=False)
    if credited is None:
        return paragraphs, None
    last = paragraphs[-1][: credit.start()].strip(SPACES)
    return paragraphs[:-1] + ([last] if last else []), list(credited.authors)
