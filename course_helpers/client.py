"""``LLMClient``: one call shape for OpenAI and Anthropic, with the production plumbing wired in.

>>> client = LLMClient(model="claude-haiku-5-5")            # doctest: +SKIP
>>> reply = client.complete("Say hello", max_tokens=20)     # doctest: +SKIP
>>> reply.content, reply.provider, reply.output_tokens, reply.cost_usd  # doctest: +SKIP
>>> for delta in (stream := client.stream("Count to five")):  # doctest: +SKIP
...     print(delta, end="")
>>> stream.response.output_tokens                           # doctest: +SKIP

What happens in one call, in order:

1. **Routing.** The model name picks the provider (``catalog.provider_for``); a client made with
   only ``provider=`` uses that provider's default model, so Anthropic is never sent ``gpt-4o``.
2. **Budget.** ``budget.reserve(estimate)`` before anything is sent, where the estimate is
   ``estimate_tokens(messages, system=...) + max_tokens``: an over-budget call raises
   ``BudgetExceededError`` and never reaches the provider. The reservation is settled with the real
   usage afterwards, or cancelled if the call failed.
3. **Retries.** Each attempt first waits for the rate limiter (``limiter.acquire(estimate)``), then
   sends one request; ``course_helpers.retry`` decides whether and when to try again. The SDKs' own
   retries are off (``max_retries=0``), so one attempt is one HTTP request. A stream is retried only
   before its first token.
4. **Fallbacks.** If the call still fails with an error another model might not have (a retriable
   one after the retries ran out, an exhausted quota, or ``NotFoundError`` for a retired or unknown
   model), the next ``(provider, model)`` in ``fallbacks`` is tried. Authentication errors, invalid
   requests and budget refusals never fall back: another model would not fix them. A stream falls
   back only before its first token.
5. **Bookkeeping.** The limiter is reconciled with the real usage and follows the response's
   rate-limit headers; one log line (``course_helpers.usage``) and one usage-log row are written per
   model tried, success or failure. Message contents and keys are never logged.

Errors are the course's ``LLMError`` subclasses (``course_helpers.errors``), raised ``from`` the SDK
exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import threading
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

from course_helpers import catalog
from course_helpers.errors import (
    AuthenticationError,
    LLMError,
    NotFoundError,
    QuotaExceededError,
)
from course_helpers.provider_record import PROVIDER_RECORDS, PROVIDERS, ProviderName
from course_helpers.providers import (
    ADAPTERS,
    AsyncProviderStream,
    ChatRequest,
    ChatResult,
    FinishReason,
    ProviderAdapter,
    ProviderStream,
)
from course_helpers.retry import (
    RetryEvent,
    RetryPolicy,
    acall_with_retry,
    aretry_stream,
    call_with_retry,
    retry_stream,
)
from course_helpers.tokens import estimate_tokens
from course_helpers.usage import Outcome, UsageLog, UsageRecord, get_logger, new_request_id

if TYPE_CHECKING:
    from course_helpers.budget import Reservation, TokenBudget
    from course_helpers.ratelimit import RateLimiter

__all__ = [
    "PROVIDERS",
    "AsyncLLMStream",
    "CallOptions",
    "FinishReason",
    "LLMClient",
    "LLMResponse",
    "LLMStream",
    "Provider",
    "Target",
    "parse_provider",
]

Provider = ProviderName
"""``"openai"`` or ``"anthropic"``."""

Target = tuple[Provider, str]
"""A ``(provider, model)`` pair: where one call goes."""

Messages = str | Sequence[Mapping[str, Any]]

DEFAULT_RETRY = RetryPolicy()  # frozen, so one shared default is safe
_NO_RETRY = RetryPolicy(max_attempts=1, deadline=None)


def parse_provider(value: str) -> Provider:
    """``value`` as a ``Provider``, case-insensitively; a ``ValueError`` naming the choices."""
    name = value.strip().lower()
    for provider in PROVIDERS:
        if name == provider:
            return provider
    raise ValueError(f"Unknown provider {value!r}: use one of {', '.join(map(repr, PROVIDERS))}.")


def resolve_target(provider: Provider | str | None, model: str | None) -> Target:
    """Where a call goes: the provider from the model's name when not given, and vice versa.

    >>> resolve_target(None, "claude-haiku-5-5")
    ('anthropic', 'claude-haiku-5-5')
    >>> resolve_target("anthropic", None)
    ('anthropic', 'claude-haiku-5-5')
    """
    chosen = parse_provider(provider) if provider is not None else None
    if model is None:
        chosen = chosen or _default_provider()
        return chosen, catalog.default_model(chosen)
    serves = catalog.provider_for(model)
    if chosen is None:
        if serves is None:
            raise ValueError(
                f"Cannot tell which provider serves {model!r}: pass provider='openai' or "
                "provider='anthropic' (catalog.list_models() lists the known models)."
            )
        return serves, model
    if serves is not None and serves != chosen:
        raise ValueError(
            f"{model!r} is served by {_label(serves)}, not {_label(chosen)}: drop provider= (the "
            f"model name decides), or pick an {_label(chosen)} model such as "
            f"{catalog.default_model(chosen)!r}."
        )
    return chosen, model


def _default_provider() -> Provider:
    """The first provider with a key in the environment; OpenAI when none has one."""
    for provider in PROVIDERS:
        if _has_key(provider):
            return provider
    return PROVIDERS[0]


def _label(provider: Provider) -> str:
    return PROVIDER_RECORDS[provider].label


def _has_key(provider: Provider) -> bool:
    """Whether any of the provider's key variables is set (its SDK reads any of them)."""
    return any(os.environ.get(name) for name in PROVIDER_RECORDS[provider].key_variables)


def _as_target(item: str | tuple[str, str]) -> Target:
    if isinstance(item, str):
        return resolve_target(None, item)
    provider, model = item
    return resolve_target(provider, model)


def _as_messages(messages: Messages) -> list[dict[str, Any]]:
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    return [dict(message) for message in messages]


def _falls_back(error: LLMError) -> bool:
    """Whether another (provider, model) might succeed where this one failed."""
    return error.retriable or isinstance(error, QuotaExceededError | NotFoundError)


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class LLMResponse:
    """One answer, normalised across providers.

    ``request_id`` is ours (it is in the log line and the usage log); ``provider_request_id`` is
    the provider's (quote it in a support ticket). ``finish_reason`` uses the same words for both
    providers (``stop``, ``length``, ``content_filter``, ``tool_calls``, ``other``) and
    ``raw_finish_reason`` keeps the provider's own. ``time_to_first_token_s`` is set for streams.
    ``attempts`` counts the requests sent to the provider that answered; ``fallback_from`` is the
    ``(provider, model)`` first asked when a fallback answered instead.
    """

    content: str
    model: str
    provider: Provider
    input_tokens: int
    output_tokens: int
    finish_reason: FinishReason | None
    raw_finish_reason: str | None
    latency_s: float
    time_to_first_token_s: float | None = None
    request_id: str = ""
    provider_request_id: str | None = None
    cost_usd: float | None = None
    attempts: int = 1
    fallback_from: Target | None = None
    total_tokens: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "total_tokens", self.input_tokens + self.output_tokens)

    def __str__(self) -> str:
        return self.content


class _StreamBase:
    """What ``LLMStream`` and ``AsyncLLMStream`` share: the text so far, then the response."""

    _HOW_TO_READ = "for delta in stream: ..."

    def __init__(self) -> None:
        self._response: LLMResponse | None = None
        self._parts: list[str] = []

    def _received(self, text: str) -> str:
        self._parts.append(text)
        return text

    def _finish(self, response: LLMResponse) -> None:
        self._response = response

    @property
    def text(self) -> str:
        """The text received so far."""
        return "".join(self._parts)

    @property
    def response(self) -> LLMResponse:
        """The final response with usage; available once the stream was read to the end."""
        if self._response is None:
            raise RuntimeError(
                f"The stream has not finished: read it to the end ({self._HOW_TO_READ}) "
                "before asking for .response."
            )
        return self._response


class LLMStream(_StreamBase, Iterator[str]):
    """Text deltas as they arrive; once exhausted, ``.response`` is the whole ``LLMResponse``.

    The request is sent when iteration starts. Use it as a context manager (or call ``close()``)
    to release the connection when you stop reading early.
    """

    def __init__(self, run: Callable[[LLMStream], Iterator[str]]) -> None:
        super().__init__()
        self._chunks = run(self)

    def __iter__(self) -> LLMStream:
        return self

    def __next__(self) -> str:
        return self._received(next(self._chunks))

    def close(self) -> None:
        """Stop the stream and release its connection."""
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> LLMStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncLLMStream(_StreamBase, AsyncIterator[str]):
    """The asyncio twin of ``LLMStream``: ``async for delta in stream``, then ``.response``."""

    _HOW_TO_READ = "async for delta in stream: ..."

    def __init__(self, run: Callable[[AsyncLLMStream], AsyncIterator[str]]) -> None:
        super().__init__()
        self._chunks = run(self)

    def __aiter__(self) -> AsyncLLMStream:
        return self

    async def __anext__(self) -> str:
        return self._received(await anext(self._chunks))

    async def aclose(self) -> None:
        """Stop the stream and release its connection."""
        aclose = getattr(self._chunks, "aclose", None)
        if aclose is not None:
            await aclose()

    async def __aenter__(self) -> AsyncLLMStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


# --------------------------------------------------------------------------------------------
# One call: its options, its targets in order, and the bookkeeping for each target.


@dataclass(frozen=True)
class CallOptions:
    """What one ``complete``/``stream`` call asked for, the same for every target and attempt."""

    messages: list[dict[str, Any]]
    system: str | None = None
    max_tokens: int = 1024
    temperature: float | None = None
    stop: tuple[str, ...] = ()
    model: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        messages: Messages,
        system: str | None,
        max_tokens: int,
        temperature: float | None,
        stop: str | Sequence[str] | None,
        model: str | None,
        extra: Mapping[str, Any],
    ) -> CallOptions:
        """The options as the public methods take them: a prompt string, one stop string..."""
        return cls(
            messages=_as_messages(messages),
            system=system,
            max_tokens=max_tokens,
            temperature=temperature,
            stop=(stop,) if isinstance(stop, str) else tuple(stop or ()),
            model=model,
            extra=dict(extra),
        )

    def request(self, model: str, timeout: float) -> ChatRequest:
        """The request for one target: its own model name, the same everything else."""
        return ChatRequest(
            model=model,
            messages=self.messages,
            max_tokens=self.max_tokens,
            system=self.system,
            temperature=self.temperature,
            stop=self.stop,
            extra=dict(self.extra),
            timeout=timeout,
        )


class _Route:
    """The targets of one call in order, and the failures that made it fall back so far.

    Iterating gives one ``_Call`` per target; ``with call:`` records a failure and either lets the
    loop go on to the next target (a fallback) or raises.
    """

    def __init__(self, owner: LLMClient, options: CallOptions, *, stream: bool) -> None:
        self.owner = owner
        self.options = options
        self.stream = stream
        self.targets = owner._targets(options.model)
        self.failures: list[tuple[Target, LLMError]] = []

    def __iter__(self) -> Iterator[_Call]:
        for target in self.targets:
            yield _Call(self, target)

    @property
    def fallback_from(self) -> Target | None:
        """The target first asked, when a fallback is answering instead."""
        return self.failures[0][0] if self.failures else None

    def failed(self, call: _Call, error: LLMError, partial: ChatResult | None) -> bool:
        """Record the failure; ``True`` to try the next target, ``False`` to raise ``error``."""
        target = (call.provider, call.model)
        is_last = len(self.failures) + 1 >= len(self.targets)
        if not is_last and _falls_back(error) and call.first_token_at is None:
            call.failed(error, "fallback", partial)
            self.failures.append((target, error))
            return True
        call.failed(error, "error", partial)
        for (provider, model), earlier in self.failures:
            error.add_note(
                f"Fell back from {provider}/{model} after {type(earlier).__name__}; "
                f"{target[0]}/{target[1]} then failed too."
            )
        return False


class _Call:
    """One target of one call: budget, limiter, timing, usage log and log line.

    The public methods differ only in how they send (call or await, iterate or async-iterate);
    everything before, between and after the attempts is here, and a ``with call:`` block
    settles a failure (see ``__exit__``).
    """

    def __init__(self, route: _Route, target: Target) -> None:
        self.route = route
        self.owner = route.owner
        self.provider, self.model = target
        self.request = route.options.request(self.model, self.owner.timeout)
        self.stream = route.stream
        self.request_id = new_request_id()
        self.started = time.perf_counter()
        self.first_token_at: float | None = None
        self.attempts = 0
        self.reservation: Reservation | None = None
        self.adapter: ProviderAdapter = ADAPTERS[self.provider]
        self.opened: ProviderStream | AsyncProviderStream | None = None
        self.finished = False  # succeeded() or failed() ran: nothing left to record

    # Estimates only a limiter, a budget or a partial bill needs: a plain call skips the count.
    @functools.cached_property
    def prompt_estimate(self) -> int:
        return estimate_tokens(self.request.messages, system=self.request.system)

    @functools.cached_property
    def estimate(self) -> int:
        """What the provider charges a request when it arrives: prompt + ``max_tokens``."""
        return self.prompt_estimate + self.request.max_tokens

    def __enter__(self) -> _Call:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        """Settle a failure; ``True`` (the error is swallowed) when the route falls back."""
        if error is None or self.finished:
            return False
        generated = self.partial()
        if isinstance(error, LLMError):
            return self.route.failed(self, error, generated)
        if isinstance(error, GeneratorExit):  # the caller stopped reading: bill what was generated
            self.failed(None, "ok", generated)
        else:  # a bug, a cancelled task, Ctrl+C: release and record
            self.failed(error, "error", generated)
        return False

    def start(self, *, is_async: bool) -> Any:
        """The SDK client, once the limiter and the budget said the call may go ahead.

        Raises ``ValueError`` (larger than the rate limit) or ``BudgetExceededError`` before any
        request is sent.
        """
        client = self.owner._client_for(self.provider, is_async=is_async)
        if self.owner.limiter is not None:
            self.owner.limiter.wait_time(self.estimate)  # raises ValueError if it never fits
        if self.owner.budget is not None:
            self.reservation = self.owner.budget.reserve(
                self.prompt_estimate, model=self.model, max_output=self.request.max_tokens
            )
        return client

    # One attempt each: wait for the limiter, then send one request.

    def send(self, client: Any) -> ChatResult:
        self._begin_attempt()
        return self.adapter.complete(client, self.request)

    async def asend(self, client: Any) -> ChatResult:
        await self._abegin_attempt()
        return await self.adapter.acomplete(client, self.request)

    def open(self, client: Any) -> ProviderStream:
        self._begin_attempt()
        self.opened = opened = self.adapter.open_stream(client, self.request)
        return opened

    async def aopen(self, client: Any) -> AsyncProviderStream:
        await self._abegin_attempt()
        self.opened = opened = await self.adapter.aopen_stream(client, self.request)
        return opened

    def _begin_attempt(self) -> None:
        self.attempts += 1
        if self.owner.limiter is not None:
            self.owner.limiter.acquire(self.estimate)

    async def _abegin_attempt(self) -> None:
        self.attempts += 1
        if self.owner.limiter is not None:
            await self.owner.limiter.acquire_async(self.estimate)

    def first_token(self) -> None:
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()

    def partial(self) -> ChatResult | None:
        """What the last stream opened has generated so far (``None`` for ``complete``)."""
        return self.opened.result() if self.opened is not None else None

    def succeeded(self, result: ChatResult | None) -> LLMResponse:
        """Settle, reconcile, log and record a success (``None``: a stream that said nothing)."""
        self.finished = True
        result = result or ChatResult("", self.request.model, None, None, 0, 0)
        latency = time.perf_counter() - self.started
        if self.reservation is not None:
            self.reservation.settle(
                input_tokens=result.input_tokens, output_tokens=result.output_tokens
            )
        limiter = self.owner.limiter
        if limiter is not None:
            # Only an under-estimate is corrected: OpenAI and the simulated provider charge
            # prompt + max_tokens when a request arrives and give nothing back for a short answer.
            used = result.input_tokens + result.output_tokens
            limiter.reconcile(self.estimate, max(self.estimate, used))
            limiter.update_from_headers(result.headers)
        cost = catalog.cost_usd(
            self.model, input_tokens=result.input_tokens, output_tokens=result.output_tokens
        )
        if cost is None and result.model != self.model:
            cost = catalog.cost_usd(
                result.model, input_tokens=result.input_tokens, output_tokens=result.output_tokens
            )
        response = LLMResponse(
            content=result.content,
            model=result.model,
            provider=self.provider,
            input_tokens=result.input_tokens,
            output_tokens=result.output_tokens,
            finish_reason=result.finish_reason,
            raw_finish_reason=result.raw_finish_reason,
            latency_s=latency,
            time_to_first_token_s=(
                self.first_token_at - self.started if self.first_token_at is not None else None
            ),
            request_id=self.request_id,
            provider_request_id=result.request_id,
            cost_usd=cost,
            attempts=self.attempts,
            fallback_from=self.route.fallback_from,
        )
        self._report(
            "ok",
            None,
            response.input_tokens,
            response.output_tokens,
            cost,
            latency,
            result.request_id,
        )
        return response

    def failed(
        self, error: BaseException | None, outcome: Outcome, partial: ChatResult | None
    ) -> None:
        """Release or settle the budget, then log and record the failure.

        A stream that failed (or was closed) after its first token was still generated and
        billed: its partial usage is settled, with estimates where the provider had not said.
        """
        self.finished = True
        latency = time.perf_counter() - self.started
        input_tokens = output_tokens = 0
        if partial is not None and self.first_token_at is not None:
            input_tokens = partial.input_tokens or self.prompt_estimate
            output_tokens = partial.output_tokens or estimate_tokens(partial.content)
        if self.reservation is not None:
            if input_tokens or output_tokens:
                self.reservation.settle(input_tokens=input_tokens, output_tokens=output_tokens)
            else:
                self.reservation.cancel()
        cost = (
            catalog.cost_usd(self.model, input_tokens=input_tokens, output_tokens=output_tokens)
            if input_tokens or output_tokens
            else None
        )
        request_id = getattr(error, "request_id", None) or (partial.request_id if partial else None)
        self._report(outcome, error, input_tokens, output_tokens, cost, latency, request_id)

    def _report(
        self,
        outcome: Outcome,
        error: BaseException | None,
        input_tokens: int,
        output_tokens: int,
        cost: float | None,
        latency: float,
        provider_request_id: str | None,
    ) -> None:
        error_class = type(error).__name__ if error is not None else None
        overspend = self.reservation.overspend if self.reservation is not None else None
        level = logging.INFO if outcome == "ok" else logging.WARNING
        logger = self.owner.logger
        if logger.isEnabledFor(level):  # nobody listening: skip building the record
            fields: dict[str, Any] = {
                "request_id": self.request_id,
                "provider_request_id": provider_request_id,
                "provider": self.provider,
                "model": self.model,
                "outcome": outcome,
                "error_class": error_class,
                "status": getattr(error, "status", None),
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "cost_usd": round(cost, 8) if cost is not None else None,
                "latency_s": round(latency, 6),
                "time_to_first_token_s": (
                    round(self.first_token_at - self.started, 6)
                    if self.first_token_at is not None
                    else None
                ),
                "attempts": self.attempts,
                "stream": self.stream,
                "overspend_tokens": overspend.tokens if overspend else None,
            }
            failure = f" {error_class}" if error_class else ""
            logger.log(
                level,
                "llm call %s%s %s/%s in=%d out=%d latency=%.3fs attempts=%d id=%s provider_id=%s",
                outcome,
                failure,
                self.provider,
                self.model,
                input_tokens,
                output_tokens,
                latency,
                self.attempts,
                self.request_id,
                provider_request_id or "-",
                extra=fields,
            )
        if self.owner.usage_log is not None:
            self.owner.usage_log.record(
                UsageRecord(
                    request_id=self.request_id,
                    provider_request_id=provider_request_id,
                    provider=self.provider,
                    model=self.model,
                    input_tokens=input_tokens,
                    output_tokens=output_tokens,
                    cost_usd=cost,
                    latency_s=latency,
                    outcome=outcome,
                    error_class=error_class,
                    attempts=self.attempts,
                    overspend_tokens=overspend.tokens if overspend else 0,
                    overspend_usd=overspend.usd if overspend else 0.0,
                )
            )


# --------------------------------------------------------------------------------------------
# The client


class LLMClient:
    """One client for OpenAI and Anthropic: ``complete``/``acomplete``, ``stream``/``astream``.

    Args:
        provider: ``"openai"`` or ``"anthropic"``; inferred from ``model`` when omitted. With
            neither, the first provider whose key is set (OpenAI when none is).
        model: the default model; the provider's course default when omitted.
        openai_client, anthropic_client: SDK clients to use (sync or async; the other kind is
            built from the same key and base URL). Their own retries are switched off. When not
            given, clients are created on first use from ``OPENAI_API_KEY`` /
            ``ANTHROPIC_API_KEY``.
        retry: the retry policy; ``None`` sends each request once.
        limiter: a ``RateLimiter`` every attempt waits for (``estimate + max_tokens`` tokens).
        budget: a ``TokenBudget`` each call reserves from before it is sent.
        usage_log: a ``UsageLog`` that gets one row per model tried.
        fallbacks: models (or ``(provider, model)`` pairs) to try in order when the call fails
            with an error another model might not have (see the module docstring).
        timeout: seconds per request.
        logger: where the one-line-per-call log goes (``course_helpers.llm`` by default).
        sleep, async_sleep: how retries wait (tests and demos inject fakes).
        on_retry: called with a ``RetryEvent`` before each retry's wait.
    """

    def __init__(
        self,
        provider: Provider | str | None = None,
        model: str | None = None,
        *,
        openai_client: Any = None,
        anthropic_client: Any = None,
        retry: RetryPolicy | None = DEFAULT_RETRY,
        limiter: RateLimiter | None = None,
        budget: TokenBudget | None = None,
        usage_log: UsageLog | None = None,
        fallbacks: Sequence[str | tuple[str, str]] = (),
        timeout: float = 60.0,
        logger: logging.Logger | None = None,
        sleep: Callable[[float], object] = time.sleep,
        async_sleep: Callable[[float], Awaitable[object]] | None = None,
        on_retry: Callable[[RetryEvent], object] | None = None,
    ) -> None:
        self.provider, self.model = resolve_target(provider, model)
        self.fallbacks: tuple[Target, ...] = tuple(_as_target(item) for item in fallbacks)
        self.retry = retry
        self.limiter = limiter
        self.budget = budget
        self.usage_log = usage_log
        self.timeout = timeout
        self.logger = logger or get_logger()
        self._sleep = sleep
        self._async_sleep = async_sleep
        self._on_retry = on_retry
        self._given: dict[Provider, Any] = {}
        for name, given in (("openai", openai_client), ("anthropic", anthropic_client)):
            if given is not None:
                self._given[cast(Provider, name)] = given
        self._clients: dict[tuple[Provider, bool], tuple[object, Any]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        fallbacks = f", fallbacks={list(self.fallbacks)!r}" if self.fallbacks else ""
        return f"LLMClient(provider={self.provider!r}, model={self.model!r}{fallbacks})"

    # -- public API -----------------------------------------------------------------------------
    # Each method differs from its twin only in its I/O (call or await, iterate or async-iterate):
    # routing, fallbacks, budget, limiter and bookkeeping are in _Route and _Call.

    def complete(
        self,
        messages: Messages,
        *,
        system: str | None = None,
        max_tokens: int = 1024,
        temperature: float | None = None,
        stop: str | Sequence[str] | None = None,
        model: str | None = None,
        **extra: Any,
    ) -> LLMResponse:
        """Send ``messages`` (or a prompt string) and return the whole answer."""
        options = CallOptions.of(messages, system, max_tokens, temperature, stop, model, extra)
        for call in _Route(self, options, stream=False):
            with call:
                client = call.start(is_async=False)
                send = functools.partial(call.send, client)
                result = call_with_retry(send, **self._retry_options(is_async=False))
                return call.succeeded(result)
        raise AssertionError("unreachable: the last target raises")  # pragma: no cover

    async def acomplete(
        self,
        messages: Messages,
        *,
        system: str | None = None,
        max_tokens: int = 1024,
        temperature: float | None = None,
        stop: str | Sequence[str] | None = None,
        model: str | None = None,
        **extra: Any,
    ) -> LLMResponse:
        """The asyncio twin of ``complete``."""
        options = CallOptions.of(messages, system, max_tokens, temperature, stop, model, extra)
        for call in _Route(self, options, stream=False):
            with call:
                client = call.start(is_async=True)
                send = functools.partial(call.asend, client)
                result = await acall_with_retry(send, **self._retry_options(is_async=True))
                return call.succeeded(result)
        raise AssertionError("unreachable: the last target raises")  # pragma: no cover

    def stream(
        self,
        messages: Messages,
        *,
        system: str | None = None,
        max_tokens: int = 1024,
        temperature: float | None = None,
        stop: str | Sequence[str] | None = None,
        model: str | None = None,
        **extra: Any,
    ) -> LLMStream:
        """Stream the answer: iterate for text deltas, then read ``.response``."""
        options = CallOptions.of(messages, system, max_tokens, temperature, stop, model, extra)
        route = _Route(self, options, stream=True)

        def run(sink: LLMStream) -> Iterator[str]:
            for call in route:
                with call:
                    client = call.start(is_async=False)
                    open_stream = functools.partial(call.open, client)
                    chunks = retry_stream(open_stream, **self._retry_options(is_async=False))
                    with contextlib.closing(cast(Generator[str, None, None], chunks)):
                        for text in chunks:
                            call.first_token()
                            yield text
                    sink._finish(call.succeeded(call.partial()))
                    return

        return LLMStream(run)

    def astream(
        self,
        messages: Messages,
        *,
        system: str | None = None,
        max_tokens: int = 1024,
        temperature: float | None = None,
        stop: str | Sequence[str] | None = None,
        model: str | None = None,
        **extra: Any,
    ) -> AsyncLLMStream:
        """The asyncio twin of ``stream``: ``async for delta in client.astream(...)``."""
        options = CallOptions.of(messages, system, max_tokens, temperature, stop, model, extra)
        route = _Route(self, options, stream=True)

        async def run(sink: AsyncLLMStream) -> AsyncIterator[str]:
            for call in route:
                with call:
                    client = call.start(is_async=True)
                    open_stream = functools.partial(call.aopen, client)
                    chunks = aretry_stream(open_stream, **self._retry_options(is_async=True))
                    async with contextlib.aclosing(cast(AsyncGenerator[str, None], chunks)):
                        async for text in chunks:
                            call.first_token()
                            yield text
                    sink._finish(call.succeeded(call.partial()))
                    return

        return AsyncLLMStream(run)

    # -- internals ------------------------------------------------------------------------------

    def _targets(self, model: str | None) -> list[Target]:
        first = (self.provider, self.model) if model is None else self._route(model)
        return [first, *(target for target in self.fallbacks if target != first)]

    def _route(self, model: str) -> Target:
        """A per-call ``model=``: its own provider when the catalogue knows it, else ours."""
        serves = catalog.provider_for(model)
        return (serves or self.provider), model

    def _retry_options(self, *, is_async: bool) -> dict[str, Any]:
        """The retry loop's policy and hooks (asyncio keeps its own sleep unless given one)."""
        options: dict[str, Any] = {"policy": self.retry or _NO_RETRY, "on_retry": self._on_retry}
        sleep = self._async_sleep if is_async else self._sleep
        if sleep is not None:
            options["sleep"] = sleep
        return options

    def _client_for(self, provider: Provider, *, is_async: bool) -> Any:
        adapter = ADAPTERS[provider]
        # An asyncio client's connections belong to one event loop: keep one client per loop, so
        # two asyncio.run(...) calls in a script do not share a closed loop's connections.
        loop = asyncio.get_running_loop() if is_async else None
        key = (provider, is_async)
        with self._lock:
            cached = self._clients.get(key)
            if cached is None or cached[0] is not loop:
                cached = self._clients[key] = (loop, self._make_client(adapter, is_async=is_async))
        return cached[1]

    def _make_client(self, adapter: ProviderAdapter, *, is_async: bool) -> Any:
        given = self._given.get(adapter.name)
        if given is not None:
            if adapter.is_async_client(given) == is_async:
                return adapter.without_retries(given)
            return adapter.twin(given, is_async=is_async)
        if not _has_key(adapter.name):
            variable = adapter.record.key_variable
            raise AuthenticationError(
                f"{variable} is not set, so LLMClient cannot call {adapter.name}. Run "
                "`from course_helpers import setup; setup()` first (it reads .env at the course "
                "root, or starts the simulated provider when there is no key), or pass "
                f"{adapter.name}_client=.",
                provider=adapter.name,
            )
        return adapter.new_client(timeout=self.timeout, is_async=is_async)
