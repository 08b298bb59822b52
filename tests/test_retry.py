"""The retry layer: exact waits on a fake clock, streams, tenacity adapters, and what the
module's own retry loop and tenacity decorator (course_helpers.seed, verbatim) really do."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable, Iterator
from types import SimpleNamespace
from typing import Any

import anthropic
import httpx
import httpx2
import openai
import pytest
import respx
import tenacity
from support import ANTHROPIC_URL, ManualClock, anthropic_error, openai_error

from course_helpers.errors import (
    AuthenticationError,
    ConnectionFailedError,
    InvalidRequestError,
    LLMError,
    OverloadedError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
)
from course_helpers.retry import (
    RetryEvent,
    RetryPolicy,
    acall_with_retry,
    aretry_stream,
    call_with_retry,
    retry_if_retriable,
    retry_stream,
    wait_retry_after,
    without_sdk_retries,
)
from course_helpers.seed import tenacity_retry
from course_helpers.seed.clocked import with_globals
from course_helpers.seed.retry import call_llm_with_retry


class Script:
    """A callable that raises the given exceptions in turn, then returns ``result``."""

    def __init__(
        self,
        *failures: BaseException,
        result: str = "ok",
        work: float = 0.0,
        clock: ManualClock | None = None,
    ) -> None:
        self.failures = list(failures)
        self.result = result
        self.calls = 0
        self.work = work
        self.clock = clock

    def __call__(self) -> str:
        self.calls += 1
        if self.clock is not None:
            self.clock.now += self.work
        if self.failures:
            raise self.failures.pop(0)
        return self.result

    async def acall(self) -> str:
        return self()


class Edge:
    """An rng that always picks the top (or bottom) of the jitter range."""

    def __init__(self, top: bool) -> None:
        self.top = top

    def uniform(self, a: float, b: float) -> float:
        return b if self.top else a


def rate_limited(**headers: str) -> openai.APIStatusError:
    return openai_error(429, {"type": "requests", "code": "rate_limit_exceeded"}, headers)


def server_error() -> openai.APIStatusError:
    return openai_error(500, {"type": "server_error"})


def quota() -> openai.APIStatusError:
    return openai_error(
        429, {"type": "insufficient_quota", "code": "insufficient_quota"}, {"retry-after": "1"}
    )


NO_JITTER = RetryPolicy(max_attempts=6, base_delay=0.5, max_delay=2.0, deadline=None, jitter="none")


# ------------------------------------------------------------------------------- policy


def test_policy_validates() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="base_delay"):
        RetryPolicy(base_delay=-1)
    with pytest.raises(ValueError, match="deadline"):
        RetryPolicy(deadline=0)
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(jitter="half")  # type: ignore[arg-type]


def test_success_needs_no_retry(clock: ManualClock) -> None:
    fn = Script()
    assert call_with_retry(fn, sleep=clock.sleep, clock=clock) == "ok"
    assert (fn.calls, clock.slept) == (1, [])


# ------------------------------------------------------------------------------- backoff


def test_backoff_grows_and_is_capped(clock: ManualClock) -> None:
    failures = [server_error() for _ in range(6)]
    fn = Script(*failures)
    with pytest.raises(ServerError) as info:
        call_with_retry(fn, NO_JITTER, sleep=clock.sleep, clock=clock)
    assert clock.slept == [0.5, 1.0, 2.0, 2.0, 2.0]
    assert fn.calls == 6
    error = info.value
    assert (error.attempts, error.waited) == (6, 7.5)
    assert error.__cause__ is failures[-1]
    assert "Gave up after 6 attempts" in "".join(error.__notes__)


def test_full_jitter_stays_within_bounds() -> None:
    policy = RetryPolicy(max_attempts=6, base_delay=0.5, max_delay=2.0, deadline=None)
    caps = [0.5, 1.0, 2.0, 2.0, 2.0]
    for rng, expected in ((Edge(top=True), caps), (Edge(top=False), [0.0] * 5)):
        clock = ManualClock()
        with pytest.raises(ServerError):
            call_with_retry(
                Script(*[server_error() for _ in range(6)]),
                policy,
                sleep=clock.sleep,
                clock=clock,
                rng=rng,
            )
        assert clock.slept == expected

    clock = ManualClock()
    with pytest.raises(ServerError):
        call_with_retry(
            Script(*[server_error() for _ in range(6)]),
            policy,
            sleep=clock.sleep,
            clock=clock,
            rng=random.Random(7),
        )
    reference = random.Random(7)
    assert clock.slept == [reference.uniform(0, cap) for cap in caps]
    assert all(0 <= delay <= cap for delay, cap in zip(clock.slept, caps, strict=True))
    assert len(set(clock.slept)) == 5  # really random, not the cap every time


# ------------------------------------------------------------------------------- retry-after


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
    ],
)
def test_retry_after_is_honoured_exactly(
    headers: dict[str, str], expected: float, clock: ManualClock
) -> None:
    fn = Script(rate_limited(**headers), rate_limited(**headers))
    assert call_with_retry(fn, sleep=clock.sleep, clock=clock, rng=Edge(top=True)) == "ok"
    assert clock.slept == [expected, expected]  # no jitter or backoff added on top


def test_retry_after_above_the_cap_gives_up_at_once(clock: ManualClock) -> None:
    fn = Script(rate_limited(**{"retry-after": "120"}))
    with pytest.raises(RateLimitError) as info:
        call_with_retry(fn, RetryPolicy(max_retry_after=60), sleep=clock.sleep, clock=clock)
    assert (fn.calls, clock.slept) == (1, [])
    assert "max_retry_after=60" in "".join(info.value.__notes__)


def test_deadline_is_respected(clock: ManualClock) -> None:
    policy = RetryPolicy(max_attempts=10, base_delay=4.0, max_delay=100, deadline=25, jitter="none")
    fn = Script(*[server_error() for _ in range(10)], work=10.0, clock=clock)
    with pytest.raises(ServerError) as info:
        call_with_retry(fn, policy, sleep=clock.sleep, clock=clock)
    # attempt 1: t=0..10, wait 4; attempt 2: t=14..24, a wait of 8 would end at 32 > 25
    assert (fn.calls, clock.slept) == (2, [4.0])
    assert clock.now <= 25
    assert "deadline" in "".join(info.value.__notes__)


def test_retry_after_past_the_deadline_gives_up_at_once(clock: ManualClock) -> None:
    fn = Script(rate_limited(**{"retry-after": "30"}))
    with pytest.raises(RateLimitError):
        call_with_retry(fn, RetryPolicy(deadline=20), sleep=clock.sleep, clock=clock)
    assert (fn.calls, clock.slept) == (1, [])


# ------------------------------------------------------------------------------- what is retried


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: openai_error(400, {"param": "temperature"}), InvalidRequestError),
        (lambda: openai_error(401, {"code": "invalid_api_key"}), AuthenticationError),
        (quota, QuotaExceededError),
        (lambda: anthropic_error(402, "billing_error"), QuotaExceededError),
    ],
)
def test_exactly_one_attempt_when_retrying_cannot_help(
    make: Callable[[], Exception], expected: type[LLMError]
) -> None:
    clock = ManualClock()
    original = make()
    fn = Script(original)
    with pytest.raises(expected) as info:
        call_with_retry(fn, sleep=clock.sleep, clock=clock)
    assert (fn.calls, clock.slept) == (1, [])
    assert info.value.__cause__ is original
    assert info.value.attempts == 1 and info.value.retriable is False


def test_a_bug_in_the_callers_code_propagates_unchanged(clock: ManualClock) -> None:
    bug = ValueError("a bug")
    fn = Script(bug)
    with pytest.raises(ValueError) as info:
        call_with_retry(fn, sleep=clock.sleep, clock=clock)
    assert info.value is bug
    assert (fn.calls, clock.slept) == (1, [])


def test_overloaded_529_and_in_stream_overloaded_are_retried() -> None:
    in_stream = anthropic.APIStatusError(
        "{...}",
        response=httpx2.Response(200, request=httpx2.Request("POST", ANTHROPIC_URL)),
        body={"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    )
    clock = ManualClock()
    fn = Script(anthropic_error(529, "overloaded_error"), in_stream)
    assert call_with_retry(fn, NO_JITTER, sleep=clock.sleep, clock=clock) == "ok"
    assert (fn.calls, clock.slept) == (3, [0.5, 1.0])


def test_on_retry_sees_each_wait(clock: ManualClock) -> None:
    events: list[RetryEvent] = []
    fn = Script(server_error(), rate_limited(**{"retry-after": "2"}))
    call_with_retry(fn, NO_JITTER, sleep=clock.sleep, clock=clock, on_retry=events.append)
    assert [(e.attempt, type(e.error), e.delay) for e in events] == [
        (1, ServerError, 0.5),
        (2, RateLimitError, 2.0),
    ]
    assert [e.delay for e in events] == clock.slept


# ------------------------------------------------------------------------------- async


def test_async_twin(clock: ManualClock) -> None:
    fn = Script(server_error(), rate_limited(**{"retry-after-ms": "300"}))
    result = asyncio.run(
        acall_with_retry(fn.acall, NO_JITTER, sleep=clock.async_sleep, clock=clock)
    )
    assert result == "ok"
    assert clock.slept == [0.5, 0.3]

    bad = Script(openai_error(400))
    with pytest.raises(InvalidRequestError):
        asyncio.run(acall_with_retry(bad.acall, sleep=clock.async_sleep, clock=clock))
    assert bad.calls == 1


def test_async_uses_asyncio_sleep_by_default() -> None:
    fn = Script(rate_limited(**{"retry-after-ms": "1"}))
    assert asyncio.run(acall_with_retry(fn.acall)) == "ok"
    assert fn.calls == 2


# ------------------------------------------------------------------------------- streams


class Stream:
    """A stream that yields ``items`` and then raises ``fail`` (if any); records close()."""

    def __init__(self, items: list[str], fail: Exception | None = None) -> None:
        self.items = items
        self.fail = fail
        self.closed = False

    def __iter__(self) -> Iterator[str]:
        yield from self.items
        if self.fail is not None:
            raise self.fail

    def close(self) -> None:
        self.closed = True


def test_stream_is_retried_before_its_first_item(clock: ManualClock) -> None:
    streams = [
        Stream([], server_error()),
        Stream([], anthropic_error(529, "overloaded_error")),
        Stream(["a", "b", "c"]),
    ]
    opened = iter(streams)
    result = list(retry_stream(lambda: next(opened), NO_JITTER, sleep=clock.sleep, clock=clock))
    assert result == ["a", "b", "c"]
    assert clock.slept == [0.5, 1.0]
    assert all(stream.closed for stream in streams)


def test_stream_is_not_retried_after_its_first_item(clock: ManualClock) -> None:
    opens = 0
    stream = Stream(["Hel", "lo"], anthropic_error(529, "overloaded_error"))

    def open_stream() -> Stream:
        nonlocal opens
        opens += 1
        return stream

    received: list[str] = []
    with pytest.raises(OverloadedError) as info:
        for item in retry_stream(open_stream, sleep=clock.sleep, clock=clock):
            received.append(item)
    assert received == ["Hel", "lo"]  # delivered once, never duplicated
    assert (opens, clock.slept) == (1, [])
    assert "not retried" in "".join(info.value.__notes__)
    assert stream.closed


def test_stream_failing_to_open_and_empty_stream(clock: ManualClock) -> None:
    fn = Script(server_error(), result="")
    assert list(retry_stream(lambda: iter(fn()), NO_JITTER, sleep=clock.sleep, clock=clock)) == []
    assert (fn.calls, clock.slept) == (2, [0.5])

    bad = Script(openai_error(400))
    with pytest.raises(InvalidRequestError):
        list(retry_stream(lambda: iter(bad()), sleep=clock.sleep, clock=clock))
    assert bad.calls == 1


def test_async_stream(clock: ManualClock) -> None:
    failures: list[Exception] = [ConnectionFailedError("dropped")]

    async def generate() -> AsyncIterator[str]:
        if failures:
            raise failures.pop()
        yield "a"
        yield "b"
        raise server_error()

    async def opener() -> AsyncIterator[str]:  # a coroutine returning the stream, like the SDK
        return generate()

    async def consume(open_stream: Callable[[], Any]) -> list[str]:
        received = []
        with pytest.raises(ServerError):
            async for item in aretry_stream(
                open_stream, NO_JITTER, sleep=clock.async_sleep, clock=clock
            ):
                received.append(item)
        return received

    assert asyncio.run(consume(generate)) == ["a", "b"]
    assert clock.slept == [0.5]
    failures.append(ConnectionFailedError("dropped"))
    assert asyncio.run(consume(opener)) == ["a", "b"]
    assert clock.slept == [0.5, 0.5]


# ------------------------------------------------------------------------------- tenacity


def tenacious(fn: Callable[[], str], slept: list[float], **kwargs: Any) -> Callable[[], str]:
    return tenacity.retry(
        stop=tenacity.stop_after_attempt(4), sleep=slept.append, reraise=True, **kwargs
    )(fn)


def test_tenacity_adapters_make_one_attempt_on_a_400() -> None:
    slept: list[float] = []
    fn = Script(openai_error(400), openai_error(400))
    ask = tenacious(fn, slept, wait=wait_retry_after(), retry=retry_if_retriable())
    with pytest.raises(openai.BadRequestError):
        ask()
    assert (fn.calls, slept) == (1, [])


def test_tenacity_before_retries_the_400() -> None:
    slept: list[float] = []
    fn = Script(*[openai_error(400) for _ in range(4)])
    ask = tenacious(fn, slept, wait=tenacity.wait_random_exponential(min=1, max=60))
    with pytest.raises(openai.BadRequestError):
        ask()
    assert fn.calls == 4 and len(slept) == 3  # the seed-style decorator wastes three attempts


def test_tenacity_adapters_wait_retry_after_on_a_429() -> None:
    slept: list[float] = []
    fn = Script(
        rate_limited(**{"retry-after": "2"}), rate_limited(**{"retry-after": "500"}), server_error()
    )
    ask = tenacious(
        fn,
        slept,
        wait=wait_retry_after(fallback=tenacity.wait_fixed(0.3), max_wait=60),
        retry=retry_if_retriable(),
    )
    assert ask() == "ok"
    assert slept == [2.0, 60.0, 0.3]


# ------------------------------------------------------------------------------- SDK retries


def test_without_sdk_retries() -> None:
    client = openai.OpenAI(api_key="sk-test")
    quiet = without_sdk_retries(client)
    assert (client.max_retries, quiet.max_retries) == (2, 0)
    assert without_sdk_retries(anthropic.Anthropic(api_key="sk-ant-test")).max_retries == 0


# ------------------------------------------------------------------------------- the seed's defects


REPLY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 0,
    "model": "gpt-4o-mini",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}


def error_response(
    status: int, error: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(
        status,
        headers=headers or {},
        json={"error": {"message": "boom", "param": None, "type": None, "code": None, **error}},
    )


@pytest.fixture
def router() -> Iterator[Any]:
    with respx.mock(using="httpcore2", assert_all_called=False) as mock:
        yield mock


DEFAULT = RetryPolicy()


def ours(client: openai.OpenAI, clock: ManualClock, policy: RetryPolicy = DEFAULT) -> str | None:
    fast = without_sdk_retries(client)
    reply = call_with_retry(
        lambda: fast.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        ),
        policy,
        sleep=clock.sleep,
        clock=clock,
    )
    return reply.choices[0].message.content


HI = [{"role": "user", "content": "hi"}]


def module_loop(slept: list[float]) -> Callable[..., Any]:
    """The module's ``call_llm_with_retry``, same code, its ``time.sleep`` recorded."""
    return with_globals(call_llm_with_retry, time=SimpleNamespace(sleep=slept.append))


def test_module_loop_sends_one_request_on_a_400_and_reraises_it(router: Any) -> None:
    # The module is right here: `else: raise` keeps client errors from being retried.
    route = router.post(path__regex=r"/chat/completions$").mock(
        return_value=error_response(400, {"code": "context_length_exceeded"})
    )
    client = openai.OpenAI(api_key="sk-test", max_retries=0)
    slept: list[float] = []
    with pytest.raises(openai.BadRequestError):
        module_loop(slept)(client, HI)
    assert route.call_count == 1 and slept == []


def test_module_loop_ignores_retry_after(router: Any) -> None:
    limited = error_response(
        429, {"type": "requests", "code": "rate_limit_exceeded"}, {"retry-after": "7"}
    )
    route = router.post(path__regex=r"/chat/completions$")
    client = openai.OpenAI(api_key="sk-test", max_retries=0)

    route.side_effect = [limited, limited, httpx.Response(200, json=REPLY)]
    slept: list[float] = []
    assert module_loop(slept)(client, HI) == "hi"
    assert slept == [1.0, 2.0]  # the server said 7 s: both retries came too early

    route.side_effect = [limited, limited, httpx.Response(200, json=REPLY)]
    clock = ManualClock()
    assert ours(client, clock) == "hi"
    assert clock.slept == [7.0, 7.0]


def test_module_loop_retries_insufficient_quota(router: Any) -> None:
    route = router.post(path__regex=r"/chat/completions$").mock(
        return_value=error_response(
            429, {"type": "insufficient_quota", "code": "insufficient_quota"}
        )
    )
    client = openai.OpenAI(api_key="sk-test", max_retries=0)
    slept: list[float] = []
    with pytest.raises(openai.RateLimitError):  # the last error itself, not a bare Exception
        module_loop(slept)(client, HI)
    assert route.call_count == 3 and slept == [1.0, 2.0]

    route.reset()
    clock = ManualClock()
    with pytest.raises(QuotaExceededError):
        ours(client, clock)
    assert route.call_count == 1 and clock.slept == []


def test_module_loop_multiplies_with_the_sdk_retries(router: Any) -> None:
    # retry-after-ms keeps the SDK's own sleeps to a millisecond
    route = router.post(path__regex=r"/chat/completions$").mock(
        return_value=error_response(500, {"type": "server_error"}, {"retry-after-ms": "1"})
    )
    client = openai.OpenAI(api_key="sk-test")  # max_retries=2, the default
    slept: list[float] = []
    with pytest.raises(openai.InternalServerError):
        module_loop(slept)(client, HI)
    assert route.call_count == 9 and slept == [1.0, 2.0]  # 3 attempts x 3 requests

    route.reset()
    with pytest.raises(ServerError) as info:
        ours(client, ManualClock(), RetryPolicy(max_attempts=3))
    assert route.call_count == 3
    assert info.value.attempts == 3


def module_decorator(client: openai.OpenAI, slept: list[float]) -> Callable[[list[Any]], str]:
    """The module's tenacity ``call_llm`` on ``client`` (its global), sleeps recorded."""
    call = with_globals(tenacity_retry.call_llm.__wrapped__, client=client)  # type: ignore[attr-defined]
    return tenacity_retry.call_llm.retry.copy(sleep=slept.append).wraps(call)  # type: ignore[attr-defined,no-any-return]


def test_module_decorator_never_retries_a_5xx(router: Any) -> None:
    route = router.post(path__regex=r"/chat/completions$").mock(
        return_value=error_response(500, {"type": "server_error"})
    )
    slept: list[float] = []
    call = module_decorator(openai.OpenAI(api_key="sk-test", max_retries=0), slept)
    with pytest.raises(openai.InternalServerError):
        call(HI)
    assert route.call_count == 1 and slept == []


def test_module_decorator_retries_a_quota_429_and_hides_it(router: Any) -> None:
    route = router.post(path__regex=r"/chat/completions$").mock(
        return_value=error_response(
            429, {"type": "insufficient_quota", "code": "insufficient_quota"}
        )
    )
    slept: list[float] = []
    call = module_decorator(openai.OpenAI(api_key="sk-test", max_retries=0), slept)
    with pytest.raises(tenacity.RetryError):
        call(HI)
    assert route.call_count == 3 and slept == [1.0, 2.0]


def test_items_before_the_first_token_are_held_back() -> None:
    def streams() -> Iterator[Stream]:
        yield Stream([""], server_error())  # a role-only chunk, then a failure
        yield Stream(["", "a", "b"])

    opened = streams()
    clock = ManualClock()
    result = list(
        retry_stream(
            lambda: next(opened), NO_JITTER, first_token=bool, sleep=clock.sleep, clock=clock
        )
    )
    assert result == ["", "a", "b"]  # the role chunk once, not twice
    assert clock.slept == [0.5]

    opened = streams()
    received: list[str] = []
    with pytest.raises(ServerError):
        for item in retry_stream(lambda: next(opened), NO_JITTER, sleep=clock.sleep, clock=clock):
            received.append(item)
    assert received == [""]  # without first_token the role chunk counts: no retry

    empty = list(retry_stream(lambda: Stream(["", ""]), first_token=bool))
    assert empty == ["", ""]  # a stream with no token at all still delivers what it had


def test_async_items_before_the_first_token_are_held_back(clock: ManualClock) -> None:
    attempts = 0

    async def generate() -> AsyncIterator[str]:
        nonlocal attempts
        attempts += 1
        yield ""
        if attempts == 1:
            raise server_error()
        yield "a"

    async def consume() -> list[str]:
        stream = aretry_stream(
            generate, NO_JITTER, first_token=bool, sleep=clock.async_sleep, clock=clock
        )
        return [item async for item in stream]

    assert asyncio.run(consume()) == ["", "a"]
    assert (attempts, clock.slept) == (2, [0.5])


# ------------------------------------------------------------------------ through FakeProvider

MESSAGES = [{"role": "user", "content": "Say hello"}]


def test_fake_rate_limit_then_success(fake: Any) -> None:
    fake.fail_next(429, times=2, retry_after_ms=5, provider="openai")
    client = without_sdk_retries(openai.OpenAI(api_key="sk-test"))
    clock = ManualClock()
    reply = call_with_retry(
        lambda: client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES),
        sleep=clock.sleep,
        clock=clock,
    )
    assert reply.choices[0].message.content
    assert clock.slept == [0.005, 0.005]
    assert len(fake.calls) == 3


@pytest.mark.parametrize(
    ("fault", "expected"),
    [({"quota": True}, QuotaExceededError), ({"context_length": True}, InvalidRequestError)],
)
def test_fake_faults_that_retrying_cannot_fix(
    fake: Any, fault: dict[str, Any], expected: type[LLMError]
) -> None:
    fake.fail_next(provider="anthropic", **fault)
    client = without_sdk_retries(anthropic.Anthropic(api_key="sk-ant-test"))
    clock = ManualClock()
    with pytest.raises(expected):
        call_with_retry(
            lambda: client.messages.create(
                model="claude-haiku-4-5", max_tokens=50, messages=MESSAGES
            ),
            sleep=clock.sleep,
            clock=clock,
        )
    assert len(fake.calls) == 1 and clock.slept == []


def test_fake_overloaded_and_dropped_are_retried(fake: Any) -> None:
    fake.fail_next(529, provider="anthropic")
    fake.fail_next(drop=True, provider="anthropic")
    client = without_sdk_retries(anthropic.Anthropic(api_key="sk-ant-test"))
    clock = ManualClock()
    events: list[RetryEvent] = []
    reply = call_with_retry(
        lambda: client.messages.create(model="claude-haiku-4-5", max_tokens=50, messages=MESSAGES),
        NO_JITTER,
        sleep=clock.sleep,
        clock=clock,
        on_retry=events.append,
    )
    assert reply.content
    assert [type(event.error) for event in events] == [OverloadedError, ConnectionFailedError]
    overloaded_wait = events[0].error.retry_after  # the server's, when it sent one
    assert clock.slept == [0.5 if overloaded_wait is None else overloaded_wait, 1.0]


def test_fake_stream_retried_before_the_first_token_only(fake: Any) -> None:
    client = without_sdk_retries(openai.OpenAI(api_key="sk-test"))

    def open_stream() -> Any:
        return client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)

    def text(chunk: Any) -> bool:
        return bool(chunk.choices and chunk.choices[0].delta.content)

    def joined(chunks: list[Any]) -> str:
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)

    # the error frame comes after the role-only chunk but before any text: retried, text once
    fake.fail_next(mid_stream=True, after_tokens=0, provider="openai")
    clock = ManualClock()
    chunks = list(
        retry_stream(open_stream, NO_JITTER, first_token=text, sleep=clock.sleep, clock=clock)
    )
    roles = [c for c in chunks if c.choices and c.choices[0].delta.role]
    assert len(roles) == 1 and joined(chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert len(fake.calls) == 2 and clock.slept == [0.5]

    # the error frame comes after two tokens: raised, never retried, nothing repeated
    fake.reset()
    fake.fail_next(mid_stream=True, after_tokens=2, provider="openai")
    received: list[str] = []
    with pytest.raises(ServerError) as info:
        for chunk in retry_stream(open_stream, first_token=text, sleep=clock.sleep, clock=clock):
            if chunk.choices:
                received.append(chunk.choices[0].delta.content or "")
    assert len(fake.calls) == 1
    assert len(received) == 3 and received[0] == "" and all(received[1:])  # role + 2 tokens
    assert info.value.attempts == 1
