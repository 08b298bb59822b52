"""A token and dollar budget per calendar day and month, safe for concurrent callers, kept on disk.

Reserve before the call, settle after it::

    budget = TokenBudget(daily_limit=50_000, monthly_limit=1_000_000, daily_usd=2.0,
                         path="budget.sqlite", tz="Europe/Paris")
    with budget.reserve(estimate_tokens(messages), model="gpt-4o-mini", max_output=500) as hold:
        reply = client.chat.completions.create(..., max_tokens=500)   # not sent if over budget
        hold.settle(reply.usage.prompt_tokens, reply.usage.completion_tokens)

``reserve`` raises :class:`~course_helpers.errors.BudgetExceededError` *before* the call when the
worst case (prompt plus ``max_output``) would break a limit, counting what other callers have
reserved but not yet settled; ``settle`` records what the call really used and releases the hold.

What it fixes in the seed's ``TokenBudget``:

- **Calendar windows in a chosen time zone.** The day starts at local midnight and the month on the
  1st, computed from the date itself, so the 15th of next month is a new day, January next year a
  new month, and a 23- or 25-hour day at a daylight-saving change is still one day.
- **No overspending under concurrency.** The check and the hold happen in one SQLite transaction
  (``BEGIN IMMEDIATE``), so two threads or two processes cannot both take the last 1,000 tokens.
- **Persistence.** With ``path=`` the spend lives in a SQLite file (WAL mode): a kernel restart,
  a second notebook or a script all see the same day. Timestamps are stored in UTC; windows are
  computed in ``tz``. A reservation whose process died expires after ``reservation_ttl`` seconds.
- **Dollars as well as tokens**, priced from the model catalogue (``catalog.cost_usd``).
- **Overspend is never hidden.** Real usage always counts in full, even when a call used more than
  it reserved or settled after its reservation expired. When that takes a window past a limit,
  ``settle`` (and ``record``) return an :class:`Overspend` and log a warning, ``status()`` shows
  how far over each window is, and every ``reserve`` is refused until the window resets.

The seed's simple API is still there: ``can_spend(n)``, ``spend(n)``, plus ``remaining()`` and a
``status()`` snapshot for a notebook's budget meter.

>>> from datetime import UTC, datetime
>>> budget = TokenBudget(daily_limit=1_000, now=lambda: datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
>>> budget.spend(600)
>>> budget.can_spend(500)
False
>>> budget.remaining()
400
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from course_helpers.catalog import cost_usd
from course_helpers.errors import BudgetExceededError
from course_helpers.sqlite_db import connect, run_setup

__all__ = ["BudgetStatus", "Overspend", "Reservation", "TokenBudget", "WindowStatus"]

Period = Literal["daily", "monthly"]

_log = logging.getLogger(__name__)
# Float prices summing exactly to a limit are not over it.
_USD_TOLERANCE = 1e-9

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spend (
    id            INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,      -- UTC, 'YYYY-MM-DDTHH:MM:SS.ffffffZ': sorts as time does
    model         TEXT,
    input_tokens  INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cost_usd      REAL                -- NULL when the model has no price
);
CREATE INDEX IF NOT EXISTS spend_at ON spend (at);
CREATE TABLE IF NOT EXISTS reservations (
    id       TEXT PRIMARY KEY,
    at       TEXT NOT NULL,
    expires  TEXT NOT NULL,           -- after this the holder is presumed dead
    model    TEXT,
    tokens   INTEGER NOT NULL,
    cost_usd REAL
);
"""


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _local_midnight(day: date, zone: tzinfo) -> datetime:
    """The first instant of ``day`` in ``zone``, as UTC.

    Where midnight does not exist (a DST jump at 00:00), ``fold=0`` takes the offset in force
    before the jump, which lands exactly on the jump: the day starts when the clock says 01:00.
    """
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class WindowStatus:
    """One window (today or this month): what is used, held, allowed, and when it resets."""

    period: Period
    starts_at: datetime  # local time
    resets_at: datetime  # local time
    tokens_used: int
    tokens_reserved: int
    tokens_limit: int | None
    usd_used: float
    usd_reserved: float
    usd_limit: float | None

    @property
    def tokens_remaining(self) -> int | None:
        """Tokens that may still be reserved in this window; ``None`` without a token limit."""
        if self.tokens_limit is None:
            return None
        return max(0, self.tokens_limit - self.tokens_used - self.tokens_reserved)

    @property
    def usd_remaining(self) -> float | None:
        """Dollars that may still be reserved in this window; ``None`` without a USD limit."""
        if self.usd_limit is None:
            return None
        return max(0.0, self.usd_limit - self.usd_used - self.usd_reserved)

    @property
    def fraction(self) -> float | None:
        """How full the window is (0 to 1, the tighter of tokens and USD), for a meter."""
        parts = []
        if self.tokens_limit:
            parts.append((self.tokens_used + self.tokens_reserved) / self.tokens_limit)
        if self.usd_limit:
            parts.append((self.usd_used + self.usd_reserved) / self.usd_limit)
        return min(1.0, max(parts)) if parts else None

    @property
    def overspent_tokens(self) -> int:
        """Tokens really used beyond the token limit (0 when within it or without a limit)."""
        if self.tokens_limit is None:
            return 0
        return max(0, self.tokens_used - self.tokens_limit)

    @property
    def overspent_usd(self) -> float:
        """Dollars really spent beyond the USD limit (0.0 when within it or without a limit)."""
        if self.usd_limit is None or self.usd_used <= self.usd_limit + _USD_TOLERANCE:
            return 0.0
        return self.usd_used - self.usd_limit

    @property
    def overspent(self) -> bool:
        """Whether real usage has passed a limit: no reservation fits until the window resets."""
        return self.overspent_tokens > 0 or self.overspent_usd > 0

    def __str__(self) -> str:
        name = "today" if self.period == "daily" else "this month"
        parts = [
            f"{self.tokens_used:,}"
            + (f" / {self.tokens_limit:,}" if self.tokens_limit is not None else "")
            + " tokens"
        ]
        if self.usd_limit is not None or self.usd_used:
            parts.append(
                f"${self.usd_used:,.4f}"
                + (f" / ${self.usd_limit:,.2f}" if self.usd_limit is not None else "")
            )
        if self.tokens_reserved or self.usd_reserved:
            parts.append(f"{self.tokens_reserved:,} tokens reserved")
        if self.overspent:
            parts.append(f"overspent by {self.overspent_text()}")
        return f"{name}: {', '.join(parts)}; resets {_show(self.resets_at)}"

    def overspent_text(self) -> str:
        """How far over the limits the window is, e.g. ``"500 tokens"`` or ``"$0.0120"``."""
        amounts = []
        if self.overspent_tokens:
            amounts.append(f"{self.overspent_tokens:,} tokens")
        if self.overspent_usd:
            amounts.append(_usd(self.overspent_usd))
        return " and ".join(amounts)


@dataclass(frozen=True)
class BudgetStatus:
    """A snapshot of the budget: ``day`` and ``month`` windows in time zone ``tz``."""

    tz: str
    at: datetime  # local time of the snapshot
    day: WindowStatus
    month: WindowStatus

    def __str__(self) -> str:
        return f"Budget ({self.tz}) at {_show(self.at)}\n  {self.day}\n  {self.month}"


def _show(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z")


def _usd(value: float) -> str:
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


@dataclass(frozen=True)
class Overspend:
    """What one call's real usage put past a limit: returned by ``settle``/``record``, logged.

    ``tokens`` and ``usd`` are this call's share beyond a limit (the larger over the two
    windows); ``windows`` are the windows now over a limit, as they stood just after the call.
    """

    tokens: int
    usd: float
    windows: tuple[WindowStatus, ...]
    cause: str  # e.g. "a call reserved 1,000 tokens and used 1,500"

    def __str__(self) -> str:
        over = "; ".join(
            f"{'today' if w.period == 'daily' else 'this month'} is {w.overspent_text()} over "
            f"its limit until it resets at {_show(w.resets_at)}"
            for w in self.windows
        )
        return (
            f"Budget overspent: {self.cause}. It counts in full: {over}. New reservations are "
            "refused until then."
        )


class Reservation:
    """Tokens (and dollars) held for one call until it is settled or cancelled.

    As a context manager it cancels the hold if the block raises before ``settle``; if the block
    ends normally without ``settle``, the reserved amount is recorded as spent, so a forgotten
    ``settle`` never under-counts.
    """

    __slots__ = (
        "_budget",
        "_state",
        "cost_usd",
        "id",
        "input_tokens",
        "max_output",
        "model",
        "overspend",
    )

    def __init__(
        self,
        budget: TokenBudget,
        reservation_id: str,
        *,
        input_tokens: int,
        max_output: int,
        model: str | None,
        cost: float | None,
    ) -> None:
        self._budget = budget
        self._state: Literal["held", "settled", "cancelled"] = "held"
        self.id = reservation_id
        self.input_tokens = input_tokens
        self.max_output = max_output
        self.model = model
        self.cost_usd = cost
        # Set by settle() when the real usage took the budget past a limit.
        self.overspend: Overspend | None = None

    @property
    def tokens(self) -> int:
        """The tokens held: the prompt estimate plus ``max_output``."""
        return self.input_tokens + self.max_output

    @property
    def state(self) -> str:
        """``"held"``, ``"settled"`` or ``"cancelled"``."""
        return self._state

    def __repr__(self) -> str:
        return f"Reservation({self.tokens:,} tokens, model={self.model!r}, {self._state})"

    def settle(self, input_tokens: int, output_tokens: int) -> Overspend | None:
        """Record what the call really used (priced for the reserved model) and release the hold.

        The usage counts in full even when it is more than was reserved or the reservation has
        expired; if that takes a window past a limit, the :class:`Overspend` is returned (and
        kept as ``self.overspend``) and a warning is logged. Otherwise ``None``.
        """
        if self._state != "held":
            raise RuntimeError(
                f"This reservation is already {self._state}; record further usage with "
                "budget.record(input_tokens, output_tokens, model=...)."
            )
        self.overspend = self._budget._settle(self, input_tokens, output_tokens)
        self._state = "settled"
        return self.overspend

    def cancel(self) -> None:
        """Release the hold without recording anything (the call was never made). Idempotent."""
        if self._state == "held":
            self._budget._cancel(self)
            self._state = "cancelled"

    def __enter__(self) -> Reservation:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._state != "held":
            return
        if exc_type is None:
            self.settle(self.input_tokens, self.max_output)
        else:
            self.cancel()


class TokenBudget:
    """Daily and monthly limits in tokens and/or US dollars, on calendar dates in ``tz``.

    Every limit is optional (``None`` means no limit). ``path`` is a SQLite file shared by every
    budget, process and kernel that opens it; ``None`` keeps the budget in memory. ``now`` returns
    an aware datetime; it is injectable so tests can travel in time.

    ``store="redis://host:6379/0"`` (or ``"redis"``: the ``REDIS_URL`` variable) keeps the budget
    in Redis instead, shared across machines, on Redis's clock; ``name`` then identifies it. It
    fails closed while Redis is down: see :mod:`course_helpers.shared_store.budget`.
    """

    def __new__(cls, *args: Any, store: str | None = None, **kwargs: Any) -> Self:
        if store is not None and cls is TokenBudget:
            from course_helpers.shared_store import budget, connection

            if connection.resolve_store(store) is not None:
                return super().__new__(budget.RedisTokenBudget)  # type: ignore[return-value]
        return super().__new__(cls)

    __slots__ = (
        "_db",
        "_lock",
        "_now",
        "_ttl",
        "_tz",
        "_tz_name",
        "daily_limit",
        "daily_usd",
        "monthly_limit",
        "monthly_usd",
        "path",
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
        if store not in (None, "memory"):
            raise TypeError(f"{type(self).__name__} keeps its budget in SQLite: drop store=.")
        for name_, limit in (
            ("daily_limit", daily_limit),
            ("monthly_limit", monthly_limit),
            ("daily_usd", daily_usd),
            ("monthly_usd", monthly_usd),
        ):
            if limit is not None and limit < 0:
                raise ValueError(f"{name_} cannot be negative; use None for no limit.")
        if reservation_ttl <= 0:
            raise ValueError("reservation_ttl must be a positive number of seconds.")
        try:
            self._tz = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"Unknown time zone {tz!r}: use an IANA name such as 'UTC', 'Europe/Paris' or "
                "'America/New_York' (the tzdata package provides them)."
            ) from exc
        self._tz_name = tz
        self.daily_limit = daily_limit
        self.monthly_limit = monthly_limit
        self.daily_usd = daily_usd
        self.monthly_usd = monthly_usd
        self.path = None if path is None else Path(path)
        self._now = now or (lambda: datetime.now(UTC))
        self._ttl = timedelta(seconds=reservation_ttl)
        # One connection guarded by a lock: an in-memory database exists only in the connection
        # that created it, and the lock also keeps a transaction to one thread at a time.
        self._lock = threading.RLock()
        # Busy timeout first, WAL (readers never block the writer) only when not on yet, and the
        # schema retried while another opener holds the file: see course_helpers.sqlite_db.
        self._db = connect(self.path)
        with self._lock:
            run_setup(self._db, _SCHEMA)  # idempotent

    def __repr__(self) -> str:
        limits = ", ".join(
            f"{name}={value!r}"
            for name, value in (
                ("daily_limit", self.daily_limit),
                ("monthly_limit", self.monthly_limit),
                ("daily_usd", self.daily_usd),
                ("monthly_usd", self.monthly_usd),
            )
            if value is not None
        )
        where = "in memory" if self.path is None else str(self.path)
        return f"TokenBudget({limits}, tz={self._tz_name!r}) [{where}]"

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> TokenBudget:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the API ---------------------------------------------------------------------------------

    def reserve(self, tokens: int, *, model: str | None = None, max_output: int = 0) -> Reservation:
        """Hold ``tokens`` (the prompt) plus ``max_output`` before a call; raise if it cannot fit.

        Raises :class:`BudgetExceededError` when the hold plus what is spent and reserved by
        others would pass any limit; nothing is held then. ``model`` prices the hold in dollars
        (needed when a USD limit is set).
        """
        _check_counts(tokens=tokens, max_output=max_output)
        cost = self._price(model, tokens, max_output)
        reservation_id = uuid.uuid4().hex
        with self._transaction() as now:
            self._check(now, tokens + max_output, cost or 0.0)
            self._db.execute(
                "INSERT INTO reservations (id, at, expires, model, tokens, cost_usd)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    reservation_id,
                    _utc_text(now),
                    _utc_text(now + self._ttl),
                    model,
                    tokens + max_output,
                    cost,
                ),
            )
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
        with self._transaction() as now:
            try:
                self._check(now, tokens + output_tokens, cost or 0.0)
            except BudgetExceededError:
                return False
        return True

    def spend(self, tokens: int, *, model: str | None = None, output_tokens: int = 0) -> None:
        """Check and record usage at once; :class:`BudgetExceededError` (nothing recorded) if over.

        ``tokens`` are input tokens, or a call's total if you do not split them. Call it *before*
        the request with an estimate, or prefer ``reserve``/``settle`` to record the real usage.
        """
        _check_counts(tokens=tokens, output_tokens=output_tokens)
        cost = self._price(model, tokens, output_tokens)
        with self._transaction() as now:
            self._check(now, tokens + output_tokens, cost or 0.0)
            self._insert_spend(now, model, tokens, output_tokens, cost)

    def record(
        self, input_tokens: int, output_tokens: int = 0, *, model: str | None = None
    ) -> Overspend | None:
        """Record usage that has already happened, without checking any limit.

        Returns the :class:`Overspend` (also logged as a warning) if it took a window past a
        limit, else ``None``.
        """
        _check_counts(input_tokens=input_tokens, output_tokens=output_tokens)
        cost = self._price(model, input_tokens, output_tokens, required=False)
        used = input_tokens + output_tokens
        with self._transaction() as now:
            overspend = self._insert_spend(
                now,
                model,
                input_tokens,
                output_tokens,
                cost,
                cause=f"{used:,} tokens of usage were recorded without a check",
            )
        return _warn(overspend)

    def remaining(self) -> int | None:
        """Tokens that may still be spent now under the tighter limit; ``None`` if unlimited."""
        status = self.status()
        left = [
            w.tokens_remaining for w in (status.day, status.month) if w.tokens_remaining is not None
        ]
        return min(left) if left else None

    def status(self) -> BudgetStatus:
        """A consistent snapshot of today's and this month's usage, holds, limits and resets."""
        with self._transaction(write=False) as now:
            day, month = self._windows(now)
        return BudgetStatus(tz=self._tz_name, at=now.astimezone(self._tz), day=day, month=month)

    # -- internals -------------------------------------------------------------------------------

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[datetime]:
        """One transaction, yielding the current time; ``BEGIN IMMEDIATE`` takes the write lock
        first, so no other process can change the spend between our check and our insert."""
        now = self._now()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now() must return an aware datetime, e.g. datetime.now(UTC).")
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                if write:
                    self._db.execute(
                        "DELETE FROM reservations WHERE expires <= ?", (_utc_text(now),)
                    )
                yield now
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _price(
        self, model: str | None, input_tokens: int, output_tokens: int, *, required: bool = True
    ) -> float | None:
        cost = (
            None
            if model is None
            else cost_usd(model, input_tokens=input_tokens, output_tokens=output_tokens)
        )
        if (
            cost is None
            and required
            and (self.daily_usd is not None or self.monthly_usd is not None)
        ):
            if model is None:
                raise ValueError("This budget has a USD limit, so pass model= to price the call.")
            raise ValueError(
                f"Model {model!r} has no price in the catalogue, so a USD limit cannot be "
                "enforced: use a priced model (see course_helpers/models.toml) or set only "
                "token limits."
            )
        return cost

    def _usage(self, start: datetime, end: datetime) -> tuple[int, float]:
        row = self._db.execute(
            "SELECT TOTAL(input_tokens + output_tokens), TOTAL(cost_usd) FROM spend"
            " WHERE at >= ? AND at < ?",
            (_utc_text(start), _utc_text(end)),
        ).fetchone()
        return int(row[0]), float(row[1])

    def _held(self, now: datetime) -> tuple[int, float]:
        row = self._db.execute(
            "SELECT TOTAL(tokens), TOTAL(cost_usd) FROM reservations WHERE expires > ?",
            (_utc_text(now),),
        ).fetchone()
        return int(row[0]), float(row[1])

    def _windows(self, now: datetime) -> tuple[WindowStatus, WindowStatus]:
        """Today and this month, from the calendar date in ``tz`` (never from elapsed time)."""
        local = now.astimezone(self._tz)
        today = local.date()
        first = today.replace(day=1)
        next_month = (first + timedelta(days=32)).replace(day=1)
        held_tokens, held_usd = self._held(now)
        spans: tuple[tuple[Period, date, date, int | None, float | None], ...] = (
            ("daily", today, today + timedelta(days=1), self.daily_limit, self.daily_usd),
            ("monthly", first, next_month, self.monthly_limit, self.monthly_usd),
        )
        windows = []
        for period, start_day, end_day, token_limit, usd_limit in spans:
            start = _local_midnight(start_day, self._tz)
            end = _local_midnight(end_day, self._tz)
            tokens, usd = self._usage(start, end)
            windows.append(
                WindowStatus(
                    period=period,
                    starts_at=start.astimezone(self._tz),
                    resets_at=end.astimezone(self._tz),
                    tokens_used=tokens,
                    tokens_reserved=held_tokens,
                    tokens_limit=token_limit,
                    usd_used=usd,
                    usd_reserved=held_usd,
                    usd_limit=usd_limit,
                )
            )
        return windows[0], windows[1]

    def _check(self, now: datetime, tokens: int, cost: float) -> None:
        """Raise :class:`BudgetExceededError` for the first limit this request would pass."""
        self._check_windows(self._windows(now), tokens, cost)

    def _check_windows(self, windows: tuple[WindowStatus, ...], tokens: int, cost: float) -> None:
        for window in windows:
            name = window.period  # "daily" or "monthly", as in the settings' names
            if window.tokens_limit is not None:
                used = window.tokens_used + window.tokens_reserved
                if used + tokens > window.tokens_limit:
                    self._refuse(
                        window,
                        f"{name}_limit",
                        window.tokens_used,
                        window.tokens_reserved,
                        window.tokens_limit,
                        tokens,
                        "tokens",
                    )
            if window.usd_limit is not None:
                used_usd = window.usd_used + window.usd_reserved
                if used_usd + cost > window.usd_limit + _USD_TOLERANCE:
                    self._refuse(
                        window,
                        f"{name}_usd",
                        window.usd_used,
                        window.usd_reserved,
                        window.usd_limit,
                        cost,
                        "USD",
                    )

    def _refuse(
        self,
        window: WindowStatus,
        setting: str,
        used: float,
        held: float,
        limit: float,
        wanted: float,
        unit: str,
    ) -> None:
        def show(value: float) -> str:
            return f"{value:,.0f}" if unit == "tokens" else _usd(value)

        units = " tokens" if unit == "tokens" else ""
        when = "today" if window.period == "daily" else "this month"
        held_text = f" plus {show(held)}{units} held by calls in flight" if held else ""
        if used > limit + (0 if unit == "tokens" else _USD_TOLERANCE):
            message = (
                f"{window.period.capitalize()} budget overspent: {show(used)} of "
                f"{show(limit)}{units} used {when} ({self._tz_name}), "
                f"{show(used - limit)}{units} over the limit: real usage went past what calls "
                f"had reserved. No call can be reserved until it resets at "
                f"{_show(window.resets_at)}. Raise {setting} or wait."
            )
        else:
            message = (
                f"{window.period.capitalize()} budget reached: {show(used)} of "
                f"{show(limit)}{units} used {when} ({self._tz_name}){held_text}; this call needs "
                f"{show(wanted)}{units} more. It resets at {_show(window.resets_at)}. "
                f"Raise {setting} or wait."
            )
        raise BudgetExceededError(
            message,
            period=window.period,
            limit=limit,
            used=used + held,
            requested=wanted,
            unit=unit,
        )

    def _insert_spend(
        self,
        now: datetime,
        model: str | None,
        input_tokens: int,
        output_tokens: int,
        cost: float | None,
        *,
        cause: str | None = None,
    ) -> Overspend | None:
        """Insert one spend row; with a ``cause`` (unchecked usage), also return any overspend."""
        before = self._windows(now) if cause is not None else ()
        self._db.execute(
            "INSERT INTO spend (at, model, input_tokens, output_tokens, cost_usd)"
            " VALUES (?, ?, ?, ?, ?)",
            (_utc_text(now), model, input_tokens, output_tokens, cost),
        )
        if cause is None:
            return None
        return _overspend(before, self._windows(now), cause)

    def _settle(
        self, reservation: Reservation, input_tokens: int, output_tokens: int
    ) -> Overspend | None:
        _check_counts(input_tokens=input_tokens, output_tokens=output_tokens)
        cost = self._price(reservation.model, input_tokens, output_tokens, required=False)
        used = input_tokens + output_tokens
        with self._transaction() as now:
            released = self._db.execute(
                "DELETE FROM reservations WHERE id = ?", (reservation.id,)
            ).rowcount
            if released:
                cause = f"a call reserved {reservation.tokens:,} tokens and used {used:,}"
            else:  # gone: it expired (its holder was presumed dead) and others took the room
                cause = (
                    f"a call reserved {reservation.tokens:,} tokens, outlived its reservation "
                    f"(reservation_ttl={self._ttl.total_seconds():g} s) and used {used:,}"
                )
            overspend = self._insert_spend(
                now, reservation.model, input_tokens, output_tokens, cost, cause=cause
            )
        return _warn(overspend)

    def _cancel(self, reservation: Reservation) -> None:
        with self._transaction():
            self._db.execute("DELETE FROM reservations WHERE id = ?", (reservation.id,))


def _overspend(
    before: tuple[WindowStatus, ...], after: tuple[WindowStatus, ...], cause: str
) -> Overspend | None:
    """The part of one insert that went past a limit, comparing the windows around it."""
    tokens, usd, windows = 0, 0.0, []
    for old, new in zip(before, after, strict=True):
        added_tokens = new.overspent_tokens - old.overspent_tokens
        added_usd = new.overspent_usd - old.overspent_usd
        if added_tokens > 0 or added_usd > 0:
            tokens, usd = max(tokens, added_tokens), max(usd, added_usd)
            windows.append(new)
    if not windows:
        return None
    return Overspend(tokens=tokens, usd=usd, windows=tuple(windows), cause=cause)


def _warn(overspend: Overspend | None) -> Overspend | None:
    """Log an overspend (after its transaction committed) so it is never silent."""
    if overspend is not None:
        _log.warning("%s", overspend)
    return overspend


def _check_counts(**counts: int) -> None:
    for name, value in counts.items():
        if value < 0:
            raise ValueError(f"{name} must be zero or more, not {value}.")
