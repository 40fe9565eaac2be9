"""The parser on generated pages: fixed seeds, thresholds stated here.

The full benchmark (``python -m bench.page_parser --pages 40 --seed 1``) reports more;
this keeps a small, fast slice of it in the test suite so regressions fail CI.
"""

from __future__ import annotations

import json
import random

import pytest

from bench.page_parser import Score
from bench.pagegen import (
    SAMPLE_KEY,
    PageStyle,
    _headline_break,
    generate_page,
    generate_pages,
    load_cmrc,
    make_articles,
    sample_articles,
)
from retrieval.sources.page import parse_page

# Seeds 11 and 12 were never used to tune the parser (the benchmark is read on seeds 2-9,
# reported on held-out 20-24). The generator prints running heads, punctuated headlines,
# captions credited without "摄", Latin words and headlines broken at word boundaries; on
# these 16 pages (100 articles) the parser measured titles 0.990, authors 0.990, body
# 0.9966 (round 3). Thresholds sit a little below, so one unlucky page does not fail the
# suite and a broken rule (one lost story costs about 0.01-0.02 of each) does.
SEEDS = (11, 12)
PAGES_PER_SEED = 8
MIN_TITLE_ACCURACY = 0.96
MIN_AUTHOR_ACCURACY = 0.96
MIN_BODY_SIMILARITY = 0.985


@pytest.fixture(scope="module")
def score() -> Score:
    total = Score()
    for seed in SEEDS:
        for text, truth, _style in generate_pages(PAGES_PER_SEED, seed):
            total.add(truth, parse_page(text))
    return total


def test_generated_pages_titles_authors_and_bodies_are_recovered(score: Score) -> None:
    n = score.articles
    assert n >= 60
    assert score.titles_ok / n >= MIN_TITLE_ACCURACY
    assert score.authors_ok / n >= MIN_AUTHOR_ACCURACY
    assert sum(score.similarity) / n >= MIN_BODY_SIMILARITY


def test_generated_pages_leave_no_layout_spaces_in_bodies(score: Score) -> None:
    assert score.space_artifacts == 0


def test_generator_is_deterministic_by_seed() -> None:
    first = generate_pages(2, seed=5)
    again = generate_pages(2, seed=5)
    assert [p[0] for p in first] == [p[0] for p in again]
    assert first[0][0] != generate_pages(1, seed=6)[0][0]


@pytest.mark.parametrize("headline_first", [True, False])
def test_narrow_columns_without_paragraph_blanks_parse_in_either_headline_order(
    headline_first: bool,
) -> None:
    rng = random.Random(3)
    articles = [a for a in make_articles(rng, 6, cmrc=load_cmrc(80), sample=[])
                if a.kind == "article"]
    style = PageStyle(headline_first=headline_first, width=24, column_lines=9,
                      paragraph_blank=0.0, keep_indent=False, fullwidth_digits=True,
                      layout_spaces=0.5, letter_spacing=0.0)
    text, truth = generate_page(articles, rng, style=style)
    parsed = parse_page(text)
    assert [a.title for a in parsed] == [a.title for a in truth]
    # Without blank lines a paragraph that ends on a full line cannot be told from one
    # that runs on, so paragraph boundaries are not compared here; the words are.
    assert [a.text.replace("\n", "") for a in parsed] == [a.text.replace("\n", "") for a in truth]
    assert [a.authors for a in parsed] == [a.authors for a in truth]


def test_sample_articles_come_from_the_answer_key_not_from_the_parser() -> None:
    key = json.loads(SAMPLE_KEY.read_text(encoding="utf-8"))["articles"]
    articles = sample_articles()
    assert [a.title for a in articles] == [k["title"] for k in key]
    for article, entry in zip(articles, key, strict=True):
        assert article.text.startswith(entry["starts"]) and article.text.endswith(entry["ends"])
        assert article.authors == tuple(entry["byline"].split())
    assert "本报讯" not in articles[0].text  # the dateline stays outside the body


def test_a_long_headline_breaks_at_a_word_boundary_first_line_not_shorter() -> None:
    title = "开展金融支持民营小微企业和个体工商户发展三年提升行动"
    cut = _headline_break(title)
    assert title[:cut] == "开展金融支持民营小微企业和"  # not "…小微企" / "业和…"
    assert _headline_break("2007-08年全球粮食价格危机焕发新活力") == len("2007-08年全球粮食价格")
