"""Answers to the exercises, one module per exercise: wrong ones its checks must catch, and
right ones, built differently from the solution, that they must pass.

These are the mistakes learners (and tutorials, and the module's own code) actually make, written
without looking at the checks. The solution notebooks show one of them per exercise as the "what
a check looks like" demo (``DEMO``); those are tested from the notebooks themselves.
"""

from __future__ import annotations

from wrong_answers import (
    ex01_first_calls,
    ex02_stream_collector,
    ex03_classify_errors,
    ex04_retry,
    ex05_rate_limiter,
    ex06_token_budget,
    ex07_multi_provider,
    ex08_rpm_vs_tpm,
)
from wrong_answers.kinds import Demo, Right, Wrong

__all__ = ["NOTEBOOK_DEMOS", "RIGHT_ANSWERS", "WRONG_ANSWERS", "Demo", "Right", "Wrong"]

_MODULES = {
    module.__name__.rsplit(".", 1)[1]: module
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
WRONG_ANSWERS: dict[str, list[Wrong]] = {name: module.WRONG for name, module in _MODULES.items()}
RIGHT_ANSWERS: dict[str, list[Right]] = {name: module.RIGHT for name, module in _MODULES.items()}
NOTEBOOK_DEMOS: dict[str, Demo] = {name: module.DEMO for name, module in _MODULES.items()}
