"""ex03's check machinery: errors replayed with other headers, and the forced time zone."""

from __future__ import annotations

import os
import time

import anthropic
import openai

from course_helpers.checks._sdk_errors import http_date, raised, with_headers
from course_helpers.checks.ex03_classify_errors import local_time_zone


def test_with_headers_replays_the_error_through_the_sdk_with_new_headers() -> None:
    for provider, cls in (
        ("openai", openai.RateLimitError),
        ("anthropic", anthropic.RateLimitError),
    ):
        original = raised(provider, status=429, retry_after_ms=1500)
        date = http_date(20)
        replayed = with_headers(original, retry_after=date, retry_after_ms=None)
        assert type(replayed) is cls and replayed is not original
        assert replayed.response.headers["retry-after"] == date
        assert "retry-after-ms" not in replayed.response.headers
        assert replayed.body == original.body


def test_the_forced_zone_is_not_utc_and_is_restored() -> None:
    before = (os.environ.get("TZ"), time.timezone)
    with local_time_zone("IST-5:30"):
        assert time.timezone == -19800  # an HTTP date read as local time is hours off
    assert (os.environ.get("TZ"), time.timezone) == before
