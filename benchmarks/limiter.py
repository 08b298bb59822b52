"""How much of a token limit each client-side limiter uses, and how many 429s it causes.

Every run sends the same mixed workload (prompts of 20-400 words, ``max_tokens`` 16-512, and one
request in ten a large 2,000-word prompt) through the ``openai`` SDK (``max_retries=0``) to a
``FakeProvider`` that enforces requests *and* tokens per one-second period, so a 12 s run spans
twelve periods. The token limit is the one that binds. Rows:

- ``course_helpers.ratelimit.RateLimiter``: 8 threads, then 64 asyncio tasks, acquiring one request
  and exactly the tokens the provider will charge (``estimate_tokens(messages) + max_tokens``),
  with ``headroom=0.25`` s (and once without, to show what the headroom is for);
- the seed's ``RateLimiter`` (requests only), 8 threads, set to the provider's request limit;
- ``aiolimiter.AsyncLimiter``, 64 tasks, one limiter for requests and one acquiring the tokens.

Utilisation is the tokens the provider admitted divided by the most it could admit in the run
(a full bucket at the start plus the refill over the run). A 429 is not retried; the worker waits
the ``retry-after`` it was given and moves on. Run: ``python benchmarks/limiter.py [seconds]``.
"""

from __future__ import annotations

import asyncio
import random
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import openai
from aiolimiter import AsyncLimiter
from openai.types.chat import ChatCompletionMessageParam

from course_helpers.fake import FakeProvider
from course_helpers.ratelimit import RateLimiter
from course_helpers.seed.ratelimit import RateLimiter as SeedRateLimiter
from course_helpers.tokens import estimate_tokens

PERIOD = 1.0  # seconds: the provider's "minute", shortened so a run spans many periods
RPM = 60  # requests per period
TPM = 8_000  # tokens per period: with ~450 tokens per request this binds at ~18 requests/period
HEADROOM = 0.25  # seconds of refill our limiter keeps back for the trip to the provider
MODEL = "gpt-4o-mini"
KEY = "sk-bench-0000"
WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "while",
    "seven",
    "wizards",
    "quietly",
    "box",
]


@dataclass(frozen=True)
class Item:
    messages: list[ChatCompletionMessageParam]
    max_tokens: int
    charge: int  # what the provider charges on arrival
    large: bool  # one of the 2,000-word prompts a size-ordered queue serves last


def workload(seed: int, count: int) -> list[Item]:
    """``count`` reproducible requests, built before the clock starts (estimating costs CPU)."""
    rng = random.Random(seed)
    items = []
    for _ in range(count):
        large = rng.random() < 0.1
        words = 2_000 if large else rng.randint(20, 400)
        content = " ".join(rng.choice(WORDS) for _ in range(words))
        messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": content}]
        max_tokens = rng.randint(16, 512)
        items.append(Item(messages, max_tokens, estimate_tokens(messages) + max_tokens, large))
    return items


@dataclass
class Tally:
    """What one run's workers saw; appended from many threads, so guarded by a lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    ok: int = 0
    rate_limited: int = 0
    errors: int = 0
    tokens: int = 0
    large: int = 0
    max_wait: float = 0.0

    def record(self, item: Item, status: str, waited: float) -> None:
        with self.lock:
            self.max_wait = max(self.max_wait, waited)
            if status == "ok":
                self.ok += 1
                self.tokens += item.charge
                self.large += item.large
            elif status == "429":
                self.rate_limited += 1
            else:
                self.errors += 1


def retry_after(exc: openai.RateLimitError) -> float:
    try:
        return min(1.0, float(exc.response.headers.get("retry-after", "0.1")))
    except ValueError:
        return 0.1


def run_threads(acquire: Callable[[Item], None], seconds: float, workers: int = 8) -> Tally:
    tally = Tally()
    # More requests than a run can send (tokens bind at ~18 requests per period).
    plans = [workload(index, int(4 * seconds)) for index in range(workers)]
    with FakeProvider(rpm=RPM, tpm=TPM, period=PERIOD, seed=1):
        client = openai.OpenAI(api_key=KEY, max_retries=0)
        deadline = time.monotonic() + seconds

        def worker(index: int) -> None:
            for item in plans[index]:
                asked = time.monotonic()
                acquire(item)
                sent = time.monotonic()
                if sent >= deadline:
                    return
                try:
                    client.chat.completions.create(
                        model=MODEL,
                        messages=item.messages,
                        max_tokens=item.max_tokens,
                    )
                    tally.record(item, "ok", sent - asked)
                except openai.RateLimitError as exc:
                    tally.record(item, "429", sent - asked)
                    time.sleep(retry_after(exc))
                except openai.OpenAIError:
                    tally.record(item, "error", sent - asked)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return tally


def run_tasks(
    make_acquire: Callable[[], Callable[[Item], Awaitable[None]]], seconds: float, tasks: int = 64
) -> Tally:
    tally = Tally()
    plans = [workload(100 + index, max(4, int(seconds))) for index in range(tasks)]

    async def main() -> None:
        acquire = make_acquire()  # inside the loop: aiolimiter binds to the running loop
        client = openai.AsyncOpenAI(api_key=KEY, max_retries=0)
        deadline = time.monotonic() + seconds

        async def worker(index: int) -> None:
            for item in plans[index]:
                asked = time.monotonic()
                await acquire(item)
                sent = time.monotonic()
                if sent >= deadline:
                    return
                try:
                    await client.chat.completions.create(
                        model=MODEL,
                        messages=item.messages,
                        max_tokens=item.max_tokens,
                    )
                    tally.record(item, "ok", sent - asked)
                except openai.RateLimitError as exc:
                    tally.record(item, "429", sent - asked)
                    await asyncio.sleep(retry_after(exc))
                except openai.OpenAIError:
                    tally.record(item, "error", sent - asked)

        running = [asyncio.create_task(worker(i)) for i in range(tasks)]
        # At the deadline, stop the tasks still queued for capacity rather than drain the queue.
        _, late = await asyncio.wait(running, timeout=seconds + 0.5)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    with FakeProvider(rpm=RPM, tpm=TPM, period=PERIOD, seed=1):
        asyncio.run(main())
    return tally


def ours_threads(seconds: float, headroom: float = HEADROOM) -> Tally:
    limiter = RateLimiter(RPM, TPM, period=PERIOD, headroom=headroom)
    return run_threads(lambda item: limiter.acquire(item.charge), seconds)


def ours_threads_exact(seconds: float) -> Tally:
    return ours_threads(seconds, headroom=0.0)


def seed_threads(seconds: float) -> Tally:
    limiter = SeedRateLimiter(RPM, period=PERIOD)
    return run_threads(lambda item: limiter.wait_if_needed(), seconds)


def ours_tasks(seconds: float) -> Tally:
    def make() -> Callable[[Item], Awaitable[None]]:
        limiter = RateLimiter(RPM, TPM, period=PERIOD, headroom=HEADROOM)
        return lambda item: limiter.acquire_async(item.charge)

    return run_tasks(make, seconds)


def aiolimiter_tasks(seconds: float) -> Tally:
    def make() -> Callable[[Item], Awaitable[None]]:
        requests, tokens = AsyncLimiter(RPM, PERIOD), AsyncLimiter(TPM, PERIOD)

        async def acquire(item: Item) -> None:
            await requests.acquire()
            await tokens.acquire(item.charge)

        return acquire

    return run_tasks(make, seconds)


def main(seconds: float = 12.0) -> None:
    most = TPM + TPM * seconds / PERIOD  # a full bucket, then the refill over the run
    rows: list[tuple[str, str, Tally]] = []
    runs: list[tuple[str, str, Callable[[float], Tally]]] = [
        ("course_helpers RateLimiter", "8 threads", ours_threads),
        ("  the same with headroom=0", "8 threads", ours_threads_exact),
        ("seed RateLimiter (requests only)", "8 threads", seed_threads),
        ("course_helpers RateLimiter", "64 tasks", ours_tasks),
        (f"aiolimiter {version('aiolimiter')}", "64 tasks", aiolimiter_tasks),
    ]
    print(
        f"Limits: {RPM} requests and {TPM:,} tokens per {PERIOD:g} s period (tokens bind); "
        f"{seconds:g} s per run, so at most {most:,.0f} tokens can be admitted.\n"
    )
    header = f"{'limiter':<34} {'workers':<10} {'sent':>6} {'429s':>6} {'tokens':>9} "
    header += f"{'utilisation':>12} {'large':>6} {'max wait':>9}  target"
    print(header)
    print("-" * len(header))
    for name, workers, run in runs:
        tally = run(seconds)
        rows.append((name, workers, tally))
        share = tally.tokens / most
        passed = share >= 0.95 and tally.rate_limited == 0 and tally.errors == 0
        sent = tally.ok + tally.rate_limited + tally.errors
        print(
            f"{name:<34} {workers:<10} {sent:>6} {tally.rate_limited:>6} {tally.tokens:>9,} "
            f"{share:>11.1%} {tally.large:>6} {tally.max_wait:>8.2f}s  "
            f"{'PASS' if passed else 'FAIL'}"
        )
    print(
        "\nTarget: >= 95 % of the binding (token) limit with zero 429s. 'large' counts the "
        "2,000-word prompts served (one request in ten asks for one); 'max wait' is the longest "
        "time a request spent in the limiter.\n"
        f"Our limiter runs with headroom={HEADROOM:g} s: the provider charges a request when it "
        "arrives, and while its bucket is full it refills nothing, so uneven trip times (threads "
        "contending for the GIL) leave it behind a client that models it exactly; the reserve "
        "costs part of the first burst only. aiolimiter has no such setting."
    )


if __name__ == "__main__":
    args: list[Any] = sys.argv[1:]
    main(float(args[0]) if args else 12.0)
