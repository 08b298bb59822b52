"""Module 2, section 5, "Token Budget Management": ``TokenBudget``, verbatim.

Nothing is added. To run it on a chosen date, ``course_helpers.seed.clocked.ClockedTokenBudget``
runs this same code with ``date.today()`` answered by a clock you pass. Do not use in
production: see ``course_helpers.budget``.
"""


# ruff: noqa
# mypy: ignore-errors
# fmt: off
# ---- the module's code, verbatim, from the next line to the end of the file ----
class TokenBudget:
    def __init__(self, daily_limit: int, monthly_limit: int):
        self.daily_limit = daily_limit
        self.monthly_limit = monthly_limit
        self.daily_used = 0
        self.monthly_used = 0
        self.last_reset_day = None
        self.last_reset_month = None

    def can_spend(self, estimated_tokens: int) -> bool:
        self._check_reset()
        return (
            self.daily_used + estimated_tokens <= self.daily_limit and
            self.monthly_used + estimated_tokens <= self.monthly_limit
        )

    def spend(self, actual_tokens: int):
        self._check_reset()
        self.daily_used += actual_tokens
        self.monthly_used += actual_tokens

    def _check_reset(self):
        from datetime import date
        today = date.today()
        if self.last_reset_day != today.day:
            self.daily_used = 0
            self.last_reset_day = today.day
        if self.last_reset_month != today.month:
            self.monthly_used = 0
            self.last_reset_month = today.month
