"""The in-process adapter: one respx router for the process, answering from the innermost fake.

Nested ``respx.mock(using="httpcore2")`` routers do not stack (the first one started keeps
answering), so there is exactly one router. It starts when the first ``FakeProvider`` starts and
stops when the last one stops; in between it hands every request to the most recently started
provider still running. Routes match on the path only, so ``base_url=`` / ``OPENAI_BASE_URL`` /
``ANTHROPIC_BASE_URL`` still reach the fake. An unknown path on ``api.openai.com`` or
``api.anthropic.com`` gets that provider's JSON 404; every other request — the course's relay
server on loopback, a provider the fake does not simulate, an origin passed to ``bypass`` —
goes out untouched.

Bodies are played back by ``Playback``, which waits each chunk's delay with ``time.sleep`` for sync
clients and ``asyncio.sleep`` for async ones (the router's handler itself never sleeps, so an
asyncio fan-out is never blocked). A ``hang`` ending waits out the client's read timeout and raises
``httpcore2.ReadTimeout``; a ``drop`` raises ``httpcore2.RemoteProtocolError``. With no chunks
both happen before the status line, so the SDKs retry them and end with ``APITimeoutError`` /
``APIConnectionError``. With chunks they happen mid-body: openai still raises those classes (not
retried, for a stream); anthropic lets the raw ``httpx2.ReadTimeout`` / ``RemoteProtocolError``
escape a stream, as it does against the real API.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from types import FrameType
from typing import TYPE_CHECKING, Any

import httpcore2
import httpx
import pytest_httpx2._plugin  # noqa: F401  (registers respx's "httpcore2" mocker)
import respx

from course_helpers.fake.exchange import FakeRequest, FakeResponse

if TYPE_CHECKING:
    from course_helpers.fake.core import FakeProvider, ProviderName

__all__ = ["Playback", "activate", "active", "bypass", "deactivate", "to_fake_request"]

PROVIDER_HOSTS: dict[str, ProviderName] = {
    "api.openai.com": "openai",
    "api.anthropic.com": "anthropic",
}
_DROPPED = "peer closed connection without sending complete message body (incomplete chunked read)"

_lock = threading.Lock()
_stack: list[FakeProvider] = []
_bypassed: set[tuple[str, int | None]] = set()
_router: Any = None


class Playback(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that arrives chunk by chunk, then ends as the ``FakeResponse`` says."""

    def __init__(self, response: FakeResponse, read_timeout: float | None) -> None:
        self._response = response
        self._read_timeout = read_timeout
        self._played = False

    def _first_play(self) -> bool:
        """Whether this is the first read: like a socket, the body can be read only once.

        (The async transport stack asks for a second iterator when it closes the response;
        replaying the body then would re-send every chunk, with its delays, after ``[DONE]``.)
        """
        first, self._played = not self._played, True
        return first

    def _wait(self, delay: float) -> tuple[float, bool]:
        """How long to wait before the next bytes, and whether the read times out first."""
        timeout = self._read_timeout
        if timeout is not None and delay > timeout:
            return timeout, True
        return delay, False

    def _stall(self) -> float:
        hang = self._response.hang_seconds
        return hang if self._read_timeout is None else min(self._read_timeout, hang)

    def __iter__(self) -> Iterator[bytes]:
        if not self._first_play():
            return
        for chunk in self._response.chunks:
            wait, timed_out = self._wait(chunk.delay)
            if wait > 0:
                time.sleep(wait)
            if timed_out:
                raise httpcore2.ReadTimeout("The read operation timed out")
            yield chunk.data
        if self._response.ending == "hang":
            time.sleep(self._stall())
            raise httpcore2.ReadTimeout("The read operation timed out")
        if self._response.ending == "drop":
            raise httpcore2.RemoteProtocolError(_DROPPED)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if not self._first_play():
            return
        for chunk in self._response.chunks:
            wait, timed_out = self._wait(chunk.delay)
            if wait > 0:
                await asyncio.sleep(wait)
            if timed_out:
                raise httpcore2.ReadTimeout("The read operation timed out")
            yield chunk.data
        if self._response.ending == "hang":
            await asyncio.sleep(self._stall())
            raise httpcore2.ReadTimeout("The read operation timed out")
        if self._response.ending == "drop":
            raise httpcore2.RemoteProtocolError(_DROPPED)


def to_fake_request(request: httpx.Request) -> FakeRequest:
    """The core's view of an intercepted request."""
    timeout = request.extensions.get("timeout", {})
    read = timeout.get("read") if isinstance(timeout, dict) else None
    return FakeRequest(
        method=request.method,
        path=request.url.path,
        headers={name.lower(): value for name, value in request.headers.items()},
        body=request.content,
        query=dict(request.url.params),
        read_timeout=float(read) if read is not None else None,
    )


def _dispatch(request: httpx.Request) -> Any:
    """The router's side effect: a response from the innermost fake, or ``None`` to pass through."""
    with _lock:
        fake = _stack[-1] if _stack else None
        bypassed = (request.url.host, request.url.port) in _bypassed or (
            request.url.host,
            None,
        ) in _bypassed
        if _router is not None:
            _router.reset()  # respx keeps every call; the fake keeps its own log instead
    if fake is None or bypassed:
        return None
    fake_request = to_fake_request(request)
    response = fake.handle(fake_request)
    if response is None:
        provider = PROVIDER_HOSTS.get(request.url.host)
        if provider is None or not fake.simulates(provider):
            return None
        response = fake.not_found(fake_request, provider)
    if not response.chunks and response.ending == "drop":
        raise httpcore2.RemoteProtocolError(_DROPPED)
    if not response.chunks and response.ending == "hang":
        seconds = min(response.hang_seconds, fake_request.read_timeout or 1e9)
        return _hang_before_headers(seconds, _is_async_client(request))
    return httpx.Response(
        response.status,
        headers=response.headers,
        stream=Playback(response, fake_request.read_timeout),
    )


def _is_async_client(request: httpx.Request) -> bool:
    """Whether an async client sent ``request``: the SDKs say so, else ask respx's call stack."""
    declared = request.headers.get("x-stainless-async")  # "false" or "async:asyncio"
    if declared is not None:
        return str(declared).startswith("async")
    return _called_from_async()


def _called_from_async() -> bool:
    """Whether respx's async resolver (not its sync one) is calling the side effect.

    Only for non-SDK clients: an event loop running in this thread says nothing (a notebook's
    synchronous cell runs inside one), so look for respx's ``aresolve`` a few frames up.
    """
    frame: FrameType | None = sys._getframe(2)
    for _ in range(12):
        if frame is None:
            return False
        if frame.f_code.co_name == "aresolve":
            return True
        frame = frame.f_back
    return False


def _hang_before_headers(seconds: float, is_async: bool) -> Any:
    """Stall before the status line, then time out: the SDKs see a timeout they may retry.

    For an async client, respx awaits the returned coroutine, so only that task waits; for a sync
    client the calling thread waits, as it would for a real server that never answers.
    """
    if is_async:

        async def stall() -> None:
            await asyncio.sleep(seconds)
            raise httpcore2.ReadTimeout("The read operation timed out")

        return stall()
    time.sleep(seconds)
    raise httpcore2.ReadTimeout("The read operation timed out")


def activate(fake: FakeProvider) -> None:
    """Make ``fake`` answer (it takes over from any fake already active)."""
    global _router
    with _lock:
        if fake in _stack:
            raise RuntimeError("this FakeProvider is already started; stop it before restarting")
        if not _stack:
            router = respx.mock(using="httpcore2", assert_all_called=False, assert_all_mocked=False)
            router.route(path__regex=r"^/").mock(side_effect=_dispatch)
            router.route().pass_through()
            router.start()
            _router = router
        _stack.append(fake)


def deactivate(fake: FakeProvider) -> None:
    """Stop ``fake`` answering; the fake started before it answers again. Idempotent."""
    global _router
    with _lock:
        if fake in _stack:
            _stack.remove(fake)
        if not _stack and _router is not None:
            _router.stop()
            _router = None


def active() -> FakeProvider | None:
    """The fake that answers right now, if any."""
    with _lock:
        return _stack[-1] if _stack else None


def bypass(host: str, port: int | None = None) -> None:
    """Never intercept requests to ``host`` (and ``port``): e.g. the ASGI fake on loopback."""
    with _lock:
        _bypassed.add((host, port))
