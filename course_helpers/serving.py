"""Serve an ASGI app with uvicorn, every connection bounded: in a background thread or a CLI.

Both the simulated provider's HTTP adapter (``course_helpers.fake.asgi``) and the streaming relay
(``course_helpers.server``) run this way, so a notebook can start them next to its own code.

uvicorn alone holds a connection that never finishes its request line and headers (slowloris), or
never sends a byte, for as long as the client likes. ``ConnectionLimits`` bounds each connection:
the request head must arrive within ``header_timeout`` seconds of the connection opening (or of the
previous response), a kept-alive connection closes after ``idle_timeout`` seconds of silence, and
past ``max_connections`` open connections a new one gets a 503 and is closed. The request body's
own deadline and every check on the request itself are the app's: ``course_helpers.http_guard``.

>>> from starlette.applications import Starlette
>>> with serve_in_thread(Starlette(), name="demo") as server:  # doctest: +SKIP
...     server.base_url
'http://127.0.0.1:53124'
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, Self

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from course_helpers.listening import listen

__all__ = ["ConnectionLimits", "ServerHandle", "listen", "serve_in_thread", "uvicorn_config"]


@dataclass(frozen=True)
class ConnectionLimits:
    """How long a connection may take and how many may be open; times in seconds.

    The defaults leave loopback clients (which send a request head in microseconds) plenty of room.
    Tests pass short times instead of sleeping long.
    """

    header_timeout: float = 10.0
    """From the connection opening (or the previous response) to a complete request head."""
    idle_timeout: float = 5.0
    """Silence allowed on a kept-alive connection between requests (uvicorn's keep-alive)."""
    max_connections: int = 1000
    """Open connections at once; one more is answered 503 and closed."""

    def __post_init__(self) -> None:
        if self.header_timeout <= 0 or self.idle_timeout <= 0 or self.max_connections < 1:
            raise ValueError(
                "header_timeout and idle_timeout must be more than 0, max_connections at least 1."
            )


def _canned(status: int, reason: str, message: str, extra: str = "") -> bytes:
    """A complete JSON error response written straight to the socket (then it is closed)."""
    body = json.dumps({"error": {"message": message}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nx-content-type-options: nosniff\r\n{extra}"
        "connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


class _BoundedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a request-head deadline, a connection cap, JSON 400s."""

    limits: ClassVar[ConnectionLimits] = ConnectionLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_for: object = None  # the request cycle that was current when the timer started
        self._head_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        cap = self.limits.max_connections
        if len(self.connections) > cap:
            transport.write(
                _canned(
                    503,
                    "Service Unavailable",
                    f"This server already has {cap} open connections, its limit: close idle "
                    "connections, or retry in a moment.",
                    "retry-after: 1\r\n",
                )
            )
            transport.close()
            return
        self._start_head_timer()

    def data_received(self, data: bytes) -> None:
        if self._head_timer is not None:
            self._head_bytes += len(data)
        super().data_received(data)

    def handle_events(self) -> None:
        super().handle_events()
        if self._head_timer is not None and self.cycle is not self._head_for:
            self._stop_head_timer()  # a new request's head arrived in time

    def on_response_complete(self) -> None:
        if not self.transport.is_closing():
            self._start_head_timer()  # before super(), which may parse a pipelined request
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        self._stop_head_timer()
        if not self.transport.is_closing():
            self.transport.write(
                _canned(
                    400,
                    "Bad Request",
                    "The request is not valid HTTP/1.1 (its request line or headers could not "
                    "be parsed, or they are too long): send it with an HTTP client such as curl.",
                )
            )
            self.transport.close()

    def _start_head_timer(self) -> None:
        self._stop_head_timer()
        self._head_for = self.cycle
        self._head_bytes = 0
        self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_too_late)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_late(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self._head_bytes and (self.cycle is None or self.cycle.response_complete):
            self.transport.write(
                _canned(
                    408,
                    "Request Timeout",
                    f"The request line and headers did not arrive within "
                    f"{self.limits.header_timeout:g} s: send the whole request at once.",
                )
            )
        self.transport.close()  # a connection that said nothing is closed without a word


def uvicorn_config(
    app: ASGIApp,
    *,
    limits: ConnectionLimits | None = None,
    log_level: str = "warning",
    timeout_graceful_shutdown: int = 2,
) -> uvicorn.Config:
    """A uvicorn ``Config`` for ``app`` with every connection bounded by ``limits``."""
    limits = limits or ConnectionLimits()
    protocol = type("BoundedH11Protocol", (_BoundedH11Protocol,), {"limits": limits})
    return uvicorn.Config(
        app,
        http=protocol,
        lifespan="off",
        log_level=log_level,
        timeout_graceful_shutdown=timeout_graceful_shutdown,
        timeout_keep_alive=limits.idle_timeout,  # type: ignore[arg-type]  # a float works
    )


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


def serve_in_thread(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    name: str = "server",
    startup_timeout: float = 10.0,
    limits: ConnectionLimits | None = None,
) -> ServerHandle:
    """Serve ``app`` on ``host:port`` in a daemon thread; returns once it accepts connections.

    ``port=0`` picks a free port (read it from ``.port`` or ``.base_url``). Lifespan events are
    off; streams still open at ``stop()`` get two seconds to finish. ``name`` goes into errors.
    ``limits`` bounds each connection (default: ``ConnectionLimits()``).
    """
    try:
        sock = listen(host, port)
    except OSError as exc:
        raise RuntimeError(
            f"The {name} cannot listen on {host}:{port} ({exc.strerror}; is the port in use?): "
            "pick another port, or port=0 for a free one."
        ) from exc
    bound_port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn_config(app, limits=limits))

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
