"""What ``LLMClient`` costs on top of the raw SDK call, per provider.

Two measurements against the in-process ``FakeProvider``, through the same SDK clients
(``max_retries=0``), with the rounds interleaved (raw, ours, raw, ours, ...) so drift in machine
load hits both sides alike; each figure is the median over the rounds.

1. **complete**: ``LLMClient.complete`` (default retry policy, logging on; no limiter, budget or
   usage log) against ``chat.completions.create`` / ``messages.create``, with zero simulated
   latency, so the ratio exposes our overhead at its most visible. Target: at most 1.10x.
2. **time to first token**: ``LLMClient.stream`` against the SDK's own stream
   (``create(stream=True)``), with a simulated 50 ms time to first token. Target: at most 1 ms
   added.

Run: ``python benchmarks/client_overhead.py [complete_rounds] [stream_rounds]``.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from anthropic import Anthropic
from openai import OpenAI

from course_helpers.client import LLMClient
from course_helpers.fake import FakeProvider

MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-5-5"}
MESSAGES = [{"role": "user", "content": "Explain in one paragraph why retries need jitter."}]
MAX_TOKENS = 64
TTFT = 0.05
RATIO_TARGET = 1.10
TTFT_TARGET_S = 0.001


def raw_complete(sdk: Any, provider: str) -> Callable[[], object]:
    model = MODELS[provider]
    if provider == "openai":
        return lambda: sdk.chat.completions.create(
            model=model, messages=MESSAGES, max_completion_tokens=MAX_TOKENS
        )
    return lambda: sdk.messages.create(model=model, messages=MESSAGES, max_tokens=MAX_TOKENS)


def raw_first_token(sdk: Any, provider: str) -> Callable[[], float]:
    """Seconds from the call to the first text delta of the SDK's own stream."""
    model = MODELS[provider]

    def openai_stream() -> float:
        started = time.perf_counter()
        stream = sdk.chat.completions.create(
            model=model,
            messages=MESSAGES,
            max_completion_tokens=MAX_TOKENS,
            stream=True,
            stream_options={"include_usage": True},
        )
        try:
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    return time.perf_counter() - started
        finally:
            stream.close()
        raise RuntimeError("no text")

    def anthropic_stream() -> float:
        started = time.perf_counter()
        stream = sdk.messages.create(
            model=model, messages=MESSAGES, max_tokens=MAX_TOKENS, stream=True
        )
        try:
            for event in stream:
                if event.type == "content_block_delta" and event.delta.type == "text_delta":
                    return time.perf_counter() - started
        finally:
            stream.close()
        raise RuntimeError("no text")

    return openai_stream if provider == "openai" else anthropic_stream


def ours_first_token(client: LLMClient) -> Callable[[], float]:
    def run() -> float:
        started = time.perf_counter()
        with client.stream(MESSAGES, max_tokens=MAX_TOKENS) as stream:
            next(stream)
            return time.perf_counter() - started

    return run


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def interleave(
    a: Callable[[], float], b: Callable[[], float], rounds: int
) -> tuple[float, float, float]:
    """Medians of ``a``, of ``b`` and of the paired differences ``b - a``, measured alternately.

    The paired difference cancels what both rounds of a pair share (machine load, the fake's
    sleep overshooting), which a difference of medians would keep.
    """
    for _ in range(5):
        a(), b()
    first, second = [], []
    for _ in range(rounds):
        first.append(a())
        second.append(b())
    differences = [y - x for x, y in zip(first, second, strict=True)]
    return statistics.median(first), statistics.median(second), statistics.median(differences)


def sdk_clients() -> dict[str, Any]:
    return {
        "openai": OpenAI(api_key="sk-bench-0000", max_retries=0),
        "anthropic": Anthropic(api_key="sk-ant-bench-0000", max_retries=0),
    }


def main(complete_rounds: int = 300, stream_rounds: int = 40) -> bool:
    passed = True
    print(
        f"LLMClient overhead vs the raw SDK (medians; {complete_rounds} / {stream_rounds} rounds)"
    )
    print("\n1. complete(), zero simulated latency")
    with FakeProvider(ttft=0.0, token_delay=0.0) as _fake:
        sdks = sdk_clients()
        for provider, sdk in sdks.items():
            client = LLMClient(model=MODELS[provider], **{f"{provider}_client": sdk})
            raw = raw_complete(sdk, provider)
            raw_s, ours_s, _ = interleave(
                lambda raw=raw: timed(raw),
                lambda client=client: timed(
                    lambda: client.complete(MESSAGES, max_tokens=MAX_TOKENS)
                ),
                complete_rounds,
            )
            ratio = ours_s / raw_s
            ok = ratio <= RATIO_TARGET
            passed &= ok
            print(
                f"   {provider:<9}  raw {raw_s * 1e3:7.3f} ms   LLMClient {ours_s * 1e3:7.3f} ms   "
                f"ratio {ratio:.3f}x (target <= {RATIO_TARGET:.2f}x)  {'PASS' if ok else 'FAIL'}"
            )

    print(f"\n2. time to first token, simulated ttft {TTFT * 1e3:.0f} ms")
    with FakeProvider(ttft=TTFT, token_delay=0.0) as _fake:
        sdks = sdk_clients()
        for provider, sdk in sdks.items():
            client = LLMClient(model=MODELS[provider], **{f"{provider}_client": sdk})
            raw_s, ours_s, added = interleave(
                raw_first_token(sdk, provider), ours_first_token(client), stream_rounds
            )
            ok = added <= TTFT_TARGET_S
            passed &= ok
            print(
                f"   {provider:<9}  raw {raw_s * 1e3:7.3f} ms   LLMClient {ours_s * 1e3:7.3f} ms   "
                f"added {added * 1e3:+.3f} ms (paired median; target <= "
                f"{TTFT_TARGET_S * 1e3:.0f} ms)  "
                f"{'PASS' if ok else 'FAIL'}"
            )
    print(f"\n{'PASS' if passed else 'FAIL'}")
    return passed


if __name__ == "__main__":
    counts = [int(arg) for arg in sys.argv[1:3]]
    sys.exit(0 if main(*counts) else 1)
