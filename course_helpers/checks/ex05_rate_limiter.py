"""ex05 · Rate limiter: requests and tokens per period, shared safely by many threads.

The learner writes ``Limiter(rpm, tpm, period=60.0)`` with ``acquire(tokens)``, which blocks until
one request of ``tokens`` tokens fits both limits (and raises ``ValueError`` for a request that can
never fit). Most checks need no luck and no fast machine: they compare what was granted with what
a bucket that starts full and refills continuously could have allowed between two instants the
check measured *around* the grants, so a slow machine only loosens them. The races are forced
(``_interleave``), and one short drive against the simulated provider shows zero 429s.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from course_helpers.checks._idle_capacity import Grant, idle_capacity
from course_helpers.checks._interleave import (
    candidate_files,
    candidate_locks,
    sleeps_holding_a_lock,
)
from course_helpers.checks._least_progress import run_least_progress
from course_helpers.checks._support import OPENAI_MODEL, openai_client, simulated
from course_helpers.checks.base import Check, Exercise, describe, expect
from course_helpers.tokens import estimate_tokens

__all__ = ["EXERCISE"]

LimiterClass = Callable[..., Any]
MESSAGES: Any = [{"role": "user", "content": "Say hello"}]
PERIOD = 1.0
THREADS = 4
RUN = 1.5  # seconds of traffic against the simulated provider
DRIVE_TIMEOUT = 8.0  # a driving check runs RUN seconds, plus set-up, on a possibly busy machine
MAX_IDLE = 0.5  # the share of the run callers may wait while the limit has room (wake-ups)
# The provider is charged when a request arrives, the limiter when it grants it: while the
# provider's bucket sits full during that trip it refills nothing and the limiter does. So the
# simulated provider enforces exactly the same rates, with SLACK seconds of extra burst on top
# (the course's RateLimiter keeps `headroom` in reserve for the same reason).
SLACK = 0.25
SHORT = 0.15  # the period of the sequence checks: 5 a period is one every 30 ms
BURST_GRACE = 0.15  # seconds a burst may take beyond 3x its ideal time (never binding if correct)
EPSILON = 1e-6


@dataclass
class _Grants:
    """What a sequence of acquire() calls was granted, each between two measured instants."""

    before: list[float] = field(default_factory=list)  # just before acquire() was called
    after: list[float] = field(default_factory=list)  # just after it returned
    tokens: list[int] = field(default_factory=list)
    error: BaseException | None = None
    stalled: str = ""
    waits_holding_lock: list[str] = field(default_factory=list)


def _acquire(limiter: Any, tokens: int, grants: _Grants) -> None:
    start = time.monotonic()
    limiter.acquire(tokens)
    grants.before.append(start)
    grants.after.append(time.monotonic())
    grants.tokens.append(tokens)


PHASE_TRIES = 20


def _into_a_window(limiter: Any, tokens: int, grants: _Grants, period: float) -> None:
    """One acquire, then half a ``period`` idle, so that the next burst starts well inside a
    window that acquire opened: where a fixed window resets mid-burst and shows itself.

    A machine that oversleeps (past 0.8 of a period) may let that window close first: then
    wait out a whole period, so the next acquire surely opens a new window, and try again.
    """
    for _ in range(PHASE_TRIES):
        asked = time.monotonic()
        _acquire(limiter, tokens, grants)
        time.sleep(period / 2)
        if time.monotonic() - asked <= 0.8 * period:
            return
        time.sleep(max(0.0, grants.after[-1] + period - time.monotonic()))


def _sequence(
    limiter: Any, plan: list[tuple[str, float]], tokens: int, ideal: float, timeout: float
) -> _Grants:
    """Run ``plan`` (("idle", seconds), ("phase", period) or ("burst", count)) in a thread;
    stop a stalled burst.

    A burst of ``count`` acquires should take ``ideal`` seconds at most (its bucket starts full);
    one that takes 3x that plus BURST_GRACE is wasting capacity.
    """
    grants = _Grants()

    def run() -> None:
        with sleeps_holding_a_lock(candidate_locks(limiter)) as found:
            try:
                for step, amount in plan:
                    if step == "idle":
                        time.sleep(amount)
                        continue
                    if step == "phase":
                        _into_a_window(limiter, tokens, grants, amount)
                        continue
                    started = time.monotonic()
                    for _ in range(int(amount)):
                        _acquire(limiter, tokens, grants)
                        if time.monotonic() - started > 3 * ideal + BURST_GRACE:
                            grants.stalled = (
                                f"a burst of {int(amount)} acquire({tokens}) took more than "
                                f"{time.monotonic() - started:.2f} s where a full bucket "
                                f"refilling continuously needs {ideal:.2f} s"
                            )
                            return
            except BaseException as exc:  # the learner's code may raise anything
                grants.error = exc
            finally:
                grants.waits_holding_lock = list(found)

    worker = threading.Thread(target=run, daemon=True, name="ex05 sequence")
    worker.start()
    worker.join(timeout)
    if worker.is_alive() and not grants.stalled:
        grants.stalled = f"acquire({tokens}) was still waiting after {timeout:g} s"
    return grants


def _over_admitted(grants: _Grants, limit: int, period: float, per_grant: list[int]) -> str:
    """The span in which the most was granted beyond what a full bucket plus its refill allows."""
    rate = limit / period
    count = len(grants.after)
    worst, report = EPSILON, ""
    for first in range(count):
        total = 0
        for last in range(first, count):
            total += per_grant[last]
            span = grants.after[last] - grants.before[first]
            allowed = limit + rate * span
            if total - allowed > worst:
                worst = total - allowed
                report = (
                    f"{total} granted within {span:.3f} s (grants {first + 1} to {last + 1} of "
                    f"{count}), where a bucket of {limit} refilled at {limit}/{period:g} s "
                    f"allows at most {allowed:.1f}"
                )
    return report


def _check_bucket(limiter_class: LimiterClass, *, by_tokens: bool) -> None:
    """Idle spells before bursts: never more than a full bucket plus refill, no stall."""
    limit, size = (5, 20) if by_tokens else (5, 1)
    rpm, tpm = (1000, limit * size) if by_tokens else (limit, 1_000_000)
    kind = f"tpm={tpm}" if by_tokens else f"rpm={rpm}"
    limiter = limiter_class(rpm, tpm, period=SHORT)
    # One request, then half a period idle (tried again if the machine oversleeps): a fixed
    # window that started with that request resets in the middle of the next burst. Then two
    # periods idle: a bucket without a cap would have banked two bucketfuls.
    plan = [("phase", SHORT), ("burst", 10), ("idle", 2 * SHORT), ("burst", 10)]
    ideal = 5 * SHORT / limit  # 10 from a full bucket of 5: 5 refills
    grants = _sequence(limiter, plan, size, ideal, timeout=2.0)
    if isinstance(grants.error, NotImplementedError):
        raise grants.error
    what = f"{kind} per {SHORT:g} s, acquire({size}) in bursts after idle spells"
    expect(grants.error is None, f"{what}: acquire raised {describe(grants.error)}")
    per_grant = grants.tokens if by_tokens else [1] * len(grants.tokens)
    over = _over_admitted(grants, limit * (size if by_tokens else 1), SHORT, per_grant)
    unit = "tokens" if by_tokens else "requests"
    expect(not over, f"{what}: {over} {unit} (does the refill stop at the limit?)")
    expect(not grants.stalled, f"{what}: {grants.stalled}: capacity is wasted")


def check_request_bucket(limiter_class: LimiterClass) -> None:
    _check_bucket(limiter_class, by_tokens=False)


def check_token_bucket(limiter_class: LimiterClass) -> None:
    _check_bucket(limiter_class, by_tokens=True)


def _in_thread(fn: Callable[[], None], timeout: float) -> tuple[bool, BaseException | None]:
    box: dict[str, BaseException | None] = {"error": None}

    def attempt() -> None:
        try:
            fn()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(timeout)
    return not thread.is_alive(), box["error"]


def check_too_large(limiter_class: LimiterClass) -> None:
    limiter = limiter_class(60, 1000, period=PERIOD)
    done, error = _in_thread(lambda: limiter.acquire(1001), 1.0)
    expect(
        done,
        "acquire(1001) with tpm=1000 was still waiting after 1 s: a request larger than the "
        "limit can never fit, so it must raise ValueError at once",
    )
    if isinstance(error, NotImplementedError):
        raise error
    expect(
        isinstance(error, ValueError),
        f"acquire(1001) with tpm=1000 should raise ValueError, but it "
        f"{'returned' if error is None else 'raised ' + describe(error)}",
    )


def check_exact_limit(limiter_class: LimiterClass) -> None:
    limiter = limiter_class(60, 100, period=SHORT)
    for attempt in ("on a full bucket", f"again (after a {SHORT:g} s refill)"):
        done, error = _in_thread(lambda: limiter.acquire(100), 2.0)
        if isinstance(error, NotImplementedError):
            raise error
        expect(
            error is None,
            f"acquire(100) with tpm=100 per {SHORT:g} s {attempt} raised {describe(error)}: "
            "a request of exactly the limit fits (only more than tpm can never fit)",
        )
        expect(done, f"acquire(100) with tpm=100 per {SHORT:g} s {attempt} waited over 2 s")


def check_no_sleep_holding_lock(limiter_class: LimiterClass) -> None:
    limiter = limiter_class(2, 1_000_000, period=0.05)
    grants = _sequence(limiter, [("burst", 5)], 1, 3 * 0.05 / 2, timeout=2.0)
    if isinstance(grants.error, NotImplementedError):
        raise grants.error
    expect(grants.error is None, f"acquire(1) raised {describe(grants.error)}")
    expect(
        not grants.waits_holding_lock,
        f"rpm=2 per 0.05 s, 5 acquire(1) in a row: acquire waited with "
        f"{grants.waits_holding_lock[0] if grants.waits_holding_lock else ''}; every other "
        "thread is blocked meanwhile. Decide under the lock, wait outside it",
    )


def check_race(limiter_class: LimiterClass) -> None:
    """Six threads step line by line through acquire: a full bucket of 3 admits 3."""
    limit, period, threads = 3, 3.0, 6
    made = time.monotonic()
    limiter = limiter_class(limit, 1_000_000, period=period)
    granted: list[float] = []
    errors: list[BaseException] = []

    def take() -> None:
        try:
            limiter.acquire(1)
            granted.append(time.monotonic())
        except BaseException as exc:
            errors.append(exc)

    # A 4th grant is fair from 1 s on: watching 0.9 s sees every early one. The 3 refused wait
    # 1-3 s: they go on in the background, on their own limiter.
    run_least_progress([take] * threads, candidate_files(limiter_class), timeout=0.9)
    if errors and isinstance(errors[0], NotImplementedError):
        raise errors[0]
    expect(not errors, f"acquire(1) raised {describe(errors[0] if errors else None)}")
    moments = sorted(granted)
    excess = [
        (count - (limit + limit / period * (moment - made)), count, moment)
        for count, moment in enumerate(moments, start=1)
    ]
    worst, count, moment = max(excess, default=(0.0, 0, made))
    expect(
        worst <= EPSILON,
        f"rpm={limit} per {period:g} s, {threads} threads calling acquire(1) at once, "
        f"switched after every line: {count} were let through within {moment - made:.2f} s "
        f"where {int(limit + limit / period * (moment - made))} may be. Check and take capacity "
        "under one lock (shared by all calls: made in __init__, not in acquire)",
    )
    expect(
        len(granted) >= limit,
        f"rpm={limit} per {period:g} s: {threads} threads asked at once on a full bucket, but "
        f"only {len(granted)} were let through at once",
    )


def _drive(limiter_class: LimiterClass, *, rpm: int, tpm: int, max_tokens: int) -> None:
    """Send requests from several threads through the limiter; fail on a 429 or a low rate."""
    import openai

    charge = estimate_tokens(MESSAGES) + max_tokens
    stop = threading.Event()
    failures: list[str] = []
    grants: list[Grant] = []

    def worker(deadline: float) -> None:
        client = openai_client()
        while not stop.is_set():
            asked = time.monotonic()
            try:
                limiter.acquire(charge)
            except Exception as exc:  # the learner's limiter failed: report it
                failures.append(f"acquire({charge}) raised {type(exc).__name__}: {exc}")
                stop.set()
                return
            grants.append(Grant(asked, time.monotonic()))
            if time.monotonic() >= deadline or stop.is_set():
                return
            try:
                client.chat.completions.create(
                    model=OPENAI_MODEL, messages=MESSAGES, max_completion_tokens=max_tokens
                )
            except openai.RateLimitError:
                failures.append(
                    f"the provider answered 429 Too Many Requests: the limiter let through more "
                    f"than rpm={rpm}, tpm={tpm} per {PERIOD:g} s allow, at {charge} tokens a "
                    "request (does it count tokens as well as requests?)"
                )
                stop.set()
                return

    stretch = (PERIOD + SLACK) / PERIOD
    with simulated(rpm=round(rpm * stretch), tpm=round(tpm * stretch), period=PERIOD + SLACK):
        # A first request costs more (lazy set-up in the SDK and the fake): pay it now, with
        # another key, so that it neither skews the timing nor touches the measured buckets.
        openai_client(api_key="sk-course-checks-warm-up").chat.completions.create(
            model=OPENAI_MODEL, messages=MESSAGES, max_completion_tokens=1
        )
        limiter = limiter_class(rpm, tpm, period=PERIOD)
        started = time.monotonic()
        threads = [
            threading.Thread(target=worker, args=(started + RUN,), daemon=True)
            for _ in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        deadline = started + RUN + 2.0
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        stop.set()
    expect(not failures, failures[0] if failures else "")
    expect(
        not any(thread.is_alive() for thread in threads),
        "threads were still blocked in acquire() 2 s after the run ended: does acquire wake up "
        "when capacity comes back?",
    )
    idle = idle_capacity(
        list(grants),
        made=started,
        end=started + RUN,
        limits=(rpm, tpm),
        per_request=(1, charge),
        period=PERIOD,
    )
    expect(
        idle <= MAX_IDLE * RUN,
        f"zero 429s, but in {RUN:g} s of {THREADS} threads asking for {charge} tokens at a time "
        f"(rpm={rpm}, tpm={tpm} per {PERIOD:g} s), acquire() kept callers waiting for "
        f"{idle:.2f} s while a bucket refilled continuously had room for them; at most "
        f"{MAX_IDLE * RUN:.2f} s expected ({len(grants)} granted): is the limiter refilling "
        "continuously, or sleeping longer than the shortfall?",
    )


def check_provider(limiter_class: LimiterClass) -> None:
    # 8 + 100 tokens per request: the token limit allows ~14 requests per period, rpm 1000.
    _drive(limiter_class, rpm=1000, tpm=1600, max_tokens=100)


EXERCISE = Exercise(
    id="ex05_rate_limiter",
    title="A requests + tokens per minute limiter",
    target="Limiter",
    notebook="ex05_rate_limiter.ipynb",
    sdks=("openai",),
    checks=[
        Check(
            "refuses a request larger than the token limit",
            check_too_large,
            "raise ValueError in acquire when tokens > tpm: waiting cannot help",
        ),
        Check(
            "a request of exactly the token limit fits",
            check_exact_limit,
            "only tokens > tpm can never fit; tokens == tpm fits a full bucket",
        ),
        Check(
            "request limit: a full bucket at most, even after idling, and no stall",
            check_request_bucket,
            "one bucket of rpm requests, refilled at rpm/period per second and never above rpm "
            "(not a window that resets)",
        ),
        Check(
            "token limit: a full bucket at most, even after idling, and no stall",
            check_token_bucket,
            "a second bucket of tpm tokens, refilled at tpm/period per second and never above "
            "tpm; a request takes `tokens` from it",
        ),
        Check(
            "never waits while holding a lock",
            check_no_sleep_holding_lock,
            "compute the wait under the lock, release it, then sleep and try again",
        ),
        Check(
            "threads switched after every line are not over-admitted",
            check_race,
            "one lock, made in __init__, around refill + check + take",
        ),
        Check(
            "against the provider: zero 429s, no caller kept waiting while the limit has room",
            check_provider,
            "count tokens too: a request needs 1 request and `tokens` tokens of capacity, each "
            "refilled continuously at limit/period per second",
            timeout=DRIVE_TIMEOUT,
        ),
    ],
)
