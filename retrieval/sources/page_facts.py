"""Facts a page prints about itself: its date and its page number.

One place for reading them, whether they come from the user (``--date``), a file name, a
running head ("2023年10月9日 星期一 第3版") or a jump marker ("下转第A3版"), so a page reads
the same wherever its number was printed.
"""

from __future__ import annotations

import datetime as dt
import re

from ..errors import InputError
from .layout import SPACES

_INPUT_DATE = re.compile(r"(\d{4})([-_/]?)(\d{1,2})\2(\d{1,2})")
_CJK_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_FULL_WIDTH = str.maketrans({chr(0xFF10 + k): str(k) for k in range(10)}
                            | {chr(0xFF21 + k): chr(0x41 + k) for k in range(26)}
                            | {chr(0xFF41 + k): chr(0x61 + k) for k in range(26)})


def parse_date(value: str, *, what: str) -> str:
    """Validate a date given as YYYY-MM-DD (or _ / or no separator, or YYYY年M月D日)."""
    text = value.strip()
    m = _INPUT_DATE.fullmatch(text) or _CJK_DATE.fullmatch(text)
    if m is None and len(text) > 10 and text[10] in "T ":  # an ISO timestamp: keep the day
        m = _INPUT_DATE.fullmatch(text[:10])
    if m is not None:
        year, month, day = (int(g) for g in m.groups() if g not in ("", "-", "_", "/"))
        try:
            return dt.date(year, month, day).isoformat()
        except ValueError:
            pass
    raise InputError(
        f"{what} {value!r} is not a valid date; write it as YYYY-MM-DD, e.g. 2023-10-08"
    )


def printed_date(text: str) -> str | None:
    """A date as print sets it ("2023 年 10 月 9 日", full-width digits too), ISO; None when
    it is no real date (2023年2月30日)."""
    try:
        return parse_date(re.sub(f"[{SPACES}]", "", text).translate(_FULL_WIDTH), what="date")
    except InputError:
        return None


def page_number(value: str) -> str:
    """A page number as print and file names give it: "03" → "3", "a3" → "A3", "Ａ３" → "A3"."""
    text = re.sub(f"[{SPACES}]", "", value).translate(_FULL_WIDTH).upper()
    letters = text.rstrip("0123456789")
    digits = text[len(letters):].lstrip("0") or "0"
    return letters + digits
