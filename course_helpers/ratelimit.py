"""A client-side rate limiter for requests and tokens per period, for threads and asyncio.

Providers limit both requests and tokens per minute, and refill both continuously (a token bucket).
:class:`RateLimiter` keeps the same two buckets on the client, so a program that acquires before
each call stays under both limits and never sees a 429 for going too fast::

    limiter = RateLimiter(requests_per_minute=500, tokens_per_minute=30_000)
    limiter.acquire(tokens=estimate_tokens(messages) + max_tokens)  # blocks until both allow it
    response = client.chat.completions.create(..., max_tokens=max_tokens)

Give only the limits: the defaults hold. The provider charges a request when it *arrives*, so the
limiter keeps a little refill in reserve for uneven trip times (``headroom``, see
:class:`RateLimiter`). Acquire what the provider charges on arrival (prompt + ``max_tokens``) and
keep it: OpenAI and the simulated provider do not refund an answer shorter than ``max_tokens``,
so giving the difference back (``reconcile``) on its own makes the limiter run ahead of them into
429s; follow it with ``update_from_headers``, as ``LLMClient`` does, to fall back to their count.

What it does that the seed's ``RateLimiter`` did not:

- counts tokens as well as requests (the token limit is usually the one that binds);
- never sleeps while holding its lock: the wait is computed under the lock and slept outside it;
- serves waiters first come, first served across threads *and* asyncio tasks, so a large request
  is not starved by a stream of small ones (aiolimiter serves the smallest first);
- can follow the ``x-ratelimit-*`` (OpenAI) and ``anthropic-ratelimit-*`` response headers.

One limiter may be shared by any number of threads and event loops at once: each waiter carries
its own wake-up (a :class:`threading.Event` or an :class:`asyncio.Future`), and only the waiter at
the head of the queue may take capacity.

>>> limiter = RateLimiter(requests_per_minute=60, tokens_per_minute=1_000)
>>> limiter.headroom  # seconds of refill kept in reserve: 1 s of 1,000 per minute is ~17 tokens
1.0
>>> limiter.acquire(tokens=400)  # returns at once: the buckets start full
>>> limiter.try_acquire(tokens=700)  # about 600 tokens are left, 583 to spend
False
>>> round(limiter.wait_time(tokens=700))  # seconds until 117 more tokens have refilled
7
>>> limiter.reconcile(400, 150)  # a provider that refunds: the call used 150, so 250 come back
>>> limiter.try_acquire(tokens=700)
True
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Self

__all__ = [
    "DEFAULT_HEADROOM",
    "LimitInfo",
    "RateLimitHeaders",
    "RateLimiter",
    "default_headroom",
    "parse_go_duration",
    "parse_rate_limit_headers",
    "parse_rfc3339",
]

# A bucket this close to the amount it needs counts as having it. Refill is computed in floating
# point, and sleeping exactly the computed wait can leave the level a hair short of the amount.
_EPSILON = 1e-9

DEFAULT_HEADROOM = 1.0
"""Seconds of refill a limiter keeps in reserve unless told otherwise (at most period / 4)."""


def default_headroom(period: float) -> float:
    """The headroom a ``RateLimiter`` with this ``period`` gets by default: 1 s, at most period/4.

    One second covers the spread of trip times to a real API; the cap keeps a demo's short
    period (``period=1``: 0.25 s) from holding back more than a quarter of its first burst.
    """
    return min(DEFAULT_HEADROOM, period / 4)


class _Bucket:
    """A token bucket: ``capacity`` at most, refilled continuously at ``rate`` per second."""

    __slots__ = ("capacity", "level", "rate", "reserve", "updated")

    def __init__(self, capacity: float, period: float, now: float, headroom: float) -> None:
        self.capacity = capacity
        self.rate = capacity / period
        self.level = capacity  # start full, as the providers' buckets do
        self.updated = now
        # Kept back so the provider, which is charged only when the request arrives, is never
        # short: while its bucket sits full during that trip, it refills nothing and we do.
        self.reserve = self.rate * headroom

    def refill(self, now: float) -> None:
        # max(): a clock that steps backwards (it should not) must never drain the bucket.
        elapsed = max(0.0, now - self.updated)
        self.level = min(self.capacity, self.level + elapsed * self.rate)
        self.updated = now

    def time_until(self, amount: float) -> float:
        """Seconds until ``amount`` is available, assuming nobody else takes from the bucket."""
        # The reserve never makes a request that fits the limit wait for more than the limit.
        target = min(amount + self.reserve, max(amount, self.capacity))
        deficit = target - self.level
        return 0.0 if deficit <= _EPSILON else deficit / self.rate


class _ThreadWaiter:
    """A blocked :meth:`RateLimiter.acquire` call; woken when it reaches the head of the queue."""

    __slots__ = ("event", "tokens")

    def __init__(self, tokens: int) -> None:
        self.tokens = tokens
        self.event = threading.Event()

    def wake(self) -> bool:
        self.event.set()
        return True


class _AsyncWaiter:
    """A suspended :meth:`RateLimiter.acquire_async` call, on its own event loop."""

    __slots__ = ("future", "loop", "tokens")

    def __init__(self, tokens: int, loop: asyncio.AbstractEventLoop) -> None:
        self.tokens = tokens
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()

    def wake(self) -> bool:
        # The waker may be a thread or another loop: only the owning loop may touch its future.
        try:
            self.loop.call_soon_threadsafe(_resolve, self.future)
        except RuntimeError:  # that loop is closed: its task can never run again
            return False
        return True


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():  # it may have been cancelled meanwhile
        future.set_result(None)


_Waiter = _ThreadWaiter | _AsyncWaiter


class RateLimiter:
    """Requests and tokens per ``period`` seconds, refilled continuously; fair; threads and asyncio.

    ``requests_per_minute`` and ``tokens_per_minute`` are the limits per ``period`` (60 s unless a
    demo shortens it); either may be ``None`` for no limit, not both.

    ``headroom`` is how much, in seconds, the time a request takes to reach the provider after
    ``acquire`` returns may vary (network, TLS, a thread waiting for the GIL, a busy machine). The
    provider charges a request when it arrives, and while its bucket sits full it refills
    nothing; so when one request takes longer to arrive than a later one, the provider's bucket
    can be short of ours by the refill of the difference, and a bucket that models the provider
    exactly (``headroom=0``) gets 429s. The limiter keeps ``headroom`` seconds of
    refill in reserve, which covers any spread of trip times up to ``headroom``. It costs
    ``headroom / period`` of the first burst, never the steady rate.

    The default (``None``) is ``min(1 s, period / 4)``: one second covers a real API's trip-time
    spread at 1/60 of a per-minute burst, and a demo's short period keeps three quarters of its
    burst. Measured against the simulated provider (``python benchmarks/limiter.py``: 1 s period,
    so 0.25 s; 8 threads and 64 asyncio tasks, requests or tokens binding, 24 runs of 12 s), the
    defaults got zero 429s and 97.5-98 % of the binding limit (worst run 97.3 %), with trips
    spread by at most 68 ms; ``headroom=0`` got a 429 in 23 of the 24 runs. Pass ``headroom=0``
    only where nothing travels (tests with an injected clock).

    ``clock``, ``sleep`` and ``async_sleep`` are injectable so tests and notebooks can run a
    minute in no time.

    ``store="redis://host:6379/0"`` (or ``"redis"``: the ``REDIS_URL`` variable) shares the
    limit between processes and machines through Redis; ``name`` then identifies the limit and
    ``on_unavailable`` ("local" or "fail") says what to do while Redis is down: see
    :mod:`course_helpers.shared_store.limiter`. Both are ignored without a store.
    """

    def __new__(cls, *args: Any, store: str | None = None, **kwargs: Any) -> Self:
        if store is not None and cls is RateLimiter:
            from course_helpers.shared_store import connection, limiter

            if connection.resolve_store(store) is not None:
                return super().__new__(limiter.RedisRateLimiter)  # type: ignore[return-value]
        return super().__new__(cls)

    __slots__ = (
        "_async_sleep",
        "_clock",
        "_headroom",
        "_lock",
        "_period",
        "_queue",
        "_requests",
        "_sleep",
        "_tokens",
    )

    def __init__(
        self,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        *,
        period: float = 60.0,
        headroom: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
        async_sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        store: str | None = None,
        name: str = "default",
        on_unavailable: str = "local",
    ) -> None:
        if store not in (None, "memory"):
            raise TypeError(f"{type(self).__name__} keeps its limit in the process: drop store=.")
        if requests_per_minute is None and tokens_per_minute is None:
            raise ValueError(
                "RateLimiter needs a limit: pass requests_per_minute=, tokens_per_minute= or both "
                "(your tier's limits are on the provider's limits page)."
            )
        for name, limit in (
            ("requests_per_minute", requests_per_minute),
            ("tokens_per_minute", tokens_per_minute),
        ):
            if limit is not None and limit <= 0:
                raise ValueError(f"{name} must be a positive number, or None for no limit.")
        if period <= 0:
            raise ValueError("period must be a positive number of seconds (60 for per-minute).")
        if headroom is None:
            headroom = default_headroom(period)
        elif not 0 <= headroom < period:
            raise ValueError(
                "headroom is seconds of latency to allow for: 0 <= headroom < period "
                "(or None for the default, min(1 s, period / 4))."
            )
        now = clock()
        self._requests = (
            None
            if requests_per_minute is None
            else _Bucket(requests_per_minute, period, now, headroom)
        )
        self._tokens = (
            None if tokens_per_minute is None else _Bucket(tokens_per_minute, period, now, headroom)
        )
        self._period = period
        self._headroom = headroom
        self._clock = clock
        self._sleep = sleep
        self._async_sleep = async_sleep
        # Guards the buckets and the queue. It is held only for arithmetic, never across a sleep
        # or an await, so has_capacity() and friends answer at once even while others wait.
        self._lock = threading.Lock()
        # Waiters in arrival order. Only the head may take capacity; it alone sleeps on the clock,
        # the others wait to be woken when they become the head.
        self._queue: deque[_Waiter] = deque()

    def __repr__(self) -> str:
        return (
            f"RateLimiter(requests_per_minute={self.requests_per_minute}, "
            f"tokens_per_minute={self.tokens_per_minute}, period={self._period})"
        )

    @property
    def requests_per_minute(self) -> int | None:
        """The request limit per period, or ``None``."""
        return None if self._requests is None else int(self._requests.capacity)

    @property
    def tokens_per_minute(self) -> int | None:
        """The token limit per period, or ``None``."""
        return None if self._tokens is None else int(self._tokens.capacity)

    @property
    def period(self) -> float:
        """The length of the limit's window in seconds."""
        return self._period

    @property
    def headroom(self) -> float:
        """Seconds of refill kept in reserve for the trip to the provider (see the class)."""
        return self._headroom

    @property
    def waiting(self) -> int:
        """How many callers are queued, waiting for capacity."""
        with self._lock:
            return len(self._queue)

    def available(self) -> tuple[float | None, float | None]:
        """The capacity left now as ``(requests, tokens)``; ``None`` for a dimension not limited."""
        with self._lock:
            self._refill()
            return (
                None if self._requests is None else self._requests.level,
                None if self._tokens is None else self._tokens.level,
            )

    # -- acquiring ---------------------------------------------------------------------------

    def acquire(self, tokens: int = 0) -> None:
        """Block until one request and ``tokens`` tokens are available, then take them."""
        self._check(tokens)
        with self._lock:
            if not self._queue and self._delay(tokens) == 0.0:
                self._take(tokens)
                return
            waiter = _ThreadWaiter(tokens)
            self._enqueue(waiter)
        try:
            waiter.event.wait()  # our turn: every earlier caller has been served
            while True:
                with self._lock:
                    delay = self._delay(tokens)
                    if delay == 0.0:
                        self._take(tokens)
                        self._leave(waiter)
                        return
                self._sleep(delay)  # outside the lock; then check again (reconcile may intervene)
        except BaseException:
            with self._lock:
                self._leave(waiter)
            raise

    async def acquire_async(self, tokens: int = 0) -> None:
        """Wait without blocking the event loop until one request and ``tokens`` are available."""
        self._check(tokens)
        with self._lock:
            if not self._queue and self._delay(tokens) == 0.0:
                self._take(tokens)
                return
            waiter = _AsyncWaiter(tokens, asyncio.get_running_loop())
            self._enqueue(waiter)
        try:
            await waiter.future
            while True:
                with self._lock:
                    delay = self._delay(tokens)
                    if delay == 0.0:
                        self._take(tokens)
                        self._leave(waiter)
                        return
                await self._async_sleep(delay)
        except BaseException:  # including CancelledError: hand the turn to the next waiter
            with self._lock:
                self._leave(waiter)
            raise

    def try_acquire(self, tokens: int = 0) -> bool:
        """Take one request and ``tokens`` now if possible, without waiting; ``False`` if not.

        It never jumps the queue: while anyone is waiting, the answer is ``False``.
        """
        self._check(tokens)
        with self._lock:
            if self._queue or self._delay(tokens) > 0.0:
                return False
            self._take(tokens)
            return True

    def has_capacity(self, tokens: int = 0) -> bool:
        """Whether :meth:`try_acquire` would succeed now (it takes nothing)."""
        self._check(tokens)
        with self._lock:
            return not self._queue and self._delay(tokens) == 0.0

    def wait_time(self, tokens: int = 0) -> float:
        """Seconds an :meth:`acquire` made now would wait, counting the callers queued before it."""
        self._check(tokens)
        with self._lock:
            ahead = sum(waiter.tokens for waiter in self._queue)
            return self._delay(tokens + ahead, requests=len(self._queue) + 1)

    # -- feedback from the provider ------------------------------------------------------------

    def reconcile(self, estimated: int, actual: int) -> None:
        """Correct a token estimate once the real usage is known.

        An over-estimate gives the difference back (never above the limit); an under-estimate
        takes the extra, which may leave the bucket below zero so later callers wait longer.
        """
        if estimated < 0 or actual < 0:
            raise ValueError("reconcile() takes token counts, which cannot be negative.")
        with self._lock:
            if self._tokens is None:
                return
            self._tokens.refill(self._clock())
            self._tokens.level = min(self._tokens.capacity, self._tokens.level + estimated - actual)

    def update_from_headers(self, headers: Mapping[str, str]) -> RateLimitHeaders:
        """Follow the server's view of what remains, from a response's rate-limit headers.

        Reads ``x-ratelimit-remaining-{requests,tokens}`` (OpenAI) or
        ``anthropic-ratelimit-{requests,tokens}-remaining`` (Anthropic) and lowers the local
        buckets to at most those values. It never raises them: other calls in flight may already
        have been charged, and the server's count can only be older than ours. Returns everything
        parsed (limits, remaining, resets, Anthropic's input/output token limits) for display.
        """
        parsed = parse_rate_limit_headers(headers)
        with self._lock:
            self._refill()
            for bucket, info in ((self._requests, parsed.requests), (self._tokens, parsed.tokens)):
                if bucket is not None and info is not None and info.remaining is not None:
                    bucket.level = min(bucket.level, float(info.remaining))
        return parsed

    # -- internals (called with the lock held) -------------------------------------------------

    def _check(self, tokens: int) -> None:
        if tokens < 0:
            raise ValueError(f"tokens must be zero or more, not {tokens}.")
        if self._tokens is not None and tokens > self._tokens.capacity:
            raise ValueError(
                f"A request for {tokens:,} tokens can never fit a limit of "
                f"{int(self._tokens.capacity):,} tokens per {self._period:g} s. Lower max_tokens, "
                "split the prompt, or raise tokens_per_minute if your tier allows it."
            )

    def _refill(self) -> None:
        now = self._clock()
        for bucket in (self._requests, self._tokens):
            if bucket is not None:
                bucket.refill(now)

    def _delay(self, tokens: int, *, requests: int = 1) -> float:
        self._refill()
        delay = 0.0
        if self._requests is not None:
            delay = max(delay, self._requests.time_until(requests))
        if self._tokens is not None and tokens:
            delay = max(delay, self._tokens.time_until(tokens))
        return delay

    def _take(self, tokens: int) -> None:
        if self._requests is not None:
            self._requests.level -= 1
        if self._tokens is not None:
            self._tokens.level -= tokens

    def _enqueue(self, waiter: _Waiter) -> None:
        self._queue.append(waiter)
        if len(self._queue) == 1:
            self._wake_head()

    def _leave(self, waiter: _Waiter) -> None:
        """Remove ``waiter`` (served, failed or cancelled); if it was the head, wake the next."""
        if not self._queue:
            return
        if self._queue[0] is waiter:
            self._queue.popleft()
            self._wake_head()
        elif waiter in self._queue:
            self._queue.remove(waiter)

    def _wake_head(self) -> None:
        while self._queue and not self._queue[0].wake():
            self._queue.popleft()  # its event loop is gone; it will never take its turn


# -- rate-limit headers ----------------------------------------------------------------------


@dataclass(frozen=True)
class LimitInfo:
    """One limit as a response reports it: the limit, what remains, and when it is full again."""

    limit: int | None = None
    remaining: int | None = None
    reset_in: float | None = None  # seconds from the response until fully replenished


@dataclass(frozen=True)
class RateLimitHeaders:
    """The rate-limit headers of one response, whichever provider sent them."""

    requests: LimitInfo | None = None
    tokens: LimitInfo | None = None
    input_tokens: LimitInfo | None = None  # Anthropic only
    output_tokens: LimitInfo | None = None  # Anthropic only


_GO_UNITS = {
    "h": 3600.0,
    "m": 60.0,
    "s": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ns": 1e-9,
}
_GO_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|μs|ns)")


def parse_go_duration(text: str) -> float:
    """Seconds in a Go duration, as OpenAI's ``x-ratelimit-reset-*`` headers send them.

    >>> parse_go_duration("6m0s"), parse_go_duration("2m59.56s"), parse_go_duration("12ms")
    (360.0, 179.56, 0.012)
    """
    text = text.strip()
    if text == "0":
        return 0.0
    position, total = 0, 0.0
    while position < len(text):
        match = _GO_PART.match(text, position)
        if match is None:
            break
        total += float(match.group(1)) * _GO_UNITS[match.group(2)]
        position = match.end()
    if not text or position != len(text):
        raise ValueError(f"Not a Go duration: {text!r} (expected e.g. '1s', '6m0s' or '12ms').")
    return round(total, 9)  # drop the float noise of the unit products (2m59.56s -> 179.56)


_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"  # date, time, fraction
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))"  # Z or an offset: RFC 3339 requires one
)


def parse_rfc3339(text: str) -> datetime:
    """An aware datetime from an RFC 3339 timestamp, as Anthropic's reset headers send them.

    >>> parse_rfc3339("2026-11-27T06:38:12.5Z")
    datetime.datetime(2026, 11, 27, 6, 38, 12, 500000, tzinfo=datetime.timezone.utc)
    """
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            f"Not an RFC 3339 timestamp: {text!r} (expected e.g. '2026-11-27T06:38:12Z')."
        )
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = (match.group(7) or "").ljust(6, "0")[:6]  # microseconds; finer digits dropped
    if match.group(8):
        tz: timezone = UTC
    else:
        sign = 1 if match.group(9) == "+" else -1
        offset = timedelta(hours=int(match.group(10)), minutes=int(match.group(11)))
        tz = timezone(sign * offset)
    # RFC 3339 allows a leap second (:60); datetime does not, so it becomes the next second.
    leap = second == 60
    parsed = datetime(year, month, day, hour, minute, 59 if leap else second, int(fraction), tz)
    return parsed + timedelta(seconds=1) if leap else parsed


def _int_or_none(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return None  # a malformed header must not break the call that carried it


def parse_rate_limit_headers(
    headers: Mapping[str, str], *, now: datetime | None = None
) -> RateLimitHeaders:
    """Parse OpenAI's ``x-ratelimit-*`` and Anthropic's ``anthropic-ratelimit-*`` headers.

    ``reset_in`` is in seconds either way: OpenAI sends a Go duration, Anthropic an RFC 3339
    time (measured from ``now``, the current time unless given). Malformed values become
    ``None``. Header names are matched case-insensitively.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    current = now or datetime.now(UTC)

    def openai(kind: str) -> LimitInfo | None:
        names = [f"x-ratelimit-{field}-{kind}" for field in ("limit", "remaining", "reset")]
        if not any(name in lowered for name in names):
            return None
        reset = lowered.get(names[2])
        try:
            reset_in = None if reset is None else parse_go_duration(reset)
        except ValueError:
            reset_in = None
        return LimitInfo(
            _int_or_none(lowered.get(names[0])), _int_or_none(lowered.get(names[1])), reset_in
        )

    def anthropic(kind: str) -> LimitInfo | None:
        names = [f"anthropic-ratelimit-{kind}-{field}" for field in ("limit", "remaining", "reset")]
        if not any(name in lowered for name in names):
            return None
        reset = lowered.get(names[2])
        try:
            reset_in = None if reset is None else (parse_rfc3339(reset) - current).total_seconds()
        except ValueError:
            reset_in = None
        if reset_in is not None:
            reset_in = max(0.0, reset_in)
        return LimitInfo(
            _int_or_none(lowered.get(names[0])), _int_or_none(lowered.get(names[1])), reset_in
        )

    return RateLimitHeaders(
        requests=openai("requests") or anthropic("requests"),
        tokens=openai("tokens") or anthropic("tokens"),
        input_tokens=anthropic("input-tokens"),
        output_tokens=anthropic("output-tokens"),
    )
