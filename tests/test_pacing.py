"""The send-rate limiter and the retry schedule, on a fake clock."""

from __future__ import annotations

import threading
from datetime import timedelta
from itertools import pairwise

from digest.pacing import HOUR, RateLimiter, RetryPolicy

from .conftest import NOW


class FakeTime:
    """A clock that only moves when somebody sleeps."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_sends_are_spaced_evenly_at_the_rate_per_second() -> None:
    time = FakeTime()
    limiter = RateLimiter(4, 0, clock=time.clock, sleep=time.sleep)

    taken = [limiter.acquire() for _ in range(5)]

    assert taken == [1_000_000.0 + 0.25 * n for n in range(5)]
    assert time.slept == [0.25] * 4


def test_the_hourly_limit_refuses_without_waiting_until_the_hour_frees() -> None:
    time = FakeTime()
    earlier = [time.now - HOUR + 10, time.now - HOUR - 5]  # one still counts, one is too old
    limiter = RateLimiter(0, 2, earlier=earlier, clock=time.clock, sleep=time.sleep)

    assert limiter.acquire() is not None
    assert limiter.acquire() is None
    assert limiter.hour_frees_at() == earlier[0] + HOUR
    time.now += 11
    assert limiter.acquire() is not None
    assert time.slept == []


def test_no_limits_never_wait() -> None:
    time = FakeTime()
    limiter = RateLimiter(0, 0, clock=time.clock, sleep=time.sleep)

    assert all(limiter.acquire() == time.now for _ in range(1000))


def test_threads_share_one_rate() -> None:
    time = FakeTime()
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            time.slept.append(seconds)

    limiter = RateLimiter(10, 0, clock=time.clock, sleep=sleep)
    slots: list[float | None] = []
    threads = [threading.Thread(target=lambda: slots.append(limiter.acquire())) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    taken = sorted(s for s in slots if s is not None)
    assert [round(b - a, 6) for a, b in pairwise(taken)] == [0.1] * 19


def test_backoff_doubles_with_jitter_then_gives_up() -> None:
    low, high = RetryPolicy(4, 60, random=lambda: 0.0), RetryPolicy(4, 60, random=lambda: 1.0)

    assert [low.next_attempt(n, NOW) for n in (1, 2, 3)] == [
        NOW + timedelta(seconds=s) for s in (30, 60, 120)
    ]
    assert [high.next_attempt(n, NOW) for n in (1, 2, 3)] == [
        NOW + timedelta(seconds=s) for s in (60, 120, 240)
    ]
    assert low.next_attempt(4, NOW) is None
