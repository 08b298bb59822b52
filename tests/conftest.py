"""Shared fixtures: every test runs isolated from the developer's keys and environment."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# Variables that would leak the machine's configuration into a test.
_ISOLATED_PREFIXES = ("OPENAI_", "ANTHROPIC_", "COURSE_")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Remove API keys, base URLs and course settings for the duration of each test."""
    for name in list(os.environ):
        if name.startswith(_ISOLATED_PREFIXES) or name.endswith("_API_KEY"):
            monkeypatch.delenv(name, raising=False)
    yield


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests marked ``live`` unless COURSE_LIVE_TESTS=1 (they need real keys and money)."""
    if os.environ.get("COURSE_LIVE_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="live test: set COURSE_LIVE_TESTS=1 and real keys to run")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)
