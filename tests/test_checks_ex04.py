"""ex04's Timeline: waits are totals between attempts, however many sleep calls make them up."""

from __future__ import annotations

import pytest

from course_helpers.checks.ex04_retry import Timeline


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
