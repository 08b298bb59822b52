"""Tools and structured outputs, simulated: when to call a tool, with what, and JSON by schema.

A real model calls a tool when the prompt asks for what the tool does, or when ``tool_choice``
demands it; its arguments match the tool's JSON schema; given the tool's result, it answers with
it. The simulation does the same without a model: a tool is "asked for" when the last user
prompt shares a word with the tool's name (or two with its description), the arguments are a
schema-valid instance filled, where it can, from the prompt (a place after "in", a number, the
prompt itself for a query), and the final answer quotes the result. ``schema_instance`` also
answers ``response_format`` / ``output_config`` JSON schemas, so ``.parse()`` gets a valid object.

>>> weather = Tool("get_weather", "Get the current weather in a city", {
...     "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
>>> chosen_tool([weather], "auto", "What's the weather like in Paris today?").name
'get_weather'
>>> chosen_tool([weather], "auto", "Write a haiku about autumn") is None
True
>>> schema_instance(weather.parameters, "What's the weather like in Paris today?")
{'city': 'Paris'}
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Plan",
    "Tool",
    "anthropic_tool_results",
    "anthropic_tools",
    "as_json_object",
    "chosen_tool",
    "final_answer",
    "json_text",
    "openai_tool_results",
    "openai_tools",
    "plan_chat",
    "plan_messages",
    "plan_responses",
    "responses_tools",
    "schema_instance",
]

_WORD = re.compile(r"[A-Za-z]+")
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "call",
        "can",
        "do",
        "does",
        "for",
        "from",
        "get",
        "gets",
        "given",
        "has",
        "have",
        "how",
        "i",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "returns",
        "return",
        "set",
        "sets",
        "so",
        "some",
        "that",
        "the",
        "their",
        "them",
        "then",
        "this",
        "to",
        "tool",
        "use",
        "used",
        "uses",
        "using",
        "value",
        "values",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "function",
        "specified",
        "provided",
        "current",
    ]
)
_PLACE = re.compile(r"\b(?:in|for|at|of|near|to)\s+([A-Z][\w'.-]*(?:(?:,\s*|\s+)[A-Z][\w'.-]*)*)")
_CAPITALISED = re.compile(r"\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+)*)")
_NOT_NAMES = frozenset(
    [
        "write",
        "explain",
        "tell",
        "list",
        "give",
        "show",
        "make",
        "create",
        "describe",
        "summarize",
        "summarise",
        "translate",
        "find",
        "solve",
        "count",
        "extract",
        "please",
        "say",
        "name",
        "compare",
        "suggest",
        "generate",
        "plan",
        "book",
        "send",
        "check",
        "look",
        "hi",
        "hello",
        "hey",
        "dear",
        "thanks",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "today",
        "tomorrow",
        "january",
        "february",
        "march",
        "april",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ]
)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_EXPRESSION = re.compile(r"[\d(][\d\s.+\-*/^()%]*[\d)]")
_WEEKDAY = re.compile(
    r"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|tomorrow)\b", re.I
)
_FORMATS = {
    "date-time": "2026-01-15T09:00:00Z",
    "date": "2026-01-15",
    "time": "09:00:00",
    "email": "user@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "uuid": "123e4567-e89b-12d3-a456-426614174000",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
}


@dataclass(frozen=True)
class Tool:
    """A function a request offers: its name, what it does, and its parameters' JSON schema."""

    name: str
    description: str
    parameters: Mapping[str, Any]


def openai_tools(body: Mapping[str, Any]) -> list[Tool]:
    """The function tools of a chat completion (``{"type": "function", "function": {...}}``)."""
    found = []
    for entry in body.get("tools") or []:
        function = entry.get("function") if isinstance(entry, Mapping) else None
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            parameters = function.get("parameters") or {"type": "object", "properties": {}}
            found.append(Tool(function["name"], str(function.get("description") or ""), parameters))
    return found


def anthropic_tools(body: Mapping[str, Any]) -> list[Tool]:
    """The client tools of a Messages request (``{"name", "description", "input_schema"}``)."""
    found = []
    for entry in body.get("tools") or []:
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
            schema = entry.get("input_schema") or {"type": "object", "properties": {}}
            found.append(Tool(entry["name"], str(entry.get("description") or ""), schema))
    return found


def _words(text: str) -> set[str]:
    """Content words, lower-case, split at camelCase and ``_``, a plural ``s`` dropped."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text).replace("_", " ")
    words = {w.lower() for w in _WORD.findall(spaced)}
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words - _STOPWORDS}


def _schema_words(schema: Any, depth: int = 0) -> set[str]:
    """The words of a schema's property names and string enum values, ``$defs`` included:
    what a tool built from a model (``pydantic_function_tool``, no description) is about."""
    if depth > 8:
        return set()
    if isinstance(schema, list):
        return set().union(*(_schema_words(item, depth + 1) for item in schema))
    if not isinstance(schema, Mapping):
        return set()
    found: set[str] = set()
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        found |= _words(" ".join(k for k in properties if isinstance(k, str)))
    enum = schema.get("enum")
    if isinstance(enum, list):
        found |= _words(" ".join(v for v in enum if isinstance(v, str)))
    for key, value in schema.items():
        if key not in ("enum", "description", "title") and isinstance(value, Mapping | list):
            found |= _schema_words(value, depth + 1)
    return found


def _asks_for(tool: Tool, prompt: str) -> int:
    """How strongly ``prompt`` asks for what ``tool`` does (0: not at all): a word of its name,
    or two of its description and its parameters' names and choices."""
    said = _words(prompt)
    by_name = len(_words(tool.name) & said)
    about = _words(tool.description) | _schema_words(tool.parameters)
    by_description = len(about & said)
    return by_name * 2 + by_description if by_name or by_description >= 2 else 0


def chosen_tool(tools: Sequence[Tool], choice: Any, prompt: str) -> Tool | None:
    """The tool the simulated model calls, or ``None`` for a plain answer.

    ``choice`` is the request's ``tool_choice`` in either provider's form: ``"auto"``/``None``/
    ``{"type": "auto"}`` (call when the prompt asks for it), ``"none"``/``{"type": "none"}``
    (never), ``"required"``/``{"type": "any"}`` (always: the best match, else the first tool), or
    a named tool (``{"type": "function", "function": {"name": ...}}`` or
    ``{"type": "tool", "name": ...}``).
    """
    if not tools:
        return None
    kind = choice.get("type") if isinstance(choice, Mapping) else choice
    named = None
    if isinstance(choice, Mapping):
        function = choice.get("function")
        named = function.get("name") if isinstance(function, Mapping) else choice.get("name")
    if named is not None and kind in ("function", "tool"):
        return next((tool for tool in tools if tool.name == named), None)
    if kind == "none":
        return None
    scored = sorted(((_asks_for(t, prompt), -i, t) for i, t in enumerate(tools)), reverse=True)
    best_score, _, best = scored[0]
    if best_score > 0:
        return best
    return tools[0] if kind in ("required", "any") else None


# ---------------------------------------------------------------------------- JSON schema
def schema_instance(schema: Mapping[str, Any], prompt: str = "") -> Any:
    """A value valid under ``schema``, with strings and numbers taken from ``prompt`` if they fit.

    Supports ``type`` (one or a list), ``enum``, ``const``, objects (``properties``,
    ``required``, ``additionalProperties: false``), arrays (``items``, ``minItems``,
    ``maxItems``), strings (``format``, ``minLength``, ``maxLength``), numbers and integers
    (``minimum``, ``maximum``, exclusive bounds), booleans, null, ``anyOf``/``oneOf``/``allOf``
    and ``$ref`` into ``$defs``/``definitions`` (what pydantic generates).
    """
    return _Instance(schema, prompt).value(schema, "", 0)


class _Instance:
    def __init__(self, root: Mapping[str, Any], prompt: str) -> None:
        self.root = root
        self.prompt = prompt

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        seen = 0
        while isinstance(schema.get("$ref"), str) and seen < 32:
            target: Any = self.root
            for part in schema["$ref"].removeprefix("#").strip("/").split("/"):
                if part:
                    target = target.get(part.replace("~1", "/").replace("~0", "~"), {})
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **rest}
            seen += 1
        return schema

    def value(self, schema: Any, name: str, depth: int) -> Any:
        if not isinstance(schema, Mapping) or depth > 12:
            return None if depth > 12 else {}
        schema = self.resolve(schema)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return self.pick(schema["enum"])
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                usable = [o for o in options if self.resolve(o).get("type") != "null"] or options
                return self.value(usable[0], name, depth + 1)
        if isinstance(schema.get("allOf"), list):
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged.update(self.resolve(part))
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            return self.value({**merged, **rest}, name, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in schema else "string"
        if kind == "object":
            return self.object(schema, depth)
        if kind == "array":
            return self.array(schema, name, depth)
        if kind in ("number", "integer"):
            return self.number(schema, kind == "integer")
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return self.string(schema, name)

    def pick(self, options: list[Any]) -> Any:
        lowered = self.prompt.lower()
        mentioned = [o for o in options if isinstance(o, str) and o.lower() in lowered]
        return mentioned[0] if mentioned else options[0]

    def object(self, schema: Mapping[str, Any], depth: int) -> dict[str, Any]:
        properties = schema.get("properties") or {}
        return {
            key: self.value(sub, key, depth + 1)
            for key, sub in properties.items()
            if isinstance(key, str)
        }

    def array(self, schema: Mapping[str, Any], name: str, depth: int) -> list[Any]:
        items = schema.get("items") or {}
        low = int(schema.get("minItems") or 0)
        high = schema.get("maxItems")
        item_schema = self.resolve(items) if isinstance(items, Mapping) else {}
        count = max(low, 1)
        if item_schema.get("type") == "string" and not item_schema.get("enum"):
            names = _names(self.prompt)
            if len(names) > count:
                count = len(names)
            if high is not None:
                count = min(count, int(high))
            values = [*names[:count]]
            while len(values) < count:
                values.append(self.string(item_schema, name, len(values)))
            return values
        if high is not None:
            count = min(count, int(high))
        return [self.value(items, name, depth + 1) for _ in range(count)]

    def number(self, schema: Mapping[str, Any], integer: bool) -> int | float:
        low = schema.get("minimum")
        high = schema.get("maximum")
        if schema.get("exclusiveMinimum") is not None:
            step = 1 if integer else 0.5
            low = max(low if low is not None else -(10**18), schema["exclusiveMinimum"] + step)
        if schema.get("exclusiveMaximum") is not None:
            step = 1 if integer else 0.5
            high = min(high if high is not None else 10**18, schema["exclusiveMaximum"] - step)
        literals = _NUMBER.findall(self.prompt)
        if not integer:  # a price or a measure is the number written with a decimal point
            literals.sort(key=lambda n: "." not in n)
        found = [float(n) for n in literals]
        candidates = [*found, 1.0]
        for candidate in candidates:
            value = float(round(candidate)) if integer else candidate
            if (low is None or value >= low) and (high is None or value <= high):
                return int(value) if integer else value
        value = float(low if low is not None else high if high is not None else 0)
        return int(value) if integer else value

    def string(self, schema: Mapping[str, Any], name: str, index: int = 0) -> str:
        text = _format_value(schema.get("format")) or self.guess(name.lower(), index)
        low = int(schema.get("minLength") or 0)
        high = schema.get("maxLength")
        if len(text) < low:
            text = text + "x" * (low - len(text))
        if high is not None:
            text = text[: int(high)]
        return text

    def guess(self, name: str, index: int) -> str:
        prompt = self.prompt.strip()
        if any(w in name for w in ("location", "city", "place", "country", "destination")):
            place = _PLACE.search(prompt)
            return place[1].rstrip(".,") if place else "Paris"
        if any(w in name for w in ("expression", "formula", "equation", "calculation")):
            found = _EXPRESSION.search(prompt)
            return found[0].strip() if found else "1 + 1"
        if "date" in name or "day" in name:
            found = _WEEKDAY.search(prompt)
            return found[0] if found else "2026-01-15"
        if any(w in name for w in ("query", "question", "search", "prompt", "input", "text")):
            return prompt or "example"
        if "name" in name or "title" in name or "person" in name:
            names = _names(prompt)
            return names[index % len(names)] if names else "example"
        if "unit" in name:
            return "celsius"
        return "example"


def _format_value(fmt: Any) -> str | None:
    return _FORMATS.get(fmt) if isinstance(fmt, str) else None


def _names(prompt: str) -> list[str]:
    """Capitalised words and phrases that look like names (not "Write", "Friday", "What")."""
    found = []
    for match in _CAPITALISED.finditer(prompt):
        words = match[1].split()
        while words and (words[0].lower() in _STOPWORDS or words[0].lower() in _NOT_NAMES):
            words.pop(0)
        phrase = " ".join(w for w in words if w.lower() not in _NOT_NAMES)
        if phrase and phrase not in found:
            found.append(phrase)
    return found


def json_text(schema: Mapping[str, Any], prompt: str) -> str:
    """The answer to a JSON-schema response format: a valid instance, compact as models write it."""
    return json.dumps(schema_instance(schema, prompt), ensure_ascii=False)


# ---------------------------------------------------------------------------- after the tool ran
def final_answer(results: Sequence[tuple[str, str]]) -> str:
    """The answer once tool results came back: it says what each tool returned.

    ``results`` are ``(tool name, result text)``; a JSON object result is read out as
    ``key: value`` pairs.
    """
    parts = []
    for name, text in results:
        parts.append(f"The {name} tool returned {_read_out(text)}")
    return (". ".join(parts) if parts else "The tool returned nothing") + "."


def _read_out(text: str) -> str:
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return text.strip().rstrip(".") or "nothing"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) or "nothing"
    return str(value)


def openai_tool_results(messages: Sequence[Any]) -> list[tuple[str, str]]:
    """``(tool name, result)`` of the ``tool`` messages that end the conversation, if any."""
    trailing: list[Mapping[str, Any]] = []
    for message in reversed(messages):
        if not isinstance(message, Mapping) or message.get("role") != "tool":
            break
        trailing.insert(0, message)
    names: dict[str, str] = {}
    for message in messages:
        if isinstance(message, Mapping) and message.get("role") == "assistant":
            for call in message.get("tool_calls") or []:
                function = call.get("function") if isinstance(call, Mapping) else None
                if isinstance(function, Mapping):
                    names[str(call.get("id"))] = str(function.get("name", "tool"))
    return [
        (names.get(str(m.get("tool_call_id")), "tool"), _block_text(m.get("content")))
        for m in trailing
    ]


def anthropic_tool_results(messages: Sequence[Any]) -> list[tuple[str, str]]:
    """``(tool name, result)`` of the ``tool_result`` blocks in the last user message, if any."""
    if not messages or not isinstance(messages[-1], Mapping):
        return []
    last = messages[-1]
    content = last.get("content")
    if last.get("role") != "user" or not isinstance(content, list):
        return []
    names: dict[str, str] = {}
    for message in messages:
        blocks = message.get("content") if isinstance(message, Mapping) else None
        for block in blocks if isinstance(blocks, list) else []:
            if isinstance(block, Mapping) and block.get("type") == "tool_use":
                names[str(block.get("id"))] = str(block.get("name", "tool"))
    return [
        (names.get(str(block.get("tool_use_id")), "tool"), _block_text(block.get("content")))
        for block in content
        if isinstance(block, Mapping) and block.get("type") == "tool_result"
    ]


def _block_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(b.get("text", "")) for b in content if isinstance(b, Mapping))
    return "" if content is None else json.dumps(content)


# ---------------------------------------------------------------------------- per request
@dataclass(frozen=True)
class Plan:
    """What the simulated model does instead of a plain answer.

    ``call`` (with ``arguments``): call that tool. ``text``: answer with this text (a final answer
    after tool results, or JSON for a schema). ``json_object``: answer with the usual text as a
    JSON object (``response_format: json_object``).
    """

    call: Tool | None = None
    arguments: Mapping[str, Any] | None = None
    text: str | None = None
    json_object: bool = False


def _plan(tools: list[Tool], choice: Any, results: list[tuple[str, str]], prompt: str) -> Plan:
    forced = choice in ("required", "any") or (
        isinstance(choice, Mapping) and choice.get("type") in ("any", "tool", "function")
    )
    if results and not forced:
        return Plan(text=final_answer(results))
    tool = chosen_tool(tools, choice, prompt)
    if tool is not None:
        return Plan(call=tool, arguments=schema_instance(tool.parameters, prompt))
    return Plan()


def plan_chat(body: Mapping[str, Any], prompt: str) -> Plan:
    """The plan for a chat completion: tools first, then ``response_format``."""
    messages = body.get("messages") or []
    plan = _plan(openai_tools(body), body.get("tool_choice"), openai_tool_results(messages), prompt)
    if plan.call is not None or plan.text is not None:
        return plan
    fmt = body.get("response_format")
    if isinstance(fmt, Mapping) and fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, Mapping) else None
        return Plan(text=json_text(schema if isinstance(schema, Mapping) else {}, prompt))
    if isinstance(fmt, Mapping) and fmt.get("type") == "json_object":
        return Plan(json_object=True)
    return plan


def plan_messages(body: Mapping[str, Any], prompt: str) -> Plan:
    """The plan for a Messages request: tools first, then ``output_config.format``."""
    messages = body.get("messages") or []
    choice = body.get("tool_choice")
    plan = _plan(anthropic_tools(body), choice, anthropic_tool_results(messages), prompt)
    if plan.call is not None or plan.text is not None:
        return plan
    config = body.get("output_config")
    fmt = config.get("format") if isinstance(config, Mapping) else None
    if isinstance(fmt, Mapping) and fmt.get("type") == "json_schema":
        schema = fmt.get("schema")
        return Plan(text=json_text(schema if isinstance(schema, Mapping) else {}, prompt))
    return plan


def responses_tools(body: Mapping[str, Any]) -> list[Tool]:
    """The function tools of a Responses API request (``{"type": "function", "name", ...}``)."""
    found = []
    for entry in body.get("tools") or []:
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
            parameters = entry.get("parameters") or {"type": "object", "properties": {}}
            found.append(Tool(entry["name"], str(entry.get("description") or ""), parameters))
    return found


def plan_responses(body: Mapping[str, Any], conversation: Sequence[Any], prompt: str) -> Plan:
    """The plan for a Responses API request; ``conversation`` in chat-completions form."""
    results = openai_tool_results(conversation)
    return _plan(responses_tools(body), body.get("tool_choice"), results, prompt)


def as_json_object(text: str) -> str:
    """``text`` if it is a JSON object already, else ``{"answer": text}`` (JSON mode)."""
    try:
        if isinstance(json.loads(text), dict):
            return text
    except json.JSONDecodeError:
        pass
    return json.dumps({"answer": text}, ensure_ascii=False)
