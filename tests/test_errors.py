"""The exception tree and ``classify``: real SDK exceptions in, the course's errors out.

Exceptions are built the way the SDKs build them (their own ``_make_status_error`` factories on a
real ``httpx2.Response``), and a few are produced end-to-end by the real clients through respx.
"""

from __future__ import annotations

import inspect
import json
import pickle
from typing import Any

import anthropic
import httpcore2
import httpx
import httpx2
import openai
import pytest
import respx
from support import ANTHROPIC_URL, OPENAI_URL, anthropic_error, openai_error

from course_helpers import errors
from course_helpers.errors import (
    AuthenticationError,
    BudgetExceededError,
    ConflictError,
    ConnectionFailedError,
    ContextLengthError,
    InvalidRequestError,
    LLMError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    classify,
    parse_retry_after,
    redact,
)
from course_helpers.providers import translate_errors
from course_helpers.retry import RetryPolicy, call_with_retry

# ------------------------------------------------------------------------------- the tree


def test_tree_is_drawn_in_the_module_docstring() -> None:
    classes = [
        obj
        for obj in vars(errors).values()
        if inspect.isclass(obj) and issubclass(obj, LLMError) and obj is not LLMError
    ]
    contract = {  # DESIGN.md section 7
        "LLMError",
        "RateLimitError",
        "QuotaExceededError",
        "OverloadedError",
        "ServerError",
        "AuthenticationError",
        "InvalidRequestError",
        "ContextLengthError",
        "NotFoundError",
        "BudgetExceededError",
        "classify",
    }
    assert contract <= set(errors.__all__)
    for cls in classes:
        assert cls.__name__ in (errors.__doc__ or ""), f"{cls.__name__} missing from the tree"


def test_hierarchy_and_defaults() -> None:
    assert issubclass(ContextLengthError, InvalidRequestError)
    assert issubclass(BudgetExceededError, LLMError)
    assert RequestTimeoutError is not TimeoutError and not issubclass(
        RequestTimeoutError, TimeoutError
    )
    retriable = {cls for cls in vars(errors).values() if inspect.isclass(cls)} & {
        RateLimitError,
        OverloadedError,
        ServerError,
        RequestTimeoutError,
        ConnectionFailedError,
        ConflictError,
    }
    assert all(cls("x").retriable for cls in retriable)
    for cls in (
        LLMError,
        QuotaExceededError,
        AuthenticationError,
        PermissionDeniedError,
        InvalidRequestError,
        ContextLengthError,
        NotFoundError,
        BudgetExceededError,
    ):
        assert cls("x").retriable is False, cls


def test_attributes_and_repr() -> None:
    error = RateLimitError("slow down", provider="openai", status=429, retry_after=2.0)
    assert (error.provider, error.status, error.retry_after, error.request_id) == (
        "openai",
        429,
        2.0,
        None,
    )
    assert error.attempts == 1 and error.waited == 0.0
    assert "status=429" in repr(error) and "RateLimitError" in repr(error)
    assert RateLimitError("x", retriable=False).retriable is False


def test_errors_survive_pickling() -> None:  # e.g. raised in a ProcessPoolExecutor worker
    error = classify(
        openai_error(
            400,
            {
                "code": "context_length_exceeded",
                "message": "maximum context length is 10 tokens. However, your messages "
                "resulted in 12 tokens.",
            },
            headers={"x-request-id": "req_p"},
        )
    )
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is ContextLengthError
    assert (copy.provider, copy.status, copy.request_id, copy.tokens_over) == (
        "openai",
        400,
        "req_p",
        2,
    )
    assert str(copy) == str(error)


def test_budget_exceeded_carries_its_numbers() -> None:
    error = BudgetExceededError(
        "daily budget reached", period="daily", limit=1000, used=990, requested=50, unit="tokens"
    )
    assert (error.period, error.limit, error.used, error.requested, error.unit) == (
        "daily",
        1000,
        990,
        50,
        "tokens",
    )
    assert error.retriable is False
    assert classify(error) is error


# ------------------------------------------------------------------------------- openai


@pytest.mark.parametrize(
    ("status", "error", "expected", "retriable"),
    [
        (429, {"type": "requests", "code": "rate_limit_exceeded"}, RateLimitError, True),
        (
            429,
            {"type": "insufficient_quota", "code": "insufficient_quota"},
            QuotaExceededError,
            False,
        ),
        (429, {"type": "insufficient_quota", "code": None}, QuotaExceededError, False),
        (
            429,
            {"type": "insufficient_quota", "code": "credit_balance_exhausted"},
            QuotaExceededError,
            False,
        ),
        (429, {"code": "organization_spend_limit_exceeded"}, QuotaExceededError, False),
        (429, {"code": "project_spend_limit_exceeded"}, QuotaExceededError, False),
        (429, {"code": "organization_usage_limit_exceeded"}, QuotaExceededError, False),
        (
            400,
            {"type": "invalid_request_error", "param": "temperature"},
            InvalidRequestError,
            False,
        ),
        (
            401,
            {"type": "invalid_request_error", "code": "invalid_api_key"},
            AuthenticationError,
            False,
        ),
        (401, {"type": "invalid_request_error"}, AuthenticationError, False),
        (403, {}, PermissionDeniedError, False),
        (404, {"code": "model_not_found"}, NotFoundError, False),
        (408, {}, RequestTimeoutError, True),
        (409, {}, ConflictError, True),
        (422, {}, InvalidRequestError, False),
        (500, {"type": "server_error"}, ServerError, True),
        (502, {}, ServerError, True),
        (503, {"message": "The engine is currently overloaded"}, ServerError, True),
    ],
)
def test_openai_status_errors(
    status: int, error: dict[str, Any], expected: type[LLMError], retriable: bool
) -> None:
    exc = openai_error(status, error, headers={"x-request-id": "req_abc"})
    result = classify(exc)
    assert type(result) is expected
    assert result.retriable is retriable
    assert (result.provider, result.status, result.request_id) == ("openai", status, "req_abc")
    assert result.__cause__ is exc


def test_openai_quota_message_says_what_to_do() -> None:
    exc = openai_error(
        429,
        {
            "type": "insufficient_quota",
            "code": "insufficient_quota",
            "message": "You exceeded your current quota",
        },
        headers={"retry-after": "1", "x-should-retry": "true"},
    )
    result = classify(exc)
    assert isinstance(result, QuotaExceededError)
    assert (
        result.retriable is False
    )  # neither retry-after nor x-should-retry make it worth retrying
    text = str(result)
    assert text.startswith("OpenAI says the account is out of credit or over its spend limit")
    assert "insufficient_quota" in text
    assert "Retrying will not help" in text
    assert "https://platform.openai.com/settings/organization/billing" in text
    assert "setup(mode='offline')" in text
    assert "You exceeded your current quota" in text


def test_openai_rate_limit_reads_retry_after_headers() -> None:
    both = openai_error(
        429, {"code": "rate_limit_exceeded"}, {"retry-after-ms": "250", "retry-after": "9"}
    )
    seconds = openai_error(429, {"code": "rate_limit_exceeded"}, {"retry-after": "1.5"})
    none = openai_error(429, {"code": "rate_limit_exceeded"})
    assert classify(both).retry_after == 0.25
    assert classify(seconds).retry_after == 1.5
    assert classify(none).retry_after is None
    assert "wait the 1.5 s it asked for" in str(classify(seconds))


def test_openai_rate_limit_falls_back_to_the_wait_in_its_message() -> None:
    seconds = openai_error(
        429,
        {
            "code": "rate_limit_exceeded",
            "message": (
                "Rate limit reached for gpt-4o-mini on tokens per min (TPM): Limit 30000, "
                "Used 29000, Requested 1500. Please try again in 8.71s."
            ),
        },
    )
    millis = openai_error(
        429, {"code": "rate_limit_exceeded", "message": "Please try again in 20ms."}
    )
    assert classify(seconds).retry_after == 8.71
    assert classify(millis).retry_after == pytest.approx(0.02)


def test_openai_request_larger_than_the_tpm_limit_is_not_retriable() -> None:
    exc = openai_error(
        429,
        {
            "type": "tokens",
            "code": "rate_limit_exceeded",
            "message": (
                "Request too large for gpt-4 in organization org-x on tokens per min (TPM): "
                "Limit 10000, Requested 15000."
            ),
        },
    )
    result = classify(exc)
    assert type(result) is InvalidRequestError
    assert result.retriable is False


def test_openai_context_length() -> None:
    exc = openai_error(
        400,
        {
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
            "message": (
                "This model's maximum context length is 128000 tokens. However, your messages "
                "resulted in 130001 tokens. Please reduce the length of the messages."
            ),
        },
    )
    result = classify(exc)
    assert isinstance(result, ContextLengthError)
    assert (result.limit, result.requested, result.tokens_over) == (128000, 130001, 2001)
    assert "2001 too many" in str(result)
    assert result.retriable is False


def test_openai_context_length_requested_variant() -> None:
    exc = openai_error(
        400,
        {
            "message": (
                "This model's maximum context length is 4097 tokens, however you requested 4294 "
                "tokens (4000 in the messages, 294 in the completion)."
            ),
        },
    )
    result = classify(exc)
    assert isinstance(result, ContextLengthError)
    assert result.tokens_over == 197


def test_openai_other_400_is_not_context_length() -> None:
    result = classify(
        openai_error(400, {"param": "temperature", "message": "temperature must be <= 2"})
    )
    assert type(result) is InvalidRequestError
    assert "(parameter: temperature)" in str(result)


def test_openai_in_stream_error_without_status() -> None:
    body = {
        "message": "The server had an error",
        "type": "server_error",
        "param": None,
        "code": None,
    }
    exc = openai.APIError("The server had an error", httpx2.Request("POST", OPENAI_URL), body=body)
    result = classify(exc)
    assert type(result) is ServerError
    assert result.retriable is True
    assert result.status is None
    assert "mid-stream" in str(result)


@pytest.mark.parametrize(
    ("header", "status", "retriable"),
    [("false", 500, False), ("true", 400, True), ("false", 429, False)],
)
def test_x_should_retry_header_overrides(header: str, status: int, retriable: bool) -> None:
    exc = openai_error(status, {}, headers={"x-should-retry": header})
    assert classify(exc).retriable is retriable


def test_unknown_status_is_a_plain_error_naming_the_type() -> None:
    result = classify(openai_error(418, {"message": "I'm a teapot"}))
    assert type(result) is LLMError
    assert result.retriable is False
    assert "APIStatusError" in str(result) and "I'm a teapot" in str(result)


def test_authentication_message_names_the_env_var_and_hides_the_key() -> None:
    secret = "sk-proj-Abc123Def456Ghi789Jkl"
    exc = openai_error(
        401,
        {
            "code": "invalid_api_key",
            "message": f"Incorrect API key provided: {secret}. You can find your API key at https://platform.openai.com/account/api-keys.",
        },
    )
    text = str(classify(exc))
    assert "OPENAI_API_KEY" in text and ".env" in text and "setup(mode='offline')" in text
    assert "Abc123Def456" not in text


def test_missing_openai_key_at_construction() -> None:
    with pytest.raises(openai.OpenAIError) as info:
        openai.OpenAI()
    result = classify(info.value)
    assert type(result) is AuthenticationError
    assert "OPENAI_API_KEY" in str(result)


# ------------------------------------------------------------------------------- anthropic


@pytest.mark.parametrize(
    ("status", "error_type", "error_code", "expected", "retriable"),
    [
        (429, "rate_limit_error", None, RateLimitError, True),
        (429, "rate_limit_error", "ramp_limit_exceeded", RateLimitError, True),
        (429, "rate_limit_error", "enforced_spend_limit_reached", QuotaExceededError, False),
        (429, "rate_limit_error", "contract_spend_limit_reached", QuotaExceededError, False),
        (402, "billing_error", None, QuotaExceededError, False),
        (529, "overloaded_error", None, OverloadedError, True),
        (500, "api_error", None, ServerError, True),
        (503, "api_error", None, ServerError, True),
        (504, "timeout_error", None, RequestTimeoutError, True),
        (401, "authentication_error", None, AuthenticationError, False),
        (403, "permission_error", None, PermissionDeniedError, False),
        (404, "not_found_error", None, NotFoundError, False),
        (413, "request_too_large", None, InvalidRequestError, False),
        (400, "invalid_request_error", None, InvalidRequestError, False),
        # The generic type does not override a status the SDKs retry.
        (408, "invalid_request_error", None, RequestTimeoutError, True),
        (409, "invalid_request_error", None, ConflictError, True),
    ],
)
def test_anthropic_status_errors(
    status: int,
    error_type: str,
    error_code: str | None,
    expected: type[LLMError],
    retriable: bool,
) -> None:
    exc = anthropic_error(
        status, error_type, error_code=error_code, headers={"request-id": "req_01"}
    )
    result = classify(exc)
    assert type(result) is expected
    assert result.retriable is retriable
    assert (result.provider, result.status, result.request_id) == ("anthropic", status, "req_01")
    assert result.__cause__ is exc


def test_anthropic_spend_limit_is_quota_even_though_the_sdk_says_rate_limit() -> None:
    exc = anthropic_error(
        429,
        "rate_limit_error",
        error_code="enforced_spend_limit_reached",
        headers={"retry-after": "5"},
    )
    assert isinstance(exc, anthropic.RateLimitError)  # what the SDK says
    result = classify(exc)
    assert isinstance(result, QuotaExceededError)
    assert result.code == "enforced_spend_limit_reached"
    assert "https://console.anthropic.com/settings/billing" in str(result)


def test_anthropic_in_stream_overloaded_is_overloaded() -> None:
    body = {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
        "request_id": "req_s",
    }
    response = httpx2.Response(200, request=httpx2.Request("POST", ANTHROPIC_URL))
    exc = anthropic.APIStatusError(str(body), response=response, body=body)
    result = classify(exc)
    assert type(result) is OverloadedError
    assert result.retriable is True
    assert result.status is None  # a 200 is not the error's status
    assert result.request_id == "req_s"


@pytest.mark.parametrize(
    ("message", "limit", "requested"),
    [
        ("prompt is too long: 208656 tokens > 200000 maximum", 200000, 208656),
        (
            "input length and `max_tokens` exceed context limit: 195000 + 8192 > 200000, "
            "decrease input length or `max_tokens` and try again",
            200000,
            203192,
        ),
    ],
)
def test_anthropic_context_length(message: str, limit: int, requested: int) -> None:
    result = classify(anthropic_error(400, "invalid_request_error", message))
    assert isinstance(result, ContextLengthError)
    assert (result.limit, result.requested) == (limit, requested)
    assert f"{requested - limit} too many" in str(result)


def test_anthropic_authentication_names_its_env_var() -> None:
    result = classify(anthropic_error(401, "authentication_error", "invalid x-api-key"))
    assert "ANTHROPIC_API_KEY" in str(result)


# ------------------------------------------------------------------------------- transport


def test_sdk_timeouts_and_connection_errors() -> None:
    request = httpx2.Request("POST", OPENAI_URL)
    timeout = classify(openai.APITimeoutError(request=request))
    assert (
        type(timeout) is RequestTimeoutError and timeout.retriable and timeout.provider == "openai"
    )

    cause = httpx2.ConnectError("[Errno 111] Connection refused", request=request)
    connection = anthropic.APIConnectionError(request=httpx2.Request("POST", ANTHROPIC_URL))
    connection.__cause__ = cause
    result = classify(connection)
    assert type(result) is ConnectionFailedError and result.retriable
    assert result.provider == "anthropic"
    assert "Connection refused" in str(result)


def test_raw_httpx2_errors_from_anthropic_streams() -> None:
    request = httpx2.Request("POST", ANTHROPIC_URL)
    read_timeout = classify(httpx2.ReadTimeout("timed out", request=request))
    dropped = classify(
        httpx2.RemoteProtocolError(
            "peer closed connection without sending complete message body", request=request
        )
    )
    assert type(read_timeout) is RequestTimeoutError and read_timeout.provider == "anthropic"
    assert type(dropped) is ConnectionFailedError and dropped.retriable
    assert "peer closed connection" in str(dropped)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (httpx2.ReadTimeout("timed out"), RequestTimeoutError),
        (httpx2.RemoteProtocolError("peer closed connection"), ConnectionFailedError),
        (httpcore2.RemoteProtocolError("peer closed connection"), ConnectionFailedError),
        (httpx.ConnectError("refused"), ConnectionFailedError),
        (TimeoutError("timed out"), RequestTimeoutError),
        (ConnectionResetError("reset by peer"), ConnectionFailedError),
    ],
)
def test_network_errors_without_a_provider(exc: Exception, expected: type[LLMError]) -> None:
    result = classify(exc)
    assert type(result) is expected
    assert result.provider is None and result.retriable
    assert result.__cause__ is exc


def test_unknown_exception_is_not_retriable_and_names_its_type() -> None:
    exc = ValueError("something odd")
    result = classify(exc)
    assert type(result) is LLMError
    assert result.retriable is False
    assert "ValueError" in str(result) and "something odd" in str(result)
    assert result.__cause__ is exc


def test_llm_errors_pass_through_unchanged() -> None:
    error = OverloadedError("busy", provider="anthropic")
    assert classify(error) is error


# ------------------------------------------------------------------------------- helpers


def test_parse_retry_after() -> None:
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    assert parse_retry_after({"retry-after": "2"}) == 2.0
    assert parse_retry_after({"retry-after-ms": "bad", "retry-after": "3"}) == 3.0
    assert parse_retry_after({}) is None
    assert parse_retry_after({"retry-after": "-1"}) is None
    assert parse_retry_after({"retry-after": "soon"}) is None
    date = "Wed, 21 Oct 2015 07:28:05 GMT"  # 1445412485
    assert parse_retry_after({"retry-after": date}, now=lambda: 1445412480.0) == 5.0
    assert parse_retry_after({"retry-after": date}, now=lambda: 1445412490.0) == 0.0


def test_redact() -> None:
    assert "1234567890" not in redact("key sk-1234567890abcdef and sk-ant-api03-1234567890xyz")
    assert redact("no key here") == "no key here"
    assert "1234567890" not in str(LLMError("leaked sk-proj-1234567890abcdef"))


# ------------------------------------------------------------------------------- end to end


@pytest.fixture
def router() -> Any:
    with respx.mock(using="httpcore2", assert_all_called=False) as mock:
        yield mock


def sse(*frames: str) -> httpx.Response:
    return httpx.Response(
        200,
        headers={"content-type": "text/event-stream"},
        content="".join(frame + "\n\n" for frame in frames).encode(),
    )


CHUNK = json.dumps(
    {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": {"content": "Hel"}, "finish_reason": None}],
    }
)
SERVER_ERROR = {
    "message": "The server had an error while processing your request.",
    "type": "server_error",
    "param": None,
    "code": None,
}
MESSAGE_START = json.dumps(
    {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-haiku-4-5",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 3, "output_tokens": 0},
        },
    }
)
OVERLOADED = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}


def test_e2e_openai_quota(router: Any) -> None:
    router.post(path__regex=r"/chat/completions$").mock(
        return_value=httpx.Response(
            429,
            headers={"x-request-id": "req_q", "retry-after": "20"},
            json={
                "error": {
                    "message": "You exceeded your current quota",
                    "type": "insufficient_quota",
                    "param": None,
                    "code": "insufficient_quota",
                }
            },
        )
    )
    client = openai.OpenAI(api_key="sk-test", max_retries=0)
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    result = classify(info.value)
    assert type(result) is QuotaExceededError
    assert (result.request_id, result.retriable, result.status) == ("req_q", False, 429)


def test_e2e_openai_in_stream_error_frame(router: Any) -> None:
    router.post(path__regex=r"/chat/completions$").mock(
        return_value=sse(
            f"data: {CHUNK}",
            f"data: {json.dumps({'error': SERVER_ERROR})}",
        )
    )
    client = openai.OpenAI(api_key="sk-test", max_retries=0)
    received = []
    with pytest.raises(openai.APIError) as info:
        for chunk in client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
        ):
            received.append(chunk.choices[0].delta.content)
    assert received == ["Hel"]
    assert not isinstance(info.value, openai.APIStatusError)
    result = classify(info.value)
    assert type(result) is ServerError and result.retriable and result.provider == "openai"


def test_e2e_anthropic_in_stream_overloaded(router: Any) -> None:
    router.post(path__regex=r"/v1/messages$").mock(
        return_value=sse(
            f"event: message_start\ndata: {MESSAGE_START}",
            f"event: error\ndata: {json.dumps({**OVERLOADED, 'request_id': 'req_e'})}",
        )
    )
    client = anthropic.Anthropic(api_key="sk-ant-test", max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as info:
        for _ in client.messages.create(
            model="claude-haiku-4-5",
            max_tokens=10,
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
        ):
            pass
    assert info.value.status_code == 200
    result = classify(info.value)
    assert type(result) is OverloadedError and result.retriable
    assert result.request_id == "req_e"


def test_e2e_anthropic_529_and_ramp_limit(router: Any) -> None:
    route = router.post(path__regex=r"/v1/messages$")
    route.side_effect = [
        httpx.Response(
            529,
            json={"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
        ),
        httpx.Response(
            429,
            headers={"retry-after": "3", "request-id": "req_r"},
            json={
                "type": "error",
                "error": {
                    "type": "rate_limit_error",
                    "message": "ramping",
                    "details": {"error_code": "ramp_limit_exceeded"},
                },
            },
        ),
    ]
    client = anthropic.Anthropic(api_key="sk-ant-test", max_retries=0)
    results = []
    for _ in range(2):
        with pytest.raises(anthropic.APIStatusError) as info:
            client.messages.create(
                model="claude-haiku-4-5",
                max_tokens=10,
                messages=[{"role": "user", "content": "hi"}],
            )
        results.append(classify(info.value))
    overloaded, ramp = results
    assert type(overloaded) is OverloadedError and overloaded.status == 529
    assert type(ramp) is RateLimitError and ramp.retry_after == 3.0 and ramp.request_id == "req_r"


def test_e2e_x_should_retry_false(router: Any) -> None:
    router.post(path__regex=r"/chat/completions$").mock(
        return_value=httpx.Response(
            503,
            headers={"x-should-retry": "false"},
            json={
                "error": {"message": "down", "type": "server_error", "param": None, "code": None}
            },
        )
    )
    client = openai.OpenAI(api_key="sk-test")  # SDK retries on: the header stops them too
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    assert router.calls.call_count == 1
    result = classify(info.value)
    assert type(result) is ServerError and result.retriable is False


def test_e2e_anthropic_without_credentials(router: Any) -> None:
    client = anthropic.Anthropic(max_retries=0)
    with pytest.raises(TypeError) as info:
        client.messages.create(
            model="claude-haiku-4-5", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )
    result = classify(info.value)
    assert type(result) is AuthenticationError
    assert "ANTHROPIC_API_KEY" in str(result)


# ------------------------------------------------------------- is this an API failure? one answer
# The translation (translate_errors) and the retry layer (call_with_retry) both ask is_api_failure;
# these are the two cases where they once answered differently.


def _translated(fn: Any) -> None:
    with translate_errors("anthropic"):
        fn()


def _retried(fn: Any) -> None:
    call_with_retry(fn, RetryPolicy(max_attempts=3, deadline=None), sleep=lambda _: None)


LAYERS = pytest.mark.parametrize(
    "layer", [_translated, _retried], ids=["translate_errors", "call_with_retry"]
)


@LAYERS
def test_a_missing_file_is_a_bug_for_both_layers(layer: Any, tmp_path: Any) -> None:
    missing = tmp_path / "prompt.txt"
    with pytest.raises(FileNotFoundError) as info:  # unchanged, so the traceback shows the path
        layer(missing.read_text)
    assert str(missing) in str(info.value)
    assert not errors.is_api_failure(info.value)


@LAYERS
def test_anthropic_without_credentials_is_an_authentication_error_for_both_layers(
    layer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    # A closed loopback port: should the SDK ever send instead of raising, nothing leaves the host.
    client = anthropic.Anthropic(base_url="http://127.0.0.1:9", max_retries=0)
    sent: list[int] = []

    def ask() -> None:
        sent.append(1)
        client.messages.create(
            model="claude-haiku-4-5", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )

    with pytest.raises(AuthenticationError) as info:
        layer(ask)
    assert isinstance(info.value.__cause__, TypeError)
    assert "Could not resolve authentication method" in str(info.value.__cause__)
    assert "ANTHROPIC_API_KEY" in str(info.value) and info.value.provider == "anthropic"
    assert sent == [1]  # a missing key is not retried


# ------------------------------------------------------------------------ through FakeProvider


@pytest.mark.parametrize(
    ("provider", "fault", "expected", "retriable"),
    [
        ("openai", {"status": 429, "retry_after_ms": 5}, RateLimitError, True),
        ("openai", {"quota": True}, QuotaExceededError, False),
        ("openai", {"context_length": True}, ContextLengthError, False),
        ("openai", {"drop": True}, ConnectionFailedError, True),
        ("anthropic", {"status": 529}, OverloadedError, True),
        ("anthropic", {"quota": True}, QuotaExceededError, False),
        ("anthropic", {"context_length": True}, ContextLengthError, False),
        ("anthropic", {"status": 401}, AuthenticationError, False),
    ],
)
def test_fake_provider_faults(
    provider: str, fault: dict[str, Any], expected: type[LLMError], retriable: bool
) -> None:
    from course_helpers.fake import FakeProvider

    messages = [{"role": "user", "content": "hi"}]
    with FakeProvider() as fake:
        fake.fail_next(provider=provider, **fault)
        with pytest.raises(Exception) as info:
            if provider == "openai":
                openai.OpenAI(api_key="sk-test", max_retries=0).chat.completions.create(
                    model="gpt-4o-mini", messages=messages
                )
            else:
                anthropic.Anthropic(api_key="sk-ant-test", max_retries=0).messages.create(
                    model="claude-haiku-4-5", max_tokens=20, messages=messages
                )
    result = classify(info.value)
    assert type(result) is expected
    assert result.retriable is retriable
    assert result.provider == provider
    if isinstance(result, ContextLengthError):
        assert result.tokens_over is not None and result.tokens_over > 0


def test_anthropics_credit_balance_400_is_an_exhausted_quota() -> None:
    import anthropic
    import httpx2

    from course_helpers.errors import QuotaExceededError, classify

    body = {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "Your credit balance is too low to access the Anthropic API. Please go to "
            "Plans & Billing to upgrade or purchase credits.",
        },
    }
    request = httpx2.Request("POST", "https://api.anthropic.com/v1/messages")
    exc = anthropic.BadRequestError(
        "Error code: 400", response=httpx2.Response(400, json=body, request=request), body=body
    )
    error = classify(exc)
    assert isinstance(error, QuotaExceededError)
    assert error.retriable is False and error.status == 400
