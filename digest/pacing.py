"""How fast and how often to try: a send-rate limiter and the retry schedule."""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

HOUR = 3600.0


class RateLimiter:
    """At most `per_second` sends a second (evenly spaced) and `per_hour` in any hour.

    Thread-safe: the delivery workers share one. The clock gives seconds (wall time, so the
    hour can start with the sends a ledger already holds); `sleep` is injectable for tests.
    """

    def __init__(
        self,
        per_second: float,
        per_hour: int,
        *,
        earlier: Iterable[float] = (),
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.gap = 1.0 / per_second if per_second > 0 else 0.0
        self.per_hour = per_hour
        self._clock, self._sleep = clock, sleep
        self._next = 0.0
        self._hour: deque[float] = deque(t for t in earlier if t > clock() - HOUR)
        self._lock = threading.Lock()

    def acquire(self) -> float | None:
        """Wait for a free slot and take it; None (without waiting) when the hour is full.

        Returns the time the slot was taken.
        """
        with self._lock:
            now = self._clock()
            while self._hour and self._hour[0] <= now - HOUR:
                self._hour.popleft()
            if self.per_hour and len(self._hour) >= self.per_hour:
                return None
            start = max(now, self._next)
            self._next = start + self.gap
            self._hour.append(start)
        if start > now:
            self._sleep(start - now)
        return start

    def hour_frees_at(self) -> float:
        """When the hourly limit next lets a send through."""
        with self._lock:
            return self._hour[0] + HOUR if self._hour else self._clock()


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: base, 2x base, 4x base, ... up to `limit` attempts."""

    limit: int
    base_seconds: float
    random: Callable[[], float] = field(default=random.random)

    def next_attempt(self, attempts: int, now: datetime) -> datetime | None:
        """When to try again after `attempts` tries, or None when they are used up."""
        if attempts >= self.limit:
            return None
        delay = self.base_seconds * 2 ** max(attempts - 1, 0)
        return now + timedelta(seconds=delay * (0.5 + 0.5 * self.random()))
