"""The seam between the simulated provider's core and its transport adapters.

The core (``FakeProvider.handle``) turns a ``FakeRequest`` into a ``FakeResponse`` without doing any
I/O or sleeping. An adapter (respx in-process, or ASGI on loopback) turns real HTTP into a
``FakeRequest`` and plays the ``FakeResponse`` back: it waits each chunk's ``delay`` before sending
its bytes (``time.sleep`` for sync clients, ``asyncio.sleep`` for async ones, so an asyncio fan-out
is never blocked), then ends the body as ``ending`` says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Chunk", "Ending", "FakeRequest", "FakeResponse"]

Ending = Literal["complete", "hang", "drop"]
"""How a body ends: normally, hanging until the client times out, or dropping the connection."""


@dataclass(frozen=True)
class FakeRequest:
    """One HTTP request as the core sees it."""

    method: str
    path: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes = b""
    query: Mapping[str, str] = field(default_factory=dict)
    read_timeout: float | None = None  # the client's read timeout, when the adapter knows it


@dataclass(frozen=True)
class Chunk:
    """A piece of a response body, sent after waiting ``delay`` seconds."""

    data: bytes
    delay: float = 0.0


@dataclass
class FakeResponse:
    """A complete response: status, headers, the body as timed chunks, and how the body ends."""

    status: int
    headers: dict[str, str]
    chunks: list[Chunk]
    ending: Ending = "complete"
    hang_seconds: float = 30.0  # how long a "hang" lasts when the client sets no read timeout

    @property
    def body(self) -> bytes:
        """The whole body (for tests and non-streaming callers)."""
        return b"".join(chunk.data for chunk in self.chunks)
