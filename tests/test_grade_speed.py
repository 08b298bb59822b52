"""What keeps a graded kernel's work down: each check runs once.

No test here measures time: each asserts the work is not done.
"""

from __future__ import annotations

from typing import Any

import pytest

from course_helpers.checks import EXERCISES, check, grade_namespace


def _recording_budget() -> tuple[type, list[object]]:
    made: list[object] = []

    class Budget:  # ex06's target: every check builds one
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            made.append(self)

    return Budget, made


def test_a_learner_cell_check_runs_nothing_while_grading(monkeypatch: pytest.MonkeyPatch) -> None:
    budget, made = _recording_budget()
    monkeypatch.setenv("COURSE_GRADING", "1")
    result = check("ex06_token_budget", budget)
    assert made == [] and result.results == []
    assert result.error is not None and "grader runs every check" in result.error
    with pytest.raises(KeyError, match="unknown exercise"):
        check("ex99_nothing", budget)
    # The grader's own run, in the same kernel, still runs every check.
    report = grade_namespace({"Budget": budget}, ["ex06_token_budget"])
    checks = report["exercises"]["ex06_token_budget"]["checks"]
    assert made and len(checks) == len(EXERCISES["ex06_token_budget"].checks)


def test_outside_the_grader_a_check_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    budget, made = _recording_budget()
    monkeypatch.delenv("COURSE_GRADING", raising=False)
    result = check("ex06_token_budget", budget)
    assert made and len(result.results) == len(EXERCISES["ex06_token_budget"].checks)
