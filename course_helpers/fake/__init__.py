"""The simulated provider: OpenAI and Anthropic APIs answered in-process or on loopback.

>>> from course_helpers.fake import FakeProvider
>>> with FakeProvider(rpm=3, period=6.0) as fake:   # doctest: +SKIP
...     fake.fail_next(429, retry_after_ms=5)
...     ...                                          # plain OpenAI() / Anthropic() code
...     fake.calls[-1].status

One core (``core.FakeProvider.handle``: a request in, timed chunks out, no I/O), the dialects
it speaks (registered in ``dialects``: chat completions, responses, messages), their shared leaf
helpers (``wire``: framing and replies; ``faults``: fault playback; ``completion``: answer
cutting), and two adapters: ``respx_adapter`` (in-process, the default, started by
``FakeProvider.start`` or ``with``; respx is imported only then) and the ASGI app (``python -m
course_helpers.fake --port 8787``). See ``core`` for the order of checks and the rate-limit
charging rule.
"""

from __future__ import annotations

from course_helpers.fake.core import (
    DEFAULT_CHARGED_MAX_TOKENS,
    DEFAULT_LIMITS,
    Completion,
    FakeCall,
    FakeProvider,
    Fault,
    mask_key,
    provider_of,
)
from course_helpers.fake.exchange import Chunk, FakeRequest, FakeResponse

__all__ = [
    "DEFAULT_CHARGED_MAX_TOKENS",
    "DEFAULT_LIMITS",
    "Chunk",
    "Completion",
    "FakeCall",
    "FakeProvider",
    "FakeRequest",
    "FakeResponse",
    "Fault",
    "mask_key",
    "provider_of",
]
