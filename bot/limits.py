"""Per-user question rate limit: a sliding window kept in memory (it may reset on restart)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """At most ``limit`` questions per user in any ``window`` seconds."""

    def __init__(self, limit: int, window: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._warned_until: dict[int, float] = {}

    def retry_after(self, user_id: int) -> float:
        """0 and counts the question if allowed; else seconds until the user may ask again."""
        now = self._clock()
        seen = self._seen.setdefault(user_id, deque())
        while seen and now - seen[0] >= self.window:
            seen.popleft()
        if len(seen) < self.limit:
            seen.append(now)
            return 0.0
        return self.window - (now - seen[0])

    def should_warn(self, user_id: int, wait: float) -> bool:
        """True once per blocked stretch, so a flood gets one notice, not one per message."""
        now = self._clock()
        if self._warned_until.get(user_id, 0.0) > now:
            return False
        self._warned_until[user_id] = now + wait
        return True
