"""The rate limiter: refill arithmetic, fairness, concurrency, headers; and the seed's defects."""

from __future__ import annotations

import asyncio
import doctest
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from support import ManualClock

from course_helpers import ratelimit
from course_helpers.ratelimit import (
    RateLimiter,
    parse_go_duration,
    parse_rate_limit_headers,
    parse_rfc3339,
)
from course_helpers.seed.clocked import ClockedRateLimiter as SeedRateLimiter  # the module's code


def limiter_with(clock: ManualClock, **limits: int | None) -> RateLimiter:
    """A limiter whose bucket is exactly the provider's (no headroom), so waits are round."""
    return RateLimiter(
        **limits,
        period=60.0,
        headroom=0.0,
        clock=clock,
        sleep=clock.sleep,
        async_sleep=clock.async_sleep,
    )


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll a condition set by another thread (a few ms at most in practice)."""
    deadline = threading.Event()
    for _ in range(int(timeout / 0.001)):
        if condition():
            return
        deadline.wait(0.001)
    raise AssertionError("condition not reached")


def server_accepts(events: list[tuple[float, int]], capacity: float, period: float) -> bool:
    """Would a server's token bucket with the same limit have accepted every (time, amount)?"""
    level, last, rate = capacity, 0.0, capacity / period
    for at, amount in sorted(events):
        level = min(capacity, level + (at - last) * rate)
        last = at
        level -= amount
        if level < -1e-6:
            return False
    return True


# -- arithmetic ----------------------------------------------------------------------------------


def test_buckets_start_full_and_refill_continuously_up_to_the_limit(clock: ManualClock) -> None:
    limiter = limiter_with(clock, requests_per_minute=6, tokens_per_minute=600)
    assert limiter.available() == (6.0, 600.0)
    limiter.acquire(tokens=600)
    assert limiter.available() == (5.0, 0.0)
    clock.now = 2.5  # 600 per 60 s is 10 tokens/s; 6 per 60 s is 0.1 request/s
    assert limiter.available() == (5.25, 25.0)
    clock.now = 1_000.0
    assert limiter.available() == (6.0, 600.0)  # never above the limit


def test_acquire_waits_exactly_the_token_deficit(clock: ManualClock) -> None:
    limiter = limiter_with(clock, tokens_per_minute=600)
    limiter.acquire(tokens=600)
    clock.now = 2.5
    assert limiter.wait_time(tokens=100) == 7.5
    limiter.acquire(tokens=100)
    assert clock.slept == [7.5]
    assert limiter.available() == (None, 0.0)


def test_requests_are_enforced_when_they_bind(clock: ManualClock) -> None:
    limiter = limiter_with(clock, requests_per_minute=2, tokens_per_minute=1_000)
    for _ in range(3):
        limiter.acquire(tokens=1)
    assert clock.slept == [30.0]  # one request per 30 s refills; tokens were plentiful


def test_the_binding_limit_decides_the_wait(clock: ManualClock) -> None:
    limiter = limiter_with(clock, requests_per_minute=60, tokens_per_minute=120)
    limiter.acquire(tokens=120)
    assert limiter.wait_time(tokens=0) == 0.0  # a request is left; zero tokens need none
    assert limiter.wait_time(tokens=30) == 15.0  # tokens bind: 2 per second
    limiter.acquire(tokens=30)
    assert clock.slept == [15.0]


def test_tokens_are_free_when_only_requests_are_limited() -> None:
    limiter = limiter_with(ManualClock(), requests_per_minute=1)
    assert limiter.try_acquire(tokens=10**9)
    assert not limiter.try_acquire(tokens=0)


@pytest.mark.parametrize(
    ("kwargs", "tokens", "message"),
    [
        ({}, None, "needs a limit"),
        ({"tokens_per_minute": 0}, None, "positive"),
        ({"requests_per_minute": 10, "period": 0}, None, "period"),
        ({"tokens_per_minute": 1_000}, 1_001, "can never fit"),
        ({"tokens_per_minute": 1_000}, -1, "zero or more"),
    ],
)
def test_value_errors_say_what_to_do(
    kwargs: dict[str, Any], tokens: int | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        limiter = RateLimiter(**kwargs)
        assert tokens is not None
        limiter.acquire(tokens=tokens)


@pytest.mark.parametrize("method", ["acquire", "try_acquire", "has_capacity", "wait_time"])
def test_too_large_a_request_is_refused_by_every_method(method: str) -> None:
    limiter = RateLimiter(tokens_per_minute=1_000)
    with pytest.raises(ValueError, match=r"1,500 tokens .* 1,000 tokens per 60 s"):
        getattr(limiter, method)(1_500)


def test_wait_time_counts_the_callers_already_queued(clock: ManualClock) -> None:
    gate = threading.Event()

    def gated_sleep(seconds: float) -> None:
        gate.wait(5)
        clock.sleep(seconds)

    limiter = RateLimiter(tokens_per_minute=60, headroom=0.0, clock=clock, sleep=gated_sleep)
    limiter.acquire(tokens=60)
    worker = threading.Thread(target=limiter.acquire, args=(30,))
    worker.start()
    wait_for(lambda: limiter.waiting == 1)
    assert limiter.wait_time(tokens=10) == 40.0  # 30 for the one ahead, then 10 more
    assert not limiter.has_capacity(tokens=0)  # someone is waiting: no jumping the queue
    assert not limiter.try_acquire(tokens=0)
    gate.set()
    worker.join(5)
    assert clock.slept == [30.0]
    assert limiter.has_capacity(tokens=0)


def test_headroom_absorbs_the_trip_to_the_provider() -> None:
    # The provider charges when a request arrives. If that takes longer for some requests than
    # for others, its bucket (full while it waits) falls behind ours by up to rate x delay.
    rng = random.Random(3)
    plan = [(400, 0.05), (400, 0.05)] + [
        (rng.randint(50, 600), rng.uniform(0, 0.05)) for _ in range(60)
    ]
    verdicts = {}
    for headroom in (0.0, 0.05):
        clock = ManualClock()
        limiter = RateLimiter(
            tokens_per_minute=1_000, period=1.0, headroom=headroom, clock=clock, sleep=clock.sleep
        )
        arrivals = []
        for tokens, trip in plan:
            limiter.acquire(tokens)
            arrivals.append((clock.last_read + trip, tokens))
        verdicts[headroom] = server_accepts(arrivals, capacity=1_000, period=1.0)
        if headroom:
            total = sum(tokens for tokens, _ in plan)
            # The reserve costs part of the first burst, never the steady rate.
            assert clock.now == pytest.approx((total - 1_000 + 50) / 1_000.0)
    assert verdicts == {0.0: False, 0.05: True}
    with pytest.raises(ValueError, match="headroom"):
        RateLimiter(tokens_per_minute=10, period=1.0, headroom=1.0)


# -- threads -------------------------------------------------------------------------------------


def test_never_sleeps_while_holding_the_lock(clock: ManualClock) -> None:
    probes: list[bool] = []

    def probing_sleep(seconds: float) -> None:
        got = limiter._lock.acquire(blocking=False)
        if got:
            limiter._lock.release()
        # Another thread can ask questions while this one waits.
        answers: list[object] = []
        other = threading.Thread(
            target=lambda: answers.extend([limiter.has_capacity(5), limiter.wait_time(5)])
        )
        other.start()
        other.join(2)
        probes.append(got and answers == [False, seconds + 5.0])
        clock.sleep(seconds)

    limiter = RateLimiter(tokens_per_minute=60, headroom=0.0, clock=clock, sleep=probing_sleep)
    limiter.acquire(tokens=60)
    limiter.acquire(tokens=30)
    assert clock.slept == [30.0]
    assert probes == [True]


def test_the_seed_sleeps_while_holding_its_lock(clock: ManualClock) -> None:
    lock_free: list[bool] = []

    def probing_sleep(seconds: float) -> None:
        got = seed.lock.acquire(blocking=False)
        if got:
            seed.lock.release()
        lock_free.append(got)
        clock.sleep(seconds)

    seed = SeedRateLimiter(2, clock=clock, sleep=probing_sleep)
    for _ in range(3):
        seed.wait_if_needed()
    assert clock.slept == [60.0]
    assert lock_free == [False]  # the defect: every other thread is blocked for the whole wait


def test_the_seed_knows_nothing_about_tokens() -> None:
    prompts = [20_000, 20_000]  # two long prompts: 40,000 tokens against a 30,000 limit
    seed_clock = ManualClock()
    seed = SeedRateLimiter(100, clock=seed_clock, sleep=seed_clock.sleep)
    for _prompt in prompts:
        seed.wait_if_needed()  # has no way to hear about the prompt's size
    assert seed_clock.slept == []  # both sent at once: the server answers the second with a 429
    clock = ManualClock()
    ours = limiter_with(clock, requests_per_minute=100, tokens_per_minute=30_000)
    for tokens in prompts:
        ours.acquire(tokens)
    assert clock.slept == [20.0]  # waits until 10,000 more tokens have refilled (500 per second)


def test_waiters_are_served_in_arrival_order_across_threads(clock: ManualClock) -> None:
    gate = threading.Event()

    def gated_sleep(seconds: float) -> None:
        clock.sleepers.append(threading.current_thread().name)
        clock.slept.append(seconds)
        gate.wait(5)  # hold the first sleeper until every thread has queued
        clock.now += seconds

    limiter = RateLimiter(tokens_per_minute=60, headroom=0.0, clock=clock, sleep=gated_sleep)
    limiter.acquire(tokens=60)
    threads = [threading.Thread(target=limiter.acquire, args=(60,), name="big")]
    threads += [
        threading.Thread(target=limiter.acquire, args=(10,), name=f"small{i}") for i in range(5)
    ]
    for count, thread in enumerate(threads, start=1):
        thread.start()
        wait_for(lambda count=count: limiter.waiting == count)  # type: ignore[misc]
    gate.set()
    for thread in threads:
        thread.join(5)
    # The big request queued first and is served first; nothing slipped in before it.
    assert clock.sleepers == ["big", "small0", "small1", "small2", "small3", "small4"]
    assert clock.slept == [60.0, 10.0, 10.0, 10.0, 10.0, 10.0]
    assert limiter.waiting == 0


def test_eight_threads_stay_within_the_limit_and_use_all_of_it(clock: ManualClock) -> None:
    limiter = limiter_with(clock, requests_per_minute=10_000, tokens_per_minute=1_000)
    taken: list[tuple[float, int]] = []
    record = threading.Lock()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(12):
            tokens = rng.randint(1, 400)
            limiter.acquire(tokens)
            with record:
                taken.append((clock.last_read, tokens))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(taken) == 96
    assert server_accepts(taken, capacity=1_000, period=60.0)
    total = sum(tokens for _, tokens in taken)
    # No capacity was wasted: the last grant came exactly when the refill covered everything.
    assert max(at for at, _ in taken) == pytest.approx((total - 1_000) / (1_000 / 60.0))


def test_an_exception_while_queued_hands_the_turn_on(clock: ManualClock) -> None:
    calls = 0

    def failing_sleep(seconds: float) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise KeyboardInterrupt  # the head is interrupted while waiting
        clock.sleep(seconds)

    limiter = RateLimiter(tokens_per_minute=60, headroom=0.0, clock=clock, sleep=failing_sleep)
    limiter.acquire(60)
    with pytest.raises(KeyboardInterrupt):
        limiter.acquire(30)
    assert limiter.waiting == 0
    limiter.acquire(30)
    assert clock.slept == [30.0]


# -- asyncio -------------------------------------------------------------------------------------


def test_sixty_four_tasks_stay_within_both_limits_and_use_the_binding_one(
    clock: ManualClock,
) -> None:
    limiter = limiter_with(clock, requests_per_minute=400, tokens_per_minute=2_000)
    taken: list[tuple[float, int]] = []
    rng = random.Random(7)
    plans = [[rng.randint(0, 600) for _ in range(5)] for _ in range(64)]

    async def worker(plan: list[int]) -> None:
        for tokens in plan:
            await limiter.acquire_async(tokens)
            taken.append((clock.now, tokens))

    async def main() -> None:
        await asyncio.gather(*(worker(plan) for plan in plans))

    asyncio.run(main())
    assert len(taken) == 320
    assert server_accepts(taken, capacity=2_000, period=60.0)
    assert server_accepts([(at, 1) for at, _ in taken], capacity=400, period=60.0)
    total = sum(tokens for _, tokens in taken)
    assert max(at for at, _ in taken) == pytest.approx((total - 2_000) / (2_000 / 60.0))


def test_async_requests_limit_alone(clock: ManualClock) -> None:
    limiter = limiter_with(clock, requests_per_minute=10)

    async def main() -> None:
        await asyncio.gather(*(limiter.acquire_async() for _ in range(25)))

    asyncio.run(main())
    assert clock.now == pytest.approx(15 * 6.0)  # 10 at once, then one every 6 s


def test_async_big_request_is_not_starved_by_small_ones(clock: ManualClock) -> None:
    limiter = limiter_with(clock, tokens_per_minute=60)
    order: list[str] = []

    async def take(name: str, tokens: int) -> None:
        await limiter.acquire_async(tokens)
        order.append(name)

    async def main() -> None:
        await limiter.acquire_async(60)
        tasks = [asyncio.create_task(take("big", 60))]
        await asyncio.sleep(0)
        tasks += [asyncio.create_task(take(f"small{i}", 5)) for i in range(4)]
        await asyncio.gather(*tasks)

    asyncio.run(main())
    assert order == ["big", "small0", "small1", "small2", "small3"]
    assert clock.slept == [60.0, 5.0, 5.0, 5.0, 5.0]


def test_a_cancelled_task_leaves_the_queue_and_passes_its_turn(clock: ManualClock) -> None:
    gate = asyncio.Event()

    async def gated_sleep(seconds: float) -> None:
        await gate.wait()
        await clock.async_sleep(seconds)

    limiter = RateLimiter(
        tokens_per_minute=60, headroom=0.0, clock=clock, sleep=clock.sleep, async_sleep=gated_sleep
    )

    async def main() -> list[str]:
        done: list[str] = []

        async def take(name: str, tokens: int) -> None:
            await limiter.acquire_async(tokens)
            done.append(name)

        await limiter.acquire_async(60)
        head = asyncio.create_task(take("head", 60))
        middle = asyncio.create_task(take("middle", 10))
        last = asyncio.create_task(take("last", 10))
        for _ in range(3):
            await asyncio.sleep(0)
        assert limiter.waiting == 3
        middle.cancel()  # leaves from the middle of the queue
        head.cancel()  # leaves from the head: "last" must inherit the turn
        await asyncio.gather(head, middle, return_exceptions=True)
        gate.set()
        await last
        return done

    assert asyncio.run(main()) == ["last"]
    assert clock.slept == [10.0]
    assert limiter.waiting == 0


def test_threads_and_tasks_share_one_limiter_in_arrival_order(clock: ManualClock) -> None:
    gate = threading.Event()

    def gated_sleep(seconds: float) -> None:
        gate.wait(5)
        clock.sleep(seconds)

    limiter = RateLimiter(
        tokens_per_minute=60,
        headroom=0.0,
        clock=clock,
        sleep=gated_sleep,
        async_sleep=clock.async_sleep,
    )
    limiter.acquire(60)
    thread = threading.Thread(target=limiter.acquire, args=(30,), name="thread")
    thread.start()
    wait_for(lambda: limiter.waiting == 1)

    async def main() -> float:
        task = asyncio.create_task(limiter.acquire_async(15))
        await asyncio.sleep(0)
        assert limiter.waiting == 2
        gate.set()  # the thread is served, then wakes the task on this loop from its own thread
        await asyncio.wait_for(task, 5)
        return clock.now

    assert asyncio.run(main()) == 45.0  # 30 s for the thread's 30 tokens, 15 s for the task's
    thread.join(5)
    assert clock.slept == [30.0, 15.0]


# -- feedback from the provider ------------------------------------------------------------------


def test_reconcile_gives_back_an_overestimate_up_to_the_limit() -> None:
    limiter = limiter_with(ManualClock(), tokens_per_minute=1_000)
    limiter.acquire(800)
    limiter.reconcile(800, 300)
    assert limiter.available() == (None, 700.0)
    limiter.reconcile(5_000, 0)
    assert limiter.available() == (None, 1_000.0)  # never above the limit


def test_reconcile_takes_an_underestimate_even_below_zero(clock: ManualClock) -> None:
    limiter = limiter_with(clock, tokens_per_minute=600)
    limiter.acquire(500)
    limiter.reconcile(500, 700)
    assert limiter.available() == (None, -100.0)
    limiter.acquire(100)
    assert clock.slept == [20.0]  # 200 tokens at 10/s
    with pytest.raises(ValueError, match="negative"):
        limiter.reconcile(-1, 0)


def test_openai_headers_lower_the_buckets_but_never_raise_them() -> None:
    limiter = limiter_with(ManualClock(), requests_per_minute=60, tokens_per_minute=10_000)
    parsed = limiter.update_from_headers(
        {
            "X-RateLimit-Limit-Requests": "60",
            "X-RateLimit-Remaining-Requests": "12",
            "X-RateLimit-Reset-Requests": "48s",
            "x-ratelimit-limit-tokens": "10000",
            "x-ratelimit-remaining-tokens": "2500",
            "x-ratelimit-reset-tokens": "4.5s",
        }
    )
    assert limiter.available() == (12.0, 2_500.0)
    assert parsed.requests is not None and parsed.requests.reset_in == 48.0
    assert parsed.tokens is not None
    assert (parsed.tokens.limit, parsed.tokens.remaining) == (10_000, 2_500)
    limiter.update_from_headers({"x-ratelimit-remaining-tokens": "9000"})
    assert limiter.available() == (12.0, 2_500.0)


def test_anthropic_headers_are_parsed_and_followed() -> None:
    now = datetime(2026, 11, 27, 6, 38, 0, tzinfo=UTC)
    headers = {
        "anthropic-ratelimit-requests-limit": "50",
        "anthropic-ratelimit-requests-remaining": "49",
        "anthropic-ratelimit-requests-reset": "2026-11-27T06:38:01Z",
        "anthropic-ratelimit-tokens-limit": "90000",
        "anthropic-ratelimit-tokens-remaining": "3000",
        "anthropic-ratelimit-tokens-reset": "2026-11-27T07:38:12.5+01:00",
        "anthropic-ratelimit-input-tokens-remaining": "70000",
        "anthropic-ratelimit-output-tokens-remaining": "3000",
        "anthropic-ratelimit-output-tokens-reset": "not a time",
    }
    parsed = parse_rate_limit_headers(headers, now=now)
    assert parsed.requests is not None and parsed.requests.reset_in == 1.0
    assert parsed.tokens is not None
    assert (parsed.tokens.limit, parsed.tokens.remaining, parsed.tokens.reset_in) == (
        90_000,
        3_000,
        12.5,
    )
    assert parsed.input_tokens is not None and parsed.input_tokens.remaining == 70_000
    assert parsed.output_tokens is not None and parsed.output_tokens.reset_in is None
    limiter = limiter_with(ManualClock(), requests_per_minute=50, tokens_per_minute=90_000)
    limiter.update_from_headers(headers)
    assert limiter.available() == (49.0, 3_000.0)


def test_headers_without_limits_or_malformed_change_nothing() -> None:
    limiter = limiter_with(ManualClock(), requests_per_minute=5, tokens_per_minute=100)
    parsed = limiter.update_from_headers(
        {"content-type": "application/json", "x-ratelimit-remaining-tokens": "lots"}
    )
    assert parsed.requests is None
    assert parsed.tokens is not None and parsed.tokens.remaining is None
    assert limiter.available() == (5.0, 100.0)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1s", 1.0),
        ("6m0s", 360.0),
        ("2m59.56s", 179.56),
        ("12ms", 0.012),
        ("1h0m0.5s", 3600.5),
        ("1.5h", 5400.0),
        ("250us", 0.00025),
        ("3µs", 0.000003),
        ("40ns", 0.00000004),
        ("0", 0.0),
        ("0s", 0.0),
        (".5s", 0.5),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "1x", "-1s", "1s2", "s", "1m 2s", "1.2.3s"])
def test_invalid_go_durations(text: str) -> None:
    with pytest.raises(ValueError, match="Go duration"):
        parse_go_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-27T06:38:12Z", datetime(2026, 11, 27, 6, 38, 12, tzinfo=UTC)),
        ("2026-11-27t06:38:12z", datetime(2026, 11, 27, 6, 38, 12, tzinfo=UTC)),
        (
            "2026-11-27T06:38:12.123456789Z",
            datetime(2026, 11, 27, 6, 38, 12, 123456, tzinfo=UTC),
        ),
        (
            "2026-11-27T07:38:12.5+01:00",
            datetime(2026, 11, 27, 7, 38, 12, 500000, tzinfo=timezone(timedelta(hours=1))),
        ),
        (
            "2026-11-27 01:08:12-05:30",
            datetime(2026, 11, 27, 1, 8, 12, tzinfo=timezone(-timedelta(hours=5, minutes=30))),
        ),
        ("2026-12-31T23:59:60Z", datetime(2027, 1, 1, tzinfo=UTC)),  # a leap second
    ],
)
def test_rfc3339_timestamps(text: str, expected: datetime) -> None:
    parsed = parse_rfc3339(text)
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "text", ["2026-11-27T06:38:12", "2026-11-27", "yesterday", "2026-13-01T00:00:00Z"]
)
def test_invalid_rfc3339_timestamps(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rfc3339(text)


def test_docstring_examples_run() -> None:
    result = doctest.testmod(ratelimit)
    assert result.attempted >= 8 and result.failed == 0


def test_repr_names_the_limits() -> None:
    assert repr(RateLimiter(tokens_per_minute=5, period=1.0)) == (
        "RateLimiter(requests_per_minute=None, tokens_per_minute=5, period=1.0)"
    )
