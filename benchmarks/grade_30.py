"""How long ``python -m course_helpers.grade`` takes for a class of 30 across all eight exercises.

The class is 30 learner folders (``learner01/ex01_first_calls.ipynb``, ``learner02/
ex02_stream_collector.ipynb``, ...), cycling through the solutions of every exercise, graded as a
real class would be: each notebook in its own bubblewrap sandbox and offline kernel (forked by the
fork server), 2 workers, the default limits. Each run's wall time includes the grader's start-up
(the package snapshot, the checks' import, the fork server's imports and probe). It prints the
median wall time of ``--runs`` runs and the median seconds per notebook; with ``--compare`` it
also grades the same class with ``--no-sandbox`` and prints the sandbox's cost per notebook.

With ``--against=FLAGS`` it grades with those grader flags and without, round by round, so both
see the same machine load (``--against=--no-fork-server``: what the fork server saves). With
``--tree A --tree B`` it grades with the course package of each source tree in turn (``git
archive <commit> | tar -x -C A``), round after round. The target (issue 11): at most 60 s with
``-j 2``.

    python benchmarks/grade_30.py [--copies 30] [-j 2] [--runs 3] [--compare] [--against=FLAGS]
                                  [--tree DIR ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 60.0


def _build(folder: Path, copies: int) -> list[str]:
    solutions = sorted((ROOT / "solutions").glob("ex[0-9][0-9]_*.ipynb"))
    if not solutions:
        sys.exit(f"no solutions in {ROOT / 'solutions'}: build them first")
    for number in range(copies):
        source = solutions[number % len(solutions)]
        learner = folder / f"learner{number + 1:02d}"
        learner.mkdir(parents=True)
        shutil.copy(source, learner / source.name)
    return [path.stem for path in solutions]


def _grade(
    folder: Path, workers: int, extra: list[str], tree: Path | None = None
) -> tuple[float, dict[str, object]]:
    """One grader run; with ``tree``, the course package comes from that source tree."""
    out, summary = folder.parent / "report.csv", folder.parent / "summary.json"
    command = [sys.executable, "-m", "course_helpers.grade", str(folder), "--out", str(out)]
    command += ["--json", str(summary), "-j", str(workers), "-q", *extra]
    env = dict(os.environ)
    if tree is not None:  # from its folder: ``python -m`` puts the working directory first
        env["PYTHONPATH"] = str(tree)
    started = time.monotonic()
    done = subprocess.run(
        command, capture_output=True, text=True, check=False, env=env, cwd=tree or ROOT
    )
    wall = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"the grader failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    data: dict[str, object] = json.loads(summary.read_text(encoding="utf-8"))
    return wall, data


@dataclass(frozen=True)
class _Variant:
    """One way of grading the class: the grader's flags, and the source tree it comes from."""

    name: str
    flags: list[str]
    tree: Path | None = None


def _per_notebook(data: dict[str, object]) -> list[float]:
    learners = data["learners"]
    assert isinstance(learners, dict)
    return [nb["seconds"] for entry in learners.values() for nb in entry["notebooks"]]


def _series(folder: Path, args: argparse.Namespace, extra: list[str]) -> tuple[float, float, str]:
    walls, medians, statuses = [], [], ""
    for _ in range(args.runs):
        wall, data = _grade(folder, args.workers, extra)
        walls.append(wall)
        medians.append(statistics.median(_per_notebook(data)))
        learners = data["learners"]
        assert isinstance(learners, dict)
        perfect = sum(entry["fraction"] == 1.0 for entry in learners.values())
        statuses = f"all checks passed: {perfect}/{len(learners)}; statuses: {data['reasons']}"
    return statistics.median(walls), statistics.median(medians), statuses


def _load() -> str:
    return "load average " + " ".join(f"{value:.1f}" for value in os.getloadavg())


def _interleaved(folder: Path, args: argparse.Namespace, variants: list[_Variant]) -> float:
    """Grade with each variant in turn, ``--runs`` rounds (so all share the machine's load);
    print each one's medians and the ratio of each to the first; the last one's median wall."""
    walls: dict[str, list[float]] = {variant.name: [] for variant in variants}
    per_notebook: dict[str, list[float]] = {variant.name: [] for variant in variants}
    for round_number in range(args.runs):
        for variant in variants:
            wall, data = _grade(folder, args.workers, variant.flags, variant.tree)
            walls[variant.name].append(wall)
            per_notebook[variant.name].append(statistics.median(_per_notebook(data)))
            learners = data["learners"]
            assert isinstance(learners, dict)
            perfect = sum(entry["fraction"] == 1.0 for entry in learners.values())
            print(
                f"round {round_number + 1}, {variant.name}: {wall:.1f} s ({_load()}); "
                f"all checks passed: {perfect}/{len(learners)}",
                flush=True,
            )
    first = statistics.median(walls[variants[0].name])
    for variant in variants:
        median = statistics.median(walls[variant.name])
        print(
            f"{variant.name}: median {median:.1f} s wall, "
            f"{statistics.median(per_notebook[variant.name]):.2f} s per notebook, "
            f"{median / first:.2f}x the first "
            f"(runs: {', '.join(f'{wall:.1f}' for wall in walls[variant.name])})"
        )
    return statistics.median(walls[variants[-1].name])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=30)
    parser.add_argument("-j", "--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3, help="runs to take the median of")
    parser.add_argument(
        "--compare", action="store_true", help="also grade with --no-sandbox, for the overhead"
    )
    parser.add_argument(
        "--against",
        metavar="FLAGS",
        help="also grade with these grader flags, round by round: --against=--no-fork-server",
    )
    parser.add_argument(
        "--tree",
        type=Path,
        action="append",
        default=[],
        help="a source tree whose course_helpers to grade with (repeat: compared run by run)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grade-bench-") as tmp:
        folder = Path(tmp) / "class"
        exercises = _build(folder, args.copies)
        print(f"{args.copies} notebooks across {len(exercises)} exercises, -j {args.workers}")
        if args.tree:
            trees = [_Variant(tree.name, [], tree) for tree in args.tree]
            return 0 if _interleaved(folder, args, trees) <= TARGET else 1
        if args.against:
            variants = [_Variant(args.against, args.against.split()), _Variant("default", [])]
            return 0 if _interleaved(folder, args, variants) <= TARGET else 1
        wall, per_notebook, statuses = _series(folder, args, [])
        print(
            f"{args.copies} notebooks across {len(exercises)} exercises, sandboxed, "
            f"-j {args.workers}: median {wall:.1f} s wall over {args.runs} runs "
            f"(target <= {TARGET:g} s); median {per_notebook:.2f} s per notebook; {_load()}"
        )
        print(statuses)
        if args.compare:
            bare_wall, bare_per_notebook, _ = _series(folder, args, ["--no-sandbox"])
            print(
                f"without the sandbox: median {bare_wall:.1f} s wall, {bare_per_notebook:.2f} s "
                f"per notebook; the sandbox costs {per_notebook - bare_per_notebook:+.2f} s "
                "per notebook"
            )
    return 0 if wall <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
