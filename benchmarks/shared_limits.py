"""Many workers, one limit: per-process limiters against one shared on Redis, side by side.

One simulated provider over HTTP (the app ``python -m course_helpers.fake`` serves, run here in
this process so it can count what it admitted) enforces requests and tokens per one-second
period; 4 worker processes × 8 threads send the same mixed workload through the ``openai`` SDK
(``max_retries=0``: a 429 is counted, its ``retry-after`` waited, and the worker moves on).
Two sets of limits, one where tokens bind and one where requests bind. Rows:

- **per-process** ``RateLimiter``: each process believes it owns the whole limit;
- **Redis** ``RateLimiter(store=…)``: one limit shared through a ``redis-server`` this script
  starts on a free loopback port (and stops);
- **limits** (the ``limits`` library) with its Redis moving window, one window for requests
  and one for tokens (``hit(..., cost=tokens)``), polled until both admit the request.

Utilisation is what the provider admitted of the binding limit divided by the most it could
admit in the run (a full bucket at the start plus the refill). Then the median cost of one
``acquire`` (no wait) against Redis and in-process, and 8 processes × 2 threads spending one
``TokenBudget(store=…)`` until it refuses them: the spend never passes the limit.

Run: ``python benchmarks/shared_limits.py [--seconds 10]``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from course_helpers.budget import TokenBudget
from course_helpers.errors import BudgetExceededError
from course_helpers.fake import FakeProvider
from course_helpers.fake.asgi import serve_in_thread
from course_helpers.ratelimit import RateLimiter
from course_helpers.shared_store.local_server import start_redis
from course_helpers.tokens import estimate_tokens

PERIOD = 1.0
PROCESSES, THREADS = 4, 8
MODEL = "gpt-4o-mini"
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
class Limits:
    name: str  # which limit binds
    rpm: int
    tpm: int

    def most(self, seconds: float) -> float:
        limit = self.rpm if self.name == "requests" else self.tpm
        return limit + limit * seconds / PERIOD


TOKENS_BIND = Limits("tokens", rpm=60, tpm=8_000)
REQUESTS_BIND = Limits("requests", rpm=20, tpm=100_000)


def workload(seed: int, count: int) -> list[tuple[list[dict[str, str]], int, int]]:
    """Reproducible (messages, max_tokens, charge); one prompt in ten is 2,000 words."""
    rng = random.Random(seed)
    items = []
    for _ in range(count):
        words = 2_000 if rng.random() < 0.1 else rng.randint(20, 400)
        messages = [{"role": "user", "content": " ".join(rng.choice(WORDS) for _ in range(words))}]
        max_tokens = rng.randint(16, 512)
        items.append((messages, max_tokens, estimate_tokens(messages) + max_tokens))
    return items


# -- one worker process ------------------------------------------------------------------------


def _acquirer(mode: str, limits: Limits, url: str, name: str) -> Any:
    if mode == "per-process":
        local = RateLimiter(limits.rpm, limits.tpm, period=PERIOD)
        return local.acquire
    if mode == "Redis":
        shared = RateLimiter(limits.rpm, limits.tpm, period=PERIOD, store=url, name=name)
        return shared.acquire
    from limits import RateLimitItemPerSecond
    from limits.storage import storage_from_string
    from limits.strategies import MovingWindowRateLimiter

    window = MovingWindowRateLimiter(storage_from_string(url))
    requests = RateLimitItemPerSecond(limits.rpm, 1)
    tokens = RateLimitItemPerSecond(limits.tpm, 1)

    def hit(item: Any, cost: int) -> None:
        while not window.hit(item, name, cost=cost):
            reset = window.get_window_stats(item, name).reset_time
            time.sleep(min(0.05, max(0.002, reset - time.time())))

    def acquire(charge: int) -> None:
        hit(tokens, charge)
        hit(requests, 1)

    return acquire


def worker(
    mode: str,
    limits: Limits,
    url: str,
    name: str,
    base: str,
    index: int,
    start_at: float,
    seconds: float,
) -> int:
    """8 threads sending until ``seconds`` after ``start_at``; returns the 429s they received."""
    import openai

    acquire = _acquirer(mode, limits, url, name)
    client = openai.OpenAI(api_key="sk-bench-0000", base_url=base + "/v1", max_retries=0)
    plans = [workload(index * 100 + t, int(6 * seconds)) for t in range(THREADS)]
    refused = [0]
    lock = threading.Lock()
    time.sleep(max(0.0, start_at - time.time()))
    end = start_at + seconds

    def run(plan: list[tuple[list[dict[str, str]], int, int]]) -> None:
        for messages, max_tokens, charge in plan:
            acquire(charge)
            if time.time() >= end:
                return
            try:
                client.chat.completions.create(
                    model=MODEL,
                    messages=messages,
                    max_tokens=max_tokens,  # type: ignore[arg-type]
                )
            except openai.RateLimitError as exc:
                with lock:
                    refused[0] += 1
                time.sleep(min(1.0, float(exc.response.headers.get("retry-after", "0.1"))))

    threads = [threading.Thread(target=run, args=(plan,)) for plan in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    return refused[0]


def _warm() -> None:
    import openai  # noqa: F401  (paid once per worker process, before any clock starts)


def _ready(barrier: Any) -> None:
    """Returns once every pool process is up: each must take one of these tasks."""
    barrier.wait(timeout=300)


# -- the runs ----------------------------------------------------------------------------------


def run(pool: Any, mode: str, limits: Limits, url: str, seconds: float) -> tuple[float, int, int]:
    """(utilisation of the binding limit, 429s at the provider, requests admitted)."""
    fake = FakeProvider(rpm=limits.rpm, tpm=limits.tpm, period=PERIOD, seed=1)
    name = f"bench-{uuid.uuid4().hex[:8]}"
    with serve_in_thread(fake) as server:
        start_at = time.time() + 1.0
        start = time.monotonic() + (start_at - time.time())
        args = [
            (mode, limits, url, name, server.base_url, i, start_at, seconds)
            for i in range(PROCESSES)
        ]
        pool.starmap_async(worker, args).get(timeout=seconds + 180)
    admitted, refused, count = 0.0, 0, 0
    for call in fake.calls:
        if not call.path.endswith("/chat/completions"):
            continue
        if call.status == 429:
            refused += 1
        elif call.status == 200 and call.time - start < seconds:
            count += 1
            body = call.body or {}
            charge = estimate_tokens(body.get("messages", [])) + int(body.get("max_tokens") or 0)
            admitted += 1 if limits.name == "requests" else charge
    return admitted / limits.most(seconds), refused, count


def acquire_cost(url: str, samples: int = 3_000) -> dict[str, float]:
    """Median microseconds of one acquire that does not wait."""
    big = 10**9
    limiters = {
        "in-process": RateLimiter(big, big, period=PERIOD),
        "Redis": RateLimiter(big, big, period=PERIOD, store=url, name=uuid.uuid4().hex),
    }
    costs = {}
    for label, limiter in limiters.items():
        times = []
        for _ in range(samples):
            begin = time.perf_counter()
            limiter.acquire(100)
            times.append(time.perf_counter() - begin)
        costs[label] = statistics.median(times) * 1e6
    return costs


def budget_worker(url: str, name: str, limit: int, seed: int) -> int:
    budget = TokenBudget(daily_limit=limit, store=url, name=name)
    settled = [0, 0]

    def spend(index: int) -> None:
        rng = random.Random(seed * 10 + index)
        refused = 0
        while refused < 3:
            try:
                hold = budget.reserve(rng.randint(50, 400), max_output=200)
            except BudgetExceededError:
                refused += 1
                continue
            used = rng.randint(hold.tokens // 2, hold.tokens)
            hold.settle(used, 0)
            settled[index] += used

    threads = [threading.Thread(target=spend, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return sum(settled)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each run")
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    with (
        tempfile.TemporaryDirectory() as folder,
        start_redis(Path(folder) / "limits", fsync="everysec") as redis_server,
        start_redis(Path(folder) / "budget", fsync="always") as budget_server,
    ):
        url = redis_server.url
        print(
            f"{PROCESSES} processes x {THREADS} threads, one simulated provider over HTTP, "
            f"{args.seconds:g} s per run, {PERIOD:g} s period; redis-server with appendfsync "
            "everysec for the limits, always for the budget"
        )
        print(f"{'limiter':<14}{'binding':<10}{'use of limit':>14}{'429s':>7}{'admitted':>10}")
        with context.Pool(PROCESSES, initializer=_warm) as pool, context.Manager() as manager:
            barrier = manager.Barrier(PROCESSES)
            pool.map(_ready, [barrier] * PROCESSES, chunksize=1)
            for limits in (TOKENS_BIND, REQUESTS_BIND):
                for mode in ("per-process", "Redis", "limits"):
                    used, refused, count = run(pool, mode, limits, url, args.seconds)
                    print(f"{mode:<14}{limits.name:<10}{used:>13.1%}{refused:>7}{count:>10}")
        costs = acquire_cost(url)
        synced = acquire_cost(budget_server.url, samples=500)["Redis"]
        print(
            "median acquire (no wait): "
            + ", ".join(f"{label} {value:.1f} µs" for label, value in costs.items())
            + f" ({costs['Redis'] / costs['in-process']:.0f}x); Redis with appendfsync always "
            f"{synced:.0f} µs"
        )
        url, limit, name = budget_server.url, 200_000, uuid.uuid4().hex
        with context.Pool(8) as pool:
            spent = pool.starmap(budget_worker, [(url, name, limit, i) for i in range(8)])
        total = TokenBudget(daily_limit=limit, store=url, name=name).status().day.tokens_used
        print(
            f"budget: 8 processes x 2 threads spent {total:,} of {limit:,} tokens "
            f"({total / limit:.1%}); settled by the workers {sum(spent):,}; "
            f"over the limit: {max(0, total - limit):,}"
        )


if __name__ == "__main__":
    main()
