"""Telegram HTML: bot/html.py (escape, split) checked against tests/telegram/html_rules.py."""

from __future__ import annotations

import random
import re

import pytest

from bot.html import MAX_MESSAGE_LENGTH, escape, escape_attribute, split_html, visible_length
from tests.telegram.html_rules import Entity, TelegramHTMLError, assert_valid, parse


def visible(markup: str) -> str:
    return parse(markup).text


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- escape ----------------------------------------------------------------------------------


def test_escape_touches_only_ampersand_and_angle_brackets() -> None:
    assert escape('东昌湖 <水> & "运河" \'桥\'') == "东昌湖 &lt;水&gt; &amp; \"运河\" '桥'"
    assert visible(escape("a < b && c > d")) == "a < b && c > d"


def test_escape_attribute_also_escapes_double_quotes() -> None:
    href = 'https://example.com/?q="聊城"&page=2'
    markup = f'<a href="{escape_attribute(href)}">链接</a>'
    assert parse(markup).entities == (Entity("text_link", 0, 2, url=href),)


def test_visible_length_counts_utf16_units_after_parsing() -> None:
    assert visible_length("<b>聊城</b> &amp; 😀") == 2 + 3 + 2


# --- split_html --------------------------------------------------------------------------------


def test_short_message_is_one_unchanged_part() -> None:
    markup = "<b>标题</b>\n正文 &amp; 引用"
    assert split_html(markup) == [markup]


def test_split_prefers_paragraph_boundaries() -> None:
    paragraphs = [f"第{n}段：" + "东昌湖畔春意浓。" * 5 for n in range(3)]
    parts = split_html("\n\n".join(paragraphs), limit=len(paragraphs[0]) * 2 + 2)
    assert parts == ["\n\n".join(paragraphs[:2]), paragraphs[2]]


def test_long_paragraph_splits_after_a_sentence() -> None:
    sentences = ["聊城日报记者张三报道。", "运河文化节昨日开幕！", "市民纷纷前往观看？"]
    text = "".join(sentences) * 3
    parts = split_html(text, limit=25)
    assert all(len(part) <= 25 for part in parts)
    assert all(part[-1] in "。！？" for part in parts)
    assert "".join(parts) == text


def test_open_tags_are_closed_and_reopened_with_attributes() -> None:
    markup = '<a href="https://x.cn/?a=1&amp;b=2"><b>' + "字" * 30 + "</b></a>"
    parts = split_html(markup, limit=12)
    assert [visible_length(p) for p in parts] == [12, 12, 6]
    for part in parts:
        assert part.startswith('<a href="https://x.cn/?a=1&amp;b=2"><b>')
        assert part.endswith("</b></a>")
        [link] = [e for e in parse(part).entities if e.type == "text_link"]
        assert link.url == "https://x.cn/?a=1&b=2"


def test_entities_are_never_cut_and_count_as_one_character() -> None:
    markup = "&amp;&lt;&gt;" * 10
    parts = split_html(markup, limit=4)
    assert all(visible_length(part) <= 4 for part in parts)
    assert "".join(visible(part) for part in parts) == "&<>" * 10


def test_astral_characters_count_two_units() -> None:
    parts = split_html("😀" * 10, limit=5)
    assert parts == ["😀😀"] * 5


def test_whitespace_inside_pre_is_kept_at_a_cut() -> None:
    code = "def f():\n    return 1\n" * 4
    parts = split_html(f"<pre>{code}</pre>", limit=len("def f():\n    return 1\n"))
    assert "".join(visible(p) for p in parts).replace("\n", "") == code.replace("\n", "")
    assert all(p.startswith("<pre>") and p.endswith("</pre>") for p in parts)


def test_blank_markup_gives_no_parts() -> None:
    assert split_html("<b></b>\n\n  ") == []


def test_limit_below_two_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"^limit must be at least 2 UTF-16 units, got 1$"):
        split_html("abc", limit=1)


def random_markup(rng: random.Random) -> str:
    pieces: list[str] = []
    for _ in range(rng.randint(5, 40)):
        length = rng.randint(1, 30)
        alphabet = "东昌湖畔 春意浓。运河&<>\n!?😀ab"
        text = escape("".join(rng.choice(alphabet) for _ in range(length)))
        wrapper = rng.choice(["", "b", "i", "a", "code", "blockquote", "tg-spoiler", "u"])
        if wrapper == "a":
            href = f"https://x.cn/{rng.randint(1, 9)}?a=1&amp;b=2"
            pieces.append(f'<a href="{href}"><b>{text}</b></a>')
        elif wrapper:
            pieces.append(f"<{wrapper}>{text}</{wrapper}>")
        else:
            pieces.append(text)
        pieces.append(rng.choice(["", " ", "\n", "\n\n"]))
    return "".join(pieces)


@pytest.mark.parametrize("seed", range(40))
def test_every_part_is_valid_telegram_html_within_the_limit(seed: int) -> None:
    rng = random.Random(seed)
    markup = random_markup(rng)
    limit = rng.randint(8, 120)
    parts = split_html(markup, limit=limit)
    for part in parts:
        assert_valid(part, limit=limit)
    assert squeeze("".join(visible(p) for p in parts)) == squeeze(visible(markup))


def test_a_full_length_answer_splits_into_messages_telegram_accepts() -> None:
    article = "\n\n".join(f"<b>第{n}条</b> " + escape("聊城日报讯 运河文化节开幕。") * 40
                          for n in range(12))
    parts = split_html(article)
    assert len(parts) > 1
    for part in parts:
        assert visible_length(assert_valid(part).text) <= MAX_MESSAGE_LENGTH


# --- the validator -----------------------------------------------------------------------------


def test_validator_accepts_every_supported_construct() -> None:
    markup = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike>"
        '<del>d</del><tg-spoiler>p</tg-spoiler><span class="tg-spoiler">q</span>'
        '<a href="tg://user?id=1">m</a><code>c</code>'
        '<pre><code class="language-python">x</code></pre>'
        "<blockquote expandable>长引用</blockquote>"
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
        "<b>粗<i>斜<u>下</u></i></b>&#20013;&#x6587;&quot;"
    )
    parsed = assert_valid(markup)
    assert parsed.text.endswith('粗斜下中文"')
    kinds = {entity.type for entity in parsed.entities}
    assert {"expandable_blockquote", "custom_emoji", "spoiler", "text_link", "pre"} <= kinds


def test_validator_reports_offsets_in_utf16_like_telegram() -> None:
    parsed = parse("😀<b>聊城</b>")
    assert parsed.entities == (Entity("bold", 2, 2),)
    assert parsed.entity_texts("bold") == ["聊城"]


@pytest.mark.parametrize(
    ("markup", "message"),
    [
        ("第一行<br>第二行", 'can\'t parse entities: unsupported start tag "br" at byte offset 9'),
        ("<b>粗体", 'can\'t parse entities: can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", "can't parse entities: unmatched end tag at byte offset 4, "
                     'expected "</b>", found "</i>"'),
        ("a & b", 'can\'t parse entities: unsupported or unescaped "&" at byte offset 2'),
        ("&nbsp;", 'can\'t parse entities: unsupported or unescaped "&" at byte offset 0'),
        ("1 > 0", 'can\'t parse entities: unescaped ">" at byte offset 2'),
        ("<a>x</a>", 'can\'t parse entities: tag "a" must have a non-empty href attribute at '
                     "byte offset 0"),
        ('<b class="x">x</b>', 'can\'t parse entities: unsupported attribute "class" of tag "b" at '
                               "byte offset 0"),
        ("<pre><b>x</b></pre>", 'can\'t parse entities: tag "b" can\'t be nested inside "pre" at '
                                "byte offset 5"),
        ("<blockquote><blockquote>x</blockquote></blockquote>",
         'can\'t parse entities: tag "blockquote" can\'t be nested in another "blockquote" at '
         "byte offset 12"),
        (" \n ", "message text is empty"),
        ("字" * 4097, "message is too long: 4097 UTF-16 units > 4096"),
    ],
)
def test_validator_rejects_what_telegram_rejects(markup: str, message: str) -> None:
    with pytest.raises(TelegramHTMLError) as caught:
        parse(markup)
    assert str(caught.value) == message


def test_assert_valid_names_the_offending_markup() -> None:
    with pytest.raises(AssertionError, match=r"(?s)Telegram would reject this HTML .*\n<i>未闭合"):
        assert_valid("<i>未闭合")
