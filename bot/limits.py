"""Per-user question rate limit: a sliding window, kept in memory and, given a state store,
written through to it so a restart does not hand every user a fresh allowance."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from retrieval.state import BotState


class RateLimiter:
    """At most ``limit`` questions per user in any ``window`` seconds.

    Times are wall-clock (``time.time``) because persisted windows must mean the same after a
    restart, which monotonic clocks do not.
    """

    def __init__(self, limit: int, window: float,
                 clock: Callable[[], float] = time.time, *,
                 state: BotState | None = None, name: str = "questions") -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._state = state
        self._name = name
        self._seen: dict[int, deque[float]] = {}
        self._warned_until: dict[int, float] = {}
        if state is not None:
            since = clock() - window
            for user_id, stamps in state.rate_windows(name, since).items():
                self._seen[user_id] = deque(stamps[-limit:])

    def retry_after(self, user_id: int) -> float:
        """0 and counts the question if allowed; else seconds until the user may ask again."""
        now = self._clock()
        seen = self._seen.setdefault(user_id, deque())
        while seen and now - seen[0] >= self.window:
            seen.popleft()
        if len(seen) < self.limit:
            seen.append(now)
            if self._state is not None:
                self._state.set_rate_window(self._name, user_id, list(seen))
            return 0.0
        return self.window - (now - seen[0])

    def should_warn(self, user_id: int, wait: float) -> bool:
        """True once per blocked stretch, so a flood gets one notice, not one per message."""
        now = self._clock()
        if self._warned_until.get(user_id, 0.0) > now:
            return False
        self._warned_until[user_id] = now + wait
        return True
