"""Answers to ex01_first_calls: wrong ones its checks must catch, right ones they must pass."""

from __future__ import annotations

from typing import Any, NamedTuple

from wrong_answers.kinds import Demo, Right, Wrong


class Answer(NamedTuple):
    text: str
    input_tokens: int
    output_tokens: int
    stop_reason: str


def ask_both_total_tokens(
    openai_client: Any, anthropic_client: Any, prompt: str, *, max_tokens: int = 300
) -> dict[str, Answer]:
    """Right in every way but one: output tokens taken from total_tokens."""
    messages = [{"role": "user", "content": prompt}]
    reply = openai_client.chat.completions.create(
        model="gpt-5.4-mini", messages=messages, max_completion_tokens=max_tokens
    )
    message = anthropic_client.messages.create(
        model="claude-haiku-5-5", max_tokens=max_tokens, messages=messages
    )
    stop = {"stop": "stop", "end_turn": "stop", "length": "length", "max_tokens": "length"}
    return {
        "openai": Answer(
            reply.choices[0].message.content,
            reply.usage.prompt_tokens,
            reply.usage.total_tokens,
            stop[reply.choices[0].finish_reason],
        ),
        "anthropic": Answer(
            message.content[0].text,
            message.usage.input_tokens,
            message.usage.input_tokens + message.usage.output_tokens,
            stop[message.stop_reason],
        ),
    }


# What each wrong answer gets wrong, the answer, and the checks that must catch it.
WRONG: list[Wrong] = [
    (
        "output tokens from total_tokens",
        ask_both_total_tokens,
        ["token counts come from the response's usage"],
    ),
]

# The demo in the solution notebook ("what a check looks like"), by the name it has there.
DEMO: Demo = (
    "ask_both_as_is",
    "SDK fields copied as they are",
    [
        "a complete answer has stop_reason 'stop'",
        "an answer cut by max_tokens has stop_reason 'length'",
        "max_tokens reaches both providers",
    ],
)

# Correct answers built differently from the solution: every check must pass them.
RIGHT: list[Right] = []
