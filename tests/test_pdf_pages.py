"""E-paper PDFs and scans in, articles out: as a user runs it (``newsqa`` in a subprocess) and
scored on generated pages from seeds the reader was never tuned on.

The sample page's eight articles are typeset into a two-page issue by bench/pdfgen.py
(reportlab, WenQuanYi Micro Hei embedded), so the truth is known and no shared data is
needed; the scored slice uses bench/pdfgen.py's CMRC-based pages like tests/test_pagegen.py.
OCR takes ~20 s a page on two cores: three scans are read here (two pages holding one story);
bench/pdf_pages.py --scan has more.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from bench.page_parser import Score
from bench.pagegen import sample_articles
from bench.pdfgen import PageSpec, PageTruth, generate_pdf_pages, typeset_page
from retrieval.errors import InputError
from retrieval.sources import scan
from retrieval.sources.loading import load_path
from tests.sample_values import ANSWER, ANSWER_HEADLINE, QUESTION
from tests.telegram.processes import newsqa

# Seeds 31 and 32 were never used to tune the reader (tuned on bench seeds 1-3). On these
# 6 pages (23 articles) the reader measured titles 1.000, authors 1.000, body 1.0000 (bench
# figures on 40 held-out pages in docs/page-format.md); thresholds leave room for one miss.
SEEDS = (31, 32)
PAGES_PER_SEED = 3
MIN_TITLES = 0.95
MIN_AUTHORS = 0.95
MIN_BODY = 0.99


@pytest.fixture(scope="module")
def issue(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[PageTruth]]:
    """The sample page's articles typeset as pages 1 and 2 of 聊城日报 of 2023-10-09."""
    folder = tmp_path_factory.mktemp("issue")
    articles = sample_articles()
    truths = []
    for number, part in ((1, articles[:4]), (2, articles[4:])):
        spec = PageSpec("聊城日报", "2023-10-09", number, columns=7, body=9.0)
        truths.append(typeset_page(part, spec, random.Random(number),
                                   folder / f"2023-10-09_{number:02d}.pdf"))
    return folder, truths


def test_parse_reads_each_pdf_page_with_titles_authors_and_page_numbers(
        issue: tuple[Path, list[PageTruth]]) -> None:
    folder, truths = issue
    result = newsqa("parse", str(folder), "--source", "聊城日报", "--json")
    got = json.loads(result.stdout)["articles"]
    want = [a for truth in truths for a in truth.articles]
    assert len(got) == len(want) and all(truth.articles for truth in truths)
    by_text = {a["paragraphs"][0][:20]: a for a in got}
    for expected in want:
        article = by_text[expected.paragraphs[0][:20]]
        assert article["title"] == expected.title
        assert tuple(article["authors"]) == expected.authors
        assert article["paragraphs"] == list(expected.paragraphs)
        assert article["date"] == "2023-10-09" and article["source"] == "聊城日报"
    pages = {a["page"] for a in got}
    assert pages == {"1", "2"}
    assert "read: " in result.stderr and "page 1/1" in result.stderr


def test_a_pdf_folder_ingests_and_questions_are_answered_citing_the_page(
        issue: tuple[Path, list[PageTruth]], tmp_path: Path, embedder: object) -> None:
    folder, truths = issue
    index = tmp_path / "index"
    ingest = newsqa("ingest", str(folder), "--index", str(index), "--source", "聊城日报")
    assert ingest.stdout.strip().endswith(")")
    added = int(ingest.stdout.rsplit(": ", 1)[1].split(" added")[0])
    assert added == sum(len(t.articles) for t in truths)
    pages = [line for line in ingest.stderr.splitlines() if line.startswith("read: ")]
    assert len(pages) == len(set(pages)) == len(truths), pages  # one line per page
    answer = json.loads(newsqa("ask", QUESTION, "--index", str(index), "--json").stdout)
    assert answer["found"] is True and ANSWER in answer["answer"]
    first = answer["citations"][0]
    assert first["title"] == ANSWER_HEADLINE
    page = next(t.page for t in truths if any(a.title == ANSWER_HEADLINE for a in t.articles))
    assert first["page"] == page
    cited = newsqa("ask", QUESTION, "--index", str(index)).stdout
    assert f"· 2023-10-09 · 聊城日报 {page}\n" in cited
    # Ingesting the same folder again loses nothing and changes nothing.
    again = newsqa("ingest", str(folder), "--index", str(index), "--source", "聊城日报", "-q")
    assert f" 0 added, 0 replaced, {added} unchanged" in again.stdout


def test_a_whole_issue_pdf_numbers_its_pages(issue: tuple[Path, list[PageTruth]],
                                             tmp_path: Path) -> None:
    import pypdfium2 as pdfium

    folder, truths = issue
    whole = pdfium.PdfDocument.new()
    for page in sorted(folder.glob("*.pdf")):
        part = pdfium.PdfDocument(str(page))
        whole.import_pages(part)
    whole.save(str(tmp_path / "issue.pdf"))
    [loaded] = load_path(tmp_path / "issue.pdf", source="聊城日报")
    assert loaded.format == "pdf"
    assert [a.page for a in loaded.articles] == [
        t.page for t in truths for _ in t.articles]
    assert [a.title for a in loaded.articles] == [a.title for t in truths for a in t.articles]


def test_date_and_page_come_from_the_running_head_of_a_neutrally_named_pdf(
        tmp_path: Path) -> None:
    # The fixtures name their files after the date and page; here only the head says them.
    spec = PageSpec("齐鲁晚报", "2023-02-16", 7, columns=6, body=9.0)
    truth = typeset_page(sample_articles()[:2], spec, random.Random(7), tmp_path / "page.pdf")
    [article, *_] = json.loads(newsqa("parse", str(tmp_path / "page.pdf"), "--json")
                               .stdout)["articles"]
    assert (article["date"], article["page"], article["source"]) == ("2023-02-16", "7",
                                                                      "齐鲁晚报")
    assert article["title"] == truth.articles[0].title


def test_a_broken_pdf_is_refused_by_name(tmp_path: Path) -> None:
    broken = tmp_path / "page.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj\n<<")
    with pytest.raises(InputError, match=f"^{broken}: not a readable PDF"):
        load_path(broken)
    result = newsqa("parse", str(broken), ok=False)
    assert result.returncode == 2 and str(broken) in result.stderr


def _image_only_pdf(pdf: Path, out: Path) -> Path:
    """The page as a scan saved to PDF: an image and no text layer."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf))
    image = document[0].render(scale=150 / 72, grayscale=True).to_pil()
    document.close()
    image.save(out, "PDF", resolution=150)
    return out


def test_a_scanned_pdf_page_is_read_by_ocr_or_refused_naming_the_page(
        issue: tuple[Path, list[PageTruth]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    folder, truths = issue
    scanned = _image_only_pdf(folder / "2023-10-09_02.pdf", tmp_path / "2023-10-09_02.pdf")
    [loaded] = load_path(scanned, source="聊城日报")
    score = Score()
    score.add(list(truths[1].articles), loaded.articles)
    assert score.articles == len(truths[1].articles)
    assert score.titles_ok / score.articles >= 0.75
    assert sum(score.similarity) / score.articles >= 0.95
    assert {a.page for a in loaded.articles} == {"2"}
    monkeypatch.setattr(scan, "ocr_available", lambda: False)
    with pytest.raises(InputError, match=(
            f"^{scanned}: page 1 has no text layer .*pip install 'newsqa\\[ocr\\]'")):
        load_path(scanned)


def test_parse_reads_a_page_scan_by_ocr(tmp_path: Path) -> None:
    # One short story on its page keeps the OCR to a few seconds.
    title = "市国土空间规划审查委员会召开2023年第六次会议"
    [story] = [a for a in sample_articles() if a.title == title]
    pdf = tmp_path / "page.pdf"
    typeset_page([story], PageSpec("聊城日报", "2023-10-09", 3, columns=6, body=9.0),
                 random.Random(3), pdf)
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf))
    scan_file = tmp_path / "scan.png"
    document[0].render(scale=150 / 72, grayscale=True).to_pil().save(scan_file)
    document.close()
    result = newsqa("parse", str(scan_file), "--json")
    [article] = json.loads(result.stdout)["articles"]
    assert article["title"] == title
    assert article["authors"] == list(story.authors)
    assert (article["source"], article["date"], article["page"]) == ("聊城日报", "2023-10-09", "3")
    assert "".join(article["paragraphs"]) == "".join(story.paragraphs)
    assert f"read: {scan_file}: page 1/1" in result.stderr


def test_a_scanned_headline_keeps_its_phrase_gap_and_the_reporters_stay_apart(
        tmp_path: Path) -> None:
    # OCR reads "链上发力 攀高向强" without its gap (or as two boxes, the gap taken for a
    # gutter), and a dateline's "王培源 李子涛" as one name; the reader measures the page.
    [story] = [a for a in sample_articles() if a.title == "链上发力 攀高向强"]
    pdf = tmp_path / "page.pdf"
    typeset_page([story], PageSpec("聊城日报", "2023-10-09", 2, columns=6, body=9.0),
                 random.Random(4), pdf)
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(pdf))
    scan_file = tmp_path / "scan.png"
    document[0].render(scale=150 / 72, grayscale=True).to_pil().save(scan_file)
    document.close()
    [article] = json.loads(newsqa("parse", str(scan_file), "--json").stdout)["articles"]
    assert (article["title"], article["subtitle"]) == (story.title, story.subtitle)
    assert article["authors"] == list(story.authors)


@pytest.fixture(scope="module")
def score(tmp_path_factory: pytest.TempPathFactory) -> Score:
    total = Score()
    for seed in SEEDS:
        folder = tmp_path_factory.mktemp(f"seed{seed}")
        for path, truth in generate_pdf_pages(PAGES_PER_SEED, seed, folder):
            [loaded] = load_path(path, source=truth.paper)
            total.add(list(truth.articles), loaded.articles)
    return total


def test_generated_pdf_pages_titles_authors_and_bodies_are_recovered(score: Score) -> None:
    n = score.articles
    assert n >= 20
    assert score.titles_ok / n >= MIN_TITLES
    assert score.authors_ok / n >= MIN_AUTHORS
    assert sum(score.similarity) / n >= MIN_BODY
    assert score.pages_count_ok >= score.pages - 1
