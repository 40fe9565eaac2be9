"""Long polling that survives updates python-telegram-bot cannot parse.

PTB parses a whole ``getUpdates`` batch at once; one update it cannot read (e.g. a
``poll_answer`` without ``option_persistent_ids`` from an older or self-hosted Bot API server)
fails the batch, is never confirmed, and is fetched again ~150 times a second for ever, even
after a restart. ``SkippingUpdatesRequest`` is the request object PTB uses for ``getUpdates``
only: it tries each update on its own, logs an unreadable one once (truncated, at WARNING) and
hands PTB a bare ``{"update_id": N}`` in its place. PTB then confirms it with the next
``offset`` like any other update, and the bot's gate drops the bare update unseen.

Only the request layer is touched (no PTB internals): the updater, the rate limiter and the
token handling stay PTB's own. The webhook path has no such seam; see docs/bot.md.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from telegram import Update
from telegram.request import HTTPXRequest, RequestData

logger = logging.getLogger(__name__)

LOGGED_CHARS = 300  # how much of an unreadable update the log shows


def is_placeholder(update: Update) -> bool:
    """True for the bare update that stands in for one that could not be parsed."""
    return all(getattr(update, kind, None) is None for kind in Update.ALL_TYPES)


class SkippingUpdatesRequest(HTTPXRequest):
    """HTTPXRequest for ``getUpdates`` that replaces unparseable updates by placeholders."""

    # PTB marks ``post`` final, but it is the one method that sees the parsed JSON of a
    # getUpdates reply before the Update objects are built; extending it is the seam.
    async def post(  # type: ignore[misc]
        self, url: str, request_data: RequestData | None = None, *args: Any, **kwargs: Any
    ) -> Any:
        result = await super().post(url, request_data, *args, **kwargs)
        if not url.endswith("/getUpdates") or not isinstance(result, list):
            return result
        return [self._checked(item) for item in result]

    @staticmethod
    def _checked(item: Any) -> Any:
        try:
            Update.de_json(item, None)
            return item
        except Exception as exc:  # any parse failure: the update is unusable as it is
            update_id = item.get("update_id") if isinstance(item, dict) else None
            if not isinstance(update_id, int):
                raise  # without an id it cannot be confirmed; let PTB report it
            shown = json.dumps(item, ensure_ascii=False, default=str)
            if len(shown) > LOGGED_CHARS:
                shown = shown[:LOGGED_CHARS] + f"… ({len(shown):,} characters)"
            logger.warning("skipped update %d that cannot be parsed (%s: %s): %s", update_id,
                           type(exc).__name__, str(exc)[:200], shown)
            return {"update_id": update_id}
