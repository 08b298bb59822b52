"""OpenAI Chat Completions: request shaping, reply and stream normalising.

What is OpenAI-specific here:

- the system prompt is the first message (``role: system``);
- ``max_tokens`` is sent as ``max_completion_tokens`` (the current name; reasoning models reject
  the old one);
- a stream asks for ``stream_options={"include_usage": True}``, so its last chunk carries the usage
  and has an *empty* ``choices`` list, which the accumulator skips instead of indexing into it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openai import AsyncOpenAI, OpenAI
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from course_helpers.catalog import ProviderName
from course_helpers.providers import (
    AsyncProviderStream,
    ChatRequest,
    ChatResult,
    FinishReason,
    ProviderStream,
    translate_errors,
)

__all__ = ["FINISH_REASONS", "OpenAIAdapter", "OpenAIStreamAccumulator"]

FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
}


def _finish(raw: str | None) -> FinishReason | None:
    return None if raw is None else FINISH_REASONS.get(raw, "other")


class OpenAIStreamAccumulator:
    """Collects a chat-completion stream: the text of choice 0, its finish reason, and usage."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.parts: list[str] = []
        self.raw_finish_reason: str | None = None
        self.input_tokens = 0
        self.output_tokens = 0

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


def _result(
    completion: ChatCompletion, request_id: str | None, headers: Mapping[str, str]
) -> ChatResult:
    choice = completion.choices[0] if completion.choices else None
    raw_finish = choice.finish_reason if choice is not None else None
    usage = completion.usage
    return ChatResult(
        content=(choice.message.content or "") if choice is not None else "",
        model=completion.model,
        finish_reason=_finish(raw_finish),
        raw_finish_reason=raw_finish,
        input_tokens=usage.prompt_tokens if usage is not None else 0,
        output_tokens=usage.completion_tokens if usage is not None else 0,
        request_id=request_id,
        headers=headers,
    )


class OpenAIAdapter:
    """The ``ProviderAdapter`` for OpenAI's Chat Completions API."""

    name: ProviderName = "openai"
    env_vars: tuple[str, ...] = ("OPENAI_API_KEY",)

    def new_client(self, *, timeout: float, is_async: bool) -> OpenAI | AsyncOpenAI:
        cls = AsyncOpenAI if is_async else OpenAI
        with translate_errors(self.name):
            return cls(max_retries=0, timeout=timeout)

    def twin(self, client: Any, *, is_async: bool) -> OpenAI | AsyncOpenAI:
        cls = AsyncOpenAI if is_async else OpenAI
        return cls(
            api_key=client.api_key,
            organization=client.organization,
            project=client.project,
            base_url=client.base_url,
            timeout=client.timeout,
            max_retries=0,
        )

    def without_retries(self, client: Any) -> Any:
        return client.with_options(max_retries=0)

    def is_async_client(self, client: Any) -> bool:
        return isinstance(client, AsyncOpenAI)

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

    def complete(self, client: Any, request: ChatRequest) -> ChatResult:
        with translate_errors(self.name):
            raw = client.chat.completions.with_raw_response.create(
                **self.request_kwargs(request, stream=False)
            )
            completion: ChatCompletion = raw.parse()
        return _result(completion, raw.request_id, raw.headers)

    async def acomplete(self, client: Any, request: ChatRequest) -> ChatResult:
        with translate_errors(self.name):
            raw = await client.chat.completions.with_raw_response.create(
                **self.request_kwargs(request, stream=False)
            )
            completion: ChatCompletion = raw.parse()
        return _result(completion, raw.request_id, raw.headers)

    def open_stream(self, client: Any, request: ChatRequest) -> ProviderStream:
        with translate_errors(self.name):
            raw = client.chat.completions.with_raw_response.create(
                **self.request_kwargs(request, stream=True)
            )
            events = raw.parse()
        accumulator = OpenAIStreamAccumulator(request.model)
        return ProviderStream(
            self.name, events, accumulator, request_id=raw.request_id, headers=raw.headers
        )

    async def aopen_stream(self, client: Any, request: ChatRequest) -> AsyncProviderStream:
        with translate_errors(self.name):
            raw = await client.chat.completions.with_raw_response.create(
                **self.request_kwargs(request, stream=True)
            )
            events = raw.parse()
        accumulator = OpenAIStreamAccumulator(request.model)
        return AsyncProviderStream(
            self.name, events, accumulator, request_id=raw.request_id, headers=raw.headers
        )
