"""Stories continued on another page ("下转第3版" / "上接第1版"): one article when both pages are
read, two honest parts when one is, on PDF pages and page text, as a user runs ``newsqa``.

The sample page's "链上发力 攀高向强" is typeset by bench/pdfgen.py as a first part on page 1
and its rest on page 3 (under the shortened headline "攀高向强"), so the answer to the
sample question lies in the rest and the headline on page 1.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from bench.pagegen import sample_articles
from bench.pdfgen import Jump, PageSpec, PageTruth, split_story, typeset_page
from retrieval.articles import Article
from retrieval.sources.jumps import join_parts, take_jumps
from retrieval.sources.loading import load_path
from retrieval.sources.page_geometry import PageLayout, TextLine, parse_layout
from tests.sample_values import ANSWER, ANSWER_HEADLINE, QUESTION
from tests.telegram.processes import newsqa

PAPER, DATE = "聊城日报", "2023-10-09"


@pytest.fixture(scope="module")
def story() -> Article:
    return next(a for a in sample_articles() if a.title == ANSWER_HEADLINE)


@pytest.fixture(scope="module")
def issue(tmp_path_factory: pytest.TempPathFactory, story: Article
          ) -> tuple[Path, list[PageTruth]]:
    """Pages 1 and 3 of an issue, the answer's story jumping from the first to the second."""
    folder = tmp_path_factory.mktemp("jumped")
    articles = sample_articles()
    split = split_story(story, 200, "answer", repeat="攀高向强")
    assert split is not None
    first, rest, runs_on = split
    assert ANSWER not in first.text and ANSWER in rest.text.replace("\n", "")
    jumps = {first.id: Jump(closing="（下转第3版）"),
             rest.id: Jump(opening="（上接第1版）", runs_on=runs_on)}
    truths = []
    for number, part in ((1, [articles[0], first, articles[2]]),
                         (3, [rest, articles[5], articles[7]])):
        spec = PageSpec(PAPER, DATE, number, columns=7, body=9.0)
        truths.append(typeset_page(part, spec, random.Random(number),
                                   folder / f"page{number}.pdf", jumps))
    assert all(len(t.articles) == 3 for t in truths)
    return folder, truths


def test_both_pages_give_one_article_on_both_pages(issue: tuple[Path, list[PageTruth]],
                                                   story: Article) -> None:
    folder, _ = issue
    got = json.loads(newsqa("parse", str(folder), "--json").stdout)["articles"]
    assert len(got) == 5
    [joined] = [a for a in got if a["title"] == ANSWER_HEADLINE]
    assert joined["paragraphs"] == list(story.paragraphs)
    assert joined["page"] == "1、3" and tuple(joined["authors"]) == story.authors
    assert not any("下转" in p or "上接" in p for a in got for p in a["paragraphs"])
    assert not any(a["title"] == "攀高向强" for a in got)


def test_one_page_alone_keeps_its_part_without_the_marker(
        issue: tuple[Path, list[PageTruth]], story: Article) -> None:
    folder, _ = issue
    [first] = [a for a in json.loads(newsqa("parse", str(folder / "page1.pdf"), "--json")
                                     .stdout)["articles"] if a["title"] == ANSWER_HEADLINE]
    text = "\n".join(first["paragraphs"])
    assert first["page"] == "1" and "下转" not in text and story.text.startswith(text)
    [rest] = [a for a in json.loads(newsqa("parse", str(folder / "page3.pdf"), "--json")
                                    .stdout)["articles"] if a["title"] == "攀高向强"]
    text = "".join(rest["paragraphs"])
    assert rest["page"] == "3" and "上接" not in text
    assert story.text.replace("\n", "").endswith(text)
    shown = newsqa("parse", str(folder / "page3.pdf")).stdout
    assert "上接第1版" not in shown and "第3版" in shown


def test_an_ingested_issue_answers_citing_the_story_once_with_both_pages(
        issue: tuple[Path, list[PageTruth]], tmp_path: Path, embedder: object) -> None:
    folder, _ = issue
    index = tmp_path / "index"
    ingest = newsqa("ingest", str(folder), "--index", str(index))
    assert " 5 added, 0 replaced, 0 unchanged" in ingest.stdout, ingest.stdout
    answer = json.loads(newsqa("ask", QUESTION, "--index", str(index), "--json").stdout)
    assert answer["found"] is True and ANSWER in answer["answer"]
    titles = [c["title"] for c in answer["citations"]]
    assert titles[0] == ANSWER_HEADLINE and titles.count(ANSWER_HEADLINE) == 1
    assert "攀高向强" not in titles
    assert answer["citations"][0]["page"] == "1、3"
    assert f"· {DATE} · {PAPER} 1、3\n" in newsqa("ask", QUESTION, "--index", str(index)).stdout
    again = newsqa("ingest", str(folder), "--index", str(index), "-q")
    assert " 0 added, 0 replaced, 5 unchanged" in again.stdout


def test_a_whole_issue_pdf_joins_its_own_pages(issue: tuple[Path, list[PageTruth]],
                                               tmp_path: Path, story: Article) -> None:
    import pypdfium2 as pdfium

    folder, _ = issue
    whole = pdfium.PdfDocument.new()
    for name in ("page1.pdf", "page3.pdf"):
        whole.import_pages(pdfium.PdfDocument(str(folder / name)))
    whole.save(str(tmp_path / "issue.pdf"))
    [loaded] = load_path(tmp_path / "issue.pdf")
    [joined] = [a for a in loaded.articles if a.title == ANSWER_HEADLINE]
    assert joined.paragraphs == story.paragraphs and joined.page == "1、3"
    assert len(loaded.articles) == 5 and not loaded.jumps


PAGE_1 = """聊城日报  2023年10月9日 星期一  第1版

东昌府区工业经济提质增效

本报讯（记者 林金彦）10月7日，
记者从东昌府区工信局获悉，东昌府区以
加力提速工业经济高质量发展为总抓手，
瞄准重点抓提升、谋划项目抓技改，全力
推动全区工业经济提质增效。
  工业是经济发展的“顶梁柱”和“压
舱石”。东昌府区坚持产业和行业分
析，盯紧骨干企业、重点行业，充分发挥
帮包服务队、驻企联络员的作用，密切
跟踪重点企业主要指标变动趋势，发现
           （下转第3版）

冠县绿色建材产业链上发力

本报讯（记者 王培源）冠县共有绿色建
材企业15家，其中规模以上企业8家，
今年以来产业链条不断延伸，产值稳步
增长，带动就业两千余人，成为县域经
济新的增长点。
"""
PAGE_3 = """聊城日报  2023年10月9日 星期一  第3版

工业经济提质增效
（上接第1版）
苗头性、趋势性问题及时解决。根据不
同行业不同产品的工业增加值率，科学
测算各企业对全区工业增长的贡献度，
实行分类指导、精准服务。
  今年前8个月，全区规模以上工业增
加值同比增长百分之九点五，高于全市
平均水平。

阳谷县秋收进度过半

本报讯（记者 许金松）眼下正值秋收
时节，阳谷县各乡镇抢抓晴好天气，组
织农机下田作业，目前全县玉米收获进
度已经过半，小麦播种准备工作也在有
序推进之中。
"""


def test_page_text_jumps_join_too_and_the_running_head_numbers_the_pages(
        tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(PAGE_1, encoding="utf-8")
    (tmp_path / "b.txt").write_text(PAGE_3, encoding="utf-8")
    got = json.loads(newsqa("parse", str(tmp_path), "--json").stdout)["articles"]
    assert [(a["title"], a["page"]) for a in got] == [
        ("东昌府区工业经济提质增效", "1、3"), ("冠县绿色建材产业链上发力", "1"),
        ("阳谷县秋收进度过半", "3")]
    joined = got[0]
    assert joined["paragraphs"][1].endswith("发现苗头性、趋势性问题及时解决。根据不同行业不同产品的"
                                           "工业增加值率，科学测算各企业对全区工业增长的贡献度，"
                                           "实行分类指导、精准服务。")
    assert joined["paragraphs"][2].startswith("今年前8个月")
    assert joined["date"] == DATE and joined["authors"] == ["林金彦"]
    alone = json.loads(newsqa("parse", str(tmp_path / "b.txt"), "--json").stdout)["articles"]
    assert alone[0]["title"] == "工业经济提质增效" and alone[0]["page"] == "3"
    assert alone[0]["paragraphs"][0].startswith("苗头性")


def _part(title: str | None, page: str, text: str) -> Article:
    return Article(id=f"{page}{title}", title=title, paragraphs=(text,), source=PAPER,
                   date=DATE, page=page)


def test_several_jumps_between_two_pages_pair_by_their_repeated_headlines() -> None:
    parts = take_jumps([
        _part("东昌府区推动工业经济提质增效", "1", "工业是经济发展的（下转第3版）"),
        _part("冠县绿色建材产业链上发力", "1", "冠县共有企业15家，（下转第3版）"),
        _part("建材产业链上发力", "3", "（上接第1版）其中规模以上企业8家。"),
        _part("工业经济提质增效", "3", "（上接第1版）顶梁柱。"),
        _part("阳谷县秋收", "3", "（上接第2版）进度过半。"),
    ])
    joined = [result.article for result, _ in join_parts(parts)]
    assert [(a.title, a.page, a.text) for a in joined] == [
        ("东昌府区推动工业经济提质增效", "1、3", "工业是经济发展的顶梁柱。"),
        ("冠县绿色建材产业链上发力", "1、3", "冠县共有企业15家，其中规模以上企业8家。"),
        ("阳谷县秋收", "3", "进度过半。"),
    ]


def test_a_part_of_another_issue_or_paper_is_not_joined() -> None:
    first = _part("工业经济提质增效", "1", "工业是经济发展的（下转第3版）")
    other_day = Article(id="x", title=None, paragraphs=("（上接第1版）顶梁柱。",),
                        source=PAPER, date="2023-10-10", page="3")
    joined = [result.article for result, _ in join_parts(take_jumps([first, other_day]))]
    assert [a.page for a in joined] == ["1", "3"]
    assert [a.text for a in joined] == ["工业是经济发展的", "顶梁柱。"]


def test_a_rest_printed_without_a_headline_joins_its_first_part(tmp_path: Path,
                                                                 story: Article) -> None:
    # The rest is a block of bare columns opening page 3: a gutter of it runs down the whole
    # page, so the cut reads its first column, then the stories under it, then its other
    # columns; they must go back to it, not to the story read last.
    articles = sample_articles()
    split = split_story(story, 600, "bare", repeat=None)
    assert split is not None
    first, rest, runs_on = split
    jumps = {first.id: Jump(closing="（下转第3版）"),
             rest.id: Jump(opening="（上接第1版）", runs_on=runs_on)}
    for number, part in ((1, [first, articles[0]]),
                         (3, [rest, articles[5], articles[7], articles[2]])):
        typeset_page(part, PageSpec(PAPER, DATE, number, columns=7, body=9.0),
                     random.Random(number), tmp_path / f"p{number}.pdf", jumps)
    loaded = load_path(tmp_path)
    got = [a for f in loaded for a in f.articles]
    [joined] = [a for a in got if a.title == ANSWER_HEADLINE]
    assert joined.paragraphs == story.paragraphs and joined.page == "1、3"
    assert len(got) == 5 and not any(f.jumps for f in loaded)
    others = {a.title: a.paragraphs for a in articles}
    assert all(a.paragraphs == others[a.title] for a in got if a is not joined)


# --------------------------------------------------------------------------- layout rules met
# while reading continued stories (bench/pdf_pages.py --jumps), on hand-placed lines

def _line(text: str, x0: float, top: float, size: float = 9.0) -> TextLine:
    return TextLine(text, x0, top, x0 + len(text) * size, top + size, size)


def _body(x0: float, top: float, texts: list[str]) -> list[TextLine]:
    return [_line(text, x0, top + k * 13.5, 9.0) for k, text in enumerate(texts)]


def test_a_lone_line_shrunk_above_a_headline_is_its_kicker() -> None:
    lines = [_line("国家金融监督管理总局聊城监管分局", 40, 100, 10.5),
             _line("头皮的前世今生", 40, 113, 24.0),
             *_body(40, 150, ["头皮是指头颅上方及后方，", "从皮肤一直到骨膜的部份。",
                              "头皮的血液供应非常丰富。"])]
    [article], _ = parse_layout(PageLayout(tuple(lines), (), 842, 1191))
    assert (article.kicker, article.title) == ("国家金融监督管理总局聊城监管分局", "头皮的前世今生")
    assert article.text.startswith("头皮是指头颅上方")


def test_a_photographers_credit_set_flush_right_is_the_captions() -> None:
    lines = [_line("市国土空间规划审查委员会召开会议", 40, 100, 24.0),
             *_body(40, 140, ["10月8日下午，市委常委、副", "市长王峰主持召开聊城市国土",
                              "空间规划审查委员会2023年", "第六次会议，集中研究审议了",
                              "7个修建性详细规划方案和", "东昌府区部分项目的历史遗",
                              "留问题。"]),
             _line("20世纪20年代，媒介理论家将学说结合起来，", 40, 300, 7.0),
             _line("形成一种新的宣传理论，即魔弹理论。", 40, 310, 7.0),
             _line("■本报记者 周志军 摄", 400, 321, 7.0)]
    story, photo = parse_layout(PageLayout(tuple(lines), (), 842, 1191))[0]
    assert story.text.endswith("部分项目的历史遗留问题。") and story.kind == "article"
    assert photo.kind == "photo" and photo.authors == ("周志军",)
    assert photo.text == ("20世纪20年代，媒介理论家将学说结合起来，"
                          "形成一种新的宣传理论，即魔弹理论。")
