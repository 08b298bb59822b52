"""The simulated provider over real HTTP: a Starlette app, and a helper to serve it on loopback.

Any HTTP client can use it (curl, the Node SDKs, aiohttp), not just the Python SDKs that the
in-process respx adapter reaches::

    fake = FakeProvider(token_delay=0.02)
    with serve_in_thread(fake) as server:
        client = OpenAI(api_key="sk-test", base_url=f"{server.base_url}/v1")

The server's root stands for the providers' hosts, and paths are matched whole as they match
them (``fake.endpoints``): OpenAI clients use ``{base_url}/v1``, Anthropic clients ``base_url``; any
other path gets the provider's own 404 (with its request id), as a wrong base URL does live.
The app hands each request to ``fake.handle`` and plays the answer back as it says: each chunk is
sent after its delay (so streams really stream), a "hang" sends nothing more until the client gives
up (or closes the connection after ``hang_seconds``), and a "drop" closes the connection without
finishing the body. The status line goes out with the first chunk, so a hang or drop with no chunks
happens before it, as when a real server stalls or dies.

The in-process adapter leaves loopback alone (it answers only the providers' own hosts), so the
same ``FakeProvider`` may also be started in-process while clients talk to this server.

Like the relay, the app runs behind ``course_helpers.http_guard.HttpGuard``: loopback ``Host``
names only (plus ``allowed_hosts``), no other site's web pages, JSON bodies only, at most
``max_body_bytes`` (32 MB, Anthropic's documented request limit) arriving within ``body_timeout``
seconds. Its refusals come in the provider's own error shape (413 ``request_too_large`` for
Anthropic), so the SDKs raise their usual exceptions.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Iterable
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from course_helpers import serving
from course_helpers.fake.endpoints import ANTHROPIC_MAX_BODY_BYTES, ProviderName, guess_provider
from course_helpers.fake.endpoints import served as is_served
from course_helpers.fake.exchange import Chunk, FakeRequest, FakeResponse
from course_helpers.http_guard import DEFAULT_BODY_TIMEOUT, GuardPolicy, HttpGuard, Refusal
from course_helpers.serving import ConnectionLimits, ServerHandle

__all__ = ["MAX_BODY_BYTES", "RequestHandler", "RunningServer", "create_app", "serve_in_thread"]

MAX_BODY_BYTES = ANTHROPIC_MAX_BODY_BYTES
"""The largest request body accepted: Anthropic's documented limit for the Messages API (32 MB)."""

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# The server frames the body itself (content-length or chunked): never copy the fake's framing.
_FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding"})


class RequestHandler(Protocol):
    """What the app serves: ``FakeProvider`` (``None`` means "not a simulated endpoint").

    A handler may also have ``not_found(request, provider)`` (``FakeProvider`` does: the
    provider's own 404, recorded in its calls); without it the app answers a plain one.
    """

    def handle(self, request: FakeRequest) -> FakeResponse | None: ...


class _ConnectionDropped(Exception):
    """Raised on purpose to make the server close the connection (a simulated "drop")."""


class _HideDeliberateDrops(logging.Filter):
    """Keeps uvicorn from logging a traceback for every simulated dropped connection."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, _ConnectionDropped)


def _quiet_deliberate_drops() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _HideDeliberateDrops) for f in logger.filters):
        logger.addFilter(_HideDeliberateDrops())


class _ReplayResponse(Response):
    """Plays a ``FakeResponse`` back with its timing, hang or drop; stops when the client leaves."""

    def __init__(self, fake: FakeResponse) -> None:
        self.fake = fake
        self.status_code = fake.status
        self.background = None
        self.raw_headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in fake.headers.items()
            if name.lower() not in _FRAMING_HEADERS
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        play = asyncio.ensure_future(self._play(send))
        gone = asyncio.ensure_future(_client_gone(receive))
        await asyncio.wait({play, gone}, return_when=asyncio.FIRST_COMPLETED)
        gone.cancel()
        play.cancel()  # the client left: stop playing (no-op when play is done)
        with contextlib.suppress(asyncio.CancelledError):
            await gone
        with contextlib.suppress(asyncio.CancelledError):
            await play  # re-raises _ConnectionDropped

    async def _play(self, send: Send) -> None:
        # The status line goes out with the first bytes of the body, after its delay: a server
        # that is still "thinking" (time to first token, a hang) has sent nothing yet.
        started = False
        for chunk in self.fake.chunks:
            if chunk.delay > 0:
                await asyncio.sleep(chunk.delay)
            if not started:
                await self._start(send)
                started = True
            if chunk.data:
                await send({"type": "http.response.body", "body": chunk.data, "more_body": True})
        if self.fake.ending != "complete":
            if self.fake.ending == "hang":
                # Normally the client's read timeout fires first; a client without one sees the
                # connection close, never a half-written answer passed off as complete.
                await asyncio.sleep(self.fake.hang_seconds)
            if not started:
                await _close_before_status_line(send)
            raise _ConnectionDropped(f"simulated {self.fake.ending}")
        if not started:
            await self._start(send)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _start(self, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )


async def _client_gone(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _close_before_status_line(send: Send) -> None:
    """Make uvicorn close the connection without writing a byte.

    ASGI has no message for "close without a response", and an app error before the status line
    becomes a 500. But uvicorn marks the response as started before it validates the status, so
    an impossible status fails inside ``send`` with nothing written, and uvicorn then closes the
    connection. tests/test_fake_asgi.py checks that clients see a connection error.
    """
    with contextlib.suppress(Exception):
        await send({"type": "http.response.start", "status": 0, "headers": []})


def _not_found(fake: RequestHandler, request: FakeRequest, provider: ProviderName) -> FakeResponse:
    """The provider's own 404 for a path it does not serve (``fake.not_found`` when it has one)."""
    own = getattr(fake, "not_found", None)
    if own is not None:
        answer: FakeResponse = own(request, provider)
        return answer
    request_id = "req_" + secrets.token_hex(16)
    if provider == "anthropic":
        body: dict[str, Any] = {
            "type": "error",
            "error": {"type": "not_found_error", "message": "Not Found"},
            "request_id": request_id,
        }
        headers = {"request-id": request_id}
    else:
        message = f"Invalid URL ({request.method.upper()} {request.path})"
        error = {"message": message, "type": "invalid_request_error", "param": None, "code": None}
        body, headers = {"error": error}, {"x-request-id": request_id}
    data = json.dumps(body).encode()
    return FakeResponse(404, {**headers, "content-type": "application/json"}, [Chunk(data)])


_ANTHROPIC_TYPES = {403: "permission_error", 408: "timeout_error", 413: "request_too_large"}


def _provider_error(scope: Scope, refusal: Refusal) -> dict[str, Any]:
    """A guard's refusal in the error shape of the provider the request was meant for."""
    headers = {name.decode("latin-1").lower(): "" for name, _ in scope.get("headers", [])}
    if guess_provider(str(scope["path"]), headers) == "anthropic":
        kind = _ANTHROPIC_TYPES.get(refusal.status, "invalid_request_error")
        return {"type": "error", "error": {"type": kind, "message": refusal.message}}
    return {
        "error": {
            "message": refusal.message,
            "type": "invalid_request_error",
            "param": None,
            "code": refusal.kind,
        }
    }


def create_app(
    fake: RequestHandler,
    *,
    allowed_hosts: Iterable[str] = (),
    allowed_origins: Iterable[str] = (),
    max_body_bytes: int = MAX_BODY_BYTES,
    body_timeout: float = DEFAULT_BODY_TIMEOUT,
) -> Starlette:
    """A Starlette app that answers every request with ``fake.handle``.

    ``allowed_hosts`` adds host names to the loopback ones, ``allowed_origins`` web page origins
    that may call it; a body over ``max_body_bytes`` is 413, one slower than ``body_timeout``
    seconds 408 (see ``course_helpers.http_guard``).
    """

    async def endpoint(request: Request) -> Response:
        fake_request = FakeRequest(
            method=request.method,
            path=request.url.path,
            headers={name.lower(): value for name, value in request.headers.items()},
            body=await request.body(),
            query=dict(request.query_params),
            read_timeout=None,
        )
        # fast and without I/O: fine on the event loop
        provider = guess_provider(fake_request.path, fake_request.headers)
        answer = fake.handle(fake_request) if is_served(provider, fake_request.path) else None
        if answer is None:
            answer = _not_found(fake, fake_request, provider)
        if answer.ending == "complete" and all(chunk.delay <= 0 for chunk in answer.chunks):
            headers = {k: v for k, v in answer.headers.items() if k.lower() not in _FRAMING_HEADERS}
            return Response(answer.body, status_code=answer.status, headers=headers)
        return _ReplayResponse(answer)

    _quiet_deliberate_drops()
    app = Starlette(routes=[Route("/{path:path}", endpoint, methods=_METHODS)])
    policy = GuardPolicy.of(
        max_body_bytes=max_body_bytes,
        allowed_hosts=allowed_hosts,
        allowed_origins=allowed_origins,
        body_timeout=body_timeout,
        how_to_allow_host="--allow-host NAME (create_app(fake, allowed_hosts=[...]) in Python)",
    )
    app.add_middleware(HttpGuard, policy=policy, error_body=_provider_error)
    return app


RunningServer = ServerHandle
"""What ``serve_in_thread`` returns: ``.base_url``, ``.port``, ``.stop()``, a context manager."""


def serve_in_thread(
    fake: RequestHandler,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    startup_timeout: float = 10.0,
    limits: ConnectionLimits | None = None,
    **app_options: Any,
) -> ServerHandle:
    """Serve ``fake`` on ``host:port`` in a daemon thread; ``port=0`` picks a free port.

    ``limits`` bounds each connection (``serving.ConnectionLimits``); ``app_options`` go to
    ``create_app`` (``allowed_hosts``, ``allowed_origins``, ``max_body_bytes``, ``body_timeout``).
    """
    return serving.serve_in_thread(
        create_app(fake, **app_options),
        host=host,
        port=port,
        name="simulated provider",
        startup_timeout=startup_timeout,
        limits=limits,
    )
