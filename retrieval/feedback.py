"""Reader feedback (👍/👎 under bot answers), kept in a small SQLite file for staff to export.

One row per (chat, answer message, user): voting again replaces the earlier vote. The row keeps
the question, the answer text as shown and the cited articles, so an export is readable without
the index.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .errors import InputError

FEEDBACK_ENV = "NEWSQA_FEEDBACK"
EXPORT_FIELDS = ("time", "vote", "question", "answer", "citations", "user_id", "chat_id",
                 "message_id")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    chat_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    time TEXT NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,
    PRIMARY KEY (chat_id, message_id, user_id)
)
"""


@dataclass(frozen=True, slots=True)
class CitedArticle:
    n: int
    article_id: str
    title: str | None


@dataclass(frozen=True, slots=True)
class Feedback:
    chat_id: int
    message_id: int  # the answer message voted on
    user_id: int
    vote: int  # +1 👍, -1 👎
    question: str
    answer: str
    citations: tuple[CitedArticle, ...] = ()
    time: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S%z"))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["citations"] = [asdict(c) for c in self.citations]
        return {name: data[name] for name in EXPORT_FIELDS}


def default_path() -> Path:
    """``$NEWSQA_FEEDBACK``, else feedback.sqlite in the per-user data directory."""
    if os.environ.get(FEEDBACK_ENV):
        return Path(os.environ[FEEDBACK_ENV])
    from platformdirs import user_data_path

    return user_data_path("newsqa") / "feedback.sqlite"


class FeedbackStore:
    """Thread-safe: the bot records votes from worker threads."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self._lock = threading.Lock()
        self.path = path

    @classmethod
    def open(cls, path: str | Path | None = None, *, create: bool = True) -> FeedbackStore:
        target = Path(path) if path is not None else default_path()
        if not target.exists() and not create:
            raise InputError("no feedback has been recorded here (no such file)", path=str(target))
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(target, check_same_thread=False, timeout=10)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise InputError(f"not a usable feedback database ({exc})", path=str(target)) from exc
        return cls(connection, target)

    def record(self, feedback: Feedback) -> None:
        citations = json.dumps([asdict(c) for c in feedback.citations], ensure_ascii=False)
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO feedback (chat_id, message_id, user_id, time, vote, "
                "question, answer, citations) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (feedback.chat_id, feedback.message_id, feedback.user_id, feedback.time,
                 feedback.vote, feedback.question, feedback.answer, citations),
            )

    def all(self) -> list[Feedback]:
        with self._lock:
            rows = self._db.execute(
                "SELECT chat_id, message_id, user_id, vote, question, answer, citations, time "
                "FROM feedback ORDER BY time, chat_id, message_id, user_id"
            ).fetchall()
        return [
            Feedback(chat, message, user, vote, question, answer,
                     tuple(CitedArticle(**c) for c in json.loads(citations)), when)
            for chat, message, user, vote, question, answer, citations, when in rows
        ]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_jsonl(rows: Sequence[Feedback], out: TextIO) -> None:
    for row in rows:
        out.write(json.dumps(row.to_dict(), ensure_ascii=False) + "\n")


# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
# (OWASP "CSV injection"); tab and carriage return are in the list because some spreadsheets
# strip them and then read what follows.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def write_csv(rows: Sequence[Feedback], out: TextIO, *, bom: bool = True) -> None:
    """Spreadsheet-friendly: citations as "[1] 标题 (id); [2] …", one answer per row.

    Starts with a UTF-8 byte-order mark (``bom``) so Excel reads the Chinese text as UTF-8,
    and every text cell a reader wrote or the archive holds that would start a formula gets a
    leading apostrophe (the OWASP rule): staff opening the file run nothing.
    """
    if bom:
        out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(EXPORT_FIELDS)
    for row in rows:
        data = row.to_dict()
        data["citations"] = "; ".join(_cited(c) for c in row.citations)
        writer.writerow([neutralise_cell(data[name]) for name in EXPORT_FIELDS])


def neutralise_cell(value: object) -> object:
    """``value`` with a leading ``'`` if it is text a spreadsheet would read as a formula.

    Numbers (ids, votes) are written as they are: -1 is a vote, not a formula.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _cited(citation: CitedArticle) -> str:
    return f"[{citation.n}] {citation.title or '(untitled)'} ({citation.article_id})"
