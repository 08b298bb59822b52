"""What every LLM call cost and how it went: structured logging and a SQLite usage log.

Two views of the same calls:

- **Logging.** ``LLMClient`` logs one line per call on the ``course_helpers.llm`` logger: our
  request id, the provider's request id, provider, model, tokens, latency, outcome and error class.
  Message contents and API keys are never logged. ``configure_logging(json=True)`` prints those
  lines as JSON, one object per line, ready for a log shipper.
- **The usage log.** ``UsageLog`` keeps one row per call in SQLite (in memory, or in a file that
  survives a kernel restart) and ``summary()`` totals it per provider and model.

>>> log = UsageLog()
>>> log.record(UsageRecord(request_id="a1", provider="openai", model="gpt-4o-mini",
...                        input_tokens=10, output_tokens=5, cost_usd=0.0001, latency_s=0.2))
>>> [(row["model"], row["calls"], row["tokens"]) for row in log.summary()]
[('gpt-4o-mini', 1, 15)]
"""

from __future__ import annotations

import html
import json as jsonlib
import logging
import math
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

from course_helpers.sqlite_db import connect, run_setup

__all__ = [
    "LOGGER_NAME",
    "JsonFormatter",
    "Outcome",
    "UsageLog",
    "UsageRecord",
    "UsageSummary",
    "configure_logging",
    "get_logger",
    "new_request_id",
]

LOGGER_NAME = "course_helpers.llm"

Outcome = Literal["ok", "error", "fallback"]
"""``ok``: answered; ``error``: failed and raised; ``fallback``: failed, then the next model ran."""

# Fields a call's log record carries (as ``extra=``), in the order the JSON line shows them.
CALL_FIELDS = (
    "request_id",
    "provider_request_id",
    "provider",
    "model",
    "outcome",
    "error_class",
    "status",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "latency_s",
    "time_to_first_token_s",
    "attempts",
    "stream",
    "overspend_tokens",
    "overspend_usd",
)


# A library stays quiet until the application configures logging (configure_logging() does).
logging.getLogger(LOGGER_NAME).addHandler(logging.NullHandler())


def new_request_id() -> str:
    """A short random id for one call (12 hex digits), shown in logs and the usage log."""
    return secrets.token_hex(6)


def get_logger() -> logging.Logger:
    """The logger ``LLMClient`` writes its one-line-per-call records to."""
    return logging.getLogger(LOGGER_NAME)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object: time, level, logger, message and the call's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CALL_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                entry[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__
        return jsonlib.dumps(entry, default=str)


class _CourseHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler ``configure_logging`` installed, so calling it again replaces it."""


def configure_logging(
    json: bool = False, level: int | str = logging.INFO, *, stream: IO[str] | None = None
) -> logging.Logger:
    """Show ``LLMClient``'s call log on ``stream`` (default stderr), as plain text or JSON lines.

    Calling it again replaces the previous configuration instead of adding a second handler.
    """
    logger = get_logger()
    for handler in [h for h in logger.handlers if isinstance(h, _CourseHandler)]:
        logger.removeHandler(handler)
    handler = _CourseHandler(stream)
    handler.setFormatter(
        JsonFormatter() if json else logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    )
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return logger


@dataclass(frozen=True)
class UsageRecord:
    """One call, as the usage log stores it."""

    request_id: str
    provider: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    latency_s: float = 0.0
    outcome: Outcome = "ok"
    error_class: str | None = None
    attempts: int = 1
    provider_request_id: str | None = None
    time: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="milliseconds"))
    # What this call put past a budget limit (``Overspend.tokens``/``.usd`` from its settle).
    overspend_tokens: int = 0
    overspend_usd: float = 0.0


_COLUMNS = tuple(f.name for f in fields(UsageRecord))
_SCHEMA = """
CREATE TABLE IF NOT EXISTS usage (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    request_id TEXT NOT NULL,
    provider_request_id TEXT,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cost_usd REAL,
    latency_s REAL NOT NULL,
    outcome TEXT NOT NULL,
    error_class TEXT,
    attempts INTEGER NOT NULL,
    overspend_tokens INTEGER NOT NULL DEFAULT 0,
    overspend_usd REAL NOT NULL DEFAULT 0
)
"""
# Columns added after the first release: a log file written before them gains them on open.
_ADDED_COLUMNS = {
    "overspend_tokens": "INTEGER NOT NULL DEFAULT 0",
    "overspend_usd": "REAL NOT NULL DEFAULT 0",
}


class UsageSummary(list[dict[str, Any]]):
    """Per provider/model totals: a list of dicts that also renders as a table in a notebook."""

    COLUMNS = (
        "provider",
        "model",
        "calls",
        "errors",
        "input_tokens",
        "output_tokens",
        "tokens",
        "cost_usd",
        "p50_latency_s",
        "p95_latency_s",
    )
    # Shown only when a call overspent the budget, so the usual table stays as it was.
    OVERSPEND_COLUMNS = ("overspend_tokens", "overspend_usd")

    @property
    def columns(self) -> tuple[str, ...]:
        """The table's columns: ``COLUMNS``, plus the overspend ones when there is any."""
        overspent = any(r.get(c) for r in self for c in self.OVERSPEND_COLUMNS)
        return self.COLUMNS + self.OVERSPEND_COLUMNS if overspent else self.COLUMNS

    @staticmethod
    def _cell(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:.6f}" if value < 0.01 else f"{value:.3f}"
        return str(value)

    def to_text(self) -> str:
        """A plain-text table, one line per provider/model."""
        columns = self.columns
        rows = [list(columns)] + [[self._cell(r[c]) for c in columns] for r in self]
        widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
        lines = ("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in rows)
        return "\n".join(line.rstrip() for line in lines)

    def _repr_html_(self) -> str:
        columns = self.columns
        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(self._cell(r[c]))}</td>" for c in columns)
            for r in self
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) of ``values`` by linear interpolation; ``None`` if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


class UsageLog:
    """One SQLite row per LLM call; ``path=None`` keeps it in memory. Safe to share across threads.

    A file-backed log uses WAL mode, so a notebook can read it while another process writes.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._lock = threading.Lock()
        # Busy timeout first, WAL only when not on yet, setup retried while another opener holds
        # the file: see course_helpers.sqlite_db.
        self._db = connect(self.path)
        run_setup(self._db, _SCHEMA)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """Bring a log written by an older version up to date (``ALTER TABLE ... ADD COLUMN``)."""
        present = {row[1] for row in self._db.execute("PRAGMA table_info(usage)")}
        for name, declaration in _ADDED_COLUMNS.items():
            if name in present:
                continue
            try:
                run_setup(self._db, f"ALTER TABLE usage ADD COLUMN {name} {declaration}")
            except sqlite3.OperationalError as error:
                if "duplicate column" not in str(error):  # another process added it first
                    raise

    def record(self, entry: UsageRecord) -> None:
        """Append one call."""
        values = asdict(entry)
        placeholders = ", ".join("?" for _ in _COLUMNS)
        sql = f"INSERT INTO usage ({', '.join(_COLUMNS)}) VALUES ({placeholders})"
        with self._lock:
            self._db.execute(sql, [values[c] for c in _COLUMNS])

    def rows(self) -> list[UsageRecord]:
        """Every call, oldest first."""
        with self._lock:
            cursor = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM usage ORDER BY id")
            found = cursor.fetchall()
        return [UsageRecord(**dict(zip(_COLUMNS, row, strict=True))) for row in found]

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM usage").fetchone()
        return int(count)

    def summary(self) -> UsageSummary:
        """Totals per provider and model: calls, errors, tokens, cost and p50/p95 latency.

        ``errors`` counts every call that did not answer (outcome ``error`` or ``fallback``);
        latency percentiles are over every call, failed ones included.
        """
        groups: dict[tuple[str, str], list[UsageRecord]] = {}
        for row in self.rows():
            groups.setdefault((row.provider, row.model), []).append(row)
        return UsageSummary(self._totals(p, m, rows) for (p, m), rows in sorted(groups.items()))

    @staticmethod
    def _totals(provider: str, model: str, rows: Iterable[UsageRecord]) -> dict[str, Any]:
        rows = list(rows)
        costs = [r.cost_usd for r in rows if r.cost_usd is not None]
        latencies = [r.latency_s for r in rows]
        input_tokens = sum(r.input_tokens for r in rows)
        output_tokens = sum(r.output_tokens for r in rows)
        overspend_usd = sum(r.overspend_usd for r in rows)
        return {
            "provider": provider,
            "model": model,
            "calls": len(rows),
            "errors": sum(r.outcome != "ok" for r in rows),
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "tokens": input_tokens + output_tokens,
            "cost_usd": sum(costs) if costs else None,
            "p50_latency_s": percentile(latencies, 50),
            "p95_latency_s": percentile(latencies, 95),
            "overspend_tokens": sum(r.overspend_tokens for r in rows),
            "overspend_usd": overspend_usd if overspend_usd else None,
        }

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def __repr__(self) -> str:
        return f"UsageLog({str(self.path) if self.path else ':memory:'!r}, calls={len(self)})"
