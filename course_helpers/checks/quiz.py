"""The module's knowledge check: five multiple-choice questions, answered with ``answer()``.

>>> answer("q1", "b")  # doctest: +SKIP
[pass] q1: correct. Anthropic takes the system prompt as its own parameter ...
"""

from __future__ import annotations

from dataclasses import dataclass

from course_helpers.checks.marks import FAILED, PASSED, UNANSWERED

__all__ = ["QUESTIONS", "Question", "Verdict", "answer"]


@dataclass(frozen=True)
class Question:
    """One question: its choices, the right one, why, and the exercise that practises it."""

    text: str
    choices: dict[str, str]
    correct: str
    explanation: str
    exercises: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    """What ``answer()`` tells the learner."""

    question: str
    choice: str
    correct: bool | None  # None: not answered yet
    text: str

    def __repr__(self) -> str:
        return self.text


QUESTIONS: dict[str, Question] = {
    "q1": Question(
        "Which is true of Anthropic's Messages API, but not of OpenAI's Chat Completions API?",
        {
            "a": "The system prompt is a message with role 'system'.",
            "b": "max_tokens is required, the system prompt is a separate parameter, and the "
            "answer is a list of content blocks.",
            "c": "Usage is reported as prompt_tokens and completion_tokens.",
            "d": "A cut-off answer has finish_reason 'length'.",
        },
        "b",
        "Anthropic takes `system=` apart from the messages, refuses a request without "
        "`max_tokens`, answers with content blocks (text, thinking, tool use: not always text "
        "first) and says stop_reason 'max_tokens' / 'end_turn'. (a), (c) and (d) describe OpenAI.",
        ("ex01_first_calls",),
    ),
    "q2": Question(
        "You stream from OpenAI with stream_options={'include_usage': True}. What does the last "
        "chunk look like?",
        {
            "a": "Like every other chunk, with the last piece of text in choices[0].delta.",
            "b": "It has finish_reason 'stop' and the usage in choices[0].",
            "c": "Its choices list is empty and it carries the usage for the whole answer.",
            "d": "There is no such chunk: usage is only in the response headers.",
        },
        "c",
        "The usage-only chunk has `choices == []`, so `chunk.choices[0]` raises IndexError at "
        "the very end of the stream. Anthropic sends input tokens in message_start and the "
        "output count in message_delta.",
        ("ex02_stream_collector",),
    ),
    "q3": Question(
        "A call fails with HTTP 429 and the body's code is 'insufficient_quota'. What should "
        "the client do?",
        {
            "a": "Wait for retry-after, then retry with exponential backoff.",
            "b": "Retry at once: 429s are short-lived.",
            "c": "Switch to a smaller model and retry.",
            "d": "Stop retrying and report it: the account is out of credit, and waiting cannot "
            "fix that.",
        },
        "d",
        "A 429 is a rate limit (wait, with jitter, honouring retry-after) or an exhausted quota "
        "(never retriable). Only the body tells them apart; both SDKs retry both by status alone.",
        ("ex03_classify_errors", "ex04_retry"),
    ),
    "q4": Question(
        "Your limits are 500 requests and 30,000 tokens per minute; prompts are about 1,000 "
        "tokens and you send max_tokens=500. How many requests a minute can you send?",
        {
            "a": "500: the request limit.",
            "b": "30: 30,000 tokens / 1,000 prompt tokens.",
            "c": "20: each request is charged 1,500 tokens, so the token limit binds.",
            "d": "60: 30,000 / 500.",
        },
        "c",
        "Providers charge prompt tokens plus max_tokens when the request arrives, so the token "
        "limit allows 30,000 // 1,500 = 20 requests a minute, far below 500. A limiter must count "
        "tokens as well as requests; a budget must count them per calendar day and month.",
        ("ex08_rpm_vs_tpm", "ex05_rate_limiter", "ex06_token_budget"),
    ),
    "q5": Question(
        "Your client falls back from one provider to the other. When should it fall back?",
        {
            "a": "On any exception, so the user always gets an answer.",
            "b": "On failures the other provider can avoid (overloaded, 5xx, timeouts, rate "
            "limits), never on a 400 such as an invalid parameter.",
            "c": "Never: retrying the same provider is always better.",
            "d": "Only on a 401, because the key may have expired.",
        },
        "b",
        "A 400 or a wrong key means the request or the set-up is wrong: the fallback would hide "
        "the bug or fail the same way. An outage, 529 or timeout is exactly what a second "
        "provider is for.",
        ("ex07_multi_provider",),
    ),
}


def answer(question: str, choice: str) -> Verdict:
    """Check your answer to a knowledge-check question: ``answer("q1", "b")``."""
    item = QUESTIONS.get(question)
    if item is None:
        raise KeyError(f"no question {question!r}: the questions are {', '.join(QUESTIONS)}")
    picked = choice.strip().lower()
    letters = ", ".join(item.choices)
    practise = " · ".join(item.exercises)
    if not picked:
        return Verdict(
            question,
            picked,
            None,
            f"{UNANSWERED} {question}: not answered yet: put one of {letters} "
            "between the quotes and run the cell again.",
        )
    if picked not in item.choices:
        return Verdict(
            question, picked, None, f"{UNANSWERED} {question}: {choice!r} is not one of {letters}."
        )
    if picked == item.correct:
        text = f"{PASSED} {question}: correct. {item.explanation} Practise it: {practise}."
        return Verdict(question, picked, True, text)
    text = (
        f"{FAILED} {question}: not quite: ({picked}) {item.choices[picked]} Think again, or work "
        f"through {practise}."
    )
    return Verdict(question, picked, False, text)
