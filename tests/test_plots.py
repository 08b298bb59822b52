"""The notebooks' plots and budget meter: fixed sizes, reproducible data, honest numbers."""

from __future__ import annotations

from datetime import UTC, datetime

import matplotlib
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

from course_helpers.budget import TokenBudget
from course_helpers.plots import (
    BudgetMeter,
    RequestEvent,
    budget_meter,
    plot_backoff_schedules,
    plot_rate_limit_timeline,
)
from course_helpers.retry import RetryPolicy

POLICY = RetryPolicy(base_delay=0.5, max_delay=4.0)


def line_data(fig: Figure, panel: int, label: str) -> tuple[list[float], list[float]]:
    (line,) = [ln for ln in fig.axes[panel].get_lines() if ln.get_label() == label]
    return list(map(float, line.get_xdata())), list(map(float, line.get_ydata()))


def jittered_runs(fig: Figure) -> list[list[float]]:
    lines = fig.axes[0].get_lines()
    return [list(map(float, ln.get_ydata())) for ln in lines if ln.get_label() != "no jitter"]


def scatter_points(fig: Figure, panel: int) -> list[np.ndarray]:
    return [c.get_offsets() for c in fig.axes[panel].collections if isinstance(c, PathCollection)]


# -- backoff ---------------------------------------------------------------------------------


def test_backoff_plot_has_a_fixed_size_and_two_panels() -> None:
    with matplotlib.rc_context({"figure.dpi": 72}):  # an inline backend may change the default
        fig = plot_backoff_schedules(POLICY, seed=0)
    assert repr(fig) == "<Figure size 1000x400 with 2 Axes>"


def test_the_no_jitter_line_is_the_capped_exponential_step() -> None:
    fig = plot_backoff_schedules(POLICY, retries=6, seed=0)
    xs, ys = line_data(fig, 0, "no jitter")
    assert xs == [1, 2, 3, 4, 5, 6]
    assert ys == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_jittered_runs_stay_under_the_step_and_are_reproducible_for_a_seed() -> None:
    runs = jittered_runs(plot_backoff_schedules(POLICY, retries=6, runs=4, seed=3))
    assert len(runs) == 4
    steps = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    for run in runs:
        assert all(0.0 <= wait <= step for wait, step in zip(run, steps, strict=True))
    assert runs == jittered_runs(plot_backoff_schedules(POLICY, retries=6, runs=4, seed=3))
    assert runs != jittered_runs(plot_backoff_schedules(POLICY, retries=6, runs=4, seed=4))
    assert len({tuple(run) for run in runs}) == 4  # the runs differ from one another


def test_without_jitter_every_client_retries_at_the_same_instants() -> None:
    fig = plot_backoff_schedules(POLICY, retries=6, clients=5, seed=0)
    points = np.concatenate(scatter_points(fig, 1))
    herd = points[points[:, 1] < 5]  # the "no jitter" band: rows 0..clients-1
    assert sorted(set(herd[:, 0].tolist())) == [0.5, 1.5, 3.5, 7.5]
    assert len(herd) == 5 * 4
    spread = points[points[:, 1] >= 5]
    assert len(spread) == 5 * 4 and len(set(spread[:, 0].tolist())) == 20


@pytest.mark.parametrize("kwargs", [{"retries": 0}, {"runs": -1}, {"clients": 0}])
def test_backoff_plot_rejects_impossible_sizes(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        plot_backoff_schedules(POLICY, **kwargs)


# -- rate-limit timeline ------------------------------------------------------------------------

EVENTS = [
    RequestEvent(0.0, 300),
    (0.1, 300, 200),
    (0.2, 300, 429),
    RequestEvent(0.3, 300, 429),
    (1.0, 300, 200),
]


def test_timeline_counts_accepted_usage_and_marks_each_429() -> None:
    fig = plot_rate_limit_timeline(EVENTS, rpm=10, tpm=600, period=1.0)
    assert repr(fig) == "<Figure size 1000x450 with 2 Axes>"
    assert fig.get_suptitle() == "5 requests, 2 refused with 429"
    for panel, total in ((0, 3), (1, 900)):
        _, used = line_data(fig, panel, "used (accepted)")
        assert used[-1] == total  # refusals are not charged
        (crosses,) = scatter_points(fig, panel)
        assert crosses[:, 0].tolist() == [0.2, 0.3]


def test_timeline_allowed_line_is_the_refilling_bucket() -> None:
    fig = plot_rate_limit_timeline(EVENTS, rpm=10, tpm=600, period=1.0)
    xs, allowed = line_data(fig, 1, "allowed: limit + refill")
    _, used = line_data(fig, 1, "used (accepted)")
    assert allowed[0] == 600  # the bucket starts full
    assert all(a >= u - 1e-9 for a, u in zip(allowed, used, strict=True))
    # 600 tokens at first, then 600 per second: by t=0.3, 600 + 180; by t=1.0, 600 + 600
    assert allowed[xs.index(0.3)] == pytest.approx(780)
    assert allowed[xs.index(1.0)] == pytest.approx(1200)
    # the 429s arrive while the bucket holds less than their 300 tokens
    for when in (0.2, 0.3):
        index = max(i for i, x in enumerate(xs) if x <= when)
        assert allowed[index] - used[index] < 300


def test_timeline_without_a_limit_draws_no_allowed_line() -> None:
    fig = plot_rate_limit_timeline([(0.0, 50, 200), (0.5, 50, 200)], rpm=None, tpm=1000)
    labels = [ln.get_label() for ln in fig.axes[0].get_lines()]
    assert labels == ["used (accepted)"]
    assert fig.axes[0].get_title() == "Requests (no limit)"
    assert fig.axes[1].get_title() == "Tokens (limit 1,000 per 60 s)"


def test_timeline_rejects_a_non_positive_period() -> None:
    with pytest.raises(ValueError, match="period"):
        plot_rate_limit_timeline(EVENTS, 10, 600, period=0)


# -- budget meter ------------------------------------------------------------------------------


def frozen_budget() -> TokenBudget:
    return TokenBudget(
        daily_limit=1_000,
        monthly_limit=10_000,
        daily_usd=1.0,
        now=lambda: datetime(2026, 1, 15, 9, 30, tzinfo=UTC),
    )


def test_meter_text_shows_use_against_limits_without_clock_times() -> None:
    budget = frozen_budget()
    meter = budget_meter(budget)
    assert isinstance(meter, BudgetMeter)
    assert meter.text() == (
        "Budget meter (UTC)\n"
        "  today       0 / 1,000 tokens, $0.0000 / $1.00 (0%)\n"
        "  this month  0 / 10,000 tokens (0%)"
    )
    budget.spend(850, model="gpt-4o-mini")
    assert "0 / 1,000" in meter.text()  # unchanged until refreshed
    meter.refresh()
    lines = meter.text().splitlines()
    assert lines[1].startswith("  today       850 / 1,000 tokens, $0.0001")
    assert lines[1].endswith("(85%)")
    assert lines[2] == "  this month  850 / 10,000 tokens (8%)"
    assert "2026" not in meter.text() and ":" not in meter.text()


def test_meter_bars_follow_the_budget() -> None:
    budget = frozen_budget()
    meter = budget_meter(budget)
    (day_bar, day_label), (month_bar, _) = meter._rows
    assert (day_bar.value, day_bar.bar_style) == (0.0, "success")
    budget.spend(850, model="gpt-4o-mini")
    meter.refresh()
    assert day_bar.value == pytest.approx(0.85) and day_bar.bar_style == "warning"
    assert month_bar.value == pytest.approx(0.085) and month_bar.bar_style == "success"
    assert "resets 2026-01-16 00:00 UTC" in day_label.value
    budget.record(150)
    meter.refresh()
    assert day_bar.value == 1.0 and day_bar.bar_style == "danger"


def test_meter_displays_as_a_widget_with_its_text_as_plain_repr() -> None:
    meter = budget_meter(frozen_budget())
    bundle = meter._repr_mimebundle_()
    assert bundle["text/plain"] == meter.text() == repr(meter)
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == meter.widget.model_id


def test_figures_render_as_png_without_pyplot() -> None:
    png = plot_backoff_schedules(POLICY, seed=0)._repr_png_()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
