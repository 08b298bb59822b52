"""The exchanges a relay has started and not yet stored for good, kept up to date in SQLite.

Each relay ``open``\\ s its exchange (the ``in_progress`` row is written before the browser hears
of it) and ``close``\\ s it with its final record. In between, one flusher task per event loop
writes the text of every live exchange that changed, at least every ``flush_interval_s``, in one
transaction for all of them (200 streams cost one write a second, not 200), so a crash loses at
most that last interval.

An exchange leaves the journal only once its final record is stored. A final write that fails
even after the store's retries stays here, and the flusher keeps trying; at shutdown ``drain``
(in the event loop) and ``settle`` (after it) store whatever is left as ``server_shutdown``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from course_helpers.server.store import (
    ExchangeLogError,
    ExchangeOutcome,
    ExchangeRecord,
    ExchangeStore,
)

__all__ = ["Journal", "LiveExchange", "journal_for"]

logger = logging.getLogger("course_helpers.server")


class LiveExchange(Protocol):
    """What the journal needs from a relay: its id, a change counter, and a record of it now."""

    @property
    def exchange_id(self) -> str: ...

    @property
    def version(self) -> int: ...

    def record(self, outcome: ExchangeOutcome) -> ExchangeRecord: ...


@dataclass
class _Entry:
    source: LiveExchange
    flushed_version: int = -1
    final: ExchangeRecord | None = None
    closing: bool = False  # the relay is storing ``final`` itself; the flusher leaves it alone


class Journal:
    """The live exchanges of one store. Use :func:`journal_for` to get the store's journal."""

    def __init__(
        self,
        store: ExchangeStore,
        *,
        flush_interval_s: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.store = store
        self.flush_interval_s = flush_interval_s
        self._sleep = sleep
        self._live: dict[str, _Entry] = {}
        self._closing: set[asyncio.Task[bool]] = set()
        self._flushers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[None]]
        self._flushers = weakref.WeakKeyDictionary()

    def __len__(self) -> int:
        return len(self._live)

    async def open(self, source: LiveExchange) -> None:
        """Write ``source``'s ``in_progress`` row; ``ExchangeLogError`` if it cannot be stored."""
        # Registered first: if the server is stopped during the write, shutdown still logs it.
        self._live[source.exchange_id] = _Entry(source, flushed_version=source.version)
        try:
            await asyncio.to_thread(self.store.start, source.record("in_progress"))
        except Exception:
            del self._live[source.exchange_id]
            raise
        self._ensure_flusher()

    def close(self, exchange_id: str, record: ExchangeRecord) -> asyncio.Task[bool]:
        """Store ``record`` as the exchange's final state; the task says whether it is stored.

        Runs as its own task, so the write finishes even when the relay that asked is cancelled
        (await it through ``asyncio.shield``). ``False``: the store gave up for now; the flusher
        keeps trying, and the server log says why.
        """
        entry = self._live.get(exchange_id)
        if entry is not None:
            entry.final, entry.closing = record, True
        task = asyncio.get_running_loop().create_task(
            self._store_final(exchange_id, record), name=f"relay-log:{exchange_id}"
        )
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        return task

    async def flush(self) -> None:
        """Write every live exchange that changed, and every final record still unstored."""
        batch: list[tuple[_Entry, ExchangeRecord]] = []
        for entry in list(self._live.values()):
            if entry.final is not None:
                if not entry.closing:
                    batch.append((entry, entry.final))
            elif entry.source.version != entry.flushed_version:
                batch.append((entry, entry.source.record("in_progress")))
        if not batch:
            return
        try:
            await asyncio.to_thread(self.store.flush, [record for _, record in batch])
        except Exception as error:  # sqlite3.Error, or a closed store: try again next time
            logger.warning("could not save the progress of %d stream(s): %s", len(batch), error)
            return
        for entry, record in batch:
            if record.outcome == "in_progress":
                entry.flushed_version = record.deltas  # a relay's version is its delta count
            elif entry.final is record:
                self._live.pop(record.exchange_id, None)

    async def drain(self, timeout_s: float = 15.0) -> None:
        """At shutdown, in the loop: let cancelled relays store their rows, then store the rest.

        Call it after the server has cancelled its streams; rows still live after ``timeout_s``
        are stored as ``server_shutdown`` with the text relayed so far.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        await asyncio.sleep(0)  # cancelled relays run their ``finally`` and call close()
        while self._closing and (remaining := deadline - loop.time()) > 0:
            await asyncio.wait(set(self._closing), timeout=remaining)
        if self._live:
            await asyncio.to_thread(self.settle)

    def settle(self) -> int:
        """Store every exchange still live as ``server_shutdown`` (or its known final state).

        For the end, when no event loop runs the relays any more (``drain``, or after a server
        thread has stopped); the number stored.
        """
        entries = list(self._live.values())
        records = [entry.final or entry.source.record("server_shutdown") for entry in entries]
        if not records:
            return 0
        try:
            for record in records:
                self.store.save(record)
                self._live.pop(record.exchange_id, None)
        except ExchangeLogError:
            logger.exception("%d exchange(s) could not be logged at shutdown", len(self._live))
        return len(records) - len(self._live)

    async def _store_final(self, exchange_id: str, record: ExchangeRecord) -> bool:
        try:
            await asyncio.to_thread(self.store.save, record)
        except ExchangeLogError:
            logger.exception("could not log exchange %s; will keep trying", exchange_id)
            entry = self._live.get(exchange_id)
            if entry is not None:
                entry.closing = False  # the flusher takes it from here
                self._ensure_flusher()
            return False
        entry = self._live.get(exchange_id)
        if entry is not None and entry.final is record:
            self._live.pop(exchange_id, None)
        return True

    def _ensure_flusher(self) -> None:
        loop = asyncio.get_running_loop()
        task = self._flushers.get(loop)
        if task is None or task.done():
            self._flushers[loop] = loop.create_task(self._flush_while_live(), name="relay-flush")

    async def _flush_while_live(self) -> None:
        while self._live:
            await self._sleep(self.flush_interval_s)
            with contextlib.suppress(Exception):  # flush() logs; a flusher must not die
                await self.flush()


_journals_lock = threading.Lock()


def journal_for(store: ExchangeStore) -> Journal:
    """The one journal of ``store`` (made on first use): every relay writing there shares it.

    Kept on the store itself (a weak mapping would keep every store alive: the journal refers
    to its store), so both go together.
    """
    with _journals_lock:
        journal = getattr(store, "_relay_journal", None)
        if not isinstance(journal, Journal):
            journal = Journal(store)
            store._relay_journal = journal  # type: ignore[attr-defined]
        return journal
