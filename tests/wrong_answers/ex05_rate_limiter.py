"""Answers to ex05_rate_limiter: wrong ones its checks must catch, right ones they must pass."""

from __future__ import annotations

import threading
import time

from course_helpers.seed.ratelimit import RateLimiter as SeedRateLimiter
from wrong_answers.kinds import Demo, Right, Wrong


class SeedLimiter:
    """The seed's sliding-log RateLimiter behind the exercise's API: requests only."""

    def __init__(self, rpm: int, tpm: int, period: float = 60.0) -> None:
        self._seed = SeedRateLimiter(rpm, period=period)

    def acquire(self, tokens: int = 0) -> None:
        self._seed.wait_if_needed()


class PerMinuteLimiter:
    """Requests and tokens in a continuous bucket, but it ignores ``period``: refills per minute.

    The seed's code hard-codes 60 s; a limiter that does the same refills 60x too slowly when the
    provider's period is one second, so it wastes most of the limit.
    """

    def __init__(self, rpm: int, tpm: int, period: float = 60.0) -> None:
        self.rpm, self.tpm = rpm, tpm
        self.requests, self.tokens = float(rpm), float(tpm)
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def acquire(self, tokens: int = 0) -> None:
        if tokens > self.tpm:
            raise ValueError("too large")
        while True:
            with self.lock:
                now = time.monotonic()
                elapsed, self.updated = now - self.updated, now
                self.requests = min(self.rpm, self.requests + elapsed * self.rpm / 60.0)
                self.tokens = min(self.tpm, self.tokens + elapsed * self.tpm / 60.0)
                if self.requests >= 1 and self.tokens >= tokens:
                    self.requests -= 1
                    self.tokens -= tokens
                    return
                wait = max((1 - self.requests) * 60.0 / self.rpm, 0.0)
                wait = max(wait, (tokens - self.tokens) * 60.0 / self.tpm)
            time.sleep(min(wait, 0.05))


# What each wrong answer gets wrong, the answer, and the checks that must catch it.
WRONG: list[Wrong] = [
    (
        "the seed's limiter: requests only, no ValueError",
        SeedLimiter,
        [
            "refuses a request larger than the token limit",
            "token limit binds: zero 429s, ≥ 90 % of TPM",
        ],
    ),
    (
        "ignores period: refills per minute",
        PerMinuteLimiter,
        [
            "token limit binds: zero 429s, ≥ 90 % of TPM",
            "request limit binds: zero 429s, ≥ 90 % of RPM",
        ],
    ),
]

# The demo in the solution notebook ("what a check looks like"), by the name it has there.
DEMO: Demo = (
    "SeedLimiter",
    "the seed's limiter: requests only",
    ["token limit binds: zero 429s, ≥ 90 % of TPM"],
)

# Correct answers built differently from the solution: every check must pass them.
RIGHT: list[Right] = []
