"""Showing a key without giving it away: one masking rule for banners, errors and the fake's log.

Every place the course shows a key, or text that may hold one, shows it the same way: the first
three characters and the last four (``sk-…wxyz``), enough to tell two keys apart and to match a
key against the provider's console, never enough to use it. A value too short or too odd to be a
key is hidden whole (``****``).

>>> mask("sk-proj-" + "a" * 40 + "wxyz")
'sk-…wxyz'
>>> mask("short")
'****'
>>> redact("Incorrect API key provided: sk-proj-abc123def456ghi.")
'Incorrect API key provided: sk-…6ghi.'
>>> Secret("sk-ant-api03-" + "b" * 40 + "9876")
Secret('sk-…9876')

A leaf module: it imports nothing from the course, so the simulated provider may use it too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["Secret", "mask", "redact"]

# Characters of a real key (base62 plus ``-`` and ``_``): anything else is not shown at all.
_KEY_CHARS = re.compile(r"[A-Za-z0-9_\-]+")
# Shorter than any real key: showing 7 of its characters would show most of it.
_MIN_SHOWN = 20
# Anything shaped like an OpenAI or Anthropic key in free text (``*`` covers the SDKs' own
# half-masked echoes, such as ``sk-abc1****wxyz`` in a 401 message).
_KEY_IN_TEXT = re.compile(r"\bsk-[A-Za-z0-9_\-*]{12,}")


def mask(value: str | None) -> str:
    """``sk-…abcd``: the first 3 characters and the last 4; ``****`` for short or odd values."""
    if value is None:
        return "(none)"
    if value == "":
        return "(empty)"
    if len(value) < _MIN_SHOWN or not _KEY_CHARS.fullmatch(value):
        return "****"
    return f"{value[:3]}…{value[-4:]}"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with each of ``secrets`` and anything shaped like an ``sk-`` key masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, mask(secret))
    return _KEY_IN_TEXT.sub(lambda found: mask(found.group(0)), text)


class Secret:
    """A string that shows itself masked; :meth:`reveal` returns the value for an SDK client."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The value in clear: pass it straight to a client, never to ``print`` or a log."""
        return self._value

    def __str__(self) -> str:
        return mask(self._value)

    def __repr__(self) -> str:
        return f"Secret({mask(self._value)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)
