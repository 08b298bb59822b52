"""RateLimiter given only the limits: zero 429s from the simulated provider's own buckets.

The client's admissions run on a fake clock; each request then reaches the provider a little
later (its "trip"), and the provider's real ``RateLimits`` judges the arrivals in time order. No
wall clock is involved, so the verdicts are exact. The utilisation and 429s measured with real
threads and tasks are in ``benchmarks/limiter.py``.
"""

from __future__ import annotations

import random

import pytest
from support import ManualClock

from course_helpers.fake.limits import RateLimits
from course_helpers.ratelimit import DEFAULT_HEADROOM, RateLimiter, default_headroom

# (requests, tokens) per period, and the range of token costs: one where tokens bind, one where
# requests do (20 requests of at most 600 tokens never reach 100,000).
TOKENS_BIND = ((60, 8_000), (50, 3_000))
REQUESTS_BIND = ((20, 100_000), (50, 600))


def simulate(
    limits: tuple[int, int],
    costs: tuple[int, int],
    period: float,
    seed: int,
    headroom: float | None = None,
) -> tuple[int, float]:
    """Send 12 periods' worth of requests; return (429s, share of the binding limit admitted)."""
    rpm, tpm = limits
    clock = ManualClock()
    limiter = RateLimiter(
        rpm, tpm, period=period, clock=clock, sleep=clock.sleep, headroom=headroom
    )
    # Trips vary by up to 95 % of the documented default headroom (1 s, at most a quarter
    # period); the first request is the slowest, so the provider's bucket sits full (refilling
    # nothing) while ours refills.
    spread = 0.95 * min(1.0, period / 4)
    rng = random.Random(seed)
    arrivals: list[tuple[float, int, int]] = []
    while clock.now < 12 * period:
        tokens = rng.randint(*costs)
        limiter.acquire(tokens)
        trip = spread if not arrivals else rng.uniform(0.0, spread)
        arrivals.append((clock.now + trip, len(arrivals), tokens))
    server_now = [0.0]
    server = RateLimits(
        {"requests": rpm, "tokens": tpm}, period=period, clock=lambda: server_now[0]
    )
    refused, requests, tokens_used = 0, 0, 0
    for at, _, tokens in sorted(arrivals):
        server_now[0] = at
        if server.charge("key", {"requests": 1, "tokens": tokens}).allowed:
            requests, tokens_used = requests + 1, tokens_used + tokens
        else:
            refused += 1
    binding, used = (rpm, requests) if costs == REQUESTS_BIND[1] else (tpm, tokens_used)
    return refused, used / (binding + binding * clock.now / period)


@pytest.mark.parametrize("period", [1.0, 60.0])
@pytest.mark.parametrize(
    ("limits", "costs"), [TOKENS_BIND, REQUESTS_BIND], ids=["tokens", "requests"]
)
def test_the_defaults_get_no_429s_and_use_the_limit(
    limits: tuple[int, int], costs: tuple[int, int], period: float
) -> None:
    for seed in range(5):
        refused, share = simulate(limits, costs, period, seed)
        assert refused == 0, f"seed {seed}: {refused} requests refused"
        assert share >= 0.95, f"seed {seed}: {share:.1%} of the limit used"


@pytest.mark.parametrize("period", [1.0, 60.0])
@pytest.mark.parametrize(
    ("limits", "costs"), [TOKENS_BIND, REQUESTS_BIND], ids=["tokens", "requests"]
)
def test_a_bucket_that_models_the_provider_exactly_gets_429s(
    limits: tuple[int, int], costs: tuple[int, int], period: float
) -> None:
    # What the defaults are for: the same trips with no headroom get requests refused.
    refused = sum(simulate(limits, costs, period, seed, headroom=0.0)[0] for seed in range(5))
    assert refused > 0


def test_the_default_headroom_is_one_second_at_most_a_quarter_period() -> None:
    assert DEFAULT_HEADROOM == 1.0
    assert (default_headroom(60.0), default_headroom(1.0)) == (1.0, 0.25)
    assert RateLimiter(requests_per_minute=500).headroom == 1.0
    assert RateLimiter(tokens_per_minute=1_000, period=1.0).headroom == 0.25
    assert RateLimiter(tokens_per_minute=1_000, period=2.0, headroom=None).headroom == 0.5
    assert RateLimiter(tokens_per_minute=1_000, headroom=0.0).headroom == 0.0
    with pytest.raises(ValueError, match=r"None for the default"):
        RateLimiter(tokens_per_minute=1_000, period=1.0, headroom=-0.1)


def test_the_reserve_costs_part_of_the_first_burst_only(clock: ManualClock) -> None:
    limiter = RateLimiter(tokens_per_minute=6_000, clock=clock, sleep=clock.sleep)
    limiter.acquire(5_900)  # the burst: 6,000 less the 100-token reserve (1 s at 100 per s)
    assert clock.now == 0.0
    limiter.acquire(100)  # then the steady rate: 100 tokens refill in 1 s
    assert clock.now == pytest.approx(1.0)
    limiter.acquire(1_000)
    assert clock.now == pytest.approx(11.0)
