"""The simulated provider served over real loopback HTTP, driven by the real SDKs.

The FakeProviders here are never entered as context managers: an active respx adapter would
intercept the SDKs' requests in-process and these tests would not touch the socket at all.
"""

from __future__ import annotations

import asyncio
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from anthropic import Anthropic, AsyncAnthropic
from openai import AsyncOpenAI, OpenAI

from course_helpers.fake import FakeProvider
from course_helpers.fake.asgi import RunningServer, serve_in_thread
from course_helpers.fake.exchange import Chunk, FakeRequest, FakeResponse

ROOT = Path(__file__).resolve().parents[1]
OPENAI_MODEL = "gpt-4o-mini"
ANTHROPIC_MODEL = "claude-sonnet-5-5"
FRANCE: Any = [{"role": "user", "content": "What is the capital of France?"}]
COUNT: Any = [{"role": "user", "content": "Count from 1 to 10"}]


@pytest.fixture(scope="module")
def running() -> Iterator[tuple[FakeProvider, RunningServer]]:
    fake = FakeProvider(seed=1)
    with serve_in_thread(fake) as server:
        yield fake, server


@pytest.fixture
def fake(running: tuple[FakeProvider, RunningServer]) -> FakeProvider:
    running[0].reset()
    return running[0]


@pytest.fixture
def server(running: tuple[FakeProvider, RunningServer], fake: FakeProvider) -> RunningServer:
    return running[1]


def openai_client(server: RunningServer, **options: Any) -> OpenAI:
    return OpenAI(api_key="sk-test-openai", base_url=f"{server.base_url}/v1", **options)


def anthropic_client(server: RunningServer, **options: Any) -> Anthropic:
    return Anthropic(api_key="sk-ant-test", base_url=server.base_url, **options)


# --- answers ----------------------------------------------------------------------------------


def test_openai_completion_sync_and_async(fake: FakeProvider, server: RunningServer) -> None:
    reply = openai_client(server).chat.completions.create(
        model=OPENAI_MODEL, messages=FRANCE, temperature=0
    )
    assert reply.choices[0].message.content == "The capital of France is Paris."
    assert reply.usage is not None and reply.usage.completion_tokens > 0

    async def call() -> str | None:
        client = AsyncOpenAI(api_key="sk-test-openai", base_url=f"{server.base_url}/v1")
        async with client:
            reply = await client.chat.completions.create(
                model=OPENAI_MODEL, messages=FRANCE, temperature=0
            )
        return reply.choices[0].message.content

    assert asyncio.run(call()) == "The capital of France is Paris."
    calls = fake.calls
    assert [(c.provider, c.method, c.path, c.status) for c in calls] == [
        ("openai", "POST", "/v1/chat/completions", 200)
    ] * 2
    assert calls[0].headers["authorization"] != "Bearer sk-test-openai"  # masked in the log


def test_anthropic_message_sync_and_async(fake: FakeProvider, server: RunningServer) -> None:
    message = anthropic_client(server).messages.create(
        model=ANTHROPIC_MODEL, max_tokens=100, messages=FRANCE
    )
    assert "Paris" in message.content[0].text  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn"

    async def call() -> int:
        client = AsyncAnthropic(api_key="sk-ant-test", base_url=server.base_url)
        async with client:
            count = await client.messages.count_tokens(model=ANTHROPIC_MODEL, messages=FRANCE)
        return count.input_tokens

    assert asyncio.run(call()) > 0
    assert [c.path for c in fake.calls] == ["/v1/messages", "/v1/messages/count_tokens"]


def test_stop_and_max_tokens_survive_the_wire(server: RunningServer) -> None:
    client = openai_client(server)
    stopped = client.chat.completions.create(
        model=OPENAI_MODEL, messages=COUNT, temperature=0, stop=["5"]
    )
    assert stopped.choices[0].message.content == "1, 2, 3, 4, "
    assert stopped.choices[0].finish_reason == "stop"
    cut = client.chat.completions.create(
        model=OPENAI_MODEL, messages=COUNT, temperature=0, max_completion_tokens=3
    )
    assert cut.choices[0].finish_reason == "length"
    assert cut.usage is not None and cut.usage.completion_tokens == 3


# --- streams ----------------------------------------------------------------------------------


class HeldTail:
    """Serves ``fake``'s answers with their last chunk held back for an hour.

    A client that has read everything before that chunk proves the server streams: a server that
    buffered the body would have sent nothing yet. No timing is measured.
    """

    def __init__(self, fake: FakeProvider) -> None:
        self.fake = fake

    def handle(self, request: FakeRequest) -> FakeResponse | None:
        answer = self.fake.handle(request)
        if answer is not None and len(answer.chunks) > 1:
            last = answer.chunks[-1]
            answer.chunks[-1] = Chunk(last.data, delay=3600.0)
        return answer


@pytest.fixture(scope="module")
def held_server() -> Iterator[RunningServer]:
    with serve_in_thread(HeldTail(FakeProvider())) as server:
        yield server


def test_openai_stream_arrives_incrementally(held_server: RunningServer) -> None:
    text = ""
    client = openai_client(held_server, timeout=60, max_retries=0)
    with client.chat.completions.create(
        model=OPENAI_MODEL, messages=COUNT, temperature=0, stream=True
    ) as stream:
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                text += chunk.choices[0].delta.content
            if text.endswith("10"):
                break  # everything but the held last chunk has arrived
    assert text == "1, 2, 3, 4, 5, 6, 7, 8, 9, 10"


def test_anthropic_async_stream_helper_arrives_incrementally(held_server: RunningServer) -> None:
    async def run() -> str:
        client = AsyncAnthropic(
            api_key="sk-ant-test", base_url=held_server.base_url, timeout=60, max_retries=0
        )
        text = ""
        async with (
            client,
            client.messages.stream(model=ANTHROPIC_MODEL, max_tokens=100, messages=COUNT) as s,
        ):
            async for piece in s.text_stream:
                text += piece
                if text.endswith("10"):
                    break  # everything but the held message_stop has arrived
        return text

    # sampled (no temperature on this helper): any of the answer's forms, every number in order
    assert re.findall(r"\d+", asyncio.run(run())) == [str(i) for i in range(1, 11)]


# --- faults -----------------------------------------------------------------------------------


def test_429_reaches_both_sdks_with_its_headers(fake: FakeProvider, server: RunningServer) -> None:
    fake.fail_next(429, retry_after_ms=5)
    with pytest.raises(openai.RateLimitError) as openai_error:
        openai_client(server, max_retries=0).chat.completions.create(
            model=OPENAI_MODEL, messages=FRANCE
        )
    assert openai_error.value.response.headers["retry-after-ms"] == "5"
    assert openai_error.value.request_id

    fake.fail_next(429, retry_after_ms=5)
    with pytest.raises(anthropic.RateLimitError) as anthropic_error:
        anthropic_client(server, max_retries=0).messages.create(
            model=ANTHROPIC_MODEL, max_tokens=20, messages=FRANCE
        )
    assert anthropic_error.value.status_code == 429
    assert [c.status for c in fake.calls] == [429, 429]


def test_sdk_retries_a_429_over_the_wire(fake: FakeProvider, server: RunningServer) -> None:
    fake.fail_next(429, retry_after_ms=5)
    reply = openai_client(server).chat.completions.create(
        model=OPENAI_MODEL, messages=FRANCE, temperature=0
    )
    assert reply.choices[0].message.content == "The capital of France is Paris."
    assert [(c.status, c.retry_count) for c in fake.calls] == [(429, 0), (200, 1)]


def test_hang_makes_the_client_time_out(fake: FakeProvider, server: RunningServer) -> None:
    fake.fail_next(hang=True)
    start = time.perf_counter()
    with pytest.raises(openai.APITimeoutError):
        openai_client(server, timeout=0.3, max_retries=0).chat.completions.create(
            model=OPENAI_MODEL, messages=FRANCE
        )
    assert time.perf_counter() - start > 0.25  # it waited for the client's timeout

    fake.fail_next(hang=True)
    with pytest.raises(anthropic.APITimeoutError):
        anthropic_client(server, timeout=0.3, max_retries=0).messages.create(
            model=ANTHROPIC_MODEL, max_tokens=20, messages=FRANCE
        )


def test_drop_before_headers_is_a_connection_error(
    fake: FakeProvider, server: RunningServer
) -> None:
    fake.fail_next(drop=True)
    with pytest.raises(openai.APIConnectionError) as error:
        openai_client(server, max_retries=0).chat.completions.create(
            model=OPENAI_MODEL, messages=FRANCE
        )
    assert not isinstance(error.value, openai.APITimeoutError)
    assert isinstance(error.value.__cause__, httpx2.RemoteProtocolError)
    assert "without sending a response" in str(error.value.__cause__)
    reply = openai_client(server, max_retries=0).chat.completions.create(
        model=OPENAI_MODEL, messages=FRANCE, temperature=0
    )
    assert reply.choices[0].message.content == "The capital of France is Paris."


def test_drop_mid_stream_raises_after_some_chunks(
    fake: FakeProvider, server: RunningServer
) -> None:
    fake.fail_next(drop=True, after_tokens=3)
    received: list[str] = []
    with pytest.raises((openai.APIConnectionError, httpx2.RemoteProtocolError)):
        stream = openai_client(server, max_retries=0).chat.completions.create(
            model=OPENAI_MODEL, messages=COUNT, temperature=0, stream=True
        )
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                received.append(chunk.choices[0].delta.content)
    assert "".join(received) == "1, 2"  # three tokens: "1", ",", " 2"

    fake.fail_next(drop=True, after_tokens=3)
    texts: list[str] = []
    with pytest.raises((anthropic.APIConnectionError, httpx2.RemoteProtocolError)):  # noqa: SIM117
        with anthropic_client(server, max_retries=0).messages.stream(
            model=ANTHROPIC_MODEL, max_tokens=100, messages=COUNT, extra_body={"temperature": 0}
        ) as stream_manager:
            texts.extend(stream_manager.text_stream)
    assert "".join(texts) == "1, 2"


class LongHangs:
    """Serves ``fake``'s answers with hangs that last an hour unless the client leaves."""

    def __init__(self, fake: FakeProvider) -> None:
        self.fake = fake

    def handle(self, request: FakeRequest) -> FakeResponse | None:
        answer = self.fake.handle(request)
        if answer is not None:
            answer.hang_seconds = 3600.0
        return answer


def test_hang_comes_before_the_status_line_and_ends_with_the_client() -> None:
    fake = FakeProvider()
    with serve_in_thread(LongHangs(fake)) as server:
        fake.fail_next(hang=True)
        # A streaming request times out inside create(), not later while iterating.
        with pytest.raises(openai.APITimeoutError):
            openai_client(server, timeout=0.2, max_retries=0).chat.completions.create(
                model=OPENAI_MODEL, messages=FRANCE, stream=True
            )
        # The hour-long hang ended with the client: the server holds no connection any more.
        connections = server.server.server_state.connections
        deadline = time.monotonic() + 60  # a failure guard, far below the hang's hour
        while connections and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not connections


# --- the adapter itself -----------------------------------------------------------------------


def test_unknown_path_is_a_json_404(server: RunningServer) -> None:
    response = httpx2.get(f"{server.base_url}/nowhere")
    assert response.status_code == 404
    assert "/nowhere" in response.json()["error"]["message"]
    with pytest.raises(openai.NotFoundError):  # forgot /v1 in base_url
        OpenAI(api_key="sk-test-openai", base_url=server.base_url, max_retries=0).embeddings.create(
            model="text-embedding-3-small", input="hi"
        )


class Recorder:
    """A stand-in core: records what the adapter hands it and answers a scripted response."""

    def __init__(self, response: FakeResponse | None) -> None:
        self.response = response
        self.requests: list[FakeRequest] = []

    def handle(self, request: FakeRequest) -> FakeResponse | None:
        self.requests.append(request)
        return self.response

    def not_found(self, request: FakeRequest, provider: str) -> FakeResponse:
        self.requests.append(request)
        return FakeResponse(404, {"x-provider": provider}, [])


@pytest.fixture(scope="module")
def recorder_server() -> Iterator[tuple[Recorder, RunningServer]]:
    recorder = Recorder(None)
    with serve_in_thread(recorder) as server:
        yield recorder, server


def test_request_reaches_the_core_as_sent(recorder_server: tuple[Recorder, RunningServer]) -> None:
    recorder, server = recorder_server
    recorder.requests.clear()
    recorder.response = FakeResponse(204, {}, [])
    response = httpx2.post(
        f"{server.base_url}/v1/chat/completions?a=1&b=two",
        content=b'{"k": 1}',
        headers={
            "X-Custom-Header": "Value",
            "Authorization": "Bearer sk-abc",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 204
    (request,) = recorder.requests
    assert (request.method, request.path, request.body) == (
        "POST",
        "/v1/chat/completions",
        b'{"k": 1}',
    )
    assert request.query == {"a": "1", "b": "two"}
    assert request.headers["x-custom-header"] == "Value"
    assert request.headers["authorization"] == "Bearer sk-abc"
    assert all(name == name.lower() for name in request.headers)
    assert request.read_timeout is None


@pytest.mark.parametrize("delay", [0.0, 0.01])
def test_status_headers_and_body_are_replayed(
    recorder_server: tuple[Recorder, RunningServer], delay: float
) -> None:
    recorder, server = recorder_server
    headers = {"x-request-id": "req_123", "content-type": "text/plain", "content-length": "999"}
    chunks = [Chunk(b"ab"), Chunk(b"cd", delay), Chunk(b"", delay), Chunk(b"ef", delay)]
    recorder.response = FakeResponse(418, headers, chunks)
    response = httpx2.get(f"{server.base_url}/v1/models")
    assert response.status_code == 418
    assert response.headers["x-request-id"] == "req_123"
    assert response.headers["content-type"] == "text/plain"
    assert response.content == b"abcdef"
    assert response.headers.get("content-length") in (None, "6")  # the server frames the body


def test_port_in_use_is_a_clear_error(server: RunningServer) -> None:
    with pytest.raises(RuntimeError, match="port"):
        serve_in_thread(FakeProvider(), port=server.port, startup_timeout=5)


# --- the command line -------------------------------------------------------------------------


def test_cli_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "course_helpers.fake", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0
    for option in ("--port", "--host", "--rpm", "--tpm", "--period", "--ttft", "--token-delay"):
        assert option in result.stdout


def test_cli_serves_until_terminated() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "course_helpers.fake", "--port", "0", "--ttft", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    stdout = process.stdout
    assert stdout is not None
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        banner = lines.get(timeout=20)
        match = re.search(r"OPENAI_BASE_URL=(http://127\.0\.0\.1:\d+)/v1", banner)
        assert match, banner
        assert f"ANTHROPIC_BASE_URL={match.group(1)};" in banner
        assert "sk-ant-" in banner
        client = OpenAI(api_key="sk-test-cli", base_url=f"{match.group(1)}/v1", max_retries=0)
        reply = client.chat.completions.create(model=OPENAI_MODEL, messages=FRANCE, temperature=0)
        assert reply.choices[0].message.content == "The capital of France is Paris."
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.stderr is not None
    assert "Traceback" not in process.stderr.read()


@pytest.mark.parametrize("ending", ["hang", "drop"])
@pytest.mark.parametrize("chunks", [[], [Chunk(b'{"partial": ')]])
def test_an_unfinished_body_is_never_passed_off_as_complete(
    recorder_server: tuple[Recorder, RunningServer], ending: Any, chunks: list[Chunk]
) -> None:
    recorder, server = recorder_server
    recorder.response = FakeResponse(200, {}, chunks, ending=ending, hang_seconds=0.05)
    with pytest.raises(httpx2.RemoteProtocolError):
        httpx2.get(f"{server.base_url}/v1/models", timeout=5)
