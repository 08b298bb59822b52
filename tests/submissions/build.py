"""Build a class of synthetic submissions for the grader's tests, from the real notebooks.

Every learner starts from ``solutions/ex03_classify_errors.ipynb`` (the answer) or
``exercises/ex03_classify_errors.ipynb`` (the stub) and adds one thing learners really do, so the
submissions follow the notebooks when they change. ``expected.csv`` (next to this file) is the
report the grader must produce for them.

    python tests/submissions/build.py OUT_DIR     # write OUT_DIR/<learner>/... to look at
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat

# The checkout whose solutions/ and exercises/ the submissions start from.
ROOT = Path(os.environ.get("GRADE_SUBMISSIONS_FROM") or Path(__file__).resolve().parents[2])
EXERCISE = "ex03_classify_errors"
TARGET = "decide"
DEF_LINE = "def decide(exc):"
BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"

# carol: the plausible wrong answer: classify by HTTP status, read only `retry-after`.
WRONG_BODY = """\
status = getattr(exc, "status_code", None)
if status in (429, 500, 502, 503, 529):
    header = exc.response.headers.get("retry-after")
    return Decision(True, float(header) if header else None)
return Decision(False, None)
"""

# leo: the answer, except that it spins forever on an error that carries retry-after-ms.
SPIN_ON_RETRY_AFTER_MS = """\
response = getattr(exc, "response", None)
if response is not None and "retry-after-ms" in response.headers:
    while True:
        pass
"""

# ivan: the stub, plus every way to cheat the checks that the grader must defeat.
TAMPERING = f"""\
import sys
from pathlib import Path

import course_helpers.checks as checks_package
from IPython.display import publish_display_data


def check(exercise_id, candidate):  # 1. rebind check
    return "all checks passed"


runner = sys.modules[checks_package.check.__module__]
Outcome = runner.CheckOutcome


def run_check(item, candidate):
    return Outcome(item.name, True)


def grade_namespace(namespace, exercise_ids):
    return {{
        "exercises": {{
            i: {{"checks": [{{"name": "forged", "passed": True, "message": ""}}], "error": None}}
            for i in exercise_ids
        }}
    }}


runner.run_check = run_check  # 2. monkeypatch the checks package
runner.grade_namespace = grade_namespace
checks_package.grade_namespace = grade_namespace
installed = Path(runner.__file__)  # 3. write into the installed package
try:
    installed.write_text(
        installed.read_text()
        + "\\n\\n# TAMPERED\\ndef run_check(item, candidate):\\n"
        + "    return CheckOutcome(item.name, True)\\n"
    )
except OSError:  # the sandbox mounts the package read-only
    pass
forged = grade_namespace({{}}, [{EXERCISE!r}])  # 4. forge the grader's payload
forged["nonce"] = "guessed"
publish_display_data({{"application/vnd.course-helpers.grade+json": forged}})
"""


def _read(folder: str) -> nbformat.NotebookNode:
    path = ROOT / folder / f"{EXERCISE}.ipynb"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: build the exercise notebooks first")
    return nbformat.read(path, as_version=4)


def solution() -> nbformat.NotebookNode:
    return _read("solutions")


def stub() -> nbformat.NotebookNode:
    return _read("exercises")


def _index(notebook: nbformat.NotebookNode, needle: str) -> int:
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and needle in cell.source:
            return index
    raise ValueError(f"no code cell contains {needle!r}")


def _first_code(notebook: nbformat.NotebookNode) -> int:
    return next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")


def _insert(notebook: nbformat.NotebookNode, after: int, source: str) -> nbformat.NotebookNode:
    notebook.cells.insert(after + 1, nbformat.v4.new_code_cell(source))
    return notebook


def _after_setup(source: str) -> Callable[[nbformat.NotebookNode], nbformat.NotebookNode]:
    return lambda notebook: _insert(notebook, _first_code(notebook), source)


def _first(source: str) -> Callable[[nbformat.NotebookNode], nbformat.NotebookNode]:
    return lambda notebook: _insert(notebook, _first_code(notebook) - 1, source)


def _after_answer(source: str) -> Callable[[nbformat.NotebookNode], nbformat.NotebookNode]:
    return lambda notebook: _insert(notebook, _index(notebook, DEF_LINE), source)


def _edit_answer(notebook: nbformat.NotebookNode, body: str, *, keep: bool) -> None:
    """Put ``body`` at the top of ``decide``'s solution region (replacing it unless ``keep``)."""
    cell = notebook.cells[_index(notebook, DEF_LINE)]
    lines = cell.source.splitlines()
    start = next(i for i, line in enumerate(lines) if i > 0 and line.strip() == BEGIN)
    end = next(i for i, line in enumerate(lines) if i > start and line.strip() == END)
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    new = [indent + line if line else line for line in body.splitlines()]
    kept = lines[start + 1 : end] if keep else []
    cell.source = "\n".join([*lines[: start + 1], *new, *kept, *lines[end:]])


def carol(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    _edit_answer(notebook, WRONG_BODY, keep=False)
    return notebook


def frank(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    cell = notebook.cells[_index(notebook, DEF_LINE)]
    cell.source = cell.source.replace(DEF_LINE, DEF_LINE.rstrip(":"), 1)  # a missing colon
    return notebook


def leo(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    _edit_answer(notebook, SPIN_ON_RETRY_AFTER_MS, keep=True)
    # Learners do not always run the check cell; without it only the grader meets the loop.
    last_check = _index(notebook, f'check("{EXERCISE}", {TARGET})')
    del notebook.cells[last_check]
    return notebook


def grace(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    notebook = _after_answer("import numpyy  # a typo, after the answer is defined")(notebook)
    del notebook.metadata["course"]  # graded by the exNN in the file name instead
    return notebook


def _keep(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return notebook


# learner -> (starting notebook, change, file name)
LEARNERS: dict[
    str,
    tuple[
        Callable[[], nbformat.NotebookNode],
        Callable[[nbformat.NotebookNode], nbformat.NotebookNode],
        str,
    ],
] = {
    "alice": (solution, _keep, f"{EXERCISE}.ipynb"),
    "bob": (stub, _keep, f"{EXERCISE}.ipynb"),
    "carol": (solution, carol, f"{EXERCISE}.ipynb"),
    "dave": (solution, _after_setup("while True:\n    pass"), f"{EXERCISE}.ipynb"),
    "erin": (solution, _first("import os\n\nos._exit(0)"), f"{EXERCISE}.ipynb"),
    "frank": (solution, frank, f"{EXERCISE}.ipynb"),
    "grace": (solution, grace, "ex03 my attempt.ipynb"),
    "heidi": (solution, _after_setup('print("x" * 5_000_000)'), "homework.ipynb"),
    "ivan": (stub, _after_answer(TAMPERING), f"{EXERCISE}.ipynb"),
    "judy": (
        solution,
        _after_setup(
            "import signal\n\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
        ),
        f"{EXERCISE}.ipynb",
    ),
    "kim": (
        solution,
        _first("import os\nimport signal\n\nos.kill(os.getpid(), signal.SIGKILL)"),
        f"{EXERCISE}.ipynb",
    ),
    "leo": (solution, leo, f"{EXERCISE}.ipynb"),
}


def build(out: Path) -> list[Path]:
    """Write every learner's folder under ``out``, plus two files the grader cannot run."""
    written = []
    for learner, (start, change, name) in LEARNERS.items():
        path = out / learner / name
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(change(start()), path)
        written.append(path)
    # An editor's autosave, never graded.
    checkpoint = out / "alice" / ".ipynb_checkpoints" / f"{EXERCISE}-checkpoint.ipynb"
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(stub(), checkpoint)
    # mallory: not a notebook at all; nora: no exercise in its metadata or name.
    (out / "mallory").mkdir(exist_ok=True)
    (out / "mallory" / f"{EXERCISE}.ipynb").write_text('{"cells": [', encoding="utf-8")
    notes = stub()
    notes.metadata.pop("course", None)
    (out / "nora").mkdir(exist_ok=True)
    nbformat.write(notes, out / "nora" / "notes.ipynb")
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/submissions/build.py OUT_DIR")
    for item in build(Path(sys.argv[1])):
        print(item)
