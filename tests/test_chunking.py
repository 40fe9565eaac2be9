"""Sentence splitting and chunk packing: spans are verbatim, whole-sentence and well sized."""

from __future__ import annotations

import itertools
import random

import pytest

from retrieval.articles import Article, ChunkingConfig
from retrieval.chunks import DEFAULT_CHUNKING, chunk_article, split_sentences
from tests.sample_values import SAMPLE_PAGE


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def article(*paragraphs: str, kind: str = "article", title: str | None = "标题") -> Article:
    return Article(id="a1", title=title, paragraphs=tuple(paragraphs), kind=kind)


def assert_invariants(art: Article, config: ChunkingConfig = DEFAULT_CHUNKING) -> None:
    chunks = chunk_article(art, config)
    text = art.text
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    covered = [False] * len(text)
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert c.article_id == art.id and c.title == art.title
        assert c.text == c.text.strip()
        for i in range(c.start, c.end):
            covered[i] = True
    missed = [i for i, ch in enumerate(text) if not covered[i] and not ch.isspace()]
    assert missed == [], f"uncovered characters at {missed[:5]}"
    starts = [c.start for c in chunks]
    assert starts == sorted(set(starts)), "chunks go forward and never repeat"
    ends = [c.end for c in chunks]
    assert ends == sorted(set(ends)), "every chunk brings text the previous one lacks"
    if art.kind != "photo":
        assert all(len(c.text) <= config.max_chars for c in chunks)


# --- sentences ------------------------------------------------------------------------


def test_sentences_end_at_chinese_terminators():
    assert sentences("今天下雨。明天呢？真好！第一；第二") == [
        "今天下雨。",
        "明天呢？",
        "真好！",
        "第一；",
        "第二",
    ]


def test_sentence_keeps_closing_quote_and_bracket_after_its_end():
    assert sentences("他说：“到了。”（完。）再见。") == ["他说：“到了。”", "（完。）", "再见。"]


def test_quoted_speech_of_several_sentences_stays_one_sentence():
    text = "“生产线3条。产品可用于装修。”该集团董事长张书海说。"
    assert sentences(text) == ["“生产线3条。产品可用于装修。”", "该集团董事长张书海说。"]


def test_quoted_speech_longer_than_max_is_split_at_its_sentence_ends():
    text = "“" + "甲" * 30 + "。" + "乙" * 30 + "。”他说。"
    assert sentences(text) == [text[:-3], "他说。"]
    assert [text[s:e] for s, e in split_sentences(text, max_chars=40)] == [
        "“" + "甲" * 30 + "。",
        "乙" * 30 + "。”",
        "他说。",
    ]


def test_book_title_marks_are_never_split():
    assert sentences("出台《措施。细则！》等文件。") == ["出台《措施。细则！》等文件。"]


def test_numbers_with_decimal_points_stay_whole():
    text = "增长5.02%，总额707.3亿元，约3.5亿。"
    assert sentences(text) == [text]


def test_ascii_terminators_end_a_sentence_only_before_space_cjk_or_end():
    assert sentences("真的吗?是的!见a;b后。ok! done?") == [
        "真的吗?",
        "是的!",
        "见a;b后。",
        "ok!",
        "done?",
    ]


def test_paragraph_end_ends_a_sentence_and_newlines_are_in_no_span():
    text = "第一段没有句号\n第二段。"
    assert sentences(text) == ["第一段没有句号", "第二段。"]


def test_unbalanced_quote_does_not_swallow_the_paragraph():
    assert sentences("他说：“第一句。第二句。") == ["他说：“第一句。", "第二句。"]


def test_whitespace_only_text_has_no_sentences():
    assert split_sentences(" \n \n") == []


# --- chunks ---------------------------------------------------------------------------


def test_short_article_is_one_chunk_covering_the_body():
    art = article("第一段。", "第二段。")
    chunks = chunk_article(art)
    assert [(c.start, c.end, c.text, c.id) for c in chunks] == [
        (0, 9, "第一段。\n第二段。", "a1:0")
    ]


def test_photo_caption_is_one_chunk_even_when_long():
    art = article("图为工人正在车间作业。" * 40, kind="photo")
    assert len(chunk_article(art)) == 1


def test_empty_body_has_no_chunks():
    assert chunk_article(article()) == []


def test_chunks_are_whole_sentences_within_size_limits():
    body = "".join(f"第{i}句话说明了情况，数字是{i}.5亿元。" for i in range(60))
    art = article(body)
    config = ChunkingConfig()
    chunks = chunk_article(art, config)
    ends = {e for _, e in split_sentences(art.text)}
    starts = {s for s, _ in split_sentences(art.text)}
    assert len(chunks) > 3
    for c in chunks:
        assert c.start in starts and c.end in ends
        assert len(c.text) <= config.max_chars
    assert all(len(c.text) >= config.min_chars for c in chunks)


def test_next_chunk_repeats_the_last_sentence_of_the_previous_one():
    body = "".join(f"这是第{i:02d}句，用来测试重叠。" for i in range(40))
    chunks = chunk_article(article(body))
    for prev, nxt in itertools.pairwise(chunks):
        last_sentence = sentences(prev.text)[-1]
        assert nxt.text.startswith(last_sentence)
        assert nxt.start == prev.end - len(last_sentence)


def test_overlap_zero_makes_adjacent_chunks_disjoint():
    body = "".join(f"这是第{i:02d}句，用来测试重叠。" for i in range(40))
    chunks = chunk_article(article(body), ChunkingConfig(overlap=0))
    assert all(a.end <= b.start for a, b in itertools.pairwise(chunks))


def test_overlap_never_produces_a_chunk_that_is_only_the_overlap():
    long_sentence = "甲" * 250 + "。"
    art = article(long_sentence + "短句。" + long_sentence + "尾句。")
    chunks = chunk_article(art, ChunkingConfig(overlap=2))
    assert [c.text for c in chunks] == [long_sentence, "短句。" + long_sentence + "尾句。"]


def test_chunk_size_is_configurable():
    body = "".join(f"第{i}句。" for i in range(300))
    small = chunk_article(article(body), ChunkingConfig(target=40, max_chars=60, min_chars=20))
    large = chunk_article(article(body), ChunkingConfig(target=400, max_chars=500, min_chars=300))
    assert all(len(c.text) <= 60 for c in small)
    assert len(small) > 4 * len(large)


def test_sentence_longer_than_max_is_cut_at_a_comma_near_the_limit():
    clause = "甲" * 49 + "，"
    art = article(clause * 10 + "结束。")
    chunks = chunk_article(art, ChunkingConfig(overlap=0))
    assert all(c.text.endswith("，") for c in chunks[:-1])
    assert max(len(c.text) for c in chunks) == 300
    assert_invariants(art)


def test_sentence_without_commas_is_cut_hard_but_not_inside_a_number():
    text = "甲" * 295 + "12345.67亿元" + "乙" * 200 + "。"
    art = article(text)
    chunks = chunk_article(art, ChunkingConfig(overlap=0))
    assert chunks[0].text == "甲" * 295
    assert chunks[1].text.startswith("12345.67亿元")
    assert_invariants(art)


def test_digit_grouping_comma_is_not_a_cut_point():
    text = "甲" * 298 + "1,000" + "乙" * 100 + "。"
    chunks = chunk_article(article(text), ChunkingConfig(overlap=0))
    assert "1,000" in chunks[1].text


def test_short_paragraphs_are_joined_and_a_full_chunk_closes_at_a_paragraph_end():
    first = "".join(f"第一段第{i}句。" for i in range(20))  # 7 chars each, 140 in all
    second = "".join(f"第二段第{i}句。" for i in range(20))
    art = article("短段一。", "短段二。", first, second)
    chunks = chunk_article(art, ChunkingConfig(overlap=0))
    assert [c.text for c in chunks] == ["短段一。\n短段二。\n" + first, second]


def test_short_last_chunk_is_folded_into_the_previous_one():
    body = "".join(f"这是第{i:02d}句话。" for i in range(26)) + "尾。"
    chunks = chunk_article(article(body), ChunkingConfig(overlap=0))
    assert chunks[-1].text.endswith("尾。") and len(chunks[-1].text) > 20


def test_invalid_config_is_rejected_with_its_values():
    with pytest.raises(ValueError, match="min_chars=400, target=220, max_chars=300"):
        chunk_article(article("正文。" * 200), ChunkingConfig(min_chars=400))


def test_sample_page_chunks_keep_every_invariant():
    with open(SAMPLE_PAGE, encoding="utf-8") as f:
        paragraphs = tuple(p.replace("\n", "") for p in f.read().split("\n\n") if p.strip())
    art = Article(id="page", title="聊城日报", paragraphs=paragraphs)
    assert_invariants(art)
    sizes = [len(c.text) for c in chunk_article(art)]
    assert 150 <= sum(sizes) / len(sizes) <= 300


@pytest.mark.parametrize("seed", range(40))
def test_random_articles_keep_every_invariant(seed: int):
    rng = random.Random(seed)
    pieces = [
        "甲",
        "乙丙",
        "，",
        "。",
        "！",
        "？",
        "；",
        "“",
        "”",
        "《",
        "》",
        "3.5",
        "ok",
        " ",
        "!",
        "、",
    ]
    weights = [30, 20, 6, 5, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 2]
    paragraphs = tuple(
        "".join(rng.choices(pieces, weights, k=rng.randint(1, 400)))
        for _ in range(rng.randint(1, 6))
    )
    config = ChunkingConfig(
        target=rng.randint(20, 250),
        max_chars=300,
        min_chars=rng.randint(1, 20),
        overlap=rng.randint(0, 3),
    )
    assert_invariants(Article(id="r", title=None, paragraphs=paragraphs), config)


def test_every_article_parsed_from_the_sample_page_chunks_cleanly():
    from retrieval.sources.loading import load_articles

    articles = load_articles(SAMPLE_PAGE, source="聊城日报")
    for art in articles:
        assert_invariants(art)
    photo = next(a for a in articles if a.kind == "photo")
    assert len(chunk_article(photo)) == 1
    longest = max(articles, key=lambda a: len(a.text))
    assert len(chunk_article(longest)) >= 5
