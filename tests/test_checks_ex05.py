"""The forced interleaving and the lock watch behind ex05's concurrency checks."""

from __future__ import annotations

import sys
import threading
from typing import Any

import pytest
from wrong_answers.ex05_rate_limiter import (
    ConditionLimiter,
    LockPerCallLimiter,
    NoLockLimiter,
    SleepyLockLimiter,
    TwoBucketLimiter,
)

from course_helpers.checks._idle_capacity import Grant, idle_capacity
from course_helpers.checks._interleave import (
    candidate_files,
    candidate_locks,
    sleeps_holding_a_lock,
)
from course_helpers.checks._least_progress import run_least_progress


def _admitted(limiter_class: type, timeout: float) -> int:
    """How many of 6 threads calling acquire(1) at once a limit of 3 per 30 s let through."""
    limiter = limiter_class(3, 1_000_000, period=30.0)
    granted: list[int] = []
    run_least_progress(
        [lambda: (limiter.acquire(1), granted.append(1))] * 6,
        candidate_files(limiter_class),
        timeout=timeout,
    )
    return len(granted)


def test_forced_interleaving_exposes_the_race_every_run() -> None:
    for _ in range(5):  # all six finish: the generous timeout is never waited for
        assert _admitted(NoLockLimiter, timeout=30) == 6
        assert _admitted(LockPerCallLimiter, timeout=30) == 6


def test_a_locked_limiter_admits_exactly_its_limit() -> None:
    # The three refused wait 10 s for a refill: nothing more comes within the 2 s watched.
    assert _admitted(TwoBucketLimiter, timeout=2) == 3
    assert _admitted(ConditionLimiter, timeout=2) == 3


def test_the_trace_function_is_restored() -> None:
    before = sys.gettrace()
    _admitted(NoLockLimiter, timeout=30)
    assert sys.gettrace() is before


def test_sleeping_holding_the_lock_is_seen_and_waiting_on_a_condition_is_not() -> None:
    sleepy = SleepyLockLimiter(1, 1_000_000, period=0.02)
    with sleeps_holding_a_lock(candidate_locks(sleepy)) as found:
        sleepy.acquire(1)
        sleepy.acquire(1)
    assert found and "time.sleep" in found[0]
    patient = ConditionLimiter(1, 1_000_000, period=0.02)
    assert candidate_locks(patient)  # the condition's lock is found
    with sleeps_holding_a_lock(candidate_locks(patient)) as found:
        patient.acquire(1)
        patient.acquire(1)
    assert found == []


def test_the_profile_hook_is_restored_even_on_failure() -> None:
    def mine(frame: object, event: str, arg: object) -> None:
        return None

    sys.setprofile(mine)
    try:
        try:
            with sleeps_holding_a_lock([threading.Lock()]):
                raise RuntimeError("candidate failed")
        except RuntimeError:
            pass
        assert sys.getprofile() is mine
    finally:
        sys.setprofile(None)


def test_a_stuck_thread_does_not_hold_the_schedule_past_its_timeout() -> None:
    release = threading.Event()
    threads = run_least_progress([lambda: release.wait(60)], {__file__}, timeout=0.2)
    assert threads[0].is_alive()  # returned while the task still waits: it did not wait for it
    release.set()
    threads[0].join(5)


def test_the_hook_it_replaces_still_sees_every_call() -> None:
    """The delegation watch (a profile hook already set) keeps seeing the candidate's calls."""
    seen: list[str] = []

    def watch(frame: Any, event: str, arg: object) -> None:
        if event == "call":
            seen.append(frame.f_code.co_name)

    limiter = TwoBucketLimiter(5, 1_000_000, period=1.0)
    sys.setprofile(watch)
    try:
        with sleeps_holding_a_lock(candidate_locks(limiter)):
            limiter.acquire(1)
        assert sys.getprofile() is watch
    finally:
        sys.setprofile(None)
    assert "acquire" in seen and "refill" in seen


# ----------------------------------------------------------------------------- idle capacity
def _idle(grants: list[tuple[float, float]], *, end: float = 10.0) -> float:
    """Idle seconds for a limit of 2 requests (and plenty of tokens) per 1 s, from time 0."""
    return idle_capacity(
        [Grant(asked, granted) for asked, granted in grants],
        made=0.0,
        end=end,
        limits=(2, 1_000_000),
        per_request=(1, 10),
        period=1.0,
    )


def test_a_limiter_that_grants_the_moment_there_is_room_wastes_nothing() -> None:
    # A full bucket of 2, then one more every 0.5 s as it refills.
    assert _idle([(0.0, 0.0), (0.0, 0.0), (0.0, 0.5), (0.0, 1.0), (0.9, 1.5)]) == pytest.approx(0)


def test_a_grant_later_than_the_refill_is_counted_as_idle() -> None:
    # The third request could go at 0.5 s; it went at 0.8 s: 0.3 s idle.
    assert _idle([(0.0, 0.0), (0.0, 0.0), (0.0, 0.8)]) == pytest.approx(0.3)


def test_time_outside_acquire_and_waits_on_an_empty_bucket_are_not_idle() -> None:
    # Two grants at once, then nobody asks for 3 s (requests in flight), then a prompt grant.
    assert _idle([(0.0, 0.0), (0.0, 0.0), (3.0, 3.0)]) == pytest.approx(0)
    # The bucket never refills past its size: after idling, only 2 go at once, the third waits.
    assert _idle([(5.0, 5.0), (5.0, 5.0), (5.0, 5.5)]) == pytest.approx(0)


def test_a_limiter_that_refills_per_minute_wastes_nearly_the_whole_run() -> None:
    # 2 per 60 s instead of 2 per 1 s: after the first two, one caller waits all run long.
    assert _idle([(0.0, 0.0), (0.0, 0.0), (0.0, 30.0)], end=10.0) == pytest.approx(9.5)


def test_only_the_run_counts() -> None:
    assert _idle([(0.0, 0.0), (0.0, 0.0), (0.0, 30.0)], end=2.0) == pytest.approx(1.5)
    assert _idle([(3.0, 9.0)], end=2.0) == 0
