"""ex06 · Token budget: daily and monthly limits that reset on calendar days and months.

The learner writes ``Budget(daily_limit, monthly_limit, *, now=datetime.now)`` with
``can_spend(tokens) -> bool`` and ``spend(tokens)``, which raises ``BudgetExceeded`` (and records
nothing) when the tokens do not fit either limit. The day starts at midnight and the month on
the 1st, in the time zone of the datetimes ``now()`` returns.

The checks drive a frozen clock through the calendar, calling the budget only at the moments
that matter (a budget that resets only when it happens to be called in between is wrong). The
calendar checks run in two time zones no machine uses (UTC−03:17 and UTC+07:41), so an answer
that converts to UTC or to the machine's zone fails whatever the grading machine's zone is.
Concurrency is checked by forced interleaving (``_least_progress``), so a check-then-spend race
is caught every run, not by luck, even when the check itself is locked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from course_helpers.checks._interleave import candidate_files
from course_helpers.checks._least_progress import run_least_progress
from course_helpers.checks.base import Check, Exercise, describe, expect

__all__ = ["EXERCISE", "ZONES"]

BudgetClass = Callable[..., Any]

ZONES: tuple[tzinfo, ...] = (
    timezone(-timedelta(hours=3, minutes=17), "UTC−03:17"),
    timezone(timedelta(hours=7, minutes=41), "UTC+07:41"),
)
"""The zones the calendar checks run in: offsets no real zone has, on both sides of UTC."""


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
    zone = f" {moment.tzname()}" if moment.tzinfo is not None else ""
    return moment.strftime("%a %d %b %Y %H:%M:%S") + zone


def _can(budget: Any, tokens: int, expected: bool, situation: str) -> None:
    got = budget.can_spend(tokens)
    expect(
        got is expected,
        f"{situation}: can_spend({tokens}) should be {expected}, got {describe(got)}",
    )


def _zoned() -> Iterator[Callable[..., datetime]]:
    """For each zone, a ``datetime(...)`` maker for moments in that zone."""
    for zone in ZONES:
        yield lambda *parts, zone=zone: datetime(*parts).replace(tzinfo=zone)


def budget_error_class(budget_class: BudgetClass) -> type[BaseException] | None:
    """The ``BudgetExceeded`` the candidate's module defines (where its methods look names up)."""
    for klass in getattr(budget_class, "__mro__", (budget_class,)):
        for value in vars(klass).values() if hasattr(klass, "__dict__") else ():
            found = getattr(getattr(value, "__func__", value), "__globals__", {}).get(
                "BudgetExceeded"
            )
            if isinstance(found, type) and issubclass(found, BaseException):
                return found
    return None


def _refused(budget: Any, tokens: int, situation: str, budget_class: BudgetClass) -> None:
    """``spend(tokens)`` must raise the exercise's ``BudgetExceeded``."""
    wanted = budget_error_class(budget_class)
    try:
        budget.spend(tokens)
    except NotImplementedError:
        raise
    except Exception as exc:
        expect(
            wanted is not None and isinstance(exc, wanted),
            f"{situation}: spend({tokens}) raised {type(exc).__name__}({describe(str(exc), 60)})"
            " where it should raise BudgetExceeded, the class the exercise defines (a caller "
            "catches exactly that: `except BudgetExceeded:`)",
        )
    else:
        raise AssertionError(
            f"{situation}: spend({tokens}) returned normally where it should raise "
            "BudgetExceeded: the budget is now overspent"
        )


def check_daily_limit(budget_class: BudgetClass) -> None:
    day = datetime(2026, 3, 10, 9, 0)
    budget, _ = _budget(budget_class, 100, 10_000, day)
    _can(budget, 100, True, "a fresh budget with daily_limit=100")
    _can(budget, 101, False, "a fresh budget with daily_limit=100")
    budget.spend(60)
    _can(budget, 40, True, "after spending 60 of a daily 100")
    _can(budget, 41, False, "after spending 60 of a daily 100")
    budget.spend(40)
    _refused(budget, 1, "after spending 100 of a daily 100", budget_class)


def check_monthly_limit(budget_class: BudgetClass) -> None:
    budget, clock = _budget(budget_class, 100, 150, datetime(2026, 3, 10, 9, 0))
    budget.spend(100)
    clock.moment = datetime(2026, 3, 11, 9, 0)
    situation = "daily_limit=100, monthly_limit=150: 100 spent on 10 March, now 11 March"
    _can(budget, 50, True, situation)
    _can(budget, 51, False, situation)
    budget.spend(50)
    clock.moment = datetime(2026, 3, 12, 9, 0)
    situation = "150 of a monthly 150 spent on 10 and 11 March, now 12 March"
    _can(budget, 1, False, situation)
    _refused(budget, 1, situation, budget_class)


def check_refuses(budget_class: BudgetClass) -> None:
    budget, clock = _budget(budget_class, 100, 150, datetime(2026, 3, 10, 9, 0))
    budget.spend(60)
    situation = "daily_limit=100, monthly_limit=150, 60 spent today"
    _refused(budget, 50, situation, budget_class)
    _can(budget, 40, True, f"{situation}, then spend(50) refused (a refusal records nothing)")
    clock.moment = datetime(2026, 3, 11, 9, 0)
    _can(
        budget,
        90,
        True,
        f"{situation} on 10 March, spend(50) refused; now 11 March (60 of the month's 150 "
        "used: the refused 50 must not count against the month either)",
    )


def check_exact_class(budget_class: BudgetClass) -> None:
    budget, _ = _budget(budget_class, 100, 1_000, datetime(2026, 3, 10, 9, 0))
    budget.spend(100)
    expect(
        budget_error_class(budget_class) is not None,
        "spend() must raise BudgetExceeded, the class the exercise defines next to Budget, but "
        "Budget's methods do not see a class of that name: define it in the same notebook",
    )
    _refused(budget, 1, "after spending 100 of a daily 100", budget_class)


def check_midnight(budget_class: BudgetClass) -> None:
    for at in _zoned():
        evening = at(2026, 3, 10, 23, 59, 59)
        budget, clock = _budget(budget_class, 100, 10_000, evening)
        budget.spend(100)
        _can(budget, 1, False, f"100 of 100 spent at {_show(evening)}, a second later")
        clock.moment = at(2026, 3, 11, 0, 0, 0)
        _can(
            budget,
            100,
            True,
            f"100 of 100 spent at {_show(evening)}, now {_show(clock.moment)} (midnight in "
            "now()'s own time zone: take the date of now() as it is, do not convert it)",
        )


def check_same_day(budget_class: BudgetClass) -> None:
    for at in _zoned():
        morning = at(2026, 3, 10, 0, 0, 1)
        budget, clock = _budget(budget_class, 100, 10_000, morning)
        budget.spend(100)
        late = at(2026, 3, 10, 23, 59, 59)
        clock.moment = late
        _can(budget, 1, False, f"100 of 100 spent at {_show(morning)}, now {_show(late)}")


def _fresh_again(
    budget_class: BudgetClass, period: str, first: datetime, later: datetime, why: str
) -> None:
    """The whole ``period`` limit (100) spent at ``first`` is free again at ``later``."""
    daily, monthly = (100, 10_000) if period == "daily" else (1000, 100)
    budget, clock = _budget(budget_class, daily, monthly, first)
    budget.spend(100)
    clock.moment = later
    _can(
        budget,
        100,
        True,
        f"100 of a {period} 100 spent on {_show(first)}, no call since, now {_show(later)} ({why})",
    )


def check_same_day_of_month(budget_class: BudgetClass) -> None:
    first, later = datetime(2026, 1, 15, 10, 0), datetime(2026, 2, 15, 10, 0)
    why = "a month later, the same day of the month: a new day"
    _fresh_again(budget_class, "daily", first, later, why)


def check_same_date_next_year(budget_class: BudgetClass) -> None:
    first, later = datetime(2026, 3, 10, 10, 0), datetime(2027, 3, 10, 10, 0)
    why = "the same day and month of another year: a new day"
    _fresh_again(budget_class, "daily", first, later, why)


def check_first_of_month(budget_class: BudgetClass) -> None:
    for at in _zoned():
        first = at(2026, 1, 20, 12, 0)
        budget, clock = _budget(budget_class, 1000, 100, first)
        budget.spend(100)
        end = at(2026, 1, 31, 23, 59)
        clock.moment = end
        _can(budget, 1, False, f"100 of a monthly 100 spent on {_show(first)}, now {_show(end)}")
        new_month = at(2026, 2, 1, 0, 0)
        clock.moment = new_month
        _can(budget, 100, True, f"100 of a monthly 100 spent in January, now {_show(new_month)}")
        budget.spend(100)
        anniversary = at(2026, 2, 20, 12, 0)
        clock.moment = anniversary
        _can(
            budget,
            1,
            False,
            f"100 of a monthly 100 spent on {_show(new_month)}, now {_show(anniversary)} (the "
            "same day of the month as the first spend: still February)",
        )


def check_new_year(budget_class: BudgetClass) -> None:
    first, later = datetime(2026, 1, 10, 8, 0), datetime(2027, 1, 10, 8, 0)
    _fresh_again(budget_class, "monthly", first, later, "January again, but of another year")


def check_race(budget_class: BudgetClass) -> None:
    """Four threads step line by line through spend(50) on a daily 100: two must be refused."""
    budget, _ = _budget(budget_class, 100, 10_000, datetime(2026, 3, 10, 9, 0))
    wanted = budget_error_class(budget_class) or Exception
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def take() -> None:
        try:
            budget.spend(50)
            outcomes.append("spent")
        except wanted:
            outcomes.append("refused")
        except BaseException as exc:
            errors.append(exc)

    threads = run_least_progress([take] * 4, candidate_files(budget_class), timeout=3.0)
    if errors and isinstance(errors[0], NotImplementedError):
        raise errors[0]
    expect(not errors, f"spend(50) raised {describe(errors[0] if errors else None)}")
    expect(
        not any(thread.is_alive() for thread in threads),
        "4 threads calling spend(50) at once were still running after 3 s (a lock never released?)",
    )
    spent = outcomes.count("spent")
    expect(
        spent == 2,
        f"daily_limit=100, 4 threads calling spend(50) at once, switched after every line: "
        f"{spent} were recorded ({50 * spent} tokens) where exactly 2 fit. Check and record in "
        "one step, under one lock made in __init__ (check-then-spend lets both pass the check "
        "before either records)",
    )


EXERCISE = Exercise(
    id="ex06_token_budget",
    title="Daily and monthly budget with calendar resets",
    target="Budget",
    notebook="ex06_token_budget.ipynb",
    needs_sdks=False,
    checks=[
        Check(
            "enforces the daily limit",
            check_daily_limit,
            "compare used + tokens with the limit, in can_spend and in spend",
        ),
        Check(
            "enforces the monthly limit",
            check_monthly_limit,
            "keep a monthly total next to the daily one; spend() checks both",
        ),
        Check(
            "refuses before overspending, recording nothing",
            check_refuses,
            "spend() checks first and raises without adding to either total",
        ),
        Check(
            "raises the exercise's BudgetExceeded",
            check_exact_class,
            "raise BudgetExceeded (defined next to Budget), not ValueError or RuntimeError",
        ),
        Check(
            "the day resets at midnight of now()'s time zone",
            check_midnight,
            "remember which date the daily total belongs to: now().date(), not converted",
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
            "a year later, the same date is a new day",
            check_same_date_next_year,
            "compare whole dates (with the year), not (month, day)",
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
        Check(
            "threads switched after every line never overspend",
            check_race,
            "hold one lock (made in __init__) around the check and the recording in spend()",
        ),
    ],
)
