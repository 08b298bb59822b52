"""Plausible wrong answers to the exercises: each must fail the checks named in WRONG_ANSWERS.

These are the mistakes learners (and tutorials, and the seed material) actually make. The
solution notebooks show one of them per exercise as the "what a check looks like" demo; those
are tested from the notebooks themselves, and the rest live here.
"""

from __future__ import annotations

import math
import random
import threading
import time
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import anthropic
import openai

from course_helpers.catalog import provider_for
from course_helpers.errors import classify
from course_helpers.seed.budget import TokenBudget as SeedTokenBudget
from course_helpers.seed.ratelimit import RateLimiter as SeedRateLimiter


# ----------------------------------------------------------------------------- ex01
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


# ----------------------------------------------------------------------------- ex02
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


# ----------------------------------------------------------------------------- ex03
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


# ----------------------------------------------------------------------------- ex04
def retry_ignoring_retry_after(
    fn: Any,
    *,
    max_attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Any = time.sleep,
) -> Any:
    """Full jitter, right decisions, but deaf to the server's retry-after."""
    for attempt in range(max_attempts):
        try:
            return fn()
        except Exception as exc:
            if not classify(exc).retriable or attempt == max_attempts - 1:
                raise
            sleep(random.uniform(0, min(max_delay, base_delay * 2**attempt)))
    return None


def retry_sleeps_after_last(
    fn: Any,
    *,
    max_attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Any = time.sleep,
) -> Any:
    """Waits after the last failure too, then raises."""
    for attempt in range(max_attempts):
        try:
            return fn()
        except Exception as exc:
            error = classify(exc)
            if not error.retriable:
                raise
            delay = error.retry_after
            if delay is None:
                delay = random.uniform(0, min(max_delay, base_delay * 2**attempt))
            sleep(delay)
            last = exc
    raise last


def retry_without_jitter(
    fn: Any,
    *,
    max_attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Any = time.sleep,
) -> Any:
    """Honours retry-after, but every client waits base * 2**n exactly: a thundering herd."""
    for attempt in range(max_attempts):
        try:
            return fn()
        except Exception as exc:
            error = classify(exc)
            if not error.retriable or attempt == max_attempts - 1:
                raise
            delay = error.retry_after
            sleep(min(max_delay, base_delay * 2**attempt) if delay is None else delay)
    return None


def retry_with_time_sleep(
    fn: Any,
    *,
    max_attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Any = time.sleep,
) -> Any:
    """Right, except that it calls time.sleep directly, ignoring the sleep= it was given."""
    for attempt in range(max_attempts):
        try:
            return fn()
        except Exception as exc:
            error = classify(exc)
            if not error.retriable or attempt == max_attempts - 1:
                raise
            delay = error.retry_after
            if delay is None:
                delay = random.uniform(0, min(max_delay, base_delay * 2**attempt))
            time.sleep(delay)
    return None


def retry_never_really_sleeps(
    fn: Any,
    *,
    max_attempts: int = 5,
    base_delay: float = 0.5,
    max_delay: float = 30.0,
    sleep: Any = lambda seconds: None,
) -> Any:
    """Right when a sleep is injected; its default does not wait at all."""
    return retry_with_injected(fn, max_attempts, base_delay, max_delay, sleep)


def retry_with_injected(
    fn: Any, max_attempts: int, base_delay: float, max_delay: float, sleep: Any
) -> Any:
    for attempt in range(max_attempts):
        try:
            return fn()
        except Exception as exc:
            error = classify(exc)
            if not error.retriable or attempt == max_attempts - 1:
                raise
            delay = error.retry_after
            if delay is None:
                delay = random.uniform(0, min(max_delay, base_delay * 2**attempt))
            sleep(delay)
    return None


# ----------------------------------------------------------------------------- ex05
class SeedLimiter:
    """The seed's sliding-log RateLimiter behind the exercise's API: requests only."""

    def __init__(self, rpm: int, tpm: int, period: float = 60.0) -> None:
        self._seed = SeedRateLimiter(rpm, period=period)

    def acquire(self, tokens: int = 0) -> None:
        self._seed.wait_if_needed()


class PerMinuteLimiter:
    """Requests and tokens in a continuous bucket, but it ignores ``period``: refills per minute.

    The seed's code hard-codes 60 s; a limiter that does the same refills 60x too slowly when the
    provider's period is one second, so it wastes most of the limit.
    """

    def __init__(self, rpm: int, tpm: int, period: float = 60.0) -> None:
        self.rpm, self.tpm = rpm, tpm
        self.requests, self.tokens = float(rpm), float(tpm)
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def acquire(self, tokens: int = 0) -> None:
        if tokens > self.tpm:
            raise ValueError("too large")
        while True:
            with self.lock:
                now = time.monotonic()
                elapsed, self.updated = now - self.updated, now
                self.requests = min(self.rpm, self.requests + elapsed * self.rpm / 60.0)
                self.tokens = min(self.tpm, self.tokens + elapsed * self.tpm / 60.0)
                if self.requests >= 1 and self.tokens >= tokens:
                    self.requests -= 1
                    self.tokens -= tokens
                    return
                wait = max((1 - self.requests) * 60.0 / self.rpm, 0.0)
                wait = max(wait, (tokens - self.tokens) * 60.0 / self.tpm)
            time.sleep(min(wait, 0.05))


# ----------------------------------------------------------------------------- ex06
class RollingBudget:
    """Resets 24 hours after the day's first spend and 30 days after the month's: not calendar."""

    def __init__(self, daily_limit: int, monthly_limit: int, *, now: Any = datetime.now) -> None:
        self.daily_limit, self.monthly_limit, self.now = daily_limit, monthly_limit, now
        self.day_start = self.month_start = now()
        self.day_used = self.month_used = 0

    def _roll(self) -> None:
        now = self.now()
        if now - self.day_start >= timedelta(days=1):
            self.day_start, self.day_used = now, 0
        if now - self.month_start >= timedelta(days=30):
            self.month_start, self.month_used = now, 0

    def can_spend(self, tokens: int) -> bool:
        self._roll()
        return (
            self.day_used + tokens <= self.daily_limit
            and self.month_used + tokens <= self.monthly_limit
        )

    def spend(self, tokens: int) -> None:
        if not self.can_spend(tokens):
            raise RuntimeError("over budget")
        self.day_used += tokens
        self.month_used += tokens


# ----------------------------------------------------------------------------- ex07
class _Asker:
    def __init__(
        self, primary: str, fallback: str, *, openai_client: Any, anthropic_client: Any
    ) -> None:
        self.primary, self.fallback = primary, fallback
        self.clients = {"openai": openai_client, "anthropic": anthropic_client}

    def ask(
        self, model: str, prompt: str, max_tokens: int, provider: str | None = None
    ) -> tuple[str, str]:
        provider = provider or provider_for(model) or "openai"
        messages = [{"role": "user", "content": prompt}]
        if provider == "openai":
            reply = self.clients["openai"].chat.completions.create(
                model=model, messages=messages, max_completion_tokens=max_tokens
            )
            return provider, reply.choices[0].message.content or ""
        message = self.clients["anthropic"].messages.create(
            model=model, messages=messages, max_tokens=max_tokens
        )
        return provider, "".join(b.text for b in message.content if b.type == "text")


class MultiClientNoFallback(_Asker):
    """Routes right, never falls back."""

    def complete(self, prompt: str, *, max_tokens: int = 200) -> tuple[str, str]:
        return self.ask(self.primary, prompt, max_tokens)


class MultiClientOpenAIOnly(_Asker):
    """Sends every model to OpenAI (the seed's LLMClient default), falls back properly."""

    def complete(self, prompt: str, *, max_tokens: int = 200) -> tuple[str, str]:
        try:
            return self.ask(self.primary, prompt, max_tokens, provider="openai")
        except Exception as exc:
            if not classify(exc).retriable:
                raise
        return self.ask(self.fallback, prompt, max_tokens)


class MultiClientSwallows(_Asker):
    """Falls back properly, but returns (provider, None) when both fail instead of raising."""

    def complete(self, prompt: str, *, max_tokens: int = 200) -> Any:
        try:
            return self.ask(self.primary, prompt, max_tokens)
        except Exception as exc:
            if not classify(exc).retriable:
                raise
        try:
            return self.ask(self.fallback, prompt, max_tokens)
        except Exception:
            return None


# ----------------------------------------------------------------------------- ex08
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


# ----------------------------------------------------------------------------- the table
WRONG_ANSWERS: dict[str, list[tuple[str, Any, list[str]]]] = {
    # exercise: [(what the answer gets wrong, the answer, checks that must catch it)]
    "ex01_first_calls": [
        (
            "output tokens from total_tokens",
            ask_both_total_tokens,
            ["token counts come from the response's usage"],
        ),
    ],
    "ex02_stream_collector": [
        (
            "reads .text of every block delta (thinking has none)",
            collect_any_delta,
            ["anthropic stream that starts with a thinking block"],
        ),
    ],
    "ex03_classify_errors": [
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
    ],
    "ex04_retry": [
        (
            "ignores retry-after",
            retry_ignoring_retry_after,
            ["honours retry-after: waits ≥ 0.3 s but not 3 s"],
        ),
        (
            "sleeps after the last attempt",
            retry_sleeps_after_last,
            ["gives up after max_attempts, without a last useless wait"],
        ),
        ("no jitter", retry_without_jitter, ["backoff grows exponentially, with jitter"]),
        (
            "calls time.sleep, ignoring sleep=",
            retry_with_time_sleep,
            ["honours retry-after: waits ≥ 0.3 s but not 3 s"],
        ),
        (
            "its default sleep never waits",
            retry_never_really_sleeps,
            ["really sleeps when no sleep= is given"],
        ),
    ],
    "ex05_rate_limiter": [
        (
            "the seed's limiter: requests only, no ValueError",
            SeedLimiter,
            [
                "refuses a request larger than the token limit",
                "token limit binds: zero 429s, ≥ 90 % of TPM",
            ],
        ),
        (
            "ignores period: refills per minute",
            PerMinuteLimiter,
            [
                "token limit binds: zero 429s, ≥ 90 % of TPM",
                "request limit binds: zero 429s, ≥ 90 % of RPM",
            ],
        ),
    ],
    "ex06_token_budget": [
        (
            "the seed's TokenBudget",
            SeedTokenBudget,
            [
                "a month later, the same day of the month is a new day",
                "January of another year is a new month",
                "refuses before overspending",
            ],
        ),
        (
            "rolling 24 h / 30 days instead of the calendar",
            RollingBudget,
            [
                "the day resets at midnight",
                "the month resets on the 1st, not on the same day of the next month",
            ],
        ),
    ],
    "ex07_multi_provider": [
        (
            "never falls back",
            MultiClientNoFallback,
            [
                "falls back when the primary has an outage (503)",
                "falls back when anthropic is overloaded (529)",
            ],
        ),
        (
            "sends every model to openai",
            MultiClientOpenAIOnly,
            ["routes a claude model to anthropic"],
        ),
        ("returns None when both fail", MultiClientSwallows, ["raises when both providers fail"]),
    ],
    "ex08_rpm_vs_tpm": [
        ("rounds up", binding_limit_rounds_up, ["rounds down to whole requests"]),
        (
            "returns a float",
            binding_limit_float,
            ["long prompts: the token limit binds", "rounds down to whole requests"],
        ),
    ],
}

# The demos in the solution notebooks ("what a check looks like"), by the name they have there.
NOTEBOOK_DEMOS: dict[str, tuple[str, str, list[str]]] = {
    "ex01_first_calls": (
        "ask_both_as_is",
        "SDK fields copied as they are",
        [
            "a complete answer has stop_reason 'stop'",
            "an answer cut by max_tokens has stop_reason 'length'",
            "max_tokens reaches both providers",
        ],
    ),
    "ex02_stream_collector": (
        "collect_stream_naive",
        "chunk.choices[0]; message_start's usage",
        ["openai stream with usage: text and tokens", "anthropic stream: text and tokens"],
    ),
    "ex03_classify_errors": (
        "decide_by_status",
        "decides by HTTP status",
        [
            "an exhausted quota is never retriable",
            "an in-stream overloaded error is retriable",
            "retry-after-ms is preferred to retry-after",
            "server errors and dropped connections are retriable",
        ],
    ),
    "ex04_retry": (
        "retry_call_textbook",
        "retries everything, 2**n, no jitter",
        [
            "exactly one attempt on a 400",
            "never retries an exhausted quota",
            "backoff grows exponentially, with jitter",
            "gives up after max_attempts, without a last useless wait",
        ],
    ),
    "ex05_rate_limiter": (
        "SeedLimiter",
        "the seed's limiter: requests only",
        ["token limit binds: zero 429s, ≥ 90 % of TPM"],
    ),
    "ex06_token_budget": (
        "SeedTokenBudget",
        "the seed's TokenBudget",
        ["a month later, the same day of the month is a new day"],
    ),
    "ex07_multi_provider": (
        "MultiClientAnyError",
        "falls back on any exception",
        ["does not fall back on a 400"],
    ),
    "ex08_rpm_vs_tpm": (
        "binding_limit_prompt_only",
        "counts the prompt, not max_tokens",
        [
            "long prompts: the token limit binds",
            "max_tokens is charged, not the tokens you expect to use",
            "agrees with the simulated provider",
        ],
    ),
}
