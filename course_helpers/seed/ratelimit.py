"""The seed's ``RateLimiter``, with its defects. Do not use: see ``course_helpers.ratelimit``.

This is the sliding-log limiter a typical course module ships. It looks right and passes a
single-threaded demo, but:

- **It sleeps while holding its lock.** ``wait_if_needed`` calls ``time.sleep`` inside
  ``with self.lock``, so every other thread (even one that only wants to look) is blocked for the
  whole wait, and the waits of N threads add up one after another.
- **It knows nothing about tokens.** Providers limit tokens per minute too, and that is usually the
  limit that binds; a workload of long prompts gets 429s while this limiter sees plenty of room.
- **Its window is a fixed log of the last ``requests_per_minute`` timestamps**, so it admits a full
  burst at once and then stalls for most of a minute, instead of the server's continuous refill.

The ``period``, ``clock`` and ``sleep`` keywords are not in the original; they exist only so that
benchmarks and tests can run it on a short period or a fake clock. The defects are kept.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """At most ``requests_per_minute`` calls in any window of ``period`` seconds (requests only)."""

    def __init__(
        self,
        requests_per_minute: int,
        *,
        period: float = 60.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.requests_per_minute = requests_per_minute
        self.period = period
        self.requests: deque[float] = deque()
        self.lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    def wait_if_needed(self) -> None:
        """Block until a request may be sent, then record it."""
        with self.lock:
            now = self._clock()
            # Forget requests older than the window.
            while self.requests and now - self.requests[0] > self.period:
                self.requests.popleft()
            if len(self.requests) >= self.requests_per_minute:
                sleep_time = self.period - (now - self.requests[0])
                if sleep_time > 0:
                    self._sleep(sleep_time)  # DEFECT: sleeps with self.lock held
            self.requests.append(self._clock())
