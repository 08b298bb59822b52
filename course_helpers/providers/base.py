"""What every provider adapter shares: the request and result shapes, error translation, the
stream wrappers and the adapter base class. A leaf: it imports no adapter, and each adapter
(``openai.py``, ``anthropic.py``) imports it and fills in only what differs.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Literal, TypeVar

from course_helpers.errors import LLMError, classify, is_api_failure
from course_helpers.provider_record import ProviderName, ProviderRecord

__all__ = [
    "AsyncProviderStream",
    "ChatRequest",
    "ChatResult",
    "FinishReason",
    "ProviderAdapter",
    "ProviderStream",
    "StreamAccumulator",
    "finish_reason",
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

    What counts is ``errors.is_api_failure``, the retry layer's answer too. Programming errors
    (a ``TypeError`` or ``ValueError`` raised before a request is sent, a ``FileNotFoundError``)
    are left alone: they are bugs to fix, not failures to retry or report as provider errors.
    """
    try:
        yield
    except LLMError:
        raise
    except Exception as exc:
        if not is_api_failure(exc):
            raise
        error = classify(exc)
        if error.provider is None:
            error.provider = provider
        raise error from exc


def finish_reason(raw: str | None, table: Mapping[str, FinishReason]) -> FinishReason | None:
    """The provider's word for why generation ended, in the course's words (``other`` if new)."""
    return None if raw is None else table.get(raw, "other")


class StreamAccumulator(Generic[_Event]):
    """Reads one provider's stream events: yields text deltas, then builds the ``ChatResult``.

    A provider fills in ``feed`` (which event carries text, usage and the finish reason) and
    ``finish_reasons`` (its words for why generation ended); the rest is the same for both.
    """

    finish_reasons: ClassVar[Mapping[str, FinishReason]] = {}

    def __init__(self, model: str) -> None:
        self.model = model
        self.parts: list[str] = []
        self.raw_finish_reason: str | None = None
        self.input_tokens = 0
        self.output_tokens = 0

    def feed(self, event: _Event) -> str | None:
        """Take one event; return the text it adds, if any."""
        raise NotImplementedError

    def result(self, *, request_id: str | None, headers: Mapping[str, str]) -> ChatResult:
        """The answer so far: text, usage and finish reason from the events seen."""
        return ChatResult(
            content="".join(self.parts),
            model=self.model,
            finish_reason=finish_reason(self.raw_finish_reason, self.finish_reasons),
            raw_finish_reason=self.raw_finish_reason,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            request_id=request_id,
            headers=headers,
        )


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


class ProviderAdapter:
    """Everything ``LLMClient`` needs from one provider; each provider fills in what differs.

    A provider sets ``record`` (its ``provider_record`` entry: name, key variables...),
    ``sdk_classes`` (its sync and async client classes) and ``accumulator`` (its stream reader),
    and writes four small methods: ``raw_create`` (which SDK method sends), ``request_kwargs``
    (the arguments), ``build_result`` (the reply, normalised) and, when its clients carry more
    than a key and a base URL, ``account_options``. Sending, streaming, error translation and
    client handling are written once, here.
    """

    record: ClassVar[ProviderRecord]
    sdk_classes: ClassVar[tuple[type[Any], type[Any]]]  # (sync client, async client)
    accumulator: ClassVar[type[StreamAccumulator[Any]]]

    @property
    def name(self) -> ProviderName:
        return self.record.name

    @property
    def env_vars(self) -> tuple[str, ...]:
        """The variables any one of which holds a key the SDK reads."""
        return self.record.key_variables

    # -- what a provider fills in -------------------------------------------------------------

    def raw_create(self, client: Any) -> Callable[..., Any]:
        """The SDK's ``create`` that also returns the response's headers and request id."""
        raise NotImplementedError

    def request_kwargs(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        """The keyword arguments for the SDK's ``create(...)``."""
        raise NotImplementedError

    def build_result(
        self, reply: Any, request_id: str | None, headers: Mapping[str, str]
    ) -> ChatResult:
        """A non-streaming reply, normalised."""
        raise NotImplementedError

    def account_options(self, client: Any) -> dict[str, Any]:
        """What a twin client needs besides the key, base URL and timeout (none by default)."""
        return {}

    # -- clients ------------------------------------------------------------------------------

    def new_client(self, *, timeout: float, is_async: bool) -> Any:
        """An SDK client from the environment, with the SDK's own retries off."""
        cls = self.sdk_classes[is_async]
        with translate_errors(self.name):
            return cls(max_retries=0, timeout=timeout)

    def twin(self, client: Any, *, is_async: bool) -> Any:
        """The sync (or async) client for the same account and base URL as ``client``."""
        return self.sdk_classes[is_async](
            api_key=client.api_key,
            base_url=client.base_url,
            timeout=client.timeout,
            max_retries=0,
            **self.account_options(client),
        )

    def without_retries(self, client: Any) -> Any:
        """``client`` with the SDK's own retries off (ours run instead)."""
        return client.with_options(max_retries=0)

    def is_async_client(self, client: Any) -> bool:
        """Whether ``client`` is this SDK's asyncio client."""
        return isinstance(client, self.sdk_classes[True])

    # -- one attempt each: send, then normalise -----------------------------------------------

    def complete(self, client: Any, request: ChatRequest) -> ChatResult:
        """One non-streaming call (one attempt, no retries)."""
        raw, reply = self._send(client, request, stream=False)
        return self.build_result(reply, raw.request_id, raw.headers)

    async def acomplete(self, client: Any, request: ChatRequest) -> ChatResult:
        """The asyncio twin of ``complete``."""
        raw, reply = await self._asend(client, request, stream=False)
        return self.build_result(reply, raw.request_id, raw.headers)

    def open_stream(self, client: Any, request: ChatRequest) -> ProviderStream:
        """Send a streaming request and return once the response headers arrived."""
        raw, events = self._send(client, request, stream=True)
        return ProviderStream(
            self.name,
            events,
            self.accumulator(request.model),
            request_id=raw.request_id,
            headers=raw.headers,
        )

    async def aopen_stream(self, client: Any, request: ChatRequest) -> AsyncProviderStream:
        """The asyncio twin of ``open_stream``."""
        raw, events = await self._asend(client, request, stream=True)
        return AsyncProviderStream(
            self.name,
            events,
            self.accumulator(request.model),
            request_id=raw.request_id,
            headers=raw.headers,
        )

    def _send(self, client: Any, request: ChatRequest, *, stream: bool) -> tuple[Any, Any]:
        """(the raw response, its parsed body: a reply, or the stream of events)."""
        with translate_errors(self.name):
            raw = self.raw_create(client)(**self.request_kwargs(request, stream=stream))
            return raw, raw.parse()

    async def _asend(self, client: Any, request: ChatRequest, *, stream: bool) -> tuple[Any, Any]:
        with translate_errors(self.name):
            raw = await self.raw_create(client)(**self.request_kwargs(request, stream=stream))
            parsed = raw.parse()
            if inspect.isawaitable(parsed):  # anthropic's async raw response parses with await
                parsed = await parsed
            return raw, parsed
