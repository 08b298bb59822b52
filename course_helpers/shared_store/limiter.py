"""``RateLimiter(..., store="redis://…")``: one limit shared by every process and machine.

Each process that builds a ``RateLimiter`` with its own buckets believes it owns the whole limit,
so N processes send N times too much and collect 429s. This limiter keeps the two buckets in
Redis and updates them with one atomic script per call (see :mod:`.limiter_lua`), timed by
Redis's clock, so every worker on every machine draws from the same buckets. The public API is
``RateLimiter``'s: ``acquire``, ``acquire_async``, ``try_acquire``, ``has_capacity``,
``wait_time``, ``reconcile``, ``update_from_headers``, ``available``.

Failure policy (``on_unavailable``), chosen because a rate limit protects the provider, not your
money: a worker that cannot reach Redis is at worst answered with 429s, which retries handle.

- ``"local"`` (default): log one warning line and limit locally, each process to ``1/N`` of the
  rate (N: the workers seen sharing the limit in the last two periods), starting from its share
  of the last shared level. Redis is tried again every ``recheck`` seconds; on the first success
  the shared buckets are lowered to what the fallback left, and a line says so.
- ``"fail"``: raise :class:`~.connection.StoreUnavailableError` naming the URL and what to do.

Wrong credentials or a bad URL always raise: a fallback would hide a misconfiguration forever.
After Redis loses the buckets (a restart without persistence), a worker that had seen them
recreates them *empty* rather than full: the provider's bucket may well be empty, so only an
empty start is sure to send no request too many.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import redis

from course_helpers.ratelimit import RateLimiter, RateLimitHeaders, parse_rate_limit_headers
from course_helpers.shared_store.connection import (
    StoreConfigError,
    StoreUnavailableError,
    connect,
    explain,
    make_client,
    mask_url,
    resolve_store,
)
from course_helpers.shared_store.limiter_lua import BUCKETS

__all__ = ["RedisRateLimiter", "SharedLevels"]

_log = logging.getLogger(__name__)
KEY_PREFIX = "course_helpers:ratelimit:"

Mode = Literal["take", "try", "peek", "give", "lower"]


@dataclass(frozen=True)
class SharedLevels:
    """One reply of the shared buckets: the wait, the levels after the call, who shares them."""

    wait: float
    requests: float
    tokens: float
    exists: bool  # the buckets are in Redis after the call (a peek does not create them)
    workers: int  # workers that took from the limit in the last two periods (0: not counted)
    at: float  # Redis's time of the call, in Unix seconds: the send is due at ``at + wait``


class RedisRateLimiter(RateLimiter):
    """A :class:`RateLimiter` whose buckets live in Redis; build it as ``RateLimiter(store=...)``.

    ``name`` identifies the limit: workers that pass the same ``name`` (and the same limits) to
    the same Redis share one budget of requests and tokens, e.g. one per API key and model.
    """

    __slots__ = (
        "_client",
        "_down_until",
        "_fallback",
        "_key",
        "_last",
        "_local_waiting",
        "_name",
        "_policy",
        "_recheck",
        "_script",
        "_seen",
        "_state",
        "_url",
        "_worker",
        "_workers_key",
    )

    def __init__(
        self,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        *,
        period: float = 60.0,
        headroom: float | None = None,
        store: str | None = None,
        name: str = "default",
        on_unavailable: Literal["local", "fail"] = "local",
        recheck: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
        async_sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        super().__init__(
            requests_per_minute,
            tokens_per_minute,
            period=period,
            headroom=headroom,
            clock=clock,
            sleep=sleep,
            async_sleep=async_sleep,
        )
        url = resolve_store(store)
        if url is None:
            raise ValueError("RedisRateLimiter needs store='redis://…' (or 'redis' for REDIS_URL).")
        if on_unavailable not in ("local", "fail"):
            raise ValueError(
                "on_unavailable must be 'local' (limit locally, with a warning) or 'fail' "
                f"(raise), not {on_unavailable!r}."
            )
        if not name or any(ch.isspace() for ch in name):
            raise ValueError(
                f"name must be a non-empty word such as 'openai-gpt-4o', not {name!r}."
            )
        self._url = mask_url(url)
        self._name = name
        self._policy = on_unavailable
        self._recheck = recheck
        self._key = f"{KEY_PREFIX}{{{name}}}"  # braces: one hash slot on a Redis Cluster
        self._workers_key = f"{KEY_PREFIX}{{{name}}}:workers"
        self._worker = uuid.uuid4().hex
        try:
            self._client = connect(url)  # a bad password or URL fails here, whatever the policy
        except StoreUnavailableError:
            if on_unavailable == "fail":
                raise
            self._client = make_client(url)  # the first call warns and limits locally
        self._script = self._client.register_script(BUCKETS)
        self._state = threading.Lock()  # guards the fields below, never held across a call
        self._seen = False  # have we seen the shared buckets (then a missing one means data loss)
        self._down_until = 0.0
        self._fallback: RateLimiter | None = None
        self._last = SharedLevels(0.0, float(self._cap(0)), float(self._cap(1)), False, 1, 0.0)
        self._local_waiting = 0
        self._shared("peek")  # warn now if Redis is down

    def __repr__(self) -> str:
        return (
            f"RateLimiter(requests_per_minute={self.requests_per_minute}, "
            f"tokens_per_minute={self.tokens_per_minute}, period={self.period}, "
            f"store={self._url!r}, name={self._name!r})"
        )

    @property
    def store(self) -> str:
        """The Redis URL, password masked."""
        return self._url

    @property
    def shared(self) -> bool:
        """Whether the last call reached Redis (``False`` while limiting locally)."""
        with self._state:
            return self._fallback is None

    @property
    def waiting(self) -> int:
        """How many callers of *this process* are sleeping until their turn."""
        with self._state:
            return self._local_waiting

    def close(self) -> None:
        """Close the connections to Redis."""
        self._client.close()

    # -- the API -----------------------------------------------------------------------------

    def available(self) -> tuple[float | None, float | None]:
        """The shared capacity left now as ``(requests, tokens)`` (negative: callers queued)."""
        levels = self._shared("peek")
        if levels is None:
            return self._local().available()
        return (
            None if self.requests_per_minute is None else levels.requests,
            None if self.tokens_per_minute is None else levels.tokens,
        )

    def take(self, tokens: int = 0) -> SharedLevels | None:
        """Take one request and ``tokens`` now and say when to send, without sleeping.

        For a scheduler that would rather re-queue a job than block a worker: send at
        ``levels.at + levels.wait`` (Redis time), i.e. after ``levels.wait`` seconds.
        ``acquire`` is ``take`` and then that sleep. ``None`` while Redis is unreachable and the
        policy is ``"local"`` (then nothing was taken: call ``acquire``).
        """
        self._check(tokens)
        return self._shared("take", tokens)

    def acquire(self, tokens: int = 0) -> None:
        """Take one request and ``tokens`` from the shared buckets, sleeping until they are due."""
        levels = self.take(tokens)
        if levels is None:
            self._local().acquire(tokens)
            return
        if levels.wait <= 0:
            return
        self._count_waiting(+1)
        try:
            self._sleep(levels.wait)
        except BaseException:
            self._give_back(tokens)
            raise
        finally:
            self._count_waiting(-1)

    async def acquire_async(self, tokens: int = 0) -> None:
        """:meth:`acquire` for asyncio: the Redis call runs in a thread, the wait is awaited."""
        self._check(tokens)
        levels = await asyncio.to_thread(self._shared, "take", tokens)
        if levels is None:
            await self._local().acquire_async(tokens)
            return
        if levels.wait <= 0:
            return
        self._count_waiting(+1)
        try:
            await self._async_sleep(levels.wait)
        except BaseException:  # including CancelledError: give the turn back
            self._give_back(tokens)
            raise
        finally:
            self._count_waiting(-1)

    def try_acquire(self, tokens: int = 0) -> bool:
        """Take one request and ``tokens`` now if nobody, in any process, would wait first."""
        self._check(tokens)
        levels = self._shared("try", tokens)
        if levels is None:
            return self._local().try_acquire(tokens)
        return levels.wait <= 0

    def has_capacity(self, tokens: int = 0) -> bool:
        """Whether :meth:`try_acquire` would succeed now (it takes nothing)."""
        self._check(tokens)
        levels = self._shared("peek", tokens)
        if levels is None:
            return self._local().has_capacity(tokens)
        return levels.wait <= 0

    def wait_time(self, tokens: int = 0) -> float:
        """Seconds an :meth:`acquire` made now would wait, behind every worker's queued callers."""
        self._check(tokens)
        levels = self._shared("peek", tokens)
        if levels is None:
            return self._local().wait_time(tokens)
        return levels.wait

    def reconcile(self, estimated: int, actual: int) -> None:
        """Give back an over-estimate (or take an under-estimate) in the shared token bucket."""
        if estimated < 0 or actual < 0:
            raise ValueError("reconcile() takes token counts, which cannot be negative.")
        if self._shared("give", a=0.0, b=float(estimated - actual)) is None:
            self._local().reconcile(estimated, actual)

    def update_from_headers(self, headers: Mapping[str, str]) -> RateLimitHeaders:
        """Lower the shared buckets to at most what the response says remains (never raise them).

        The shared level already counts callers still sleeping before they send, so it is lower
        than the provider's count by their share; a lower ``remaining`` still lowers it.
        """
        parsed = parse_rate_limit_headers(headers)
        remaining = [
            -1.0 if info is None or info.remaining is None else float(info.remaining)
            for info in (parsed.requests, parsed.tokens)
        ]
        if self._shared("lower", a=remaining[0], b=remaining[1]) is None:
            self._local().update_from_headers(headers)
        return parsed

    # -- Redis, and the fallback -------------------------------------------------------------

    def _cap(self, which: int) -> int:
        limit = self.requests_per_minute if which == 0 else self.tokens_per_minute
        return 0 if limit is None else limit

    def _shared(
        self, mode: Mode, tokens: int = 0, *, a: float = 0.0, b: float = 0.0
    ) -> SharedLevels | None:
        """Run the script; ``None`` when Redis is unreachable and the policy is to limit locally."""
        with self._state:
            if self._fallback is not None and time.monotonic() < self._down_until:
                return None
            fresh = 0 if self._seen else 1
            recovering = self._fallback
        try:
            if recovering is not None:
                self._run("lower", 0, fresh, *self._fallback_levels(recovering))
            reply = self._run(mode, tokens, fresh, a, b)
        except redis.RedisError as exc:
            self._unavailable(exc)
            return None
        with self._state:
            self._seen = self._seen or reply.exists
            self._last = reply if mode == "take" else self._last
            if self._fallback is not None:
                self._fallback = None
                _log.warning("Redis at %s is back: the limit is shared again.", self._url)
        return reply

    def _run(self, mode: Mode, tokens: int, fresh: int, a: float, b: float) -> SharedLevels:
        raw = self._script(
            keys=[self._key, self._workers_key],
            args=[
                mode,
                self._cap(0),
                self._cap(1),
                repr(self.period),
                repr(self.headroom),
                tokens,
                1,
                fresh,
                self._worker,
                repr(a),
                repr(b),
            ],
            client=self._client,
        )
        wait, requests, tokens_left, exists, workers, at = raw
        return SharedLevels(
            float(wait), float(requests), float(tokens_left), bool(exists), int(workers), float(at)
        )

    def _unavailable(self, exc: redis.RedisError) -> None:
        error = explain(exc, self._url)
        if isinstance(error, StoreConfigError) or self._policy == "fail":
            raise error from None
        with self._state:
            self._down_until = time.monotonic() + self._recheck
            if self._fallback is None:
                self._fallback = self._new_fallback()
                _log.warning("%s Limiting locally meanwhile (on_unavailable='local').", error)

    def _new_fallback(self) -> RateLimiter:
        """A local limiter with this worker's share (1/N) of the rate and of the last level."""
        share = max(1, self._last.workers)
        local = RateLimiter(
            self.requests_per_minute,
            self.tokens_per_minute,
            period=self.period * share,
            headroom=min(self.headroom * share, self.period * share / 4),
            clock=self._clock,
            sleep=self._sleep,
            async_sleep=self._async_sleep,
        )
        for bucket, level in (
            (local._requests, self._last.requests),
            (local._tokens, self._last.tokens),
        ):
            if bucket is not None:
                bucket.level = max(0.0, level) / share
        return local

    def _fallback_levels(self, local: RateLimiter) -> tuple[float, float]:
        """What the fallback left, scaled back to the whole limit: the shared buckets' new cap."""
        share = max(1, self._last.workers)
        requests, tokens = local.available()
        return (
            -1.0 if requests is None else max(0.0, requests) * share,
            -1.0 if tokens is None else max(0.0, tokens) * share,
        )

    def _local(self) -> RateLimiter:
        with self._state:
            if self._fallback is None:  # Redis came back between the two calls
                self._fallback = self._new_fallback()
            return self._fallback

    def _give_back(self, tokens: int) -> None:
        """Return an abandoned turn's capacity (best effort: the caller is already leaving)."""
        with contextlib.suppress(redis.RedisError):
            self._run("give", 0, 0, 1.0, float(tokens))

    def _count_waiting(self, step: int) -> None:
        with self._state:
            self._local_waiting += step
