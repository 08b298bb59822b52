"""ex06's checks: the least-progress schedule behind its race check, and calendar checks whose
verdict does not depend on the machine's time zone."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from test_checks import namespace_of
from wrong_answers.ex06_token_budget import (
    CheckThenSpend,
    DatedLedger,
    Ledger,
    MachineCalendar,
    NoLock,
    UtcCalendar,
)

from course_helpers.checks import check
from course_helpers.checks._interleave import candidate_files
from course_helpers.checks._least_progress import run_least_progress

MIDNIGHT = "the day resets at midnight of now()'s time zone"
RACE = "threads switched after every line never overspend"


def _spent(budget_class: type, threads: int = 4) -> int:
    """How many of ``threads`` spend(50) calls on a daily 100 were recorded."""
    from datetime import datetime

    budget = budget_class(100, 10_000, now=lambda: datetime(2026, 3, 10, 9, 0))
    spent: list[int] = []

    def take() -> None:
        try:
            budget.spend(50)
            spent.append(1)
        except Exception:
            pass

    finished = run_least_progress([take] * threads, candidate_files(budget_class), timeout=10.0)
    assert not any(thread.is_alive() for thread in finished)
    return len(spent)


def test_a_check_then_spend_race_shows_every_run_even_with_a_locked_check() -> None:
    for _ in range(10):
        assert _spent(CheckThenSpend) == 4
        assert _spent(NoLock) == 4


def test_check_and_record_under_one_lock_spends_exactly_what_fits() -> None:
    for budget_class in (Ledger, DatedLedger, namespace_of("ex06_token_budget")["Budget"]):
        for _ in range(5):
            assert _spent(budget_class) == 2


def test_the_hooks_are_restored_and_the_previous_profile_hook_keeps_seeing_calls() -> None:
    seen: list[str] = []

    def watch(frame: Any, event: str, arg: object) -> None:
        if event == "call":
            seen.append(frame.f_code.co_name)

    before_trace = sys.gettrace()
    threading.setprofile(watch)  # as the delegation watch does for the check's threads
    try:
        _spent(Ledger, threads=2)
    finally:
        threading.setprofile(None)  # type: ignore[arg-type]
    assert "spend" in seen and "fits" in seen
    assert sys.gettrace() is before_trace


def test_a_thread_blocked_where_the_schedule_cannot_see_is_stepped_aside() -> None:
    """A read from a pipe waits in C with no event the schedule recognises. When that thread's
    turn comes, patience lets the other one go on, and that one is what unblocks it."""
    read_end, write_end = os.pipe()
    state = {"reading": False}
    seen: list[bool] = []

    def reader() -> None:
        state["reading"] = True
        os.read(read_end, 1)
        state["reading"] = False

    def writer() -> None:
        first = 1
        second = first + 1
        seen.append(state["reading"] and second == 2)
        os.write(write_end, b"x")

    try:
        threads = run_least_progress([reader, writer], {__file__}, timeout=10.0, patience=0.05)
    finally:
        os.close(write_end)
    os.close(read_end)
    assert not any(thread.is_alive() for thread in threads)
    assert seen == [True]


@pytest.fixture(params=["UTC", "America/St_Johns", "Asia/Kathmandu", "Pacific/Kiritimati"])
def machine_zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The grading machine's time zone (TZ), for the whole process while the test runs."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


def test_the_verdicts_do_not_depend_on_the_machines_time_zone(machine_zone: str) -> None:
    assert check("ex06_token_budget", namespace_of("ex06_token_budget")["Budget"]).passed
    for wrong in (UtcCalendar, MachineCalendar):
        result = check("ex06_token_budget", wrong, only=[MIDNIGHT])
        assert not result.passed, f"{wrong.__name__} passed with TZ={machine_zone}"
