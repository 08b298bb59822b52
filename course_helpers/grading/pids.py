"""A cap on the number of processes one kernel may have, for a grader run as root.

The sandbox's launcher sets ``RLIMIT_NPROC``, which Linux counts per user in each user
namespace, so a fork bomb stops at the cap; but Linux never applies that limit to root, and a
sandbox started by root maps its user to root outside. Then each kernel gets its own pids cgroup
(cgroup v1's ``pids`` hierarchy, or v2 where ``pids`` is enabled for children): a small launcher
joins it before it becomes bwrap, so the kernel and everything it starts are counted from the
first fork. Without root or a writable pids hierarchy this does nothing (the rlimit holds).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProcessCap"]

_HIERARCHIES = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))
_JOIN = """\
import os, sys
with open(sys.argv[1], "w") as procs:
    procs.write(str(os.getpid()))
os.execv(sys.argv[2], sys.argv[2:])
"""
_REMOVE_WAIT = 5.0
_PREFIX = "course-grader-"  # then the grader's pid: a cgroup whose grader is gone is an orphan


def _hierarchy() -> Path | None:
    """A pids cgroup folder this process may create children in, or None."""
    for base in _HIERARCHIES:
        if not (base / "cgroup.procs").exists() or not os.access(base, os.W_OK):
            continue
        if (base / "pids.max").exists() or base.name == "pids":  # v1, or a v2 child
            return base
        controls = base / "cgroup.subtree_control"
        with contextlib.suppress(OSError):
            if "pids" in controls.read_text().split():
                return base
    return None


def _grader_pid(name: str) -> int | None:
    """The pid in ``course-grader-<pid>-<hex>``; ``None`` for an older name without one."""
    pid, _, rest = name.removeprefix(_PREFIX).partition("-")
    return int(pid) if pid.isdigit() and rest else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _remove_orphans(base: Path) -> None:
    """Remove the empty cgroups of graders that died without cleaning up (SIGKILL, a crash).

    Their kernels died with them (bubblewrap's ``--die-with-parent``); the folders stay, one
    per kernel, until reboot. A cgroup whose grader's pid is alive, or that still holds a
    process, is left alone; so is one of an older name without a pid, until it is empty.
    """
    for path in base.glob(f"{_PREFIX}*"):
        pid = _grader_pid(path.name)
        if pid is not None and _alive(pid):
            continue
        with contextlib.suppress(OSError):
            if not (path / "cgroup.procs").read_text().split():
                path.rmdir()


@dataclass(frozen=True)
class ProcessCap:
    """One kernel's pids cgroup: processes that join it may never number more than ``limit``."""

    path: Path
    limit: int

    @classmethod
    def create(cls, limit: int) -> ProcessCap | None:
        """A new cgroup capped at ``limit``, when the grader is root and one can be made."""
        if limit <= 0 or os.geteuid() != 0:
            return None
        base = _hierarchy()
        if base is None:
            return None
        _remove_orphans(base)
        path = base / f"{_PREFIX}{os.getpid()}-{secrets.token_hex(8)}"
        try:
            path.mkdir()
            (path / "pids.max").write_text(str(limit))
        except OSError:
            with contextlib.suppress(OSError):
                path.rmdir()
            return None
        return cls(path, limit)

    def command(self, inner: Sequence[str]) -> list[str]:
        """``inner`` started from inside the cgroup (the launcher joins, then becomes it)."""
        return [sys.executable, "-I", "-S", "-c", _JOIN, str(self.path / "cgroup.procs"), *inner]

    def remove(self) -> None:
        """Kill whatever is still in the cgroup, then remove it."""
        deadline = time.monotonic() + _REMOVE_WAIT
        while True:
            with contextlib.suppress(OSError):
                for line in (self.path / "cgroup.procs").read_text().split():
                    with contextlib.suppress(ProcessLookupError, ValueError):
                        os.kill(int(line), signal.SIGKILL)
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.05)
