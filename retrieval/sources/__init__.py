"""Stage 1, sources: files and folders → ``Article`` records.

``loading`` picks a reader per file (page text, one-article text, JSONL, HTML) after
``encoding`` has decoded it; page text goes through ``page`` (stories), ``page_lines`` (line
classes, headlines), ``layout`` (joining lines) and ``bylines`` (bylines and datelines).
PDF pages (``pdf``) and scans (``scan``, OCR) are read as lines with boxes and sizes and
rebuilt by ``page_geometry``.
"""

from .loading import FORMATS, SourceFile, load_articles, load_path, parse_date, split_byline
from .page import looks_like_page, parse_page

__all__ = [
    "FORMATS",
    "SourceFile",
    "load_articles",
    "load_path",
    "looks_like_page",
    "parse_date",
    "parse_page",
    "split_byline",
]
