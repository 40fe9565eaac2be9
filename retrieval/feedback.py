"""Reader feedback (👍/👎 under bot answers), kept in a small SQLite file for staff to export.

One row per (chat, answer message, user): voting again replaces the earlier vote. The row keeps
the question, the answer text as shown, its short answer (the reader's span) and the cited
articles, so an export is readable without the index — and 👍 rows can become training pairs
for the reader (``training_pairs``, below).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .answer.regions import read_region
from .articles import Article
from .chunks import split_sentences
from .errors import InputError

FEEDBACK_ENV = "NEWSQA_FEEDBACK"
EXPORT_FIELDS = ("time", "vote", "question", "span", "answer", "citations", "user_id", "chat_id",
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
    span TEXT,
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
    span: str | None = None  # the short answer shown ("答：15家"), if the answer had one
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
            _add_span_column(connection)
        except sqlite3.DatabaseError as exc:
            raise InputError(f"not a usable feedback database ({exc})", path=str(target)) from exc
        return cls(connection, target)

    def record(self, feedback: Feedback) -> None:
        citations = json.dumps([asdict(c) for c in feedback.citations], ensure_ascii=False)
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO feedback (chat_id, message_id, user_id, time, vote, "
                "question, answer, citations, span) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (feedback.chat_id, feedback.message_id, feedback.user_id, feedback.time,
                 feedback.vote, feedback.question, feedback.answer, citations, feedback.span),
            )

    def all(self) -> list[Feedback]:
        with self._lock:
            rows = self._db.execute(
                "SELECT chat_id, message_id, user_id, vote, question, answer, citations, span, "
                "time FROM feedback ORDER BY time, chat_id, message_id, user_id"
            ).fetchall()
        return [
            Feedback(chat, message, user, vote, question, answer,
                     tuple(CitedArticle(**c) for c in json.loads(citations)), span, when)
            for chat, message, user, vote, question, answer, citations, span, when in rows
        ]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _add_span_column(connection: sqlite3.Connection) -> None:
    """Databases written before the short answer was kept get its column (empty for old rows)."""
    columns = {row[1] for row in connection.execute("PRAGMA table_info(feedback)")}
    if "span" not in columns:
        with connection:
            connection.execute("ALTER TABLE feedback ADD COLUMN span TEXT")


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


# -- votes as training pairs for the reader ---------------------------------------------------

REVIEW_FILE = "review.jsonl"


@dataclass
class TrainingPairs:
    """Voted answers in the reader's training shape (``contexts.jsonl`` + ``qa.jsonl``, as
    ``python -m retrieval.reader.train --data`` reads), the answers voted down for staff to
    review (``review.jsonl``), and why the other votes were left out."""

    contexts: dict[str, dict[str, Any]] = field(default_factory=dict)  # by context_id
    questions: list[dict[str, Any]] = field(default_factory=list)
    review: list[dict[str, Any]] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)

    def leave_out(self, reason: str) -> None:
        self.left_out[reason] = self.left_out.get(reason, 0) + 1

    def add(self, qid: str, question: str, context: dict[str, Any], answer: str | None,
            at: int | None = None) -> None:
        """One question on one passage: ``answer`` at ``at``, or (None) "not in it"."""
        self.contexts.setdefault(context["context_id"], context)
        self.questions.append({
            "id": qid, "question": question, "answers": [] if answer is None else [answer],
            "answer_starts": [] if at is None else [at], "context_id": context["context_id"],
        })

    def write(self, folder: Path) -> None:
        """The three files, each replaced whole (``atomic_write``)."""
        from functools import partial

        from .index.files import atomic_write, write_all

        folder.mkdir(parents=True, exist_ok=True)
        for name, rows in (("contexts.jsonl", list(self.contexts.values())),
                           ("qa.jsonl", self.questions), (REVIEW_FILE, self.review)):
            data = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()
            atomic_write(folder / name, partial(write_all, data=data))


def training_pairs(rows: Sequence[Feedback], article: Callable[[str], Article | None],
                   reviewed: Sequence[dict[str, Any]] = ()) -> TrainingPairs:
    """One pair per answer that staff voted 👍 more often than 👎: the question, and the part
    of the first cited article the reader would read, with the short answer's offsets in it.

    An answer voted 👎 more often goes to ``review`` instead: a 👎 says the span is wrong,
    not what is right, and the article may still hold the answer (a wrong span in the right
    article is the reader's commonest miss), so it is never guessed into a "no answer"
    example. Staff write the right words into its ``answer`` — or "" when the passage does
    not say it — and the ``reviewed`` lines (``read_review``) become pairs: the words where
    they are, or the passage as one that does not answer. ``article`` looks an article up by
    id (``Library.article``).
    """
    votes: dict[tuple[str, str, str], list[Feedback]] = {}
    pairs = TrainingPairs()
    for row in rows:
        if not row.span:
            pairs.leave_out("no short answer")
        elif not row.citations:
            pairs.leave_out("no source cited")
        else:
            votes.setdefault((row.question, row.span, row.citations[0].article_id), []).append(row)
    review = {line["id"]: line for line in reviewed}
    for (question, span, article_id), voted in votes.items():
        balance = sum(v.vote for v in voted)
        if balance == 0:
            pairs.leave_out("as many 👍 as 👎")
            continue
        found = article(article_id)
        if found is None:
            pairs.leave_out("article no longer in the archive")
            continue
        at = _span_in(found.text, span, voted[0].answer)
        if at is None:
            pairs.leave_out("short answer not found once in the article")
            continue
        lo, hi = read_region(found.text, at, at + len(span))
        # Ids from the content, so two exports of the same votes mix without clashing.
        context = {"context_id": f"{article_id}-{lo}",  # "<article>-<n>": the held-out unit
                   "title": found.title, "text": found.text[lo:hi]}
        key = "\x1f".join((question, span, article_id)).encode("utf-8")
        qid = "feedback-" + hashlib.sha1(key).hexdigest()[:16]
        if qid in review:  # staff reviewed it: their answer stands, whatever the votes now
            continue
        if balance > 0:
            pairs.add(qid, question, context, span, at - lo)
        else:
            review[qid] = {"id": qid, "question": question, "rejected": span, **context,
                           "answer": None}
    pairs.review = list(review.values())
    for line in pairs.review:
        if line["answer"] is not None:
            context = {k: line.get(k) for k in ("context_id", "title", "text")}
            answer = line["answer"] or None
            pairs.add(line["id"], line["question"], context, answer,
                      None if answer is None else line["text"].index(answer))
    return pairs


def read_review(path: Path) -> list[dict[str, Any]]:
    """The lines of a ``review.jsonl`` as staff left them (none if there is no file yet);
    a line that cannot be used is an error naming it, before anything is written."""
    if not path.exists():
        return []
    lines = []
    with path.open(encoding="utf-8") as f:
        for n, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise InputError(f"not JSON ({exc.msg}); fix or remove that line",
                                 path=str(path), line=n) from None
            problem = _review_problem(line)
            if problem:
                raise InputError(f"{problem}; fix or remove that line", path=str(path), line=n)
            lines.append(line)
    return lines


def _review_problem(line: object) -> str | None:
    if not isinstance(line, dict):
        return "not a JSON object"
    for name in ("id", "question", "context_id", "text"):
        if not isinstance(line.get(name), str) or not line[name]:
            return f'"{name}" must be a non-empty string'
    answer = line.get("answer")
    if answer is not None and not isinstance(answer, str):
        return '"answer" must be the answer\'s words, "" (the passage does not say) or null'
    if answer and answer not in line["text"]:
        return f'"answer" {answer!r} is not in "text": copy the words from it'
    return None


def _span_in(text: str, span: str, shown: str) -> int | None:
    """Where ``span`` is in ``text``: the one occurrence whose sentence the answer quoted, or
    the only occurrence; None when neither settles it."""
    places = [m.start() for m in re.finditer(re.escape(span), text)]
    sentences = split_sentences(text)
    quoted = [
        at for at in places
        if any(a <= at < b and text[a:b].strip() in shown for a, b in sentences)
    ]
    if len(quoted) == 1:
        return quoted[0]
    return places[0] if len(places) == 1 else None
