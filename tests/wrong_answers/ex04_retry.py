"""Answers to ex04_retry: wrong ones its checks must catch, right ones they must pass."""

from __future__ import annotations

import random
import time
from typing import Any

import anthropic
import openai
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from course_helpers.errors import QuotaExceededError, classify
from wrong_answers.kinds import Demo, Right, Wrong


def retry_ignoring_retry_after(
    fn: Any,
    *,
    max_attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Any = time.sleep,
) -> Any:
    """Full jitter, right decisions, but deaf to the server's retry-after."""
    for attempt in range(max_attempts):
        try:
            return fn()
        except Exception as exc:
            if not classify(exc).retriable or attempt == max_attempts - 1:
                raise
            sleep(random.uniform(0, min(max_delay, base_delay * 2**attempt)))
    return None


def retry_sleeps_after_last(
    fn: Any,
    *,
    max_attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Any = time.sleep,
) -> Any:
    """Waits after the last failure too, then raises."""
    for attempt in range(max_attempts):
        try:
            return fn()
        except Exception as exc:
            error = classify(exc)
            if not error.retriable:
                raise
            delay = error.retry_after
            if delay is None:
                delay = random.uniform(0, min(max_delay, base_delay * 2**attempt))
            sleep(delay)
            last = exc
    raise last


def retry_without_jitter(
    fn: Any,
    *,
    max_attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Any = time.sleep,
) -> Any:
    """Honours retry-after, but every client waits base * 2**n exactly: a thundering herd."""
    for attempt in range(max_attempts):
        try:
            return fn()
        except Exception as exc:
            error = classify(exc)
            if not error.retriable or attempt == max_attempts - 1:
                raise
            delay = error.retry_after
            sleep(min(max_delay, base_delay * 2**attempt) if delay is None else delay)
    return None


def retry_with_time_sleep(
    fn: Any,
    *,
    max_attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Any = time.sleep,
) -> Any:
    """Right, except that it calls time.sleep directly, ignoring the sleep= it was given."""
    for attempt in range(max_attempts):
        try:
            return fn()
        except Exception as exc:
            error = classify(exc)
            if not error.retriable or attempt == max_attempts - 1:
                raise
            delay = error.retry_after
            if delay is None:
                delay = random.uniform(0, min(max_delay, base_delay * 2**attempt))
            time.sleep(delay)
    return None


def retry_never_really_sleeps(
    fn: Any,
    *,
    max_attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Any = lambda seconds: None,
) -> Any:
    """Right when a sleep is injected; its default does not wait at all."""
    return retry_with_injected(fn, max_attempts, base_delay, max_delay, sleep)


def retry_with_injected(
    fn: Any, max_attempts: int, base_delay: float, max_delay: float, sleep: Any
) -> Any:
    for attempt in range(max_attempts):
        try:
            return fn()
        except Exception as exc:
            error = classify(exc)
            if not error.retriable or attempt == max_attempts - 1:
                raise
            delay = error.retry_after
            if delay is None:
                delay = random.uniform(0, min(max_delay, base_delay * 2**attempt))
            sleep(delay)
    return None


def _loop(fn: Any, max_attempts: int, delay_of: Any, sleep: Any, *, retry_if: Any = None) -> Any:
    """A plain retry loop; ``delay_of(error, attempt)`` and ``retry_if(exc)`` carry the mistake."""
    for attempt in range(max_attempts):
        try:
            return fn()
        except Exception as exc:
            retriable = retry_if(exc) if retry_if else classify(exc).retriable
            if not retriable or attempt == max_attempts - 1:
                raise
            sleep(delay_of(classify(exc), attempt))
    return None


def retry_after_plus_backoff(
    fn: Any,
    *,
    max_attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Any = time.sleep,
) -> Any:
    """Sleeps retry-after and then the backoff on top of it: 1.2 s asked, up to 1.7 s slept."""

    def delay(error: Any, attempt: int) -> float:
        backoff = random.uniform(0, min(max_delay, base_delay * 2**attempt))
        return (error.retry_after or 0) + backoff

    return _loop(fn, max_attempts, delay, sleep)


def retry_after_truncated(
    fn: Any,
    *,
    max_attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Any = time.sleep,
) -> Any:
    """int(retry_after): 1.2 s becomes 1 s, 1.5 s becomes 1 s."""

    def delay(error: Any, attempt: int) -> float:
        if error.retry_after is not None:
            return int(error.retry_after)
        return random.uniform(0, min(max_delay, base_delay * 2**attempt))

    return _loop(fn, max_attempts, delay, sleep)


def retry_caps_after_jitter(
    fn: Any,
    *,
    max_attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Any = time.sleep,
) -> Any:
    """min(max_delay, jitter): never over the cap, but soon always exactly at it."""

    def delay(error: Any, attempt: int) -> float:
        if error.retry_after is not None:
            return float(error.retry_after)
        return min(max_delay, random.uniform(0, base_delay * 2**attempt))

    return _loop(fn, max_attempts, delay, sleep)


def _full_jitter(base_delay: float, max_delay: float) -> Any:
    def delay(error: Any, attempt: int) -> float:
        if error.retry_after is not None:
            return float(error.retry_after)
        return random.uniform(0, min(max_delay, base_delay * 2**attempt))

    return delay


def retry_wraps_last_error(
    fn: Any,
    *,
    max_attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Any = time.sleep,
) -> Any:
    """Gives up with RuntimeError("gave up after 5 attempts") from the last error."""
    last: Exception | None = None
    for attempt in range(max_attempts):
        try:
            return fn()
        except Exception as exc:
            if not classify(exc).retriable:
                raise
            last = exc
            if attempt < max_attempts - 1:
                sleep(_full_jitter(base_delay, max_delay)(classify(exc), attempt))
    raise RuntimeError(f"gave up after {max_attempts} attempts") from last


def retry_all_but_400(
    fn: Any,
    *,
    max_attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Any = time.sleep,
) -> Any:
    """Gives up at once only on a 400 and a quota: a wrong key and an unknown model are retried."""

    def retry_if(exc: Exception) -> bool:
        error = classify(exc)
        return error.status != 400 and not isinstance(error, QuotaExceededError)

    return _loop(fn, max_attempts, _full_jitter(base_delay, max_delay), sleep, retry_if=retry_if)


def retry_own_errors(
    fn: Any,
    *,
    max_attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Any = time.sleep,
) -> Any:
    """Anything that is not an SDK status error is taken for a network blip: a KeyError too."""

    def retry_if(exc: Exception) -> bool:
        if isinstance(exc, openai.APIStatusError | anthropic.APIStatusError):
            return classify(exc).retriable
        return True

    return _loop(fn, max_attempts, _full_jitter(base_delay, max_delay), sleep, retry_if=retry_if)


def retry_status_only(
    fn: Any,
    *,
    max_attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Any = time.sleep,
) -> Any:
    """Retries by status (429 and 5xx): timeouts and dropped connections have none, so no retry."""

    def retry_if(exc: Exception) -> bool:
        status = getattr(exc, "status_code", None)
        return (status == 429 and classify(exc).retriable) or (status or 0) >= 500

    return _loop(fn, max_attempts, _full_jitter(base_delay, max_delay), sleep, retry_if=retry_if)


# What each wrong answer gets wrong, the answer, and the checks that must catch it.
WRONG: list[Wrong] = [
    (
        "ignores retry-after",
        retry_ignoring_retry_after,
        ["waits what retry-after says, instead of the backoff"],
    ),
    (
        "sleeps retry-after plus the backoff",
        retry_after_plus_backoff,
        ["waits what retry-after says, instead of the backoff"],
    ),
    (
        "truncates a fractional retry-after",
        retry_after_truncated,
        [
            "waits what retry-after says, instead of the backoff",
            "really sleeps when no sleep= is given",
        ],
    ),
    (
        "caps after the jitter",
        retry_caps_after_jitter,
        ["caps each wait at max_delay, before the jitter"],
    ),
    (
        "wraps the last error in RuntimeError",
        retry_wraps_last_error,
        ["when giving up, raises the last error itself"],
    ),
    (
        "retries 401 and 404",
        retry_all_but_400,
        [
            "exactly one attempt on a 400, 401, 404 or context-length error",
            "re-raises the caller's own errors at once",
        ],
    ),
    (
        "retries the caller's own KeyError",
        retry_own_errors,
        ["re-raises the caller's own errors at once"],
    ),
    (
        "retries by status: no retry on timeouts, drops, 408, 409, in-stream errors",
        retry_status_only,
        ["retries every transient failure, on both providers"],
    ),
    (
        "sleeps after the last attempt",
        retry_sleeps_after_last,
        ["gives up after max_attempts, without a last useless wait"],
    ),
    (
        "no jitter",
        retry_without_jitter,
        [
            "backoff grows exponentially, with jitter",
            "caps each wait at max_delay, before the jitter",
        ],
    ),
    (
        "calls time.sleep, ignoring sleep=",
        retry_with_time_sleep,
        ["recovers from transient server errors"],
    ),
    (
        "its default sleep never waits",
        retry_never_really_sleeps,
        ["really sleeps when no sleep= is given"],
    ),
]

# The demo in the solution notebook ("what a check looks like"), by the name it has there.
DEMO: Demo = (
    "retry_call_textbook",
    "retries everything, 2**n, no jitter",
    [
        "waits what retry-after says, instead of the backoff",
        "exactly one attempt on a 400, 401, 404 or context-length error",
        "never retries an exhausted quota",
        "re-raises the caller's own errors at once",
        "when giving up, raises the last error itself",
        "caps each wait at max_delay, before the jitter",
        "backoff grows exponentially, with jitter",
        "gives up after max_attempts, without a last useless wait",
    ],
)


def retry_with_tenacity(
    fn: Any,
    *,
    max_attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Any = time.sleep,
) -> Any:
    """tenacity: its full-jitter wait, unless the error says how long."""
    backoff = wait_random_exponential(multiplier=base_delay, max=max_delay)

    def wait(state: Any) -> float:
        asked = classify(state.outcome.exception()).retry_after
        return float(asked) if asked is not None else float(backoff(state))

    retrying = Retrying(
        stop=stop_after_attempt(max_attempts),
        wait=wait,
        retry=retry_if_exception(lambda exc: classify(exc).retriable),
        sleep=sleep,
        reraise=True,
    )
    return retrying(fn)


def retry_in_slices(
    fn: Any,
    *,
    max_attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Any = time.sleep,
) -> Any:
    """Sleeps each wait in slices of 0.1 s (so a Ctrl-C or a shutdown flag is seen quickly)."""

    def sliced(seconds: float) -> None:
        left = seconds
        while left > 0:
            step = min(0.1, left)
            sleep(step)
            left -= step

    return _loop(fn, max_attempts, _full_jitter(base_delay, max_delay), sliced)


class Retrier:
    """A policy object; calling it is calling retry_call."""

    def __call__(
        self,
        fn: Any,
        *,
        max_attempts: int = 5,
        base_delay: float = 0.5,
        max_delay: float = 30.0,
        sleep: Any = time.sleep,
    ) -> Any:
        self.attempt = 0
        while True:
            try:
                return fn()
            except Exception as exc:
                error = classify(exc)
                self.attempt += 1
                if not error.retriable or self.attempt >= max_attempts:
                    raise
                sleep(self.delay(error, base_delay, max_delay))

    def delay(self, error: Any, base_delay: float, max_delay: float) -> float:
        if error.retry_after is not None:
            return float(error.retry_after)
        return random.random() * min(max_delay, base_delay * 2 ** (self.attempt - 1))


def retry_while(
    fn: Any,
    *,
    max_attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Any = time.sleep,
) -> Any:
    """A while loop over the attempts left, the exponent kept as a running ceiling."""
    left, ceiling = max_attempts, base_delay
    while True:
        left -= 1
        try:
            return fn()
        except Exception as exc:
            error = classify(exc)
            if left <= 0 or not error.retriable:
                raise
            asked = error.retry_after
            sleep(asked if asked is not None else random.uniform(0, min(max_delay, ceiling)))
            ceiling *= 2


# Correct answers built differently from the solution: every check must pass them.
RIGHT: list[Right] = [
    ("tenacity", retry_with_tenacity),
    ("sleeps in slices of at most 0.1 s", retry_in_slices),
    ("a class, called like the function", Retrier()),
    ("a while loop that counts down", retry_while),
]
