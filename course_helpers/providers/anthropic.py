"""Anthropic Messages: request shaping, reply and stream normalising.

What is Anthropic-specific here:

- the system prompt is the ``system`` parameter, never a message: a ``role: system`` message in
  the list is moved there (the API rejects it otherwise);
- ``temperature``, ``top_p`` and ``top_k`` travel in ``extra_body``: anthropic 2.x no longer
  accepts them as keyword arguments (``TypeError``), older tutorials notwithstanding;
- ``stop`` becomes ``stop_sequences``;
- the answer is the join of *all* text blocks; ``content[0].text`` breaks as soon as the first
  block is something else (thinking, a tool call);
- a stream's usage arrives in ``message_start`` (input) and ``message_delta`` (output, cumulative).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from anthropic import Anthropic, AsyncAnthropic
from anthropic.types import Message, RawMessageStreamEvent

from course_helpers.catalog import ProviderName
from course_helpers.providers import (
    AsyncProviderStream,
    ChatRequest,
    ChatResult,
    FinishReason,
    ProviderStream,
    translate_errors,
)

__all__ = ["FINISH_REASONS", "SAMPLING_PARAMS", "AnthropicAdapter", "AnthropicStreamAccumulator"]

FINISH_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

# Sampling parameters the 2.x SDK only takes through extra_body.
SAMPLING_PARAMS = ("temperature", "top_p", "top_k")


def _finish(raw: str | None) -> FinishReason | None:
    return None if raw is None else FINISH_REASONS.get(raw, "other")


def _text_of(message: Message) -> str:
    return "".join(block.text for block in message.content if block.type == "text")


def split_system(
    messages: list[dict[str, Any]], system: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Move ``role: system`` messages out of ``messages`` into the system prompt."""
    prompts = [system] if system is not None else []
    kept: list[dict[str, Any]] = []
    for message in messages:
        if message.get("role") == "system":
            content = message.get("content", "")
            if not isinstance(content, str):  # a list of text blocks
                content = "".join(str(block.get("text", "")) for block in content)
            prompts.append(content)
        else:
            kept.append(message)
    return kept, ("\n\n".join(prompts) if prompts else None)


class AnthropicStreamAccumulator:
    """Collects a Messages stream: text deltas, stop reason and usage."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.parts: list[str] = []
        self.raw_finish_reason: str | None = None
        self.input_tokens = 0
        self.output_tokens = 0

    def feed(self, event: RawMessageStreamEvent) -> str | None:
        if event.type == "message_start":
            self.model = event.message.model or self.model
            self.input_tokens = event.message.usage.input_tokens
            self.output_tokens = event.message.usage.output_tokens
        elif event.type == "content_block_delta" and event.delta.type == "text_delta":
            self.parts.append(event.delta.text)
            return event.delta.text
        elif event.type == "message_delta":
            if event.delta.stop_reason is not None:
                self.raw_finish_reason = event.delta.stop_reason
            self.output_tokens = event.usage.output_tokens  # cumulative: overwrites
            if event.usage.input_tokens is not None:
                self.input_tokens = event.usage.input_tokens
        return None

    def result(self, *, request_id: str | None, headers: Mapping[str, str]) -> ChatResult:
        return ChatResult(
            content="".join(self.parts),
            model=self.model,
            finish_reason=_finish(self.raw_finish_reason),
            raw_finish_reason=self.raw_finish_reason,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            request_id=request_id,
            headers=headers,
        )


def _result(message: Message, request_id: str | None, headers: Mapping[str, str]) -> ChatResult:
    return ChatResult(
        content=_text_of(message),
        model=message.model,
        finish_reason=_finish(message.stop_reason),
        raw_finish_reason=message.stop_reason,
        input_tokens=message.usage.input_tokens,
        output_tokens=message.usage.output_tokens,
        request_id=request_id,
        headers=headers,
    )


class AnthropicAdapter:
    """The ``ProviderAdapter`` for Anthropic's Messages API."""

    name: ProviderName = "anthropic"
    env_vars: tuple[str, ...] = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")

    def new_client(self, *, timeout: float, is_async: bool) -> Anthropic | AsyncAnthropic:
        cls = AsyncAnthropic if is_async else Anthropic
        with translate_errors(self.name):
            return cls(max_retries=0, timeout=timeout)

    def twin(self, client: Any, *, is_async: bool) -> Anthropic | AsyncAnthropic:
        cls = AsyncAnthropic if is_async else Anthropic
        return cls(
            api_key=client.api_key,
            auth_token=client.auth_token,
            base_url=client.base_url,
            timeout=client.timeout,
            max_retries=0,
        )

    def without_retries(self, client: Any) -> Any:
        return client.with_options(max_retries=0)

    def is_async_client(self, client: Any) -> bool:
        return isinstance(client, AsyncAnthropic)

    def request_kwargs(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        messages, system = split_system(request.messages, request.system)
        kwargs: dict[str, Any] = {
            "model": request.model,
            "messages": messages,
            "max_tokens": request.max_tokens,
        }
        if system is not None:
            kwargs["system"] = system
        if request.stop:
            kwargs["stop_sequences"] = list(request.stop)
        if request.timeout is not None:
            kwargs["timeout"] = request.timeout
        if stream:
            kwargs["stream"] = True
        extra = dict(request.extra)
        body = dict(extra.pop("extra_body", None) or {})
        if request.temperature is not None:
            body["temperature"] = request.temperature
        for name in SAMPLING_PARAMS:
            if name in extra:
                body[name] = extra.pop(name)
        if body:
            kwargs["extra_body"] = body
        kwargs.update(extra)
        return kwargs

    def complete(self, client: Any, request: ChatRequest) -> ChatResult:
        with translate_errors(self.name):
            raw = client.messages.with_raw_response.create(
                **self.request_kwargs(request, stream=False)
            )
            message: Message = raw.parse()
        return _result(message, raw.request_id, raw.headers)

    async def acomplete(self, client: Any, request: ChatRequest) -> ChatResult:
        with translate_errors(self.name):
            raw = await client.messages.with_raw_response.create(
                **self.request_kwargs(request, stream=False)
            )
            message: Message = await raw.parse()
        return _result(message, raw.request_id, raw.headers)

    def open_stream(self, client: Any, request: ChatRequest) -> ProviderStream:
        with translate_errors(self.name):
            raw = client.messages.with_raw_response.create(
                **self.request_kwargs(request, stream=True)
            )
            events = raw.parse()
        accumulator = AnthropicStreamAccumulator(request.model)
        return ProviderStream(
            self.name, events, accumulator, request_id=raw.request_id, headers=raw.headers
        )

    async def aopen_stream(self, client: Any, request: ChatRequest) -> AsyncProviderStream:
        with translate_errors(self.name):
            raw = await client.messages.with_raw_response.create(
                **self.request_kwargs(request, stream=True)
            )
            events = await raw.parse()
        accumulator = AnthropicStreamAccumulator(request.model)
        return AsyncProviderStream(
            self.name, events, accumulator, request_id=raw.request_id, headers=raw.headers
        )
