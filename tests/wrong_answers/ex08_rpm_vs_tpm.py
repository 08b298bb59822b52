"""Answers to ex08_rpm_vs_tpm: wrong ones its checks must catch, right ones they must pass."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import NamedTuple

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


def binding_limit_round(rpm: int, tpm: int, prompt_tokens: int, max_tokens: int) -> tuple[str, int]:
    allowed = round(tpm / (prompt_tokens + max_tokens))  # 3.75 -> 4
    return ("tpm", allowed) if allowed < rpm else ("rpm", rpm)


def binding_limit_half_up(
    rpm: int, tpm: int, prompt_tokens: int, max_tokens: int
) -> tuple[str, int]:
    allowed = int(tpm / (prompt_tokens + max_tokens) + 0.5)
    return ("tpm", allowed) if allowed < rpm else ("rpm", rpm)


def binding_limit_decimal(
    rpm: int, tpm: int, prompt_tokens: int, max_tokens: int
) -> tuple[str, int]:
    ratio = Decimal(tpm) / Decimal(prompt_tokens + max_tokens)
    allowed = int(ratio.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return ("tpm", allowed) if allowed < rpm else ("rpm", rpm)


def binding_limit_label_from_prompt(
    rpm: int, tpm: int, prompt_tokens: int, max_tokens: int
) -> tuple[str, int]:
    # The count is right, but the label asks whether the prompt alone would bind.
    allowed = min(rpm, tpm // (prompt_tokens + max_tokens))
    return ("tpm" if tpm // prompt_tokens < rpm else "rpm"), allowed


def binding_limit_tie_is_tpm(
    rpm: int, tpm: int, prompt_tokens: int, max_tokens: int
) -> tuple[str, int]:
    allowed = tpm // (prompt_tokens + max_tokens)
    return ("rpm", rpm) if rpm < allowed else ("tpm", allowed)


# What each wrong answer gets wrong, the answer, and the checks that must catch it.
WRONG: list[Wrong] = [
    ("rounds up", binding_limit_rounds_up, ["rounds down to whole requests"]),
    (
        "returns a float",
        binding_limit_float,
        ["long prompts: the token limit binds", "rounds down to whole requests"],
    ),
    (
        "round() (3.75 -> 4)",
        binding_limit_round,
        ["rounds down to whole requests", "agrees with the simulated provider"],
    ),
    (
        "int(x + 0.5)",
        binding_limit_half_up,
        ["rounds down to whole requests", "agrees with the simulated provider"],
    ),
    (
        "Decimal ROUND_HALF_UP",
        binding_limit_decimal,
        ["rounds down to whole requests", "agrees with the simulated provider"],
    ),
    (
        "right count, label from the prompt alone",
        binding_limit_label_from_prompt,
        ["max_tokens is charged, not the tokens you expect to use"],
    ),
    (
        "right count, a tie labelled tpm",
        binding_limit_tie_is_tpm,
        ["a tie is reported as the request limit"],
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
def binding_limit_floor(rpm: int, tpm: int, prompt_tokens: int, max_tokens: int) -> tuple[str, int]:
    allowed = math.floor(tpm / (prompt_tokens + max_tokens))
    return ("rpm", rpm) if allowed >= rpm else ("tpm", allowed)


def binding_limit_fraction(
    rpm: int, tpm: int, prompt_tokens: int, max_tokens: int
) -> tuple[str, int]:
    allowed = Fraction(tpm, prompt_tokens + max_tokens)
    if allowed < rpm:
        return "tpm", math.floor(allowed)
    return "rpm", rpm


def binding_limit_counting(
    rpm: int, tpm: int, prompt_tokens: int, max_tokens: int
) -> tuple[str, int]:
    """Send requests one by one until a limit would refuse the next."""
    sent, tokens_left = 0, tpm
    while sent < rpm:
        if tokens_left < prompt_tokens + max_tokens:
            return "tpm", sent
        tokens_left -= prompt_tokens + max_tokens
        sent += 1
    return "rpm", sent


class Limits(NamedTuple):
    limit: str
    requests: int


class BindingLimit:
    """A class-based answer: an instance called like the function, returning a named tuple."""

    def __call__(self, rpm: int, tpm: int, prompt_tokens: int, max_tokens: int) -> Limits:
        per_request = prompt_tokens + max_tokens
        by_tokens, _ = divmod(tpm, per_request)
        return Limits("rpm", rpm) if rpm <= by_tokens else Limits("tpm", by_tokens)


RIGHT: list[Right] = [
    ("math.floor of a float division", binding_limit_floor),
    ("exact fractions", binding_limit_fraction),
    ("counts requests one by one", binding_limit_counting),
    ("a callable class with divmod and a NamedTuple", BindingLimit()),
]
