"""The relay never loses an exchange it started: a locked log, SIGTERM, stop(), kill -9.

Each test checks the same promise: every exchange a client saw start has exactly one row, with
the right outcome and the text the client received (after kill -9: a prefix of it, at least as
long as what was already flushed before the kill). Waiting is always for an event (the client
has N deltas, a row shows text, a log line says a write failed), each with a timeout.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import queue
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx2
import pytest
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI

from course_helpers.client import LLMClient
from course_helpers.fake import FakeProvider
from course_helpers.retry import RetryPolicy
from course_helpers.server import ExchangeRecord, ExchangeStore, create_app, serve_in_thread
from course_helpers.server.store import ExchangeLogError

ROOT = Path(__file__).resolve().parents[1]
LONG_PROMPT = "Write a very long essay about databases, in twenty paragraphs"
TIMEOUT = 60.0  # generous: the box may be busy; every wait ends as soon as its event happens


def relay_client() -> LLMClient:
    return LLMClient(
        "openai",
        openai_client=AsyncOpenAI(api_key="sk-test-durability"),
        anthropic_client=AsyncAnthropic(api_key="sk-ant-test-durability"),
        retry=RetryPolicy(max_attempts=1, deadline=None),
    )


# ----------------------------------------------------------------------------- clients


@dataclass
class Seen:
    """What one client received of its ``POST /chat``."""

    exchange_id: str | None = None
    events: list[str] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    ended: bool = False

    @property
    def text(self) -> str:
        return "".join(self.parts)


class Streams:
    """``len(bodies)`` concurrent streams, read by an event loop in a background thread."""

    def __init__(self, base_url: str, bodies: list[dict[str, Any]]) -> None:
        self.seen = [Seen() for _ in bodies]
        self._changed = threading.Condition()
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._run(base_url, bodies),), daemon=True
        )
        self._thread.start()

    def wait_until(self, what: str, predicate: Callable[[list[Seen]], bool]) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self.seen), TIMEOUT):
                raise AssertionError(f"timed out waiting until {what}: {self.summary()}")

    def wait_for_deltas(self, count: int) -> None:
        self.wait_until(
            f"every client has {count} deltas",
            lambda seen: all(len(s.parts) >= count for s in seen),
        )

    def join(self) -> None:
        self.wait_until("every stream has ended", lambda seen: all(s.ended for s in seen))
        self._thread.join(TIMEOUT)

    def summary(self) -> str:
        return str([(s.exchange_id, len(s.parts), s.events[-1:], s.ended) for s in self.seen])

    async def _run(self, base_url: str, bodies: list[dict[str, Any]]) -> None:
        limits = httpx2.Limits(max_connections=len(bodies) + 5)
        async with httpx2.AsyncClient(base_url=base_url, timeout=TIMEOUT, limits=limits) as client:
            await asyncio.gather(
                *(self._one(client, b, s) for b, s in zip(bodies, self.seen, strict=True))
            )

    async def _one(self, client: httpx2.AsyncClient, body: dict[str, Any], seen: Seen) -> None:
        name = "message"
        try:
            async with client.stream("POST", "/chat", json=body) as response:
                async for line in response.aiter_lines():
                    if line.startswith("event: "):
                        name = line.removeprefix("event: ")
                    elif line.startswith("data: "):
                        data = json.loads(line.removeprefix("data: "))
                        with self._changed:
                            seen.events.append(name)
                            if name == "start":
                                seen.exchange_id = data["exchange_id"]
                            elif name == "delta":
                                seen.parts.append(data["text"])
                            self._changed.notify_all()
        except httpx2.HTTPError:
            pass  # the server went away: what was received until then is what counts
        finally:
            with self._changed:
                seen.ended = True
                self._changed.notify_all()


# ----------------------------------------------------------------------------- helpers


def rows(db: Path) -> dict[str, dict[str, Any]]:
    """Every row of the log, read with a plain sqlite3 connection, by exchange id."""
    with sqlite3.connect(db) as reader:
        reader.row_factory = sqlite3.Row
        found = [dict(row) for row in reader.execute("SELECT * FROM exchanges")]
    by_id = {row["exchange_id"]: row for row in found}
    assert len(by_id) == len(found)  # exchange_id is unique: one row per exchange
    return by_id


def eventually(what: str, predicate: Callable[[], bool]) -> None:
    """Poll a condition that has no event to wait on (another process's file), with a timeout."""
    deadline = time.monotonic() + TIMEOUT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.02)


class LogWatch(logging.Handler):
    """Sets an event when the server logs a line containing ``needle``."""

    def __init__(self, needle: str) -> None:
        super().__init__()
        self.needle = needle
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.needle in record.getMessage():
            self.seen.set()


@pytest.fixture
def server_log() -> Iterator[Callable[[str], LogWatch]]:
    logger = logging.getLogger("course_helpers.server")
    watches: list[LogWatch] = []

    def watch(needle: str) -> LogWatch:
        handler = LogWatch(needle)
        watches.append(handler)
        logger.addHandler(handler)
        return handler

    yield watch
    for handler in watches:
        logger.removeHandler(handler)


def check_rows(db: Path, seen: list[Seen], outcome: str) -> dict[str, dict[str, Any]]:
    """One row per exchange a client saw start, and no other; ``outcome`` unless it saw done."""
    found = rows(db)
    ids = [s.exchange_id for s in seen]
    assert None not in ids, "a client never saw its stream start"
    assert sorted(found) == sorted(ids)  # type: ignore[type-var]
    for s in seen:
        row = found[str(s.exchange_id)]
        expected = "complete" if "done" in s.events else outcome
        assert row["outcome"] == expected, (s.exchange_id, row["outcome"], s.events[-1:])
    return found


# ----------------------------------------------------------------------------- a locked log


def test_done_waits_until_the_row_is_stored_while_another_connection_holds_the_lock(
    tmp_path: Path, server_log: Callable[[str], LogWatch]
) -> None:
    db = tmp_path / "relay.db"
    store = ExchangeStore(db, busy_timeout_s=0.05, write_deadline_s=TIMEOUT)
    app = create_app(store=store, client=relay_client())
    blocker = sqlite3.connect(db, isolation_level=None)
    body = {"prompt": LONG_PROMPT, "max_tokens": 6}
    with FakeProvider(token_delay=0.05, seed=1), serve_in_thread(app) as server:
        streams = Streams(server.base_url, [body])
        streams.wait_for_deltas(2)
        exchange_id = str(streams.seen[0].exchange_id)
        final_write_failed = server_log(f"logging {exchange_id} failed")
        blocker.execute("BEGIN IMMEDIATE")  # like a notebook with an open write transaction
        try:
            streams.wait_for_deltas(6)  # the whole answer is relayed; only the log is stuck
            assert final_write_failed.seen.wait(TIMEOUT), "the final write never ran into the lock"
            assert "done" not in streams.seen[0].events  # not while the row is unstored
        finally:
            blocker.execute("ROLLBACK")
        streams.join()
    seen = streams.seen[0]
    assert seen.events[-1] == "done"
    row = check_rows(db, [seen], "complete")[exchange_id]
    assert row["text"] == seen.text and row["deltas"] == 6
    blocker.close()


def test_a_log_that_stays_locked_gets_an_error_event_and_the_row_lands_later(
    tmp_path: Path,
) -> None:
    db = tmp_path / "relay.db"
    store = ExchangeStore(db, busy_timeout_s=0.05, write_deadline_s=0.3)
    app = create_app(store=store, client=relay_client())
    blocker = sqlite3.connect(db, isolation_level=None)
    body = {"prompt": LONG_PROMPT, "max_tokens": 6}
    with FakeProvider(token_delay=0.05, seed=2), serve_in_thread(app) as server:
        streams = Streams(server.base_url, [body])
        streams.wait_for_deltas(2)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            streams.join()  # the stream ends while the lock is still held
        finally:
            blocker.execute("ROLLBACK")
        seen = streams.seen[0]
        assert seen.events[-1] == "error" and "done" not in seen.events
        # ...and the relay keeps trying: the row lands once the lock is gone.
        eventually(
            "the row is complete", lambda: rows(db)[str(seen.exchange_id)]["outcome"] == "complete"
        )
    row = check_rows(db, [seen], "complete")[str(seen.exchange_id)]
    assert row["text"] == seen.text and row["deltas"] == 6
    blocker.close()


class _BrokenLog(ExchangeStore):
    """A log whose final writes always fail, as on a full disk."""

    def save(self, record: ExchangeRecord) -> None:
        raise ExchangeLogError("Could not log it: database or disk is full")

    def flush(self, records: Any) -> None:
        if any(record.outcome != "in_progress" for record in records):
            raise sqlite3.OperationalError("database or disk is full")
        super().flush(records)


def test_a_client_whose_exchange_cannot_be_logged_never_gets_done() -> None:
    with (
        FakeProvider(seed=3),
        serve_in_thread(create_app(store=_BrokenLog(), client=relay_client())) as server,
    ):
        streams = Streams(server.base_url, [{"prompt": "Hi", "max_tokens": 4}])
        streams.join()
        history = httpx2.get(f"{server.base_url}/history").json()["exchanges"]
    seen = streams.seen[0]
    assert seen.events[-1] == "error" and "done" not in seen.events
    assert [row["outcome"] for row in history] == ["in_progress"]  # visible, though unfinished


def test_write_retries_back_off_on_an_injected_clock_then_give_up(tmp_path: Path) -> None:
    db = tmp_path / "relay.db"
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    store = ExchangeStore(
        db, busy_timeout_s=0.01, write_deadline_s=1.0, sleep=sleep, clock=lambda: now[0]
    )
    record = ExchangeRecord(
        exchange_id="e1",
        messages=[{"role": "user", "content": "Hi"}],
        text="Hel",
        provider="openai",
        model="gpt-5.4-mini",
        outcome="complete",
    )
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    with pytest.raises(ExchangeLogError, match="still failing after 1 s of retries"):
        store.save(record)
    assert sleeps == [0.05, 0.1, 0.2, 0.4]
    assert store.failed_writes == 5
    blocker.execute("ROLLBACK")
    store.save(record)  # once the lock is gone, the same write goes through
    assert store.get("e1") is not None and store.get("e1")["outcome"] == "complete"  # type: ignore[index]
    blocker.close()
    store.close()


# ----------------------------------------------------------------------------- who owns a row


def test_a_second_opener_leaves_a_live_servers_rows_alone_and_marks_a_dead_ones(
    tmp_path: Path,
) -> None:
    db = tmp_path / "relay.db"
    app = create_app(db_path=db, client=relay_client())
    body = {"prompt": LONG_PROMPT, "max_tokens": 200}
    with FakeProvider(token_delay=0.05, seed=4), serve_in_thread(app) as server:
        streams = Streams(server.base_url, [body])
        streams.wait_for_deltas(1)
        reader = ExchangeStore(db)  # a notebook opening the log while the relay streams
        exchange_id = str(streams.seen[0].exchange_id)
        assert (reader.get(exchange_id) or {})["outcome"] == "in_progress"
        reader.close()
        server.stop()
        streams.join()
    assert rows(db)[exchange_id]["outcome"] == "server_shutdown"
    # A writer that dies with a row in progress (here: a process that exits without finishing).
    script = (
        "import os, sys; from course_helpers.server import ExchangeRecord, ExchangeStore; "
        "ExchangeStore(sys.argv[1]).start(ExchangeRecord(exchange_id='dead1', messages=[], "
        "text='', provider='openai', model='gpt-5.4-mini', outcome='in_progress')); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", script, str(db)], check=True, timeout=TIMEOUT)
    assert rows(db)["dead1"]["outcome"] == "in_progress"
    ExchangeStore(db).close()
    assert rows(db)["dead1"]["outcome"] == "interrupted"


def test_a_log_written_by_an_older_relay_opens_and_keeps_its_rows(tmp_path: Path) -> None:
    db = tmp_path / "relay.db"
    with sqlite3.connect(db) as old:
        old.execute(
            "CREATE TABLE exchanges (seq INTEGER PRIMARY KEY AUTOINCREMENT, exchange_id TEXT NOT "
            "NULL UNIQUE, started_at TEXT NOT NULL, finished_at TEXT NOT NULL, provider TEXT NOT "
            "NULL, model TEXT NOT NULL, outcome TEXT NOT NULL, error_class TEXT, error_message "
            "TEXT, prompt TEXT NOT NULL, messages TEXT NOT NULL, text TEXT NOT NULL, deltas "
            "INTEGER NOT NULL, input_tokens INTEGER, output_tokens INTEGER, finish_reason TEXT, "
            "ttft_s REAL, latency_s REAL)"
        )
        old.execute(
            "INSERT INTO exchanges (exchange_id, started_at, finished_at, provider, model, "
            "outcome, prompt, messages, text, deltas) VALUES ('old1', 't', 't', 'openai', "
            "'gpt-5.4-mini', 'complete', 'Hi', '[]', 'Hello', 1)"
        )
    store = ExchangeStore(db)
    row = store.get("old1")
    assert row is not None and (row["outcome"], row["text"]) == ("complete", "Hello")
    assert "owner" not in row  # the new column is the store's business, not the reader's
    store.close()
    assert {row["outcome"] for row in rows(db).values()} == {"complete"}


# ----------------------------------------------------------------------------- stop()


def test_stop_mid_stream_logs_each_stream_as_server_shutdown_with_the_text_sent(
    tmp_path: Path,
) -> None:
    db = tmp_path / "relay.db"
    bodies = [{"prompt": f"{LONG_PROMPT} ({n})", "max_tokens": 300} for n in range(8)]
    with FakeProvider(token_delay=0.1, seed=5):
        server = serve_in_thread(create_app(db_path=db, client=relay_client()))
        streams = Streams(server.base_url, bodies)
        streams.wait_for_deltas(3)
        server.stop()
        streams.join()
    found = check_rows(db, streams.seen, "server_shutdown")
    for s in streams.seen:
        assert found[str(s.exchange_id)]["text"] == s.text and s.text
        assert s.events[-1] == "error"  # told why its answer stopped


# ----------------------------------------------------------------------------- a real process


class RelayProcess:
    """``python -m course_helpers.server`` on a free port, with slow simulated tokens."""

    def __init__(self, db: Path, workdir: Path, token_delay: float) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "COURSE_MODE": "offline"}
        self._log: IO[bytes] = (workdir / "server.log").open("ab")
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "course_helpers.server", "--port", "0"),
                *("--db", str(db), "--mode", "offline", "--token-delay", str(token_delay)),
            ],
            stdout=subprocess.PIPE,
            stderr=self._log,
            cwd=workdir,
            env=env,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._drain, args=(lines,), daemon=True).start()
        while True:
            try:
                line = lines.get(timeout=TIMEOUT)
            except queue.Empty:
                self.kill()
                raise AssertionError("the relay never said where it listens") from None
            if match := re.search(r"Relay on (http://\S+)/ ", line):
                self.base_url = match.group(1)
                return

    def _drain(self, lines: queue.Queue[str]) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            lines.put(line)

    def signal(self, number: int) -> int:
        self.process.send_signal(number)
        return self.process.wait(TIMEOUT)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(TIMEOUT)
        self._log.close()


@pytest.fixture
def processes() -> Iterator[list[RelayProcess]]:
    started: list[RelayProcess] = []
    yield started
    for process in started:
        process.kill()


def test_sigterm_mid_stream_logs_every_stream_before_the_process_exits(
    tmp_path: Path, processes: list[RelayProcess]
) -> None:
    db = tmp_path / "relay.db"
    relay = RelayProcess(db, tmp_path, token_delay=0.2)  # 85 tokens: 17 s, past the 2 s grace
    processes.append(relay)
    bodies = [{"prompt": f"{LONG_PROMPT} ({n})", "max_tokens": 300} for n in range(20)]
    streams = Streams(relay.base_url, bodies)
    streams.wait_for_deltas(3)
    status = relay.signal(signal.SIGTERM)
    streams.join()
    assert status in (0, -signal.SIGTERM)
    found = check_rows(db, streams.seen, "server_shutdown")
    for s in streams.seen:
        assert found[str(s.exchange_id)]["text"] == s.text and s.text
        assert s.events[-1] == "error"  # told why its answer stopped


def test_kill_9_during_100_streams_then_restart_marks_each_one_interrupted(
    tmp_path: Path, processes: list[RelayProcess]
) -> None:
    db = tmp_path / "relay.db"
    relay = RelayProcess(db, tmp_path, token_delay=0.2)  # 85 tokens: 17 s, far past the kill
    processes.append(relay)
    bodies = [{"prompt": f"{LONG_PROMPT} ({n})", "max_tokens": 300} for n in range(100)]
    streams = Streams(relay.base_url, bodies)
    streams.wait_for_deltas(2)

    def all_flushed() -> bool:
        found = rows(db)
        return len(found) == len(bodies) and all(row["text"] for row in found.values())

    eventually("every row shows some text", all_flushed)  # flushed within a second
    flushed = {key: row["text"] for key, row in rows(db).items()}
    assert relay.signal(signal.SIGKILL) == -signal.SIGKILL
    streams.join()
    unfinished = [s.exchange_id for s in streams.seen if "done" not in s.events]
    assert {rows(db)[str(key)]["outcome"] for key in unfinished} == {"in_progress"}

    restarted = RelayProcess(db, tmp_path, token_delay=0.2)
    processes.append(restarted)
    found = check_rows(db, streams.seen, "interrupted")
    for s in streams.seen:
        text = found[str(s.exchange_id)]["text"]
        assert s.text.startswith(text), "the log holds text the client never received"
        assert text.startswith(flushed[str(s.exchange_id)])  # nothing flushed was lost
    history = httpx2.get(f"{restarted.base_url}/history", params={"limit": 500}).json()
    assert len(history["exchanges"]) == len(bodies)
    assert {row["outcome"] for row in history["exchanges"]} <= {"interrupted", "complete"}
