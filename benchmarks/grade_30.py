"""How long ``python -m course_helpers.grade`` takes for a class: 30 copies of one solution.

Each copy sits in its own learner folder (``learner01/ex03_classify_errors.ipynb``, ...), and the
grader runs them as it would a real class: a fresh offline kernel per notebook, 2 workers, the
default time limits (cell 30 s, notebook 180 s). It prints the wall time of the whole run
(including the grader's start-up: the package snapshot and the checks' import), the median,
min and max per notebook, and whether every copy passed every check. The target (issue 5):
30 notebooks in at most 3 minutes with 2 workers.

    python benchmarks/grade_30.py [--exercise ex03_classify_errors] [--copies 30] [-j 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercise", default="ex03_classify_errors")
    parser.add_argument("--copies", type=int, default=30)
    parser.add_argument("-j", "--workers", type=int, default=2)
    args = parser.parse_args()

    source = ROOT / "solutions" / f"{args.exercise}.ipynb"
    if not source.exists():
        sys.exit(f"{source} is missing: build the solutions first")
    with tempfile.TemporaryDirectory(prefix="grade-bench-") as tmp:
        folder = Path(tmp) / "class"
        for number in range(1, args.copies + 1):
            learner = folder / f"learner{number:02d}"
            learner.mkdir(parents=True)
            shutil.copy(source, learner / source.name)
        out, summary = Path(tmp) / "report.csv", Path(tmp) / "summary.json"
        started = time.monotonic()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "course_helpers.grade",
                str(folder),
                "--out",
                str(out),
                "--json",
                str(summary),
                "-j",
                str(args.workers),
                "-q",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.monotonic() - started
        if done.returncode != 0:
            print(done.stdout, done.stderr, sep="\n")
            return done.returncode
        data = json.loads(summary.read_text(encoding="utf-8"))
    per_notebook = [
        notebook["seconds"]
        for learner in data["learners"].values()
        for notebook in learner["notebooks"]
    ]
    perfect = sum(learner["fraction"] == 1.0 for learner in data["learners"].values())
    print(
        f"{len(per_notebook)} copies of {args.exercise} graded with {data['settings']['workers']} "
        f"workers in {wall:.1f} s wall (target <= 180 s)"
    )
    print(
        f"per notebook: median {statistics.median(per_notebook):.1f} s, "
        f"min {min(per_notebook):.1f} s, max {max(per_notebook):.1f} s"
    )
    print(f"all checks passed: {perfect}/{len(per_notebook)}; statuses: {data['reasons']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
