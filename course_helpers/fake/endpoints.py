"""Which full paths each simulated provider serves, matched exactly as the real hosts match them.

The real APIs route on the whole path: OpenAI's endpoints live under ``/v1`` (the SDK's default
base URL is ``https://api.openai.com/v1``), Anthropic's under ``/v1`` too, but its SDK's base URL
is the bare host and adds ``/v1/messages`` itself. So ``OPENAI_BASE_URL`` without ``/v1`` or
``ANTHROPIC_BASE_URL`` with ``/v1`` reaches no endpoint and gets a 404 live; matching only the end
of the path would let such a mistake pass offline and fail on the first live call.

>>> served("openai", "/v1/chat/completions"), served("openai", "/chat/completions")
(True, False)
>>> served("anthropic", "/v1/messages"), served("anthropic", "/v1/v1/messages")
(True, False)
>>> guess_provider("/v1/messages", {}), guess_provider("/v1/models", {"anthropic-version": "x"})
('anthropic', 'anthropic')
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

__all__ = ["ANTHROPIC_MAX_BODY_BYTES", "PROVIDER_HOSTS", "guess_provider", "served"]

ProviderName = Literal["openai", "anthropic"]

PROVIDER_HOSTS: dict[str, ProviderName] = {
    "api.openai.com": "openai",
    "api.anthropic.com": "anthropic",
}
"""The hosts the SDKs call by default: the only ones the in-process adapter answers on its own."""

ANTHROPIC_MAX_BODY_BYTES = 32 * 1024 * 1024
"""Anthropic's documented request limit for the Messages API: a larger body is 413."""

_SERVED: dict[ProviderName, re.Pattern[str]] = {
    "openai": re.compile(r"/v1/(chat/completions|responses|responses/[^/]+|models|models/[^/]+)"),
    "anthropic": re.compile(r"/v1/(messages|messages/count_tokens|models|models/[^/]+)"),
}


def served(provider: ProviderName, path: str) -> bool:
    """Whether ``path`` (the whole URL path, trailing ``/`` ignored) is one of ``provider``'s."""
    return _SERVED[provider].fullmatch(path.rstrip("/") or "/") is not None


def guess_provider(path: str, headers: Mapping[str, str]) -> ProviderName:
    """Whose request this is on a host both could answer (loopback): Anthropic's SDK and raw
    clients send ``anthropic-version``; ``/v1/messages…`` is Anthropic's; the rest is OpenAI's."""
    if "anthropic-version" in headers or path.rstrip("/").startswith("/v1/messages"):
        return "anthropic"
    return "openai"
