"""How long ``check()`` takes for each exercise on its solution (issue 10: at most 5 s each).

The solution's code cells (``sources/solutions``, minus ``setup()`` and ``check(...)`` calls) are
run in this process, as ``tests/test_checks.py`` does, then ``check(exercise, target)`` is timed
``--runs`` times and the median, min and max printed. Importing the SDKs (which ``check()`` does
once, before its first clock starts) is timed apart and not in any exercise's figure. The run is
offline: no key is read and nothing leaves the machine. ``--no-watch`` turns off the reference
delegation watch, to measure what it costs.

    python benchmarks/checks_speed.py [--runs 5] [--no-watch] [ex05_rate_limiter ...]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import os
import statistics
import sys
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 5.0

for name in [n for n in os.environ if n.startswith(("OPENAI_", "ANTHROPIC_", "COURSE_"))]:
    del os.environ[name]
os.environ.update(COURSE_MODE="offline", COURSE_DOTENV="none", COURSE_FAKE_LATENCY="0")
sys.path.insert(0, str(ROOT / "tools"))

from build_notebooks import parse  # noqa: E402

from course_helpers.checks import EXERCISES, check, runner  # noqa: E402
from course_helpers.checks._support import prepare_clients  # noqa: E402

_SKIPPED_CALLS = {"check", "setup"}


def _skipped(node: ast.stmt) -> bool:
    value = node.value if isinstance(node, ast.Expr | ast.Assign) else None
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id in _SKIPPED_CALLS
    )


def solution_target(exercise_id: str) -> Any:
    """The object the solution notebook defines for ``exercise_id``'s checks."""
    source = (ROOT / "sources" / "solutions" / f"{exercise_id}.py").read_text(encoding="utf-8")
    module = types.ModuleType(f"notebook_{exercise_id}")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    for cell in parse(source):
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        tree.body = [node for node in tree.body if not _skipped(node)]
        exec(compile(tree, f"{exercise_id}.py", "exec"), module.__dict__)
    return module.__dict__[EXERCISES[exercise_id].target]


@contextlib.contextmanager
def _no_watch(exercise_id: str, candidate: object) -> Iterator[None]:
    yield None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exercises", nargs="*", default=list(EXERCISES))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-watch", action="store_true", help="turn the delegation watch off")
    args = parser.parse_args()
    if args.no_watch:
        runner.watching = _no_watch  # type: ignore[assignment]

    started = time.perf_counter()
    prepare_clients()
    print(
        f"SDK import and client set-up (once, not counted below): "
        f"{time.perf_counter() - started:.2f} s"
    )
    print(f"{'exercise':<24} {'median':>8} {'min':>8} {'max':>8}  checks  verdict")
    over: list[str] = []
    for exercise_id in args.exercises:
        target = solution_target(exercise_id)
        times: list[float] = []
        passed = True
        for _ in range(args.runs):
            begin = time.perf_counter()
            result = check(exercise_id, target)
            times.append(time.perf_counter() - begin)
            passed = passed and result.passed
        median = statistics.median(times)
        verdict = "ok" if median <= TARGET_SECONDS else f"over {TARGET_SECONDS:g} s"
        if median > TARGET_SECONDS:
            over.append(exercise_id)
        print(
            f"{exercise_id:<24} {median:>7.2f}s {min(times):>7.2f}s {max(times):>7.2f}s "
            f"{result.score:>3}/{result.total:<3} {verdict}{'' if passed else ' (FAILED a check)'}"
        )
    print("over the target: " + (", ".join(over) if over else "none"))
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
