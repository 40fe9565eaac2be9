"""Make untrusted text safe to store, search and print: the one place text is cleaned.

* ``clean_query`` – a reader's question or search words: lone surrogates (invalid UTF-8 on a
  command line, ``"\\ud800"`` in a JSON batch file) become U+FFFD, terminal escape sequences
  and control characters are dropped, whitespace runs become one space.
* ``clean_text`` – article text on its way into the archive: the same, but newlines (paragraph
  structure) are kept and tabs become spaces. A terminal escape sequence in an article would
  otherwise be stored and printed raw by ``newsqa ask`` (one retitled the terminal).
* ``has_words`` – whether text has anything to read at all (a letter or a digit).

Nothing else changes: no Unicode normalisation, so quotes stay exactly as printed.
"""

from __future__ import annotations

import re
import unicodedata

# ESC-introduced sequences (ECMA-48): CSI "ESC [ … final", OSC "ESC ] … BEL|ST", DCS/SOS/PM/APC
# strings "ESC P|X|^|_ … ST", and two-character escapes; the 8-bit C1 forms likewise.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|\x9d[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
)
_SURROGATES = re.compile("[\ud800-\udfff]")
# C0 and C1 controls except tab, newline and carriage return (handled separately), DEL, and
# the bidirectional overrides/isolates that can make a quote display as something else.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_LINE_SPACE = re.compile(r"[ \t\r\f\v]+")


def _strip_controls(text: str) -> str:
    text = _SURROGATES.sub("\ufffd", text)
    if "\x1b" in text or "\x9b" in text or "\x9d" in text:
        text = _ESCAPES.sub("", text)
    return _CONTROLS.sub("", text)


def clean_query(text: str) -> str:
    """A question or search query as one clean line (possibly empty)."""
    return _SPACES.sub(" ", _strip_controls(text)).strip()


def clean_text(text: str) -> str:
    """Article text with control characters and escape sequences removed, newlines kept."""
    cleaned = _strip_controls(text.replace("\r\n", "\n").replace("\r", "\n"))
    return cleaned.replace("\t", " ") if "\t" in cleaned else cleaned


def clean_line(text: str) -> str:
    """A one-line field (headline, name, page): like ``clean_text`` with newlines as spaces."""
    return _LINE_SPACE.sub(" ", clean_text(text).replace("\n", " ")).strip()


def has_words(text: str) -> bool:
    """True if ``text`` holds at least one letter or digit (not only punctuation/symbols)."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)
