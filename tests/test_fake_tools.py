"""Tools and structured outputs against the real SDKs: their own quickstart snippets, unchanged."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import jsonschema
import openai
import pytest
from pydantic import BaseModel
from support import strict_client

from course_helpers.fake import FakeProvider
from course_helpers.fake.tools import Tool, chosen_tool, schema_instance

OPENAI_KEY = "sk-test-tools-00000000000wxyz"
ANTHROPIC_KEY = "sk-ant-test-tools-0000000wxyz"


pytestmark = pytest.mark.fake(seed=5)  # the `fake` fixture (conftest.py)


@pytest.fixture
def client(fake: FakeProvider) -> openai.OpenAI:
    return strict_client(openai.OpenAI, OPENAI_KEY)


@pytest.fixture
def claude(fake: FakeProvider) -> anthropic.Anthropic:
    return strict_client(anthropic.Anthropic, ANTHROPIC_KEY)


# The openai function-calling quickstart's tool, as the docs print it.
OPENAI_TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get current temperature for a given location.",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {
                        "type": "string",
                        "description": "City and country e.g. Bogotá, Colombia",
                    }
                },
                "required": ["location"],
                "additionalProperties": False,
            },
            "strict": True,
        },
    }
]
# The anthropic tool-use quickstart's tool.
ANTHROPIC_TOOLS: list[Any] = [
    {
        "name": "get_weather",
        "description": "Get the current weather in a given location",
        "input_schema": {
            "type": "object",
            "properties": {
                "location": {
                    "type": "string",
                    "description": "The city and state, e.g. San Francisco, CA",
                }
            },
            "required": ["location"],
        },
    }
]


# --- openai: chat completions -----------------------------------------------------------------
def test_openai_function_calling_quickstart(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4.1",
        messages=[{"role": "user", "content": "What is the weather like in Paris today?"}],
        tools=OPENAI_TOOLS,
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    call = choice.message.tool_calls[0]  # type: ignore[index]
    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == "get_weather"
    arguments = json.loads(call.function.arguments)
    jsonschema.validate(arguments, OPENAI_TOOLS[0]["function"]["parameters"])
    assert arguments == {"location": "Paris"}

    # The result goes back as a "tool" message; the final answer uses it.
    messages: list[Any] = [
        {"role": "user", "content": "What is the weather like in Paris today?"},
        choice.message,
        {"role": "tool", "tool_call_id": call.id, "content": "14°C and sunny"},
    ]
    final = client.chat.completions.create(model="gpt-4.1", messages=messages, tools=OPENAI_TOOLS)
    assert final.choices[0].finish_reason == "stop"
    assert "14°C and sunny" in (final.choices[0].message.content or "")


def test_a_prompt_that_asks_for_something_else_gets_a_plain_answer(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4.1",
        messages=[{"role": "user", "content": "Write a haiku about the sea"}],
        tools=OPENAI_TOOLS,
    )
    assert completion.choices[0].finish_reason == "stop"
    assert completion.choices[0].message.tool_calls is None
    assert completion.choices[0].message.content


@pytest.mark.parametrize(
    "choice", ["required", {"type": "function", "function": {"name": "get_weather"}}]
)
def test_tool_choice_forces_a_call(client: openai.OpenAI, choice: Any) -> None:
    completion = client.chat.completions.create(
        model="gpt-4.1",
        messages=[{"role": "user", "content": "Write a haiku about the sea"}],
        tools=OPENAI_TOOLS,
        tool_choice=choice,
    )
    assert completion.choices[0].message.tool_calls[0].function.name == "get_weather"  # type: ignore[index]


def test_a_tool_message_without_a_call_before_it_is_refused(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="must be a response to a preceeding"):
        client.chat.completions.create(
            model="gpt-4.1",
            messages=[
                {"role": "user", "content": "Hi"},
                {"role": "tool", "tool_call_id": "call_1", "content": "x"},
            ],
        )


def test_streamed_tool_call_uses_the_real_deltas(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="gpt-4.1",
            messages=[{"role": "user", "content": "What is the weather like in Paris today?"}],
            tools=OPENAI_TOOLS,
            stream=True,
        )
    )
    first = chunks[0].choices[0].delta.tool_calls[0]  # type: ignore[index]
    assert first.index == 0 and first.id and first.function.name == "get_weather"  # type: ignore[union-attr]
    fragments = [
        c.choices[0].delta.tool_calls[0].function.arguments  # type: ignore[index, union-attr]
        for c in chunks[1:]
        if c.choices and c.choices[0].delta.tool_calls
    ]
    assert len(fragments) > 1 and json.loads("".join(fragments)) == {"location": "Paris"}  # type: ignore[arg-type]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


class GetWeather(BaseModel):
    city: str
    country: str


def test_stream_helper_parses_a_pydantic_tool(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(
        model="gpt-4o-2024-08-06",
        messages=[{"role": "user", "content": "What's the weather like in SF and New York?"}],
        tools=[openai.pydantic_function_tool(GetWeather)],
    ) as stream:
        done = [e for e in stream if e.type == "tool_calls.function.arguments.done"]
    assert isinstance(done[0].parsed_arguments, GetWeather)


# --- openai: structured outputs ---------------------------------------------------------------
class CalendarEvent(BaseModel):
    name: str
    date: str
    participants: list[str]


def test_openai_parse_quickstart(client: openai.OpenAI) -> None:
    completion = client.chat.completions.parse(
        model="gpt-4o-2024-08-06",
        messages=[
            {"role": "system", "content": "Extract the event information."},
            {"role": "user", "content": "Alice and Bob are going to a science fair on Friday."},
        ],
        response_format=CalendarEvent,
    )
    event = completion.choices[0].message.parsed
    assert isinstance(event, CalendarEvent)
    assert event.participants == ["Alice", "Bob"] and event.date == "Friday"


class Step(BaseModel):
    explanation: str
    output: str


class MathResponse(BaseModel):
    steps: list[Step]
    final_answer: str


def test_openai_parse_nested_models_and_function_tools(client: openai.OpenAI) -> None:
    completion = client.chat.completions.parse(
        model="gpt-4o-2024-08-06",
        messages=[
            {"role": "system", "content": "You are a helpful math tutor."},
            {"role": "user", "content": "solve 8x + 31 = 2"},
        ],
        response_format=MathResponse,
    )
    message = completion.choices[0].message
    assert isinstance(message.parsed, MathResponse) and message.parsed.steps
    completion = client.chat.completions.parse(
        model="gpt-4o-2024-08-06",
        messages=[{"role": "user", "content": "What's the weather like in SF and New York?"}],
        tools=[openai.pydantic_function_tool(GetWeather)],
    )
    call = completion.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert isinstance(call.function.parsed_arguments, GetWeather)


def test_json_mode(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4.1-mini",
        messages=[{"role": "user", "content": "List three colours as JSON."}],
        response_format={"type": "json_object"},
    )
    assert isinstance(json.loads(completion.choices[0].message.content or ""), dict)
    with pytest.raises(openai.BadRequestError, match="must contain the word 'json'"):
        client.chat.completions.create(
            model="gpt-4.1-mini",
            messages=[{"role": "user", "content": "List three colours."}],
            response_format={"type": "json_object"},
        )


# --- anthropic --------------------------------------------------------------------------------
def test_anthropic_tool_use_quickstart(claude: anthropic.Anthropic) -> None:
    ask = {"role": "user", "content": "What's the weather like in San Francisco?"}
    response = claude.messages.create(
        model="claude-sonnet-5-5", max_tokens=1024, tools=ANTHROPIC_TOOLS, messages=[ask]
    )
    assert response.stop_reason == "tool_use"
    tool_use = next(block for block in response.content if block.type == "tool_use")
    assert tool_use.name == "get_weather" and tool_use.id.startswith("toolu_")
    jsonschema.validate(tool_use.input, ANTHROPIC_TOOLS[0]["input_schema"])
    assert tool_use.input == {"location": "San Francisco"}

    result = {"type": "tool_result", "tool_use_id": tool_use.id, "content": "15 degrees"}
    final = claude.messages.create(
        model="claude-sonnet-5-5",
        max_tokens=1024,
        tools=ANTHROPIC_TOOLS,
        messages=[
            ask,
            {"role": "assistant", "content": response.content},
            {"role": "user", "content": [result]},
        ],
    )
    assert final.stop_reason == "end_turn" and "15 degrees" in final.content[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize("choice", [{"type": "any"}, {"type": "tool", "name": "get_weather"}])
def test_anthropic_tool_choice_forces_a_call_without_text(
    claude: anthropic.Anthropic, choice: Any
) -> None:
    response = claude.messages.create(
        model="claude-haiku-4-5",
        max_tokens=200,
        tools=ANTHROPIC_TOOLS,
        tool_choice=choice,
        messages=[{"role": "user", "content": "Write a haiku"}],
    )
    assert [block.type for block in response.content] == ["tool_use"]


def test_a_tool_result_for_an_unknown_call_is_refused(claude: anthropic.Anthropic) -> None:
    result = {"type": "tool_result", "tool_use_id": "toolu_nope", "content": "x"}
    with pytest.raises(anthropic.BadRequestError, match="unexpected `tool_use_id`"):
        claude.messages.create(
            model="claude-haiku-4-5",
            max_tokens=200,
            tools=ANTHROPIC_TOOLS,
            messages=[{"role": "user", "content": [result]}],
        )


def test_anthropic_streamed_tool_use(claude: anthropic.Anthropic) -> None:
    with claude.messages.stream(
        model="claude-sonnet-5-5",
        max_tokens=1024,
        tools=ANTHROPIC_TOOLS,
        messages=[{"role": "user", "content": "What's the weather like in San Francisco?"}],
    ) as stream:
        kinds = [event.type for event in stream]
        message = stream.get_final_message()
    assert "input_json" in kinds and message.stop_reason == "tool_use"
    tool_use = message.content[-1]
    assert tool_use.type == "tool_use" and tool_use.input == {"location": "San Francisco"}
    assert message.usage.input_tokens > 0


class Contact(BaseModel):
    name: str
    email: str
    plan_interest: str


def test_anthropic_structured_outputs(claude: anthropic.Anthropic) -> None:
    response = claude.messages.parse(
        model="claude-sonnet-5-5",
        max_tokens=1024,
        messages=[
            {
                "role": "user",
                "content": "Extract the key information from this email: John Smith "
                "(john@example.com) is interested in our Enterprise plan.",
            }
        ],
        output_format=Contact,
    )
    assert isinstance(response.parsed_output, Contact)


# --- the schema instance generator ------------------------------------------------------------
SCHEMAS: list[dict[str, Any]] = [
    {"type": "object", "properties": {"n": {"type": "integer", "minimum": 5, "maximum": 9}}},
    {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0}, "minItems": 3},
    {"enum": ["red", "green"]},
    {"anyOf": [{"type": "null"}, {"type": "string", "format": "email"}]},
    {"type": ["boolean", "null"]},
    {"type": "string", "minLength": 12, "maxLength": 14},
    {
        "$defs": {"Item": {"type": "object", "properties": {"x": {"$ref": "#/$defs/Leaf"}}}},
        "type": "object",
        "properties": {"items": {"type": "array", "items": {"$ref": "#/$defs/Item"}}},
        "required": ["items"],
        "additionalProperties": False,
    },
    {"allOf": [{"type": "object", "properties": {"a": {"const": 3}}, "required": ["a"]}]},
]
SCHEMAS[6]["$defs"]["Leaf"] = {"type": "integer", "multipleOf": 1}


@pytest.mark.parametrize("schema", SCHEMAS)
def test_schema_instances_are_valid(schema: dict[str, Any]) -> None:
    jsonschema.validate(schema_instance(schema, "pick 7 or green"), schema)


def test_pydantic_schemas_are_valid() -> None:
    for model in (CalendarEvent, MathResponse, GetWeather, Contact):
        schema = model.model_json_schema()
        model.model_validate(schema_instance(schema, "Alice meets Bob in Rome"))


def test_tool_choice_none_never_calls() -> None:
    weather = Tool("get_weather", "Weather", {"type": "object", "properties": {}})
    assert chosen_tool([weather], "none", "What's the weather?") is None
    assert chosen_tool([weather], {"type": "none"}, "What's the weather?") is None


# --- the Responses API: structured outputs ----------------------------------------------------
def test_responses_parse_quickstart(client: openai.OpenAI) -> None:
    response = client.responses.parse(
        model="gpt-4o-2024-08-06",
        input=[
            {"role": "system", "content": "Extract the event information."},
            {"role": "user", "content": "Alice and Bob are going to a science fair on Friday."},
        ],
        text_format=CalendarEvent,
    )
    event = response.output_parsed
    assert isinstance(event, CalendarEvent) and event.participants == ["Alice", "Bob"]


def test_responses_json_mode_needs_the_word_json(client: openai.OpenAI) -> None:
    response = client.responses.create(
        model="gpt-5.4-mini",
        input="Give me three colours in JSON.",
        text={"format": {"type": "json_object"}},
    )
    assert isinstance(json.loads(response.output_text), dict)
    with pytest.raises(openai.BadRequestError, match="must contain the word 'json'"):
        client.responses.create(
            model="gpt-5.4-mini", input="Three colours", text={"format": {"type": "json_object"}}
        )


# --- the Responses API: function calling ------------------------------------------------------
RESPONSES_TOOLS: list[Any] = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Get current temperature for a given location.",
        "parameters": OPENAI_TOOLS[0]["function"]["parameters"],
        "strict": True,
    }
]


def test_responses_function_calling_quickstart(client: openai.OpenAI) -> None:
    input_messages: list[Any] = [
        {"role": "user", "content": "What is the weather like in Paris today?"}
    ]
    response = client.responses.create(model="gpt-4.1", input=input_messages, tools=RESPONSES_TOOLS)
    tool_call = response.output[0]
    assert tool_call.type == "function_call" and tool_call.name == "get_weather"
    assert json.loads(tool_call.arguments) == {"location": "Paris"}
    input_messages.append(tool_call)
    input_messages.append(
        {"type": "function_call_output", "call_id": tool_call.call_id, "output": "14°C"}
    )
    response_2 = client.responses.create(
        model="gpt-4.1", input=input_messages, tools=RESPONSES_TOOLS
    )
    assert "14°C" in response_2.output_text

    # The same turn through previous_response_id: the call is remembered with the response.
    follow = client.responses.create(
        model="gpt-4.1",
        previous_response_id=response.id,
        input=[{"type": "function_call_output", "call_id": tool_call.call_id, "output": "9°C"}],
        tools=RESPONSES_TOOLS,
    )
    assert "9°C" in follow.output_text


def test_responses_streamed_function_call(client: openai.OpenAI) -> None:
    events = list(
        client.responses.create(
            model="gpt-5.4-mini",
            input="What is the weather like in Paris today?",
            tools=RESPONSES_TOOLS,
            stream=True,
        )
    )
    deltas = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
    assert len(deltas) > 1 and json.loads("".join(deltas)) == {"location": "Paris"}
    done = next(e for e in events if e.type == "response.function_call_arguments.done")
    assert done.arguments == "".join(deltas)
    assert events[-1].type == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_responses_server_tools_need_a_live_key(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="web_search"):
        client.responses.create(
            model="gpt-4.1", input="News today?", tools=[{"type": "web_search"}]
        )


def test_responses_output_without_its_call_is_refused(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="No tool call found") as info:
        client.responses.create(
            model="gpt-4.1",
            input=[{"type": "function_call_output", "call_id": "call_x", "output": "1"}],
        )
    assert info.value.param == "input"
