"""The page parser against the sample page's answer key, and its rules one by one.

One file (~580 lines) per feature, as the rest of tests/: a regression test per parser rule.
"""

from __future__ import annotations

import json
import re

import pytest

from retrieval.articles import Article, derive_article_id
from retrieval.sources.layout import ends_sentence
from retrieval.sources.page import clean_layout_spacing, looks_like_page, parse_page
from tests.sample_values import ROOT, SAMPLE_PAGE

PAGE = SAMPLE_PAGE.read_text(encoding="utf-8")
KEY = json.loads((ROOT / "tests" / "data" / "liaocheng-daily-page.articles.json")
                 .read_text(encoding="utf-8"))["articles"]
CJK_SPACE_CJK = re.compile(r"[\u4e00-\u9fff“”，。、][ \t\u3000]+[\u4e00-\u9fff“”，。、]")


@pytest.fixture(scope="module")
def sample() -> list[Article]:
    return parse_page(PAGE, source="聊城日报", date="2023-10-09", page="A2")


def test_sample_page_has_the_eight_articles_of_the_answer_key(sample: list[Article]) -> None:
    assert len(sample) == 8
    assert [a.title for a in sample] == [k["title"] for k in KEY]


@pytest.mark.parametrize("index", range(8))
def test_sample_article_matches_answer_key(sample: list[Article], index: int) -> None:
    article, key = sample[index], KEY[index]
    assert article.title == key["title"]
    assert article.subtitle == key.get("subtitle")
    assert article.kicker == key.get("kicker")
    assert article.authors == tuple(key["byline"].split())
    assert article.text.startswith(key["starts"]), article.text[:40]
    assert article.text.endswith(key["ends"]), article.text[-40:]


def test_photo_caption_without_headline_is_a_photo_credited_to_its_photographer(
    sample: list[Article],
) -> None:
    photo = sample[4]
    assert photo.kind == "photo" and photo.title is None
    assert photo.authors == ("许金松",)
    assert all(a.kind == "article" for i, a in enumerate(sample) if i != 4)


def test_dateline_is_stripped_from_the_body_and_credited_as_author(
    sample: list[Article],
) -> None:
    first = sample[0]
    assert first.text.startswith("10月7日，记者从东昌府区工信局获悉")
    assert "本报讯" not in first.text and first.authors == ("林金彦",)


def test_sample_bodies_have_no_layout_artifacts(sample: list[Article]) -> None:
    bodies = "\n".join(a.text for a in sample)
    assert not CJK_SPACE_CJK.search(bodies)
    for needle in ("投入3000万元", "“双20”", "打响昊泉", "1941年底，8个月大", "9月26日",
                   "1—8月新发放普惠型小微企业贷款利率为5.02%，在2022年下降0.54个百分点"):
        assert needle in bodies
    for article in sample:
        for paragraph in article.paragraphs:
            assert "\n" not in paragraph and paragraph == paragraph.strip()
            # A paragraph never ends mid-sentence: a column break was rejoined.
            assert ends_sentence(paragraph), paragraph[-20:]


def test_sample_column_break_inside_a_sentence_is_rejoined(sample: list[Article]) -> None:
    # "针对前20" / blank line / "名重点企业" and "学校红色文化长" / blank / "廊后" on the page
    assert "针对前20名重点企业" in sample[0].text
    assert "在参观了学校红色文化长廊后，高峰" in sample[2].text


def test_ids_derive_from_source_date_and_title(sample: list[Article]) -> None:
    first = sample[0]
    assert first.id == derive_article_id(source="聊城日报", date="2023-10-09",
                                         title=first.title, body=first.text, page="A2")
    assert (first.source, first.date, first.page) == ("聊城日报", "2023-10-09", "A2")
    assert len({a.id for a in sample}) == 8


def test_reparsing_the_same_page_gives_the_same_articles(sample: list[Article]) -> None:
    again = parse_page(PAGE, source="聊城日报", date="2023-10-09", page="A2")
    assert [a.content_hash for a in again] == [a.content_hash for a in sample]


# --------------------------------------------------------------------------- spacing


@pytest.mark.parametrize(("printed", "clean"), [
    ("■ 本 报 记 者 王培源", "■本报记者王培源"),
    ("在 国 际 市 场 打 响 昊 泉 智 能", "在国际市场打响昊泉智能"),
    ("今年我们投入 3000 万元，盘活", "今年我们投入3000万元，盘活"),
    ("紧盯“双 20”企业", "紧盯“双20”企业"),
    ("10月 8日", "10月8日"),
    ("“1941 年底，8 个月大", "“1941年底，8个月大"),
    ("A 股市场", "A股市场"),
    ("升级到 Windows 11 系统", "升级到Windows 11系统"),
    ("version  2.0   beta", "version 2.0 beta"),
    ("全角　空格　也是排版", "全角空格也是排版"),
    ("投入 ３０００ 万元", "投入３０００万元"),
])
def test_layout_spaces_are_removed_and_text_spaces_kept(printed: str, clean: str) -> None:
    assert clean_layout_spacing(printed) == clean


def test_headline_keeps_the_gap_between_two_phrases_but_not_letter_spacing() -> None:
    from retrieval.sources.layout import clean_layout_spacing as spacing

    assert spacing("链上发力 攀高向强", keep_phrase_gaps=True) == "链上发力 攀高向强"
    assert spacing("召开 2023 年第六次会议", keep_phrase_gaps=True) == "召开2023年第六次会议"
    assert spacing("打 响 昊 泉", keep_phrase_gaps=True) == "打响昊泉"


# --------------------------------------------------------------------------- format detection


CLEAN_ARTICLE = """东昌府区推动工业经济提质增效

10月7日，记者从东昌府区工信局获悉，东昌府区以加力提速工业经济高质量发展为总抓手，瞄准重点抓提升、谋划项目抓技改，全力推动全区工业经济提质增效。

工业是经济发展的“顶梁柱”和“压舱石”。东昌府区坚持产业和行业分析，盯紧骨干企业、重点行业，充分发挥帮包服务队、驻企联络员的作用，密切跟踪重点企业主要指标变动趋势，发现苗头性、趋势性问题及时解决。

东昌府区以工业转型升级推动经济发展提质增效。该区狠抓现有技改项目，重点关注海菲特智能挖掘机项目。
"""


def test_page_text_looks_like_a_page() -> None:
    assert looks_like_page(PAGE)
    assert looks_like_page(HEADLINE_FIRST_PAGE)


def test_clean_single_article_does_not_look_like_a_page() -> None:
    assert not looks_like_page(CLEAN_ARTICLE)
    assert not looks_like_page("# 标题\n\n" + CLEAN_ARTICLE.replace("\n\n", "\n"))
    assert not looks_like_page("")


# --------------------------------------------------------------------------- other layouts


HEADLINE_FIRST_PAGE = """新华社发布秋粮收购新举措
——多地启动最低收购价执行预案

新华社北京１０月８日电（记者 张三 李四）国家粮食
和物资储备局８日表示，今年秋粮
收购工作全面展开，各地粮食部门
已准备充足仓容。

据介绍，今年将继续在主产区启动
最低收购价执行预案，切实保护种
粮农民利益。

城区新增三处口袋公园

本报记者 王五 通讯员 赵六

记者从市园林局获悉，今年城区新
建的三处口袋公园已于近日向市民
开放，总面积达１２０００平方米。

公园内设置了健身步道、儿童游乐
区和休憩座椅，受到附近居民欢迎。
"""


def test_headline_before_body_page_is_split_into_its_stories() -> None:
    articles = parse_page(HEADLINE_FIRST_PAGE, source="测试报")
    assert [a.title for a in articles] == ["新华社发布秋粮收购新举措", "城区新增三处口袋公园"]
    first, second = articles
    assert first.subtitle == "多地启动最低收购价执行预案"
    assert first.authors == ("张三", "李四")
    assert first.paragraphs == (
        "国家粮食和物资储备局８日表示，今年秋粮收购工作全面展开，各地粮食部门已准备充足仓容。",
        "据介绍，今年将继续在主产区启动最低收购价执行预案，切实保护种粮农民利益。",
    )
    assert second.authors == ("王五", "赵六")
    assert second.text.startswith("记者从市园林局获悉")
    assert "１２０００平方米" in second.text  # full-width digits stay as printed


@pytest.mark.parametrize("text", ["", "   \n\n  ", "hello world\n1234\n", "%%%%\n----\n~~~"])
def test_empty_or_garbage_text_gives_no_articles(text: str) -> None:
    assert parse_page(text) == []


# --------------------------------------------------------------------------- regressions

RUNNING_HEAD_PAGE = """2023年10月9日 星期一 责编：王五 版式：赵六

稳中求进，再添新动能

本报讯（记者 张三）今年以来，我市工业经
济运行总体平稳，重点企业生产订单充足，
新开工项目数量同比增长明显。

第3版
"""


def test_running_heads_and_feet_are_dropped_and_a_comma_headline_is_kept() -> None:
    (article,) = parse_page(RUNNING_HEAD_PAGE)
    assert article.title == "稳中求进，再添新动能"
    assert article.kicker is None
    assert article.authors == ("张三",)
    assert "星期" not in article.text and "第3版" not in article.text


COMMA_HEADLINE_PLAIN_BODY = """城区新增三处口袋公园，市民乐享绿意

记者从市园林局获悉，今年城区新
建的三处口袋公园已于近日向市民开放，
总面积达一万二千平方米。
"""


def test_headline_with_a_comma_before_plain_body_text_is_a_headline() -> None:
    (article,) = parse_page(COMMA_HEADLINE_PLAIN_BODY)
    assert article.title == "城区新增三处口袋公园，市民乐享绿意"
    assert article.text.startswith("记者从市园林局获悉")


COLUMN_BREAK_PAGE = """城区新增三处口袋公园

本报讯（记者 张三）今年城区新建的三处
口袋公园已于近日向市民开放。与其他城
区的公园相比，新建公园的面积较大，设

施更加齐全，附近居民纷纷前来游玩。

这些公园内设置了健身步道、儿童游乐区
和休憩座椅，受到附近居民的普遍欢迎。
"""


def test_full_body_line_alone_at_a_column_break_is_not_a_headline() -> None:
    (article,) = parse_page(COLUMN_BREAK_PAGE)
    assert article.title == "城区新增三处口袋公园"
    assert "新建公园的面积较大，设施更加齐全" in article.text


LATIN_WRAP_PAGE = """■ 本报记者 张三

这款游戏是2000年由索尼公司发售的
PlayStation平台专用游戏，制作公司
位于东京，玩家扮演一名度过暑假的小
学生。

我的暑假稳步推进
"""


def test_line_short_only_because_a_latin_word_did_not_fit_is_body_text() -> None:
    (article,) = parse_page(LATIN_WRAP_PAGE)
    assert article.title == "我的暑假稳步推进"
    assert article.text.startswith("这款游戏是2000年由索尼公司发售的PlayStation平台")


CAPTION_PAGES = {
    "run-in credit": """城区新增三处口袋公园

■ 本报记者 王五

记者从市园林局获悉，今年城区新建的
三处口袋公园已于近日向市民开放。

10月8日，市民在公园内散步。（本报
记者 许金松 摄）

秋粮收购工作全面展开

■ 本报记者 赵六

国家粮食和物资储备局8日表示，今年
秋粮收购工作全面展开。
""",
    "plain box": """城区新增三处口袋公园

■ 本报记者 王五

记者从市园林局获悉，今年城区新建的
三处口袋公园已于近日向市民开放。

10月8日，市民在公园内散步。

■ 本报记者 许金松

秋粮收购工作全面展开

■ 本报记者 赵六

国家粮食和物资储备局8日表示，今年
秋粮收购工作全面展开。
""",
}


@pytest.mark.parametrize("form", sorted(CAPTION_PAGES))
def test_caption_between_headline_first_stories_is_split_off_without_a_photo_box(
    form: str,
) -> None:
    park, photo, grain = parse_page(CAPTION_PAGES[form])
    assert (park.title, park.authors) == ("城区新增三处口袋公园", ("王五",))
    assert park.text.endswith("已于近日向市民开放。")
    assert (photo.kind, photo.title, photo.authors) == ("photo", None, ("许金松",))
    assert photo.text == "10月8日，市民在公园内散步。"
    assert (grain.title, grain.authors) == ("秋粮收购工作全面展开", ("赵六",))


SHORT_LAST_PARAGRAPH_PAGE = """漠河机场是中国位置最北、纬度最高
的民用机场。跑道长2200米，宽45米，飞
行区等级4C级，可以起降波音737-800以
下机型。停机坪面积12320平方米，可同
时停放两架中型客机。航站楼面积2000平
方米，可满足年旅客吞吐量12万人次的需
要。

在2008年6月18日开通经哈尔滨往返
北京的航线。2014年12月，漠河机场站坪
扩建工程顺利通过竣工验收。

漠河古莲机场焕发新活力
"""


def test_paragraph_opening_line_before_a_short_last_paragraph_is_not_a_headline() -> None:
    # The line under the blank is a first line (indent lost); the line after it runs on at
    # full width although the paragraph is too short to measure the column on.
    (article,) = parse_page(SHORT_LAST_PARAGRAPH_PAGE)
    assert article.title == "漠河古莲机场焕发新活力"
    assert article.text.endswith("在2008年6月18日开通经哈尔滨往返北京的航线。2014年12月，"
                                 "漠河机场站坪扩建工程顺利通过竣工验收。")


DATELINE_LATIN_WRAP_PAGE = """手抄本的前世今生

新华社北京9月9日电（记者 冯培）波旁
尼克手抄本或译为波朋尼克手抄本（Codex
Borbonicus）是阿兹特克手抄本之一。宇航员A.
J. Apponi与Barry Turner在分子云中发现了它。
"""


def test_latin_words_broken_over_lines_keep_their_space_in_a_dateline_paragraph() -> None:
    (article,) = parse_page(DATELINE_LATIN_WRAP_PAGE)
    assert article.authors == ("冯培",)
    assert "（Codex Borbonicus）" in article.text
    assert "宇航员A. J. Apponi与Barry Turner" in article.text


@pytest.mark.parametrize(("printed", "title"), [
    ("九龙巴士7号  再添新动能", "九龙巴士7号 再添新动能"),
    ("莱昂德罗·内 开启新篇章", "莱昂德罗·内 开启新篇章"),
    ("在 国 际 市 场 打 响 昊 泉", "在国际市场打响昊泉"),
])
def test_headline_phrase_gap_is_kept_next_to_a_figure_or_a_name(printed: str, title: str) -> None:
    from retrieval.sources.layout import clean_layout_spacing as spacing

    assert spacing(printed, keep_phrase_gaps=True) == title


WORD_ACROSS_PAGE = """■ 本报记者 任轩

在一战时期主政的青年土耳其党的领导人物纷纷逃亡
国外。以菲利特为首的亲协约国人士成立新政府，审判主
战份子，并命令小亚细亚的军政官员向协约国合作。部份
在小亚细亚的军官并没有遵照伊斯坦堡政府的指示，而是
把武器收起或交给当地反抗组织组成的民兵、游击队，协
助他们对抗到来占领土地的协约国军队，促使后来的土耳
其独立战争发生。

穆德洛斯停战协定的前世今生

长鼻王是一种膨化夹心卷的商标名，它由台商合资的
嘉兴长鼻王食品有限公司生产，台商合资杭州大恩食品有
限公司经销。生活中一般都将长鼻王指代该产品本身。

长鼻王 引发广泛关注
"""


def test_headline_ending_a_word_that_the_next_line_could_extend_is_still_a_headline() -> None:
    # "…前世今生" + "长鼻王…" could be cut as "生长", but "前世今生" is a word of its own.
    first, second = parse_page(WORD_ACROSS_PAGE)
    assert (first.title, first.authors) == ("穆德洛斯停战协定的前世今生", ("任轩",))
    assert first.text.endswith("促使后来的土耳其独立战争发生。")
    assert second.title == "长鼻王 引发广泛关注"
    assert second.text.startswith("长鼻王是一种膨化夹心卷")


EXCLAIMED_HEADLINE_PAGE = """吕凯为云南太守，封阳迁亭侯。不久吕凯被叛夷所杀。吕祥，
继承阳迁亭侯爵位。晋时为南夷校尉，后来又做了很多事情。

吕凯蜀汉开启新篇章！

书签（ Bookmark ）是浏览器中用以储存网址的一个设计，方
便使用者不须以纸笔抄写或记住网址即能迅速连结至网站。所有
现代网页浏览器都有书签功能，在早期浏览器中叫作热门名单。

书签浏览器引发广泛关注
"""


def test_short_exclaimed_headline_before_a_loosely_spaced_first_line_is_a_headline() -> None:
    first, second = parse_page(EXCLAIMED_HEADLINE_PAGE)
    assert first.title == "吕凯蜀汉开启新篇章！"
    assert second.title == "书签浏览器引发广泛关注"
    assert second.text.startswith("书签（Bookmark）是浏览器")


CREDIT_ALONE_PAGE = """松鸦稳步推进

■ 本报记者 毛怡

聊城监管分局主动靠前，加强与市财政局、人民银行等部门工作
配合，全力做好示范区创建资源保障，完善配套措施。

松鸦是一种分布极广泛的鸦科动物，包括西欧大部分地区，至非
洲的东北部。在欧洲，松鸦很常见。
（钟平 摄）
"""


def test_run_in_photo_credit_alone_on_the_last_line_is_not_a_headline() -> None:
    story, photo = parse_page(CREDIT_ALONE_PAGE)
    assert (story.title, story.authors) == ("松鸦稳步推进", ("毛怡",))
    assert (photo.kind, photo.title, photo.authors) == ("photo", None, ("钟平",))
    assert photo.text == ("松鸦是一种分布极广泛的鸦科动物，包括西欧大部分地区，至非洲的东北部。"
                          "在欧洲，松鸦很常见。")


FULL_WIDTH_HEADLINE_PAGE = """■ 本报记者 苑莘

会上，与会人员对相关方案进行了认真研
究，充分发表了意见。会议强调，要坚持实事
求是，依法依规开展服务，让工作成绩经得起
历史考验。

市国土空间规划审查委员会召开第六次全会议

李成栋字廷贞，山西人，一说是宁夏人氏。
原为李闯军部将，降明、降清，后来又反清复
明，一生叛降无常，曾指挥过嘉定三屠。

李成栋明朝 持续升温
"""


def test_headline_as_wide_as_the_column_above_a_one_line_first_paragraph() -> None:
    # The paragraph above ends on a short line, so a body line after it would be a first
    # line (two characters short); a full line there is a headline, although the line
    # under it, a first line ending a sentence, looks like running text.
    first, second = parse_page(FULL_WIDTH_HEADLINE_PAGE)
    assert (first.title, first.authors) == ("市国土空间规划审查委员会召开第六次全会议", ("苑莘",))
    assert first.text.endswith("让工作成绩经得起历史考验。")
    assert second.title == "李成栋明朝 持续升温"
    assert second.text.startswith("李成栋字廷贞")


LATIN_CARRY_PAGE = """哈代空间跑出加速度

■ 本报记者 孔博萍

对于formula_2，实哈代空间
基本上等于formula_3空间。当
formula_4时，formula_3空间较难
操作，而哈代空间的性质就比较容
易掌握。在较高维的情况，我们可
考虑管状域（复数情形）及

formula_6上的函数，从而得到相
应的定义。

哈代空间在数学分析、控制论
及散射理论中有所应用。对
formula_7，哈代空间formula_1定
义为开单位圆盘上满足下述性质的
全纯函数，其左侧的数定义为范数。
"""


def test_line_before_a_running_line_cut_by_a_long_latin_word_is_not_a_headline() -> None:
    # "及散射理论中有所应用。对" stops short only because "formula_7，" did not fit; it
    # runs on, so the short line above it opens a paragraph rather than heading a story.
    (article,) = parse_page(LATIN_CARRY_PAGE)
    assert (article.title, article.authors) == ("哈代空间跑出加速度", ("孔博萍",))
    assert "\n哈代空间在数学分析、控制论及散射理论中有所应用。对formula_7，" in article.text


PLAIN_OPENING_CAPTION_END_PAGE = """第12版 综合

他牺牲时只有８岁，但他却展现出了少年
的勇敢和坚强。所以，作为同龄人的你们是
幸福的，也是幸运的。

筑信仰之基 育时代新人

■ 本报记者 陈远丽

喇嘛是藏传佛教中对上师的称呼，意为上
人或上师，是对僧侣的尊称之一。

喇嘛迎来新进展

市民在公园内散步，享受秋日的阳光。

■ 本报记者 闫金杰 摄
"""


def test_page_opening_with_plain_text_and_ending_with_a_caption_prints_headlines_after() -> None:
    # The page's last item is a photo caption, not a headline; the headline before it
    # still closes the story above it.
    first, second, photo = parse_page(PLAIN_OPENING_CAPTION_END_PAGE)
    assert (first.title, first.authors) == ("筑信仰之基 育时代新人", ())
    assert first.text.startswith("他牺牲时只有８岁")
    assert (second.title, second.authors) == ("喇嘛迎来新进展", ("陈远丽",))
    assert (photo.kind, photo.authors) == ("photo", ("闫金杰",))


CAPTIONS_FIRST_PAGE = """“为落实党中央、国务
院关于发展普惠金融和支持
小微企业融资发展的决策部
署，推动财政金融更好服务
经济社会发展。

■ 本报记者 万勇然 摄

□ 本报记者 邹思红

今年８月，我行联合市直有
关部门开展金融支持行动，
加大财政贴息奖补、贷款风
险补偿、担保费补贴、政府
引导基金等政策支持力度。

开展金融支持民营小微企业和
个体工商户发展三年提升行动

新华社济南７月１７日
电（记者 高思）１０月８
日下午，市委常委、副市长
王峰主持召开会议，集中研
究审议了修建性详细规划方
案、控制性详细规划方案和
部分项目的历史遗留问题。
会上，与会人员对相关方案
进行了认真研究，要坚持实
事求是，依法依规开展服务
，让工作成绩经得起历史考
验。

市国土空间规划审查委员会
召开2023年第六次会议

枉死，或称冤死、屈死。

指不是因年老生病而寿终正
寝，而是因为意外或者被人
杀害而死亡的情况。

枉死开启新篇章
"""


def test_headlines_wider_than_the_column_or_after_a_paragraph_end_on_a_caption_first_page(
) -> None:
    photo, first, second, third = parse_page(CAPTIONS_FIRST_PAGE)
    assert (photo.kind, photo.authors) == ("photo", ("万勇然",))
    # Two lines wider than the column, above a dateline wrapped over two lines.
    assert (first.title, first.authors) == ("开展金融支持民营小微企业和个体工商户发展三年提升行动",
                                            ("邹思红",))
    # A first line filling the column right after a paragraph's short last line.
    assert (second.title, second.authors) == ("市国土空间规划审查委员会召开2023年第六次会议",
                                              ("高思",))
    assert second.text.startswith("１０月８日下午")
    assert third.title == "枉死开启新篇章"


# --------------------------------------------------------------------------- issue 11, item 5:
# what the geometry of a laid-out page shows, read from its text (bench/page_parser.py
# --from-pdf measures it on bench/pdfgen.py's pages)

RUNNING_ON_PAGE = """东昌府区推动工业经济提质增效

本报讯（记者 林金彦）10月7日，记者
从东昌府区工信局获悉，东昌府区以加力
提速工业经济高质量发展为总抓手，瞄准
重点抓提升、谋划项目抓技改，全力推动
全区工业经济提质增效。

工业是经济发展的顶梁柱和
压舱石。东昌府区坚持产业和行业分析，
盯紧骨干企业、重点行业，充分发挥帮包
服务队、驻企联络员的作用，密切跟踪重
点企业主要指标变动趋势。

冠县绿色建材产业链上发力

本报讯（记者 王培源）冠县共有绿色建
材企业15家，其中规模以上企业8家，今
年以来产业链条不断延伸，产值稳步增长。
"""


def test_a_line_after_a_column_break_with_running_text_under_it_is_no_headline() -> None:
    # "工业是经济发展的顶梁柱和" opens the next column and its sentence runs on right under
    # it: a headline sits in a block of its own.
    first, second = parse_page(RUNNING_ON_PAGE)
    assert first.title == "东昌府区推动工业经济提质增效"
    assert first.paragraphs[1].startswith("工业是经济发展的顶梁柱和压舱石。")
    assert second.title == "冠县绿色建材产业链上发力"


def test_a_subtitle_broken_over_two_lines_stays_the_subtitle() -> None:
    text = ("1993年香港迎来新进展\n\n——一线观察：1993年的香港以罕见而严重\n"
            "的人群践踏\n\n■本报记者 马佳英\n1993年的香港，以罕见而严重的人群践踏事件\n"
            "结束了这一年。那天晚上，兰桂坊挤满了\n庆祝新年的人群，秩序一度失控。\n")
    [article] = parse_page(text)
    assert article.title == "1993年香港迎来新进展"
    assert article.subtitle == "一线观察：1993年的香港以罕见而严重的人群践踏"
    assert article.authors == ("马佳英",)


def test_a_caption_set_across_the_picture_is_not_the_next_column_of_the_story_above() -> None:
    text = ("路德维希·普朗特迎来新进展\n\n■本报记者 宋勇洋\n路德维希·普朗特是德国物理\n"
            "学家，近代力学奠基人之一。\n在近半个世纪中，普朗特注意\n"
            "理论与实际的联系，在力学方\n面取得许多开创性成果。\n\n"
            "10月8日，在聊城鑫泰机床有限公司生产车间，工人对生产的工业机器人进行测试。\n"
            "该公司是国家级高新技术企业，自主研发的机器人数控机床管控系统，填补了国内市场\n"
            "空白。\n尹文伟 摄\n")
    story, photo = parse_page(text)
    assert story.title == "路德维希·普朗特迎来新进展" and story.text.endswith("开创性成果。")
    assert photo.kind == "photo" and photo.authors == ("尹文伟",)
    assert photo.text.startswith("10月8日，在聊城鑫泰机床")
    assert photo.text.endswith("国内市场空白。")


def test_a_running_line_naming_a_weekday_is_no_running_head() -> None:
    text = ("津蓟铁路 按下快进键\n\n本报讯（记者 汤梓国）津蓟铁路是联接\n"
            "天津市区和蓟州区的一条支线铁路。据铁\n路局证实，市郊列车计\n划在周末（周五、六、\n日）、暑期、公众假期\n开行，方便市民出游。\n")
    [article] = parse_page(text)
    assert "计划在周末（周五、六、日）、暑期" in article.text


def test_earlier_ids_are_those_of_the_same_story_without_its_date_or_page() -> None:
    from dataclasses import replace

    from retrieval.articles.records import earlier_ids

    def story(date: str | None, page: str | None) -> Article:
        body = "冠县共有绿色建材企业15家。"
        return Article(id=derive_article_id(source="聊城日报", date=date, title="链上发力",
                                            body=body, page=page),
                       title="链上发力", paragraphs=(body,), date=date, source="聊城日报",
                       page=page)

    now = story("2023-10-08", "A3")
    assert set(earlier_ids(now)) == {
        story(date, page).id for date in ("2023-10-08", None) for page in (None, "A3", "A03",
                                                                            "A003")
    } - {now.id}
    assert earlier_ids(story(None, None)) == []  # nothing it lacked before
    assert earlier_ids(replace(now, id="given-by-the-source")) == []
