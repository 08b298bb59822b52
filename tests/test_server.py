"""The SSE relay, served by uvicorn on loopback, streaming from the in-process simulated provider.

The simulated provider (respx) intercepts only the SDKs' provider paths, so the test's own HTTP
client reaches the relay over a real socket while the relay's SDK calls are answered in-process.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI

from course_helpers import errors
from course_helpers.client import LLMClient
from course_helpers.fake import FakeProvider
from course_helpers.retry import RetryPolicy
from course_helpers.server import (
    ExchangeRecord,
    ExchangeStore,
    ServerHandle,
    create_app,
    format_event,
    serve_in_thread,
)

ROOT = Path(__file__).resolve().parents[1]
QUICK = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.01, deadline=None)


def relay_client(**options: Any) -> LLMClient:
    """An LLMClient for one server (its SDK clients belong to that server's event loop)."""
    options.setdefault("retry", QUICK)
    return LLMClient(
        "openai",
        openai_client=AsyncOpenAI(api_key="sk-test-relay"),
        anthropic_client=AsyncAnthropic(api_key="sk-ant-test-relay"),
        **options,
    )


@pytest.fixture(scope="module")
def relay() -> Iterator[ServerHandle]:
    """One relay for the module; each test enters its own FakeProvider, which takes over."""
    with serve_in_thread(create_app(client=relay_client(), max_prompt_chars=300)) as server:
        yield server


def store_of(server: ServerHandle) -> ExchangeStore:
    store: ExchangeStore = server.app.state.store  # type: ignore[attr-defined]
    return store


@dataclass
class Event:
    name: str
    data: Any
    at: float


@dataclass
class Stream:
    """What a client saw of one ``POST /chat``."""

    status: int
    headers: httpx2.Headers
    events: list[Event] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    def named(self, name: str) -> list[Event]:
        return [event for event in self.events if event.name == name]

    @property
    def text(self) -> str:
        return "".join(event.data["text"] for event in self.named("delta"))

    @property
    def exchange_id(self) -> str:
        return str(self.events[0].data["exchange_id"])


def parse_sse(lines: Iterator[str], stream: Stream, stop: Callable[[Stream], bool]) -> None:
    """Collect events (stamped with their arrival time) until the body ends or ``stop`` says so."""
    name, data = "message", []
    for line in lines:
        if line.startswith(":"):
            stream.comments.append(line)
        elif line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data.append(line.removeprefix("data: "))
        elif line == "" and data:
            stream.events.append(Event(name, json.loads("\n".join(data)), time.perf_counter()))
            name, data = "message", []
            if stop(stream):
                return


def chat(
    server: ServerHandle, body: Any, stop: Callable[[Stream], bool] = lambda stream: False
) -> Stream:
    """POST /chat and read the SSE stream; ``stop`` closes the connection early."""
    with httpx2.stream("POST", f"{server.base_url}/chat", json=body, timeout=10) as response:
        stream = Stream(response.status_code, response.headers)
        if response.status_code == 200:
            parse_sse(response.iter_lines(), stream, stop)
        else:
            response.read()
            stream.events.append(Event("http-error", response.json(), time.perf_counter()))
    return stream


def wait_for_row(
    store: ExchangeStore, exchange_id: str, timeout: float = 30.0, *, finished: bool = False
) -> dict[str, Any]:
    """The exchange's row once it is logged (``finished``: once its stream has ended too).

    ``timeout`` only guards against a row that never comes; it is not a performance bound.
    """
    deadline = time.monotonic() + timeout
    while (row := store.get(exchange_id)) is None or (finished and row["outcome"] == "in_progress"):
        assert time.monotonic() < deadline, f"exchange {exchange_id} was never logged"
        time.sleep(0.01)
    return row


# ----------------------------------------------------------------------------- streaming


def test_a_stream_is_start_then_every_delta_then_done(relay: ServerHandle) -> None:
    tokens = 12
    with FakeProvider(seed=3) as fake:
        stream = chat(relay, {"prompt": "Explain streaming", "max_tokens": tokens})
    assert stream.status == 200
    assert stream.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert stream.headers["cache-control"].startswith("no-cache")
    names = [event.name for event in stream.events]
    assert names == ["start"] + ["delta"] * tokens + ["done"]
    assert [call.streamed for call in fake.calls] == [True]


def test_each_delta_is_relayed_before_the_provider_sends_the_next(relay: ServerHandle) -> None:
    # The provider waits ten minutes between tokens: a relay that buffered (or batched two
    # deltas) would have nothing to show for ten minutes. No timing is measured.
    with FakeProvider(token_delay=600.0, seed=3):
        stream = chat(
            relay,
            {"prompt": "Explain streaming", "max_tokens": 12},
            stop=lambda seen: seen.events[-1].name == "delta",
        )
    assert [event.name for event in stream.events] == ["start", "delta"]
    assert stream.text


def test_done_event_carries_usage_timing_and_the_exchange_id(relay: ServerHandle) -> None:
    with FakeProvider(ttft=0.04, seed=5) as fake:
        stream = chat(relay, {"prompt": "Say hi", "model": "claude-haiku-5-5", "max_tokens": 30})
    start, done = stream.named("start")[0].data, stream.named("done")[0].data
    assert start == {
        "exchange_id": done["exchange_id"],
        "provider": "anthropic",
        "model": "claude-haiku-5-5",
    }
    assert stream.headers["x-exchange-id"] == done["exchange_id"]
    usage = fake.calls[-1].usage
    assert usage is not None
    assert done["usage"] == {
        "input_tokens": usage["input_tokens"],
        "output_tokens": usage["output_tokens"],
        "total_tokens": usage["input_tokens"] + usage["output_tokens"],
    }
    assert done["provider"] == "anthropic" and done["model"] == "claude-haiku-5-5"
    assert done["finish_reason"] in ("stop", "length")
    assert 0.04 <= done["ttft_s"] <= done["latency_s"]
    assert done["cost_usd"] > 0
    row = store_of(relay).get(done["exchange_id"])  # logged before "done" was sent
    assert row is not None
    assert row["outcome"] == "complete"
    assert row["text"] == stream.text and row["deltas"] == len(stream.named("delta"))
    assert (row["input_tokens"], row["output_tokens"]) == (
        usage["input_tokens"],
        usage["output_tokens"],
    )
    assert row["messages"] == [{"role": "user", "content": "Say hi"}]
    assert row["ttft_s"] == done["ttft_s"]


def test_messages_and_provider_reach_the_provider(relay: ServerHandle) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Name a colour"},
    ]
    with FakeProvider() as fake:
        stream = chat(relay, {"messages": messages, "provider": "anthropic", "max_tokens": 7})
    sent = fake.calls[-1]
    assert sent.provider == "anthropic" and sent.path.endswith("/v1/messages")
    assert sent.body["system"] == "Be brief."
    assert sent.body["max_tokens"] == 7 and sent.body["stream"] is True
    assert [m["content"] for m in sent.body["messages"]] == ["Hi", "Hello!", "Name a colour"]
    row = wait_for_row(store_of(relay), stream.exchange_id)
    assert row["messages"] == messages and row["prompt"] == "Name a colour"


# ----------------------------------------------------------------------------- disconnects


def test_a_client_that_leaves_half_way_is_logged_once_with_the_partial_text(
    relay: ServerHandle,
) -> None:
    store = store_of(relay)
    before = len(store)
    with FakeProvider(token_delay=0.02, seed=11):
        stream = chat(
            relay,
            {"prompt": "Write a long story", "max_tokens": 400},
            stop=lambda seen: len(seen.named("delta")) == 5,
        )
        row = wait_for_row(store, stream.exchange_id, finished=True)
        time.sleep(0.1)  # a second (wrong) write would land now
        assert len(store) == before + 1
    assert row["outcome"] == "client_disconnected"
    assert row["error_class"] is None and row["output_tokens"] is None
    assert row["text"].startswith(stream.text) and len(stream.text) > 0
    assert row["deltas"] >= 5


def test_a_client_that_leaves_is_noticed_while_the_provider_is_still_streaming(
    relay: ServerHandle,
) -> None:
    # The provider waits ten minutes between tokens: the row can only be there now if the relay
    # saw the client leave and closed the provider's stream without waiting for the next token.
    with FakeProvider(token_delay=600.0, seed=11):
        stream = chat(
            relay,
            {"prompt": "Write a long story", "max_tokens": 400},
            stop=lambda seen: seen.events[-1].name == "delta",
        )
        row = wait_for_row(store_of(relay), stream.exchange_id, finished=True)
    assert row["outcome"] == "client_disconnected"
    assert row["deltas"] == 1 and row["text"] == stream.text


def test_a_client_that_leaves_before_the_first_token_is_logged_without_waiting(
    relay: ServerHandle,
) -> None:
    # Ten minutes to the first token: the row is there only if the relay saw the client leave
    # while the provider was still silent.
    with FakeProvider(ttft=600.0):
        stream = chat(relay, {"prompt": "Hi"}, stop=lambda seen: seen.events[-1].name == "start")
        row = wait_for_row(store_of(relay), stream.exchange_id, finished=True)
    assert row["outcome"] == "client_disconnected"
    assert row["text"] == "" and row["deltas"] == 0 and row["ttft_s"] is None


# ----------------------------------------------------------------------------- provider errors


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_mid_stream_provider_error_reaches_the_browser_and_the_log(
    relay: ServerHandle, provider: str
) -> None:
    with FakeProvider(seed=2) as fake:
        fake.fail_next(mid_stream=True, after_tokens=3)
        stream = chat(relay, {"prompt": "Tell me a story", "provider": provider})
    names = [event.name for event in stream.events]
    assert names == ["start", "delta", "delta", "delta", "error"]
    error = stream.named("error")[0].data
    assert error["exchange_id"] == stream.exchange_id
    detail = error["error"]
    assert issubclass(getattr(errors, detail["class"]), errors.LLMError)
    assert isinstance(detail["retriable"], bool) and detail["message"]
    row = store_of(relay).get(stream.exchange_id)  # logged before the error event was sent
    assert row is not None
    assert row["outcome"] == "provider_error"
    assert row["error_class"] == detail["class"]
    assert row["text"] == stream.text and row["deltas"] == 3
    assert len(fake.calls) == 1  # a stream that has started is never retried


def test_an_error_before_the_first_token_is_retried_then_relayed(relay: ServerHandle) -> None:
    with FakeProvider() as fake:
        fake.fail_next(503, retry_after=0.01)  # retried: the answer still arrives
        ok = chat(relay, {"prompt": "Hi"})
        fake.fail_next(401)  # not retriable: an error event, and nothing else
        failed = chat(relay, {"prompt": "Hi"})
    assert [call.status for call in fake.calls] == [503, 200, 401]
    assert ok.events[-1].name == "done" and ok.text
    assert [event.name for event in failed.events] == ["start", "error"]
    detail = failed.named("error")[0].data["error"]
    assert detail["class"] == "AuthenticationError" and detail["retriable"] is False
    assert detail["status"] == 401
    row = wait_for_row(store_of(relay), failed.exchange_id)
    assert (row["outcome"], row["text"], row["ttft_s"]) == ("provider_error", "", None)


class _BrokenClient(LLMClient):
    def astream(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug in the relay's client")


def test_a_bug_in_the_relay_is_an_error_event_without_internals(tmp_path: Path) -> None:
    client = _BrokenClient("openai", openai_client=AsyncOpenAI(api_key="sk-test-relay"))
    with serve_in_thread(client=client) as server:
        stream = chat(server, {"prompt": "Hi"})
        row = wait_for_row(store_of(server), stream.exchange_id)
    detail = stream.named("error")[0].data["error"]
    assert detail["class"] == "RuntimeError" and "server log" in detail["message"]
    assert "a bug" not in detail["message"]
    assert row["outcome"] == "relay_error" and row["error_class"] == "RuntimeError"


# ----------------------------------------------------------------------------- concurrency


def test_twenty_concurrent_streams_are_relayed_and_logged_completely(relay: ServerHandle) -> None:
    prompts = [f"Question number {index}: what is {index} squared?" for index in range(20)]

    async def one(client: httpx2.AsyncClient, prompt: str) -> tuple[str, str, int]:
        stream = Stream(0, httpx2.Headers())
        body = {"prompt": prompt, "max_tokens": 20}
        async with client.stream("POST", "/chat", json=body) as response:
            stream.status = response.status_code
            lines = [line async for line in response.aiter_lines()]
        parse_sse(iter(lines), stream, lambda seen: False)
        assert stream.events[-1].name == "done", stream.events[-1]
        return stream.exchange_id, stream.text, stream.events[-1].data["usage"]["output_tokens"]

    async def run_all() -> list[tuple[str, str, int]]:
        limits = httpx2.Limits(max_connections=50)
        async with httpx2.AsyncClient(base_url=relay.base_url, timeout=20, limits=limits) as client:
            return await asyncio.gather(*(one(client, prompt) for prompt in prompts))

    with FakeProvider(token_delay=0.01, seed=4) as fake:
        results = asyncio.run(run_all())
    assert len(fake.calls) == 20
    assert len({text for _, text, _ in results}) > 1
    store = store_of(relay)
    for prompt, (exchange_id, text, output_tokens) in zip(prompts, results, strict=True):
        row = store.get(exchange_id)
        assert row is not None
        assert (row["prompt"], row["outcome"]) == (prompt, "complete")
        assert row["text"] == text and len(text) > 0
        assert row["output_tokens"] == output_tokens


def test_streams_are_relayed_side_by_side_not_one_after_another(relay: ServerHandle) -> None:
    # Each provider stream waits ten minutes after its first token: only a relay that serves the
    # twenty streams at once gets a first delta to every client. No timing is measured.
    async def first_delta(client: httpx2.AsyncClient, index: int) -> tuple[str, str]:
        body = {"prompt": f"Question number {index}", "max_tokens": 20}
        async with client.stream("POST", "/chat", json=body) as response:
            name = ""
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: ") and name == "delta":
                    text = str(json.loads(line.removeprefix("data: "))["text"])
                    return response.headers["x-exchange-id"], text
        raise AssertionError(f"stream {index} ended without a delta")

    async def run_all() -> list[tuple[str, str]]:
        limits = httpx2.Limits(max_connections=50)
        async with httpx2.AsyncClient(base_url=relay.base_url, timeout=30, limits=limits) as client:
            return await asyncio.gather(*(first_delta(client, index) for index in range(20)))

    with FakeProvider(token_delay=600.0, seed=4) as fake:
        firsts = asyncio.run(run_all())
        assert len(firsts) == 20 and all(text for _, text in firsts)
        assert len(fake.calls) == 20
        for exchange_id, text in firsts:  # every client left: each exchange ends logged
            row = wait_for_row(store_of(relay), exchange_id, finished=True)
            assert row["outcome"] == "client_disconnected" and row["text"] == text


# ----------------------------------------------------------------------------- validation

BAD_REQUESTS = [
    (b"{not json", 400, "not valid JSON"),
    (b'["Hello"]', 400, "must be a JSON object"),
    (b"{}", 400, 'Missing "messages"'),
    (b'{"messages": []}', 400, "non-empty list"),
    (b'{"messages": "Hello"}', 400, "non-empty list"),
    (b'{"messages": ["Hello"]}', 400, "messages[0] must be an object"),
    (b'{"messages": [{"role": "user"}]}', 400, "messages[0].content must be a non-empty string"),
    (b'{"messages": [{"role": "user", "content": 42}]}', 400, "content must be a non-empty"),
    (b'{"messages": [{"role": "robot", "content": "Hi"}]}', 400, "role must be one of"),
    (b'{"messages": [{"role": "user", "content": "Hi", "name": "x"}]}', 400, "unknown field"),
    (
        b'{"messages": [{"role": "user", "content": "Hi"}, '
        b'{"role": "assistant", "content": "Yo"}]}',
        400,
        "last message must be the user's",
    ),
    (b'{"messages": [{"role": "system", "content": "Be nice"}]}', 400, "add a user message"),
    (b'{"prompt": ""}', 400, '"prompt" must be a non-empty string'),
    (b'{"prompt": ["Hi"]}', 400, '"prompt" must be a non-empty string'),
    (b'{"prompt": "Hi", "messages": []}', 400, "not both"),
    (b'{"prompt": "Hi", "max_token": 5}', 400, "Unknown field(s) 'max_token'"),
    (b'{"prompt": "Hi", "max_tokens": 0}', 400, '"max_tokens" must be a whole number'),
    (b'{"prompt": "Hi", "max_tokens": "10"}', 400, '"max_tokens" must be a whole number'),
    (b'{"prompt": "Hi", "max_tokens": true}', 400, '"max_tokens" must be a whole number'),
    (b'{"prompt": "Hi", "max_tokens": 100000}', 400, "from 1 to 4096"),
    (b'{"prompt": "Hi", "provider": "google"}', 400, "Unknown provider 'google'"),
    (b'{"prompt": "Hi", "provider": 1}', 400, '"provider" must be a string'),
    (b'{"prompt": "Hi", "model": ""}', 400, '"model" must be a non-empty string'),
    (b'{"prompt": "Hi", "provider": "anthropic", "model": "gpt-4o"}', 400, "served by OpenAI"),
    (b'{"prompt": "Hi", "provider": "anthropic", "model": "my-model"}', 400, "not in the model"),
    (b'{"prompt": "' + b"x" * 301 + b'"}', 413, "at most 300"),
    (b'{"prompt": "' + b"x" * 20_000 + b'"}', 413, "request body is"),
]


@pytest.mark.parametrize(("body", "status", "says"), BAD_REQUESTS)
def test_bad_requests_get_a_4xx_that_says_what_to_do(
    relay: ServerHandle, body: bytes, status: int, says: str
) -> None:
    before = len(store_of(relay))
    response = httpx2.post(
        f"{relay.base_url}/chat", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    message = response.json()["error"]["message"]
    assert says in message
    assert len(store_of(relay)) == before  # nothing was sent, so nothing is logged


def test_unknown_paths_and_methods_answer_json_errors(relay: ServerHandle) -> None:
    missing = httpx2.get(f"{relay.base_url}/nope")
    assert missing.status_code == 404 and "POST /chat" in missing.json()["error"]["message"]
    wrong = httpx2.get(f"{relay.base_url}/chat")
    assert wrong.status_code == 405 and "POST /chat" in wrong.json()["error"]["message"]


# ----------------------------------------------------------------------------- history, page


def test_history_lists_exchanges_newest_first(tmp_path: Path) -> None:
    db = tmp_path / "relay.db"
    with FakeProvider(), serve_in_thread(db_path=db, client=relay_client()) as server:
        ids = [
            chat(server, {"prompt": f"Prompt {n}", "max_tokens": 5}).exchange_id for n in range(3)
        ]
        listed = httpx2.get(f"{server.base_url}/history").json()["exchanges"]
        two = httpx2.get(f"{server.base_url}/history", params={"limit": 2}).json()["exchanges"]
        one = httpx2.get(f"{server.base_url}/history/{ids[1]}").json()
        unknown = httpx2.get(f"{server.base_url}/history/abc")
        bad = [httpx2.get(f"{server.base_url}/history?limit={v}") for v in ("0", "x", "501")]
        health = httpx2.get(f"{server.base_url}/healthz").json()
    assert [row["exchange_id"] for row in listed] == ids[::-1]
    assert [row["exchange_id"] for row in two] == ids[:0:-1]
    assert one == listed[1] and one["prompt"] == "Prompt 1"
    assert set(one) == {
        "exchange_id",
        "started_at",
        "finished_at",
        "provider",
        "model",
        "outcome",
        "error_class",
        "error_message",
        "prompt",
        "messages",
        "text",
        "deltas",
        "input_tokens",
        "output_tokens",
        "finish_reason",
        "ttft_s",
        "latency_s",
    }
    assert one["started_at"] <= one["finished_at"]
    assert unknown.status_code == 404 and "GET /history" in unknown.json()["error"]["message"]
    assert all(r.status_code == 400 and "limit" in r.json()["error"]["message"] for r in bad)
    assert health == {"status": "ok", "exchanges": 3}
    # The log is a real file in WAL mode: another connection reads it while the relay runs.
    with sqlite3.connect(db) as reader:
        assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert reader.execute("SELECT COUNT(*) FROM exchanges").fetchone()[0] == 3


def test_the_page_is_self_contained(relay: ServerHandle) -> None:
    response = httpx2.get(relay.base_url + "/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    for element in ('id="prompt"', 'id="send"', 'id="answer"', 'id="ttft"', "getReader"):
        assert element in page
    assert "http://" not in page and "https://" not in page  # no CDN, no external asset
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy


def test_a_heartbeat_keeps_a_silent_stream_alive() -> None:
    app = create_app(client=relay_client(), heartbeat_s=0.05)
    with FakeProvider(ttft=0.3), serve_in_thread(app) as server:
        stream = chat(server, {"prompt": "Hi", "max_tokens": 3})
    assert stream.comments and all(line == ": keep-alive" for line in stream.comments)
    assert stream.events[-1].name == "done"


# ----------------------------------------------------------------------------- pieces


def test_format_event_frames_one_json_line_per_event() -> None:
    frame = format_event("delta", {"text": "line one\nline two"})
    assert frame.endswith(b"\n\n") and frame.count(b"\n") == 3
    name, data = frame.decode().splitlines()[:2]
    assert name == "event: delta"
    assert json.loads(data.removeprefix("data: ")) == {"text": "line one\nline two"}


def test_the_store_writes_each_exchange_once(tmp_path: Path) -> None:
    store = ExchangeStore(tmp_path / "log" / "relay.db")
    record = ExchangeRecord(
        exchange_id="e1",
        messages=[{"role": "user", "content": "Hi"}],
        text="Hel",
        provider="openai",
        model="gpt-5.4-mini",
        outcome="client_disconnected",
    )
    store.write(record)
    with pytest.raises(sqlite3.IntegrityError):
        store.write(record)
    assert len(store) == 1 and store.get("e1") == store.recent(1)[0]
    assert store.get("e2") is None
    store.close()


def test_create_app_refuses_inconsistent_limits() -> None:
    with pytest.raises(ValueError, match="default_max_tokens"):
        create_app(max_tokens=100, default_max_tokens=200)


# ----------------------------------------------------------------------------- the command line


def test_cli_help_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "course_helpers.server", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for option in ("--port", "--host", "--db", "--mode", "--max-prompt-chars"):
        assert option in result.stdout
