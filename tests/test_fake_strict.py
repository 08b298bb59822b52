"""The simulated provider is as strict as the real APIs: whole paths, own hosts, the real 400s."""

from __future__ import annotations

import json
import socket
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from support import strict_client

from course_helpers.fake import FakeProvider
from course_helpers.fake.asgi import serve_in_thread

OPENAI_KEY = "sk-test-strict-0000000000wxyz"
ANTHROPIC_KEY = "sk-ant-test-strict-000000wxyz"
REASONING = "gpt-5.4-mini"
HELLO = [{"role": "user", "content": "Say hello"}]


pytestmark = pytest.mark.fake(seed=3)  # the `fake` fixture (conftest.py)


def gpt(**options: Any) -> openai.OpenAI:
    return strict_client(openai.OpenAI, OPENAI_KEY, **options)


def claude(**options: Any) -> anthropic.Anthropic:
    return strict_client(anthropic.Anthropic, ANTHROPIC_KEY, **options)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- whole paths on the providers' hosts ------------------------------------------------------
def test_openai_base_url_without_v1_is_a_404_as_live(fake: FakeProvider) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        gpt(base_url="https://api.openai.com").chat.completions.create(
            model=REASONING, messages=HELLO
        )
    error = info.value
    assert error.body == {
        "message": "Invalid URL (POST /chat/completions)",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    assert error.request_id and error.request_id.startswith("req_")
    assert fake.calls[-1].status == 404


def test_anthropic_base_url_with_v1_is_a_404_as_live(fake: FakeProvider) -> None:
    with pytest.raises(anthropic.NotFoundError) as info:
        claude(base_url="https://api.anthropic.com/v1").messages.create(
            model="claude-haiku-4-5", max_tokens=20, messages=HELLO
        )
    body = info.value.body
    assert isinstance(body, dict) and body["error"] == {
        "type": "not_found_error",
        "message": "Not Found",
    }
    assert info.value.request_id == body["request_id"]


@pytest.mark.parametrize(
    ("base_url", "client"),
    [("/v1/v1", "openai"), ("", "openai"), ("/v1", "anthropic")],
)
def test_the_http_adapter_matches_whole_paths_too(base_url: str, client: str) -> None:
    with serve_in_thread(FakeProvider()) as server:
        if client == "openai":
            with pytest.raises(openai.NotFoundError) as info:
                gpt(base_url=server.base_url + base_url).chat.completions.create(
                    model=REASONING, messages=HELLO
                )
            assert info.value.body["message"].startswith("Invalid URL (POST /")  # type: ignore[index]
            assert info.value.request_id
        else:
            with pytest.raises(anthropic.NotFoundError) as caught:
                claude(base_url=server.base_url + base_url).messages.create(
                    model="claude-haiku-4-5", max_tokens=20, messages=HELLO
                )
            assert caught.value.type == "not_found_error" and caught.value.request_id


# --- other hosts are left alone ---------------------------------------------------------------
def test_a_learners_own_endpoint_is_reached_not_simulated(fake: FakeProvider) -> None:
    """``OPENAI_BASE_URL`` to a local server (an Ollama, a proxy): the request reaches it."""
    own = FakeProvider()
    with serve_in_thread(own) as server:
        reply = gpt(base_url=f"{server.base_url}/v1").chat.completions.create(
            model=REASONING, messages=HELLO
        )
    assert reply.choices[0].message.content
    assert len(own.calls) == 1 and fake.calls == []


@pytest.mark.parametrize("make", [gpt, claude])
def test_a_closed_port_fails_as_without_the_fake(fake: FakeProvider, make: Any) -> None:
    client = make(base_url=f"http://127.0.0.1:{closed_port()}/v1")
    with pytest.raises((openai.APIConnectionError, anthropic.APIConnectionError)):
        if make is gpt:
            client.chat.completions.create(model=REASONING, messages=HELLO)
        else:
            client.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=HELLO)
    assert fake.calls == []


@pytest.mark.parametrize(
    "url",
    [
        "https://api.groq.com/openai/v1/chat/completions",
        "https://my-resource.openai.azure.com/openai/deployments/x/chat/completions",
        "http://localhost:11434/v1/chat/completions",
    ],
)
def test_other_hosts_are_not_answered(url: str) -> None:
    from course_helpers.fake import respx_adapter

    assert respx_adapter._route(httpx2.Request("POST", url)) is None
    assert respx_adapter._route(httpx2.Request("POST", "https://api.openai.com/v1/x")) == (
        "openai",
        "/v1/x",
    )


# --- bodies -----------------------------------------------------------------------------------
def test_a_form_encoded_body_is_refused(fake: FakeProvider) -> None:
    for path in ("chat/completions", "responses"):  # both OpenAI dialects
        response = httpx2.post(
            f"https://api.openai.com/v1/{path}",
            data={"model": REASONING, "messages": "hi"},
            headers={"Authorization": f"Bearer {OPENAI_KEY}"},
        )
        assert response.status_code == 400, path
        error = response.json()["error"]
        assert error["code"] == "unsupported_content_type"
        assert error["message"].startswith(
            "Unsupported content type: 'application/x-www-form-urlencoded'."
        )
    response = httpx2.post(
        "https://api.anthropic.com/v1/messages",
        data={"model": "claude-haiku-4-5"},
        headers={"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_an_oversized_anthropic_body_is_413_in_process(fake: FakeProvider) -> None:
    body = json.dumps({"model": "claude-haiku-4-5", "x": "a" * (32 * 1024 * 1024)}).encode()
    response = httpx2.post(
        "https://api.anthropic.com/v1/messages",
        content=body,
        headers={
            "x-api-key": ANTHROPIC_KEY,
            "anthropic-version": "2023-06-01",
            "content-type": "application/json",
        },
    )
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "request_too_large"
    assert response.headers["request-id"] == response.json()["request_id"]


def test_a_user_message_without_content_is_refused(fake: FakeProvider) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        gpt().chat.completions.create(model=REASONING, messages=[{"role": "user"}])  # type: ignore[typeddict-item]
    assert info.value.body == {
        "message": "Missing required parameter: 'messages[0].content'.",
        "type": "invalid_request_error",
        "param": "messages[0].content",
        "code": "missing_required_parameter",
    }


# --- reasoning models -------------------------------------------------------------------------
def test_reasoning_models_reject_max_tokens(fake: FakeProvider) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        gpt().chat.completions.create(model=REASONING, messages=HELLO, max_tokens=150)
    assert info.value.body == {
        "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
        "Use 'max_completion_tokens' instead.",
        "type": "invalid_request_error",
        "param": "max_tokens",
        "code": "unsupported_parameter",
    }
    reply = gpt().chat.completions.create(
        model=REASONING, messages=HELLO, max_completion_tokens=150
    )
    assert reply.choices[0].message.content


@pytest.mark.parametrize("model", [REASONING, "gpt-5.5", "o3-mini"])
def test_reasoning_models_accept_only_the_default_temperature(
    fake: FakeProvider, model: str
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        gpt().chat.completions.create(model=model, messages=HELLO, temperature=0.7)
    assert info.value.code == "unsupported_value" and info.value.param == "temperature"
    assert info.value.body["message"] == (  # type: ignore[index]
        "Unsupported value: 'temperature' does not support 0.7 with this model. "
        "Only the default (1) value is supported."
    )


def test_other_models_take_every_parameter(fake: FakeProvider) -> None:
    reply = gpt().chat.completions.create(
        model="gpt-4.1-mini", messages=HELLO, temperature=0.7, max_tokens=150
    )
    assert reply.choices[0].message.content
    reply = gpt().chat.completions.create(model=REASONING, messages=HELLO, temperature=1)
    assert reply.choices[0].message.content


# --- the stream's usage -----------------------------------------------------------------------
def test_message_delta_carries_cumulative_input_tokens(fake: FakeProvider) -> None:
    events = list(
        claude().messages.create(
            model="claude-haiku-4-5", max_tokens=50, messages=HELLO, stream=True
        )
    )
    start = next(e for e in events if e.type == "message_start")
    delta = next(e for e in events if e.type == "message_delta")
    assert delta.usage.input_tokens == start.message.usage.input_tokens > 0
    assert delta.usage.cache_creation_input_tokens == 0
    assert delta.usage.cache_read_input_tokens == 0
    assert delta.usage.output_tokens > 1
    raw = claude().messages.with_raw_response.create(
        model="claude-haiku-4-5", max_tokens=50, messages=HELLO, stream=True
    )
    frames = raw.http_response.read().decode()
    line = next(x for x in frames.splitlines() if x.startswith("data:") and "message_delta" in x)
    assert set(json.loads(line[5:])["usage"]) == {
        "input_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "output_tokens",
    }


# --- not simulated: a clear error, never a silent 200 ------------------------------------------
def test_other_endpoints_say_they_need_a_live_key(fake: FakeProvider) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        gpt().embeddings.create(model="text-embedding-3-small", input="hi")
    message = info.value.body["message"]  # type: ignore[index]
    assert "embeddings" in message and "live key" in message and "OPENAI_API_KEY" in message
    with pytest.raises(anthropic.NotFoundError) as caught:
        claude().messages.batches.list()
    assert "Message Batches" in str(caught.value) and "ANTHROPIC_API_KEY" in str(caught.value)


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"logprobs": True, "top_logprobs": 2}, "logprobs"),
        ({"modalities": ["text", "audio"], "audio": {"voice": "alloy", "format": "wav"}}, "audio"),
        ({"web_search_options": {}}, "web search"),
    ],
)
def test_openai_features_not_simulated_are_a_400(
    fake: FakeProvider, params: dict[str, Any], named: str
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        gpt().chat.completions.create(model="gpt-4o", messages=HELLO, **params)
    message = info.value.body["message"]  # type: ignore[index]
    assert named in message and "needs a live key" in message


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"thinking": {"type": "enabled", "budget_tokens": 1024}}, "extended thinking"),
        (
            {"tools": [{"type": "web_search_20250305", "name": "web_search", "max_uses": 1}]},
            "web_search_20250305",
        ),
    ],
)
def test_anthropic_features_not_simulated_are_a_400(
    fake: FakeProvider, params: dict[str, Any], named: str
) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        claude().messages.create(
            model="claude-sonnet-5-5", max_tokens=2048, messages=HELLO, **params
        )
    assert named in str(info.value) and "needs a live key" in str(info.value)


# --- setup() shows a learner's own endpoint as live -------------------------------------------
def test_setup_shows_a_learners_endpoint_as_live_there(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from course_helpers import modes

    monkeypatch.chdir(tmp_path)
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "COURSE_MODE", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    ollama = FakeProvider()  # stands in for a local server that speaks the OpenAI API
    with serve_in_thread(ollama) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", f"{server.base_url}/v1")
        try:
            course = modes.setup()
            assert course.is_live("openai") and course.is_offline("anthropic")
            openai_line = course.banner.splitlines()[1].split()
            assert openai_line[:5] == ["OpenAI", "live", "at", "your", "endpoint"]
            assert f"{server.base_url}/v1" in course.banner
            reply = openai.OpenAI(max_retries=0).chat.completions.create(
                model=REASONING, messages=HELLO
            )
        finally:
            modes.teardown()
    assert reply.choices[0].message.content and len(ollama.calls) == 1
    assert course.fake is not None and course.fake.calls == []
    capsys.readouterr()


def test_legacy_function_calling_is_not_ignored(fake: FakeProvider) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        gpt().chat.completions.create(
            model="gpt-4o",
            messages=HELLO,
            functions=[{"name": "f", "parameters": {"type": "object", "properties": {}}}],
        )
    assert info.value.param == "functions" and "send tools" in info.value.body["message"]  # type: ignore[index]
