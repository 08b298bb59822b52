"""An ASGI middleware that refuses what a loopback server must never act on, with a clear 4xx.

Both the relay (``course_helpers.server``) and the simulated provider's HTTP adapter
(``course_helpers.fake.asgi``) run behind it. Before the app sees a request it checks, in order:

- **Host** (400): only loopback names, the address the connection arrived at, and the names given
  in ``allowed_hosts``. A web page that points its own domain at 127.0.0.1 (DNS rebinding) sends
  its own name as ``Host`` and is refused, so it cannot read ``/history``.
- **Origin** (403): a browser request from another site is refused (same origin only, plus
  ``allowed_origins``), so a web page cannot make a learner's relay spend credits. Requests without
  an ``Origin`` header (curl, the SDKs) are not browser requests and pass.
- **Framing** (400): ``Transfer-Encoding`` and ``Content-Length`` together (request smuggling).
- **Size** (413): a body over ``max_body_bytes``, refused from its ``Content-Length`` before
  reading, or as soon as a streamed body passes the limit.
- **Content type** (415): a body must be sent as ``application/json``. A page's form or
  ``text/plain`` fetch (which skips the browser's CORS preflight) is refused.
- **Body time** (408): the whole body must arrive within ``body_timeout`` seconds.

Every response gets ``X-Content-Type-Options: nosniff``. A rejection closes the connection, so an
unread body is never mistaken for the next request. The server's own timeouts (request head, idle
keep-alive) and its connection cap live in ``course_helpers.serving``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "DEFAULT_BODY_TIMEOUT",
    "LOOPBACK_HOSTS",
    "ErrorBody",
    "GuardPolicy",
    "HttpGuard",
    "Refusal",
    "host_name",
]

DEFAULT_BODY_TIMEOUT = 30.0
"""Seconds a request body may take to arrive in full (loopback bodies take milliseconds)."""
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_NOSNIFF = (b"x-content-type-options", b"nosniff")
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


@dataclass(frozen=True)
class Refusal:
    """Why a request was refused: the HTTP status, a message that says what to do, and a kind."""

    status: int
    message: str
    kind: str  # host, origin, framing, too_large, content_type, timeout


ErrorBody = Callable[[Scope, Refusal], dict[str, Any]]
"""Builds the JSON error body in the app's own shape (the relay's, OpenAI's, Anthropic's)."""


def plain_error(scope: Scope, refusal: Refusal) -> dict[str, Any]:
    """``{"error": {"message": ...}}``: the relay's error shape."""
    return {"error": {"message": refusal.message}}


@dataclass(frozen=True)
class GuardPolicy:
    """What the guard accepts. Host names are compared without port, case-insensitively.

    ``allowed_hosts`` adds names to the loopback ones (``"*"``: any host, which turns the DNS
    rebinding protection off). ``allowed_origins`` adds browser origins such as
    ``"http://localhost:8888"`` to the server's own.
    """

    max_body_bytes: int
    allowed_hosts: frozenset[str] = frozenset()
    allowed_origins: frozenset[str] = frozenset()
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    how_to_allow_host: str = "allowed_hosts=[...]"
    hosts: frozenset[str] = field(init=False)
    origins: frozenset[tuple[str, str, int]] = field(init=False)

    def __post_init__(self) -> None:
        if self.max_body_bytes < 0 or self.body_timeout <= 0:
            raise ValueError("max_body_bytes must be 0 or more and body_timeout more than 0.")
        hosts = LOOPBACK_HOSTS | {_normal_host(name) for name in self.allowed_hosts}
        origins = set()
        for origin in self.allowed_origins:
            parsed = _parse_origin(origin)
            if parsed is None:
                raise ValueError(f"{origin!r} is not an origin: write it as http://host:port.")
            origins.add(parsed)
        object.__setattr__(self, "hosts", frozenset(hosts))
        object.__setattr__(self, "origins", frozenset(origins))

    @classmethod
    def of(
        cls,
        *,
        max_body_bytes: int,
        allowed_hosts: Iterable[str] = (),
        allowed_origins: Iterable[str] = (),
        body_timeout: float = DEFAULT_BODY_TIMEOUT,
        how_to_allow_host: str = "allowed_hosts=[...]",
    ) -> GuardPolicy:
        """A policy from any iterables (lists from a command line, tuples from code)."""
        return cls(
            max_body_bytes=max_body_bytes,
            allowed_hosts=frozenset(allowed_hosts),
            allowed_origins=frozenset(allowed_origins),
            body_timeout=body_timeout,
            how_to_allow_host=how_to_allow_host,
        )


class HttpGuard:
    """Wraps an ASGI app: checks each HTTP request (see the module docstring), adds ``nosniff``."""

    def __init__(self, app: ASGIApp, policy: GuardPolicy, error_body: ErrorBody = plain_error):
        self.app = app
        self.policy = policy
        self.error_body = error_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_nosniff(send)
        refusal = check_head(scope, self.policy)
        if refusal is None:
            outcome = await _read_body(receive, self.policy)
            if outcome is None:
                return  # the client left before sending its body: nobody to answer
            if isinstance(outcome, Refusal):
                refusal = outcome
            else:
                await self.app(scope, _replay(outcome, receive), send)
                return
        await self._refuse(scope, send, refusal)

    async def _refuse(self, scope: Scope, send: Send, refusal: Refusal) -> None:
        body = json.dumps(self.error_body(scope, refusal)).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),  # an unread body must not be read as the next request
        ]
        await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def check_head(scope: Scope, policy: GuardPolicy) -> Refusal | None:
    """The first problem with a request's line and headers, or ``None``."""
    headers = _headers(scope)
    raw_host = headers.get("host")
    if raw_host is not None:
        name = host_name(raw_host)
        server = scope.get("server")
        here = {_normal_host(str(server[0]))} if server else set()
        if "*" not in policy.hosts and name not in policy.hosts | here:
            return Refusal(
                400,
                f"This server does not answer to the host name {raw_host!r} (a web page may be "
                "pointing its own name at your machine). Use http://127.0.0.1:PORT or "
                f"http://localhost:PORT, or allow that name with {policy.how_to_allow_host}.",
                "host",
            )
    origin = headers.get("origin")
    if origin is not None and not _same_origin(origin, scope, raw_host, policy):
        return Refusal(
            403,
            f"Requests from web pages at {origin} are refused: this server answers only its own "
            "pages, so another site cannot use it (or spend your credits). Open the page this "
            "server serves, or call it from code, which sends no Origin header.",
            "origin",
        )
    has_length = "content-length" in headers
    if has_length and "transfer-encoding" in headers:
        return Refusal(
            400,
            "The request has both Transfer-Encoding and Content-Length: send one of them "
            "(HTTP clients choose for you; a hand-written request must too).",
            "framing",
        )
    declared = headers.get("content-length", "0").strip()
    length = int(declared) if declared.isdigit() else 0
    if length > policy.max_body_bytes:
        return too_large(length, policy.max_body_bytes)
    if length > 0 or "transfer-encoding" in headers:
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if not _is_json(media_type):
            said = f"Content-Type: {media_type}" if media_type else "no Content-Type"
            return Refusal(
                415,
                f"The body must be JSON sent with Content-Type: application/json (this request "
                f"has {said}). With curl: -H 'Content-Type: application/json'.",
                "content_type",
            )
    return None


def too_large(size: int, limit: int, *, at_least: bool = False) -> Refusal:
    """The 413 for a body of ``size`` bytes (``at_least``: it was still arriving)."""
    amount = f"over {limit} bytes" if at_least else f"{size} bytes"
    return Refusal(
        413,
        f"The request body is {amount}; this server accepts at most {limit}. "
        "Send a smaller body (a shorter prompt, fewer messages).",
        "too_large",
    )


def host_name(raw_host: str) -> str:
    """The name in a ``Host`` header, without port: ``[::1]:80`` -> ``::1``, ``A.b.:8`` -> ``a.b``.

    Lower case and without the trailing dot, so ``LOCALHOST.`` cannot slip past the allow-list.
    """
    value = raw_host.strip()
    if value.startswith("["):
        return _normal_host(value[1 : value.find("]")] if "]" in value else value[1:])
    return _normal_host(value.rsplit(":", 1)[0] if value.count(":") == 1 else value)


def _normal_host(name: str) -> str:
    return name.strip().strip("[]").rstrip(".").lower()


def _parse_origin(origin: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of an origin such as ``http://localhost:8000``, or ``None``."""
    scheme, sep, rest = origin.strip().partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in _DEFAULT_PORTS or not rest or "/" in rest:
        return None
    host = host_name(rest)
    port_text = rest.rsplit("]", 1)[-1] if rest.startswith("[") else rest
    _, colon, port = port_text.rpartition(":") if ":" in port_text else ("", "", "")
    if colon and not port.isdigit():
        return None
    return scheme, host, int(port) if colon else _DEFAULT_PORTS[scheme]


def _same_origin(origin: str, scope: Scope, raw_host: str | None, policy: GuardPolicy) -> bool:
    parsed = _parse_origin(origin)
    if parsed is None:
        return False  # "null" (a sandboxed frame, a file: page) or garbage
    if parsed in policy.origins:
        return True
    if raw_host is None:
        return False
    scheme = str(scope.get("scheme", "http"))
    own = _parse_origin(f"{scheme}://{raw_host.strip()}")
    return own is not None and parsed == own


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _headers(scope: Scope) -> dict[str, str]:
    """The request headers by lower-case name (the first of repeated ones)."""
    found: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        found.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
    return found


async def _read_body(receive: Receive, policy: GuardPolicy) -> bytes | Refusal | None:
    """The whole body, a 413 or 408 ``Refusal``, or ``None`` if the client disconnected."""
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(policy.body_timeout):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return None
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > policy.max_body_bytes:
                    return too_large(size, policy.max_body_bytes, at_least=True)
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
    except TimeoutError:
        return Refusal(
            408,
            f"The request body did not arrive within {policy.body_timeout:g} s (only {size} "
            "bytes did): send the whole body at once. The connection is closed.",
            "timeout",
        )


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the app the body already read, then the client's own events."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replay


def _with_nosniff(send: Send) -> Send:
    """A ``send`` that adds ``X-Content-Type-Options: nosniff`` to the response headers."""

    async def send_with_nosniff(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            if not any(name.lower() == _NOSNIFF[0] for name, _ in headers):
                headers.append(_NOSNIFF)
            message = {**message, "headers": headers}
        await send(message)

    return send_with_nosniff
