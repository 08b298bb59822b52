"""Answers to ex02_stream_collector: wrong ones its checks must catch, right ones they must pass."""

from __future__ import annotations

from typing import Any, NamedTuple

from wrong_answers.kinds import Demo, Right, Wrong


class Collected(NamedTuple):
    text: str
    input_tokens: int | None
    output_tokens: int | None


def collect_any_delta(provider: str, stream: Any) -> Collected:
    """Survives the usage chunk, but reads `.text` of every block delta (thinking has none)."""
    text, inputs, outputs = "", None, None
    for item in stream:
        if provider == "openai":
            if item.usage:
                inputs, outputs = item.usage.prompt_tokens, item.usage.completion_tokens
            if item.choices and item.choices[0].delta.content:
                text += item.choices[0].delta.content
        elif item.type == "message_start":
            inputs = item.message.usage.input_tokens
        elif item.type == "content_block_delta":
            text += item.delta.text
        elif item.type == "message_delta":
            outputs = item.usage.output_tokens
    return Collected(text, inputs, outputs)


# What each wrong answer gets wrong, the answer, and the checks that must catch it.
WRONG: list[Wrong] = [
    (
        "reads .text of every block delta (thinking has none)",
        collect_any_delta,
        ["anthropic stream that starts with a thinking block"],
    ),
]

# The demo in the solution notebook ("what a check looks like"), by the name it has there.
DEMO: Demo = (
    "collect_stream_naive",
    "chunk.choices[0]; message_start's usage",
    ["openai stream with usage: text and tokens", "anthropic stream: text and tokens"],
)

# Correct answers built differently from the solution: every check must pass them.
RIGHT: list[Right] = []
