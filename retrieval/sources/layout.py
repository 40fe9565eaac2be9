"""Character classes, display widths and the spacing/line-joining rules of printed pages.

Text extracted from a typeset page carries the typesetter's decisions: spaces added to
justify a line ("打 响 昊 泉", "投入 3000 万元"), letter-spaced bylines ("■ 本 报 记 者") and
line breaks at the column width. These helpers undo exactly that and nothing else; the
rules are documented in docs/page-format.md.
"""

from __future__ import annotations

import itertools
import re
import unicodedata

# Characters that take a full cell in Chinese typesetting and never take a word space
# next to them: ideographs, kana, CJK and full-width punctuation, full-width letters and
# digits, and the curly quotes, dashes and ellipsis Chinese text uses as full-width marks.
_CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x2E80, 0x2FDF),  # radicals
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3040, 0x30FF),  # kana
    (0x3100, 0x312F),  # bopomofo
    (0x3190, 0x31FF),
    (0x3200, 0x33FF),  # enclosed CJK, compatibility
    (0x3400, 0x4DBF),  # extension A
    (0x4E00, 0x9FFF),  # unified ideographs
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0xFE30, 0xFE4F),  # vertical-form punctuation
    (0xFF00, 0xFFEF),  # full-width forms (incl. full-width digits/letters)
    (0x20000, 0x3FFFF),  # extensions B and later
)
_CJK_MARKS = frozenset("“”‘’—–…·•■□●○◆◇▲△★☆")

# Every kind of space a PDF/OCR extraction emits, including the ideographic space.
SPACES = " \t\u00a0\u2002\u2003\u2004\u2005\u2006\u2009\u200a\u202f\u205f\u3000"
_SPACE_RUN = re.compile(f"[{SPACES}]+")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")

# A sentence is complete when it ends with one of these, optionally followed by closers.
_FINAL = "。！？!?…"
_CLOSERS = "”’」』）)》〉】"
_SENTENCE_END = re.compile(f"[{_FINAL}][{_CLOSERS}]*$|[{_FINAL}]{{2}}$")


def is_cjk(ch: str) -> bool:
    """True for characters that sit in a full cell and never take a word space."""
    if ch in _CJK_MARKS:
        return True
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in _CJK_RANGES)


def is_ideograph(ch: str) -> bool:
    code = ord(ch)
    return 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x3FFFF


def char_width(ch: str) -> int:
    """Display width in cells; ambiguous-width marks (“”…) are full width in Chinese print."""
    if is_cjk(ch):
        return 2
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    return sum(char_width(ch) for ch in text)


def ends_sentence(text: str) -> bool:
    """True when ``text`` ends with sentence-final punctuation (possibly inside quotes)."""
    return bool(_SENTENCE_END.search(text.rstrip(SPACES)))


def clean_layout_spacing(text: str, *, keep_phrase_gaps: bool = False) -> str:
    """Remove the spaces a typesetter added, keep the ones that belong to the text.

    A run of spaces is dropped when either neighbour is a CJK character or full-width
    mark ("投入 3000 万元" → "投入3000万元", "“双 20”" → "“双20”", "A 股" → "A股");
    between two Latin/digit tokens it becomes one space ("Windows 11"). With
    ``keep_phrase_gaps`` (headlines), a gap between two phrases is kept as one space,
    because headlines set phrases apart ("链上发力 攀高向强"), while letter-spaced single
    characters ("在 国 际 市 场") still close up.
    """
    text = _ZERO_WIDTH.sub("", text)
    text = text.strip(SPACES)
    if not text:
        return ""
    parts = _SPACE_RUN.split(text)
    out = [parts[0]]
    for prev, nxt in itertools.pairwise(parts):
        left, right = out[-1][-1:], nxt[:1]
        phrase_gap = keep_phrase_gaps and _phrase_gap(prev, nxt)
        word_gap = bool(left and right) and not is_cjk(left) and not is_cjk(right)
        if phrase_gap or word_gap:
            out.append(" ")
        out.append(nxt)
    return "".join(out)


def _phrase_gap(left: str, right: str) -> bool:
    """A headline's gap between two phrases: ideographs meet across it, one side has two.

    "链上发力 攀高向强", "九龙巴士7号 再添新动能" and "莱昂德罗·内 开启新篇章" keep their gap;
    letter-spaced single characters ("在 国 际 市 场") and numbers ("召开 2023 年") do not.
    """
    if len(left) < 2 or len(right) < 2 or not (is_ideograph(left[-1]) and is_ideograph(right[0])):
        return False
    return is_ideograph(left[-2]) or is_ideograph(right[1])


def join_lines(lines: list[str]) -> str:
    """Join the lines of one paragraph as printed, then close up layout spaces."""
    return clean_layout_spacing(join_raw_lines(lines))


# ASCII marks that end a Latin word: a line broken after "A." or "Filan," before a Latin
# word was broken at a word space.
_LATIN_WORD_END = ".,;:!?%')\""


def join_raw_lines(lines: list[str]) -> str:
    """Join the lines of one paragraph as printed, keeping the layout spaces inside lines.

    Lines are cut at the column width, so the break itself carries no space, except
    between two Latin words ("Windows" / "11", "A." / "J. Apponi"): typesetters break
    Latin text at word spaces. Digits split over two lines ("2" / "6日") join without one.
    The layout spaces are kept because a dateline's names are separated by them.
    """
    joined = ""
    for raw in lines:
        line = raw.strip(SPACES)
        if not line:
            continue
        if _latin_word_break(joined, line):
            joined += " "
        joined += line
    return joined


def _latin_word_break(before: str, line: str) -> bool:
    """Was the break between ``before`` and ``line`` a space between two Latin words?"""
    left, right = before[-1:], line[0]
    if not (left and right.isascii() and right.isalnum()):
        return False
    if left.isascii() and left.isalnum():
        return left.isalpha() or right.isalpha()  # "2" / "6日" is one number
    return left in _LATIN_WORD_END and right.isalpha() and len(before) >= 2 \
        and before[-2].isascii() and not before[-2].isspace()
