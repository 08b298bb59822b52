"""Messages for a notebook that was stopped: which cell, which limit, and whose doing it was.

A learner reading "look for a loop that never ends" when every cell finished within its limit,
or "your kernel died" when another process killed it, is blamed for something they did not do.
These messages say what the grader saw: the cell that was running, how long it had run, whether
every cell had kept within ``--cell-timeout``, and how the kernel ended.
"""

from __future__ import annotations

import signal
from collections.abc import Sequence

import nbformat

from course_helpers.grading.zygote import LOST_SUPERVISOR

__all__ = ["cell_label", "explain_death", "explain_timeout", "ignored_interrupt"]

_SLACK = 2.0  # seconds past the cell limit that still count as "within" (interrupt latency)


def cell_label(notebook: nbformat.NotebookNode, index: int) -> str:
    """``code cell 3 (while True: ...)``: its number among code cells, and its first line."""
    cells = notebook.cells
    if not 0 <= index < len(cells):
        return "a cell"
    number = sum(cell.get("cell_type") == "code" for cell in cells[: index + 1])
    lines = [line.strip() for line in str(cells[index].get("source", "")).splitlines()]
    first = next((line for line in lines if line and not line.startswith("#")), "")
    if len(first) > 40:
        first = first[:37] + "..."
    return f"code cell {number} ({first})" if first else f"code cell {number}"


def ignored_interrupt(
    stopped_at: tuple[int, float] | None, grading_index: int, cell_timeout: float
) -> int | None:
    """The learner cell that was still running well past its limit when the notebook's time
    ran out (it ignored the interrupt), or None."""
    if stopped_at is None:
        return None
    index, running = stopped_at
    if 0 <= index != grading_index and running > cell_timeout + _SLACK:
        return index
    return None


def explain_timeout(
    notebook: nbformat.NotebookNode,
    grading_index: int,
    stopped_at: tuple[int, float] | None,
    timed_out: Sequence[int],
    cell_timeout: float,
    notebook_timeout: float,
) -> str:
    """Why the notebook ran out of time: a cell that ignored its interrupt, or slow as a whole."""
    index, running = stopped_at if stopped_at is not None else (-1, 0.0)
    interrupted = [i for i in timed_out if i not in (index, grading_index)]
    before = ""
    if interrupted:
        names = ", ".join(cell_label(notebook, i) for i in interrupted)
        before = f"; before that, {names} had been interrupted at the {cell_timeout:g} s cell limit"
    stopped = f"the notebook reached --notebook-timeout {notebook_timeout:g} s"
    if index == grading_index:
        return (
            f"every learner cell finished, but the checks were still running when {stopped}"
            f"{before} — an answer that hangs or is very slow in the checks"
        )
    label = cell_label(notebook, index)
    if ignored_interrupt(stopped_at, grading_index, cell_timeout) is not None:
        return (
            f"{label} ran {running:.0f} s, past its {cell_timeout:g} s limit, and ignored the "
            f"interrupt, so the kernel was stopped when {stopped}, before the checks ran{before} "
            "— look for a loop that catches KeyboardInterrupt or waits inside C code"
        )
    within = "every cell stayed within" if not interrupted else "this cell stayed within"
    return (
        f"{within} its {cell_timeout:g} s limit, but {stopped} while {label} was running"
        f"{before} — the cells are slow together, not stuck: make them faster, or ask for a "
        "longer --notebook-timeout"
    )


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def explain_death(returncode: int | None, *, sandboxed: bool) -> str:
    """How the kernel ended, from its launcher's exit status.

    bwrap exits with 128+N when the kernel died of signal N, and is itself killed (a negative
    status) only from outside the sandbox. Without the sandbox, any process of this user
    (another notebook included) could have sent the signal, so the message does not assume.
    """
    if returncode is None:
        return "the kernel stopped answering before the checks ran; nothing was graded"
    if sandboxed and returncode == LOST_SUPERVISOR:
        return (
            f"the kernel's sandbox ended with code {LOST_SUPERVISOR}: the grader's fork server "
            "stopped while it ran (or the notebook called os._exit with that code) — grade it "
            "again"
        )
    if returncode >= 0 and not (sandboxed and returncode > 128):
        return (
            f"the kernel exited with code {returncode} before the checks ran (os._exit, exit() "
            "or a crash) — run the notebook with Restart & Run All to see where"
        )
    number = returncode - 128 if returncode > 0 else -returncode
    name = _signal_name(number)
    if sandboxed and returncode < 0:
        return (
            f"the kernel's sandbox was stopped from outside ({name}: the system or the person "
            "running the grader), not by this notebook — grade it again"
        )
    if sandboxed:
        return (
            f"the kernel was killed by {name} before the checks ran: the notebook killed its "
            "own kernel, crashed, or the machine ran out of memory — run it with Restart & Run "
            "All to see where"
        )
    return (
        f"the kernel was killed by {name} before the checks ran; graded without a sandbox, so "
        "another process (even another notebook) may have sent it — grade it again in the "
        "sandbox to tell"
    )
