"""What the bot remembers between restarts: each chat's conversation and the rate-limit windows.

A small SQLite file (WAL) beside the feedback database rather than PTB's PicklePersistence:
every change is committed as it happens (one row per chat or user), so a bot killed with
SIGKILL or by the OOM killer loses nothing, and many chats writing at once touch separate rows
instead of one pickle rewritten on a timer. The bot reaches it through this typed object and
never imports sqlite3 itself.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from .answer.conversation import History
from .errors import InputError

STATE_ENV = "NEWSQA_STATE"
# A conversation untouched this long is forgotten (and its row deleted) on the next start.
HISTORY_TTL = 7 * 24 * 3600.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS history (
    chat_id INTEGER PRIMARY KEY,
    updated REAL NOT NULL,        -- Unix time
    data TEXT NOT NULL            -- History.to_dict() as JSON
);
CREATE TABLE IF NOT EXISTS rate (
    name TEXT NOT NULL,           -- which limiter ("questions", "refusals")
    user_id INTEGER NOT NULL,
    stamps TEXT NOT NULL,         -- JSON list of Unix times still inside the window
    PRIMARY KEY (name, user_id)
);
"""


def default_path() -> Path:
    """``$NEWSQA_STATE``, else state.sqlite in the per-user data directory."""
    if os.environ.get(STATE_ENV):
        return Path(os.environ[STATE_ENV])
    from platformdirs import user_data_path

    return user_data_path("newsqa") / "state.sqlite"


class BotState:
    """Thread-safe store of conversations and rate windows; each write commits at once."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self._lock = threading.Lock()
        self.path = path

    @classmethod
    def open(cls, path: str | Path | None = None) -> BotState:
        target = Path(path) if path is not None else default_path()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(target, check_same_thread=False, timeout=10,
                                         isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit is a write, not an fsync (a power cut may lose the last
            # few turns; a killed process loses nothing), so the rate limiter's write, made on
            # the bot's event loop, stays well under a millisecond.
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.executescript(_SCHEMA)
            connection.execute("DELETE FROM history WHERE updated < ?",
                               (time.time() - HISTORY_TTL,))
        except (sqlite3.DatabaseError, OSError) as exc:
            raise InputError(
                f"not a usable bot state database ({exc}); move it aside and the bot starts "
                "with no remembered conversations", path=str(target),
            ) from exc
        return cls(connection, target)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> BotState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- conversations -----------------------------------------------------------------------

    def history(self, chat_id: int) -> History | None:
        """The chat's conversation so far, or None (new chat, /reset, or unreadable row)."""
        with self._lock:
            row = self._db.execute("SELECT data FROM history WHERE chat_id = ?",
                                   (chat_id,)).fetchone()
        if row is None:
            return None
        try:
            return History.from_dict(json.loads(row[0]))
        except (ValueError, TypeError):
            return None  # written by another version: start the conversation afresh

    def set_history(self, chat_id: int, history: History | None) -> None:
        """Remember ``history`` for the chat; None forgets it."""
        with self._lock:
            if history is None or not history.turns:
                self._db.execute("DELETE FROM history WHERE chat_id = ?", (chat_id,))
                return
            self._db.execute(
                "INSERT OR REPLACE INTO history (chat_id, updated, data) VALUES (?, ?, ?)",
                (chat_id, time.time(), json.dumps(history.to_dict(), ensure_ascii=False)),
            )

    # -- rate-limit windows ------------------------------------------------------------------

    def rate_windows(self, name: str, since: float) -> dict[int, list[float]]:
        """Every user's timestamps for limiter ``name`` newer than ``since`` (Unix time).

        Rows with nothing newer are deleted: without that, every user who ever asked would
        keep a row, and a restart would read them all.
        """
        with self._lock:
            rows = self._db.execute("SELECT user_id, stamps FROM rate WHERE name = ?",
                                    (name,)).fetchall()
            windows: dict[int, list[float]] = {}
            stale = []
            for user_id, stamps in rows:
                try:
                    kept = [float(s) for s in json.loads(stamps) if float(s) > since]
                except (ValueError, TypeError):
                    kept = []
                if kept:
                    windows[int(user_id)] = kept
                else:
                    stale.append((name, user_id))
            self._db.executemany("DELETE FROM rate WHERE name = ? AND user_id = ?", stale)
        return windows

    def set_rate_window(self, name: str, user_id: int, stamps: Sequence[float]) -> None:
        with self._lock:
            if not stamps:
                self._db.execute("DELETE FROM rate WHERE name = ? AND user_id = ?",
                                 (name, user_id))
                return
            self._db.execute(
                "INSERT OR REPLACE INTO rate (name, user_id, stamps) VALUES (?, ?, ?)",
                (name, user_id, json.dumps(list(stamps))),
            )
