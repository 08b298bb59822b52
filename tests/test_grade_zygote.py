"""The fork server: kernels forked into their bubblewrap sandbox with the SDKs already imported,
and nothing more than a kernel bwrap started itself would have (``zygote.py``)."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from grading_support import FORK_BOMB

from course_helpers.grade import main
from course_helpers.grading import sandbox
from course_helpers.grading._zygote import module_arguments, shadowed
from course_helpers.grading.batch import Settings, fork_server, ready_server
from course_helpers.grading.execute import Limits, run_notebook
from course_helpers.grading.explain import explain_death
from course_helpers.grading.pristine import PristinePackage
from course_helpers.grading.sandbox import ResourceLimits
from course_helpers.grading.zygote import LOST_SUPERVISOR, Zygote, ZygoteUnavailable

pytestmark = pytest.mark.skipif(
    sandbox.sandbox_problem() is not None, reason=f"no sandbox here: {sandbox.sandbox_problem()}"
)

EXERCISE = "ex03_classify_errors"
REPO = Path(__file__).resolve().parent.parent
PRELOADED = """\
import sys
assert {"openai", "anthropic", "ipykernel.kernelapp"} <= set(sys.modules), "imported afresh"
"""
NOT_PRELOADED = 'import sys\nassert "anthropic" not in sys.modules, "forked"'
# What a kernel in the sandbox may see and do: each assert fails if the kernel kept more.
CONFINED = [
    """\
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
for name in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
    assert status[name].strip() == "0" * 16, (name, status[name])
assert status["NoNewPrivs"].strip() == "1"
""",
    "import os\nassert (os.getuid(), os.getgid()) == (65534, 65534)",
    # bwrap's init, the stand-in and the kernel: nothing of the grader or the fork server
    "import os\nassert sorted(int(p) for p in os.listdir('/proc') if p.isdigit()) == [1, 2, 3]",
    "import os\nassert os.getppid() == 0  # a parent outside the sandbox, out of reach",
    """\
import socket
try:
    socket.create_connection(("192.0.2.1", 80), timeout=2)
except OSError:
    pass
else:
    raise AssertionError("a connection left the sandbox")
""",
    """\
import os
from ipykernel.kernelapp import IPKernelApp
folder = os.path.dirname(IPKernelApp.instance().connection_file)
assert "zygote" not in os.listdir(folder), "the fork server's door is still open"
""",
]


@pytest.fixture(scope="module")
def zygote() -> Iterator[Zygote]:
    with fork_server(Settings(), None) as server:
        ready = ready_server(server)
        assert ready is not None, "the fork server could not start here"
        yield ready


@pytest.fixture(scope="module")
def pristine() -> PristinePackage:
    return PristinePackage.snapshot("course_helpers")


def _run(
    tmp_path: Path,
    cells: list[str],
    pristine: PristinePackage,
    zygote: Zygote | None,
    limits: Limits | None = None,
    own_folder: bool = False,
) -> Any:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    path = tmp_path / "learner" / f"{EXERCISE}.ipynb"
    path.parent.mkdir(exist_ok=True)
    nbformat.write(notebook, path)
    return run_notebook(
        notebook,
        path,
        [EXERCISE],
        pristine,
        checks_module="course_helpers.checks",
        limits=limits or Limits(cell_timeout=20, notebook_timeout=90),
        own_folder=own_folder,
        zygote=zygote,
    )


def test_a_forked_kernel_starts_with_the_sdks_imported(
    tmp_path: Path, zygote: Zygote, pristine: PristinePackage
) -> None:
    run = _run(tmp_path, [PRELOADED], pristine, zygote)
    assert run.cell_errors == [] and not run.kernel_died, run
    assert run.payload is not None and run.tampered is None, run  # graded as usual


def test_a_kernel_started_directly_imports_them_itself(
    tmp_path: Path, pristine: PristinePackage
) -> None:
    run = _run(tmp_path, [PRELOADED, NOT_PRELOADED], pristine, None)
    assert run.cell_errors == ["AssertionError"], run


def test_a_forked_kernel_is_confined_like_one_bwrap_started(
    tmp_path: Path, zygote: Zygote, pristine: PristinePackage
) -> None:
    hidden = f"import os\nassert not os.path.exists({str(tmp_path)!r}), 'the class folder'"
    run = _run(tmp_path, [*CONFINED, hidden], pristine, zygote)
    assert run.cell_errors == [] and not run.kernel_died, run
    assert len(run.payload["exercises"][EXERCISE]["checks"]) > 0


def test_without_the_server_the_stand_in_starts_the_kernel_itself(
    tmp_path: Path, pristine: PristinePackage
) -> None:
    with fork_server(Settings(), None) as server:
        stopped = ready_server(server)
        assert stopped is not None
    # closed now: the door cannot pass the request on, so the stand-in becomes the kernel
    run = _run(tmp_path, [NOT_PRELOADED], pristine, stopped)
    assert run.cell_errors == [] and run.payload is not None, run


def test_malformed_requests_are_dropped_and_the_server_goes_on(
    tmp_path: Path, zygote: Zygote, pristine: PristinePackage
) -> None:
    zygote.forward(b"not json", [])
    zygote.forward(b'{"argv": ["python", "-c", "print(1)"]}', [])
    run = _run(tmp_path, [PRELOADED], pristine, zygote)
    assert run.cell_errors == [] and run.payload is not None, run


def test_a_fork_bomb_in_a_forked_kernel_stops_at_the_process_cap(
    tmp_path: Path, zygote: Zygote, pristine: PristinePackage
) -> None:
    limits = Limits(cell_timeout=20, notebook_timeout=60, resources=ResourceLimits(processes=64))
    run = _run(tmp_path, [PRELOADED, FORK_BOMB, "y = 2"], pristine, zygote, limits)
    assert run.cell_errors == [] and not run.kernel_died, run


def test_a_forked_kernel_gets_the_sandbox_rlimits(
    tmp_path: Path, zygote: Zygote, pristine: PristinePackage
) -> None:
    memory, cpu, size = 1536 * 1024**2, 77, 5 * 1024**2
    cells = [
        PRELOADED,
        f"""\
import resource
assert resource.getrlimit(resource.RLIMIT_AS) == ({memory}, {memory})
assert resource.getrlimit(resource.RLIMIT_CPU)[0] == {cpu}
assert resource.getrlimit(resource.RLIMIT_FSIZE) == ({size}, {size})
assert resource.getrlimit(resource.RLIMIT_CORE) == (0, 0)
""",
    ]
    resources = ResourceLimits(memory=memory, cpu_seconds=cpu, file_size=size)
    limits = Limits(cell_timeout=20, notebook_timeout=90, resources=resources)
    run = _run(tmp_path, cells, pristine, zygote, limits)
    assert run.cell_errors == [], run


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["python", "-m", "ipykernel_launcher", "-f", "c.json"],
            ["ipykernel_launcher", "-f", "c.json"],
        ),
        (["python", "-c", "print(1)"], None),
        (["python", "-m"], None),
        (["python"], None),
        (["python", "-Xno_such_option", "-m", "ipykernel_launcher"], None),
    ],
)
def test_only_a_module_run_with_this_interpreters_options_is_accepted(
    argv: list[str], expected: list[str] | None
) -> None:
    assert not sys._xoptions  # the test's own interpreter: no -X options
    assert module_arguments(argv) == expected


def _processes_running(argument: str) -> bool:
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and argument.encode() in (entry / "cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def test_a_kernel_whose_fork_server_stops_is_not_blamed(
    tmp_path: Path, pristine: PristinePackage
) -> None:
    marker = f"{time.monotonic_ns() % 10**6 + 4000}"
    cell = f"import subprocess\nsubprocess.run(['sleep', '{marker}'])"
    with fork_server(Settings(), None) as server:
        zygote = ready_server(server)
        assert zygote is not None

        def stop_the_server_once_the_cell_runs() -> None:
            while not _processes_running(f"sleep\0{marker}"):
                time.sleep(0.05)
            zygote.close()

        stopper = threading.Thread(target=stop_the_server_once_the_cell_runs, daemon=True)
        stopper.start()
        run = _run(tmp_path, [cell], pristine, zygote)
        stopper.join(timeout=60)
    assert run.kernel_died and run.payload is None, run
    assert "fork server stopped" in run.explanation and "grade it again" in run.explanation
    assert "Restart & Run All" not in run.explanation
    assert not _processes_running(f"sleep\0{marker}")  # the sandbox took the cell's child along


def test_the_stand_ins_statuses_are_explained() -> None:
    assert "fork server stopped" in explain_death(LOST_SUPERVISOR, sandboxed=True)
    assert "fork server" not in explain_death(LOST_SUPERVISOR, sandboxed=False)


def test_where_the_server_cannot_work_the_grader_says_so_and_grades_anyway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def unavailable(self: Zygote, bwrap: str) -> None:
        self.close()
        raise ZygoteUnavailable("the fork server cannot start a kernel inside a sandbox here")

    monkeypatch.setattr(Zygote, "ready", unavailable)
    notebook = tmp_path / "class" / "lin" / f"{EXERCISE}.ipynb"
    notebook.parent.mkdir(parents=True)
    solution = nbformat.read(REPO / "solutions" / f"{EXERCISE}.ipynb", as_version=4)
    solution.cells.insert(0, nbformat.v4.new_code_cell(NOT_PRELOADED))  # before its imports
    nbformat.write(solution, notebook)
    monkeypatch.chdir(tmp_path)
    with caplog.at_level(logging.WARNING, logger="course_helpers.grading.batch"):
        assert main([str(tmp_path / "class"), "-q"]) == 0
    said = [record.getMessage() for record in caplog.records]
    assert said == [
        "grader: the fork server cannot start a kernel inside a sandbox here; "
        "each kernel imports the SDKs itself (slower)"
    ]
    rows = (tmp_path / "grade-report.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert rows and all(",ok," in row and ",true," in row for row in rows), rows


def test_a_learners_module_that_shadows_a_preloaded_one_still_shadows_it(
    tmp_path: Path, zygote: Zygote, pristine: PristinePackage
) -> None:
    """As on the learner's machine, their ``openai.py`` is what ``import openai`` finds: such a
    kernel is started afresh (by the stand-in), not forked with the real SDK imported."""
    (tmp_path / "learner").mkdir()
    (tmp_path / "learner" / "openai.py").write_text("SHADOW = True\n", encoding="utf-8")
    cell = "import openai\nassert getattr(openai, 'SHADOW', False), openai.__file__"
    run = _run(tmp_path, [cell], pristine, zygote, own_folder=True)
    assert run.cell_errors == [] and not run.kernel_died, run


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (["openai.py", "notes.ipynb"], ["openai"]),
        (["anthropic/__init__.py"], ["anthropic"]),
        (["json.pyc", "ipykernel.cpython-311-x86_64-linux-gnu.so"], ["ipykernel", "json"]),
        (["openai/readme.txt", "openai.txt", "my_helpers.py"], []),
    ],
)
def test_which_files_shadow_an_imported_module(
    tmp_path: Path, files: list[str], expected: list[str]
) -> None:
    import anthropic  # noqa: F401  (imported here, as in the fork server)
    import ipykernel  # noqa: F401
    import openai  # noqa: F401

    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")
    assert shadowed(str(tmp_path)) == expected
