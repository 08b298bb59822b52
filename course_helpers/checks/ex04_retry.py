"""ex04 · Retry: exponential backoff with jitter that honours retry-after and gives up correctly.

The learner writes ``retry_call(fn, *, max_attempts=5, base_delay=0.5, max_delay=30.0,
sleep=time.sleep)``: call ``fn()`` until it succeeds, retrying only what can succeed, sleeping
with ``sleep`` between attempts. The checks run with the default parameters (realistic waits of
seconds) and an injected ``sleep`` that only records, so nothing really waits; a wait is the
*total* slept between two attempts, however many ``sleep`` calls make it up. One check uses real
time, so a ``retry_call`` whose default does not really sleep is caught.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from course_helpers.checks._interleave import WAIT_CODES, is_sleep, profiling
from course_helpers.checks._sdk_errors import http_date, raised, with_headers
from course_helpers.checks._support import OPENAI_MODEL, openai_client, simulated
from course_helpers.checks.base import DEFAULT_TIMEOUT, Check, Exercise, describe, expect

__all__ = ["EXERCISE", "Timeline"]

RetryCall = Callable[..., Any]
_ASK: Any = [{"role": "user", "content": "Say hello"}]
_NO_DEFAULT_WAIT = {"fault_retry_after": None}


class _SleptForReal(BaseException):
    """Stops a candidate that waits with real time instead of the ``sleep`` it was given.

    A ``BaseException``, so the candidate's ``except Exception`` does not retry it.
    """


class Timeline:
    """The injected ``sleep`` and ``fn``'s attempts on one line.

    ``gaps[0]`` is what was slept before the first attempt, ``gaps[i]`` what was slept after
    attempt ``i``: the wait before the next attempt, or a useless wait after the last one.
    ``waited_for_real`` is set by ``watching_real_waits`` when the candidate waits in real
    time (``time.sleep``, an event or a condition) instead of through the injected ``sleep``.
    """

    def __init__(self, *, injected: bool = True) -> None:
        self.injected = injected  # False: the candidate sleeps for real, with its own default
        self.gaps = [0.0]
        self.calls = 0
        self.waited_for_real = False

    @property
    def attempts(self) -> int:
        return len(self.gaps) - 1

    def sleep(self, seconds: float) -> None:
        if not isinstance(seconds, int | float) or isinstance(seconds, bool):
            raise TypeError(f"sleep() takes a number of seconds, not {describe(seconds)}")
        if seconds < 0 or math.isnan(seconds):
            raise ValueError(f"sleep length must be non-negative, got {seconds!r}")
        self.calls += 1
        self.gaps[-1] += seconds

    def attempt(self) -> None:
        """Called at the start of each attempt."""
        if self.injected and self.waited_for_real:
            raise _SleptForReal
        self.gaps.append(0.0)

    def ended(self) -> None:
        """Called at the end of each attempt."""

    @property
    def waits(self) -> list[float]:
        """The total slept between consecutive attempts."""
        return self.gaps[1:-1]

    @property
    def after_last(self) -> float:
        return self.gaps[-1] if self.attempts else 0.0


class Caller:
    """An ``fn``: one chat completion per call through the SDK, against the simulated provider."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.client = openai_client()

    def __call__(self) -> str:
        self.timeline.attempt()
        try:
            reply = self.client.chat.completions.create(model=OPENAI_MODEL, messages=_ASK)
            return reply.choices[0].message.content or ""
        finally:
            self.timeline.ended()


class Raiser:
    """An ``fn`` that raises the given exceptions in turn, then returns ``"done"``."""

    def __init__(self, errors: list[BaseException], timeline: Timeline) -> None:
        self.errors = list(errors)
        self.timeline = timeline

    def __call__(self) -> str:
        self.timeline.attempt()
        try:
            if self.errors:
                raise self.errors.pop(0)
            return "done"
        finally:
            self.timeline.ended()


@contextmanager
def watching_real_waits(timeline: Timeline | None) -> Iterator[None]:
    """Mark ``timeline`` when this thread waits in real time: ``time.sleep`` (a C call) or an
    event's or condition's ``wait``. Exact, unlike timing the gap between attempts, which a
    short random wait slips under and a busy machine stretches."""
    if timeline is None or not timeline.injected:
        yield
        return

    def hook(frame: FrameType, event: str, arg: Any) -> None:
        if (event == "c_call" and is_sleep(arg)) or (
            event == "call" and frame.f_code in WAIT_CODES
        ):
            timeline.waited_for_real = True

    with profiling(hook):
        yield


def _run(retry_call: RetryCall, fn: Callable[[], Any], **options: Any) -> tuple[Any, Any]:
    """``retry_call(fn, **options)``: (its result, the exception it raised)."""
    injected = getattr(options.get("sleep"), "__self__", None)
    timeline = injected if isinstance(injected, Timeline) else None
    try:
        with watching_real_waits(timeline):
            return retry_call(fn, **options), None
    except NotImplementedError:
        raise
    except _SleptForReal:
        raise AssertionError(
            "retry_call waited in real time between attempts but never called the sleep= it "
            "was given: wait only with the sleep argument, never with time.sleep directly"
        ) from None
    except Exception as exc:
        return None, exc


def _retry(retry_call: RetryCall, errors: list[BaseException], **options: Any) -> Any:
    """Run ``retry_call`` (defaults, recorded sleep) on an ``fn`` that raises ``errors`` in turn."""
    timeline = Timeline()
    fn = Raiser(errors, timeline)
    result, error = _run(retry_call, fn, sleep=timeline.sleep, **options)
    return timeline, result, error


def _name(exc: BaseException) -> str:
    status = getattr(exc, "status_code", None)
    where = f" {status}" if status is not None else ""
    return f"{type(exc).__module__}.{type(exc).__name__}{where}"


def check_recovers(retry_call: RetryCall) -> None:
    timeline = Timeline()
    with simulated() as fake:
        fake.fail_next(500, times=2)
        fn = Caller(timeline)
        result, error = _run(retry_call, fn, sleep=timeline.sleep)
        sent = len(fake.calls)
    expect(
        error is None,
        f"after two 500s the third attempt succeeds, but retry_call raised {describe(error)}",
    )
    expect(
        sent == timeline.attempts == 3,
        f"two 500s then a success should take 3 requests, but {sent} were sent",
    )
    expect(
        isinstance(result, str) and result != "",
        f"retry_call should return what fn returned, got {describe(result)}",
    )


def _transient() -> list[tuple[BaseException, str]]:
    plain = _NO_DEFAULT_WAIT
    return [
        (raised("openai", status=500, fake_options=plain), "an openai 500"),
        (raised("anthropic", status=502, fake_options=plain), "an anthropic 502"),
        (raised("openai", status=503, fake_options=plain), "an openai 503"),
        (raised("anthropic", status=504, fake_options=plain), "an anthropic 504"),
        (raised("anthropic", status=529, fake_options=plain), "an anthropic 529"),
        (raised("openai", status=408, fake_options=plain), "an openai 408"),
        (raised("openai", status=409, fake_options=plain), "an openai 409"),
        (raised("anthropic", drop=True), "an anthropic dropped connection"),
        (raised("openai", drop=True), "an openai dropped connection"),
        (raised("anthropic", hang=True, client_options={"timeout": 0.05}), "an anthropic timeout"),
        (raised("openai", hang=True, client_options={"timeout": 0.05}), "an openai timeout"),
        (
            raised("anthropic", stream=True, mid_stream=True, after_tokens=2),
            "anthropic's in-stream overloaded_error",
        ),
    ]


def check_every_transient(retry_call: RetryCall) -> None:
    for exc, what in _transient():
        _, result, error = _retry(retry_call, [exc])
        expect(
            error is None and result == "done",
            f"fn raised {what} ({_name(exc)}) once, then succeeded; retry_call should retry it "
            f"and return 'done', but it {_outcome(result, error)}",
        )


def _outcome(result: Any, error: BaseException | None) -> str:
    if error is not None:
        return f"raised {describe(error)}"
    return f"returned {describe(result)}"


def check_retry_after(retry_call: RetryCall) -> None:
    date = http_date(3)
    cases: list[tuple[BaseException, str, float, float]] = [
        (raised("openai", status=429, retry_after=1.2), "retry-after: 1.2", 1.2, 1.2),
        (
            raised("anthropic", status=529, retry_after_ms=1500),
            "retry-after-ms: 1500 (and retry-after: 2)",
            1.5,
            1.5,
        ),
        (
            with_headers(raised("anthropic", status=429), retry_after=date),
            f"retry-after: {date!r} (3 s after it was raised)",
            0.5,  # the date has whole seconds, and a little time has passed
            3.0,
        ),
    ]
    for exc, header, low, high in cases:
        timeline, _, error = _retry(retry_call, [exc])
        expect(error is None, f"after one {_name(exc)}, the retry succeeds: got {error!r}")
        waited = timeline.waits[0]
        expect(
            low - 1e-6 <= waited <= high + 1e-6,
            f"the {_name(exc)} said {header}, so retry_call should wait "
            f"{_range(low, high)} s instead of the backoff, but it slept {waited:g} s in all "
            f"before the next attempt (with the default base_delay=0.5)",
        )


def _range(low: float, high: float) -> str:
    return f"{low:g}" if low == high else f"{low:g} to {high:g}"


def _permanent() -> list[tuple[BaseException, str]]:
    return [
        (raised("openai", status=400), "an openai 400"),
        (raised("anthropic", status=400), "an anthropic 400"),
        (raised("openai", client_options={"api_key": "not-a-key"}), "an openai 401"),
        (raised("anthropic", client_options={"api_key": "not-a-key"}), "an anthropic 401"),
        (raised("openai", model="openai-no-such-model"), "an openai 404"),
        (raised("anthropic", model="anthropic-no-such-model"), "an anthropic 404"),
        (raised("anthropic", context_length=True), "an anthropic context-length 400"),
    ]


def _expect_once(retry_call: RetryCall, exc: BaseException, what: str) -> None:
    timeline, result, error = _retry(retry_call, [exc] * 5)
    expect(
        timeline.attempts == 1,
        f"{what} cannot succeed on a retry: exactly 1 attempt expected, got {timeline.attempts}",
    )
    expect(
        error is exc,
        f"after {what}, retry_call should re-raise that exception itself, but it "
        f"{_outcome(result, error)}",
    )
    expect(
        timeline.after_last == 0,
        f"no wait is needed before giving up on {what}, but it slept {timeline.after_last:g} s",
    )


def check_no_retry_on_permanent(retry_call: RetryCall) -> None:
    for exc, what in _permanent():
        _expect_once(retry_call, exc, f"{what} ({_name(exc)})")


def check_no_retry_on_quota(retry_call: RetryCall) -> None:
    for provider in ("openai", "anthropic"):
        exc = raised(provider, quota=True)
        _expect_once(retry_call, exc, f"an {provider} exhausted quota ({_name(exc)})")


def check_own_errors(retry_call: RetryCall) -> None:
    cases: list[tuple[BaseException, str]] = [
        (KeyError("choices"), "a KeyError raised by fn's own code"),
        (ZeroDivisionError("division by zero"), "a ZeroDivisionError raised by fn's own code"),
    ]
    for exc, what in cases:
        _expect_once(retry_call, exc, what)


def _outage(count: int) -> list[BaseException]:
    """``count`` distinct 503s, so the last one can be told from the others."""
    return [raised("openai", status=503, fake_options=_NO_DEFAULT_WAIT) for _ in range(count)]


def check_gives_up(retry_call: RetryCall) -> None:
    timeline, _, error = _retry(retry_call, _outage(7))
    expect(
        timeline.attempts == 5,
        "with the default max_attempts=5 and a lasting outage, fn should be called 5 times, "
        f"got {timeline.attempts}",
    )
    expect(error is not None, "when every attempt fails, retry_call should raise")
    expect(
        timeline.after_last == 0,
        f"after the last attempt retry_call should raise at once, but it first slept "
        f"{timeline.after_last:g} s",
    )
    timeline = Timeline()
    with simulated() as fake:
        fake.fail_next(503, times=10)
        _run(retry_call, Caller(timeline), max_attempts=3, sleep=timeline.sleep)
        sent = len(fake.calls)
    expect(sent == 3, f"with max_attempts=3 and a lasting outage, 3 requests expected, got {sent}")


def check_last_error(retry_call: RetryCall) -> None:
    errors = _outage(5)
    _, result, error = _retry(retry_call, errors)
    expect(
        error is errors[-1],
        "after 5 failed attempts retry_call should raise the last error itself (the very "
        f"exception fn raised the 5th time, {_name(errors[-1])}), but it {_outcome(result, error)}",
    )


def _schedules(
    retry_call: RetryCall, runs: int, attempts: int, **options: Any
) -> list[list[float]]:
    error = raised("openai", status=500)  # a real InternalServerError, with no retry-after
    schedules = []
    for _ in range(runs):
        timeline, _, failure = _retry(retry_call, [error] * (attempts - 1), **options)
        expect(
            failure is None,
            f"{attempts - 1} 500s then a success: retry_call raised {describe(failure)}",
        )
        schedules.append(timeline.waits)
    return schedules


def check_jitter(retry_call: RetryCall) -> None:
    schedules = _schedules(retry_call, 20, 5)  # the defaults: base_delay=0.5, max_delay=30
    firsts = [waits[0] for waits in schedules]
    lasts = [waits[3] for waits in schedules]
    expect(
        len({round(wait, 9) for wait in firsts}) > 1,
        f"20 runs all waited exactly {firsts[0]:g} s before the first retry: add random jitter "
        "so that clients that failed together do not retry together",
    )
    for waits in schedules:
        for retry, wait in enumerate(waits):
            expect(
                0 <= wait <= 0.5 * 2**retry + 1e-9,
                f"with the default base_delay=0.5 the wait before retry {retry + 1} should be at "
                f"most {0.5 * 2**retry:g} s (base_delay * 2**{retry}), got {wait:g} s",
            )
    expect(
        statistics.mean(lasts) > 2 * statistics.mean(firsts),
        f"the backoff should grow: mean wait before the 4th retry {statistics.mean(lasts):.2f} s "
        f"vs before the 1st {statistics.mean(firsts):.2f} s",
    )


def check_cap(retry_call: RetryCall) -> None:
    schedules = _schedules(retry_call, 20, 7, max_attempts=7, base_delay=1.0, max_delay=2.0)
    longest = max(max(waits) for waits in schedules)
    expect(
        longest <= 2.0 + 1e-9,
        f"with max_delay=2 no wait may exceed 2 s, but one was {longest:g} s",
    )
    # From the 4th retry on, base_delay * 2**n >= 8: full jitter under the cap is uniform on
    # [0, 2] (mean 1; 80 samples put the mean within 0.4 of it but for odds of 1 in 10**9).
    capped = [wait for waits in schedules for wait in waits[3:]]
    mean = statistics.mean(capped)
    at_cap = sum(wait >= 2.0 - 1e-9 for wait in capped)
    expect(
        0.6 <= mean <= 1.4,
        f"with base_delay=1 and max_delay=2 the waits before retries 4 to 6 should be spread "
        f"evenly over 0 to 2 s (mean about 1), but their mean was {mean:.2f} s and {at_cap} of "
        f"{len(capped)} were exactly 2 s: cap the range, then draw the jitter",
    )


def check_real_sleep(retry_call: RetryCall) -> None:
    with simulated() as fake:
        fake.fail_next(429, retry_after=0.3)
        timeline = Timeline(injected=False)
        started = time.monotonic()
        _, error = _run(retry_call, Caller(timeline), max_attempts=3)
        elapsed = time.monotonic() - started
    expect(error is None, f"after one 429 the retry succeeds, but retry_call raised {error!r}")
    expect(
        elapsed >= 0.3,
        "called without sleep=, retry_call should really wait the 0.3 s retry-after, but it "
        f"returned after {elapsed:.2f} s: is its default sleep time.sleep?",
    )


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
            "retries every transient failure, on both providers",
            check_every_transient,
            "5xx, 529, 408, 409, timeouts, dropped connections and in-stream errors can all "
            "succeed later: course_helpers.errors.classify(exc).retriable knows them all",
        ),
        Check(
            "waits what retry-after says, instead of the backoff",
            check_retry_after,
            "when the error carries retry-after(-ms), sleep exactly that, not that plus a backoff "
            "(classify(exc).retry_after reads seconds, decimals, milliseconds and HTTP dates)",
        ),
        Check(
            "exactly one attempt on a 400, 401, 404 or context-length error",
            check_no_retry_on_permanent,
            "re-raise errors that are not retriable at once, unchanged",
        ),
        Check(
            "never retries an exhausted quota",
            check_no_retry_on_quota,
            "insufficient_quota is a 429 too: classify by the body, not the status",
        ),
        Check(
            "re-raises the caller's own errors at once",
            check_own_errors,
            "only API failures are worth retrying: a KeyError is a bug, and retrying it hides it",
        ),
        Check(
            "gives up after max_attempts, without a last useless wait",
            check_gives_up,
            "count attempts; after the last one raise instead of sleeping",
        ),
        Check(
            "when giving up, raises the last error itself",
            check_last_error,
            "re-raise the exception of the last attempt (`raise`), do not wrap it in another",
        ),
        Check(
            "backoff grows exponentially, with jitter",
            check_jitter,
            "full jitter: random.uniform(0, min(max_delay, base_delay * 2 ** retry))",
        ),
        Check(
            "caps each wait at max_delay, before the jitter",
            check_cap,
            "min(max_delay, base_delay * 2 ** retry) is the range; draw the jitter inside it",
        ),
        Check(
            "really sleeps when no sleep= is given",
            check_real_sleep,
            "the default must be sleep=time.sleep, and every wait must go through sleep",
            timeout=DEFAULT_TIMEOUT,
        ),
    ],
)
