"""The rules the simulated provider's dialects share through ``fake.wire``: routing, the charge."""

from __future__ import annotations

import json

import pytest
from support import ManualClock

from course_helpers.fake import FakeProvider, FakeRequest
from course_helpers.fake.wire import retry_headers

OPENAI = {"authorization": "Bearer sk-test-wire-000000001234", "content-type": "application/json"}
ANTHROPIC = {
    "x-api-key": "sk-ant-test-wire-00005678",
    "anthropic-version": "2023-06-01",
    "content-type": "application/json",
}
ASK = [{"role": "user", "content": "Say something about routes"}]
GENERATIONS = [
    ("/v1/chat/completions", OPENAI, {"model": "gpt-4o-mini", "messages": ASK}),
    ("/v1/responses", OPENAI, {"model": "gpt-4o-mini", "input": "Say something"}),
    ("/v1/messages", ANTHROPIC, {"model": "claude-haiku-5-5", "max_tokens": 50, "messages": ASK}),
]


def request(method: str, path: str, headers: dict[str, str], body: object = None) -> FakeRequest:
    return FakeRequest(method, path, headers, json.dumps(body).encode() if body else b"")


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/v1/chat/completions", OPENAI),
        ("POST", "/v1/models", OPENAI),
        ("DELETE", "/v1/models/gpt-4o-mini", OPENAI),
        ("GET", "/v1/responses", OPENAI),
        ("POST", "/v1/responses/resp_123", OPENAI),
        ("GET", "/v1/messages", ANTHROPIC),
        ("GET", "/v1/messages/count_tokens", ANTHROPIC),
        ("POST", "/v1/models/claude-haiku-5-5", ANTHROPIC),
    ],
)
def test_a_method_a_route_does_not_take_is_the_providers_404(
    method: str, path: str, headers: dict[str, str]
) -> None:
    fake = FakeProvider(seed=1)
    response = fake.handle(request(method, path, headers))
    assert response is not None and response.status == 404
    assert fake.calls[-1].status == 404


@pytest.mark.parametrize(
    ("path", "headers", "model_id"),
    [
        ("/v1/models/gpt-4o-mini/", OPENAI, "gpt-4o-mini"),
        ("/v1/models/claude-haiku-5-5", ANTHROPIC, "claude-haiku-5-5"),
    ],
)
def test_the_id_in_a_path_reaches_its_handler(
    path: str, headers: dict[str, str], model_id: str
) -> None:
    response = FakeProvider(seed=1).handle(request("GET", path, headers))
    assert response is not None and response.status == 200
    assert json.loads(response.body)["id"] == model_id


@pytest.mark.parametrize(("path", "headers", "body"), GENERATIONS)
def test_a_rate_limited_request_puts_back_the_fault_it_took(
    path: str, headers: dict[str, str], body: dict[str, object]
) -> None:
    fake = FakeProvider(rpm=1, clock=ManualClock())
    first = fake.handle(request("POST", path, headers, body))
    assert first is not None and first.status == 200
    fake.fail_next(hang=True)
    refused = fake.handle(request("POST", path, headers, body))
    assert refused is not None and refused.status == 429
    assert [fault.kind for fault in fake.pending_faults] == ["hang"]


def test_retry_headers_round_up_and_stay_away_when_waiting_cannot_help() -> None:
    assert retry_headers(0.0001) == {"retry-after": "1", "retry-after-ms": "1"}
    assert retry_headers(1.2) == {"retry-after": "2", "retry-after-ms": "1200"}
    assert retry_headers(float("inf")) == {}
