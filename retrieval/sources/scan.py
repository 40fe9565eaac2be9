"""Read scanned pages (.png/.jpg/.tif, or PDF pages without a text layer) by OCR.

RapidOCR (rapidocr-onnxruntime 1.4.x, Apache-2.0) ships the PP-OCRv4 detection and
recognition models inside its wheel, so nothing is downloaded at run time; it is the
optional ``ocr`` extra (``pip install 'newsqa[ocr]'``). Each detected text line becomes a
``TextLine`` whose type size is its box height, and ``page_geometry`` rebuilds the
articles exactly as for a PDF's text layer.
"""

from __future__ import annotations

import importlib.util
import io
import itertools
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from .layout import SPACES, char_width, is_ideograph
from .page_geometry import Box, PageLayout, TextLine

if TYPE_CHECKING:
    from PIL.Image import Image

log = logging.getLogger(__name__)

# Detection reads the page at up to this many pixels on its long side: a scan's body type
# must stay about 20 pixels high to be recognised (the library's default, 2000, halves it).
_MAX_SIDE = 4000
# The detector pads a line's box; its height is this share more than the type size.
_BOX_PAD = 1.15
_MIN_PITCH_EMS = 3.0  # lines at least this long take their size from their pitch
_GLYPH_HEIGHT = 0.9  # share of the em a Chinese character's print is tall
_INK_MIN_CHARS = 2  # lines with this many Chinese characters are sized by their print
_MIN_SCORE = 0.5  # recognitions below this confidence are dropped (the library's default)
# Between two recognised characters of one detected line, a gap this many line heights wide
# is a gutter between columns; one this much wider than the line's usual gap is a space.
_OCR_GUTTER = 0.8
_WORD_SPACE = 0.35
_GUTTER_BLANK = 0.5  # line heights of blank a gutter leaves at least (unread characters less)
_INK = 160  # grey levels below this are print
_DISPLAY_HEIGHT = 1.6  # lines this much taller than the page's median are display type
_PHRASE_GAP = 0.22  # ems a headline's phrase gap is wider than its usual character gap
# A headline's two phrases, detected apart: same row, heights this close, and a blank between
# them at most twice the headline's own blank plus _PHRASE_BLANK ems (at most _PHRASE_JOIN
# ems when neither piece shows its spacing) are one line.
_SAME_ROW = 0.6
_PHRASE_SIZES = 1.25
_PHRASE_JOIN = 0.9
_PHRASE_BLANK = 0.45
_GLYPH_BREAK = 0.25  # ems of blank inside one character's print at most (川, 八)
_EDGE_REACH = 1.5  # ems beyond a headline's ends searched for a character left out
_EDGE_GLYPH = 0.4  # ems of print at least as wide as a character
_HALF_GLYPH = 0.5  # ems wide and tall print between two headline pieces is a character
_PHRASE_OVERLAP = 1.0  # ems two boxes of one row may overlap and still be one headline
_MISSED_GAP = 6.0  # ems between two pieces of a row read again for a missed character
_MISSED_SCORE = 0.8
_BARS = "|｜"  # what recognition reads into a letter-spaced headline's gap
_LATIN_SHARE = 0.3  # a line with this share of Latin letters is sized by its neighbours
_FLUSH = 0.3  # lines whose edges are this many line heights apart are set flush
# A printed rule: a run of print at least this share of the page's width (height) long and
# at most this share of it thick, outside every text line (a headline's stroke is shorter,
# a picture thicker).
_RULE_LENGTH = 0.1
_RULE_THICKNESS = 0.004
# A reporters' credit in a byline box or a dateline: its names are group 1 or 2.
# A dateline's credit may break over two lines ("本报讯（记者 吴霞" / "彦 蒋怡飞）"): group 2
# runs to the line's end, group 3 is the rest of a bracket opened on the line above.
_CREDIT = re.compile(r"(?:本报|本刊)记者(.{2,12}?)(?:摄|$)|[（(]记者(.{2,16}?)(?:[）)]|$)"
                     r"|^([^（()）]{1,12}?)[）)]")
# OCR reads the byline box's "■"/"□" as the character 口 (or 回).
_MISREAD_MARKER = re.compile(f"^[口回][{SPACES}]*(?=本报|本刊|记者|通讯员|特约)")

_engine: Any = None
_engine_lock = threading.Lock()


def ocr_available() -> bool:
    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


def _ocr() -> Any:
    global _engine
    with _engine_lock:
        if _engine is None:
            from rapidocr_onnxruntime import RapidOCR

            # Upright pages need no 180-degree classifier: leaving it out saves a third.
            _engine = RapidOCR(max_side_len=_MAX_SIDE, use_cls=False, print_verbose=False)
        return _engine


def ocr_image(image: Image, *, where: str) -> PageLayout:
    """OCR one page image into lines with pixel boxes."""
    import numpy as np

    rgb = np.asarray(image.convert("RGB"))
    try:
        result, _ = _ocr()(rgb, use_cls=False, text_score=_MIN_SCORE, return_word_box=True)
    except Exception as exc:  # onnxruntime and OpenCV raise their own kinds
        raise InputError(f"OCR failed ({type(exc).__name__}: {str(exc)[:120]})",
                         path=where) from exc
    found_lines = list(result or [])
    heights = sorted(_height(found[0]) for found in found_lines)
    display = _DISPLAY_HEIGHT * heights[len(heights) // 2] if heights else 0.0
    ink = np.asarray(image.convert("L")) < _INK
    pieces: list[_Piece] = []
    for found in found_lines:
        box, text = found[0], str(found[1])
        ys = [float(point[1]) for point in box]
        top, bottom = min(ys), max(ys)
        if len(found) >= 5 and len(found[3]) == len(found[4]) and found[4]:
            groups = _split_at_gutters(found[3], [str(w) for w in found[4]], bottom - top,
                                       ink[int(top):int(bottom) + 1])
        else:
            xs = [float(point[0]) for point in box]
            groups = [[(text, min(xs), max(xs))]]
        pieces += [_Piece(group, top, bottom) for group in groups]
    lines: list[TextLine] = []
    joined = _join_phrases(pieces, display, rgb, ink)
    for piece in [_read_edges(piece, joined, display, rgb, ink) for piece in joined]:
        height = piece.bottom - piece.top
        chars = piece.chars
        if height >= display:
            # Recognition reads a wide letter-spaced gap in a headline as a bar ("梁卓伟引|发").
            chars = [char for char in chars if char[0] not in _BARS] or chars
        measured = _measured_pairs(chars, height >= display)
        shown = ink[int(piece.top):int(piece.bottom) + 1] if measured else None
        text, x0, x1 = _spaced(chars, height, shown, measured)
        text = _MISREAD_MARKER.sub("■ ", text.strip(SPACES))
        if text:
            size = _ink_size(chars, piece.top, piece.bottom, ink)
            lines.append(TextLine(text, x0, piece.top, x1, piece.bottom,
                                  size or _type_size(text, x1 - x0, height)))
    lines = _latin_sizes(lines)
    lines.sort(key=lambda line: (line.top, line.x0))
    rules = _rules(ink, lines)
    return PageLayout(tuple(lines), (), float(image.width), float(image.height), tuple(rules))


def _rules(ink: Any, lines: list[TextLine]) -> list[Box]:
    """The page's printed rules: long thin runs of print outside the text lines.

    Make-up editors separate blocks with rules; read from the image they cut the page where
    OCR boxes leave white space in doubt.
    """
    height, width = ink.shape
    found = [Box(x0, top, x1, bottom) for top, x0, bottom, x1
             in _runs_along(ink, _RULE_LENGTH * width, _RULE_THICKNESS * height)]
    found += [Box(x0, top, x1, bottom) for x0, top, x1, bottom
              in _runs_along(ink.T, _RULE_LENGTH * height, _RULE_THICKNESS * width)]
    return [rule for rule in found
            if not any(line.x0 < rule.x1 and rule.x0 < line.x1
                       and line.top < rule.bottom and rule.top < line.bottom
                       for line in lines)]


def _runs_along(ink: Any, length: float, thickness: float
                ) -> list[tuple[float, float, float, float]]:
    """Runs of print along each row at least ``length`` long, stacked over neighbouring
    rows into bars at most ``thickness`` thick: (top row, start, bottom row, end)."""
    import numpy as np

    # Only rows with that much print at all can hold such a run: a few on a page.
    candidates = np.flatnonzero(ink.sum(axis=1) >= length)
    padded = np.zeros((len(candidates), ink.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = ink[candidates]
    steps = np.diff(padded, axis=1)
    picked, starts = np.nonzero(steps == 1)
    _, ends = np.nonzero(steps == -1)
    rows = candidates[picked]
    long = ends - starts >= length
    bars: list[list[float]] = []  # top, start, bottom, end
    for row, start, end in zip(rows[long], starts[long], ends[long], strict=True):
        for bar in bars:
            if bar[2] >= row - 1 and start < bar[3] and bar[1] < end:
                bar[1], bar[2], bar[3] = min(bar[1], start), row + 1, max(bar[3], end)
                break
        else:
            bars.append([float(row), float(start), float(row + 1), float(end)])
    return [(top, start, bottom, end) for top, start, bottom, end in bars
            if bottom - top <= max(thickness, 1.0)]


def _height(box: Any) -> float:
    ys = [float(point[1]) for point in box]
    return max(ys) - min(ys)


_Char = tuple[str, float, float]  # a recognised character and its left and right edge


def _split_at_gutters(boxes: list[Any], words: list[str], height: float, ink: Any
                      ) -> list[list[_Char]]:
    """Cut a detected line where its characters leave a gutter between columns.

    The detector may run the lines of two columns together; recognition places every
    character, so the gutter shows. A gap without a blank as wide as a gutter holds
    characters recognition cannot read ("新西兰[鸲鹟]（"): the line stays whole.
    """
    groups: list[list[_Char]] = []
    reach = 0.0
    for box, word in zip(boxes, words, strict=True):
        x0 = min(float(point[0]) for point in box)
        x1 = max(float(point[0]) for point in box)
        if not groups or (x0 - reach > _OCR_GUTTER * height and _blank_runs(
                [groups[-1][-1], (word, x0, x1)], ink)[0] >= _GUTTER_BLANK * height):
            groups.append([])
        groups[-1].append((word, x0, x1))
        reach = max(reach, x1)
    return groups


def _measured_pairs(chars: list[_Char], display: bool) -> range:
    """Which neighbouring characters' gap is measured on the page: all of a display line's,
    and those inside a reporters' credit, whose names a space keeps apart."""
    if display:
        return range(len(chars) - 1)
    if any(len(word) != 1 for word, _, _ in chars):
        return range(0)
    credit = _CREDIT.search("".join(word for word, _, _ in chars))
    if credit is None:
        return range(0)
    start, end = credit.span(next(k for k in (1, 2, 3) if credit.group(k) is not None))
    return range(start, end - 1)


def _spaced(group: list[_Char], height: float, ink: Any | None, measured: range
            ) -> tuple[str, float, float]:
    """A piece's text with its word gaps, and its left and right edge.

    A gap between recognised characters clearly wider than the piece's usual one is a space
    (between Latin words). Recognition places a character only to within a fraction of its
    width, too loosely for a headline's phrase gap ("链上发力 攀高向强"), so on display
    lines (``ink`` is their strip of the page) the blank columns between two characters'
    centres are measured instead: a gap a quarter em wider than the line's usual one is a space.
    A credit's names ("（记者 唐浩文 白勇）") are measured the same way, as ``measured``
    says.
    """
    gaps = sorted(b[1] - a[2] for a, b in itertools.pairwise(group))
    usual = gaps[len(gaps) // 2] if gaps else 0.0
    blanks = _blank_runs(group, ink) if ink is not None and len(group) >= 3 else None
    # Punctuation and digits sit in wider blanks of their own: the usual blank is between
    # Chinese characters.
    between = sorted(blank for blank, (a, b) in zip(blanks or [], itertools.pairwise(group),
                                                     strict=False)
                     if _ideograph(a[0]) and _ideograph(b[0]))
    usual_blank = between[len(between) // 2] if between else 0
    text = group[0][0]
    for i, ((left, _, x1), (word, x0, _)) in enumerate(itertools.pairwise(group)):
        if between and blanks and i in measured and _ideograph(left) and _ideograph(word):
            spaced = blanks[i] - usual_blank > _PHRASE_GAP * height / _BOX_PAD
        else:
            spaced = x0 - x1 > usual + _WORD_SPACE * height
        text += " " + word if spaced else word
    return text, group[0][1], max(x1 for _, _, x1 in group)


def _blank_runs(group: list[_Char], ink: Any) -> list[int]:
    """Per pair of neighbouring characters, the widest run of ink-free columns between
    their centres."""
    import numpy as np

    inked = ink.any(axis=0)
    runs: list[int] = []
    for a, b in itertools.pairwise(group):
        start, stop = int((a[1] + a[2]) / 2), int((b[1] + b[2]) / 2)
        window = np.concatenate(([True], inked[start:stop], [True]))
        edges = np.flatnonzero(window)
        runs.append(int(np.diff(edges).max()) - 1 if len(edges) > 1 else 0)
    return runs


def _ideograph(text: str) -> bool:
    return len(text) == 1 and is_ideograph(text)


@dataclass(slots=True)
class _Piece:
    """Recognised characters of one text line, and the line's top and bottom."""

    chars: list[_Char]
    top: float
    bottom: float


def _latin_sizes(lines: list[TextLine]) -> list[TextLine]:
    """Lines mostly in Latin letters take the size of the body line they align with.

    A Latin word's ascenders and descenders make its box taller than a Chinese line's, and
    a justified line of a few long words spreads them wide, so both measures read such a
    body line as display type. Set flush with the line above or below it, it is body text.
    """
    sized: list[TextLine] = []
    for line in lines:
        letters = [ch for ch in line.text if ch not in SPACES]
        latin = sum(ch.isascii() and ch.isalpha() for ch in letters)
        if letters and latin >= _LATIN_SHARE * len(letters):
            for other in lines:
                height = other.bottom - other.top
                if (other is not line and other.size < line.size
                        and abs(other.x0 - line.x0) <= _FLUSH * height
                        and abs(other.x1 - line.x1) <= _FLUSH * height
                        and max(other.top - line.bottom, line.top - other.bottom) <= height):
                    line = TextLine(line.text, line.x0, line.top, line.x1, line.bottom,
                                    other.size)
                    break
        sized.append(line)
    return sized


def _join_phrases(pieces: list[_Piece], display: float, rgb: Any, ink: Any
                  ) -> list[_Piece]:
    """Join display pieces the detector cut at a headline's phrase gap.

    A headline set as two phrases with a wide gap comes back as two boxes on one row; left
    apart, the gap reads as a gutter and the page's columns are cut through the headline.
    The detector may also leave out a widely spaced character between them ("链上发力"
    and "高向强" around 攀), or read the one at the cut twice; a gap wider than a phrase
    gap is read again on its own, and joined only if it holds characters (the gutter
    between two blocks' headlines is blank).
    """
    joined: list[_Piece] = []
    for piece in sorted(pieces, key=lambda piece: piece.chars[0][1]):
        for i, left in enumerate(joined):
            merged = _phrase_pair(left, piece, display, rgb, ink, pieces)
            if merged is not None:
                joined[i] = merged
                break
        else:
            joined.append(piece)
    return joined


def _phrase_pair(left: _Piece, right: _Piece, display: float, rgb: Any, ink: Any,
                 pieces: list[_Piece]) -> _Piece | None:
    heights = sorted((left.bottom - left.top, right.bottom - right.top))
    overlap = min(left.bottom, right.bottom) - max(left.top, right.top)
    if (heights[0] < display or overlap < _SAME_ROW * heights[0]
            or heights[1] > _PHRASE_SIZES * heights[0]
            or not _headline_char(left.chars[-1][0]) or not _headline_char(right.chars[0][0])):
        return None
    size = heights[1] / _BOX_PAD
    gap = right.chars[0][1] - left.chars[-1][2]
    chars = list(right.chars)
    if gap < 0:
        if gap < -_PHRASE_OVERLAP * size:
            return None
        if chars[0][0] == left.chars[-1][0] and len(chars) > 1:
            chars = chars[1:]  # both boxes read the character at the cut
    elif gap > _MISSED_GAP * size:
        return None
    elif not _phrase_gap(left.chars, chars, left, right, ink, size):
        # Wider than a phrase gap: a character the detector left out, or a gutter.
        top, bottom = int(min(left.top, right.top)), int(max(left.bottom, right.bottom)) + 1
        start, stop, _ = _glyph_edges(ink[top:bottom], left.chars[-1], chars[0], size)
        if any(other.top < bottom and top < other.bottom and other.chars[0][1] < stop
               and start < other.chars[-1][2]
               and other.chars[0] not in left.chars and other.chars[0] not in right.chars
               for other in pieces):
            return None  # another line between them: two blocks' headlines
        missed = _read_gap(rgb, ink, top, bottom, start, stop)
        if not missed and not _unread_character(ink[top:bottom, start:stop], size):
            return None
        # A character recognition cannot read at all (穴[蝰]的前世今生) is lost, but the
        # headline stays one line, so its block is not cut in two at it.
        chars = missed + chars
    return _Piece(left.chars + chars, min(left.top, right.top), max(left.bottom, right.bottom))


def _phrase_gap(left_chars: list[_Char], right_chars: list[_Char], left: _Piece,
                right: _Piece, ink: Any, size: float) -> bool:
    """Whether the blank between two pieces is a headline's phrase gap: the headline's own
    letter spacing twice over plus a space. The gutter between two blocks' headlines is
    wider than that unless both are set loosely; pieces too short to show their spacing
    may be only a phrase gap apart."""
    strip = ink[int(min(left.top, right.top)):int(max(left.bottom, right.bottom)) + 1]
    if _glyph_edges(strip, left_chars[-1], right_chars[0], size)[2]:
        return False  # print inside the gap: more than a gap
    blanks = sorted(_blank_runs(left_chars, strip) + _blank_runs(right_chars, strip))
    between = _blank_runs([left_chars[-1], right_chars[0]], strip)[0]
    usual = blanks[len(blanks) // 2] if blanks else 0
    return between <= 2 * usual + _PHRASE_BLANK * size and (
        bool(blanks) or right_chars[0][1] - left_chars[-1][2] <= _PHRASE_JOIN * size)


def _glyph_edges(strip: Any, left: _Char, right: _Char, size: float) -> tuple[int, int, bool]:
    """Where the print of two neighbouring characters ends and starts between their centres,
    and whether other print lies between them (a character recognition left out).

    Recognition places a letter-spaced headline's characters loosely (a box may take in the
    spacing after its character and leave out the start of the next), so the gap is read
    on the ink: columns of print closer than _GLYPH_BREAK ems are one character's.
    """
    import numpy as np

    start, stop = int((left[1] + left[2]) / 2), int((right[1] + right[2]) / 2)
    inked = np.flatnonzero(strip[:, start:stop].any(axis=0))
    if not len(inked):
        return start, stop, False
    breaks = np.flatnonzero(np.diff(inked) > _GLYPH_BREAK * size)
    clusters = list(zip(np.concatenate(([inked[0]], inked[breaks + 1])),
                        np.concatenate((inked[breaks], [inked[-1]])), strict=True))
    end_left, start_right = start, stop
    # Print starting inside the left character's box is its own; ending inside the right
    # one's, that one's.
    if clusters and start + clusters[0][0] < left[2]:
        end_left = start + int(clusters.pop(0)[1]) + 1
    if clusters and start + clusters[-1][1] > right[1]:
        start_right = start + int(clusters.pop()[0])
    return end_left, start_right, bool(clusters)


def _unread_character(gap: Any, size: float) -> bool:
    """Whether the print in a gap is a character's: as wide and as tall as half of one (a
    rule between two blocks is thin, a speck small)."""
    import numpy as np

    columns = np.flatnonzero(gap.any(axis=0))
    rows = np.flatnonzero(gap.any(axis=1))
    return bool(len(columns)) and columns[-1] - columns[0] + 1 >= _HALF_GLYPH * size \
        and rows[-1] - rows[0] + 1 >= _HALF_GLYPH * size


def _headline_char(text: str) -> bool:
    """A Chinese character or full-width mark ("厄尔·门罗：" / "再添新动能")."""
    return _ideograph(text) or (len(text) == 1 and char_width(text) == 2
                                and not text.isalnum())


def _read_edges(piece: _Piece, pieces: list[_Piece], display: float, rgb: Any, ink: Any
                ) -> _Piece:
    """A display line with the characters recognition left out at its ends read again.

    The detector may leave a headline's first or last character outside the line's box
    ("国建筑工程" for 中国建筑工程): print within an em of the line's end, on its row and
    in no other line's box, is read on its own and kept if it reads as Chinese characters.
    """
    import numpy as np

    height = piece.bottom - piece.top
    if height < display:
        return piece
    size = height / _BOX_PAD
    top, bottom = int(piece.top), int(piece.bottom) + 1
    inked = ink[top:bottom].any(axis=0).copy()
    for other in pieces:
        if other is not piece and other.top < piece.bottom and piece.top < other.bottom:
            inked[int(other.chars[0][1]):int(max(x1 for _, _, x1 in other.chars)) + 1] = False
    chars = list(piece.chars)
    for side in (-1, 1):
        edge = int(chars[0][1]) if side < 0 else int(max(x1 for _, _, x1 in chars)) + 1
        if side < 0:
            window_start, window_stop = max(0, edge - int(_EDGE_REACH * size)), edge
        else:
            window_start, window_stop = edge, min(len(inked), edge + int(_EDGE_REACH * size))
        columns = np.flatnonzero(inked[window_start:window_stop]) + window_start
        if not len(columns):
            continue
        breaks = np.flatnonzero(np.diff(columns) > _GLYPH_BREAK * size)
        clusters = list(zip(np.concatenate(([columns[0]], columns[breaks + 1])),
                            np.concatenate((columns[breaks], [columns[-1]])), strict=True))
        # Print running on from the line's own end character is that character's.
        if side < 0 and clusters[-1][1] >= edge - 1:
            clusters.pop()
        elif side > 0 and clusters and clusters[0][0] <= edge:
            clusters.pop(0)
        if not clusters:
            continue
        start, stop = clusters[-1] if side < 0 else clusters[0]
        if stop - start + 1 < _EDGE_GLYPH * size:
            continue  # a mark or a speck, not a character
        missed = _read_gap(rgb, ink, top, bottom, int(start), int(stop) + 1)
        if missed and _headline_char(chars[0][0] if side < 0 else chars[-1][0]):
            chars = missed + chars if side < 0 else chars + missed
    if len(chars) == len(piece.chars):
        return piece
    return _Piece(chars, piece.top, piece.bottom)


def _read_gap(rgb: Any, ink: Any, top: int, bottom: int, x0: int, x1: int) -> list[_Char]:
    """The characters recognition finds between two pieces, placed on their ink."""
    import numpy as np

    inked = np.flatnonzero(ink[top:bottom, x0:x1].any(axis=0))
    if not len(inked):
        return []
    try:
        result, _ = _ocr()(rgb[top:bottom, x0:x1], use_det=False, use_cls=False, use_rec=True)
    except Exception:  # a crop recognition cannot read is a gap with nothing in it
        return []
    text, score = (str(result[0][0]), float(result[0][1])) if result else ("", 0.0)
    if not text or score < _MISSED_SCORE or not all(_headline_char(ch) for ch in text):
        return []
    start, stop = x0 + float(inked[0]), x0 + float(inked[-1]) + 1
    pitch = (stop - start) / len(text)
    return [(ch, start + k * pitch, start + (k + 1) * pitch) for k, ch in enumerate(text)]


def _ink_size(chars: list[_Char], top: float, bottom: float, ink: Any) -> float | None:
    """A line's type size from the height of its Chinese characters' print, or None when it
    has too few of them.

    A Chinese character's print fills nearly the whole em, whatever the line's padding,
    justification or marks; the upper quartile over the line passes over flat characters
    (一, 四).
    """
    import numpy as np

    strip = ink[int(top):int(bottom) + 1]
    heights: list[int] = []
    for word, x0, x1 in chars:
        if _ideograph(word):
            rows = np.flatnonzero(strip[:, int(x0):int(x1) + 1].any(axis=1))
            if len(rows):
                heights.append(int(rows[-1] - rows[0]) + 1)
    if len(heights) < _INK_MIN_CHARS:
        return None
    heights.sort()
    return heights[(3 * len(heights)) // 4] / _GLYPH_HEIGHT


def _type_size(text: str, width: float, height: float) -> float:
    """A line's type size: the smaller of its characters' pitch and its box height.

    The detector's box height swings by a third with the line's marks and its padding, so
    body lines would pass for headlines; the width a line's characters take is steadier
    (a Chinese character is one em, a Latin letter or digit about half of one) but grows
    on a justified line with a long Latin word. Short lines have only their height.
    """
    ems = sum(1.0 if char_width(ch) == 2 else 0.55 for ch in text if ch not in SPACES)
    if ems >= _MIN_PITCH_EMS:
        # Justification only widens the pitch, padding only the height: the smaller wins.
        return min(width / ems, height / _BOX_PAD)
    return height / _BOX_PAD


def read_scan(path: Path, data: bytes) -> PageLayout:
    """OCR a page scan; ``InputError`` for an unreadable image or missing OCR support."""
    if not ocr_available():
        raise InputError("this is a scanned page; install OCR support with "
                         "`pip install 'newsqa[ocr]'` to read scans", path=str(path))
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as opened:
            frames = getattr(opened, "n_frames", 1)
            if frames > 1:
                log.warning("%s: %d frames; only the first is read", path, frames)
            opened.load()
            image = opened.copy()
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"not a readable image ({exc})", path=str(path)) from exc
    return ocr_image(image, where=str(path))
