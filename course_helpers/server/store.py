"""The relay's exchange log: one SQLite row per relayed stream, finished or not.

A row is written once per exchange, when its outcome is known:

- ``complete``: the provider finished and every delta was sent on;
- ``client_disconnected``: the browser went away half-way; ``text`` is what was relayed so far;
- ``provider_error``: the provider failed (before or mid-stream); ``text`` is the partial answer;
- ``relay_error``: a bug in the relay itself (the server log has the traceback).

>>> store = ExchangeStore()
>>> store.write(ExchangeRecord(exchange_id="ab12", messages=[{"role": "user", "content": "Hi"}],
...                            text="Hello!", provider="openai", model="gpt-5.4-mini",
...                            outcome="complete"))
>>> [(row["prompt"], row["text"], row["outcome"]) for row in store.recent()]
[('Hi', 'Hello!', 'complete')]
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

__all__ = ["ExchangeOutcome", "ExchangeRecord", "ExchangeStore", "utc_now"]

ExchangeOutcome = Literal["complete", "client_disconnected", "provider_error", "relay_error"]


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


_COLUMNS = tuple(f.name for f in fields(ExchangeRecord))
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
    latency_s REAL
)
"""


class ExchangeStore:
    """The exchange log in SQLite; ``path=None`` keeps it in memory. Safe to share across threads.

    A file-backed store uses WAL mode, so ``sqlite3`` in a notebook (or ``GET /history``) can read
    it while the relay writes. Writes are single short INSERTs; the relay runs them off the event
    loop with ``asyncio.to_thread``.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        target = str(self.path) if self.path is not None else ":memory:"
        self._lock = threading.Lock()
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        if self.path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute(_SCHEMA)

    def write(self, record: ExchangeRecord) -> None:
        """Store one exchange; storing an ``exchange_id`` twice is an ``sqlite3.IntegrityError``."""
        values = asdict(record)
        values["messages"] = json.dumps(record.messages, ensure_ascii=False)
        values["prompt"] = record.prompt
        names = (*_COLUMNS, "prompt")
        sql = f"INSERT INTO exchanges ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
        with self._lock:
            self._db.execute(sql, [values[name] for name in names])

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        """The last ``limit`` exchanges logged, newest first, as JSON-ready dicts."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM exchanges ORDER BY seq DESC LIMIT ?", (limit,)
            ).fetchall()
        return [_as_dict(row) for row in rows]

    def get(self, exchange_id: str) -> dict[str, Any] | None:
        """One exchange by its id, or ``None`` if it is not logged (yet)."""
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM exchanges WHERE exchange_id = ?", (exchange_id,)
            ).fetchone()
        return _as_dict(row) if row is not None else None

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM exchanges").fetchone()
        return int(count)

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def __repr__(self) -> str:
        return f"ExchangeStore({str(self.path) if self.path else ':memory:'!r})"


def _as_dict(row: sqlite3.Row) -> dict[str, Any]:
    entry = dict(row)
    del entry["seq"]
    entry["messages"] = json.loads(entry["messages"])
    return entry
