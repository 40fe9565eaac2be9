"""Rebuild a typeset page's articles from where its lines sit (PDF text layer or OCR boxes).

One module for the page model and the rules that read it: what a column, a headline, a
caption and a paragraph are is decided on the same measures (the page's body type size).

The input is a page of text lines with their boxes and type sizes, and the boxes of pictures.
The rules (docs/page-format.md, "PDF pages and scans"):

1. **Running head and foot.** Lines in the top or bottom band of the page that carry a date,
   a page number (第3版) or editors' labels are furniture: dropped, and read for the page's
   date and number.
2. **Reading order** comes from a recursive cut of the page (an X-Y cut): at the printed
   rules that run across a region first, then along white space — a region is cut at every
   vertical gutter that runs through all of it, else at every horizontal gap wider than a
   body line's spacing, and the pieces are read left to right or top to bottom. A headline
   set across its block keeps the block's columns together, so a modular page (rows of
   rectangular blocks) reads block by block, column by column.
3. **Line kinds by size.** The body size is the size most characters are set in; lines
   clearly larger are display type (kicker, headline, subtitle), clearly smaller are
   captions.
4. **Articles.** A run of display lines starts a story: the largest lines are the headline,
   those above it the kicker, those below it the subtitle ("——" dropped). A run of caption
   lines is a photo caption with its credit ("（X 摄）" or a "X 摄" line). Body columns belong
   to the story above them; a body column after a caption goes back to that story.
   A story's byline box ("■ 本报记者 X") and its dateline ("本报讯（记者 X）") give the authors.
5. **Paragraphs.** A body line indented from its column's left edge starts a paragraph; so
   does a line after a finished sentence on a line that stops clearly short of the column.
   A column break never ends a paragraph by itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from ..articles import Article, ArticleKind, printed_article
from .bylines import match_dateline, parse_byline
from .jumps import opens_with_jump
from .layout import SPACES, clean_layout_spacing, ends_sentence, join_lines, join_raw_lines
from .page_lines import head_facts, take_photo_credit

# -- thresholds: multiples of the page's body type size unless said otherwise; tuned on
# bench/pdf_pages.py seeds 1-3 (reported on held-out seeds).

_DISPLAY = 1.2  # a line this much larger than body type is a kicker, headline or subtitle
_CAPTION = 0.93  # a line this much smaller is a caption
_KICKER_MIN = 1.05  # a line alone right above a headline this much larger is its kicker
_TITLE_SHARE = 0.88  # display lines within this share of the largest size are the headline
_MIN_GUTTER = 0.5  # a vertical gap this wide separates columns
_MIN_ROW_GAP = 0.75  # a horizontal gap this tall separates blocks (body lines sit 0.5 apart)
_SAME_SIZE = (0.8, 1.25)  # sizes this close to their column piece's usual size are that size
_SAME_SIZE_SHORT = (0.65, 1.45)  # the same for a line of at most _SHORT_LINE characters, whose
_SHORT_LINE = 5  # size a scan measures worst (a column's last line, "五速。")
_INDENT = 1.2  # a line starting this far right of its column's edge starts a paragraph
_SHORT = 1.0  # a line ending this far left of its column's right edge ended its paragraph
_STRAY_REACH = 1.5  # a line running this far across a gutter (OCR) does not close it
_MAX_STRAYS = 2  # ... when at most this many lines do
_GUTTER_LINES = 3  # ... and at least this many lines stand clear of it on each side
_RULE_SPAN = 0.8  # a printed rule covering this share of a region's width (height) cuts it
# Running head and foot: lines in these top/bottom shares of the page height.
_HEAD_BAND = 0.08
_FOOT_BAND = 0.06

_PAPER_RE = re.compile(r"[\u4e00-\u9fff]{1,8}(?:日报|晚报|早报|时报|商报|报)(?![\u4e00-\u9fff])")
_SUBTITLE_RE = re.compile(f"^[{SPACES}]*[-－—─一]{{2}}")  # OCR reads the dash as 一一 or -一
_UNREAD_CREDIT_RE = re.compile(r"[（(](?:本报)?(?:记者|通讯员)[^（()）]{2,20}[）)]")
_CREDIT_LINE_RE = re.compile(f"[{SPACES}]*摄(?:影)?$")


@dataclass(frozen=True, slots=True)
class Box:
    x0: float
    top: float
    x1: float
    bottom: float


@dataclass(frozen=True, slots=True)
class TextLine:
    """One printed line: its text, box (points or pixels, top-down) and type size."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    size: float

    @property
    def box(self) -> Box:
        return Box(self.x0, self.top, self.x1, self.bottom)


@dataclass(frozen=True, slots=True)
class PageLayout:
    """Everything read from one page: lines, pictures, printed rules and the page's size."""

    lines: tuple[TextLine, ...]
    pictures: tuple[Box, ...]
    width: float
    height: float
    rules: tuple[Box, ...] = ()  # thin printed lines between blocks, horizontal or vertical


@dataclass(frozen=True, slots=True)
class PageFacts:
    """What the running head says: the page's date (ISO), number and paper name."""

    date: str | None = None
    page: str | None = None
    paper: str | None = None


# --------------------------------------------------------------------------- furniture


def split_furniture(layout: PageLayout) -> tuple[list[TextLine], PageFacts]:
    """The page's lines without its running head/foot, and what the head says."""
    band_lines = [line for line in layout.lines
                  if line.bottom <= layout.height * _HEAD_BAND
                  or line.top >= layout.height * (1 - _FOOT_BAND)]
    band_lines = _detached(band_lines, layout)
    # Read as one text: OCR may cut the head into pieces ("2023年10月9日" / "星期一").
    date, page, furniture = head_facts(" ".join(line.text for line in band_lines))
    if not furniture:
        return list(layout.lines), PageFacts()
    paper = None
    # The paper's name is the running head's largest words ending in 报 (聊城日报).
    for line in sorted(band_lines, key=lambda line: -line.size):
        named = _PAPER_RE.search(line.text)
        if named is not None:
            paper = named.group(0)
            break
    dropped = set(band_lines)
    kept = [line for line in layout.lines if line not in dropped]
    return kept, PageFacts(date, page, paper)


def _detached(band_lines: list[TextLine], layout: PageLayout) -> list[TextLine]:
    """The band's lines less those that go on a column of the page's content.

    A column's last line may reach into the foot band (a block set to the bottom of the
    type area): set right under a content line, no farther than its own height and with no
    rule between, it is content, not the running foot.
    """
    content = [line for line in layout.lines if line not in set(band_lines)]
    changed = True
    while changed:
        changed = False
        for line in band_lines:
            if any(_attached(line, other, layout.rules) for other in content):
                band_lines = [kept for kept in band_lines if kept is not line]
                content.append(line)
                changed = True
                break
    return band_lines


def _attached(line: TextLine, other: TextLine, rules: Sequence[Box]) -> bool:
    """Whether ``line`` is set right above or below ``other`` in the same column."""
    gap = max(line.top - other.bottom, other.top - line.bottom)
    if not 0 <= gap <= line.bottom - line.top or line.x1 <= other.x0 or other.x1 <= line.x0:
        return False
    upper, lower = (other, line) if other.top < line.top else (line, other)
    return not any(rule.x1 - rule.x0 >= rule.bottom - rule.top
                   and upper.bottom <= (rule.top + rule.bottom) / 2 <= lower.top
                   and rule.x0 < line.x1 and line.x0 < rule.x1 for rule in rules)


def body_size(lines: Iterable[TextLine]) -> float:
    """The size most characters are set in: the median size, weighted by characters.

    A median rather than the most common value: a scan's measured sizes are continuous.
    """
    weighted = sorted((line.size, len(line.text.strip(SPACES))) for line in lines)
    total = sum(count for _, count in weighted)
    if not total:
        return 1.0
    seen = 0
    for size, count in weighted:
        seen += count
        if seen * 2 >= total:
            return size
    return weighted[-1][0]


# --------------------------------------------------------------------------- reading order


@dataclass(slots=True)
class _Item:
    box: Box
    line: TextLine | None  # None for a picture


def reading_order(lines: Sequence[TextLine], pictures: Sequence[Box], body: float,
                  rules: Sequence[Box] = ()) -> list[list[TextLine]]:
    """Leaves of the X-Y cut in reading order, each a column piece's lines top to bottom."""
    items = [_Item(line.box, line) for line in lines] + [_Item(b, None) for b in pictures]
    leaves: list[list[TextLine]] = []
    _cut(items, body, leaves, tuple(rules))
    return leaves


def _cut(items: list[_Item], body: float, out: list[list[TextLine]],
         rules: tuple[Box, ...] = ()) -> None:
    # Written by hand: layout-analysis libraries either need a model (none may be
    # downloaded here) or work on rendered images; an X-Y cut on boxes is a few lines.
    if not items:
        return
    # A printed rule across the whole region is the make-up editor's own cut: it wins over
    # white space, which OCR boxes (a headline cut at a character it could not read, a
    # subtitle sized as body type) make unreliable.
    groups = _split_at_rules(items, rules, 1)
    if len(groups) == 1:
        groups = _split_at_rules(items, rules, 0)
    if len(groups) > 1:
        for group in groups:
            _cut(group, body, out, rules)
        return
    groups = _split(items, 0, _MIN_GUTTER * body)
    if len(groups) == 1:
        groups = _split_past_strays(items, body)
    if len(groups) == 1:
        strips = _split(items, 1, _MIN_ROW_GAP * body)
        groups = _keep_heads_with_bodies(strips, body)
        if len(groups) == 1:
            groups = strips  # headlines over nothing but more headlines: cut anyway
    if len(groups) > 1:
        for group in groups:
            _cut(group, body, out, rules)
        return
    lines = sorted((item.line for item in items if item.line is not None),
                   key=lambda line: (line.top, line.x0))
    if lines:
        out.append(lines)


def _keep_heads_with_bodies(strips: list[list[_Item]], body: float) -> list[list[_Item]]:
    """Join a strip holding only display lines or pictures to the strip below it.

    A headline (or a picture) never ends a block: the text under it belongs to it. Kept
    together, two blocks side by side whose headlines happen to end at the same height are
    then cut apart at their gutter instead of being read headlines first.
    """
    merged: list[list[_Item]] = []
    pending: list[_Item] = []
    for strip in strips:
        pending = pending + strip
        if any(item.line is not None and item.line.size < body * _DISPLAY for item in strip):
            merged.append(pending)
            pending = []
    if pending:
        if merged:
            merged[-1] = merged[-1] + pending
        else:
            merged.append(pending)
    return merged


def _split_past_strays(items: list[_Item], body: float) -> list[list[_Item]]:
    """Split at gutters that a line or two runs into by at most _STRAY_REACH body sizes.

    OCR's detector may run a line on across a narrow gutter into the next column's first
    character ("分析例会，通过季度分 延"); that one box would otherwise hide the gutter and
    interleave two columns. A gutter is found on the lines' cores (body lines less their
    ends) and kept when at most _MAX_STRAYS lines cross it, each only just; a line set
    across two columns (a caption, a headline) crosses far and keeps them together.
    """
    def core(item: _Item) -> tuple[float, float]:
        b = item.box
        if item.line is None or item.line.size >= body * _DISPLAY:
            return b.x0, b.x1
        trim = min(_STRAY_REACH * body, (b.x1 - b.x0) / 4)
        return b.x0 + trim, b.x1 - trim

    def crossing(at: float) -> int | None:
        """How many items run just across ``at``; None when one runs far across it, or when
        either side holds fewer than _GUTTER_LINES lines clear of it (no column there)."""
        strays = left = right = 0
        for item in items:
            if item.box.x0 < at < item.box.x1:
                if min(at - item.box.x0, item.box.x1 - at) > _STRAY_REACH * body:
                    return None
                strays += 1
            elif item.box.x1 <= at:
                left += 1
            else:
                right += 1
        return strays if min(left, right) >= _GUTTER_LINES else None

    def fewest_strays(low: float, high: float) -> int | None:
        """The fewest lines crossing a cut anywhere in ``low``-``high`` (None: none clear)."""
        edges = [x for item in items for x in (item.box.x0, item.box.x1) if low < x < high]
        counts = [c for c in map(crossing, [low, (low + high) / 2, high, *edges])
                  if c is not None]
        return min(counts) if counts else None

    ordered = sorted(items, key=lambda item: core(item)[0])
    groups: list[list[_Item]] = [[ordered[0]]]
    reach = core(ordered[0])[1]
    for item in ordered[1:]:
        start, end = core(item)
        strays = fewest_strays(reach, start) if start - reach > _MIN_GUTTER * body else None
        if strays is not None and 0 < strays <= _MAX_STRAYS:
            groups.append([item])
        else:
            groups[-1].append(item)
        reach = max(reach, end)
    return groups


def _split_at_rules(items: list[_Item], rules: tuple[Box, ...], axis: int
                    ) -> list[list[_Item]]:
    """Split at every rule running across the region that no item crosses.

    ``axis`` 1: horizontal rules (cut top to bottom), 0: vertical rules (left to right).
    A rule runs across the region when it covers _RULE_SPAN of the items' extent along it.
    """
    def across(box: Box) -> tuple[float, float]:
        return (box.x0, box.x1) if axis == 1 else (box.top, box.bottom)

    def along(box: Box) -> tuple[float, float]:
        return (box.top, box.bottom) if axis == 1 else (box.x0, box.x1)

    if not rules:
        return [items]
    low = min(across(item.box)[0] for item in items)
    high = max(across(item.box)[1] for item in items)
    start = min(along(item.box)[0] for item in items)
    end = max(along(item.box)[1] for item in items)
    cuts: list[float] = []
    for rule in rules:
        if (rule.x1 - rule.x0 >= rule.bottom - rule.top) != (axis == 1):
            continue  # a rule cuts only across its own length
        at = sum(along(rule)) / 2
        covered = min(high, across(rule)[1]) - max(low, across(rule)[0])
        if not start < at < end or covered < _RULE_SPAN * (high - low):
            continue
        if any(along(item.box)[0] < at < along(item.box)[1] for item in items):
            continue
        cuts.append(at)
    if not cuts:
        return [items]
    cuts.sort()
    groups: list[list[_Item]] = [[] for _ in range(len(cuts) + 1)]
    for item in items:
        middle = sum(along(item.box)) / 2
        groups[sum(middle > at for at in cuts)].append(item)
    return [group for group in groups if group]


def _split(items: list[_Item], axis: int, gap: float) -> list[list[_Item]]:
    """Split at every gap wider than ``gap`` along x (axis 0) or y (axis 1)."""
    def span(item: _Item) -> tuple[float, float]:
        b = item.box
        return (b.x0, b.x1) if axis == 0 else (b.top, b.bottom)

    ordered = sorted(items, key=lambda item: span(item)[0])
    groups: list[list[_Item]] = [[ordered[0]]]
    reach = span(ordered[0])[1]
    for item in ordered[1:]:
        start, end = span(item)
        if start - reach > gap:
            groups.append([item])
        else:
            groups[-1].append(item)
        reach = max(reach, end)
    return groups


# --------------------------------------------------------------------------- articles


@dataclass(slots=True)
class _Story:
    head: list[TextLine] = field(default_factory=list)
    body: list[list[TextLine]] = field(default_factory=list)  # leaves of body lines
    caption: bool = False


def _kind(line: TextLine, body: float) -> str:
    if line.size >= body * _DISPLAY:
        return "display"
    if line.size <= body * _CAPTION:
        return "caption"
    return "body"


def _runs(leaves: list[list[TextLine]], body: float) -> list[tuple[str, list[TextLine]]]:
    """Each leaf cut into runs of one line kind, in reading order."""
    runs: list[tuple[str, list[TextLine]]] = []
    for leaf in leaves:
        start = len(runs)
        # Sizes measured from scans wander by a fifth, mostly downwards (a line ending in
        # a narrow mark looks set smaller): a line near its piece's usual size, taken at
        # the upper quartile, takes that size's kind (exact PDF sizes are not moved by this).
        usual = sorted(line.size for line in leaf)[(3 * len(leaf)) // 4]
        for line in leaf:
            low, high = _SAME_SIZE if len(line.text) > _SHORT_LINE else _SAME_SIZE_SHORT
            near = low <= line.size / usual <= high
            kind = _kind(line if not near else replace(line, size=usual), body)
            if len(runs) > start and runs[-1][0] == kind:
                runs[-1][1].append(line)
            else:
                runs.append((kind, [line]))
    # A lone line right above a headline, set larger than body type but below display size,
    # is a long kicker shrunk to fit its block.
    return [("display", lines) if kind == "body" and k + 1 < len(runs)
            and _small_kicker(lines, runs[k + 1], body) else (kind, lines)
            for k, (kind, lines) in enumerate(runs)]


def _small_kicker(lines: list[TextLine], after: tuple[str, list[TextLine]], body: float
                  ) -> bool:
    """A line on its own right above a headline, set larger than body type but below display
    size (a long kicker shrunk to fit its block): the headline's kicker, not body text."""
    if len(lines) != 1 or after[0] != "display":
        return False
    line, head = lines[0], after[1][0]
    return (body * _KICKER_MIN <= line.size < body * _DISPLAY <= head.size
            and 0 <= head.top - line.bottom <= 1.5 * body
            and line.x0 < head.x1 and head.x0 < line.x1 and not ends_sentence(line.text))


def _span_gap(a: list[TextLine], b: list[TextLine]) -> float:
    """Horizontal distance between two runs (0 when they overlap)."""
    return max(0.0, min(x.x0 for x in b) - max(x.x1 for x in a),
               min(x.x0 for x in a) - max(x.x1 for x in b))


def _headlines_first(runs: list[tuple[str, list[TextLine]]], body: float
                     ) -> list[tuple[str, list[TextLine]]]:
    """Move a headline before the columns of its block that were read before it.

    A headline narrower than its block leaves the block's outer columns outside its span,
    and the cut reads them first. Such a column starts just below the headline, does not
    sit under the previous head (kicker, headline and subtitle) and is nearer to this one
    or, failing that, starts level with the first column under this headline and not with
    the first under the previous one (a block's columns start at one height; rule 4).
    """
    runs = list(runs)
    for index in range(1, len(runs)):
        kind, head = runs[index]
        if kind != "display":
            continue
        after = runs[index + 1] if index + 1 < len(runs) else None
        first_top = after[1][0].top if after is not None and after[0] == "body" else None
        k = index
        while k > 0 and runs[k - 1][0] == "body":
            column = runs[k - 1][1]
            below = 0 <= column[0].top - head[-1].bottom <= 6 * body
            previous, previous_top = _previous_head(runs[:k - 1])
            if not below:
                break
            if previous is not None:
                if _span_gap(column, previous) == 0:
                    break
                level = first_top is not None and abs(column[0].top - first_top) <= body / 2 \
                    and (previous_top is None or abs(column[0].top - previous_top) > body / 2)
                if _span_gap(column, previous) <= _span_gap(column, head) and not level:
                    break
            runs[k - 1], runs[k] = runs[k], runs[k - 1]
            k -= 1
    return runs


def _previous_head(runs: list[tuple[str, list[TextLine]]]
                   ) -> tuple[list[TextLine] | None, float | None]:
    """The lines of the last head read (its kicker, headline and subtitle runs together: a
    subtitle alone is narrower than the block its headline spans), and the top of the
    column read right after it."""
    end = next((k for k in range(len(runs) - 1, -1, -1) if runs[k][0] == "display"), None)
    if end is None:
        return None, None
    start = end
    while start > 0 and runs[start - 1][0] == "display":
        start -= 1
    after = runs[end + 1] if end + 1 < len(runs) else None
    top = after[1][0].top if after is not None and after[0] == "body" else None
    return [line for _, lines in runs[start:end + 1] for line in lines], top


def _stories(leaves: list[list[TextLine]], body: float) -> list[_Story]:
    stories: list[_Story] = []
    last_story: _Story | None = None  # the last story that is not a caption
    runs = _headlines_first(_runs(leaves, body), body)
    for number, (kind, lines) in enumerate(runs):
        following = runs[number + 1] if number + 1 < len(runs) else None
        current = stories[-1] if stories else None
        if kind == "display":
            if current is not None and not current.caption and current.head \
                    and not current.body:
                current.head.extend(lines)  # a kicker or subtitle cut off by a gap
            else:
                last_story = _Story(head=list(lines))
                stories.append(last_story)
        elif kind == "caption" and current is not None and current.caption \
                and _credit_only(lines):
            # "■本报记者 X 摄" set apart from its caption (flush right): that caption's.
            current.body.append(lines)
        elif kind == "caption" and last_story is not None and _stray(lines) and not (
                following is not None and following[0] == "caption"
                and _credit_only(following[1])):
            # A column's last few characters alone ("考验。"), or a line or two without a
            # photographer's credit: too short for a scan to size, not a caption; they
            # belong to the story being read.
            last_story.body.append(lines)
        elif kind == "caption":
            # Each piece of caption type is one picture's caption: two pictures side by
            # side are cut apart at their gutter.
            stories.append(_Story(body=[lines], caption=True))
        else:
            if current is not None and current is last_story and current.head \
                    and not current.body and _SUBTITLE_RE.match(lines[0].text):
                # A "——" subtitle set in body size (or measured so on a scan) heads the
                # body: it belongs to the headline above.
                current.head.append(lines[0])
                lines = lines[1:]
                if not lines:
                    continue
            target = last_story
            if target is not None and target.head and lines[0].bottom < target.head[0].top:
                # A column above the headline being read is no part of that story: a
                # headless block's columns may be cut apart by a gutter running down the
                # page. It goes on the story whose column ends beside it at its height.
                target = _beside(stories, lines, body) or target
            if target is None or (target.body and _opens_story(lines[0])):
                target = _Story()
                stories.append(target)
                last_story = target
            target.body.append(lines)
    return stories


def _beside(stories: list[_Story], column: list[TextLine], body: float) -> _Story | None:
    """The story whose last column starts at ``column``'s height just left of it."""
    for story in reversed(stories):
        if not story.body or story.caption:
            continue
        last = story.body[-1]
        gap = column[0].x0 - max(line.x1 for line in last)
        if 0 < gap <= 3 * body and abs(last[0].top - column[0].top) <= body:
            return story
    return None


def _credit_only(lines: list[TextLine]) -> bool:
    """A photographer's credit on its own: "■本报记者 X 摄", "X 摄"."""
    if len(lines) != 1 or not _CREDIT_LINE_RE.search(lines[0].text):
        return False
    return parse_byline(lines[0].text.strip(SPACES), require_role=False) is not None


def _stray(lines: list[TextLine]) -> bool:
    """Caption-sized lines that are no caption: a few characters, or no credit in 1-2 lines."""
    text = "".join(line.text for line in lines)
    return len(text) <= _SHORT_LINE or (len(lines) <= 2 and "摄" not in text)


def _opens_story(line: TextLine) -> bool:
    """A body line that can only open a story without headline: a dateline, a byline box, or
    "（上接第1版）" (the rest of a story begun on another page)."""
    return match_dateline(line.text) is not None or parse_byline(line.text) is not None \
        or opens_with_jump(line.text)


def _paragraphs(leaves: list[list[TextLine]], body: float) -> tuple[list[list[str]], list[str]]:
    """Paragraphs (as raw lines) and byline-box lines of one story's body leaves."""
    paragraphs: list[list[str]] = []
    boxes: list[str] = []
    previous: TextLine | None = None
    previous_right = 0.0
    for leaf in leaves:
        left = min(line.x0 for line in leaf)
        right = max(line.x1 for line in leaf)
        for line in leaf:
            text = line.text.strip(SPACES)
            if not text:
                continue
            if not paragraphs and parse_byline(text) is not None:
                boxes.append(text)
                continue
            new = not paragraphs or line.x0 - left >= _INDENT * line.size
            if not new and previous is not None and ends_sentence(previous.text):
                new = previous.x1 <= previous_right - _SHORT * previous.size
            if (new or line is leaf[0]) and paragraphs and _CREDIT_LINE_RE.search(text) and \
                    parse_byline(text, require_role=False) is not None:
                boxes.append(text)  # "王伟 摄" under a caption, or set apart flush right
                continue
            if new:
                paragraphs.append([text])
            else:
                paragraphs[-1].append(text)
            previous, previous_right = line, right
    return paragraphs, boxes


def _dateline(lines: list[str]) -> tuple[tuple[str, ...], list[str]] | None:
    """A dateline opening a paragraph: its authors and the paragraph's lines after it.

    The lines are tried joined as printed, then with a space at each line break: a break
    between two reporters' names ("（记者 邱红" / "史子欣）") separates them.
    """
    joined = join_raw_lines(lines)
    dateline = match_dateline(joined)
    if dateline is not None and dateline.authors:
        return dateline.authors, [joined[dateline.end:]]
    spaced = match_dateline(" ".join(lines))
    if spaced is not None and spaced.authors:
        end = spaced.end
        for index, line in enumerate(lines):
            if end <= len(line):
                return spaced.authors, [line[end:], *lines[index + 1:]]
            end -= len(line) + 1
        return spaced.authors, []
    if dateline is not None:
        # "（记者 X）" whose names cannot be told apart (a scan loses the space between
        # them) is still a credit, not part of the story's first sentence.
        credit = _UNREAD_CREDIT_RE.match(joined, dateline.end)
        return (), [joined[credit.end() if credit else dateline.end:]]
    return None


def _headline(lines: list[TextLine]) -> tuple[str | None, str | None, str | None]:
    """(kicker, title, subtitle) of a story's display lines."""
    if not lines:
        return None, None, None
    # A headline's short last line ("议") is sized worst on a scan: it does not set the
    # headline's size, and need not come as close to it.
    top = max(range(len(lines)), key=lambda k: lines[k].size)
    largest = lines[top].size
    if top > 0 and len(lines[top].text) <= _SHORT_LINE and len(lines[top - 1].text) > \
            _SHORT_LINE and lines[top - 1].size >= largest * _SAME_SIZE_SHORT[0]:
        largest = lines[top - 1].size  # the short line ends the headline above it
    title_at = [k for k, line in enumerate(lines) if line.size >= largest * _TITLE_SHARE]
    first, last = title_at[0], title_at[-1]
    if last + 1 < len(lines) and len(lines[last + 1].text) <= _SHORT_LINE \
            and lines[last + 1].size >= largest * _SAME_SIZE_SHORT[0]:
        last += 1

    def text(part: list[TextLine]) -> str | None:
        joined = "".join(line.text.strip(SPACES) for line in part)
        return clean_layout_spacing(joined, keep_phrase_gaps=True) or None

    kicker = text(lines[:first])
    title = text(lines[first:last + 1])
    subtitle_lines = lines[last + 1:]
    subtitle = text(subtitle_lines)
    if subtitle is not None:
        # OCR reads the dash "——" as 一一 or -一.
        # A printed dash is taken whole first: "——一线观察" keeps its 一.
        subtitle = re.sub(r"^(?:[—─－]{2}|[—─\-－]一|一一|[—─\-－]+)", "", subtitle
                          ).strip(SPACES) or None
    return kicker, title, subtitle


def _article(story: _Story, body: float, *, source: str | None, date: str | None,
             page: str | None) -> Article | None:
    raw, boxes = _paragraphs(story.body, body)
    authors: list[str] = []
    photo = story.caption
    for box in boxes:
        byline = parse_byline(box, require_role=not story.caption)
        if byline is not None:
            authors.extend(byline.authors)
            photo = photo or byline.photo
    if raw:
        found = _dateline(raw[0])
        if found is not None:
            authors.extend(found[0])
            raw = [found[1], *raw[1:]]
    paragraphs, credited = take_photo_credit(
        [p for p in (join_lines(lines) for lines in raw) if p]
    )
    if credited is not None:
        authors.extend(credited)
        photo = True
    if not paragraphs:
        return None
    kicker, title, subtitle = _headline(story.head)
    kind: ArticleKind = "photo" if title is None and photo else "article"
    return printed_article(
        paragraphs=paragraphs, title=title, subtitle=subtitle, kicker=kicker, authors=authors,
        date=date, source=source, page=page, kind=kind,
    )


def parse_layout(layout: PageLayout, *, source: str | None = None, date: str | None = None,
                 page: str | None = None) -> tuple[list[Article], PageFacts]:
    """Articles of one laid-out page, and the running head's facts.

    ``date`` and ``page`` are what the caller knows (from the file name or the user);
    the running head's own date and page number win over them, as they are printed. The
    paper's name in the running head is used when ``source`` is not given.
    """
    lines, facts = split_furniture(layout)
    lines = [line for line in lines if line.text.strip(SPACES)]
    if not lines:
        return [], facts
    size = body_size(lines)
    leaves = reading_order(lines, layout.pictures, size, layout.rules)
    date = facts.date or date
    page = facts.page or page
    source = source or facts.paper
    articles: list[Article] = []
    for story in _stories(leaves, size):
        article = _article(story, size, source=source, date=date, page=page)
        if article is not None:
            articles.append(article)
    return articles, facts

