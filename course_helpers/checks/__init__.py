"""Exercise checks: ``check(exercise_id, candidate)`` shows a pass/fail panel with hints.

>>> from course_helpers.checks import check
>>> check("ex04_retry", retry_call)  # doctest: +SKIP

Each exercise (``registry.EXERCISES``) names the function or class a learner's notebook must
define and a list of adversarial checks, run one by one with a time limit against the simulated
provider, with injected clocks and short periods so a whole exercise takes seconds.
``grade_namespace`` is the instructor grader's entry point; ``answer`` checks the knowledge-check
questions.
"""

from __future__ import annotations

from course_helpers.checks.base import Check, Exercise
from course_helpers.checks.quiz import QUESTIONS, answer
from course_helpers.checks.registry import EXERCISES
from course_helpers.checks.runner import (
    MIME_TYPE,
    CheckOutcome,
    CheckResult,
    check,
    grade_namespace,
)

__all__ = [
    "EXERCISES",
    "MIME_TYPE",
    "QUESTIONS",
    "Check",
    "CheckOutcome",
    "CheckResult",
    "Exercise",
    "answer",
    "check",
    "grade_namespace",
]
