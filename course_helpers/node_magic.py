"""``%%node``: run a cell as a Node.js ES module against the simulated provider (or the real APIs).

Load it once per notebook, then write plain Node.js in a cell::

    %load_ext course_helpers.node_magic

    %%node
    import OpenAI from "openai";
    const client = new OpenAI();
    ...

Why a magic and not a terminal: the module prints its examples in Python *and* Node.js, and the
notebooks run both, with outputs that ``make test`` compares. For every provider that ``setup()``
simulates, the cell gets its own simulated provider served over HTTP on a free loopback port
(``OPENAI_BASE_URL`` with ``/v1``, ``ANTHROPIC_BASE_URL`` without, simulated keys; a real key is
never handed to it). For a live provider the cell gets the environment's key and the real API.
The SDKs come from the course's ``package.json`` (``npm ci``, run by ``make lab`` / ``make test``).

Without Node.js or the installed SDKs the cell prints one line that says how to get them. When
the script fails, the error is shown in a few lines (``%%node --trace`` shows Node's full output).
"""

from __future__ import annotations

import argparse
import atexit
import codecs
import os
import selectors
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from course_helpers import keys
from course_helpers.provider_record import PROVIDER_RECORDS, PROVIDERS, ProviderName

if TYPE_CHECKING:
    from course_helpers.fake import FakeProvider, FakeRequest, FakeResponse
    from course_helpers.serving import ServerHandle

__all__ = ["NodeError", "NodeUnavailable", "load_ipython_extension", "run_node"]

ROOT = Path(__file__).resolve().parent.parent
"""The course folder: ``package.json`` and ``node_modules/`` live here."""
SDK_PACKAGES = ("openai", "@anthropic-ai/sdk")
DEFAULT_TIMEOUT = 120.0
_LATENCY_OFF = {"0", "off", "false", "no"}


class NodeUnavailable(RuntimeError):
    """Node.js or the course's npm packages are missing; the one-line message says what to do."""


class NodeError(RuntimeError):
    """The Node.js script failed; shown as the error's own lines, not as a Python traceback."""

    def __init__(self, summary: str, status: int) -> None:
        super().__init__(summary)
        self.summary = summary
        self.status = status

    def _render_traceback_(self) -> list[str]:
        """What IPython shows instead of the Python frames of the magic (which teach nothing)."""
        return [*self.summary.splitlines(), f"(node exited with status {self.status})"]


@dataclass(frozen=True)
class NodeResult:
    """What a finished script printed (the stdout was also passed on as it arrived)."""

    status: int
    stdout: str
    stderr: str


def check_node(root: Path | None = None) -> str:
    """The path of ``node``, or :class:`NodeUnavailable` with the one line that says what to do."""
    root = ROOT if root is None else root
    node = shutil.which("node")
    if node is None:
        raise NodeUnavailable(
            "Node.js is not installed: install Node.js 20 or newer (https://nodejs.org, or "
            "`sudo apt-get install nodejs npm` on Debian/Ubuntu), then run `npm ci` in "
            f"{root} (make lab does it)."
        )
    missing = [name for name in SDK_PACKAGES if not (root / "node_modules" / name).is_dir()]
    if missing:
        raise NodeUnavailable(
            f"The Node.js SDKs are not installed ({', '.join(missing)} missing): run `npm ci` "
            f"in {root} (make lab does it)."
        )
    return node


def simulated_providers() -> tuple[ProviderName, ...]:
    """The providers that ``setup()`` simulates (without ``setup()``: what it would decide)."""
    from course_helpers import modes

    course = modes.current()
    if course is not None and course.fake is not None:
        return tuple(name for name in PROVIDERS if name in course.fake.providers)
    decided, _ = modes.plan(None, keys.scan_env(), os.environ)
    return tuple(name for name in PROVIDERS if decided[name].mode == "offline")


def _latency() -> tuple[float, float]:
    """(ttft, token_delay): realistic in JupyterLab, none under test and nbval (as setup())."""
    from course_helpers.fake.__main__ import DEFAULT_TOKEN_DELAY, DEFAULT_TTFT

    setting = (keys.setting("COURSE_FAKE_LATENCY", keys.scan_env(), os.environ) or "").strip()
    if setting.lower() in _LATENCY_OFF or "PYTEST_CURRENT_TEST" in os.environ:
        return 0.0, 0.0
    return DEFAULT_TTFT, DEFAULT_TOKEN_DELAY


def node_environ(
    environ: Mapping[str, str], simulated: Mapping[ProviderName, str]
) -> dict[str, str]:
    """The script's environment: ``simulated`` maps a provider to its simulated base URL.

    A simulated provider's real key is replaced (the script talks to the simulated provider, and
    nothing it prints can reveal the key); a live provider keeps the key and the real API.
    """
    env = dict(environ)
    for provider in PROVIDERS:
        if provider in simulated:
            record = PROVIDER_RECORDS[provider]
            for variable in record.key_variables[1:]:  # e.g. a real ANTHROPIC_AUTH_TOKEN
                env.pop(variable, None)
            env[record.key_variable] = keys.OFFLINE_KEYS[provider]
            env[record.base_url_variable] = simulated[provider]
    # Plain text in the notebook: Jupyter kernels set FORCE_COLOR, which colours Node's numbers.
    env.pop("FORCE_COLOR", None)
    env["NO_COLOR"] = "1"
    return env


class _ScriptHandler:
    """The shared server's handler: the simulated provider of the script running now, if any."""

    def __init__(self) -> None:
        self.fake: FakeProvider | None = None

    def handle(self, request: FakeRequest) -> FakeResponse | None:
        return None if self.fake is None else self.fake.handle(request)


_handler = _ScriptHandler()
_server: ServerHandle | None = None


def _shared_server() -> ServerHandle:
    """One loopback server per process, started on first use (stopping one costs 0.2 s a cell)."""
    global _server
    if _server is None:
        from course_helpers.fake.asgi import create_app
        from course_helpers.serving import serve_in_thread

        _server = serve_in_thread(create_app(_handler), name="simulated provider for %%node")
        atexit.register(_server.stop)
    return _server


@contextmanager
def serve_simulated(providers: tuple[ProviderName, ...]) -> Iterator[dict[ProviderName, str]]:
    """A fresh simulated provider over HTTP for one script: provider -> base URL for its SDK.

    Fresh for each script, so a cell's answers and ids do not depend on the cells run before it.
    One script at a time (a kernel runs one cell at a time).
    """
    if not providers:
        yield {}
        return
    from course_helpers.fake import FakeProvider

    ttft, token_delay = _latency()
    server = _shared_server()
    _handler.fake = FakeProvider(providers=providers, ttft=ttft, token_delay=token_delay)
    try:
        urls: dict[ProviderName, str] = {
            "openai": f"{server.base_url}/v1",
            "anthropic": server.base_url,
        }
        yield {name: urls[name] for name in providers}
    finally:
        _handler.fake = None


def run_node(
    source: str,
    *,
    out: IO[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    environ: Mapping[str, str] | None = None,
    root: Path | None = None,
) -> NodeResult:
    """Run ``source`` as an ES module in ``root`` (so ``import "openai"`` finds node_modules).

    The script's stdout is written to ``out`` (default ``sys.stdout``) as it arrives, so streams
    appear token by token. Raises :class:`NodeUnavailable` before anything runs when Node.js or
    the SDKs are missing.
    """
    root = ROOT if root is None else root
    node = check_node(root)
    with serve_simulated(simulated_providers()) as urls:
        env = node_environ(os.environ if environ is None else environ, urls)
        return _run(node, source, env, out or sys.stdout, timeout, root)


def _run(
    node: str, source: str, env: dict[str, str], out: IO[str], timeout: float, root: Path
) -> NodeResult:
    process = subprocess.Popen(
        [node, "--input-type=module", "-"],
        cwd=root,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin and process.stdout and process.stderr
    try:
        process.stdin.write(source.encode())
        process.stdin.close()
        stdout, stderr, finished = _pump(process, out, time.monotonic() + timeout)
    finally:
        if process.poll() is None:
            process.kill()
        status = process.wait(timeout=5)
    if not finished:
        raise NodeError(f"The script was stopped after {timeout:g} s (%%node --timeout).", status)
    return NodeResult(status, stdout, stderr)


def _pump(process: subprocess.Popen[bytes], out: IO[str], deadline: float) -> tuple[str, str, bool]:
    """Pass stdout on as it arrives, keep stderr (UTF-8); False when the deadline came first."""
    assert process.stdout and process.stderr
    decoders = {
        name: codecs.getincrementaldecoder("utf-8")(errors="replace") for name in ("out", "err")
    }
    texts: dict[str, list[str]] = {"out": [], "err": []}
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ, "out")
        selector.register(process.stderr, selectors.EVENT_READ, "err")
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "".join(texts["out"]), "".join(texts["err"]), False
            for key, _ in selector.select(timeout=min(remaining, 0.5)):
                name = key.data
                data = os.read(key.fd, 65536)
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                text = decoders[name].decode(data)
                texts[name].append(text)
                if name == "out":
                    out.write(text)
                    out.flush()
    return "".join(texts["out"]), "".join(texts["err"]), True


def error_summary(stderr: str) -> str:
    """The few lines that say what went wrong, from Node's report of an uncaught error.

    Node prints the throwing source line with a caret, the error's first line, its stack frames
    (``    at ...``) and then a dump of the error's properties; the first line is the one to read.
    """
    lines = stderr.rstrip().splitlines()
    frames = [i for i, line in enumerate(lines) if line.startswith("    at ")]
    if frames:
        head = lines[: frames[0]]
        start = max((i + 1 for i, line in enumerate(head) if not line.strip()), default=0)
        message = [line for line in head[start:] if line.strip()]
        if message:
            return "\n".join(message)
    kept = [line for line in lines if line.strip() and not line.startswith("Node.js v")]
    return "\n".join(kept[-5:]) or "(no error message)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="%%node", add_help=False)
    parser.add_argument("--trace", action="store_true", help="show Node's full error output")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    return parser


def node_cell(line: str, cell: str) -> None:
    """The ``%%node`` magic: run the cell, show its output, fail the cell when the script fails."""
    try:
        options = _parser().parse_args(shlex.split(line))
    except SystemExit:
        raise NodeError("Usage: %%node [--trace] [--timeout SECONDS]", 2) from None
    try:
        result = run_node(cell, timeout=options.timeout)
    except NodeUnavailable as exc:
        print(exc, file=sys.stderr)
        return
    if result.status == 0:
        if result.stderr:
            print(result.stderr, end="", file=sys.stderr)
        return
    if options.trace:
        print(result.stderr, end="", file=sys.stderr)
    raise NodeError(error_summary(result.stderr), result.status)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext course_helpers.node_magic`` registers ``%%node``."""
    ipython.register_magic_function(node_cell, magic_kind="cell", magic_name="node")
