"""Does ``RateLimiter`` with only the limits given use the limit without a single 429?

Every run sends the same mixed workload (prompts of 20-400 words, ``max_tokens`` 16-512, and one
request in ten a large 2,000-word prompt) through the ``openai`` SDK (``max_retries=0``) to a
``FakeProvider`` that enforces requests *and* tokens per one-second period, so a 12 s run spans
twelve periods. Two sets of limits: one where the token limit binds, one where the request limit
binds. Each worker acquires one request and exactly the tokens the provider will charge
(``estimate_tokens(messages) + max_tokens``), then sends.

Rows, each repeated ``--runs`` times (medians and the worst run are reported):

- ``RateLimiter(rpm, tpm, period=1)``, the defaults, 8 threads and 64 asyncio tasks, both limits;
- the same with ``headroom=0`` (a client bucket that models the provider's exactly), to show what
  the default headroom is for;

then, once, on the token-bound limits: ``LLMClient`` given a default ``RateLimiter`` (its retries
hide 429s, so they are counted at the provider), the module's ``RateLimiter`` (requests only;
``course_helpers.seed.ratelimit`` verbatim, its 60 s window run as one period by
``seed.clocked.ClockedRateLimiter``) and ``aiolimiter.AsyncLimiter`` (one limiter for requests,
one acquiring the tokens).

Utilisation is what the provider admitted of the binding limit divided by the most it could admit
in the run (a full bucket at the start plus the refill over the run); 429s are counted by the
provider. A 429 is not retried: the worker waits the ``retry-after`` it was given and moves on.
"Trip" is the time from ``acquire`` returning to the provider charging the request; its spread
(slowest minus fastest) is what the headroom must cover.

Run: ``python benchmarks/limiter.py [--seconds 12] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import openai
from aiolimiter import AsyncLimiter
from openai.types.chat import ChatCompletionMessageParam

from course_helpers.client import LLMClient
from course_helpers.fake import FakeProvider
from course_helpers.fake.core import FakeCall
from course_helpers.ratelimit import RateLimiter
from course_helpers.seed.clocked import ClockedRateLimiter
from course_helpers.tokens import estimate_tokens

PERIOD = 1.0  # seconds: the provider's "minute", shortened so a run spans many periods
MODEL = "gpt-4o-mini"
KEY = "sk-bench-0000"
ID_HEADER = "x-bench-id"
LARGE = 2_000  # prompt tokens: only the 2,000-word prompts reach this
WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "seven"]
WORDS += ["wizards", "quietly", "box"]


@dataclass(frozen=True)
class Limits:
    """The provider's limits per period, and which of them the workload hits first."""

    name: str
    rpm: int
    tpm: int

    def cost(self, call: FakeCall) -> int:
        """What one admitted call used of the binding limit."""
        return 1 if self.name == "requests" else charge_of(call)

    def most(self, seconds: float) -> float:
        """A full bucket at the start, then the refill over the run."""
        limit = self.rpm if self.name == "requests" else self.tpm
        return limit + limit * seconds / PERIOD


# Tokens bind: ~450 tokens per request, so ~18 requests per period of the 60 allowed.
TOKENS_BIND = Limits("tokens", rpm=60, tpm=8_000)
# Requests bind: 20 requests per period use ~9,000 of the 100,000 tokens.
REQUESTS_BIND = Limits("requests", rpm=20, tpm=100_000)


@dataclass(frozen=True)
class Item:
    messages: list[ChatCompletionMessageParam]
    max_tokens: int
    charge: int  # what the provider charges on arrival


def workload(seed: int, count: int) -> list[Item]:
    """``count`` reproducible requests, built before the clock starts (estimating costs CPU)."""
    rng = random.Random(seed)
    items = []
    for _ in range(count):
        words = 2_000 if rng.random() < 0.1 else rng.randint(20, 400)
        content = " ".join(rng.choice(WORDS) for _ in range(words))
        messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": content}]
        max_tokens = rng.randint(16, 512)
        items.append(Item(messages, max_tokens, estimate_tokens(messages) + max_tokens))
    return items


def charge_of(call: FakeCall) -> int:
    body = call.body or {}
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens") or 0
    return estimate_tokens(body.get("messages", [])) + int(max_tokens)


@dataclass
class Result:
    """One run as the provider saw it, plus the trip times the workers measured."""

    admitted: float = 0.0  # of the binding limit, before the deadline
    sent: int = 0
    rate_limited: int = 0
    errors: int = 0
    large: int = 0  # 2,000-word prompts admitted: a size-ordered queue serves them last
    trips: list[float] = field(default_factory=list)

    @property
    def trip_spread(self) -> float:
        return max(self.trips) - min(self.trips) if self.trips else 0.0


class Sent:
    """When each request left the limiter, by id; written from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._times: dict[str, float] = {}
        self._count = 0

    def mark(self) -> dict[str, str]:
        with self._lock:
            self._count += 1
            ident = str(self._count)
            self._times[ident] = time.monotonic()
        return {ID_HEADER: ident}

    def trip(self, call: FakeCall) -> float | None:
        ident = {k.lower(): v for k, v in call.headers.items()}.get(ID_HEADER)
        return None if ident is None else call.time - self._times[ident]


def tally(fake: FakeProvider, limits: Limits, start: float, seconds: float, sent: Sent) -> Result:
    result = Result()
    for call in fake.calls:
        if not call.path.endswith("/chat/completions"):
            continue
        result.sent += 1
        if call.status == 200 and call.time - start < seconds:
            result.admitted += limits.cost(call)
            result.large += estimate_tokens((call.body or {}).get("messages", [])) >= LARGE
            trip = sent.trip(call)
            if trip is not None:
                result.trips.append(trip)
        elif call.status == 429:
            result.rate_limited += 1
        elif call.status != 200:
            result.errors += 1
    return result


def retry_after(exc: openai.RateLimitError) -> float:
    try:
        return min(1.0, float(exc.response.headers.get("retry-after", "0.1")))
    except ValueError:
        return 0.1


def run_threads(
    limits: Limits, acquire: Callable[[Item], None], seconds: float, workers: int = 8
) -> Result:
    # More requests than a run can send.
    plans = [workload(index, int(4 * seconds)) for index in range(workers)]
    sent = Sent()
    with FakeProvider(rpm=limits.rpm, tpm=limits.tpm, period=PERIOD, seed=1) as fake:
        client = openai.OpenAI(api_key=KEY, max_retries=0)
        start = time.monotonic()

        def worker(index: int) -> None:
            for item in plans[index]:
                acquire(item)
                headers = sent.mark()
                if time.monotonic() - start >= seconds:
                    return
                try:
                    client.chat.completions.create(
                        model=MODEL,
                        messages=item.messages,
                        max_tokens=item.max_tokens,
                        extra_headers=headers,
                    )
                except openai.RateLimitError as exc:
                    time.sleep(retry_after(exc))
                except openai.OpenAIError:
                    pass  # counted at the provider

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(seconds + 60)
        return tally(fake, limits, start, seconds, sent)


def run_tasks(
    limits: Limits,
    make_acquire: Callable[[], Callable[[Item], Awaitable[None]]],
    seconds: float,
    tasks: int = 64,
) -> Result:
    plans = [workload(100 + index, max(4, int(2 * seconds))) for index in range(tasks)]
    sent = Sent()
    start = 0.0

    async def main() -> None:
        nonlocal start
        acquire = make_acquire()  # inside the loop: aiolimiter binds to the running loop
        client = openai.AsyncOpenAI(api_key=KEY, max_retries=0)
        start = time.monotonic()

        async def worker(index: int) -> None:
            for item in plans[index]:
                await acquire(item)
                headers = sent.mark()
                if time.monotonic() - start >= seconds:
                    return
                try:
                    await client.chat.completions.create(
                        model=MODEL,
                        messages=item.messages,
                        max_tokens=item.max_tokens,
                        extra_headers=headers,
                    )
                except openai.RateLimitError as exc:
                    await asyncio.sleep(retry_after(exc))
                except openai.OpenAIError:
                    pass

        running = [asyncio.create_task(worker(i)) for i in range(tasks)]
        # At the deadline, stop the tasks still queued for capacity rather than drain the queue.
        _, late = await asyncio.wait(running, timeout=seconds + 0.5)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    with FakeProvider(rpm=limits.rpm, tpm=limits.tpm, period=PERIOD, seed=1) as fake:
        asyncio.run(main())
        return tally(fake, limits, start, seconds, sent)


def ours(limits: Limits, driver: str, seconds: float, headroom: float | None = None) -> Result:
    """The course's limiter, given only the limits (and ``headroom=0``, for the comparison)."""
    if driver == "threads":
        limiter = RateLimiter(limits.rpm, limits.tpm, period=PERIOD, headroom=headroom)
        return run_threads(limits, lambda item: limiter.acquire(item.charge), seconds)

    def make() -> Callable[[Item], Awaitable[None]]:
        limiter = RateLimiter(limits.rpm, limits.tpm, period=PERIOD, headroom=headroom)
        return lambda item: limiter.acquire_async(item.charge)

    return run_tasks(limits, make, seconds)


def llm_client(limits: Limits, seconds: float, workers: int = 8) -> Result:
    """``LLMClient(limiter=RateLimiter(rpm, tpm, period=1))``: retries on, 429s counted upstream."""
    plans = [workload(index, int(4 * seconds)) for index in range(workers)]
    with FakeProvider(rpm=limits.rpm, tpm=limits.tpm, period=PERIOD, seed=1) as fake:
        client = LLMClient(
            model=MODEL,
            openai_client=openai.OpenAI(api_key=KEY),
            limiter=RateLimiter(limits.rpm, limits.tpm, period=PERIOD),
        )
        start = time.monotonic()

        def worker(index: int) -> None:
            for item in plans[index]:
                if time.monotonic() - start >= seconds:
                    return
                with contextlib.suppress(Exception):  # counted at the provider
                    client.complete(item.messages, max_tokens=item.max_tokens)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(seconds + 60)
        return tally(fake, limits, start, seconds, Sent())


def module_threads(limits: Limits, seconds: float) -> Result:
    limiter = ClockedRateLimiter(limits.rpm, period=PERIOD)  # the module's code, minute = PERIOD
    return run_threads(limits, lambda item: limiter.wait_if_needed(), seconds)


def aiolimiter_tasks(limits: Limits, seconds: float) -> Result:
    def make() -> Callable[[Item], Awaitable[None]]:
        requests, tokens = AsyncLimiter(limits.rpm, PERIOD), AsyncLimiter(limits.tpm, PERIOD)

        async def acquire(item: Item) -> None:
            await requests.acquire()
            await tokens.acquire(item.charge)

        return acquire

    return run_tasks(limits, make, seconds)


HEADER = (
    f"{'limiter':<26} {'workers':<9} {'binds':<9} {'runs':>4} {'429s per run':<14} "
    f"{'utilisation median (worst)':<27} {'large':>5} {'trip spread':>11}  target"
)


def report(name: str, workers: str, limits: Limits, results: list[Result], seconds: float) -> None:
    shares = [result.admitted / limits.most(seconds) for result in results]
    refused = [result.rate_limited for result in results]
    passed = min(shares) >= 0.95 and not any(refused) and not any(r.errors for r in results)
    spread = max(result.trip_spread for result in results)
    spread_text = f"{spread * 1000:.0f} ms" if any(r.trips for r in results) else "-"
    print(
        f"{name:<26} {workers:<9} {limits.name:<9} {len(results):>4} "
        f"{' '.join(map(str, refused)):<14} "
        f"{f'{statistics.median(shares):.1%} ({min(shares):.1%})':<27} "
        f"{statistics.median(r.large for r in results):>5g} {spread_text:>11}  "
        f"{'PASS' if passed else 'FAIL'}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12.0, help="length of each run")
    parser.add_argument("--runs", type=int, default=3, help="runs per RateLimiter row")
    args = parser.parse_args()
    seconds, runs = args.seconds, args.runs
    default = RateLimiter(1, period=PERIOD).headroom
    print(
        f"Period {PERIOD:g} s, {seconds:g} s per run. Tokens bind: {TOKENS_BIND.rpm} requests and "
        f"{TOKENS_BIND.tpm:,} tokens per period; requests bind: {REQUESTS_BIND.rpm} requests and "
        f"{REQUESTS_BIND.tpm:,} tokens. Default headroom at this period: {default:g} s.\n"
    )
    print(HEADER)
    print("-" * len(HEADER))
    for name, headroom in (("RateLimiter (defaults)", None), ("  headroom=0", 0.0)):
        for driver, workers in (("threads", "8 threads"), ("tasks", "64 tasks")):
            for limits in (TOKENS_BIND, REQUESTS_BIND):
                results = [ours(limits, driver, seconds, headroom) for _ in range(runs)]
                report(name, workers, limits, results, seconds)
    comparisons: list[tuple[str, str, Callable[[Limits, float], Result]]] = [
        ("LLMClient + RateLimiter", "8 threads", llm_client),
        ("module RateLimiter (rpm)", "8 threads", module_threads),
        (f"aiolimiter {version('aiolimiter')}", "64 tasks", aiolimiter_tasks),
    ]
    for name, workers, run in comparisons:
        report(name, workers, TOKENS_BIND, [run(TOKENS_BIND, seconds)], seconds)
    print(
        "\nTarget: >= 95 % of the binding limit in every run, with zero 429s. 'large' is the "
        "median number of 2,000-word prompts admitted (one request in ten asks for one). "
        "'trip spread' is "
        "the slowest minus the fastest time from acquire() returning to the provider charging "
        "the request, over the runs: the provider charges on arrival, so a client bucket that "
        "models it exactly gets ahead of it by the refill of that spread. The default headroom "
        "keeps that much refill in reserve; it costs part of the first burst only."
    )


if __name__ == "__main__":
    main()
