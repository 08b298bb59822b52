"""ex04's Timeline: waits are totals between attempts, however many sleep calls make them up."""

from __future__ import annotations

import time
from typing import Any

import pytest

from course_helpers.checks import check
from course_helpers.checks.ex04_retry import Timeline
from course_helpers.retry import call_with_retry


def test_waits_are_totals_between_attempts_and_the_last_wait_is_kept_apart() -> None:
    timeline = Timeline()
    timeline.attempt()
    for _ in range(12):
        timeline.sleep(0.1)
    timeline.attempt()
    timeline.sleep(0.5)
    timeline.attempt()
    timeline.sleep(2)
    assert timeline.attempts == 3
    assert timeline.waits == pytest.approx([1.2, 0.5])
    assert timeline.after_last == 2
    assert timeline.calls == 14


def test_sleep_refuses_what_time_sleep_refuses() -> None:
    timeline = Timeline()
    with pytest.raises(ValueError, match="non-negative"):
        timeline.sleep(-1)
    with pytest.raises(TypeError):
        timeline.sleep("1")  # type: ignore[arg-type]


def test_a_real_wait_is_seen_however_short() -> None:
    """The old test timed the gap between attempts (>= 0.1 s): a short jittered time.sleep
    slipped under it. Now any real wait counts, with nothing measured against the clock."""

    def retry_call(fn: Any, *, max_attempts: int = 5, base_delay: float = 1.0, **_: Any) -> Any:
        for attempt in range(max_attempts):
            try:
                return fn()
            except Exception:
                if attempt == max_attempts - 1:
                    raise
                time.sleep(0.001)  # ignores the sleep= it was given
        return None

    result = check("ex04_retry", retry_call, only=["recovers from transient server errors"])
    assert not result.passed
    assert "never called the sleep= it was given" in result.results[0].message


def test_the_delegation_watch_still_sees_the_candidates_calls() -> None:
    def retry_call(fn: Any, *, sleep: Any = time.sleep, **_: Any) -> Any:
        return call_with_retry(fn, sleep=sleep)

    result = check("ex04_retry", retry_call, only=["recovers from transient server errors"])
    assert result.delegates_to == ["course_helpers.retry.call_with_retry"]
