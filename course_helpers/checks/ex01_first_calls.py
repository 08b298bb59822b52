"""ex01 · First calls: ask both providers, get one normalised answer from each.

The learner writes ``ask_both(openai_client, anthropic_client, prompt, *, max_tokens=300)``
returning ``{"openai": Answer, "anthropic": Answer}`` where each answer has ``text``,
``input_tokens``, ``output_tokens`` and ``stop_reason`` (``"stop"`` or ``"length"``).

The answers are reshaped as real ones are (``_reshaped``): usage that is not the course's local
estimate (reasoning and thinking tokens, the provider's own tokenizer), an Anthropic answer whose
first block is thinking, a finished answer that used exactly ``max_tokens``, a stop-sequence stop.
Each check asserts on what went over the wire: the prompt, its role, ``max_tokens``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from course_helpers.checks._reshaped import Reshape, Sent, reshape
from course_helpers.checks._support import anthropic_client, openai_client, simulated
from course_helpers.checks.base import Check, Exercise, attribute, describe, expect
from course_helpers.fake import FakeCall
from course_helpers.fake.core import content_text

__all__ = ["EXERCISE"]

PROMPT = "Explain exponential backoff for API retries"
OTHER_PROMPT = "Name one reason an API answers 429"  # not the notebook's: a literal cannot pass
PROVIDERS = ("openai", "anthropic")
_USAGE_NAMES = {
    "openai": ("prompt_tokens", "completion_tokens"),
    "anthropic": ("input_tokens", "output_tokens"),
}
# Real usage: the provider's own tokenizer, plus reasoning or thinking tokens.
REAL_USAGE = Reshape(input_extra=9, output_extra=23)
THINKING_FIRST = Reshape(input_extra=9, output_extra=23, thinking=True)

AskBoth = Callable[..., Any]


class _Run:
    """One call of the candidate: its answers, and each provider's one request and answer."""

    def __init__(self, answers: Any, calls: dict[str, FakeCall], sent: dict[str, Sent]) -> None:
        self.answers = answers
        self.calls = calls
        self.sent = sent

    def field(self, provider: str, name: str) -> Any:
        return attribute(self.answers[provider], name, f"the {provider} answer")


def _run(
    ask_both: AskBoth, max_tokens: int, *, prompt: str = PROMPT, how: Reshape = REAL_USAGE
) -> _Run:
    """Call the candidate once against a simulated provider that answers as ``how`` says."""
    with simulated() as fake:
        sent = reshape(fake, how)
        answers = ask_both(openai_client(), anthropic_client(), prompt, max_tokens=max_tokens)
    expect(
        isinstance(answers, dict) and set(answers) == set(PROVIDERS),
        "ask_both should return a dict with the keys 'openai' and 'anthropic', "
        f"but it returned {describe(answers)}",
    )
    calls: dict[str, FakeCall] = {}
    answered: dict[str, Sent] = {}
    for provider in PROVIDERS:
        mine = [call for call in fake.calls if call.provider == provider]
        expect(
            len(mine) == 1,
            f"ask_both should send exactly one request to {provider}, but it sent {len(mine)}",
        )
        expect(
            mine[0].status == 200,
            f"the request to {provider} failed with HTTP {mine[0].status}: check the model name "
            "and the parameters",
        )
        calls[provider] = mine[0]
        answered[provider] = next(item for item in sent if item.provider == provider)
    return _Run(answers, calls, answered)


def check_shape(ask_both: AskBoth) -> None:
    run = _run(ask_both, 300)
    for provider in PROVIDERS:
        for name in ("text", "input_tokens", "output_tokens", "stop_reason"):
            run.field(provider, name)
        text = run.field(provider, "text")
        expect(
            isinstance(text, str) and text != "",
            f"the {provider} answer's text should be a non-empty str, got {describe(text)}",
        )


def check_prompt(ask_both: AskBoth) -> None:
    run = _run(ask_both, 300, prompt=OTHER_PROMPT)
    for provider in PROVIDERS:
        body = run.calls[provider].body or {}
        messages = body.get("messages") or [{}]
        last = messages[-1] if isinstance(messages[-1], dict) else {}
        role, text = last.get("role"), content_text(last.get("content"))
        expect(
            role == "user" and text == OTHER_PROMPT,
            f"ask_both(..., {OTHER_PROMPT!r}) should send that prompt as the user message to "
            f"{provider}, but the request's last message was {describe(last, 120)}"
            + (f" (system: {describe(body['system'])})" if body.get("system") else ""),
        )


def check_texts(ask_both: AskBoth) -> None:
    run = _run(ask_both, 300, how=THINKING_FIRST)
    for provider in PROVIDERS:
        got, expected = run.field(provider, "text"), run.sent[provider].text
        first = " (its first content block was a thinking block)" if provider == "anthropic" else ""
        expect(
            got == expected,
            f"the {provider} text should be exactly what {provider} answered{first}, "
            f"{describe(expected)}, but it is {describe(got)}",
        )


def check_tokens(ask_both: AskBoth) -> None:
    run = _run(ask_both, 300)
    for provider in PROVIDERS:
        usage = run.sent[provider].usage or {}
        input_name, output_name = _USAGE_NAMES[provider]
        for name, usage_name in (("input_tokens", input_name), ("output_tokens", output_name)):
            got, expected = run.field(provider, name), usage.get(usage_name)
            expect(
                got == expected,
                f"the {provider} answer's {name} should be the usage the response reported "
                f"(usage.{usage_name} = {expected}, which counts the provider's own tokens), "
                f"but it is {describe(got)}",
            )


def _expect_stop_reason(
    run: _Run,
    expected: str,
    situation: Callable[[str, str | None], str],
    providers: tuple[str, ...] = PROVIDERS,
) -> None:
    """Each provider's answer maps its API reason to ``expected``.

    ``situation(provider, raw)`` says why, from the provider and the reason its API gave.
    """
    for provider in providers:
        got, raw = run.field(provider, "stop_reason"), run.sent[provider].stop_reason
        expect(
            got == expected,
            f"{situation(provider, raw)}, so stop_reason should be {expected!r}, "
            f"but it is {describe(got)}",
        )


def check_stop(ask_both: AskBoth) -> None:
    # Each answer ends naturally after exactly max_tokens tokens, reasoning/thinking included.
    run = _run(ask_both, 300, how=Reshape(output_at_limit=True))
    _expect_stop_reason(
        run,
        "stop",
        lambda provider, raw: (
            f"the {provider} answer finished (the API says {raw!r}) after "
            "exactly max_tokens=300 output tokens"
        ),
    )


def check_stop_sequence(ask_both: AskBoth) -> None:
    run = _run(ask_both, 300, how=Reshape(stop_sequences=(".",)))
    raw = run.sent["anthropic"].stop_reason
    if raw != "stop_sequence":  # the check's own set-up, not the candidate
        raise RuntimeError(f"the check expected a stop_sequence stop, anthropic said {raw!r}")
    _expect_stop_reason(
        run,
        "stop",
        lambda provider, raw: (
            f"{provider} stopped at a stop sequence (stop_reason {raw!r}): the "
            "model finished what it was asked"
        ),
        providers=("anthropic",),
    )


_CUT = {"openai": "length", "anthropic": "max_tokens"}  # each API's reason for a cut answer


def check_length(ask_both: AskBoth) -> None:
    run = _run(ask_both, 4, how=Reshape())
    for provider, cut in _CUT.items():  # first: was it cut at all? (max_tokens never sent)
        raw = run.sent[provider].stop_reason
        expect(
            raw == cut,
            f"ask_both(..., max_tokens=4) should have the {provider} answer cut at 4 tokens, but "
            f"it was not cut (the API says {raw!r}): pass max_tokens on to the {provider} call",
        )
    _expect_stop_reason(
        run,
        "length",
        lambda provider, raw: (
            f"with max_tokens=4 the {provider} answer is cut (the API says {raw!r})"
        ),
    )


def check_max_tokens(ask_both: AskBoth) -> None:
    run = _run(ask_both, 37)
    body = run.calls["anthropic"].body or {}
    expect(
        body.get("max_tokens") == 37,
        "ask_both(..., max_tokens=37) should send max_tokens=37 to anthropic, but the request "
        f"had max_tokens={body.get('max_tokens')!r}",
    )
    body = run.calls["openai"].body or {}
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
            "sends the prompt as the user message",
            check_prompt,
            "messages=[{'role': 'user', 'content': prompt}] for both providers: the argument, "
            "not a fixed string, and not in `system`",
        ),
        Check(
            "texts are what each provider answered",
            check_texts,
            "openai: response.choices[0].message.content; anthropic: join the text of every "
            "block whose type is 'text' (content[0] may be a thinking block)",
        ),
        Check(
            "token counts come from the response's usage",
            check_tokens,
            "openai reports usage.prompt_tokens/completion_tokens, anthropic "
            "usage.input_tokens/output_tokens; a local estimate never matches the bill",
        ),
        Check(
            "a complete answer has stop_reason 'stop'",
            check_stop,
            "map the API's own reason (openai finish_reason 'stop', anthropic stop_reason "
            "'end_turn'): never infer it from output_tokens and max_tokens",
        ),
        Check(
            "a stop-sequence stop has stop_reason 'stop'",
            check_stop_sequence,
            "anthropic's 'stop_sequence' means the model finished: map it to 'stop'",
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
