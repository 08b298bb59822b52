"""The usage log (SQLite) and the structured call log."""

from __future__ import annotations

import io
import json
import logging
import sqlite3
import threading
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from course_helpers import usage as usage_module
from course_helpers.usage import (
    LOGGER_NAME,
    JsonFormatter,
    UsageLog,
    UsageRecord,
    UsageSummary,
    configure_logging,
    get_logger,
    new_request_id,
    percentile,
)


def record(model: str = "gpt-4o-mini", provider: str = "openai", **fields: object) -> UsageRecord:
    values: dict[str, object] = {
        "request_id": new_request_id(),
        "provider": provider,
        "model": model,
        "input_tokens": 10,
        "output_tokens": 5,
        "cost_usd": 0.001,
        "latency_s": 0.5,
    }
    values.update(fields)
    return UsageRecord(**values)  # type: ignore[arg-type]


def test_rows_round_trip_with_every_column() -> None:
    log = UsageLog()
    entry = record(
        outcome="fallback",
        error_class="ServerError",
        attempts=3,
        provider_request_id="req_123",
        cost_usd=None,
    )
    log.record(entry)
    assert log.rows() == [entry]
    assert len(log) == 1
    assert entry.time.endswith("+00:00")  # UTC ISO


def test_summary_totals_per_provider_and_model() -> None:
    log = UsageLog()
    for latency in (0.1, 0.2, 0.3, 0.4, 1.0):
        log.record(record(latency_s=latency, input_tokens=100, output_tokens=20, cost_usd=0.01))
    log.record(
        record(
            outcome="error",
            error_class="RateLimitError",
            input_tokens=0,
            output_tokens=0,
            cost_usd=None,
            latency_s=0.2,
        )
    )
    log.record(record(model="claude-haiku-5-5", provider="anthropic", cost_usd=None))

    anthropic, openai = log.summary()
    assert (anthropic["provider"], anthropic["calls"], anthropic["cost_usd"]) == (
        "anthropic",
        1,
        None,
    )
    assert openai["calls"] == 6 and openai["errors"] == 1
    assert (openai["input_tokens"], openai["output_tokens"], openai["tokens"]) == (500, 100, 600)
    assert openai["cost_usd"] == pytest.approx(0.05)
    assert openai["p50_latency_s"] == pytest.approx(0.25)
    assert openai["p95_latency_s"] == pytest.approx(percentile([0.1, 0.2, 0.2, 0.3, 0.4, 1.0], 95))


def test_summary_renders_as_text_and_html() -> None:
    log = UsageLog()
    log.record(record(model="<b>odd</b>"))
    summary = log.summary()
    text = summary.to_text()
    assert text.splitlines()[0].split() == list(summary.COLUMNS)
    assert "<b>odd</b>" in text.splitlines()[1]
    html = summary._repr_html_()
    assert html.startswith("<table>") and "&lt;b&gt;odd&lt;/b&gt;" in html and "<b>odd" not in html
    assert UsageLog().summary() == [] and UsageLog().summary().to_text().split() == list(
        summary.COLUMNS
    )


def test_percentile_interpolates() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0], 95) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([4.0, 1.0, 3.0, 2.0], 100) == 4.0


def test_a_file_log_persists_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "usage.sqlite"
    first = UsageLog(path)
    first.record(record())
    first.close()
    second = UsageLog(path)
    second.record(record())
    assert len(second) == 2
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert "calls=2" in repr(second)


def test_concurrent_writers_lose_nothing() -> None:
    log = UsageLog()

    def write() -> None:
        for _ in range(50):
            log.record(record())

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(log) == 400 and log.summary()[0]["calls"] == 400


def test_request_ids_are_short_and_unique() -> None:
    ids = {new_request_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(len(i) == 12 and int(i, 16) >= 0 for i in ids)


def test_json_formatter_writes_the_call_fields() -> None:
    logger = logging.getLogger("test_usage.json")
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.propagate = False
    logger.warning(
        "llm call error",
        extra={
            "request_id": "abc",
            "provider": "openai",
            "status": 429,
            "error_class": "RateLimitError",
            "unrelated": "x",
        },
    )
    line = json.loads(buffer.getvalue())
    assert line["message"] == "llm call error" and line["level"] == "WARNING"
    assert (line["request_id"], line["status"], line["error_class"]) == (
        "abc",
        429,
        "RateLimitError",
    )
    assert "unrelated" not in line and "provider_request_id" not in line  # only known, set fields
    assert line["time"].endswith("+00:00")


def test_configure_logging_replaces_its_handler(capsys: pytest.CaptureFixture[str]) -> None:
    logger = get_logger()
    before = list(logger.handlers)
    try:
        configure_logging()
        configure_logging(json=True, level="DEBUG")
        ours = [h for h in logger.handlers if h not in before]
        assert len(ours) == 1 and isinstance(ours[0].formatter, JsonFormatter)
        assert logger.name == LOGGER_NAME and logger.level == logging.DEBUG
        logger.info("hello", extra={"model": "m"})
        assert json.loads(capsys.readouterr().err)["model"] == "m"
    finally:
        for handler in [h for h in logger.handlers if h not in before]:
            logger.removeHandler(handler)
        logger.propagate = True
        logger.setLevel(logging.NOTSET)


def test_configure_logging_writes_to_the_given_stream() -> None:
    import io
    import json as jsonlib

    from course_helpers.usage import configure_logging, get_logger

    lines = io.StringIO()
    configure_logging(json=True, stream=lines)
    try:
        get_logger().info("call finished", extra={"provider": "openai"})
        record = jsonlib.loads(lines.getvalue().splitlines()[-1])
        assert record["message"] == "call finished" and record["provider"] == "openai"
    finally:  # leave the logger as the other tests expect it: no course handler
        logger = get_logger()
        for handler in [h for h in logger.handlers if type(h).__name__ == "_CourseHandler"]:
            logger.removeHandler(handler)


# -- overspend and older log files ---------------------------------------------------------------

OLD_SCHEMA = """
CREATE TABLE usage (
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
    attempts INTEGER NOT NULL
)
"""


def old_log_file(path: Path) -> None:
    """A usage log as the version before overspend columns wrote it, with one call."""
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(OLD_SCHEMA)
        db.execute(
            "INSERT INTO usage (time, request_id, provider, model, input_tokens, output_tokens,"
            " cost_usd, latency_s, outcome, attempts)"
            " VALUES ('2026-05-03T08:00:00.000+00:00', 'old1', 'openai', 'gpt-4o-mini', 10, 5,"
            " 0.001, 0.5, 'ok', 1)"
        )


def test_an_overspend_is_recorded_per_call_and_totalled() -> None:
    log = UsageLog()
    over = record(input_tokens=1_000, output_tokens=500, overspend_tokens=500, overspend_usd=0.02)
    log.record(record())
    log.record(over)
    assert log.rows()[-1] == over
    assert log.rows()[0].overspend_tokens == 0 and log.rows()[0].overspend_usd == 0.0
    (row,) = log.summary()
    assert (row["overspend_tokens"], row["overspend_usd"]) == (500, pytest.approx(0.02))
    header = log.summary().to_text().splitlines()[0].split()
    assert header[-2:] == ["overspend_tokens", "overspend_usd"]
    assert "<th>overspend_tokens</th>" in log.summary()._repr_html_()


def test_without_overspend_the_summary_table_is_unchanged() -> None:
    log = UsageLog()
    log.record(record())
    (row,) = log.summary()
    assert (row["overspend_tokens"], row["overspend_usd"]) == (0, None)
    assert log.summary().to_text().splitlines()[0].split() == list(UsageSummary.COLUMNS)
    assert "overspend" not in log.summary()._repr_html_()


def test_a_log_file_from_before_the_overspend_columns_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite"
    old_log_file(path)
    log = UsageLog(path)
    (old,) = log.rows()
    assert (old.request_id, old.overspend_tokens, old.overspend_usd) == ("old1", 0, 0.0)
    log.record(record(overspend_tokens=7))
    assert [r.overspend_tokens for r in log.rows()] == [0, 7]
    log.close()
    assert len(UsageLog(path)) == 2  # opening it again adds nothing twice


def test_the_migration_tolerates_another_process_adding_the_column_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "usage.sqlite"
    old_log_file(path)
    real_run_setup = usage_module.run_setup

    def racing_run_setup(db: sqlite3.Connection, script: str, **options: Any) -> None:
        if script.startswith("ALTER TABLE"):  # another process gets there just before us
            with closing(sqlite3.connect(path)) as other:
                other.execute(script)
        real_run_setup(db, script, **options)

    monkeypatch.setattr(usage_module, "run_setup", racing_run_setup)
    log = UsageLog(path)
    log.record(record(overspend_tokens=3, overspend_usd=0.5))
    assert [(r.overspend_tokens, r.overspend_usd) for r in log.rows()] == [(0, 0.0), (3, 0.5)]
