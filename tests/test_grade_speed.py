"""What keeps a graded kernel's work down: each check runs once, and only the SDKs an exercise
uses are imported.

No test here measures time: each asserts the work is not done.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import course_helpers
from course_helpers.checks import EXERCISES, check, grade_namespace

_SOURCE_ROOT = Path(course_helpers.__file__).resolve().parent.parent  # the package under test


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


def test_an_exercise_warms_up_only_the_sdks_its_checks_use() -> None:
    assert EXERCISES["ex05_rate_limiter"].sdks == ("openai",)
    assert EXERCISES["ex08_rpm_vs_tpm"].sdks == ("openai",)
    probe = textwrap.dedent(
        """
        import sys
        from course_helpers.checks._support import prepare_clients
        prepare_clients(("openai",))
        print("anthropic" in sys.modules, "openai" in sys.modules)
        """
    )
    env = {"COURSE_MODE": "offline", "COURSE_DOTENV": "none", "PYTHONPATH": str(_SOURCE_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]
