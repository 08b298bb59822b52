"""OpenAI's Chat Completions and Models endpoints, as the simulated provider speaks them.

``POST …/chat/completions`` (JSON or SSE), ``GET …/models`` and ``GET …/models/{id}``. Bodies,
frames, errors and headers follow ``reference/wire-formats.md``: error bodies are
``{"error": {"message", "type", "param", "code"}}``; every response carries ``x-request-id``,
``openai-version``, ``openai-processing-ms`` and, once the key is known, the
``x-ratelimit-*`` headers. OpenAI has no status 529: a scripted 529 answers as the real API does
when overloaded, 503 "The engine is currently overloaded".
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import string
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Unpack

from course_helpers.catalog import ModelInfo, RetiredModel, list_models
from course_helpers.fake.completion import Completion, shape_answer
from course_helpers.fake.exchange import Chunk, Ending, FakeRequest
from course_helpers.fake.faults import Fault, stream_cutoff
from course_helpers.fake.limits import BucketState, Charge, go_duration, key_id, openai_headers
from course_helpers.fake.tools import Plan, as_json_object, plan_chat
from course_helpers.fake.unsupported import (
    CODE,
    endpoint_feature,
    needs_live_key,
    openai_chat_problem,
)
from course_helpers.fake.wire import (
    DEFAULT_CHARGED_MAX_TOKENS,
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
    sse_data,
)
from course_helpers.tokens import estimate_tokens, split_tokens

if TYPE_CHECKING:
    from course_helpers.fake.core import FakeProvider

__all__ = ["handle", "not_found"]

ORGANIZATION = "org-coursesimulated"
ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_HEX = "0123456789abcdef"
_ALNUM = string.ascii_letters + string.digits
_MODEL_PATH = re.compile(r"/models/([^/]+)$")
_KEYS_URL = "https://platform.openai.com/account/api-keys"
_LIMITS_URL = "https://platform.openai.com/account/rate-limits"
_FINISH = {"end": "stop", "stop": "stop", "length": "length"}
_SERVER_ERROR = "The server had an error while processing your request. Sorry about that!"
_OVERLOADED = "The engine is currently overloaded, please try again later."

# status -> (type, code, message) for scripted faults
_FAULTS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "The request was invalid (a simulated fault)."),
    403: (
        "invalid_request_error",
        "unsupported_country_region_territory",
        "Country, region, or territory not supported",
    ),
    404: ("invalid_request_error", None, "The requested resource was not found."),
    408: ("timeout", None, "Request timed out."),
    409: ("invalid_request_error", None, "The request conflicted with another request."),
    500: ("server_error", None, _SERVER_ERROR),
    502: ("cf_bad_gateway", "502", "Bad gateway."),
    503: ("server_error", None, _OVERLOADED),
    504: ("server_error", None, "Gateway timeout."),
}


def system_fingerprint(model: str) -> str:
    """The backend configuration id: fixed per model (as live, until OpenAI changes the backend)."""
    return "fp_" + hashlib.sha256(f"fingerprint:{model}".encode()).hexdigest()[:10]


def masked_for_message(key: str) -> str:
    """The key as the real API's 401 message shows it: ``sk-abc***wxyz``."""
    head = key[:6] if len(key) >= 14 else key[:3]
    tail = key[-4:] if len(key) >= 10 else ""
    return head + "*" * max(3, len(key) - len(head) - len(tail)) + tail


def _request_id(fake: FakeProvider) -> str:
    return "req_" + fake.random_id(32, _HEX)


class _Reply(Reply):
    """Builds the responses to one OpenAI request (chat completions or responses)."""

    provider = "openai"

    def __init__(self, fake: FakeProvider) -> None:
        super().__init__(fake, _request_id)
        self.masked_key = ""

    def headers(
        self, states: dict[str, BucketState] | None = None, processing: float = 0.0
    ) -> dict[str, str]:
        return {
            "x-request-id": self.request_id,
            "openai-organization": ORGANIZATION,
            "openai-processing-ms": str(round(processing * 1000)),
            "openai-version": "2020-10-01",
            **openai_headers(self.states() if states is None else states),
        }

    def error(
        self,
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        **options: Unpack[OutcomeOptions],
    ) -> Outcome:
        body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
        return self.outcome(status, body, **options)


def handle(fake: FakeProvider, request: FakeRequest) -> Outcome | None:
    """Answer an OpenAI request, or ``None`` for a path OpenAI does not serve.

    The endpoints are ``_ROUTES``, at the end of the module (after their handlers).
    """
    return route(fake, request, _ROUTES, not_found)


def not_found(fake: FakeProvider, request: FakeRequest) -> Outcome:
    """The real API's answer to an unknown URL or method."""
    reply = _Reply(fake)
    where = f"{request.method.upper()} {request.path}"
    feature = endpoint_feature("openai", request.path)
    if feature is not None:
        return reply.error(404, needs_live_key("openai", f"{where} ({feature})"), code=CODE)
    return reply.error(404, f"Invalid URL ({where})")


def _authenticate(reply: _Reply, request: FakeRequest) -> Outcome | None:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        return reply.error(
            401,
            "You didn't provide an API key. You need to provide your API key in an Authorization "
            "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an "
            f"API key from {_KEYS_URL}.",
        )
    reply.masked_key = masked_for_message(key)
    if not key.startswith("sk-") or key.startswith("sk-ant-"):
        return reply.error(
            401,
            f"Incorrect API key provided: {reply.masked_key}. "
            f"You can find your API key at {_KEYS_URL}.",
            code="invalid_api_key",
        )
    reply.key = key_id(key)
    return None


# ---------------------------------------------------------------------------- validation
def _invalid_value(value: Any, supported: tuple[str, ...], param: str) -> tuple[str, str, str]:
    """OpenAI's 400 for a value outside a fixed set (a role), as both of its dialects word it."""
    listed = ", ".join(f"'{v}'" for v in supported[:-1]) + f", and '{supported[-1]}'"
    return (
        f"Invalid value: {json.dumps(value)}. Supported values are: {listed}.",
        param,
        "invalid_value",
    )


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "a decimal" if isinstance(value, float) else "an integer"


def _check_number(
    body: dict[str, Any], name: str, low: float, high: float | None, integer: bool
) -> tuple[str, str, str] | None:
    """``(message, param, code)`` when ``body[name]`` is not a number in range, else ``None``."""
    value = body.get(name)
    if value is None:
        return None
    kind = "integer" if integer else "decimal"
    ok_type = isinstance(value, int | float) and not isinstance(value, bool)
    if integer and isinstance(value, float) and not value.is_integer():
        ok_type = False
    if not ok_type:
        article = "an" if integer else "a"
        return (
            f"Invalid type for '{name}': expected {article} {kind}, "
            f"but got {_json_type(value)} instead.",
            name,
            "invalid_type",
        )
    shown = json.dumps(value)
    if value < low:
        return (
            f"Invalid '{name}': {kind} below minimum value. "
            f"Expected a value >= {low:g}, but got {shown} instead.",
            name,
            f"{kind}_below_min_value",
        )
    if high is not None and value > high:
        return (
            f"Invalid '{name}': {kind} above maximum value. "
            f"Expected a value <= {high:g}, but got {shown} instead.",
            name,
            f"{kind}_above_max_value",
        )
    return None


def _check_messages(messages: Any) -> tuple[str, str, str | None] | None:
    if messages is None:
        return "Missing required parameter: 'messages'.", "messages", "missing_required_parameter"
    if not isinstance(messages, list):
        return (
            f"Invalid type for 'messages': expected an array, "
            f"but got {_json_type(messages)} instead.",
            "messages",
            "invalid_type",
        )
    if not messages:
        return (
            "Invalid 'messages': empty array. Expected an array with minimum length 1, "
            "but got an empty array instead.",
            "messages",
            "empty_array",
        )
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            return (
                f"Invalid type for 'messages[{index}]': expected an object, "
                f"but got {_json_type(message)} instead.",
                f"messages[{index}]",
                "invalid_type",
            )
        role = message.get("role")
        if role not in ROLES:
            return _invalid_value(role, ROLES, f"messages[{index}].role")
        content = message.get("content")
        if content is not None and not isinstance(content, str | list):
            return (
                f"Invalid type for 'messages[{index}].content': expected one of a string or "
                f"array of objects, but got {_json_type(content)} instead.",
                f"messages[{index}].content",
                "invalid_type",
            )
        problem = _check_turn(messages, index)
        if problem:
            return problem
    return None


def _check_turn(messages: list[Any], index: int) -> tuple[str, str, str | None] | None:
    """What the real API requires of one message beyond its types: content, tool call links."""
    message = messages[index]
    role = message.get("role")
    calls_tools = role == "assistant" and (
        message.get("tool_calls") or message.get("function_call")
    )
    if message.get("content") is None and not calls_tools:
        param = f"messages[{index}].content"
        return f"Missing required parameter: '{param}'.", param, "missing_required_parameter"
    if role != "tool":
        return None
    if not isinstance(message.get("tool_call_id"), str):
        param = f"messages[{index}].tool_call_id"
        return f"Missing required parameter: '{param}'.", param, "missing_required_parameter"
    before = index - 1
    while before >= 0 and messages[before].get("role") == "tool":
        before -= 1
    if before < 0 or not messages[before].get("tool_calls"):
        return (
            "Invalid parameter: messages with role 'tool' must be a response to a preceeding "
            "message with 'tool_calls'.",
            f"messages.[{index}].role",
            None,
        )
    return None


def _is_reasoning(model: str) -> bool:
    """GPT-5-family and o-series models: they reject ``max_tokens`` and sampling changes."""
    return model.startswith("gpt-5") or re.match(r"o\d", model) is not None


def _check_reasoning(body: dict[str, Any]) -> tuple[str, str, str] | None:
    """The reasoning models' parameter rules, with the real API's messages."""
    if not _is_reasoning(str(body.get("model"))):
        return None
    if body.get("max_tokens") is not None:
        return (
            "Unsupported parameter: 'max_tokens' is not supported with this model. "
            "Use 'max_completion_tokens' instead.",
            "max_tokens",
            "unsupported_parameter",
        )
    temperature = body.get("temperature")
    if temperature is not None and temperature != 1:
        return (
            f"Unsupported value: 'temperature' does not support {json.dumps(temperature)} with "
            "this model. Only the default (1) value is supported.",
            "temperature",
            "unsupported_value",
        )
    return None


def _check_formats(body: dict[str, Any]) -> tuple[str, str, str | None] | None:
    """``tools`` and ``response_format`` as the real API checks them before answering."""
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        return "Invalid type for 'tools': expected an array.", "tools", "invalid_type"
    for index, tool in enumerate(tools or []):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            param = f"tools[{index}].function.name"
            return f"Missing required parameter: '{param}'.", param, "missing_required_parameter"
    choice = body.get("tool_choice")
    if choice is not None and not tools:
        return (
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
            "specified.",
            "tool_choice",
            None,
        )
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_object":
        said = json.dumps(body.get("messages")).lower()
        if "json" not in said:
            return (
                "'messages' must contain the word 'json' in some form, to use 'response_format' "
                "of type 'json_object'.",
                "messages",
                None,
            )
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema")
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            param = "response_format.json_schema.name"
            return f"Missing required parameter: '{param}'.", param, "missing_required_parameter"
    return None


def _check_stop(stop: Any) -> tuple[str, str, str] | None:
    if stop is None or isinstance(stop, str):
        return None
    if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
        return (
            "Invalid type for 'stop': expected one of a string or array of strings, "
            f"but got {_json_type(stop)} instead.",
            "stop",
            "invalid_type",
        )
    if len(stop) > 4:
        return (
            "Invalid 'stop': array too long. Expected an array with maximum length 4, "
            f"but got an array with length {len(stop)} instead.",
            "stop",
            "array_above_max_length",
        )
    return None


def _validate(body: dict[str, Any]) -> tuple[str, str | None, str | None] | None:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return "you must provide a model parameter", None, None
    problem = _check_messages(body.get("messages"))
    checks: list[tuple[str, float, float | None, bool]] = [
        ("temperature", 0, 2, False),
        ("top_p", 0, 1, False),
        ("n", 1, 128, True),
        ("presence_penalty", -2, 2, False),
        ("frequency_penalty", -2, 2, False),
        ("max_tokens", 1, None, True),
        ("max_completion_tokens", 1, None, True),
        ("seed", -(2**63), 2**63 - 1, True),
    ]
    for name, low, high, integer in checks:
        problem = problem or _check_number(body, name, low, high, integer)
    problem = problem or _check_stop(body.get("stop"))
    problem = problem or _check_reasoning(body)
    problem = problem or _check_formats(body)
    problem = problem or openai_chat_problem(body)
    if problem:
        return problem
    if body.get("stream_options") is not None and body.get("stream") is not True:
        return (
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
            None,
        )
    return None


def _json_body(reply: _Reply, request: FakeRequest) -> dict[str, Any] | Outcome:
    """The request's JSON object, or the 401/400 OpenAI answers first (both of its dialects)."""
    refused = _authenticate(reply, request)
    if refused:
        return refused
    content_type = request.headers.get("content-type", "application/json")
    if content_type.split(";")[0].strip().lower() != "application/json":
        return reply.error(
            400,
            f"Unsupported content type: '{content_type}'. This API method only accepts "
            "'application/json' requests, but you specified the header 'Content-Type: "
            f"{content_type}'. Please try again with a supported content type.",
            code="unsupported_content_type",
        )
    body = parse_json_object(request)
    if body is None:
        return reply.error(
            400,
            "We could not parse the JSON body of your request. (HINT: This likely means you "
            "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, "
            "but what was sent was not valid JSON.)",
        )
    return body


# ---------------------------------------------------------------------------- chat completions
def _chat(fake: FakeProvider, request: FakeRequest) -> Outcome:
    reply = _Reply(fake)
    body = _json_body(reply, request)
    if isinstance(body, Outcome):
        return body
    problem = _validate(body)
    model = body.get("model") if isinstance(body.get("model"), str) else None
    if problem:
        return reply.error(400, problem[0], param=problem[1], code=problem[2], model=model)
    assert isinstance(model, str)
    info = resolve_model(model, "openai")
    if not isinstance(info, ModelInfo):
        return _model_not_found(reply, model, info)

    messages: list[dict[str, Any]] = body["messages"]
    n = int(body.get("n") or 1)
    limit_param = "max_completion_tokens" if body.get("max_completion_tokens") else "max_tokens"
    max_out = body.get(limit_param)
    max_out = int(max_out) if max_out is not None else None
    if max_out is not None and max_out > info.max_output:
        return reply.error(
            400,
            f"{limit_param} is too large: {max_out}. This model supports at most "
            f"{info.max_output} completion tokens, whereas you provided {max_out}.",
            param=limit_param,
            code="invalid_value",
            model=model,
        )
    prompt_tokens = estimate_tokens(messages)
    context = _context_error(reply, info, prompt_tokens, max_out, model)
    if context:
        return context

    streaming = body.get("stream") is True
    fault = fake.take_fault("openai", streaming)
    if fault is not None and fault.is_error_reply:
        return _fault_error(reply, fault, model, info, prompt_tokens)
    charged = prompt_tokens + (max_out if max_out is not None else DEFAULT_CHARGED_MAX_TOKENS) * n
    charge = reply.charge({"requests": 1, "tokens": charged}, fault)
    if not charge.allowed:
        return _rate_limited(reply, charge, model)

    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    completions = fake.compose(
        provider="openai",
        model=model,
        messages=messages,
        system=_instructions(messages),
        prompt=last_user_text(messages),
        n=n,
        max_tokens=max_out,
        stops=stops,
        deterministic=body.get("temperature") == 0 or body.get("seed") is not None,
        seed=body.get("seed"),
    )
    plan = plan_chat(body, last_user_text(messages))
    completions = _planned(plan, completions, max_out, stops)
    call = _tool_call(fake, plan)
    completion_tokens = sum(len(c.pieces) for c in completions)
    usage = _usage(prompt_tokens, completion_tokens)
    headers = reply.headers(dict(charge.states), processing=fake.ttft)
    if fault is not None and fault.before_headers:
        return reply.stalled(fault, headers, streaming=streaming, model=model)

    base = {
        "id": "chatcmpl-" + fake.random_id(29, _ALNUM),
        "created": int(fake.wall_clock()),
        "model": model,
        "service_tier": "default",
        "system_fingerprint": system_fingerprint(model),
    }
    if streaming:
        options = body.get("stream_options") or {}
        include_usage = bool(isinstance(options, dict) and options.get("include_usage"))
        shown_usage = usage if include_usage else None
        stream = _stream(fake, base, completions, shown_usage, fault, call)
        return reply.streamed(headers, stream, model=model, usage=usage, fault=fault)

    payload = {
        **base,
        "object": "chat.completion",
        "choices": [
            {
                "index": index,
                "message": _message(completion, call),
                "logprobs": None,
                "finish_reason": "tool_calls" if call else _FINISH[completion.finish],
            }
            for index, completion in enumerate(completions)
        ],
        "usage": usage,
    }
    longest = max(len(c.pieces) for c in completions)
    return reply.answered(payload, headers, pieces=longest, model=model, usage=usage, fault=fault)


def _planned(
    plan: Plan, completions: list[Completion], max_out: int | None, stops: list[str]
) -> list[Completion]:
    """The answers as the plan changes them: a tool call's arguments, a final answer, JSON."""
    if plan.call is not None:
        arguments = json.dumps(plan.arguments or {}, ensure_ascii=False)
        return [Completion(tuple(split_tokens(arguments)))] * len(completions)
    if plan.text is not None:
        return [shape_answer(plan.text, max_out, stops)] * len(completions)
    if plan.json_object:
        return [shape_answer(as_json_object(c.text), max_out, stops) for c in completions]
    return completions


def _tool_call(fake: FakeProvider, plan: Plan) -> dict[str, Any] | None:
    """The ``tool_calls`` entry of a planned call (``None``: no call)."""
    if plan.call is None:
        return None
    return {
        "id": "call_" + fake.random_id(24, _ALNUM),
        "type": "function",
        "function": {
            "name": plan.call.name,
            "arguments": json.dumps(plan.arguments or {}, ensure_ascii=False),
        },
    }


def _message(completion: Completion, call: dict[str, Any] | None) -> dict[str, Any]:
    if call is not None:
        return {
            "role": "assistant",
            "content": None,
            "refusal": None,
            "annotations": [],
            "tool_calls": [call],
        }
    return {"role": "assistant", "content": completion.text, "refusal": None, "annotations": []}


def _instructions(messages: list[Any]) -> str | None:
    """The text of the system / developer messages: they steer the answer as Anthropic's system."""
    texts = [
        content_text(m.get("content"))
        for m in messages
        if isinstance(m, Mapping) and m.get("role") in ("system", "developer")
    ]
    return "\n".join(texts) or None


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _stream(
    fake: FakeProvider,
    base: dict[str, Any],
    completions: list[Completion],
    usage: dict[str, Any] | None,
    fault: Fault | None,
    call: dict[str, Any] | None = None,
) -> tuple[list[Chunk], Ending]:
    """The SSE frames of a streamed answer (wire-formats.md §1), with a fault if one applies.

    With ``call`` (a tool call) the pieces are its arguments, sent as ``tool_calls`` deltas.
    """
    extra = {} if usage is None else {"usage": None}

    def chunk(choices: list[dict[str, Any]], delay: float = 0.0, **fields: Any) -> Chunk:
        frame = {**base, "object": "chat.completion.chunk", "choices": choices, **extra, **fields}
        return sse_data(frame, delay)

    def choice(index: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}

    def piece(text: str) -> dict[str, Any]:
        if call is None:
            return {"content": text}
        return {"tool_calls": [{"index": 0, "function": {"arguments": text}}]}

    first: dict[str, Any] = {"role": "assistant", "content": "", "refusal": None}
    if call is not None:
        header = {**call, "function": {**call["function"], "arguments": ""}}
        first = {"role": "assistant", "content": None, "tool_calls": [{"index": 0, **header}]}
    chunks = [chunk([choice(i, dict(first))]) for i in range(len(completions))]
    cutoff = stream_cutoff(fault, sum(len(c.pieces) for c in completions))
    sent = 0
    for position in range(max(len(c.pieces) for c in completions)):
        first_in_round = True
        for index, completion in enumerate(completions):
            if position >= len(completion.pieces):
                continue
            if cutoff is not None and sent >= cutoff:
                return _broken(chunks, fault)
            delay = fake.ttft if sent == 0 else (fake.token_delay if first_in_round else 0.0)
            chunks.append(chunk([choice(index, piece(completion.pieces[position]))], delay))
            sent += 1
            first_in_round = False
    if cutoff is not None:
        return _broken(chunks, fault)
    for index, completion in enumerate(completions):
        finish = "tool_calls" if call is not None else _FINISH[completion.finish]
        chunks.append(chunk([choice(index, {}, finish)]))
    if usage is not None:
        chunks.append(chunk([], usage=usage))
    chunks.append(Chunk(b"data: [DONE]\n\n"))
    return chunks, "complete"


def _broken(chunks: list[Chunk], fault: Fault | None) -> tuple[list[Chunk], Ending]:
    assert fault is not None
    if fault.kind == "mid_stream":
        error = {
            "message": fault.message or _SERVER_ERROR,
            "type": "server_error",
            "param": None,
            "code": None,
        }
        return [*chunks, sse_data({"error": error})], "complete"
    return chunks, fault.ending


# ---------------------------------------------------------------------------- errors
def _model_not_found(reply: _Reply, model: str, retired: RetiredModel | None) -> Outcome:
    if retired is not None:
        message = (
            f"The model `{model}` was retired on {retired.retired_on}. Use "
            f"`{retired.replacement}` instead; see https://platform.openai.com/docs/deprecations."
        )
    else:
        message = f"The model `{model}` does not exist or you do not have access to it."
    return reply.error(404, message, code="model_not_found", model=model)


def _context_error(
    reply: _Reply, info: ModelInfo, prompt_tokens: int, max_out: int | None, model: str
) -> Outcome | None:
    window = info.context_window
    if prompt_tokens > window:
        message = (
            f"This model's maximum context length is {window} tokens. However, your messages "
            f"resulted in {prompt_tokens} tokens. Please reduce the length of the messages."
        )
    elif max_out is not None and prompt_tokens + max_out > window:
        message = (
            f"This model's maximum context length is {window} tokens. However, you requested "
            f"{prompt_tokens + max_out} tokens ({prompt_tokens} in the messages, {max_out} in "
            "the completion). Please reduce the length of the messages or completion."
        )
    else:
        return None
    return reply.error(400, message, param="messages", code="context_length_exceeded", model=model)


def _fault_error(
    reply: _Reply, fault: Fault, model: str, info: ModelInfo, prompt_tokens: int
) -> Outcome:
    label = fault.label
    retry = fault.retry_headers(reply.fake.fault_retry_after)
    if fault.kind == "quota":
        message = fault.message or (
            "You exceeded your current quota, please check your plan and billing details. For "
            "more information on this error, read the docs: "
            "https://platform.openai.com/docs/guides/error-codes/api-errors."
        )
        return reply.error(
            429, message, "insufficient_quota", code="insufficient_quota", model=model, fault=label
        )
    if fault.kind == "context_length":
        window = info.context_window
        message = fault.message or (
            f"This model's maximum context length is {window} tokens. However, your messages "
            f"resulted in {window + prompt_tokens} tokens. Please reduce the length of the "
            "messages."
        )
        return reply.error(
            400, message, param="messages", code="context_length_exceeded", model=model, fault=label
        )
    status = fault.status or 500
    if status == 429:
        states = reply.states()
        requests = states.get("requests")
        limit = requests.limit if requests else 0
        if "retry-after-ms" in retry:
            wait = go_duration(int(retry["retry-after-ms"]) / 1000)
        else:
            wait = go_duration(float(retry.get("retry-after", "1")))
        message = fault.message or (
            f"Rate limit reached for {model} in organization {ORGANIZATION} on requests per min "
            f"(RPM): Limit {limit}, Used {limit}, Requested 1. Please try again in {wait}. "
            f"Visit {_LIMITS_URL} to learn more."
        )
        return reply.error(
            429,
            message,
            "requests",
            code="rate_limit_exceeded",
            model=model,
            fault=label,
            extra=retry,
        )
    if status == 401:
        return reply.error(
            401,
            fault.message
            or f"Incorrect API key provided: {reply.masked_key}. "
            f"You can find your API key at {_KEYS_URL}.",
            code="invalid_api_key",
            model=model,
            fault=label,
        )
    if status == 529:
        status = 503
    type_, code, message = _FAULTS.get(
        status,
        ("server_error" if status >= 500 else "invalid_request_error", None, _SERVER_ERROR),
    )
    return reply.error(
        status, fault.message or message, type_, code=code, model=model, fault=label, extra=retry
    )


def _rate_limited(reply: _Reply, charge: Charge, model: str) -> Outcome:
    name = charge.exceeded or "tokens"
    state = charge.states[name]
    unit = "RPM" if name == "requests" else "TPM"
    period = reply.fake.period
    window = "min" if period == 60 else go_duration(period)
    if math.isinf(charge.wait):  # larger than the limit: waiting cannot help
        message = (
            f"Request too large for {model} in organization {ORGANIZATION} on {name} per "
            f"{window} ({unit}): Limit {state.limit}, Requested {charge.requested}. The input or "
            f"output tokens must be reduced in order to run successfully. Visit {_LIMITS_URL} "
            "to learn more."
        )
    else:
        message = (
            f"Rate limit reached for {model} in organization {ORGANIZATION} on {name} per "
            f"{window} ({unit}): Limit {state.limit}, Used {charge.used}, Requested "
            f"{charge.requested}. Please try again in {go_duration(charge.wait)}. Visit "
            f"{_LIMITS_URL} to learn more."
        )
    return reply.error(
        429,
        message,
        name,
        code="rate_limit_exceeded",
        model=model,
        extra=retry_headers(charge.wait),
        states=dict(charge.states),
    )


# ---------------------------------------------------------------------------- models
def _model_object(model_id: str, created: int) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": created, "owned_by": "system"}


def _models(fake: FakeProvider, request: FakeRequest, model_id: str | None = None) -> Outcome:
    reply = _Reply(fake)
    refused = _authenticate(reply, request)
    if refused:
        return refused
    if model_id is None:
        data = [
            _model_object(name, info.created)
            for info in list_models("openai")
            for name in (info.id, *info.aliases)
        ]
        payload: dict[str, Any] = {"object": "list", "data": data}
    else:
        info = resolve_model(model_id, "openai")
        if not isinstance(info, ModelInfo):
            return _model_not_found(reply, model_id, info)
        payload = _model_object(model_id, info.created)
    return reply.outcome(200, payload)


# ---------------------------------------------------------------------------- routes
_ROUTES = (
    Route(re.compile(r"/chat/completions\Z"), ("POST",), _chat),
    Route(re.compile(r"/models\Z"), ("GET",), _models),
    Route(_MODEL_PATH, ("GET",), _models),
)
