"""LLMClient against the simulated provider, through the real openai and anthropic SDKs."""

from __future__ import annotations

import asyncio
import functools
import io
import json
import logging
from typing import Any

import anthropic
import openai
import pytest
from anthropic import Anthropic, AsyncAnthropic
from openai import OpenAI

from course_helpers import catalog
from course_helpers.budget import TokenBudget
from course_helpers.client import LLMClient, LLMResponse, parse_provider, resolve_target
from course_helpers.errors import (
    AuthenticationError,
    BudgetExceededError,
    ConnectionFailedError,
    InvalidRequestError,
    LLMError,
    NotFoundError,
    OverloadedError,
    QuotaExceededError,
    RequestTimeoutError,
    ServerError,
)
from course_helpers.fake import FakeProvider
from course_helpers.ratelimit import RateLimiter
from course_helpers.retry import RetryPolicy
from course_helpers.tokens import estimate_tokens
from course_helpers.usage import JsonFormatter, UsageLog

OPENAI_MODEL = "gpt-4o-mini"
ANTHROPIC_MODEL = "claude-haiku-5-5"
MODELS = {"openai": OPENAI_MODEL, "anthropic": ANTHROPIC_MODEL}
QUICK = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.01, deadline=None)


pytestmark = pytest.mark.fake(ttft=0.0, token_delay=0.0, seed=7)  # the `fake` fixture (conftest.py)


class Sleeps(list[float]):
    """An injected ``sleep`` that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.append(seconds)


@functools.cache
def sdk_clients() -> tuple[OpenAI, Anthropic]:
    """SDK clients shared by the tests (building one costs ~0.2 s); the active fake answers."""
    return OpenAI(api_key="sk-test"), Anthropic(api_key="sk-ant-test")


def make_client(provider: str = "openai", **options: Any) -> LLMClient:
    options.setdefault("openai_client", sdk_clients()[0])
    options.setdefault("anthropic_client", sdk_clients()[1])
    options.setdefault("retry", QUICK)
    options.setdefault("sleep", Sleeps())
    options.setdefault("async_sleep", Sleeps().asleep)
    options.setdefault("model", MODELS[provider])
    return LLMClient(provider, **options)


def generations(fake: FakeProvider) -> list[Any]:
    return [call for call in fake.calls if call.method == "POST"]


# ------------------------------------------------------------------------------ routing


def test_provider_is_inferred_from_the_model_name() -> None:
    assert LLMClient(model=ANTHROPIC_MODEL).provider == "anthropic"
    assert LLMClient(model=OPENAI_MODEL).provider == "openai"
    assert resolve_target(None, "claude-some-future-model") == (
        "anthropic",
        "claude-some-future-model",
    )


def test_provider_alone_gets_its_own_default_model_never_gpt_4o() -> None:
    client = LLMClient("anthropic")
    assert client.model == catalog.default_model("anthropic")
    assert catalog.provider_for(client.model) == "anthropic"
    assert LLMClient("OpenAI").model == catalog.default_model("openai")


def test_mismatched_or_unknown_names_are_refused_with_a_hint() -> None:
    with pytest.raises(ValueError, match="served by OpenAI"):
        LLMClient("anthropic", "gpt-4o")
    with pytest.raises(ValueError, match="provider="):
        LLMClient(model="my-local-llama")
    with pytest.raises(ValueError, match="'openai', 'anthropic'"):
        parse_provider("mistral")
    assert LLMClient("openai", "my-local-llama").provider == "openai"  # unknown name, told provider


def test_per_call_model_routes_to_its_provider(fake: FakeProvider) -> None:
    client = make_client("openai")
    reply = client.complete("Hi", model=ANTHROPIC_MODEL, max_tokens=20)
    assert reply.provider == "anthropic"
    assert generations(fake)[-1].provider == "anthropic"
    assert generations(fake)[-1].body["model"] == ANTHROPIC_MODEL


# ------------------------------------------------------------------------------ complete


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_complete_normalises_the_reply(fake: FakeProvider, provider: str) -> None:
    client = make_client(provider)
    reply = client.complete("Say hello", max_tokens=50, temperature=0)

    call = generations(fake)[-1]
    assert call.provider == provider and call.status == 200
    usage = dict(call.usage or {})
    if provider == "openai":
        assert (reply.input_tokens, reply.output_tokens) == (
            usage["prompt_tokens"],
            usage["completion_tokens"],
        )
        assert call.body["max_completion_tokens"] == 50
    else:
        assert (reply.input_tokens, reply.output_tokens) == (
            usage["input_tokens"],
            usage["output_tokens"],
        )
        assert call.body["max_tokens"] == 50
    assert reply.content and reply.provider == provider and reply.model == MODELS[provider]
    assert reply.total_tokens == reply.input_tokens + reply.output_tokens > 0
    assert reply.finish_reason == "stop"
    assert reply.provider_request_id == call.request_id is not None
    assert reply.cost_usd == pytest.approx(
        catalog.cost_usd(
            MODELS[provider], input_tokens=reply.input_tokens, output_tokens=reply.output_tokens
        )
    )
    assert reply.attempts == 1 and reply.fallback_from is None
    assert reply.latency_s > 0 and reply.time_to_first_token_s is None
    assert len(reply.request_id) == 12 and str(reply) == reply.content


@pytest.mark.parametrize(("provider", "raw"), [("openai", "length"), ("anthropic", "max_tokens")])
def test_finish_reason_length_is_normalised(fake: FakeProvider, provider: str, raw: str) -> None:
    reply = make_client(provider).complete("Tell me a long story about rate limits", max_tokens=3)
    assert (reply.finish_reason, reply.raw_finish_reason) == ("length", raw)
    assert reply.output_tokens == 3


def test_stop_sequences_map_to_each_providers_parameter(fake: FakeProvider) -> None:
    make_client("openai").complete("Hi", stop="\n")
    make_client("anthropic").complete("Hi", stop=["END", "\n\n"])
    openai_call, anthropic_call = generations(fake)
    assert openai_call.body["stop"] == ["\n"]
    assert anthropic_call.body["stop_sequences"] == ["END", "\n\n"]
    assert "stop" not in anthropic_call.body


def test_openai_system_prompt_becomes_the_first_message(fake: FakeProvider) -> None:
    make_client("openai").complete("Hi", system="Be brief.")
    messages = generations(fake)[-1].body["messages"]
    assert messages[0] == {"role": "system", "content": "Be brief."}
    assert messages[1] == {"role": "user", "content": "Hi"}


def test_anthropic_system_and_sampling_params_are_shaped_for_the_2x_sdk(
    fake: FakeProvider,
) -> None:
    client = make_client("anthropic")
    reply = client.complete(
        [{"role": "system", "content": "Answer in French."}, {"role": "user", "content": "Hi"}],
        system="Be brief.",
        temperature=0.3,
        top_p=0.9,
        top_k=40,
    )
    body = generations(fake)[-1].body
    assert body["system"] == "Be brief.\n\nAnswer in French."
    assert [m["role"] for m in body["messages"]] == ["user"]
    # The 2.x SDK raises TypeError for these as keyword arguments: they must come via extra_body.
    assert (body["temperature"], body["top_p"], body["top_k"]) == (0.3, 0.9, 40)
    assert reply.content


def test_anthropic_text_joins_every_text_block() -> None:
    from course_helpers.providers.anthropic import _text_of

    message = anthropic.types.Message.model_validate(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": ANTHROPIC_MODEL,
            "content": [
                {"type": "thinking", "thinking": "Let me think.", "signature": "sig"},
                {"type": "text", "text": "Hello, "},
                {"type": "text", "text": "world."},
            ],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 3, "output_tokens": 4},
        }
    )
    assert _text_of(message) == "Hello, world."


# ------------------------------------------------------------------------------ streams


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_stream_yields_text_then_the_response_with_usage(fake: FakeProvider, provider: str) -> None:
    client = make_client(provider)
    stream = client.stream("Say hello", max_tokens=50)
    with pytest.raises(RuntimeError, match="read it to the end"):
        _ = stream.response
    deltas = list(stream)

    call = generations(fake)[-1]
    usage = dict(call.usage or {})
    reply = stream.response
    assert len(deltas) > 1 and "".join(deltas) == reply.content == stream.text
    if provider == "openai":
        assert call.body["stream_options"] == {"include_usage": True}
        assert reply.output_tokens == usage["completion_tokens"]
    else:
        assert reply.output_tokens == usage["output_tokens"]
    assert reply.input_tokens > 0 and reply.output_tokens == len(deltas)
    assert reply.finish_reason == "stop"
    assert reply.provider_request_id == call.request_id
    assert reply.time_to_first_token_s is not None
    assert 0 < reply.time_to_first_token_s <= reply.latency_s


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_stream_is_retried_before_its_first_token(fake: FakeProvider, provider: str) -> None:
    fake.fail_next(429 if provider == "openai" else 529, retry_after_ms=5)
    stream = make_client(provider).stream("Hi")
    text = "".join(stream)
    assert text and stream.response.attempts == 2
    assert [c.status for c in generations(fake)] == [429 if provider == "openai" else 529, 200]


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_stream_failing_after_its_first_token_is_not_retried(
    fake: FakeProvider, provider: str
) -> None:
    log = UsageLog()
    fake.fail_next(mid_stream=True, after_tokens=3)
    stream = make_client(provider, usage_log=log).stream("Tell me about streaming", max_tokens=50)
    received: list[str] = []
    with pytest.raises(LLMError) as caught:
        for delta in stream:
            received.append(delta)
    assert isinstance(caught.value, ServerError | OverloadedError)
    assert len(received) == 3 and len(generations(fake)) == 1
    (row,) = log.rows()
    assert row.outcome == "error" and row.output_tokens > 0  # the partial answer was billed


def test_closing_a_stream_early_releases_it_and_records_the_partial_use(
    fake: FakeProvider,
) -> None:
    log = UsageLog()
    with make_client("openai", usage_log=log).stream("Tell me a story", max_tokens=80) as stream:
        first = next(stream)
    assert first
    (row,) = log.rows()
    assert row.outcome == "ok" and 0 < row.output_tokens < 80
    with pytest.raises(RuntimeError):
        _ = stream.response


# ------------------------------------------------------------------------------ async


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_async_complete_and_stream(fake: FakeProvider, provider: str) -> None:
    client = make_client(provider)

    async def run() -> tuple[LLMResponse, list[str], LLMResponse]:
        reply = await client.acomplete("Hi", max_tokens=30)
        stream = client.astream("Hi", max_tokens=30)
        deltas = [delta async for delta in stream]
        return reply, deltas, stream.response

    reply, deltas, streamed = asyncio.run(run())
    assert reply.content and reply.provider == provider
    assert "".join(deltas) == streamed.content and streamed.output_tokens == len(deltas)
    assert streamed.input_tokens > 0 and streamed.time_to_first_token_s is not None
    assert [c.headers.get("x-stainless-async") for c in generations(fake)] == ["async:asyncio"] * 2


def test_async_retries_use_the_async_sleep(fake: FakeProvider) -> None:
    sleeps = Sleeps()
    fake.fail_next(529, times=2, retry_after_ms=7, provider="anthropic")
    client = make_client("anthropic", async_sleep=sleeps.asleep)
    reply = asyncio.run(client.acomplete("Hi"))
    assert reply.attempts == 3 and sleeps == [0.007, 0.007]


def test_async_fan_out_of_twenty_calls(fake: FakeProvider) -> None:
    log = UsageLog()
    client = make_client("openai", usage_log=log)

    async def run() -> list[LLMResponse]:
        return await asyncio.gather(
            *(
                client.acomplete(f"Question {i}", max_tokens=20, model=MODELS[p])
                for i, p in enumerate(["openai", "anthropic"] * 10)
            )
        )

    replies = asyncio.run(run())
    assert len(replies) == 20 and all(r.content for r in replies)
    assert sum(r.provider == "anthropic" for r in replies) == 10
    assert len(generations(fake)) == 20 and len(log) == 20
    assert len({r.request_id for r in replies}) == 20


# ------------------------------------------------------------------------------ retries


@pytest.mark.parametrize(("provider", "status"), [("openai", 429), ("anthropic", 529)])
def test_retries_are_ours_alone(fake: FakeProvider, provider: str, status: int) -> None:
    sleeps = Sleeps()
    fake.fail_next(status, times=2, retry_after_ms=5)
    reply = make_client(provider, sleep=sleeps).complete("Hi")
    calls = generations(fake)
    assert reply.attempts == 3 == len(calls)  # one HTTP request per attempt: SDK retries are off
    assert [c.status for c in calls] == [status, status, 200]
    assert {c.retry_count for c in calls} == {0}
    assert sleeps == [0.005, 0.005]  # the server's retry-after-ms, honoured


def test_no_retry_on_an_invalid_request_or_an_empty_account(fake: FakeProvider) -> None:
    client = make_client("openai")
    fake.fail_next(400)
    with pytest.raises(InvalidRequestError) as bad:
        client.complete("Hi")
    assert isinstance(bad.value.__cause__, openai.BadRequestError)
    fake.fail_next(429, quota=True)
    with pytest.raises(QuotaExceededError) as quota:
        client.complete("Hi")
    assert isinstance(quota.value.__cause__, openai.RateLimitError)
    assert len(generations(fake)) == 2


def test_retries_give_up_after_max_attempts(fake: FakeProvider) -> None:
    fake.fail_next(503, times=10)
    client = make_client("openai", retry=RetryPolicy(max_attempts=3, base_delay=0, deadline=None))
    with pytest.raises(ServerError) as caught:
        client.complete("Hi")
    assert caught.value.attempts == 3 == len(generations(fake))


def test_a_given_sdk_client_has_its_own_retries_switched_off(fake: FakeProvider) -> None:
    fake.fail_next(500)
    client = LLMClient(model=OPENAI_MODEL, openai_client=OpenAI(api_key="sk-test"), retry=None)
    with pytest.raises(ServerError):
        client.complete("Hi")
    assert len(generations(fake)) == 1  # OpenAI(max_retries=2) would have sent 3


def test_clients_are_created_from_the_environment_without_sdk_retries(
    fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env-0000")
    fake.fail_next(529)
    client = LLMClient(model=ANTHROPIC_MODEL, retry=None)
    with pytest.raises(OverloadedError):
        client.complete("Hi")
    assert len(generations(fake)) == 1
    assert client.complete("Hi").content
    assert generations(fake)[-1].headers["authorization"].endswith("0000")


def test_a_missing_key_says_which_variable_and_what_to_run(fake: FakeProvider) -> None:
    client = LLMClient("openai")
    with pytest.raises(AuthenticationError, match="OPENAI_API_KEY") as caught:
        client.complete("Hi")
    assert "setup()" in str(caught.value)
    assert fake.calls == []


def test_a_sync_client_given_also_serves_async_calls(fake: FakeProvider) -> None:
    client = LLMClient(
        model=ANTHROPIC_MODEL, anthropic_client=Anthropic(api_key="sk-ant-given-key-xyz1")
    )
    assert asyncio.run(client.acomplete("Hi")).content
    assert generations(fake)[-1].headers["authorization"].endswith("xyz1")
    async_given = LLMClient(
        model=ANTHROPIC_MODEL, anthropic_client=AsyncAnthropic(api_key="sk-ant-given-key-xyz2")
    )
    assert async_given.complete("Hi").content
    assert generations(fake)[-1].headers["authorization"].endswith("xyz2")


def test_a_request_that_hangs_times_out(fake: FakeProvider) -> None:
    fake.fail_next(hang=True)
    client = make_client("openai", retry=None, timeout=0.05)
    with pytest.raises(RequestTimeoutError):
        client.complete("Hi")


# ------------------------------------------------------------------------------ fallbacks


def test_fallback_to_the_other_provider_during_an_outage(fake: FakeProvider) -> None:
    log = UsageLog()
    fake.fail_next(503, times=10, provider="openai")
    client = make_client(
        "openai",
        fallbacks=[ANTHROPIC_MODEL],
        usage_log=log,
        retry=RetryPolicy(max_attempts=2, base_delay=0, deadline=None),
    )
    reply = client.complete("Hi")
    assert reply.provider == "anthropic" and reply.model == ANTHROPIC_MODEL
    assert reply.fallback_from == ("openai", OPENAI_MODEL)
    assert [(c.provider, c.status) for c in generations(fake)] == [
        ("openai", 503),
        ("openai", 503),
        ("anthropic", 200),
    ]
    assert [(r.provider, r.outcome, r.error_class, r.attempts) for r in log.rows()] == [
        ("openai", "fallback", "ServerError", 2),
        ("anthropic", "ok", None, 1),
    ]


def test_a_stream_falls_back_before_its_first_token(fake: FakeProvider) -> None:
    fake.fail_next(503, times=10, provider="openai")
    client = make_client(
        "openai",
        fallbacks=[("anthropic", ANTHROPIC_MODEL)],
        retry=RetryPolicy(max_attempts=2, base_delay=0, deadline=None),
    )
    stream = client.stream("Hi")
    assert "".join(stream)
    assert stream.response.provider == "anthropic"
    assert stream.response.fallback_from == ("openai", OPENAI_MODEL)


def test_a_retired_model_falls_back(fake: FakeProvider) -> None:
    client = make_client("anthropic", model="claude-3-haiku-20240307", fallbacks=[ANTHROPIC_MODEL])
    reply = client.complete("Hi")
    assert reply.model == ANTHROPIC_MODEL
    assert [c.status for c in generations(fake)] == [404, 200]
    with pytest.raises(NotFoundError):
        make_client("anthropic", model="claude-3-haiku-20240307").complete("Hi")


def test_no_fallback_for_errors_another_model_would_repeat(fake: FakeProvider) -> None:
    fake.fail_next(400, provider="openai")
    client = make_client("openai", fallbacks=[ANTHROPIC_MODEL])
    with pytest.raises(InvalidRequestError):
        client.complete("Hi")
    assert [c.provider for c in generations(fake)] == ["openai"]


def test_when_every_fallback_fails_the_error_tells_the_story(fake: FakeProvider) -> None:
    fake.fail_next(503, times=10)
    client = make_client(
        "openai",
        fallbacks=[ANTHROPIC_MODEL],
        retry=RetryPolicy(max_attempts=1, deadline=None),
    )
    with pytest.raises(ServerError) as caught:
        client.complete("Hi")
    assert caught.value.provider == "anthropic"
    assert any("Fell back from openai/" in note for note in caught.value.__notes__)


# ------------------------------------------------------------------------------ limiter, budget


class SpyLimiter(RateLimiter):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.acquired: list[int] = []
        self.reconciled: list[tuple[int, int]] = []

    def acquire(self, tokens: int = 0) -> None:
        self.acquired.append(tokens)
        super().acquire(tokens)

    def reconcile(self, estimated: int, actual: int) -> None:
        self.reconciled.append((estimated, actual))
        super().reconcile(estimated, actual)


def test_the_limiter_is_charged_per_attempt_and_reconciled(fake: FakeProvider) -> None:
    limiter = SpyLimiter(tokens_per_minute=100_000, clock=lambda: 0.0)
    messages = [{"role": "user", "content": "How do token buckets work?"}]
    expected = estimate_tokens(messages) + 400
    fake.fail_next(429, retry_after_ms=1)
    reply = make_client("openai", limiter=limiter).complete(messages, max_tokens=400)
    assert limiter.acquired == [expected, expected]
    assert reply.total_tokens < expected
    # Both attempts keep their charge: the provider gives nothing back for a short answer.
    assert limiter.reconciled == [(expected, expected)]
    assert limiter.available()[1] == 100_000 - 2 * expected


def test_the_limiter_follows_the_servers_rate_limit_headers() -> None:
    with FakeProvider(tpm=5_000) as fake:
        limiter = RateLimiter(tokens_per_minute=1_000_000, clock=lambda: 0.0)
        reply = make_client("openai", limiter=limiter).complete("Hi", max_tokens=100)
        assert len(generations(fake)) == 1
        tokens_left = limiter.available()[1]
        # Ours alone would be 1_000_000 - used; the server charged prompt + max_tokens of 5_000.
        assert tokens_left is not None
        assert tokens_left <= 5_000 - 100 - reply.input_tokens


def test_a_request_larger_than_the_limit_is_refused_before_sending(fake: FakeProvider) -> None:
    limiter = RateLimiter(tokens_per_minute=100)
    log = UsageLog()
    with pytest.raises(ValueError, match="can never fit"):
        make_client("openai", limiter=limiter, usage_log=log).complete("Hi", max_tokens=500)
    assert fake.calls == []
    assert [(r.error_class, r.attempts) for r in log.rows()] == [("ValueError", 0)]


def test_an_over_budget_call_never_reaches_the_provider(fake: FakeProvider) -> None:
    log = UsageLog()
    budget = TokenBudget(daily_limit=200, monthly_limit=10_000)
    client = make_client("openai", budget=budget, usage_log=log, fallbacks=[ANTHROPIC_MODEL])
    with pytest.raises(BudgetExceededError):
        client.complete("Hi", max_tokens=1024)
    assert fake.calls == []
    (row,) = log.rows()
    assert (row.outcome, row.error_class, row.attempts) == ("error", "BudgetExceededError", 0)


def test_the_budget_is_settled_with_real_usage_and_released_on_failure(
    fake: FakeProvider,
) -> None:
    budget = TokenBudget(daily_limit=10_000, monthly_limit=100_000)
    client = make_client("anthropic", budget=budget)
    reply = client.complete("Hi", max_tokens=500)
    assert budget.remaining() == 10_000 - reply.total_tokens
    fake.fail_next(400)
    with pytest.raises(InvalidRequestError):
        client.complete("Hi", max_tokens=500)
    assert budget.remaining() == 10_000 - reply.total_tokens
    stream = client.stream("Hi", max_tokens=500)
    streamed = "".join(stream)
    assert streamed
    assert budget.remaining() == 10_000 - reply.total_tokens - stream.response.total_tokens


def test_a_call_that_takes_the_budget_over_its_limit_is_logged_as_overspend(
    fake: FakeProvider,
) -> None:
    log = UsageLog()
    budget = TokenBudget(daily_limit=1_000, monthly_limit=100_000)
    client = make_client("openai", budget=budget, usage_log=log)
    with client.stream("Tell me a story", max_tokens=100) as stream:
        first = next(stream)
        budget.record(990)  # another worker's real usage lands while this call is in flight
        rest = "".join(stream)
    assert first and rest
    (row,) = log.rows()
    used = stream.response.total_tokens
    assert row.overspend_tokens == used - 10  # all of it past the 10 tokens that were left
    assert budget.status().day.overspent_tokens == used - 10
    with pytest.raises(BudgetExceededError, match="overspent"):
        client.complete("Hi", max_tokens=10)


# ------------------------------------------------------------------------------ usage and logs


def test_every_call_is_a_usage_row(fake: FakeProvider) -> None:
    log = UsageLog()
    client = make_client("openai", usage_log=log)
    ok = client.complete("Hi")
    fake.fail_next(429, quota=True)
    with pytest.raises(LLMError):
        client.complete("Hi")
    streamed = client.stream("Hi")
    list(streamed)
    rows = log.rows()
    assert [r.outcome for r in rows] == ["ok", "error", "ok"]
    assert rows[0].request_id == ok.request_id
    assert rows[0].provider_request_id == ok.provider_request_id
    assert (rows[0].input_tokens, rows[0].output_tokens) == (ok.input_tokens, ok.output_tokens)
    assert rows[0].cost_usd == pytest.approx(ok.cost_usd)
    assert rows[1].error_class == "QuotaExceededError"
    assert rows[2].request_id == streamed.response.request_id
    (summary,) = log.summary()
    assert (summary["calls"], summary["errors"]) == (3, 1)
    assert summary["tokens"] == ok.total_tokens + streamed.response.total_tokens


def test_the_json_log_line_has_ids_and_numbers_but_no_content_or_key(fake: FakeProvider) -> None:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test_client.json")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    client = make_client("openai", logger=logger, openai_client=OpenAI(api_key="sk-secret-zzqq"))
    reply = client.complete("my zebra diary entry", system="private system prompt")
    fake.fail_next(400)
    with pytest.raises(InvalidRequestError):
        client.complete("my zebra diary entry")

    lines = buffer.getvalue().splitlines()
    ok, failed = (json.loads(line) for line in lines)
    assert ok["request_id"] == reply.request_id
    assert ok["provider_request_id"] == reply.provider_request_id
    assert (ok["provider"], ok["model"], ok["outcome"]) == ("openai", OPENAI_MODEL, "ok")
    assert (ok["input_tokens"], ok["output_tokens"]) == (reply.input_tokens, reply.output_tokens)
    assert ok["latency_s"] > 0 and ok["level"] == "INFO"
    assert (failed["outcome"], failed["error_class"], failed["status"]) == (
        "error",
        "InvalidRequestError",
        400,
    )
    text = buffer.getvalue()
    # "zzqq" cannot occur by chance in the log's hex ids and numbers, unlike digits
    for secret in ("zebra", "private system prompt", reply.content, "sk-secret", "zzqq"):
        assert secret not in text


def test_repr_shows_routing_not_secrets() -> None:
    client = LLMClient(
        model=OPENAI_MODEL,
        openai_client=OpenAI(api_key="sk-secret-9999"),
        fallbacks=[ANTHROPIC_MODEL],
    )
    text = repr(client)
    assert OPENAI_MODEL in text and ANTHROPIC_MODEL in text and "9999" not in text


def test_each_event_loop_gets_its_own_async_sdk_client(fake: FakeProvider) -> None:
    client = make_client("openai")
    asyncio.run(client.acomplete("Hi"))
    first_sdk_client = client._clients[("openai", True)][1]
    asyncio.run(client.acomplete("Hi"))  # a second loop: the first one's connections are gone
    assert client._clients[("openai", True)][1] is not first_sdk_client
    assert len(generations(fake)) == 2


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_dropped_connection_is_retried_before_the_stream_starts_only(
    fake: FakeProvider, provider: str
) -> None:
    client = make_client(provider)
    fake.fail_next(drop=True)
    stream = client.stream("Hi")
    assert "".join(stream) and stream.response.attempts == 2

    fake.fail_next(drop=True, after_tokens=2)
    received: list[str] = []
    with pytest.raises(ConnectionFailedError) as caught:
        for delta in client.stream("Tell me about connection pools", max_tokens=40):
            received.append(delta)
    assert len(received) == 2 and caught.value.provider == provider
    assert len(generations(fake)) == 3


def test_a_cancelled_call_releases_its_budget_and_is_recorded(fake: FakeProvider) -> None:
    budget = TokenBudget(daily_limit=10_000, monthly_limit=100_000)
    log = UsageLog()
    client = make_client("openai", budget=budget, usage_log=log, timeout=30.0)
    fake.fail_next(hang=True)

    async def run() -> None:
        await asyncio.wait_for(client.acomplete("Hi", max_tokens=500), timeout=0.05)

    with pytest.raises(TimeoutError):
        asyncio.run(run())
    assert budget.remaining() == 10_000
    (row,) = log.rows()
    assert (row.outcome, row.error_class) == ("error", "CancelledError")
