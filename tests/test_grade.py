"""python -m course_helpers.grade: a class of pathological submissions, and the grader's parts.

The class (tests/submissions/build.py) is built from the real ex03 solution and exercise
notebooks and graded once, end to end, by the CLI in a subprocess; expected.csv says what each
learner's rows must be. The other tests exercise the parts that need no kernel.
"""

from __future__ import annotations

import ast
import csv
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import anthropic
import nbformat
import openai
import pytest
from grading_support import clean_env, processes_with

from course_helpers.checks import EXERCISES, check
from course_helpers.grade import main
from course_helpers.grading import execute
from course_helpers.grading.batch import Settings, grade, load_registry
from course_helpers.grading.execute import (
    Execution,
    Limits,
    grading_cell_source,
    kernel_environment,
    kill_all_kernels,
)
from course_helpers.grading.guard import Guard
from course_helpers.grading.pristine import PristinePackage
from course_helpers.grading.report import rows_for, status_of, summary, table
from course_helpers.grading.submissions import Submission, exercises_for, find_submissions

REPO = Path(__file__).resolve().parents[1]
SUBMISSIONS = Path(__file__).resolve().parent / "submissions"
CELL_TIMEOUT = 20  # 10x what an honest cell takes here: a busy machine never reaches it
NOTEBOOK_TIMEOUT = 60


def _load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("submissions_build", SUBMISSIONS / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_builder()


@dataclass
class Graded:
    """One end-to-end run of the grader over the synthetic class."""

    returncode: int
    stdout: str
    stderr: str
    rows: list[dict[str, str]]
    summary: dict[str, Any]
    leftovers: list[int]
    tmpdir: Path
    installed_runner: Path
    seconds: float

    def of(self, learner: str) -> list[dict[str, str]]:
        return [row for row in self.rows if row["learner"] == learner]


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    base = tmp_path_factory.mktemp("grade")
    build.build(base / "class")
    # The "installed" package the kernels import (and ivan edits): a copy, not this checkout.
    site = base / "site"
    shutil.copytree(
        REPO / "course_helpers",
        site / "course_helpers",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    tmpdir = base / "tmp"
    tmpdir.mkdir()
    run_id = uuid.uuid4().hex
    env = clean_env(PYTHONPATH=str(site), TMPDIR=str(tmpdir), GRADE_TEST_RUN=run_id)
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "course_helpers.grade",
            str(base / "class"),
            "--out",
            str(base / "report.csv"),
            "--json",
            str(base / "summary.json"),
            "-j",
            "2",
            "--cell-timeout",
            str(CELL_TIMEOUT),
            "--notebook-timeout",
            str(NOTEBOOK_TIMEOUT),
        ],
        cwd=base,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    seconds = time.monotonic() - started
    leftovers = processes_with(f"GRADE_TEST_RUN={run_id}", zombies=True)
    for pid in leftovers:  # do not leave them to the next test either
        os.kill(pid, signal.SIGKILL)
    assert done.returncode == 0, done.stderr
    with (base / "report.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return Graded(
        done.returncode,
        done.stdout,
        done.stderr,
        rows,
        json.loads((base / "summary.json").read_text(encoding="utf-8")),
        leftovers,
        tmpdir,
        site / "course_helpers" / "checks" / "runner.py",
        seconds,
    )


def _expected() -> list[dict[str, str]]:
    with (SUBMISSIONS / "expected.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


EXPECTED = _expected()
CHECK_NAMES = [item.name for item in EXERCISES[build.EXERCISE].checks]


# --- the class, end to end -------------------------------------------------------------------


def test_every_learner_is_reported_once_and_nothing_else(graded: Graded) -> None:
    assert sorted({row["learner"] for row in graded.rows}) == sorted(e["learner"] for e in EXPECTED)
    notebooks = {row["notebook"] for row in graded.rows}
    assert notebooks == {e["notebook"] for e in EXPECTED}  # the checkpoint copy is not graded


@pytest.mark.parametrize("expected", EXPECTED, ids=[e["learner"] for e in EXPECTED])
def test_report_rows(graded: Graded, expected: dict[str, str]) -> None:
    rows = graded.of(expected["learner"])
    assert {row["status"] for row in rows} == {expected["status"]}
    assert {row["cell_errors"] for row in rows} == {expected["cell_errors"]}
    if expected["status"] == "no_checks":
        assert [(r["exercise"], r["check"], r["passed"]) for r in rows] == [("", "", "false")]
    else:
        assert {row["exercise"] for row in rows} == {build.EXERCISE}
        assert [row["check"] for row in rows] == CHECK_NAMES
    passed = [row["passed"] == "true" for row in rows]
    if expected["passed"] == "all":
        assert all(passed), [row["message"] for row in rows]
    elif expected["passed"] == "none":
        assert not any(passed)
    else:
        assert any(passed) and not all(passed)
    failed = [row["message"] for row in rows if row["passed"] == "false"]
    if failed:  # the first failure says why; a notebook nobody could grade says it every time
        assert expected["failed_message"] in failed[0]
    if expected["passed"] == "none":
        assert all(expected["failed_message"] in message for message in failed)
    assert all(row["message"] == "" for row in rows if row["passed"] == "true")


def test_a_wrong_answer_gets_the_same_verdicts_as_check_in_the_notebook(graded: Graded) -> None:
    class Decision(NamedTuple):
        retriable: bool
        wait: float | None

    namespace: dict[str, Any] = {"Decision": Decision, "openai": openai, "anthropic": anthropic}
    body = "".join(f"    {line}\n" for line in build.WRONG_BODY.splitlines())
    exec(f"def decide(exc):\n{body}", namespace)
    direct = check(build.EXERCISE, namespace["decide"])
    rows = graded.of("carol")
    assert [(r["check"], r["passed"] == "true", r["message"]) for r in rows] == [
        (outcome.name, outcome.passed, outcome.message) for outcome in direct.results
    ]


def test_no_kernel_and_no_temporary_folder_is_left_behind(graded: Graded) -> None:
    assert graded.leftovers == []
    assert list(graded.tmpdir.iterdir()) == []


def test_tampering_happened_and_did_not_change_the_grade(graded: Graded) -> None:
    # ivan's cells ran without error, yet the sandbox never let him reach the installed package...
    assert "# TAMPERED" not in graded.installed_runner.read_text(encoding="utf-8")
    ivan = graded.of("ivan")
    assert {row["cell_errors"] for row in ivan} == {""}
    # ...yet he is graded as the stub he is, with the real checks' names, not the forged one.
    assert [row["check"] for row in ivan] == CHECK_NAMES
    assert not any(row["passed"] == "true" for row in ivan)


def test_time_limits_nest_and_hold(graded: Graded) -> None:
    # Which limit ended each run is in its status, not in wall-clock bounds (which a loaded
    # machine can stretch); the times only show that each limit was waited for.
    seconds = {row["learner"]: float(row["seconds"]) for row in graded.rows}
    status = {row["learner"]: row["status"] for row in graded.rows}
    # dave's loop was interrupted after the cell timeout, then his notebook went on to pass.
    assert status["dave"] == "timeout(cell)" and seconds["dave"] >= CELL_TIMEOUT
    assert {row["passed"] for row in graded.of("dave")} == {"true"}
    # judy's loop ignored SIGINT: the notebook watchdog killed her kernel, and a second run
    # without that cell graded her answer (both runs' time is hers).
    assert status["judy"] == "timeout(cell)" and seconds["judy"] >= NOTEBOOK_TIMEOUT
    assert {row["passed"] for row in graded.of("judy")} == {"true"}
    notes = {row["note"] for row in graded.of("judy")}
    assert len(notes) == 1 and "(import signal) ignored its interrupt" in notes.pop()
    # a dead kernel is noticed as a dead kernel, not waited out as a timeout.
    assert status["erin"] == status["kim"] == "kernel_died"


def test_summary_agrees_with_the_rows(graded: Graded) -> None:
    data = graded.summary
    assert data["notebooks"] == len(EXPECTED)
    for learner, entry in data["learners"].items():
        rows = graded.of(learner)
        assert entry["score"] == sum(row["passed"] == "true" for row in rows)
        assert entry["total"] == len(rows)
    statuses = [e["status"] for e in EXPECTED]
    assert data["reasons"] == {status: statuses.count(status) for status in set(statuses)}
    ex = data["exercises"][build.EXERCISE]
    ex_rows = [row for row in graded.rows if row["exercise"] == build.EXERCISE]
    assert ex["pass_rate"] == round(sum(r["passed"] == "true" for r in ex_rows) / len(ex_rows), 4)
    assert ex["all_passed"] == sum(e["passed"] == "all" for e in EXPECTED)
    assert set(ex["checks"]) == set(CHECK_NAMES)


def test_table_on_stdout(graded: Graded) -> None:
    lines = graded.stdout.splitlines()
    assert lines[0].split() == ["learner", "exercise", "score", "status", "seconds"]
    alice = next(line for line in lines if line.startswith("alice "))
    assert f"{len(CHECK_NAMES)}/{len(CHECK_NAMES)}" in alice and " ok " in alice
    assert f"{len(EXPECTED)} notebooks" in graded.stdout
    print(f"graded {len(EXPECTED)} notebooks in {graded.seconds:.1f} s")


# --- a learner who edits the grader's private copy --------------------------------------------

OSCAR = """\
import glob
import os
import tempfile

for path in glob.glob(os.path.join(tempfile.gettempdir(), "grade-checks-*", "**", "*.py"),
                      recursive=True):
    with open(path, "a") as handle:
        handle.write("\\n# tampered\\n")
"""


def test_editing_the_private_copy_is_detected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(OSCAR)])
    notebook.metadata["course"] = {"exercise": build.EXERCISE}
    path = tmp_path / "oscar" / "attempt.ipynb"
    path.parent.mkdir()
    nbformat.write(notebook, path)
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(private))
    settings = Settings(  # the sandbox mounts the copy read-only: this is the unsandboxed guard
        limits=Limits(cell_timeout=CELL_TIMEOUT, notebook_timeout=60), workers=1, sandbox=False
    )
    rows = grade(
        find_submissions([tmp_path]),
        settings,
        base_env=clean_env(TMPDIR=str(private)),
    )
    assert {row.status for row in rows} == {"tampered"}
    assert not any(row.passed for row in rows)
    assert "modified" in rows[0].message
    assert list(private.iterdir()) == []


# --- the parts ----------------------------------------------------------------------------------


def _notebook(path: Path, metadata: dict[str, Any] | None = None) -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata.update(metadata or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def test_learner_ids_follow_the_folder_rule(tmp_path: Path) -> None:
    _notebook(tmp_path / "class" / "alice" / "ex01_first_calls.ipynb")
    _notebook(tmp_path / "class" / "bob" / "week2" / "ex04.ipynb")
    _notebook(tmp_path / "class" / "carol.ipynb")
    _notebook(tmp_path / "class" / "alice" / ".ipynb_checkpoints" / "ex01-checkpoint.ipynb")
    loose = _notebook(tmp_path / "elsewhere" / "dave_ex02.ipynb")
    found = find_submissions([tmp_path / "class", loose, tmp_path / "class" / "carol.ipynb"])
    assert [(s.learner, s.label, s.status) for s in found] == [  # tests/test_grade_identity.py
        ("alice", "alice/ex01_first_calls.ipynb", ""),
        ("bob", "bob/week2/ex04.ipynb", ""),
        ("", "carol.ipynb", "no_learner"),  # loose in the class folder: in no learner's folder
        ("elsewhere", loose.as_posix(), ""),  # a file belongs to the folder holding it
    ]


def test_bad_submission_arguments_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        find_submissions([tmp_path / "missing"])
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ValueError, match="not a notebook"):
        find_submissions([tmp_path / "notes.txt"])


def test_which_exercise_a_notebook_is() -> None:
    known = ["ex01_first_calls", "ex04_retry", "ex10_extra"]
    meta = {"course": {"exercise": "ex04_retry"}}
    assert exercises_for(meta, Path("x.ipynb"), known, ["ex01_first_calls"]) == ["ex01_first_calls"]
    assert exercises_for(meta, Path("ex01_first_calls.ipynb"), known) == ["ex01_first_calls"]
    assert exercises_for(meta, Path("x.ipynb"), known) == ["ex04_retry"]
    both = {"course": {"exercise": ["ex01_first_calls", "ex04_retry"]}}
    assert exercises_for(both, Path("x.ipynb"), known) == []  # one notebook, one exercise
    assert exercises_for({}, Path("Copy of EX04 (2).ipynb"), known) == ["ex04_retry"]
    assert exercises_for({}, Path("ex010.ipynb"), known) == []
    assert exercises_for({}, Path("homework.ipynb"), known) == []


def test_the_snapshot_is_taken_once_and_verified(tmp_path: Path) -> None:
    package = tmp_path / "site" / "pkg_under_test"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "checks.py").write_text("GOOD = True\n")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "x.pyc").write_bytes(b"cache")
    sys.path.insert(0, str(tmp_path / "site"))
    try:
        pristine = PristinePackage.snapshot("pkg_under_test")
    finally:
        sys.path.remove(str(tmp_path / "site"))
    assert set(pristine.files) == {"__init__.py", "sub/checks.py"}
    # A later edit of the installed package does not reach the copies made from the snapshot.
    (package / "sub" / "checks.py").write_text("GOOD = False\n")
    copy = pristine.materialise(tmp_path)
    assert (copy.root / "pkg_under_test" / "sub" / "checks.py").read_text() == "GOOD = True\n"
    assert copy.intact(pristine.digest)
    (copy.root / "pkg_under_test" / "sub" / "evil.py").write_text("")
    assert not copy.intact(pristine.digest)
    (copy.root / "pkg_under_test" / "sub" / "evil.py").unlink()
    assert copy.intact(pristine.digest)
    (copy.root / "pkg_under_test" / "sub" / "checks.py").write_text("GOOD = 1\n")
    assert not copy.intact(pristine.digest)
    copy.remove()
    assert not copy.root.exists()


def test_the_kernel_sees_no_keys_and_is_offline(tmp_path: Path) -> None:
    env = kernel_environment(
        {
            "PATH": "/bin",
            "OPENAI_API_KEY": "sk-secret",
            "ANTHROPIC_BASE_URL": "http://x",
            "MISTRAL_API_KEY": "m",
            "GITHUB_TOKEN": "t",
            "COURSE_MODE": "live",
        },
        tmp_path,
    )
    assert env["PATH"] == "/bin"
    assert not any("sk-secret" in value for value in env.values())
    assert {"OPENAI_API_KEY", "ANTHROPIC_BASE_URL", "MISTRAL_API_KEY", "GITHUB_TOKEN"}.isdisjoint(
        env
    )
    assert env["COURSE_MODE"] == "offline" and env["COURSE_GRADING"] == "1"
    assert env["MPLBACKEND"] == "Agg" and env["TQDM_DISABLE"] == "1"
    assert env["IPYTHONDIR"] == str(tmp_path)


def test_the_grading_cell_only_asks_the_guard(tmp_path: Path) -> None:
    pristine = PristinePackage.snapshot("course_helpers")
    guard = Guard.create(pristine, pristine.materialise(tmp_path), "course_helpers.checks", ["x"])
    cell, install = grading_cell_source(guard), guard.install_source()
    ast.parse(cell)
    ast.parse(install)
    # the key travels only in the silent request sent before any learner cell
    assert guard.nonce in cell and guard.key.hex() not in cell
    assert guard.key.hex() in install and str(guard.copy.root) in install


def _submission() -> Submission:
    return Submission(Path("alice/ex04_retry.ipynb"), "alice", "alice/ex04_retry.ipynb")


def test_status_priority() -> None:
    ids = ["ex04_retry"]
    payload = {"exercises": {}}
    assert status_of(Execution(payload=payload), ids) == "ok"
    assert status_of(Execution(payload=payload, cell_errors=["NameError"]), ids) == (
        "error:NameError"
    )
    slow = Execution(payload=payload, cell_errors=["X"], output_too_large=True)
    assert status_of(slow, ids) == "output_too_large"
    slow.timed_out_cells = [3]
    assert status_of(slow, ids) == "timeout(cell)"
    assert status_of(Execution(), ids) == "no_checks"
    assert status_of(Execution(payload=payload), []) == "no_checks"
    assert status_of(Execution(payload=payload, tampered="x"), ids) == "tampered"
    assert status_of(Execution(kernel_died=True), ids) == "kernel_died"
    both = Execution(kernel_died=True, notebook_timed_out=True)
    assert status_of(both, ids) == "timeout(notebook)"


def test_rows_of_a_notebook_that_could_not_be_graded_name_every_check() -> None:
    names = {"ex04_retry": ["a", "b"]}
    rows = rows_for(_submission(), ["ex04_retry"], Execution(kernel_died=True), names, Limits())
    assert [(r.check, r.passed, r.status) for r in rows] == [
        ("a", False, "kernel_died"),
        ("b", False, "kernel_died"),
    ]
    assert "kernel died" in rows[0].message
    # A forged payload is ignored when the run was tampered with.
    forged = {"exercises": {"ex04_retry": {"checks": [{"name": "a", "passed": True}]}}}
    run = Execution(payload=forged, tampered="the copy was modified")
    rows = rows_for(_submission(), ["ex04_retry"], run, names, Limits())
    assert [(r.check, r.passed) for r in rows] == [("a", False), ("b", False)]
    assert rows[0].message == "not graded: the copy was modified"


def test_rows_summary_and_table_of_a_graded_notebook() -> None:
    payload = {
        "exercises": {
            "ex04_retry": {
                "checks": [
                    {"name": "a", "passed": True, "message": ""},
                    {"name": "b", "passed": False, "message": "expected 1, got 2"},
                ],
                "error": None,
            }
        }
    }
    run = Execution(payload=payload, cell_errors=["NameError"], seconds=2.04)
    rows = rows_for(_submission(), ["ex04_retry"], run, {"ex04_retry": ["a", "b"]}, Limits())
    assert [r.as_csv()["passed"] for r in rows] == ["true", "false"]
    assert rows[1].message == "expected 1, got 2" and rows[1].status == "error:NameError"
    data = summary(rows, seconds=3.0, settings={"workers": 1})
    assert data["learners"]["alice"]["score"] == 1 and data["learners"]["alice"]["fraction"] == 0.5
    assert data["exercises"]["ex04_retry"]["checks"] == {"a": 1.0, "b": 0.0}
    assert data["reasons"] == {"error:NameError": 1}
    assert table(rows).splitlines()[1].split() == [
        "alice",
        "ex04_retry",
        "1/2",
        "error:NameError",
        "2.0",
    ]


def test_every_registered_exercise_has_a_time_budget() -> None:
    registry = load_registry("course_helpers.checks")
    assert set(registry.check_names) == set(EXERCISES)
    for exercise_id, exercise in EXERCISES.items():
        assert registry.check_names[exercise_id] == [item.name for item in exercise.checks]
        budget = registry.budget([exercise_id], 30)
        assert budget == sum(item.timeout for item in exercise.checks) + 30


def test_fail_under_and_a_notebook_nobody_can_grade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _notebook(tmp_path / "class" / "nora" / "notes.ipynb")
    monkeypatch.chdir(tmp_path)
    assert main([str(tmp_path / "class"), "-q"]) == 0
    assert (tmp_path / "grade-report.csv").exists() and (tmp_path / "grade-summary.json").exists()
    assert "no_checks" in capsys.readouterr().out
    assert main([str(tmp_path / "class"), "-q", "--fail-under", "1"]) == 1
    assert "below --fail-under 1: nora" in capsys.readouterr().err
    assert main([str(tmp_path / "class"), "-q", "--fail-under", "0"]) == 0


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as missing:
        main([str(tmp_path / "nothing-here")])
    assert missing.value.code == 2
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit) as empty:
        main([str(tmp_path / "empty")])
    assert empty.value.code == 2
    _notebook(tmp_path / "one" / "a.ipynb")
    with pytest.raises(SystemExit) as unknown:
        main([str(tmp_path / "one"), "--exercise", "ex99_nope"])
    assert unknown.value.code == 2


def _gone_or_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] == "Z"


def test_kill_all_kernels_kills_whole_process_groups() -> None:
    script = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen(['sleep', '60'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    leader = subprocess.Popen(
        [sys.executable, "-c", script], start_new_session=True, stdout=subprocess.PIPE, text=True
    )
    try:
        assert leader.stdout is not None
        child = int(leader.stdout.readline())
        execute._LIVE.add(leader.pid)
        kill_all_kernels()
        assert leader.wait(timeout=5) == -signal.SIGKILL
        deadline = time.monotonic() + 5
        while not _gone_or_zombie(child) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _gone_or_zombie(child)  # the kernel's own children die with it
    finally:
        if leader.poll() is None:
            leader.kill()
        leader.wait()
