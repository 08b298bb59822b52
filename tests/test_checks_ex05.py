"""The forced interleaving and the lock watch behind ex05's concurrency checks."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from wrong_answers.ex05_rate_limiter import (
    ConditionLimiter,
    LockPerCallLimiter,
    NoLockLimiter,
    SleepyLockLimiter,
    TwoBucketLimiter,
)

from course_helpers.checks._interleave import (
    candidate_files,
    candidate_locks,
    run_interleaved,
    sleeps_holding_a_lock,
)


def _admitted(limiter_class: type) -> int:
    limiter = limiter_class(3, 1_000_000, period=30.0)
    granted: list[int] = []
    run_interleaved(
        [lambda: (limiter.acquire(1), granted.append(1))] * 6,
        candidate_files(limiter_class),
        timeout=0.5,
    )
    return len(granted)


def test_lockstep_exposes_the_race_every_run() -> None:
    for _ in range(5):
        assert _admitted(NoLockLimiter) == 6
        assert _admitted(LockPerCallLimiter) == 6


def test_a_locked_limiter_is_released_from_the_lockstep_and_admits_its_limit() -> None:
    assert _admitted(TwoBucketLimiter) == 3


def test_the_trace_function_is_restored() -> None:
    before = sys.gettrace()
    _admitted(NoLockLimiter)
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


def test_a_stuck_thread_does_not_hold_run_interleaved_past_its_timeout() -> None:
    release = threading.Event()
    started = time.monotonic()
    threads = run_interleaved([lambda: release.wait(10)], {__file__}, timeout=0.2)
    assert threads[0].is_alive() and time.monotonic() - started < 5
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
