"""Answers to ex08_rpm_vs_tpm: wrong ones its checks must catch, right ones they must pass."""

from __future__ import annotations

import math

from wrong_answers.kinds import Demo, Right, Wrong


def binding_limit_rounds_up(
    rpm: int, tpm: int, prompt_tokens: int, max_tokens: int
) -> tuple[str, int]:
    by_tokens = math.ceil(tpm / (prompt_tokens + max_tokens))
    return ("tpm", by_tokens) if by_tokens < rpm else ("rpm", rpm)


def binding_limit_float(
    rpm: int, tpm: int, prompt_tokens: int, max_tokens: int
) -> tuple[str, float]:
    by_tokens = tpm / (prompt_tokens + max_tokens)
    return ("tpm", by_tokens) if by_tokens < rpm else ("rpm", rpm)


# What each wrong answer gets wrong, the answer, and the checks that must catch it.
WRONG: list[Wrong] = [
    ("rounds up", binding_limit_rounds_up, ["rounds down to whole requests"]),
    (
        "returns a float",
        binding_limit_float,
        ["long prompts: the token limit binds", "rounds down to whole requests"],
    ),
]

# The demo in the solution notebook ("what a check looks like"), by the name it has there.
DEMO: Demo = (
    "binding_limit_prompt_only",
    "counts the prompt, not max_tokens",
    [
        "long prompts: the token limit binds",
        "max_tokens is charged, not the tokens you expect to use",
        "agrees with the simulated provider",
    ],
)

# Correct answers built differently from the solution: every check must pass them.
RIGHT: list[Right] = []
