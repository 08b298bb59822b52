"""ex04 · Retry: exponential backoff with jitter that honours retry-after and gives up correctly.

The learner writes ``retry_call(fn, *, max_attempts=5, base_delay=0.5, max_delay=30.0,
sleep=time.sleep)``: call ``fn()`` until it succeeds, retrying only what can succeed, sleeping
with ``sleep`` between attempts. Every check but one injects ``sleep`` and records the waits; one
uses real time, so a ``retry_call`` that ignores ``sleep=`` (or never really sleeps) is caught.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from course_helpers.checks._support import OPENAI_MODEL, openai_client, simulated
from course_helpers.checks.base import DEFAULT_TIMEOUT, Check, Exercise, describe, expect
from course_helpers.checks.ex03_classify_errors import raised
from course_helpers.fake import FakeProvider

__all__ = ["EXERCISE"]

RetryCall = Callable[..., Any]
_ASK: Any = [{"role": "user", "content": "Say hello"}]


class Recorder:
    """An injected ``sleep`` that records each wait instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Caller:
    """The ``fn`` handed to ``retry_call``: one chat completion per call, attempts counted."""

    def __init__(self, fake: FakeProvider) -> None:
        self.fake = fake
        self.client = openai_client()
        self.attempts = 0

    def __call__(self) -> str:
        self.attempts += 1
        reply = self.client.chat.completions.create(model=OPENAI_MODEL, messages=_ASK)
        return reply.choices[0].message.content or ""


class Raiser:
    """An ``fn`` that raises the given exceptions in turn, then returns ``"done"``."""

    def __init__(self, errors: list[BaseException]) -> None:
        self.errors = list(errors)
        self.attempts = 0

    def __call__(self) -> str:
        self.attempts += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def _run(retry_call: RetryCall, fn: Callable[[], Any], **options: Any) -> tuple[Any, Any, float]:
    """``retry_call(fn, **options)``: (its result, the exception it raised, seconds it took)."""
    started = time.monotonic()
    try:
        result = retry_call(fn, **options)
    except NotImplementedError:
        raise
    except Exception as exc:
        return None, exc, time.monotonic() - started
    return result, None, time.monotonic() - started


def _no_real_sleep(elapsed: float, sleep: Recorder) -> None:
    expect(
        elapsed < 0.25 or bool(sleep.waits),
        "retry_call spent real time waiting but never called the sleep= it was given: wait "
        "with the sleep argument, not time.sleep",
    )


def check_recovers(retry_call: RetryCall) -> None:
    sleep = Recorder()
    with simulated() as fake:
        fake.fail_next(500, times=2)
        fn = Caller(fake)
        result, error, elapsed = _run(retry_call, fn, max_attempts=5, base_delay=0.01, sleep=sleep)
    _no_real_sleep(elapsed, sleep)
    expect(
        error is None,
        f"after two 500s the third attempt succeeds, but retry_call raised {describe(error)}",
    )
    expect(
        fn.attempts == 3,
        f"two 500s then a success should take 3 attempts, but fn was called {fn.attempts} times",
    )
    expect(
        isinstance(result, str) and result != "",
        f"retry_call should return what fn returned, got {describe(result)}",
    )


def check_retry_after(retry_call: RetryCall) -> None:
    sleep = Recorder()
    with simulated() as fake:
        fake.fail_next(429, retry_after=0.3)
        fn = Caller(fake)
        _, error, elapsed = _run(retry_call, fn, max_attempts=3, base_delay=0.01, sleep=sleep)
    _no_real_sleep(elapsed, sleep)
    expect(error is None, f"after one 429 the retry succeeds, but retry_call raised {error!r}")
    waited = sum(sleep.waits)
    expect(
        waited >= 0.3,
        f"the 429 said retry-after: 0.3, so retry_call should wait at least 0.3 s, but it "
        f"waited {waited:g} s in total (sleep calls: {describe(sleep.waits)})",
    )
    expect(
        waited < 3.0,
        f"the 429 said retry-after: 0.3, so waiting {waited:g} s is far too long "
        "(is it read in the wrong unit, or added to a long backoff?)",
    )


def check_no_retry_on_400(retry_call: RetryCall) -> None:
    sleep = Recorder()
    with simulated() as fake:
        fake.fail_next(400)
        fn = Caller(fake)
        _, error, _ = _run(retry_call, fn, max_attempts=5, base_delay=0.01, sleep=sleep)
    expect(
        fn.attempts == 1,
        f"a 400 fails the same way every time: exactly 1 attempt expected, got {fn.attempts}",
    )
    expect(error is not None, "after a 400, retry_call should raise, but it returned normally")
    expect(not sleep.waits, f"no wait is needed before giving up, but it slept {sleep.waits}")


def check_no_retry_on_quota(retry_call: RetryCall) -> None:
    sleep = Recorder()
    with simulated() as fake:
        fake.fail_next(429, quota=True)
        fn = Caller(fake)
        _, error, _ = _run(retry_call, fn, max_attempts=5, base_delay=0.01, sleep=sleep)
    expect(
        fn.attempts == 1,
        "a 429 'insufficient_quota' never succeeds on retry: exactly 1 attempt expected, "
        f"got {fn.attempts}",
    )
    expect(error is not None, "after an exhausted quota, retry_call should raise")


def check_gives_up(retry_call: RetryCall) -> None:
    sleep = Recorder()
    with simulated() as fake:
        fake.fail_next(503, times=10, retry_after=0.05)
        fn = Caller(fake)
        _, error, elapsed = _run(retry_call, fn, max_attempts=3, base_delay=0.01, sleep=sleep)
    _no_real_sleep(elapsed, sleep)
    expect(
        fn.attempts == 3,
        f"with max_attempts=3 and a lasting outage, fn should be called 3 times, got {fn.attempts}",
    )
    expect(error is not None, "when every attempt fails, retry_call should raise the last error")
    expect(
        len(sleep.waits) == 2,
        "3 attempts need 2 waits (none after the last attempt), but sleep was called "
        f"{len(sleep.waits)} times: {describe(sleep.waits)}",
    )


def _schedules(
    retry_call: RetryCall, runs: int, attempts: int, **options: Any
) -> list[list[float]]:
    error = raised("openai", status=500)  # a real InternalServerError, with no retry-after
    schedules = []
    for _ in range(runs):
        sleep = Recorder()
        fn = Raiser([error] * (attempts - 1))
        _, failure, elapsed = _run(retry_call, fn, max_attempts=attempts, sleep=sleep, **options)
        _no_real_sleep(elapsed, sleep)
        expect(failure is None, f"three 500s then a success: retry_call raised {failure!r}")
        expect(
            len(sleep.waits) == attempts - 1,
            f"{attempts - 1} failures should mean {attempts - 1} waits, "
            f"got {describe(sleep.waits)}",
        )
        schedules.append(sleep.waits)
    return schedules


def check_jitter(retry_call: RetryCall) -> None:
    schedules = _schedules(retry_call, 20, 4, base_delay=1.0, max_delay=100.0)
    firsts = [waits[0] for waits in schedules]
    thirds = [waits[2] for waits in schedules]
    expect(
        len({round(wait, 9) for wait in firsts}) > 1,
        f"20 runs all waited exactly {firsts[0]:g} s before the first retry: add random jitter "
        "so that clients that failed together do not retry together",
    )
    for waits in schedules:
        for retry, wait in enumerate(waits):
            expect(
                0 <= wait <= 1.0 * 2**retry + 1e-9,
                f"with base_delay=1 the wait before retry {retry + 1} should be at most "
                f"{2**retry:g} s (base_delay * 2**{retry}), got {wait:g} s",
            )
    expect(
        statistics.mean(thirds) > statistics.mean(firsts),
        f"the backoff should grow: mean wait before the 3rd retry {statistics.mean(thirds):.2f} "
        f"vs before the 1st {statistics.mean(firsts):.2f}",
    )


def check_cap(retry_call: RetryCall) -> None:
    schedules = _schedules(retry_call, 3, 7, base_delay=1.0, max_delay=2.0)
    longest = max(max(waits) for waits in schedules)
    expect(
        longest <= 2.0 + 1e-9,
        f"with max_delay=2 no wait may exceed 2 s, but one was {longest:g} s",
    )


def check_real_sleep(retry_call: RetryCall) -> None:
    with simulated() as fake:
        fake.fail_next(429, retry_after=0.3)
        fn = Caller(fake)
        _, error, elapsed = _run(retry_call, fn, max_attempts=3, base_delay=0.01)
    expect(error is None, f"after one 429 the retry succeeds, but retry_call raised {error!r}")
    expect(
        elapsed >= 0.3,
        "called without sleep=, retry_call should really wait the 0.3 s retry-after, but it "
        "returned sooner: does it wait what retry-after says, and is its default sleep "
        "time.sleep?",
    )
    expect(elapsed < 3.0, "retry-after was 0.3 s, but retry_call took 3 s or more")


EXERCISE = Exercise(
    id="ex04_retry",
    title="Backoff with jitter that honours retry-after",
    target="retry_call",
    notebook="ex04_retry.ipynb",
    checks=[
        Check(
            "recovers from transient server errors",
            check_recovers,
            "catch the exception, decide whether it is retriable, sleep, try again",
        ),
        Check(
            "honours retry-after: waits ≥ 0.3 s but not 3 s",
            check_retry_after,
            "when the error carries retry-after(-ms), wait that long instead of the backoff",
        ),
        Check(
            "exactly one attempt on a 400",
            check_no_retry_on_400,
            "re-raise errors that are not retriable at once",
        ),
        Check(
            "never retries an exhausted quota",
            check_no_retry_on_quota,
            "insufficient_quota is a 429 too: classify by the body, not the status",
        ),
        Check(
            "gives up after max_attempts, without a last useless wait",
            check_gives_up,
            "count attempts; after the last one raise instead of sleeping",
        ),
        Check(
            "backoff grows exponentially, with jitter",
            check_jitter,
            "full jitter: sleep(random.uniform(0, min(max_delay, base_delay * 2 ** retry)))",
        ),
        Check("caps each wait at max_delay", check_cap, "min(max_delay, ...) before the jitter"),
        Check(
            "really sleeps when no sleep= is given",
            check_real_sleep,
            "the default must be sleep=time.sleep, and every wait must go through sleep",
            timeout=DEFAULT_TIMEOUT,
        ),
    ],
)
