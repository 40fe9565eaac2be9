"""Question analysis: what kind of answer is wanted, which words carry the topic, which dates.

Everything downstream (retrieval boosts, sentence selection, span highlighting, follow-up
resolution) reads a :class:`Question`, so the rules for reading a question live in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from ..normalize import jieba_module, normalize_for_search


class AnswerKind(StrEnum):
    """The shape of the span that answers a question; it guides highlighting."""

    NUMBER = "number"  # 多少 / 几 → a number with its unit
    TIME = "time"  # 何时 / 哪年 / 什么时候 → a date or time
    PERSON = "person"  # 谁 → a person's name
    PLACE = "place"  # 哪里 / 在哪 → a place name
    LIST = "list"  # 哪些 → an enumeration
    REASON = "reason"  # 为什么 → the clause giving the cause
    MANNER = "manner"  # 怎样 / 如何 → the clause describing how
    ENTITY = "entity"  # 什么 / 哪个 → the clause naming the thing
    OTHER = "other"  # statements, yes/no questions, keyword searches


# Order matters: "几月" is a time, not a number; "哪些人" is a person list, read as PERSON.
_KIND_PATTERNS: tuple[tuple[AnswerKind, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        (AnswerKind.TIME, r"何时|什么时候|什么时间|哪一?年|哪一?天|哪一?日|几月|几号|几日|几点|"
                          r"何年|哪个(?:年代|朝代|时期|世纪|月)|\bwhen\b|what year|what time"),
        (AnswerKind.PERSON, r"谁|哪位|什么人|何人|哪个人|哪些人|\bwho(?:m|se)?\b"),
        (AnswerKind.PLACE, r"哪里|哪儿|在哪|何处|何地|什么地方|哪座城市|哪国|\bwhere\b|"
                           r"哪个(?:国家|城市|地方|省|县|市|区|镇|村)"),
        (AnswerKind.NUMBER, r"多少|几(?!乎)|多[大长高重远久宽深]|百分之几|第几|"
                            r"\bhow (?:many|much|long|old)\b"),
        (AnswerKind.LIST, r"哪些|哪[两三四五六七八九十几]|有什么|\bwhich (?:\w+ )?are\b"),
        (AnswerKind.REASON, r"为什么|为何|原因|怎么会|\bwhy\b"),
        (AnswerKind.MANNER, r"怎样|怎么|如何|什么方式|\bhow\b"),
        (AnswerKind.ENTITY, r"什么|啥|哪[个家支种条类部所座项]|何[种为]|\bwhat\b|\bwhich\b"),
    )
)

# Question scaffolding: words that say *that* something is asked, not *what* it is about.
_QUESTION_WORDS = frozenset(
    """
    什么 什么样 什么时候 什么地方 什么人 多少 几 哪 哪里 哪儿 哪个 哪些 哪位 哪家 哪种 哪年 哪一年
    谁 何 何时 何地 何处 为什么 为何 怎样 怎么 怎么样 如何 是否 吗 呢 吧 啊 么 请问 请 告诉 我 我们
    你 你们 知道 一下 有没有 是不是 能否 可以 多久 多大 多长 多高 多远 一个 哪一个 哪支 哪部
    的 了 和 与 及 或 是 在 有 被 由 对 于 从 把 为 以 之 其 等 也 都 又 就 还 而 并 这 那 该
    它 他 她 它们 他们 她们 这个 那个 这些 那些 呢 上 中 下 到 给 让 向 最 主要 一 曾 曾经 现在 目前
    最近 最新 近期 近日 今年 去年 前年 明年 年 月 日 号 还有 那么 呢 之前 以前 后来 时候 呀 哦
    啦 一共 一般
    what which who whom whose when where why how many much is are was were the a an of in on
    to do does did for by with and or from at as it its that this there their be been about
    """.split()  # noqa: SIM905 - a word list reads best as text
)

_DATE_RE = re.compile(
    r"(?:(?P<year>\d{4}|[〇零一二三四五六七八九]{4})年)?"
    r"(?:(?P<month>\d{1,2}|[一二三四五六七八九十]{1,3})月)?"
    r"(?:(?P<day>\d{1,2}|[一二三四五六七八九十]{1,3})[日号])?"
)
# Measure words that follow 多少/几; longer ones first so "平方公里" wins over "公里".
UNITS = (
    "平方公里", "平方千米", "平方米", "千米", "公里", "公顷", "万元", "亿元", "美元", "元", "千克",
    "公斤", "吨", "米", "厘米", "毫米", "英尺", "英里", "小时", "分钟", "秒", "岁", "年", "个月",
    "月", "天", "日", "周", "倍", "个", "家", "条", "种", "名", "位", "人", "次", "座", "所", "台",
    "辆", "架", "艘", "部", "本", "首", "集", "届", "场", "项", "件", "层", "户", "只", "头",
    "度", "亩", "期", "章", "卷", "票", "支", "类", "批", "份", "句", "篇", "款", "套", "张",
)
_UNIT_RE = re.compile("(?:多少|几)(" + "|".join(UNITS) + ")")
_RELATIVE_YEAR = {"今年": 0, "去年": -1, "前年": -2, "明年": 1}
_RECENT_RE = re.compile(r"最近|最新|近期|近日|日前|这几天|近来|latest|recent", re.IGNORECASE)
_CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}


@dataclass(frozen=True, slots=True)
class DateHint:
    """A date the question mentions; any part may be missing ("8月" has only a month).

    ``relative_year`` is set for 今年/去年 (0/-1): the caller resolves it against the
    archive's newest date, because "this year" means the paper's year, not the clock's.
    """

    text: str
    year: int | None = None
    month: int | None = None
    day: int | None = None
    relative_year: int | None = None


@dataclass(frozen=True, slots=True)
class Question:
    """A question as read by newsqa; ``text`` is exactly what the user typed."""

    text: str
    normalized: str  # simplified script, half-width, lower case: what retrieval sees
    kind: AnswerKind
    terms: tuple[str, ...]  # topic words in question order, without question scaffolding
    dates: tuple[DateHint, ...] = ()
    wants_recent: bool = False
    unit: str | None = None  # the measure word after 多少/几 ("几条生产线" → 条), for NUMBER

    @property
    def has_topic(self) -> bool:
        return bool(self.terms)


def _cn_number(text: str) -> int:
    """Value of a small number written in digits or Chinese numerals (二〇二三, 十, 二十七)."""
    if text.isdigit():
        return int(text)
    if len(text) == 4 and "十" not in text:  # a year written digit by digit
        return int("".join(str(_CN_DIGITS[c]) for c in text))
    if "十" in text:
        tens, _, units = text.partition("十")
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)
    return _CN_DIGITS[text]


def parse_dates(text: str) -> tuple[DateHint, ...]:
    """Explicit and relative dates mentioned in ``text`` (normalized script)."""
    hints: list[DateHint] = []
    for match in _DATE_RE.finditer(text):
        if not match.group(0):
            continue
        year, month, day = (
            _cn_number(match.group(g)) if match.group(g) else None for g in ("year", "month", "day")
        )
        if (month is not None and not 1 <= month <= 12) or (day is not None and not 1 <= day <= 31):
            continue
        relative = None
        if year is None and month is not None:
            prefix = text[max(0, match.start() - 2): match.start()]
            relative = _RELATIVE_YEAR.get(prefix)
        hints.append(DateHint(match.group(0), year, month, day, relative))
    for word, offset in _RELATIVE_YEAR.items():
        # "今年" alone (not "今年8月", handled above) still narrows the year.
        for match in re.finditer(word + r"(?![\d一二三四五六七八九十]{1,2}月)", text):
            hints.append(DateHint(match.group(0), relative_year=offset))
    return tuple(hints)


def answer_kind(text: str) -> AnswerKind:
    for kind, pattern in _KIND_PATTERNS:
        if pattern.search(text):
            return kind
    return AnswerKind.OTHER


def topic_terms(
    normalized: str, *, unit: str | None = None, dates: tuple[DateHint, ...] = ()
) -> tuple[str, ...]:
    """Content words of a question, in order and without repeats.

    jieba's search mode also yields the parts of long words ("绿色建材" → 绿色, 建材, 绿色建材),
    so a sentence that splits a compound differently still matches. A date is kept whole
    ("10月7日"), not as the digits jieba would cut it into.
    """
    terms: list[str] = [d.text for d in dates if d.month is not None or d.year is not None]
    for date in terms:
        normalized = normalized.replace(date, " ")
    # "哪一年", "哪两个": jieba would keep 一年 / 两个 as topic words.
    normalized = _WHICH_RE.sub(" ", normalized)
    jieba = jieba_module()
    for token in jieba.cut_for_search(normalized):
        token = _unglue(token.strip(), jieba)
        if (
            not token
            or token in _QUESTION_WORDS
            or token == unit
            or re.match(r"(?:几|多少|哪)", token)  # "几条", "哪几个": the question word glued on
            or not re.search(r"\w", token)
            or (len(token) == 1 and not token.isdigit() and token.isascii())
            or token in terms
        ):
            continue
        terms.append(token)
    return tuple(terms)


_WHICH_RE = re.compile(
    r"哪(?![里儿])[一两三四五六七八九十几]*[个年位种家条天国月日类部所座项支本首些]?"
)
# Function characters jieba's HMM glues onto an unknown name ("潘淑是", "尚恩有", "瞳于").
_GLUED_SUFFIX = "是有于在的被把将和与"


def _unglue(token: str, jieba: object) -> str:
    """``token`` without a trailing function character when jieba's dictionary does not know
    the longer word: the name alone is what the article prints ("潘淑是哪里人" → 潘淑)."""
    if len(token) >= 2 and token[-1] in _GLUED_SUFFIX and not jieba.dt.FREQ.get(token):  # type: ignore[attr-defined]
        return token[:-1]
    return token


def analyze(text: str) -> Question:
    """Read a question: normalize it, classify the wanted answer, pick topic words and dates."""
    normalized = normalize_for_search(text.strip())
    unit_match = _UNIT_RE.search(normalized)
    unit = unit_match.group(1) if unit_match else None
    dates = parse_dates(normalized)
    return Question(
        text=text,
        normalized=normalized,
        kind=answer_kind(normalized),
        terms=topic_terms(normalized, unit=unit, dates=dates),
        dates=dates,
        wants_recent=bool(_RECENT_RE.search(normalized)),
        unit=unit,
    )
