"""The seed's ``call_llm_with_retry``, with its defects. Do not use: see ``course_helpers.retry``.

This is the retry loop a typical course module ships. It looks careful (it even backs off
exponentially on a 429), but:

- **It retries what can never succeed.** ``except openai.APIError`` catches every SDK error: a 400
  (bad parameter, context too long), a 401 (wrong key), a 404 (unknown model). Each is sent again
  ``max_retries`` times, with a sleep in between, and fails the same way every time.
- **It retries an empty account.** ``insufficient_quota`` arrives as ``openai.RateLimitError``
  (status 429), so it is retried with backoff although no amount of waiting adds credit.
- **It ignores Retry-After.** The server says when its window reopens (``retry-after: 7``); the
  loop sleeps 1, 2, 4 s regardless, so it retries too early (another 429) or waits too long.
- **No jitter.** Every client that hit the limit together sleeps exactly ``2**attempt`` and comes
  back together, re-creating the burst that caused the 429.
- **Retries multiply.** The client keeps the SDK's own ``max_retries=2``, so each of the loop's 3
  attempts is up to 3 HTTP requests: 9 requests, and sleeps the loop does not know about.
- **It sleeps after the last attempt**, then raises a bare ``Exception("Max retries exceeded")``
  that hides which error it was (no ``from``): a caller cannot tell a 429 from a 401.
- **No overall deadline**, and it returns ``message.content``, which is ``None`` for a tool call.

The ``sleep`` keyword is not in the original; it exists only so that tests and benchmarks can
measure the waits without waiting. The defects are kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import openai

__all__ = ["call_llm_with_retry"]


def call_llm_with_retry(
    client: openai.OpenAI,
    prompt: str,
    max_retries: int = 3,
    model: str = "gpt-4o-mini",
    *,
    sleep: Callable[[float], object] = time.sleep,
) -> str | None:
    """Ask ``model`` for a reply to ``prompt``, retrying on errors (defectively, see above)."""
    for attempt in range(max_retries):
        try:
            response = client.chat.completions.create(
                model=model,
                messages=[{"role": "user", "content": prompt}],
            )
            return response.choices[0].message.content
        except openai.RateLimitError:
            sleep(2**attempt)
        except openai.APIError:
            sleep(1)
    raise Exception("Max retries exceeded")
