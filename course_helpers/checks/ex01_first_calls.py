"""ex01 · First calls: ask both providers, get one normalised answer from each.

The learner writes ``ask_both(openai_client, anthropic_client, prompt, *, max_tokens=300)``
returning ``{"openai": Answer, "anthropic": Answer}`` where each answer has ``text``,
``input_tokens``, ``output_tokens`` and ``stop_reason`` (``"stop"`` or ``"length"``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from course_helpers.checks._support import (
    anthropic_client,
    openai_client,
    replayed_texts,
    simulated,
)
from course_helpers.checks.base import Check, Exercise, attribute, describe, expect
from course_helpers.fake import FakeCall

__all__ = ["EXERCISE"]

PROMPT = "Explain exponential backoff for API retries"
PROVIDERS = ("openai", "anthropic")
_USAGE_NAMES = {
    "openai": ("prompt_tokens", "completion_tokens"),
    "anthropic": ("input_tokens", "output_tokens"),
}

AskBoth = Callable[..., Any]


def _run(
    ask_both: AskBoth, max_tokens: int
) -> tuple[dict[str, Any], dict[str, FakeCall], list[FakeCall]]:
    """Call the candidate once: its answers, each provider's one call, and every call in order."""
    with simulated() as fake:
        answers = ask_both(openai_client(), anthropic_client(), PROMPT, max_tokens=max_tokens)
    calls = fake.calls
    expect(
        isinstance(answers, dict) and set(answers) == set(PROVIDERS),
        "ask_both should return a dict with the keys 'openai' and 'anthropic', "
        f"but it returned {describe(answers)}",
    )
    per_provider: dict[str, FakeCall] = {}
    for provider in PROVIDERS:
        mine = [call for call in calls if call.provider == provider]
        expect(
            len(mine) == 1,
            f"ask_both should send exactly one request to {provider}, but it sent {len(mine)}",
        )
        expect(
            mine[0].status == 200,
            f"the request to {provider} failed with HTTP {mine[0].status}: check the model name "
            "and the parameters",
        )
        per_provider[provider] = mine[0]
    return answers, per_provider, calls


def check_shape(ask_both: AskBoth) -> None:
    answers, _, _ = _run(ask_both, 300)
    for provider in PROVIDERS:
        for name in ("text", "input_tokens", "output_tokens", "stop_reason"):
            attribute(answers[provider], name, f"the {provider} answer")
        text = attribute(answers[provider], "text", f"the {provider} answer")
        expect(
            isinstance(text, str) and text != "",
            f"the {provider} answer's text should be a non-empty str, got {describe(text)}",
        )


def check_texts(ask_both: AskBoth) -> None:
    answers, _, calls = _run(ask_both, 300)
    replayed: dict[str, str | None] = {
        call.provider: text
        for call, text in zip(calls, replayed_texts(calls), strict=True)
        if text is not None
    }
    for provider in PROVIDERS:
        got = attribute(answers[provider], "text", f"the {provider} answer")
        expect(
            got == replayed[provider],
            f"the {provider} text should be exactly what {provider} answered, "
            f"{describe(replayed[provider])}, but it is {describe(got)}",
        )


def check_tokens(ask_both: AskBoth) -> None:
    answers, calls, _ = _run(ask_both, 300)
    for provider in PROVIDERS:
        usage = calls[provider].usage or {}
        input_name, output_name = _USAGE_NAMES[provider]
        for field, usage_name in (("input_tokens", input_name), ("output_tokens", output_name)):
            got = attribute(answers[provider], field, f"the {provider} answer")
            expected = usage.get(usage_name)
            expect(
                got == expected,
                f"the {provider} answer's {field} should be the usage the response reported "
                f"(usage.{usage_name} = {expected}), but it is {describe(got)}",
            )


def check_stop(ask_both: AskBoth) -> None:
    answers, _, _ = _run(ask_both, 300)
    for provider in PROVIDERS:
        got = attribute(answers[provider], "stop_reason", f"the {provider} answer")
        raw = "end_turn" if provider == "anthropic" else "stop"
        expect(
            got == "stop",
            f"a complete {provider} answer (the API says {raw!r}) should have stop_reason "
            f"'stop', but it has {describe(got)}",
        )


def check_length(ask_both: AskBoth) -> None:
    answers, _, _ = _run(ask_both, 4)
    for provider in PROVIDERS:
        got = attribute(answers[provider], "stop_reason", f"the {provider} answer")
        raw = "max_tokens" if provider == "anthropic" else "length"
        expect(
            got == "length",
            f"with max_tokens=4 the {provider} answer is cut (the API says {raw!r}), so "
            f"stop_reason should be 'length', but it is {describe(got)}",
        )


def check_max_tokens(ask_both: AskBoth) -> None:
    _, calls, _ = _run(ask_both, 37)
    body = calls["anthropic"].body or {}
    expect(
        body.get("max_tokens") == 37,
        "ask_both(..., max_tokens=37) should send max_tokens=37 to anthropic, but the request "
        f"had max_tokens={body.get('max_tokens')!r}",
    )
    body = calls["openai"].body or {}
    sent = body.get("max_completion_tokens", body.get("max_tokens"))
    expect(
        sent == 37,
        "ask_both(..., max_tokens=37) should send max_completion_tokens (or max_tokens) = 37 to "
        f"openai, but the request had {'neither' if sent is None else sent}",
    )


EXERCISE = Exercise(
    id="ex01_first_calls",
    title="First calls to both providers",
    target="ask_both",
    notebook="ex01_first_calls.ipynb",
    checks=[
        Check(
            "returns one answer per provider",
            check_shape,
            "return {'openai': Answer(...), 'anthropic': Answer(...)} after one request to each",
        ),
        Check(
            "texts are what each provider answered",
            check_texts,
            "openai: response.choices[0].message.content; anthropic: join the text of every "
            "block whose type is 'text' (content[0] may not be text)",
        ),
        Check(
            "token counts come from the response's usage",
            check_tokens,
            "openai reports usage.prompt_tokens/completion_tokens, anthropic "
            "usage.input_tokens/output_tokens",
        ),
        Check(
            "a complete answer has stop_reason 'stop'",
            check_stop,
            "map openai's finish_reason 'stop' and anthropic's stop_reason 'end_turn' "
            "(and 'stop_sequence') to 'stop'",
        ),
        Check(
            "an answer cut by max_tokens has stop_reason 'length'",
            check_length,
            "openai says finish_reason='length', anthropic says stop_reason='max_tokens'",
        ),
        Check(
            "max_tokens reaches both providers",
            check_max_tokens,
            "anthropic requires max_tokens; pass the argument through to both calls",
        ),
    ],
)
