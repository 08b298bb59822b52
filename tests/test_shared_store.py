"""The Redis store: one limit and one budget shared by processes, on a real redis-server.

A session fixture starts Debian's ``redis-server`` on a free loopback port (password-protected,
its files in a temporary directory) and stops it after; the kill-and-restart tests start one of
their own. Every test uses its own limit or budget name, so tests never see each other's keys.

The limit tests are exact, not timed: ``take()`` returns when each request is due on Redis's
clock, and a provider's token bucket replayed over those due times must accept every one.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from openai import OpenAI
from shared_store_workers import (
    budget_worker,
    limit_worker,
    provider_accepts,
    run_processes,
)

from course_helpers.budget import Reservation, TokenBudget
from course_helpers.client import LLMClient
from course_helpers.errors import BudgetExceededError
from course_helpers.fake import FakeProvider
from course_helpers.ratelimit import RateLimiter
from course_helpers.shared_store import StoreConfigError, StoreUnavailableError
from course_helpers.shared_store.budget import RedisTokenBudget
from course_helpers.shared_store.limiter import RedisRateLimiter
from course_helpers.shared_store.local_server import LocalRedis, redis_server_path, start_redis

PASSWORD = "s3cret-test-pw"

pytestmark = pytest.mark.skipif(
    redis_server_path() is None,
    reason="redis-server is not installed (.ci/run installs it: apt-get install redis-server)",
)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One password-protected redis-server for the session, stopped after the last test."""
    with start_redis(tmp_path_factory.mktemp("redis"), password=PASSWORD) as server:
        yield server.url


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[LocalRedis]:
    """A redis-server of this test's own, to kill and restart."""
    with start_redis(tmp_path / "redis") as server:
        yield server


def fresh_name() -> str:
    return uuid.uuid4().hex[:12]


# -- sharing ---------------------------------------------------------------------------------------


def test_four_processes_share_one_limit(redis_url: str) -> None:
    name = fresh_name()
    results = run_processes(limit_worker, redis_url, name, 4, [0, 0, 0, 0])
    events = [event for result in results for event in result]
    assert len(events) == 120
    assert provider_accepts(events)
    # The workload does not fit at once: without sharing it would be refused.
    assert not provider_accepts([(0.0, tokens) for _, tokens in events])


def test_workers_with_skewed_clocks_still_share_the_limit(redis_url: str) -> None:
    day = 86_400.0
    results = run_processes(limit_worker, redis_url, fresh_name(), 4, [2 * day, -2 * day, 3600, 0])
    events = [event for result in results for event in result]
    assert provider_accepts(events)
    # Every due time is on Redis's clock: within the run, whatever each worker's clock said.
    now = float(redis.Redis.from_url(redis_url).time()[0])
    assert all(now - 120 < due < now + 120 for due, _ in events)


def test_eight_processes_never_overspend_one_budget(redis_url: str) -> None:
    name = fresh_name()
    settled = run_processes(budget_worker, redis_url, name, 8, [0.0] * 8)
    status = TokenBudget(daily_limit=20_000, monthly_limit=25_000, store=redis_url, name=name)
    day = status.status().day
    assert day.tokens_used == sum(settled)  # nothing lost, nothing counted twice
    assert day.tokens_used <= 20_000
    assert day.tokens_reserved == 0


def test_a_budget_worker_with_a_skewed_clock_spends_in_todays_window(redis_url: str) -> None:
    name = fresh_name()
    settled = run_processes(budget_worker, redis_url, name, 2, [2 * 86_400.0, -86_400.0])
    budget = TokenBudget(daily_limit=20_000, monthly_limit=25_000, store=redis_url, name=name)
    assert budget.status().day.tokens_used == sum(settled) > 0


# -- same API ----------------------------------------------------------------------------------


def test_store_picks_the_class_and_the_api_is_the_limiters(redis_url: str) -> None:
    # A 600 s period refills 1.7 tokens a second: the test's own pace cannot change an answer.
    limiter = RateLimiter(60, 1_000, period=600.0, store=redis_url, name=fresh_name())
    assert isinstance(limiter, RedisRateLimiter) and isinstance(limiter, RateLimiter)
    assert type(RateLimiter(60)) is RateLimiter  # the default is unchanged
    assert limiter.available() == (60, 1_000)
    assert limiter.try_acquire(700)
    assert not limiter.try_acquire(400)  # about 300 left
    assert limiter.wait_time(400) > 50
    limiter.reconcile(700, 200)  # a refunding provider: 500 come back
    assert limiter.has_capacity(400)
    limiter.update_from_headers({"x-ratelimit-remaining-tokens": "100"})
    assert limiter.available()[1] == pytest.approx(100, abs=5)  # lowered to the server's count
    with pytest.raises(ValueError, match="can never fit"):
        limiter.acquire(5_000)


def test_acquire_async_from_two_event_loops_first_come_first_served(redis_url: str) -> None:
    # 950 tokens per hour: 9 acquires of 100 fit at once; each later one waits its turn.
    limiter = RateLimiter(1_000, 950, period=3600.0, store=redis_url, name=fresh_name())
    slept: list[float] = []

    async def asleep(seconds: float) -> None:
        slept.append(seconds)

    limiter._async_sleep = asleep  # record the waits instead of waiting

    async def many() -> None:
        await asyncio.gather(*(limiter.acquire_async(tokens=100) for _ in range(10)))

    loops = [threading.Thread(target=asyncio.run, args=(many(),)) for _ in range(2)]
    for thread in loops:
        thread.start()
    for thread in loops:
        thread.join(timeout=30)
    assert len(slept) == 20 - 9
    assert len({round(wait) for wait in slept}) == len(slept)  # ~6 min apart: one turn each


def test_llm_client_takes_a_shared_limiter_and_budget(redis_url: str) -> None:
    name = fresh_name()
    limiter = RateLimiter(100, 100_000, period=3600.0, store=redis_url, name=name)
    budget = TokenBudget(daily_limit=100_000, store=redis_url, name=name)
    with FakeProvider(seed=1):
        client = LLMClient(
            "openai",
            model="gpt-4o-mini",
            openai_client=OpenAI(api_key="sk-test"),
            limiter=limiter,
            budget=budget,
        )
        reply = client.complete("Hello", max_tokens=20)
    assert budget.status().day.tokens_used == reply.total_tokens > 0
    assert limiter.available()[0] == pytest.approx(99, abs=0.5)


# -- bad configuration: one clear message each -------------------------------------------------


def _wrong(url: str, replacement: str) -> str:
    return url.replace(f":{PASSWORD}@", replacement)


BAD = [
    (":not-the-password@", StoreConfigError, "refused the user name or password"),
    ("", StoreConfigError, "requires a password and the URL gives none"),
    ("/99", StoreConfigError, "no such database"),
    ("http://", ValueError, "is not a Redis URL"),
    (":notaport", ValueError, "Cannot use the Redis URL"),
    ("no-such-host.invalid", StoreUnavailableError, "that host name does not resolve"),
    ("closed-port", StoreUnavailableError, "nothing is listening there"),
]


def bad_url(good: str, change: str) -> str:
    if (change.startswith(":") and change.endswith("@")) or change == "":
        return good.replace(f":{PASSWORD}@", change)
    if change == "/99":
        return good.replace("/0", "/99")
    if change == "http://":
        return good.replace("redis://", "http://")
    if change == ":notaport":
        return good.rsplit(":", 1)[0] + ":notaport/0"
    if change == "closed-port":
        with socket.socket() as sock:  # a port nobody listens on (closed again at once)
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        return good.rsplit(":", 1)[0] + f":{port}/0"
    return good.replace("127.0.0.1", change)


@pytest.mark.parametrize(("change", "error", "message"), BAD, ids=[b[2][:20] for b in BAD])
def test_bad_urls_and_passwords_give_one_clear_message(
    redis_url: str, change: str, error: type[Exception], message: str
) -> None:
    url = bad_url(redis_url, change)
    builders: list[Any] = [
        lambda: RateLimiter(60, store=url, on_unavailable="fail"),
        lambda: TokenBudget(daily_limit=10, store=url),  # a budget always fails closed
    ]
    if error is not StoreUnavailableError:  # a configuration error is never hidden by a fallback
        builders.append(lambda: RateLimiter(60, store=url))
    for build in builders:
        with pytest.raises(error) as caught:
            build()
        text = str(caught.value)
        assert text.count(message) == 1, text
        assert "not-the-password" not in text and PASSWORD not in text


def test_an_unreachable_redis_with_the_local_policy_warns_once_and_limits(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = bad_url("redis://127.0.0.1:1/0", "closed-port")
    with caplog.at_level(logging.WARNING, logger="course_helpers.shared_store.limiter"):
        limiter = RateLimiter(60, period=1.0, store=url, name=fresh_name())
        assert limiter.try_acquire() and not limiter.shared
    assert [r.getMessage().count("Cannot reach Redis") for r in caplog.records] == [1]


def test_store_redis_reads_redis_url(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(ValueError, match="REDIS_URL, which is not set"):
        RateLimiter(60, store="redis")
    monkeypatch.setenv("REDIS_URL", redis_url)
    assert isinstance(TokenBudget(daily_limit=5, store="redis"), RedisTokenBudget)


# -- Redis killed and restarted mid-run ----------------------------------------------------------


def test_the_limiter_falls_back_locally_with_one_warning_and_comes_back(
    own_redis: LocalRedis, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = RateLimiter(600, period=1.0, store=own_redis.url, name=fresh_name(), recheck=0.0)
    limiter.acquire()
    assert limiter.shared
    own_redis.kill()
    with caplog.at_level(logging.WARNING, logger="course_helpers.shared_store.limiter"):
        for _ in range(3):
            limiter.acquire()  # no error: limited locally
        assert not limiter.shared
        warnings = [r.getMessage() for r in caplog.records]
        assert len(warnings) == 1 and "Limiting locally" in warnings[0]
        assert own_redis.url in warnings[0]
        own_redis.restart()
        limiter.acquire()
    assert limiter.shared
    assert "is back" in caplog.records[-1].getMessage()


def test_the_fail_policy_raises_while_down_and_reconnects_by_itself(own_redis: LocalRedis) -> None:
    limiter = RateLimiter(
        600, period=1.0, store=own_redis.url, name=fresh_name(), on_unavailable="fail"
    )
    limiter.acquire()
    own_redis.kill()
    with pytest.raises(StoreUnavailableError, match=r"Cannot reach Redis at redis://127\.0\.0\.1"):
        limiter.acquire()
    own_redis.restart()
    limiter.acquire()  # the same limiter object: reconnected without being told


def test_buckets_lost_with_redis_restart_empty_not_full(own_redis: LocalRedis) -> None:
    limiter = RateLimiter(60, 1_000, period=60.0, store=own_redis.url, name=fresh_name())
    limiter.acquire(10)
    redis.Redis.from_url(own_redis.url).flushall()  # what a restart without persistence leaves
    assert not limiter.try_acquire(10)  # the provider's bucket may be empty: so is ours
    assert limiter.wait_time(10) > 0


def test_settled_calls_survive_a_crash_and_never_count_twice(own_redis: LocalRedis) -> None:
    name = fresh_name()
    budget = TokenBudget(daily_limit=10_000, store=own_redis.url, name=name)
    holds = [budget.reserve(100, max_output=100) for _ in range(3)]
    holds[0].settle(150, 0)
    holds[1].settle(120, 0)
    own_redis.kill()  # SIGKILL: the append-only file, synced on each write, is all that survives
    own_redis.restart()
    status = budget.status()
    assert status.day.tokens_used == 270 and status.day.tokens_reserved == 200
    holds[2].settle(90, 0)
    # A settle retried after its reply was lost (here: another process with the same hold id).
    again = Reservation(
        budget, holds[2].id, input_tokens=100, max_output=100, model=None, cost=None
    )
    again.settle(90, 0)
    assert budget.status().day.tokens_used == 360


def test_the_budget_fails_closed_and_a_settle_waits_for_redis(own_redis: LocalRedis) -> None:
    budget = TokenBudget(daily_limit=10_000, store=own_redis.url, name=fresh_name())
    hold = budget.reserve(100)
    own_redis.kill()
    with pytest.raises(StoreUnavailableError, match="Cannot reach Redis"):
        budget.reserve(100)  # nothing is sent unbudgeted
    restarter = threading.Timer(0.5, own_redis.restart)
    restarter.start()
    hold.settle(80, 0)  # retries until Redis is back
    restarter.join(timeout=30)
    assert budget.status().day.tokens_used == 80


def test_fakeredis_runs_the_same_scripts_for_learners_without_redis_server() -> None:
    from course_helpers.shared_store.local_server import start_fake_redis

    with start_fake_redis() as server:
        limiter = RateLimiter(60, 1_000, period=600.0, store=server.url, name=fresh_name())
        assert limiter.try_acquire(700) and not limiter.try_acquire(400)
        budget = TokenBudget(daily_limit=1_000, store=server.url, name=fresh_name())
        with budget.reserve(300, max_output=200) as hold:
            hold.settle(250, 50)
        with pytest.raises(BudgetExceededError, match="Daily budget reached"):
            budget.reserve(800)
        assert budget.status().day.tokens_used == 300


def test_a_dead_workers_hold_expires_on_redis_time_and_a_late_settle_counts(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    budget = TokenBudget(daily_limit=1_000, store=redis_url, name=fresh_name(), reservation_ttl=0.3)
    dead = budget.reserve(900)  # its worker "dies": never settled
    with pytest.raises(BudgetExceededError):
        budget.reserve(900)
    time.sleep(0.35)  # at least the hold's lifetime: only a lower bound on time is relied on
    late = budget.reserve(900)
    late.settle(900, 0)
    with caplog.at_level(logging.WARNING, logger="course_helpers.budget"):
        overspend = dead.settle(300, 0)  # it was alive after all: counted in full, reported
    assert overspend is not None and "outlived its reservation" in str(overspend)
    assert budget.status().day.tokens_used == 1_200


def test_while_redis_is_down_each_worker_limits_itself_to_its_share(own_redis: LocalRedis) -> None:
    name = fresh_name()
    # 8 requests per 10 minutes: nothing refills while the test runs.
    first, second = (RateLimiter(8, period=600.0, store=own_redis.url, name=name) for _ in "ab")
    first.acquire()
    second.acquire()
    first.acquire()  # 5 left, shared by 2 workers
    own_redis.kill()
    granted = sum(first.try_acquire() for _ in range(5))
    assert not first.shared
    assert granted == 2  # its half of the 5 left, not all 5: the other worker has its half
