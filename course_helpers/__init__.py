"""course_helpers: the reference code behind "Module 2: LLM API Integration".

Every notebook starts with::

    from course_helpers import setup
    setup()

which decides, per provider, whether calls go to the real API (a key is set) or to the simulated
provider (``course_helpers.fake``). Everything else is plain ``openai`` / ``anthropic`` SDK code.

Names are loaded lazily, so ``import course_helpers`` stays cheap and one module's import cost is
paid only by the notebooks that use it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "setup": "course_helpers.modes",
    "Setup": "course_helpers.modes",
    "estimate_tokens": "course_helpers.tokens",
    "FakeProvider": "course_helpers.fake",
    "LLMClient": "course_helpers.client",
    "LLMResponse": "course_helpers.client",
    "Provider": "course_helpers.client",
    "LLMError": "course_helpers.errors",
    "classify": "course_helpers.errors",
    "RetryPolicy": "course_helpers.retry",
    "call_with_retry": "course_helpers.retry",
    "RateLimiter": "course_helpers.ratelimit",
    "TokenBudget": "course_helpers.budget",
    "UsageLog": "course_helpers.usage",
    "configure_logging": "course_helpers.usage",
    "check": "course_helpers.checks",
}

# kept equal to _EXPORTS by a test
__all__ = [
    "FakeProvider",
    "LLMClient",
    "LLMError",
    "LLMResponse",
    "Provider",
    "RateLimiter",
    "RetryPolicy",
    "Setup",
    "TokenBudget",
    "UsageLog",
    "call_with_retry",
    "check",
    "classify",
    "configure_logging",
    "estimate_tokens",
    "setup",
]

if TYPE_CHECKING:
    from course_helpers.budget import TokenBudget
    from course_helpers.checks import check
    from course_helpers.client import LLMClient, LLMResponse, Provider
    from course_helpers.errors import LLMError, classify
    from course_helpers.fake import FakeProvider
    from course_helpers.modes import Setup, setup
    from course_helpers.ratelimit import RateLimiter
    from course_helpers.retry import RetryPolicy, call_with_retry
    from course_helpers.tokens import estimate_tokens
    from course_helpers.usage import UsageLog, configure_logging


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'course_helpers' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
