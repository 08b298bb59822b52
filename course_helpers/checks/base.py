"""What an exercise and its checks are, and the small helpers every check module shares.

A check is a function ``fn(candidate) -> None`` that raises ``AssertionError(message)`` when the
candidate is wrong; the message says what was expected and what happened. ``hint`` is the
general advice shown next to a failure (what to read, what to try).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEFAULT_TIMEOUT", "Check", "Exercise", "attribute", "describe", "expect"]

DEFAULT_TIMEOUT = 5.0
"""Seconds a check may take before it fails as "too slow or stuck"."""


@dataclass(frozen=True)
class Check:
    """One adversarial test of a learner's answer."""

    name: str
    fn: Callable[[Any], None]
    hint: str
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class Exercise:
    """An exercise: the name the learner's notebook must define, and the checks it must pass."""

    id: str
    title: str
    target: str
    checks: list[Check] = field(default_factory=list)
    notebook: str = ""
    needs_sdks: bool = True  # import the SDKs before the checks' clocks start
    sdks: tuple[str, ...] = ("openai", "anthropic")  # which ones the checks use

    def check_named(self, name: str) -> Check:
        """The check called ``name`` (a ``KeyError`` lists the names when there is none)."""
        for item in self.checks:
            if item.name == name:
                return item
        names = ", ".join(repr(item.name) for item in self.checks)
        raise KeyError(f"{self.id} has no check {name!r}; its checks are {names}")


def expect(condition: bool, message: str) -> None:
    """Fail the current check with ``message`` unless ``condition`` holds."""
    if not condition:
        raise AssertionError(message)


def describe(value: object, limit: int = 80) -> str:
    """A short ``repr`` for a failure message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def attribute(value: object, name: str, what: str) -> Any:
    """``value.name`` (or ``value[name]`` for a dict), failing with a clear message if missing."""
    if isinstance(value, dict) and name in value:
        return value[name]
    if not hasattr(value, name):
        raise AssertionError(
            f"{what} should have an attribute `{name}`, but {describe(value)} has none"
        )
    return getattr(value, name)
