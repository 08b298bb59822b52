"""One retry layer: full-jitter backoff, Retry-After aware, a deadline, only what can succeed.

>>> policy = RetryPolicy(max_attempts=4, base_delay=0.5)
>>> reply = call_with_retry(lambda: "ok", policy)       # returns fn()'s value
>>> reply
'ok'

What it does with a failure (every failure is first translated by ``errors.classify``):

- not ``retriable`` (a 400, 401, 403, 404, an exhausted quota): raised at once, one attempt only;
- ``retry_after`` given by the server (``retry-after-ms`` / ``retry-after``): wait exactly that,
  no jitter added. The server knows when its window reopens; waiting less earns another 429 and
  waiting more (``max(retry_after, backoff)``) only adds time, up to a whole backoff step.
  If it asks for more than ``max_retry_after`` or more than the time left before ``deadline``,
  give up at once: the error is raised rather than sleeping for minutes;
- otherwise exponential backoff with full jitter: wait ``uniform(0, min(max_delay, base·2**n))``
  before retry ``n`` (``n`` = 0, 1, 2 …), which spreads simultaneous clients apart (AWS
  Architecture Blog, "Exponential Backoff And Jitter").

The error finally raised is the classified ``LLMError``, ``from`` the original exception, with
``.attempts`` and ``.waited`` set and a note saying why it gave up.

Turn the SDK's own retries off, or the layers multiply: the SDKs default to ``max_retries=2``, so
each of our 5 attempts becomes up to 3 HTTP requests (15), and the SDK's sleeps are not counted by
our deadline. ``without_sdk_retries(client)`` does it. A stream is retried only before its first
token (``retry_stream``): after that, retrying would repeat text the caller already has.

For learners who prefer tenacity, ``wait_retry_after`` and ``retry_if_retriable`` make the usual
``@retry`` correct with two arguments changed::

    # before: retries a 400 and an empty account; ignores retry-after; 3 SDK tries per attempt
    @retry(wait=wait_random_exponential(min=1, max=60), stop=stop_after_attempt(6))
    def ask(**kwargs):
        return client.chat.completions.create(**kwargs)

    # after
    client = without_sdk_retries(client)

    @retry(wait=wait_retry_after(), retry=retry_if_retriable(), stop=stop_after_attempt(6))
    def ask(**kwargs):
        return client.chat.completions.create(**kwargs)
"""

from __future__ import annotations

import asyncio
import inspect
import random
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar, cast

from tenacity import RetryCallState, retry_if_exception, wait_random_exponential
from tenacity.wait import wait_base

from course_helpers.errors import LLMError, classify, is_api_failure

__all__ = [
    "RetryEvent",
    "RetryPolicy",
    "acall_with_retry",
    "aretry_stream",
    "call_with_retry",
    "retry_if_retriable",
    "retry_stream",
    "wait_retry_after",
    "without_sdk_retries",
]

T = TypeVar("T")


class _Uniform(Protocol):
    def uniform(self, a: float, b: float, /) -> float: ...


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts, how long to wait between them, and when to stop altogether.

    ``deadline`` bounds the whole call in seconds (``None``: no bound): no wait is started that
    would end past it. An attempt already running is not interrupted; the client's ``timeout=``
    bounds that.
    ``jitter="none"`` waits the full backoff step (handy for demos; crowds retry in lockstep).
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0
    deadline: float | None = 60.0
    max_retry_after: float = 60.0
    jitter: Literal["full", "none"] = "full"

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        for name in ("base_delay", "max_delay", "max_retry_after"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")
        if self.deadline is not None and self.deadline <= 0:
            raise ValueError(f"deadline must be positive or None, got {self.deadline}")
        if self.jitter not in ("full", "none"):
            raise ValueError(f"jitter must be 'full' or 'none', got {self.jitter!r}")

    def backoff(self, retry: int, rng: _Uniform | None = None) -> float:
        """The wait before retry number ``retry`` (0 for the first) when the server gave none."""
        step = min(self.max_delay, self.base_delay * 2.0 ** min(retry, 64))
        if self.jitter == "none":
            return step
        if rng is None:
            return random.uniform(0.0, step)
        return rng.uniform(0.0, step)


@dataclass(frozen=True)
class RetryEvent:
    """Passed to ``on_retry`` before each wait: which attempt failed, why, and the wait ahead."""

    attempt: int
    error: LLMError
    delay: float


class _Attempts:
    """The bookkeeping the sync, async and stream loops share; it never sleeps itself."""

    def __init__(
        self,
        policy: RetryPolicy,
        clock: Callable[[], float],
        rng: _Uniform | None,
        on_retry: Callable[[RetryEvent], object] | None,
    ) -> None:
        self.policy = policy
        self.clock = clock
        self.rng = rng
        self.on_retry = on_retry
        self.start = clock()
        self.count = 0
        self.waited = 0.0

    def begin(self) -> None:
        self.count += 1

    def failed(self, exc: Exception) -> float:
        """The wait before the next attempt; raises the classified error when giving up.

        Exceptions that are not API failures (bugs in the caller's code) propagate unchanged.
        """
        if not is_api_failure(exc):
            raise exc
        error = classify(exc)
        error.attempts = self.count
        error.waited = self.waited
        reason = self._give_up_reason(error)
        if reason is not None:
            if reason:
                error.add_note(reason)
            _raise(error, exc)
        delay = self._delay(error)
        if self.on_retry is not None:
            self.on_retry(RetryEvent(self.count, error, delay))
        self.waited += delay
        return delay

    def interrupted(self, exc: Exception) -> LLMError:
        """The error for a stream that failed after its first token: never retried."""
        if not is_api_failure(exc):
            raise exc
        error = classify(exc)
        error.attempts = self.count
        error.waited = self.waited
        error.add_note(
            "The stream failed after its first token, so it was not retried: a retry would repeat "
            "text the caller already has. Retry the whole request yourself if that is acceptable."
        )
        return error

    def _delay(self, error: LLMError) -> float:
        if error.retry_after is not None:
            return error.retry_after
        return self.policy.backoff(self.count - 1, self.rng)

    def _give_up_reason(self, error: LLMError) -> str | None:
        """``None`` to retry; ``""`` to give up silently; otherwise the note to add."""
        policy = self.policy
        if not error.retriable:
            return ""
        if self.count >= policy.max_attempts:
            return (
                f"Gave up after {self.count} attempts (max_attempts={policy.max_attempts}) and "
                f"{self.waited:.1f} s of waiting."
            )
        if error.retry_after is not None and error.retry_after > policy.max_retry_after:
            return (
                f"Not retried: the server asked to wait {error.retry_after:g} s, more than "
                f"max_retry_after={policy.max_retry_after:g} s. Try again later, or raise the cap."
            )
        if policy.deadline is not None:
            delay = self._delay(error)
            used = self.clock() - self.start
            if used + delay > policy.deadline:
                return (
                    f"Not retried: waiting {delay:.1f} s more would pass the {policy.deadline:g} s "
                    f"deadline ({used:.1f} s used, {self.count} attempts)."
                )
        return None


def _raise(error: LLMError, exc: BaseException) -> None:
    if error is exc:
        raise error
    raise error from exc


def call_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy = RetryPolicy(),  # frozen, so a shared default is safe
    *,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_retry: Callable[[RetryEvent], object] | None = None,
    rng: _Uniform | None = None,
) -> T:
    """Call ``fn()`` until it succeeds, retrying only what can succeed (see the module docstring).

    Raises the classified ``LLMError`` from the last failure.
    """
    attempts = _Attempts(policy, clock, rng, on_retry)
    while True:
        attempts.begin()
        try:
            return fn()
        except Exception as exc:
            delay = attempts.failed(exc)
        sleep(delay)


async def acall_with_retry(
    fn: Callable[[], Awaitable[T]],
    policy: RetryPolicy = RetryPolicy(),
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_retry: Callable[[RetryEvent], object] | None = None,
    rng: _Uniform | None = None,
) -> T:
    """The asyncio twin of ``call_with_retry``: ``fn`` returns an awaitable, waits do not block."""
    attempts = _Attempts(policy, clock, rng, on_retry)
    while True:
        attempts.begin()
        try:
            return await fn()
        except Exception as exc:
            delay = attempts.failed(exc)
        await sleep(delay)


def retry_stream(
    open_stream: Callable[[], Iterable[T]],
    policy: RetryPolicy = RetryPolicy(),
    *,
    first_token: Callable[[T], bool] | None = None,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_retry: Callable[[RetryEvent], object] | None = None,
    rng: _Uniform | None = None,
) -> Iterator[T]:
    """Yield ``open_stream()``'s items, reopening it on failures before the first token.

    ``first_token(item)`` says which item is the first real token; items before it (openai's
    role-only chunk, anthropic's ``message_start``) are held back, so a failure among them is
    still retried and the caller sees them once. By default every item counts as a token.

    A failure after the first token is raised (classified, with a note) and never retried, so no
    text is duplicated. The stream is closed however the iteration ends.

    >>> list(retry_stream(lambda: iter("abc")))
    ['a', 'b', 'c']
    """
    attempts = _Attempts(policy, clock, rng, on_retry)
    while True:
        attempts.begin()
        source: Iterable[T] | None = None
        held: list[T] = []
        try:
            source = open_stream()
            iterator = iter(source)
            while not held or (first_token is not None and not first_token(held[-1])):
                held.append(next(iterator))
        except StopIteration:  # ended before any token: nothing to retry
            _close(source)
            yield from held
            return
        except Exception as exc:
            _close(source)
            sleep(attempts.failed(exc))
            continue
        break
    try:
        yield from held
        while True:
            try:
                item = next(iterator)
            except StopIteration:
                return
            except Exception as exc:
                raise attempts.interrupted(exc) from exc
            yield item
    finally:
        _close(source)


async def aretry_stream(
    open_stream: Callable[[], AsyncIterable[T] | Awaitable[AsyncIterable[T]]],
    policy: RetryPolicy = RetryPolicy(),
    *,
    first_token: Callable[[T], bool] | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_retry: Callable[[RetryEvent], object] | None = None,
    rng: _Uniform | None = None,
) -> AsyncIterator[T]:
    """The asyncio twin of ``retry_stream``.

    ``open_stream`` may return the async iterable or an awaitable of it, so both
    ``lambda: client.chat.completions.create(..., stream=True)`` (a coroutine) and an async
    generator function work.
    """
    attempts = _Attempts(policy, clock, rng, on_retry)
    while True:
        attempts.begin()
        source: AsyncIterable[T] | None = None
        held: list[T] = []
        try:
            opened = open_stream()
            source = await opened if inspect.isawaitable(opened) else opened
            iterator = aiter(source)
            while not held or (first_token is not None and not first_token(held[-1])):
                held.append(await anext(iterator))
        except StopAsyncIteration:
            await _aclose(source)
            for item in held:
                yield item
            return
        except Exception as exc:
            await _aclose(source)
            await sleep(attempts.failed(exc))
            continue
        break
    try:
        for item in held:
            yield item
        while True:
            try:
                item = await anext(iterator)
            except StopAsyncIteration:
                return
            except Exception as exc:
                raise attempts.interrupted(exc) from exc
            yield item
    finally:
        await _aclose(source)


def _close(source: object) -> None:
    close = getattr(source, "close", None)
    if callable(close):
        close()


async def _aclose(source: object) -> None:
    close = getattr(source, "aclose", None) or getattr(source, "close", None)
    if callable(close):
        result = close()
        if inspect.isawaitable(result):
            await result


# --------------------------------------------------------------------------------------------
# tenacity adapters


class wait_retry_after(wait_base):
    """A tenacity ``wait``: the server's Retry-After when it sent one, else ``fallback``.

    ``fallback`` defaults to ``wait_random_exponential(multiplier=0.5, max=20)`` (full jitter).
    A Retry-After above ``max_wait`` is cut to ``max_wait``; pair it with ``stop_after_delay``
    to bound the total.
    """

    def __init__(self, fallback: wait_base | None = None, max_wait: float = 60.0) -> None:
        self.fallback = fallback or wait_random_exponential(multiplier=0.5, max=20)
        self.max_wait = max_wait

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None and outcome.failed else None
        if exc is not None:
            retry_after = classify(exc).retry_after
            if retry_after is not None:
                return min(retry_after, self.max_wait)
        return self.fallback(retry_state)


def _is_retriable(exc: BaseException) -> bool:
    return classify(exc).retriable


class retry_if_retriable(retry_if_exception):
    """A tenacity ``retry`` predicate: retry exactly what ``classify(exc).retriable`` allows."""

    def __init__(self) -> None:
        super().__init__(_is_retriable)


# --------------------------------------------------------------------------------------------
# the SDKs' own retries


class _Configurable(Protocol):
    def with_options(self, *, max_retries: int = ...) -> Any: ...


C = TypeVar("C", bound=_Configurable)


def without_sdk_retries(client: C) -> C:
    """A copy of an ``openai``/``anthropic`` client that never retries by itself.

    Both SDKs retry 408/409/429/5xx and connection errors twice by default (``max_retries=2``),
    sleeping as they see fit. Wrapped in a retry loop of 3 attempts that is 3 × 3 = 9 requests
    for one call, retry-after honoured twice, and waits our deadline cannot see. Keep one layer:

    >>> import openai
    >>> without_sdk_retries(openai.OpenAI(api_key="sk-test")).max_retries
    0
    """
    return cast(C, client.with_options(max_retries=0))
