"""Worker processes for tests/test_shared_store.py: light imports, so each starts in a blink.

They run in processes forked from one forkserver that has imported this module already (the
test module itself imports the SDKs and the simulated provider: seconds per process).
"""

from __future__ import annotations

import multiprocessing
import random
import threading
import time
from typing import Any

from course_helpers.budget import TokenBudget
from course_helpers.errors import BudgetExceededError
from course_helpers.ratelimit import RateLimiter

RPM, TPM, PERIOD = 40, 2_000, 1.0
CONTEXT = multiprocessing.get_context("forkserver")
CONTEXT.set_forkserver_preload([__name__])


def _skew_clock(seconds: float) -> None:
    """Make this process's wall clock wrong by ``seconds``, as a badly set machine's is."""
    if seconds:
        real = time.time
        time.time = lambda: real() + seconds  # type: ignore[assignment]


def limit_worker(url: str, name: str, seed: int, skew: float) -> list[tuple[float, int]]:
    """Take 30 requests of 10-300 tokens from 2 threads; return each one's (due time, tokens)."""
    _skew_clock(skew)
    limiter = RateLimiter(RPM, TPM, period=PERIOD, store=url, name=name)
    events: list[tuple[float, int]] = []
    lock = threading.Lock()

    def run(thread_seed: int) -> None:
        rng = random.Random(thread_seed)
        for _ in range(15):
            tokens = rng.randint(10, 300)
            levels = limiter.take(tokens)  # type: ignore[attr-defined]
            assert levels is not None
            with lock:
                events.append((levels.at + levels.wait, tokens))

    threads = [threading.Thread(target=run, args=(seed * 10 + i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return events


def budget_worker(url: str, name: str, seed: int, skew: float) -> int:
    """Reserve and settle from 2 threads until refused 3 times each; return the tokens settled."""
    _skew_clock(skew)
    budget = TokenBudget(daily_limit=20_000, monthly_limit=25_000, store=url, name=name)
    settled = [0, 0]

    def run(index: int) -> None:
        rng = random.Random(seed * 10 + index)
        refused = 0
        while refused < 3:
            try:
                hold = budget.reserve(rng.randint(50, 400), max_output=200)
            except BudgetExceededError:
                refused += 1
                continue
            used = rng.randint(0, hold.tokens)
            hold.settle(used, 0)
            settled[index] += used

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sum(settled)


def provider_accepts(events: list[tuple[float, int]]) -> bool:
    """Would the provider's buckets (RPM and TPM per PERIOD, full at the start) take them all?"""
    events = sorted(events)
    levels, rates = [float(RPM), float(TPM)], [RPM / PERIOD, TPM / PERIOD]
    last = events[0][0]
    for due, tokens in events:
        for i, amount in enumerate((1, tokens)):
            levels[i] = min((RPM, TPM)[i], levels[i] + (due - last) * rates[i]) - amount
            if levels[i] < -1e-6:
                return False
        last = due
    return True


def run_processes(target: Any, url: str, name: str, count: int, skews: list[float]) -> list[Any]:
    with CONTEXT.Pool(count) as pool:
        jobs = pool.starmap_async(target, [(url, name, i, skews[i]) for i in range(count)])
        return list(jobs.get(timeout=120))
