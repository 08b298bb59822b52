"""ex07 · Multi-provider client: route by model name, fall back to the other provider on an outage.

The learner writes ``MultiClient(primary, fallback, *, openai_client, anthropic_client)`` whose
``complete(prompt, *, max_tokens=200) -> (provider, text)`` asks the primary model, and the
fallback model only when the primary fails with an error that another provider can avoid
(overloaded, 5xx, rate limit, timeout, connection), never for a request that is itself wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from course_helpers.checks._support import (
    ANTHROPIC_MODEL,
    OPENAI_MODEL,
    anthropic_client,
    openai_client,
    replayed_texts,
    simulated,
)
from course_helpers.checks.base import Check, Exercise, describe, expect
from course_helpers.fake import FakeCall, FakeProvider

__all__ = ["EXERCISE"]

ClientClass = Callable[..., Any]
PROMPT = "What is a rate limit?"


def _client(client_class: ClientClass, primary: str, fallback: str) -> Any:
    return client_class(
        primary, fallback, openai_client=openai_client(), anthropic_client=anthropic_client()
    )


def _complete(client: Any) -> tuple[str, str]:
    result = client.complete(PROMPT, max_tokens=200)
    expect(
        isinstance(result, tuple) and len(result) == 2,
        f"complete() should return a (provider, text) tuple, got {describe(result)}",
    )
    provider, text = result
    return provider, text


def _generations(fake: FakeProvider) -> list[FakeCall]:
    return [call for call in fake.calls if call.path.endswith(("/chat/completions", "/messages"))]


def _expect_answer(fake: FakeProvider, provider: str, text: str, expected: str, model: str) -> None:
    expect(
        provider == expected,
        f"complete() should report provider {expected!r}, got {describe(provider)}",
    )
    calls = _generations(fake)
    answered = [call for call in calls if call.status == 200]
    expect(
        len(answered) == 1 and answered[0].provider == expected,
        f"exactly one successful request, to {expected}, was expected; the requests were "
        f"{[(call.provider, call.status) for call in calls]}",
    )
    body = answered[0].body or {}
    expect(
        body.get("model") == model,
        f"the request to {expected} should name the model {model!r}, "
        f"it named {describe(body.get('model'))}",
    )
    replayed = [text for text in replayed_texts(fake.calls) if text is not None]
    expect(
        replayed[-1:] == [text],
        f"complete() should return the text {expected} answered, {describe(replayed[-1:])}, "
        f"got {describe(text)}",
    )


def check_routes_openai(client_class: ClientClass) -> None:
    with simulated() as fake:
        provider, text = _complete(_client(client_class, OPENAI_MODEL, ANTHROPIC_MODEL))
        _expect_answer(fake, provider, text, "openai", OPENAI_MODEL)


def check_routes_anthropic(client_class: ClientClass) -> None:
    with simulated() as fake:
        provider, text = _complete(_client(client_class, ANTHROPIC_MODEL, OPENAI_MODEL))
        _expect_answer(fake, provider, text, "anthropic", ANTHROPIC_MODEL)


def check_falls_back_503(client_class: ClientClass) -> None:
    with simulated() as fake:
        fake.fail_next(503, times=20, retry_after=0.05, provider="openai")
        provider, text = _complete(_client(client_class, OPENAI_MODEL, ANTHROPIC_MODEL))
        _expect_answer(fake, provider, text, "anthropic", ANTHROPIC_MODEL)


def check_falls_back_529(client_class: ClientClass) -> None:
    with simulated() as fake:
        fake.fail_next(529, times=20, retry_after=0.05, provider="anthropic")
        provider, text = _complete(_client(client_class, ANTHROPIC_MODEL, OPENAI_MODEL))
        _expect_answer(fake, provider, text, "openai", OPENAI_MODEL)


def check_no_fallback_on_400(client_class: ClientClass) -> None:
    with simulated() as fake:
        fake.fail_next(400, provider="openai")
        client = _client(client_class, OPENAI_MODEL, ANTHROPIC_MODEL)
        try:
            result = client.complete(PROMPT, max_tokens=200)
        except NotImplementedError:
            raise
        except Exception:
            result = None
        asked = {call.provider for call in _generations(fake)}
    expect(
        "anthropic" not in asked,
        "a 400 means the request itself is wrong: the fallback would reject it too (or hide a "
        "bug), so complete() should raise without asking anthropic, but it asked anthropic",
    )
    expect(result is None, f"after a 400 complete() should raise, but it returned {result!r}")


def check_both_down(client_class: ClientClass) -> None:
    with simulated() as fake:
        fake.fail_next(503, times=20, retry_after=0.05, provider="openai")
        fake.fail_next(529, times=20, retry_after=0.05, provider="anthropic")
        client = _client(client_class, OPENAI_MODEL, ANTHROPIC_MODEL)
        try:
            result = client.complete(PROMPT, max_tokens=200)
        except NotImplementedError:
            raise
        except Exception:
            return
    raise AssertionError(
        f"both providers were down, so complete() should raise, but it returned {result!r}"
    )


EXERCISE = Exercise(
    id="ex07_multi_provider",
    title="A multi-provider client with fallback",
    target="MultiClient",
    notebook="ex07_multi_provider.ipynb",
    checks=[
        Check(
            "routes a gpt model to openai",
            check_routes_openai,
            "course_helpers.catalog.provider_for(model) says which provider serves a model",
        ),
        Check(
            "routes a claude model to anthropic",
            check_routes_anthropic,
            "anthropic needs max_tokens; return the text of the text blocks",
        ),
        Check(
            "falls back when the primary has an outage (503)",
            check_falls_back_503,
            "catch the primary's retriable failure, then ask the fallback model",
        ),
        Check(
            "falls back when anthropic is overloaded (529)",
            check_falls_back_529,
            "529 is anthropic's 'overloaded': worth trying the other provider",
        ),
        Check(
            "does not fall back on a 400",
            check_no_fallback_on_400,
            "fall back only on errors another provider can avoid: re-raise the rest",
        ),
        Check(
            "raises when both providers fail",
            check_both_down,
            "raise the last error; never return None or an empty answer",
        ),
    ],
)
