"""Provider adapters: what differs between OpenAI and Anthropic, and nothing else.

``LLMClient`` speaks one request shape (``ChatRequest``) and reads one result shape
(``ChatResult``). Each adapter turns the first into its SDK's ``create(...)`` arguments and its
SDK's reply (or stream events) back into the second. The registry below is an explicit dict, so
``ADAPTERS["anthropic"]`` is the one place to look for everything Anthropic-specific::

    ADAPTERS = {"openai": OpenAIAdapter(), "anthropic": AnthropicAdapter()}

Every SDK or network exception leaves an adapter as the course's ``LLMError`` (``classify``),
raised ``from`` the original.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

from course_helpers.catalog import ProviderName
from course_helpers.errors import LLMError, classify

__all__ = [
    "ADAPTERS",
    "AsyncProviderStream",
    "ChatRequest",
    "ChatResult",
    "FinishReason",
    "ProviderAdapter",
    "ProviderStream",
    "StreamAccumulator",
    "translate_errors",
]

FinishReason = Literal["stop", "length", "content_filter", "tool_calls", "other"]
"""Why generation ended, the same words for both providers.

``stop``: a natural end or a stop sequence (OpenAI ``stop``; Anthropic ``end_turn``,
``stop_sequence``). ``length``: ``max_tokens`` or the context window ran out. ``content_filter``:
a filter or a refusal. ``tool_calls``: the model wants a tool run. ``other``: anything else (for
example Anthropic's ``pause_turn``); the provider's own word stays in ``raw_finish_reason``.
"""

_Event = TypeVar("_Event", contravariant=True)


@dataclass(frozen=True)
class ChatRequest:
    """One chat call, before any provider has shaped it."""

    model: str
    messages: list[dict[str, Any]]
    max_tokens: int
    system: str | None = None
    temperature: float | None = None
    stop: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    timeout: float | None = None


@dataclass(frozen=True)
class ChatResult:
    """One provider's answer, normalised."""

    content: str
    model: str
    finish_reason: FinishReason | None
    raw_finish_reason: str | None
    input_tokens: int
    output_tokens: int
    request_id: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@contextlib.contextmanager
def translate_errors(provider: ProviderName) -> Iterator[None]:
    """Re-raise any exception from an SDK or the network as the course's ``LLMError``.

    Programming errors (``TypeError``, ``ValueError`` ... raised before a request is sent) are
    left alone: they are bugs to fix, not failures to retry or report as provider errors.
    """
    try:
        yield
    except LLMError:
        raise
    except Exception as exc:
        if not _is_foreign(exc):
            raise
        error = classify(exc)
        if error.provider is None:
            error.provider = provider
        raise error from exc


def _is_foreign(exc: BaseException) -> bool:
    """True for exceptions raised by the SDKs, httpx2/httpcore2 or the OS network stack."""
    root = type(exc).__module__.partition(".")[0]
    return root in ("openai", "anthropic", "httpx2", "httpcore2", "httpx", "httpcore") or (
        isinstance(exc, OSError | TimeoutError)
    )


class StreamAccumulator(Protocol[_Event]):
    """Reads one provider's stream events: yields text deltas, then builds the ``ChatResult``."""

    def feed(self, event: _Event) -> str | None:
        """Take one event; return the text it adds, if any."""

    def result(self, *, request_id: str | None, headers: Mapping[str, str]) -> ChatResult:
        """The answer so far: text, usage and finish reason from the events seen."""


class _ProviderStreamBase:
    """What ``ProviderStream`` and ``AsyncProviderStream`` share: the reply's ids and result."""

    def __init__(
        self,
        provider: ProviderName,
        events: Any,
        accumulator: StreamAccumulator[Any],
        *,
        request_id: str | None,
        headers: Mapping[str, str],
    ) -> None:
        self.provider = provider
        self.request_id = request_id
        self.headers = headers
        self._events = events
        self._accumulator = accumulator

    def result(self) -> ChatResult:
        """The answer accumulated so far (complete once iteration has ended)."""
        return self._accumulator.result(request_id=self.request_id, headers=self.headers)


class ProviderStream(_ProviderStreamBase):
    """An open provider stream: iterate for text deltas, then ``result()`` for the whole answer."""

    _events: Iterable[Any]

    def __iter__(self) -> Iterator[str]:
        with translate_errors(self.provider):
            for event in self._events:
                text = self._accumulator.feed(event)
                if text:
                    yield text

    def close(self) -> None:
        """Release the HTTP connection, also when the stream was not read to the end."""
        close = getattr(self._events, "close", None)
        if close is not None:
            close()


class AsyncProviderStream(_ProviderStreamBase):
    """The asyncio twin of ``ProviderStream``."""

    _events: AsyncIterable[Any]

    async def __aiter__(self) -> AsyncIterator[str]:
        with translate_errors(self.provider):
            async for event in self._events:
                text = self._accumulator.feed(event)
                if text:
                    yield text

    async def close(self) -> None:
        """Release the HTTP connection, also when the stream was not read to the end."""
        close = getattr(self._events, "close", None)
        if close is not None:
            await close()


class ProviderAdapter(Protocol):
    """Everything ``LLMClient`` needs from one provider."""

    name: ProviderName
    env_vars: tuple[str, ...]  # any one of them is enough to create a client

    def new_client(self, *, timeout: float, is_async: bool) -> Any:
        """An SDK client from the environment, with the SDK's own retries off."""

    def twin(self, client: Any, *, is_async: bool) -> Any:
        """The sync (or async) client for the same account and base URL as ``client``."""

    def without_retries(self, client: Any) -> Any:
        """``client`` with the SDK's own retries off (ours run instead)."""

    def is_async_client(self, client: Any) -> bool:
        """Whether ``client`` is this SDK's asyncio client."""

    def request_kwargs(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        """The keyword arguments for the SDK's ``create(...)``."""

    def complete(self, client: Any, request: ChatRequest) -> ChatResult:
        """One non-streaming call (one attempt, no retries)."""

    async def acomplete(self, client: Any, request: ChatRequest) -> ChatResult:
        """The asyncio twin of ``complete``."""

    def open_stream(self, client: Any, request: ChatRequest) -> ProviderStream:
        """Send a streaming request and return once the response headers arrived."""

    async def aopen_stream(self, client: Any, request: ChatRequest) -> AsyncProviderStream:
        """The asyncio twin of ``open_stream``."""


# The registry, imported last: the adapters build on the types above.
from course_helpers.providers.anthropic import AnthropicAdapter  # noqa: E402
from course_helpers.providers.openai import OpenAIAdapter  # noqa: E402

ADAPTERS: dict[ProviderName, ProviderAdapter] = {
    "openai": OpenAIAdapter(),
    "anthropic": AnthropicAdapter(),
}
