"""Bylines and datelines as Chinese papers print them.

Two forms carry authors: a byline box on its own line ("■ 本报记者 王培源",
"本报记者 X 通讯员 Y", "本报记者 许金松 摄") and a dateline that opens the first paragraph
("本报讯（记者 林金彦）", "新华社北京10月8日电（记者 X）"). Role words may be letter-spaced
("本 报 记 者") and digits may be full width ("１０月８日"); both are recognised here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .layout import SPACES

_ROLE_WORDS = (
    "摄影记者", "摄影报道", "记者", "通讯员", "实习生", "见习记者", "特约记者", "首席记者",
    "融媒体记者", "全媒体记者", "评论员", "特约评论员", "摄影", "撰稿", "撰文",
)
_ORGS = ("本报", "本刊", "新华社", "人民日报", "中新社", "央视", "本台")
_S = f"[{SPACES}]*"


def _spaced(word: str) -> str:
    """A regex for ``word`` that tolerates letter-spacing between its characters."""
    return _S.join(re.escape(ch) for ch in word)


_ROLE = "(?:" + "|".join(
    f"(?:(?:{'|'.join(_spaced(o) for o in _ORGS)}){_S})?{_spaced(r)}"
    for r in sorted(_ROLE_WORDS, key=len, reverse=True)
) + ")"
_ROLE_RE = re.compile(_ROLE)
_MARKERS = "■□●○◆◇▲△▼▽★☆▶►◎"
# Han names of 2–4 characters, or transliterated ones joined by a middle dot.
_NAME_RE = re.compile(
    r"[\u4e00-\u9fff]{2,4}(?:[·•][\u4e00-\u9fff]{1,8})?|[\u4e00-\u9fff]{1,3}[·•][\u4e00-\u9fff]{1,8}"
)
_SEP_RE = re.compile(f"[{SPACES}、，,/]+")
# "摄" credits a photographer only; "文/图" is a reporter who also took the pictures.
_PHOTO_SUFFIXES = ("摄影", "摄")
_OTHER_SUFFIXES = ("文/图", "文／图", "图/文", "报道", "整理", "图", "文")

# 本报讯 / 大众日报讯 / 新华社讯, or a 电 dateline: 新华社北京10月8日电, 本报北京１０月８日电.
_DATELINE_RE = re.compile(
    rf"^{_S}[【\[]?(?P<lead>本报讯|本刊讯|新华社讯|中新社讯|[\u4e00-\u9fff]{{1,6}}报讯"
    rf"|(?:本报|新华社|中新社|人民日报|[\u4e00-\u9fff]{{2,6}}报)[\u4e00-\u9fff{SPACES}]{{0,10}}?"
    rf"[\d一二三四五六七八九十{SPACES}]{{1,4}}月[\d一二三四五六七八九十{SPACES}]{{1,5}}日{_S}电"
    rf"|新华社[\u4e00-\u9fff]{{0,8}}电)"
    rf"[】\]]?{_S}(?:[（(](?P<credit>[^（()）]{{0,60}})[）)])?{_S}"
)


@dataclass(frozen=True, slots=True)
class Byline:
    authors: tuple[str, ...]
    photo: bool  # the credit is a photographer's ("摄", "摄影")


def parse_byline(text: str, *, require_role: bool = True) -> Byline | None:
    """Parse a byline box line, or the inside of a dateline's parentheses.

    Returns None unless the whole text is roles and names, so body sentences that merely
    mention a reporter ("记者从东昌府区工信局获悉") are never mistaken for bylines.
    """
    s = text.strip(SPACES + _MARKERS)
    had_marker = s != text.strip(SPACES)
    if not s:
        return None
    photo = False
    for suffix in (*_PHOTO_SUFFIXES, *_OTHER_SUFFIXES):
        pattern = re.compile(f"{_S}{_spaced(suffix)}$")
        stripped = pattern.sub("", s)
        # A bare trailing "文"/"图" only counts after a space: "王文" is a name.
        if stripped != s and (len(suffix) > 1 or re.search(f"[{SPACES}]{suffix}$", s)):
            photo = suffix in _PHOTO_SUFFIXES
            s = stripped
            break
    roles = list(_ROLE_RE.finditer(s))
    if not roles and (require_role and not (had_marker and photo)):
        return None
    if roles and "摄影" in roles[0].group(0).replace(" ", ""):
        photo = True
    if roles and s[: roles[0].start()].strip(SPACES):
        return None
    pieces: list[str] = []
    bounds = [(m.start(), m.end()) for m in roles] or [(0, 0)]
    for index, (_, end) in enumerate(bounds):
        stop = bounds[index + 1][0] if index + 1 < len(bounds) else len(s)
        pieces.append(s[end:stop])
    authors: list[str] = []
    for piece in pieces:
        for token in _SEP_RE.split(piece.strip(SPACES + "：:")):
            if not token:
                continue
            if token.endswith("摄") and _NAME_RE.fullmatch(token[:-1]):
                token, photo = token[:-1], True
            if not _NAME_RE.fullmatch(token):
                return None
            authors.append(token)
    if not authors:
        return None
    return Byline(tuple(dict.fromkeys(authors)), photo)


@dataclass(frozen=True, slots=True)
class Dateline:
    end: int  # offset in the paragraph where the body text starts
    authors: tuple[str, ...]


def match_dateline(text: str) -> Dateline | None:
    """Recognise a dateline that opens a paragraph ("本报讯（记者 林金彦）10月7日…")."""
    m = _DATELINE_RE.match(text)
    if not m:
        return None
    credit = m.group("credit")
    authors: tuple[str, ...] = ()
    if credit is not None:
        byline = parse_byline(credit, require_role=False)
        if byline is None:
            # Parentheses right after 本报讯 that are not a credit belong to the sentence.
            return Dateline(m.start("credit") - 1, ())
        authors = byline.authors
    return Dateline(m.end(), authors)


def starts_with_dateline(line: str) -> bool:
    """A line that opens a story with a dateline carrying (or not) a credit."""
    m = _DATELINE_RE.match(line)
    return m is not None
