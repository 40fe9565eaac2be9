"""The scan path's layout rules on hand-placed OCR-like lines and small drawn images.

What OCR boxes get wrong (docs/page-format.md, "PDF pages and scans"): a subtitle piece
sized as body type, a line that runs on across a gutter, a box's padding taken for type size.
The rules that read past them are shown here without running OCR; bench/pdf_pages.py --scan
measures them on rendered pages.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from bench.pdfgen import font_path
from retrieval.sources import scan
from retrieval.sources.page_geometry import (
    Box,
    PageLayout,
    TextLine,
    parse_layout,
    reading_order,
)


def _line(text: str, x0: float, top: float, size: float = 9.0) -> TextLine:
    return TextLine(text, x0, top, x0 + len(text) * size, top + size, size)


def _column(x0: float, top: float, texts: list[str]) -> list[TextLine]:
    return [_line(text, x0, top + k * 13.5, 9.0) for k, text in enumerate(texts)]


_LEFT = ["新西兰鸲鹟是新西兰鸲鹟科的", "一种，原住在北岛。", "它们生活在天然森林中。"]
_RIGHT = ["市国土空间规划审查委员会召", "开2023年第六次会议，集中", "研究审议了规划方案。"]
_BELOW = ["10月7日，记者在冠县美安建材", "集团看到，一台台大型智能化", "设备正在运转。"]


def _row_page(rules: tuple[Box, ...]) -> PageLayout:
    """Two blocks side by side, their headline row holding a subtitle piece that OCR sized
    as body type, above a block across the page; the rows only a printed rule apart."""
    lines = [
        _line("新西兰鸲鹟迎来新进展", 40, 100, 20.0),
        _line("——关于", 60, 124, 12.0),
        _line("Petroica", 100, 124, 9.0),  # the subtitle's Latin half, measured as body
        _line("市国土空间规划审查委员会召开会议", 330, 100, 20.0),
        *_column(40, 150, _LEFT),
        *_column(330, 150, _RIGHT),
        _line("链上发力攀高向强", 40, 196, 48.0),
        *_column(40, 252, _BELOW[:2]),
        *_column(330, 252, _BELOW[2:]),
    ]
    return PageLayout(tuple(lines), (), 842, 1191, rules)


def test_a_printed_rule_between_rows_keeps_each_block_with_its_headline() -> None:
    rule = Box(40, 192, 800, 192.6)
    articles, _ = parse_layout(_row_page((rule,)))
    bodies = {a.title: a.text for a in articles}
    assert bodies["新西兰鸲鹟迎来新进展"].startswith("Petroica" + _LEFT[0])
    assert bodies["市国土空间规划审查委员会召开会议"] == "".join(_RIGHT)
    assert bodies["链上发力攀高向强"] == "".join(_BELOW)
    # Without the rule, white space alone reads both headlines first and loses a block.
    unruled, _ = parse_layout(_row_page(()))
    assert {a.title: a.text for a in unruled} != bodies


def test_a_rule_shorter_than_the_region_does_not_cut_it() -> None:
    # A rule under one column (an underline, a box's edge) does not part the page.
    short = Box(40, 192, 160, 192.6)
    assert parse_layout(_row_page((short,)))[0] == parse_layout(_row_page(()))[0]


def test_a_line_run_on_across_a_gutter_does_not_interleave_the_columns() -> None:
    # OCR's detector read the first line of column one on into column two's first
    # character ("…季度分 延"); the gutter under it still parts the columns.
    left = ["分析例会，通过季度分", "析加强与机构点对点", "督导，面对面座谈，",
            "推动金融服务实体。"]
    right = ["建24小时线上线下一", "体化数字普惠金融服", "务网络，贷款审批效", "率大幅提升。"]
    lines = [_line("助推普惠金融量增面扩", 40, 100, 20.0),
             *_column(40, 140, left), *_column(140, 140, right)]
    stray = lines[1]
    lines[1] = TextLine(stray.text + " 延", stray.x0, stray.top, stray.x1 + 14, stray.bottom,
                        stray.size)
    [article], _ = parse_layout(PageLayout(tuple(lines), (), 842, 1191))
    # The stray character stays on its line; the columns follow each other whole.
    assert article.text.replace("\n", "") == "分析例会，通过季度分延" + "".join(left[1:]) + \
        "".join(right)


def test_a_short_line_at_a_columns_edge_is_no_column_of_its_own() -> None:
    # A paragraph's short last line flush left under indented lines: its line is no column
    # (a stray gutter needs lines clear of it on both sides).
    lines = [_line("《Go车志》，于2007年7月至2009年于电视台播出，", 60, 100, 9.0),
             _line("为主。", 40, 111, 9.0),
             _line("让观众了解台湾汽车市场的生态与变化。", 60, 122, 9.0)]
    assert len(reading_order(lines, (), 9.0)) == 1


def test_a_line_set_across_two_columns_keeps_them_together() -> None:
    # A caption across both columns crosses the gutter far: the columns are not parted.
    lines = [*_column(40, 100, ["一二三四五六七八九十"] * 3),
             _line("两栏之间的图片说明文字横跨两栏两栏之间的说", 40, 141, 9.0),
             *_column(40, 155, ["一二三四五六七八九十"] * 2),
             *_column(140, 100, ["甲乙丙丁戊己庚辛壬癸"] * 3),
             *_column(140, 155, ["甲乙丙丁戊己庚辛壬癸"] * 2)]
    leaves = reading_order(lines, (), 9.0)
    assert any({"一", "甲"} <= {line.text[0] for line in leaf} for leaf in leaves)


def test_rules_are_long_thin_runs_of_print_outside_text() -> None:
    ink = np.zeros((1000, 1000), dtype=bool)
    ink[500:502, 20:980] = True  # a rule between two rows of blocks
    ink[20:480, 600:602] = True  # a rule between two blocks of the upper row
    ink[100:300, 20:500] = True  # a picture: thick
    ink[700:702, 20:100] = True  # short: a headline's stroke or an underline
    ink[800:802, 20:980] = True  # inside a text line's box
    text = TextLine("一二三", 10, 790, 990, 815, 20)
    rules = scan._rules(ink, [text])
    assert sorted((r.x0, r.top, r.x1, r.bottom) for r in rules) == [
        (20.0, 500.0, 980.0, 502.0), (600.0, 20.0, 602.0, 480.0)]


def _drawn(lines: list[tuple[str, int, int]]) -> tuple[np.ndarray, list[list[scan._Char]]]:
    """Lines of text drawn at (size px, top px), and each character's box, as OCR gives."""
    image = Image.new("L", (900, 200), 255)
    draw = ImageDraw.Draw(image)
    boxes = []
    for text, size, top in lines:
        font = ImageFont.truetype(str(font_path()), size)
        x = 10.0
        chars: list[scan._Char] = []
        for ch in text:
            draw.text((x, top), ch, font=font, fill=0)
            width = font.getlength(ch)
            chars.append((ch, x, x + width))
            x += width + size * 0.3  # justified: wide gaps, as a pitch would overstate
        boxes.append(chars)
    return np.asarray(image) < 160, boxes


def test_a_scanned_lines_type_size_is_read_from_its_characters_print() -> None:
    # Body type at 20 px and caption type at 17 px, both spread wide: the print's height
    # tells them apart where a justified line's pitch and a padded box's height do not.
    ink, (body, caption) = _drawn([("国家金融监督管理总局聊城", 20, 20),
                                   ("聊城监管分局持续督导辖内", 17, 100)])
    body_size = scan._ink_size(body, 14, 48, ink)
    caption_size = scan._ink_size(caption, 95, 123, ink)
    assert body_size is not None and caption_size is not None
    assert abs(body_size - 20) <= 1.5 and abs(caption_size - 17) <= 1.5
    assert caption_size / body_size < 0.93  # page_geometry's caption threshold
    assert scan._ink_size(body[:1], 14, 48, ink) is None  # one character: too few to tell


def test_a_headlines_gap_is_read_on_its_print_not_on_loose_character_boxes() -> None:
    ink, [chars] = _drawn([("同构前世今生", 60, 40)])
    strip = ink[30:110]
    size = 60.0
    # Recognition's box for 今 starts inside its print; the box for 世 takes in the gap.
    left = (chars[3][0], chars[3][1], chars[4][1] - 2)
    right = (chars[4][0], chars[4][1] + 12, chars[4][2])
    end_left, start_right, other = scan._glyph_edges(strip, left, right, size)
    assert not other and end_left <= chars[4][1] + 1 and start_right <= chars[4][1] + 12
    # A character between them that recognition left out is print of its own.
    wide_left = (chars[2][0], chars[2][1], chars[3][1] - 2)
    assert scan._glyph_edges(strip, wide_left, right, size)[2]


def test_a_columns_last_line_reaching_into_the_foot_band_is_kept() -> None:
    # The foot band is the bottom 6% of the page: a block set to the bottom of the type
    # area may end in it; the running foot under the rule is still dropped.
    texts = ["李奥拿氏倭管蛇是蛇亚", "目倭管蛇科下的一个品种，", "主要分布于马来西亚。"]
    lines = [_line("李奥拿氏倭管蛇稳步推进", 40, 1070, 20.0), *_column(40, 1100, texts),
             _line("责编：杨娜 版式：陈芳 校对：陈敏", 40, 1170, 8.0)]
    rule = Box(40, 1145, 800, 1145.6)
    [article], _ = parse_layout(PageLayout(tuple(lines), (), 842, 1191, (rule,)))
    assert lines[3].top >= 1191 * 0.94
    assert article.text == "".join(texts)


def test_a_gap_holding_characters_recognition_cannot_read_is_no_gutter() -> None:
    # 鸲鹟 are not in the recogniser's dictionary: it leaves them out and a gap opens in the
    # line as wide as a gutter's; their print tells it from one.
    ink, [chars] = _drawn([("新西兰鸲鹟科的一种", 20, 20)])
    kept = [char for k, char in enumerate(chars) if k not in (3, 4)]
    boxes = [[[x0, 16], [x1, 16], [x1, 44], [x0, 44]] for _, x0, x1 in kept]
    words = [word for word, _, _ in kept]
    strip = ink[16:45]
    assert len(scan._split_at_gutters(boxes, words, 28, strip)) == 1
    blank = strip.copy()
    blank[:, int(chars[2][2]) + 1:int(chars[5][1]) - 1] = False  # a gutter: nothing there
    assert [len(group) for group in scan._split_at_gutters(boxes, words, 28, blank)] == [3, 4]


def _columns(x0s: list[float], top: float, text: str) -> list[TextLine]:
    return [line for k, x0 in enumerate(x0s)
            for line in _column(x0, top, [f"{text}{k}栏第一行文字", f"{text}{k}栏第二行文字"])]


def test_a_column_under_a_headline_and_beside_a_narrow_subtitle_stays_with_its_headline(
        ) -> None:
    # The last column of a wide block sits just under the next block's headline (a rule
    # above has already parted the rows): it is under its own headline, though not under that
    # headline's narrower subtitle.
    lines = [_line("筑信仰之基育时代新人啊", 65, 529, 40.0),
             _line("——聚焦小萝卜头宋振中", 192, 580, 11.0),
             *_columns([40, 169, 299, 428], 604, "甲"),
             _line("唐音再添新动能", 565, 525, 32.0),
             *_columns([557, 687], 575, "乙")]
    articles, _ = parse_layout(PageLayout(tuple(lines), (), 842, 1191))
    bodies = {a.title: a.text for a in articles}
    assert "甲3栏" in bodies["筑信仰之基育时代新人啊"] and "甲3栏" not in bodies["唐音再添新动能"]


def test_a_column_level_with_a_narrow_headlines_block_is_read_under_it() -> None:
    # A headline narrower than its block leaves its first column outside its span, nearer
    # the previous block's head than to its own; it starts level with the columns under
    # this headline, not with the previous block's, so it is this story's.
    lines = [_line("隐面龙属稳步推进", 46, 415, 24.0),
             _line("——探访隐面龙", 74, 447, 12.0),
             *_columns([40, 151], 473, "甲"),
             _line("稳步推进", 388, 423, 45.0),
             *_columns([262, 373, 483], 487, "乙")]
    articles, _ = parse_layout(PageLayout(tuple(lines), (), 842, 1191))
    bodies = {a.title: a.text for a in articles}
    assert len(articles) == 2 and bodies["稳步推进"].startswith("乙0栏")
