"""Turn notebook runs into report rows, a CSV, a JSON summary and a short table.

One row per learner × exercise × check. Every row of a notebook carries that notebook's
``status``, the most serious thing that happened to it:

=====================  ==============================================================  ========
status                 meaning                                                         graded?
=====================  ==============================================================  ========
``timeout(notebook)``  the notebook outran ``--notebook-timeout``; its kernel was killed  no
``kernel_died``        the kernel exited (``os._exit``, a crash, out of memory)           no
``tampered``           the grade was forged, or what the checks rely on was modified     no
``duplicate``          the learner has another notebook for the same exercise            no
``no_learner``         the notebook is not inside a learner's folder                     no
``learner_collision``  two different folders are named for the same learner             no
``invalid_notebook``   the file is not a readable notebook                               no
``grader_error``       the grader itself failed on this notebook (a bug: please report)   no
``no_checks``          no exercise could be told, or the grading cell produced nothing    no
``timeout(cell)``      a learner cell outran ``--cell-timeout`` and was interrupted       yes
``output_too_large``   the learner cells printed more than the cap (the rest was dropped) yes
``error:<Name>``       a learner cell raised ``<Name>`` (the first one is named)          yes
``ok``                 every learner cell ran                                              yes
=====================  ==============================================================  ========

When a notebook could not be graded, each of its checks is a failed row whose message says why.
``cell_errors`` lists every learner cell's error name, in order. ``delegates_to`` names the
course's reference implementations (``course_helpers.errors.classify``...) the learner's answer
called instead of building its own, ``;``-separated: it changes no verdict, the instructor decides.
``note`` says what the grader noticed without changing the grade (a notebook's metadata naming
another exercise than its file name), or what it did: a learner cell that ignored its interrupt
until the notebook's time ran out is skipped on a second run, which is the one graded (status
``timeout(cell)``).

The three identity statuses are reported once per notebook and counted in no score: a learner's
work is never merged with another's nor counted twice. Report files are written only by the
grader, each atomically (a temporary file renamed over the old one), and every CSV cell that a
spreadsheet would read as a formula (it starts with ``= + - @``, a tab or a carriage return) is
prefixed with ``'``.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from course_helpers.grading.execute import Execution, Limits
from course_helpers.grading.submissions import Submission

__all__ = [
    "COLUMNS",
    "IDENTITY_STATUSES",
    "Row",
    "csv_cell",
    "delegation_lines",
    "identity_rows",
    "rows_for",
    "status_of",
    "summary",
    "table",
    "write_atomically",
    "write_csv",
    "write_json",
]

COLUMNS = (
    "learner",
    "notebook",
    "exercise",
    "check",
    "passed",
    "message",
    "status",
    "cell_errors",
    "seconds",
    "delegates_to",
    "note",
)
IDENTITY_STATUSES = frozenset({"duplicate", "no_learner", "learner_collision"})
"""Notebooks not graded because who or what they are is in doubt: in no score."""
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Row:
    """One line of the report."""

    learner: str
    notebook: str
    exercise: str
    check: str
    passed: bool
    message: str
    status: str
    cell_errors: str
    seconds: float
    delegates_to: str = ""
    note: str = ""

    def as_csv(self) -> dict[str, str]:
        """The CSV cells, each safe to open in a spreadsheet (see ``csv_cell``)."""
        values = asdict(self)
        values["passed"] = "true" if self.passed else "false"
        values["seconds"] = f"{self.seconds:.1f}"
        return {name: csv_cell(str(values[name])) for name in COLUMNS}


def csv_cell(text: str) -> str:
    """``text`` with a leading ``'`` if a spreadsheet would run it as a formula (OWASP's rule)."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def status_of(run: Execution, exercise_ids: Sequence[str]) -> str:
    """The notebook's status (see the module docstring for the order)."""
    if run.notebook_timed_out:
        return "timeout(notebook)"
    if run.kernel_died:
        return "kernel_died"
    if run.tampered:
        return "tampered"
    if run.problem and run.problem.startswith("not a readable"):
        return "invalid_notebook"
    if run.problem:
        return "grader_error"
    if not exercise_ids or run.payload is None:
        return "no_checks"
    if run.timed_out_cells:
        return "timeout(cell)"
    if run.output_too_large:
        return "output_too_large"
    if run.cell_errors:
        return f"error:{run.cell_errors[0]}"
    return "ok"


def _reason(run: Execution, status: str, limits: Limits) -> str:
    if status in ("timeout(notebook)", "kernel_died") and run.explanation:
        return run.explanation  # which cell, which limit, whose doing (grading/explain.py)
    if status == "timeout(notebook)":
        return (
            f"the notebook ran longer than {limits.notebook_timeout:g} s and was stopped before "
            "its checks ran — look for a loop that never ends, or one that ignores interrupts"
        )
    if status == "kernel_died":
        return (
            "the kernel died before the checks ran (os._exit, exit(), a crash or running out "
            "of memory) — run the notebook with Restart & Run All to see where"
        )
    if status == "tampered":
        return f"not graded: {run.tampered}"
    if run.problem:
        return run.problem
    if run.grading_error:
        return f"the grading cell failed: {run.grading_error}"
    return "the grading cell produced no result"


def rows_for(
    submission: Submission,
    exercise_ids: Sequence[str],
    run: Execution,
    check_names: Mapping[str, Sequence[str]],
    limits: Limits,
) -> list[Row]:
    """The report rows of one notebook run.

    ``check_names`` (exercise id -> its checks' names) fills in failed rows for the checks of a
    notebook that could not be graded.
    """
    status = status_of(run, exercise_ids)
    errors = ";".join(run.cell_errors)
    note = "; ".join(text for text in (submission.note, run.note) if text)

    def row(exercise: str, check: str, passed: bool, message: str, delegates: str = "") -> Row:
        return Row(
            submission.learner,
            submission.label,
            exercise,
            check,
            passed,
            message,
            status,
            errors,
            round(run.seconds, 1),
            delegates,
            note,
        )

    if not exercise_ids:
        return [
            row(
                "",
                "",
                False,
                "could not tell which exercise this notebook is: it has no "
                'metadata["course"]["exercise"] and no exNN in its name — pass --exercise ID',
            )
        ]
    graded = run.payload is not None and status not in {"tampered", "no_checks"}
    exercises = run.payload.get("exercises", {}) if run.payload is not None and graded else {}
    rows: list[Row] = []
    for exercise in exercise_ids:
        outcome = exercises.get(exercise) if isinstance(exercises, dict) else None
        if isinstance(outcome, dict) and outcome.get("checks"):
            delegates = outcome.get("delegates_to") or []
            listed = isinstance(delegates, list)
            delegated = ";".join(str(name) for name in delegates) if listed else ""
            for item in outcome["checks"]:
                rows.append(
                    row(
                        exercise,
                        str(item.get("name", "")),
                        item.get("passed") is True,
                        str(item.get("message", "")),
                        delegated,
                    )
                )
            continue
        if isinstance(outcome, dict) and outcome.get("error"):
            message = str(outcome["error"])
        else:
            message = _reason(run, status, limits)
        names = check_names.get(exercise) or [""]
        rows.extend(row(exercise, name, False, message) for name in names)
    return rows


def identity_rows(submissions: Sequence[Submission]) -> list[Row]:
    """One failed row per notebook refused for its identity (``Submission.problem``)."""
    return [
        Row(
            item.learner,
            item.label,
            item.exercise_key,
            "",
            False,
            item.problem or "",
            item.status,
            "",
            0.0,
            "",
            item.note,
        )
        for item in submissions
    ]


def write_atomically(path: Path, write: Callable[[TextIO], object]) -> None:
    """Write ``path`` through a temporary file renamed over it: whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def write_csv(rows: Sequence[Row], path: Path) -> None:
    def write(handle: TextIO) -> None:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(row.as_csv() for row in rows)

    write_atomically(path, write)


def _notebooks(rows: Sequence[Row]) -> dict[tuple[str, str], list[Row]]:
    grouped: dict[tuple[str, str], list[Row]] = {}
    for row in rows:
        grouped.setdefault((row.learner, row.notebook), []).append(row)
    return grouped


def summary(rows: Sequence[Row], *, seconds: float, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Per learner score/total, per exercise pass rates, and how many notebooks had each status."""
    learners: dict[str, dict[str, Any]] = {}
    reasons: Counter[str] = Counter()
    refused = [row for row in rows if row.status in IDENTITY_STATUSES]
    reasons.update(row.status for row in refused)
    rows = [row for row in rows if row.status not in IDENTITY_STATUSES]
    for (learner, notebook), group in _notebooks(rows).items():
        first = group[0]
        reasons[first.status] += 1
        entry = learners.setdefault(
            learner, {"score": 0, "total": 0, "fraction": 0.0, "notebooks": []}
        )
        score = sum(row.passed for row in group)
        entry["score"] += score
        entry["total"] += len(group)
        entry["notebooks"].append(
            {
                "notebook": notebook,
                "exercises": sorted({row.exercise for row in group if row.exercise}),
                "score": score,
                "total": len(group),
                "status": first.status,
                "cell_errors": [name for name in first.cell_errors.split(";") if name],
                "seconds": first.seconds,
                "delegates_to": _delegates(group),
                "note": first.note,
            }
        )
    for entry in learners.values():
        entry["fraction"] = round(entry["score"] / entry["total"], 4) if entry["total"] else 0.0

    exercises: dict[str, dict[str, Any]] = {}
    for exercise in sorted({row.exercise for row in rows if row.exercise}):
        ex_rows = [row for row in rows if row.exercise == exercise]
        per_notebook = _notebooks(ex_rows)
        checks: dict[str, list[bool]] = {}
        for row in ex_rows:
            checks.setdefault(row.check, []).append(row.passed)
        exercises[exercise] = {
            "notebooks": len(per_notebook),
            "all_passed": sum(all(r.passed for r in group) for group in per_notebook.values()),
            "pass_rate": round(sum(r.passed for r in ex_rows) / len(ex_rows), 4),
            "checks": {name: round(sum(v) / len(v), 4) for name, v in checks.items()},
        }
    return {
        "notebooks": sum(reasons.values()),
        "seconds": round(seconds, 1),
        "settings": dict(settings),
        "learners": dict(sorted(learners.items())),
        "exercises": exercises,
        "reasons": dict(sorted(reasons.items())),
        "not_graded": [
            {
                "learner": row.learner,
                "notebook": row.notebook,
                "status": row.status,
                "message": row.message,
            }
            for row in refused
        ],
    }


def _delegates(rows: Sequence[Row]) -> dict[str, list[str]]:
    """Exercise -> the reference names its answer called (exercises with none are left out)."""
    found: dict[str, list[str]] = {}
    for row in rows:
        if row.delegates_to and row.exercise not in found:
            found[row.exercise] = row.delegates_to.split(";")
    return found


def write_json(data: Mapping[str, Any], path: Path) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    write_atomically(path, lambda handle: handle.write(text))


def delegation_lines(rows: Sequence[Row]) -> list[str]:
    """One line per notebook whose answer called the course's reference code (for the console)."""
    lines = []
    for (learner, notebook), group in _notebooks(rows).items():
        for exercise, names in _delegates(group).items():
            lines.append(f"{learner} ({notebook}) {exercise}: calls {', '.join(names)}")
    return lines


def table(rows: Sequence[Row]) -> str:
    """One line per notebook: learner, exercise(s), score, status, seconds."""
    lines = [("learner", "exercise", "score", "status", "seconds")]
    for (learner, notebook), group in _notebooks(rows).items():
        exercises = ",".join(sorted({row.exercise for row in group if row.exercise})) or "?"
        score = f"{sum(row.passed for row in group)}/{len(group)}"
        if group[0].status in IDENTITY_STATUSES:  # in no score
            learner, score = learner or f"({notebook})", "-"
        lines.append((learner, exercises, score, group[0].status, f"{group[0].seconds:.1f}"))
    widths = [max(len(line[i]) for line in lines) for i in range(5)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )
