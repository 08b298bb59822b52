"""Wire helpers every dialect shares: JSON and SSE framing, request bodies, the reply outcome.

A leaf module (it imports no dialect and not ``core``), so the core and the three dialects —
chat completions, responses, messages — build their bodies the same way without importing each
other. Provider-specific shapes (error bodies, headers) stay in the dialects; what they have in
common is here: ``route`` (which handler a path and method reach), and ``Reply`` (a request id
per reply, the caller's rate limits and their charge, an error or an answer as an ``Outcome``,
a fault played back through ``faults``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from course_helpers import safe_json
from course_helpers.catalog import (
    ModelInfo,
    RetiredModel,
    UnknownModelError,
    get_model,
    retired_model,
)
from course_helpers.fake.exchange import Chunk, Ending, FakeRequest, FakeResponse
from course_helpers.fake.limits import BucketState, Charge

if TYPE_CHECKING:
    from course_helpers.fake.core import FakeProvider
    from course_helpers.fake.faults import Fault

__all__ = [
    "DEFAULT_CHARGED_MAX_TOKENS",
    "SSE_CONTENT_TYPE",
    "Outcome",
    "OutcomeOptions",
    "ProviderName",
    "Reply",
    "Route",
    "content_text",
    "json_response",
    "last_user_text",
    "parse_json_object",
    "resolve_model",
    "retry_headers",
    "route",
    "sse_data",
    "sse_event",
]

ProviderName = Literal["openai", "anthropic"]

DEFAULT_CHARGED_MAX_TOKENS = 1024
"""Tokens charged for the answer of an OpenAI request that sets no ``max_completion_tokens``."""

SSE_CONTENT_TYPE = "text/event-stream; charset=utf-8"


@dataclass
class Outcome:
    """A dialect's answer to one request: the response plus what the calls log records."""

    response: FakeResponse
    request_id: str | None
    status: int | None = None  # None: hung or dropped before the status line
    streamed: bool = False
    model: str | None = None
    usage: dict[str, Any] | None = None
    fault: str | None = None


def _compact(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def json_response(
    status: int, payload: Any, headers: Mapping[str, str], *, delay: float = 0.0
) -> FakeResponse:
    """A JSON response sent as one chunk after ``delay`` seconds."""
    return FakeResponse(
        status,
        {**headers, "content-type": "application/json"},
        [Chunk(_compact(payload), delay)],
    )


def sse_data(payload: Any, delay: float = 0.0) -> Chunk:
    """One ``data:``-only SSE frame (OpenAI's Chat Completions stream)."""
    return Chunk(b"data: " + _compact(payload) + b"\n\n", delay)


def sse_event(name: str, payload: Any, delay: float = 0.0) -> Chunk:
    """One SSE frame with an ``event:`` line (Anthropic's Messages and OpenAI's Responses)."""
    return Chunk(b"event: " + name.encode() + b"\ndata: " + _compact(payload) + b"\n\n", delay)


def parse_json_object(request: FakeRequest) -> dict[str, Any] | None:
    """The request body as a JSON object, or ``None`` if it is not one.

    Parsed as strictly as the real APIs do: ``NaN``/``Infinity`` are not JSON, and a body nested
    too deep or with a huge number is refused rather than crashing the parser (``safe_json``).
    """
    try:
        body = safe_json.loads(request.body or b"null")
    except safe_json.InvalidJSON:
        return None
    return body if isinstance(body, dict) else None


def content_text(content: Any) -> str:
    """The text of a message's content: a string or a list of content blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(block.get("text", "")) for block in content if isinstance(block, Mapping)
        )
    return ""


def last_user_text(messages: Sequence[Any]) -> str:
    """The text of the last user message (what the answer responds to)."""
    for message in reversed(messages):
        if isinstance(message, Mapping) and message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


def resolve_model(name: str, provider: ProviderName) -> ModelInfo | RetiredModel | None:
    """The catalogue entry a request's model names, its retirement record, or ``None``."""
    retired = retired_model(name)
    if retired is not None:
        return retired
    try:
        info = get_model(name)
    except UnknownModelError:
        return None
    return info if info.provider == provider else None


@dataclass(frozen=True)
class Route:
    """One endpoint of a dialect: how its path ends, the methods it takes, who answers it.

    ``pattern`` is searched in the path (trailing ``/`` removed) and anchored at its end (``\\Z``
    as ``str.endswith``); its groups (the id a path names) follow the provider and the request
    as ``handler``'s arguments.
    """

    pattern: re.Pattern[str]
    methods: tuple[str, ...]
    handler: Callable[..., Outcome]


def route(
    fake: FakeProvider,
    request: FakeRequest,
    routes: Sequence[Route],
    not_found: Callable[[FakeProvider, FakeRequest], Outcome],
) -> Outcome | None:
    """The answer of the first route that serves the path: its handler, or the dialect's 404 for
    a method it does not take; ``None`` when no route serves the path (another dialect may)."""
    path = request.path.rstrip("/")
    method = request.method.upper()
    for endpoint in routes:
        match = endpoint.pattern.search(path)
        if match is None:
            continue
        if method not in endpoint.methods:
            return not_found(fake, request)
        return endpoint.handler(fake, request, *match.groups())
    return None


def retry_headers(wait: float) -> dict[str, str]:
    """``retry-after`` (whole seconds) and ``retry-after-ms`` for a rate-limit wait; none when
    waiting cannot help (``wait`` is infinite: the request is larger than the limit)."""
    if math.isinf(wait):
        return {}
    wait_ms = max(1, math.ceil(wait * 1000))
    return {"retry-after": str(math.ceil(wait_ms / 1000)), "retry-after-ms": str(wait_ms)}


class OutcomeOptions(TypedDict, total=False):
    """What a JSON answer may add besides its body: the log's model and fault label, extra
    headers, and the rate-limit state its headers show (default: the caller's current one)."""

    model: str | None
    fault: str | None
    extra: Mapping[str, str] | None
    states: dict[str, BucketState] | None


class Reply:
    """What every reply to one request shares: its request id, the caller's key and its limits.

    A dialect subclasses it with its provider's headers and error body; ``outcome`` turns a body
    into the ``Outcome`` the core records; ``charge``, then ``stalled``, ``answered`` or
    ``streamed`` are the steps of a generated answer.
    """

    provider: ProviderName

    def __init__(self, fake: FakeProvider, request_id: Callable[[FakeProvider], str]) -> None:
        self.fake = fake
        self.request_id = request_id(fake)
        self.key: str | None = None  # the key's id (``limits.key_id``) once authenticated

    def states(self) -> dict[str, BucketState]:
        """The caller's rate-limit buckets (none before the key is known)."""
        if self.key is None:
            return {}
        return self.fake.rate_limits[self.provider].peek(self.key)

    def headers(self, states: dict[str, BucketState] | None = None) -> dict[str, str]:
        """The provider's response headers (request id, organisation, rate limits)."""
        raise NotImplementedError

    def outcome(
        self,
        status: int,
        body: Any,
        *,
        model: str | None = None,
        fault: str | None = None,
        extra: Mapping[str, str] | None = None,
        states: dict[str, BucketState] | None = None,
    ) -> Outcome:
        """A JSON answer (an error body or a plain 200) with this reply's headers."""
        headers = {**self.headers(states), **(extra or {})}
        response = json_response(status, body, headers)
        return Outcome(response, self.request_id, status, model=model, fault=fault)

    def charge(self, costs: Mapping[str, int], fault: Fault | None) -> Charge:
        """Charge ``costs`` to the caller's rate limits; a refused request puts back the fault
        it took, so that the next request meets it."""
        charge = self.fake.rate_limits[self.provider].charge(self.key or "", costs)
        if not charge.allowed and fault is not None:
            self.fake.give_back(fault)
        return charge

    def answered(
        self,
        payload: Any,
        headers: Mapping[str, str],
        *,
        pieces: int,
        model: str,
        usage: dict[str, Any],
        fault: Fault | None,
    ) -> Outcome:
        """A 200 JSON answer sent once its ``pieces`` are generated; a fault cuts it half-way."""
        from course_helpers.fake.faults import cut_body  # faults imports wire: not at the top

        latency = self.fake.ttft + pieces * self.fake.token_delay
        response = json_response(200, payload, headers, delay=latency)
        if fault is not None:  # a hang or drop half-way through the body
            cut_body(response, fault, latency)
        label = fault.label if fault else None
        return Outcome(response, self.request_id, 200, False, model, usage, label)

    def stalled(
        self, fault: Fault, headers: dict[str, str], *, streaming: bool, model: str
    ) -> Outcome:
        """A hang or drop before the status line, with the content type the answer had."""
        from course_helpers.fake.faults import stalled  # faults imports wire: not at the top

        content_type = SSE_CONTENT_TYPE if streaming else "application/json"
        return stalled(
            fault, headers, content_type, self.request_id, streaming=streaming, model=model
        )

    def streamed(
        self,
        headers: Mapping[str, str],
        stream: tuple[list[Chunk], Ending],
        *,
        model: str,
        usage: dict[str, Any],
        fault: Fault | None,
        extra: Mapping[str, str] | None = None,
    ) -> Outcome:
        """A 200 SSE stream of ``stream``'s chunks, ended as it says (a fault may cut it)."""
        chunks, ending = stream
        headers = {**headers, "content-type": SSE_CONTENT_TYPE, **(extra or {})}
        response = FakeResponse(200, headers, chunks, ending)
        label = fault.label if fault else None
        return Outcome(response, self.request_id, 200, True, model, usage, label)
