"""The dialects the simulated provider speaks, registered in one place.

A dialect is one API's wire format: OpenAI's Chat Completions (with its Models endpoints),
OpenAI's Responses, Anthropic's Messages (with count_tokens and Models). The core asks
``provider_of`` whose request it is, then each of that provider's dialects in turn; the first one
that serves the path answers. A path no dialect serves gets the provider's own 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from course_helpers.fake import anthropic, openai, responses
from course_helpers.fake.exchange import FakeRequest
from course_helpers.fake.wire import Outcome, ProviderName

if TYPE_CHECKING:
    from course_helpers.fake.core import FakeProvider

__all__ = ["DIALECTS", "Dialect", "dialects_of", "not_found", "provider_of"]

Handler = Callable[["FakeProvider", FakeRequest], "Outcome | None"]
NotFound = Callable[["FakeProvider", FakeRequest], Outcome]


@dataclass(frozen=True)
class Dialect:
    """One API: ``handle`` answers the paths it serves and returns ``None`` for the others."""

    name: str
    provider: ProviderName
    handle: Handler
    not_found: NotFound


DIALECTS: tuple[Dialect, ...] = (
    Dialect("responses", "openai", responses.handle, openai.not_found),
    Dialect("chat_completions", "openai", openai.handle, openai.not_found),
    Dialect("messages", "anthropic", anthropic.handle, anthropic.not_found),
)

_ANTHROPIC_ENDINGS = ("/messages", "/messages/count_tokens")
_OPENAI_ENDINGS = ("/chat/completions", "/responses", "/models")
_OPENAI_PARTS = ("/models/", "/responses/")


def provider_of(request: FakeRequest) -> ProviderName | None:
    """Which provider a request is for, from its path and headers (``None``: neither)."""
    path = request.path.rstrip("/")
    if "anthropic-version" in request.headers or path.endswith(_ANTHROPIC_ENDINGS):
        return "anthropic"
    if path.endswith(_OPENAI_ENDINGS) or any(part in path for part in _OPENAI_PARTS):
        return "openai"
    return None


def dialects_of(provider: ProviderName) -> tuple[Dialect, ...]:
    """The dialects one provider speaks, in the order they are asked."""
    return tuple(dialect for dialect in DIALECTS if dialect.provider == provider)


def not_found(fake: FakeProvider, request: FakeRequest, provider: ProviderName) -> Outcome:
    """The provider's own 404 for a path none of its dialects serves."""
    return dialects_of(provider)[0].not_found(fake, request)
