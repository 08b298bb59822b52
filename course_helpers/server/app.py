"""The relay's Starlette app: ``POST /chat`` (SSE), ``GET /`` (the page), history, health.

>>> from course_helpers.server import serve_in_thread
>>> server = serve_in_thread(create_app(db_path="relay.db"))  # doctest: +SKIP
>>> server.base_url  # doctest: +SKIP
'http://127.0.0.1:53124'
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from course_helpers.client import LLMClient
from course_helpers.http_guard import DEFAULT_BODY_TIMEOUT, GuardPolicy, HttpGuard
from course_helpers.server.page import PAGE
from course_helpers.server.relay import SSERelay
from course_helpers.server.store import ExchangeStore
from course_helpers.server.validation import Limits, Rejected, parse_chat

__all__ = ["DEFAULT_HISTORY_LIMIT", "MAX_HISTORY_LIMIT", "create_app", "error_response"]

DEFAULT_HISTORY_LIMIT = 50
MAX_HISTORY_LIMIT = 500
# The page loads nothing from anywhere: its script and style are inline, and it talks only to us.
_PAGE_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'"
)


def error_response(status: int, message: str) -> JSONResponse:
    """The relay's error shape: ``{"error": {"message": ...}}`` with an HTTP status."""
    return JSONResponse({"error": {"message": message}}, status_code=status)


def create_app(
    *,
    db_path: str | Path | None = None,
    client: LLMClient | None = None,
    store: ExchangeStore | None = None,
    max_prompt_chars: int = Limits.max_prompt_chars,
    max_tokens: int = Limits.max_tokens,
    default_max_tokens: int = Limits.default_max_tokens,
    heartbeat_s: float | None = 15.0,
    allowed_hosts: Iterable[str] = (),
    allowed_origins: Iterable[str] = (),
    body_timeout: float = DEFAULT_BODY_TIMEOUT,
) -> Starlette:
    """The relay app.

    Args:
        db_path: the SQLite file that logs every exchange; ``None`` keeps the log in memory.
        client: the ``LLMClient`` that streams from the providers; by default one is made on the
            first request (after ``setup()`` has chosen live or simulated providers).
        store: an ``ExchangeStore`` to log into instead of opening ``db_path``.
        max_prompt_chars: the longest prompt accepted (all messages' text together); longer is 413.
        max_tokens: the largest ``max_tokens`` a request may ask for.
        default_max_tokens: ``max_tokens`` when the request does not say.
        heartbeat_s: seconds of provider silence before an SSE comment keeps the connection
            alive; ``None`` never sends one.
        allowed_hosts: host names to answer besides the loopback ones and the address the
            server listens on (``Host`` checks stop DNS rebinding; ``"*"``: any).
        allowed_origins: web page origins (``"http://localhost:8888"``) allowed to call besides
            the relay's own page; other sites' pages are refused.
        body_timeout: seconds a request body may take to arrive (then 408).

    Every request passes ``course_helpers.http_guard.HttpGuard`` first (host, origin, JSON
    content type, body size and time); the server's connection limits are ``serve_in_thread``'s.

    ``app.state.store`` is the exchange log, ``app.state.client`` the client (once made).
    """
    if store is None:
        store = ExchangeStore(db_path)
    limits = Limits(
        max_prompt_chars=max_prompt_chars,
        max_tokens=max_tokens,
        default_max_tokens=default_max_tokens,
    )
    if default_max_tokens > max_tokens:
        raise ValueError(
            f"default_max_tokens ({default_max_tokens}) is larger than max_tokens ({max_tokens})."
        )

    def llm_client() -> LLMClient:
        if app.state.client is None:
            app.state.client = LLMClient()
        chosen: LLMClient = app.state.client
        return chosen

    async def chat(request: Request) -> Response:
        try:
            body = await _read_body(request, limits.max_body_bytes)
            relay_client = llm_client()
            parsed = parse_chat(
                body, limits=limits, default=(relay_client.provider, relay_client.model)
            )
        except Rejected as rejected:
            return error_response(rejected.status, rejected.message)
        except ClientDisconnect:
            return Response(status_code=499)  # nobody is listening; never logged as an exchange
        return _Raw(SSERelay(parsed, relay_client, store, heartbeat_s=heartbeat_s))

    async def page(request: Request) -> Response:
        return HTMLResponse(PAGE, headers={"content-security-policy": _PAGE_POLICY})

    async def history(request: Request) -> Response:
        raw = request.query_params.get("limit", str(DEFAULT_HISTORY_LIMIT))
        try:
            limit = int(raw)
        except ValueError:
            limit = -1
        if not 1 <= limit <= MAX_HISTORY_LIMIT:
            return error_response(
                400, f"limit must be a whole number from 1 to {MAX_HISTORY_LIMIT}, not {raw!r}."
            )
        rows = await asyncio.to_thread(store.recent, limit)
        return JSONResponse({"exchanges": rows})

    async def one_exchange(request: Request) -> Response:
        exchange_id = request.path_params["exchange_id"]
        row = await asyncio.to_thread(store.get, exchange_id)
        if row is None:
            return error_response(
                404,
                f"No exchange {exchange_id!r} is logged here: an exchange is logged from the "
                "moment its stream starts, so this id is from another relay or mistyped. "
                "GET /history lists the latest.",
            )
        return JSONResponse(row)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "exchanges": await asyncio.to_thread(len, store)})

    app = Starlette(
        routes=[
            Route("/", page, methods=["GET"]),
            Route("/chat", chat, methods=["POST"]),
            Route("/history", history, methods=["GET"]),
            Route("/history/{exchange_id}", one_exchange, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        exception_handlers={404: _not_found, 405: _not_allowed},
    )
    app.add_middleware(
        HttpGuard,
        policy=GuardPolicy.of(
            max_body_bytes=limits.max_body_bytes,
            allowed_hosts=allowed_hosts,
            allowed_origins=allowed_origins,
            body_timeout=body_timeout,
            how_to_allow_host="--allow-host NAME (create_app(allowed_hosts=[...]) in Python)",
        ),
    )
    app.state.store = store
    app.state.client = client
    app.state.limits = limits
    return app


class _Raw(Response):
    """Hands the ASGI call to the relay (a ``Response`` only so Starlette's router accepts it)."""

    def __init__(self, relay: SSERelay) -> None:  # no super().__init__(): there is no body
        self.relay = relay
        self.status_code = 200
        self.background = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.relay(scope, receive, send)


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) to read more than ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Rejected(
            413,
            f"The request body is {declared} bytes; this relay accepts at most {limit}. "
            "Send a shorter prompt.",
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Rejected(
                413,
                f"The request body is over {limit} bytes, the most this relay accepts. "
                "Send a shorter prompt.",
            )
        chunks.append(chunk)
    return b"".join(chunks)


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_response(
        404, f"Nothing at {request.url.path}: try GET /, POST /chat, GET /history or GET /healthz."
    )


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return error_response(
        405,
        f"{request.method} is not allowed on {request.url.path}: POST /chat streams an answer; "
        "GET /, /history and /healthz read.",
    )
