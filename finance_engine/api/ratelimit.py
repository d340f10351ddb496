"""Per-key fixed-window rate limit, counted in each worker process.

A key may make ``limit`` requests per calendar minute to one worker; the next gets 429 with
``Retry-After`` (seconds to the next window). Counting per worker needs no shared store and
costs a dict update; the effective limit across a host is ``limit x workers`` (documented in
``docs/api.md``). A shared counter (Redis, the database) is the step up when that matters.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

WINDOW_S = 60.0


class FixedWindowLimiter:
    """Counts requests per key per window."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.time) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._counts: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key_id: str, limit: int | None = None) -> float | None:
        """Count one request; return None if allowed, else the seconds until the next window."""
        allowed = self.per_minute if limit is None else limit
        if allowed <= 0:
            return None
        now = self._clock()
        window = int(now // WINDOW_S)
        with self._lock:
            seen_window, count = self._counts.get(key_id, (window, 0))
            if seen_window != window:
                count = 0
            count += 1
            self._counts[key_id] = (window, count)
        if count <= allowed:
            return None
        return max(1.0, math.ceil((window + 1) * WINDOW_S - now))
