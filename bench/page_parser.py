"""Score retrieval.sources.page.parse_page on generated pages.

    python -m bench.page_parser --pages 40 --seed 1
    python -m bench.page_parser --pages 40 --seeds 2-6   # one row per seed, then all seeds

Prints article-count accuracy, title/author/subtitle/kicker accuracy, mean body
similarity (difflib ratio of the article text), layout-artifact counts, and the same
per headline order and column width. Articles are matched to the truth in page order
by best body similarity, so one missed split costs one article, not the rest of the page.
"""

from __future__ import annotations

import argparse
import difflib
import re
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from retrieval.articles import Article
from retrieval.sources.layout import ends_sentence
from retrieval.sources.page import parse_page

from .pagegen import PageStyle, generate_pages

_CJK_SPACE_CJK = re.compile(r"[\u4e00-\u9fff“”，。、][ \t\u3000]+[\u4e00-\u9fff“”，。、]")


@dataclass
class Score:
    pages: int = 0
    pages_count_ok: int = 0
    articles: int = 0
    titles_ok: int = 0
    authors_ok: int = 0
    subtitles_ok: int = 0
    kickers_ok: int = 0
    kinds_ok: int = 0
    similarity: list[float] = field(default_factory=list)
    space_artifacts: int = 0
    newline_artifacts: int = 0

    def add(self, truth: Sequence[Article], parsed: Sequence[Article]) -> None:
        self.pages += 1
        self.pages_count_ok += len(truth) == len(parsed)
        for expected, got in _match(truth, parsed):
            self.articles += 1
            if got is None:
                self.similarity.append(0.0)
                continue
            self.titles_ok += got.title == expected.title
            self.authors_ok += got.authors == expected.authors
            self.subtitles_ok += got.subtitle == expected.subtitle
            self.kickers_ok += got.kicker == expected.kicker
            self.kinds_ok += got.kind == expected.kind
            self.similarity.append(difflib.SequenceMatcher(None, expected.text, got.text,
                                                           autojunk=False).ratio())
        for article in parsed:
            self.space_artifacts += len(_CJK_SPACE_CJK.findall(article.text))
            self.newline_artifacts += sum(not ends_sentence(p) for p in article.paragraphs)

    def rows(self) -> list[tuple[str, str]]:
        n = max(self.articles, 1)
        return [
            ("pages", f"{self.pages}"),
            ("article count exact (pages)", f"{self.pages_count_ok / max(self.pages, 1):.3f}"),
            ("articles (truth)", f"{self.articles}"),
            ("title accuracy", f"{self.titles_ok / n:.3f}"),
            ("author accuracy", f"{self.authors_ok / n:.3f}"),
            ("subtitle accuracy", f"{self.subtitles_ok / n:.3f}"),
            ("kicker accuracy", f"{self.kickers_ok / n:.3f}"),
            ("kind accuracy", f"{self.kinds_ok / n:.3f}"),
            ("mean body similarity", f"{sum(self.similarity) / n:.4f}"),
            ("CJK-space-CJK artifacts", f"{self.space_artifacts}"),
            ("paragraphs ending mid-sentence", f"{self.newline_artifacts}"),
        ]


def _similarity(a: Article, b: Article) -> float:
    return difflib.SequenceMatcher(None, a.text, b.text, autojunk=False).ratio()


def _match(truth: Sequence[Article], parsed: Sequence[Article]
           ) -> list[tuple[Article, Article | None]]:
    """Pair each true article with the parsed one whose body overlaps it most."""
    pairs: list[tuple[Article, Article | None]] = []
    used: set[int] = set()
    for expected in truth:
        best, best_score = None, 0.3
        for index, got in enumerate(parsed):
            if index in used:
                continue
            quick = difflib.SequenceMatcher(None, expected.text, got.text, autojunk=False)
            if quick.real_quick_ratio() < best_score:
                continue
            score = quick.ratio()
            if score > best_score:
                best, best_score = index, score
        if best is not None:
            used.add(best)
        pairs.append((expected, parsed[best] if best is not None else None))
    return pairs


def _width_band(style: PageStyle) -> str:
    chars = style.width // 2
    return "width 12-17" if chars < 18 else "width 18-23" if chars < 24 else "width 24-30"


def parse_seeds(spec: str) -> list[int]:
    """``"2-6"`` → [2, 3, 4, 5, 6]; ``"2,4,7-8"`` → [2, 4, 7, 8]."""
    seeds: list[int] = []
    for part in spec.split(","):
        low, _, high = part.strip().partition("-")
        seeds.extend(range(int(low), int(high or low) + 1))
    return seeds


_SEED_COLUMNS = ("seed", "pages", "articles", "count ok", "titles", "authors", "subtitle",
                 "kicker", "kind", "body sim", "artifacts")


def _seed_row(label: str, s: Score) -> str:
    n = max(s.articles, 1)
    cells = (label, f"{s.pages}", f"{s.articles}", f"{s.pages_count_ok / max(s.pages, 1):.3f}",
             f"{s.titles_ok / n:.3f}", f"{s.authors_ok / n:.3f}", f"{s.subtitles_ok / n:.3f}",
             f"{s.kickers_ok / n:.3f}", f"{s.kinds_ok / n:.3f}", f"{sum(s.similarity) / n:.4f}",
             f"{s.space_artifacts + s.newline_artifacts}")
    return "  " + " | ".join(f"{c:>{len(h)}}" for c, h in zip(cells, _SEED_COLUMNS, strict=True))


def pdf_text_pages(count: int, seed: int) -> Iterator[tuple[str, list[Article], str]]:
    """Pages laid out independently of pagegen: bench/pdfgen.py's PDFs, their text layer
    written out column piece by column piece (a blank line between pieces, as a text
    extraction that follows the columns gives it), with the PDF's truth."""
    from pathlib import Path
    from tempfile import TemporaryDirectory

    from bench.pdfgen import generate_pdf_pages
    from retrieval.sources.page_geometry import body_size, reading_order, split_furniture
    from retrieval.sources.pdf import read_pdf

    with TemporaryDirectory(prefix="newsqa-pagebench-") as folder:
        for path, truth in generate_pdf_pages(count, seed, Path(folder)):
            for page in read_pdf(path, path.read_bytes()):
                layout = page.layout
                kept, _facts = split_furniture(layout)
                # The running head and foot come out as a line each, as a text extraction
                # gives a row across the page.
                band = sorted(set(layout.lines) - set(kept), key=lambda line: (line.top, line.x0))
                head = [line for line in band if line.top < layout.height / 2]
                foot = [line for line in band if line.top >= layout.height / 2]
                leaves = reading_order(kept, layout.pictures, body_size(kept))
                pieces = ["\n".join(line.text for line in leaf) for leaf in leaves]
                if head:
                    pieces.insert(0, "  ".join(line.text for line in head))
                if foot:
                    pieces.append("  ".join(line.text for line in foot))
                yield "\n\n".join(pieces), list(truth.articles), f"pdfgen {path.name}"


def _pages(count: int, seed: int, from_pdf: bool
           ) -> Iterator[tuple[str, list[Article], PageStyle | str]]:
    if from_pdf:
        yield from pdf_text_pages(count, seed)
    else:
        yield from generate_pages(count, seed)


def seed_table(seeds: Sequence[int], pages: int, *, from_pdf: bool = False) -> None:
    """One row per seed and a row for all of them: held-out seeds show over-tuning."""
    source = "bench/pdfgen.py pages' text" if from_pdf else "generated pages"
    print(f"parse_page on {pages} {source} per seed")
    print("  " + " | ".join(_SEED_COLUMNS))
    total = Score()
    for seed in seeds:
        score = Score()
        for text, truth, _style in _pages(pages, seed, from_pdf):
            parsed = parse_page(text)
            score.add(truth, parsed)
            total.add(truth, parsed)
        print(_seed_row(str(seed), score), flush=True)
    print(_seed_row("all", total))


def _page_ok(truth: Sequence[Article], parsed: Sequence[Article]) -> bool:
    if len(truth) != len(parsed):
        return False
    return all(got is not None and got.title == expected.title
               and got.authors == expected.authors and got.kicker == expected.kicker
               and got.subtitle == expected.subtitle and got.text == expected.text
               for expected, got in _match(truth, parsed))


def _first_divergence(text: str, truth: Sequence[Article], parsed: Sequence[Article]) -> int:
    """The page line where the first wrongly read article's trouble starts (0-based)."""
    lines = text.split("\n")
    for expected, got in _match(truth, parsed):
        if got is not None and got.title == expected.title and got.text == expected.text:
            continue
        # Locate the truth article's title, else its first words, on the page.
        needles = [n for n in (expected.title, expected.text[:8]) if n]
        for needle in needles:
            for number, line in enumerate(lines):
                if needle[:6] and needle[:6] in line.replace(" ", ""):
                    return number
    return 0


def _text_diff(want: str, got: str) -> str:
    """The first differing stretch of two bodies, with a little context."""
    matcher = difflib.SequenceMatcher(None, want, got, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "equal":
            return (f"{op} at {i1}: want {want[max(0, i1 - 10):i2 + 10]!r} "
                    f"got {got[max(0, j1 - 10):j2 + 10]!r}")
    return "equal"


def show_failures(seeds: Sequence[int], pages: int, limit: int, *,
                  from_pdf: bool = False) -> None:
    """Per failing page: the truth's titles against the parsed ones, and the page text
    around the first divergence, to categorise what the parser reads wrongly."""
    shown = 0
    for seed in seeds:
        for number, (text, truth, style) in enumerate(_pages(pages, seed, from_pdf)):
            parsed = parse_page(text)
            if _page_ok(truth, parsed):
                continue
            shown += 1
            print(f"=== seed {seed} page {number}: {len(truth)} true, {len(parsed)} parsed")
            print(f"    {style}")
            for expected, got in _match(truth, parsed):
                mark = "  " if got is not None and got.title == expected.title and \
                    got.authors == expected.authors and got.text == expected.text else "!!"
                print(f"  {mark} want {expected.kicker!r}/{expected.title!r}/"
                      f"{expected.subtitle!r} {expected.authors} {expected.kind}")
                if mark == "!!" and got is not None and got.text != expected.text:
                    print(f"     text: {_text_diff(expected.text, got.text)}")
                if mark == "!!":
                    print(f"     got  {got.kicker if got else None!r}/"
                          f"{got.title if got else None!r}/{got.subtitle if got else None!r} "
                          f"{got.authors if got else None} {got.kind if got else None}")
            extra = [a.title for a in parsed if a not in {g for _, g in _match(truth, parsed)}]
            if extra:
                print(f"  unmatched parsed: {extra}")
            lines = text.split("\n")
            at = _first_divergence(text, truth, parsed)
            for k in range(max(0, at - 8), min(len(lines), at + 10)):
                print(f"  {k + 1:4d}{'>' if k == at else ' '}|{lines[k]}")
            if shown >= limit:
                return


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=40, help="number of generated pages")
    parser.add_argument("--seed", type=int, default=1, help="random seed for the generator")
    parser.add_argument("--seeds", default=None,
                        help="several seeds, e.g. 2-6 or 2,4,7-9: print one row per seed")
    parser.add_argument("--show-failures", type=int, default=0,
                        help="print up to N mismatched titles with their page style")
    parser.add_argument("--from-pdf", action="store_true",
                        help="with --seeds: read the text of bench/pdfgen.py's PDF pages, "
                             "laid out independently of the text generator")
    args = parser.parse_args(argv)
    if args.from_pdf and not args.seeds:
        parser.error("--from-pdf needs --seeds")
    if args.seeds and args.show_failures:
        show_failures(parse_seeds(args.seeds), args.pages, args.show_failures,
                      from_pdf=args.from_pdf)
        return
    if args.seeds:
        seed_table(parse_seeds(args.seeds), args.pages, from_pdf=args.from_pdf)
        return

    pages = generate_pages(args.pages, args.seed)
    total = Score()
    groups: dict[str, Score] = defaultdict(Score)
    failures: list[str] = []
    started = time.perf_counter()
    for text, truth, style in pages:
        parsed = parse_page(text)
        total.add(truth, parsed)
        groups["headline before body" if style.headline_first else "headline after body"].add(
            truth, parsed)
        groups[_width_band(style)].add(truth, parsed)
        groups["no blank between paragraphs" if style.paragraph_blank == 0
               else "blank between paragraphs"].add(truth, parsed)
        for expected, got in _match(truth, parsed):
            if got is None or got.title != expected.title or got.authors != expected.authors:
                failures.append(f"{style}\n  want {expected.title!r} {expected.authors}"
                                f"\n  got  {got.title if got else None!r} "
                                f"{got.authors if got else None}")
    elapsed = time.perf_counter() - started

    print(f"parse_page on {args.pages} generated pages (seed {args.seed}), "
          f"{elapsed / max(args.pages, 1) * 1000:.1f} ms/page incl. scoring")
    for label, value in total.rows():
        print(f"  {label:32s} {value}")
    print()
    header = ["group", "pages", "articles", "titles", "authors", "body sim", "count ok"]
    print("  " + " | ".join(header))
    for name in sorted(groups):
        s = groups[name]
        n = max(s.articles, 1)
        print(f"  {name:28s} | {s.pages:5d} | {s.articles:8d} | {s.titles_ok / n:.3f} | "
              f"{s.authors_ok / n:.3f} | {sum(s.similarity) / n:.4f} | "
              f"{s.pages_count_ok / max(s.pages, 1):.3f}")
    for failure in failures[: args.show_failures]:
        print(failure)


if __name__ == "__main__":
    main()
