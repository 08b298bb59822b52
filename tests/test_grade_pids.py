"""A grader run as root gives each kernel a pids cgroup; one killed with SIGKILL cannot remove
them, so the next grader removes the empty ones whose grader is gone, and nothing else."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from course_helpers.grading import pids
from course_helpers.grading.pids import ProcessCap

BASE = pids._hierarchy()
pytestmark = pytest.mark.skipif(
    BASE is None, reason="needs root and a writable pids cgroup hierarchy"
)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _cgroup(name: str) -> Path:
    assert BASE is not None
    path = BASE / name
    path.mkdir()
    return path


def test_the_empty_cgroups_of_dead_graders_are_removed_and_no_others() -> None:
    tag = secrets.token_hex(4)
    orphan = _cgroup(f"course-grader-{_dead_pid()}-{tag}a")
    old_name = _cgroup(f"course-grader-{tag}b")  # named before pids were in names
    live = _cgroup(f"course-grader-{os.getpid()}-{tag}c")  # a grader still running
    busy = _cgroup(f"course-grader-{_dead_pid()}-{tag}d")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    cap = None
    try:
        (busy / "cgroup.procs").write_text(str(sleeper.pid))
        cap = ProcessCap.create(16)
        assert cap is not None and cap.path.name.startswith(f"course-grader-{os.getpid()}-")
        assert not orphan.exists() and not old_name.exists()
        assert live.exists() and busy.exists()  # a live grader's, or one holding a process
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()
        for path in (live, busy, orphan, old_name):
            if path.exists():
                ProcessCap(path, 0).remove()
        if cap is not None:
            cap.remove()
