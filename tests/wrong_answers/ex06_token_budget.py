"""Answers to ex06_token_budget: wrong ones its checks must catch, right ones they must pass.

Each wrong answer is a correct budget but for one mistake (``Ledger`` below), so the checks that
catch it are the ones for that mistake.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from course_helpers.seed.clocked import ClockedTokenBudget as SeedTokenBudget
from wrong_answers.kinds import Demo, Right, Wrong


class BudgetExceeded(Exception):
    """The exercise's error: the notebook defines it next to Budget."""


class Ledger:
    """Correct: one lock, a date and a (year, month) per total. Subclasses break one thing."""

    def __init__(self, daily_limit: int, monthly_limit: int, *, now: Any = datetime.now) -> None:
        self.daily_limit, self.monthly_limit, self.now = daily_limit, monthly_limit, now
        self.lock = threading.Lock()
        self.day: object = None
        self.month: object = None
        self.day_used = self.month_used = 0

    def today(self) -> date:
        return self.now().date()  # type: ignore[no-any-return]

    def day_key(self, today: date) -> object:
        return today

    def roll(self) -> None:
        today = self.today()
        if self.day_key(today) != self.day:
            self.day, self.day_used = self.day_key(today), 0
        if (today.year, today.month) != self.month:
            self.month, self.month_used = (today.year, today.month), 0

    def fits(self, tokens: int) -> bool:
        return (
            self.day_used + tokens <= self.daily_limit
            and self.month_used + tokens <= self.monthly_limit
        )

    def can_spend(self, tokens: int) -> bool:
        with self.lock:
            self.roll()
            return self.fits(tokens)

    def spend(self, tokens: int) -> None:
        with self.lock:
            self.roll()
            if not self.fits(tokens):
                raise BudgetExceeded(f"{tokens} tokens do not fit")
            self.day_used += tokens
            self.month_used += tokens


class SpendIgnoresMonth(Ledger):
    """spend() checks only today's limit (can_spend is right)."""

    def spend(self, tokens: int) -> None:
        with self.lock:
            self.roll()
            if self.day_used + tokens > self.daily_limit:
                raise BudgetExceeded("daily limit")
            self.day_used += tokens
            self.month_used += tokens


class DayWithoutYear(Ledger):
    """The day is keyed by (month, day): 10 March 2027 is 10 March 2026."""

    def day_key(self, today: date) -> object:
        return (today.month, today.day)


class UtcCalendar(Ledger):
    """Converts now() to UTC before taking the date."""

    def today(self) -> date:
        return self.now().astimezone(UTC).date()  # type: ignore[no-any-return]


class MachineCalendar(Ledger):
    """Takes the date in the machine's own zone (via a timestamp)."""

    def today(self) -> date:
        return date.fromtimestamp(self.now().timestamp())


class IgnoresTheClock(Ledger):
    """Reads datetime.now() itself instead of the clock it was given."""

    def today(self) -> date:
        return datetime.now().date()


class CheckThenSpend(Ledger):
    """spend() asks can_spend() (locked) and then records (unlocked): a race."""

    def spend(self, tokens: int) -> None:
        if not self.can_spend(tokens):
            raise BudgetExceeded(f"{tokens} tokens do not fit")
        self.day_used += tokens
        self.month_used += tokens


class NoLock(Ledger):
    """No lock at all."""

    def can_spend(self, tokens: int) -> bool:
        self.roll()
        return self.fits(tokens)

    def spend(self, tokens: int) -> None:
        self.roll()
        if not self.fits(tokens):
            raise BudgetExceeded(f"{tokens} tokens do not fit")
        self.day_used += tokens
        self.month_used += tokens


class CountsRefusedInMonth(Ledger):
    """Adds to the month before checking the day: a refused spend still counts this month."""

    def spend(self, tokens: int) -> None:
        with self.lock:
            self.roll()
            if self.month_used + tokens > self.monthly_limit:
                raise BudgetExceeded("monthly limit")
            self.month_used += tokens
            if self.day_used + tokens > self.daily_limit:
                raise BudgetExceeded("daily limit")
            self.day_used += tokens


class RaisesValueError(Ledger):
    """Refuses with ValueError instead of the exercise's BudgetExceeded."""

    def spend(self, tokens: int) -> None:
        with self.lock:
            self.roll()
            if not self.fits(tokens):
                raise ValueError(f"{tokens} tokens do not fit")
            self.day_used += tokens
            self.month_used += tokens


class RollingBudget:
    """Resets 24 hours after the day's first spend and 30 days after the month's: not calendar."""

    def __init__(self, daily_limit: int, monthly_limit: int, *, now: Any = datetime.now) -> None:
        self.daily_limit, self.monthly_limit, self.now = daily_limit, monthly_limit, now
        self.day_start = self.month_start = now()
        self.day_used = self.month_used = 0

    def _roll(self) -> None:
        now = self.now()
        if now - self.day_start >= timedelta(days=1):
            self.day_start, self.day_used = now, 0
        if now - self.month_start >= timedelta(days=30):
            self.month_start, self.month_used = now, 0

    def can_spend(self, tokens: int) -> bool:
        self._roll()
        return (
            self.day_used + tokens <= self.daily_limit
            and self.month_used + tokens <= self.monthly_limit
        )

    def spend(self, tokens: int) -> None:
        if not self.can_spend(tokens):
            raise BudgetExceeded("over budget")
        self.day_used += tokens
        self.month_used += tokens


# What each wrong answer gets wrong, the answer, and the checks that must catch it.
WRONG: list[Wrong] = [
    (
        "the seed's TokenBudget",
        SeedTokenBudget,
        [
            "a month later, the same day of the month is a new day",
            "January of another year is a new month",
            "refuses before overspending, recording nothing",
        ],
    ),
    (
        "rolling 24 h / 30 days instead of the calendar",
        RollingBudget,
        [
            "the day resets at midnight of now()'s time zone",
            "the month resets on the 1st, not on the same day of the next month",
        ],
    ),
    ("spend() ignores the monthly limit", SpendIgnoresMonth, ["enforces the monthly limit"]),
    (
        "the day keyed without the year",
        DayWithoutYear,
        ["a year later, the same date is a new day"],
    ),
    (
        "the calendar taken in UTC",
        UtcCalendar,
        [
            "the day resets at midnight of now()'s time zone",
            "the day does not reset during the day",
        ],
    ),
    (
        "the calendar taken in the machine's zone",
        MachineCalendar,
        [
            "the day resets at midnight of now()'s time zone",
            "the day does not reset during the day",
        ],
    ),
    (
        "datetime.now() instead of the clock given",
        IgnoresTheClock,
        [
            "the day resets at midnight of now()'s time zone",
            "the month resets on the 1st, not on the same day of the next month",
        ],
    ),
    (
        "check-then-spend, the recording unlocked",
        CheckThenSpend,
        ["threads switched after every line never overspend"],
    ),
    ("no lock", NoLock, ["threads switched after every line never overspend"]),
    (
        "a refused spend still counted against the month",
        CountsRefusedInMonth,
        ["refuses before overspending, recording nothing"],
    ),
    (
        "ValueError instead of BudgetExceeded",
        RaisesValueError,
        [
            "enforces the daily limit",
            "enforces the monthly limit",
            "refuses before overspending, recording nothing",
        ],
    ),
]

# The demo in the solution notebook ("what a check looks like"), by the name it has there.
DEMO: Demo = (
    "SeedTokenBudget",
    "the seed's TokenBudget",
    ["a month later, the same day of the month is a new day"],
)


class DailyBudgetExceeded(BudgetExceeded):
    """A more precise refusal: still a BudgetExceeded."""


class DatedLedger:
    """Right: every spend kept by date (the month is the sum of its dates), an RLock, and a
    subclass of BudgetExceeded for the daily refusal."""

    def __init__(
        self, daily_limit: int, monthly_limit: int, *, now: Callable[[], datetime] = datetime.now
    ) -> None:
        self.limits = (daily_limit, monthly_limit)
        self.clock = now
        self.by_date: defaultdict[date, int] = defaultdict(int)
        self.guard = threading.RLock()

    def used(self) -> tuple[int, int]:
        today = self.clock().date()
        month = sum(
            spent
            for day, spent in self.by_date.items()
            if (day.year, day.month) == (today.year, today.month)
        )
        return self.by_date.get(today, 0), month

    def can_spend(self, tokens: int) -> bool:
        with self.guard:
            day, month = self.used()
            return day + tokens <= self.limits[0] and month + tokens <= self.limits[1]

    def spend(self, tokens: int) -> None:
        with self.guard:
            day, month = self.used()
            if day + tokens > self.limits[0]:
                raise DailyBudgetExceeded(f"today: {day} + {tokens} > {self.limits[0]}")
            if month + tokens > self.limits[1]:
                raise BudgetExceeded(f"this month: {month} + {tokens} > {self.limits[1]}")
            self.by_date[self.clock().date()] += tokens


_SHARED_LOCK = threading.Lock()


class Periods:
    """Right: the period keys as strftime strings, a module-level lock, resets on read."""

    def __init__(self, daily_limit: int, monthly_limit: int, *, now: Any = datetime.now) -> None:
        self.daily_limit, self.monthly_limit, self.now = daily_limit, monthly_limit, now
        self.totals: dict[str, int] = {}

    def _current(self) -> tuple[str, str]:
        moment = self.now()
        day, month = moment.strftime("%Y-%m-%d"), moment.strftime("%Y-%m")
        for key in list(self.totals):
            if key not in (day, month):
                del self.totals[key]
        return day, month

    def can_spend(self, tokens: int) -> bool:
        with _SHARED_LOCK:
            day, month = self._current()
            return (
                self.totals.get(day, 0) + tokens <= self.daily_limit
                and self.totals.get(month, 0) + tokens <= self.monthly_limit
            )

    def spend(self, tokens: int) -> None:
        with _SHARED_LOCK:
            day, month = self._current()
            if (
                self.totals.get(day, 0) + tokens > self.daily_limit
                or self.totals.get(month, 0) + tokens > self.monthly_limit
            ):
                raise BudgetExceeded(f"{tokens} tokens do not fit")
            self.totals[day] = self.totals.get(day, 0) + tokens
            self.totals[month] = self.totals.get(month, 0) + tokens


# Correct answers built differently from the solution: every check must pass them.
RIGHT: list[Right] = [
    ("the checks' own reference shape: one lock, date and (year, month) keys", Ledger),
    ("spends kept by date, an RLock, a BudgetExceeded subclass", DatedLedger),
    ("strftime period keys, a module-level lock", Periods),
]
