"""What test modules share by import: a manual clock and the SDKs' own status errors.

The fixtures built on them (``fake``, ``clock``) are in ``conftest.py``; these names are here
because parametrize tables and helper functions need them at import time, outside any fixture.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import anthropic
import httpx2
import openai

SDKClient = TypeVar("SDKClient")

# Well-formed stand-ins for real credentials (setup() and the doctor judge a key by its shape);
# none was ever issued. Split so that no secret scanner mistakes them for leaked keys.
OPENAI_KEY = "sk-proj-" + "FAKEKEYFORTESTSonlyNEVERissuedFAKEKEYabc" + "wxyz"
ANTHROPIC_KEY = "sk-ant-api03-" + "FAKEKEYFORTESTSonlyNEVERissuedFAKEKEYxyz" + "9876"
ANTHROPIC_TOKEN = "sk-ant-oat01-" + "FAKETOKENFORTESTSonlyNEVERissuedFAKETOKn" + "5432"
OPENAI_URL = "https://api.openai.com/v1/chat/completions"
ANTHROPIC_URL = "https://api.anthropic.com/v1/messages"


class ManualClock:
    """Time that moves only when the code under test sleeps (or a test moves ``now``).

    Pass the clock itself as ``clock=`` and its ``sleep`` / ``async_sleep`` as ``sleep=`` /
    ``async_sleep=``: the test asserts the exact waits (``slept``) and never really waits.
    """

    def __init__(self, now: float = 0.0) -> None:
        self.now = now
        self.slept: list[float] = []
        self.sleepers: list[str] = []  # the thread that slept, for each of ``slept``
        self.on_sleep: Callable[[int], None] = lambda count: None  # called with len(slept)
        self._last = threading.local()

    def __call__(self) -> float:
        self._last.value = self.now  # the time of this thread's latest reading
        return self.now

    @property
    def last_read(self) -> float:
        """The time this thread last read: for a limiter, the moment it took its capacity."""
        return float(self._last.value)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.sleepers.append(threading.current_thread().name)
        self.now += seconds
        self.on_sleep(len(self.slept))

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)
        await asyncio.sleep(0)  # other tasks run meanwhile, as during a real wait


@functools.cache
def _openai_client() -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test")


@functools.cache
def _anthropic_client() -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sk-ant-test")


def openai_error(
    status: int, error: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> openai.APIStatusError:
    """An openai status error exactly as the SDK makes it from a response."""
    error = {"message": "boom", "type": None, "param": None, "code": None, **(error or {})}
    body = {"error": error}
    response = httpx2.Response(
        status, headers=headers or {}, json=body, request=httpx2.Request("POST", OPENAI_URL)
    )
    return _openai_client()._make_status_error(
        f"Error code: {status} - {error['message']}", body=body, response=response
    )


def anthropic_error(
    status: int,
    error_type: str,
    message: str = "boom",
    *,
    error_code: str | None = None,
    headers: dict[str, str] | None = None,
) -> anthropic.APIStatusError:
    """An anthropic status error exactly as the SDK makes it (full body, subclass by error_code)."""
    error: dict[str, Any] = {"type": error_type, "message": message}
    if error_code is not None:
        error["details"] = {"error_code": error_code}
    body = {"type": "error", "error": error}
    response = httpx2.Response(
        status, headers=headers or {}, json=body, request=httpx2.Request("POST", ANTHROPIC_URL)
    )
    return _anthropic_client()._make_status_error(
        f"Error code: {status} - {body}", body=body, response=response
    )


def strict_client(sdk: Callable[..., SDKClient], api_key: str, **options: Any) -> SDKClient:
    """An SDK client that validates every response against its types and never retries itself."""
    options.setdefault("max_retries", 0)
    return sdk(api_key=api_key, _strict_response_validation=True, **options)


_clients: dict[tuple[object, str, str], Any] = {}


def cached_strict_client(sdk: Callable[..., SDKClient], api_key: str, **options: Any) -> SDKClient:
    """``strict_client``, reused across tests with the same options (an SSL context is slow)."""
    options.setdefault("max_retries", 0)
    key = (sdk, api_key, repr(sorted(options.items())))
    if key not in _clients:
        _clients[key] = strict_client(sdk, api_key, **options)
    client: SDKClient = _clients[key]
    return client
