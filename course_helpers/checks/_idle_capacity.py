"""How long a limiter kept callers waiting while the limit had room for them.

Counting requests per second judges the whole path (the SDK, the HTTP round trip, a busy
machine) along with the limiter. This judges the limiter alone: replay its grants through an
exact pair of token buckets (requests and tokens, full at the start, refilled continuously,
capped) and add up the time during which a caller was waiting in ``acquire()`` although both
buckets held enough for one more request. A correct limiter wastes only its wake-up latency
per grant; one that refills too slowly, or sleeps longer than the shortfall, wastes most of the
run. A machine that is slow to schedule threads adds latency, not a different verdict, because
the time a caller spends outside ``acquire()`` (in the request itself) never counts.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Grant", "idle_capacity"]


@dataclass(frozen=True)
class Grant:
    """One ``acquire()``: when it was called and when it returned."""

    asked: float
    granted: float


def _ready_after(level: float, need: float, rate: float, start: float) -> float:
    """When a bucket at ``level`` at ``start``, filling at ``rate``, first holds ``need``."""
    return start if level >= need else start + (need - level) / rate


def idle_capacity(
    grants: list[Grant],
    *,
    made: float,
    end: float,
    limits: tuple[float, float],
    per_request: tuple[float, float],
    period: float,
) -> float:
    """Seconds in [``made``, ``end``] during which someone waited although both buckets had room.

    ``limits`` are the bucket sizes (requests, tokens) per ``period``; ``per_request`` what one
    grant takes from each (1 and its tokens). The buckets are full at ``made``; each grant takes
    its share when it returned (an over-admitting limiter drives a bucket below zero: that is
    for a 429 to show, not this).
    """
    events: list[tuple[float, int]] = []  # (time, +1 a caller starts waiting, -1 one is served)
    for grant in grants:
        if grant.asked < end:
            events.append((max(grant.asked, made), +1))
            events.append((min(grant.granted, end), -1))
    events.sort()
    levels = list(limits)
    rates = [limit / period for limit in limits]
    now, waiting, idle = made, 0, 0.0
    for moment, change in [*events, (end, 0)]:
        if moment > now:
            if waiting > 0:
                ready = max(
                    _ready_after(level, need, rate, now)
                    for level, need, rate in zip(levels, per_request, rates, strict=True)
                )
                idle += max(0.0, moment - max(now, ready))
            levels = [
                min(limit, level + rate * (moment - now))
                for level, limit, rate in zip(levels, limits, rates, strict=True)
            ]
            now = moment
        waiting += change
        if change < 0:
            levels = [level - need for level, need in zip(levels, per_request, strict=True)]
    return idle
