"""What the SSE relay adds to the time to first token.

Two ways to the same first token, against the in-process ``FakeProvider`` with a fixed 50 ms time
to first token, measured in the same run with the rounds interleaved (direct, relay, direct, ...)
so drift in machine load hits both sides alike:

1. **direct**: ``LLMClient.astream`` in this process, until its first text delta;
2. **relay**: ``POST /chat`` to the relay with an httpx2 async client, until the first
   ``event: delta`` frame is parsed. The relay streams through its own ``LLMClient.astream``
   and its own in-process ``FakeProvider`` (same ttft), so the difference is the relay: HTTP on
   loopback, validation, the SSE framing and the extra hop.

The relay runs in a child process, as it would in production. In the same process, the relay's
event loop (in a thread) and the client's would take turns on the GIL, and each hand-over can wait
out the 5 ms switch interval: that measures Python's threads, not the relay.

Both sides read their stream to the end. Each figure is a median over the rounds; "added" is the
median of the paired differences. Target: the relay adds at most 5 ms.

Run: ``python benchmarks/relay_ttft.py [rounds] [provider]``.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
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


def serve(provider: str) -> None:
    """The child process: a relay with its own simulated provider, until stdin closes."""
    with (
        FakeProvider(ttft=TTFT, token_delay=0.0, seed=1),
        serve_in_thread(create_app(client=make_client(provider))) as server,
    ):
        print(server.base_url, flush=True)
        sys.stdin.read()


def direct_first_token(client: LLMClient) -> Callable[[], Awaitable[float]]:
    async def run() -> float:
        started = time.perf_counter()
        first = None
        async for _ in client.astream(PROMPT, max_tokens=MAX_TOKENS):
            first = first or time.perf_counter() - started
        assert first is not None, "the stream had no text"
        return first

    return run


def relay_first_token(http: httpx2.AsyncClient, model: str) -> Callable[[], Awaitable[float]]:
    body = {"prompt": PROMPT, "model": model, "max_tokens": MAX_TOKENS}

    async def run() -> float:
        started = time.perf_counter()
        first = None
        event = ""
        async with http.stream("POST", "/chat", json=body) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif event == "delta" and line.startswith("data: "):
                    first = first or time.perf_counter() - started
                elif event == "error":
                    raise RuntimeError(f"the relay failed: {line}")
        assert first is not None, "the relay sent no delta"
        return first

    return run


async def measure(provider: str, base_url: str, rounds: int) -> tuple[float, float, float, float]:
    """Medians (seconds): direct; relay; paired differences relay - direct; and the time from the
    relay's start to the provider's first token as the relay logged it (``ttft_s``)."""
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
        logged = (await http.get("/history", params={"limit": rounds})).json()["exchanges"]
    inside = statistics.median(row["ttft_s"] for row in logged)
    differences = [b - a for a, b in zip(firsts, seconds, strict=True)]
    return (
        statistics.median(firsts),
        statistics.median(seconds),
        statistics.median(differences),
        inside,
    )


def main(rounds: int = 40, provider: str = "openai") -> int:
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", provider],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        base_url = child.stdout.readline().strip()
        if not base_url.startswith("http://"):
            print("The relay did not start (see above).", file=sys.stderr)
            return 2
        with FakeProvider(ttft=TTFT, token_delay=0.0, seed=1):
            direct, relay, added, inside = asyncio.run(measure(provider, base_url, rounds))
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(timeout=30)
    added_ms = added * 1000
    verdict = "PASS" if added_ms <= TARGET_MS else "FAIL"
    print(f"time to first token, {provider}, simulated ttft {TTFT * 1000:.0f} ms, {rounds} rounds")
    print(f"  direct (LLMClient.astream):     {direct * 1000:7.2f} ms median")
    print(f"  through the relay (SSE, HTTP):  {relay * 1000:7.2f} ms median")
    print(f"  added by the relay:             {added_ms:7.2f} ms (median of paired differences)")
    print(f"  the relay's own LLMClient call: {inside * 1000:7.2f} ms to first token (its log)")
    print("  the difference: HTTP + SSE on loopback and process wake-ups (noisy on a busy machine)")
    print(f"  target: relay adds <= {TARGET_MS:.0f} ms -> {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if arguments[:1] == ["--serve"]:
        serve(arguments[1])
        sys.exit(0)
    sys.exit(
        main(
            int(arguments[0]) if arguments else 40,
            arguments[1] if len(arguments) > 1 else "openai",
        )
    )
