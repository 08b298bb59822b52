"""What the simulated provider costs per call, compared with a bare respx route.

    .venv/bin/python benchmarks/fake_overhead.py [--rounds 5] [--calls 100] [--profile]

Both sides make the same non-streamed ``client.chat.completions.create`` call through the real
openai SDK, intercepted in-process by respx (``using="httpcore2"``):

- fake: ``FakeProvider(ttft=0, token_delay=0)`` (validation, rate limits, answer book, usage, the
  calls log), through its respx adapter;
- bare: one respx route returning a fixed, valid ``chat.completion`` body.

The sides alternate in rounds after a warm-up, so machine noise hits both; the medians of the
per-call times are compared. Target: the fake costs at most 1.5x the bare route. ``--profile``
also prints the fake side's hottest functions (cProfile). Exit status 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # respx builds its mocked responses with httpx (not httpx2)
import pytest_httpx2._plugin  # noqa: F401  (registers respx's "httpcore2" mocker)
import respx
from openai import OpenAI

from course_helpers.fake import FakeProvider

TARGET = 1.5
MODEL = "gpt-4o-mini"
MESSAGES: Any = [{"role": "user", "content": "What is the capital of France?"}]
BARE_BODY = json.dumps(
    {
        "id": "chatcmpl-0123456789abcdefghijklmnopqr",
        "object": "chat.completion",
        "created": 1730000000,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "The capital of France is Paris.",
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 14,
            "completion_tokens": 8,
            "total_tokens": 22,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_0123456789",
    }
).encode()
BARE_HEADERS = {"content-type": "application/json", "x-request-id": "req_0123456789"}


def call(client: OpenAI) -> None:
    reply = client.chat.completions.create(model=MODEL, messages=MESSAGES, temperature=0)
    assert reply.choices[0].message.content, "empty answer"


def timed(client: OpenAI, calls: int) -> list[float]:
    """Per-call wall times in seconds."""
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call(client)
        times.append(time.perf_counter() - start)
    return times


def run_fake(fake: FakeProvider, client: OpenAI, calls: int) -> list[float]:
    with fake:
        return timed(client, calls)


def run_bare(client: OpenAI, calls: int) -> list[float]:
    with respx.mock(using="httpcore2", assert_all_called=False) as router:
        router.post(path__regex=r"/chat/completions$").mock(
            return_value=httpx.Response(200, headers=BARE_HEADERS, content=BARE_BODY)
        )
        return timed(client, calls)


def profile_fake(fake: FakeProvider, client: OpenAI, calls: int) -> None:
    profiler = cProfile.Profile()
    with fake:
        profiler.enable()
        for _ in range(calls):
            call(client)
        profiler.disable()
    print(f"\ncProfile of {calls} fake calls (top 25 by own time):")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=100, help="calls per side per round")
    parser.add_argument("--warmup", type=int, default=50, help="calls per side before timing")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the fake")
    args = parser.parse_args(argv)

    client = OpenAI(api_key="sk-bench-0000", max_retries=0)
    fake = FakeProvider(ttft=0.0, token_delay=0.0)
    sides: dict[str, Callable[[], list[float]]] = {
        "fake": lambda: run_fake(fake, client, args.calls),
        "bare": lambda: run_bare(client, args.calls),
    }
    run_fake(fake, client, args.warmup)
    run_bare(client, args.warmup)

    times: dict[str, list[float]] = {"fake": [], "bare": []}
    for round_number in range(args.rounds):
        order = ["fake", "bare"] if round_number % 2 == 0 else ["bare", "fake"]
        for side in order:
            times[side].extend(sides[side]())

    medians = {side: statistics.median(values) * 1e6 for side, values in times.items()}
    ratio = medians["fake"] / medians["bare"]
    total = args.rounds * args.calls
    print(f"{total} non-streamed chat.completions.create calls per side, {args.rounds} rounds")
    for side in ("fake", "bare"):
        q = statistics.quantiles(times[side], n=10)
        print(
            f"  {side}: median {medians[side]:7.0f} µs  (p10 {q[0] * 1e6:.0f}, "
            f"p90 {q[-1] * 1e6:.0f})"
        )
    verdict = "PASS" if ratio <= TARGET else "FAIL"
    print(f"  fake / bare = {ratio:.2f}x  (target <= {TARGET}x)  {verdict}")
    if args.profile:
        profile_fake(fake, client, total)
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
