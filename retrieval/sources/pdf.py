"""Read e-paper PDFs (one page or a whole issue) into page layouts: lines with boxes and sizes.

pdfplumber (pdfminer.six, MIT) gives every character with its box and type size; characters
on one baseline and of one size are joined into lines, and a gap wider than a character
splits a line (a column gutter). A page without a text layer (a scan saved as PDF) is
rendered with pypdfium2 and read by OCR (``scan``); ``page_geometry`` rebuilds the articles.
"""

from __future__ import annotations

import io
import itertools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..sanitize import clean_line
from .layout import SPACES
from .page_geometry import Box, PageLayout, TextLine

log = logging.getLogger(__name__)

# A gap wider than this share of the type size between two characters on a line is a
# gutter between columns (justification spreads characters far less).
_GUTTER = 1.0
_SPACED_GUTTER = 3.0  # the same across a space character (letter-spaced headlines)
_SPACE_GAP = 0.25  # between two Latin letters/digits, a gap this wide is a word space
_MIN_PICTURE = 20.0  # rectangles or images at least this big (points) each way are pictures
_MIN_RULE = 0.1  # a line this share of the page long (wide or tall) is a rule between blocks
_RULE_THICKNESS = 3.0  # points; a rectangle no thicker than this is drawn as a rule
# Fewer characters than this on a page means no text layer: a scanned page.
_MIN_TEXT_CHARS = 10
_SCAN_DPI = 150  # OCR reads a rendered page at this resolution (9pt type: 19 pixels)


@dataclass(frozen=True, slots=True)
class PdfPage:
    """One page of a PDF: its number in the file (1-based) and what was read from it."""

    number: int
    layout: PageLayout
    ocr: bool  # read by OCR (no text layer)


def read_pdf(path: Path, data: bytes, *, progress: Callable[[int, int], None] | None = None
             ) -> Iterator[PdfPage]:
    """Yield each page's layout (``data`` is the file's content); pages without text: OCR.

    Raises ``InputError`` naming the file (and page) for a file that is not a readable PDF,
    an encrypted one, or a scanned page when OCR is not installed.
    """
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfplumber.utils.exceptions import PdfminerException

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except (PdfminerException, PDFSyntaxError, PDFPasswordIncorrect,
            PDFEncryptionError) as exc:
        cause = exc.args[0] if isinstance(exc, PdfminerException) and exc.args else exc
        raise InputError(f"not a readable PDF ({cause}); is the file complete and without a "
                         "password?", path=str(path)) from exc
    with pdf:
        total = len(pdf.pages)
        if total == 0:
            raise InputError("the PDF has no pages", path=str(path))
        for index, page in enumerate(pdf.pages, start=1):
            try:
                chars = page.chars
            except Exception as exc:  # pdfminer raises many kinds on broken content streams
                raise InputError(f"page {index}: its content cannot be read "
                                 f"({type(exc).__name__}: {str(exc)[:120]})",
                                 path=str(path)) from exc
            width, height = float(page.width), float(page.height)
            visible = [c for c in chars if c["text"].strip(SPACES)]
            if len(visible) < _MIN_TEXT_CHARS:
                yield PdfPage(index, _ocr_page(path, data, index, width, height), ocr=True)
            else:
                lines = chars_to_lines(chars)
                pictures = _pictures(page)
                yield PdfPage(index, PageLayout(tuple(lines), tuple(pictures), width, height,
                                                tuple(_rules(page))), ocr=False)
            if progress is not None:
                progress(index, total)


def _pictures(page: Any) -> list[Box]:
    boxes = []
    for obj in [*page.rects, *page.images]:
        x0, top, x1, bottom = (float(obj[k]) for k in ("x0", "top", "x1", "bottom"))
        if x1 - x0 >= _MIN_PICTURE and bottom - top >= _MIN_PICTURE:
            boxes.append(Box(x0, top, x1, bottom))
    return boxes


def _rules(page: Any) -> list[Box]:
    """Printed rules: lines, and rectangles thin enough to be drawn as lines, at least a
    tenth of the page long (shorter ones underline or decorate, they do not part blocks)."""
    rules = []
    for obj in [*page.lines, *page.rects]:
        x0, top, x1, bottom = (float(obj[k]) for k in ("x0", "top", "x1", "bottom"))
        long = max(x1 - x0 >= _MIN_RULE * float(page.width),
                   bottom - top >= _MIN_RULE * float(page.height))
        if long and min(x1 - x0, bottom - top) <= _RULE_THICKNESS:
            rules.append(Box(x0, top, x1, bottom))
    return rules


def chars_to_lines(chars: list[dict[str, Any]]) -> list[TextLine]:
    """Join characters sharing a baseline and a size into lines, split at gutters."""
    rows: dict[tuple[float, float], list[dict[str, Any]]] = {}
    for ch in chars:
        if not ch.get("upright", True):
            continue  # vertical text (a rotated label) is not part of the columns
        key = (round(float(ch["bottom"])), round(float(ch["size"]) * 2) / 2)
        rows.setdefault(key, []).append(ch)
    lines: list[TextLine] = []
    for (_, size), row in rows.items():
        row.sort(key=lambda c: float(c["x0"]))
        current: list[dict[str, Any]] = []
        reach = 0.0
        spaced = False  # a space character drawn since the last visible one
        for ch in row:
            blank = not ch["text"].strip(SPACES)
            gap = float(ch["x0"]) - reach
            # A space character says the gap is a word or phrase gap, not a gutter.
            limit = (_SPACED_GUTTER if spaced else _GUTTER) * size
            if current and gap > limit and not blank:
                lines.append(_line(current, size))
                current = []
            if blank and not current:
                continue
            current.append(ch)
            spaced = blank
            if not blank:
                reach = float(ch["x1"])
        if current:
            lines.append(_line(current, size))
    lines = [line for line in lines if line.text]
    lines.sort(key=lambda line: (line.top, line.x0))
    return lines


def _line(chars: list[dict[str, Any]], size: float) -> TextLine:
    while chars and not chars[-1]["text"].strip(SPACES):
        chars = chars[:-1]
    text = ""
    previous: dict[str, Any] | None = None
    # The line's usual gap between characters: justification and letter-spacing widen it.
    gaps = sorted(float(b["x0"]) - float(a["x1"]) for a, b in itertools.pairwise(chars))
    usual = gaps[len(gaps) // 2] if gaps else 0.0
    for ch in chars:
        t = ch["text"]
        if previous is not None and t.isascii() and t.isalnum():
            before = text[-1:]
            gap = float(ch["x0"]) - float(previous["x1"])
            if before.isascii() and before.isalnum() and gap > usual + _SPACE_GAP * size:
                text += " "  # PDFs often draw no space character between words
        text += t
        previous = ch
    return TextLine(
        text=clean_line(text),  # a glyph the font lacks comes out as a control character
        x0=min(float(c["x0"]) for c in chars),
        top=min(float(c["top"]) for c in chars),
        x1=max(float(c["x1"]) for c in chars),
        bottom=max(float(c["bottom"]) for c in chars),
        size=size,
    )


def _ocr_page(path: Path, data: bytes, number: int, width: float, height: float
              ) -> PageLayout:
    """Render a page that has no text layer and read it by OCR, in PDF points."""
    from .scan import ocr_available, ocr_image

    if not ocr_available():
        raise InputError(
            f"page {number} has no text layer (a scanned page); install OCR support with "
            "`pip install 'newsqa[ocr]'` to read scans",
            path=str(path),
        )
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        image = document[number - 1].render(scale=_SCAN_DPI / 72).to_pil()
    finally:
        document.close()
    layout = ocr_image(image, where=f"{path}: page {number}")
    scale = 72 / _SCAN_DPI
    return PageLayout(
        tuple(TextLine(line.text, line.x0 * scale, line.top * scale, line.x1 * scale,
                       line.bottom * scale, line.size * scale) for line in layout.lines),
        tuple(Box(b.x0 * scale, b.top * scale, b.x1 * scale, b.bottom * scale)
              for b in layout.pictures),
        width, height,
        tuple(Box(b.x0 * scale, b.top * scale, b.x1 * scale, b.bottom * scale)
              for b in layout.rules))
