"""What the SSE relay adds to the time to first token.

Two ways to the same first token, against the in-process ``FakeProvider`` with a fixed 50 ms time
to first token, measured in the same run with the rounds interleaved (direct, relay, direct, ...)
so drift in machine load hits both sides alike:

1. **direct**: ``LLMClient.astream`` in this process, until its first text delta;
2. **relay**: ``POST /chat`` to the relay (uvicorn on loopback, in a thread) with an httpx2 async
   client, until the first ``event: delta`` frame is parsed. The relay itself streams through its
   own ``LLMClient.astream``, so the difference is the relay: HTTP on loopback, validation, the
   SSE framing and the extra hop.

Each figure is a median over the rounds; "added" is the median of the paired differences. Target:
the relay adds at most 5 ms.

Run: ``python benchmarks/relay_ttft.py [rounds] [provider]``.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx2
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI

from course_helpers.client import LLMClient
from course_helpers.fake import FakeProvider
from course_helpers.retry import RetryPolicy
from course_helpers.server import create_app, serve_in_thread

MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-5-5"}
PROMPT = "Explain in one paragraph why a relay should not buffer a stream."
MAX_TOKENS = 32
TTFT = 0.05
TARGET_MS = 5.0
WARMUP = 5


def make_client(provider: str) -> LLMClient:
    return LLMClient(
        provider,
        model=MODELS[provider],
        openai_client=AsyncOpenAI(api_key="sk-bench-relay"),
        anthropic_client=AsyncAnthropic(api_key="sk-ant-bench-relay"),
        retry=RetryPolicy(max_attempts=1, deadline=None),
    )


def direct_first_token(client: LLMClient) -> Callable[[], Awaitable[float]]:
    async def run() -> float:
        started = time.perf_counter()
        async with client.astream(PROMPT, max_tokens=MAX_TOKENS) as stream:
            await anext(stream)
            return time.perf_counter() - started

    return run


def relay_first_token(http: httpx2.AsyncClient, model: str) -> Callable[[], Awaitable[float]]:
    body = {"prompt": PROMPT, "model": model, "max_tokens": MAX_TOKENS}

    async def run() -> float:
        started = time.perf_counter()
        async with http.stream("POST", "/chat", json=body) as response:
            response.raise_for_status()
            event = ""
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif event == "delta" and line.startswith("data: "):
                    return time.perf_counter() - started
        raise RuntimeError("the relay sent no delta")

    return run


async def measure(provider: str, base_url: str, rounds: int) -> tuple[float, float, float]:
    """Medians of direct, of relay, and of the paired differences relay - direct (seconds)."""
    direct = direct_first_token(make_client(provider))
    async with httpx2.AsyncClient(base_url=base_url, timeout=30) as http:
        relay = relay_first_token(http, MODELS[provider])
        for _ in range(WARMUP):
            await direct()
            await relay()
        firsts, seconds = [], []
        for _ in range(rounds):
            firsts.append(await direct())
            seconds.append(await relay())
    differences = [b - a for a, b in zip(firsts, seconds, strict=True)]
    return statistics.median(firsts), statistics.median(seconds), statistics.median(differences)


def main(rounds: int = 40, provider: str = "openai") -> int:
    with (
        FakeProvider(ttft=TTFT, token_delay=0.0, seed=1),
        serve_in_thread(create_app(client=make_client(provider))) as server,
    ):
        direct, relay, added = asyncio.run(measure(provider, server.base_url, rounds))
    added_ms = added * 1000
    verdict = "PASS" if added_ms <= TARGET_MS else "FAIL"
    print(f"time to first token, {provider}, simulated ttft {TTFT * 1000:.0f} ms, {rounds} rounds")
    print(f"  direct (LLMClient.astream):     {direct * 1000:7.2f} ms median")
    print(f"  through the relay (SSE, HTTP):  {relay * 1000:7.2f} ms median")
    print(f"  added by the relay:             {added_ms:7.2f} ms (median of paired differences)")
    print(f"  target: relay adds <= {TARGET_MS:.0f} ms -> {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    arguments = sys.argv[1:]
    sys.exit(
        main(
            int(arguments[0]) if arguments else 40,
            arguments[1] if len(arguments) > 1 else "openai",
        )
    )
