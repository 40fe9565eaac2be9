"""Loading sources: every format, encodings, directories, dates, ids and bad input.

One file (~400 lines) per feature, as the rest of tests/.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval.errors import InputError
from retrieval.sources.loading import SourceFile, iter_path, load_articles, load_path, split_byline
from tests.helpers import assert_rejected, write
from tests.sample_values import SAMPLE_PAGE

PAGE_TEXT = SAMPLE_PAGE.read_text(encoding="utf-8")
PAGE_TITLES = [
    "东昌府区推动工业经济提质增效",
    "链上发力 攀高向强",
    "筑信仰之基 育时代新人",
    "刘修建：身先士卒续写忠诚担当",
    None,
    "助推普惠金融量增面扩质升本降",
    "开展金融支持民营小微企业和个体工商户发展三年提升行动",
    "市国土空间规划审查委员会召开2023年第六次会议",
]

HTML_PARAGRAPHS = [
    "10月7日，记者在冠县美安建材集团看到，一台台大型智能化设备“火力全开”，百余名工人有条不紊地"
    "生产作业，来往运输硅酸钙纤维板的车辆络绎不绝。",
    "冠县通过成立装配式建筑产业工作专班，将建筑业作为全县“七大核心产业链”之一进行培育，扎实推进"
    "绿色建造行动，出台《冠县支持绿色建材产业链高质量发展十条措施》等。",
    "目前，冠县共有绿色建材企业15家，涵盖装配式预制构件、复合板材、轻型门窗等6种类型，成功培育"
    "省级装配式建筑产业基地，初步形成了拥有核心竞争力的产业集群。",
]
HTML_PAGE = """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<title>链上发力 攀高向强_聊城新闻网</title>
<meta property="og:site_name" content="聊城新闻网">
<meta property="article:published_time" content="2023-10-08T07:30:00+08:00">
<link rel="canonical" href="https://www.example.cn/news/2023-10/08/content_1.html">
</head><body>
<nav><ul><li><a href="/">首页</a></li><li><a href="/news">新闻中心</a></li>
<li><a href="/about">关于我们</a></li></ul></nav>
<div class="header">聊城新闻网 欢迎您 登录 注册</div>
<article>
<h1>链上发力 攀高向强</h1>
<p class="byline">本报记者 王培源 本报通讯员 李子涛</p>
{paragraphs}
</article>
<footer><p>版权所有 聊城日报社 鲁ICP备12345678号</p><p>联系我们 | 网站地图</p></footer>
</body></html>""".format(paragraphs="\n".join(f"<p>{p}</p>" for p in HTML_PARAGRAPHS))

ARTICLE_MD = """# 市国土空间规划审查委员会召开会议

本报记者 苑莘

10月8日下午，市委常委、副市长王峰主持召开
市国土空间规划审查委员会会议。

会议强调，要坚持规划引领，让工作成绩经得起历史考验。
"""


# --------------------------------------------------------------------------- page


def test_page_text_file_is_split_into_its_articles(tmp_path: Path):
    path = write(tmp_path / "page.txt", PAGE_TEXT)
    [loaded] = load_path(path, source="聊城日报", page="2")
    assert loaded.format == "page"
    assert [a.title for a in loaded.articles] == PAGE_TITLES
    assert {(a.source, a.page) for a in loaded.articles} == {("聊城日报", "2")}


def test_gbk_encoded_page_reads_like_the_utf8_one(tmp_path: Path):
    utf8 = load_articles(write(tmp_path / "utf8.txt", PAGE_TEXT))
    gbk = load_articles(write(tmp_path / "gbk.txt", PAGE_TEXT.encode("gbk")))
    assert [a.to_dict() for a in gbk] == [a.to_dict() for a in utf8]


def test_windows_newlines_are_normalised(tmp_path: Path):
    crlf = load_articles(write(tmp_path / "crlf.txt", PAGE_TEXT.replace("\n", "\r\n").encode()))
    assert [a.paragraphs for a in crlf] == [a.paragraphs for a in load_articles(SAMPLE_PAGE)]


def test_page_with_no_recognisable_article_is_an_error(tmp_path: Path):
    path = write(tmp_path / "junk.txt", "12 34 56\n-- -- --\n")
    assert_rejected(lambda: load_path(path, format="page"), (
        f"{path}: no article could be recognised in this page text; if the file holds a "
        "single article, load it with --format article"
    ))


# --------------------------------------------------------------------------- article


def test_markdown_article_takes_heading_byline_and_paragraphs(tmp_path: Path):
    [article] = load_articles(write(tmp_path / "meeting.md", ARTICLE_MD), source="聊城日报")
    assert article.title == "市国土空间规划审查委员会召开会议"
    assert article.authors == ("苑莘",)
    assert article.paragraphs == (
        "10月8日下午，市委常委、副市长王峰主持召开市国土空间规划审查委员会会议。",
        "会议强调，要坚持规划引领，让工作成绩经得起历史考验。",
    )
    assert article.kind == "article" and article.source == "聊城日报"


def test_txt_article_without_blank_lines_has_one_paragraph_per_line(tmp_path: Path):
    text = "刘修建：身先士卒续写忠诚担当\n——记东阿县优秀党员\n记者 王文轩\n第一段。\n第二段。\n"
    [loaded] = load_path(write(tmp_path / "a.txt", text))
    assert loaded.format == "article"
    [article] = loaded.articles
    assert (article.title, article.subtitle, article.authors) == (
        "刘修建：身先士卒续写忠诚担当",
        "记东阿县优秀党员",
        ("王文轩",),
    )
    assert article.paragraphs == ("第一段。", "第二段。")


def test_dateline_credit_becomes_authors_and_leaves_the_body(tmp_path: Path):
    text = (
        "东昌府区推动工业经济提质增效\n\n本报讯（记者 林金彦）10月7日，记者从东昌府区工信局获悉。\n"
    )
    [article] = load_articles(write(tmp_path / "a.txt", text))
    assert article.authors == ("林金彦",)
    assert article.paragraphs == ("10月7日，记者从东昌府区工信局获悉。",)


def test_a_body_sentence_mentioning_a_reporter_is_not_a_byline(tmp_path: Path):
    text = "标题\n记者从东昌府区工信局获悉，工业经济提质增效。\n"
    [article] = load_articles(write(tmp_path / "a.txt", text))
    assert article.authors == ()
    assert article.paragraphs == ("记者从东昌府区工信局获悉，工业经济提质增效。",)


def test_utf8_bom_is_stripped(tmp_path: Path):
    data = "\ufeff".encode() + ARTICLE_MD.encode()
    [article] = load_articles(write(tmp_path / "bom.md", data))
    assert article.title == "市国土空间规划审查委员会召开会议"


def test_article_with_a_headline_only_is_an_error(tmp_path: Path):
    path = write(tmp_path / "title.txt", "只有标题\n\n")
    assert_rejected(lambda: load_path(path), (
        f"{path}: found a headline but no body text; an article file holds the headline on its "
        "first line and the body below it"
    ))


def test_format_option_overrides_detection_both_ways(tmp_path: Path):
    page = write(tmp_path / "page.txt", PAGE_TEXT)
    article = write(tmp_path / "article.txt", ARTICLE_MD)
    assert load_path(page)[0].format == "page"
    assert load_path(article)[0].format == "article"
    forced = load_path(page, format="article")[0]
    assert forced.format == "article" and len(forced.articles) == 1
    with pytest.raises(InputError):
        load_path(article, format="jsonl")


# --------------------------------------------------------------------------- jsonl


def test_jsonl_records_become_articles_with_their_fields(tmp_path: Path):
    records = [
        {
            "id": "a-1",
            "title": "第一篇",
            "text": "第一段。\n\n第二段。",
            "authors": ["林金彦"],
            "date": "2023-10-07",
            "source": "聊城日报",
            "page": 2,
            "url": "https://example.cn/1",
        },
        {
            "title": "第二篇",
            "body": ["段一。", "段二。"],
            "byline": "本报记者 王培源 通讯员 李子涛",
            "kicker": "引题",
            "subtitle": "副题",
        },
        {"content": "没有标题的图片说明。"},
    ]
    path = write(
        tmp_path / "2023-10-08.jsonl", "\n".join(json.dumps(r, ensure_ascii=False) for r in records)
    )
    first, second, third = load_articles(path, source="默认报")
    assert first.id == "a-1" and first.paragraphs == ("第一段。", "第二段。")
    assert (first.date, first.source, first.page, first.url) == (
        "2023-10-07",
        "聊城日报",
        "2",
        "https://example.cn/1",
    )
    assert second.authors == ("王培源", "李子涛")
    assert (second.kicker, second.subtitle, second.paragraphs) == (
        "引题",
        "副题",
        ("段一。", "段二。"),
    )
    assert (second.date, second.source) == ("2023-10-08", "默认报")
    assert third.title is None and third.paragraphs == ("没有标题的图片说明。",)


def test_byline_string_without_role_words_is_split_into_names():
    assert split_byline("王培源 李子涛") == ("王培源", "李子涛")
    assert split_byline("Jane Doe; John Roe") == ("Jane Doe", "John Roe")


def test_malformed_jsonl_line_names_file_and_line(tmp_path: Path):
    path = write(tmp_path / "a.jsonl", '{"text": "好。"}\n{"text": "坏。"\n')
    error = assert_rejected(lambda: load_path(path), (
        f"{path}:2: not valid JSON (Expecting ',' delimiter at column 14); "
        "fix or remove that line - nothing from this file was loaded"
    ))
    assert error is not None and error.path == str(path) and error.line == 2


def test_jsonl_record_without_text_names_file_and_line(tmp_path: Path):
    path = write(tmp_path / "a.jsonl", '{"text": "好。"}\n\n{"title": "无正文"}\n')
    assert_rejected(lambda: load_path(path), (
        f'{path}:3: no text: a record needs a "text", "body" or "content" field; '
        "fix or remove that line - nothing from this file was loaded"
    ))


def test_every_bad_jsonl_line_is_reported_and_nothing_is_loaded(tmp_path: Path):
    lines = [
        '{"text": "好。"}',
        "[1]",
        '{"text": ""}',
        "nope",
        '{"text": "好。", "date": "2023-02-30"}',
    ]
    path = write(tmp_path / "a.jsonl", "\n".join(lines))
    assert_rejected(lambda: load_path(path), (
        f"{path}:2: 4 bad records - line 2: expected a JSON object, got list; "
        'line 3: "text" is empty; line 4: not valid JSON (Expecting value at column 1); '
        "line 5: \"date\" '2023-02-30' is not a valid date; write it as YYYY-MM-DD, "
        "e.g. 2023-10-08; "
        "fix or remove these lines - nothing from this file was loaded"
    ))


def test_more_than_five_bad_lines_are_summarised(tmp_path: Path):
    path = write(tmp_path / "a.jsonl", "x\n" * 8)
    with pytest.raises(
        InputError, match=r"8 bad records - .*line 5: .*; and 3 more; fix or remove"
    ):
        load_path(path)


def test_repeated_given_id_is_a_bad_record(tmp_path: Path):
    path = write(tmp_path / "a.jsonl", '{"id": "x", "text": "一。"}\n{"id": "x", "text": "二。"}\n')
    assert_rejected(lambda: load_path(path), (
        f"{path}:2: id 'x' is already used on line 1; "
        "fix or remove that line - nothing from this file was loaded"
    ))


# --------------------------------------------------------------------------- html


def test_html_article_keeps_main_text_and_metadata_without_boilerplate(tmp_path: Path):
    [loaded] = load_path(write(tmp_path / "story.html", HTML_PAGE), source="聊城日报")
    [article] = loaded.articles
    assert loaded.format == "html"
    assert article.title == "链上发力 攀高向强"
    assert article.paragraphs == tuple(HTML_PARAGRAPHS)
    assert article.authors == ("王培源", "李子涛")
    assert article.date == "2023-10-08"
    assert article.source == "聊城新闻网"  # the page names its site; --source only fills a gap
    assert article.url == "https://www.example.cn/news/2023-10/08/content_1.html"


def test_html_page_without_article_text_is_an_error(tmp_path: Path):
    path = write(
        tmp_path / "empty.htm", "<html><body><nav><a href='/'>首页</a></nav></body></html>"
    )
    assert_rejected(lambda: load_path(path), (
        f"{path}: no article text found in this HTML page (is it an index or a login page?)"
    ))


# ------------------------------------------------------------------ directories, dates, ids


def test_directory_is_loaded_recursively_in_sorted_order_skipping_hidden_and_unknown(
    tmp_path: Path,
):
    write(tmp_path / "b" / "2023-10-09" / "p1.txt", PAGE_TEXT)
    write(tmp_path / "a.md", ARTICLE_MD)
    write(tmp_path / "c.jsonl", '{"text": "正文。"}')
    write(tmp_path / ".hidden.txt", ARTICLE_MD)
    write(tmp_path / ".git" / "x.txt", ARTICLE_MD)
    write(tmp_path / "notes.docx", b"PK\x03\x04")
    loaded = load_path(tmp_path)
    assert [(f.path.relative_to(tmp_path).as_posix(), f.format) for f in loaded] == [
        ("a.md", "article"),
        ("b/2023-10-09/p1.txt", "page"),
        ("c.jsonl", "jsonl"),
    ]
    assert {a.date for a in loaded[1].articles} == {"2023-10-09"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("2023-10-08.txt", "2023-10-08"),
        ("lcrb_2023_10_08_p2.txt", "2023-10-08"),
        ("lcrb20231008.txt", "2023-10-08"),
        ("lcrb-20231345.txt", None),  # eight digits that are no date
        ("2023-10_08.txt", None),  # mixed separators
    ],
)
def test_date_comes_from_the_file_name_when_it_is_a_real_date(tmp_path: Path, name: str, expected):
    [article] = load_articles(write(tmp_path / name, ARTICLE_MD))
    assert article.date == expected


def test_date_option_beats_the_file_name_and_records_beat_both(tmp_path: Path):
    [article] = load_articles(write(tmp_path / "2023-10-08.md", ARTICLE_MD), date="2023_10_01")
    assert article.date == "2023-10-01"
    path = write(tmp_path / "2023-10-08.jsonl", '{"text": "一。", "date": "2023年9月5日"}')
    assert load_articles(path, date="2023-10-01")[0].date == "2023-09-05"


def test_invalid_date_option_is_rejected(tmp_path: Path):
    path = write(tmp_path / "a.md", ARTICLE_MD)
    assert_rejected(lambda: load_path(path, date="2023-02-30"), (
        "--date '2023-02-30' is not a valid date; write it as YYYY-MM-DD, e.g. 2023-10-08"
    ))


def test_ids_are_stable_across_runs_and_follow_the_printed_facts(tmp_path: Path):
    path = write(tmp_path / "page.txt", PAGE_TEXT)
    first = [a.id for a in load_articles(path, source="聊城日报", date="2023-10-08")]
    again = [a.id for a in load_articles(path, source="聊城日报", date="2023-10-08")]
    other_day = [a.id for a in load_articles(path, source="聊城日报", date="2023-10-09")]
    assert first == again
    assert len(set(first)) == len(first)
    assert set(first).isdisjoint(other_day)


def test_same_headline_twice_in_one_file_gets_distinct_stable_ids(tmp_path: Path):
    line = json.dumps({"title": "图片新闻", "text": "说明。"}, ensure_ascii=False)
    path = write(tmp_path / "a.jsonl", f"{line}\n{line}\n{line}\n")
    ids = [a.id for a in load_articles(path)]
    assert ids[1:] == [f"{ids[0]}-2", f"{ids[0]}-3"]
    assert [a.id for a in load_articles(path)] == ids


# --------------------------------------------------------------------------- bad files


def test_empty_file_is_an_error(tmp_path: Path):
    path = write(tmp_path / "empty.txt", " \n\n")
    assert_rejected(lambda: load_path(path), f"{path}: the file is empty; nothing to load")


def test_binary_file_is_an_error(tmp_path: Path):
    path = write(tmp_path / "data.txt", b"\x01\x02\x03\x04\x05\x06\x07\x08\x00\x00\rIHDR")
    assert_rejected(lambda: load_path(path), (
        f"{path}: this is a binary file, not text (NUL byte at offset 8); "
        "give newsqa .txt, .md, .jsonl or .html files"
    ))
    # A PNG is read as a page scan whatever its name; this one is cut short.
    image = write(tmp_path / "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(InputError, match=f"{image}: not a readable image"):
        load_path(image)


def test_undecodable_bytes_name_offset_and_line(tmp_path: Path):
    path = write(tmp_path / "bad.txt", "标题\n正文。\n".encode() + b"\xff\xfe\xfd broken")
    assert_rejected(lambda: load_path(path), (
        f"{path}:3: cannot decode the text: byte 0xff at offset 17 is not valid UTF-8, and the "
        "file is not recognisably GB18030/GBK or Big5 either; convert it to UTF-8 "
        "(e.g. iconv -f <encoding> -t UTF-8)"
    ))


def test_missing_path_and_empty_directory_are_errors(tmp_path: Path):
    assert_rejected(lambda: load_path(tmp_path / "nope.txt"),
                    f"{tmp_path / 'nope.txt'}: no such file or directory")
    assert_rejected(lambda: load_path(tmp_path / "nope.pdf"),
                    f"{tmp_path / 'nope.pdf'}: no such file or directory")
    write(tmp_path / "d" / "readme.docx", b"PK\x03\x04")
    assert_rejected(lambda: load_path(tmp_path / "d"), (
        f"{tmp_path / 'd'}: no loadable files (.txt, .md, .jsonl, .json, .html, .htm, .pdf, "
        ".png, .jpg, .jpeg, .tif, .tiff) in this directory"
    ))


def test_one_bad_file_fails_the_whole_directory_load(tmp_path: Path):
    write(tmp_path / "a.md", ARTICLE_MD)
    bad = write(tmp_path / "b.jsonl", "{oops\n")
    error = assert_rejected(lambda: load_path(tmp_path), (
        f"{bad}:1: not valid JSON (Expecting property name enclosed in double quotes at column "
        "2); fix or remove that line - nothing from this file was loaded"
    ))
    assert error is not None and error.path == str(bad)


def test_files_the_caller_already_read_are_not_read_again(tmp_path: Path) -> None:
    """`newsqa ingest` checks every file, then streams them: pages it OCR'd in the check are
    handed back through ``parsed`` instead of being recognised a second time."""
    scan = tmp_path / "a.pdf"
    scan.write_bytes(b"%PDF-1.7 not really a pdf")  # would be refused if it were read
    text = write(tmp_path / "b.txt", "标题\n\n正文一句话说明了事情的经过。")
    kept = SourceFile(path=scan, format="pdf", articles=load_articles(text))
    files = list(iter_path(tmp_path, parsed={scan: kept}))
    assert [f.path for f in files] == [scan, text] and files[0] is kept
    with pytest.raises(InputError):
        list(iter_path(tmp_path))  # unkept, the broken PDF is read and refused
