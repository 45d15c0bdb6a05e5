"""The sliding window counter behind the gateway's rate limits (pure: a fake clock)."""

from __future__ import annotations

from tejido_gateway.protection.ratelimit import RateLimiter


class Clock:
    def __init__(self, now: float = 6_000.0):  # the start of a one-minute window
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_full_window_refuses_until_the_previous_count_has_faded_enough() -> None:
    clock = Clock()
    limiter = RateLimiter("3/minute", "1/minute", clock)
    assert [limiter.hit("key:a", authenticated=True) for _ in range(3)] == [None, None, None]
    # Full: 3 hits in this window weigh 3 × (1 - f) in the next one; room for one more at f = 1/3.
    assert limiter.hit("key:a", authenticated=True) == 60 + 20
    assert limiter.hit("key:b", authenticated=True) is None  # buckets are apart
    clock.now += 60 + 19
    assert limiter.hit("key:a", authenticated=True) == 1
    clock.now += 1.01
    assert limiter.hit("key:a", authenticated=True) is None
    assert limiter.hit("key:a", authenticated=True) == 20  # 3 × (1 - f) + 1 ≤ 3 again at f = 2/3


def test_address_and_key_limits_are_counted_apart_and_old_buckets_forgotten() -> None:
    clock = Clock()
    limiter = RateLimiter("2/minute", "1/minute", clock)
    assert limiter.hit("address:1.2.3.4", authenticated=False) is None
    assert limiter.hit("address:1.2.3.4", authenticated=False) == 120
    assert limiter.hit("address:1.2.3.4", authenticated=True) is None
    clock.now += 180  # two windows later nothing of the old count remains
    assert limiter.hit("address:1.2.3.4", authenticated=False) is None
    for n in range(5000):
        limiter.hit(f"address:{n}", authenticated=False)
    clock.now += 180
    for n in range(5000):
        limiter.hit(f"key:{n}", authenticated=False)
    assert len(limiter.per_address._windows) < 10_000


def test_hits_counted_elsewhere_weigh_like_local_ones_and_are_handed_on_once() -> None:
    clock = Clock()
    limiter = RateLimiter("4/minute", "1/minute", clock)
    counter = limiter.per_key
    assert limiter.hit("key:a", authenticated=True) is None
    assert counter.take_local() == [(100, "key:a", 1)]
    assert counter.take_local() == []  # handed on once
    counter.add_remote(100, "key:a", 2)  # another replica allowed two in this window
    assert limiter.hit("key:a", authenticated=True) is None  # 1 + 2 + 1 = 4: full
    assert limiter.hit("key:a", authenticated=True) == 75  # room again a quarter into the next window
    assert counter.take_local() == [(100, "key:a", 1)]  # the remote ones are not sent back
    clock.now += 60  # next window: the last one's 4 weigh fully at its start
    counter.add_remote(100, "key:b", 3)  # late news of the previous window still counts, as previous
    counter.add_remote(99, "key:b", 5)  # too old to weigh anything
    counter.add_remote(102, "key:b", 5)  # a clock ahead of ours: ignored, never moves windows forward
    assert counter._windows["key:b"].previous == 3 and counter._windows["key:b"].current == 0
    clock.now += 30  # half of the previous window's 3 still weighs: 1.5 + 2 ≤ 4, not 1.5 + 3
    assert [limiter.hit("key:b", authenticated=True) for _ in range(3)] == [None, None, 10]
