"""Rate limits with the ``limits`` package: per API key or token subject, and per client address for
callers without (valid) credentials. In memory: each gateway replica counts its own traffic."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter


class RateLimiter:
    def __init__(self, per_key: str, per_address: str):
        self.per_key: RateLimitItem = parse(per_key)
        self.per_address: RateLimitItem = parse(per_address)
        # Sliding window counter: O(1) per request whatever the limit (a moving window keeps every hit).
        self._limiter = SlidingWindowCounterRateLimiter(MemoryStorage())

    def hit(self, bucket: str, *, authenticated: bool) -> int | None:
        """Count one request; None when allowed, else the seconds to wait (``Retry-After``)."""
        item = self.per_key if authenticated else self.per_address
        if self._limiter.hit(item, bucket):
            return None
        reset = self._limiter.get_window_stats(item, bucket).reset_time
        return max(1, math.ceil(reset - time.time()))
