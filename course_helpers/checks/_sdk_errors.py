"""Real SDK exceptions for the error and retry checks (ex03, ex04).

``raised`` makes the openai or anthropic SDK itself raise, against the simulated provider, so a
candidate meets exactly the classes, bodies and headers it will meet live. ``with_headers`` replays
such an error with other headers (an HTTP-date ``retry-after``, which the simulated provider never
sends), again through the SDK, so the exception is still built by the SDK's own code.
"""

from __future__ import annotations

import email.utils
import time
from typing import Any

from course_helpers.checks._support import (
    ANTHROPIC_KEY,
    ANTHROPIC_MODEL,
    OPENAI_KEY,
    OPENAI_MODEL,
    anthropic_client,
    openai_client,
    simulated,
)

__all__ = ["http_date", "raised", "with_headers"]

_ASK: Any = [{"role": "user", "content": "Say hello"}]
# Headers that describe the original bytes: the replay sends the decoded body.
_TRANSPORT_HEADERS = ("content-encoding", "content-length", "transfer-encoding")


def _request(provider: str, client: Any, *, stream: bool = False, model: str | None = None) -> None:
    reply: Any
    if provider == "openai":
        reply = client.chat.completions.create(
            model=model or OPENAI_MODEL, messages=_ASK, stream=stream
        )
    else:
        reply = client.messages.create(
            model=model or ANTHROPIC_MODEL, max_tokens=50, messages=_ASK, stream=stream
        )
    if stream:
        for _event in reply:
            pass


def raised(
    provider: str,
    *,
    stream: bool = False,
    client_options: dict[str, Any] | None = None,
    model: str | None = None,
    fake_options: dict[str, Any] | None = None,
    **fault: Any,
) -> Exception:
    """The exception the SDK raises for one request that meets ``fault`` (``fail_next`` options).

    ``fake_options`` go to the simulated provider (``fault_retry_after=None``: no default
    ``retry-after`` on 429/503/529), ``client_options`` to the SDK client (``timeout=``).
    """
    options = client_options or {}
    with simulated(**(fake_options or {})) as fake:
        if fault:
            fake.fail_next(provider=provider, **fault)  # type: ignore[arg-type]
        client = openai_client(**options) if provider == "openai" else anthropic_client(**options)
        try:
            _request(provider, client, stream=stream, model=model)
        except Exception as exc:
            return exc
    raise RuntimeError(f"the simulated provider did not fail as scripted: {fault}")


def with_headers(exc: Exception, **headers: str | None) -> Exception:
    """``exc`` (an SDK status error) raised again by its SDK, with ``headers`` changed.

    Names use ``_`` for ``-`` (``retry_after="..."``); ``None`` removes a header.
    """
    import httpx2

    response = exc.response  # type: ignore[attr-defined]
    changed = {
        name: value
        for name, value in response.headers.items()
        if name.lower() not in _TRANSPORT_HEADERS
    }
    for name, value in headers.items():
        key = name.replace("_", "-")
        changed.pop(key, None)
        if value is not None:
            changed[key] = value
    status, content = response.status_code, response.content

    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, headers=changed, content=content)

    http_client = httpx2.Client(transport=httpx2.MockTransport(answer))
    provider = type(exc).__module__.partition(".")[0]
    client: Any
    if provider == "openai":
        import openai

        client = openai.OpenAI(api_key=OPENAI_KEY, max_retries=0, http_client=http_client)
    else:
        import anthropic

        client = anthropic.Anthropic(api_key=ANTHROPIC_KEY, max_retries=0, http_client=http_client)
    try:
        _request(provider, client)
    except Exception as replayed:
        return replayed
    finally:
        http_client.close()
    raise RuntimeError(f"the replay of a {status} did not fail")


def http_date(seconds_from_now: float) -> str:
    """An HTTP date (``Wed, 21 Oct 2026 07:28:05 GMT``) that many seconds from now, rounded down."""
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)
