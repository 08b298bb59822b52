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

from collections.abc import Callable, Mapping
from typing import Any, cast

from anthropic import Anthropic, AsyncAnthropic
from anthropic.types import Message, RawMessageStreamEvent

from course_helpers.provider_record import PROVIDER_RECORDS
from course_helpers.providers.base import (
    ChatRequest,
    ChatResult,
    FinishReason,
    ProviderAdapter,
    StreamAccumulator,
    finish_reason,
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


class AnthropicStreamAccumulator(StreamAccumulator[RawMessageStreamEvent]):
    """Collects a Messages stream: text deltas, stop reason and usage."""

    finish_reasons = FINISH_REASONS

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


class AnthropicAdapter(ProviderAdapter):
    """The ``ProviderAdapter`` for Anthropic's Messages API."""

    record = PROVIDER_RECORDS["anthropic"]
    sdk_classes = (Anthropic, AsyncAnthropic)
    accumulator = AnthropicStreamAccumulator

    def raw_create(self, client: Any) -> Callable[..., Any]:
        return cast(Callable[..., Any], client.messages.with_raw_response.create)

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

    def build_result(
        self, reply: Message, request_id: str | None, headers: Mapping[str, str]
    ) -> ChatResult:
        return ChatResult(
            content=_text_of(reply),
            model=reply.model,
            finish_reason=finish_reason(reply.stop_reason, FINISH_REASONS),
            raw_finish_reason=reply.stop_reason,
            input_tokens=reply.usage.input_tokens,
            output_tokens=reply.usage.output_tokens,
            request_id=request_id,
            headers=headers,
        )

    def account_options(self, client: Any) -> dict[str, Any]:
        return {"auth_token": client.auth_token}
