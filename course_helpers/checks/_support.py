"""Shared check machinery: simulated providers a timed-out check can be cleaned up after, SDK
clients pointed at them, and a replay that recovers the text the simulated provider answered.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from course_helpers.fake import FakeCall, FakeProvider, FakeRequest

if TYPE_CHECKING:  # the SDKs are imported when a check first needs one (anthropic takes ~2 s)
    import anthropic
    import openai

__all__ = [
    "ANTHROPIC_KEY",
    "ANTHROPIC_MODEL",
    "OPENAI_KEY",
    "OPENAI_MODEL",
    "anthropic_client",
    "openai_client",
    "prepare_clients",
    "replayed_texts",
    "simulated",
    "stop_simulations",
]

OPENAI_MODEL = "gpt-5.4-mini"
ANTHROPIC_MODEL = "claude-haiku-5-5"
# Placeholders the simulated provider accepts; they are not keys and open nothing.
OPENAI_KEY = "sk-course-checks"
ANTHROPIC_KEY = "sk-ant-course-checks"
_ANTHROPIC_VERSION = "2023-06-01"

_lock = threading.Lock()
_running: dict[int, list[FakeProvider]] = {}


@contextmanager
def simulated(**options: Any) -> Iterator[FakeProvider]:
    """A ``FakeProvider`` that answers for the duration of the block (it takes over from setup()'s).

    It is remembered with the thread that opened it, so when a check times out (its thread is left
    running a stuck candidate) ``stop_simulations`` can still take it off the stack.
    """
    options.setdefault("seed", 0)
    fake = FakeProvider(**options)
    thread = threading.get_ident()
    with _lock:
        _running.setdefault(thread, []).append(fake)
    try:
        with fake:
            yield fake
    finally:
        with _lock:
            fakes = _running.get(thread, [])
            if fake in fakes:
                fakes.remove(fake)
            if not fakes:
                _running.pop(thread, None)


def stop_simulations(thread: int) -> None:
    """Stop every simulated provider the (stuck) thread ``thread`` opened."""
    with _lock:
        fakes = _running.pop(thread, [])
    for fake in fakes:
        fake.stop()


_clients: dict[str, Any] = {}


def _cached(kind: str, factory: Callable[..., Any], options: dict[str, Any]) -> Any:
    # Building a client (its SSL context) costs ~0.1 s; SDK clients are safe to share.
    key = f"{kind}:{sorted(options.items())!r}"
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = factory(**options)
    return client


def openai_client(**options: Any) -> openai.OpenAI:
    """An OpenAI client for the simulated provider, without the SDK's own retries."""
    options.setdefault("max_retries", 0)
    options.setdefault("api_key", OPENAI_KEY)
    import openai

    client: openai.OpenAI = _cached("openai", openai.OpenAI, options)
    return client


def anthropic_client(**options: Any) -> anthropic.Anthropic:
    """An Anthropic client for the simulated provider, without the SDK's own retries."""
    options.setdefault("max_retries", 0)
    options.setdefault("api_key", ANTHROPIC_KEY)
    import anthropic

    client: anthropic.Anthropic = _cached("anthropic", anthropic.Anthropic, options)
    return client


_SDKS = ("openai", "anthropic")
_warmed: set[str] = set()


def prepare_clients(sdks: tuple[str, ...] = _SDKS) -> None:
    """Import the SDKs named in ``sdks``, build their default clients and make one plain and
    one streamed call with each, once per process, outside any check's time limit.

    An SDK's first request builds its response models and the HTTP stack lazily: about 1.5 s on
    a busy 2-core machine, which a check's limit would otherwise charge to the learner's code.
    Only the SDKs an exercise's checks use: importing anthropic alone costs a kernel ~1 s of CPU.
    """
    unknown = set(sdks) - set(_SDKS)
    if unknown:
        raise ValueError(f"unknown SDKs {sorted(unknown)}: the checks know {', '.join(_SDKS)}")
    ask: Any = [{"role": "user", "content": "Say hello"}]
    if "openai" in sdks:
        openai = openai_client()
        if "openai" not in _warmed:
            with simulated():
                _warm_openai(openai, ask)
            _warmed.add("openai")
    if "anthropic" in sdks:
        claude = anthropic_client()
        if "anthropic" not in _warmed:
            with simulated():
                claude.messages.create(model=ANTHROPIC_MODEL, messages=ask, max_tokens=5)
                with claude.messages.stream(
                    model=ANTHROPIC_MODEL, messages=ask, max_tokens=5
                ) as stream:
                    stream.get_final_message()
            _warmed.add("anthropic")


def _warm_openai(client: openai.OpenAI, ask: Any) -> None:
    client.chat.completions.create(model=OPENAI_MODEL, messages=ask, max_completion_tokens=5)
    for _ in client.chat.completions.create(
        model=OPENAI_MODEL,
        messages=ask,
        max_completion_tokens=5,
        stream=True,
        stream_options={"include_usage": True},
    ):
        pass


def _auth_headers(provider: str) -> dict[str, str]:
    if provider == "openai":
        return {"authorization": f"Bearer {OPENAI_KEY}", "content-type": "application/json"}
    return {
        "x-api-key": ANTHROPIC_KEY,
        "anthropic-version": _ANTHROPIC_VERSION,
        "content-type": "application/json",
    }


def _text_of(provider: str, payload: dict[str, Any]) -> str:
    if provider == "openai":
        return str(payload["choices"][0]["message"]["content"] or "")
    return "".join(
        block.get("text", "") for block in payload["content"] if block.get("type") == "text"
    )


def replayed_texts(calls: list[FakeCall], *, seed: int = 0) -> list[str | None]:
    """The text each successful generation call was answered with, recovered by replay.

    The simulated provider is deterministic for a seed: sending the same successful requests, in
    the same order, to a fresh provider with that seed gives the same answers. Entries for calls
    that were not a successful generation are ``None``.
    """
    fresh = FakeProvider(seed=seed)
    texts: list[str | None] = []
    for call in calls:
        generation = call.path.endswith(("/chat/completions", "/messages"))
        if not generation or call.status != 200 or not isinstance(call.body, dict):
            texts.append(None)
            continue
        # A streamed answer draws the same text as the same request unstreamed.
        body = {k: v for k, v in call.body.items() if k not in ("stream", "stream_options")}
        request = FakeRequest(
            method=call.method,
            path=call.path,
            headers=_auth_headers(call.provider),
            body=json.dumps(body).encode(),
        )
        response = fresh.handle(request)
        if response is None or response.status != 200:
            texts.append(None)
            continue
        texts.append(_text_of(call.provider, json.loads(response.body)))
    return texts
