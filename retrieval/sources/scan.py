"""Read scanned pages (.png/.jpg/.tif, or PDF pages without a text layer) by OCR.

RapidOCR (rapidocr-onnxruntime 1.4.x, Apache-2.0) ships the PP-OCRv4 detection and
recognition models inside its wheel, so nothing is downloaded at run time; it is the
optional ``ocr`` extra (``pip install 'newsqa[ocr]'``). Each detected text line becomes a
``TextLine`` whose type size is its box height, and ``page_geometry`` rebuilds the
articles exactly as for a PDF's text layer.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from .layout import SPACES
from .page_geometry import PageLayout, TextLine

if TYPE_CHECKING:
    from PIL.Image import Image

log = logging.getLogger(__name__)

# Detection reads the page at up to this many pixels on its long side: a scan's body type
# must stay about 20 pixels high to be recognised (the library's default, 2000, halves it).
_MAX_SIDE = 4000
# The detector pads a line's box; its height is this share more than the type size.
_BOX_PAD = 1.0
_MIN_SCORE = 0.5  # recognitions below this confidence are dropped (the library's default)

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
        result, _ = _ocr()(rgb, use_cls=False, text_score=_MIN_SCORE)
    except Exception as exc:  # onnxruntime and OpenCV raise their own kinds
        raise InputError(f"OCR failed ({type(exc).__name__}: {str(exc)[:120]})",
                         path=where) from exc
    lines: list[TextLine] = []
    for box, text, _score in result or []:
        text = str(text).strip(SPACES)
        if not text:
            continue
        xs = [float(point[0]) for point in box]
        ys = [float(point[1]) for point in box]
        top, bottom = min(ys), max(ys)
        lines.append(TextLine(text, min(xs), top, max(xs), bottom, (bottom - top) / _BOX_PAD))
    lines.sort(key=lambda line: (line.top, line.x0))
    return PageLayout(tuple(lines), (), float(image.width), float(image.height))


def read_scan(path: Path) -> PageLayout:
    """OCR a page scan; ``InputError`` for an unreadable image or missing OCR support."""
    if not ocr_available():
        raise InputError("this is a scanned page; install OCR support with "
                         "`pip install 'newsqa[ocr]'` to read scans", path=str(path))
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            frames = getattr(opened, "n_frames", 1)
            if frames > 1:
                log.warning("%s: %d frames; only the first is read", path, frames)
            opened.load()
            image = opened.copy()
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"not a readable image ({exc})", path=str(path)) from exc
    return ocr_image(image, where=str(path))
