"""Turn a source file's bytes into text: UTF-8 (with or without BOM), else GB18030/GBK/Big5.

Chinese archives still hold many GBK files, so a file that is not UTF-8 is handed to
charset-normalizer; only Chinese legacy encodings are accepted from it, because a guess of
"cp1252" for a corrupt UTF-8 file would silently turn text into mojibake. Nothing else is
changed except newlines (\\r\\n and \\r become \\n): no Unicode normalisation, since NFC
rewrites CJK compatibility ideographs into other code points and readers must see the text
exactly as printed.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from ..errors import InputError

# charset-normalizer names of the legacy encodings Chinese text comes in; GB2312 and GBK
# are decoded as GB18030, their superset, so a rare character outside them still decodes.
_CHINESE = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "gb18030": "gb18030",
    "hz": "hz",
    "big5": "big5hkscs",
    "big5hkscs": "big5hkscs",
    "cp950": "cp950",
}
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def read_text(path: str | Path) -> str:
    """Read and decode a text file; raise InputError naming the file if it is not text."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", path=str(path)) from exc
    return decode(data, path=str(path))


def decode(data: bytes, *, path: str) -> str:
    """Decode ``data`` read from ``path`` (the name is only used in error messages)."""
    if data.startswith(codecs.BOM_UTF8):
        text = _strict(data, "utf-8", path, skip=len(codecs.BOM_UTF8))
    elif data.startswith(_UTF16_BOMS):
        text = _strict(data, "utf-16", path)
    else:
        nul = data.find(b"\x00")
        if nul >= 0:
            raise InputError(
                f"this is a binary file, not text (NUL byte at offset {nul}); "
                "give newsqa .txt, .md, .jsonl or .html files",
                path=path,
            )
        text = _decode_unmarked(data, path)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InputError("the file is empty; nothing to load", path=path)
    return text


def _decode_unmarked(data: bytes, path: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        encoding = _detect_chinese(data)
        if encoding is not None:
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                pass  # the detector's guess was wrong; report the UTF-8 failure below
        bad = utf8_error.start
        raise InputError(
            f"cannot decode the text: byte 0x{data[bad]:02x} at offset {bad} is not valid "
            "UTF-8, and the file is not recognisably GB18030/GBK or Big5 either; "
            "convert it to UTF-8 (e.g. iconv -f <encoding> -t UTF-8)",
            path=path,
            line=_line_of(data, bad),
        ) from utf8_error


def _detect_chinese(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    # Short texts get several plausible guesses (e.g. cp949 before gb18030); a Chinese
    # newspaper archive makes the Chinese one the right pick whenever it is on the list.
    for match in from_bytes(data):
        encoding = _CHINESE.get(match.encoding.lower())
        if encoding is not None:
            return encoding
    return None


def _strict(data: bytes, encoding: str, path: str, *, skip: int = 0) -> str:
    try:
        return data[skip:].decode(encoding)  # the utf-16 codec drops its byte-order mark
    except UnicodeDecodeError as exc:
        bad = exc.start + skip
        raise InputError(
            f"cannot decode the text: byte at offset {bad} is not valid {exc.encoding}, "
            "although the file starts with a byte-order mark saying it is; re-save it as UTF-8",
            path=path,
            line=_line_of(data, bad),
        ) from exc


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1
