"""One way to open the course's SQLite files: the budget, the usage log and the relay's store.

Several threads or processes often open the same new file at the same moment (a notebook and a
worker, eight threads of a benchmark). SQLite then answers ``database is locked`` in places its
busy handler does not cover: switching a file to WAL needs an exclusive lock, and so does the
first ``CREATE TABLE``. So, in this order:

1. the busy timeout is set first, on the connection itself, before any other statement;
2. WAL is switched on only when the file is not in WAL already (the mode is stored in the file,
   so every later opener just reads it and takes no exclusive lock);
3. each setup statement is retried with a short backoff while the file is locked, up to
   ``setup_deadline_s``, and then fails with a message that says what holds the file.

>>> db = connect(None)  # in memory
>>> run_setup(db, "CREATE TABLE t (x INTEGER)")
>>> db.execute("SELECT COUNT(*) FROM t").fetchone()
(0,)
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

__all__ = ["LOCKED_MESSAGES", "connect", "is_locked", "run_setup"]

# What SQLite says when another connection holds the lock it needs.
LOCKED_MESSAGES = ("database is locked", "database table is locked", "database is busy")
_T = TypeVar("_T")
DEFAULT_BUSY_TIMEOUT_S = 30.0
DEFAULT_SETUP_DEADLINE_S = 60.0


def is_locked(error: BaseException) -> bool:
    """``True`` for SQLite's "database is locked" family: worth waiting for, not a bug."""
    return isinstance(error, sqlite3.OperationalError) and any(
        message in str(error).lower() for message in LOCKED_MESSAGES
    )


def connect(
    path: str | Path | None,
    *,
    busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
    setup_deadline_s: float = DEFAULT_SETUP_DEADLINE_S,
    wal: bool = True,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> sqlite3.Connection:
    """A connection to ``path`` (``None``: in memory), shareable across threads behind a lock.

    ``isolation_level=None`` (autocommit: callers write ``BEGIN``/``COMMIT`` themselves) and
    ``check_same_thread=False`` (the stores guard their one connection with a lock). File-backed
    databases use WAL, so readers never block the writer, with ``synchronous=NORMAL``.
    """
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(
        ":memory:" if path is None else str(path),
        timeout=busy_timeout_s,
        isolation_level=None,
        check_same_thread=False,
    )
    try:
        # First of all, so every statement below waits for other connections instead of failing.
        db.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        if path is not None and wal:
            retry = _Retry(path, setup_deadline_s, sleep, clock)
            mode = retry.run(lambda: db.execute("PRAGMA journal_mode").fetchone()[0])
            if str(mode).lower() != "wal":
                retry.run(lambda: db.execute("PRAGMA journal_mode=WAL").fetchone())
            db.execute("PRAGMA synchronous=NORMAL")
    except BaseException:
        db.close()
        raise
    return db


def run_setup(
    db: sqlite3.Connection,
    script: str,
    *,
    setup_deadline_s: float = DEFAULT_SETUP_DEADLINE_S,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Run an idempotent schema script (``CREATE … IF NOT EXISTS``), retried while locked."""
    where = _database_name(db)
    _Retry(where, setup_deadline_s, sleep, clock).run(lambda: db.executescript(script))


class _Retry:
    """Retry one setup step while the file is locked: 5 ms, doubling to 200 ms, until a deadline."""

    def __init__(
        self,
        path: str | Path,
        deadline_s: float,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ) -> None:
        self.path = path
        self.deadline_s = deadline_s
        self.sleep = sleep
        self.clock = clock

    def run(self, step: Callable[[], _T]) -> _T:
        give_up = self.clock() + self.deadline_s
        delay = 0.005
        while True:
            try:
                return step()
            except sqlite3.OperationalError as error:
                if not is_locked(error):
                    raise
                if self.clock() >= give_up:
                    raise sqlite3.OperationalError(
                        f"{self.path} stayed locked for {self.deadline_s:g} s while it was being "
                        "set up: another program holds a write lock on it. Close that program "
                        "(or that notebook's connection), or use another file."
                    ) from error
            self.sleep(delay)
            delay = min(delay * 2, 0.2)


def _database_name(db: sqlite3.Connection) -> str:
    row = db.execute("PRAGMA database_list").fetchone()
    return str(row[2]) if row is not None and row[2] else ":memory:"
