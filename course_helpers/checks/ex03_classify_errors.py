"""ex03 · Classify errors: from a provider's exception, decide whether to retry and how long to
wait.

The learner writes ``decide(exc) -> Decision(retriable, wait)``: ``wait`` is the number of seconds
the server asked for (``retry-after-ms`` or ``retry-after``), or ``None`` when it did not say.
Every exception here is a real SDK exception, raised by the SDK against the simulated provider.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from course_helpers.checks._support import (
    ANTHROPIC_MODEL,
    OPENAI_MODEL,
    anthropic_client,
    openai_client,
    simulated,
)
from course_helpers.checks.base import Check, Exercise, attribute, describe, expect

__all__ = ["EXERCISE", "raised"]

Decide = Callable[[BaseException], Any]
_ASK: Any = [{"role": "user", "content": "Say hello"}]


def raised(
    provider: str,
    *,
    stream: bool = False,
    client_options: dict[str, Any] | None = None,
    model: str | None = None,
    **fault: Any,
) -> Exception:
    """The exception the SDK raises for one request that meets ``fault`` (``fail_next`` options)."""
    options = client_options or {}
    with simulated() as fake:
        if fault:
            fake.fail_next(provider=provider, **fault)  # type: ignore[arg-type]
        try:
            reply: Any
            if provider == "openai":
                client = openai_client(**options)
                reply = client.chat.completions.create(
                    model=model or OPENAI_MODEL, messages=_ASK, stream=stream
                )
            else:
                anthropic = anthropic_client(**options)
                reply = anthropic.messages.create(
                    model=model or ANTHROPIC_MODEL, max_tokens=50, messages=_ASK, stream=stream
                )
            if stream:
                for _event in reply:
                    pass
        except Exception as exc:
            return exc
    raise RuntimeError(f"the simulated provider did not fail as scripted: {fault}")


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
        f"{what} ({type(exc).__name__}) should be retriable={expected}, "
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


def check_rate_limit(decide: Decide) -> None:
    for provider, seconds in (("openai", 7.0), ("anthropic", 3.0)):
        exc = raised(provider, status=429, retry_after=seconds)
        what = f"an {provider} rate limit (429, retry-after: {seconds:g})"
        wait = _expect_retriable(decide, exc, what, True)
        _expect_wait(what, wait, seconds)


def check_retry_after_ms(decide: Decide) -> None:
    for provider in ("openai", "anthropic"):
        exc = raised(provider, status=429, retry_after_ms=1500)
        what = f"an {provider} 429 with retry-after-ms: 1500 and retry-after: 2"
        wait = _expect_retriable(decide, exc, what, True)
        _expect_wait(what, wait, 1.5)


def check_quota(decide: Decide) -> None:
    cases = (
        ("openai", "an openai 429 with code 'insufficient_quota'"),
        ("anthropic", "an anthropic 429 'enforced_spend_limit_reached'"),
    )
    for provider, what in cases:
        _expect_retriable(decide, raised(provider, quota=True), what, False)


def check_overloaded(decide: Decide) -> None:
    exc = raised("anthropic", status=529, retry_after=2)
    wait = _expect_retriable(decide, exc, "anthropic overloaded (529)", True)
    _expect_wait("anthropic overloaded (529, retry-after: 2)", wait, 2.0)


def check_in_stream_overloaded(decide: Decide) -> None:
    exc = raised("anthropic", stream=True, mid_stream=True, after_tokens=2)
    what = "anthropic's in-stream overloaded_error (after HTTP 200)"
    wait = _expect_retriable(decide, exc, what, True)
    _expect_wait(what, wait, None)


def check_server_errors(decide: Decide) -> None:
    for provider in ("openai", "anthropic"):
        what = f"an {provider} 500"
        wait = _expect_retriable(decide, raised(provider, status=500), what, True)
        _expect_wait(what, wait, None)
    exc = raised("openai", drop=True)
    _expect_retriable(decide, exc, "a dropped connection", True)


def check_context_length(decide: Decide) -> None:
    for provider in ("openai", "anthropic"):
        exc = raised(provider, context_length=True)
        _expect_retriable(decide, exc, f"an {provider} context-length error (400)", False)


def check_client_errors(decide: Decide) -> None:
    exc = raised("openai", client_options={"api_key": "not-a-key"})
    _expect_retriable(decide, exc, "an openai 401 (wrong key)", False)
    exc = raised("anthropic", client_options={"api_key": "not-an-anthropic-key"})
    _expect_retriable(decide, exc, "an anthropic 401 (wrong key)", False)
    exc = raised("openai", status=400)
    _expect_retriable(decide, exc, "an openai 400 (bad request)", False)
    exc = raised("anthropic", model="claude-no-such-model")
    _expect_retriable(decide, exc, "an anthropic 404 (unknown model)", False)


EXERCISE = Exercise(
    id="ex03_classify_errors",
    title="Retriable or not, and how long to wait",
    target="decide",
    notebook="ex03_classify_errors.ipynb",
    checks=[
        Check(
            "a rate limit is retriable and honours retry-after",
            check_rate_limit,
            "read exc.response.headers['retry-after'] (seconds, may be a decimal)",
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
            "an in-stream overloaded error is retriable",
            check_in_stream_overloaded,
            "mid-stream errors arrive after HTTP 200: anthropic raises APIStatusError with "
            "status_code 200 and exc.type == 'overloaded_error'",
        ),
        Check(
            "server errors and dropped connections are retriable",
            check_server_errors,
            "5xx, APIConnectionError and APITimeoutError can succeed on a later attempt",
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
    ],
)
