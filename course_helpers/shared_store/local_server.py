"""A Redis on loopback for tests, benchmarks and the notebook: started, killed, restarted, stopped.

:func:`start_redis` runs Debian's ``redis-server`` (``apt-get install redis-server``) on a free
loopback port in a directory of its own, with the append-only file synced on every write, so a
``kill()`` followed by ``restart()`` loses nothing that was acknowledged. Where ``redis-server``
is missing, :func:`start_fake_redis` serves fakeredis (Lua included) over TCP instead: the same
URL-based code runs against it, in any number of processes, without installing anything.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import redis

__all__ = ["LocalRedis", "redis_for_demo", "redis_server_path", "start_fake_redis", "start_redis"]


def redis_server_path() -> str | None:
    """Where ``redis-server`` is, or ``None`` if it is not installed."""
    return shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalRedis:
    """A Redis on ``127.0.0.1:port``; a context manager that stops it (and only it) on exit."""

    def __init__(self, url: str, stop: Any, *, kill: Any = None, restart: Any = None) -> None:
        self.url = url
        self._stop, self._kill, self._restart = stop, kill, restart

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].split("/")[0])

    def kill(self) -> None:
        """Kill the server at once (SIGKILL, as a crash would): nothing is flushed."""
        if self._kill is None:
            raise RuntimeError("This Redis cannot be killed and restarted (it is fakeredis).")
        self._kill()

    def restart(self) -> None:
        """Start the server again on the same port and directory, reloading its data."""
        if self._restart is None:
            raise RuntimeError("This Redis cannot be killed and restarted (it is fakeredis).")
        self._restart()

    def stop(self) -> None:
        self._stop()

    def __enter__(self) -> LocalRedis:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start_redis(
    directory: str | Path, *, password: str | None = None, fsync: str = "always"
) -> LocalRedis:
    """Start ``redis-server`` on a free loopback port, its files in ``directory``.

    ``fsync`` is Redis's ``appendfsync``: ``"always"`` (the default) makes every acknowledged
    write survive a crash, which a budget needs, at the price of a disk sync per write;
    ``"everysec"`` (Redis's own default) is enough for rate limits, which a crash only resets.
    """
    binary = redis_server_path()
    if binary is None:
        raise FileNotFoundError(
            "redis-server is not installed: sudo apt-get install redis-server (Debian, Ubuntu), "
            "brew install redis (macOS), or use start_fake_redis()."
        )
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    state: dict[str, Any] = {"port": _free_port(), "process": None}
    auth = f":{password}@" if password else ""

    def launch() -> None:
        for _attempt in range(5):
            command = [
                binary,
                "--port", str(state["port"]),
                "--bind", "127.0.0.1",
                "--dir", str(folder),
                "--save", "",
                "--appendonly", "yes",
                "--appendfsync", fsync,
                "--logfile", "redis.log",
                "--daemonize", "no",
            ]  # fmt: skip
            if password:
                command += ["--requirepass", password]
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            state["process"] = process
            if _wait_ready(process, f"redis://{auth}127.0.0.1:{state['port']}/0"):
                return
            _end(process)
            if state.get("fixed"):
                break
            state["port"] = _free_port()  # lost a race for the port: take another
        log = folder / "redis.log"
        tail = log.read_text(errors="replace")[-800:] if log.exists() else ""
        raise RuntimeError(f"redis-server did not start on 127.0.0.1:{state['port']}:\n{tail}")

    def stop() -> None:
        _end(state["process"])

    def kill() -> None:
        process = state["process"]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def restart() -> None:
        state["fixed"] = True  # same port: the clients' URL must stay valid
        launch()

    launch()
    return LocalRedis(
        f"redis://{auth}127.0.0.1:{state['port']}/0", stop, kill=kill, restart=restart
    )


def _wait_ready(process: subprocess.Popen[bytes], url: str, timeout: float = 10.0) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            try:
                if client.ping():
                    return True
            except redis.BusyLoadingError:
                pass  # loading its append-only file
            except redis.ConnectionError:
                pass
            time.sleep(0.02)
        return False
    finally:
        client.close()


def _end(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def start_fake_redis() -> LocalRedis:
    """Serve fakeredis (with Lua, through lupa) on a free loopback port, in a daemon thread."""
    from fakeredis import TcpFakeServer

    server = TcpFakeServer(("127.0.0.1", _free_port()), server_type="redis")
    thread = threading.Thread(target=server.serve_forever, name="fakeredis", daemon=True)
    thread.start()
    port = int(server.server_address[1])

    def stop() -> None:
        server.shutdown()
        server.server_close()
        with contextlib.suppress(RuntimeError):
            thread.join(timeout=10)

    return LocalRedis(f"redis://127.0.0.1:{port}/0", stop)


def redis_for_demo(directory: str | Path) -> tuple[LocalRedis, str]:
    """A Redis for a notebook demo, and one line saying which: ``REDIS_URL`` if set, else a
    ``redis-server`` of its own in ``directory``, else fakeredis (nothing to install)."""
    from course_helpers.shared_store.connection import mask_url, resolve_store

    url = resolve_store("redis") if os.environ.get("REDIS_URL", "").strip() else None
    if url is not None:
        return LocalRedis(url, lambda: None), f"Redis: yours, from REDIS_URL ({mask_url(url)})."
    if redis_server_path() is not None:
        server = start_redis(directory)
        return server, f"Redis: a redis-server of our own on 127.0.0.1:{server.port}."
    return start_fake_redis(), (
        "Redis: no redis-server found, so fakeredis (an in-process Redis, Lua included) stands "
        "in; install redis-server to use the real one."
    )
