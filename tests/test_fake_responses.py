"""The simulated Responses API (``POST /v1/responses``) against the real openai SDK.

Strict response validation everywhere, sync and async, in-process (respx) and over loopback HTTP
(the ASGI app on a free port): the SDK's own types, its ``responses.stream()`` accumulator and
``response.output_text`` are the judges of the wire format.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import openai
import pytest
from support import ManualClock, strict_client

from course_helpers.fake import FakeProvider, FakeRequest
from course_helpers.fake.asgi import serve_in_thread
from course_helpers.tokens import estimate_tokens, split_tokens

KEY = "sk-test-responses-0000"
MODEL = "gpt-4o-mini"
REASONING_MODEL = "gpt-5.4-mini"
FRANCE = "What is the capital of France?"
COUNT = "Count from 1 to 100"
IMG = "https://example.com/cat.jpg"

EVENTS = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
]


pytestmark = pytest.mark.fake(seed=5)  # the `fake` fixture (conftest.py)


def client(**options: Any) -> openai.OpenAI:
    return strict_client(openai.OpenAI, KEY, **options)


def aclient(**options: Any) -> openai.AsyncOpenAI:
    return strict_client(openai.AsyncOpenAI, KEY, **options)


def distinct(types: list[str]) -> list[str]:
    """Event types in order, runs of the same type collapsed (the deltas)."""
    return [t for i, t in enumerate(types) if i == 0 or types[i - 1] != t]


# --- answers ----------------------------------------------------------------------------------


def test_create_with_a_string_answers_like_chat_completions(fake: FakeProvider) -> None:
    c = client()
    response = c.responses.create(model=MODEL, input=FRANCE, temperature=0)
    chat = c.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": FRANCE}], temperature=0
    )
    assert response.output_text == chat.choices[0].message.content
    assert response.output_text == "The capital of France is Paris."
    assert response.status == "completed" and response.object == "response"
    assert response.id.startswith("resp_") and response.output[0].id.startswith("msg_")
    usage = response.usage
    assert usage is not None
    assert usage.output_tokens == len(split_tokens(response.output_text))
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.output_tokens_details.reasoning_tokens == 0
    assert usage.input_tokens_details.cached_tokens == 0
    call = fake.calls[0]
    assert (call.path, call.status, call.model) == ("/v1/responses", 200, MODEL)
    assert call.usage is not None and call.usage["input_tokens"] == usage.input_tokens


def test_message_list_input_and_instructions(fake: FakeProvider) -> None:
    c = client()
    plain = c.responses.create(model=MODEL, input=FRANCE, temperature=0)
    response = c.responses.create(
        model=MODEL,
        instructions="You are a concise geography tutor.",
        input=[
            {"role": "developer", "content": "Answer in plain English."},
            {"role": "user", "content": [{"type": "input_text", "text": FRANCE}]},
        ],
        temperature=0,
    )
    assert response.instructions == "You are a concise geography tutor."
    assert response.output_text
    assert plain.usage is not None and response.usage is not None
    assert response.usage.input_tokens > plain.usage.input_tokens  # instructions are input


def test_reasoning_model_output_starts_with_a_reasoning_item(fake: FakeProvider) -> None:
    response = client().responses.create(model=REASONING_MODEL, input=FRANCE)
    assert [item.type for item in response.output] == ["reasoning", "message"]
    assert response.output_text
    assert response.reasoning is not None and response.reasoning.effort == "medium"


def test_parse_without_a_format_gives_the_text(fake: FakeProvider) -> None:
    parsed = client().responses.parse(model=MODEL, input=FRANCE, temperature=0)
    assert parsed.output_text == "The capital of France is Paris."


def test_async_create(fake: FakeProvider) -> None:
    async def run() -> str:
        async with aclient() as c:
            response = await c.responses.create(model=MODEL, input=FRANCE, temperature=0)
        return response.output_text

    assert asyncio.run(run()) == "The capital of France is Paris."


# --- max_output_tokens ------------------------------------------------------------------------


def test_max_output_tokens_cut_is_incomplete_and_a_prefix(fake: FakeProvider) -> None:
    c = client()
    whole = c.responses.create(model=MODEL, input=COUNT, temperature=0)
    cut = c.responses.create(model=MODEL, input=COUNT, temperature=0, max_output_tokens=16)
    assert whole.status == "completed"
    assert cut.status == "incomplete"
    assert cut.incomplete_details is not None
    assert cut.incomplete_details.reason == "max_output_tokens"
    assert cut.output[0].type == "message" and cut.output[0].status == "incomplete"
    assert cut.usage is not None and cut.usage.output_tokens == 16
    assert whole.output_text.startswith(cut.output_text) and cut.output_text != whole.output_text
    assert cut.max_output_tokens == 16


# --- streaming --------------------------------------------------------------------------------


def test_stream_sends_the_typed_events_in_order(fake: FakeProvider) -> None:
    c = client()
    whole = c.responses.create(model=MODEL, input=FRANCE, temperature=0)
    events = list(c.responses.create(model=MODEL, input=FRANCE, temperature=0, stream=True))
    assert distinct([e.type for e in events]) == EVENTS
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == whole.output_text
    created, completed = events[0], events[-1]
    assert created.type == "response.created" and completed.type == "response.completed"
    assert created.response.status == "in_progress" and created.response.output == []
    assert completed.response.output_text == whole.output_text
    assert completed.response.id == created.response.id
    assert fake.calls[-1].streamed


def test_stream_helper_and_its_final_response(fake: FakeProvider) -> None:
    with client().responses.stream(model=MODEL, input=FRANCE, temperature=0) as stream:
        texts = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(texts) == final.output_text == "The capital of France is Paris."


def test_stream_cut_by_max_output_tokens_ends_incomplete(fake: FakeProvider) -> None:
    events = list(
        client().responses.create(model=MODEL, input=COUNT, max_output_tokens=16, stream=True)
    )
    assert events[-1].type == "response.incomplete"
    assert events[-1].response.incomplete_details is not None
    assert sum(e.type == "response.output_text.delta" for e in events) == 16


def test_async_stream(fake: FakeProvider) -> None:
    async def run() -> tuple[list[str], str]:
        async with aclient() as c:
            stream = await c.responses.create(model=MODEL, input=FRANCE, temperature=0, stream=True)
            types: list[str] = []
            text = ""
            async for event in stream:
                types.append(event.type)
                if event.type == "response.output_text.delta":
                    text += event.delta
        return types, text

    types, text = asyncio.run(run())
    assert distinct(types) == EVENTS
    assert text == "The capital of France is Paris."


# --- previous_response_id and store -----------------------------------------------------------


def test_previous_response_id_carries_the_conversation(fake: FakeProvider) -> None:
    c = client()
    first = c.responses.create(model=MODEL, input=FRANCE, temperature=0)
    second = c.responses.create(
        model=MODEL, input="And what is it famous for?", previous_response_id=first.id
    )
    alone = c.responses.create(model=MODEL, input="And what is it famous for?")
    assert second.previous_response_id == first.id
    assert first.usage is not None and second.usage is not None and alone.usage is not None
    # the earlier question and answer are input again, as the real API charges them
    earlier = first.usage.input_tokens + first.usage.output_tokens
    assert second.usage.input_tokens > alone.usage.input_tokens
    assert second.usage.input_tokens >= earlier


def test_unknown_previous_response_is_404(fake: FakeProvider) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client().responses.create(model=MODEL, input="Hi", previous_response_id="resp_nope")
    error = info.value.body
    assert isinstance(error, dict)
    assert error["code"] == "previous_response_not_found"
    assert error["param"] == "previous_response_id"
    assert error["message"] == "Previous response with id 'resp_nope' not found."


def test_store_false_is_not_remembered(fake: FakeProvider) -> None:
    c = client()
    unstored = c.responses.create(model=MODEL, input=FRANCE, store=False)
    assert unstored.store is False
    with pytest.raises(openai.NotFoundError):
        c.responses.create(model=MODEL, input="More?", previous_response_id=unstored.id)


def test_stored_responses_are_bounded_and_reset_forgets_them() -> None:
    with FakeProvider(keep_responses=2) as fake:
        c = client()
        ids = [c.responses.create(model=MODEL, input=f"Question {n}").id for n in range(3)]
        with pytest.raises(openai.NotFoundError):  # the oldest was forgotten
            c.responses.create(model=MODEL, input="More?", previous_response_id=ids[0])
        c.responses.create(model=MODEL, input="More?", previous_response_id=ids[2])
        assert len(fake.stored_responses) == 2
        fake.reset()
        with pytest.raises(openai.NotFoundError):
            c.responses.create(model=MODEL, input="More?", previous_response_id=ids[2])


def test_stored_response_can_be_retrieved_and_deleted() -> None:
    fake = FakeProvider(seed=2)  # the core directly: the adapters' path rules are tested elsewhere
    headers = {"authorization": f"Bearer {KEY}", "content-type": "application/json"}
    body = json.dumps({"model": MODEL, "input": FRANCE}).encode()
    created = fake.handle(FakeRequest("POST", "/v1/responses", headers, body))
    assert created is not None and created.status == 200
    response_id = json.loads(created.body)["id"]
    got = fake.handle(FakeRequest("GET", f"/v1/responses/{response_id}", headers))
    assert got is not None and got.status == 200
    assert json.loads(got.body) == json.loads(created.body)
    deleted = fake.handle(FakeRequest("DELETE", f"/v1/responses/{response_id}", headers))
    assert deleted is not None
    assert json.loads(deleted.body) == {"id": response_id, "object": "response", "deleted": True}
    gone = fake.handle(FakeRequest("GET", f"/v1/responses/{response_id}", headers))
    assert gone is not None and gone.status == 404


def test_sdk_retrieves_and_deletes_in_process_and_over_http(fake: FakeProvider) -> None:
    def round_trip(c: openai.OpenAI) -> None:
        created = c.responses.create(model=MODEL, input=FRANCE, temperature=0)
        assert c.responses.retrieve(created.id).output_text == created.output_text
        c.responses.delete(created.id)
        with pytest.raises(openai.NotFoundError):
            c.responses.retrieve(created.id)

    round_trip(client())
    with serve_in_thread(FakeProvider(seed=3)) as server:
        round_trip(client(base_url=f"{server.base_url}/v1"))


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"max_output_tokens": 5}, "max_output_tokens", "integer_below_min_value"),
        ({"temperature": 3}, "temperature", "decimal_above_max_value"),
        ({"input": [{"role": "bot", "content": "Hi"}]}, "input[0].role", "invalid_value"),
        ({"input": [{"role": "user"}]}, "input[0].content", "missing_required_parameter"),
        ({"input": 42}, "input", "invalid_type"),
        ({"extra_body": {"n": 2}}, "n", "unknown_parameter"),
        ({"model": REASONING_MODEL, "temperature": 0.2}, "temperature", "unsupported_parameter"),
        ({"model": REASONING_MODEL, "top_p": 0.5}, "top_p", "unsupported_parameter"),
        ({"reasoning": {"effort": "low"}}, "reasoning.effort", "unsupported_parameter"),
        ({"tools": [{"type": "web_search"}]}, "tools[0].type", "not_simulated"),
        (
            {"input": [{"role": "user", "content": [{"type": "input_image", "image_url": IMG}]}]},
            "input[0].content[0].type",
            "not_simulated",
        ),
    ],
)
def test_invalid_requests_are_400_with_param(
    fake: FakeProvider, params: dict[str, Any], param: str, code: str
) -> None:
    request: dict[str, Any] = {"model": MODEL, "input": "Hi", **params}
    with pytest.raises(openai.BadRequestError) as info:
        client().responses.create(**request)
    error = info.value.body
    assert isinstance(error, dict)
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", param, code)
    assert fake.calls[-1].status == 400


def test_reasoning_model_accepts_the_default_temperature(fake: FakeProvider) -> None:
    response = client().responses.create(model=REASONING_MODEL, input=FRANCE, temperature=1)
    assert response.output_text


def test_not_simulated_feature_names_itself(fake: FakeProvider) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client().responses.create(model=MODEL, input="Hi", background=True)
    assert "Background mode is not simulated" in info.value.message
    assert "live key" in info.value.message


def test_key_and_model_errors(fake: FakeProvider) -> None:
    bad_key = openai.OpenAI(api_key="not-a-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad_key.responses.create(model=MODEL, input="Hi")
    with pytest.raises(openai.NotFoundError) as info:
        client().responses.create(model="gpt-nonexistent", input="Hi")
    assert isinstance(info.value.body, dict) and info.value.body["code"] == "model_not_found"


# --- rate limits and faults -------------------------------------------------------------------


def test_rate_limit_is_shared_with_chat_completions() -> None:
    with FakeProvider(rpm=2, clock=ManualClock(1000.0)) as fake:
        c = client()
        c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hi"}])
        c.responses.create(model=MODEL, input="Hi")
        with pytest.raises(openai.RateLimitError) as info:
            c.responses.create(model=MODEL, input="Hi")
        headers = info.value.response.headers
        assert headers["x-ratelimit-limit-requests"] == "2"
        assert int(headers["retry-after"]) > 0
        assert [call.status for call in fake.calls] == [200, 200, 429]


def test_scripted_status_faults(fake: FakeProvider) -> None:
    fake.fail_next(500)
    fake.fail_next(429, retry_after=3)
    c = client()
    with pytest.raises(openai.InternalServerError):
        c.responses.create(model=MODEL, input="Hi")
    with pytest.raises(openai.RateLimitError) as info:
        c.responses.create(model=MODEL, input="Hi")
    assert info.value.response.headers["retry-after"] == "3"
    assert [call.fault for call in fake.calls] == ["500", "429"]
    assert c.responses.create(model=MODEL, input="Hi").status == "completed"


def test_mid_stream_fault_is_an_error_event(fake: FakeProvider) -> None:
    fake.fail_next(mid_stream=True, after_tokens=2, message="boom")
    events = list(client().responses.create(model=MODEL, input=COUNT, stream=True))
    assert sum(e.type == "response.output_text.delta" for e in events) == 2
    last = events[-1]
    assert last.type == "error" and last.message == "boom"
    assert last.sequence_number == len(events) - 1
    assert fake.calls[-1].fault == "mid_stream"


def test_drop_before_headers_is_a_connection_error(fake: FakeProvider) -> None:
    fake.fail_next(drop=True)
    with pytest.raises(openai.APIConnectionError):
        client().responses.create(model=MODEL, input="Hi")
    assert fake.calls[-1].status is None


# --- over HTTP --------------------------------------------------------------------------------


def test_over_http_sync_async_stream_and_previous_response() -> None:
    fake = FakeProvider(seed=9)  # never entered: requests must cross the socket
    with serve_in_thread(fake) as server:
        base_url = f"{server.base_url}/v1"
        c = client(base_url=base_url)
        first = c.responses.create(model=MODEL, input=FRANCE, temperature=0)
        assert first.output_text == "The capital of France is Paris."
        follow = c.responses.create(model=MODEL, input="Why?", previous_response_id=first.id)
        assert follow.previous_response_id == first.id
        with c.responses.stream(model=MODEL, input=FRANCE, temperature=0) as stream:
            streamed = stream.get_final_response().output_text
        assert streamed == first.output_text

        async def run() -> list[str]:
            async with aclient(base_url=base_url) as ac:
                events = await ac.responses.create(model=MODEL, input=FRANCE, stream=True)
                return [event.type async for event in events]

        assert distinct(asyncio.run(run())) == EVENTS
        with pytest.raises(openai.NotFoundError):
            c.responses.create(model=MODEL, input="Hi", previous_response_id="resp_gone")
    assert [call.path for call in fake.calls] == ["/v1/responses"] * 5


def test_charge_is_the_input_estimate_plus_max_output_tokens() -> None:
    with FakeProvider(tpm=100_000, clock=ManualClock(1000.0)):
        raw = client().responses.with_raw_response.create(
            model=MODEL, input=FRANCE, instructions="Be brief.", max_output_tokens=50
        )
    input_tokens = estimate_tokens([{"role": "user", "content": FRANCE}], system="Be brief.")
    assert raw.headers["x-ratelimit-remaining-tokens"] == str(100_000 - input_tokens - 50)
    usage = raw.parse().usage
    assert usage is not None and usage.input_tokens == input_tokens


def test_both_openai_dialects_word_an_unknown_role_alike(fake: FakeProvider) -> None:
    bad = [{"role": "bot", "content": "Hi"}]
    with pytest.raises(openai.BadRequestError) as chat:
        client().chat.completions.create(model=MODEL, messages=bad)
    with pytest.raises(openai.BadRequestError) as responses:
        client().responses.create(model=MODEL, input=bad)
    for info, roles in (
        (chat, "'system', 'developer', 'user', 'assistant', 'tool', and 'function'"),
        (responses, "'assistant', 'system', 'developer', and 'user'"),
    ):
        body = info.value.body
        assert isinstance(body, dict)
        assert body["message"] == f'Invalid value: "bot". Supported values are: {roles}.'
