"""Every exercise of the module, by id: an explicit list, one module per exercise."""

from __future__ import annotations

from course_helpers.checks import (
    ex01_first_calls,
    ex02_stream_collector,
    ex03_classify_errors,
    ex04_retry,
    ex05_rate_limiter,
    ex06_token_budget,
    ex07_multi_provider,
    ex08_rpm_vs_tpm,
)
from course_helpers.checks.base import Check, Exercise

__all__ = ["EXERCISES", "Check", "Exercise"]

EXERCISES: dict[str, Exercise] = {
    module.EXERCISE.id: module.EXERCISE
    for module in (
        ex01_first_calls,
        ex02_stream_collector,
        ex03_classify_errors,
        ex04_retry,
        ex05_rate_limiter,
        ex06_token_budget,
        ex07_multi_provider,
        ex08_rpm_vs_tpm,
    )
}
"""Exercise id -> its definition, in course order."""
