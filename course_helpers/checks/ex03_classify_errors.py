"""ex03 · Classify errors: from a provider's exception, decide whether to retry and how long to
wait.

The learner writes ``decide(exc) -> Decision(retriable, wait)``: ``wait`` is the number of seconds
the server asked for (``retry-after-ms``, else ``retry-after`` in seconds or as an HTTP date), or
``None`` when it did not say. Every exception here is a real SDK exception, raised by the SDK
against the simulated provider, and every failure kind is met on both providers.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from course_helpers.checks._sdk_errors import http_date, raised, with_headers
from course_helpers.checks.base import Check, Exercise, attribute, describe, expect

__all__ = ["EXERCISE", "raised"]

Decide = Callable[[BaseException], Any]
PROVIDERS = ("openai", "anthropic")
_NO_DEFAULT_WAIT = {"fault_retry_after": None}  # no retry-after unless a check asks for one
# UTC+5:30 all year, as a POSIX rule (needs no tz database): an HTTP date read as local time is
# then wrong on every machine, not only on those outside UTC.
_NON_UTC_ZONE = "IST-5:30"
_PAST = "Wed, 21 Oct 2015 07:28:05 GMT"


def _decision(decide: Decide, exc: BaseException, what: str) -> tuple[Any, Any]:
    verdict = decide(exc)
    retriable = attribute(verdict, "retriable", "decide()'s result")
    wait = attribute(verdict, "wait", "decide()'s result")
    expect(
        isinstance(retriable, bool),
        f"for {what}, retriable should be True or False, got {describe(retriable)}",
    )
    return retriable, wait


def _expect_retriable(decide: Decide, exc: BaseException, what: str, expected: bool) -> Any:
    retriable, wait = _decision(decide, exc, what)
    expect(
        retriable is expected,
        f"{what} ({type(exc).__module__}.{type(exc).__name__}) should be retriable={expected}, "
        f"but decide() said retriable={retriable}",
    )
    return wait


def _expect_wait(what: str, wait: Any, expected: float | None) -> None:
    if expected is None:
        expect(
            wait is None,
            f"{what} carries no retry-after header, so wait should be None, got {describe(wait)}",
        )
        return
    ok = isinstance(wait, int | float) and math.isclose(wait, expected, abs_tol=1e-6)
    expect(
        ok,
        f"{what}: the server asked for {expected:g} s, so wait should be "
        f"{expected:g}, got {describe(wait)}",
    )


def _expect(decide: Decide, exc: BaseException, what: str, wait: float | None) -> None:
    """Retriable, and ``wait`` the seconds the server asked for (``None``: it did not say)."""
    _expect_wait(what, _expect_retriable(decide, exc, what, True), wait)


def check_rate_limit(decide: Decide) -> None:
    for provider, seconds in (("openai", 7), ("anthropic", 3)):
        exc = raised(provider, status=429, retry_after=seconds)
        _expect(decide, exc, f"an {provider} rate limit (429, retry-after: {seconds})", seconds)


def check_fractional(decide: Decide) -> None:
    for provider, seconds in (("openai", 2.5), ("anthropic", 0.4)):
        exc = raised(provider, status=429, retry_after=seconds)
        _expect(decide, exc, f"an {provider} 429 with retry-after: {seconds:g}", seconds)


@contextmanager
def local_time_zone(posix_rule: str) -> Iterator[None]:
    """The process's local time zone set to ``posix_rule`` for the block (a no-op off Unix)."""
    if not hasattr(time, "tzset"):
        yield
        return
    before = os.environ.get("TZ")
    os.environ["TZ"] = posix_rule
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


def check_http_date(decide: Decide) -> None:
    with local_time_zone(_NON_UTC_ZONE):
        past = with_headers(raised("openai", status=429), retry_after=_PAST)
        what = f"an openai 429 with retry-after: {_PAST!r}"
        wait = _expect_retriable(decide, past, what, True)
        expect(
            isinstance(wait, int | float) and wait == 0,
            f"{what}: that date has passed, so wait should be 0, got {describe(wait)}",
        )
        for provider, status, ahead in (("openai", 429, 20), ("anthropic", 503, 45)):
            date = http_date(ahead)
            exc = with_headers(raised(provider, status=status), retry_after=date)
            what = f"an {provider} {status} with retry-after: {date!r} ({ahead} s from now)"
            wait = _expect_retriable(decide, exc, what, True)
            # The date has whole seconds and a little time has passed: allow for both, not hours.
            ok = isinstance(wait, int | float) and ahead - 3 <= wait <= ahead + 0.5
            expect(
                ok,
                f"{what}: wait should be the seconds until that date, about {ahead}, got "
                f"{describe(wait)} (the date is in GMT: compare it with the current UTC time, "
                "not the machine's local time; this check runs in UTC+5:30)",
            )


def check_retry_after_ms(decide: Decide) -> None:
    for provider in PROVIDERS:
        exc = raised(provider, status=429, retry_after_ms=1500)
        what = f"an {provider} 429 with retry-after-ms: 1500 and retry-after: 2"
        _expect(decide, exc, what, 1.5)


def check_quota(decide: Decide) -> None:
    cases = (
        ("openai", "an openai 429 with code 'insufficient_quota'"),
        ("anthropic", "an anthropic 429 'enforced_spend_limit_reached'"),
    )
    for provider, what in cases:
        _expect_retriable(decide, raised(provider, quota=True), what, False)


def check_overloaded(decide: Decide) -> None:
    exc = raised("anthropic", status=529, retry_after=2)
    _expect(decide, exc, "anthropic overloaded (529, retry-after: 2)", 2.0)
    exc = raised("anthropic", status=529, fake_options=_NO_DEFAULT_WAIT)
    _expect(decide, exc, "anthropic overloaded (529)", None)


def check_in_stream(decide: Decide) -> None:
    exc = raised("anthropic", stream=True, mid_stream=True, after_tokens=2)
    _expect(decide, exc, "anthropic's in-stream overloaded_error (after HTTP 200)", None)
    exc = raised("openai", stream=True, mid_stream=True, after_tokens=2)
    _expect(decide, exc, "openai's in-stream server_error (after HTTP 200)", None)


def check_server_errors(decide: Decide) -> None:
    for provider in PROVIDERS:
        for status in (500, 502, 503, 504):
            exc = raised(provider, status=status, fake_options=_NO_DEFAULT_WAIT)
            _expect(decide, exc, f"an {provider} {status}", None)
        exc = raised(provider, status=503, retry_after=4)
        _expect(decide, exc, f"an {provider} 503 with retry-after: 4", 4.0)


def check_network(decide: Decide) -> None:
    for provider in PROVIDERS:
        exc = raised(provider, drop=True)
        _expect(decide, exc, f"an {provider} dropped connection", None)
        exc = raised(provider, hang=True, client_options={"timeout": 0.05})
        _expect(decide, exc, f"an {provider} request that timed out", None)


def check_timeout_and_conflict(decide: Decide) -> None:
    for provider in PROVIDERS:
        for status, name in ((408, "request timeout"), (409, "conflict")):
            exc = raised(provider, status=status, fake_options=_NO_DEFAULT_WAIT)
            _expect(decide, exc, f"an {provider} {status} ({name})", None)


def check_context_length(decide: Decide) -> None:
    for provider in PROVIDERS:
        exc = raised(provider, context_length=True)
        _expect_retriable(decide, exc, f"an {provider} context-length error (400)", False)


def check_client_errors(decide: Decide) -> None:
    for provider in PROVIDERS:
        exc = raised(provider, client_options={"api_key": "not-a-key"})
        _expect_retriable(decide, exc, f"an {provider} 401 (wrong key)", False)
        exc = raised(provider, status=400)
        _expect_retriable(decide, exc, f"an {provider} 400 (bad request)", False)
        exc = raised(provider, model=f"{provider}-no-such-model")
        _expect_retriable(decide, exc, f"an {provider} 404 (unknown model)", False)


def check_not_an_api_error(decide: Decide) -> None:
    cases: tuple[tuple[BaseException, str], ...] = (
        (KeyError("choices"), "a KeyError from your own code"),
        (ValueError("bad input"), "a ValueError from your own code"),
    )
    for exc, what in cases:
        _expect_retriable(decide, exc, what, False)


EXERCISE = Exercise(
    id="ex03_classify_errors",
    title="Retriable or not, and how long to wait",
    target="decide",
    notebook="ex03_classify_errors.ipynb",
    checks=[
        Check(
            "a rate limit is retriable and honours retry-after",
            check_rate_limit,
            "read exc.response.headers['retry-after'] (seconds)",
        ),
        Check(
            "a fractional retry-after is kept, not rounded",
            check_fractional,
            "retry-after may be a decimal ('2.5'): float(), never int()",
        ),
        Check(
            "an HTTP-date retry-after gives the seconds until that date",
            check_http_date,
            "when float() fails, parse it with email.utils.parsedate_to_datetime (a UTC "
            "datetime), subtract datetime.now(timezone.utc), and give 0 for a date in the past",
        ),
        Check(
            "retry-after-ms is preferred to retry-after",
            check_retry_after_ms,
            "retry-after is rounded up to whole seconds; retry-after-ms is exact",
        ),
        Check(
            "an exhausted quota is never retriable",
            check_quota,
            "a 429 is not always a rate limit: look at the body (openai exc.code == "
            "'insufficient_quota'; anthropic exc.body['error']['details']['error_code'] or "
            "the spend-limit error classes)",
        ),
        Check(
            "overloaded (529) is retriable",
            check_overloaded,
            "anthropic answers 529 when it is overloaded: try again later",
        ),
        Check(
            "an error inside a stream (after HTTP 200) is retriable",
            check_in_stream,
            "anthropic raises APIStatusError with status_code 200 and body type "
            "'overloaded_error'; openai raises a plain openai.APIError whose body type is "
            "'server_error'",
        ),
        Check(
            "every 5xx is retriable, on both providers",
            check_server_errors,
            "500, 502, 503 and 504 are the server's trouble, not your request's",
        ),
        Check(
            "timeouts and dropped connections are retriable, on both providers",
            check_network,
            "openai.APIConnectionError and anthropic.APIConnectionError (APITimeoutError is a "
            "subclass) mean no answer came: try again",
        ),
        Check(
            "408 and 409 are retriable",
            check_timeout_and_conflict,
            "408 (request timeout) and 409 (conflict) are temporary: both SDKs retry them",
        ),
        Check(
            "a context-length error is not retriable",
            check_context_length,
            "the same prompt will never fit: shorten it instead of retrying",
        ),
        Check(
            "a wrong key, a bad request and an unknown model are not retriable",
            check_client_errors,
            "401, 400 and 404 fail the same way every time",
        ),
        Check(
            "an exception that did not come from the API is not retriable",
            check_not_an_api_error,
            "a KeyError or ValueError is a bug in the code: retrying it hides the bug",
        ),
    ],
)
