"""The module's ``RateLimiter`` and ``TokenBudget`` on a clock you choose: not the module's code.

Tests, benchmarks and the exercise checks cannot wait a minute or a month. Rather than edit the
verbatim classes (``ratelimit.py``, ``budget.py``), these subclasses run the **same code objects**
with the names they look up swapped: ``time`` for the limiter, the ``datetime`` import for the
budget. Every line that runs is still the module's.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable
from datetime import date, datetime
from types import FunctionType, MethodType, SimpleNamespace
from typing import Any

from course_helpers.seed.budget import TokenBudget
from course_helpers.seed.ratelimit import RateLimiter

__all__ = ["ClockedRateLimiter", "ClockedTokenBudget", "with_globals"]


def with_globals(func: Callable[..., Any], **names: Any) -> FunctionType:
    """A copy of ``func`` (same code) whose global ``names`` are replaced.

    ``__import__=`` replaces the import statement too, for a block that imports inside a function.
    """
    assert isinstance(func, FunctionType), f"{func!r} is not a plain function"
    globals_ = dict(func.__globals__)
    if "__import__" in names:
        globals_["__builtins__"] = {**vars(builtins), "__import__": names.pop("__import__")}
    globals_.update(names)
    return FunctionType(func.__code__, globals_, func.__name__, func.__defaults__, func.__closure__)


class _ScaledTime:
    """A ``time`` module whose minute lasts ``period`` seconds of ``clock``."""

    def __init__(
        self, clock: Callable[[], float], sleep: Callable[[float], object], period: float
    ) -> None:
        self._clock, self._sleep, self._scale = clock, sleep, 60.0 / period

    def time(self) -> float:
        return self._clock() * self._scale

    def sleep(self, seconds: float) -> None:
        self._sleep(seconds / self._scale)


class ClockedRateLimiter(RateLimiter):
    """The module's ``RateLimiter``, its 60 s window lasting ``period`` seconds of ``clock``."""

    def __init__(
        self,
        requests_per_minute: int = 60,
        *,
        period: float = 60.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        if period <= 0:
            raise ValueError(f"period must be positive seconds, got {period!r}")
        super().__init__(requests_per_minute)
        scaled = _ScaledTime(clock, sleep, period)
        method = with_globals(RateLimiter.wait_if_needed, time=scaled)
        self.wait_if_needed = MethodType(method, self)  # type: ignore[method-assign]


class ClockedTokenBudget(TokenBudget):
    """The module's ``TokenBudget``, with ``date.today()`` answered by ``now().date()``."""

    def __init__(
        self,
        daily_limit: int,
        monthly_limit: int,
        *,
        now: Callable[[], datetime] = datetime.now,
    ) -> None:
        super().__init__(daily_limit, monthly_limit)
        fake_datetime = SimpleNamespace(date=SimpleNamespace(today=lambda: _date(now())))
        real_import = builtins.__import__

        def import_(name: str, *args: Any, **kwargs: Any) -> Any:
            return fake_datetime if name == "datetime" else real_import(name, *args, **kwargs)

        method = with_globals(TokenBudget._check_reset, __import__=import_)
        self._check_reset = MethodType(method, self)  # type: ignore[method-assign]


def _date(moment: datetime) -> date:
    return moment.date()
