"""Render clean articles as newspaper page text, with the ground truth, to measure the parser.

One module (~500 lines) on purpose: each layout feature is a small renderer, and they share the
one random stream, so pages stay reproducible from a seed only while they are drawn in order.

A generated page imitates what a PDF/OCR extraction of a typeset page gives: lines cut at
the column width (first lines indented two cells, the indent usually lost), blank lines at
column breaks that may split a sentence, paragraphs with or without blank lines between
them, layout spaces around numbers and in letter-spaced lines, headlines before or after
their bodies, kickers (sometimes set directly above a headline no shorter than them),
subtitles, byline boxes, datelines (本报讯 / 新华社…电), photo captions credited after the
caption (a "摄" box, a run-in "（记者 X 摄）", or a plain byline box), headlines with
punctuation and numbers, and page headers/footers (dates, 星期, 责编/版式, 第N版).
Everything random comes from the ``rng`` argument, so a seed reproduces a page exactly.

Bodies come from the sample page's parsed articles and from CMRC 2018 dev passages
(CC BY-SA 4.0, ymcui/cmrc2018; read from ../shared, see bench/shared.py; not copied into the
repo), split into paragraphs at sentence ends, with synthetic headlines and reporter names.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bench.shared import cmrc_dir
from retrieval.articles import Article, derive_article_id
from retrieval.sources.layout import (
    clean_layout_spacing,
    display_width,
    ends_sentence,
    is_cjk,
    join_lines,
)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_PAGE = ROOT / "retrieval" / "data" / "liaocheng-daily-page.txt"
SAMPLE_KEY = ROOT / "tests" / "data" / "liaocheng-daily-page.articles.json"

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_GIVEN = (
    "伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉兰萍红鹏飞宇晨浩然子轩欣怡梓涵"
    "雨泽博文思远嘉琪佳怡志强建国海燕金松旭光培源文轩宏军莘彦凯瑞"
)
_PLACES = ("北京", "上海", "济南", "青岛", "聊城", "广州", "成都", "武汉", "西安", "杭州")
_HEAD_SUFFIXES = ("迎来新进展", "再添新动能", "按下快进键", "跑出加速度", "引发广泛关注",
                  "的前世今生", "持续升温", "焕发新活力", "开启新篇章", "稳步推进")
_SUB_PREFIXES = ("记者走访", "聚焦", "探访", "一线观察：", "关于", "透视")
_KICKERS = ("中国人民银行聊城市分行", "市文化和旅游局", "国家金融监督管理总局聊城监管分局",
            "市教育局", "本报特别策划", "高质量发展调研行", "新时代新征程新伟业")
_ORGS = ("本报", "本报", "本报", "新华社")
_WEEKDAYS = "一二三四五六日"
_SECTIONS = ("要闻", "综合", "经济", "民生", "文化", "时评")
# Headline shapes with punctuation or numbers; {h} is the topic, {s} a stock ending.
_PUNCTUATED_HEADS = ("{h}，{s}", "{h}：{s}", "{h}{s}！", "{h}　{s}", "{n}个项目{s}",
                     "{h}投入{n}万元", "前{m}月{h}{s}", "{h}，{n}家企业{s}")

_SENTENCE = re.compile(r"[^。！？]*[。！？]+[”’」』）]*")
_CLOSING = "，。、；：！？”’）》」』…"
_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


# --------------------------------------------------------------------------- sources


def _name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text.replace("\n", "")) if s.strip()]


def _split_paragraphs(text: str, rng: random.Random, max_chars: int) -> tuple[str, ...]:
    paragraphs: list[str] = []
    current = ""
    total = 0
    for sentence in _sentences(text):
        if total + len(sentence) > max_chars and paragraphs:
            break
        current += sentence
        total += len(sentence)
        if len(current) >= rng.randint(40, 220):
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return tuple(p for p in paragraphs if p)


def _clean_headline(text: str) -> str:
    text = re.sub(r"[\s()（）\[\]【】,，.。:;；!！?？、\"'“”‘’]", "", text)
    return text[:16]


def sample_articles() -> list[Article]:
    """The sample page's articles, cut from its text by the answer key, not by the parser.

    Reading them with ``parse_page`` would make the benchmark's truth depend on the code
    it measures. The page's blank-separated blocks are its paragraphs (a block that ends
    mid-sentence was cut by a column break and runs on into the next); the key's
    ``starts``/``ends`` locate each body, which leaves datelines and bylines out.
    """
    page = SAMPLE_PAGE.read_text(encoding="utf-8")
    key = json.loads(SAMPLE_KEY.read_text(encoding="utf-8"))["articles"]
    paragraphs: list[str] = []
    for block in re.split(r"\n[ \t\u3000]*\n", page):
        if not block.strip():
            continue
        if paragraphs and not ends_sentence(paragraphs[-1]):
            paragraphs[-1] = join_lines([paragraphs[-1], *block.split("\n")])
        else:
            paragraphs.append(join_lines(block.split("\n")))
    text = "\n".join(paragraphs)
    articles: list[Article] = []
    for entry in key:
        start = text.index(entry["starts"])
        end = text.index(entry["ends"], start) + len(entry["ends"])
        articles.append(Article(
            id="", title=entry["title"], paragraphs=tuple(text[start:end].split("\n")),
            subtitle=entry.get("subtitle"), kicker=entry.get("kicker"),
            authors=tuple(entry["byline"].split()),
            kind="article" if entry["title"] else "photo"))
    return articles


def load_cmrc(limit: int = 400) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    with (cmrc_dir() / "contexts.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            rows.append(json.loads(line))
            if len(rows) >= limit:
                break
    return rows


def make_articles(rng: random.Random, count: int, *, cmrc: Sequence[dict[str, str]],
                  sample: Sequence[Article]) -> list[Article]:
    """Clean articles with synthetic headlines, subtitles, kickers, authors and photos."""
    out: list[Article] = []
    # A page never prints the same story twice.
    unused_sample = list(sample)
    used_rows: set[int] = set()
    for _ in range(count):
        photo = rng.random() < 0.12
        if unused_sample and rng.random() < 0.3:
            base = unused_sample.pop(rng.randrange(len(unused_sample)))
            paragraphs = base.paragraphs
            title = base.title or _clean_headline(paragraphs[0][:12]) + rng.choice(_HEAD_SUFFIXES)
        else:
            row_index = rng.randrange(len(cmrc))
            while row_index in used_rows and len(used_rows) < len(cmrc):
                row_index = rng.randrange(len(cmrc))
            used_rows.add(row_index)
            row = cmrc[row_index]
            # The clean text is spacing-clean: CMRC passages carry stray spaces of their own.
            text = clean_layout_spacing(row["text"])
            paragraphs = _split_paragraphs(text, rng, max_chars=rng.randint(200, 900))
            if not paragraphs:
                continue
            title = _clean_headline(row["title"]) + rng.choice(_HEAD_SUFFIXES)
            first = _clean_headline(row["title"])[:6]
            roll = rng.random()
            if roll < 0.15 and len(first) >= 2 and is_cjk(first[-1]):
                # Two phrases set apart by a space, as on the sample page.
                title = first + " " + rng.choice(_HEAD_SUFFIXES)
            elif roll < 0.35 and len(first) >= 2:
                # Real headlines carry commas, colons, exclamation marks and figures.
                shape = rng.choice(_PUNCTUATED_HEADS)
                title = shape.format(h=first, s=rng.choice(_HEAD_SUFFIXES),
                                     n=rng.randint(2, 3000), m=rng.randint(2, 11))
                title = clean_layout_spacing(title.replace("　", " "), keep_phrase_gaps=True)
        if photo:
            paragraphs = tuple(p[:rng.randint(60, 140)] for p in paragraphs[:2])
            paragraphs = tuple(_end_sentence(p) for p in paragraphs)
            out.append(Article(id="", title=None, paragraphs=paragraphs, authors=(_name(rng),),
                               kind="photo"))
            continue
        subtitle = None
        if rng.random() < 0.25:
            subtitle = rng.choice(_SUB_PREFIXES) + _clean_headline(paragraphs[0][4:20])
        kicker = rng.choice(_KICKERS) if rng.random() < 0.15 else None
        authors = tuple(_name(rng) for _ in range(rng.choice((0, 1, 1, 1, 2))))
        out.append(Article(id="", title=title, paragraphs=paragraphs, subtitle=subtitle,
                           kicker=kicker, authors=authors))
    return out


def _end_sentence(text: str) -> str:
    text = text.rstrip("，、；：,;:“‘（《")
    return text if re.search(r"[。！？][”’」』）]*$", text) else text + "。"


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True, slots=True)
class PageStyle:
    headline_first: bool
    width: int  # column width in cells (two per Chinese character)
    column_lines: int  # lines per column; a blank line is printed at each column break
    paragraph_blank: float  # probability of a blank line between paragraphs
    keep_indent: bool  # the extraction kept the two-cell first-line indent as spaces
    fullwidth_digits: bool
    layout_spaces: float  # probability that a line with digits/Latin gets justification spaces
    letter_spacing: float  # probability that a line is letter-spaced end to end
    header: bool = False  # a running head above the stories (date, 星期, 责编, 第N版)
    footer: bool = False  # the same kind of furniture below them

    @classmethod
    def random(cls, rng: random.Random) -> PageStyle:
        return cls(
            headline_first=rng.random() < 0.5,
            width=2 * rng.randint(12, 30),
            column_lines=rng.randint(8, 40),
            paragraph_blank=rng.choice((0.0, 1.0, 1.0, 0.5)),
            keep_indent=rng.random() < 0.25,
            fullwidth_digits=rng.random() < 0.2,
            layout_spaces=rng.choice((0.0, 0.3, 0.6)),
            letter_spacing=rng.choice((0.0, 0.02)),
            header=rng.random() < 0.4,
            footer=rng.random() < 0.25,
        )


_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.%'\-]*| |.", re.S)


def _wrap(paragraph: str, width: int) -> list[str]:
    """Cut a paragraph into column lines; the first line is indented two characters.

    Latin words and numbers are not split (a word space at a break disappears);
    closing punctuation never starts a line (it hangs at the end of the previous one).
    """
    lines: list[str] = []
    current, used, limit = "", 0, width - 4
    for token in _TOKEN.findall(paragraph):
        w = display_width(token)
        if token in _CLOSING and not current and lines:
            lines[-1] += token  # "”、": a second closer hangs with the first
            continue
        if used + w > limit and current:
            if token == " ":
                lines.append(current)
                current, used, limit = "", 0, width
                continue
            if token in _CLOSING or (current[-1] in _CLOSING and token in "”’）》」』"):
                lines.append(current + token)
                current, used, limit = "", 0, width
                continue
            if w <= width:
                lines.append(current)
                current, used, limit = "", 0, width
        if token == " " and not current:
            continue
        current += token
        used += w
    if current:
        lines.append(current)
    return [line.rstrip(" ") for line in lines]


def _justify(line: str, rng: random.Random, style: PageStyle) -> str:
    """Add the spaces a typesetter's justification leaves in extracted text."""
    if rng.random() < style.letter_spacing and all(is_cjk(ch) for ch in line):
        return " ".join(line)
    if rng.random() < style.layout_spaces:
        # The space a typesetter puts between Chinese and Latin/digits, never next to
        # non-CJK marks ("198 °C", "ācārya" stay as they are).
        return re.sub(r"(?<=[^\x00-\x7f])([0-9A-Za-z.%]+)(?=[^\x00-\x7f])",
                      lambda m: _autospace(m, line), line)
    return line


def _autospace(m: re.Match[str], line: str) -> str:
    before, after = line[m.start() - 1], line[m.end()]
    word = re.search("[0-9A-Za-z]", m.group(1)) is not None  # not a lone "." or "%"
    return f" {m.group(1)} " if word and is_cjk(before) and is_cjk(after) else m.group(1)


def _byline_box(authors: Sequence[str], rng: random.Random, *, photo: bool = False) -> list[str]:
    role = "本报记者" if not photo else rng.choice(("本报记者", "本报摄影记者"))
    if rng.random() < 0.3:
        role = " ".join(role)
    marker = rng.choice(("■ ", "■", "", "□ "))
    suffix = " 摄" if photo else ""
    if len(authors) == 1:
        return [f"{marker}{role} {authors[0]}{suffix}"]
    if rng.random() < 0.5:
        return [f"{marker}{role} {authors[0]}", f"本报通讯员 {authors[1]}"]
    second = rng.choice(("通讯员", "实习生"))
    return [f"{marker}{role} {authors[0]} {second} {authors[1]}"]


def _dateline(authors: Sequence[str], rng: random.Random, style: PageStyle) -> str:
    credit = f"记者 {authors[0]}"
    if len(authors) > 1:
        credit += f" {rng.choice(('通讯员', '实习生'))} {authors[1]}"
    org = rng.choice(_ORGS)
    if org == "新华社":
        date = f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日"
        if style.fullwidth_digits:
            date = date.translate(_FULL_WIDTH)
        lead = f"新华社{rng.choice(_PLACES)}{date}电"
    else:
        lead = rng.choice(("本报讯", "本报讯"))
    space = rng.choice(("", "", " "))
    paren = rng.choice((("（", "）"), ("（", "）"), ("(", ")")))
    return f"{lead}{space}{paren[0]}{credit}{paren[1]}"


def _head_lines(article: Article, rng: random.Random, style: PageStyle) -> list[str]:
    lines: list[str] = []
    if article.kicker:
        lines.append(article.kicker)
        # Mostly set apart by a blank line or visibly shorter; sometimes neither, which
        # extracted text cannot tell from a headline broken over two lines.
        shorter = len(article.kicker) + 2 <= len(article.title or "")
        if rng.random() < 0.7 or (not shorter and rng.random() < 0.85):
            lines.append("")
    title = article.title or ""
    head_width = max(style.width, 24) // 2 + rng.randint(0, 6)
    if len(title) > head_width and not re.search(r"[ ，：！]", title):
        cut = _headline_break(title)
        lines.extend([title[:cut], title[cut:]])
    else:
        lines.append(title if " " not in title else title.replace(" ", rng.choice((" ", "  "))))
    if article.subtitle:
        lines.append("——" + article.subtitle)
    return lines


def _headline_break(title: str) -> int:
    """Where a typesetter breaks a long headline: at a word boundary near the middle.

    The first line is kept at least as wide as the second (less two cells) when a boundary
    allows it, as a headline's lines are set; never inside a word, as a column cut would.
    """
    import jieba  # only pages with long headlines need the dictionary

    jieba.setLogLevel(60)
    cuts: list[int] = []
    offset = 0
    for word in jieba.cut(title, HMM=False):
        offset += len(word)
        if 0 < offset < len(title):
            cuts.append(offset)
    if not cuts:
        return (len(title) + 1) // 2

    def badness(cut: int) -> tuple[bool, int]:
        first, second = display_width(title[:cut]), display_width(title[cut:])
        return first < second - 2, abs(first - second)

    return min(cuts, key=badness)


def _body_lines(paragraphs: Sequence[str], rng: random.Random, style: PageStyle,
                *, first_prefix: str = "") -> list[str]:
    out: list[str] = []
    lines_in_column = rng.randint(0, style.column_lines - 1)
    for p_index, paragraph in enumerate(paragraphs):
        text = (first_prefix + paragraph) if p_index == 0 else paragraph
        if p_index and rng.random() < style.paragraph_blank and out and out[-1] != "":
            out.append("")
        for l_index, line in enumerate(_wrap(text, style.width)):
            printed = _justify(line, rng, style)
            if l_index == 0 and style.keep_indent:
                printed = "\u3000\u3000" + printed
            out.append(printed)
            lines_in_column += 1
            if lines_in_column >= style.column_lines:
                if out[-1] != "":
                    out.append("")
                lines_in_column = 0
    while out and out[-1] == "":
        out.pop()
    return out


def _page_date(rng: random.Random) -> str:
    return f"{rng.randint(2015, 2024)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日"


def _furniture(rng: random.Random) -> str:
    """A running head or foot: date and weekday, editors, page number, section."""
    date = f"{_page_date(rng)} 星期{rng.choice(_WEEKDAYS)}"
    editors = f"责编：{_name(rng)} 版式：{_name(rng)}"
    page = rng.choice((f"第{rng.randint(1, 16)}版", f"A{rng.randint(1, 12)}版",
                       f"第{rng.randint(1, 16)}版 {rng.choice(_SECTIONS)}"))
    return rng.choice((
        f"{date} {editors}",
        f"{date}  {page}",
        f"{editors} 校对：{_name(rng)}",
        page,
        date,
        f"聊城日报 {date} {page}",
    ))


def generate_page(articles: Sequence[Article], rng: random.Random, *,
                  style: PageStyle | None = None) -> tuple[str, list[Article]]:
    """Render ``articles`` as one page; returns the page text and the expected articles."""
    style = style or PageStyle.random(rng)
    blocks: list[list[str]] = []
    truth: list[Article] = []
    for index, article in enumerate(articles):
        paragraphs = article.paragraphs
        if style.fullwidth_digits:
            # "JM 26" prints as "JM ２６", and a full-width digit takes no word space.
            paragraphs = tuple(clean_layout_spacing(p.translate(_FULL_WIDTH)) for p in paragraphs)
        expected = replace(article, paragraphs=paragraphs)
        if article.kind == "photo":
            nxt = articles[index + 1] if index + 1 < len(articles) else None
            if style.headline_first:
                # Between two stories a caption is one paragraph; more could not be told
                # apart from the previous story's end.
                paragraphs = paragraphs[:1]
                expected = replace(expected, paragraphs=paragraphs)
            blocks.append(_photo_block(article, paragraphs, nxt, rng, style))
        else:
            blocks.append(_story_block(article, paragraphs, rng, style))
        truth.append(expected)
    if style.header:
        blocks.insert(0, [_furniture(rng)])
    if style.footer:
        blocks.append([_furniture(rng)])
    text = "\n\n".join("\n".join(block) for block in blocks) + "\n"
    truth = [replace(a, id=derive_article_id(source=None, date=None, title=a.title, body=a.text))
             for a in truth]
    return text, truth


def _photo_block(article: Article, paragraphs: tuple[str, ...], nxt: Article | None,
                 rng: random.Random, style: PageStyle) -> list[str]:
    """A photo caption with its credit: a box after it, a run-in "（… 摄）" or a plain box."""
    form = rng.choice(("box", "box", "run-in", "plain"))
    if form == "run-in":
        # "（本报记者 X 摄）" closing the caption's last paragraph.
        credit_text = f"（{rng.choice(('', '本报记者 ', '记者'))}{article.authors[0]} 摄）"
        return _body_lines((*paragraphs[:-1], paragraphs[-1] + credit_text), rng, style)
    credit = _byline_box(article.authors, rng, photo=True)
    # A plain box ("本报记者 X", no 摄) after a caption is only readable as its credit
    # when a headline follows; use "摄" elsewhere.
    if form == "plain" and style.headline_first and nxt is not None \
            and nxt.kind != "photo":
        credit = [re.sub(r" ?摄$", "", credit[0]).replace("摄影记者", "记者")
                  .replace("摄 影 记 者", "记 者")]
    elif "摄" not in credit[0]:
        credit = [credit[0] + " 摄"]
    body = _body_lines(paragraphs, rng, style)
    return [*body, "", *credit]


def _story_block(article: Article, paragraphs: tuple[str, ...], rng: random.Random,
                 style: PageStyle) -> list[str]:
    """A story: headline block before or after its body, credited by a box or a dateline."""
    form = rng.choice(("box", "dateline", "dateline", "box")) if article.authors else "none"
    head = _head_lines(article, rng, style)
    pre: list[str] = []
    prefix = ""
    if form == "box":
        pre = [*_byline_box(article.authors, rng), ""]
    elif form == "dateline":
        prefix = _dateline(article.authors, rng, style)
    body = pre + _body_lines(paragraphs, rng, style, first_prefix=prefix)
    if style.headline_first:
        return [*head, "", *body]
    return [*body, "", *head]


def generate_pages(count: int, seed: int, *, stories: tuple[int, int] = (3, 8)
                   ) -> list[tuple[str, list[Article], PageStyle]]:
    """``count`` pages, reproducible from ``seed``."""
    rng = random.Random(seed)
    cmrc = load_cmrc()
    sample = sample_articles()
    pages: list[tuple[str, list[Article], PageStyle]] = []
    for _ in range(count):
        articles = make_articles(rng, rng.randint(*stories), cmrc=cmrc, sample=sample)
        style = PageStyle.random(rng)
        text, truth = generate_page(articles, rng, style=style)
        pages.append((text, truth, style))
    return pages


if __name__ == "__main__":
    import sys

    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    page_text, page_truth, page_style = generate_pages(1, seed)[0]
    print(page_style)
    print(page_text)
