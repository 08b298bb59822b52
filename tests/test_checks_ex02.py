"""ex02's checks hand the collector real SDK streams, never plain generators (issue 10)."""

from __future__ import annotations

from typing import Any

import anthropic
import openai

from course_helpers.checks import check


def test_every_check_hands_over_a_real_sdk_stream() -> None:
    seen: list[tuple[str, type]] = []

    def spy(provider: str, stream: Any) -> Any:
        seen.append((provider, type(stream)))
        with stream:  # what both SDKs recommend: must work on whatever a check hands over
            for _ in stream:
                pass
        raise ValueError("spy")

    check("ex02_stream_collector", spy)
    expected = {"openai": openai.Stream, "anthropic": anthropic.Stream}
    assert {provider for provider, _ in seen} == {"openai", "anthropic"}
    for provider, kind in seen:
        assert issubclass(kind, expected[provider]), (provider, kind)
