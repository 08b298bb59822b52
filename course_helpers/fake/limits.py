"""Server-side rate limits of the simulated provider: token buckets per API key.

Each limit is a bucket holding up to ``limit`` units that refills continuously at ``limit / period``
units per second (Anthropic documents exactly this; OpenAI behaves the same way in practice). A
request is admitted only if *every* bucket it draws from holds enough; then all of them are charged
at once. Otherwise nothing is charged and the caller learns how long to wait until all of them
would hold enough, which is what ``retry-after`` reports.

Keys are identified by a hash, never stored. Time comes from an injectable ``clock`` (seconds,
monotonic) so tests never wait; reset times for Anthropic's RFC 3339 headers come from ``wall``.

>>> now = [0.0]
>>> limits = RateLimits({"requests": 2}, period=60.0, clock=lambda: now[0])
>>> [limits.charge("key", {"requests": 1}).allowed for _ in range(3)]
[True, True, False]
>>> limits.charge("key", {"requests": 1}).wait
30.0
>>> now[0] = 30.0
>>> limits.charge("key", {"requests": 1}).allowed
True
>>> go_duration(360.0), go_duration(1.0), go_duration(0.012), go_duration(179.56)
('6m0s', '1s', '12ms', '2m59.56s')
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = [
    "BucketState",
    "Charge",
    "RateLimits",
    "anthropic_headers",
    "go_duration",
    "key_id",
    "openai_headers",
    "rfc3339",
]


def key_id(api_key: str) -> str:
    """A stable, irreversible identity for an API key (the key itself is never kept)."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class BucketState:
    """One limit as the response headers report it."""

    limit: int
    remaining: int
    reset: float  # seconds until the bucket is full again


@dataclass(frozen=True)
class Charge:
    """The verdict on one request: admitted, or which limit refused it and for how long."""

    allowed: bool
    states: Mapping[str, BucketState]
    exceeded: str | None = None  # the refusing limit's name
    wait: float = 0.0  # seconds until every bucket holds enough (inf: never)
    requested: int = 0  # what the refusing limit was asked for
    used: int = 0  # how much of the refusing limit is in use


class _Bucket:
    """A continuously refilling token bucket; callers hold the owner's lock."""

    __slots__ = ("capacity", "level", "rate", "stamp")

    def __init__(self, capacity: int, period: float, now: float) -> None:
        self.capacity = float(capacity)
        self.rate = capacity / period
        self.level = float(capacity)
        self.stamp = now

    def refill(self, now: float) -> None:
        if now > self.stamp:
            self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_for(self, amount: float) -> float:
        if amount > self.capacity:
            return math.inf
        return max(0.0, (amount - self.level) / self.rate)

    def state(self) -> BucketState:
        # Round the remaining units down and the reset time up, as the real headers do.
        reset = (self.capacity - self.level) / self.rate
        return BucketState(int(self.capacity), int(self.level + 1e-9), reset)


class RateLimits:
    """Buckets per API key for a fixed set of named limits (``{"requests": 60, "tokens": ...}``)."""

    def __init__(
        self,
        limits: Mapping[str, int],
        *,
        period: float = 60.0,
        clock: Callable[[], float],
    ) -> None:
        if period <= 0:
            raise ValueError(f"period must be positive, got {period!r}")
        for name, limit in limits.items():
            if limit < 1:
                raise ValueError(f"the {name} limit must be at least 1, got {limit!r}")
        self.limits = dict(limits)
        self.period = period
        self._clock = clock
        self._keys: dict[str, dict[str, _Bucket]] = {}
        self._lock = threading.Lock()

    def _buckets(self, key: str, now: float) -> dict[str, _Bucket]:
        buckets = self._keys.get(key)
        if buckets is None:
            buckets = {n: _Bucket(c, self.period, now) for n, c in self.limits.items()}
            self._keys[key] = buckets
        for bucket in buckets.values():
            bucket.refill(now)
        return buckets

    def charge(self, key: str, costs: Mapping[str, int]) -> Charge:
        """Charge ``costs`` (limit name -> units) to ``key`` if every bucket can pay it."""
        with self._lock:
            buckets = self._buckets(key, self._clock())
            waits = {n: buckets[n].wait_for(c) for n, c in costs.items() if n in buckets}
            worst = max(waits, key=lambda n: waits[n], default=None)
            if worst is not None and waits[worst] > 0:
                bucket = buckets[worst]
                return Charge(
                    allowed=False,
                    states=self._states(buckets),
                    exceeded=worst,
                    wait=waits[worst],
                    requested=costs[worst],
                    used=math.ceil(bucket.capacity - bucket.level),
                )
            for name, cost in costs.items():
                if name in buckets:
                    buckets[name].level -= cost
            return Charge(allowed=True, states=self._states(buckets))

    def peek(self, key: str) -> dict[str, BucketState]:
        """The current state of ``key``'s buckets, without charging anything."""
        with self._lock:
            return self._states(self._buckets(key, self._clock()))

    def reset(self) -> None:
        """Forget every key: all buckets start full again."""
        with self._lock:
            self._keys.clear()

    @staticmethod
    def _states(buckets: Mapping[str, _Bucket]) -> dict[str, BucketState]:
        return {name: bucket.state() for name, bucket in buckets.items()}


def go_duration(seconds: float) -> str:
    """A duration as Go prints it (OpenAI's reset headers): ``6m0s``, ``1s``, ``12ms``."""
    ms = math.ceil(seconds * 1000 - 1e-6)
    if ms <= 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs = f"{rest // 1000}" if rest % 1000 == 0 else f"{rest / 1000:.3f}".rstrip("0")
    text = f"{hours}h" if hours else ""
    if hours or minutes:
        text += f"{minutes}m"
    return f"{text}{secs}s"


def rfc3339(timestamp: float) -> str:
    """A Unix time as RFC 3339 in UTC, rounded up to the second (Anthropic's reset headers)."""
    return datetime.fromtimestamp(math.ceil(timestamp), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def openai_headers(states: Mapping[str, BucketState]) -> dict[str, str]:
    """``x-ratelimit-{limit,remaining,reset}-{requests,tokens}``."""
    headers: dict[str, str] = {}
    for name in ("requests", "tokens"):
        state = states.get(name)
        if state is not None:
            headers[f"x-ratelimit-limit-{name}"] = str(state.limit)
            headers[f"x-ratelimit-remaining-{name}"] = str(state.remaining)
            headers[f"x-ratelimit-reset-{name}"] = go_duration(state.reset)
    return headers


def anthropic_headers(states: Mapping[str, BucketState], *, now: float) -> dict[str, str]:
    """``anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}``.

    ``tokens`` reports the most restrictive token limit in effect, as the real API does; ``now``
    is the wall-clock Unix time the reset instants are counted from.
    """
    reported = dict(states)
    token_limits = [states[n] for n in ("tokens", "input_tokens", "output_tokens") if n in states]
    if token_limits:
        reported["tokens"] = min(token_limits, key=lambda s: (s.remaining / s.limit, s.remaining))
    headers: dict[str, str] = {}
    for name in ("requests", "tokens", "input_tokens", "output_tokens"):
        state = reported.get(name)
        if state is not None:
            prefix = f"anthropic-ratelimit-{name.replace('_', '-')}"
            headers[f"{prefix}-limit"] = str(state.limit)
            headers[f"{prefix}-remaining"] = str(state.remaining)
            headers[f"{prefix}-reset"] = rfc3339(now + state.reset)
    return headers
