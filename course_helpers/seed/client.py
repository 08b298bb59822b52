"""Module 2, section 6, "Production-Ready LLM Client": ``Provider``, ``LLMResponse``, ``LLMClient``.

Verbatim below the marker. The block uses ``OpenAI``, ``Anthropic`` and ``time`` without importing
them. The header adds the two SDK classes (sections 1 and 2 of the module import them); it does
**not** add ``import time``, because that omission is one of the defects notebook 06 shows
(``NameError`` at the first ``complete()``). Do not use in production: see ``course_helpers.client``.
"""

# ruff: noqa
# mypy: ignore-errors
# fmt: off
# Added by the course, missing from the module's block (sections 1 and 2 import them):
from anthropic import Anthropic
from openai import OpenAI

# ---- the module's code, verbatim, from the next line to the end of the file ----
from dataclasses import dataclass
from typing import Optional, Generator
from enum import Enum
import logging

class Provider(Enum):
    OPENAI = "openai"
    ANTHROPIC = "anthropic"

@dataclass
class LLMResponse:
    content: str
    model: str
    input_tokens: int
    output_tokens: int
    finish_reason: str
    latency_ms: float

class LLMClient:
    """Production LLM client with multi-provider support."""

    def __init__(
        self,
        openai_key: Optional[str] = None,
        anthropic_key: Optional[str] = None,
        default_provider: Provider = Provider.OPENAI
    ):
        self.openai = OpenAI(api_key=openai_key) if openai_key else None
        self.anthropic = Anthropic(api_key=anthropic_key) if anthropic_key else None
        self.default_provider = default_provider
        self.logger = logging.getLogger(__name__)

    def complete(
        self,
        messages: list,
        model: str = "gpt-4o",
        system: Optional[str] = None,
        temperature: float = 0.7,
        max_tokens: int = 1024,
        provider: Optional[Provider] = None
    ) -> LLMResponse:
        """Make a completion request with automatic provider routing."""

        provider = provider or self.default_provider
        start_time = time.time()

        try:
            if provider == Provider.OPENAI:
                response = self._openai_complete(
                    messages, model, system, temperature, max_tokens
                )
            else:
                response = self._anthropic_complete(
                    messages, model, system, temperature, max_tokens
                )

            latency_ms = (time.time() - start_time) * 1000
            response.latency_ms = latency_ms

            self.logger.info(
                f"LLM call: model={response.model}, "
                f"tokens={response.input_tokens}+{response.output_tokens}, "
                f"latency={latency_ms:.0f}ms"
            )

            return response

        except Exception as e:
            self.logger.error(f"LLM call failed: {e}")
            raise

    def _openai_complete(self, messages, model, system, temperature, max_tokens):
        if system:
            messages = [{"role": "system", "content": system}] + messages

        response = self.openai.chat.completions.create(
            model=model,
            messages=messages,
            temperature=temperature,
            max_tokens=max_tokens
        )

        return LLMResponse(
            content=response.choices[0].message.content,
            model=response.model,
            input_tokens=response.usage.prompt_tokens,
            output_tokens=response.usage.completion_tokens,
            finish_reason=response.choices[0].finish_reason,
            latency_ms=0
        )

    def _anthropic_complete(self, messages, model, system, temperature, max_tokens):
        response = self.anthropic.messages.create(
            model=model,
            system=system or "",
            messages=messages,
            temperature=temperature,
            max_tokens=max_tokens
        )

        return LLMResponse(
            content=response.content[0].text,
            model=response.model,
            input_tokens=response.usage.input_tokens,
            output_tokens=response.usage.output_tokens,
            finish_reason=response.stop_reason,
            latency_ms=0
        )

    def stream(
        self,
        messages: list,
        model: str = "gpt-4o",
        system: Optional[str] = None,
        provider: Optional[Provider] = None
    ) -> Generator[str, None, None]:
        """Stream completion tokens."""

        provider = provider or self.default_provider

        if provider == Provider.OPENAI:
            yield from self._openai_stream(messages, model, system)
        else:
            yield from self._anthropic_stream(messages, model, system)

    def _openai_stream(self, messages, model, system):
        if system:
            messages = [{"role": "system", "content": system}] + messages

        stream = self.openai.chat.completions.create(
            model=model,
            messages=messages,
            stream=True
        )

        for chunk in stream:
            if chunk.choices[0].delta.content:
                yield chunk.choices[0].delta.content

    def _anthropic_stream(self, messages, model, system):
        with self.anthropic.messages.stream(
            model=model,
            system=system or "",
            messages=messages,
            max_tokens=4096
        ) as stream:
            for text in stream.text_stream:
                yield text
