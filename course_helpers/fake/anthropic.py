"""Anthropic's Messages and Models endpoints, as the simulated provider speaks them.

``POST /v1/messages`` (JSON or SSE with ``event:`` lines), ``POST /v1/messages/count_tokens``,
``GET /v1/models`` (paginated: ``limit``, ``after_id``, ``before_id``), ``GET /v1/models/{id}``.
The key may come as ``x-api-key`` or ``Authorization: Bearer`` (the 2.x SDK sends the latter); an
``anthropic-version`` header is required, any value. Error bodies are
``{"type": "error", "error": {"type", "message"}, "request_id"}``; every response carries
``request-id``, ``anthropic-organization-id`` and, once the key is known, the
``anthropic-ratelimit-*`` headers. An exhausted quota is a 429 whose ``error.details.error_code``
is ``enforced_spend_limit_reached`` (the SDK raises ``EnforcedSpendLimitReachedError``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Unpack

from course_helpers.catalog import ModelInfo, RetiredModel, list_models
from course_helpers.fake.completion import Completion, shape_answer
from course_helpers.fake.endpoints import ANTHROPIC_MAX_BODY_BYTES
from course_helpers.fake.exchange import Chunk, Ending, FakeRequest
from course_helpers.fake.faults import Fault, stream_cutoff
from course_helpers.fake.limits import BucketState, Charge, anthropic_headers, key_id
from course_helpers.fake.tools import Plan, plan_messages
from course_helpers.fake.unsupported import anthropic_problem, endpoint_feature, needs_live_key
from course_helpers.fake.wire import (
    Outcome,
    OutcomeOptions,
    Reply,
    Route,
    content_text,
    last_user_text,
    parse_json_object,
    resolve_model,
    retry_headers,
    route,
    sse_event,
)
from course_helpers.tokens import estimate_tokens, split_tokens

if TYPE_CHECKING:
    from course_helpers.fake.core import FakeProvider

__all__ = ["handle", "not_found"]

ORGANIZATION_ID = "5f1c2a3e-0c0e-4c2b-9a51-c0115e5a1a7e"
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_MODEL_PATH = re.compile(r"/models/([^/]+)$")
_STOP_REASON = {"end": "end_turn", "stop": "stop_sequence", "length": "max_tokens"}
_SPEND_LIMIT = (
    "You have reached your specified API usage limits. You will regain access on the first day "
    "of next month at 00:00 UTC."
)

# status -> (error.type, message) for scripted faults
_FAULTS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "The request was invalid (a simulated fault)."),
    401: ("authentication_error", "invalid x-api-key"),
    402: (
        "billing_error",
        "Your credit balance is too low to access the Anthropic API. "
        "Please go to Plans & Billing to upgrade or purchase credits.",
    ),
    403: (
        "permission_error",
        "Your API key does not have permission to use the specified resource.",
    ),
    404: ("not_found_error", "The requested resource could not be found."),
    408: ("timeout_error", "Request timeout"),
    409: ("invalid_request_error", "The request conflicted with another request."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    500: ("api_error", "Internal server error"),
    502: ("api_error", "Bad gateway"),
    503: ("api_error", "Service unavailable"),
    504: ("timeout_error", "Request timeout"),
    529: ("overloaded_error", "Overloaded"),
}


def _request_id(fake: FakeProvider) -> str:
    return "req_011C" + fake.random_id(20, _BASE58)


class _Reply(Reply):
    """Builds the responses to one Anthropic request: headers and error bodies."""

    provider = "anthropic"

    def __init__(self, fake: FakeProvider) -> None:
        super().__init__(fake, _request_id)

    def headers(self, states: dict[str, BucketState] | None = None) -> dict[str, str]:
        states = self.states() if states is None else states
        return {
            "request-id": self.request_id,
            "anthropic-organization-id": ORGANIZATION_ID,
            **anthropic_headers(states, now=self.fake.wall_clock()),
        }

    def error(
        self,
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        *,
        details: dict[str, Any] | None = None,
        **options: Unpack[OutcomeOptions],
    ) -> Outcome:
        error: dict[str, Any] = {"type": type_, "message": message}
        if details is not None:
            error["details"] = details
        body = {"type": "error", "error": error, "request_id": self.request_id}
        return self.outcome(status, body, **options)


def handle(fake: FakeProvider, request: FakeRequest) -> Outcome | None:
    """Answer an Anthropic request, or ``None`` for a path Anthropic does not serve.

    The endpoints are ``_ROUTES``, at the end of the module (after their handlers).
    """
    return route(fake, request, _ROUTES, not_found)


def not_found(fake: FakeProvider, request: FakeRequest) -> Outcome:
    """The real API's answer to an unknown URL or method."""
    feature = endpoint_feature("anthropic", request.path)
    if feature is not None:
        where = f"{request.method.upper()} {request.path} ({feature})"
        return _Reply(fake).error(404, needs_live_key("anthropic", where), "not_found_error")
    return _Reply(fake).error(404, "Not Found", "not_found_error")


def _authenticate(reply: _Reply, request: FakeRequest) -> Outcome | None:
    key = request.headers.get("x-api-key", "").strip()
    if not key:
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        key = credential.strip() if scheme.lower() == "bearer" else ""
    if not key:
        return reply.error(401, "x-api-key header is required", "authentication_error")
    if not key.startswith("sk-ant-"):
        return reply.error(401, "invalid x-api-key", "authentication_error")
    if "anthropic-version" not in request.headers:
        return reply.error(400, "anthropic-version: header is required")
    reply.key = key_id(key)
    return None


# ---------------------------------------------------------------------------- validation
def _check_range(body: dict[str, Any], name: str, low: float, high: float | None) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    integer = name in ("max_tokens", "top_k")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{name}: Input should be a valid {'integer' if integer else 'number'}"
    if integer and not float(value).is_integer():
        return f"{name}: Input should be a valid integer, got a number with a fractional part"
    if value < low:
        return f"{name}: Input should be greater than or equal to {low:g}"
    if high is not None and value > high:
        return f"{name}: Input should be less than or equal to {high:g}"
    return None


def _check_messages(messages: Any) -> str | None:
    if messages is None:
        return "messages: Field required"
    if not isinstance(messages, list):
        return "messages: Input should be a valid list"
    if not messages:
        return "messages: at least one message is required"
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            return f"messages.{index}: Input should be a valid dictionary"
        role = message.get("role")
        if role == "system":
            return (
                'messages: Unexpected role "system". The Messages API accepts a top-level '
                '`system` parameter, not "system" as an input message role.'
            )
        if role not in ("user", "assistant"):
            return f"messages.{index}.role: Input should be 'user' or 'assistant'"
        content = message.get("content")
        if not isinstance(content, str | list):
            return f"messages.{index}.content: Field required"
    return None


def _validate(body: dict[str, Any], *, needs_max_tokens: bool) -> str | None:
    model = body.get("model")
    if model is None:
        return "model: Field required"
    if not isinstance(model, str):
        return "model: Input should be a valid string"
    problem = _check_messages(body.get("messages"))
    if problem:
        return problem
    if needs_max_tokens and body.get("max_tokens") is None:
        return "max_tokens: Field required"
    for name, low, high in (
        ("max_tokens", 1, None),
        ("temperature", 0, 1),
        ("top_p", 0, 1),
        ("top_k", 1, None),
    ):
        problem = _check_range(body, name, low, high)
        if problem:
            return problem
    stops = body.get("stop_sequences")
    if stops is not None and (
        not isinstance(stops, list) or not all(isinstance(s, str) for s in stops)
    ):
        return "stop_sequences: Input should be a valid list of strings"
    system = body.get("system")
    if system is not None and not isinstance(system, str | list):
        return "system: Input should be a valid string or a list of text blocks"
    return _check_tools(body) or anthropic_problem(body)


def _check_tools(body: dict[str, Any]) -> str | None:
    """``tools``, ``tool_choice`` and the tool_use / tool_result pairing the real API checks."""
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        return "tools: Input should be a valid list"
    for index, tool in enumerate(tools or []):
        if not isinstance(tool, dict):
            return f"tools.{index}: Input should be a valid dictionary"
        if tool.get("type") in (None, "custom"):
            for field in ("name", "input_schema"):
                if field not in tool:
                    return f"tools.{index}.custom.{field}: Field required"
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") in ("any", "tool") and not tools:
        return "tool_choice: tool_choice may only be specified while providing tools."
    return _check_tool_pairs(body.get("messages") or [])


def _check_tool_pairs(messages: list[Any]) -> str | None:
    """Each ``tool_use`` answered by a ``tool_result`` in the very next message, and back."""
    pending: list[str] = []
    for index, message in enumerate(messages):
        content = message.get("content")
        blocks = [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []
        results = [str(b.get("tool_use_id")) for b in blocks if b.get("type") == "tool_result"]
        unknown = [r for r in results if r not in pending]
        if unknown:
            return (
                f"messages.{index}.content.0: unexpected `tool_use_id` found in `tool_result` "
                f"blocks: {unknown[0]}. Each `tool_result` block must have a corresponding "
                "`tool_use` block in the previous message."
            )
        missing = [p for p in pending if p not in results]
        if missing:
            return (
                f"messages.{index}: `tool_use` ids were found without `tool_result` blocks "
                f"immediately after: {missing[0]}. Each `tool_use` block must have a "
                "corresponding `tool_result` block in the next message."
            )
        pending = [str(b.get("id")) for b in blocks if b.get("type") == "tool_use"]
    return None


# ---------------------------------------------------------------------------- messages
@dataclass(frozen=True)
class _Admitted:
    """A request that passed authentication, JSON parsing, validation and the model check."""

    reply: _Reply
    body: dict[str, Any]
    model: str
    info: ModelInfo


def _admit(
    fake: FakeProvider, request: FakeRequest, *, needs_max_tokens: bool
) -> _Admitted | Outcome:
    """The checks ``/v1/messages`` and ``/count_tokens`` share, in the real API's order."""
    reply = _Reply(fake)
    if len(request.body) > ANTHROPIC_MAX_BODY_BYTES:  # refused at the edge, before the key
        return reply.error(
            413, "Request exceeds the maximum allowed number of bytes.", "request_too_large"
        )
    refused = _authenticate(reply, request)
    if refused:
        return refused
    content_type = request.headers.get("content-type", "application/json")
    if content_type.split(";")[0].strip().lower() != "application/json":
        return reply.error(
            400,
            f"Unsupported Content-Type {content_type!r}: the request body must be JSON sent with "
            "Content-Type: application/json.",
        )
    body = parse_json_object(request)
    if body is None:
        return reply.error(400, "There was an error parsing the body of your request as JSON.")
    if body.get("thread") is not None:
        # Not simulated, refused as the real API refuses a request it cannot thread: the SDK's
        # tool runner then resends the whole conversation without ``thread`` (and works), while
        # a learner's own ``thread`` gets the message.
        feature = "thread: message threads (a conversation the server holds)"
        return reply.error(
            400,
            needs_live_key("anthropic", feature),
            details={"error_code": "thread_unsupported_request"},
        )
    problem = _validate(body, needs_max_tokens=needs_max_tokens)
    model = body.get("model") if isinstance(body.get("model"), str) else None
    if problem:
        return reply.error(400, problem, model=model)
    assert isinstance(model, str)
    info = resolve_model(model, "anthropic")
    if not isinstance(info, ModelInfo):
        return _model_not_found(reply, model, info)
    return _Admitted(reply, body, model, info)


def _messages(fake: FakeProvider, request: FakeRequest) -> Outcome:
    admitted = _admit(fake, request, needs_max_tokens=True)
    if not isinstance(admitted, _Admitted):
        return admitted
    reply, body, model, info = admitted.reply, admitted.body, admitted.model, admitted.info

    messages: list[dict[str, Any]] = body["messages"]
    system = body.get("system")
    max_tokens = int(body["max_tokens"])
    if max_tokens > info.max_output:
        return reply.error(
            400,
            f"max_tokens: {max_tokens} > {info.max_output}, which is the maximum allowed number "
            f"of output tokens for {model}",
            model=model,
        )
    input_tokens = estimate_tokens(messages, system=system)
    window = info.context_window
    if input_tokens > window:
        return reply.error(
            400, f"prompt is too long: {input_tokens} tokens > {window} maximum", model=model
        )
    if input_tokens + max_tokens > window:
        return reply.error(
            400,
            f"input length and `max_tokens` exceed context limit: {input_tokens} + {max_tokens} "
            f"> {window}, decrease input length or `max_tokens` and try again",
            model=model,
        )

    streaming = body.get("stream") is True
    fault = fake.take_fault("anthropic", streaming)
    if fault is not None and fault.is_error_reply:
        return _fault_error(reply, fault, model, window, input_tokens)
    costs = {
        "requests": 1,
        "tokens": input_tokens + max_tokens,
        "input_tokens": input_tokens,
        "output_tokens": max_tokens,
    }
    charge = reply.charge(costs, fault)
    if not charge.allowed:
        return _rate_limited(reply, charge, model)

    system_text = content_text(system) if system is not None else None
    [completion] = fake.compose(
        provider="anthropic",
        model=model,
        messages=messages,
        system=system_text,
        prompt=last_user_text(messages),
        n=1,
        max_tokens=max_tokens,
        stops=list(body.get("stop_sequences") or []),
        deterministic=body.get("temperature") == 0,
    )
    plan = plan_messages(body, last_user_text(messages))
    completion, tool = _planned(fake, plan, completion, body)
    tool_tokens = len(split_tokens(json.dumps(tool["input"]))) if tool else 0
    usage = {
        "input_tokens": input_tokens,
        "output_tokens": len(completion.pieces) + tool_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "service_tier": "standard",
    }
    headers = reply.headers(dict(charge.states))
    if fault is not None and fault.before_headers:
        return reply.stalled(fault, headers, streaming=streaming, model=model)

    message = {
        "id": "msg_01" + fake.random_id(22, _BASE58),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": _content(completion, tool),
        "stop_reason": "tool_use" if tool else _STOP_REASON[completion.finish],
        "stop_sequence": completion.stop_sequence,
        "usage": usage,
    }
    if streaming:
        return reply.streamed(
            headers,
            _stream(fake, message, completion, reply.request_id, fault, tool),
            model=model,
            usage=usage,
            fault=fault,
            extra={"cache-control": "no-cache"},
        )
    pieces = len(completion.pieces)
    return reply.answered(message, headers, pieces=pieces, model=model, usage=usage, fault=fault)


def _planned(
    fake: FakeProvider, plan: Plan, completion: Completion, body: dict[str, Any]
) -> tuple[Completion, dict[str, Any] | None]:
    """The text block and ``tool_use`` block the plan asks for (a final answer, JSON, a call)."""
    max_tokens = int(body["max_tokens"])
    stops = list(body.get("stop_sequences") or [])
    if plan.text is not None:
        return shape_answer(plan.text, max_tokens, stops), None
    if plan.call is None:
        return completion, None
    tool = {
        "type": "tool_use",
        "id": "toolu_01" + fake.random_id(22, _BASE58),
        "name": plan.call.name,
        "input": dict(plan.arguments or {}),
    }
    choice = body.get("tool_choice")
    forced = isinstance(choice, dict) and choice.get("type") in ("any", "tool")
    preface = "" if forced else f"I'll use the {plan.call.name} tool to answer that."
    return shape_answer(preface, max_tokens, []), tool


def _content(completion: Completion, tool: dict[str, Any] | None) -> list[dict[str, Any]]:
    text = [{"type": "text", "text": completion.text}] if completion.pieces or not tool else []
    return [*text, *([tool] if tool else [])]


def _stream(
    fake: FakeProvider,
    message: dict[str, Any],
    completion: Completion,
    request_id: str,
    fault: Fault | None,
    tool: dict[str, Any] | None = None,
) -> tuple[list[Chunk], Ending]:
    """The SSE events of a streamed answer (wire-formats.md §2), with a fault if one applies."""
    start = {
        **message,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**message["usage"], "output_tokens": 1},
    }
    blocks: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    if completion.pieces or tool is None:
        text = [{"type": "text_delta", "text": piece} for piece in completion.pieces]
        blocks.append(({"type": "text", "text": ""}, text))
    if tool is not None:
        arguments = split_tokens(json.dumps(tool["input"], ensure_ascii=False))
        partial = [{"type": "input_json_delta", "partial_json": p} for p in ["", *arguments]]
        blocks.append(({**tool, "input": {}}, partial))
    chunks = [sse_event("message_start", {"type": "message_start", "message": start})]
    cutoff = stream_cutoff(fault, sum(len(deltas) for _, deltas in blocks))
    sent = 0
    for index, (block, deltas) in enumerate(blocks):
        opening = {"type": "content_block_start", "index": index, "content_block": block}
        chunks.append(sse_event("content_block_start", opening))
        if index == 0:
            chunks.append(sse_event("ping", {"type": "ping"}))
        for delta in deltas:
            if cutoff is not None and sent >= cutoff:
                return _broken(chunks, fault, request_id)
            event = {"type": "content_block_delta", "index": index, "delta": delta}
            delay = fake.ttft if sent == 0 else fake.token_delay
            chunks.append(sse_event("content_block_delta", event, delay))
            sent += 1
        closing = {"type": "content_block_stop", "index": index}
        chunks.append(sse_event("content_block_stop", closing))
    if cutoff is not None:
        return _broken(chunks, fault, request_id)
    usage = message["usage"]
    chunks += [
        sse_event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": message["stop_reason"],
                    "stop_sequence": message["stop_sequence"],
                },
                # cumulative, as the real stream sends them (clients overwrite their snapshot)
                "usage": {
                    "input_tokens": usage["input_tokens"],
                    "cache_creation_input_tokens": usage["cache_creation_input_tokens"],
                    "cache_read_input_tokens": usage["cache_read_input_tokens"],
                    "output_tokens": usage["output_tokens"],
                },
            },
        ),
        sse_event("message_stop", {"type": "message_stop"}),
    ]
    return chunks, "complete"


def _broken(
    chunks: list[Chunk], fault: Fault | None, request_id: str
) -> tuple[list[Chunk], Ending]:
    """The stream as a fault ends it: an in-stream error event, a hang or a drop."""
    assert fault is not None
    if fault.kind == "mid_stream":
        error = {
            "type": "error",
            "error": {"type": "overloaded_error", "message": fault.message or "Overloaded"},
            "request_id": request_id,
        }
        return [*chunks, sse_event("error", error)], "complete"
    return chunks, fault.ending


# ---------------------------------------------------------------------------- errors
def _model_not_found(reply: _Reply, model: str, retired: RetiredModel | None) -> Outcome:
    if retired is not None:
        message = (
            f"The model '{model}' was retired on {retired.retired_on}. "
            f"Use '{retired.replacement}' instead."
        )
    else:
        message = f"model: {model}"
    return reply.error(404, message, "not_found_error", model=model)


def _fault_error(
    reply: _Reply, fault: Fault, model: str, window: int, input_tokens: int
) -> Outcome:
    label = fault.label
    retry = fault.retry_headers(reply.fake.fault_retry_after)
    if fault.kind == "quota":
        return reply.error(
            429,
            fault.message or _SPEND_LIMIT,
            "rate_limit_error",
            model=model,
            fault=label,
            details={"error_code": "enforced_spend_limit_reached"},
        )
    if fault.kind == "context_length":
        message = fault.message or (
            f"prompt is too long: {window + input_tokens} tokens > {window} maximum"
        )
        return reply.error(400, message, model=model, fault=label)
    status = fault.status or 500
    if status == 429:
        states = reply.states()
        limit = states["requests"].limit if "requests" in states else 0
        message = fault.message or _rate_message("requests", limit, reply.fake.period)
        return reply.error(429, message, "rate_limit_error", model=model, fault=label, extra=retry)
    type_, message = _FAULTS.get(
        status, ("api_error" if status >= 500 else "invalid_request_error", "Simulated error")
    )
    return reply.error(
        status, fault.message or message, type_, model=model, fault=label, extra=retry
    )


def _rate_message(name: str, limit: int, period: float) -> str:
    words = name.replace("_", " ")
    window = "minute" if period == 60 else f"{period:g} seconds"
    return (
        f"This request would exceed the rate limit for your organization ({ORGANIZATION_ID}) of "
        f"{limit} {words} per {window}. For details, refer to: "
        "https://docs.claude.com/en/api/rate-limits. You can see the response headers for "
        "current usage. Please reduce the prompt length or the maximum tokens requested, or try "
        "again later."
    )


def _rate_limited(reply: _Reply, charge: Charge, model: str) -> Outcome:
    name = charge.exceeded or "tokens"
    state = charge.states[name]
    message = _rate_message(name, state.limit, reply.fake.period)
    extra = retry_headers(charge.wait)
    return reply.error(
        429, message, "rate_limit_error", model=model, extra=extra, states=dict(charge.states)
    )


# ---------------------------------------------------------------------------- count_tokens
def _count(fake: FakeProvider, request: FakeRequest) -> Outcome:
    admitted = _admit(fake, request, needs_max_tokens=False)
    if not isinstance(admitted, _Admitted):
        return admitted
    body, reply = admitted.body, admitted.reply
    tokens = estimate_tokens(body["messages"], system=body.get("system"))
    return reply.outcome(200, {"input_tokens": tokens}, model=admitted.model)


# ---------------------------------------------------------------------------- models
def display_name(model_id: str) -> str:
    """``claude-sonnet-5-5`` → ``Claude Sonnet 5.5`` (dates dropped)."""
    parts = [p for p in model_id.split("-") if not (p.isdigit() and len(p) == 8)]
    words = [p.capitalize() for p in parts if not p.isdigit()]
    version = ".".join(p for p in parts if p.isdigit())
    return " ".join([*words, version] if version else words)


def _model_object(info: ModelInfo, model_id: str | None = None) -> dict[str, Any]:
    created = datetime.fromtimestamp(info.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    model_id = model_id or info.id
    return {
        "type": "model",
        "id": model_id,
        "display_name": display_name(model_id),
        "created_at": created,
        "lifecycle": "active",
        "deprecated_at": None,
        "retires_at": None,
        "max_input_tokens": info.context_window,
        "max_tokens": info.max_output,
    }


def _models(fake: FakeProvider, request: FakeRequest, model_id: str | None = None) -> Outcome:
    reply = _Reply(fake)
    refused = _authenticate(reply, request)
    if refused:
        return refused
    if model_id is not None:
        info = resolve_model(model_id, "anthropic")
        if not isinstance(info, ModelInfo):
            return _model_not_found(reply, model_id, info)
        return reply.outcome(200, _model_object(info, model_id))
    models = sorted(list_models("anthropic"), key=lambda m: (-m.created, m.id))
    ids = [m.id for m in models]
    try:
        limit = int(request.query.get("limit", "20"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 1000:
        return reply.error(400, "limit: Input should be between 1 and 1000")
    start, end = 0, len(models)
    after, before = request.query.get("after_id"), request.query.get("before_id")
    if after in ids:
        start = ids.index(after) + 1
    if before in ids:
        end = ids.index(before)
        start = max(start, end - limit)
    page = models[start:end][:limit]
    payload = {
        "data": [_model_object(m) for m in page],
        "has_more": (start + len(page) < end) if before is None else start > 0,
        "first_id": page[0].id if page else None,
        "last_id": page[-1].id if page else None,
    }
    return reply.outcome(200, payload)


# ---------------------------------------------------------------------------- routes
_ROUTES = (
    Route(re.compile(r"/messages/count_tokens\Z"), ("POST",), _count),
    Route(re.compile(r"/messages\Z"), ("POST",), _messages),
    Route(re.compile(r"/models\Z"), ("GET",), _models),
    Route(_MODEL_PATH, ("GET",), _models),
)
