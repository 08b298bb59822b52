"""The simulated provider against the real openai SDK (strict validation, sync and async)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx2
import openai
import pytest
from support import ManualClock, cached_strict_client, strict_client

from course_helpers.catalog import get_model
from course_helpers.fake import FakeProvider, respx_adapter
from course_helpers.tokens import estimate_tokens, split_tokens

KEY = "sk-test-abcdef1234567890wxyz"
MODEL = "gpt-4o-mini"
ASK = [{"role": "user", "content": "Explain exponential backoff for API retries"}]


pytestmark = pytest.mark.fake(seed=11)  # the `fake` fixture (conftest.py)


def client(**options: Any) -> openai.OpenAI:
    return cached_strict_client(openai.OpenAI, KEY, **options)


def aclient(**options: Any) -> openai.AsyncOpenAI:
    return strict_client(openai.AsyncOpenAI, KEY, **options)


def create(c: openai.OpenAI, **params: Any) -> Any:
    params.setdefault("model", MODEL)
    params.setdefault("messages", ASK)
    return c.chat.completions.create(**params)


# ----------------------------------------------------------------------------- success shapes
def test_completion_shape_usage_and_call_log(fake: FakeProvider) -> None:
    reply = create(client())
    choice = reply.choices[0]
    assert reply.object == "chat.completion" and reply.id.startswith("chatcmpl-")
    assert reply.model == MODEL
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    text = choice.message.content
    assert text
    assert reply.usage.prompt_tokens == estimate_tokens(ASK)
    assert reply.usage.completion_tokens == len(split_tokens(text))
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    [call] = fake.calls
    assert (call.provider, call.method, call.path, call.status) == (
        "openai",
        "POST",
        "/v1/chat/completions",
        200,
    )
    assert call.body["messages"] == ASK and call.model == MODEL and not call.streamed
    assert call.usage["completion_tokens"] == reply.usage.completion_tokens
    assert call.request_id == reply._request_id
    assert KEY not in str(call.headers) and call.headers["authorization"] == "Bearer sk-…wxyz"


def test_async_completion(fake: FakeProvider) -> None:
    async def main() -> list[Any]:
        c = aclient()
        return list(await asyncio.gather(*(create_async(c) for _ in range(3))))

    async def create_async(c: openai.AsyncOpenAI) -> Any:
        return await c.chat.completions.create(model=MODEL, messages=ASK)

    replies = asyncio.run(main())
    assert all(r.choices[0].message.content for r in replies)
    assert len(fake.calls) == 3
    assert {c.headers["x-stainless-async"] for c in fake.calls} == {"async:asyncio"}


def test_raw_response_headers(fake: FakeProvider) -> None:
    raw = client().chat.completions.with_raw_response.create(model=MODEL, messages=ASK)
    headers = raw.headers
    assert raw.status_code == 200 and raw.request_id == headers["x-request-id"]
    assert headers["openai-version"] == "2020-10-01"
    assert int(headers["openai-processing-ms"]) >= 0
    assert int(headers["x-ratelimit-limit-requests"]) == 10_000
    assert int(headers["x-ratelimit-remaining-requests"]) == 9_999
    assert headers["x-ratelimit-reset-requests"].endswith("ms")
    assert raw.parse().choices[0].message.content


def test_a_base_url_the_course_set_up_reaches_the_fake(fake: FakeProvider) -> None:
    respx_adapter.answer_at("http://fake.test/custom")
    try:
        reply = create(client(base_url="http://fake.test/custom/v1"))
    finally:
        respx_adapter.forget("http://fake.test/custom")
    assert reply.choices[0].message.content
    assert fake.calls[0].path == "/v1/chat/completions"  # as the provider's host sees it


def test_a_learners_own_base_url_is_left_alone(fake: FakeProvider) -> None:
    with pytest.raises(openai.APIConnectionError):  # nothing listens there: as without the fake
        create(client(base_url="http://127.0.0.1:9/v1"))
    assert fake.calls == []


def test_models_list_and_retrieve(fake: FakeProvider) -> None:
    c = client()
    ids = [m.id for m in c.models.list()]
    assert {"gpt-4o-mini", "gpt-5.4-mini", "gpt-4o-mini-2024-07-18"} <= set(ids)
    assert not any(i.startswith("claude") for i in ids)
    model = c.models.retrieve("gpt-4o-mini")
    assert (model.id, model.created, model.owned_by) == ("gpt-4o-mini", 1721260800, "system")
    with pytest.raises(openai.NotFoundError) as info:
        c.models.retrieve("gpt-nope")
    assert info.value.code == "model_not_found"


# ----------------------------------------------------------------------------- streaming
def test_raw_stream_frames_without_usage(fake: FakeProvider) -> None:
    full = create(client(), temperature=0).choices[0].message.content
    chunks = list(create(client(), temperature=0, stream=True))
    assert (
        chunks[0].choices[0].delta.role == "assistant" and chunks[0].choices[0].delta.content == ""
    )
    contents = [c.choices[0].delta.content for c in chunks[1:-1]]
    assert contents == split_tokens(full)  # one token per delta
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks)
    assert len({c.id for c in chunks}) == 1 and chunks[0].object == "chat.completion.chunk"
    assert fake.calls[-1].streamed


def test_raw_stream_include_usage_last_chunk(fake: FakeProvider) -> None:
    stream = create(client(), stream=True, stream_options={"include_usage": True})
    assert stream.response.headers["content-type"].startswith("text/event-stream")
    chunks = list(stream)
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    text = "".join(c.choices[0].delta.content or "" for c in chunks[:-1])
    assert last.usage.completion_tokens == len(split_tokens(text))
    assert last.usage.prompt_tokens == estimate_tokens(ASK)


def test_stream_n_choices_interleaved(fake: FakeProvider) -> None:
    chunks = list(create(client(), stream=True, n=2))
    by_index: dict[int, str] = {0: "", 1: ""}
    finishes = {}
    for chunk in chunks:
        for choice in chunk.choices:
            by_index[choice.index] += choice.delta.content or ""
            if choice.finish_reason:
                finishes[choice.index] = choice.finish_reason
    assert finishes == {0: "stop", 1: "stop"}
    assert by_index[0] and by_index[1] and by_index[0] != by_index[1]


def test_stream_helper_sync_final_completion_has_usage(fake: FakeProvider) -> None:
    with client().chat.completions.stream(
        model=MODEL, messages=ASK, stream_options={"include_usage": True}
    ) as stream:
        deltas = [e.delta for e in stream if e.type == "content.delta" and e.delta]
        final = stream.get_final_completion()
    assert "".join(deltas) == final.choices[0].message.content
    assert final.usage is not None and final.usage.completion_tokens == len(deltas)
    assert fake.calls[0].headers["x-stainless-helper-method"] == "chat.completions.stream"


def test_stream_helper_async(fake: FakeProvider) -> None:
    async def main() -> tuple[str, Any]:
        async with aclient().chat.completions.stream(
            model=MODEL, messages=ASK, stream_options={"include_usage": True}
        ) as stream:
            text = ""
            async for event in stream:
                if event.type == "content.delta":
                    text += event.delta
            return text, await stream.get_final_completion()

    text, final = asyncio.run(main())
    assert text == final.choices[0].message.content and final.usage is not None


def test_async_raw_stream(fake: FakeProvider) -> None:
    async def main() -> str:
        stream = await aclient().chat.completions.create(model=MODEL, messages=ASK, stream=True)
        return "".join([c.choices[0].delta.content or "" async for c in stream])

    assert asyncio.run(main())


def test_stream_arrives_incrementally() -> None:
    with FakeProvider(ttft=0.05, token_delay=0.005):
        started = time.perf_counter()
        arrivals = []
        for chunk in create(client(), stream=True, max_completion_tokens=12):
            if chunk.choices and chunk.choices[0].delta.content:
                arrivals.append(time.perf_counter() - started)
    assert len(arrivals) == 12
    assert arrivals[0] >= 0.045  # time to first token
    assert arrivals[-1] - arrivals[0] >= 11 * 0.005 * 0.9  # then one token_delay apart


# ----------------------------------------------------------------------------- text options
def test_deterministic_for_temperature_zero_and_seed(fake: FakeProvider) -> None:
    c = client()
    assert (
        create(c, temperature=0).choices[0].message.content
        == create(c, temperature=0).choices[0].message.content
    )
    seeded = {create(c, seed=5, temperature=1).choices[0].message.content for _ in range(3)}
    assert len(seeded) == 1


def test_varied_otherwise_and_reproducible_per_seed() -> None:
    def run(seed: int) -> list[str]:
        with FakeProvider(seed=seed):
            return [create(client()).choices[0].message.content for _ in range(4)]

    first = run(3)
    assert len(set(first)) > 1  # varied
    assert run(3) == first  # same seed, same run


def test_n_choices_distinct(fake: FakeProvider) -> None:
    reply = create(client(), n=3)
    texts = [c.message.content for c in reply.choices]
    assert [c.index for c in reply.choices] == [0, 1, 2] and len(set(texts)) == 3
    assert reply.usage.completion_tokens == sum(len(split_tokens(t)) for t in texts)
    same = create(client(), n=2, temperature=0)
    assert same.choices[0].message.content == same.choices[1].message.content


def test_stop_sequence_cuts_before_match(fake: FakeProvider) -> None:
    full = create(client(), temperature=0).choices[0].message.content
    stop = full.split()[3]
    reply = create(client(), temperature=0, stop=[stop, "zzz-not-there"])
    assert reply.choices[0].message.content == full[: full.index(stop)]
    assert reply.choices[0].finish_reason == "stop"


@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
def test_max_tokens_gives_length(fake: FakeProvider, field: str) -> None:
    full = create(client(), temperature=0).choices[0].message.content
    reply = create(client(), temperature=0, **{field: 5})
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage.completion_tokens == 5
    assert reply.choices[0].message.content == "".join(split_tokens(full)[:5])


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("params", "param", "code", "fragment"),
    [
        ({"temperature": 2.5}, "temperature", "decimal_above_max_value", "<= 2, but got 2.5"),
        ({"temperature": -1}, "temperature", "decimal_below_min_value", ">= 0"),
        ({"top_p": 1.5}, "top_p", "decimal_above_max_value", "<= 1"),
        ({"n": 0}, "n", "integer_below_min_value", ">= 1"),
        ({"n": 200}, "n", "integer_above_max_value", "<= 128"),
        ({"presence_penalty": 3}, "presence_penalty", "decimal_above_max_value", "<= 2"),
        ({"frequency_penalty": -3}, "frequency_penalty", "decimal_below_min_value", ">= -2"),
        ({"max_tokens": 0}, "max_tokens", "integer_below_min_value", ">= 1"),
        ({"messages": []}, "messages", "empty_array", "empty array"),
        (
            {"messages": [{"role": "robot", "content": "hi"}]},
            "messages[0].role",
            "invalid_value",
            'Invalid value: "robot"',
        ),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop", "array_above_max_length", "maximum length 4"),
        ({"extra_body": {"temperature": "hot"}}, "temperature", "invalid_type", "a decimal"),
    ],
)
def test_parameter_validation(
    fake: FakeProvider, params: dict[str, Any], param: str, code: str, fragment: str
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        create(client(), **params)
    assert (info.value.status_code, info.value.param, info.value.code) == (400, param, code)
    assert fragment in info.value.message
    assert info.value.type == "invalid_request_error"
    assert fake.calls[-1].status == 400


def test_stream_options_without_stream(fake: FakeProvider) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        create(client(), stream_options={"include_usage": True})
    assert info.value.body == {
        "message": "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        "type": "invalid_request_error",
        "param": "stream_options",
        "code": None,
    }


def test_max_tokens_above_model_limit(fake: FakeProvider) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        create(client(), max_tokens=200000)
    assert (info.value.param, info.value.code) == ("max_tokens", "invalid_value")
    assert info.value.body["message"] == (
        "max_tokens is too large: 200000. This model supports at most 16384 completion tokens, "
        "whereas you provided 200000."
    )


def test_context_window_exceeded(fake: FakeProvider) -> None:
    window = get_model(MODEL).context_window
    messages = [{"role": "user", "content": "word " * (window + 10)}]
    with pytest.raises(openai.BadRequestError) as info:
        create(client(), messages=messages)
    assert info.value.code == "context_length_exceeded" and info.value.param == "messages"
    tokens = estimate_tokens(messages)
    assert info.value.body["message"] == (
        f"This model's maximum context length is {window} tokens. However, your messages "
        f"resulted in {tokens} tokens. Please reduce the length of the messages."
    )


def test_unknown_and_retired_models(fake: FakeProvider) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        create(client(), model="gpt-9-imaginary")
    assert info.value.code == "model_not_found"
    assert info.value.body["message"] == (
        "The model `gpt-9-imaginary` does not exist or you do not have access to it."
    )
    with pytest.raises(openai.NotFoundError) as info:
        create(client(), model="claude-haiku-5-5")  # another provider's model
    with pytest.raises(openai.NotFoundError) as info:
        create(client(), model="text-davinci-003")
    assert "gpt-5.4-mini" in info.value.body["message"]


def test_alias_is_accepted_and_echoed(fake: FakeProvider) -> None:
    assert create(client(), model="gpt-4o-mini-2024-07-18").model == "gpt-4o-mini-2024-07-18"


# ----------------------------------------------------------------------------- auth and routing
def test_wrong_key_is_401_with_masked_key(fake: FakeProvider) -> None:
    bad = "sk-ant-FAKE-not-real-9876"  # made up, in the wrong client
    with pytest.raises(openai.AuthenticationError) as info:
        openai.OpenAI(api_key=bad, max_retries=0).chat.completions.create(model=MODEL, messages=ASK)
    message = info.value.body["message"]
    assert info.value.code == "invalid_api_key" and bad not in message
    assert message.startswith("Incorrect API key provided: sk-ant") and "9876." in message
    assert bad not in str(fake.calls[-1].headers)


def test_missing_key_and_unknown_path_via_plain_http(fake: FakeProvider) -> None:
    response = httpx2.post(
        "https://api.openai.com/v1/chat/completions", json={"model": MODEL, "messages": ASK}
    )
    assert response.status_code == 401
    assert "You didn't provide an API key" in response.json()["error"]["message"]
    assert response.headers["x-request-id"].startswith("req_")
    unknown = httpx2.get("https://api.openai.com/v1/nothing-here")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == "Invalid URL (GET /v1/nothing-here)"


# ----------------------------------------------------------------------------- faults
def test_rate_limit_fault(fake: FakeProvider) -> None:
    fake.fail_next(429, retry_after=7)
    with pytest.raises(openai.RateLimitError) as info:
        create(client())
    error = info.value
    assert error.code == "rate_limit_exceeded" and error.type == "requests"
    assert error.response.headers["retry-after"] == "7"
    assert error.response.headers["x-ratelimit-limit-requests"] == "10000"
    assert error.request_id == error.response.headers["x-request-id"]
    assert fake.calls[-1].fault == "429" and fake.calls[-1].status == 429
    assert create(client()).choices  # the fault was used once


def test_quota_fault(fake: FakeProvider) -> None:
    fake.fail_next(quota=True)
    with pytest.raises(openai.RateLimitError) as info:
        create(client())
    assert (info.value.code, info.value.type) == ("insufficient_quota", "insufficient_quota")
    assert "retry-after" not in info.value.response.headers


@pytest.mark.parametrize(
    ("status", "sent", "fragment"),
    [
        (500, 500, "The server had an error"),
        (502, 502, "Bad gateway"),
        (503, 503, "overloaded"),
        (529, 503, "overloaded"),  # OpenAI has no 529
    ],
)
def test_server_faults(fake: FakeProvider, status: int, sent: int, fragment: str) -> None:
    fake.fail_next(status)
    with pytest.raises(openai.InternalServerError) as info:
        create(client())
    assert info.value.status_code == sent and fragment in info.value.message


def test_fault_for_other_provider_waits(fake: FakeProvider) -> None:
    fake.fail_next(500, provider="anthropic")
    assert create(client()).choices
    assert len(fake.pending_faults) == 1


def test_sdk_retry_honours_retry_after_ms(
    fake: FakeProvider, sleeps_of_this_thread: Callable[..., list[float]]
) -> None:
    sdk = client(max_retries=2)
    sdk.chat.completions.with_raw_response.create(model=MODEL, messages=ASK)
    slept = sleeps_of_this_thread()
    fake.fail_next(429, retry_after_ms=5)
    raw = sdk.chat.completions.with_raw_response.create(model=MODEL, messages=ASK)
    assert slept == [0.005]  # the header's 5 ms, not the SDK's own 0.375-0.5 s backoff
    assert raw.retries_taken == 1
    assert [(c.status, c.retry_count) for c in fake.calls[1:]] == [(429, 0), (200, 1)]


def test_hang_times_out(fake: FakeProvider) -> None:
    fake.fail_next(hang=True)
    started = time.perf_counter()
    with pytest.raises(openai.APITimeoutError):
        create(client(timeout=0.2))
    assert time.perf_counter() - started >= 0.15  # it waited for the client's timeout
    assert fake.calls[-1].fault == "hang" and fake.calls[-1].status is None


def test_drop_is_connection_error_and_retried(fake: FakeProvider) -> None:
    fake.fail_next(drop=True, times=3)
    with pytest.raises(openai.APIConnectionError) as info:
        create(client(max_retries=1))
    assert not isinstance(info.value, openai.APITimeoutError)
    assert [c.fault for c in fake.calls] == ["drop", "drop"]


def test_in_stream_error_event(fake: FakeProvider) -> None:
    fake.fail_next(mid_stream=True, after_tokens=3)
    seen = []
    with pytest.raises(openai.APIError) as info:
        for chunk in create(client(), stream=True):
            seen.extend(c.delta.content for c in chunk.choices if c.delta.content)
    assert not isinstance(info.value, openai.APIStatusError)
    assert info.value.type == "server_error" and len(seen) == 3


def test_mid_stream_fault_waits_for_a_streaming_request(fake: FakeProvider) -> None:
    fake.fail_next(mid_stream=True)
    assert create(client()).choices  # non-streamed: unaffected
    assert len(fake.pending_faults) == 1


def test_drop_mid_stream(fake: FakeProvider) -> None:
    fake.fail_next(drop=True, after_tokens=2)
    seen = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in create(client(), stream=True):
            seen.extend(c.delta.content for c in chunk.choices if c.delta.content)
    assert len(seen) == 2


def test_async_hang_and_drop(fake: FakeProvider) -> None:
    async def main() -> list[type[BaseException]]:
        c = aclient(timeout=0.2)
        raised = []
        for _ in range(2):
            try:
                await c.chat.completions.create(model=MODEL, messages=ASK)
            except openai.APIConnectionError as exc:
                raised.append(type(exc))
        return raised

    fake.fail_next(hang=True)
    fake.fail_next(drop=True)
    assert asyncio.run(main()) == [openai.APITimeoutError, openai.APIConnectionError]


# ----------------------------------------------------------------------------- rate limits
def test_rate_limit_headers_and_429_when_exhausted() -> None:
    clock = ManualClock(1000.0)
    with FakeProvider(rpm=3, tpm=100_000, clock=clock) as fake:
        c = client()
        remaining = []
        for _ in range(3):
            raw = c.chat.completions.with_raw_response.create(
                model=MODEL, messages=ASK, max_completion_tokens=50
            )
            remaining.append(int(raw.headers["x-ratelimit-remaining-requests"]))
            charged = estimate_tokens(ASK) + 50
            assert int(raw.headers["x-ratelimit-remaining-tokens"]) == 100_000 - charged * len(
                remaining
            )
        assert remaining == [2, 1, 0]
        assert raw.headers["x-ratelimit-reset-requests"] == "1m0s"
        with pytest.raises(openai.RateLimitError) as info:
            create(c, max_completion_tokens=50)
        error = info.value
        assert error.type == "requests" and error.code == "rate_limit_exceeded"
        assert error.response.headers["retry-after"] == "20"
        assert error.response.headers["retry-after-ms"] == "20000"
        assert "on requests per min (RPM): Limit 3, Used 3, Requested 1" in error.message
        assert "Please try again in 20s." in error.message
        clock.now += 20  # continuous refill: one request back after 60 s / 3
        assert create(c, max_completion_tokens=50).choices
        assert fake.calls[-2].status == 429 and fake.calls[-1].status == 200


def test_token_limit_and_request_too_large() -> None:
    clock = ManualClock(1000.0)
    with FakeProvider(tpm=1000, period=10.0, clock=clock):
        c = client()
        create(c, max_tokens=900)
        with pytest.raises(openai.RateLimitError) as info:
            create(c, max_tokens=900)
        assert info.value.type == "tokens"
        assert "tokens per 10s (TPM): Limit 1000" in info.value.message
        with pytest.raises(openai.RateLimitError) as info:
            create(c, max_tokens=5000)
        assert "Request too large" in info.value.message
        assert "retry-after" not in info.value.response.headers


def test_keys_have_separate_buckets() -> None:
    with FakeProvider(rpm=1, clock=ManualClock(1000.0)):
        create(client())
        other = openai.OpenAI(api_key="sk-other-key-000000000", max_retries=0)
        assert create(other).choices
        with pytest.raises(openai.RateLimitError):
            create(client())


def test_developer_and_system_messages_steer_the_answer_like_anthropics_system() -> None:
    question = {"role": "user", "content": "What is the capital of France?"}
    with FakeProvider():
        client = openai.OpenAI(api_key="sk-test")
        plain = client.chat.completions.create(model="gpt-5.4-mini", messages=[question])
        for role in ("developer", "system"):
            brief = client.chat.completions.create(
                model="gpt-5.4-mini",
                messages=[{"role": role, "content": "Answer in one word."}, question],
            )
            assert brief.choices[0].message.content == "Paris."
    assert plain.choices[0].message.content != "Paris."


def test_an_async_stream_body_is_played_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Regression: closing an async response asked the body for a second iterator, and the fake
    # replayed every chunk (with its delays) after [DONE], like a socket never would.
    from course_helpers.fake import respx_adapter

    sent: list[bytes] = []
    play = respx_adapter.Playback.__aiter__

    async def recording(self: respx_adapter.Playback) -> Any:
        async for data in play(self):
            sent.append(data)
            yield data

    monkeypatch.setattr(respx_adapter.Playback, "__aiter__", recording)

    async def run() -> int:
        client = openai.AsyncOpenAI(api_key="sk-test", max_retries=0)
        stream = await client.chat.completions.create(model=MODEL, messages=ASK, stream=True)
        return len([chunk async for chunk in stream])

    with FakeProvider(ttft=0.01):
        chunks = asyncio.run(run())
    assert chunks > 2
    assert sent.count(b"data: [DONE]\n\n") == 1
