"""Grade many notebooks in parallel workers: each worker thread drives its own kernel."""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jupyter_client.kernelspec

from course_helpers.grading.execute import (
    Execution,
    Limits,
    kernel_environment,
    kill_all_kernels,
    read_notebook,
    run_notebook,
)
from course_helpers.grading.pristine import PristinePackage
from course_helpers.grading.report import Row, rows_for
from course_helpers.grading.sandbox import require_bwrap
from course_helpers.grading.submissions import Submission, exercises_for
from course_helpers.grading.zygote import Zygote, ZygoteUnavailable, kernel_interpreter_options

__all__ = [
    "Registry",
    "Settings",
    "available_cpus",
    "exercises_in",
    "fork_server",
    "grade",
    "load_registry",
    "ready_server",
]

_DEFAULT_CHECK_TIMEOUT = 5.0
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    """How to grade: limits, workers, an optional exercise override, where the checks live.

    ``sandbox`` runs every kernel in bubblewrap; turn it off only for notebooks you trust.
    ``fork_server`` starts sandboxed kernels from a process that has imported the SDKs once
    (``zygote.py``); off, each kernel imports them itself (slower, same sandbox).
    """

    limits: Limits = field(default_factory=Limits)
    workers: int = 2
    exercises: tuple[str, ...] = ()
    checks_module: str = "course_helpers.checks"
    sandbox: bool = True
    fork_server: bool = True


@dataclass(frozen=True)
class Registry:
    """What the grader needs to know about the exercises: check names and time budgets."""

    check_names: Mapping[str, list[str]]
    check_seconds: Mapping[str, float]

    def budget(self, exercise_ids: Sequence[str], cell_timeout: float) -> float:
        """Seconds the grading cell may take: every check timing out, plus one cell's worth."""
        checks = sum(self.check_seconds.get(item, cell_timeout) for item in exercise_ids)
        return checks + cell_timeout


def load_registry(checks_module: str) -> Registry:
    """Read ``EXERCISES`` from ``checks_module`` (imported in the grader, never in a kernel)."""
    exercises: Mapping[str, Any] = importlib.import_module(checks_module).EXERCISES
    names: dict[str, list[str]] = {}
    seconds: dict[str, float] = {}
    for exercise_id, exercise in exercises.items():
        checks = list(getattr(exercise, "checks", []))
        names[exercise_id] = [str(item.name) for item in checks]
        seconds[exercise_id] = sum(
            float(getattr(item, "timeout", _DEFAULT_CHECK_TIMEOUT)) for item in checks
        )
    return Registry(names, seconds)


def available_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _exercise_ids(
    submission: Submission, notebook: Any, settings: Settings, registry: Registry
) -> list[str]:
    """The exercises ``submission`` is graded on (``notebook``: what ``read_notebook`` gave)."""
    metadata = {} if isinstance(notebook, Execution) else notebook.metadata
    return list(exercises_for(metadata, submission.path, registry.check_names, settings.exercises))


def exercises_in(
    submissions: Sequence[Submission], settings: Settings, registry: Registry
) -> list[str]:
    """Every exercise some submission will be graded on, in the registry's order."""
    found = {
        item
        for submission in submissions
        for item in _exercise_ids(submission, read_notebook(submission.path), settings, registry)
    }
    return [item for item in registry.check_names if item in found]


def _grade_one(
    submission: Submission,
    settings: Settings,
    registry: Registry,
    pristine: PristinePackage,
    base_env: Mapping[str, str] | None,
    zygote: Zygote | None = None,
) -> list[Row]:
    """The rows of one submission; a failure of the grader itself is this notebook's row
    (``grader_error``), so one notebook can never stop the class being graded."""
    try:
        return _run_one(submission, settings, registry, pristine, base_env, zygote)
    except Exception as exc:  # a grader bug: report it on this row, grade the others
        run = Execution(problem=f"the grader failed on this notebook: {type(exc).__name__}: {exc}")
        try:  # the exercise from the file name alone: the notebook may be what failed
            ids = list(exercises_for({}, submission.path, registry.check_names, settings.exercises))
        except Exception:
            ids = []
        return rows_for(submission, ids, run, registry.check_names, settings.limits)


def _run_one(
    submission: Submission,
    settings: Settings,
    registry: Registry,
    pristine: PristinePackage,
    base_env: Mapping[str, str] | None,
    zygote: Zygote | None = None,
) -> list[Row]:
    notebook = read_notebook(submission.path)
    ids = _exercise_ids(submission, notebook, settings, registry)
    if isinstance(notebook, Execution):
        return rows_for(submission, ids, notebook, registry.check_names, settings.limits)
    if not ids:
        return rows_for(submission, ids, Execution(), registry.check_names, settings.limits)
    limits = replace(
        settings.limits, grading_timeout=registry.budget(ids, settings.limits.cell_timeout)
    )
    run = run_notebook(
        notebook,
        submission.path,
        ids,
        pristine,
        checks_module=settings.checks_module,
        limits=limits,
        base_env=base_env,
        sandboxed=settings.sandbox,
        own_folder=submission.folder is not None,  # a learner's folder is theirs alone
        zygote=zygote,
    )
    return rows_for(submission, ids, run, registry.check_names, settings.limits)


def _say_fork_server_off(reason: Exception) -> None:
    _log.warning("grader: %s; each kernel imports the SDKs itself (slower)", reason)


@contextlib.contextmanager
def fork_server(settings: Settings, base_env: Mapping[str, str] | None) -> Iterator[Zygote | None]:
    """The fork server for this run (``zygote.py``): it imports the SDKs while the body runs;
    ``ready_server`` then waits for it. ``None`` when the settings turn it off."""
    if not (settings.sandbox and settings.fork_server):
        yield None
        return
    unused = Path(tempfile.gettempdir()) / "course-grader-no-ipython"  # each kernel sets its own
    env = kernel_environment(os.environ if base_env is None else base_env, unused)
    env.pop("PYTHONPATH", None)  # a kernel's path is its own: the private copy, its folder
    try:
        zygote = Zygote.start(env, interpreter_options=kernel_interpreter_options())
    except (ZygoteUnavailable, jupyter_client.kernelspec.NoSuchKernel) as exc:
        _say_fork_server_off(exc)
        yield None
        return
    try:
        yield zygote
    finally:
        zygote.close()


def ready_server(zygote: Zygote | None) -> Zygote | None:
    """``zygote`` once it has imported and started a probe through a sandbox; ``None`` (and one
    line on the log) when it cannot: kernels then start from scratch, in the same sandbox."""
    if zygote is None:
        return None
    try:
        zygote.ready(require_bwrap())
    except ZygoteUnavailable as exc:
        _say_fork_server_off(exc)
        return None
    return zygote


def grade(
    submissions: Sequence[Submission],
    settings: Settings,
    *,
    registry: Registry | None = None,
    pristine: PristinePackage | None = None,
    on_done: Callable[[Submission, list[Row]], None] | None = None,
    base_env: Mapping[str, str] | None = None,
) -> list[Row]:
    """Grade every submission, ``settings.workers`` at a time; rows in submission order.

    The checks' package is snapshotted before the first notebook runs. On Ctrl+C (or any
    exception) every kernel still running is killed before the exception propagates. With
    ``settings.sandbox``, it raises ``SandboxUnavailable`` before any notebook runs when bwrap
    cannot be used here, and starts the kernels from a fork server unless ``settings`` says not
    to or it cannot work here (then it logs one line why).
    """
    if settings.sandbox:
        require_bwrap()
    with fork_server(settings, base_env) as server:  # it imports while the grader prepares
        if pristine is None:
            pristine = PristinePackage.snapshot(settings.checks_module.partition(".")[0])
        if registry is None:
            registry = load_registry(settings.checks_module)
        zygote = ready_server(server)
        return _grade_all(submissions, settings, registry, pristine, on_done, base_env, zygote)


def _grade_all(
    submissions: Sequence[Submission],
    settings: Settings,
    registry: Registry,
    pristine: PristinePackage,
    on_done: Callable[[Submission, list[Row]], None] | None,
    base_env: Mapping[str, str] | None,
    zygote: Zygote | None,
) -> list[Row]:
    workers = max(1, min(settings.workers, available_cpus(), len(submissions) or 1))
    results: dict[int, list[Row]] = {}
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grade")
    try:
        futures: dict[Future[list[Row]], int] = {
            pool.submit(_grade_one, sub, settings, registry, pristine, base_env, zygote): index
            for index, sub in enumerate(submissions)
        }
        for future in as_completed(futures):
            index = futures[future]
            results[index] = future.result()
            if on_done is not None:
                on_done(submissions[index], results[index])
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        kill_all_kernels()
        raise
    finally:
        pool.shutdown(wait=True)
    return [row for index in range(len(submissions)) for row in results[index]]
