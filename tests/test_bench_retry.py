"""The retry benchmark's pure parts: the fault schedule, the row arithmetic, the sleep recording."""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import openai
import pytest

from course_helpers.fake import FakeProvider


def _load() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "retry.py"
    spec = importlib.util.spec_from_file_location("bench_retry", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_retry"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


bench = _load()
Failure = bench.Failure
CallPlan = bench.CallPlan
CallResult = bench.CallResult


def test_schedule_faults_the_share_asked_with_the_mix_asked() -> None:
    plans = bench.make_schedule(7, calls=200, fault_share=0.3)
    assert [p.index for p in plans] == list(range(200))
    faulted = [p for p in plans if p.kind != "clean"]
    assert len(faulted) == 60
    first = [p.failures[0].status for p in faulted]
    assert {s: first.count(s) for s in (429, 503, 529, 400)} == {429: 24, 503: 12, 529: 12, 400: 12}
    for plan in faulted:
        if plan.kind == "non-retriable":
            assert len(plan.failures) == 1
        else:
            assert 1 <= len(plan.failures) <= 2
            assert all(f.retriable for f in plan.failures)
        for failure in plan.failures:
            assert (failure.retry_after_ms is not None) == (failure.status == 429)
            if failure.retry_after_ms is not None:
                assert 50 <= failure.retry_after_ms <= 200
    context = [p.failures[0].context_length for p in faulted if p.kind == "non-retriable"]
    assert context.count(True) == context.count(False) == 6


def test_schedule_is_reproducible_from_its_seed() -> None:
    assert bench.make_schedule(3) == bench.make_schedule(3)
    assert bench.make_schedule(3) != bench.make_schedule(4)


def test_a_400_fails_every_request_and_a_retriable_call_succeeds_after_its_failures() -> None:
    bad = CallPlan(0, (Failure(400),))
    assert [bad.failure_for(n) for n in range(3)] == [Failure(400)] * 3
    flaky = CallPlan(1, (Failure(429, retry_after_ms=100), Failure(529)))
    assert [flaky.failure_for(n) for n in range(3)] == [*flaky.failures, None]
    assert Failure(529).seen_as("openai") == 503
    assert Failure(529).seen_as("anthropic") == 529


def test_summarise_adds_up_waste_waits_and_the_excess_over_retry_after() -> None:
    rate = Failure(429, retry_after_ms=100)
    overload = Failure(503)
    bad = Failure(400)
    results = [
        CallResult(CallPlan(0), True, 1, ()),
        CallResult(CallPlan(1, (rate, overload)), True, 3, ((0.12, rate), (0.4, overload))),
        CallResult(CallPlan(2, (rate,)), False, 2, ((0.06, rate),)),
        CallResult(CallPlan(3, (bad,)), False, 3, ((1.0, bad), (1.0, bad))),
    ]
    summary = bench.summarise(results)
    assert summary.retriable_calls == 2
    assert summary.retriable_ok == 1
    assert summary.retriable_ok_pct == 50.0
    assert summary.clean_ok == summary.clean_calls == 1
    assert summary.wasted == 2
    assert summary.asked == pytest.approx(0.2)
    assert summary.after_asked == pytest.approx(0.18)
    assert summary.over_asked_pct == pytest.approx(-10.0)
    assert summary.early == 1
    assert summary.backoff_5xx == pytest.approx(0.4)
    assert summary.wait_on_400 == pytest.approx(2.0)
    assert summary.wait == pytest.approx(2.58)
    assert summary.requests == 9
    assert not summary.passes()


def test_a_clean_row_passes_and_too_long_a_wait_fails() -> None:
    rate = Failure(429, retry_after_ms=100)
    plan = CallPlan(0, (rate,))
    assert bench.summarise([CallResult(plan, True, 2, ((0.11, rate),))]).passes()
    assert not bench.summarise([CallResult(plan, True, 2, ((0.111, rate),))]).passes()


def test_the_sdks_own_retry_sleep_is_recorded_not_slept(
    sleeps_of_this_thread: Callable[..., list[float]],
) -> None:
    really_slept = sleeps_of_this_thread(up_to=0.01)
    with FakeProvider(fault_retry_after=None) as fake:  # type: ignore[arg-type]
        recorder = bench.Recorder(fake)
        client = openai.OpenAI(api_key="sk-test-0000", max_retries=2)
        fake.fail_next(429, retry_after_ms=30_000)
        fake.fail_next(503)
        with bench.sdk_sleeps_recorded(recorder):
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}]
            )
    assert not [seconds for seconds in really_slept if seconds >= 0.5], really_slept
    assert recorder.waits[0] == (30.0, 0)
    assert recorder.waits[1][1] == 1
    assert 0.75 <= recorder.waits[1][0] <= 1.0  # the SDK's second backoff step, less <= 25 %
    assert recorder.now == pytest.approx(sum(seconds for seconds, _ in recorder.waits))
    assert openai._base_client.time is time  # put back afterwards
