"""``python -m course_helpers.grade SUBMISSIONS...``: grade a class's exercise notebooks.

Each notebook runs top to bottom in a fresh ``python3`` kernel, offline (the simulated provider
answers; API keys are removed from its environment), in a temporary copy of its folder, with
its stored outputs cleared. A grading cell appended after the learner's cells loads the checks
from a private copy of the package made before any notebook ran, and grades the names the
notebook defines. Writes a CSV (one row per learner × exercise × check), a JSON summary, and
prints a short table. Exit code 0 whatever the grades (unless ``--fail-under``), 2 on bad
arguments.

Learner ids: a learner is a folder. ``class/alice/ex04_retry.ipynb`` (or ``class/alice/week2/
ex04_retry.ipynb``) is ``alice``'s when ``class`` is given; a notebook given as a file belongs to
the folder holding it. A notebook loose in the class folder, two folders with one learner's name,
and two notebooks of one learner for one exercise are reported (``no_learner``,
``learner_collision``, ``duplicate``) and graded for no one. The exercise comes from
``--exercise``, else the ``exNN`` in the file name, else a metadata naming exactly one exercise;
metadata disagreeing with the file name is reported in the ``note`` column.

    python -m course_helpers.grade submissions/ --out report.csv --json summary.json -j 2

Threat model: no learner can read, change or stop another learner's notebook, kernel or grade,
nor the grader or its report, since each kernel runs in its own sandbox (its own files, the
checks read-only, no network, its own unprivileged PID namespace, memory and CPU limits) and only
the grader writes the report, at the end. A determined learner can still forge their own grade,
since their code shares a process with the checks: the forgeries the grader knows (a result its
checks did not sign, rewritten cells, hooks, patched publishing, checks patched and put back)
are marked ``tampered``, but a full mark is no proof.

``--no-sandbox`` drops the first guarantee: use it only for notebooks you trust.

Each sandboxed kernel is forked, inside the sandbox bwrap built, from a fork server that imported
the SDKs once (``grading/zygote.py``); ``--no-fork-server`` makes every kernel import them itself.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from course_helpers.grading.batch import (
    Settings,
    available_cpus,
    exercises_in,
    grade,
    load_registry,
)
from course_helpers.grading.execute import Limits
from course_helpers.grading.pristine import PristinePackage
from course_helpers.grading.report import (
    Row,
    delegation_lines,
    identity_rows,
    summary,
    table,
    write_csv,
    write_json,
)
from course_helpers.grading.sandbox import ResourceLimits, SandboxUnavailable, sandbox_problem
from course_helpers.grading.submissions import Submission, find_submissions

__all__ = ["build_parser", "main"]


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be a fraction between 0 and 1, got {text}")
    return value


_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


def _size(text: str) -> int:
    """``2G``, ``512M``, ``100K`` or bytes; 0 means no limit."""
    number, unit = text.strip().upper().rstrip("IB") or "0", ""
    if number[-1:] in _UNITS:
        number, unit = number[:-1], number[-1]
    try:
        value = int(float(number) * _UNITS[unit])
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a size like 2G, 512M or a number of bytes, got {text}"
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def _seconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be whole seconds, got {text}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m course_helpers.grade",
        description=(
            "Run learners' exercise notebooks in fresh offline kernels and grade them with the "
            "course's checks. SUBMISSIONS are .ipynb files or folders (searched recursively; "
            "in a folder of per-learner folders, the folder name is the learner id)."
        ),
        epilog="Example: python -m course_helpers.grade submissions/ --out report.csv -j 2",
    )
    parser.add_argument("submissions", nargs="+", metavar="SUBMISSIONS")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("grade-report.csv"),
        help="the CSV report, one row per learner, exercise and check (default: %(default)s)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=Path("grade-summary.json"),
        help="the JSON summary: scores, pass rates, statuses (default: %(default)s)",
    )
    parser.add_argument(
        "-j",
        "--workers",
        type=int,
        default=2,
        help="notebooks run at once, at most the number of CPUs (default: %(default)s)",
    )
    parser.add_argument(
        "--cell-timeout",
        type=_positive,
        default=30.0,
        help="seconds per learner cell before it is interrupted (default: %(default)s)",
    )
    parser.add_argument(
        "--notebook-timeout",
        type=_positive,
        default=180.0,
        help="seconds per notebook before its kernel is killed (default: %(default)s)",
    )
    parser.add_argument(
        "--exercise",
        action="append",
        default=[],
        metavar="ID",
        help="grade every notebook on this exercise (repeatable); default: the notebook's "
        'metadata["course"]["exercise"], else the exNN in its file name',
    )
    parser.add_argument(
        "--output-cap",
        type=int,
        default=1_000_000,
        metavar="CHARS",
        help="learner output kept per notebook; beyond it the status is output_too_large "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--fail-under",
        type=_fraction,
        metavar="SCORE",
        help="exit 1 if any learner's score (passed/total, 0-1) is below SCORE (for CI)",
    )
    defaults = ResourceLimits()
    parser.add_argument(
        "--memory",
        type=_size,
        default=defaults.memory,
        metavar="SIZE",
        help="address space per kernel, like 2G or 512M; 0 for none (default: 2G)",
    )
    parser.add_argument(
        "--cpu-time",
        type=_seconds,
        default=defaults.cpu_seconds,
        metavar="SECONDS",
        help="CPU seconds per kernel process; 0 for none (default: %(default)s)",
    )
    parser.add_argument(
        "--file-size",
        type=_size,
        default=defaults.file_size,
        metavar="SIZE",
        help="largest file a notebook may write, like 256M; 0 for none (default: 256M)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=defaults.processes,
        metavar="N",
        help="processes and threads per kernel (a fork bomb stops there); 0 for none "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run kernels without bubblewrap, as your user: only for notebooks you trust "
        "(a notebook could then read, change or stop anything you can)",
    )
    parser.add_argument(
        "--no-fork-server",
        action="store_true",
        help="start every kernel from scratch, importing the SDKs itself (slower; the same "
        "sandbox): for comparing, or if the fork server misbehaves here",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    return parser


def _progress(total: int, quiet: bool) -> Callable[[Submission, list[Row]], None]:
    """A progress line on stderr as each notebook finishes."""
    done = [0]

    def report(submission: Submission, rows: list[Row]) -> None:
        done[0] += 1
        if quiet or not rows:
            return
        passed = sum(row.passed for row in rows)
        print(
            f"[{done[0]}/{total}] {submission.label}: {passed}/{len(rows)} "
            f"{rows[0].status} ({rows[0].seconds:.1f} s)",
            file=sys.stderr,
            flush=True,
        )

    return report


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM stops the grader like Ctrl+C: its kernels are killed on the way out."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        submissions = find_submissions(args.submissions, tuple(args.exercise))
    except (FileNotFoundError, ValueError) as exc:
        parser.error(str(exc))
    if not submissions:
        parser.error("no notebooks found in " + ", ".join(args.submissions))
    if args.workers < 1:
        parser.error("-j/--workers must be at least 1")
    if not args.no_sandbox:
        problem = sandbox_problem()
        if problem is not None:
            parser.error(
                f"refusing to run untrusted notebooks unsandboxed: {problem} "
                "(or pass --no-sandbox for notebooks you trust)"
            )

    settings = Settings(
        limits=Limits(
            cell_timeout=args.cell_timeout,
            notebook_timeout=args.notebook_timeout,
            output_cap=args.output_cap,
            resources=ResourceLimits(
                args.memory, args.cpu_time, args.file_size, max(0, args.processes)
            ),
        ),
        workers=min(args.workers, available_cpus()),
        exercises=tuple(args.exercise),
        sandbox=not args.no_sandbox,
        fork_server=not args.no_fork_server,
    )
    refused = [item for item in submissions if item.problem]  # identity in doubt: not run
    submissions = [item for item in submissions if not item.problem]
    # The snapshot comes first: nothing a notebook does can reach it.
    pristine = PristinePackage.snapshot(settings.checks_module.partition(".")[0])
    registry = load_registry(settings.checks_module)
    unknown = [item for item in settings.exercises if item not in registry.check_names]
    if unknown:
        parser.error(
            f"unknown exercise {', '.join(unknown)}; the exercises are "
            + ", ".join(sorted(registry.check_names))
        )
    graded = exercises_in(submissions, settings, registry)  # only these can be slow here
    budgets = {item: registry.budget([item], args.cell_timeout) for item in graded}
    slowest = max(budgets, key=budgets.__getitem__, default=None)
    if slowest is not None and budgets[slowest] > args.notebook_timeout:
        print(
            f"warning: the checks of {slowest} may take up to {budgets[slowest]:g} s in all, "
            f"longer than --notebook-timeout {args.notebook_timeout:g}: an answer that hangs in "
            "every check would be reported as timeout(notebook)",
            file=sys.stderr,
        )

    started = time.monotonic()
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None
    finished: list[Row] = []
    progress = _progress(len(submissions), args.quiet)

    def on_done(submission: Submission, rows: list[Row]) -> None:
        finished.extend(rows)
        progress(submission, rows)

    try:
        rows = grade(submissions, settings, registry=registry, pristine=pristine, on_done=on_done)
    except KeyboardInterrupt:
        partial = [*finished, *identity_rows(refused)]
        if partial:  # what was graded is kept, marked incomplete, never half-written
            write_csv(partial, args.out)
            data = summary(partial, seconds=time.monotonic() - started, settings={})
            write_json({**data, "complete": False}, args.json)
        print(
            "interrupted: every kernel the grader started was stopped"
            + (f"; the {len(partial)} rows graded so far are in {args.out}" if partial else ""),
            file=sys.stderr,
        )
        return 130
    except SandboxUnavailable as exc:
        parser.error(f"refusing to run untrusted notebooks unsandboxed: {exc}")
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
    elapsed = time.monotonic() - started

    rows = [*rows, *identity_rows(refused)]
    write_csv(rows, args.out)
    data = summary(
        rows,
        seconds=elapsed,
        settings={
            "workers": settings.workers,
            "cell_timeout": args.cell_timeout,
            "notebook_timeout": args.notebook_timeout,
            "output_cap": args.output_cap,
            "exercise": list(settings.exercises),
            "sandbox": settings.sandbox,
            "memory": args.memory,
            "cpu_time": args.cpu_time,
            "file_size": args.file_size,
            "processes": args.processes,
        },
    )
    write_json({**data, "complete": True}, args.json)
    print(table(rows))
    for row in identity_rows(refused):
        print(f"not graded: {row.notebook}: {row.message}", file=sys.stderr)
    delegated = delegation_lines(rows)
    if delegated:  # not wrong, but not built either: the instructor decides
        print("\nanswers that call the course's reference implementation instead of building it:")
        print("\n".join(f"  {line}" for line in delegated))
    print(
        f"\n{data['notebooks']} notebooks, {len(data['learners'])} learners graded in "
        f"{elapsed:.1f} s with {settings.workers} workers; wrote {args.out} and {args.json}"
    )
    if args.fail_under is not None:
        low = [
            name for name, entry in data["learners"].items() if entry["fraction"] < args.fail_under
        ]
        if low:
            print(f"below --fail-under {args.fail_under:g}: {', '.join(low)}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
