"""ex06 · Token budget: daily and monthly limits that reset on calendar days and months.

The learner writes ``Budget(daily_limit, monthly_limit, *, now=datetime.now)`` with
``can_spend(tokens) -> bool`` and ``spend(tokens)``, which raises (and records nothing) when the
tokens do not fit. The day starts at midnight; the month starts on the 1st. The checks drive a
frozen clock through the calendar, calling the budget only at the moments that matter (a budget
that resets only when it happens to be called in between is wrong).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from course_helpers.checks.base import Check, Exercise, describe, expect

__all__ = ["EXERCISE"]

BudgetClass = Callable[..., Any]


class Clock:
    """A clock that stands still until the check moves it."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def _budget(
    budget_class: BudgetClass, daily: int, monthly: int, start: datetime
) -> tuple[Any, Clock]:
    clock = Clock(start)
    return budget_class(daily, monthly, now=clock), clock


def _show(moment: datetime) -> str:
    return moment.strftime("%a %d %b %Y %H:%M:%S")


def _can(budget: Any, tokens: int, expected: bool, situation: str) -> None:
    got = budget.can_spend(tokens)
    expect(
        got is expected,
        f"{situation}: can_spend({tokens}) should be {expected}, got {describe(got)}",
    )


def check_daily_limit(budget_class: BudgetClass) -> None:
    day = datetime(2026, 3, 10, 9, 0)
    budget, _ = _budget(budget_class, 100, 10_000, day)
    _can(budget, 100, True, "a fresh budget with daily_limit=100")
    _can(budget, 101, False, "a fresh budget with daily_limit=100")
    budget.spend(60)
    _can(budget, 40, True, "after spending 60 of a daily 100")
    _can(budget, 41, False, "after spending 60 of a daily 100")


def check_monthly_limit(budget_class: BudgetClass) -> None:
    budget, clock = _budget(budget_class, 100, 150, datetime(2026, 3, 10, 9, 0))
    budget.spend(100)
    clock.moment = datetime(2026, 3, 11, 9, 0)
    budget.spend(50)
    clock.moment = datetime(2026, 3, 12, 9, 0)
    _can(budget, 1, False, "150 of a monthly 150 spent on 10 and 11 March, now 12 March")


def check_refuses(budget_class: BudgetClass) -> None:
    budget, _ = _budget(budget_class, 100, 10_000, datetime(2026, 3, 10, 9, 0))
    budget.spend(60)
    try:
        budget.spend(50)
    except NotImplementedError:
        raise
    except Exception:
        pass
    else:
        raise AssertionError(
            "spend(50) after 60 of a daily 100 should raise (before overspending), but it "
            "returned normally: the budget is now overspent"
        )
    _can(budget, 40, True, "a refused spend(50) must not be recorded: after spending 60 of 100")


def check_midnight(budget_class: BudgetClass) -> None:
    evening = datetime(2026, 3, 10, 23, 59, 59)
    budget, clock = _budget(budget_class, 100, 10_000, evening)
    budget.spend(100)
    clock.moment = datetime(2026, 3, 11, 0, 0, 0)
    _can(budget, 100, True, f"100 of 100 spent at {_show(evening)}, now it is midnight")


def check_same_day(budget_class: BudgetClass) -> None:
    morning = datetime(2026, 3, 10, 0, 0, 1)
    budget, clock = _budget(budget_class, 100, 10_000, morning)
    budget.spend(100)
    late = datetime(2026, 3, 10, 23, 59, 59)
    clock.moment = late
    _can(budget, 1, False, f"100 of 100 spent at {_show(morning)}, now {_show(late)}")


def check_same_day_of_month(budget_class: BudgetClass) -> None:
    first = datetime(2026, 1, 15, 10, 0)
    budget, clock = _budget(budget_class, 100, 10_000, first)
    budget.spend(100)
    later = datetime(2026, 2, 15, 10, 0)
    clock.moment = later
    _can(
        budget,
        100,
        True,
        f"100 of a daily 100 spent on {_show(first)}, no call since, now {_show(later)} "
        "(a month later, the same day of the month: a new day)",
    )


def check_first_of_month(budget_class: BudgetClass) -> None:
    first = datetime(2026, 1, 20, 12, 0)
    budget, clock = _budget(budget_class, 1000, 100, first)
    budget.spend(100)
    end = datetime(2026, 1, 31, 23, 59)
    clock.moment = end
    _can(budget, 1, False, f"100 of a monthly 100 spent on {_show(first)}, now {_show(end)}")
    new_month = datetime(2026, 2, 1, 0, 0)
    clock.moment = new_month
    _can(budget, 100, True, f"100 of a monthly 100 spent in January, now {_show(new_month)}")
    budget.spend(100)
    anniversary = datetime(2026, 2, 20, 12, 0)
    clock.moment = anniversary
    _can(
        budget,
        1,
        False,
        f"100 of a monthly 100 spent on {_show(new_month)}, now {_show(anniversary)} (the "
        "same day of the month as the first spend: still February)",
    )


def check_new_year(budget_class: BudgetClass) -> None:
    first = datetime(2026, 1, 10, 8, 0)
    budget, clock = _budget(budget_class, 1000, 100, first)
    budget.spend(100)
    later = datetime(2027, 1, 10, 8, 0)
    clock.moment = later
    _can(
        budget,
        100,
        True,
        f"100 of a monthly 100 spent on {_show(first)}, no call since, now {_show(later)} "
        "(January again, but of another year)",
    )


EXERCISE = Exercise(
    id="ex06_token_budget",
    title="Daily and monthly budget with calendar resets",
    target="Budget",
    notebook="ex06_token_budget.ipynb",
    needs_sdks=False,
    checks=[
        Check(
            "enforces the daily limit", check_daily_limit, "compare used + tokens with the limit"
        ),
        Check(
            "enforces the monthly limit",
            check_monthly_limit,
            "keep a monthly total next to the daily one",
        ),
        Check(
            "refuses before overspending",
            check_refuses,
            "spend() checks first and raises without recording anything",
        ),
        Check(
            "the day resets at midnight",
            check_midnight,
            "remember which date the daily total belongs to: now().date()",
        ),
        Check(
            "the day does not reset during the day",
            check_same_day,
            "not 'once 24 hours have passed': the calendar date decides",
        ),
        Check(
            "a month later, the same day of the month is a new day",
            check_same_day_of_month,
            "compare whole dates, not now().day (15 January and 15 February share .day == 15)",
        ),
        Check(
            "the month resets on the 1st, not on the same day of the next month",
            check_first_of_month,
            "remember which (year, month) the monthly total belongs to",
        ),
        Check(
            "January of another year is a new month",
            check_new_year,
            "compare (year, month), not just .month",
        ),
    ],
)
