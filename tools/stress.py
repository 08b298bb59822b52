"""Run the test suite again and again under a parallel CPU load, to find flaky tests.

A test that depends on timing passes on an idle laptop and fails on a loaded CI machine. This
script makes the machine loaded on purpose: it starts ``--load`` processes that spin on the CPU
(by default one per core, so the tests get about half the machine), then runs ``make TARGETS``
``--runs`` times in a row and stops at the first failure, keeping every run's output. Usage::

    python tools/stress.py                         # 10 runs of `make unit notebooks`, 1 hog/core
    python tools/stress.py --runs 3 --load 4       # heavier load, fewer runs
    python tools/stress.py --targets unit --keep-going

Exit status 0 only when every run passed. Logs go to ``--logs`` (default ``.stress/``), one file
per run; the summary gives each run's outcome and duration, and the median.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def spin() -> None:
    """Keep one core busy until killed."""
    count = 0
    while True:
        count += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="how many runs (default: 10)")
    parser.add_argument(
        "--load",
        type=int,
        default=os.cpu_count() or 2,
        help="CPU-spinning processes beside the tests (default: one per core)",
    )
    parser.add_argument(
        "--targets",
        nargs="+",
        default=["unit", "notebooks"],
        help="make targets to run each time (default: unit notebooks)",
    )
    parser.add_argument("--logs", type=Path, default=ROOT / ".stress", help="where logs go")
    parser.add_argument(
        "--keep-going", action="store_true", help="run every run even after a failure"
    )
    args = parser.parse_args(argv)
    if args.runs < 1 or args.load < 0:
        parser.error("--runs must be at least 1 and --load at least 0")
    args.logs.mkdir(parents=True, exist_ok=True)

    hogs = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.load)]
    for hog in hogs:
        hog.start()
    print(
        f"{args.runs} runs of `make {' '.join(args.targets)}` beside {args.load} CPU hog(s) "
        f"on {os.cpu_count()} core(s); logs in {args.logs}",
        flush=True,
    )
    results: list[tuple[int, bool, float]] = []
    try:
        for run in range(1, args.runs + 1):
            log = args.logs / f"run-{run:02d}.log"
            started = time.monotonic()
            with log.open("w", encoding="utf-8") as out:
                done = subprocess.run(
                    ["make", *args.targets], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
                )
            seconds = time.monotonic() - started
            passed = done.returncode == 0
            results.append((run, passed, seconds))
            print(f"run {run:2d}: {'green' if passed else 'FAILED'} in {seconds:.0f} s", flush=True)
            if not passed:
                tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-25:]
                print("\n".join(f"    {line}" for line in tail), flush=True)
                if not args.keep_going:
                    break
    finally:
        for hog in hogs:
            hog.kill()
        for hog in hogs:
            hog.join(5)
    green = sum(passed for _, passed, _ in results)
    median = statistics.median(seconds for _, _, seconds in results)
    print(f"{green} of {len(results)} runs green; median {median:.0f} s per run")
    return 0 if green == len(results) == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
