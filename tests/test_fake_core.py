"""The simulated provider's core, limits and respx adapter, without the SDKs where possible."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from support import ManualClock

from course_helpers.fake import FakeProvider, FakeRequest, mask_key, provider_of, respx_adapter
from course_helpers.fake.limits import RateLimits, go_duration, key_id, rfc3339

OPENAI_KEY = "sk-test-core-000000001234"
ANTHROPIC_KEY = "sk-ant-test-core-00005678"
ASK = [{"role": "user", "content": "Say something about rate limits"}]


def chat_request(**body: Any) -> FakeRequest:
    payload = {"model": "gpt-4o-mini", "messages": ASK, **body}
    return FakeRequest(
        "POST",
        "/v1/chat/completions",
        {"authorization": f"Bearer {OPENAI_KEY}", "content-type": "application/json"},
        json.dumps(payload).encode(),
    )


def messages_request(**body: Any) -> FakeRequest:
    payload = {"model": "claude-haiku-5-5", "max_tokens": 50, "messages": ASK, **body}
    return FakeRequest(
        "POST",
        "/v1/messages",
        {"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"},
        json.dumps(payload).encode(),
    )


@pytest.fixture
def local_server() -> Iterator[str]:
    """A loopback HTTP server that answers every request with its own marker."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = json.dumps({"served_by": "local", "path": self.path}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# ----------------------------------------------------------------------------- the seam
def test_handle_is_adapter_agnostic() -> None:
    fake = FakeProvider(ttft=0.25, token_delay=0.01)
    response = fake.handle(chat_request(max_tokens=8))
    assert response is not None and response.status == 200 and response.ending == "complete"
    [chunk] = response.chunks
    assert chunk.delay == pytest.approx(0.25 + 8 * 0.01)
    assert json.loads(response.body)["usage"]["completion_tokens"] == 8
    stream = fake.handle(chat_request(max_tokens=3, stream=True))
    assert stream is not None
    delays = [
        c.delay for c in stream.chunks if b'"content":"' in c.data and b'"role"' not in c.data
    ]
    assert delays == [0.25, 0.01, 0.01]
    assert stream.chunks[-1].data == b"data: [DONE]\n\n"


def test_provider_detection_and_pass_through_decisions() -> None:
    assert provider_of(chat_request()) == "openai"
    assert provider_of(messages_request()) == "anthropic"
    models = FakeRequest("GET", "/v1/models", {"anthropic-version": "2023-06-01"})
    assert provider_of(models) == "anthropic"
    assert provider_of(FakeRequest("GET", "/v1/models", {})) == "openai"
    assert provider_of(FakeRequest("GET", "/api/relay", {})) is None
    only_openai = FakeProvider(providers=("openai",))
    assert only_openai.handle(messages_request()) is None
    assert only_openai.handle(FakeRequest("GET", "/health", {})) is None
    assert only_openai.handle(chat_request()) is not None
    assert only_openai.calls and all(c.provider == "openai" for c in only_openai.calls)


def test_calls_mask_keys_and_record_faults() -> None:
    fake = FakeProvider()
    fake.fail_next(500)
    fake.handle(chat_request())
    fake.handle(messages_request())
    first, second = fake.calls
    assert (first.status, first.fault, second.status, second.fault) == (500, "500", 200, None)
    assert first.headers["authorization"] == "Bearer sk-…1234"
    assert second.headers["x-api-key"] == "sk-…5678"
    stored = repr(fake.calls) + repr(vars(fake)) + repr(vars(fake.rate_limits["openai"]))
    assert OPENAI_KEY not in stored and ANTHROPIC_KEY not in stored
    assert key_id(OPENAI_KEY) in stored  # buckets are keyed by a hash


def test_mask_key() -> None:
    assert mask_key("sk-proj-abcdefghijklmnop") == "sk-…mnop"
    assert mask_key("short") == "****"  # too short to be a key: hidden whole


def test_reset_clears_calls_faults_and_limits() -> None:
    fake = FakeProvider(rpm=1, clock=ManualClock())
    fake.fail_next(503, times=2)
    fake.handle(chat_request())
    assert fake.handle(chat_request()).status == 503  # type: ignore[union-attr]
    fake.reset()
    assert fake.calls == [] and fake.pending_faults == []
    assert fake.handle(chat_request()).status == 200  # type: ignore[union-attr]
    assert fake.handle(chat_request()).status == 429  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((), {}), ((200,), {}), ((), {"hang": True, "drop": True}), ((500,), {"times": 0})],
)
def test_fail_next_rejects_nonsense(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        FakeProvider().fail_next(*args, **kwargs)


def test_scripted_fault_not_used_by_invalid_requests() -> None:
    fake = FakeProvider()
    fake.fail_next(500)
    assert fake.handle(chat_request(temperature=9)).status == 400  # type: ignore[union-attr]
    assert fake.handle(chat_request()).status == 500  # type: ignore[union-attr]


def test_random_faults_are_reproducible_for_a_seed() -> None:
    def statuses(seed: int) -> list[int | None]:
        fake = FakeProvider(fault_rate=0.4, fault_statuses=(429, 500, 529), seed=seed)
        for _ in range(30):
            fake.handle(chat_request())
        return [c.status for c in fake.calls]

    first = statuses(7)
    assert first == statuses(7)
    assert {200, 429, 500, 503} <= set(first)  # 529 is OpenAI's 503
    assert 4 <= first.count(200) <= 26
    assert first != statuses(8)


def test_random_fault_kinds() -> None:
    fake = FakeProvider(fault_rate=1.0, fault_statuses=("drop",))
    response = fake.handle(chat_request())
    assert response is not None and response.ending == "drop" and response.chunks == []
    assert fake.calls[0].fault == "drop" and fake.calls[0].status is None
    with pytest.raises(ValueError, match="unknown fault"):
        FakeProvider(fault_statuses=("explode",))


def test_concurrent_requests_respect_the_limit() -> None:
    fake = FakeProvider(rpm=50, clock=ManualClock())
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: fake.handle(chat_request()).status, range(80)))  # type: ignore[union-attr]
    assert statuses.count(200) == 50 and statuses.count(429) == 30
    assert len(fake.calls) == 80


# ----------------------------------------------------------------------------- the calls log
def test_calls_keep_only_the_newest_requests() -> None:
    fake = FakeProvider(keep_calls=3)
    for number in range(10):
        fake.handle(chat_request(seed=number))
    kept = fake.calls
    assert [call.body["seed"] for call in kept] == [7, 8, 9]  # the oldest dropped first
    assert fake.call_count == 10
    assert kept[-1] is fake.calls[-1] and [c.body["seed"] for c in fake.calls[:2]] == [7, 8]
    fake.reset()
    assert fake.calls == [] and fake.call_count == 0


def test_the_default_log_is_bounded_and_above_what_the_course_uses() -> None:
    from course_helpers.fake.core import DEFAULT_KEEP_CALLS

    fake = FakeProvider()
    for _ in range(DEFAULT_KEEP_CALLS + 25):
        fake.handle(chat_request())
    assert len(fake.calls) == DEFAULT_KEEP_CALLS >= 10 * 80  # 80: the most a test records
    assert fake.call_count == DEFAULT_KEEP_CALLS + 25


def test_keep_calls_zero_keeps_none_and_negative_is_refused() -> None:
    fake = FakeProvider(keep_calls=0)
    response = fake.handle(chat_request())
    assert response is not None and response.status == 200
    assert fake.calls == [] and fake.call_count == 1
    with pytest.raises(ValueError, match="keep_calls"):
        FakeProvider(keep_calls=-1)


# ----------------------------------------------------------------------------- limits
def test_go_durations_and_rfc3339() -> None:
    assert [go_duration(s) for s in (0, 0.012, 1, 8.71, 60, 179.56, 3600)] == [
        "0s",
        "12ms",
        "1s",
        "8.71s",
        "1m0s",
        "2m59.56s",
        "1h0m0s",
    ]
    assert rfc3339(1767225600.2) == "2026-01-01T00:00:01Z"


def test_bucket_refills_continuously_and_refuses_oversized(clock: ManualClock) -> None:
    limits = RateLimits({"requests": 10, "tokens": 100}, period=10.0, clock=clock)
    assert limits.charge("k", {"requests": 1, "tokens": 100}).allowed
    refused = limits.charge("k", {"requests": 1, "tokens": 30})
    assert not refused.allowed and refused.exceeded == "tokens"
    assert refused.wait == pytest.approx(3.0) and refused.used == 100
    assert limits.peek("k")["requests"].remaining == 9  # nothing charged on refusal
    clock.now = 3.0
    assert limits.charge("k", {"requests": 1, "tokens": 30}).allowed
    assert limits.charge("k", {"tokens": 101}).wait == float("inf")
    assert limits.peek("other")["tokens"].remaining == 100
    with pytest.raises(ValueError):
        RateLimits({"requests": 0}, clock=clock)


# ----------------------------------------------------------------------------- respx adapter
def test_stack_inner_takes_over_then_outer_answers_again() -> None:
    client = openai.OpenAI(api_key=OPENAI_KEY, max_retries=0)

    def ask() -> None:
        client.chat.completions.create(model="gpt-4o-mini", messages=ASK)

    with FakeProvider() as outer:
        ask()
        with FakeProvider() as inner:
            assert respx_adapter.active() is inner
            ask()
            ask()
        assert respx_adapter.active() is outer
        ask()
    assert (len(outer.calls), len(inner.calls)) == (2, 2)
    assert respx_adapter.active() is None


def test_start_stop_out_of_order() -> None:
    first, second = FakeProvider().start(), FakeProvider().start()
    try:
        first.stop()  # stopping a provider that is not on top keeps the top one answering
        assert respx_adapter.active() is second
        with pytest.raises(RuntimeError):
            second.start()
    finally:
        second.stop()
        first.stop()  # idempotent
    assert respx_adapter.active() is None


def test_loopback_requests_pass_through(local_server: str) -> None:
    with FakeProvider() as fake:
        response = httpx2.get(f"{local_server}/relay/stream")
        assert response.json() == {"served_by": "local", "path": "/relay/stream"}
    assert fake.calls == []


def test_unsimulated_provider_passes_through(local_server: str) -> None:
    respx_adapter.answer_at(local_server)  # the course's own base URL: answered like the hosts
    try:
        with FakeProvider(providers=("anthropic",)) as fake:
            response = httpx2.post(
                f"{local_server}/v1/chat/completions",
                headers={"authorization": f"Bearer {OPENAI_KEY}"},
                json={"model": "gpt-4o-mini", "messages": ASK},
            )
            assert response.json()["served_by"] == "local"
            simulated = httpx2.post(
                f"{local_server}/v1/messages",
                headers={"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"},
                json={"model": "claude-haiku-5-5", "max_tokens": 5, "messages": ASK},
            )
            assert simulated.json()["type"] == "message"
    finally:
        respx_adapter.forget(local_server)
    assert [c.provider for c in fake.calls] == ["anthropic"]


def test_bypassed_origin_is_never_intercepted(local_server: str) -> None:
    host, port = local_server.removeprefix("http://").split(":")
    respx_adapter.bypass(host, int(port))
    with FakeProvider():
        response = httpx2.post(f"{local_server}/v1/chat/completions", json={})
    assert response.json()["served_by"] == "local"


# --- structure --------------------------------------------------------------------------------

FAKE_DIR = Path(__file__).resolve().parents[1] / "course_helpers" / "fake"
LEAVES = ("exchange", "wire", "faults", "completion", "response_store", "responses_wire")
DIALECT_MODULES = ("openai", "responses", "anthropic")


def runtime_imports(module: str) -> set[str]:
    """The ``course_helpers.fake`` modules ``module`` imports when it runs (not for typing)."""
    tree = ast.parse((FAKE_DIR / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue  # a typing-only import is no runtime dependency
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "course_helpers.fake":
                    found.update(alias.name for alias in node.names)
                elif node.module.startswith("course_helpers.fake."):
                    found.add(node.module.removeprefix("course_helpers.fake."))
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    visit([child])

    visit(tree.body)
    return found


@pytest.mark.parametrize("module", LEAVES)
def test_shared_wire_helpers_are_leaves(module: str) -> None:
    imported = runtime_imports(module)
    assert not imported & {"core", "dialects", *DIALECT_MODULES}, imported


@pytest.mark.parametrize("module", DIALECT_MODULES)
def test_dialects_do_not_import_the_core(module: str) -> None:
    assert "core" not in runtime_imports(module)


def test_the_core_reaches_the_dialects_only_through_the_registry() -> None:
    imported = runtime_imports("core")
    assert "dialects" in imported
    assert not imported & set(DIALECT_MODULES)


def test_the_three_dialects_are_registered_in_one_place() -> None:
    from course_helpers.fake import dialects

    names = [(d.name, d.provider) for d in dialects.DIALECTS]
    assert names == [
        ("responses", "openai"),
        ("chat_completions", "openai"),
        ("messages", "anthropic"),
    ]


def test_importing_the_fake_does_not_import_respx() -> None:
    code = (
        "import sys, course_helpers.fake, course_helpers.fake.asgi\n"
        "print(sorted(m for m in ('respx', 'pytest_httpx2') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def test_ids_are_fresh_without_a_seed_and_reproducible_with_one() -> None:
    def first_ids(fake: FakeProvider) -> tuple[str, str]:
        response = fake.handle(chat_request(temperature=0))
        assert response is not None
        return response.headers["x-request-id"], json.loads(response.body)["id"]

    unseeded = [first_ids(FakeProvider()) for _ in range(2)]
    assert unseeded[0][0] != unseeded[1][0] and unseeded[0][1] != unseeded[1][1]
    assert first_ids(FakeProvider(seed=4)) == first_ids(FakeProvider(seed=4))


def test_texts_stay_reproducible_without_a_seed() -> None:
    def text(fake: FakeProvider) -> str:
        response = fake.handle(chat_request())
        assert response is not None
        return str(json.loads(response.body)["choices"][0]["message"]["content"])

    assert text(FakeProvider()) == text(FakeProvider()) == text(FakeProvider(seed=0))


def test_system_fingerprint_is_fixed_per_model_not_per_request() -> None:
    def fingerprint(fake: FakeProvider, model: str) -> str:
        response = fake.handle(chat_request(model=model))
        assert response is not None
        return str(json.loads(response.body)["system_fingerprint"])

    fake = FakeProvider()
    first = fingerprint(fake, "gpt-4o-mini")
    assert first.startswith("fp_") and len(first) == 13
    assert fingerprint(fake, "gpt-4o-mini") == first == fingerprint(FakeProvider(), "gpt-4o-mini")
    assert fingerprint(fake, "gpt-4o") != first
