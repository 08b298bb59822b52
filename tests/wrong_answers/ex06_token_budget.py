"""Answers to ex06_token_budget: wrong ones its checks must catch, right ones they must pass."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from course_helpers.seed.budget import TokenBudget as SeedTokenBudget
from wrong_answers.kinds import Demo, Right, Wrong


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
            raise RuntimeError("over budget")
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
            "refuses before overspending",
        ],
    ),
    (
        "rolling 24 h / 30 days instead of the calendar",
        RollingBudget,
        [
            "the day resets at midnight",
            "the month resets on the 1st, not on the same day of the next month",
        ],
    ),
]

# The demo in the solution notebook ("what a check looks like"), by the name it has there.
DEMO: Demo = (
    "SeedTokenBudget",
    "the seed's TokenBudget",
    ["a month later, the same day of the month is a new day"],
)

# Correct answers built differently from the solution: every check must pass them.
RIGHT: list[Right] = []
