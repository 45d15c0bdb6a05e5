"""Time-ordered identifiers (UUID version 7 layout), so keyset pagination follows creation order."""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def new_id() -> str:
    """Return a UUIDv7 string: 48-bit millisecond timestamp, then a counter and random bits.

    The counter keeps ids monotonic inside one process even within the same millisecond.
    """
    global _last_ms, _counter
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            ms = _last_ms
            _counter += 1
        else:
            _counter = int.from_bytes(os.urandom(2), "big") & 0x3FF
        _last_ms = ms
        counter = _counter & 0xFFF
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rand
    return str(uuid.UUID(int=value))


def new_ids(count: int) -> list[str]:
    """``count`` ids as :func:`new_id` makes them, in increasing order and after every id made before
    (the bulk path: one lock and one call for the random bits instead of one per id). Past 4,096 ids
    within a millisecond the timestamp moves on by one, so the order holds for any count."""
    global _last_ms, _counter
    if count <= 0:
        return []
    rand = os.urandom(8 * count)
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            ms, counter = _last_ms, _counter + 1
        else:
            counter = int.from_bytes(os.urandom(2), "big") & 0x3FF
        out: list[str] = []
        for i in range(count):
            if counter > 0xFFF:
                ms, counter = ms + 1, 0
            bits = int.from_bytes(rand[8 * i : 8 * i + 8], "big") & ((1 << 62) - 1)
            h = f"{(ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | bits:032x}"
            out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
            counter += 1
        # The next id starts the following millisecond: new_id's counter (masked to 12 bits) could
        # otherwise run past 4,095 and wrap within this one.
        _last_ms, _counter = ms + 1, -1
    return out
