"""Run an exercise's checks with a time limit each, and show the outcome as a panel.

``check("ex04_retry", retry_call)`` is what a learner runs; ``grade_namespace`` is what the
instructor's grader runs in the learner's kernel after the notebook has executed.
"""

from __future__ import annotations

import html
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from course_helpers.checks._support import prepare_clients, stop_simulations
from course_helpers.checks.base import Check, Exercise
from course_helpers.checks.delegation import watching
from course_helpers.checks.marks import FAILED, NOTE, PASSED
from course_helpers.checks.registry import EXERCISES

__all__ = ["MIME_TYPE", "CheckOutcome", "CheckResult", "check", "grade_namespace", "run_check"]

MIME_TYPE = "application/vnd.course-helpers.check+json"
"""The machine-readable form of a ``CheckResult`` in a notebook's outputs."""

_NOT_WRITTEN = "not written yet: the stub still raises NotImplementedError"
_NOT_RUN = "not run: an earlier check took too long (its code may still be running)"
_GRADING_NOTICE = (
    "not run while grading: the grader runs every check once, after the notebook's last cell"
)


@dataclass(frozen=True)
class CheckOutcome:
    """One check's verdict: ``message`` says what was expected and what happened."""

    name: str
    passed: bool
    message: str = ""
    hint: str = ""
    timed_out: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "message": self.message}


@dataclass
class CheckResult:
    """Every check of one exercise, shown as a panel in a notebook."""

    exercise_id: str
    results: list[CheckOutcome] = field(default_factory=list)
    title: str = ""
    error: str | None = None
    delegates_to: list[str] = field(default_factory=list)
    """Reference implementations the candidate called instead of building its own (it still
    passes or fails on the checks alone: the instructor decides what that is worth)."""

    @property
    def passed(self) -> bool:
        """Whether every check passed (and there was at least one)."""
        return bool(self.results) and all(outcome.passed for outcome in self.results)

    @property
    def score(self) -> int:
        return sum(outcome.passed for outcome in self.results)

    @property
    def total(self) -> int:
        return len(self.results)

    def as_dict(self) -> dict[str, Any]:
        """The form the grader reads (``application/vnd.course-helpers.check+json``).

        ``delegates_to`` is there only when the candidate called a reference implementation.
        """
        data = {
            "exercise": self.exercise_id,
            "passed": self.passed,
            "score": self.score,
            "total": self.total,
            "error": self.error,
            "checks": [outcome.as_dict() for outcome in self.results],
        }
        if self.delegates_to:
            data["delegates_to"] = list(self.delegates_to)
        return data

    def delegation_notice(self) -> str:
        """One sentence for the panel ("" when the candidate built its own)."""
        if not self.delegates_to:
            return ""
        names = ", ".join(f"`{name}`" for name in self.delegates_to)
        return (
            f"Note: your code calls the course's own {names} instead of building it; "
            "the checks above judged that code, and your instructor will see this note"
        )

    def headline(self) -> str:
        verdict = "all checks passed" if self.passed else f"{self.score}/{self.total} checks passed"
        mark = PASSED if self.passed else FAILED
        return f"{mark} {self.exercise_id}: {verdict}"

    def __str__(self) -> str:
        lines = [self.headline()]
        for outcome in self.results:
            if outcome.passed:
                lines.append(f"  {PASSED} {outcome.name}")
            else:
                hint = f" Hint: {outcome.hint}" if outcome.hint else ""
                lines.append(f"  {FAILED} {outcome.name} — {outcome.message}{hint}")
        if self.delegates_to:
            lines.append(f"  {NOTE} {self.delegation_notice()}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.passed else "#cf222e"
        rows = []
        for outcome in self.results:
            mark = PASSED if outcome.passed else FAILED
            detail = ""
            if not outcome.passed:
                detail = f"<div>{html.escape(outcome.message)}</div>"
                if outcome.hint:
                    detail += f"<div style='color:#57606a'>Hint: {html.escape(outcome.hint)}</div>"
            rows.append(
                "<tr><td style='vertical-align:top;padding:2px 6px'>"
                f"{mark}</td><td style='text-align:left;padding:2px 6px'>"
                f"<b>{html.escape(outcome.name)}</b>{detail}</td></tr>"
            )
        title = f" · {html.escape(self.title)}" if self.title else ""
        notice = ""
        if self.delegates_to:
            notice = (
                f"<div style='color:#9a6700'>{NOTE} {html.escape(self.delegation_notice())}</div>"
            )
        return (
            f"<div style='border:2px solid {colour};border-radius:6px;padding:6px 10px'>"
            f"<div style='font-weight:bold;color:{colour}'>{html.escape(self.headline())}"
            f"{title}</div><table>{''.join(rows)}</table>{notice}</div>"
        )

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> dict[str, Any]:
        return {"text/plain": str(self), "text/html": self._repr_html_(), MIME_TYPE: self.as_dict()}


def _failure_message(exc: BaseException) -> str:
    if isinstance(exc, AssertionError):
        return str(exc) or "an assertion failed"
    if isinstance(exc, NotImplementedError):
        return _NOT_WRITTEN
    text = str(exc)
    return f"your code raised {type(exc).__name__}" + (f": {text}" if text else "")


def run_check(item: Check, candidate: object) -> CheckOutcome:
    """Run one check in a daemon thread, failing it if it takes longer than ``item.timeout``."""
    box: dict[str, BaseException | None] = {}

    def target() -> None:
        try:
            item.fn(candidate)
            box["error"] = None
        except BaseException as exc:  # the learner's code may raise anything, even SystemExit
            box["error"] = exc

    worker = threading.Thread(target=target, name=f"check: {item.name}", daemon=True)
    worker.start()
    worker.join(item.timeout)
    if worker.is_alive():
        if worker.ident is not None:
            stop_simulations(worker.ident)
        return CheckOutcome(
            item.name,
            False,
            f"took longer than {item.timeout:g} s — does it loop forever or sleep too long?",
            item.hint,
            timed_out=True,
        )
    error = box.get("error")
    if error is None:
        return CheckOutcome(item.name, True)
    return CheckOutcome(item.name, False, _failure_message(error), item.hint)


def check(exercise_id: str, candidate: object, *, only: Iterable[str] | None = None) -> CheckResult:
    """Run the checks of ``exercise_id`` against ``candidate`` and return the panel.

    >>> check("ex08_rpm_vs_tpm", binding_limit)   # doctest: +SKIP

    ``only`` restricts the run to the named checks (the default runs them all). In the
    instructor's grader (``COURSE_GRADING=1``) it runs nothing: nobody sees a learner cell's
    panel there, and the grade comes from the grader's own run of every check at the end, so
    running them in the learner's cells too would only double the grading time.
    """
    if os.environ.get("COURSE_GRADING") == "1":
        _exercise(exercise_id)
        return CheckResult(exercise_id, error=_GRADING_NOTICE)
    return _run(exercise_id, candidate, only)


def _exercise(exercise_id: str) -> Exercise:
    exercise = EXERCISES.get(exercise_id)
    if exercise is None:
        known = ", ".join(sorted(EXERCISES))
        raise KeyError(f"unknown exercise {exercise_id!r}: the exercises are {known}")
    return exercise


def _run(exercise_id: str, candidate: object, only: Iterable[str] | None) -> CheckResult:
    exercise = _exercise(exercise_id)
    checks = exercise.checks
    if only is not None:
        checks = [exercise.check_named(name) for name in only]
    if exercise.needs_sdks:
        prepare_clients(exercise.sdks)
    outcomes: list[CheckOutcome] = []
    timed_out = False
    # The watch is on every thread started in the block: each check's, and the candidate's own.
    with watching(exercise_id, candidate) as watch:
        for item in checks:
            if timed_out:  # a stuck check may still hold the CPU: the rest would time out too
                outcomes.append(CheckOutcome(item.name, False, _NOT_RUN, item.hint))
                continue
            outcome = run_check(item, candidate)
            timed_out = outcome.timed_out
            outcomes.append(outcome)
    delegates_to = watch.found if watch is not None else []
    return CheckResult(exercise_id, outcomes, title=exercise.title, delegates_to=delegates_to)


def _missing(exercise_id: str, message: str) -> CheckResult:
    exercise = EXERCISES[exercise_id]
    outcomes = [CheckOutcome(item.name, False, message, item.hint) for item in exercise.checks]
    return CheckResult(exercise_id, outcomes, title=exercise.title, error=message)


def grade_namespace(namespace: Mapping[str, Any], exercise_ids: list[str]) -> dict[str, Any]:
    """Check each exercise's target as the learner's namespace defines it (the grader's view).

    Returns ``{"exercises": {id: {"checks": [{"name", "passed", "message"}], "error": ...}}}``;
    ``error`` says why no check could run (target not defined, unknown exercise), else ``None``;
    ``delegates_to`` (only when not empty) names the reference implementations the target called.
    """
    report: dict[str, Any] = {}
    for exercise_id in exercise_ids:
        exercise = EXERCISES.get(exercise_id)
        if exercise is None:
            report[exercise_id] = {"checks": [], "error": f"unknown exercise {exercise_id!r}"}
            continue
        if exercise.target not in namespace:
            result = _missing(
                exercise_id,
                f"`{exercise.target}` is not defined — did the cell that defines it run "
                "without errors?",
            )
        else:
            result = _run(exercise_id, namespace[exercise.target], None)
        report[exercise_id] = {
            "checks": [outcome.as_dict() for outcome in result.results],
            "error": result.error,
        }
        if result.delegates_to:
            report[exercise_id]["delegates_to"] = list(result.delegates_to)
    return {"exercises": report}
