"""Generate the learners' exercise notebooks from the solutions.

``solutions/exNN_*.ipynb`` are the source. Inside their code cells, each answer sits between a
``### BEGIN SOLUTION`` line and a ``### END SOLUTION`` line; in ``exercises/exNN_*.ipynb`` that
region becomes one ``raise NotImplementedError("Your code here")`` at the same indentation (the
``def`` line and docstring above it stay), and every output is cleared. Usage::

    python tools/make_exercises.py           # write exercises/
    python tools/make_exercises.py --check   # exit 1 if exercises/ is not what the solutions give
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = 'raise NotImplementedError("Your code here")'
_NAME = re.compile(r"^(ex\d\d_\w+)\.ipynb$")


class SolutionMarkerError(ValueError):
    """A solution region is not closed, not opened, or nested."""


def stub_source(source: str, *, where: str = "cell") -> str:
    """``source`` with each solution region replaced by a ``NotImplementedError`` stub."""
    lines: list[str] = []
    inside = False
    for number, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise SolutionMarkerError(f"{where}, line {number}: {BEGIN} inside another region")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            lines.append(f"{indent}{STUB}")
        elif marker == END:
            if not inside:
                raise SolutionMarkerError(f"{where}, line {number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            lines.append(line)
    if inside:
        raise SolutionMarkerError(f"{where}: {BEGIN} is never closed by {END}")
    return "\n".join(lines)


def exercise_of(solution: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The learner's notebook for one solution notebook: stubs in, outputs out."""
    notebook = copy.deepcopy(solution)
    regions = 0
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        regions += cell.source.count(BEGIN)
        cell.source = stub_source(cell.source, where=f"{name}, cell {index}")
        cell.outputs = []
        cell.execution_count = None
    if regions == 0:
        raise SolutionMarkerError(f"{name} has no {BEGIN} region: nothing for the learner to do")
    notebook.metadata["course"] = {"exercise": name}
    return notebook


def expected() -> dict[str, str]:
    """File name -> the text each exercise notebook should have."""
    texts = {}
    for path in sorted(SOLUTIONS.glob("ex*.ipynb")):
        match = _NAME.match(path.name)
        if match is None:
            continue
        solution = nbformat.read(path, as_version=4)
        texts[path.name] = nbformat.writes(exercise_of(solution, match.group(1))) + "\n"
    return texts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="only check exercises/ is current")
    args = parser.parse_args(argv)
    wanted = expected()
    present = {path.name for path in EXERCISES.glob("ex*.ipynb")}
    if args.check:
        problems = [
            f"exercises/{name} is stale" if name in present else f"exercises/{name} is missing"
            for name, text in wanted.items()
            if name not in present or (EXERCISES / name).read_text(encoding="utf-8") != text
        ]
        problems += [f"exercises/{name} has no solution" for name in sorted(present - set(wanted))]
        for problem in problems:
            print(f"{problem}: run python tools/make_exercises.py")
        return 1 if problems else 0
    EXERCISES.mkdir(exist_ok=True)
    for name, text in wanted.items():
        (EXERCISES / name).write_text(text, encoding="utf-8")
        print(f"wrote exercises/{name}")
    for name in sorted(present - set(wanted)):
        (EXERCISES / name).unlink()
        print(f"removed exercises/{name} (no solution)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
