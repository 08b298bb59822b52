"""The seed's ``TokenBudget``, with its defects. Do not use: see ``course_helpers.budget``.

A typical course module's budget: two in-memory counters and a reset check. Its defects:

- **The daily counter resets only when the day of the month changes.** ``_reset_if_needed``
  compares ``now.day`` with the day of the previous call, so a call on 15 February after the last
  one on 15 January finds "the same day" and keeps January's usage: the day never resets.
- **The monthly counter compares only the month number**, so January 2027 after January 2026
  (with no call in between) is "the same month".
- **Naive local time** (``datetime.now()`` without a time zone): the day ends at the server's
  midnight, not the user's, and moves when the machine's zone or daylight saving time changes.
- **Check-then-act**: callers do ``if budget.can_spend(n): call(); budget.spend(n)``. Two threads
  can both pass the check before either spends, and ``spend`` itself checks nothing.
- **Nothing is persisted**: a kernel restart forgets the day's spend.
- **Tokens only**: no price, so a budget in dollars is impossible.

The ``now`` keyword is not in the original; it exists only so tests and notebooks can show the
defects without waiting a month. The defects are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

__all__ = ["TokenBudget"]


class TokenBudget:
    """Daily and monthly token limits, counted in memory."""

    def __init__(
        self,
        daily_limit: int,
        monthly_limit: int,
        *,
        now: Callable[[], datetime] = datetime.now,
    ) -> None:
        self.daily_limit = daily_limit
        self.monthly_limit = monthly_limit
        self.daily_used = 0
        self.monthly_used = 0
        self._now = now
        self.last_reset = self._now()

    def _reset_if_needed(self) -> None:
        now = self._now()
        if now.day != self.last_reset.day:  # DEFECT: Jan 15 -> Feb 15 is "the same day"
            self.daily_used = 0
        if now.month != self.last_reset.month:  # DEFECT: Jan 2026 -> Jan 2027 is "the same month"
            self.monthly_used = 0
        self.last_reset = now

    def can_spend(self, tokens: int) -> bool:
        """Whether ``tokens`` more fit both limits."""
        self._reset_if_needed()
        return (
            self.daily_used + tokens <= self.daily_limit
            and self.monthly_used + tokens <= self.monthly_limit
        )

    def spend(self, tokens: int) -> None:
        """Record ``tokens`` as spent (the caller is expected to have called ``can_spend``)."""
        self._reset_if_needed()
        self.daily_used += tokens
        self.monthly_used += tokens
