"""The fork server behind ``zygote.py``: imports the kernel's heavy modules once, then forks one
kernel per request into a sandbox that bubblewrap has already built.

It runs outside any sandbox, as the grader's user, and never runs learner code: a request carries
the namespaces of a fresh bwrap sandbox (sent by the stand-in that bwrap started there, before
any learner cell) and the kernel's command line, environment, folder and rlimits as that stand-in
saw them. For each request it forks a supervisor that enters the sandbox's namespaces, forks the
kernel there and reports how it ended. The kernel then drops every capability (bounding set
included), sets ``no_new_privs`` and the rlimits, closes every inherited descriptor, and only
then runs ``ipykernel_launcher``: what the stand-in would have run, minus the seconds of imports.

Standard library only, and run from its source (never imported as ``course_helpers``): the kernel
must load the course package from the grader's private copy, not inherit it from here.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import fcntl
import importlib
import json
import os
import resource
import runpy
import signal
import socket
import sys
import traceback
from typing import Any

NAMESPACES = ("user", "mnt", "pid", "net", "ipc", "uts", "cgroup")
"""The namespaces a request carries, in this order; then the stand-in's standard input, output
and error, and its connection."""
REQUEST_FDS = len(NAMESPACES) + 4

STARTED = b"started"
RLIMITS = ("RLIMIT_AS", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NPROC", "RLIMIT_CORE")

_NS_GET_USERNS = 0xB701
_NS_GET_PARENT = 0xB702
_PR_SET_PDEATHSIG = 1
_PR_CAPBSET_DROP = 24
_PR_SET_NO_NEW_PRIVS = 38
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4
_CAPABILITY_VERSION_3 = 0x20080522
MAX_REQUEST = 1 << 20
"""The largest request, in bytes (a kernel's environment is a few kB)."""
_NO_PRIVILEGES = "0000000000000000"

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"{what}: {os.strerror(number)}")


def _inode(fd: int) -> int:
    return os.fstat(fd).st_ino


def join_namespaces(user: int, others: list[int]) -> None:
    """Enter the sandbox's namespaces: each user namespace from the outermost in, and every
    other namespace right after the user namespace that owns it (entering it needs that
    namespace's privileges; bwrap nests a second user namespace inside the one it builds in)."""
    own = os.stat("/proc/self/ns/user").st_ino
    chain = [user]
    while len(chain) < 32:
        parent = fcntl.ioctl(chain[-1], _NS_GET_PARENT)
        if _inode(parent) == own:
            os.close(parent)
            break
        chain.append(parent)
    owners: dict[int, int] = {}
    for fd in others:
        owner = fcntl.ioctl(fd, _NS_GET_USERNS)
        owners[fd] = _inode(owner)
        os.close(owner)
    for fd in others:
        if owners[fd] == own:
            _check(_libc.setns(fd, 0), "setns")
    for level in reversed(chain):
        _check(_libc.setns(level, 0), "setns (user)")
        for fd in others:
            if owners[fd] == _inode(level):
                _check(_libc.setns(fd, 0), "setns")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def drop_privileges() -> None:
    """No capability left in any set, none to regain (``no_new_privs``); checked, not assumed."""
    for number in range(64):
        if _libc.prctl(_PR_CAPBSET_DROP, number, 0, 0, 0) != 0:
            break  # past the last capability this kernel knows
    _check(_libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient")
    header = _CapHeader(_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")
    _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    with open("/proc/self/status", encoding="ascii") as status:
        fields = dict(line.split(":", 1) for line in status if ":" in line)
    for name in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        if fields.get(name, "").strip() != _NO_PRIVILEGES:
            raise PermissionError(f"{name} is {fields.get(name, '').strip()} after dropping")
    if fields.get("NoNewPrivs", "").strip() != "1":
        raise PermissionError("no_new_privs is not set")


def _die_with_parent(parent: int) -> None:
    _check(_libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "pdeathsig")
    if os.getppid() != parent:
        os._exit(1)


def shadowed(folder: str) -> list[str]:
    """Modules already imported here that a file in ``folder`` (the kernel's first path entry)
    would replace in a kernel started afresh, as it would on the learner's own machine."""
    imported = {name for name in sys.modules if "." not in name}
    found = set()
    for entry in os.listdir(folder):
        path = os.path.join(folder, entry)
        stem, dot, suffix = entry.partition(".")
        if not dot and os.path.isfile(os.path.join(path, "__init__.py")):
            found.add(entry)
        elif dot and (suffix in ("py", "pyc") or suffix.endswith("so")):
            found.add(stem)
    return sorted(found & imported)


def _become_kernel(request: dict[str, Any], stdio: list[int], ready: int) -> None:
    """In the sandbox: set up what the stand-in had, drop privileges, say so on ``ready``, run
    the module. Never returns."""
    code = 0
    try:
        os.setsid()
        for target, fd in enumerate(stdio):
            os.dup2(fd, target)
        os.closerange(3, ready)
        os.closerange(ready + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
        os.chdir(request["cwd"])
        if shadowed(os.getcwd()):  # the stand-in starts this kernel itself, imports and all
            os._exit(1)
        os.environ.clear()
        os.environ.update(request["env"])
        for name, (soft, hard) in zip(RLIMITS, request["limits"], strict=True):
            resource.setrlimit(getattr(resource, name), (soft, hard))
        drop_privileges()
        module, *arguments = module_arguments(request["argv"]) or ["-"]
        extra = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        sys.path[:0] = [os.getcwd(), *extra]
        sys.argv = [module, *arguments]
    except BaseException:  # not started: the supervisor hears nothing, the stand-in takes over
        os._exit(1)
    os.write(ready, b"1")
    os.close(ready)
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # nothing may return into the fork server's loop
        traceback.print_exc()
        code = 1
    try:
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def _supervise(request: dict[str, Any], fds: list[int], zygote: int) -> None:
    """The forked supervisor: enter the sandbox, fork the kernel there, report how it ended."""
    namespaces, stdio, conn = fds[: len(NAMESPACES)], fds[len(NAMESPACES) : -1], fds[-1]
    reply = socket.socket(fileno=conn)
    try:
        _die_with_parent(zygote)
        cgroup = request.get("cgroup")
        if cgroup:
            with open(cgroup, "w", encoding="ascii") as procs:
                procs.write(str(os.getpid()))
        join_namespaces(namespaces[0], namespaces[1:])
        ready, told = os.pipe()
        kernel = os.fork()
        if kernel == 0:
            reply.detach()
            os.close(ready)
            _become_kernel(request, stdio, told)
        for fd in [*namespaces, *stdio, told]:
            os.close(fd)
        started = os.read(ready, 1) == b"1"
        os.close(ready)
        if not started:
            os.waitpid(kernel, 0)
            raise RuntimeError("the kernel did not start (shadowed modules, or privileges kept)")
        reply.sendall(STARTED)
        _, status = os.waitpid(kernel, 0)
        reply.sendall(b" %d" % os.waitstatus_to_exitcode(status))
    except BaseException as exc:  # the stand-in falls back to starting the kernel itself
        with contextlib.suppress(OSError):
            reply.sendall(f"error {type(exc).__name__}: {exc}".encode()[:500])
    finally:
        os._exit(0)


def split_command(argv: list[str]) -> tuple[list[str], list[str]] | None:
    """``(-X option words, [module, *args])`` from ``[python, -X option..., -m, module, *args]``;
    ``None`` for a command line of any other form."""
    index = 1
    while index < len(argv) and argv[index].startswith("-X"):
        index += 2 if argv[index] == "-X" else 1
    if argv[index : index + 1] != ["-m"] or index + 1 >= len(argv):
        return None
    return argv[1:index], argv[index + 1 :]


def _xoptions(words: list[str]) -> dict[str, str | bool]:
    """The ``sys._xoptions`` an interpreter started with these ``-X`` words would have."""
    options: dict[str, str | bool] = {}
    remaining = iter(words)
    for word in remaining:
        name, equals, value = (word[2:] or next(remaining, "")).partition("=")
        options[name] = value if equals else True
    return options


def module_arguments(argv: list[str]) -> list[str] | None:
    """``[module, *args]`` from ``[python, -X option..., -m, module, *args]``, when the ``-X``
    options are the ones this interpreter started with (they cannot change after start-up)."""
    split = split_command(argv)
    if split is None or _xoptions(split[0]) != sys._xoptions:
        return None
    return split[1]


def _valid(request: Any) -> bool:
    if not isinstance(request, dict):
        return False
    argv = request.get("argv")
    return (
        isinstance(argv, list)
        and all(isinstance(item, str) for item in argv)
        and module_arguments(argv) is not None
        and isinstance(request.get("cwd"), str)
        and isinstance(request.get("env"), dict)
        and isinstance(request.get("limits"), list)
        and len(request["limits"]) == len(RLIMITS)
    )


def serve(control: socket.socket, preload: list[str]) -> None:
    """Import ``preload``, say so, then fork a supervisor per request until the grader closes."""
    for name in preload:
        with contextlib.suppress(Exception):  # the kernel will import it (and say so) itself
            importlib.import_module(name)
    control.sendall(b"ready")
    zygote = os.getpid()
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, MAX_REQUEST, REQUEST_FDS)
        except InterruptedError:
            continue
        if not message:
            return
        try:
            request = json.loads(message)
        except ValueError:
            request = None
        if len(fds) == REQUEST_FDS and _valid(request) and os.fork() == 0:
            control.detach()
            _supervise(request, fds, zygote)
        for fd in fds:
            os.close(fd)
        while True:  # reap the supervisors that are done
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break


def main() -> None:
    if sys.path and sys.path[0] == "":
        del sys.path[0]  # ``python -c``: never the folder it was started in
    control_fd, preload = int(sys.argv[1]), json.loads(sys.argv[2])
    _die_with_parent(int(sys.argv[3]))
    serve(socket.socket(fileno=control_fd), preload)


if __name__ == "__main__":
    main()
