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
import errno
import os
import stat
from pathlib import Path

from ..errors import InputError
from ..limits import MAX_FILE_BYTES, check_file_size

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
# Formats people send by mistake that are not text yet may hold no NUL byte early on.
_MAGIC = (
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or a .docx/.xlsx/.epub, which are ZIP archives)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document (.doc/.xls)"),
    (b"{\\rtf", "an RTF document"),
    (b"\x7fELF", "a program (ELF executable)"),
)
_FILE_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_text(path: str | Path) -> str:
    """Read and decode a text file; raise InputError naming the file if it is not text."""
    return decode(read_bytes(path), path=str(path))


def read_bytes(path: str | Path) -> bytes:
    """The bytes of a regular file of at most MAX_FILE_BYTES; InputError otherwise.

    Opened without blocking and checked on the open descriptor, so a FIFO, a device such as
    /dev/zero or a socket is refused by name instead of hanging or filling memory.
    """
    name = str(path)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(_open_problem(exc, Path(name)), path=name) from exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((what for test, what in _FILE_KINDS if test(mode)), "not a regular file")
            raise InputError(f"this is {kind}, not a regular file; nothing was read", path=name)
        with os.fdopen(fd, "rb", closefd=True) as stream:
            fd = -1
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", path=name) from exc
    finally:
        if fd >= 0:
            os.close(fd)
    check_file_size(len(data), path=name)
    return data


def _open_problem(exc: OSError, path: Path) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop (the link points back at itself); nothing was read"
    if exc.errno == errno.ENOENT and path.is_symlink():
        return f"dangling symbolic link (its target {os.readlink(path)!r} does not exist)"
    if exc.errno == errno.ENOENT:
        return "no such file or directory"
    return f"cannot read the file ({exc.strerror})"


def decode(data: bytes, *, path: str) -> str:
    """Decode ``data`` read from ``path`` (the name is only used in error messages)."""
    if data.startswith(codecs.BOM_UTF8):
        text = _strict(data, "utf-8", path, skip=len(codecs.BOM_UTF8))
    elif data.startswith(_UTF16_BOMS):
        text = _strict(data, "utf-16", path)
    else:
        for magic, what in _MAGIC:
            if data.startswith(magic):
                raise InputError(
                    f"this is {what}, not text; give newsqa .txt, .md, .jsonl or .html files "
                    "(convert documents to text first)",
                    path=path,
                )
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
