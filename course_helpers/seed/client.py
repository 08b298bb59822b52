"""The seed material's ``LLMClient``, reproduced with its defects. Do not use it.

Each defect is real and shown failing in ``tests/test_seed_client.py`` and in the notebook on the
integration layer; ``course_helpers.client.LLMClient`` is the corrected version.

1. ``model="gpt-4o"`` is the default for *every* provider, so ``LLMClient("anthropic")`` sends an
   OpenAI model name to Anthropic: ``anthropic.NotFoundError`` (404).
2. The module uses ``time.time()`` but never imports ``time``: every ``complete`` call gets its
   answer from the provider (and is billed for it), then dies with ``NameError`` on the latency
   line.
3. ``response.content[0].text`` assumes the first content block is text; with extended thinking
   or a tool call first, it raises ``AttributeError`` (and drops any later text blocks).
4. The OpenAI stream reads ``chunk.choices[0]``, but with ``stream_options={"include_usage": True}``
   the last chunk has an empty ``choices`` list: ``IndexError`` at the very end of the stream.
5. ``temperature=`` is passed to ``anthropic``'s ``messages.create``, which the 2.x SDK no longer
   accepts: ``TypeError`` before anything is sent.

It has no retries, no timeouts, no rate limiting, and nothing stops the SDKs' own retries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from anthropic import Anthropic
from openai import OpenAI

# Defect 2: no `import time` here, although complete() calls time.time().

__all__ = ["LLMClient", "LLMResponse"]


@dataclass
class LLMResponse:
    content: str
    model: str
    input_tokens: int
    output_tokens: int
    latency_ms: float


class LLMClient:
    """One interface for OpenAI and Anthropic (as the seed wrote it)."""

    def __init__(self, provider: str = "openai", model: str = "gpt-4o") -> None:  # defect 1
        self.provider = provider
        self.model = model
        self.client: Any
        if provider == "openai":
            self.client = OpenAI()
        elif provider == "anthropic":
            self.client = Anthropic()
        else:
            raise ValueError(f"Unknown provider: {provider}")

    def complete(
        self,
        messages: list[dict[str, str]],
        max_tokens: int = 1024,
        temperature: float | None = None,
    ) -> LLMResponse:
        started = datetime.now()
        if self.provider == "openai":
            kwargs: dict[str, Any] = {} if temperature is None else {"temperature": temperature}
            response = self.client.chat.completions.create(
                model=self.model, messages=messages, max_tokens=max_tokens, **kwargs
            )
            content = response.choices[0].message.content
            input_tokens = response.usage.prompt_tokens
            output_tokens = response.usage.completion_tokens
        else:
            extra: dict[str, Any] = {} if temperature is None else {"temperature": temperature}
            response = self.client.messages.create(  # defect 5: temperature= is a TypeError
                model=self.model, max_tokens=max_tokens, messages=messages, **extra
            )
            content = response.content[0].text  # defect 3: assumes a text block comes first
            input_tokens = response.usage.input_tokens
            output_tokens = response.usage.output_tokens
        # Defect 2, deliberate: `time` is never imported, so this line raises NameError.
        latency_ms = (time.time() - started.timestamp()) * 1000  # type: ignore[name-defined]  # noqa: F821
        return LLMResponse(content, self.model, input_tokens, output_tokens, latency_ms)

    def stream(self, messages: list[dict[str, str]], max_tokens: int = 1024) -> Iterator[str]:
        if self.provider == "openai":
            chunks = self.client.chat.completions.create(
                model=self.model,
                messages=messages,
                max_tokens=max_tokens,
                stream=True,
                stream_options={"include_usage": True},
            )
            for chunk in chunks:
                delta = chunk.choices[0].delta.content  # defect 4: the usage chunk has no choices
                if delta:
                    yield delta
        else:
            with self.client.messages.stream(
                model=self.model, max_tokens=max_tokens, messages=messages
            ) as stream:
                yield from stream.text_stream
