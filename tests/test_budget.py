"""The token budget: calendar windows in a time zone, reserve-then-settle, persistence, dollars."""

from __future__ import annotations

import doctest
import logging
import os
import random
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from course_helpers import budget as budget_module
from course_helpers.budget import TokenBudget
from course_helpers.catalog import cost_usd
from course_helpers.errors import BudgetExceededError, LLMError
from course_helpers.seed.clocked import ClockedTokenBudget as SeedTokenBudget  # the module's code

ROOT = Path(__file__).resolve().parents[1]


class Now:
    """A clock the test moves by hand."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# -- calendar windows ----------------------------------------------------------------------------


def test_the_seed_never_resets_on_the_same_day_of_the_next_month() -> None:
    clock = Now(datetime(2026, 1, 15, 10, 0))
    seed = SeedTokenBudget(daily_limit=1_000, monthly_limit=100_000, now=clock)
    seed.spend(900)
    clock.moment = datetime(2026, 2, 15, 10, 0)  # a month later
    assert not seed.can_spend(200)  # the defect: January 15's usage still counts "today"
    assert seed.daily_used == 900


def test_ours_resets_a_month_later_on_the_same_day() -> None:
    clock = Now(utc(2026, 1, 15, 10, 0))
    budget = TokenBudget(daily_limit=1_000, monthly_limit=100_000, now=clock)
    budget.spend(900)
    assert not budget.can_spend(200)
    clock.moment = utc(2026, 2, 15, 10, 0)
    assert budget.can_spend(200)
    status = budget.status()
    assert (status.day.tokens_used, status.month.tokens_used) == (0, 0)


def test_the_seed_keeps_last_years_month_and_ours_does_not() -> None:
    seed_clock = Now(datetime(2026, 1, 10, 12, 0))
    seed = SeedTokenBudget(daily_limit=10_000, monthly_limit=1_000, now=seed_clock)
    seed.spend(900)
    seed_clock.moment = datetime(2027, 1, 20, 12, 0)  # next call a year later, same month number
    assert not seed.can_spend(200)

    clock = Now(utc(2026, 1, 10, 12, 0))
    budget = TokenBudget(daily_limit=10_000, monthly_limit=1_000, now=clock)
    budget.spend(900)
    clock.moment = utc(2027, 1, 20, 12, 0)
    assert budget.can_spend(200)


def test_the_day_resets_at_local_midnight() -> None:
    clock = Now(utc(2026, 11, 27, 22, 30))  # 23:30 in Paris (CET, UTC+1)
    budget = TokenBudget(daily_limit=1_000, tz="Europe/Paris", now=clock)
    budget.spend(700)
    clock.moment = utc(2026, 11, 27, 22, 59, 59)
    assert budget.status().day.tokens_used == 700
    clock.moment = utc(2026, 11, 27, 23, 0)  # midnight in Paris; still the 27th in UTC
    status = budget.status()
    assert status.day.tokens_used == 0
    assert status.day.starts_at.isoformat() == "2026-11-28T00:00:00+01:00"
    assert status.day.resets_at.isoformat() == "2026-11-29T00:00:00+01:00"


def test_the_month_resets_on_the_first_in_the_chosen_zone() -> None:
    clock = Now(utc(2026, 1, 31, 22, 0))  # 23:00 on 31 January in Paris
    paris = TokenBudget(monthly_limit=1_000, tz="Europe/Paris", now=clock)
    in_utc = TokenBudget(monthly_limit=1_000, tz="UTC", now=clock)
    paris.spend(800)
    in_utc.spend(800)
    clock.moment = utc(2026, 1, 31, 23, 30)  # 00:30 on 1 February in Paris, still January in UTC
    assert paris.status().month.tokens_used == 0
    assert paris.status().month.starts_at.isoformat() == "2026-02-01T00:00:00+01:00"
    assert in_utc.status().month.tokens_used == 800
    assert in_utc.status().month.resets_at.isoformat() == "2026-02-01T00:00:00+00:00"


def test_the_year_end_is_a_new_day_and_a_new_month() -> None:
    clock = Now(utc(2026, 12, 31, 14, 0))
    budget = TokenBudget(daily_limit=1_000, monthly_limit=1_000, tz="America/New_York", now=clock)
    budget.spend(1_000)
    clock.moment = utc(2027, 1, 1, 4, 59)  # 23:59 on 31 December in New York
    assert budget.remaining() == 0
    clock.moment = utc(2027, 1, 1, 5, 0)  # midnight in New York
    assert budget.remaining() == 1_000
    assert budget.status().month.resets_at.isoformat() == "2027-02-01T00:00:00-05:00"


def test_daylight_saving_days_are_one_calendar_day_each() -> None:
    clock = Now(utc(2026, 3, 29, 21, 59))  # 23:59 CEST on 29 March, the 23-hour day in Paris
    budget = TokenBudget(daily_limit=1_000, tz="Europe/Paris", now=clock)
    budget.spend(400)
    status = budget.status()
    # (aware datetimes in one zone subtract as wall clocks in Python: compare in UTC)
    day = status.day.resets_at.astimezone(UTC) - status.day.starts_at.astimezone(UTC)
    assert day == timedelta(hours=23)
    assert status.day.resets_at.astimezone(UTC) == utc(2026, 3, 29, 22, 0)
    clock.moment = utc(2026, 3, 29, 22, 1)  # 00:01 CEST on 30 March (a fixed UTC+1 says 23:01)
    assert budget.status().day.tokens_used == 0

    clock.moment = utc(2026, 10, 25, 12, 0)  # the 25-hour day when summer time ends
    status = budget.status()
    day = status.day.resets_at.astimezone(UTC) - status.day.starts_at.astimezone(UTC)
    assert day == timedelta(hours=25)


def test_a_midnight_that_does_not_exist_starts_the_day_at_the_jump() -> None:
    # Sao Paulo jumped from 00:00 to 01:00 on 4 November 2018: the day began at 01:00 -02.
    clock = Now(utc(2018, 11, 4, 2, 59))  # 23:59 -03 on 3 November
    budget = TokenBudget(daily_limit=1_000, tz="America/Sao_Paulo", now=clock)
    budget.spend(300)
    assert budget.status().day.resets_at.isoformat() == "2018-11-04T01:00:00-02:00"
    clock.moment = utc(2018, 11, 4, 3, 0)
    assert budget.status().day.tokens_used == 0


# -- reserve, settle, refuse ---------------------------------------------------------------------


def test_refused_before_the_call_with_a_message_that_says_what_to_do() -> None:
    clock = Now(utc(2026, 11, 27, 9, 0))
    budget = TokenBudget(daily_limit=50_000, tz="Europe/Paris", now=clock)
    budget.spend(49_800)
    calls: list[str] = []
    with pytest.raises(BudgetExceededError) as caught, budget.reserve(150, max_output=100):
        calls.append("sent")
    assert calls == []  # the call was never made
    error = caught.value
    assert isinstance(error, LLMError)
    assert (error.period, error.limit, error.used, error.requested, error.unit) == (
        "daily",
        50_000,
        49_800,
        250,
        "tokens",
    )
    assert str(error) == (
        "Daily budget reached: 49,800 of 50,000 tokens used today (Europe/Paris); this call "
        "needs 250 tokens more. It resets at 2026-11-28 00:00 CET. Raise daily_limit or wait."
    )
    assert budget.status().day.tokens_reserved == 0  # a refused reservation holds nothing


def test_the_monthly_limit_is_named_when_it_binds() -> None:
    clock = Now(utc(2026, 5, 2, 8))
    budget = TokenBudget(daily_limit=10_000, monthly_limit=12_000, now=clock)
    budget.record(9_000)
    clock.moment = utc(2026, 5, 3, 8)
    budget.record(2_500)
    with pytest.raises(BudgetExceededError, match=r"Monthly budget .* Raise monthly_limit") as err:
        budget.reserve(600)
    assert err.value.period == "monthly"
    assert "resets at 2026-06-01 00:00 UTC" in str(err.value)


def test_outstanding_reservations_count_against_others() -> None:
    budget = TokenBudget(daily_limit=1_000, now=Now(utc(2026, 5, 3, 8)))
    first = budget.reserve(300, max_output=300)
    assert budget.remaining() == 400
    assert not budget.can_spend(500)
    with pytest.raises(BudgetExceededError, match="plus 600 tokens held by calls in flight"):
        budget.spend(500)
    first.settle(280, 20)  # the call used far less than it held
    assert budget.remaining() == 700
    assert budget.status().day.tokens_used == 300


def test_the_context_manager_cancels_on_error_and_never_undercounts() -> None:
    budget = TokenBudget(daily_limit=1_000, now=Now(utc(2026, 5, 3, 8)))
    with pytest.raises(RuntimeError, match="provider down"), budget.reserve(100, max_output=50):
        raise RuntimeError("provider down")
    assert budget.status().day.tokens_used == 0
    assert budget.status().day.tokens_reserved == 0

    with budget.reserve(100, max_output=50) as hold:
        hold.settle(90, 10)
    assert budget.status().day.tokens_used == 100

    with budget.reserve(100, max_output=50) as hold:
        pass  # forgot to settle: the whole hold is recorded
    assert hold.state == "settled"
    assert budget.status().day.tokens_used == 250
    assert budget.status().day.tokens_reserved == 0
    with pytest.raises(RuntimeError, match="already settled"):
        hold.settle(1, 1)
    hold.cancel()  # harmless after settling
    assert budget.status().day.tokens_used == 250


def test_spend_over_the_limit_records_nothing() -> None:
    budget = TokenBudget(daily_limit=1_000, now=Now(utc(2026, 5, 3, 8)))
    budget.spend(600)
    with pytest.raises(BudgetExceededError):
        budget.spend(401)
    budget.spend(400)  # exactly the limit is allowed
    assert budget.status().day.tokens_used == 1_000
    budget.record(50)  # usage that already happened is recorded even over the limit
    assert budget.status().day.tokens_used == 1_050


def test_a_dead_callers_reservation_expires() -> None:
    clock = Now(utc(2026, 5, 3, 8))
    budget = TokenBudget(daily_limit=1_000, now=clock, reservation_ttl=60)
    orphan = budget.reserve(900)  # its process "dies" and never settles
    assert not budget.can_spend(200)
    clock.moment += timedelta(seconds=61)
    assert budget.can_spend(200)
    assert budget.status().day.tokens_reserved == 0
    orphan.settle(100, 0)  # a late settle still records what was really used
    assert budget.status().day.tokens_used == 100


# -- overspend: real usage past a limit ------------------------------------------------------------


def budget_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "course_helpers.budget" and r.levelno == logging.WARNING
    ]


def test_settling_more_than_was_reserved_counts_is_reported_and_blocks_the_day(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Now(utc(2026, 5, 3, 8))
    budget = TokenBudget(daily_limit=1_000, now=clock)
    hold = budget.reserve(500, max_output=500)
    with caplog.at_level(logging.WARNING, logger="course_helpers.budget"):
        overspend = hold.settle(1_000, 500)  # the call used 1,500 of the 1,000 it held
    assert overspend is not None and hold.overspend is overspend
    assert (overspend.tokens, overspend.usd) == (500, 0.0)
    assert [w.period for w in overspend.windows] == ["daily"]
    day = budget.status().day
    assert (day.tokens_used, day.overspent_tokens, day.overspent, day.tokens_remaining) == (
        1_500,
        500,
        True,
        0,
    )
    assert "today: 1,500 / 1,000 tokens, overspent by 500 tokens; resets" in str(budget.status())
    assert budget_warnings(caplog) == [
        "Budget overspent: a call reserved 1,000 tokens and used 1,500. It counts in full: "
        "today is 500 tokens over its limit until it resets at 2026-05-04 00:00 UTC. New "
        "reservations are refused until then."
    ]
    with pytest.raises(BudgetExceededError) as refused:
        budget.reserve(1)
    assert str(refused.value) == (
        "Daily budget overspent: 1,500 of 1,000 tokens used today (UTC), 500 tokens over the "
        "limit: real usage went past what calls had reserved. No call can be reserved until it "
        "resets at 2026-05-04 00:00 UTC. Raise daily_limit or wait."
    )
    assert (refused.value.used, refused.value.limit) == (1_500, 1_000)
    assert not budget.can_spend(0)
    clock.moment = utc(2026, 5, 4, 0, 0)  # the window resets: room again
    assert budget.reserve(1_000).tokens == 1_000
    assert not budget.status().day.overspent


def test_a_call_that_outlives_its_reservation_counts_and_is_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Now(utc(2026, 5, 3, 8))
    budget = TokenBudget(daily_limit=1_000, now=clock, reservation_ttl=60)
    slow = budget.reserve(1_000)
    clock.moment += timedelta(seconds=61)  # the hold expires: its room goes to another call
    budget.reserve(1_000).settle(1_000, 0)
    with caplog.at_level(logging.WARNING, logger="course_helpers.budget"):
        overspend = slow.settle(900, 100)  # the slow call finally ends, within its own estimate
    assert overspend is not None and overspend.tokens == 1_000
    assert budget.status().day.tokens_used == 2_000
    assert budget.status().day.overspent_tokens == 1_000
    (warning,) = budget_warnings(caplog)
    assert "outlived its reservation (reservation_ttl=60 s) and used 1,000" in warning
    assert "today is 1,000 tokens over its limit" in warning
    with pytest.raises(BudgetExceededError, match="1,000 tokens over the limit"):
        budget.reserve(1)


def test_an_over_settle_within_the_limit_is_not_an_overspend(
    caplog: pytest.LogCaptureFixture,
) -> None:
    budget = TokenBudget(daily_limit=10_000, monthly_limit=20_000, now=Now(utc(2026, 5, 3, 8)))
    hold = budget.reserve(500, max_output=500)
    with caplog.at_level(logging.WARNING, logger="course_helpers.budget"):
        assert hold.settle(1_000, 500) is None
        budget.spend(8_500)  # exactly the daily limit: full, not over
        late = budget.reserve(0)
        assert late.settle(0, 0) is None
    assert hold.overspend is None and budget_warnings(caplog) == []
    status = budget.status()
    assert (status.day.tokens_used, status.day.overspent_tokens) == (10_000, 0)
    assert "overspent" not in str(status)
    with pytest.raises(BudgetExceededError, match="Daily budget reached"):
        budget.reserve(1)


def test_a_monthly_overspend_blocks_until_the_first_of_next_month() -> None:
    clock = Now(utc(2026, 5, 30, 8))
    budget = TokenBudget(daily_limit=10_000, monthly_limit=1_500, now=clock)
    budget.spend(1_000)
    hold = budget.reserve(400)
    overspend = hold.settle(800, 0)
    assert overspend is not None and overspend.tokens == 300
    assert [w.period for w in overspend.windows] == ["monthly"]
    clock.moment = utc(2026, 5, 31, 8)  # a new day, but the month is still over
    assert budget.status().day.tokens_used == 0
    with pytest.raises(BudgetExceededError, match=r"Monthly budget overspent: .* 300 tokens over"):
        budget.reserve(1)
    clock.moment = utc(2026, 6, 1, 0, 0)
    assert budget.can_spend(1_500)


def test_usage_recorded_without_a_check_is_reported_when_it_goes_over() -> None:
    budget = TokenBudget(daily_limit=1_000, monthly_limit=1_200, now=Now(utc(2026, 5, 3, 8)))
    budget.spend(900)
    assert budget.record(100) is None  # up to the limit: fine
    overspend = budget.record(300, 50)
    assert overspend is not None
    assert overspend.tokens == 350  # the daily window: 1,350 of 1,000
    assert [(w.period, w.overspent_tokens) for w in overspend.windows] == [
        ("daily", 350),
        ("monthly", 150),
    ]
    assert "350 tokens of usage were recorded without a check" in str(overspend)


def test_a_usd_overspend_is_reported_in_dollars() -> None:
    model = "gpt-4o-mini"
    limit = cost_usd(model, input_tokens=1_000, output_tokens=1_000)
    used = cost_usd(model, input_tokens=1_000, output_tokens=3_000)
    assert limit is not None and used is not None
    budget = TokenBudget(daily_usd=limit, now=Now(utc(2026, 5, 3, 8)))
    overspend = budget.reserve(1_000, model=model, max_output=1_000).settle(1_000, 3_000)
    assert overspend is not None and overspend.tokens == 0
    assert overspend.usd == pytest.approx(used - limit)
    assert budget.status().day.overspent_usd == pytest.approx(used - limit)
    with pytest.raises(BudgetExceededError, match=r"Daily budget overspent: \$.* over") as refused:
        budget.reserve(1, model=model)
    assert refused.value.unit == "USD"


def test_an_overspend_is_seen_by_every_budget_on_the_file(tmp_path: Path) -> None:
    clock = Now(utc(2026, 5, 3, 8))
    path = tmp_path / "budget.sqlite"
    with TokenBudget(daily_limit=1_000, path=path, now=clock) as first:
        first.reserve(1_000).settle(1_200, 0)
    with TokenBudget(daily_limit=1_000, path=path, now=clock) as second:
        assert second.status().day.overspent_tokens == 200
        with pytest.raises(BudgetExceededError, match="200 tokens over the limit"):
            second.reserve(1)


def test_eight_threads_with_their_own_connections_never_overspend(tmp_path: Path) -> None:
    path = tmp_path / "budget.sqlite"  # a new file: the eight threads also create it together
    limit = 20_000
    granted: list[int] = []
    refused: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(8, timeout=30)

    def worker(seed: int) -> None:
        try:
            rng = random.Random(seed)
            budget = TokenBudget(daily_limit=limit, path=path)  # a separate connection per thread
            start.wait()
            for _ in range(25):
                prompt, max_output = rng.randint(50, 400), rng.randint(50, 400)
                try:
                    hold = budget.reserve(prompt, max_output=max_output)
                except BudgetExceededError:
                    with lock:
                        refused.append(prompt + max_output)
                    continue
                used = prompt + rng.randint(0, max_output)
                hold.settle(prompt, used - prompt)
                with lock:
                    granted.append(used)
            budget.close()
        except BaseException as error:  # handed to the test below, never lost
            start.abort()  # the other threads stop waiting for this one
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not [t for t in threads if t.is_alive()], "a worker thread hung"
    assert errors == []
    with TokenBudget(daily_limit=limit, path=path) as final_budget:
        final = final_budget.status().day
    assert refused, "the workload must exceed the limit for this test to mean anything"
    assert final.tokens_used == sum(granted)
    assert final.tokens_used <= limit
    assert final.tokens_reserved == 0


def test_the_seeds_check_then_act_overspends_under_threads() -> None:
    seed = SeedTokenBudget(daily_limit=1_000, monthly_limit=1_000_000)
    checked = threading.Barrier(8)

    def worker() -> None:
        if seed.can_spend(600):
            checked.wait(5)  # every thread has passed the check before any spends
            seed.spend(600)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seed.daily_used == 4_800  # almost five times the limit


# -- persistence ---------------------------------------------------------------------------------


def test_two_budgets_on_one_file_share_the_spend(tmp_path: Path) -> None:
    clock = Now(utc(2026, 5, 3, 8))
    path = tmp_path / "sub" / "budget.sqlite"
    first = TokenBudget(daily_limit=1_000, path=path, now=clock)
    first.spend(300)
    hold = first.reserve(200)
    second = TokenBudget(daily_limit=1_000, path=path, now=clock)
    assert second.status().day.tokens_used == 300
    assert second.remaining() == 500
    hold.settle(150, 0)
    first.close()
    restarted = TokenBudget(daily_limit=1_000, path=path, now=clock)  # a "kernel restart"
    assert restarted.remaining() == 550
    assert restarted.status().day.tokens_reserved == 0


def test_another_process_sees_the_same_spend(tmp_path: Path) -> None:
    path = tmp_path / "budget.sqlite"
    parent = TokenBudget(daily_limit=10_000, path=path)
    parent.spend(1_000)
    script = textwrap.dedent(
        f"""
        from course_helpers.budget import TokenBudget
        budget = TokenBudget(daily_limit=10_000, path={str(path)!r})
        budget.spend(2_345)
        budget.reserve(500)  # left held: this process exits without settling
        print(budget.status().day.tokens_used)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == "3345"  # the child saw the parent's spend too
    status = parent.status().day
    assert (status.tokens_used, status.tokens_reserved) == (3_345, 500)


def test_timestamps_are_stored_in_utc(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "budget.sqlite"
    clock = Now(datetime(2026, 7, 1, 0, 30, tzinfo=ZoneInfo("Europe/Paris")))
    TokenBudget(daily_limit=10, path=path, tz="Europe/Paris", now=clock).spend(5)
    with sqlite3.connect(path) as db:
        (at,) = db.execute("SELECT at FROM spend").fetchone()
        (mode,) = db.execute("PRAGMA journal_mode").fetchone()
    assert at == "2026-06-30T22:30:00.000000Z"
    assert mode == "wal"


# -- dollars -------------------------------------------------------------------------------------


def test_usd_limits_use_catalogue_prices() -> None:
    model = "gpt-4o-mini"
    price = cost_usd(model, input_tokens=1_000, output_tokens=1_000)
    assert price is not None and price > 0
    budget = TokenBudget(daily_limit=10_000_000, daily_usd=price * 3, now=Now(utc(2026, 5, 3, 8)))
    for _ in range(3):
        budget.spend(1_000, model=model, output_tokens=1_000)
    assert budget.status().day.usd_used == pytest.approx(price * 3)
    with pytest.raises(BudgetExceededError, match=r"Daily budget .* Raise daily_usd") as err:
        budget.reserve(10, model=model, max_output=10)
    assert err.value.unit == "USD"
    assert err.value.requested == pytest.approx(cost_usd(model, input_tokens=10, output_tokens=10))


def test_a_reservation_is_priced_at_its_worst_case_and_settled_at_the_actual() -> None:
    model = "claude-haiku-5-5"
    budget = TokenBudget(monthly_usd=1.0, now=Now(utc(2026, 5, 3, 8)))
    hold = budget.reserve(2_000, model=model, max_output=4_000)
    assert hold.cost_usd == cost_usd(model, input_tokens=2_000, output_tokens=4_000)
    assert budget.status().month.usd_reserved == pytest.approx(hold.cost_usd)
    hold.settle(1_900, 300)
    month = budget.status().month
    assert month.usd_used == pytest.approx(cost_usd(model, input_tokens=1_900, output_tokens=300))
    assert month.usd_reserved == 0
    assert month.usd_remaining == pytest.approx(1.0 - month.usd_used)


def test_a_usd_limit_needs_a_priced_model() -> None:
    budget = TokenBudget(daily_usd=1.0)
    with pytest.raises(ValueError, match="pass model="):
        budget.reserve(10)
    with pytest.raises(ValueError, match="no price in the catalogue"):
        budget.spend(10, model="no-such-model")


# -- status and validation -----------------------------------------------------------------------


def test_status_is_a_meter_snapshot() -> None:
    budget = TokenBudget(
        daily_limit=1_000, monthly_limit=4_000, tz="Europe/Paris", now=Now(utc(2026, 11, 27, 9))
    )
    budget.spend(250)
    hold = budget.reserve(250)
    status = budget.status()
    assert status.day.fraction == 0.5
    assert status.month.fraction == 0.125
    assert status.day.tokens_remaining == 500
    assert budget.remaining() == 500
    text = str(status)
    assert "today: 250 / 1,000 tokens, 250 tokens reserved; resets 2026-11-28 00:00 CET" in text
    assert "this month: 250 / 4,000 tokens" in text
    hold.cancel()
    assert TokenBudget().remaining() is None  # no token limit: unlimited


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"daily_limit": -1}, "cannot be negative"),
        ({"tz": "Mars/Olympus"}, "IANA name"),
        ({"reservation_ttl": 0}, "reservation_ttl"),
        ({"now": lambda: datetime(2026, 5, 3)}, "aware datetime"),
    ],
)
def test_configuration_errors_say_what_to_do(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TokenBudget(**kwargs).status()  # type: ignore[arg-type]


def test_negative_counts_are_refused() -> None:
    budget = TokenBudget(daily_limit=10)
    with pytest.raises(ValueError, match="zero or more"):
        budget.spend(-1)
    with pytest.raises(ValueError, match="max_output"):
        budget.reserve(1, max_output=-5)


def test_docstring_examples_run() -> None:
    result = doctest.testmod(budget_module)
    assert result.attempted >= 4 and result.failed == 0
