"""Answers to ex03_classify_errors: wrong ones its checks must catch, right ones they must pass."""

from __future__ import annotations

from typing import NamedTuple

import anthropic
import openai

from course_helpers.errors import classify
from wrong_answers.kinds import Demo, Right, Wrong


class Decision(NamedTuple):
    retriable: bool
    wait: float | None


def decide_by_sdk_class(exc: BaseException) -> Decision:
    """Trusts the SDK's classes: every RateLimitError is retriable (so is an empty account)."""
    retriable = isinstance(
        exc,
        openai.RateLimitError
        | anthropic.RateLimitError
        | openai.InternalServerError
        | anthropic.InternalServerError
        | openai.APIConnectionError
        | anthropic.APIConnectionError,
    )
    wait = None
    response = getattr(exc, "response", None)
    if retriable and response is not None:
        if "retry-after-ms" in response.headers:
            wait = float(response.headers["retry-after-ms"]) / 1000
        elif "retry-after" in response.headers:
            wait = float(response.headers["retry-after"])
    return Decision(retriable, wait)


def decide_without_wait(exc: BaseException) -> Decision:
    """Classifies right, but never reads retry-after."""
    return Decision(classify(exc).retriable, None)


# What each wrong answer gets wrong, the answer, and the checks that must catch it.
WRONG: list[Wrong] = [
    (
        "trusts the SDK class: retries an exhausted quota",
        decide_by_sdk_class,
        ["an exhausted quota is never retriable", "an in-stream overloaded error is retriable"],
    ),
    (
        "never reads retry-after",
        decide_without_wait,
        [
            "a rate limit is retriable and honours retry-after",
            "retry-after-ms is preferred to retry-after",
        ],
    ),
]

# The demo in the solution notebook ("what a check looks like"), by the name it has there.
DEMO: Demo = (
    "decide_by_status",
    "decides by HTTP status",
    [
        "an exhausted quota is never retriable",
        "an in-stream overloaded error is retriable",
        "retry-after-ms is preferred to retry-after",
        "server errors and dropped connections are retriable",
    ],
)

# Correct answers built differently from the solution: every check must pass them.
RIGHT: list[Right] = []
