"""Pick the sentences of an article that answer a question and the span inside them to highlight.

One module (~400 lines): the features, the fitted weights and the highlight rules are fitted
and read together (bench/fit_sentences.py pastes its weights here).

Everything returned is an offset into ``Article.text``: the caller slices the article to show
it, so a quotation can never differ from what the paper printed.

Sentences are ranked by a small logistic model over cheap features (``bench/fit_sentences.py``
fits it on half of CMRC 2018 dev's passages; on the other half the gold sentence is ranked
first 0.725 and within the top three 0.917 of the time, against 0.725 / 0.892 for the previous
seven-feature model):

* ``local``: question words found in the sentence, each weighted by its IDF times how rare it
  is *within this article* - the topic ("冠县") is in every sentence, the distinguishing word
  ("生产线") is not;
* ``bigrams``: share of the question's character bigrams in the sentence (robust to jieba
  segmenting question and article differently);
* ``kind``: the sentence holds a span of the wanted kind (a number for 多少, a date for 何时);
* ``cue``: the sentence has the phrasing that answers this question type (又称 for 又叫什么,
  因为 for 为什么);
* ``previous``: overlap of the preceding sentence (a negative weight: a sentence that merely
  continues the previous one's topic is rarely the answer);
* ``first`` and ``length``: the opening sentence defines, longer sentences say more;
* ``next``: overlap of the following sentence (negative, as ``previous``);
* ``after_best``: the sentence right after the one with most question words - passages
  name the thing, then give the fact asked about ("潘淑……。她是……");
* ``overlap``: plain IDF share of question words (negative next to ``local``: words the
  whole article repeats say nothing about which sentence answers).

``relevance`` (IDF share of question words in the sentence or the headline) is kept apart:
it is comparable across questions, so the not-found threshold applies to it.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..chunks import split_sentences
from ..normalize import jieba_module, normalize_for_search
from ..wordtables import WordTable, open_table
from .question import UNITS, AnswerKind, Question
from .types import Span

# Weights in FEATURES order, from bench/fit_sentences.py (rerun it after changing a feature).
WEIGHTS = (6.85, 4.57, -1.83, 1.26, 1.63, 0.55, -0.38, -1.0, 1.62, -3.81)
BIAS = -4.12
# Further answer sentences (up to max_sentences) are shown when their probability is at least
# this share of the best one's (bench/cmrc.py --oracle, gold passages: 0.1 quotes the gold
# answer 0.911 of the time with 2.2 sentences on average, 0.2 0.890 with 1.8; 0.0 always
# shows three for 0.927).
FURTHER_SENTENCE_RATIO = 0.1
# Sentences checked for a person/place name (POS tagging is too slow for all of them).
NAME_CHECK_DEPTH = 3
# Logit bonus for holding a name of the wanted kind (checked on CMRC person/place questions).
W_NAME = 0.6
# Headline words count at this share toward relevance: a headline sets the topic that the
# body's sentences no longer repeat.
TITLE_WEIGHT = 0.5

# (question phrasing, answer phrasing) pairs for the cue feature.
_CUES = (
    (r"又[叫称名]|别[称名]|俗[称名]|简称|亦称|也称|也叫|称为|叫做|叫什么|称作",
     r"又[叫称名]|别[称名]|俗[称名]|简称|亦称|也称|或称|也叫|通称|旧称|原名|本名|称为|称作|叫做|被称"),
    (r"意思|含义|意为|指什么|是指", r"意[为思指]|是指|指的是|即|含义|意味"),
    (r"为什么|为何|原因", r"因为|由于|因此|所以|原因|为了|导致|因而|以致"),
    (r"如何|怎样|怎么", r"通过|采用|利用|方法|方式|以"),
    (r"职务|职位|官职|头衔|任什么", r"[现担出兼历曾升]任|任职|职务|官至|授予?|封为"),
)
_CUE_RES = tuple((re.compile(q), re.compile(a)) for q, a in _CUES)
_QUESTION_SCAFFOLD = re.compile(r"什么|多少|哪[里儿些个位]?|谁|为什么|怎样|如何|是否|吗|呢|[？?]")
_BIGRAM_RE = re.compile(r"\w\w")

_NUM = r"(?:\d+(?:[.,]\d+)*|[零〇一二两三四五六七八九十百千万亿]+)"
_NUMBER_RE = re.compile(
    _NUM + r"(?:\s*(?:多|余))?(?:\s*[万亿千百])?\s*(?P<unit>" + "|".join(UNITS) + r"|%|％)?"
)
_TIME_RE = re.compile(
    r"(?:公元前?)?\d{1,4}\s*年(?:代|初|底|末)?(?:\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*[日号])?)?"
    r"|\d{1,2}\s*月\s*\d{1,2}\s*[日号]|\d{1,2}\s*月(?:份|初|底)?"
    r"|[一二三四五六七八九十]+世纪(?:[一二三四五六七八九十]+年代)?|\d{1,2}\s*世纪"
    r"|[〇零一二三四五六七八九]{4}年|[一二三四五六七八九十]+月[一二三四五六七八九十]+日"
)
_LIST_ITEM = r"[^，。；：、,;:\s（）()“”]{1,24}"
_LIST_RE = re.compile(
    _LIST_ITEM + r"(?:、" + _LIST_ITEM + r")+(?:(?:和|及|与|以及|或)" + _LIST_ITEM + ")?"
)
# News names people by their post: "董事长张书海说", "副市长王峰主持". jieba's tagger misses
# many such names, so a name right after a post and before a speech verb counts too.
_POSTS = (
    "董事长|总经理|经理|书记|主任|市长|县长|区长|镇长|局长|厅长|省长|部长|主席|院长|校长|"
    "负责人|总裁|会长|所长|站长|队长|社长|处长|科长|村民|党员|教授|医生|老师|记者|通讯员|"
    "先生|女士|同志|专家|代表|委员"
)
_TITLED_NAME_RE = re.compile(
    rf"(?:{_POSTS})(?P<name>[\u4e00-\u9fff]{{2,3}}?)"
    r"(?=说|表示|告诉|介绍|指出|主持|认为|称|强调|坦言|笑着|，|。|、|（|\s)"
)
# The most common Chinese surnames (covering ~90% of people): jieba tags words such as 智能化
# as names ("nr"), so a name must start with one of these.
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
    "郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰"
    "焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁"
    "蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂"
    "全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_CLAUSE_BREAK = re.compile(r"[，,；;：:]")
_POS_FOR_KIND = {AnswerKind.PERSON: ("nr",), AnswerKind.PLACE: ("ns",), AnswerKind.TIME: ("t",)}


@dataclass(frozen=True, slots=True)
class Extraction:
    """The answering part of one article: sentences to quote and the span to highlight."""

    sentences: tuple[Span, ...]  # in text order, 1..max_sentences
    highlights: tuple[Span, ...]  # inside ``sentences``; may be empty
    score: float  # relevance (0..1) of the shown sentences; the not-found threshold applies


@functools.cache
def _idf() -> tuple[WordTable, float]:
    """jieba's IDF table (``jieba/analyse/idf.txt``) and its median, read as jieba reads it.

    Read here instead of through ``jieba.analyse``, whose import also loads the POS tagger's
    word tags (~0.5-1 s), and read by first character (``retrieval/wordtables.py``): parsing
    the whole table took ~0.2 s of every cold ``newsqa ask``.
    """
    import jieba

    path = Path(jieba.__file__).parent / "analyse" / "idf.txt"

    def parse() -> tuple[dict[str, float], float]:
        table = {}
        for line in path.read_bytes().decode("utf-8").splitlines():
            word, weight = line.strip().split(" ")
            table[word] = float(weight)
        return table, sorted(table.values())[len(table) // 2]

    table = open_table("jieba-idf", path, parse)
    return table, float(table.extra)


def term_weight(term: str) -> float:
    """IDF from jieba's table; unknown words (names, rare terms) weigh as the median or more."""
    table, median = _idf()
    weight = table.get(term)
    if weight is None:
        weight = median * (1.2 if len(term) >= 2 else 0.6)
    return weight


def _fold(text: str) -> str:
    """Normalized text for matching; lower-case only if folding would shift offsets."""
    folded = normalize_for_search(text)
    return folded if len(folded) == len(text) else text.lower()


def _term_weights(question: Question) -> list[tuple[str, float]]:
    return [(term, term_weight(term)) for term in question.terms]


def _overlap(folded: str, weights: Sequence[tuple[str, float]], total: float) -> float:
    if total <= 0:
        return 0.0
    return sum(w for term, w in weights if term in folded) / total


def _candidates(
    question: Question, sentence: str, *, tagger: bool = True
) -> list[tuple[int, int]]:
    """Spans (relative to ``sentence``) of the kind of thing the question asks for.

    ``tagger=False`` skips jieba's POS tagger (~2 ms a sentence), for scoring many sentences.
    """
    kind = question.kind
    spans: list[tuple[int, int]] = []
    if kind is AnswerKind.NUMBER:
        # A bare Chinese numeral is usually part of a word (一台台, 十分): it needs a unit.
        spans = [
            m.span() for m in _NUMBER_RE.finditer(sentence)
            if m.group(0).strip() and (m.group(0)[0].isdigit() or m.group("unit"))
        ]
        if question.unit:
            spans = [s for s in spans if sentence[s[0]: s[1]].endswith(question.unit)]
    elif kind is AnswerKind.TIME:
        spans = [m.span() for m in _TIME_RE.finditer(sentence)]
    elif kind is AnswerKind.LIST:
        spans = [m.span() for m in _LIST_RE.finditer(sentence)]
    if kind is AnswerKind.PERSON:
        spans = [m.span("name") for m in _TITLED_NAME_RE.finditer(sentence)]
    if tagger and kind in _POS_FOR_KIND and not spans:
        spans = list(_pos_spans(sentence, _POS_FOR_KIND[kind]))
    if kind is AnswerKind.PERSON:
        spans = [s for s in spans if sentence[s[0]] in _SURNAMES and 2 <= s[1] - s[0] <= 4]
    # A span the question already contains is not its answer ("2023年" in "2023年谁…").
    return [s for s in spans if _fold(sentence[s[0]: s[1]]).strip() not in question.normalized]


# Serves the name check and the highlight of one extraction tagging the same leading
# sentence (~9 ms each); ``extract`` clears it, so it is no memory of past questions.
@functools.lru_cache(maxsize=16)
def _pos_spans(sentence: str, prefixes: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """Runs of consecutive jieba tokens whose POS tag starts with one of ``prefixes``."""
    jieba_module()  # before the tagger: its tokenizer is jieba's default one
    from jieba import posseg

    spans: list[tuple[int, int]] = []
    pos = 0
    for token in posseg.cut(sentence):
        end = pos + len(token.word)
        if token.flag.startswith(prefixes):
            if spans and spans[-1][1] == pos:
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((pos, end))
        pos = end
    return tuple(spans)


# Question words just before a candidate span (or just after it, within its clause or list
# item) vouch for it.
_ANCHOR_BEFORE, _ANCHOR_AFTER = 12, 6
_ITEM_BREAK = "、，,；;。：:"


def _best_candidate(
    spans: list[tuple[int, int]], folded: str, question: Question
) -> tuple[int, int]:
    """The span with most question-word weight around it, within its list item or clause
    ("深加工生产线10条": the 10条 after 深加工, not the 3条 after an earlier 生产线)."""
    weights = [(t, term_weight(t)) for t in question.terms]

    def support(span: tuple[int, int]) -> float:
        lo = max(0, span[0] - _ANCHOR_BEFORE)
        cut = max(folded.rfind(ch, lo, span[0]) for ch in _ITEM_BREAK)
        hi = min(len(folded), span[1] + _ANCHOR_AFTER)
        ends = [i for i in (folded.find(ch, span[1], hi) for ch in _ITEM_BREAK) if i >= 0]
        window = folded[max(lo, cut + 1): min(ends, default=hi)]
        return sum(w for t, w in weights if t in window)

    return max(spans, key=lambda s: (support(s), -s[0]))


def _clause(sentence: str, folded: str, question: Question) -> tuple[int, int]:
    """The clause with most question words, extended by the next one when it adds little."""
    bounds = [0]
    bounds += [m.end() for m in _CLAUSE_BREAK.finditer(sentence)]
    if bounds[-1] != len(sentence):
        bounds.append(len(sentence))
    clauses = list(itertools.pairwise(bounds))
    if len(clauses) <= 1:
        return 0, len(sentence)
    weights = _term_weights(question)
    scored = [
        (sum(w for t, w in weights if t in folded[a:b]), i) for i, (a, b) in enumerate(clauses)
    ]
    best = max(scored)[1]
    start, end = clauses[best]
    # "X是什么" is often answered right after the clause that names X.
    covered = sum(len(t) for t in question.terms if t in folded[start:end])
    if end - start - covered < 6 and best + 1 < len(clauses):
        end = clauses[best + 1][1]
    return start, _trim_punct(sentence, start, end)


def _trim_punct(sentence: str, start: int, end: int) -> int:
    while end > start and sentence[end - 1] in "，,；;：:。！？!?":
        end -= 1
    return end


def highlight(question: Question, sentence: str, *, tagger: bool = True) -> tuple[int, int]:
    """Span (relative to ``sentence``) that answers ``question`` most directly."""
    folded = _fold(sentence)
    spans = _candidates(question, sentence, tagger=tagger)
    if spans:
        return _best_candidate(spans, folded, question)
    return _clause(sentence, folded, question)


def _bigrams(text: str) -> set[str]:
    return {text[i: i + 2] for i in range(len(text) - 1) if _BIGRAM_RE.fullmatch(text[i: i + 2])}


def _question_bigrams(question: Question) -> set[str]:
    return _bigrams(_QUESTION_SCAFFOLD.sub(" ", question.normalized))


def _share(bigrams: set[str], folded: str) -> float:
    return sum(b in folded for b in bigrams) / len(bigrams) if bigrams else 0.0


def holds_enumeration(text: str) -> bool:
    """Whether ``text`` lists items ("装配式预制构件、复合板材、轻型门窗"), as a list question's
    highlight does."""
    return _LIST_RE.search(text) is not None


def question_coverage(question: Question, text: str) -> float:
    """The share of the question's character bigrams (question words left out) that ``text``
    prints: how much of what was asked about a sentence speaks of (0..1).

    Bigrams rather than jieba words, so a sentence that segments a name differently still
    counts; the sentence ranker's ``bigrams`` feature is the same figure.
    """
    return _share(_question_bigrams(question), _fold(text))


@dataclass(frozen=True, slots=True)
class SentenceScores:
    """Per-sentence ``probability`` (ranking within an article) and ``relevance`` (absolute)."""

    probability: list[float]
    relevance: list[float]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


FEATURES = (
    "local", "bigrams", "previous", "kind", "cue", "first", "length",
    "next", "after_best", "overlap",
)


def sentence_features(
    question: Question, text: str, spans: Sequence[tuple[int, int]], *, title: str | None = None
) -> tuple[list[tuple[float, ...]], list[float]]:
    """Per sentence: the ranking features (in ``FEATURES`` order) and the relevance."""
    weights = _term_weights(question)
    total = sum(w for _, w in weights)
    whole = normalize_for_search(text)  # one call per article, sliced when offsets survive
    if len(whole) == len(text):
        folded = [whole[a:b] for a, b in spans]
    else:
        folded = [_fold(text[a:b]) for a, b in spans]
    n = len(spans)
    # Rarity inside the article: log((n+1)/(df+0.5)), so a word in every sentence adds ~nothing.
    local = [
        (t, w * math.log((n + 1) / (sum(t in f for f in folded) + 0.5))) for t, w in weights
    ]
    local_total = sum(w for _, w in local)
    question_bigrams = _question_bigrams(question)
    cue = next((a for q, a in _CUE_RES if q.search(question.normalized)), None)
    wants_kind = question.kind in (AnswerKind.NUMBER, AnswerKind.TIME, AnswerKind.LIST)
    title_folded = _fold(title) if title else ""
    in_title = [(t, w) for t, w in weights if t in title_folded]

    own = [_overlap(f, local, local_total) if local_total > 0 else 0.0 for f in folded]
    best = max(range(n), key=lambda i: own[i]) if n else 0
    features: list[tuple[float, ...]] = []
    relevance: list[float] = []
    for i, ((start, end), sentence) in enumerate(zip(spans, folded, strict=True)):
        bigrams = _share(question_bigrams, sentence)
        has_kind = wants_kind and bool(_candidates(question, text[start:end], tagger=False))
        overlap = _overlap(sentence, weights, total) if total > 0 else 0.0
        features.append((
            own[i],
            bigrams,
            own[i - 1] if i > 0 else 0.0,
            float(has_kind),
            float(bool(cue and cue.search(sentence))),
            float(i == 0),
            min(len(sentence), 200) / 100,
            own[i + 1] if i + 1 < n else 0.0,
            float(i == best + 1 and own[best] > 0),
            overlap,
        ))
        from_title = sum(w for t, w in in_title if t not in sentence)
        relevance.append((overlap + TITLE_WEIGHT * from_title / total) if total > 0 else 0.0)
    return features, relevance


def score_sentences(
    question: Question, text: str, spans: Sequence[tuple[int, int]], *, title: str | None = None
) -> SentenceScores:
    """Score each sentence span of ``text`` for how well it answers ``question``."""
    features, relevance = sentence_features(question, text, spans, title=title)
    probability = [
        _sigmoid(BIAS + sum(w * x for w, x in zip(WEIGHTS, row, strict=True)))
        for row in features
    ]
    return SentenceScores(probability, relevance)


# "“……。”该集团董事长张书海说。": a sentence that only says who spoke the quotation right
# before it. Newspapers put the speaker after the words, so the sentence that names the
# speaker (what retrieval and the reader find) is shown with what was said.
_ATTRIBUTION_END = re.compile(
    r"(?:说|说道|表示|介绍|称|指出|坦言|强调|告诉记者|感慨道?|补充道?)[。！!]$"
)
_CLOSING_QUOTES = "”」』’\""


def same_paragraph(text: str, before: tuple[int, int], after: tuple[int, int]) -> bool:
    """Whether two sentence spans of ``text`` (``before`` ends before ``after`` starts) are in
    one paragraph: no line break between them (``Article.text`` joins paragraphs with one)."""
    return "\n" not in text[before[1]: after[0]]


def quotation_before(text: str, spans: Sequence[tuple[int, int]], i: int) -> int | None:
    """The index of the quotation sentence ``i`` attributes ("“…。”张书海说。"): the sentence
    right before it in the same paragraph, when it ends with a closing quote mark and
    sentence ``i`` ends with a speech verb; else None."""
    if i == 0:
        return None
    if not same_paragraph(text, spans[i - 1], spans[i]):
        return None
    if text[spans[i - 1][1] - 1] not in _CLOSING_QUOTES:
        return None
    return i - 1 if _ATTRIBUTION_END.search(text[slice(*spans[i])]) else None


# A shown answer shorter than this ("他说：", "该集团董事长张书海说。") takes a neighbour along.
MIN_SHOWN_CHARS = 16


def answer_sentences(text: str, span: Span) -> tuple[Span, ...]:
    """The sentence(s) holding ``span``: with the quotation they attribute
    ("“……。”该集团董事长张书海说。"), or else, when they alone are a fragment, with a neighbour
    of the same paragraph: the next sentence, else the one before."""
    spans = split_sentences(text)
    sentences = [Span(a, b) for a, b in spans]
    held = [i for i, s in enumerate(sentences) if s.start < span.end and span.start < s.end]
    if not held:
        return (span,)
    first, last = held[0], held[-1]
    quotation = quotation_before(text, spans, first)
    if quotation is not None:
        first = quotation
    chosen = sentences[first: last + 1]
    if quotation is not None or sum(s.end - s.start for s in chosen) >= MIN_SHOWN_CHARS:
        return tuple(chosen)
    # A neighbour across a paragraph break is another thought (often another topic): the
    # fragment is shown alone rather than with it.
    if last + 1 < len(spans) and same_paragraph(text, spans[last], spans[last + 1]):
        return (*chosen, sentences[last + 1])
    if first > 0 and same_paragraph(text, spans[first - 1], spans[first]):
        return (sentences[first - 1], *chosen)
    return tuple(chosen)


def extract(
    question: Question,
    text: str,
    *,
    title: str | None = None,
    prefer: tuple[int, int] | None = None,
    max_sentences: int = 3,
    check_names: bool = True,
) -> Extraction | None:
    """The sentences of ``text`` that best answer ``question`` (None for an empty text).

    ``prefer`` is the retrieved chunk's range: the best sentence there must be shown, since
    retrieval judged that passage relevant, even when another sentence ranks higher.
    ``check_names=False`` skips the POS tagger (names, places, time words) when ranking many
    articles; extract the cited ones again with it.
    """
    spans = split_sentences(text)
    if not spans:
        return None
    if check_names:
        _pos_spans.cache_clear()
    scores = score_sentences(question, text, spans, title=title)
    prob = scores.probability
    order = sorted(range(len(spans)), key=lambda i: -prob[i])
    if check_names and question.kind in (AnswerKind.PERSON, AnswerKind.PLACE):
        # Names need jieba's POS tagger (~2 ms a sentence), so only the leaders are checked.
        prob = list(prob)
        for i in order[:NAME_CHECK_DEPTH]:
            if _candidates(question, text[spans[i][0]: spans[i][1]]):
                prob[i] = _sigmoid(_logit(prob[i]) + W_NAME)
        order = sorted(range(len(spans)), key=lambda i: -prob[i])
    chosen = [
        i for i in order[:max_sentences] if prob[i] >= FURTHER_SENTENCE_RATIO * prob[order[0]]
    ]
    if prefer is not None:
        inside = [i for i in order if spans[i][1] > prefer[0] and spans[i][0] < prefer[1]]
        if inside and inside[0] not in chosen:
            chosen = [*chosen[: max_sentences - 1], inside[0]]
    best = chosen[0]
    chosen += [q for i in chosen if (q := quotation_before(text, spans, i)) is not None]
    chosen = sorted(set(chosen))
    sentences = tuple(Span(*spans[i]) for i in chosen)
    top = spans[best]
    rel_start, rel_end = highlight(question, text[top[0]: top[1]], tagger=check_names)
    highlights = (Span(top[0] + rel_start, top[0] + rel_end),) if rel_end > rel_start else ()
    return Extraction(
        sentences=sentences, highlights=highlights, score=max(scores.relevance[i] for i in chosen)
    )
