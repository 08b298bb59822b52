"""The seed's LLMClient fails exactly as documented; course_helpers.client.LLMClient does not.

Each test shows one defect of ``course_helpers.seed.client`` against the simulated provider (or, for
a non-text first block, a canned reply the fake does not produce), then the same situation handled
by the reference ``LLMClient``: a regression test for the fix.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from anthropic import Anthropic

from course_helpers import catalog
from course_helpers.client import LLMClient
from course_helpers.errors import ServerError
from course_helpers.fake import FakeProvider
from course_helpers.seed import client as seed

MESSAGES = [{"role": "user", "content": "Say hello"}]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProvider]:
    # The seed builds its SDK clients from the environment, as the seed material did.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-seed-test-0000")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-seed-test-0000")
    with FakeProvider(ttft=0.0, token_delay=0.0) as provider:
        yield provider


def posts(fake: FakeProvider) -> list[Any]:
    return [call for call in fake.calls if call.method == "POST"]


def test_defect_1_gpt_4o_is_sent_to_anthropic(fake: FakeProvider) -> None:
    old = seed.LLMClient("anthropic")
    assert old.model == "gpt-4o"
    with pytest.raises(anthropic.NotFoundError):
        old.complete(MESSAGES)
    assert [(c.provider, c.body["model"], c.status) for c in posts(fake)] == [
        ("anthropic", "gpt-4o", 404)
    ]

    reply = LLMClient("anthropic").complete(MESSAGES)
    assert reply.model == catalog.default_model("anthropic") == posts(fake)[-1].body["model"]
    assert posts(fake)[-1].status == 200


def test_defect_2_missing_import_time_fails_after_the_paid_call(
    fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "time" not in vars(seed)
    old = seed.LLMClient("openai", model="gpt-4o-mini")
    with pytest.raises(NameError, match="'time'"):
        old.complete(MESSAGES)
    assert [c.status for c in posts(fake)] == [200]  # the answer was generated, and billed

    monkeypatch.setattr(seed, "time", time, raising=False)  # add the missing import...
    assert old.complete(MESSAGES).latency_ms > 0  # ...and that path works: it was the only bug

    reply = LLMClient(model="gpt-4o-mini").complete(MESSAGES)
    assert reply.latency_s > 0


def _thinking_first(request: httpx2.Request) -> httpx2.Response:
    body = json.loads(request.content)
    return httpx2.Response(
        200,
        json={
            "id": "msg_seed",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": [
                {"type": "thinking", "thinking": "The user greets me.", "signature": "c2ln"},
                {"type": "text", "text": "Hello! "},
                {"type": "text", "text": "How can I help?"},
            ],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 9, "output_tokens": 12},
        },
        headers={"request-id": "req_seed"},
    )


def test_defect_3_a_non_text_first_block_breaks_content_0_text() -> None:
    # The simulated provider answers with text blocks only; extended thinking puts a thinking
    # block first, so this reply is canned (a real SDK still parses it).
    def sdk() -> Anthropic:
        transport = httpx2.MockTransport(_thinking_first)
        return Anthropic(api_key="sk-ant-test", http_client=httpx2.Client(transport=transport))

    old = seed.LLMClient.__new__(seed.LLMClient)
    old.provider, old.model, old.client = "anthropic", "claude-haiku-5-5", sdk()
    with pytest.raises(AttributeError, match="text"):
        old.complete(MESSAGES)

    reply = LLMClient(model="claude-haiku-5-5", anthropic_client=sdk()).complete(MESSAGES)
    assert reply.content == "Hello! How can I help?"
    assert (reply.input_tokens, reply.output_tokens, reply.provider_request_id) == (
        9,
        12,
        "req_seed",
    )


def test_defect_4_openai_usage_chunk_breaks_the_stream(fake: FakeProvider) -> None:
    old = seed.LLMClient("openai", model="gpt-4o-mini")
    received: list[str] = []
    with pytest.raises(IndexError):
        for delta in old.stream(MESSAGES):
            received.append(delta)
    assert received  # every text delta arrived; the final usage-only chunk broke it

    fake.reset()  # reseeds the simulated provider: the same request gets the same answer
    stream = LLMClient(model="gpt-4o-mini").stream(MESSAGES)
    assert "".join(stream) == "".join(received)
    usage = posts(fake)[-1].usage or {}
    assert stream.response.output_tokens == usage["completion_tokens"] == len(received)


def test_defect_5_temperature_is_a_type_error_in_anthropic_2x(fake: FakeProvider) -> None:
    old = seed.LLMClient("anthropic", model="claude-haiku-5-5")
    with pytest.raises(TypeError, match="temperature"):
        old.complete(MESSAGES, temperature=0.2)
    assert fake.calls == []  # refused by the SDK before anything was sent

    reply = LLMClient(model="claude-haiku-5-5").complete(MESSAGES, temperature=0.2)
    assert reply.content and posts(fake)[-1].body["temperature"] == 0.2


def test_the_seed_lets_sdk_retries_multiply_ours_do_not(fake: FakeProvider) -> None:
    fake.fail_next(500, times=3, retry_after_ms=1)
    with pytest.raises(openai.InternalServerError):
        seed.LLMClient("openai", model="gpt-4o-mini").stream(MESSAGES).__next__()
    assert len(posts(fake)) == 3  # the SDK's hidden max_retries=2: 3 requests for one call

    fake.reset()
    fake.fail_next(500, times=3, retry_after_ms=1)
    with pytest.raises(ServerError):
        LLMClient(model="gpt-4o-mini", retry=None).complete(MESSAGES)
    assert len(posts(fake)) == 1
