"""The grader's sandbox: a hostile class folder graded end to end, and the sandbox's parts.

The class holds two honest learners (the ex03 solution) and five offenders, each the ex03 stub
plus one hostile cell written for this test: a saboteur and copycat who looks for classmates'
notebooks (guessed paths, and the grader's own ``/proc`` entries) to copy and overwrite, a
sibling- and grader-killer, a detached child (``setsid``) that keeps rewriting the report and a
classmate's file, a 2.5 GB allocation, and a connection to a server of this test on loopback.
Every classmate must keep their grade and their file byte for byte, no process may outlive the
grader, and the report on disk must say what was printed.

The class is graded twice: with the fork server that forks each kernel into its sandbox (the
default), and with ``--no-fork-server``, where each kernel is what bwrap starts (the path a
machine takes when the fork server cannot work). ``GRADE_SANDBOX_EXTRA_FLAGS="--no-sandbox
--memory 0"`` runs the same class without the sandbox, to watch these tests fail.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
from grading_support import FORK_BOMB, processes_with

from course_helpers.checks import EXERCISES
from course_helpers.grade import main
from course_helpers.grading import sandbox
from course_helpers.grading.execute import Limits, run_notebook
from course_helpers.grading.explain import cell_label, explain_death, explain_timeout
from course_helpers.grading.pristine import PristinePackage
from course_helpers.grading.sandbox import ResourceLimits, Sandbox, limited_command

REPO = Path(__file__).resolve().parents[1]
EXERCISE = "ex03_classify_errors"
CHECKS = len(EXERCISES[EXERCISE].checks)
HONEST = ("alice", "bob")
MARK = "GRADE_SANDBOX_TEST"

pytestmark = pytest.mark.skipif(
    sandbox.sandbox_problem() is not None, reason=f"no sandbox here: {sandbox.sandbox_problem()}"
)

# sam: finds classmates' notebooks (a guessed path, the grader's /proc entries), copies an
# answer into his own namespace, then overwrites every notebook he found.
SABOTEUR = """\
import glob
import json
import os

def _marked(pid):
    try:
        return f"{MARK}={{os.environ['{MARK}']}}".encode() in open(
            f"/proc/{{pid}}/environ", "rb").read().split(b"\\0")
    except OSError:
        return False

folders = {{{klass!r}}}
for pid in filter(str.isdigit, os.listdir("/proc")):
    if int(pid) == os.getpid() or not _marked(pid):
        continue
    try:
        args = open(f"/proc/{{pid}}/cmdline", "rb").read().decode().split("\\0")
        folders.add(os.readlink(f"/proc/{{pid}}/cwd"))
    except OSError:
        continue
    folders.update(a for a in args if a.startswith("/") and os.path.isdir(a))
mine = os.path.realpath(os.getcwd())
found = set()
for folder in folders:
    for depth in ("*.ipynb", "*/*.ipynb", "*/*/*.ipynb"):
        found.update(os.path.realpath(p) for p in glob.glob(os.path.join(folder, depth)))
others = sorted(p for p in found if not p.startswith(mine))
for path in others:  # copy the first answer that defines decide()
    try:
        cells = json.load(open(path))["cells"]
    except (OSError, ValueError, KeyError):
        continue
    code = [c["source"] for c in cells if c.get("cell_type") == "code"]
    if any("def decide" in "".join(s) for s in code):
        for source in code:
            try:
                exec("".join(source), globals())
            except Exception:
                pass
        break
for path in others:  # then ruin them (only inside this test's class folder)
    if path.startswith(os.path.realpath({klass!r})):
        try:
            open(path, "w").write("{{}}")
        except OSError:
            pass
print("saw", len(others), "other notebooks")
"""

# ken: SIGKILLs every other process of this test run he can see (sibling kernels, the grader).
KILLER = """\
import os
import signal

marker = f"{MARK}={{os.environ['{MARK}']}}".encode()
for pid in filter(str.isdigit, os.listdir("/proc")):
    if int(pid) in (os.getpid(), 1):
        continue
    try:
        if marker in open(f"/proc/{{pid}}/environ", "rb").read().split(b"\\0"):
            os.kill(int(pid), signal.SIGKILL)
    except OSError:
        pass
"""

# dan: a child in a new session keeps rewriting the report and a classmate's file for a minute.
DETACHED = """\
import subprocess
import sys

child = '''
import time
for _ in range(600):
    for path in {targets!r}:
        try:
            with open(path, "w") as handle:
                handle.write("5/5 for dan")
        except OSError:
            pass
    time.sleep(0.1)
'''
subprocess.Popen([sys.executable, "-c", child], start_new_session=True,
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
"""

MEMORY_HOG = "hog = bytearray(2_500_000_000)\nhog[::4096] = b'x' * len(hog[::4096])\n"

# nat: reaches a server of this test on the grader's loopback.
NETWORK = """\
import socket

try:
    with socket.create_connection(("127.0.0.1", {port}), timeout=3) as conn:
        conn.sendall(b"leak")
    print("connected")
except OSError as exc:
    print("no network:", exc)
"""


class _Listener:
    """A loopback TCP server counting the connections it accepts."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.server.close()


def _with_cell(source: Path, code: str) -> nbformat.NotebookNode:
    notebook = nbformat.read(source, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(code))
    return notebook


def _digests(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@dataclass
class Graded:
    returncode: int
    stdout: str
    stderr: str
    report: Path
    rows: list[dict[str, str]]
    before: dict[str, str]
    after: dict[str, str]
    leftovers: list[int]
    connections: int
    tmpdir: Path

    def of(self, learner: str) -> list[dict[str, str]]:
        return [row for row in self.rows if row["learner"] == learner]


# How kernels start: forked by the fork server (the default), or started by bwrap itself.
START_FLAGS, START_IDS = [[], ["--no-fork-server"]], ["forked", "bwrap"]


@pytest.fixture(scope="module", params=START_FLAGS, ids=START_IDS)
def graded(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Graded:
    base = tmp_path_factory.mktemp("hostile")
    klass, report, summary = base / "class", base / "report.csv", base / "summary.json"
    solution = REPO / "solutions" / f"{EXERCISE}.ipynb"
    stub = REPO / "exercises" / f"{EXERCISE}.ipynb"
    listener = _Listener()
    fmt: dict[str, Any] = {"MARK": MARK, "klass": str(klass), "port": listener.port}
    alice = klass / "alice" / f"{EXERCISE}.ipynb"
    fmt["targets"] = [str(report), str(summary), str(alice)]
    notebooks = {
        "alice": nbformat.read(solution, as_version=4),
        "bob": nbformat.read(solution, as_version=4),
        "sam": _with_cell(stub, SABOTEUR.format(**fmt)),
        "ken": _with_cell(stub, KILLER.format(**fmt)),
        "dan": _with_cell(stub, DETACHED.format(**fmt)),
        "meg": _with_cell(stub, MEMORY_HOG),
        "nat": _with_cell(stub, NETWORK.format(**fmt)),
    }
    for learner, notebook in notebooks.items():
        path = klass / learner / f"{EXERCISE}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, path)
    before = _digests(klass)
    tmpdir = base / "tmp"
    tmpdir.mkdir()
    run_id = uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items() if "API_KEY" not in k}
    env.update({MARK: run_id, "TMPDIR": str(tmpdir)})
    extra = [*request.param, *os.environ.get("GRADE_SANDBOX_EXTRA_FLAGS", "").split()]
    command = [sys.executable, "-m", "course_helpers.grade", str(klass), "--out", str(report)]
    command += ["--json", str(summary), "-j", "2", "--cell-timeout", "20", *extra]
    try:
        done = subprocess.run(
            command, cwd=base, env=env, capture_output=True, text=True, timeout=600
        )
    finally:
        listener.close()
    leftovers = processes_with(f"{MARK}={run_id}")
    for pid in leftovers:  # never leave them to the next test
        os.kill(pid, signal.SIGKILL)
    rows: list[dict[str, str]] = []
    if report.exists():
        with report.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    return Graded(
        done.returncode,
        done.stdout,
        done.stderr,
        report,
        rows,
        before,
        _digests(klass),
        leftovers,
        listener.accepted,
        tmpdir,
    )


def test_the_grader_finishes_and_reports_everyone(graded: Graded) -> None:
    assert graded.returncode == 0, graded.stderr[-2000:]
    assert {row["learner"] for row in graded.rows} == {
        "alice",
        "bob",
        "sam",
        "ken",
        "dan",
        "meg",
        "nat",
    }


def test_honest_learners_keep_their_grade(graded: Graded) -> None:
    for learner in HONEST:
        rows = graded.of(learner)
        assert len(rows) == CHECKS
        assert {row["status"] for row in rows} == {"ok"}, [r["message"] for r in rows]
        assert all(row["passed"] == "true" for row in rows)


def test_every_submitted_file_is_unchanged_byte_for_byte(graded: Graded) -> None:
    assert graded.after == graded.before


def test_the_copycat_found_nothing_to_copy(graded: Graded) -> None:
    sam = graded.of("sam")
    assert len(sam) == CHECKS and not any(row["passed"] == "true" for row in sam)


def test_no_process_outlives_the_grader_and_nothing_is_left_in_tmp(graded: Graded) -> None:
    assert graded.leftovers == []
    assert list(graded.tmpdir.iterdir()) == []


def test_the_report_on_disk_is_what_was_printed(graded: Graded) -> None:
    printed = {}
    for line in graded.stdout.splitlines()[1:]:
        parts = line.split()
        if len(parts) == 5 and "/" in parts[2]:
            printed[parts[0]] = (parts[2], parts[3])
    on_disk = {}
    for learner in {row["learner"] for row in graded.rows}:
        rows = graded.of(learner)
        score = f"{sum(row['passed'] == 'true' for row in rows)}/{len(rows)}"
        on_disk[learner] = (score, rows[0]["status"])
    assert on_disk == printed


def test_the_memory_hog_hits_the_limit(graded: Graded) -> None:
    assert {row["status"] for row in graded.of("meg")} == {"error:MemoryError"}


def test_no_connection_leaves_the_sandbox(graded: Graded) -> None:
    assert graded.connections == 0


# --- a grader killed with SIGKILL takes every kernel with it ----------------------------------

LINGER = """\
import subprocess
import sys
import time

subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)  # linger"],
                 start_new_session=True)
time.sleep(300)
"""


def _cmdline_has(pid: int, text: str) -> bool:
    try:
        return text.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _wait_until(condition: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.mark.parametrize("start", START_FLAGS, ids=START_IDS)
def test_killing_the_grader_kills_every_process_its_notebooks_started(
    tmp_path: Path, start: list[str]
) -> None:
    notebook = tmp_path / "class" / "lin" / f"{EXERCISE}.ipynb"
    notebook.parent.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(LINGER)]), notebook)
    run_id = uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items() if "API_KEY" not in k}
    (tmp_path / "tmp").mkdir()  # a killed grader cannot remove its scratch folders: keep them here
    env.update({MARK: run_id, "TMPDIR": str(tmp_path / "tmp")})
    extra = [*start, *os.environ.get("GRADE_SANDBOX_EXTRA_FLAGS", "").split()]
    command = [sys.executable, "-m", "course_helpers.grade", str(tmp_path / "class"), "-q"]
    grader = subprocess.Popen(
        [*command, "--cell-timeout", "400", "--notebook-timeout", "400", *extra],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    marker = f"{MARK}={run_id}"
    try:
        lingering = _wait_until(
            lambda: any(_cmdline_has(pid, "# linger") for pid in processes_with(marker)), 120
        )
        assert lingering, "the notebook's detached child never started"
        grader.kill()
        assert grader.wait(timeout=30) == -signal.SIGKILL
        assert _wait_until(lambda: not processes_with(marker), 30), processes_with(marker)
    finally:
        if grader.poll() is None:
            grader.kill()
            grader.wait(timeout=30)
        for pid in processes_with(marker):
            os.kill(pid, signal.SIGKILL)


# --- a notebook loose in the class folder ------------------------------------------------------


def test_a_loose_notebook_runs_without_its_neighbours(tmp_path: Path) -> None:
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / "answer.py").write_text("def decide(exc): ...\n")
    (tmp_path / "data.csv").write_text("a,b\n")
    sees = {  # own_folder -> what the notebook's working copy must hold
        False: "import os\nassert not os.path.exists('bob') and not os.path.exists('data.csv')",
        True: "import os\nassert os.path.exists('data.csv')",
    }
    for own, source in sees.items():
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
        path = tmp_path / f"ex03_loose_{own}.ipynb"
        nbformat.write(notebook, path)
        run = run_notebook(
            notebook,
            path,
            [EXERCISE],
            PristinePackage.snapshot("course_helpers"),
            checks_module="course_helpers.checks",
            limits=Limits(cell_timeout=20, notebook_timeout=60),
            own_folder=own,
        )
        assert run.cell_errors == [] and run.payload is not None, (own, run)


# --- timeouts that say which cell ------------------------------------------------------------


def _run_cells(tmp_path: Path, cells: list[str], limits: Limits) -> Any:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    path = tmp_path / "learner" / f"{EXERCISE}.ipynb"
    path.parent.mkdir()
    nbformat.write(notebook, path)
    pristine = PristinePackage.snapshot("course_helpers")
    return run_notebook(
        notebook, path, [EXERCISE], pristine, checks_module="course_helpers.checks", limits=limits
    )


def test_a_slow_but_well_behaved_notebook_is_not_told_it_loops(tmp_path: Path) -> None:
    cells = ["import time"] + ["time.sleep(1)"] * 30
    run = _run_cells(tmp_path, cells, Limits(cell_timeout=20, notebook_timeout=5))
    assert run.notebook_timed_out
    assert run.explanation.startswith("every cell stayed within its 20 s limit")
    assert "code cell" in run.explanation and "never ends" not in run.explanation


RUNAWAY = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"


def test_a_cell_that_ignores_its_interrupt_is_named(tmp_path: Path) -> None:
    run = _run_cells(tmp_path, ["x = 1", RUNAWAY], Limits(cell_timeout=2, notebook_timeout=15))
    assert not run.notebook_timed_out and run.timed_out_cells == [1]
    assert run.note.startswith("code cell 2 (import signal) ignored its interrupt")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(RUNAWAY) for _ in "ab"])
    message = explain_timeout(notebook, 2, (1, 20.0), [0], 2, 15)
    assert message.startswith("code cell 2 (import signal) ran 20 s, past its 2 s limit")
    assert "ignored the interrupt" in message


def test_a_runaway_last_cell_costs_a_correct_answer_no_credit(tmp_path: Path) -> None:
    """The answer above it is graded on a second run without that cell (the report says so)."""
    exercise = "ex06_token_budget"
    notebook = _with_cell(REPO / "solutions" / f"{exercise}.ipynb", RUNAWAY)
    path = tmp_path / "learner" / f"{exercise}.ipynb"
    path.parent.mkdir()
    nbformat.write(notebook, path)
    runaway = len(notebook.cells) - 1
    run = run_notebook(
        notebook,
        path,
        [exercise],
        PristinePackage.snapshot("course_helpers"),
        checks_module="course_helpers.checks",
        limits=Limits(cell_timeout=2, notebook_timeout=25),
    )
    assert not run.notebook_timed_out and run.tampered is None, run
    assert run.timed_out_cells == [runaway]
    checks = run.payload["exercises"][exercise]["checks"]
    assert len(checks) == len(EXERCISES[exercise].checks)
    assert all(item["passed"] for item in checks), checks
    assert "ignored its interrupt" in run.note and "second run" in run.note
    assert nbformat.read(path, as_version=4) == notebook  # the learner's file is untouched


def test_a_fork_bomb_stops_at_the_process_cap(tmp_path: Path) -> None:
    limits = Limits(cell_timeout=20, notebook_timeout=60, resources=ResourceLimits(processes=64))
    run = _run_cells(tmp_path, ["x = 1", FORK_BOMB, "y = 2"], limits)
    assert not run.notebook_timed_out and not run.kernel_died, run
    assert run.cell_errors == [] and run.payload is not None, run


def test_a_killed_kernel_blames_whoever_could_have_killed_it() -> None:
    assert "exited with code 3" in explain_death(3, sandboxed=True)
    assert "killed by SIGKILL" in explain_death(128 + 9, sandboxed=True)
    assert "not by this notebook" in explain_death(-9, sandboxed=True)
    unsandboxed = explain_death(-9, sandboxed=False)
    assert "another process" in unsandboxed and "grade it again" in unsandboxed


def test_timeout_explanations() -> None:
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("# title"),
            nbformat.v4.new_code_cell("# a comment\nslow()"),
            nbformat.v4.new_code_cell("stuck()"),
            nbformat.v4.new_code_cell("grade()"),
        ]
    )
    assert cell_label(notebook, 1) == "code cell 1 (slow())"
    grading = explain_timeout(notebook, 3, (3, 10.0), [1], 5, 60)
    assert grading.startswith("every learner cell finished, but the checks")
    assert "code cell 1 (slow()) had been interrupted" in grading
    slow = explain_timeout(notebook, 3, (2, 4.0), [1], 5, 60)
    assert slow.startswith("this cell stayed within its 5 s limit")


# --- the sandbox's parts ---------------------------------------------------------------------


def test_the_command_mounts_only_what_the_kernel_needs(tmp_path: Path) -> None:
    work, copy = tmp_path / "work", tmp_path / "checks"
    command = Sandbox("/usr/bin/bwrap", work, writable=(work,), read_only=(copy,)).command(
        limited_command(["python", "-m", "ipykernel_launcher"], ResourceLimits(1, 2, 3))
    )
    for flag in ("--unshare-all", "--die-with-parent", "--new-session"):
        assert flag in command
    assert command[command.index("--uid") + 1] == "65534"
    assert "--share-net" not in command
    pairs = list(zip(command, command[1:], command[2:], strict=False))
    assert ("--bind", str(work), str(work)) in pairs
    assert ("--ro-bind", str(copy), str(copy)) in pairs
    assert not any(a == "--bind" and b in {"/", str(REPO), "/etc", "/root"} for a, b, _ in pairs)
    assert command[-7:-3] == ["1", "2", "3", "256"]  # the rlimits the launcher applies


def test_without_bwrap_the_grader_refuses_unless_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    notebook = tmp_path / "class" / "nora" / "notes.ipynb"
    notebook.parent.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(), notebook)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sandbox, "_find_bwrap", lambda: None)
    sandbox.sandbox_problem.cache_clear()
    try:
        with pytest.raises(SystemExit) as refused:
            main([str(tmp_path / "class"), "-q"])
        assert refused.value.code == 2
        message = capsys.readouterr().err.strip().splitlines()[-1]
        assert "bubblewrap (bwrap) is not installed" in message and "--no-sandbox" in message
        assert not (tmp_path / "grade-report.csv").exists()
        assert main([str(tmp_path / "class"), "-q", "--no-sandbox"]) == 0
        assert (tmp_path / "grade-report.csv").exists()
        monkeypatch.setattr(sandbox, "_find_bwrap", lambda: shutil.which("false"))
        sandbox.sandbox_problem.cache_clear()
        assert "cannot create a sandbox here" in str(sandbox.sandbox_problem())
    finally:
        sandbox.sandbox_problem.cache_clear()


def test_the_budget_warning_names_only_exercises_being_graded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    notebook = tmp_path / "class" / "olga" / "ex01_first_calls.ipynb"
    notebook.parent.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(), notebook)
    monkeypatch.chdir(tmp_path)
    main([str(tmp_path / "class"), "-q", "--notebook-timeout", "1"])
    warning = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warning) == 1 and "ex01_first_calls" in warning[0]
    assert not any(other in warning[0] for other in EXERCISES if other != "ex01_first_calls")
