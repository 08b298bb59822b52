"""Run one notebook in a fresh, offline kernel with nested time limits, and read its grade.

Time limits nest: each check has its own limit inside ``check()``; every learner cell gets
``cell_timeout`` (then the kernel is interrupted and the next cell runs); the appended grading
cell gets ``grading_timeout`` (enough for all its checks to time out); the whole notebook gets
``notebook_timeout``, enforced by a watchdog thread that SIGKILLs the kernel's process group,
because an interrupt does nothing to code that ignores SIGINT or loops in C.

Each kernel runs in its own bubblewrap sandbox (``sandbox.py``) unless the caller opts out, in
a scratch folder of its own: ``work`` (the notebook's folder copy, its cwd), ``home``, and ``k``
(the connection file and the ``ipc`` sockets the grader talks to it through). Given a fork
server (``zygote.py``), the kernel is forked into that sandbox with the SDKs already imported.

Stored outputs are cleared before the run and never read; the grade is the payload the grading
cell publishes in *this* run, stamped with a one-time nonce.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import copy as copy_module
import functools
import json
import math
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from course_helpers.grading.explain import (
    cell_label,
    explain_death,
    explain_timeout,
    ignored_interrupt,
)
from course_helpers.grading.guard import GRADE_MIME, Guard
from course_helpers.grading.kernel import GradingKernelManager
from course_helpers.grading.pids import ProcessCap
from course_helpers.grading.pristine import PristineCopy, PristinePackage
from course_helpers.grading.sandbox import ResourceLimits, Sandbox, limited_command, require_bwrap
from course_helpers.grading.zygote import Zygote, stand_in_command
from course_helpers.offline_env import offline_environment

__all__ = [
    "GRADE_MIME",
    "GRADING_TAG",
    "Execution",
    "Limits",
    "grading_cell_source",
    "kernel_environment",
    "kill_all_kernels",
    "read_notebook",
    "run_notebook",
]

GRADING_TAG = "course-helpers-grader"
"""The tag on the cell the grader appends."""

# Environment variables never passed to a learner's kernel (keys, tokens, endpoints, settings).
_DROPPED_PREFIXES = ("OPENAI_", "ANTHROPIC_", "COURSE_", "AZURE_OPENAI", "AWS_", "GOOGLE_")
_DROPPED_MARKERS = ("API_KEY", "TOKEN", "SECRET", "PASSWORD")
# Added to the course's offline environment (``offline_env.py``), which every kernel starts from.
_GRADING_SETTINGS = {
    "COURSE_GRADING": "1",
    "TQDM_DISABLE": "1",
    "PYTHONHASHSEED": "0",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}
# Folders not copied into the working directory (a notebook's folder may be a whole project).
_NOT_COPIED = {
    ".git",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".ipynb_checkpoints",
    ".mypy_cache",
}
_COPY_LIMIT = 200 * 1024 * 1024
_KILL_GRACE = 15.0
_GUARD_SOURCE = "course_grader_guard"  # grading-cell metadata the guard's code travels in
_SKIPPED_SOURCE = "# skipped by the grader: this cell ignored its interrupt on the first run\n"


@dataclass(frozen=True)
class Limits:
    """Time limits (seconds) and the cap on learner output kept (characters)."""

    cell_timeout: float = 30.0
    notebook_timeout: float = 180.0
    grading_timeout: float = 60.0
    output_cap: int = 1_000_000
    resources: ResourceLimits = field(default_factory=ResourceLimits)


@dataclass
class Execution:
    """What happened when one notebook ran."""

    payload: dict[str, Any] | None = None
    cell_errors: list[str] = field(default_factory=list)
    timed_out_cells: list[int] = field(default_factory=list)
    output_chars: int = 0
    output_too_large: bool = False
    kernel_died: bool = False
    notebook_timed_out: bool = False
    tampered: str | None = None
    grading_error: str | None = None
    problem: str | None = None
    seconds: float = 0.0
    explanation: str | None = None
    """Why a notebook timed out or its kernel died, naming the cell and who stopped it."""
    runaway_cell: int | None = None
    """The learner cell that ignored its interrupt until the notebook's time ran out."""
    note: str = ""
    """What the grader did that the grade alone does not say (a cell skipped on a re-run)."""


class _KernelGroups:
    """The process groups of every kernel still running, so none outlives the grader."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._groups: set[int] = set()

    def add(self, pgid: int) -> None:
        with self._lock:
            self._groups.add(pgid)

    def discard(self, pgid: int) -> None:
        with self._lock:
            self._groups.discard(pgid)

    def kill_all(self) -> None:
        with self._lock:
            groups = list(self._groups)
            self._groups.clear()
        for pgid in groups:
            _kill_group(pgid)


_LIVE = _KernelGroups()


def kill_all_kernels() -> None:
    """SIGKILL every kernel this process started that is still running (Ctrl+C, exit)."""
    _LIVE.kill_all()


def _kill_group(pgid: int) -> None:
    # A group id is not reused while any member lives, so this cannot hit an unrelated group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _dropped(name: str) -> bool:
    upper = name.upper()
    return upper.startswith(_DROPPED_PREFIXES) or any(mark in upper for mark in _DROPPED_MARKERS)


def kernel_environment(base: Mapping[str, str], ipython_dir: Path) -> dict[str, str]:
    """The kernel's environment: ``base`` without keys or course settings, forced offline."""
    kept = {name: value for name, value in base.items() if not _dropped(name)}
    env = offline_environment(kept, ipython_dir=ipython_dir)
    env.update(_GRADING_SETTINGS)
    return env


def grading_cell_source(guard: Guard) -> str:
    """The cell appended after the learner's: it asks the guard (installed first) to grade."""
    return guard.grading_source()


def _output_size(msg: Mapping[str, Any]) -> int:
    content = msg.get("content", {})
    if msg.get("msg_type") == "stream":
        return len(content.get("text", ""))
    if msg.get("msg_type") == "error":
        return sum(len(line) for line in content.get("traceback", []))
    data = content.get("data", {})
    return sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in data.values())


@dataclass(frozen=True)
class _Launch:
    """Where the kernel's connection file goes, and how its command line is wrapped."""

    connection_file: Path
    wrap: Callable[[list[str]], list[str]]
    sandboxed: bool
    close: Callable[[], None] = lambda: None


class _GradingClient(NotebookClient):
    """nbclient, plus: the kernel's process group, timed-out cells, capped learner output."""

    def setup_grading(
        self, grading_index: int, output_cap: int, watchdog: _Watchdog, launch: _Launch
    ) -> None:
        self.launch = launch
        self.kernel_process: subprocess.Popen[bytes] | None = None
        self.cell_started = time.monotonic()
        self.stopped_at: tuple[int, float] | None = None
        self.grading_index = grading_index
        self.output_cap = output_cap
        self.watchdog = watchdog
        self.output_chars = 0
        self.output_too_large = False
        self.timed_out_cells: list[int] = []
        self.cell_errors: list[str] = []
        self.grading_error: str | None = None
        self.current_index = -1
        self.on_cell_start = self._on_cell_start
        self.on_cell_executed = self._on_cell_executed
        self.on_notebook_start = self._install_guard

    async def _install_guard(self, notebook: nbformat.NotebookNode) -> None:
        """Run the guard, silently and before any learner cell (see ``guard.py``)."""
        source = notebook.cells[self.grading_index].metadata.pop(_GUARD_SOURCE, None)
        if not source or self.kc is None:
            return
        msg_id = self.kc.execute(source, silent=True, store_history=False, allow_stdin=False)
        reply = await self.async_wait_for_reply(msg_id)
        content = (reply or {}).get("content", {})
        if content.get("status") != "ok":
            raise RuntimeError(f"the grader's guard did not start: {content.get('evalue', '')}")

    def create_kernel_manager(self) -> GradingKernelManager:
        self.km = GradingKernelManager(
            kernel_name=self.kernel_name,
            transport="ipc",
            connection_file=str(self.launch.connection_file),
            wrap=self.launch.wrap,
            config=self.config,
        )
        return self.km

    def freeze(self) -> None:
        """Note which cell was running, and for how long, when the notebook ran out of time."""
        self.stopped_at = (self.current_index, time.monotonic() - self.cell_started)

    async def async_start_new_kernel(self, **kwargs: Any) -> None:
        await super().async_start_new_kernel(**kwargs)
        provisioner = getattr(self.km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        if isinstance(process, subprocess.Popen):
            self.kernel_process = process
        pgid = getattr(provisioner, "pgid", None) or getattr(provisioner, "pid", None)
        if isinstance(pgid, int):
            self.watchdog.kernel_started(pgid)

    async def async_start_new_kernel_client(self) -> Any:
        client = await super().async_start_new_kernel_client()
        self.launch.close()  # the kernel answers: its fork-server door shuts before any cell runs
        return client

    async def _async_handle_timeout(
        self, timeout: int, cell: nbformat.NotebookNode | None = None
    ) -> dict[str, Any] | None:
        if self.current_index not in self.timed_out_cells:
            self.timed_out_cells.append(self.current_index)
        return await super()._async_handle_timeout(timeout, cell)

    def _on_cell_start(self, cell: nbformat.NotebookNode, cell_index: int) -> None:
        self.cell_started = time.monotonic()
        self.current_index = cell_index

    def _on_cell_executed(
        self, cell: nbformat.NotebookNode, cell_index: int, execute_reply: dict[str, Any]
    ) -> None:
        content = (execute_reply or {}).get("content", {})
        if content.get("status") != "error":
            return
        name = str(content.get("ename", "Error"))
        if cell_index == self.grading_index:
            self.grading_error = f"{name}: {content.get('evalue', '')}"
        elif cell_index not in self.timed_out_cells:
            self.cell_errors.append(name)

    def clear_output(
        self, outs: list[nbformat.NotebookNode], msg: dict[str, Any], cell_index: int
    ) -> None:
        if cell_index != self.grading_index:  # learner threads cannot erase the grade
            super().clear_output(outs, msg, cell_index)

    def output(
        self,
        outs: list[nbformat.NotebookNode],
        msg: dict[str, Any],
        display_id: str | None,
        cell_index: int,
    ) -> nbformat.NotebookNode | None:
        if cell_index == self.grading_index:
            # Keep only the payload: learner threads may still print while the checks run.
            data = msg.get("content", {}).get("data", {})
            if msg.get("msg_type") != "display_data" or GRADE_MIME not in data:
                return None
        else:
            self.output_chars += _output_size(msg)
            if self.output_chars > self.output_cap:
                self.output_too_large = True
                return None
        return super().output(outs, msg, display_id, cell_index)


class _Watchdog:
    """Kills the kernel's process group once the notebook's time is up."""

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._pgid: int | None = None
        self.fired = False
        self.on_fire: Callable[[], None] | None = None
        self._timer = threading.Timer(seconds, self.fire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def kernel_started(self, pgid: int) -> None:
        with self._lock:
            self._pgid = pgid
            fired = self.fired
        _LIVE.add(pgid)
        if fired:
            _kill_group(pgid)

    def fire(self) -> None:
        with self._lock:
            if not self.fired and self.on_fire is not None:
                self.on_fire()
            self.fired = True
            pgid = self._pgid
        if pgid is not None:
            _kill_group(pgid)

    def finish(self) -> None:
        """Stop the timer and make sure nothing of the kernel survives."""
        self._timer.cancel()
        with self._lock:
            pgid = self._pgid
        if pgid is not None:
            _kill_group(pgid)
            _LIVE.discard(pgid)


def _folder_size(source: Path, limit: int) -> int:
    """Bytes under ``source`` that would be copied, counting no further than ``limit``."""
    total = 0
    for folder, dirs, files in os.walk(source):
        dirs[:] = [name for name in dirs if name not in _NOT_COPIED]
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(folder, name)).st_size
            if total > limit:
                return total
    return total


def _copy_workdir(notebook: Path, parent: Path, own_folder: bool) -> Path:
    """A temporary copy of the notebook's folder, when ``own_folder`` says it is the learner's
    own (a notebook loose in a class folder gets only itself: the folder holds everyone's
    work); only the notebook, too, if the folder is huge."""
    workdir = parent / "work"
    source = notebook.parent
    if own_folder and _folder_size(source, _COPY_LIMIT) <= _COPY_LIMIT:
        with contextlib.suppress(OSError, shutil.Error):
            shutil.copytree(
                source, workdir, ignore=shutil.ignore_patterns(*_NOT_COPIED), symlinks=True
            )
    workdir.mkdir(exist_ok=True)
    if not (workdir / notebook.name).exists():
        with contextlib.suppress(OSError):
            shutil.copy2(notebook, workdir / notebook.name)
    return workdir


def _prepare(notebook: nbformat.NotebookNode, grading_source: str) -> int:
    """Clear stored outputs (never trusted) and append the grading cell; its index."""
    for cell in notebook.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    cell = nbformat.v4.new_code_cell(grading_source)  # type: ignore[no-untyped-call]
    cell.metadata["tags"] = [GRADING_TAG]
    notebook.cells.append(cell)
    return len(notebook.cells) - 1


def read_notebook(path: Path) -> nbformat.NotebookNode | Execution:
    """The notebook at ``path``, or a failed ``Execution`` saying why it cannot be read."""
    try:
        notebook: nbformat.NotebookNode = nbformat.read(  # type: ignore[no-untyped-call]
            path, as_version=4
        )
        return notebook
    except Exception as exc:  # a learner's file may be anything
        return Execution(problem=f"not a readable notebook ({type(exc).__name__}: {exc})"[:300])


def run_notebook(
    notebook: nbformat.NotebookNode,
    path: Path,
    exercise_ids: Sequence[str],
    pristine: PristinePackage,
    *,
    checks_module: str,
    limits: Limits,
    base_env: Mapping[str, str] | None = None,
    sandboxed: bool = True,
    own_folder: bool = False,
    zygote: Zygote | None = None,
) -> Execution:
    """Execute ``notebook`` (read from ``path``) in a fresh kernel, grade it on ``exercise_ids``.

    With ``sandboxed`` (the default) the kernel runs inside bubblewrap; it raises
    ``SandboxUnavailable`` when bwrap cannot be used. Otherwise it never raises: whatever goes
    wrong is recorded in the returned ``Execution``. ``own_folder``: the notebook's folder
    belongs to its learner alone, so its other files are copied next to it. ``zygote``: a fork
    server that starts sandboxed kernels with the SDKs already imported (``zygote.py``).

    A learner cell that ignores its interrupt until the notebook's time runs out (a last cell
    left looping) would cost every answer above it all credit: the notebook is then run once
    more, in a fresh kernel, with that cell emptied, and graded on that run (``note`` says so;
    the cell counts as timed out).
    """
    run = functools.partial(
        _run_once,
        path=path,
        exercise_ids=exercise_ids,
        pristine=pristine,
        checks_module=checks_module,
        limits=limits,
        base_env=base_env,
        sandboxed=sandboxed,
        own_folder=own_folder,
        zygote=zygote,
    )
    first = run(notebook)
    if first.runaway_cell is None:
        return first
    index = first.runaway_cell
    emptied = copy_module.deepcopy(notebook)
    emptied.cells[index]["source"] = _SKIPPED_SOURCE
    second = run(emptied)
    second.seconds += first.seconds
    second.timed_out_cells = sorted({*second.timed_out_cells, index})
    second.note = (
        f"{cell_label(notebook, index)} ignored its interrupt until --notebook-timeout; "
        "graded on a second run with that cell skipped"
    )
    return second


def _run_once(
    notebook: nbformat.NotebookNode,
    *,
    path: Path,
    exercise_ids: Sequence[str],
    pristine: PristinePackage,
    checks_module: str,
    limits: Limits,
    base_env: Mapping[str, str] | None,
    sandboxed: bool,
    own_folder: bool,
    zygote: Zygote | None,
) -> Execution:
    bwrap = require_bwrap() if sandboxed else None
    started = time.monotonic()
    result = Execution()
    notebook = copy_module.deepcopy(notebook)
    scratch = Path(tempfile.mkdtemp(prefix="grade-run-"))
    copy = pristine.materialise()
    cap = ProcessCap.create(limits.resources.processes)
    launch: _Launch | None = None
    try:
        workdir = _copy_workdir(path, scratch, own_folder)
        home, channel = scratch / "home", scratch / "k"
        home.mkdir()
        channel.mkdir()
        env = kernel_environment(os.environ if base_env is None else base_env, home / ".ipython")
        launch = _launch(bwrap, workdir, home, channel, copy, env, limits.resources, cap, zygote)
        guard = Guard.create(pristine, copy, checks_module, exercise_ids)
        grading_index = _prepare(notebook, grading_cell_source(guard))
        notebook.cells[grading_index].metadata[_GUARD_SOURCE] = guard.install_source()
        _execute(notebook, grading_index, workdir, env, limits, result, launch)
        if not (result.kernel_died or result.notebook_timed_out):
            verdict = guard.read(
                notebook.cells[grading_index].get("outputs", []),
                cell_finished=result.grading_error is None,
            )
            result.payload, result.tampered = verdict.payload, verdict.tampered
        if not copy.intact(pristine.digest) or guard.seal_broken():
            result.tampered = "the grader's private copy of the checks was modified during the run"
        elif result.payload is not None and result.tampered is None:
            origin = str(result.payload.get("origin", ""))
            if not origin.startswith(str(copy.root)):
                result.tampered = "the checks were not loaded from the grader's private copy"
    except Exception as exc:  # the grader must survive anything a notebook does
        result.problem = f"the grader failed on this notebook ({type(exc).__name__}: {exc})"[:300]
    finally:
        if launch is not None:
            launch.close()
        copy.remove()
        if cap is not None:
            cap.remove()
        shutil.rmtree(scratch, ignore_errors=True)
        result.seconds = time.monotonic() - started
    return result


def _launch(
    bwrap: str | None,
    workdir: Path,
    home: Path,
    channel: Path,
    copy: PristineCopy,
    env: dict[str, str],
    resources: ResourceLimits,
    cap: ProcessCap | None = None,
    zygote: Zygote | None = None,
) -> _Launch:
    """How to start this kernel: rlimits always, inside bwrap unless ``bwrap`` is None, and in
    its own pids cgroup when ``cap`` is given (a root grader: see ``pids.py``); forked by
    ``zygote`` into the sandbox bwrap built, when given (``zygote.py``).

    In the sandbox, ``import course_helpers`` finds the read-only private copy: the installed
    package is not mounted, so no notebook can edit what another one imports.
    """

    def capped(command: list[str]) -> list[str]:
        return command if cap is None else cap.command(command)

    if bwrap is None:
        return _Launch(
            channel / "c.json", lambda command: capped(limited_command(command, resources)), False
        )
    env.update(HOME=str(home), TMPDIR="/tmp", PYTHONPATH=str(copy.root))
    sandbox = Sandbox(
        bwrap,
        workdir=workdir,
        writable=(workdir, home, channel),
        read_only=(copy.root,),
    )
    if zygote is None:
        return _Launch(
            channel / "c.json",
            lambda command: capped(sandbox.command(limited_command(command, resources))),
            True,
        )
    door = zygote.door(channel, None if cap is None else cap.path / "cgroup.procs")

    def forked(command: list[str]) -> list[str]:
        inner = stand_in_command(door.path, command)
        return capped(sandbox.command(limited_command(inner, resources)))

    return _Launch(channel / "c.json", forked, True, door.close)


def _execute(
    notebook: nbformat.NotebookNode,
    grading_index: int,
    workdir: Path,
    env: dict[str, str],
    limits: Limits,
    result: Execution,
    launch: _Launch,
) -> None:
    cell_timeout = max(1, math.ceil(limits.cell_timeout))
    grading_timeout = max(cell_timeout, math.ceil(limits.grading_timeout))

    def timeout_for(cell: nbformat.NotebookNode) -> int:
        return grading_timeout if GRADING_TAG in cell.metadata.get("tags", []) else cell_timeout

    watchdog = _Watchdog(limits.notebook_timeout)
    client = _GradingClient(
        notebook,
        timeout=cell_timeout,
        timeout_func=timeout_for,
        interrupt_on_timeout=True,
        allow_errors=True,
        kernel_name="python3",
        shutdown_kernel="immediate",
        startup_timeout=max(10, min(60, math.ceil(limits.notebook_timeout))),
        iopub_timeout=4,
        record_timing=False,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.setup_grading(grading_index, limits.output_cap, watchdog, launch)
    watchdog.on_fire = client.freeze
    watchdog.start()
    try:
        asyncio.run(
            asyncio.wait_for(
                client.async_execute(
                    cwd=str(workdir),
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                ),
                timeout=limits.notebook_timeout + _KILL_GRACE,
            )
        )
    except DeadKernelError:
        result.kernel_died = True
    except TimeoutError:
        watchdog.fire()
        result.kernel_died = True
    finally:
        watchdog.finish()
        # nbclient leaves its exit hook behind when a kernel dies while starting; the kernel is
        # already gone, and the hook would fail at exit on the manager it has let go of.
        atexit.unregister(client._cleanup_kernel)
    result.notebook_timed_out = watchdog.fired
    if watchdog.fired:
        result.kernel_died = False
    result.cell_errors = list(client.cell_errors)
    result.timed_out_cells = [i for i in client.timed_out_cells if i != grading_index]
    result.output_chars = client.output_chars
    result.output_too_large = client.output_too_large
    result.grading_error = client.grading_error
    if grading_index in client.timed_out_cells and result.grading_error is None:
        result.grading_error = f"the checks took longer than {grading_timeout} s"
    if result.notebook_timed_out:
        result.runaway_cell = ignored_interrupt(
            client.stopped_at, grading_index, limits.cell_timeout
        )
        result.explanation = explain_timeout(
            notebook,
            grading_index,
            client.stopped_at,
            client.timed_out_cells,
            limits.cell_timeout,
            limits.notebook_timeout,
        )
    elif result.kernel_died:
        process = client.kernel_process
        result.explanation = explain_death(
            None if process is None else process.poll(), sandboxed=launch.sandboxed
        )
