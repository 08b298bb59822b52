"""Serve an ASGI app with uvicorn in a background thread: for notebooks, tests and demos.

Both the simulated provider's HTTP adapter (``course_helpers.fake.asgi``) and the streaming relay
(``course_helpers.server``) run this way, so a notebook can start them next to its own code.

>>> from starlette.applications import Starlette
>>> with serve_in_thread(Starlette(), name="demo") as server:  # doctest: +SKIP
...     server.base_url
'http://127.0.0.1:53124'
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import uvicorn
from starlette.types import ASGIApp

__all__ = ["ServerHandle", "listen", "serve_in_thread"]


@dataclass
class ServerHandle:
    """An app served by uvicorn in a daemon thread; ``stop()`` it or use it as a context manager."""

    app: ASGIApp
    server: uvicorn.Server
    thread: threading.Thread
    host: str
    port: int

    @property
    def base_url(self) -> str:
        """``http://host:port``, e.g. ``http://127.0.0.1:53124``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stop(self, timeout: float = 5.0) -> None:
        """Shut the server down and wait for its thread (forcing it after ``timeout`` seconds)."""
        self.server.should_exit = True
        self.thread.join(timeout)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (``port=0``: a free one), or ``OSError``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family)


def serve_in_thread(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    name: str = "server",
    startup_timeout: float = 10.0,
) -> ServerHandle:
    """Serve ``app`` on ``host:port`` in a daemon thread; returns once it accepts connections.

    ``port=0`` picks a free port (read it from ``.port`` or ``.base_url``). Lifespan events are
    off; streams still open at ``stop()`` get two seconds to finish. ``name`` goes into errors.
    """
    try:
        sock = listen(host, port)
    except OSError as exc:
        raise RuntimeError(
            f"The {name} cannot listen on {host}:{port} ({exc.strerror}; is the port in use?): "
            "pick another port, or port=0 for a free one."
        ) from exc
    bound_port = int(sock.getsockname()[1])
    config = uvicorn.Config(app, lifespan="off", log_level="warning", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)

    def run() -> None:
        with contextlib.suppress(SystemExit), sock:
            server.run(sockets=[sock])

    thread = threading.Thread(target=run, name=f"{name}:{bound_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"The {name} on {host}:{bound_port} stopped while starting up.")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"The {name} did not start within {startup_timeout} s.")
        time.sleep(0.005)
    return ServerHandle(app=app, server=server, thread=thread, host=host, port=bound_port)
