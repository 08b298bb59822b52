"""Pictures for the notebooks: backoff schedules, a rate-limit timeline, a budget meter.

Each plot returns a :class:`Figure` (matplotlib's, able to show itself as a PNG) built without
``pyplot`` (no global state, no figure shown twice): make it the last expression of a cell, or
``display(fig)``. Sizes and dpi are fixed, so a notebook's stored
``<Figure size 1000x400 with 2 Axes>`` is the same on every machine and under every backend.

>>> from course_helpers.retry import RetryPolicy
>>> plot_backoff_schedules(RetryPolicy(base_delay=0.5, max_delay=8.0), seed=0)
<Figure size 1000x400 with 2 Axes>
>>> plot_rate_limit_timeline([(0.0, 300, 200), (0.1, 300, 200), (0.2, 300, 429)], 10, 600, 1.0)
<Figure size 1000x450 with 2 Axes>
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from matplotlib.axes import Axes
from matplotlib.figure import Figure as MplFigure

from course_helpers.retry import RetryPolicy

if TYPE_CHECKING:
    from course_helpers.budget import BudgetStatus, WindowStatus

__all__ = [
    "BACKOFF_FIGSIZE",
    "TIMELINE_FIGSIZE",
    "BudgetMeter",
    "Figure",
    "RequestEvent",
    "budget_meter",
    "plot_backoff_schedules",
    "plot_rate_limit_timeline",
]

BACKOFF_FIGSIZE = (10.0, 4.0)
TIMELINE_FIGSIZE = (10.0, 4.5)

_NO_JITTER = "#444444"
_JITTER = "#1f77b4"
_REFUSED = "#d62728"


class Figure(MplFigure):
    """matplotlib's ``Figure`` that also shows itself as a PNG in a notebook, whatever the backend.

    Built without ``pyplot``, a figure is not drawn by the inline backend at the end of a cell;
    ``_repr_png_`` lets IPython display it when it is a cell's value, even under ``MPLBACKEND=Agg``.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
        return buffer.getvalue()


# --------------------------------------------------------------------------------------------
# Backoff schedules


def plot_backoff_schedules(
    policy: RetryPolicy | None = None,
    *,
    retries: int = 8,
    runs: int = 5,
    clients: int = 20,
    seed: int = 0,
) -> Figure:
    """Waits before each retry with and without full jitter, and what jitter does to a crowd.

    Left: the capped exponential step ``min(max_delay, base_delay·2**n)`` (what a client without
    jitter waits), the range full jitter draws from, and ``runs`` sampled jittered schedules.
    Right: when ``clients`` clients that failed at the same instant send their first four retries:
    without jitter they all come back together, with full jitter they spread out.
    ``seed`` makes the sampled runs reproducible.
    """
    if retries < 1 or runs < 0 or clients < 1:
        raise ValueError("retries and clients must be at least 1, runs at least 0.")
    policy = policy or RetryPolicy()
    steady, jittered = replace(policy, jitter="none"), replace(policy, jitter="full")
    rng = random.Random(seed)
    numbers = list(range(1, retries + 1))
    steps = [steady.backoff(n - 1) for n in numbers]

    figure = Figure(figsize=BACKOFF_FIGSIZE, dpi=100, layout="constrained")
    left, right = figure.subplots(1, 2)
    left.fill_between(numbers, 0, steps, color=_JITTER, alpha=0.12, label="full jitter draws from")
    for run in range(runs):
        waits = [jittered.backoff(n - 1, rng) for n in numbers]
        left.plot(
            numbers,
            waits,
            "o-",
            color=_JITTER,
            alpha=0.55,
            lw=1,
            ms=3,
            label="jittered runs" if run == 0 else None,
        )
    left.plot(numbers, steps, "s-", color=_NO_JITTER, lw=2, label="no jitter")
    left.set(
        title=f"Wait before each retry (base {policy.base_delay:g} s, cap {policy.max_delay:g} s)",
        xlabel="retry number",
        ylabel="wait (s)",
        xticks=numbers,
    )
    left.legend(loc="upper left", fontsize="small")

    shown = min(4, retries)
    herd = [sum(steps[:k]) for k in range(1, shown + 1)]
    herd_xy: list[tuple[float, int]] = []
    spread_xy: list[tuple[float, int]] = []
    for client in range(clients):
        herd_xy += [(moment, client) for moment in herd]
        elapsed = 0.0
        for n in range(shown):
            elapsed += jittered.backoff(n, rng)
            spread_xy.append((elapsed, clients + 2 + client))
    for points, color in ((herd_xy, _NO_JITTER), (spread_xy, _JITTER)):
        right.scatter([x for x, _ in points], [y for _, y in points], color=color, s=12)
    right.set(
        title=f"First {shown} retries of {clients} clients that failed together",
        xlabel="seconds after the failure",
        yticks=[(clients - 1) / 2, clients + 2 + (clients - 1) / 2],
        yticklabels=["no jitter", "full jitter"],
    )
    return figure


# --------------------------------------------------------------------------------------------
# Rate-limit timeline


@dataclass(frozen=True)
class RequestEvent:
    """One request as the provider saw it: when it arrived, what it was charged, how it ended.

    ``time`` is in seconds from the moment the provider's buckets were full (its start, or the
    first request of a fresh run); ``status`` 429 marks a refusal, which is not charged.
    """

    time: float
    tokens: int
    status: int | None = 200

    @property
    def refused(self) -> bool:
        return self.status == 429


def plot_rate_limit_timeline(
    events: Iterable[RequestEvent | tuple[float, int, int | None]],
    rpm: int | None,
    tpm: int | None,
    period: float = 60.0,
    *,
    title: str | None = None,
) -> Figure:
    """Requests and tokens used over time against what the limits allowed; 429s marked.

    The provider's limits are token buckets that start full and refill continuously (``rpm`` and
    ``tpm`` per ``period`` seconds). So the plot shows, for requests and for tokens, the running
    total the provider accepted (solid) against the running total it would have accepted (dashed:
    used so far plus what was left in the bucket). Where the lines touch, the limit binds; a
    request that arrives then is refused with a 429 (red crosses). Counting per fixed window would
    mislead here: a bucket that starts full lawfully lets up to twice the limit through in the
    first window.
    """
    if period <= 0:
        raise ValueError("period is the limits' window in seconds and must be positive.")
    ordered = sorted((_as_event(item) for item in events), key=lambda event: event.time)
    end = max([event.time for event in ordered] + [0.0]) * 1.05 or period
    figure = Figure(figsize=TIMELINE_FIGSIZE, dpi=100, layout="constrained")
    axes: Sequence[Axes] = figure.subplots(1, 2)
    panels = (("Requests", rpm, [1] * len(ordered)), ("Tokens", tpm, [e.tokens for e in ordered]))
    for ax, (name, limit, charges) in zip(axes, panels, strict=True):
        _timeline_panel(ax, name, limit, period, ordered, charges, end)
    refused = sum(event.refused for event in ordered)
    figure.suptitle(
        title or f"{len(ordered)} requests, {refused} refused with 429", fontsize="medium"
    )
    return figure


def _as_event(item: RequestEvent | tuple[float, int, int | None]) -> RequestEvent:
    if isinstance(item, RequestEvent):
        return item
    time, tokens, status = item
    return RequestEvent(float(time), int(tokens), status)


def _timeline_panel(
    ax: Axes,
    name: str,
    limit: int | None,
    period: float,
    events: Sequence[RequestEvent],
    charges: Sequence[int],
    end: float,
) -> None:
    """One panel: used (step), allowed (dashed, when limited), refusals (crosses)."""
    rate = (limit / period) if limit is not None else 0.0
    level = float(limit) if limit is not None else 0.0
    used, last = 0.0, 0.0
    xs, used_ys, allowed_ys = [0.0], [0.0], [level]
    refused_x, refused_y = [], []

    def advance(to: float) -> None:
        nonlocal level, last
        if limit is None:
            return
        # sample the refill, so the dashed line bends where the bucket fills up again
        steps = max(1, int((to - last) / (period / 50)))
        for index in range(1, steps + 1):
            moment = last + (to - last) * index / steps
            xs.append(moment)
            used_ys.append(used)
            allowed_ys.append(used + min(float(limit), level + rate * (moment - last)))
        level = min(float(limit), level + rate * (to - last))
        last = to

    for event, charge in zip(events, charges, strict=True):
        advance(event.time)
        if event.refused:
            refused_x.append(event.time)
            refused_y.append(used)
            continue
        used += charge
        level -= charge
        xs.append(event.time)
        used_ys.append(used)
        allowed_ys.append(used + level)
    advance(end)
    if limit is None:
        xs.append(end)
        used_ys.append(used)

    ax.step(xs, used_ys, where="post", color=_JITTER, lw=2, label="used (accepted)")
    if limit is not None:
        ax.plot(xs, allowed_ys, "--", color=_NO_JITTER, lw=1.2, label="allowed: limit + refill")
    if refused_x:
        ax.scatter(refused_x, refused_y, marker="x", color=_REFUSED, s=40, zorder=3, label="429")
    unit = "requests" if name == "Requests" else "tokens"
    what = f"limit {limit:,} per {period:g} s" if limit is not None else "no limit"
    ax.set(title=f"{name} ({what})", xlabel="seconds", ylabel=f"{unit} so far", xlim=(0, end))
    ax.legend(loc="upper left", fontsize="small")


# --------------------------------------------------------------------------------------------
# Budget meter


class _HasStatus(Protocol):
    def status(self) -> BudgetStatus: ...


class BudgetMeter:
    """Two progress bars (today, this month) for a ``TokenBudget``; ``refresh()`` updates them.

    In JupyterLab it is a live widget; its ``text/plain`` form (what a terminal, a test or a
    stored notebook shows) is the plain-text table of ``text()``, which holds no clock times.
    """

    def __init__(self, budget: _HasStatus) -> None:
        import ipywidgets as widgets

        self.budget = budget
        self._rows: list[tuple[Any, Any]] = []
        boxes = []
        for name in ("today", "this month"):
            bar = widgets.FloatProgress(min=0.0, max=1.0, value=0.0, description=name)
            label = widgets.HTML(value="")
            self._rows.append((bar, label))
            boxes.append(widgets.HBox([bar, label]))
        self.widget: Any = widgets.VBox(boxes)
        self._text = ""
        self.refresh()

    def refresh(self) -> None:
        """Read the budget's status again and update the bars."""
        status = self.budget.status()
        windows = (status.day, status.month)
        for (bar, label), window in zip(self._rows, windows, strict=True):
            fraction = window.fraction
            bar.value = fraction or 0.0
            bar.bar_style = _bar_style(fraction)
            label.value = f"{_describe(window)} · resets {window.resets_at:%Y-%m-%d %H:%M %Z}"
        self._text = "\n".join(
            [f"Budget meter ({status.tz})"] + [f"  {_name(w):<11} {_describe(w)}" for w in windows]
        )

    def text(self) -> str:
        """The meter as plain text (as of the last ``refresh``)."""
        return self._text

    def __repr__(self) -> str:
        return self._text

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle: dict[str, Any] = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = self._text
        return bundle


def budget_meter(budget: _HasStatus) -> BudgetMeter:
    """A live meter of ``budget``'s daily and monthly use: display it, then ``.refresh()``."""
    return BudgetMeter(budget)


def _name(window: WindowStatus) -> str:
    return "today" if window.period == "daily" else "this month"


def _describe(window: WindowStatus) -> str:
    parts = [
        f"{window.tokens_used:,}"
        + (f" / {window.tokens_limit:,}" if window.tokens_limit is not None else "")
        + " tokens"
    ]
    if window.usd_limit is not None:
        parts.append(f"${window.usd_used:,.4f} / ${window.usd_limit:,.2f}")
    if window.tokens_reserved:
        parts.append(f"{window.tokens_reserved:,} reserved")
    fraction = window.fraction
    shown = f" ({fraction:.0%})" if fraction is not None else " (no limit)"
    return ", ".join(parts) + shown


def _bar_style(fraction: float | None) -> str:
    if fraction is None or fraction < 0.8:
        return "success"
    return "warning" if fraction < 1.0 else "danger"
