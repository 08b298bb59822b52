"""The simulated provider against the real anthropic SDK (strict validation, sync and async)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import anthropic
import httpx2
import pytest
from support import ManualClock, cached_strict_client, strict_client

from course_helpers.catalog import get_model, list_models
from course_helpers.fake import FakeProvider, respx_adapter
from course_helpers.tokens import estimate_tokens, split_tokens

KEY = "sk-ant-FAKE-for-tests-wxyz"  # made up: obviously not a real key
MODEL = "claude-haiku-5-5"
ASK = [{"role": "user", "content": "Explain exponential backoff for API retries"}]
SYSTEM = "You are a patient teacher."


pytestmark = pytest.mark.fake(seed=5)  # the `fake` fixture (conftest.py)


def client(**options: Any) -> anthropic.Anthropic:
    return cached_strict_client(anthropic.Anthropic, KEY, **options)


def aclient(**options: Any) -> anthropic.AsyncAnthropic:
    return strict_client(anthropic.AsyncAnthropic, KEY, **options)


def create(c: anthropic.Anthropic, **params: Any) -> Any:
    params.setdefault("model", MODEL)
    params.setdefault("messages", ASK)
    params.setdefault("max_tokens", 400)
    return c.messages.create(**params)


# ----------------------------------------------------------------------------- success shapes
def test_message_shape_usage_and_call_log(fake: FakeProvider) -> None:
    message = create(client(), system=SYSTEM)
    assert message.type == "message" and message.role == "assistant"
    assert message.id.startswith("msg_01") and message.model == MODEL
    assert message.stop_reason == "end_turn" and message.stop_sequence is None
    [block] = message.content
    assert block.type == "text" and block.text
    assert message.usage.input_tokens == estimate_tokens(ASK, system=SYSTEM)
    assert message.usage.output_tokens == len(split_tokens(block.text))
    [call] = fake.calls
    assert (call.provider, call.path, call.status, call.model) == (
        "anthropic",
        "/v1/messages",
        200,
        MODEL,
    )
    assert call.body["system"] == SYSTEM and call.request_id == message._request_id
    assert KEY not in str(call.headers) and call.headers["authorization"] == "Bearer sk-…wxyz"


def test_x_api_key_header_is_accepted(fake: FakeProvider) -> None:
    response = httpx2.post(
        "https://api.anthropic.com/v1/messages",
        headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"},
        json={"model": MODEL, "max_tokens": 20, "messages": ASK},
    )
    assert response.status_code == 200 and response.json()["type"] == "message"
    assert fake.calls[-1].headers["x-api-key"] == "sk-…wxyz"


def test_async_messages(fake: FakeProvider) -> None:
    async def main() -> list[Any]:
        c = aclient()
        calls = [c.messages.create(model=MODEL, max_tokens=50, messages=ASK) for _ in range(3)]
        return list(await asyncio.gather(*calls))

    assert all(m.content[0].text for m in asyncio.run(main()))
    assert len(fake.calls) == 3


def test_raw_response_headers() -> None:
    wall = 1_700_000_000.0  # frozen clocks: the remaining counts and reset time cannot drift
    with FakeProvider(seed=5, clock=ManualClock(1000.0), wall_clock=lambda: wall):
        raw = client().messages.with_raw_response.create(model=MODEL, max_tokens=100, messages=ASK)
    headers = raw.headers
    assert raw.request_id == headers["request-id"] and headers["request-id"].startswith("req_")
    assert headers["anthropic-organization-id"]
    assert headers["anthropic-ratelimit-requests-limit"] == "4000"
    assert headers["anthropic-ratelimit-requests-remaining"] == "3999"
    assert headers["anthropic-ratelimit-output-tokens-remaining"] == str(400_000 - 100)
    input_left = 2_000_000 - estimate_tokens(ASK)
    assert headers["anthropic-ratelimit-input-tokens-remaining"] == str(input_left)
    # "tokens" reports the most restrictive token limit: here the output bucket
    assert headers["anthropic-ratelimit-tokens-remaining"] == str(400_000 - 100)
    reset = datetime.strptime(headers["anthropic-ratelimit-requests-reset"], "%Y-%m-%dT%H:%M:%SZ")
    # One request of 4,000 a minute refills in 15 ms; the header rounds up to the next second.
    assert reset.replace(tzinfo=UTC).timestamp() == wall + 1
    assert raw.parse().content[0].text


def test_count_tokens(fake: FakeProvider) -> None:
    counted = client().messages.count_tokens(model=MODEL, messages=ASK, system=SYSTEM)
    assert counted.input_tokens == estimate_tokens(ASK, system=SYSTEM)
    assert create(client(), system=SYSTEM).usage.input_tokens == counted.input_tokens
    raw = client().messages.with_raw_response.count_tokens(model=MODEL, messages=ASK)
    assert raw.headers["request-id"] and raw.parse().input_tokens == estimate_tokens(ASK)


def test_models_list_paginates_and_retrieve(fake: FakeProvider) -> None:
    c = client()
    ids = [m.id for m in c.models.list(limit=7)]  # auto-pagination over 7-item pages
    expected = {m.id for m in list_models("anthropic")}
    assert len(ids) == len(expected) and set(ids) == expected
    page = c.models.list(limit=2)
    assert page.has_more and page.last_id == page.data[-1].id and len(page.data) == 2
    model = c.models.retrieve("claude-sonnet-5-5")
    assert model.display_name == "Claude Sonnet 5.5" and model.type == "model"
    with pytest.raises(anthropic.NotFoundError):
        c.models.retrieve("claude-imaginary-9")


def test_a_base_url_the_course_set_up_reaches_the_fake(fake: FakeProvider) -> None:
    respx_adapter.answer_at("http://fake.test/proxy")
    try:
        message = create(client(base_url="http://fake.test/proxy"))
    finally:
        respx_adapter.forget("http://fake.test/proxy")
    assert message.content[0].text and fake.calls[-1].path == "/v1/messages"


def test_a_learners_own_base_url_is_left_alone(fake: FakeProvider) -> None:
    with pytest.raises(anthropic.APIConnectionError):  # nothing listens there: as without the fake
        create(client(base_url="http://127.0.0.1:9/proxy"))
    assert fake.calls == []


# ----------------------------------------------------------------------------- streaming
def test_raw_stream_event_order(fake: FakeProvider) -> None:
    full = create(client(), extra_body={"temperature": 0}).content[0].text
    events = list(create(client(), stream=True, extra_body={"temperature": 0}))
    types = [e.type for e in events]
    assert types[:2] == ["message_start", "content_block_start"]
    assert types[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    deltas = [e.delta.text for e in events if e.type == "content_block_delta"]
    assert deltas == split_tokens(full)
    assert events[0].message.usage.input_tokens == estimate_tokens(ASK)
    assert events[-2].usage.output_tokens == len(deltas)
    assert events[-2].delta.stop_reason == "end_turn"


def test_wire_stream_has_event_lines_and_ping(fake: FakeProvider) -> None:
    response = httpx2.post(
        "https://api.anthropic.com/v1/messages",
        headers={"authorization": f"Bearer {KEY}", "anthropic-version": "2023-06-01"},
        json={"model": MODEL, "max_tokens": 5, "messages": ASK, "stream": True},
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = response.text.split("\n\n")
    assert frames[-1] == ""
    names = [f.split("\n")[0] for f in frames[:-1]]
    assert all(name.startswith("event: ") for name in names)
    assert "event: ping" in names


def test_stream_helper_sync(fake: FakeProvider) -> None:
    with client().messages.stream(model=MODEL, max_tokens=300, messages=ASK) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
        assert stream.request_id == stream.response.headers["request-id"]
    assert text == final.content[0].text and final.stop_reason == "end_turn"
    assert final.usage.output_tokens == len(split_tokens(text))
    assert fake.calls[0].headers["x-stainless-helper-method"] == "stream"


def test_stream_helper_async(fake: FakeProvider) -> None:
    async def main() -> tuple[str, Any]:
        async with aclient().messages.stream(model=MODEL, max_tokens=300, messages=ASK) as stream:
            text = "".join([piece async for piece in stream.text_stream])
            return text, await stream.get_final_message()

    text, final = asyncio.run(main())
    assert text == final.content[0].text and final.usage.output_tokens > 0


def test_stream_arrives_incrementally() -> None:
    with FakeProvider(ttft=0.05, token_delay=0.005):
        started = time.perf_counter()
        arrivals = []
        for event in create(client(), stream=True, max_tokens=12):
            if event.type == "content_block_delta":
                arrivals.append(time.perf_counter() - started)
    assert len(arrivals) == 12 and arrivals[0] >= 0.045
    assert arrivals[-1] - arrivals[0] >= 11 * 0.005 * 0.9


# ----------------------------------------------------------------------------- text options
def test_temperature_zero_is_deterministic_else_varied(fake: FakeProvider) -> None:
    c = client()
    fixed = {create(c, extra_body={"temperature": 0}).content[0].text for _ in range(3)}
    assert len(fixed) == 1
    varied = {create(c).content[0].text for _ in range(4)}
    assert len(varied) > 1


def test_stop_sequences(fake: FakeProvider) -> None:
    full = create(client(), extra_body={"temperature": 0}).content[0].text
    stop = full.split()[2]
    message = create(client(), extra_body={"temperature": 0}, stop_sequences=[stop])
    assert message.stop_reason == "stop_sequence" and message.stop_sequence == stop
    assert message.content[0].text == full[: full.index(stop)]


def test_max_tokens_stop_reason(fake: FakeProvider) -> None:
    message = create(client(), max_tokens=4)
    assert message.stop_reason == "max_tokens" and message.usage.output_tokens == 4
    assert len(split_tokens(message.content[0].text)) == 4


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"extra_body": {"temperature": 1.5}}, "temperature: Input should be less than or equal"),
        ({"extra_body": {"top_p": -0.1}}, "top_p: Input should be greater than or equal to 0"),
        ({"extra_body": {"top_k": 0}}, "top_k: Input should be greater than or equal to 1"),
        ({"max_tokens": 0}, "max_tokens: Input should be greater than or equal to 1"),
        ({"messages": []}, "messages: at least one message is required"),
        ({"messages": [{"role": "system", "content": "x"}]}, 'Unexpected role "system"'),
        ({"messages": [{"role": "robot", "content": "x"}]}, "Input should be 'user' or"),
        (
            {"max_tokens": 64001, "timeout": 30},
            "max_tokens: 64001 > 64000, which is the maximum allowed number of output tokens "
            "for claude-haiku-5-5",
        ),
    ],
)
def test_parameter_validation(fake: FakeProvider, params: dict[str, Any], message: str) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        create(client(), **params)
    assert info.value.type == "invalid_request_error" and message in info.value.api_message
    assert info.value.body["type"] == "error" and info.value.request_id


def test_missing_max_tokens_over_plain_http(fake: FakeProvider) -> None:
    response = httpx2.post(
        "https://api.anthropic.com/v1/messages",
        headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"},
        json={"model": MODEL, "messages": ASK},
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "type": "invalid_request_error",
        "message": "max_tokens: Field required",
    }


def test_prompt_too_long(fake: FakeProvider) -> None:
    window = get_model(MODEL).context_window
    messages = [{"role": "user", "content": "word " * (window + 10)}]
    with pytest.raises(anthropic.BadRequestError) as info:
        create(client(), messages=messages, max_tokens=10)
    tokens = estimate_tokens(messages)
    assert info.value.api_message == f"prompt is too long: {tokens} tokens > {window} maximum"


def test_unknown_and_retired_models(fake: FakeProvider) -> None:
    with pytest.raises(anthropic.NotFoundError) as info:
        create(client(), model="claude-imaginary-9")
    assert info.value.type == "not_found_error"
    assert info.value.api_message == "model: claude-imaginary-9"
    with pytest.raises(anthropic.NotFoundError) as info:
        create(client(), model="claude-3-5-sonnet-20241022")
    assert info.value.api_message == (
        "The model 'claude-3-5-sonnet-20241022' was retired on 2025-10-22. "
        "Use 'claude-sonnet-5-5' instead."
    )


# ----------------------------------------------------------------------------- auth and routing
def test_auth_errors(fake: FakeProvider) -> None:
    with pytest.raises(anthropic.AuthenticationError) as info:
        anthropic.Anthropic(api_key="sk-proj-openai-key-1234", max_retries=0).messages.create(
            model=MODEL, max_tokens=10, messages=ASK
        )
    assert info.value.type == "authentication_error"
    assert info.value.api_message == "invalid x-api-key"
    missing = httpx2.post(
        "https://api.anthropic.com/v1/messages", headers={"anthropic-version": "2023-06-01"}
    )
    assert missing.status_code == 401
    assert missing.json()["error"]["type"] == "authentication_error"
    no_version = httpx2.post("https://api.anthropic.com/v1/messages", headers={"x-api-key": KEY})
    assert no_version.status_code == 400
    assert no_version.json()["error"]["message"] == "anthropic-version: header is required"


def test_unknown_path_on_anthropic_host(fake: FakeProvider) -> None:
    response = httpx2.get("https://api.anthropic.com/v1/nothing")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"
    assert response.headers["request-id"]


# ----------------------------------------------------------------------------- faults
def test_overloaded_529(fake: FakeProvider) -> None:
    fake.fail_next(529, retry_after=3)
    with pytest.raises(anthropic.OverloadedError) as info:
        create(client())
    assert info.value.status_code == 529 and info.value.type == "overloaded_error"
    assert info.value.response.headers["retry-after"] == "3"
    assert info.value.request_id == info.value.response.headers["request-id"]


@pytest.mark.parametrize(
    ("status", "exception", "error_type"),
    [
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (503, anthropic.ServiceUnavailableError, "api_error"),
        (400, anthropic.BadRequestError, "invalid_request_error"),
        (401, anthropic.AuthenticationError, "authentication_error"),
        (402, anthropic.PaymentRequiredError, "billing_error"),
    ],
)
def test_status_faults(
    fake: FakeProvider, status: int, exception: type[Exception], error_type: str
) -> None:
    fake.fail_next(status, retry_after_ms=5)
    with pytest.raises(exception) as info:
        create(client())
    assert info.value.status_code == status and info.value.type == error_type  # type: ignore[attr-defined]


def test_quota_is_spend_limit_error(fake: FakeProvider) -> None:
    fake.fail_next(quota=True)
    with pytest.raises(anthropic.EnforcedSpendLimitReachedError) as info:
        create(client())
    assert isinstance(info.value, anthropic.RateLimitError)
    assert info.value.error_code == "enforced_spend_limit_reached"


def test_sdk_retry_honours_retry_after_ms(
    fake: FakeProvider, sleeps_of_this_thread: Callable[..., list[float]]
) -> None:
    sdk = client(max_retries=2)
    create(sdk)
    slept = sleeps_of_this_thread()
    fake.fail_next(529, retry_after_ms=5)
    message = create(sdk)
    assert message.content[0].text
    assert slept == [0.005]  # the header's 5 ms, not the SDK's own 0.5-1 s backoff
    assert [(c.status, c.retry_count) for c in fake.calls[1:]] == [(529, 0), (200, 1)]


def test_in_stream_overloaded_error(fake: FakeProvider) -> None:
    fake.fail_next(mid_stream=True, after_tokens=2)
    received = []
    with (
        pytest.raises(anthropic.APIStatusError) as info,
        client(max_retries=2).messages.stream(model=MODEL, max_tokens=100, messages=ASK) as s,
    ):
        received.extend(s.text_stream)
    assert info.value.status_code == 200 and info.value.type == "overloaded_error"
    assert not isinstance(info.value, anthropic.OverloadedError)
    assert len(received) == 2 and len(fake.calls) == 1  # not retried


def test_hang_times_out(fake: FakeProvider) -> None:
    fake.fail_next(hang=True)
    with pytest.raises(anthropic.APITimeoutError):
        create(client(timeout=0.2))
    assert fake.calls[-1].fault == "hang"


def test_drop_is_connection_error(fake: FakeProvider) -> None:
    fake.fail_next(drop=True)
    with pytest.raises(anthropic.APIConnectionError) as info:
        create(client())
    assert not isinstance(info.value, anthropic.APITimeoutError)


def test_async_hang_is_timeout(fake: FakeProvider) -> None:
    async def main() -> None:
        await aclient(timeout=0.2).messages.create(model=MODEL, max_tokens=10, messages=ASK)

    fake.fail_next(hang=True)
    with pytest.raises(anthropic.APITimeoutError):
        asyncio.run(main())


# ----------------------------------------------------------------------------- rate limits
def test_requests_limit_headers_429_and_refill() -> None:
    clock = ManualClock(1000.0)
    with FakeProvider(rpm=2, clock=clock):
        c = client()
        remaining = [
            c.messages.with_raw_response.create(model=MODEL, max_tokens=10, messages=ASK).headers[
                "anthropic-ratelimit-requests-remaining"
            ]
            for _ in range(2)
        ]
        assert remaining == ["1", "0"]
        with pytest.raises(anthropic.RateLimitError) as info:
            create(c, max_tokens=10)
        assert info.value.type == "rate_limit_error"
        assert info.value.response.headers["retry-after"] == "30"
        assert info.value.response.headers["retry-after-ms"] == "30000"
        assert "of 2 requests per minute" in info.value.api_message
        clock.now += 30
        assert create(c, max_tokens=10).content


def test_output_token_limit_charged_at_max_tokens() -> None:
    with FakeProvider(output_tpm=1000, input_tpm=50_000, clock=ManualClock(1000.0)):
        c = client()
        raw = c.messages.with_raw_response.create(model=MODEL, max_tokens=600, messages=ASK)
        assert raw.headers["anthropic-ratelimit-output-tokens-remaining"] == "400"
        assert raw.headers["anthropic-ratelimit-tokens-remaining"] == "400"
        with pytest.raises(anthropic.RateLimitError) as info:
            create(c, max_tokens=600)
        assert "output tokens per minute" in info.value.api_message


def test_stream_hang_before_headers_is_retried_then_times_out(fake: FakeProvider) -> None:
    fake.fail_next(hang=True, times=2)
    with (
        pytest.raises(anthropic.APITimeoutError),
        client(max_retries=1, timeout=0.1).messages.stream(
            model=MODEL, max_tokens=10, messages=ASK
        ) as stream,
    ):
        list(stream.text_stream)
    assert [(c.fault, c.retry_count) for c in fake.calls] == [("hang", 0), ("hang", 1)]


def test_async_hang_does_not_block_other_requests(fake: FakeProvider) -> None:
    fake.fail_next(hang=True)

    async def main() -> tuple[bool, BaseException | None]:
        c = aclient(timeout=30)
        hanging = asyncio.ensure_future(
            c.messages.create(model=MODEL, max_tokens=5, messages=ASK, stream=True)
        )
        while not fake.calls:  # the hanging request is in
            await asyncio.sleep(0.001)
        await c.messages.create(model=MODEL, max_tokens=5, messages=ASK)
        still_hanging = not hanging.done()  # the quick answer did not wait for the hang
        hanging.cancel()
        outcome = (await asyncio.gather(hanging, return_exceptions=True))[0]
        return still_hanging, outcome if isinstance(outcome, BaseException) else None

    still_hanging, outcome = asyncio.run(main())
    assert still_hanging
    assert isinstance(outcome, asyncio.CancelledError)
    assert [call.fault for call in fake.calls] == ["hang", None]


def test_drop_mid_stream_escapes_raw(fake: FakeProvider) -> None:
    fake.fail_next(drop=True, after_tokens=2)
    received: list[str] = []
    with (
        pytest.raises(httpx2.RemoteProtocolError),
        client().messages.stream(model=MODEL, max_tokens=50, messages=ASK) as stream,
    ):
        received.extend(stream.text_stream)
    assert len(received) == 2


@pytest.mark.filterwarnings("ignore:The model .* is deprecated:DeprecationWarning")  # SDK 2.14
@pytest.mark.parametrize("model", ["claude-sonnet-4-5", "claude-sonnet-4-5-20250929"])
def test_claude_sonnet_4_5_is_retired_since_its_end_of_life(fake: FakeProvider, model: str) -> None:
    # The anthropic SDK gave its end of life as 30 November 2026 (2.14.0's deprecation table).
    with pytest.raises(anthropic.NotFoundError) as info:
        create(client(), model=model)
    assert info.value.api_message == (
        f"The model '{model}' was retired on 2026-11-30. Use 'claude-sonnet-5-5' instead."
    )
