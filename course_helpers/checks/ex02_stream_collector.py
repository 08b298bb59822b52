"""ex02 · Stream collector: one function that turns either provider's raw stream into text + usage.

The learner writes ``collect_stream(provider, stream) -> Collected(text, input_tokens,
output_tokens)``; the token counts are ``None`` when the stream did not report usage.

Every stream handed over is a real SDK ``Stream`` (``openai.Stream`` / ``anthropic.Stream``, from
``create(stream=True)``), so ``with stream:`` and the SDKs' own accumulators work on it. The
expected text and counts are read from the frames that went over the wire (``_reshaped``), whose
usage includes reasoning or thinking tokens a local estimate cannot know.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from course_helpers.checks._reshaped import Reshape, Sent, reshape
from course_helpers.checks._support import (
    ANTHROPIC_MODEL,
    OPENAI_MODEL,
    anthropic_client,
    openai_client,
    simulated,
)
from course_helpers.checks.base import Check, Exercise, attribute, describe, expect

__all__ = ["EXERCISE"]

MESSAGES = [{"role": "user", "content": "Explain exponential backoff for API retries"}]
Collector = Callable[[str, Any], Any]
REAL_USAGE = Reshape(input_extra=9, output_extra=23)
_USAGE_NAMES = {
    "openai": ("prompt_tokens", "completion_tokens"),
    "anthropic": ("input_tokens", "output_tokens"),
}


def _collected(collector: Collector, provider: str, stream: Any) -> tuple[str, Any, Any]:
    result = collector(provider, stream)
    text = attribute(result, "text", "collect_stream's result")
    inputs = attribute(result, "input_tokens", "collect_stream's result")
    outputs = attribute(result, "output_tokens", "collect_stream's result")
    return text, inputs, outputs


def _expect_equal(what: str, expected: object, got: object) -> None:
    expect(
        got == expected,
        f"{what} should be {describe(expected, 120)}, but it is {describe(got, 120)}",
    )


def _openai_params(**params: Any) -> dict[str, Any]:
    return {"model": OPENAI_MODEL, "messages": MESSAGES, **params}


def _anthropic_params(**params: Any) -> dict[str, Any]:
    params.setdefault("max_tokens", 300)
    return {"model": ANTHROPIC_MODEL, "messages": MESSAGES, **params}


def _stream(
    collector: Collector, provider: str, params: dict[str, Any], how: Reshape = REAL_USAGE
) -> tuple[tuple[str, Any, Any], Sent]:
    """Hand the collector a real SDK stream; its result and what the stream carried."""
    with simulated() as fake:
        sent = reshape(fake, how)
        if provider == "openai":
            stream = openai_client().chat.completions.create(stream=True, **params)
        else:
            stream = anthropic_client().messages.create(stream=True, **params)
        result = _collected(collector, provider, stream)
    return result, sent[-1]


def _expect_usage(what: str, provider: str, sent: Sent, inputs: Any, outputs: Any) -> None:
    usage = sent.usage or {}
    input_name, output_name = _USAGE_NAMES[provider]
    where = (
        ("the usage-only last chunk's", "the usage-only last chunk's")
        if provider == "openai"
        else ("message_start's", "the last message_delta's")
    )
    _expect_equal(
        f"input_tokens of {what} ({where[0]} usage.{input_name})", usage.get(input_name), inputs
    )
    _expect_equal(
        f"output_tokens of {what} ({where[1]} usage.{output_name})",
        usage.get(output_name),
        outputs,
    )


def _openai(collector: Collector, what: str, **params: Any) -> None:
    (text, inputs, outputs), sent = _stream(collector, "openai", _openai_params(**params))
    _expect_equal(f"the text of {what}", sent.text, text)
    if sent.usage is None:
        _expect_equal(f"input_tokens of {what}, which reports no usage", None, inputs)
        _expect_equal(f"output_tokens of {what}, which reports no usage", None, outputs)
    else:
        _expect_usage(what, "openai", sent, inputs, outputs)


def check_openai_usage(collector: Collector) -> None:
    _openai(
        collector,
        "an openai stream with include_usage",
        stream_options={"include_usage": True},
    )


def check_openai_no_usage(collector: Collector) -> None:
    _openai(collector, "an openai stream without include_usage")


def check_openai_cut(collector: Collector) -> None:
    _openai(
        collector,
        "an openai stream cut by max_completion_tokens=5",
        max_completion_tokens=5,
        stream_options={"include_usage": True},
    )


def check_openai_choices(collector: Collector) -> None:
    params = _openai_params(n=2, stream_options={"include_usage": True})
    (text, inputs, outputs), sent = _stream(collector, "openai", params)
    if sent.texts.get(0) == sent.texts.get(1):  # the check's own set-up, not the candidate
        raise RuntimeError("the two choices of the n=2 stream should differ")
    _expect_equal(
        "the text of an n=2 openai stream, whose chunks interleave choice 0 and choice 1 "
        "(choice 0's text only)",
        sent.text,
        text,
    )
    _expect_usage("an n=2 openai stream", "openai", sent, inputs, outputs)


def _anthropic(collector: Collector, what: str, how: Reshape = REAL_USAGE, **params: Any) -> None:
    (text, inputs, outputs), sent = _stream(
        collector, "anthropic", _anthropic_params(**params), how
    )
    _expect_equal(f"the text of {what} (its text_delta pieces only)", sent.text, text)
    _expect_usage(what, "anthropic", sent, inputs, outputs)


def check_anthropic(collector: Collector) -> None:
    _anthropic(collector, "an anthropic stream")


def check_anthropic_cut(collector: Collector) -> None:
    _anthropic(collector, "an anthropic stream cut by max_tokens=5", max_tokens=5)


def check_anthropic_thinking(collector: Collector) -> None:
    how = Reshape(input_extra=9, output_extra=23, thinking=True)
    _anthropic(collector, "an anthropic stream whose first block is thinking", how)


def _stop_word(text: str) -> str:
    """A word that first occurs right after a sentence's end: cutting there leaves ". " behind."""
    start = 0
    while (position := text.find(". ", start)) >= 0:
        word = text[position + 2 :].split(" ", 1)[0]
        if word and text.find(word) == position + 2:
            return word
        start = position + 2
    raise RuntimeError(f"no stop word found in {text!r}")  # the check's own set-up


def _whole_text(provider: str, params: dict[str, Any]) -> str:
    with simulated() as fake:
        sent = reshape(fake, Reshape())
        if provider == "openai":
            openai_client().chat.completions.create(**params)
        else:
            anthropic_client().messages.create(**params)
    return sent[-1].text


def check_exact_text(collector: Collector) -> None:
    for provider in ("openai", "anthropic"):
        if provider == "openai":
            params = _openai_params(seed=0)  # reasoning models take only temperature 1
        else:
            params = _anthropic_params(extra_body={"temperature": 0})
        word = _stop_word(_whole_text(provider, params))
        stop = {"stop": [word]} if provider == "openai" else {"stop_sequences": [word]}
        (text, _, _), sent = _stream(collector, provider, {**params, **stop})
        if not sent.text[-1:].isspace():  # the check's own set-up, not the candidate
            raise RuntimeError(f"the stream should end with a space, it ends {sent.text[-5:]!r}")
        _expect_equal(
            f"the text of an {provider} stream stopped at the stop sequence {word!r}, which ends "
            "with a space (keep the text exactly as streamed)",
            sent.text,
            text,
        )


_BREAKS: tuple[tuple[str, dict[str, bool]], ...] = (
    ("an error event", {"mid_stream": True}),
    ("a dropped connection", {"drop": True}),
)


def check_broken_stream(collector: Collector) -> None:
    for provider in ("openai", "anthropic"):
        for what, fault in _BREAKS:
            with simulated() as fake:
                fake.fail_next(after_tokens=3, provider=provider, **fault)  # type: ignore[arg-type]
                if provider == "openai":
                    stream: Any = openai_client().chat.completions.create(
                        stream=True, **_openai_params(stream_options={"include_usage": True})
                    )
                else:
                    stream = anthropic_client().messages.create(stream=True, **_anthropic_params())
                try:
                    result = collector(provider, stream)
                except NotImplementedError:
                    raise
                except Exception:  # any error will do: the answer was not complete
                    continue
            raise AssertionError(
                f"the {provider} stream broke after 3 tokens ({what}), so collect_stream should "
                f"raise, but it returned {describe(result, 120)} as if the answer were complete"
            )


EXERCISE = Exercise(
    id="ex02_stream_collector",
    title="Collect a stream from either provider",
    target="collect_stream",
    notebook="ex02_stream_collector.ipynb",
    checks=[
        Check(
            "openai stream with usage: text and tokens",
            check_openai_usage,
            "with include_usage the last chunk has choices == [] and carries usage: never "
            "index chunk.choices[0] without checking",
        ),
        Check(
            "openai stream without usage: text, tokens None",
            check_openai_no_usage,
            "no chunk carries usage (chunk.usage is None): keep the counts None",
        ),
        Check(
            "openai stream cut by max_tokens",
            check_openai_cut,
            "the first chunk's delta.content is '' and the finish chunk's delta has no content",
        ),
        Check(
            "openai stream with two choices: choice 0's text",
            check_openai_choices,
            "with n=2 each chunk carries one choice: keep the pieces whose choice.index is 0",
        ),
        Check(
            "anthropic stream: text and tokens",
            check_anthropic,
            "input tokens arrive in message_start, the final output count in message_delta",
        ),
        Check(
            "anthropic stream cut by max_tokens",
            check_anthropic_cut,
            "message_start's usage.output_tokens is a placeholder; message_delta has the count",
        ),
        Check(
            "anthropic stream that starts with a thinking block",
            check_anthropic_thinking,
            "take text only from content_block_delta events whose delta.type == 'text_delta'",
        ),
        Check(
            "text kept exactly as streamed",
            check_exact_text,
            "join the pieces as they came: no .strip(), no added spaces or newlines",
        ),
        Check(
            "a stream that breaks mid-way raises",
            check_broken_stream,
            "let the SDK's error propagate (or raise your own): never catch it and return the "
            "partial text as if it were the answer",
        ),
    ],
)
