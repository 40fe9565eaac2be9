"""Bot settings: a TOML config file, then environment variables, then command-line options.

    # ~/.config/newsqa/bot.toml (or --config FILE, or $NEWSQA_BOT_CONFIG)
    token = "123456:ABC…"          # or TELEGRAM_BOT_TOKEN
    admins = [11111111]            # may upload documents to ingest
    allowed_users = []             # empty and allowed_chats empty: everyone may use the bot
    allowed_chats = []
    rate_limit = 20                # questions per user per rate_window seconds
    rate_window = 60
    state = "/srv/newsqa/state.sqlite"   # conversations and rate windows (or $NEWSQA_STATE)
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from retrieval.errors import InputError

CONFIG_ENV = "NEWSQA_BOT_CONFIG"
_KNOWN_KEYS = frozenset({
    "token", "api_base_url", "file_base_url", "admins", "allowed_users", "allowed_chats",
    "rate_limit", "rate_window", "feedback", "index", "max_question_chars", "state",
})


@dataclass(frozen=True)
class BotSettings:
    token: str
    api_base_url: str | None = None  # e.g. http://127.0.0.1:8081/bot (token is appended)
    file_base_url: str | None = None
    index_dir: Path | None = None
    feedback_path: Path | None = None  # None: retrieval.feedback.default_path()
    state_path: Path | None = None  # None: retrieval.state.default_path()
    admins: frozenset[int] = field(default_factory=frozenset)
    allowed_users: frozenset[int] = field(default_factory=frozenset)
    allowed_chats: frozenset[int] = field(default_factory=frozenset)
    rate_limit: int = 20
    rate_window: float = 60.0
    max_question_chars: int = 500
    k: int = 3  # cited articles per answer (and results per 🔎 更多 page)

    @property
    def open_to_all(self) -> bool:
        return not self.allowed_users and not self.allowed_chats

    def may_use(self, user_id: int | None, chat_id: int | None) -> bool:
        """Allow-list check; admins are always allowed."""
        if self.open_to_all:
            return True
        return (user_id in self.admins or user_id in self.allowed_users
                or chat_id in self.allowed_chats)

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.admins


def default_config_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path("newsqa") / "bot.toml"


def load_settings(config: Path | None = None, *, env: dict[str, str] | None = None,
                  **overrides: Any) -> BotSettings:
    """Settings from ``config`` (default: $NEWSQA_BOT_CONFIG or the user config file, if it
    exists), then TELEGRAM_BOT_TOKEN / TELEGRAM_API_BASE_URL / TELEGRAM_FILE_BASE_URL, then
    ``overrides`` whose value is not None."""
    environ = os.environ if env is None else env
    explicit = config is not None or bool(environ.get(CONFIG_ENV))
    path = config or Path(environ.get(CONFIG_ENV) or default_config_path())
    values: dict[str, Any] = {}
    if path.exists():
        values = _read_toml(path)
    elif explicit:
        raise InputError("no such config file", path=str(path))
    token = environ.get("TELEGRAM_BOT_TOKEN") or values.get("token")
    if not token:
        raise InputError(
            "no Telegram bot token: set TELEGRAM_BOT_TOKEN or put token = \"…\" in "
            f"{path} (BotFather gives you the token; see docs/bot.md)"
        )
    api = environ.get("TELEGRAM_API_BASE_URL") or values.get("api_base_url")
    files = environ.get("TELEGRAM_FILE_BASE_URL") or values.get("file_base_url")
    if api and not files and api.rstrip("/").endswith("/bot"):
        # Self-hosted Bot API servers serve files under /file/bot next to /bot.
        files = api.rstrip("/")[: -len("/bot")] + "/file/bot"
    settings = BotSettings(
        token=str(token), api_base_url=api, file_base_url=files,
        index_dir=Path(values["index"]) if values.get("index") else None,
        feedback_path=Path(values["feedback"]) if values.get("feedback") else None,
        state_path=Path(values["state"]) if values.get("state") else None,
        admins=_ids(values, "admins", path), allowed_users=_ids(values, "allowed_users", path),
        allowed_chats=_ids(values, "allowed_chats", path),
        rate_limit=_positive(values, "rate_limit", 20, path),
        rate_window=float(_positive(values, "rate_window", 60, path)),
        max_question_chars=_positive(values, "max_question_chars", 500, path),
    )
    given = {name: value for name, value in overrides.items() if value is not None}
    for name in ("admins", "allowed_users", "allowed_chats"):
        if name in given:
            given[name] = getattr(settings, name) | frozenset(given[name])
    return replace(settings, **given)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the config file ({exc})", path=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML ({exc})", path=str(path)) from exc
    unknown = sorted(set(values) - _KNOWN_KEYS)
    if unknown:
        raise InputError(
            f"unknown setting {unknown[0]!r}; known: {', '.join(sorted(_KNOWN_KEYS))}",
            path=str(path),
        )
    return values


def _ids(values: dict[str, Any], key: str, path: Path) -> frozenset[int]:
    raw = values.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(v, int) for v in raw):
        raise InputError(f"{key} must be a list of numeric Telegram ids", path=str(path))
    return frozenset(raw)


def _positive(values: dict[str, Any], key: str, default: int, path: Path) -> int:
    raw = values.get(key, default)
    if not isinstance(raw, int) or raw < 1:
        raise InputError(f"{key} must be a whole number of at least 1", path=str(path))
    return raw
