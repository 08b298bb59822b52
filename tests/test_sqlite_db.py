"""The shared SQLite opener: concurrent first opens, the locked-setup retry, WAL, in memory."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from support import ManualClock

from course_helpers import sqlite_db
from course_helpers.budget import TokenBudget
from course_helpers.sqlite_db import connect, is_locked, run_setup
from course_helpers.usage import UsageLog

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS items_name ON items (name);
"""
THREADS = 8
STORES: list[Callable[[Path], Any]] = [
    lambda path: TokenBudget(daily_limit=1_000, path=path),
    lambda path: UsageLog(path),
]


def open_at_once(opener: Callable[[], Any], threads: int = THREADS) -> list[BaseException]:
    """Run ``opener`` in ``threads`` threads released together; return what they raised."""
    start = threading.Barrier(threads, timeout=30)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            start.wait()
            opened = opener()
            opened.close()
        except BaseException as error:
            start.abort()  # the others stop waiting instead of hanging
            with lock:
                errors.append(error)

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(60)
    hung = [thread for thread in workers if thread.is_alive()]
    assert not hung, f"{len(hung)} of {threads} threads still running after 60 s"
    return errors


def open_with_schema(path: Path) -> sqlite3.Connection:
    db = connect(path)
    run_setup(db, SCHEMA)
    return db


# -- many threads opening one new file -----------------------------------------------------------


def test_eight_threads_opening_one_new_file_never_fail(tmp_path: Path) -> None:
    # The stores' old opening (journal_mode=WAL set unconditionally, no retry) failed this with
    # "database is locked" in 1-7 of 150 tries.
    for attempt in range(100):
        path = tmp_path / f"new-{attempt}.sqlite"
        errors = open_at_once(lambda path=path: open_with_schema(path))  # type: ignore[misc]
        assert errors == [], f"attempt {attempt}: {errors!r}"
        with connect(path) as db:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert db.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 0


@pytest.mark.parametrize("opener", STORES, ids=["budget", "usage_log"])
def test_the_budget_and_the_usage_log_open_a_new_file_from_eight_threads(
    tmp_path: Path, opener: Callable[[Path], Any]
) -> None:
    for attempt in range(50):
        path = tmp_path / f"store-{attempt}.sqlite"
        errors = open_at_once(lambda path=path: opener(path))  # type: ignore[misc]
        assert errors == [], f"attempt {attempt}: {errors!r}"


# -- the retry while locked ----------------------------------------------------------------------


@contextmanager
def write_lock_held(path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holding the write lock on ``path`` until the block ends."""
    holder = connect(path)
    run_setup(holder, SCHEMA)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield holder
    finally:
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()


def test_setup_gives_up_after_its_deadline_with_a_message_that_says_what_to_do(
    tmp_path: Path,
) -> None:
    path = tmp_path / "held.sqlite"
    clock = ManualClock()
    with write_lock_held(path):
        db = connect(path, busy_timeout_s=0)  # the lock is met at once: no real waiting
        with pytest.raises(sqlite3.OperationalError) as caught:
            run_setup(
                db,
                "CREATE TABLE IF NOT EXISTS more (x INTEGER)",
                setup_deadline_s=2.0,
                sleep=clock.sleep,
                clock=clock,
            )
        db.close()
    message = str(caught.value)
    assert str(path) in message
    assert "stayed locked for 2 s" in message and "Close that program" in message
    assert is_locked(caught.value.__cause__)  # type: ignore[arg-type]
    # Backoff from 5 ms doubling to 200 ms, and it kept trying until the deadline, not past it.
    assert clock.slept[:3] == [0.005, 0.01, 0.02] and max(clock.slept) == 0.2
    assert sum(clock.slept[:-1]) < 2.0 <= sum(clock.slept)


def test_setup_waits_for_the_lock_and_then_succeeds(tmp_path: Path) -> None:
    path = tmp_path / "held.sqlite"
    clock = ManualClock()
    with write_lock_held(path) as holder:
        clock.on_sleep = lambda count: holder.execute("ROLLBACK") if count == 3 else None
        db = connect(path, busy_timeout_s=0)
        run_setup(
            db,
            "CREATE TABLE IF NOT EXISTS more (x INTEGER)",
            setup_deadline_s=60.0,
            sleep=clock.sleep,
            clock=clock,
        )
        assert len(clock.slept) == 3  # locked three times, then through
        assert db.execute("SELECT COUNT(*) FROM more").fetchone() == (0,)
        db.close()


def test_switching_to_wal_is_retried_and_gives_up_clearly(tmp_path: Path) -> None:
    path = tmp_path / "rollback-journal.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")  # a file in the default (rollback) journal mode
    holder.execute("BEGIN EXCLUSIVE")
    clock = ManualClock()
    try:
        with pytest.raises(sqlite3.OperationalError, match="stayed locked for 1 s"):
            connect(path, busy_timeout_s=0, setup_deadline_s=1.0, sleep=clock.sleep, clock=clock)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert clock.slept  # it retried before giving up


def test_other_errors_are_not_retried(tmp_path: Path, clock: ManualClock) -> None:
    db = connect(tmp_path / "x.sqlite", sleep=clock.sleep, clock=clock)
    with pytest.raises(sqlite3.OperationalError, match="syntax error"):
        run_setup(db, "CREATE TABLE (", sleep=clock.sleep, clock=clock)
    assert clock.slept == []
    db.close()


# -- WAL and the busy timeout --------------------------------------------------------------------


def traced_opens(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record the statements each connection ``connect`` opens runs, from its first one."""
    opened: list[list[str]] = []
    real_connect = sqlite3.connect

    def tracing_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        db = real_connect(*args, **kwargs)
        statements: list[str] = []
        db.set_trace_callback(statements.append)
        opened.append(statements)
        return db

    monkeypatch.setattr(sqlite_db.sqlite3, "connect", tracing_connect)
    return opened


def test_wal_is_switched_on_once_and_the_busy_timeout_comes_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = traced_opens(monkeypatch)
    path = tmp_path / "wal.sqlite"
    connect(path).close()
    connect(path).close()
    first, second = opened
    assert first[0].startswith("PRAGMA busy_timeout=")
    assert second[0].startswith("PRAGMA busy_timeout=")
    assert "PRAGMA journal_mode=WAL" in first
    assert "PRAGMA journal_mode=WAL" not in second  # already WAL: no exclusive lock needed
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize("opener", STORES, ids=["budget", "usage_log"])
def test_the_budget_and_the_usage_log_open_through_the_helper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opener: Callable[[Path], Any]
) -> None:
    opened = traced_opens(monkeypatch)
    path = tmp_path / "store.sqlite"
    opener(path).close()
    opener(path).close()
    first, second = opened
    assert first[0].startswith("PRAGMA busy_timeout=") and "PRAGMA journal_mode=WAL" in first
    assert second[0].startswith("PRAGMA busy_timeout=")
    assert "PRAGMA journal_mode=WAL" not in second


def test_in_memory_databases_work_and_are_separate(tmp_path: Path) -> None:
    first, second = connect(None), connect(None)
    run_setup(first, SCHEMA)
    first.execute("INSERT INTO items (name) VALUES ('a')")
    assert first.execute("SELECT name FROM items").fetchall() == [("a",)]
    assert first.execute("PRAGMA journal_mode").fetchone()[0] == "memory"
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        second.execute("SELECT * FROM items")
    first.close()
    second.close()


def test_is_locked_tells_lock_errors_from_others() -> None:
    assert is_locked(sqlite3.OperationalError("database is locked"))
    assert is_locked(sqlite3.OperationalError("database table is locked: items"))
    assert not is_locked(sqlite3.OperationalError("no such table: items"))
    assert not is_locked(ValueError("database is locked"))
