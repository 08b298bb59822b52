"""What the end-to-end grader tests share: a clean environment, leftover processes, a fork bomb."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["FORK_BOMB", "clean_env", "processes_with"]

# A cell that forks until the process cap stops it (well under 64 children), then says so.
FORK_BOMB = """\
import os, time
children, stopped = [], None
try:
    for _ in range(200):
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        children.append(pid)
except OSError as exc:
    stopped = exc
assert stopped is not None and len(children) < 64, (len(children), stopped)
"""


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without keys, endpoints or course settings, plus ``extra``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("OPENAI_", "ANTHROPIC_", "COURSE_")) and "API_KEY" not in name
    }
    env.update(extra)
    return env


def processes_with(marker: str, *, zombies: bool = False) -> list[int]:
    """PIDs of processes whose environment carries ``marker`` (kernels inherit it); a zombie
    (dead, not yet reaped) counts only with ``zombies``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if marker.encode() in environ.split(b"\0") and (zombies or state != "Z"):
            found.append(int(entry.name))
    return found
