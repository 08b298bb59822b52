"""ex08 · RPM vs TPM: which limit binds, and how many requests a minute that allows.

The learner writes ``binding_limit(rpm, tpm, prompt_tokens, max_tokens) -> (limit, requests)``
where ``limit`` is ``"rpm"`` or ``"tpm"`` and ``requests`` the most requests per minute both limits
allow. A request is charged its prompt tokens plus its ``max_tokens`` when it arrives (not the
tokens it ends up using), as OpenAI does and as the simulated provider does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from course_helpers.checks._support import OPENAI_MODEL, openai_client, simulated
from course_helpers.checks.base import Check, Exercise, describe, expect
from course_helpers.tokens import estimate_tokens

__all__ = ["EXERCISE"]

BindingLimit = Callable[[int, int, int, int], Any]


def _case(
    binding_limit: BindingLimit,
    rpm: int,
    tpm: int,
    prompt: int,
    max_tokens: int,
    expected: tuple[str, int],
    why: str,
) -> None:
    got = binding_limit(rpm, tpm, prompt, max_tokens)
    call = f"binding_limit(rpm={rpm}, tpm={tpm}, prompt_tokens={prompt}, max_tokens={max_tokens})"
    expect(
        isinstance(got, tuple) and len(got) == 2,
        f"{call} should return a (limit, requests) tuple, got {describe(got)}",
    )
    limit, requests = got
    expect(
        limit == expected[0], f"{call}: {why}, so the {expected[0]!r} limit binds; got {limit!r}"
    )
    expect(
        isinstance(requests, int) and requests == expected[1],
        f"{call}: {why}, so at most {expected[1]} requests a minute (an int); "
        f"got {describe(requests)}",
    )


def check_long_prompts(binding_limit: BindingLimit) -> None:
    _case(
        binding_limit,
        500,
        30_000,
        1_000,
        500,
        ("tpm", 20),
        "each request is charged 1,000 + 500 = 1,500 tokens and 30,000 / 1,500 = 20 < 500",
    )


def check_short_prompts(binding_limit: BindingLimit) -> None:
    _case(
        binding_limit,
        60,
        200_000,
        50,
        100,
        ("rpm", 60),
        "each request is charged 150 tokens, so tokens would allow 1,333 a minute, more than 60",
    )


def check_max_tokens_counts(binding_limit: BindingLimit) -> None:
    # The prompt alone would allow 500 a minute (the request limit would bind): only a label
    # and a count that include max_tokens say "tpm", 23.
    _case(
        binding_limit,
        100,
        100_000,
        200,
        4_096,
        ("tpm", 23),
        "max_tokens is charged up front: 200 + 4,096 = 4,296 tokens a request, and "
        "100,000 // 4,296 = 23 < 100",
    )


def check_rounds_down(binding_limit: BindingLimit) -> None:
    # Fractions of .75 and .5: round(), ceil, int(x + 0.5) and half-up Decimals all say 4.
    _case(
        binding_limit,
        100,
        15_000,
        1_000,
        3_000,
        ("tpm", 3),
        "15,000 / 4,000 = 3.75, and three quarters of a request cannot be sent",
    )
    _case(
        binding_limit,
        100,
        7_000,
        500,
        1_500,
        ("tpm", 3),
        "7,000 / 2,000 = 3.5, and half a request cannot be sent",
    )


def check_tie(binding_limit: BindingLimit) -> None:
    # Both limits allow exactly 20: fewer tokens per request would not buy more requests.
    _case(
        binding_limit,
        20,
        30_000,
        1_000,
        500,
        ("rpm", 20),
        "each request is charged 1,500 tokens and 30,000 // 1,500 = 20 = rpm: on a tie the "
        "request limit is reported (a smaller max_tokens would not allow more)",
    )
    _case(
        binding_limit,
        20,
        31_499,
        1_000,
        500,
        ("rpm", 20),
        "31,499 // 1,500 = 20 = rpm: on a tie the request limit is reported",
    )


def check_against_provider(binding_limit: BindingLimit) -> None:
    import openai

    messages: Any = [{"role": "user", "content": "Say hello"}]
    prompt = estimate_tokens(messages)
    max_tokens = 280 - prompt  # 280 tokens charged per request: 3,000 / 280 = 10.7
    rpm, tpm = 50, 3_000
    got = binding_limit(rpm, tpm, prompt, max_tokens)
    expect(isinstance(got, tuple) and len(got) == 2, f"expected a tuple, got {describe(got)}")
    predicted = got[1]
    client = openai_client()
    accepted = 0
    with simulated(rpm=rpm, tpm=tpm, period=60.0):
        for _ in range(rpm + 1):
            try:
                client.chat.completions.create(
                    model=OPENAI_MODEL, messages=messages, max_completion_tokens=max_tokens
                )
            except openai.RateLimitError:
                break
            accepted += 1
    expect(
        predicted == accepted,
        f"with rpm={rpm}, tpm={tpm}, a prompt of {prompt} tokens and max_tokens={max_tokens}, "
        "the "
        f"simulated provider accepted {accepted} requests in a burst before its first 429; "
        f"binding_limit predicted {describe(predicted)}",
    )


EXERCISE = Exercise(
    id="ex08_rpm_vs_tpm",
    title="RPM vs TPM: which limit binds?",
    target="binding_limit",
    notebook="ex08_rpm_vs_tpm.ipynb",
    sdks=("openai",),
    checks=[
        Check(
            "long prompts: the token limit binds",
            check_long_prompts,
            "requests allowed by tokens = tpm // (prompt_tokens + max_tokens)",
        ),
        Check(
            "short prompts: the request limit binds",
            check_short_prompts,
            "the answer is the smaller of rpm and what the tokens allow",
        ),
        Check(
            "max_tokens is charged, not the tokens you expect to use",
            check_max_tokens_counts,
            "providers reserve max_tokens when the request arrives",
        ),
        Check(
            "rounds down to whole requests",
            check_rounds_down,
            "use integer division // (round() and ceil() give 4 for 3.75)",
        ),
        Check(
            "a tie is reported as the request limit",
            check_tie,
            'when both limits allow the same number, return "rpm": "tpm" means fewer tokens '
            "per request would allow more requests",
        ),
        Check(
            "agrees with the simulated provider",
            check_against_provider,
            "the simulated provider charges estimate_tokens(messages) + max_tokens",
        ),
    ],
)
