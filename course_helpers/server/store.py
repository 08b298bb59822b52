"""The relay's exchange log: one SQLite row per relayed stream, written from its first moment.

A row's life, as its ``outcome`` says:

- ``in_progress``: written when the stream starts (before the browser gets ``start``), then
  brought up to date as deltas arrive (``text``, ``deltas``, and ``finished_at``, the time of
  the latest write), at least every second, so a crash keeps the text relayed until then;
- ``complete``: the provider finished and every delta was sent on;
- ``client_disconnected``: the browser went away half-way; ``text`` is what was relayed so far;
- ``provider_error``: the provider failed (before or mid-stream); ``text`` is the partial answer;
- ``relay_error``: a bug in the relay itself (the server log has the traceback);
- ``server_shutdown``: the server was stopped (SIGTERM, Ctrl+C, ``stop()``) mid-stream;
- ``interrupted``: the server died mid-stream (kill -9, a crash); ``text`` is its last flush.

``interrupted`` is set when a store opens the file and finds ``in_progress`` rows whose writer is
dead. Each writing process stamps its rows with an owner id and holds an OS lock for it
(:mod:`course_helpers.server.owners`), so opening the log to read it while a relay runs (a
notebook, a second tool) never touches that relay's live rows.

Writes that fail (the file locked by another program for longer than the busy timeout, a full
disk) are retried with backoff until ``write_deadline_s``, then raise :class:`ExchangeLogError`.

>>> store = ExchangeStore()
>>> store.write(ExchangeRecord(exchange_id="ab12", messages=[{"role": "user", "content": "Hi"}],
...                            text="Hello!", provider="openai", model="gpt-5.4-mini",
...                            outcome="complete"))
>>> [(row["prompt"], row["text"], row["outcome"]) for row in store.recent()]
[('Hi', 'Hello!', 'complete')]
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from course_helpers.server.owners import OwnerLock, is_alive, owners_dir
from course_helpers.sqlite_db import connect, run_setup

__all__ = [
    "ExchangeLogError",
    "ExchangeOutcome",
    "ExchangeRecord",
    "ExchangeStore",
    "utc_now",
]

ExchangeOutcome = Literal[
    "in_progress",
    "complete",
    "client_disconnected",
    "provider_error",
    "relay_error",
    "server_shutdown",
    "interrupted",
]
logger = logging.getLogger("course_helpers.server")
_T = TypeVar("_T")


class ExchangeLogError(RuntimeError):
    """The exchange could not be written to the log, even after retrying."""


def utc_now() -> str:
    """The current time as an ISO 8601 string in UTC, to the millisecond."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class ExchangeRecord:
    """One relayed exchange, as the log stores it.

    ``ttft_s`` and ``latency_s`` are measured at the relay, from the moment it asked the provider;
    token counts are the provider's and stay ``None`` when the stream did not finish (the provider
    only reports usage at the end).
    """

    exchange_id: str
    messages: list[dict[str, Any]]
    text: str
    provider: str
    model: str
    outcome: ExchangeOutcome
    error_class: str | None = None
    error_message: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    finish_reason: str | None = None
    deltas: int = 0
    ttft_s: float | None = None
    latency_s: float | None = None
    started_at: str = field(default_factory=utc_now)
    finished_at: str = field(default_factory=utc_now)

    @property
    def prompt(self) -> str:
        """The last user message's text: what a history list shows."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                content = message.get("content")
                return content if isinstance(content, str) else json.dumps(content)
        return ""


_COLUMNS = (*(f.name for f in fields(ExchangeRecord)), "prompt")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS exchanges (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    exchange_id TEXT NOT NULL UNIQUE,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    outcome TEXT NOT NULL,
    error_class TEXT,
    error_message TEXT,
    prompt TEXT NOT NULL,
    messages TEXT NOT NULL,
    text TEXT NOT NULL,
    deltas INTEGER NOT NULL,
    input_tokens INTEGER,
    output_tokens INTEGER,
    finish_reason TEXT,
    ttft_s REAL,
    latency_s REAL,
    owner TEXT
);
CREATE INDEX IF NOT EXISTS exchanges_in_progress ON exchanges (owner)
    WHERE outcome = 'in_progress';
"""
_INSERTED = (*_COLUMNS, "owner")
_INSERT = (
    f"INSERT INTO exchanges ({', '.join(_INSERTED)}) VALUES ({', '.join('?' for _ in _INSERTED)})"
)
# A final record always wins; it never changes who started the row, when, or for whom.
_UPSERT = (
    _INSERT
    + " ON CONFLICT(exchange_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c not in ("exchange_id", "started_at"))
)
# A progress flush only touches a row still in progress: it can never undo a final outcome.
_PROGRESS = (
    "UPDATE exchanges SET text = ?, deltas = ?, ttft_s = ?, latency_s = ?, finished_at = ? "
    "WHERE exchange_id = ? AND outcome = 'in_progress'"
)


class ExchangeStore:
    """The exchange log in SQLite; ``path=None`` keeps it in memory. Safe to share across threads.

    A file-backed store uses WAL mode, so ``sqlite3`` in a notebook (or ``GET /history``) can read
    it while the relay writes; reads use their own connection, so a write waiting for a lock never
    holds them up. The relay runs every call off the event loop (``asyncio.to_thread``).

    Args:
        path: the SQLite file; ``None`` keeps the log in memory (gone with the process).
        busy_timeout_s: how long one write waits for another program's lock before failing.
        write_deadline_s: how long a failed write is retried (with backoff) before
            :class:`ExchangeLogError`.
        sleep, clock: injected by tests; ``time.sleep`` and ``time.monotonic`` by default.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        busy_timeout_s: float = 2.0,
        write_deadline_s: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.write_deadline_s = write_deadline_s
        self.failed_writes = 0  # attempts that failed, retried or not: for tests and monitoring
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._db = connect(self.path, busy_timeout_s=busy_timeout_s)
        self._db.row_factory = sqlite3.Row
        self._owner: OwnerLock | None = None
        try:
            if self.path is None:
                run_setup(self._db, _SCHEMA)
                self._reader, self._read_lock = self._db, self._lock
            else:
                self._migrate()
                self._reader = connect(self.path, busy_timeout_s=busy_timeout_s)
                self._reader.row_factory = sqlite3.Row
                self._read_lock = threading.Lock()
        except BaseException:
            self._db.close()
            raise
        try:
            self.mark_interrupted()
        except ExchangeLogError as error:  # reading the log still works; the next opener retries
            logger.warning("%s", error)

    # ------------------------------------------------------------------ writing

    def write(self, record: ExchangeRecord) -> None:
        """Store one finished exchange; storing an ``exchange_id`` twice is ``IntegrityError``."""
        with self._lock:
            self._db.execute(_INSERT, _values(record, owner=None))

    def start(self, record: ExchangeRecord) -> None:
        """Write the row of a stream that is starting (``in_progress``), retried if need be."""
        owner = self._owner_id()
        self._retrying(
            record.exchange_id, lambda: self._db.execute(_INSERT, _values(record, owner))
        )

    def save(self, record: ExchangeRecord) -> None:
        """Write an exchange's final state (inserted, or over its ``in_progress`` row), retried."""
        self._retrying(record.exchange_id, lambda: self._db.execute(_UPSERT, _values(record, None)))

    def flush(self, records: Sequence[ExchangeRecord]) -> None:
        """One transaction for many exchanges: progress of live ones, final state of others.

        Tried once: the caller flushes again later. Raises ``sqlite3.Error`` when it failed.
        """
        if not records:
            return
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                for record in records:
                    if record.outcome == "in_progress":
                        self._db.execute(_PROGRESS, _progress(record))
                    else:
                        self._db.execute(_UPSERT, _values(record, None))
                self._db.execute("COMMIT")
            except sqlite3.Error:
                self.failed_writes += 1
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def mark_interrupted(self) -> int:
        """Turn ``in_progress`` rows whose writer is dead into ``interrupted``; how many."""
        if self.path is None:
            return 0
        folder = owners_dir(self.path)
        with self._lock:
            owners = [
                row[0]
                for row in self._db.execute(
                    "SELECT DISTINCT owner FROM exchanges WHERE outcome = 'in_progress'"
                )
            ]
        # Our own lock counts as alive too: is_alive opens the file anew, and flock sees it held.
        dead = [owner for owner in owners if owner is None or not is_alive(folder, owner)]
        if not dead:
            return 0

        def mark() -> int:
            count = 0
            for owner in dead:
                cursor = self._db.execute(
                    "UPDATE exchanges SET outcome = 'interrupted' "
                    "WHERE outcome = 'in_progress' AND owner IS ?",
                    (owner,),
                )
                count += cursor.rowcount
            return count

        count = self._retrying("interrupted rows", mark)
        logger.warning(
            "%d exchange(s) in %s were left in progress by a server that stopped without "
            "finishing them (killed or crashed): marked 'interrupted' with their last saved text.",
            count,
            self.path,
        )
        return count

    # ------------------------------------------------------------------ reading

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        """The last ``limit`` exchanges logged, newest first, as JSON-ready dicts."""
        with self._read_lock:
            rows = self._reader.execute(
                "SELECT * FROM exchanges ORDER BY seq DESC LIMIT ?", (limit,)
            ).fetchall()
        return [_as_dict(row) for row in rows]

    def get(self, exchange_id: str) -> dict[str, Any] | None:
        """One exchange by its id, or ``None`` if it is not logged."""
        with self._read_lock:
            row = self._reader.execute(
                "SELECT * FROM exchanges WHERE exchange_id = ?", (exchange_id,)
            ).fetchone()
        return _as_dict(row) if row is not None else None

    def __len__(self) -> int:
        with self._read_lock:
            (count,) = self._reader.execute("SELECT COUNT(*) FROM exchanges").fetchone()
        return int(count)

    def close(self) -> None:
        """Close the database connections and give up this process's claim on its live rows."""
        with self._lock, self._read_lock:
            if self._reader is not self._db:
                self._reader.close()
            self._db.close()
        if self._owner is not None:
            self._owner.release()

    def __repr__(self) -> str:
        return f"ExchangeStore({str(self.path) if self.path else ':memory:'!r})"

    # ------------------------------------------------------------------ internals

    def _migrate(self) -> None:
        """Create the table, or add the ``owner`` column to a log written by an older relay."""
        script = _SCHEMA.split(";")[0]  # the table first: the index needs the owner column
        run_setup(self._db, script)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(exchanges)")}
        if "owner" not in columns:
            try:
                run_setup(self._db, "ALTER TABLE exchanges ADD COLUMN owner TEXT")
            except sqlite3.OperationalError as error:
                if "duplicate column" not in str(error):  # another process just added it
                    raise
        run_setup(self._db, _SCHEMA)

    def _owner_id(self) -> str | None:
        """This process's owner id for the rows it starts (taken on the first start)."""
        if self.path is None:
            return None
        with self._lock:
            if self._owner is None:
                try:
                    self._owner = OwnerLock.acquire(owners_dir(self.path))
                except OSError as error:
                    logger.warning(
                        "Cannot hold a lock file in %s (%s): if this relay dies, its unfinished "
                        "rows stay 'in_progress' until another relay opens the log.",
                        owners_dir(self.path),
                        error,
                    )
                    return None
            return self._owner.owner_id

    def _retrying(self, what: str, step: Callable[[], _T]) -> _T:
        """Run one write under the lock, retried with backoff while SQLite fails, to a deadline."""
        give_up = self._clock() + self.write_deadline_s
        delay = 0.05
        while True:
            try:
                with self._lock:
                    return step()
            except sqlite3.OperationalError as error:
                self.failed_writes += 1
                if self._clock() + delay > give_up:
                    raise ExchangeLogError(
                        f"Could not log {what} in {self}: {error} (still failing after "
                        f"{self.write_deadline_s:g} s of retries). If another program holds the "
                        "file (a notebook with an open transaction, a DB browser), close it; "
                        "if the disk is full, free some space."
                    ) from error
                logger.warning("logging %s failed (%s); retrying in %.2f s", what, error, delay)
            except sqlite3.Error as error:  # not a passing condition: retrying would not help
                self.failed_writes += 1
                raise ExchangeLogError(f"Could not log {what} in {self}: {error}") from error
            self._sleep(delay)
            delay = min(delay * 2, 1.0)


def _values(record: ExchangeRecord, owner: str | None) -> list[Any]:
    values = asdict(record)
    values["messages"] = json.dumps(record.messages, ensure_ascii=False)
    values["prompt"] = record.prompt
    values["owner"] = owner
    return [values[name] for name in _INSERTED]


def _progress(record: ExchangeRecord) -> tuple[Any, ...]:
    return (
        record.text,
        record.deltas,
        record.ttft_s,
        record.latency_s,
        record.finished_at,
        record.exchange_id,
    )


def _as_dict(row: sqlite3.Row) -> dict[str, Any]:
    entry = dict(row)
    del entry["seq"]
    entry.pop("owner", None)  # which process wrote it: the store's business, not the reader's
    entry["messages"] = json.loads(entry["messages"])
    return entry
