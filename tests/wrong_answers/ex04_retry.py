"""Answers to ex04_retry: wrong ones its checks must catch, right ones they must pass."""

from __future__ import annotations

import random
import time
from typing import Any

from course_helpers.errors import classify
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


# What each wrong answer gets wrong, the answer, and the checks that must catch it.
WRONG: list[Wrong] = [
    (
        "ignores retry-after",
        retry_ignoring_retry_after,
        ["honours retry-after: waits ≥ 0.3 s but not 3 s"],
    ),
    (
        "sleeps after the last attempt",
        retry_sleeps_after_last,
        ["gives up after max_attempts, without a last useless wait"],
    ),
    ("no jitter", retry_without_jitter, ["backoff grows exponentially, with jitter"]),
    (
        "calls time.sleep, ignoring sleep=",
        retry_with_time_sleep,
        ["honours retry-after: waits ≥ 0.3 s but not 3 s"],
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
        "exactly one attempt on a 400",
        "never retries an exhausted quota",
        "backoff grows exponentially, with jitter",
        "gives up after max_attempts, without a last useless wait",
    ],
)

# Correct answers built differently from the solution: every check must pass them.
RIGHT: list[Right] = []
