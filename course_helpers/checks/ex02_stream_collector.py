"""ex02 · Stream collector: one function that turns either provider's raw stream into text + usage.

The learner writes ``collect_stream(provider, stream) -> Collected(text, input_tokens,
output_tokens)``; the token counts are ``None`` when the stream did not report usage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

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


def _collected(collector: Collector, provider: str, stream: Any) -> tuple[str, Any, Any]:
    result = collector(provider, stream)
    text = attribute(result, "text", "collect_stream's result")
    inputs = attribute(result, "input_tokens", "collect_stream's result")
    outputs = attribute(result, "output_tokens", "collect_stream's result")
    return text, inputs, outputs


def _expect_equal(what: str, expected: object, got: object) -> None:
    expect(got == expected, f"{what} should be {describe(expected)}, but it is {describe(got)}")


def _openai(collector: Collector, *, usage: bool, max_tokens: int | None = None) -> None:
    client = openai_client()
    params: dict[str, Any] = {"model": OPENAI_MODEL, "messages": MESSAGES, "temperature": 0}
    if max_tokens is not None:
        params["max_completion_tokens"] = max_tokens
    with simulated() as fake:
        # The same request unstreamed gives the same text (temperature 0): the expected answer.
        whole = client.chat.completions.create(**params)
        extra: dict[str, Any] = {"stream_options": {"include_usage": True}} if usage else {}
        stream = client.chat.completions.create(stream=True, **params, **extra)
        text, inputs, outputs = _collected(collector, "openai", stream)
    kind = "with include_usage" if usage else "without include_usage"
    _expect_equal(f"the text of an openai stream {kind}", whole.choices[0].message.content, text)
    if usage:
        reported = fake.calls[-1].usage or {}
        _expect_equal(
            "input_tokens (the usage-only last chunk's prompt_tokens)",
            reported.get("prompt_tokens"),
            inputs,
        )
        _expect_equal(
            "output_tokens (the usage-only last chunk's completion_tokens)",
            reported.get("completion_tokens"),
            outputs,
        )
    else:
        _expect_equal("input_tokens of a stream that reports no usage", None, inputs)
        _expect_equal("output_tokens of a stream that reports no usage", None, outputs)


def check_openai_usage(collector: Collector) -> None:
    _openai(collector, usage=True)


def check_openai_no_usage(collector: Collector) -> None:
    _openai(collector, usage=False)


def check_openai_cut(collector: Collector) -> None:
    _openai(collector, usage=True, max_tokens=5)


def _anthropic(collector: Collector, *, max_tokens: int) -> None:
    client = anthropic_client()
    params: dict[str, Any] = {
        "model": ANTHROPIC_MODEL,
        "messages": MESSAGES,
        "max_tokens": max_tokens,
        "extra_body": {"temperature": 0},
    }
    with simulated() as fake:
        whole = client.messages.create(**params)
        stream = client.messages.create(stream=True, **params)
        text, inputs, outputs = _collected(collector, "anthropic", stream)
    expected_text = "".join(block.text for block in whole.content if block.type == "text")
    _expect_equal("the text of an anthropic stream", expected_text, text)
    reported = fake.calls[-1].usage or {}
    _expect_equal(
        "input_tokens (message_start's usage.input_tokens)", reported.get("input_tokens"), inputs
    )
    _expect_equal(
        "output_tokens (the last message_delta's usage.output_tokens, not message_start's)",
        reported.get("output_tokens"),
        outputs,
    )


def check_anthropic(collector: Collector) -> None:
    _anthropic(collector, max_tokens=300)


def check_anthropic_cut(collector: Collector) -> None:
    _anthropic(collector, max_tokens=5)


def _thinking_stream() -> Iterator[Any]:
    """An anthropic stream whose first block is extended thinking, as the SDK yields it."""
    from anthropic.types import (
        RawContentBlockDeltaEvent,
        RawContentBlockStartEvent,
        RawContentBlockStopEvent,
        RawMessageDeltaEvent,
        RawMessageStartEvent,
        RawMessageStopEvent,
    )

    usage = {"input_tokens": 21, "output_tokens": 1}
    message: dict[str, Any] = {
        "id": "msg_check",
        "type": "message",
        "role": "assistant",
        "model": ANTHROPIC_MODEL,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }
    yield RawMessageStartEvent(type="message_start", message=message)  # type: ignore[arg-type]
    yield RawContentBlockStartEvent(
        type="content_block_start",
        index=0,
        content_block={"type": "thinking", "thinking": "", "signature": ""},  # type: ignore[arg-type]
    )
    for piece in ("The user wants", " a definition."):
        yield RawContentBlockDeltaEvent(
            type="content_block_delta",
            index=0,
            delta={"type": "thinking_delta", "thinking": piece},  # type: ignore[arg-type]
        )
    yield RawContentBlockStopEvent(type="content_block_stop", index=0)
    yield RawContentBlockStartEvent(
        type="content_block_start",
        index=1,
        content_block={"type": "text", "text": ""},  # type: ignore[arg-type]
    )
    for piece in ("Backoff", " waits", " longer."):
        yield RawContentBlockDeltaEvent(
            type="content_block_delta",
            index=1,
            delta={"type": "text_delta", "text": piece},  # type: ignore[arg-type]
        )
    yield RawContentBlockStopEvent(type="content_block_stop", index=1)
    yield RawMessageDeltaEvent(
        type="message_delta",
        delta={"stop_reason": "end_turn", "stop_sequence": None},  # type: ignore[arg-type]
        usage={"output_tokens": 17},  # type: ignore[arg-type]
    )
    yield RawMessageStopEvent(type="message_stop")


def check_anthropic_thinking(collector: Collector) -> None:
    text, inputs, outputs = _collected(collector, "anthropic", _thinking_stream())
    _expect_equal(
        "the text of a stream that starts with a thinking block (text_delta pieces only)",
        "Backoff waits longer.",
        text,
    )
    _expect_equal("input_tokens", 21, inputs)
    _expect_equal("output_tokens", 17, outputs)


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
    ],
)
