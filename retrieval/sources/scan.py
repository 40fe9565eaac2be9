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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from .layout import SPACES, char_width
from .page_geometry import PageLayout, TextLine

if TYPE_CHECKING:
    from PIL.Image import Image

log = logging.getLogger(__name__)

# Detection reads the page at up to this many pixels on its long side: a scan's body type
# must stay about 20 pixels high to be recognised (the library's default, 2000, halves it).
_MAX_SIDE = 4000
# The detector pads a line's box; its height is this share more than the type size.
_BOX_PAD = 1.15
_MIN_PITCH_EMS = 3.0  # lines at least this long take their size from their pitch
_MIN_SCORE = 0.5  # recognitions below this confidence are dropped (the library's default)
# Between two recognised characters of one detected line, a gap this many line heights wide
# is a gutter between columns; one this much wider than the line's usual gap is a space.
_OCR_GUTTER = 0.8
_WORD_SPACE = 0.35
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
    lines: list[TextLine] = []
    for found in result or []:
        box, text = found[0], str(found[1])
        ys = [float(point[1]) for point in box]
        top, bottom = min(ys), max(ys)
        if len(found) >= 5 and len(found[3]) == len(found[4]) and found[4]:
            pieces = _split_at_gutters(found[3], [str(w) for w in found[4]], bottom - top)
        else:
            xs = [float(point[0]) for point in box]
            pieces = [(text, min(xs), max(xs))]
        for piece, x0, x1 in pieces:
            piece = _MISREAD_MARKER.sub("■ ", piece.strip(SPACES))
            if piece:
                lines.append(TextLine(piece, x0, top, x1, bottom,
                                      _type_size(piece, x1 - x0, bottom - top)))
    lines.sort(key=lambda line: (line.top, line.x0))
    return PageLayout(tuple(lines), (), float(image.width), float(image.height))


def _split_at_gutters(boxes: list[Any], words: list[str], height: float
                      ) -> list[tuple[str, float, float]]:
    """Cut a detected line where its characters leave a gutter, and mark word gaps.

    The detector may run the lines of two columns together; recognition places every
    character, so the gutter shows. Within a piece, a gap clearly wider than the piece's
    usual one is a space: between Latin words, or between a headline's two phrases.
    """
    groups: list[list[tuple[str, float, float]]] = []
    reach = 0.0
    for box, word in zip(boxes, words, strict=True):
        x0 = min(float(point[0]) for point in box)
        x1 = max(float(point[0]) for point in box)
        if not groups or x0 - reach > _OCR_GUTTER * height:
            groups.append([])
        groups[-1].append((word, x0, x1))
        reach = max(reach, x1)
    pieces: list[tuple[str, float, float]] = []
    for group in groups:
        gaps = sorted(b[1] - a[2] for a, b in itertools.pairwise(group))
        usual = gaps[len(gaps) // 2] if gaps else 0.0
        text = group[0][0]
        for (_, _, x1), (word, x0, _) in itertools.pairwise(group):
            if x0 - x1 > usual + _WORD_SPACE * height:
                text += " "
            text += word
        pieces.append((text, group[0][1], max(x1 for _, _, x1 in group)))
    return pieces


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
