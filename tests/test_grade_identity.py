"""Who a learner is and which exercise a notebook is: one rule, and every doubt reported.

No kernel runs here: identity is settled before anything is executed, and a notebook whose
identity is in doubt is reported once and counted in no score.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import nbformat
import pytest

from course_helpers.grade import main
from course_helpers.grading.report import identity_rows, summary, table
from course_helpers.grading.submissions import exercise_note, exercises_for, find_submissions

KNOWN = ["ex01_first_calls", "ex04_retry", "ex08_rpm_vs_tpm"]


def _notebook(path: Path, exercise: Any = None) -> Path:
    notebook = nbformat.v4.new_notebook()
    if exercise is not None:
        notebook.metadata["course"] = {"exercise": exercise}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def _by_label(found: list[Any]) -> dict[str, Any]:
    return {item.label: item for item in found}


def test_a_learner_is_the_folder_below_the_class_folder(tmp_path: Path) -> None:
    _notebook(tmp_path / "class" / "alice" / "ex01_first_calls.ipynb")
    _notebook(tmp_path / "class" / "bob" / "week2" / "ex04.ipynb")
    _notebook(tmp_path / "class" / "alice" / ".ipynb_checkpoints" / "ex01-checkpoint.ipynb")
    found = find_submissions([tmp_path / "class"])
    assert [(s.learner, s.label, s.problem) for s in found] == [
        ("alice", "alice/ex01_first_calls.ipynb", None),
        ("bob", "bob/week2/ex04.ipynb", None),
    ]


def test_a_notebook_given_as_a_file_belongs_to_the_folder_holding_it(tmp_path: Path) -> None:
    path = _notebook(tmp_path / "elsewhere" / "dave" / "ex02_stream_collector.ipynb")
    [found] = find_submissions([path])
    assert (found.learner, found.problem) == ("dave", None)


def test_a_folder_and_a_loose_notebook_of_the_same_name_are_not_merged(tmp_path: Path) -> None:
    _notebook(tmp_path / "class" / "dup" / "ex04_retry.ipynb")
    _notebook(tmp_path / "class" / "dup.ipynb")
    found = _by_label(find_submissions([tmp_path / "class"]))
    assert found["dup/ex04_retry.ipynb"].learner == "dup"
    assert found["dup/ex04_retry.ipynb"].problem is None
    loose = found["dup.ipynb"]
    assert (loose.learner, loose.status) == ("", "no_learner")
    assert "in no learner's folder" in (loose.problem or "")


def test_learner_folders_given_as_arguments_are_never_merged(tmp_path: Path) -> None:
    # The old grader named both notebooks after their file stem: one learner "ex04_retry".
    _notebook(tmp_path / "class" / "alice" / "ex04_retry.ipynb")
    _notebook(tmp_path / "class" / "bob" / "ex04_retry.ipynb")
    found = find_submissions([tmp_path / "class" / "alice", tmp_path / "class" / "bob"])
    assert [item.status for item in found] == ["no_learner", "no_learner"]
    assert len({item.learner for item in found if not item.problem}) == 0


def test_two_folders_with_one_learners_name_collide(tmp_path: Path) -> None:
    _notebook(tmp_path / "sectionA" / "alice" / "ex04_retry.ipynb")
    _notebook(tmp_path / "sectionB" / "Alice" / "ex01_first_calls.ipynb")
    _notebook(tmp_path / "sectionB" / "bob" / "ex01_first_calls.ipynb")
    found = _by_label(find_submissions([tmp_path / "sectionA", tmp_path / "sectionB"]))
    assert found["alice/ex04_retry.ipynb"].status == "learner_collision"
    assert found["Alice/ex01_first_calls.ipynb"].status == "learner_collision"
    assert "2 different folders" in (found["alice/ex04_retry.ipynb"].problem or "")
    assert found["bob/ex01_first_calls.ipynb"].problem is None


def test_the_same_notebook_reached_twice_is_one_notebook(tmp_path: Path) -> None:
    path = _notebook(tmp_path / "class" / "alice" / "ex04_retry.ipynb")
    found = find_submissions([tmp_path / "class", path])
    assert [(item.learner, item.problem) for item in found] == [("alice", None)]


def test_two_notebooks_for_one_exercise_are_duplicates(tmp_path: Path) -> None:
    _notebook(tmp_path / "class" / "alice" / "ex04_retry.ipynb")
    _notebook(tmp_path / "class" / "alice" / "old" / "Copy of ex04_retry.ipynb")
    _notebook(tmp_path / "class" / "alice" / "ex01_first_calls.ipynb")
    _notebook(tmp_path / "class" / "alice" / "notes.ipynb", exercise="ex04_retry")
    _notebook(tmp_path / "class" / "bob" / "ex04_retry.ipynb")
    found = _by_label(find_submissions([tmp_path / "class"]))
    duplicates = [
        "alice/ex04_retry.ipynb",
        "alice/old/Copy of ex04_retry.ipynb",
        "alice/notes.ipynb",
    ]
    assert {label: found[label].status for label in duplicates} == dict.fromkeys(
        duplicates, "duplicate"
    )
    assert "alice has 3 notebooks for" in (found["alice/notes.ipynb"].problem or "")
    assert found["alice/ex01_first_calls.ipynb"].problem is None
    assert found["bob/ex04_retry.ipynb"].problem is None


def test_with_exercise_given_every_notebook_of_a_learner_is_that_exercise(tmp_path: Path) -> None:
    _notebook(tmp_path / "class" / "alice" / "a.ipynb")
    _notebook(tmp_path / "class" / "alice" / "b.ipynb")
    found = find_submissions([tmp_path / "class"], ["ex04_retry"])
    assert [item.status for item in found] == ["duplicate", "duplicate"]


def test_the_exercise_comes_from_the_file_name() -> None:
    ex08 = {"course": {"exercise": "ex08_rpm_vs_tpm"}}
    assert exercises_for(ex08, Path("ex04_retry.ipynb"), KNOWN) == ["ex04_retry"]
    thrice = {"course": {"exercise": ["ex08_rpm_vs_tpm"] * 3}}
    assert exercises_for(thrice, Path("ex04_retry.ipynb"), KNOWN) == ["ex04_retry"]
    assert exercises_for(thrice, Path("homework.ipynb"), KNOWN) == ["ex08_rpm_vs_tpm"]
    both = {"course": {"exercise": ["ex01_first_calls", "ex04_retry"]}}
    assert exercises_for(both, Path("homework.ipynb"), KNOWN) == []
    assert exercises_for({}, Path("Copy of EX04 (2).ipynb"), KNOWN) == ["ex04_retry"]
    assert exercises_for({}, Path("ex010.ipynb"), KNOWN) == []
    assert exercises_for(ex08, Path("x.ipynb"), KNOWN, ["ex01_first_calls"] * 2) == [
        "ex01_first_calls"
    ]


def test_metadata_that_disagrees_with_the_file_name_is_reported(tmp_path: Path) -> None:
    ex08 = {"course": {"exercise": ["ex08_rpm_vs_tpm"] * 3}}
    note = exercise_note(ex08, Path("ex04_retry.ipynb"))
    assert "ex08_rpm_vs_tpm" in note and "ex04" in note and "file name" in note
    assert exercise_note({"course": {"exercise": "ex04_retry"}}, Path("ex04_retry.ipynb")) == ""
    assert exercise_note({}, Path("ex04_retry.ipynb")) == ""
    both = {"course": {"exercise": ["ex01_first_calls", "ex04_retry"]}}
    assert "2 exercises" in exercise_note(both, Path("homework.ipynb"))
    _notebook(tmp_path / "class" / "alice" / "ex04_retry.ipynb", exercise="ex08_rpm_vs_tpm")
    [found] = find_submissions([tmp_path / "class"])
    assert found.problem is None and "ex08_rpm_vs_tpm" in found.note


def test_identity_rows_count_in_no_score(tmp_path: Path) -> None:
    _notebook(tmp_path / "class" / "alice" / "ex04_retry.ipynb")
    _notebook(tmp_path / "class" / "alice" / "ex04_retry (1).ipynb")
    _notebook(tmp_path / "class" / "loose.ipynb")
    rows = identity_rows(find_submissions([tmp_path / "class"]))
    assert [row.status for row in rows] == ["duplicate", "duplicate", "no_learner"]
    data = summary(rows, seconds=0.0, settings={})
    assert data["learners"] == {} and data["exercises"] == {}
    assert data["reasons"] == {"duplicate": 2, "no_learner": 1}
    assert [item["notebook"] for item in data["not_graded"]] == [
        "alice/ex04_retry (1).ipynb",
        "alice/ex04_retry.ipynb",
        "loose.ipynb",
    ]
    lines = table(rows).splitlines()[1:]
    assert all(" - " in line for line in lines)


def test_the_grader_reports_identity_problems_without_running_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _notebook(tmp_path / "class" / "dup" / "ex04_retry.ipynb")
    _notebook(tmp_path / "class" / "dup" / "ex04_retry copy.ipynb")
    _notebook(tmp_path / "class" / "dup.ipynb")
    out, summary_path = tmp_path / "report.csv", tmp_path / "summary.json"
    code = main(
        [str(tmp_path / "class"), "--out", str(out), "--json", str(summary_path), "--no-sandbox"]
    )
    assert code == 0
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted((row["notebook"], row["status"]) for row in rows) == [
        ("dup.ipynb", "no_learner"),
        ("dup/ex04_retry copy.ipynb", "duplicate"),
        ("dup/ex04_retry.ipynb", "duplicate"),
    ]
    assert all(row["passed"] == "false" and row["seconds"] == "0.0" for row in rows)
    data = json.loads(summary_path.read_text(encoding="utf-8"))
    assert data["learners"] == {} and data["complete"] is True
    captured = capsys.readouterr()
    assert "not graded: dup.ipynb" in captured.err


def test_a_notebook_nobody_can_parse_does_not_stop_the_others(tmp_path: Path) -> None:
    _notebook(tmp_path / "class" / "alice" / "ex04_retry.ipynb")
    deep = tmp_path / "class" / "mallory" / "ex04_retry.ipynb"
    deep.parent.mkdir(parents=True)
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")  # json.load recurses
    found = find_submissions([tmp_path / "class"])
    assert [(item.learner, item.problem) for item in found] == [("alice", None), ("mallory", None)]
