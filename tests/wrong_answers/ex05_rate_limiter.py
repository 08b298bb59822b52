"""Answers to ex05_rate_limiter: wrong ones its checks must catch, right ones they must pass."""

from __future__ import annotations

import threading
import time

from course_helpers.seed.clocked import ClockedRateLimiter as SeedRateLimiter
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


class _Buckets:
    """Two continuous buckets; subclasses get each detail wrong in its own way."""

    def __init__(self, rpm: int, tpm: int, period: float = 60.0) -> None:
        self.rpm, self.tpm, self.period = rpm, tpm, period
        self.req, self.tok = float(rpm), float(tpm)
        self.last = time.monotonic()
        self.lock = threading.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        passed = now - self.last
        self.last = now
        self.req = min(self.rpm, self.req + passed * self.rpm / self.period)
        self.tok = min(self.tpm, self.tok + passed * self.tpm / self.period)

    def _wait(self, tokens: int) -> float:
        return max(
            (1 - self.req) * self.period / self.rpm, (tokens - self.tok) * self.period / self.tpm
        )


class NoLockLimiter(_Buckets):
    """Right arithmetic, no lock: check-then-take races between threads."""

    def acquire(self, tokens: int = 0) -> None:
        if tokens > self.tpm:
            raise ValueError("never fits")
        while True:
            self._refill()
            if self.req >= 1 and self.tok >= tokens:
                self.req -= 1
                self.tok -= tokens
                return
            time.sleep(self._wait(tokens))


class LockPerCallLimiter(_Buckets):
    """A lock made inside acquire: each call locks its own, so nothing is shared."""

    def acquire(self, tokens: int = 0) -> None:
        if tokens > self.tpm:
            raise ValueError("never fits")
        while True:
            with threading.Lock():
                self._refill()
                if self.req >= 1 and self.tok >= tokens:
                    self.req -= 1
                    self.tok -= tokens
                    return
                wait = self._wait(tokens)
            time.sleep(wait)


class SleepyLockLimiter(_Buckets):
    """Sleeps inside ``with self.lock``: every other thread waits for this one's wait."""

    def acquire(self, tokens: int = 0) -> None:
        if tokens > self.tpm:
            raise ValueError("never fits")
        with self.lock:
            while True:
                self._refill()
                if self.req >= 1 and self.tok >= tokens:
                    self.req -= 1
                    self.tok -= tokens
                    return
                time.sleep(self._wait(tokens))


class UncappedLimiter(_Buckets):
    """The refill has no ceiling: an idle spell banks far more than one burst."""

    def _refill(self) -> None:
        now = time.monotonic()
        passed, self.last = now - self.last, now
        self.req += passed * self.rpm / self.period
        self.tok += passed * self.tpm / self.period

    def acquire(self, tokens: int = 0) -> None:
        if tokens > self.tpm:
            raise ValueError("never fits")
        while True:
            with self.lock:
                self._refill()
                if self.req >= 1 and self.tok >= tokens:
                    self.req -= 1
                    self.tok -= tokens
                    return
                wait = self._wait(tokens)
            time.sleep(wait)


class ExactLimitRefusedLimiter(_Buckets):
    """``>=`` where ``>`` was meant: a request of exactly tpm tokens raises ValueError."""

    def acquire(self, tokens: int = 0) -> None:
        if tokens >= self.tpm:
            raise ValueError(f"{tokens} tokens cannot fit {self.tpm}")
        while True:
            with self.lock:
                self._refill()
                if self.req >= 1 and self.tok >= tokens:
                    self.req -= 1
                    self.tok -= tokens
                    return
                wait = self._wait(tokens)
            time.sleep(wait)


class FixedWindowLimiter:
    """Counts per window of ``period`` that starts afresh when the previous one is over."""

    def __init__(self, rpm: int, tpm: int, period: float = 60.0) -> None:
        self.rpm, self.tpm, self.period = rpm, tpm, period
        self.window_start = time.monotonic()
        self.count = self.used = 0
        self.lock = threading.Lock()

    def acquire(self, tokens: int = 0) -> None:
        if tokens > self.tpm:
            raise ValueError("never fits")
        while True:
            with self.lock:
                now = time.monotonic()
                if now - self.window_start >= self.period:
                    self.window_start, self.count, self.used = now, 0, 0
                if self.count < self.rpm and self.used + tokens <= self.tpm:
                    self.count += 1
                    self.used += tokens
                    return
                wait = self.window_start + self.period - now
            time.sleep(wait)


class ConditionLimiter:
    """Right: a condition variable; waiters sleep in ``wait(timeout)``, which frees the lock."""

    def __init__(self, rpm: int, tpm: int, period: float = 60.0) -> None:
        self.capacity = (float(rpm), float(tpm))
        self.level = list(self.capacity)
        self.rates = (rpm / period, tpm / period)
        self.stamp = time.perf_counter()
        self.cond = threading.Condition()

    def acquire(self, tokens: int = 0) -> None:
        if tokens > self.capacity[1]:
            raise ValueError(f"{tokens} tokens exceed the limit {self.capacity[1]:g}")
        need = (1.0, float(tokens))
        with self.cond:
            while True:
                now = time.perf_counter()
                for i in (0, 1):
                    filled = self.level[i] + (now - self.stamp) * self.rates[i]
                    self.level[i] = min(self.capacity[i], filled)
                self.stamp = now
                if all(self.level[i] >= need[i] for i in (0, 1)):
                    self.level = [self.level[i] - need[i] for i in (0, 1)]
                    self.cond.notify_all()
                    return
                self.cond.wait(max((need[i] - self.level[i]) / self.rates[i] for i in (0, 1)))


class GCRALimiter:
    """Right: the generic cell rate algorithm, a theoretical arrival time per limit."""

    def __init__(self, rpm: int, tpm: int, period: float = 60.0) -> None:
        self.period, self.tpm = period, tpm
        self.intervals = (period / rpm, period / tpm)
        start = time.monotonic()
        self.tat = [start, start]  # arrivals are on schedule: a full burst is allowed
        self.lock = threading.Lock()

    def acquire(self, tokens: int = 0) -> None:
        if tokens > self.tpm:
            raise ValueError("more tokens than the limit allows in a period")
        cost = (1, tokens)
        while True:
            with self.lock:
                now = time.monotonic()
                new = [max(self.tat[i], now) + cost[i] * self.intervals[i] for i in (0, 1)]
                early = max(new[i] - self.period - now for i in (0, 1))
                if early <= 0:
                    self.tat = new
                    return
            time.sleep(early)


class Bucket:
    """One continuous token bucket (used twice by ``TwoBucketLimiter``)."""

    def __init__(self, size: float, period: float) -> None:
        self.size, self.rate = size, size / period
        self.level, self.at = size, time.monotonic()

    def refill(self, now: float) -> None:
        self.level = min(self.size, self.level + (now - self.at) * self.rate)
        self.at = now

    def shortfall(self, amount: float) -> float:
        return max(0.0, amount - self.level) / self.rate


class TwoBucketLimiter:
    """Right: two Bucket objects under an RLock, sleeping in slices of at most 10 ms."""

    def __init__(self, rpm: int, tpm: int, period: float = 60.0) -> None:
        self.requests, self.tokens = Bucket(rpm, period), Bucket(tpm, period)
        self._guard = threading.RLock()

    def acquire(self, tokens: int = 0) -> None:
        if tokens > self.tokens.size:
            raise ValueError("a request this large never fits the token limit")
        while True:
            with self._guard:
                now = time.monotonic()
                self.requests.refill(now)
                self.tokens.refill(now)
                wait = max(self.requests.shortfall(1), self.tokens.shortfall(tokens))
                if wait == 0:
                    self.requests.level -= 1
                    self.tokens.level -= tokens
                    return
            time.sleep(min(wait, 0.01))


REQUESTS = "request limit: a full bucket at most, even after idling, and no stall"
TOKENS = "token limit: a full bucket at most, even after idling, and no stall"
PROVIDER = "against the provider: zero 429s, no caller kept waiting while the limit has room"
RACE = "threads switched after every line are not over-admitted"

# What each wrong answer gets wrong, the answer, and the checks that must catch it.
WRONG: list[Wrong] = [
    (
        "the module's limiter: requests only, no ValueError, sleeps holding its lock",
        SeedLimiter,
        # Not PROVIDER: its 429s need requests faster than the token limit, and a busy machine
        # may not send them that fast. TOKENS catches the same mistake on an exact clock.
        [
            "refuses a request larger than the token limit",
            TOKENS,
            "never waits while holding a lock",
        ],
    ),
    (
        "ignores period: refills per minute",
        PerMinuteLimiter,
        ["a request of exactly the token limit fits", REQUESTS, TOKENS, PROVIDER],
    ),
    ("no lock", NoLockLimiter, [RACE]),
    ("a new lock per call", LockPerCallLimiter, [RACE]),
    ("sleeps while holding the lock", SleepyLockLimiter, ["never waits while holding a lock"]),
    ("refill without a cap", UncappedLimiter, [REQUESTS, TOKENS]),
    (
        "ValueError for a request of exactly the limit",
        ExactLimitRefusedLimiter,
        ["a request of exactly the token limit fits"],
    ),
    ("a fixed window", FixedWindowLimiter, [REQUESTS, TOKENS]),
]

# The demo in the solution notebook ("what a check looks like"), by the name it has there.
DEMO: Demo = (
    "SeedLimiter",
    "the module's limiter: requests only, sleeps holding its lock",
    ["refuses a request larger than the token limit", "never waits while holding a lock"],
)

# Correct answers built differently from the solution: every check must pass them.
RIGHT: list[Right] = [
    ("a condition variable", ConditionLimiter),
    ("GCRA", GCRALimiter),
    ("a Bucket class, an RLock, sleeps in slices", TwoBucketLimiter),
]
