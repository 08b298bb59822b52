"""Every bad input a clear 4xx, every connection bounded: the relay and the simulated provider.

Both servers run on loopback over real sockets. The relay streams from the simulated provider's
HTTP server (no respx), so every request in this module goes over the wire, sent by hand with raw
sockets: that is the only way to send what HTTP clients refuse to (half a request head, a body
that never ends, conflicting framing, garbage).

The timeout tests use servers with short timeouts passed as parameters. ``exchange`` reads until
the server closes the connection; its ``guard`` only turns a connection held forever into a
failure, it is not a bound on how fast the server must be.
"""

from __future__ import annotations

import importlib.util
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from anthropic import AsyncAnthropic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai import AsyncOpenAI

from course_helpers import safe_json, serving
from course_helpers.client import LLMClient
from course_helpers.fake import FakeProvider
from course_helpers.fake import asgi as fake_asgi
from course_helpers.fake.exchange import FakeRequest
from course_helpers.http_guard import GuardPolicy, check_head
from course_helpers.retry import RetryPolicy
from course_helpers.server import ExchangeStore, create_app
from course_helpers.server import runner as relay_runner
from course_helpers.serving import ConnectionLimits, ServerHandle

GUARD = 30.0  # seconds before a connection the server never closes fails the test
FUZZ = settings(
    max_examples=40,
    deadline=None,  # no timing assertions
    derandomize=True,  # the same examples every run: a failure is a bug, never luck
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
OPENAI_BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}
ANTHROPIC_BODY = {**OPENAI_BODY, "max_tokens": 20}
AUTH = {
    "/v1/chat/completions": {"authorization": "Bearer sk-test-guards"},
    "/v1/messages": {"x-api-key": "sk-ant-test-guards", "anthropic-version": "2023-06-01"},
}
JSON = {"content-type": "application/json"}


# ----------------------------------------------------------------------------- raw HTTP


@dataclass
class Reply:
    """One response as bytes on the wire: status, headers (lower-case names), body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def message(self) -> str:
        error = self.json()["error"]
        return str(error["message"])


def exchange(port: int, data: bytes, guard: float = GUARD) -> bytes:
    """Send ``data`` and return all the server sends until it closes the connection."""
    received: list[bytes] = []
    with socket.create_connection(("127.0.0.1", port), timeout=guard) as sock:
        if data:
            sock.sendall(data)
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break  # closed while our unread bytes were still in its buffer: closed all the same
            except TimeoutError:
                pytest.fail(f"the server still held the connection after {guard} s")
            if not chunk:
                break
            received.append(chunk)
    return b"".join(received)


def read_one(sock: socket.socket) -> Reply:
    """One response with a ``content-length`` from an open connection, leaving it open."""
    raw = b""
    while b"\r\n\r\n" not in raw or len(raw) < _framed_length(raw):
        chunk = sock.recv(65536)
        assert chunk, f"closed before the whole response came: {raw!r}"
        raw += chunk
    return parse(raw)


def _framed_length(raw: bytes) -> int:
    head, _, _ = raw.partition(b"\r\n\r\n")
    return len(head) + 4 + int(parse(head + b"\r\n\r\n").headers["content-length"])


def parse(raw: bytes) -> Reply:
    """The first response in ``raw`` (body framed by content-length or chunked)."""
    head, _, rest = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = rest[: int(headers["content-length"])]
    elif headers.get("transfer-encoding") == "chunked":
        body = b""
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                break
            body += rest[:size]
            rest = rest[size + 2 :]
    else:
        body = rest
    return Reply(int(status_line.split()[1]), headers, body)


def request(
    method: str,
    path: str,
    port: int,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    host: str | None = None,
    close: bool = True,
) -> bytes:
    """A request as bytes; ``Host`` is ``127.0.0.1:port`` unless given."""
    fields = {"host": host if host is not None else f"127.0.0.1:{port}", **(headers or {})}
    if body is not None:
        fields.setdefault("content-length", str(len(body)))
    if close:
        fields["connection"] = "close"
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
    return head.encode("latin-1") + b"\r\n" + (body or b"")


def send(method: str, path: str, port: int, **options: Any) -> Reply:
    """One request on its own connection; the reply, once the server has closed the connection."""
    return parse(exchange(port, request(method, path, port, **options)))


# ----------------------------------------------------------------------------- servers


@pytest.fixture(scope="module")
def fake_server() -> Iterator[ServerHandle]:
    """The simulated provider over HTTP, with a small body limit and the default timeouts."""
    with fake_asgi.serve_in_thread(FakeProvider(seed=12), max_body_bytes=64_000) as server:
        yield server


@pytest.fixture(scope="module")
def relay(fake_server: ServerHandle) -> Iterator[ServerHandle]:
    """The relay, streaming from ``fake_server`` over HTTP, with the default timeouts."""
    with serving.serve_in_thread(create_app(client=relay_client(fake_server))) as server:
        yield server


def relay_client(fake_server: ServerHandle) -> LLMClient:
    return LLMClient(
        "openai",
        openai_client=AsyncOpenAI(api_key="sk-test-guards", base_url=f"{fake_server.base_url}/v1"),
        anthropic_client=AsyncAnthropic(
            api_key="sk-ant-test-guards", base_url=fake_server.base_url
        ),
        retry=RetryPolicy(max_attempts=1, deadline=None),
    )


SHORT = ConnectionLimits(header_timeout=2.0, idle_timeout=1.0)
SHORT_BODY = 0.5


@pytest.fixture(scope="module", params=["relay", "fake"])
def short(request: pytest.FixtureRequest) -> Iterator[tuple[str, ServerHandle]]:
    """Each server with short timeouts, for the tests that misbehave on purpose."""
    if request.param == "relay":
        app = create_app(body_timeout=SHORT_BODY)
        path = "/chat"
    else:
        app = fake_asgi.create_app(FakeProvider(), body_timeout=SHORT_BODY)
        path = "/v1/messages"
    with serving.serve_in_thread(app, limits=SHORT) as server:
        yield path, server


def store_of(server: ServerHandle) -> ExchangeStore:
    store: ExchangeStore = server.app.state.store  # type: ignore[attr-defined]
    return store


# ----------------------------------------------------------------------------- timeouts


def test_a_connection_that_never_speaks_is_closed(short: tuple[str, ServerHandle]) -> None:
    assert exchange(short[1].port, b"") == b""


def test_a_request_head_that_never_ends_gets_408_and_is_closed(
    short: tuple[str, ServerHandle],
) -> None:
    reply = parse(exchange(short[1].port, b"POST /chat HTTP/1.1\r\nHost: 127.0.0.1\r\n"))
    assert reply.status == 408
    assert "did not arrive within 2 s" in reply.message
    assert reply.headers["x-content-type-options"] == "nosniff"


def test_a_second_request_head_that_never_ends_is_closed(short: tuple[str, ServerHandle]) -> None:
    # uvicorn alone stops its keep-alive timer on any byte, so a dribbled second head hung forever.
    port = short[1].port
    with socket.create_connection(("127.0.0.1", port), timeout=GUARD) as sock:
        sock.sendall(request("GET", "/healthz", port, close=False))
        first = read_one(sock)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127")
        rest = b""
        while chunk := sock.recv(65536):  # a TimeoutError after GUARD s fails the test
            rest += chunk
    assert first.status in (200, 404)  # the fake has no /healthz
    # Usually a 408 once the head is late; a client slower than the idle timeout to send its
    # first byte sees the idle close instead. Either way the connection did not hang.
    assert rest == b"" or parse(rest).status == 408


def test_a_body_that_never_ends_gets_408_and_is_closed(short: tuple[str, ServerHandle]) -> None:
    path, server = short
    headers = {**JSON, "content-length": "100", **AUTH.get(path, {})}
    raw = request("POST", path, server.port, headers=headers, body=b'{"prompt": ', close=False)
    reply = parse(exchange(server.port, raw))
    assert reply.status == 408
    assert "did not arrive within 0.5 s" in reply.message
    assert reply.headers["connection"] == "close"


def test_transfer_encoding_with_content_length_is_refused(
    short: tuple[str, ServerHandle],
) -> None:
    path, server = short
    headers = {**JSON, "transfer-encoding": "chunked", "content-length": "2"}
    reply = send("POST", path, server.port, headers=headers, body=b"{}", close=False)
    assert reply.status == 400
    assert "both Transfer-Encoding and Content-Length" in reply.message


def test_a_request_that_is_not_http_is_a_json_400(short: tuple[str, ServerHandle]) -> None:
    reply = parse(exchange(short[1].port, b"\x16\x03\x01 not http at all\r\n\r\n"))
    assert reply.status == 400
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert "not valid HTTP/1.1" in reply.message


def test_connections_past_the_cap_get_503_and_the_cap_frees_up() -> None:
    limits = ConnectionLimits(header_timeout=60.0, max_connections=3)
    with serving.serve_in_thread(create_app(), limits=limits) as server:
        held = [socket.create_connection(("127.0.0.1", server.port), timeout=GUARD) for _ in "abc"]
        try:
            reply = parse(exchange(server.port, b""))
            assert reply.status == 503
            assert reply.headers["retry-after"] == "1"
            assert "3 open connections" in reply.message
        finally:
            for sock in held:
                sock.close()
        # The server notices the closes in its own time: poll, with GUARD only as a failure guard.
        statuses = []
        for _ in range(3000):
            statuses.append(send("GET", "/healthz", server.port).status)
            if statuses[-1] == 200:
                break
        assert statuses[-1] == 200, statuses[-5:]


def test_the_relays_own_runner_passes_its_connection_limits_on() -> None:
    limits = ConnectionLimits(header_timeout=60.0, max_connections=1)
    with relay_runner.serve_in_thread(limits=limits) as server:
        held = socket.create_connection(("127.0.0.1", server.port), timeout=GUARD)
        try:
            reply = parse(exchange(server.port, b""))
        finally:
            held.close()
    assert reply.status == 503 and "1 open connections" in reply.message


# ----------------------------------------------------------------------------- host, origin


@pytest.mark.parametrize("path", ["/history", "/healthz", "/"])
def test_a_foreign_host_name_reads_nothing(relay: ServerHandle, path: str) -> None:
    reply = send("GET", path, relay.port, host="evil.example")
    assert reply.status == 400
    assert "'evil.example'" in reply.message and "--allow-host" in reply.message
    assert b"exchanges" not in reply.body


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1", "[::1]", "LOCALHOST."])
def test_loopback_host_names_are_answered(relay: ServerHandle, name: str) -> None:
    assert send("GET", "/healthz", relay.port, host=f"{name}:{relay.port}").status == 200


def test_the_fake_refuses_a_foreign_host_in_the_providers_shape(fake_server: ServerHandle) -> None:
    reply = send("GET", "/v1/models", fake_server.port, host="evil.example:80")
    assert reply.status == 400
    assert reply.json()["error"]["type"] == "invalid_request_error"
    assert reply.json()["error"]["code"] == "host"


def test_a_cross_origin_text_plain_post_spends_nothing(relay: ServerHandle) -> None:
    before = len(store_of(relay))
    headers = {"origin": "https://evil.example", "content-type": "text/plain"}
    reply = send("POST", "/chat", relay.port, headers=headers, body=b'{"prompt": "Hi"}')
    assert reply.status == 403
    assert "https://evil.example" in reply.message
    assert len(store_of(relay)) == before


@pytest.mark.parametrize("origin", ["null", "http://localhost:1", "http://127.0.0.1"])
def test_other_origins_are_refused(relay: ServerHandle, origin: str) -> None:
    headers = {"origin": origin, **JSON}
    reply = send("POST", "/chat", relay.port, headers=headers, body=b'{"prompt": "Hi"}')
    assert reply.status == 403


def test_the_relays_own_page_may_post(relay: ServerHandle) -> None:
    headers = {"origin": f"http://127.0.0.1:{relay.port}", **JSON}
    reply = send("POST", "/chat", relay.port, headers=headers, body=b'{"prompt": "Hi"}')
    assert reply.status == 200
    assert b"event: done" in reply.body
    assert reply.headers["x-content-type-options"] == "nosniff"


def test_allowed_hosts_and_origins_extend_the_defaults() -> None:
    policy = GuardPolicy.of(
        max_body_bytes=10,
        allowed_hosts=["Relay.Test"],
        allowed_origins=["http://localhost:8888"],
    )

    def scope(**headers: str) -> dict[str, Any]:
        raw = [(name.encode(), value.encode()) for name, value in headers.items()]
        return {"type": "http", "scheme": "http", "server": ("127.0.0.1", 8000), "headers": raw}

    assert check_head(scope(host="relay.test:8000"), policy) is None
    assert check_head(scope(host="other.test:8000"), policy) is not None
    assert check_head(scope(host="127.0.0.1:8000", origin="http://localhost:8888"), policy) is None
    assert check_head(scope(host="127.0.0.1:8000", origin="http://localhost:8889"), policy)
    everyone = GuardPolicy.of(max_body_bytes=10, allowed_hosts=["*"])
    assert check_head(scope(host="anything.example"), everyone) is None
    with pytest.raises(ValueError, match="not an origin"):
        GuardPolicy.of(max_body_bytes=10, allowed_origins=["localhost:8888"])


# ----------------------------------------------------------------------------- content


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""]
)
def test_a_body_that_is_not_declared_json_gets_415(relay: ServerHandle, content_type: str) -> None:
    headers = {"content-type": content_type} if content_type else {}
    reply = send("POST", "/chat", relay.port, headers=headers, body=b'{"prompt": "Hi"}')
    assert reply.status == 415
    assert "Content-Type: application/json" in reply.message


def test_json_with_a_charset_is_json(relay: ServerHandle) -> None:
    headers = {"content-type": "application/json; charset=utf-8"}
    assert (
        send("POST", "/chat", relay.port, headers=headers, body=b'{"prompt": "Hi"}').status == 200
    )


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"[" * 1000 + b"]" * 1000, "nested 1000 levels deep"),
        (b'{"prompt": "Hi", "max_tokens": ' + b"9" * 5000 + b"}", "5000 characters long"),
        (b'{"prompt": "Hi", "max_tokens": 1e999}', "too large to be a finite number"),
        (b'{"prompt": "Hi", "max_tokens": NaN}', "NaN is not JSON"),
        (b'{"prompt": "\\ud800"}', '"prompt" holds invalid text'),
        (b'{"messages": [{"role": "user", "content": "a\\udfffb"}]}', "messages[0].content"),
        (b'{"prompt": "Hi", "model": "\\udc00"}', '"model" holds invalid text'),
        (b'{"prompt": "\xff"}', "not UTF-8"),
    ],
)
def test_hostile_json_is_a_clear_400_and_logs_nothing(
    relay: ServerHandle, body: bytes, says: str
) -> None:
    before = len(store_of(relay))
    reply = send("POST", "/chat", relay.port, headers=JSON, body=body)
    assert reply.status == 400
    assert says in reply.message
    assert len(store_of(relay)) == before


def test_a_lone_surrogate_names_its_place_and_what_to_do(relay: ServerHandle) -> None:
    reply = send("POST", "/chat", relay.port, headers=JSON, body=b'{"prompt": "ab\\ud800"}')
    assert "character 2 is a lone surrogate" in reply.message
    assert "Send the whole character" in reply.message


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
@pytest.mark.parametrize(
    "value", [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"[" * 1000 + b"]" * 1000]
)
def test_the_fake_refuses_non_standard_json_as_the_real_apis_do(
    fake_server: ServerHandle, path: str, value: bytes
) -> None:
    body = json.dumps(ANTHROPIC_BODY).encode()[:-1] + b', "temperature": ' + value + b"}"
    reply = send("POST", path, fake_server.port, headers={**JSON, **AUTH[path]}, body=body)
    assert reply.status == 400
    assert "error" in reply.json()


def test_the_fake_core_refuses_nan_without_any_server() -> None:
    body = json.dumps(ANTHROPIC_BODY).encode()[:-1] + b', "temperature": NaN}'
    fake = FakeProvider()
    answer = fake.handle(
        FakeRequest("POST", "/v1/chat/completions", {**JSON, **AUTH["/v1/chat/completions"]}, body)
    )
    assert answer is not None and answer.status == 400
    assert b"could not parse the JSON body" in answer.body


@pytest.mark.parametrize(
    ("path", "shape"),
    [("/v1/messages", "request_too_large"), ("/v1/chat/completions", "too_large")],
)
def test_a_declared_body_over_the_limit_is_refused_unread(
    fake_server: ServerHandle, path: str, shape: str
) -> None:
    # Content-Length says 10 MB and nothing follows: the answer cannot wait for the body.
    headers = {**JSON, **AUTH[path], "content-length": str(10_000_000)}
    reply = parse(
        exchange(fake_server.port, request("POST", path, fake_server.port, headers=headers))
    )
    assert reply.status == 413
    error = reply.json()["error"]
    assert shape in (error["type"], error.get("code"))
    assert "at most 64000" in error["message"]


def test_a_chunked_body_over_the_limit_is_cut_off(fake_server: ServerHandle) -> None:
    chunk = b"1000\r\n" + b" " * 0x1000 + b"\r\n"
    headers = {**JSON, **AUTH["/v1/messages"], "transfer-encoding": "chunked"}
    raw = request("POST", "/v1/messages", fake_server.port, headers=headers) + chunk * 20
    reply = parse(exchange(fake_server.port, raw))
    assert reply.status == 413
    assert reply.json()["error"]["type"] == "request_too_large"


@pytest.mark.parametrize("path", ["/", "/healthz", "/history", "/nope"])
def test_every_relay_response_says_nosniff(relay: ServerHandle, path: str) -> None:
    assert send("GET", path, relay.port).headers["x-content-type-options"] == "nosniff"


# ----------------------------------------------------------------------------- fuzzing


def json_values() -> st.SearchStrategy[Any]:
    """JSON values, with the awkward ones: any code point (lone surrogates too), big numbers."""
    text = st.text(st.characters(codec=None, exclude_categories=()), max_size=20)
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
        max_leaves=20,
    )


def chat_like() -> st.SearchStrategy[Any]:
    """Bodies close enough to valid ones to reach the deeper checks."""
    message = st.fixed_dictionaries(
        {
            "role": st.sampled_from(["user", "system", "assistant", "robot"]),
            "content": json_values(),
        }
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "prompt": json_values(),
            "messages": st.lists(message, max_size=3),
            "model": st.sampled_from(["gpt-4o-mini", "claude-haiku-5-5", "nope"]) | json_values(),
            "max_tokens": st.integers(-5, 10_000) | json_values(),
            "provider": st.sampled_from(["openai", "anthropic", "google"]),
        },
    )


def assert_clean(reply: Reply) -> None:
    assert reply.status < 500, reply.body[:300]
    assert reply.headers["x-content-type-options"] == "nosniff"
    if reply.status >= 400:
        assert reply.headers["content-type"] == "application/json"
        assert reply.json()["error"]["message"]


@FUZZ
@given(body=st.binary(max_size=300))
def test_fuzz_relay_random_bytes(relay: ServerHandle, body: bytes) -> None:
    assert_clean(send("POST", "/chat", relay.port, headers=JSON, body=body))


@FUZZ
@given(value=json_values() | chat_like())
def test_fuzz_relay_random_json(relay: ServerHandle, value: Any) -> None:
    body = json.dumps(value).encode()
    assert_clean(send("POST", "/chat", relay.port, headers=JSON, body=body))


@FUZZ
@given(
    path=st.sampled_from(["/v1/chat/completions", "/v1/messages", "/v1/messages/count_tokens"]),
    extra=st.dictionaries(
        st.sampled_from(["temperature", "max_tokens", "stream", "messages", "model", "system"]),
        json_values(),
        max_size=3,
    ),
)
def test_fuzz_fake_random_json(fake_server: ServerHandle, path: str, extra: dict[str, Any]) -> None:
    body = json.dumps({**ANTHROPIC_BODY, **extra}).encode()
    auth = AUTH["/v1/messages" if "messages" in path else path]
    assert_clean(send("POST", path, fake_server.port, headers={**JSON, **auth}, body=body))


HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)


@FUZZ
@given(
    which=st.sampled_from(["relay", "fake"]),
    host=HEADER_TEXT,
    origin=st.none() | HEADER_TEXT,
    content_type=st.none() | HEADER_TEXT | st.sampled_from(["application/json", "text/plain"]),
)
def test_fuzz_headers(
    relay: ServerHandle,
    fake_server: ServerHandle,
    which: str,
    host: str,
    origin: str | None,
    content_type: str | None,
) -> None:
    server, path = (relay, "/chat") if which == "relay" else (fake_server, "/v1/chat/completions")
    headers = {**AUTH.get(path, {})}
    if origin is not None:
        headers["origin"] = origin
    if content_type is not None:
        headers["content-type"] = content_type
    reply = send("POST", path, server.port, headers=headers, host=host, body=b'{"prompt": "Hi"}')
    assert reply.status < 500
    assert reply.headers["x-content-type-options"] == "nosniff"


@FUZZ
@given(data=st.binary(max_size=200))
def test_fuzz_safe_json_only_ever_raises_invalid_json(data: bytes) -> None:
    try:
        safe_json.loads(data)
    except safe_json.InvalidJSON as exc:
        assert str(exc)


# ----------------------------------------------------------------------------- a real browser

CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(
    not CHROMIUM.exists() or importlib.util.find_spec("playwright") is None,
    reason=f"needs {CHROMIUM} (apt-get install chromium) and the playwright package",
)
def test_a_page_from_another_origin_cannot_make_the_relay_spend(
    relay: ServerHandle, fake_server: ServerHandle, tmp_path: Path
) -> None:
    # The "other site" is the simulated provider's origin (loopback too, so Chromium's private
    # network rules stay out of it): a page there posts to the relay as an attack would, text/plain
    # in no-cors mode (no preflight), and as JSON (preflighted). Neither may reach the provider.
    from playwright.sync_api import sync_playwright

    attack = """async (url) => {
        const results = [];
        for (const [mode, type] of [["no-cors", "text/plain"], ["cors", "application/json"]]) {
            try {
                const response = await fetch(url, {method: "POST", mode: mode,
                    headers: {"content-type": type}, body: '{"prompt": "Spend credits"}'});
                await response.text();
                results.push(mode + ": " + response.type + " " + response.status);
            } catch (error) {
                results.push(mode + ": " + error.name);
            }
        }
        return results;
    }"""
    before = len(store_of(relay))
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            page = context.new_page()
            page.goto(f"{fake_server.base_url}/v1/models")  # any page of the other origin
            results = page.evaluate(attack, f"{relay.base_url}/chat")
        finally:
            context.close()
    assert results == ["no-cors: opaque 0", "cors: TypeError"], results
    assert len(store_of(relay)) == before
