"""OpenAI Chat Completions: request shaping, reply and stream normalising.

What is OpenAI-specific here:

- the system prompt is the first message (``role: system``);
- ``max_tokens`` is sent as ``max_completion_tokens`` (the current name; reasoning models reject
  the old one);
- a stream asks for ``stream_options={"include_usage": True}``, so its last chunk carries the usage
  and has an *empty* ``choices`` list, which the accumulator skips instead of indexing into it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from openai import AsyncOpenAI, OpenAI
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from course_helpers.provider_record import PROVIDER_RECORDS
from course_helpers.providers.base import (
    ChatRequest,
    ChatResult,
    FinishReason,
    ProviderAdapter,
    StreamAccumulator,
    finish_reason,
)

__all__ = ["FINISH_REASONS", "OpenAIAdapter", "OpenAIStreamAccumulator"]

FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
}


class OpenAIStreamAccumulator(StreamAccumulator[ChatCompletionChunk]):
    """Collects a chat-completion stream: the text of choice 0, its finish reason, and usage."""

    finish_reasons = FINISH_REASONS

    def feed(self, event: ChatCompletionChunk) -> str | None:
        self.model = event.model or self.model
        if event.usage is not None:
            self.input_tokens = event.usage.prompt_tokens
            self.output_tokens = event.usage.completion_tokens
        text: str | None = None
        for choice in event.choices:  # empty on the final usage-only chunk
            if choice.index != 0:
                continue
            if choice.finish_reason is not None:
                self.raw_finish_reason = choice.finish_reason
            if choice.delta.content:
                text = choice.delta.content
                self.parts.append(text)
        return text


class OpenAIAdapter(ProviderAdapter):
    """The ``ProviderAdapter`` for OpenAI's Chat Completions API."""

    record = PROVIDER_RECORDS["openai"]
    sdk_classes = (OpenAI, AsyncOpenAI)
    accumulator = OpenAIStreamAccumulator

    def raw_create(self, client: Any) -> Callable[..., Any]:
        return cast(Callable[..., Any], client.chat.completions.with_raw_response.create)

    def request_kwargs(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        messages = list(request.messages)
        if request.system is not None:
            messages.insert(0, {"role": "system", "content": request.system})
        kwargs: dict[str, Any] = {
            "model": request.model,
            "messages": messages,
            "max_completion_tokens": request.max_tokens,
        }
        if request.temperature is not None:
            kwargs["temperature"] = request.temperature
        if request.stop:
            kwargs["stop"] = list(request.stop)
        if request.timeout is not None:
            kwargs["timeout"] = request.timeout
        if stream:
            kwargs["stream"] = True
            kwargs["stream_options"] = {"include_usage": True}
        kwargs.update(request.extra)
        return kwargs

    def build_result(
        self, reply: ChatCompletion, request_id: str | None, headers: Mapping[str, str]
    ) -> ChatResult:
        choice = reply.choices[0] if reply.choices else None
        raw_finish = choice.finish_reason if choice is not None else None
        usage = reply.usage
        return ChatResult(
            content=(choice.message.content or "") if choice is not None else "",
            model=reply.model,
            finish_reason=finish_reason(raw_finish, FINISH_REASONS),
            raw_finish_reason=raw_finish,
            input_tokens=usage.prompt_tokens if usage is not None else 0,
            output_tokens=usage.completion_tokens if usage is not None else 0,
            request_id=request_id,
            headers=headers,
        )

    def account_options(self, client: Any) -> dict[str, Any]:
        return {"organization": client.organization, "project": client.project}
