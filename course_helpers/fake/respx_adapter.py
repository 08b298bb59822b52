"""The in-process adapter: one respx router for the process, answering from the innermost fake.

The router uses the course's own respx mocker, ``FakeMocker`` (a subclass of respx's public
``HTTPCoreMocker``, registered as ``MOCKER``), which patches httpcore2's connection pools: the
transport under httpx2, so under both SDKs. No test plugin is needed, and a test's own
``respx.mock(...)`` never shares the fake's router list. There is exactly one router. It starts
when the first ``FakeProvider`` starts and stops when the last one stops; in between it hands every
request to the most recently started provider still running. It answers only the providers' own
hosts (``api.openai.com``, ``api.anthropic.com``) and the base URLs the course registered with
``answer_at``, and there it matches the whole path as the real hosts do (``fake.endpoints``):
``OPENAI_BASE_URL`` without ``/v1`` or ``ANTHROPIC_BASE_URL`` with ``/v1`` gets the provider's own
404, offline as live. Every other request — a learner's own endpoint (a local Ollama, Groq, an
Azure host, a proxy), the course's relay server on loopback, a provider the fake does not
simulate, an origin passed to ``bypass`` — goes out untouched, and fails or succeeds as it would
without the fake.

Bodies are played back by ``Playback``, which waits each chunk's delay with ``time.sleep`` for sync
clients and ``asyncio.sleep`` for async ones (the router's handler itself never sleeps, so an
asyncio fan-out is never blocked). Which kind a client is, respx already knows: it calls the
mocker's sync or async response hook as the patched pool is sync or async. A ``hang`` ending waits
out the client's read timeout and raises ``httpcore2.ReadTimeout``; a ``drop`` raises
``httpcore2.RemoteProtocolError``. With no chunks both happen before the status line, so the SDKs
retry them and end with ``APITimeoutError`` / ``APIConnectionError``. With chunks they happen
mid-body: openai still raises those classes (not retried, for a stream); anthropic lets the raw
``httpx2.ReadTimeout`` / ``RemoteProtocolError`` escape a stream, as it does against the real API.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

import httpcore2
import httpx  # respx speaks httpx's Request/Response; the SDKs' transport below is httpcore2
import respx
from respx.mocks import HTTPCoreMocker

from course_helpers.fake.endpoints import PROVIDER_HOSTS, guess_provider, served
from course_helpers.fake.exchange import FakeRequest, FakeResponse

if TYPE_CHECKING:
    from course_helpers.fake.core import FakeProvider, ProviderName

__all__ = [
    "MOCKER",
    "PROVIDER_HOSTS",
    "FakeMocker",
    "Playback",
    "activate",
    "active",
    "answer_at",
    "bypass",
    "deactivate",
    "forget",
    "to_fake_request",
]

_DROPPED = "peer closed connection without sending complete message body (incomplete chunked read)"
_TIMED_OUT = "The read operation timed out"
_STALL = "course_helpers.stall"  # response extension: seconds to wait before the status line
MOCKER = "course_helpers.httpcore2"  # the name ``respx.mock(using=...)`` knows FakeMocker by

_lock = threading.Lock()
_stack: list[FakeProvider] = []
_bypassed: set[tuple[str, int | None]] = set()
_answered: dict[tuple[str, int | None], str] = {}  # (host, port) -> the path prefix answered
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
                raise httpcore2.ReadTimeout(_TIMED_OUT)
            yield chunk.data
        if self._response.ending == "hang":
            time.sleep(self._stall())
            raise httpcore2.ReadTimeout(_TIMED_OUT)
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
                raise httpcore2.ReadTimeout(_TIMED_OUT)
            yield chunk.data
        if self._response.ending == "hang":
            await asyncio.sleep(self._stall())
            raise httpcore2.ReadTimeout(_TIMED_OUT)
        if self._response.ending == "drop":
            raise httpcore2.RemoteProtocolError(_DROPPED)


class FakeMocker(HTTPCoreMocker):
    """respx's httpcore mocker aimed at httpcore2, handing httpcore2 its own ``Response``.

    Subclassing respx's public ``HTTPCoreMocker`` with a ``name`` registers it for
    ``respx.mock(using=MOCKER)``. respx calls the sync hook for a sync pool and the async hook for
    an async one, so a response the fake wants to stall before its status line (``_STALL``) waits
    with ``time.sleep`` in the calling thread or with ``asyncio.sleep`` in the calling task only.
    """

    name: ClassVar[str] = MOCKER
    targets: ClassVar[list[str]] = [
        "httpcore2._sync.connection.HTTPConnection",
        "httpcore2._sync.connection_pool.ConnectionPool",
        "httpcore2._sync.http_proxy.HTTPProxy",
        "httpcore2._async.connection.AsyncHTTPConnection",
        "httpcore2._async.connection_pool.AsyncConnectionPool",
        "httpcore2._async.http_proxy.AsyncHTTPProxy",
    ]

    @classmethod
    def from_sync_httpx_response(
        cls, httpx_response: httpx.Response, target: Any, **kwargs: Any
    ) -> httpcore2.Response:
        stall = httpx_response.extensions.get(_STALL)
        if stall is not None:
            time.sleep(stall)
            raise httpcore2.ReadTimeout(_TIMED_OUT)
        return _to_httpcore2(httpx_response)

    @classmethod
    async def from_async_httpx_response(
        cls, httpx_response: httpx.Response, target: Any, **kwargs: Any
    ) -> httpcore2.Response:
        stall = httpx_response.extensions.get(_STALL)
        if stall is not None:
            await asyncio.sleep(stall)
            raise httpcore2.ReadTimeout(_TIMED_OUT)
        return _to_httpcore2(httpx_response)


def _to_httpcore2(response: httpx.Response) -> httpcore2.Response:
    """The transport-level response the httpcore2 pool returns to httpx2."""
    stream: Any = response.stream  # Playback, or respx's pre-read bytes: sync and async iterable
    return httpcore2.Response(
        status=response.status_code,
        headers=response.headers.raw,
        content=stream,
        extensions=response.extensions,
    )


def to_fake_request(request: httpx.Request, path: str | None = None) -> FakeRequest:
    """The core's view of an intercepted request (``path``: as the provider's host would see it)."""
    timeout = request.extensions.get("timeout", {})
    read = timeout.get("read") if isinstance(timeout, dict) else None
    return FakeRequest(
        method=request.method,
        path=request.url.path if path is None else path,
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
    routed = None if fake is None or bypassed else _route(request)
    if fake is None or routed is None or not fake.simulates(routed[0]):
        return None
    provider, path = routed
    fake_request = to_fake_request(request, path)
    response = fake.handle(fake_request) if served(provider, path) else None
    if response is None:
        response = fake.not_found(fake_request, provider)
    if not response.chunks and response.ending == "drop":
        raise httpcore2.RemoteProtocolError(_DROPPED)
    if not response.chunks and response.ending == "hang":
        seconds = min(response.hang_seconds, fake_request.read_timeout or 1e9)
        return httpx.Response(response.status, extensions={_STALL: seconds})
    return httpx.Response(
        response.status,
        headers=response.headers,
        stream=Playback(response, fake_request.read_timeout),
    )


def _route(request: httpx.Request) -> tuple[ProviderName, str] | None:
    """Whose request this is and its path as the provider's host sees it; ``None``: not ours."""
    url = request.url
    provider = PROVIDER_HOSTS.get(url.host)
    if provider is not None:
        return provider, url.path
    with _lock:
        prefix = _answered.get((url.host, url.port), _answered.get((url.host, None)))
    if prefix is None or not (url.path == prefix or url.path.startswith(prefix + "/")):
        return None
    path = url.path[len(prefix) :] or "/"
    headers = {name.lower(): value for name, value in request.headers.items()}
    return guess_provider(path, headers), path


def activate(fake: FakeProvider) -> None:
    """Make ``fake`` answer (it takes over from any fake already active)."""
    global _router
    with _lock:
        if fake in _stack:
            raise RuntimeError("this FakeProvider is already started; stop it before restarting")
        if not _stack:
            router = respx.mock(using=MOCKER, assert_all_called=False, assert_all_mocked=False)
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


def answer_at(base_url: str) -> None:
    """Answer requests under ``base_url`` as if it were the providers' hosts.

    For a base URL the course itself hands out (a stand-in address in a demo or a test): OpenAI
    clients then use ``{base_url}/v1``, Anthropic clients ``base_url``, as with the real hosts.
    A learner's own endpoint is never registered, so it stays theirs.
    """
    url = httpx.URL(base_url)
    if not url.host:
        raise ValueError(
            f"answer_at needs an absolute URL such as http://fake.test, not {base_url!r}"
        )
    with _lock:
        _answered[(url.host, url.port)] = url.path.rstrip("/")


def forget(base_url: str) -> None:
    """Stop answering at a base URL given to ``answer_at`` (idempotent)."""
    url = httpx.URL(base_url)
    with _lock:
        _answered.pop((url.host, url.port), None)


def bypass(host: str, port: int | None = None) -> None:
    """Never intercept requests to ``host`` (and ``port``): e.g. the ASGI fake on loopback."""
    with _lock:
        _bypassed.add((host, port))
