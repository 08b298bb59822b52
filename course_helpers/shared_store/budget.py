"""``TokenBudget(..., store="redis://…")``: one budget spent by every process and machine.

The SQLite budget is shared by the processes of one machine. This one keeps the spend in Redis:
each window (a calendar day or month in ``tz``) is a hash, each reservation an entry with an
expiry, and every check-and-hold or settle is one atomic script on Redis's clock
(:mod:`.budget_lua`). The public API is ``TokenBudget``'s.

Failure policy: a budget protects money, so it **fails closed**. While Redis is unreachable,
``reserve``, ``spend``, ``can_spend`` and ``status`` raise
:class:`~.connection.StoreUnavailableError` naming the URL; no call is sent unbudgeted. A
``settle`` keeps trying for ``settle_timeout`` seconds (reconnecting by itself), then raises and
leaves the reservation held: call ``settle`` again later. Settling is idempotent (a marker per
reservation), so a retried settle whose first reply was lost never counts twice; with Redis's
``appendonly yes`` and ``appendfsync always`` a settled call survives a Redis restart.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import redis
from redis.commands.core import Script

from course_helpers.budget import (
    BudgetStatus,
    Overspend,
    Reservation,
    TokenBudget,
    WindowStatus,
    _check_counts,
    _local_midnight,
    _overspend,
    _warn,
)
from course_helpers.errors import BudgetExceededError
from course_helpers.shared_store.budget_lua import CHANGE, SETTLE
from course_helpers.shared_store.connection import (
    StoreError,
    StoreUnavailableError,
    connect,
    explain,
    mask_url,
    resolve_store,
)

__all__ = ["RedisTokenBudget"]

KEY_PREFIX = "course_helpers:budget:"
_NANO = 1_000_000_000  # dollars are kept as integer nano-dollars: exact sums
_WINDOW_LIFETIME = 400 * 86_400  # a month's hash outlives its month, then Redis drops it
_MARKER_LIFETIME = 7 * 86_400  # how long a settled reservation is remembered


def _nano(usd: float | None) -> int:
    return 0 if usd is None else round(usd * _NANO)


class _Numbers:
    """What a script saw before its change: both windows' spend and the holds in flight."""

    __slots__ = ("day", "held", "month", "now")

    def __init__(self, now: datetime, text: str) -> None:
        values = [int(float(v)) for v in text.split()] if text else [0] * 6
        self.now = now
        self.day = (values[0], values[1] / _NANO)
        self.month = (values[2], values[3] / _NANO)
        self.held = (values[4], values[5] / _NANO)


class RedisTokenBudget(TokenBudget):
    """A :class:`TokenBudget` kept in Redis; build it as ``TokenBudget(..., store=...)``.

    ``name`` identifies the budget: every worker passing the same ``name``, limits and ``tz`` to
    the same Redis spends one budget.
    """

    __slots__ = (
        "_change_script",
        "_client",
        "_keys",
        "_name",
        "_offset",
        "_settle_script",
        "_settle_timeout",
        "_url",
    )

    def __init__(
        self,
        daily_limit: int | None = None,
        monthly_limit: int | None = None,
        *,
        daily_usd: float | None = None,
        monthly_usd: float | None = None,
        path: str | os.PathLike[str] | None = None,
        tz: str = "UTC",
        now: Callable[[], datetime] | None = None,
        reservation_ttl: float = 900.0,
        store: str | None = None,
        name: str = "default",
        settle_timeout: float = 30.0,
    ) -> None:
        if path is not None:
            raise ValueError("Pass path= (a SQLite file) or store= (Redis), not both.")
        if now is not None:
            raise ValueError(
                "A shared budget reads Redis's clock, so every worker agrees on the day: "
                "drop now= (it is for the local budget's tests)."
            )
        super().__init__(
            daily_limit,
            monthly_limit,
            daily_usd=daily_usd,
            monthly_usd=monthly_usd,
            tz=tz,
            reservation_ttl=reservation_ttl,
        )
        url = resolve_store(store)
        if url is None:
            raise ValueError("RedisTokenBudget needs store='redis://…' (or 'redis' for REDIS_URL).")
        if not name or any(ch.isspace() for ch in name):
            raise ValueError(f"name must be a non-empty word such as 'team-a', not {name!r}.")
        self._url = mask_url(url)
        self._name = name
        self._keys = f"{KEY_PREFIX}{{{name}}}"  # braces: one hash slot on a Redis Cluster
        self._settle_timeout = settle_timeout
        self._client = connect(url)  # fails closed now, with the reason, if Redis is unusable
        self._change_script = self._client.register_script(CHANGE)
        self._settle_script = self._client.register_script(SETTLE)
        self._offset = 0.0  # Redis time minus ours, learnt from every reply
        self._now = self._redis_now

    def __repr__(self) -> str:
        return super().__repr__().replace("[in memory]", f"[{self._url} name={self._name!r}]")

    @property
    def store(self) -> str:
        """The Redis URL, password masked."""
        return self._url

    def close(self) -> None:
        """Close the connections to Redis."""
        self._client.close()
        super().close()

    # -- the API ---------------------------------------------------------------------------------

    def reserve(self, tokens: int, *, model: str | None = None, max_output: int = 0) -> Reservation:
        """Hold ``tokens`` plus ``max_output`` in the shared budget; raise if it cannot fit."""
        _check_counts(tokens=tokens, max_output=max_output)
        cost = self._price(model, tokens, max_output)
        reservation_id = uuid.uuid4().hex
        self._change("hold", tokens + max_output, cost, reservation_id)
        return Reservation(
            self,
            reservation_id,
            input_tokens=tokens,
            max_output=max_output,
            model=model,
            cost=cost,
        )

    def can_spend(self, tokens: int, *, model: str | None = None, output_tokens: int = 0) -> bool:
        """Whether ``spend`` (or ``reserve``) of this much would succeed now."""
        _check_counts(tokens=tokens, output_tokens=output_tokens)
        cost = self._price(model, tokens, output_tokens)
        try:
            self._change("check", tokens + output_tokens, cost)
        except BudgetExceededError:
            return False
        return True

    def spend(self, tokens: int, *, model: str | None = None, output_tokens: int = 0) -> None:
        """Check and record usage at once; :class:`BudgetExceededError` (nothing kept) if over."""
        _check_counts(tokens=tokens, output_tokens=output_tokens)
        cost = self._price(model, tokens, output_tokens)
        self._change("spend", tokens + output_tokens, cost)

    def record(
        self, input_tokens: int, output_tokens: int = 0, *, model: str | None = None
    ) -> Overspend | None:
        """Record usage that has already happened, without checking any limit."""
        _check_counts(input_tokens=input_tokens, output_tokens=output_tokens)
        cost = self._price(model, input_tokens, output_tokens, required=False)
        used = input_tokens + output_tokens
        numbers = self._change("record", used, cost)
        return _warn(
            self._overspent(
                numbers, used, cost, f"{used:,} tokens of usage were recorded without a check"
            )
        )

    def status(self) -> BudgetStatus:
        """A consistent snapshot of today's and this month's spend and holds, from Redis."""
        numbers = self._change("peek", 0, None)
        day, month = self._windows_of(numbers)
        return BudgetStatus(
            tz=self._tz_name, at=numbers.now.astimezone(self._tz), day=day, month=month
        )

    # -- internals -------------------------------------------------------------------------------

    def _redis_now(self) -> datetime:
        """Our best estimate of Redis's time (the scripts check it and correct us)."""
        return datetime.fromtimestamp(time.time() + self._offset, UTC)

    def _bounds(self, now: datetime) -> tuple[list[str], float, float]:
        """The window keys for ``now`` and the day's bounds in Unix seconds."""
        local = now.astimezone(self._tz)
        today = local.date()
        day_start = _local_midnight(today, self._tz).timestamp()
        day_end = _local_midnight(today + timedelta(days=1), self._tz).timestamp()
        keys = [
            f"{self._keys}:day:{today.isoformat()}:{self._tz_name}",
            f"{self._keys}:month:{today:%Y-%m}:{self._tz_name}",
            f"{self._keys}:holds",
        ]
        return keys, day_start, day_end

    def _script(
        self, script: Script, extra_keys: list[str], args: list[str | int | float]
    ) -> tuple[str, _Numbers]:
        """Run a script in the window of Redis's current time (recomputed if the day turned)."""
        for _ in range(4):
            keys, day_start, day_end = self._bounds(self._redis_now())
            try:
                status, at, numbers = script(
                    keys=keys + extra_keys,
                    args=[repr(day_start), repr(day_end), _WINDOW_LIFETIME, *args],
                    client=self._client,
                )
            except redis.RedisError as exc:
                raise explain(exc, self._url) from None
            self._offset = float(at) - time.time()
            if status != "stale":
                return status, _Numbers(datetime.fromtimestamp(float(at), UTC), numbers)
        raise StoreError(
            f"Redis at {self._url} kept answering with a time outside the day we computed; "
            "is its clock jumping? Check the server's time.",
            url=self._url,
        )

    def _change(self, mode: str, tokens: int, cost: float | None, hold_id: str = "") -> _Numbers:
        limits = [
            -1 if limit is None else limit for limit in (self.daily_limit, self.monthly_limit)
        ] + [-1 if usd is None else _nano(usd) for usd in (self.daily_usd, self.monthly_usd)]
        status, numbers = self._script(
            self._change_script,
            [],
            [mode, tokens, _nano(cost), *limits, hold_id, repr(self._ttl.total_seconds())],
        )
        if status == "over":
            self._check_windows(self._windows_of(numbers), tokens, cost or 0.0)
            raise BudgetExceededError(  # only if the float check disagrees by a rounding hair
                f"The budget has no room for {tokens:,} more tokens now; see budget.status().",
                period="daily",
                limit=float(self.daily_limit or 0),
                used=float(numbers.day[0] + numbers.held[0]),
                requested=float(tokens),
                unit="tokens",
            )
        return numbers

    def _windows_of(self, numbers: _Numbers) -> tuple[WindowStatus, WindowStatus]:
        local = numbers.now.astimezone(self._tz)
        today = local.date()
        first = today.replace(day=1)
        next_month = (first + timedelta(days=32)).replace(day=1)
        windows = []
        for period, start, end, (tokens, usd), token_limit, usd_limit in (
            (
                "daily",
                today,
                today + timedelta(days=1),
                numbers.day,
                self.daily_limit,
                self.daily_usd,
            ),
            ("monthly", first, next_month, numbers.month, self.monthly_limit, self.monthly_usd),
        ):
            windows.append(
                WindowStatus(
                    period=period,  # type: ignore[arg-type]
                    starts_at=_local_midnight(start, self._tz).astimezone(self._tz),
                    resets_at=_local_midnight(end, self._tz).astimezone(self._tz),
                    tokens_used=tokens,
                    tokens_reserved=numbers.held[0],
                    tokens_limit=token_limit,
                    usd_used=usd,
                    usd_reserved=numbers.held[1],
                    usd_limit=usd_limit,
                )
            )
        return windows[0], windows[1]

    def _overspent(
        self, before: _Numbers, tokens: int, cost: float | None, cause: str
    ) -> Overspend | None:
        after = _Numbers(before.now, "")
        after.day = (before.day[0] + tokens, before.day[1] + (cost or 0.0))
        after.month = (before.month[0] + tokens, before.month[1] + (cost or 0.0))
        after.held = before.held
        return _overspend(self._windows_of(before), self._windows_of(after), cause)

    def _settle(
        self, reservation: Reservation, input_tokens: int, output_tokens: int
    ) -> Overspend | None:
        _check_counts(input_tokens=input_tokens, output_tokens=output_tokens)
        cost = self._price(reservation.model, input_tokens, output_tokens, required=False)
        used = input_tokens + output_tokens
        marker = f"{self._keys}:settled:{reservation.id}"
        deadline = time.monotonic() + self._settle_timeout
        while True:
            try:
                status, numbers = self._script(
                    self._settle_script,
                    [marker],
                    [reservation.id, used, _nano(cost), _MARKER_LIFETIME],
                )
                break
            except StoreUnavailableError as exc:
                if time.monotonic() >= deadline:
                    raise type(exc)(
                        f"{exc} The call's usage ({used:,} tokens) is not recorded yet and its "
                        "reservation is still held: call settle() again once Redis is back "
                        "(it counts once).",
                        url=self._url,
                    ) from None
                time.sleep(0.2)
        if status == "already":
            return None
        if status == "settled":
            cause = f"a call reserved {reservation.tokens:,} tokens and used {used:,}"
        else:
            cause = (
                f"a call reserved {reservation.tokens:,} tokens, outlived its reservation "
                f"(reservation_ttl={self._ttl.total_seconds():g} s) and used {used:,}"
            )
        return _warn(self._overspent(numbers, used, cost, cause))

    def _cancel(self, reservation: Reservation) -> None:
        try:
            self._client.hdel(f"{self._keys}:holds", reservation.id)
        except redis.RedisError as exc:
            raise explain(exc, self._url) from None
