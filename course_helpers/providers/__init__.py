"""Provider adapters: what differs between OpenAI and Anthropic, and nothing else.

``LLMClient`` speaks one request shape (``ChatRequest``) and reads one result shape
(``ChatResult``). Each adapter turns the first into its SDK's ``create(...)`` arguments and its
SDK's reply (or stream events) back into the second. What they share (the shapes, error
translation, the stream wrappers and the ``ProviderAdapter`` base class) is in ``base.py``, a leaf
both adapters import; this package only registers them, in an explicit dict, so
``ADAPTERS["anthropic"]`` is the one place to look for everything Anthropic-specific::

    ADAPTERS = {"openai": OpenAIAdapter(), "anthropic": AnthropicAdapter()}

Every SDK or network exception leaves an adapter as the course's ``LLMError`` (``classify``),
raised ``from`` the original.
"""

from __future__ import annotations

from course_helpers.provider_record import ProviderName
from course_helpers.providers.anthropic import AnthropicAdapter
from course_helpers.providers.base import (
    AsyncProviderStream,
    ChatRequest,
    ChatResult,
    FinishReason,
    ProviderAdapter,
    ProviderStream,
    StreamAccumulator,
    translate_errors,
)
from course_helpers.providers.openai import OpenAIAdapter

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

ADAPTERS: dict[ProviderName, ProviderAdapter] = {
    "openai": OpenAIAdapter(),
    "anthropic": AnthropicAdapter(),
}
