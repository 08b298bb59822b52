"""Kernels that start without importing the SDKs again: a fork server forks each one into its
bubblewrap sandbox.

Importing ``openai``, ``anthropic`` and ``ipykernel`` costs a kernel about 3 s of CPU, most of a
graded notebook's. The fork server (``_zygote.py``) imports them once; each sandbox is still
built by bwrap exactly as before, but what bwrap starts there is a *stand-in*: it sends the
sandbox's namespaces, its rlimits, environment, folder and the kernel's command line to the
grader, which passes them on with the stand-in's connection. The server forks the kernel into
those namespaces, where it drops every privilege before it runs. The stand-in stays as the
sandbox's process until the kernel ends and then exits as the kernel did, so the grader sees
the same process, exit status and process group as with a kernel started directly, and the
sandbox's lifetime (``--die-with-parent``, its PID namespace) still bounds the kernel's.

No learner code runs before the stand-in has sent its request, and each sandbox's door (a
socket in its own folder) takes that one connection and closes. If the server cannot start a
kernel, the stand-in starts it itself, as bwrap would have.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from course_helpers.grading import _zygote
from course_helpers.grading.sandbox import ResourceLimits, Sandbox, limited_command

__all__ = [
    "LOST_SUPERVISOR",
    "PRELOAD",
    "KernelDoor",
    "Zygote",
    "ZygoteUnavailable",
    "kernel_interpreter_options",
    "stand_in_command",
]

PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "debugpy", "openai", "anthropic")
"""What the fork server imports once: the kernel's start-up and the two SDKs."""

_DOOR_NAME = "zygote"
_ACCEPT_TIMEOUT = 60.0
_START_TIMEOUT = 60.0
_NO_FALLBACK = "--no-fallback"
LOST_SUPERVISOR = 125
"""The stand-in's exit status when the fork server stopped while its kernel ran."""
_FALLBACK_REFUSED = 97

# Runs first inside the sandbox (after the rlimits launcher): asks the fork server for the
# kernel, waits for it, and exits as it did; starts the kernel itself if the server cannot.
_NAMES, _LIMITS, _STARTED = repr(_zygote.NAMESPACES), repr(_zygote.RLIMITS), _zygote.STARTED
_STAND_IN = f"""\
import json, os, resource, signal, socket, sys
door, strict, command = sys.argv[1], sys.argv[2] == "{_NO_FALLBACK}", sys.argv[3:]
reply, conn = b"", None
try:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    conn.connect(door)
    fds = [os.open("/proc/self/ns/" + name, os.O_RDONLY) for name in {_NAMES}]
    limits = [list(resource.getrlimit(getattr(resource, name))) for name in {_LIMITS}]
    request = dict(argv=command, cwd=os.getcwd(), env=dict(os.environ), limits=limits)
    socket.send_fds(conn, [json.dumps(request).encode()], [*fds, 0, 1, 2])
    for fd in fds:
        os.close(fd)
    reply = conn.recv(4096)
except OSError:
    pass
if reply != {_STARTED!r}:
    if strict:
        os._exit({_FALLBACK_REFUSED})
    os.execv(command[0], command)
status = b""
while True:
    try:
        chunk = conn.recv(64)
    except OSError:
        break
    if not chunk:
        break
    status += chunk
try:
    code = int(status)
except ValueError:
    code = {LOST_SUPERVISOR}  # the fork server stopped: the kernel dies with this sandbox
if code < 0:
    try:
        signal.signal(-code, signal.SIG_DFL)
    except (OSError, ValueError):
        pass
    os.kill(os.getpid(), -code)
    os._exit(128 - code)
os._exit(code & 255)
"""


def kernel_interpreter_options(kernel_name: str = "python3") -> list[str]:
    """The ``-X`` options in the kernel spec's command line (ipykernel's: frozen modules off)."""
    from jupyter_client.kernelspec import KernelSpecManager

    split = _zygote.split_command(KernelSpecManager().get_kernel_spec(kernel_name).argv)
    return [] if split is None else split[0]


class ZygoteUnavailable(RuntimeError):
    """The fork server could not start, or could not start a kernel in a sandbox here."""


def stand_in_command(door: Path, command: Sequence[str], *, fallback: bool = True) -> list[str]:
    """What bwrap starts instead of ``command``: the stand-in that asks ``door`` for it."""
    return [
        sys.executable,
        "-I",
        "-S",
        "-c",
        _STAND_IN,
        str(door),
        "" if fallback else _NO_FALLBACK,
        *command,
    ]


class Zygote:
    """The grader's end of the fork server: start it, pass requests on, stop it.

    Start it from a thread that lives as long as it does (the main thread): it dies with the
    thread that started it, as its supervisors die with it.
    """

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        control: socket.socket,
        interpreter_options: Sequence[str] = (),
    ) -> None:
        self._process = process
        self._control = control
        self._options = list(interpreter_options)
        self._lock = threading.Lock()

    @classmethod
    def start(
        cls,
        env: Mapping[str, str],
        preload: Sequence[str] = PRELOAD,
        interpreter_options: Sequence[str] = (),
    ) -> Zygote:
        """A fork server importing ``preload`` in environment ``env``, its Python started with
        ``interpreter_options`` (the kernel spec's ``-X`` options: a request with others is
        refused, and its stand-in starts the kernel itself). It imports while the caller goes
        on: ``ready()`` waits for it."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        source = Path(_zygote.__file__).read_text(encoding="utf-8")
        command = [
            sys.executable,
            *interpreter_options,
            "-c",
            source,
            str(theirs.fileno()),
            json.dumps(list(preload)),
            str(os.getpid()),
        ]
        try:
            process = subprocess.Popen(
                command,
                env=dict(env),
                cwd="/",
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            ours.close()
            raise ZygoteUnavailable(f"the fork server could not start: {exc}") from exc
        finally:
            theirs.close()
        return cls(process, ours, interpreter_options)

    def ready(self, bwrap: str) -> None:
        """Wait for the imports, then start one tiny program through a real sandbox the way a
        kernel starts; ``ZygoteUnavailable`` (the server stopped) when either fails."""
        self._control.settimeout(_START_TIMEOUT)
        try:
            ready = self._control.recv(16)
        except OSError:
            ready = b""
        self._control.settimeout(None)
        if ready != b"ready":
            self.close()
            raise ZygoteUnavailable("the fork server stopped while importing the SDKs")
        try:
            self._probe(bwrap)
        except ZygoteUnavailable:
            self.close()
            raise

    def forward(self, request: bytes, fds: Sequence[int]) -> None:
        """Pass one stand-in's request (and its namespaces and connection) to the server."""
        with self._lock:
            socket.send_fds(self._control, [request], list(fds))

    def door(self, folder: Path, cgroup_procs: Path | None = None) -> KernelDoor:
        """A door in ``folder`` (mounted in the sandbox) for one kernel's stand-in."""
        return KernelDoor(self, folder / _DOOR_NAME, cgroup_procs)

    def _probe(self, bwrap: str) -> None:
        with tempfile.TemporaryDirectory(prefix="grade-probe-") as name:
            folder = Path(name)
            door = self.door(folder)
            try:
                inner = stand_in_command(
                    door.path, [sys.executable, *self._options, "-m", "__hello__"], fallback=False
                )
                sandbox = Sandbox(bwrap, workdir=folder, writable=(folder,))
                command = sandbox.command(limited_command(inner, ResourceLimits()))
                try:
                    done = subprocess.run(
                        command, capture_output=True, timeout=_START_TIMEOUT, check=False, cwd="/"
                    )
                except (OSError, subprocess.TimeoutExpired) as exc:
                    raise ZygoteUnavailable(f"the probe sandbox failed: {exc}") from exc
            finally:
                door.close()
        if done.returncode != 0 or b"Hello world!" not in done.stdout:
            raise ZygoteUnavailable(
                "the fork server cannot start a kernel inside a sandbox here"
                f" (exit status {done.returncode})"
            )

    def close(self) -> None:
        """Stop the server; kernels it started live and die with their sandboxes."""
        with contextlib.suppress(OSError):
            self._control.close()
        with contextlib.suppress(OSError):
            self._process.kill()
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            self._process.wait(timeout=10)


class KernelDoor:
    """One sandbox's way to the fork server: a socket that takes one connection, then closes."""

    def __init__(self, zygote: Zygote, path: Path, cgroup_procs: Path | None) -> None:
        self.path = path
        self._zygote = zygote
        self._cgroup = cgroup_procs
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._listener.bind(str(path))
        self._listener.listen(1)
        self._listener.settimeout(_ACCEPT_TIMEOUT)
        self._thread = threading.Thread(target=self._pass_on, name="kernel-door", daemon=True)
        self._thread.start()

    def _pass_on(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except OSError:  # closed, or nobody came
            return
        finally:
            self._shut()
        with conn:
            try:
                message, fds, _, _ = socket.recv_fds(conn, _zygote.MAX_REQUEST, _zygote.REQUEST_FDS)
            except OSError:
                return
            try:
                request = json.loads(message)
                if len(fds) != _zygote.REQUEST_FDS - 1 or not isinstance(request, dict):
                    return
                request["cgroup"] = None if self._cgroup is None else str(self._cgroup)
                self._zygote.forward(json.dumps(request).encode(), [*fds, conn.fileno()])
            except (OSError, ValueError):
                return  # the stand-in hears nothing and starts the kernel itself
            finally:
                for fd in fds:
                    os.close(fd)

    def _shut(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.close()
        with contextlib.suppress(OSError):
            self.path.unlink()

    def close(self) -> None:
        """Stop waiting (the kernel never came, or the run is over)."""
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._shut()
        self._thread.join(timeout=_ACCEPT_TIMEOUT)
