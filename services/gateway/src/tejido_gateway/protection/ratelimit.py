"""Rate limits: per API key or token subject, and per client address for callers without (valid)
credentials. Counted in memory on the event loop; replicas share their counts over core NATS
(``protection/sharing.py``), so a limit holds for the whole platform, not per replica.

Limits are written in the ``limits`` package's notation (``1200/minute``) and counted with its sliding
window counter algorithm: the current fixed window's count plus the previous window's, weighted by how
much of it still lies inside the sliding window. O(1) per request whatever the limit. The counting is
our own, on the event loop: ``limits``' in-memory storage starts a timer thread to expire keys on
almost every hit (a thread per request under load, ~1 ms each in the gateway's profile).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits import RateLimitItem, parse

# Buckets idle for two whole windows are forgotten, checked every this many hits.
PRUNE_EVERY = 4096


@dataclass(slots=True)
class _Window:
    index: int  # which fixed window (time // period) ``current`` counts
    current: int
    previous: int


class SlidingWindowCounter:
    """One limit (``amount`` per ``period`` seconds) over many buckets. Not thread-safe: called from the
    event loop only."""

    def __init__(self, item: RateLimitItem, clock: Callable[[], float] = time.time):
        self.limit = item.amount
        self.period = float(item.get_expiry())
        self.clock = clock
        self._windows: dict[str, _Window] = {}
        self._hits = 0
        # Hits counted here since the last ``take_local``, per (window index, bucket): for the others.
        self._local: dict[tuple[int, str], int] = {}

    def hit(self, bucket: str) -> float | None:
        """Count one request; None when allowed, else the seconds until one would be."""
        now = self.clock()
        index = int(now // self.period)
        window = self._window(bucket, index)
        elapsed = now / self.period - index  # fraction of the current window gone
        if window.previous * (1 - elapsed) + window.current + 1 > self.limit:
            return self._wait(window, elapsed)
        window.current += 1
        self._local[index, bucket] = self._local.get((index, bucket), 0) + 1
        self._hits += 1
        if self._hits % PRUNE_EVERY == 0:
            self._prune(index)
        return None

    def _window(self, bucket: str, index: int) -> _Window:
        """``bucket``'s window, moved on to fixed window ``index`` (never backwards)."""
        window = self._windows.get(bucket)
        if window is None:
            window = self._windows[bucket] = _Window(index, 0, 0)
        elif window.index < index:
            window.previous = window.current if window.index == index - 1 else 0
            window.current, window.index = 0, index
        return window

    def take_local(self) -> list[tuple[int, str, int]]:
        """(window index, bucket, hits) counted here since the last call, for the other replicas."""
        taken = [(index, bucket, hits) for (index, bucket), hits in self._local.items()]
        self._local = {}
        return taken

    def add_remote(self, index: int, bucket: str, hits: int) -> None:
        """Count ``hits`` another replica allowed in fixed window ``index``: the current or the previous
        window count them; older ones no longer weigh anything."""
        current = int(self.clock() // self.period)
        if hits <= 0 or index < current - 1 or index > current:
            return
        window = self._window(bucket, current)
        if index == current:
            window.current += hits
        else:
            window.previous += hits

    def _wait(self, window: _Window, elapsed: float) -> float:
        """When the weighted count first leaves room for one more request."""
        room = self.limit - 1 - window.current
        if room >= 0:  # later in this window, as the previous one's weight fades
            needed = 1 - room / window.previous if window.previous else elapsed
            return max(needed - elapsed, 0.0) * self.period
        # Not before the next window, where this one's count fades in turn.
        needed = 1 - (self.limit - 1) / window.current if self.limit > 0 else 1.0
        return (1 - elapsed + needed) * self.period

    def _prune(self, index: int) -> None:
        self._windows = {k: w for k, w in self._windows.items() if w.index >= index - 1}


class RateLimiter:
    def __init__(self, per_key: str, per_address: str, clock: Callable[[], float] = time.time):
        self.per_key = SlidingWindowCounter(parse(per_key), clock)
        self.per_address = SlidingWindowCounter(parse(per_address), clock)

    def counters(self) -> dict[str, SlidingWindowCounter]:
        return {"key": self.per_key, "address": self.per_address}

    def hit(self, bucket: str, *, authenticated: bool) -> int | None:
        """Count one request; None when allowed, else the whole seconds to wait (``Retry-After``)."""
        wait = (self.per_key if authenticated else self.per_address).hit(bucket)
        return None if wait is None else max(1, math.ceil(wait - 1e-6))  # float noise: 80.0000001 s is 80
