"""Which retry strategy recovers every transient failure, wastes nothing, and waits what it is told.

The workload: 200 calls, 30 % of them given faults up front from a seed, the same schedule for
every strategy. A faulted call is one of

- **429 with retry-after**: the server sends ``retry-after-ms`` (50-200 ms, so the run is fast);
- **503** (no retry-after): OpenAI's "engine is currently overloaded";
- **529** (no retry-after): Anthropic's ``overloaded_error``; the simulated OpenAI answers a 529
  as the real one does, with 503 "overloaded";
- **400**: a bad request (half a plain ``invalid_request_error``, half a prompt over the context
  window). It fails the same way however often it is sent.

A retriable call fails 1 or 2 times (each failure drawn from the three retriable kinds), then
succeeds. The calls go through the real ``openai`` / ``anthropic`` SDKs to the in-process
``FakeProvider``; the provider is reset and its faults scripted (``fail_next``) before each call.

Strategies: ours (``course_helpers.retry.call_with_retry``, default ``RetryPolicy``, SDK
``max_retries=0``); the module's ``call_llm_with_retry`` (``course_helpers.seed.retry``, verbatim:
model ``gpt-4o``, 3 attempts, 1 s then 2 s) on a client as the module builds it (the SDK's default
``max_retries=2`` underneath) and with the SDK's retries off; the SDK's built-in retries alone with
``max_retries=2`` (its default) and ``max_retries=4`` (the same 5 attempts as ours). The module's
loop speaks OpenAI only, so it has no Anthropic rows; what it prints is discarded.

No one really sleeps: each strategy's sleep, and the SDKs' own ``time.sleep`` between their
retries, advance a virtual clock and record the wait, together with the response it followed.
The columns:

- **retriable ok**: calls with only retriable faults that returned an answer, in %;
- **wasted**: requests sent for 400 calls beyond the first (the first is needed to learn it is
  a 400; every further one fails identically);
- **wait**: every recorded wait, in virtual seconds;
- **asked**: the retry-after values of the 429s that a retry followed;
- **over asked**: (waits after those 429s - asked) / asked, in %. Negative: retried before the
  server's window reopened (a real server answers another 429);
- **early**: retries sent sooner than the server asked;
- **backoff 5xx**: waits after 503/529s, which carry no retry-after (the strategy's own backoff);
- **wait on 400**: waits after 400s, pure loss;
- **requests**: HTTP requests sent in all (the minimum is 200 + one per retriable failure).

Targets for ours (from the issue): retriable ok 100 %, wasted 0, over asked <= 10 %.

Run: ``python benchmarks/retry.py [seed]``.
"""

from __future__ import annotations

import contextlib
import io
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import anthropic
import anthropic._base_client
import openai
import openai._base_client

from course_helpers.fake import FakeProvider
from course_helpers.retry import RetryPolicy, call_with_retry, without_sdk_retries
from course_helpers.seed.clocked import with_globals
from course_helpers.seed.retry import call_llm_with_retry

Provider = Literal["openai", "anthropic"]
Kind = Literal["clean", "retriable", "non-retriable"]

CALLS = 200
FAULT_SHARE = 0.30
# Shares of the faulted calls, by their first failure; a retriable call's second one is drawn anew.
FAULT_MIX = {"429": 0.40, "503": 0.20, "529": 0.20, "400": 0.20}
RETRY_AFTER_MS = (50, 200)
PERSISTENT = 20  # a 400 is scripted this many times: more than any strategy sends
MODELS: dict[Provider, str] = {"openai": "gpt-4o-mini", "anthropic": "claude-haiku-5-5"}
KEY: dict[Provider, str] = {"openai": "sk-bench-0000", "anthropic": "sk-ant-bench-0000"}
MAX_TOKENS = 16
TARGET_OK = 100.0
TARGET_WASTED = 0
TARGET_OVER_ASKED = 10.0


# ---------------------------------------------------------------------------- the schedule


@dataclass(frozen=True)
class Failure:
    """One scripted failed response."""

    status: int  # 429, 503, 529 or 400
    retry_after_ms: int | None = None
    context_length: bool = False

    @property
    def retriable(self) -> bool:
        return self.status != 400

    @property
    def asked(self) -> float | None:
        """Seconds the server asked to wait, or ``None`` when it did not say."""
        return None if self.retry_after_ms is None else self.retry_after_ms / 1000

    def seen_as(self, provider: Provider) -> int:
        """The status the client receives (OpenAI has no 529: it answers 503)."""
        return 503 if self.status == 529 and provider == "openai" else self.status


@dataclass(frozen=True)
class CallPlan:
    """What happens to one call: nothing, 1-2 retriable failures, or a persistent 400."""

    index: int
    failures: tuple[Failure, ...] = ()

    @property
    def kind(self) -> Kind:
        if not self.failures:
            return "clean"
        return "retriable" if self.failures[0].retriable else "non-retriable"

    def failure_for(self, request: int) -> Failure | None:
        """The failure answering this call's ``request``-th request (0-based); ``None``: 200."""
        if self.kind == "non-retriable":
            return self.failures[0]
        return self.failures[request] if request < len(self.failures) else None

    def script(self, fake: FakeProvider) -> None:
        if self.kind == "non-retriable":
            failure = self.failures[0]
            if failure.context_length:
                fake.fail_next(context_length=True, times=PERSISTENT)
            else:
                fake.fail_next(400, times=PERSISTENT)
            return
        for failure in self.failures:
            fake.fail_next(failure.status, retry_after_ms=failure.retry_after_ms)


def _failure(label: str, rng: random.Random, context_length: bool = False) -> Failure:
    if label == "429":
        return Failure(429, retry_after_ms=rng.randint(*RETRY_AFTER_MS))
    if label == "400":
        return Failure(400, context_length=context_length)
    return Failure(int(label))


def make_schedule(
    seed: int, calls: int = CALLS, fault_share: float = FAULT_SHARE
) -> list[CallPlan]:
    """``calls`` plans, ``round(calls * fault_share)`` of them faulted, mixed as ``FAULT_MIX``."""
    rng = random.Random(seed)
    faulted = round(calls * fault_share)
    labels: list[str] = []
    for name, share in FAULT_MIX.items():
        labels += [name] * round(faulted * share)
    labels = (labels + ["429"] * faulted)[:faulted]  # rounding: top up with the commonest kind
    rng.shuffle(labels)
    chosen = sorted(rng.sample(range(calls), faulted))
    by_index = dict(zip(chosen, labels, strict=True))
    retriable = [label for label in FAULT_MIX if label != "400"]
    plans: list[CallPlan] = []
    bad_requests = 0
    for index in range(calls):
        label = by_index.get(index)
        if label is None:
            plans.append(CallPlan(index))
        elif label == "400":
            plans.append(CallPlan(index, (_failure("400", rng, bad_requests % 2 == 1),)))
            bad_requests += 1
        else:
            failures = [_failure(label, rng)]
            if rng.random() < 0.5:
                failures.append(_failure(rng.choice(retriable), rng))
            plans.append(CallPlan(index, tuple(failures)))
    return plans


# ---------------------------------------------------------------------------- measuring


@dataclass(frozen=True)
class CallResult:
    """One call as a strategy handled it: the outcome, the requests and the waits."""

    plan: CallPlan
    ok: bool
    requests: int
    waits: tuple[tuple[float, Failure | None], ...]  # (seconds, the failure the wait followed)


@dataclass(frozen=True)
class Summary:
    """The table row of one strategy (see the module docstring for each figure)."""

    retriable_calls: int
    retriable_ok: int
    clean_calls: int
    clean_ok: int
    wasted: int
    wait: float
    asked: float
    after_asked: float
    early: int
    backoff_5xx: float
    wait_on_400: float
    requests: int

    @property
    def retriable_ok_pct(self) -> float:
        return 100.0 * self.retriable_ok / self.retriable_calls if self.retriable_calls else 100.0

    @property
    def over_asked_pct(self) -> float:
        return 100.0 * (self.after_asked - self.asked) / self.asked if self.asked else 0.0

    def passes(self) -> bool:
        return (
            self.retriable_ok_pct >= TARGET_OK
            and self.wasted <= TARGET_WASTED
            and self.over_asked_pct <= TARGET_OVER_ASKED
        )


def summarise(results: Sequence[CallResult]) -> Summary:
    """Add up a strategy's call results into its row."""
    asked = after_asked = backoff = on_400 = wait = 0.0
    early = wasted = 0
    for result in results:
        if result.plan.kind == "non-retriable":
            wasted += max(0, result.requests - 1)
        for seconds, failure in result.waits:
            wait += seconds
            if failure is None:
                continue
            if not failure.retriable:
                on_400 += seconds
            elif failure.asked is not None:
                asked += failure.asked
                after_asked += seconds
                early += seconds < failure.asked
            else:
                backoff += seconds
    by_kind = {kind: [r for r in results if r.plan.kind == kind] for kind in ("clean", "retriable")}
    return Summary(
        retriable_calls=len(by_kind["retriable"]),
        retriable_ok=sum(r.ok for r in by_kind["retriable"]),
        clean_calls=len(by_kind["clean"]),
        clean_ok=sum(r.ok for r in by_kind["clean"]),
        wasted=wasted,
        wait=wait,
        asked=asked,
        after_asked=after_asked,
        early=early,
        backoff_5xx=backoff,
        wait_on_400=on_400,
        requests=sum(r.requests for r in results),
    )


@dataclass
class Recorder:
    """A virtual clock whose ``sleep`` records the wait and the request it followed."""

    fake: FakeProvider
    now: float = 0.0
    waits: list[tuple[float, int]] = field(default_factory=list)  # (seconds, request index)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.waits.append((seconds, len(self.fake.calls) - 1))


class _SdkTime:
    """Stands in for the ``time`` module inside the SDKs' ``_base_client``: sleeps are recorded."""

    def __init__(self, sleep: Callable[[float], None]) -> None:
        self._sleep = sleep

    def sleep(self, seconds: float) -> None:
        self._sleep(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@contextmanager
def sdk_sleeps_recorded(recorder: Recorder) -> Iterator[None]:
    """Route the SDKs' between-retry ``time.sleep`` (in ``_sleep_for_retry``) to ``recorder``."""
    fake_time = _SdkTime(recorder.sleep)
    with (
        mock.patch.object(openai._base_client, "time", fake_time),
        mock.patch.object(anthropic._base_client, "time", fake_time),
    ):
        yield


# ---------------------------------------------------------------------------- strategies

Call = Callable[[str], object]  # sends one prompt, returns the answer or raises


def _sdk(provider: Provider, max_retries: int) -> Any:
    if provider == "openai":
        return openai.OpenAI(api_key=KEY["openai"], max_retries=max_retries)
    return anthropic.Anthropic(api_key=KEY["anthropic"], max_retries=max_retries)


def _send(client: Any, provider: Provider, prompt: str) -> object:
    messages = [{"role": "user", "content": prompt}]
    if provider == "openai":
        return client.chat.completions.create(
            model=MODELS["openai"], messages=messages, max_completion_tokens=MAX_TOKENS
        )
    return client.messages.create(
        model=MODELS["anthropic"], messages=messages, max_tokens=MAX_TOKENS
    )


def ours(provider: Provider, recorder: Recorder, seed: int) -> Call:
    client = without_sdk_retries(_sdk(provider, 2))
    rng = random.Random(seed)
    return lambda prompt: call_with_retry(
        lambda: _send(client, provider, prompt),
        RetryPolicy(),
        sleep=recorder.sleep,
        clock=recorder.clock,
        rng=rng,
    )


def _module_loop(client: openai.OpenAI, recorder: Recorder) -> Call:
    """The module's loop, same code, its ``time.sleep`` recorded and its prints discarded."""
    loop = with_globals(call_llm_with_retry, time=SimpleNamespace(sleep=recorder.sleep))

    def send(prompt: str) -> object:
        with contextlib.redirect_stdout(io.StringIO()):
            return loop(client, [{"role": "user", "content": prompt}])

    return send


def seed_as_shipped(provider: Provider, recorder: Recorder, seed: int) -> Call:
    # The module's client: OpenAI(api_key=...), so the SDK's default max_retries=2 underneath.
    return _module_loop(openai.OpenAI(api_key=KEY["openai"]), recorder)


def seed_loop_only(provider: Provider, recorder: Recorder, seed: int) -> Call:
    return _module_loop(openai.OpenAI(api_key=KEY["openai"], max_retries=0), recorder)


def sdk_builtin(max_retries: int) -> Callable[[Provider, Recorder, int], Call]:
    def make(provider: Provider, recorder: Recorder, seed: int) -> Call:
        client = _sdk(provider, max_retries)
        return lambda prompt: _send(client, provider, prompt)

    return make


@dataclass(frozen=True)
class Strategy:
    name: str
    make: Callable[[Provider, Recorder, int], Call]
    providers: tuple[Provider, ...] = ("openai", "anthropic")
    ours: bool = False


STRATEGIES = (
    Strategy("ours: call_with_retry, SDK max_retries=0", ours, ours=True),
    Strategy("module call_llm_with_retry (SDK retries 2)", seed_as_shipped, ("openai",)),
    Strategy("module call_llm_with_retry, SDK retries 0", seed_loop_only, ("openai",)),
    Strategy("SDK built-in, max_retries=2 (default)", sdk_builtin(2)),
    Strategy("SDK built-in, max_retries=4", sdk_builtin(4)),
)


def run(
    strategy: Strategy, provider: Provider, plans: Sequence[CallPlan], fake: FakeProvider, seed: int
) -> list[CallResult]:
    """Send every planned call through ``strategy``; check the fake answered as scripted."""
    random.seed(seed)  # the SDKs jitter their backoff with the global generator
    recorder = Recorder(fake)
    send = strategy.make(provider, recorder, seed)
    results: list[CallResult] = []
    with sdk_sleeps_recorded(recorder):
        for plan in plans:
            fake.reset()
            plan.script(fake)
            recorder.waits.clear()
            try:
                send(f"Question {plan.index}: why do retries need jitter?")
                ok = True
            except Exception:  # the module's loop and the SDK raise an APIError; ours an LLMError
                ok = False
            calls = fake.calls
            for number, call in enumerate(calls):
                failure = plan.failure_for(number)
                expected = failure.seen_as(provider) if failure else 200
                if call.status != expected:
                    raise RuntimeError(
                        f"{strategy.name}, {provider}, call {plan.index}: request {number} got "
                        f"{call.status}, the schedule says {expected}. The fake did not follow "
                        "the script; check FakeProvider.fail_next."
                    )
            waits = tuple((s, plan.failure_for(number)) for s, number in recorder.waits)
            results.append(CallResult(plan, ok, len(calls), waits))
    return results


# ---------------------------------------------------------------------------- report

COLUMNS = (
    ("strategy", 42),
    ("provider", 9),
    ("retriable ok", 12),
    ("wasted", 6),
    ("wait s", 7),
    ("asked s", 7),
    ("over asked", 10),
    ("early", 5),
    ("backoff 5xx s", 13),
    ("wait on 400 s", 13),
    ("requests", 8),
)


def row(cells: Sequence[str]) -> str:
    return " | ".join(
        cell.ljust(width) if i < 2 else cell.rjust(width)
        for i, (cell, (_, width)) in enumerate(zip(cells, COLUMNS, strict=True))
    )


def describe(plans: Sequence[CallPlan]) -> str:
    counts = {"429": 0, "503": 0, "529": 0, "400": 0}
    failures = 0
    for plan in plans:
        if plan.kind == "non-retriable":
            counts["400"] += 1
        for failure in plan.failures if plan.kind == "retriable" else ():
            counts[str(failure.status)] += 1
            failures += 1
    kinds = {kind: sum(p.kind == kind for p in plans) for kind in ("clean", "retriable")}
    return (
        f"{len(plans)} calls: {kinds['clean']} clean, {kinds['retriable']} with 1-2 retriable "
        f"failures ({failures} in all: {counts['429']} x 429 with retry-after-ms "
        f"{RETRY_AFTER_MS[0]}-{RETRY_AFTER_MS[1]}, {counts['503']} x 503, {counts['529']} x 529), "
        f"{counts['400']} x 400 that never succeed."
    )


def main(argv: Sequence[str]) -> int:
    seed = int(argv[1]) if len(argv) > 1 else 0
    started = time.perf_counter()
    print("$ python benchmarks/retry.py" + (f" {seed}" if len(argv) > 1 else ""))
    plans = make_schedule(seed)
    print(f"seed {seed}; openai {openai.__version__}, anthropic {anthropic.__version__}")
    print(describe(plans))
    print("Waits are virtual (recorded, not slept). Definitions: see the module docstring.\n")
    print(row([name for name, _ in COLUMNS]))
    print("-+-".join("-" * width for _, width in COLUMNS))
    verdicts: list[tuple[Provider, Summary]] = []
    with FakeProvider(seed=seed, fault_retry_after=None) as fake:
        for strategy in STRATEGIES:
            for provider in strategy.providers:
                summary = summarise(run(strategy, provider, plans, fake, seed))
                if summary.clean_ok != summary.clean_calls:
                    raise RuntimeError(f"{strategy.name}: a call without faults failed")
                if strategy.ours:
                    verdicts.append((provider, summary))
                print(
                    row(
                        [
                            strategy.name,
                            provider,
                            f"{summary.retriable_ok_pct:.1f} %",
                            str(summary.wasted),
                            f"{summary.wait:.2f}",
                            f"{summary.asked:.2f}",
                            f"{summary.over_asked_pct:+.1f} %",
                            str(summary.early),
                            f"{summary.backoff_5xx:.2f}",
                            f"{summary.wait_on_400:.2f}",
                            str(summary.requests),
                        ]
                    )
                )
    print(
        f"\nTargets for ours: retriable ok {TARGET_OK:g} %, wasted {TARGET_WASTED}, "
        f"over asked <= {TARGET_OVER_ASKED:g} %."
    )
    for provider, summary in verdicts:
        verdict = "PASS" if summary.passes() else "FAIL"
        print(
            f"  {provider:9} {verdict}: {summary.retriable_ok_pct:.1f} % / {summary.wasted} / "
            f"{summary.over_asked_pct:+.1f} %"
        )
    print(f"\n({time.perf_counter() - started:.1f} s of real time)")
    return 0 if all(summary.passes() for _, summary in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
