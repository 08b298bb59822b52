"""OpenAI's Responses API, as the simulated provider speaks it: ``POST /v1/responses`` and the
stored responses (``GET`` / ``DELETE /v1/responses/{id}``).

The same platform as Chat Completions: the key check, headers, error body, faults and rate limits
are ``openai``'s own (imported from there), and the answer comes from the same
``FakeProvider.compose``. What differs is the request (``input`` as a string or a list of
messages, ``instructions``, ``max_output_tokens``, ``previous_response_id``, ``store``), the
``response`` object and the typed stream (``responses_wire``). Order of checks: key (401) → JSON
and parameters (400) → model (404) → previous response (404) → context window (400) → a fault →
rate limits (429) → the answer. Function tools (``function_call`` out, ``function_call_output``
back in) and ``text.format`` JSON schemas are simulated by ``fake.tools``, as in Chat
Completions. Anything the fake does not simulate (server tools, background mode, ...) is refused
with a 400 that names it, never ignored.
"""

from __future__ import annotations

import json
import re
import string
from typing import TYPE_CHECKING, Any

from course_helpers.catalog import ModelInfo
from course_helpers.fake.completion import Completion, shape_answer
from course_helpers.fake.exchange import FakeRequest
from course_helpers.fake.openai import (
    _authenticate,
    _check_number,
    _fault_error,
    _invalid_value,
    _is_reasoning,
    _json_body,
    _json_type,
    _model_not_found,
    _rate_limited,
    _Reply,
    not_found,
)
from course_helpers.fake.response_store import StoredResponse
from course_helpers.fake.responses_wire import (
    function_call_item,
    message_item,
    reasoning_item,
    response_object,
    stream_events,
    usage_object,
)
from course_helpers.fake.tools import as_json_object, json_text, plan_responses
from course_helpers.fake.unsupported import CODE, needs_live_key
from course_helpers.fake.wire import (
    DEFAULT_CHARGED_MAX_TOKENS,
    Outcome,
    Route,
    content_text,
    last_user_text,
    resolve_model,
    route,
)
from course_helpers.tokens import estimate_tokens, split_tokens

if TYPE_CHECKING:
    from course_helpers.fake.core import FakeProvider

__all__ = ["handle"]

_HEX = "0123456789abcdef"
_ALNUM = string.ascii_letters + string.digits
_ROLES = ("assistant", "system", "developer", "user")
_TEXT_PARTS = ("input_text", "output_text", "text")
Problem = tuple[str, str | None, str | None]  # (message, param, code)

_PARAMETERS = frozenset(
    {
        "model", "input", "instructions", "max_output_tokens", "previous_response_id", "store",
        "stream", "stream_options", "temperature", "top_p", "metadata", "user", "service_tier",
        "safety_identifier", "prompt_cache_key", "prompt_cache_retention", "parallel_tool_calls",
        "tools", "tool_choice", "text", "reasoning", "truncation", "include", "background",
        "conversation", "max_tool_calls", "prompt", "top_logprobs",
    }
)  # fmt: skip


def handle(fake: FakeProvider, request: FakeRequest) -> Outcome | None:
    """Answer a Responses API request, or ``None`` for a path it does not serve.

    The endpoints are ``_ROUTES``, at the end of the module (after their handlers).
    """
    return route(fake, request, _ROUTES, not_found)


# ---------------------------------------------------------------------------- validation
def _not_simulated(name: str, feature: str) -> Problem:
    return needs_live_key("openai", feature), name, CODE


def _check_features(body: dict[str, Any]) -> Problem | None:
    """Refuse what the fake would otherwise ignore (the failure would surface far away)."""
    for index, tool in enumerate(body.get("tools") or []):
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind != "function":
            return _not_simulated(f"tools[{index}].type", f"The {kind} tool")
        if not isinstance(tool.get("name"), str):
            name = f"tools[{index}].name"
            return f"Missing required parameter: '{name}'.", name, "missing_required_parameter"
    text = body.get("text")
    fmt = text.get("format") if isinstance(text, dict) else None
    if isinstance(fmt, dict) and fmt.get("type", "text") not in (
        "text",
        "json_schema",
        "json_object",
    ):
        return _not_simulated("text.format", f"text.format of type {fmt.get('type')!r}")
    if isinstance(fmt, dict) and fmt.get("type") == "json_object":
        said = json.dumps([body.get("input"), body.get("instructions")]).lower()
        if "json" not in said:
            return (
                "Response input messages must contain the word 'json' in some form to use "
                "'text.format' of type 'json_object'.",
                "input",
                None,
            )
    for name, feature in (
        ("background", "Background mode"),
        ("conversation", "The Conversations API"),
        ("prompt", "Prompt templates"),
        ("include", "Extra output (include)"),
        ("top_logprobs", "Logprobs"),
    ):
        if body.get(name):
            return _not_simulated(name, feature)
    reasoning = body.get("reasoning")
    if isinstance(reasoning, dict) and reasoning.get("summary"):
        return _not_simulated("reasoning.summary", "Reasoning summaries")
    return None


def _check_types(body: dict[str, Any]) -> Problem | None:
    for name, wanted, kind in (
        ("instructions", "a string", str),
        ("previous_response_id", "a string", str),
        ("store", "a boolean", bool),
        ("stream", "a boolean", bool),
        ("metadata", "an object", dict),
        ("reasoning", "an object", dict),
        ("text", "an object", dict),
    ):
        value = body.get(name)
        if value is not None and not isinstance(value, kind):
            message = (
                f"Invalid type for '{name}': expected {wanted}, "
                f"but got {_json_type(value)} instead."
            )
            return message, name, "invalid_type"
    return None


def _check_reasoning(body: dict[str, Any], model: str) -> Problem | None:
    """Reasoning models accept only the default sampling; the others take no ``reasoning``."""
    if not _is_reasoning(model):
        reasoning = body.get("reasoning")
        if isinstance(reasoning, dict) and reasoning.get("effort") is not None:
            return (
                "Unsupported parameter: 'reasoning.effort' is not supported with this model.",
                "reasoning.effort",
                "unsupported_parameter",
            )
        return None
    for name in ("temperature", "top_p"):
        value = body.get(name)
        if value is not None and value != 1:
            return (
                f"Unsupported parameter: '{name}' is not supported with this model.",
                name,
                "unsupported_parameter",
            )
    return None


def _input_messages(value: Any) -> list[dict[str, Any]] | Problem:
    """``input`` as chat-style messages: a string is one user message."""
    if value is None:
        return "Missing required parameter: 'input'.", "input", "missing_required_parameter"
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if not isinstance(value, list):
        return (
            "Invalid type for 'input': expected one of a string or array of input items, "
            f"but got {_json_type(value)} instead.",
            "input",
            "invalid_type",
        )
    messages: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        where = f"input[{index}]"
        if not isinstance(item, dict):
            return (
                f"Invalid type for '{where}': expected an input item, "
                f"but got {_json_type(item)} instead.",
                where,
                "invalid_type",
            )
        kind = item.get("type", "message")
        if kind in ("function_call", "function_call_output"):
            messages.append(_tool_turn(item))
            continue
        if kind != "message":
            feature = f"Input items of type {json.dumps(kind)} (tool calls and their results)"
            return _not_simulated(f"{where}.type", feature)
        role = item.get("role")
        if role not in _ROLES:
            return _invalid_value(role, _ROLES, f"{where}.role")
        content = item.get("content")
        if content is None:
            return (
                f"Missing required parameter: '{where}.content'.",
                f"{where}.content",
                "missing_required_parameter",
            )
        if not isinstance(content, str | list):
            return (
                f"Invalid type for '{where}.content': expected one of a string or array of input "
                f"content items, but got {_json_type(content)} instead.",
                f"{where}.content",
                "invalid_type",
            )
        for part, block in enumerate(content if isinstance(content, list) else []):
            kind = block.get("type") if isinstance(block, dict) else None
            if kind not in _TEXT_PARTS:
                name = f"{where}.content[{part}].type"
                return _not_simulated(
                    name, f"Content of type {json.dumps(kind)} (images, files, audio)"
                )
        messages.append({"role": role, "content": content_text(content)})
    return messages


def _tool_turn(item: dict[str, Any]) -> dict[str, Any]:
    """A function call or its output as the chat-completions turn it stands for."""
    call_id = str(item.get("call_id"))
    if item["type"] == "function_call_output":
        output = item.get("output")
        text = output if isinstance(output, str) else json.dumps(output)
        return {"role": "tool", "tool_call_id": call_id, "content": text}
    function = {"name": str(item.get("name")), "arguments": str(item.get("arguments", ""))}
    return {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"id": call_id, "function": function}],
    }


def _orphan_output(conversation: list[dict[str, Any]]) -> str | None:
    """The ``call_id`` of a function call output with no function call before it, if any."""
    calls: set[str] = set()
    for turn in conversation:
        calls.update(str(call.get("id")) for call in turn.get("tool_calls") or [])
        if turn.get("role") == "tool" and turn.get("tool_call_id") not in calls:
            return str(turn.get("tool_call_id"))
    return None


def _check_request(body: dict[str, Any]) -> Problem | None:
    model = body.get("model")
    if model is None:
        return "Missing required parameter: 'model'.", "model", "missing_required_parameter"
    if not isinstance(model, str):
        return (
            f"Invalid type for 'model': expected a string, but got {_json_type(model)} instead.",
            "model",
            "invalid_type",
        )
    for name in body:
        if name not in _PARAMETERS:
            return f"Unknown parameter: '{name}'.", name, "unknown_parameter"
    problem = _check_types(body)
    for name, low, high, integer in (
        ("temperature", 0, 2, False),
        ("top_p", 0, 1, False),
        ("max_output_tokens", 16, None, True),
    ):
        problem = problem or _check_number(body, name, low, high, integer)
    return problem or _check_reasoning(body, model) or _check_features(body)


# ---------------------------------------------------------------------------- create
def _create(fake: FakeProvider, request: FakeRequest) -> Outcome:
    reply = _Reply(fake)
    body = _json_body(reply, request)
    if isinstance(body, Outcome):
        return body
    model = body.get("model") if isinstance(body.get("model"), str) else None
    problem = _check_request(body)
    messages = _input_messages(body.get("input")) if problem is None else problem
    if isinstance(messages, tuple):
        return reply.error(400, messages[0], param=messages[1], code=messages[2], model=model)
    assert isinstance(model, str)
    info = resolve_model(model, "openai")
    if not isinstance(info, ModelInfo):
        return _model_not_found(reply, model, info)

    earlier: tuple[dict[str, Any], ...] = ()
    previous_id = body.get("previous_response_id")
    if previous_id is not None:
        stored = fake.stored_responses.get(previous_id)
        if stored is None:
            return reply.error(
                404,
                f"Previous response with id '{previous_id}' not found.",
                param="previous_response_id",
                code="previous_response_not_found",
                model=model,
            )
        earlier = stored.conversation
    conversation = [*earlier, *messages]
    unanswered = _orphan_output(conversation)
    if unanswered is not None:
        return reply.error(
            400,
            f"No tool call found for function call output with call_id {unanswered}.",
            param="input",
            model=model,
        )
    instructions = body.get("instructions")
    input_tokens = estimate_tokens(conversation, system=instructions)
    if input_tokens > info.context_window:
        return reply.error(
            400,
            "Your input exceeds the context window of this model. "
            "Please adjust your input and try again.",
            param="input",
            code="context_length_exceeded",
            model=model,
        )
    return _answer(fake, reply, body, info, conversation, input_tokens)


def _answer(
    fake: FakeProvider,
    reply: _Reply,
    body: dict[str, Any],
    info: ModelInfo,
    conversation: list[dict[str, Any]],
    input_tokens: int,
) -> Outcome:
    """From the fault and the rate-limit charge to the response (JSON or stream)."""
    model = str(body["model"])
    streaming = body.get("stream") is True
    max_out = body.get("max_output_tokens")
    max_out = int(max_out) if max_out is not None else None
    fault = fake.take_fault("openai", streaming)
    if fault is not None and fault.is_error_reply:
        return _fault_error(reply, fault, model, info, input_tokens)
    charged = input_tokens + (max_out if max_out is not None else DEFAULT_CHARGED_MAX_TOKENS)
    charge = reply.charge({"requests": 1, "tokens": charged}, fault)
    if not charge.allowed:
        return _rate_limited(reply, charge, model)

    instructions = body.get("instructions")
    [completion] = fake.compose(
        provider="openai",
        model=model,
        messages=conversation,
        system=instructions,
        prompt=last_user_text(conversation),
        n=1,
        max_tokens=max_out,
        stops=[],
        deterministic=body.get("temperature") == 0,
    )
    plan = plan_responses(body, conversation, last_user_text(conversation))
    if plan.text is not None:  # a final answer from the tool results
        completion = shape_answer(plan.text, max_out, [])
    completion = _formatted(body, completion, last_user_text(conversation), max_out)
    call = None
    if plan.call is not None:
        arguments = json.dumps(plan.arguments or {}, ensure_ascii=False)
        completion = Completion(tuple(split_tokens(arguments)))
        call = function_call_item(
            "fc_" + fake.random_id(50, _HEX),
            "call_" + fake.random_id(24, _ALNUM),
            plan.call.name,
            arguments,
        )
    headers = reply.headers(dict(charge.states), processing=fake.ttft)
    if fault is not None and fault.before_headers:
        return reply.stalled(fault, headers, streaming=streaming, model=model)

    reasoning = _is_reasoning(model)
    incomplete = completion.finish == "length"
    output = [reasoning_item("rs_" + fake.random_id(50, _HEX))] if reasoning else []
    message = call or message_item(
        "msg_" + fake.random_id(50, _HEX),
        completion.text,
        "incomplete" if incomplete else "completed",
    )
    usage = usage_object(input_tokens, len(completion.pieces))
    now = int(fake.wall_clock())
    payload = response_object(
        _echo(fake, body, model, reasoning, now),
        output=[*output, message],
        usage=usage,
        incomplete=incomplete,
        completed_at=now,
    )
    if fault is None and body.get("store") is not False:
        answer = _tool_turn(call) if call else {"role": "assistant", "content": completion.text}
        fake.stored_responses.put(payload["id"], StoredResponse(payload, (*conversation, answer)))
    if streaming:
        stream = stream_events(
            payload, completion.pieces, ttft=fake.ttft, token_delay=fake.token_delay, fault=fault
        )
        return reply.streamed(headers, stream, model=model, usage=usage, fault=fault)
    pieces = len(completion.pieces)
    return reply.answered(payload, headers, pieces=pieces, model=model, usage=usage, fault=fault)


def _formatted(
    body: dict[str, Any], completion: Completion, prompt: str, max_out: int | None
) -> Completion:
    """The answer as ``text.format`` asks: a schema-valid JSON instance, or a JSON object."""
    text = body.get("text")
    fmt = text.get("format") if isinstance(text, dict) else None
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind == "json_schema":
        schema = fmt.get("schema") if isinstance(fmt, dict) else None
        return shape_answer(
            json_text(schema if isinstance(schema, dict) else {}, prompt), max_out, []
        )
    if kind == "json_object":
        return shape_answer(as_json_object(completion.text), max_out, [])
    return completion


def _echo_tool(tool: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "function",
        "name": tool["name"],
        "description": tool.get("description"),
        "parameters": tool.get("parameters"),
        "strict": tool.get("strict", True),
    }


def _echo(
    fake: FakeProvider, body: dict[str, Any], model: str, reasoning: bool, now: int
) -> dict[str, Any]:
    """The request's settings as the ``response`` object repeats them."""
    settings = body.get("reasoning")
    effort = settings.get("effort") if isinstance(settings, dict) else None
    text = body.get("text")
    verbosity = text.get("verbosity", "medium") if isinstance(text, dict) else "medium"
    fmt = text.get("format") if isinstance(text, dict) else None
    return {
        "id": "resp_" + fake.random_id(50, _HEX),
        "object": "response",
        "created_at": now,
        "background": False,
        "error": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": None,
        "model": model,
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "prompt_cache_key": body.get("prompt_cache_key"),
        "reasoning": {"effort": (effort or "medium") if reasoning else None, "summary": None},
        "safety_identifier": body.get("safety_identifier"),
        "service_tier": "default",
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": {"format": fmt or {"type": "text"}, "verbosity": verbosity},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": [_echo_tool(tool) for tool in body.get("tools") or []],
        "top_logprobs": 0,
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation", "disabled"),
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
    }


# ---------------------------------------------------------------------------- stored responses
def _stored(fake: FakeProvider, request: FakeRequest, response_id: str) -> Outcome:
    """``GET`` a stored response, or ``DELETE`` it."""
    reply = _Reply(fake)
    refused = _authenticate(reply, request)
    if refused:
        return refused
    stored = fake.stored_responses.get(response_id)
    if stored is None:
        return reply.error(
            404,
            f"No response found with id '{response_id}'.",
            param="response_id",
            code=None,
        )
    if request.method.upper() == "DELETE":
        fake.stored_responses.delete(response_id)
        payload: dict[str, Any] = {"id": response_id, "object": "response", "deleted": True}
    else:
        payload = stored.payload
    return reply.outcome(200, payload, model=stored.payload.get("model"))


# ---------------------------------------------------------------------------- routes
# The stored-response route first: ``…/responses/responses`` names a stored response. ``$``
# (which also matches before a final newline) as this dialect has always matched.
_ROUTES = (
    Route(re.compile(r"/responses/([^/]+)$"), ("GET", "DELETE"), _stored),
    Route(re.compile(r"/responses$"), ("POST",), _create),
)
