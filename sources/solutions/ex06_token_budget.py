# %% [markdown]
# # Exercise 06 · Token budget: daily and monthly limits on the calendar
#
# **Goal.** A budget stops a runaway loop from spending a month's money in an afternoon. It has
# two counters, one for today and one for this month, and both must reset on the calendar: the
# day at midnight, the month on the 1st. The module's `TokenBudget` (section 5) compares
# `date.today().day` with the day of its last call, so **15 February after 15 January is "the
# same day"** and January's spend is never forgotten; it compares only `.month`, so January 2027
# is "the same month" as January 2026. And its `spend` records anything, even past the limit.
#
# **The API you write.**
#
# ```python
# class Budget:
#     def __init__(self, daily_limit: int, monthly_limit: int, *, now=datetime.now): ...
#     def can_spend(self, tokens: int) -> bool:
#         """Whether `tokens` more fit both today's and this month's limit."""
#     def spend(self, tokens: int) -> None:
#         """Record `tokens`; raise BudgetExceeded (recording nothing) if they do not fit."""
# ```
#
# * `now` is the clock: call it whenever you need the time (the checks pass a frozen one).
# * The day and the month are those of the datetime `now()` returns, **in its own time zone**:
#   take `now().date()` as it is, never convert it to UTC or to the machine's zone. (A budget
#   for a team in Kathmandu resets at midnight in Kathmandu.)
# * `spend` raises `BudgetExceeded`, the class defined below, when the tokens do not fit
#   today's **or** this month's limit, and then records nothing in either total. A request of
#   exactly what is left fits.
# * Many threads share one budget: two threads must never both spend the last 50 tokens.
#
# **How you are checked.** `check("ex06_token_budget", Budget)` moves a frozen clock through the
# calendar and calls your budget only at the moments that matter: the last second before
# midnight and midnight itself; morning and evening of one day; 15 January and 15 February, and
# 10 March 2026 and 10 March 2027, with no call in between; 31 January, 1 February and
# 20 February; January 2026 and January 2027. The clock's datetimes carry time zones no
# machine uses (UTC−03:17, UTC+07:41). Four threads then call `spend(50)` on a daily 100,
# switched after every line of your code, so a race shows every time.

# %%
import threading
from datetime import datetime

from course_helpers import setup
from course_helpers.checks import check
from course_helpers.seed.clocked import ClockedTokenBudget as SeedTokenBudget

course = setup()


class BudgetExceeded(Exception):
    """The tokens do not fit today's or this month's budget."""


# %% [markdown]
# ## What a check looks like
#
# The module's `TokenBudget` already has this API. `ClockedTokenBudget` runs its code unchanged,
# with `date.today()` answered by the clock the check passes as `now=`.

# %%
check("ex06_token_budget", SeedTokenBudget)

# %% [markdown]
# ## Your turn
#
# Remember *which* day and *which* (year, month) each counter belongs to; when `now()` falls in
# another one, start that counter from zero.


# %%
class Budget:
    """Daily and monthly token limits that reset at midnight and on the 1st."""

    def __init__(self, daily_limit, monthly_limit, *, now=datetime.now):
        ### BEGIN SOLUTION
        self.daily_limit, self.monthly_limit = daily_limit, monthly_limit
        self._now = now
        self._day = None  # the date the daily counter belongs to
        self._month = None  # the (year, month) the monthly counter belongs to
        self.used_today = self.used_this_month = 0
        self._lock = threading.Lock()
        ### END SOLUTION

    def can_spend(self, tokens):
        """Whether `tokens` more fit both today's and this month's limit."""
        ### BEGIN SOLUTION
        with self._lock:
            self._roll()
            return self._fits(tokens)
        ### END SOLUTION

    def spend(self, tokens):
        """Record `tokens`; raise BudgetExceeded (recording nothing) if they do not fit."""
        ### BEGIN SOLUTION
        with self._lock:
            self._roll()
            if not self._fits(tokens):
                raise BudgetExceeded(
                    f"{tokens} tokens do not fit: {self.used_today}/{self.daily_limit} used "
                    f"today, {self.used_this_month}/{self.monthly_limit} this month"
                )
            self.used_today += tokens
            self.used_this_month += tokens
        ### END SOLUTION

    def _roll(self):
        """Start the daily / monthly count afresh when now() is in another day / month."""
        ### BEGIN SOLUTION
        today = self._now().date()
        if today != self._day:
            self._day, self.used_today = today, 0
        if (today.year, today.month) != self._month:
            self._month, self.used_this_month = (today.year, today.month), 0
        ### END SOLUTION

    def _fits(self, tokens):
        """Whether `tokens` more fit both counts (call _roll first)."""
        ### BEGIN SOLUTION
        return (
            self.used_today + tokens <= self.daily_limit
            and self.used_this_month + tokens <= self.monthly_limit
        )
        ### END SOLUTION


# %%
check("ex06_token_budget", Budget)

# %% [markdown]
# ## Takeaways
#
# * Compare whole dates and (year, month) pairs, never `.day` or `.month` alone.
# * Check and record in one step, under one lock: check-then-spend lets two callers overspend.
# * Make the clock a parameter: a month of calendar is then a millisecond of test.
#
# **Next:** [ex07 · Multi-provider client](ex07_multi_provider.ipynb).
