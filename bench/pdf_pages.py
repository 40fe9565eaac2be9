"""Score the PDF and scan readers on generated e-paper pages (bench/pdfgen.py).

    python -m bench.pdf_pages --seeds 101-105 --pages 4          # born-digital PDFs
    python -m bench.pdf_pages --seeds 201 --pages 2 --scan       # rendered to PNG, via OCR
    python -m bench.pdf_pages --seeds 201 --pages 2 --scan --dpi 300   # scanned finer
    python -m bench.pdf_pages --seeds 801-805 --pages 4 --jumps  # issues with continued stories

Prints article-count exactness per page, title/author/kicker/subtitle accuracy and mean body
similarity (bench/page_parser.py's Score: articles matched to the truth by body overlap),
and for scans the OCR seconds per page. Pages are written to a temporary folder. With
``--jumps`` each seed is one issue whose stories jump to later pages (``generate_pdf_issue``),
read page by page and joined as ``newsqa ingest`` joins a folder; it is scored as one unit
against the issue's truth, and the continued stories that came back whole (one article, both
pages, body similarity ≥ 0.99) are counted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.page_parser import Score, _match, parse_seeds
from bench.pdfgen import generate_pdf_issue, generate_pdf_pages
from retrieval.articles import Article
from retrieval.sources.loading import join_files, load_path

_SCAN_DPI = 150


def _render(pdf: Path, dpi: int = _SCAN_DPI) -> Path:
    """The page as a greyscale PNG, as a scanner would give it."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf))
    try:
        image = document[0].render(scale=dpi / 72, grayscale=True).to_pil()
    finally:
        document.close()
    out = pdf.with_suffix(".png")
    image.save(out)
    return out


def _unspaced(title: str | None) -> str | None:
    return title.replace(" ", "") if title is not None else None


def score_seed(seed: int, pages: int, *, scan: bool, verbose: bool = False,
               dpi: int = _SCAN_DPI) -> tuple[Score, list[float], int]:
    """The seed's score, seconds per page, and titles right once spaces are ignored.

    OCR loses a headline's phrase gap ("链上发力 攀高向强"); the last figure tells that
    loss from headlines that are wrong in their words.
    """
    score = Score()
    unspaced_ok = 0
    seconds: list[float] = []
    with tempfile.TemporaryDirectory(prefix="newsqa-pdfbench-") as folder:
        for path, truth in generate_pdf_pages(pages, seed, Path(folder)):
            target = _render(path, dpi) if scan else path
            start = time.perf_counter()
            loaded = load_path(target, source=truth.paper)
            seconds.append(time.perf_counter() - start)
            parsed: list[Article] = [a for f in loaded for a in f.articles]
            score.add(list(truth.articles), parsed)
            unspaced_ok += sum(got is not None and _unspaced(got.title) == _unspaced(want.title)
                               for want, got in _match(list(truth.articles), parsed))
            if verbose:
                _show(path.name, list(truth.articles), parsed)
    return score, seconds, unspaced_ok


def score_issue(seed: int, pages: int, *, verbose: bool = False
                ) -> tuple[Score, list[float], int, tuple[int, int]]:
    """``score_seed`` for one issue with jumps; the last figure is (continued stories read
    back whole, continued stories printed whole)."""
    score = Score()
    unspaced_ok = 0
    seconds: list[float] = []
    with tempfile.TemporaryDirectory(prefix="newsqa-pdfbench-") as folder:
        printed, truth = generate_pdf_issue(pages, seed, Path(folder))
        start = time.perf_counter()
        files = join_files([f for path, _ in printed for f in load_path(path)])
        seconds += [(time.perf_counter() - start) / len(printed)] * len(printed)
        parsed: list[Article] = [a for f in files for a in f.articles]
        score.add(truth, parsed)
        pairs = _match(truth, parsed)
        unspaced_ok += sum(got is not None and _unspaced(got.title) == _unspaced(want.title)
                           for want, got in pairs)
        continued = [(want, got) for want, got in pairs if "、" in (want.page or "")]
        whole = sum(got is not None and got.page == want.page and _similar(want, got)
                    for want, got in continued)
        if verbose:
            _show(f"issue {seed}", truth, parsed)
    return score, seconds, unspaced_ok, (whole, len(continued))


def _similar(want: Article, got: Article) -> bool:
    import difflib

    return difflib.SequenceMatcher(None, want.text, got.text, autojunk=False).ratio() >= 0.99


def _show(name: str, truth: list[Article], parsed: list[Article]) -> None:
    print(f"== {name}: truth {len(truth)}, parsed {len(parsed)}")
    for a in truth:
        print(f"  T {a.kind:7} {a.kicker!r:.30} | {a.title!r} | {a.subtitle!r:.30} {a.authors} "
              f"{a.text[:30]!r}")
    for a in parsed:
        print(f"  P {a.kind:7} {a.kicker!r:.30} | {a.title!r} | {a.subtitle!r:.30} {a.authors} "
              f"{a.text[:30]!r}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="101-105")
    parser.add_argument("--pages", type=int, default=4, help="pages per seed")
    parser.add_argument("--scan", action="store_true", help="render to PNG and read by OCR")
    parser.add_argument("--dpi", type=int, default=_SCAN_DPI,
                        help=f"resolution scans are rendered at (default {_SCAN_DPI})")
    parser.add_argument("--jumps", action="store_true",
                        help="one issue per seed with stories continued on later pages")
    parser.add_argument("--verbose", action="store_true", help="print truth and parsed titles")
    args = parser.parse_args(argv)
    if args.jumps and args.scan:
        parser.error("--jumps reads born-digital PDFs; leave out --scan")
    total = Score()
    seconds: list[float] = []
    unspaced = 0
    whole = continued = 0
    for seed in parse_seeds(args.seeds):
        if args.jumps:
            score, took, unspaced_ok, (got_whole, printed) = score_issue(
                seed, args.pages, verbose=args.verbose)
            whole += got_whole
            continued += printed
        else:
            score, took, unspaced_ok = score_seed(seed, args.pages, scan=args.scan,
                                                  verbose=args.verbose, dpi=args.dpi)
        seconds += took
        unspaced += unspaced_ok
        for name in ("pages", "pages_count_ok", "articles", "titles_ok", "authors_ok",
                     "subtitles_ok", "kickers_ok", "kinds_ok", "space_artifacts",
                     "newline_artifacts"):
            setattr(total, name, getattr(total, name) + getattr(score, name))
        total.similarity += score.similarity
        n = max(score.articles, 1)
        print(f"seed {seed}: pages {score.pages} count-exact {score.pages_count_ok}/"
              f"{score.pages} titles {score.titles_ok / n:.3f} authors {score.authors_ok / n:.3f}"
              f" body {sum(score.similarity) / n:.4f}")
    kind = f"scans (OCR, {args.dpi} dpi)" if args.scan else "born-digital PDFs"
    if args.jumps:
        kind = "issues with jumps (each scored as one unit)"
    print(f"\n{kind}, seeds {args.seeds}, {args.pages} pages each")
    if args.jumps:
        print(f"  {'continued stories read whole':32} {whole}/{continued}")
    for label, value in total.rows():
        print(f"  {label:32} {value}")
    print(f"  {'title accuracy, spaces ignored':32} {unspaced / max(total.articles, 1):.3f}")
    if seconds:
        print(f"  {'seconds per page (read+parse)':32} {sum(seconds) / len(seconds):.2f}")


if __name__ == "__main__":
    main()
