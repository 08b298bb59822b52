"""ex07 · Multi-provider client: route by model name, fall back to the other provider on an outage.

The learner writes ``MultiClient(primary, fallback, *, openai_client, anthropic_client)`` whose
``complete(prompt, *, max_tokens=200) -> (provider, text)`` asks the primary model, and the
fallback model only when the primary fails with an error that another provider can avoid
(overloaded, 5xx, rate limit, timeout, connection), never for a request that is itself wrong
(400, 404: the fallback would hide a typo in a model name).

Each check asserts on what went over the wire: which provider and model were asked, with which
prompt (as the user message) and ``max_tokens`` (never the default the checks would otherwise use).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from course_helpers.checks._reshaped import Reshape, Sent, reshape
from course_helpers.checks._support import (
    ANTHROPIC_MODEL,
    OPENAI_MODEL,
    anthropic_client,
    openai_client,
    simulated,
)
from course_helpers.checks.base import Check, Exercise, describe, expect
from course_helpers.fake import FakeCall, FakeProvider
from course_helpers.fake.core import content_text

__all__ = ["EXERCISE"]

ClientClass = Callable[..., Any]
Provider = Literal["openai", "anthropic"]
PROMPT = "What is a rate limit?"
MAX_TOKENS = 77  # not the default 200: a client that ignores the argument is caught
TIMEOUT = 0.3  # the clients' read timeout in the timeout check: a hang costs this, in real time
OTHER: dict[Provider, Provider] = {"openai": "anthropic", "anthropic": "openai"}
MODELS: dict[Provider, str] = {"openai": OPENAI_MODEL, "anthropic": ANTHROPIC_MODEL}
TYPOS: dict[Provider, str] = {"openai": "gpt-5.4-mnii", "anthropic": "claude-haiku-5-55"}


def _client(client_class: ClientClass, primary: str, fallback: str, **options: Any) -> Any:
    return client_class(
        primary,
        fallback,
        openai_client=openai_client(**options),
        anthropic_client=anthropic_client(**options),
    )


def _complete(client: Any, prompt: str = PROMPT) -> tuple[str, str]:
    result = client.complete(prompt, max_tokens=MAX_TOKENS)
    expect(
        isinstance(result, tuple) and len(result) == 2,
        f"complete() should return a (provider, text) tuple, got {describe(result)}",
    )
    provider, text = result
    return provider, text


def _generations(fake: FakeProvider) -> list[FakeCall]:
    return [call for call in fake.calls if call.path.endswith(("/chat/completions", "/messages"))]


def _asked(calls: list[FakeCall]) -> list[tuple[str, str | None, int | None]]:
    return [(call.provider, (call.body or {}).get("model"), call.status) for call in calls]


def _expect_request(call: FakeCall, model: str, prompt: str) -> None:
    """The request carried ``model``, ``prompt`` as its user message and ``MAX_TOKENS``."""
    body = call.body or {}
    where = f"the request to {call.provider}"
    expect(
        body.get("model") == model,
        f"{where} should name the model {model!r}, it named {describe(body.get('model'))}",
    )
    messages = body.get("messages") or [{}]
    last = messages[-1] if isinstance(messages[-1], dict) else {}
    expect(
        last.get("role") == "user" and content_text(last.get("content")) == prompt,
        f"{where} should carry complete()'s prompt {prompt!r} as its user message, but its "
        f"last message was {describe(last, 120)}",
    )
    sent = body.get("max_completion_tokens", body.get("max_tokens"))
    expect(
        sent == MAX_TOKENS,
        f"complete(..., max_tokens={MAX_TOKENS}) should send max_tokens={MAX_TOKENS} to "
        f"{call.provider}, but {where} had {'none' if sent is None else sent}",
    )


def _expect_answer(
    fake: FakeProvider, sent: list[Sent], result: tuple[str, str], expected: str, model: str
) -> None:
    provider, text = result
    calls = _generations(fake)
    expect(
        provider == expected,
        f"complete() should report provider {expected!r}, got {describe(provider)} "
        f"(the requests were {_asked(calls)})",
    )
    answered = [call for call in calls if call.status == 200]
    expect(
        len(answered) == 1 and answered[0].provider == expected,
        f"exactly one successful request, to {expected}, was expected; the requests were "
        f"{_asked(calls)}",
    )
    asked = (answered[0].body or {}).get("model")
    expect(
        asked == model,
        f"the request to {expected} should name the model {model!r}, it named {describe(asked)}",
    )
    answer = sent[-1].text  # the one answer that went over the wire
    expect(
        text == answer,
        f"complete() should return the text {expected} answered, {describe(answer)}, "
        f"got {describe(text)}",
    )


def _routes(client_class: ClientClass, model: str, expected: Provider) -> None:
    with simulated() as fake:
        sent = reshape(fake, Reshape())  # records what was answered
        result = _complete(_client(client_class, model, MODELS[OTHER[expected]]))
        _expect_answer(fake, sent, result, expected, model)


def check_routes_openai(client_class: ClientClass) -> None:
    _routes(client_class, OPENAI_MODEL, "openai")


def check_routes_o_series(client_class: ClientClass) -> None:
    _routes(client_class, "o4-mini", "openai")


def check_routes_anthropic(client_class: ClientClass) -> None:
    _routes(client_class, ANTHROPIC_MODEL, "anthropic")


def check_prompt(client_class: ClientClass) -> None:
    prompt = "Name one reason an API answers 503"  # not the notebook's: a literal cannot pass
    with simulated() as fake:
        fake.fail_next(503, provider="openai")
        result = _complete(_client(client_class, OPENAI_MODEL, ANTHROPIC_MODEL), prompt)
        calls = _generations(fake)
    expect(len(calls) == 2, f"a 503 at openai then the fallback was expected: {_asked(calls)}")
    _expect_request(calls[0], OPENAI_MODEL, prompt)  # the primary's request
    _expect_request(calls[1], ANTHROPIC_MODEL, prompt)  # the fallback's request
    expect(result[0] == "anthropic", f"the fallback answered, got provider {result[0]!r}")


def _falls_back(
    client_class: ClientClass, primary: Provider, what: str, fault: dict[str, Any], **options: Any
) -> None:
    fallback = OTHER[primary]
    with simulated() as fake:
        sent = reshape(fake, Reshape())  # records what was answered
        fake.fail_next(times=20, provider=primary, **fault)
        client = _client(client_class, MODELS[primary], MODELS[fallback], **options)
        try:
            result = _complete(client)
        except (NotImplementedError, AssertionError):
            raise
        except Exception as exc:
            raise AssertionError(
                f"{primary} failed with {what}, which {fallback} can avoid, so complete() should "
                f"ask {MODELS[fallback]!r}, but it raised {type(exc).__name__} after the "
                f"requests {_asked(_generations(fake))}"
            ) from None
        _expect_answer(fake, sent, result, fallback, MODELS[fallback])


def check_falls_back_openai(client_class: ClientClass) -> None:
    for status in (429, 500, 502, 503):
        _falls_back(
            client_class, "openai", f"HTTP {status}", {"status": status, "retry_after": 0.05}
        )


def check_falls_back_anthropic(client_class: ClientClass) -> None:
    for status in (529, 500, 429):
        _falls_back(
            client_class, "anthropic", f"HTTP {status}", {"status": status, "retry_after": 0.05}
        )


def check_falls_back_on_drop(client_class: ClientClass) -> None:
    primary: Provider
    for primary in ("openai", "anthropic"):
        _falls_back(client_class, primary, "a dropped connection", {"drop": True})


def check_falls_back_on_timeout(client_class: ClientClass) -> None:
    primary: Provider
    for primary in ("anthropic", "openai"):
        what = f"a timeout (no answer within the client's {TIMEOUT:g} s)"
        _falls_back(client_class, primary, what, {"hang": True}, timeout=TIMEOUT)


def _no_fallback(
    client_class: ClientClass, primary: Provider, model: str, fault: dict[str, Any]
) -> str:
    """Run a primary that fails for good; a failure message, or "" when the client was right."""
    with simulated() as fake:
        if fault:
            fake.fail_next(provider=primary, **fault)
        try:  # refusing the model name already in __init__ is right too
            client = _client(client_class, model, MODELS[OTHER[primary]])
            result = client.complete(PROMPT, max_tokens=MAX_TOKENS)
        except NotImplementedError:
            raise
        except Exception:
            result = None
        calls = _generations(fake)
    if any(call.provider != primary for call in calls):
        return f"but it asked {OTHER[primary]}: the requests were {_asked(calls)}"
    if result is not None:
        return f"but it returned {describe(result)}"
    return ""


def check_no_fallback_on_400(client_class: ClientClass) -> None:
    failure = _no_fallback(client_class, "openai", OPENAI_MODEL, {"status": 400})
    expect(
        not failure,
        "a 400 means the request itself is wrong: the fallback would reject it too (or hide a "
        f"bug), so complete() should raise without asking the other provider, {failure}",
    )


def check_no_fallback_on_404(client_class: ClientClass) -> None:
    for primary, typo in TYPOS.items():
        failure = _no_fallback(client_class, primary, typo, {})
        expect(
            not failure,
            f"the primary model {typo!r} is a typo that {primary} answers with 404: falling "
            "back would hide the typo behind the other provider's answer, so complete() should "
            f"raise without asking the other provider, {failure}",
        )


def check_both_down(client_class: ClientClass) -> None:
    with simulated() as fake:
        fake.fail_next(503, times=20, retry_after=0.05, provider="openai")
        fake.fail_next(529, times=20, retry_after=0.05, provider="anthropic")
        client = _client(client_class, OPENAI_MODEL, ANTHROPIC_MODEL)
        try:
            result = client.complete(PROMPT, max_tokens=MAX_TOKENS)
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
            "routes an o-series model (o4-mini) to openai",
            check_routes_o_series,
            "not every OpenAI model starts with 'gpt': ask provider_for(model)",
        ),
        Check(
            "routes a claude model to anthropic",
            check_routes_anthropic,
            "anthropic needs max_tokens; return the text of the text blocks",
        ),
        Check(
            "sends the prompt and max_tokens it was given",
            check_prompt,
            "send complete()'s prompt as the user message and its max_tokens, to the primary "
            "and to the fallback alike",
        ),
        Check(
            "falls back when openai fails (429, 5xx)",
            check_falls_back_openai,
            "catch the primary's retriable failure (classify(exc).retriable), then ask the "
            "fallback model",
        ),
        Check(
            "falls back when anthropic fails (529, 5xx, 429)",
            check_falls_back_anthropic,
            "529 is anthropic's 'overloaded': worth trying the other provider",
        ),
        Check(
            "falls back on a dropped connection",
            check_falls_back_on_drop,
            "a lost connection is an outage too: the SDKs raise APIConnectionError",
        ),
        Check(
            "falls back on a timeout",
            check_falls_back_on_timeout,
            "a request that times out (APITimeoutError) is worth trying at the other provider",
        ),
        Check(
            "does not fall back on a 400",
            check_no_fallback_on_400,
            "fall back only on errors another provider can avoid: re-raise the rest",
        ),
        Check(
            "does not fall back on a 404 (a mistyped model)",
            check_no_fallback_on_404,
            "a 404 names a model that does not exist: re-raise it so the typo is seen",
        ),
        Check(
            "raises when both providers fail",
            check_both_down,
            "raise the last error; never return None or an empty answer",
        ),
    ],
)
