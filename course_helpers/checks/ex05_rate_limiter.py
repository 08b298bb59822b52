"""ex05 · Rate limiter: requests and tokens per period, shared safely by many threads.

The learner writes ``Limiter(rpm, tpm, period=60.0)`` with ``acquire(tokens)``, which blocks until
one request of ``tokens`` tokens fits both limits (and raises ``ValueError`` for a request that can
never fit). The checks drive the simulated provider, which enforces the same rates over a
one-second period (plus ``SLACK`` seconds of burst for the trip a request takes), from several
threads at once: any 429 fails, and so does using less than 90 % or more than 110 % of the limit
that binds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from course_helpers.checks._support import OPENAI_MODEL, openai_client, simulated
from course_helpers.checks.base import Check, Exercise, describe, expect
from course_helpers.tokens import estimate_tokens

__all__ = ["EXERCISE"]

LimiterClass = Callable[..., Any]
MESSAGES: Any = [{"role": "user", "content": "Say hello"}]
PERIOD = 1.0
THREADS = 4
RUN = 2.3  # seconds of traffic: a 2 s measured window, so one request is ~3 % of the rate
DRIVE_TIMEOUT = 9.0  # a driving check runs RUN seconds, plus set-up, on a possibly busy machine
WARM_UP = 0.3  # the first burst (the bucket starts full) is left out of the measured rate
UTILISATION = 0.9
CEILING = 1.1  # more than this share of the limit, sustained, is over the limit
# The provider is charged when a request arrives, the limiter when it grants it: while the
# provider's bucket sits full during that trip it refills nothing and the limiter does. So the
# simulated provider enforces exactly the same rates, with SLACK seconds of extra burst on top
# (the course's RateLimiter keeps `headroom` in reserve for the same reason).
SLACK = 0.25


def _drive(limiter_class: LimiterClass, *, rpm: int, tpm: int, max_tokens: int) -> None:
    """Send requests from several threads through the limiter; fail on a 429 or a low rate."""
    import openai

    charge = estimate_tokens(MESSAGES) + max_tokens
    stop = threading.Event()
    failures: list[str] = []

    def worker(deadline: float) -> None:
        client = openai_client()
        while not stop.is_set():
            try:
                limiter.acquire(charge)
            except Exception as exc:  # the learner's limiter failed: report it
                failures.append(f"acquire({charge}) raised {type(exc).__name__}: {exc}")
                stop.set()
                return
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
    with simulated(
        rpm=round(rpm * stretch), tpm=round(tpm * stretch), period=PERIOD + SLACK
    ) as fake:
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
        for thread in threads:
            thread.join(RUN + 2.0)
        stop.set()
        calls = [call for call in fake.calls[1:] if call.status is not None]
    expect(not failures, failures[0] if failures else "")
    expect(
        not any(thread.is_alive() for thread in threads),
        "threads were still blocked in acquire() 2 s after the run ended: does acquire wake up "
        "when capacity comes back?",
    )
    window = [call for call in calls if WARM_UP <= call.time - started < RUN]
    requests_allowed = rpm * (RUN - WARM_UP) / PERIOD
    tokens_allowed = tpm * (RUN - WARM_UP) / PERIOD
    share = max(len(window) / requests_allowed, len(window) * charge / tokens_allowed)
    binding = "requests" if rpm * charge < tpm else "tokens"
    expect(
        share >= UTILISATION,
        f"zero 429s, but only {share:.0%} of the {binding} limit was used after the first burst "
        f"({len(window)} requests of {charge} tokens in {RUN - WARM_UP:g} s with rpm={rpm}, "
        f"tpm={tpm} per {PERIOD:g} s); at least {UTILISATION:.0%} expected: is the limiter "
        "refilling continuously, or waiting longer than needed?",
    )
    expect(
        share <= CEILING,
        f"{len(window)} requests of {charge} tokens in {RUN - WARM_UP:g} s after the first burst "
        f"is {share:.0%} of the {binding} limit (rpm={rpm}, tpm={tpm} per {PERIOD:g} s): the "
        "limiter lets through more than the limit",
    )


def check_token_limit(limiter_class: LimiterClass) -> None:
    # 8 + 100 tokens per request: the token limit allows ~14 requests per period, rpm 1000.
    _drive(limiter_class, rpm=1000, tpm=1600, max_tokens=100)


def check_request_limit(limiter_class: LimiterClass) -> None:
    _drive(limiter_class, rpm=20, tpm=1_000_000, max_tokens=20)


def check_too_large(limiter_class: LimiterClass) -> None:
    limiter = limiter_class(60, 1000, period=PERIOD)
    box: dict[str, BaseException | None] = {}

    def attempt() -> None:
        try:
            limiter.acquire(1001)
            box["error"] = None
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(0.5)
    expect(
        not thread.is_alive(),
        "acquire(1001) with tpm=1000 was still waiting after 0.5 s: a request larger than the "
        "limit can never fit, so it must raise ValueError at once",
    )
    error = box.get("error")
    if isinstance(error, NotImplementedError):
        raise error
    expect(
        isinstance(error, ValueError),
        f"acquire(1001) with tpm=1000 should raise ValueError, but it "
        f"{'returned' if error is None else 'raised ' + describe(error)}",
    )


def check_threads_share(limiter_class: LimiterClass) -> None:
    limiter = limiter_class(5, 1_000_000, period=PERIOD)
    granted: list[float] = []
    lock = threading.Lock()
    start = time.monotonic()

    def take() -> None:
        limiter.acquire(1)
        with lock:
            granted.append(time.monotonic() - start)

    threads = [threading.Thread(target=take, daemon=True) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(2.0)
    early = sum(1 for moment in granted if moment < 0.15)
    expect(
        early <= 5,
        f"rpm=5: 8 threads asked at once and {early} were let through immediately; at most 5 "
        "may be (protect the limiter's state with a lock)",
    )
    expect(
        len(granted) == 8,
        f"rpm=5 per {PERIOD:g} s: all 8 threads should be through within 2 s, "
        f"only {len(granted)} were",
    )


EXERCISE = Exercise(
    id="ex05_rate_limiter",
    title="A requests + tokens per minute limiter",
    target="Limiter",
    notebook="ex05_rate_limiter.ipynb",
    checks=[
        Check(
            "refuses a request larger than the token limit",
            check_too_large,
            "raise ValueError in acquire when tokens > tpm: waiting cannot help",
        ),
        Check(
            "several threads share it: no over-admission, nobody starves",
            check_threads_share,
            "check and take capacity under one lock; sleep outside it",
        ),
        Check(
            "token limit binds: zero 429s, ≥ 90 % of TPM",
            check_token_limit,
            "count tokens too: a request needs 1 request and `tokens` tokens of capacity, each "
            "refilled continuously at limit/period per second",
            timeout=DRIVE_TIMEOUT,
        ),
        Check(
            "request limit binds: zero 429s, ≥ 90 % of RPM",
            check_request_limit,
            "the bucket starts full and refills continuously; wait exactly as long as needed",
            timeout=DRIVE_TIMEOUT,
        ),
    ],
)
