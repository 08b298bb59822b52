"""Each learner's kernel runs inside bubblewrap (``bwrap``), the sandbox Flatpak uses.

The kernel sees a root made of: the system's ``/usr`` (and a few ``/etc`` files) and the
Python installation, read-only; the grader's private copy of the course package, read-only;
its own scratch folders (the notebook's working copy, a home, and the folder holding the
connection file and jupyter's ``ipc`` sockets), writable; a small private ``/tmp``. Nothing
else: no other submission, no grader output, no network (a private loopback only), its own PID
namespace (it cannot see or signal the grader or another kernel, and everything it starts dies
with it, even in a new session) and an unprivileged user. Memory, CPU time, file size and the
number of processes (threads included) are capped with rlimits, set by a tiny launcher just
before the kernel starts. Linux never applies the process rlimit to root, so a grader run as root
caps processes with a pids cgroup instead (``pids.py``).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "ResourceLimits",
    "Sandbox",
    "SandboxUnavailable",
    "limited_command",
    "require_bwrap",
    "sandbox_problem",
]

_NOBODY = "65534"
_TMP_SIZE = 256 * 1024 * 1024
# /etc files a Python process may read; never the whole of /etc (shadow, keys, credentials).
_ETC_FILES = (
    "/etc/alternatives",
    "/etc/ca-certificates",
    "/etc/ssl",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/mime.types",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/group",
    "/etc/hosts",
)
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")

# Runs first inside the sandbox: set the rlimits, then become the kernel (os.execv keeps the pid).
_LAUNCHER = """\
import os, resource, sys
memory, cpu, size, tasks = (int(value) for value in sys.argv[1:5])
if memory: resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
if cpu: resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
if size: resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
if tasks: resource.setrlimit(resource.RLIMIT_NPROC, (tasks, tasks))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
os.execv(sys.argv[5], sys.argv[5:])
"""


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces here."""


@dataclass(frozen=True)
class ResourceLimits:
    """Per-kernel caps (0 means none): address space and file size in bytes, CPU in seconds,
    and processes: every process and thread of the kernel (it and its checks use a few dozen)."""

    memory: int = 2 * 1024**3
    cpu_seconds: int = 600
    file_size: int = 256 * 1024**2
    processes: int = 256


def limited_command(command: Sequence[str], limits: ResourceLimits) -> list[str]:
    """``command`` started through the launcher that applies ``limits`` first."""
    values = (limits.memory, limits.cpu_seconds, limits.file_size, limits.processes)
    return [sys.executable, "-I", "-S", "-c", _LAUNCHER, *map(str, values), *command]


def _python_roots() -> list[Path]:
    """The folders the kernel's Python needs: the venv and the installation behind it."""
    roots: list[Path] = []
    for name in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        for path in (Path(name), Path(name).resolve()):
            if path not in roots:
                roots.append(path)
    executable = Path(sys.executable).resolve().parent.parent
    if executable not in roots:
        roots.append(executable)
    return [root for root in roots if not any(root.is_relative_to(d) for d in _SYSTEM_DIRS)]


def _system_args() -> list[str]:
    args: list[str] = []
    for name in _SYSTEM_DIRS:
        path = Path(name)
        if path.is_symlink():  # merged /usr: /bin -> usr/bin
            args += ["--symlink", os.readlink(path), name]
        elif path.is_dir():
            args += ["--ro-bind", name, name]
    for name in _ETC_FILES:
        args += ["--ro-bind-try", name, name]
    return args


@dataclass(frozen=True)
class Sandbox:
    """The bwrap command line for one kernel: what it may read, write, and where it starts."""

    bwrap: str
    workdir: Path
    writable: tuple[Path, ...] = ()
    read_only: tuple[Path, ...] = ()
    env: dict[str, str] = field(default_factory=dict)

    def command(self, inner: Sequence[str]) -> list[str]:
        args = [
            self.bwrap,
            "--unshare-all",  # user, pid, net, ipc, uts, cgroup
            "--uid",
            _NOBODY,
            "--gid",
            _NOBODY,
            "--hostname",
            "sandbox",
            "--die-with-parent",
            "--new-session",
            "--cap-drop",
            "ALL",
            *_system_args(),
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--size",
            str(_TMP_SIZE),
            "--tmpfs",
            "/tmp",
        ]
        for root in _python_roots():
            args += ["--ro-bind", str(root), str(root)]
        for path in self.writable:
            args += ["--bind", str(path), str(path)]
        for path in self.read_only:
            args += ["--ro-bind", str(path), str(path)]
        for name, value in self.env.items():
            args += ["--setenv", name, value]
        # The kernel's parent is bwrap's reaper (pid 1 here): ipykernel would take that for a
        # dead parent and exit. --die-with-parent does that job.
        args += ["--unsetenv", "JPY_PARENT_PID"]
        args += ["--chdir", str(self.workdir), "--", *inner]
        return args


def _find_bwrap() -> str | None:
    return shutil.which("bwrap") or (
        "/usr/bin/bwrap" if os.access("/usr/bin/bwrap", os.X_OK) else None
    )


@functools.cache
def sandbox_problem() -> str | None:
    """Why kernels cannot be sandboxed here (one line), or None when bwrap works."""
    bwrap = _find_bwrap()
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
    probe = Sandbox(bwrap, workdir=Path("/")).command(
        limited_command([sys.executable, "-I", "-S", "-c", "pass"], ResourceLimits())
    )
    try:
        done = subprocess.run(
            probe, capture_output=True, text=True, timeout=30, check=False, cwd="/"
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start ({type(exc).__name__}: {exc})"
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        return f"bubblewrap cannot create a sandbox here ({detail})"
    return None


def require_bwrap() -> str:
    """The bwrap executable, or ``SandboxUnavailable`` saying why it cannot be used."""
    problem = sandbox_problem()
    bwrap = _find_bwrap()
    if problem is not None or bwrap is None:
        raise SandboxUnavailable(problem or "bubblewrap (bwrap) is not installed")
    return bwrap
