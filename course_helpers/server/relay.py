"""The relay: one provider stream in, Server-Sent Events out, one exchange row logged.

Three tasks cooperate for each ``POST /chat``, and talk through one queue::

    provider ──▶ pump task ──┐
                             ├──▶ queue ──▶ the response loop ──▶ browser (SSE)
    browser  ──▶ watcher ────┘    (deltas, done, error, gone)      │
                                                                   └──▶ SQLite, exactly once

- The **pump** owns the provider stream (``LLMClient.astream``) from its first byte to its
  close, so cancelling it on a disconnect stops the provider's stream in the task that opened it.
- The **watcher** waits for the ASGI ``http.disconnect`` message. uvicorn's ``send`` does not
  fail once the browser is gone (it silently drops the bytes), so only ``receive`` can tell; a
  server whose ``send`` raises ``OSError`` instead is handled too.
- The **response loop** relays each event the moment it arrives (no buffering: one ``send`` per
  delta), and sends an SSE comment as a heartbeat when the provider is silent for a while, so
  proxies do not close an idle connection during a long time-to-first-token.

The exchange is logged from its first moment (see :mod:`course_helpers.server.journal`):

1. its ``in_progress`` row is written before anything is streamed; if even that fails (after
   retries), the browser gets a 503 and the provider is never asked;
2. the text relayed so far is flushed at least every second while deltas arrive;
3. the final row (``complete``, ``provider_error``…) is stored *before* ``done`` or ``error`` is
   sent, so a client that reads ``/history`` after ``done`` finds it. If it cannot be stored
   (after retries), the client gets an ``error`` event that says the log failed, never ``done``;
4. a browser that leaves gets its row (``client_disconnected``) in ``finally``, with the text
   relayed so far; so does a stream the server cancels at shutdown (``server_shutdown``), whose
   browser then gets an ``error`` event of class ``ServerShutdown``;
5. a server killed outright leaves ``in_progress`` rows with their last flushed text, which the
   next server on the same file marks ``interrupted``.

A delta counts as relayed once ``send`` has handed it to the socket, so the logged text is the
text the browser was sent.

Events (each ``data`` is one line of JSON)::

    event: start    {"exchange_id", "provider", "model"}
    event: delta    {"text"}
    event: done     {"exchange_id", "provider", "model", "usage", "cost_usd", "finish_reason",
                     "ttft_s", "latency_s"}
    event: error    {"exchange_id", "error": {"class", "message", "retriable", "status",
                                              "retry_after"}}

An ``error`` whose class is ``ExchangeLogError`` means the answer was relayed but not logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from course_helpers.client import AsyncLLMStream, LLMClient, LLMResponse
from course_helpers.errors import LLMError
from course_helpers.server.journal import Journal, journal_for
from course_helpers.server.store import ExchangeOutcome, ExchangeRecord, ExchangeStore, utc_now
from course_helpers.server.validation import ChatInput
from course_helpers.usage import new_request_id

__all__ = ["HEADERS", "SSERelay", "format_event"]

logger = logging.getLogger("course_helpers.server")

HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache, no-transform"),
    (b"x-accel-buffering", b"no"),  # nginx and friends: do not buffer this response
]
_HEARTBEAT = b": keep-alive\n\n"


def format_event(event: str, data: object) -> bytes:
    """One SSE frame: ``event:``, a single ``data:`` line of JSON, and the blank line that ends it.

    >>> format_event("delta", {"text": "Hi\\n"})
    b'event: delta\\ndata: {"text": "Hi\\\\n"}\\n\\n'
    """
    payload = json.dumps(data, ensure_ascii=False, separators=(", ", ": "))
    return f"event: {event}\ndata: {payload}\n\n".encode()


# What the pump and the watcher put on the queue.
@dataclass(frozen=True)
class _Delta:
    text: str


@dataclass(frozen=True)
class _Done:
    response: LLMResponse


@dataclass(frozen=True)
class _Failed:
    error: BaseException


class _Gone:
    """The browser closed the connection."""


_Event = _Delta | _Done | _Failed | _Gone


@dataclass
class _Progress:
    """What the relay knows about its exchange so far."""

    exchange_id: str = field(default_factory=new_request_id)
    started_at: str = field(default_factory=utc_now)
    started: float = field(default_factory=time.perf_counter)
    first_delta_at: float | None = None
    parts: list[str] = field(default_factory=list)
    logged: bool = False  # the final record is handed to the journal (stored, or being stored)

    @property
    def ttft_s(self) -> float | None:
        return None if self.first_delta_at is None else self.first_delta_at - self.started

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


class SSERelay:
    """An ASGI response that streams one chat through ``client`` and logs it in ``store``."""

    def __init__(
        self,
        chat: ChatInput,
        client: LLMClient,
        store: ExchangeStore,
        *,
        heartbeat_s: float | None = 15.0,
    ) -> None:
        self.chat = chat
        self.client = client
        self.store = store
        self.heartbeat_s = heartbeat_s
        self.progress = _Progress()

    @property
    def exchange_id(self) -> str:
        return self.progress.exchange_id

    @property
    def version(self) -> int:
        """How many deltas were relayed: what tells the journal the row needs a flush."""
        return len(self.progress.parts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        journal = journal_for(self.store)
        try:
            await journal.open(self)
        except Exception as error:  # ExchangeLogError, or a store already closed
            logger.error("relay %s refused: cannot log it: %s", self.exchange_id, error)
            await _refuse(send)
            return
        queue: asyncio.Queue[_Event] = asyncio.Queue()
        pump = asyncio.create_task(self._pump(queue), name=f"relay-pump:{self.exchange_id}")
        watcher = asyncio.create_task(
            _watch(receive, queue), name=f"relay-watch:{self.exchange_id}"
        )
        outcome: ExchangeOutcome = "client_disconnected"
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self._headers()})
            start = {"exchange_id": self.exchange_id, "provider": self.chat.provider}
            await _body(send, format_event("start", {**start, "model": self.chat.model}))
            outcome = await self._relay(queue, send, journal)
        except OSError:  # a server whose send() fails once the client is gone
            outcome = "client_disconnected"
        except asyncio.CancelledError:
            # The server is shutting down and cut this stream short. It is logged below, and the
            # browser told why; the cancellation ends here, so the server log gets one line per
            # stream instead of a traceback.
            outcome = "server_shutdown"
        finally:
            watcher.cancel()
            # Hand the row over first: it is stored even if this task is cancelled again.
            closing = (
                None
                if self.progress.logged
                else journal.close(self.exchange_id, self._log(outcome, None, None))
            )
            if closing is not None and outcome == "server_shutdown":
                with contextlib.suppress(OSError):  # before any wait: the process is ending
                    await _body(send, format_event("error", self._shutdown_notice()))
            if not pump.done():
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pump  # let the pump close the provider's stream
            if closing is not None:
                await asyncio.shield(closing)
        with contextlib.suppress(OSError):
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _shutdown_notice(self) -> dict[str, Any]:
        return {
            "exchange_id": self.exchange_id,
            "error": {
                "class": "ServerShutdown",
                "message": (
                    "The relay is shutting down: this answer was cut short and logged with the "
                    "text sent so far. Ask again once the relay is back."
                ),
                "retriable": True,
                "status": None,
                "retry_after": None,
            },
        }

    def record(self, outcome: ExchangeOutcome) -> ExchangeRecord:
        """The exchange as it stands, with ``outcome``: for progress flushes and shutdown."""
        return self._record(outcome, None, None)

    def _headers(self) -> list[tuple[bytes, bytes]]:
        return [*HEADERS, (b"x-exchange-id", self.exchange_id.encode())]

    async def _pump(self, queue: asyncio.Queue[_Event]) -> None:
        """Read the provider's stream into the queue; the only task that touches the stream."""
        chat = self.chat
        stream: AsyncLLMStream | None = None
        try:
            stream = self.client.astream(
                chat.messages, model=chat.model, max_tokens=chat.max_tokens
            )
            async for text in stream:
                if self.progress.first_delta_at is None:
                    self.progress.first_delta_at = time.perf_counter()
                queue.put_nowait(_Delta(text))
                # Let the sender run now: chunks that arrive in a burst are parsed without ever
                # suspending, and the first delta would otherwise wait for the whole burst.
                await asyncio.sleep(0)
            queue.put_nowait(_Done(stream.response))
        except LLMError as error:
            queue.put_nowait(_Failed(error))
        except Exception as error:  # a bug: the browser gets an error event, the log the traceback
            logger.exception("relay %s failed", self.exchange_id)
            queue.put_nowait(_Failed(error))
        finally:
            if stream is not None:
                await stream.aclose()

    async def _relay(
        self, queue: asyncio.Queue[_Event], send: Send, journal: Journal
    ) -> ExchangeOutcome:
        """Send events as they arrive until the stream ends or the browser leaves; the outcome."""
        while True:
            try:
                async with asyncio.timeout(self.heartbeat_s):
                    event = await queue.get()
            except TimeoutError:
                await _body(send, _HEARTBEAT)
                continue
            if isinstance(event, _Delta):
                await _body(send, format_event("delta", {"text": event.text}))
                self.progress.parts.append(event.text)  # after send: the text the browser got
                # Yield to the loop between deltas even when they arrive in a burst: it notices a
                # closed socket before the next write, and other streams get their turn.
                await asyncio.sleep(0)
            elif isinstance(event, _Done):
                record = self._log("complete", event.response, None)
                if await asyncio.shield(journal.close(self.exchange_id, record)):
                    await _body(send, format_event("done", self._done(event.response)))
                else:
                    await _body(send, format_event("error", self._log_failed(None)))
                return "complete"
            elif isinstance(event, _Failed):
                outcome: ExchangeOutcome = (
                    "provider_error" if isinstance(event.error, LLMError) else "relay_error"
                )
                record = self._log(outcome, None, event.error)
                if await asyncio.shield(journal.close(self.exchange_id, record)):
                    payload = {"exchange_id": self.exchange_id, "error": _describe(event.error)}
                else:
                    payload = self._log_failed(event.error)
                await _body(send, format_event("error", payload))
                return outcome
            else:
                return "client_disconnected"

    def _log_failed(self, error: BaseException | None) -> dict[str, Any]:
        """The ``error`` event of an exchange that was relayed but could not be logged."""
        also = f" The provider also failed: {_describe(error)['message']}" if error else ""
        return {
            "exchange_id": self.exchange_id,
            "error": {
                "class": "ExchangeLogError",
                "message": (
                    "The answer was relayed, but the relay could not log it (its database is "
                    "locked or failing; the server log says why). It keeps trying in the "
                    f"background.{also}"
                ),
                "retriable": False,
                "status": None,
                "retry_after": None,
            },
        }

    def _done(self, response: LLMResponse) -> dict[str, Any]:
        return {
            "exchange_id": self.exchange_id,
            "provider": response.provider,
            "model": response.model,
            "usage": {
                "input_tokens": response.input_tokens,
                "output_tokens": response.output_tokens,
                "total_tokens": response.total_tokens,
            },
            "cost_usd": response.cost_usd,
            "finish_reason": response.finish_reason,
            "ttft_s": _round(self.progress.ttft_s),
            "latency_s": _round(self.progress.elapsed()),
        }

    def _log(
        self,
        outcome: ExchangeOutcome,
        response: LLMResponse | None,
        error: BaseException | None,
    ) -> ExchangeRecord:
        """The final record of the exchange, logged to the server log; stored by the caller."""
        self.progress.logged = True
        record = self._record(outcome, response, error)
        logger.info(
            "relay %s %s %s/%s deltas=%d chars=%d ttft=%s latency=%.3fs%s",
            record.exchange_id,
            outcome,
            record.provider,
            record.model,
            record.deltas,
            len(record.text),
            f"{record.ttft_s:.3f}s" if record.ttft_s is not None else "-",
            record.latency_s or 0.0,
            f" error={record.error_class}" if record.error_class else "",
        )
        return record

    def _record(
        self,
        outcome: ExchangeOutcome,
        response: LLMResponse | None,
        error: BaseException | None,
    ) -> ExchangeRecord:
        progress = self.progress
        return ExchangeRecord(
            exchange_id=progress.exchange_id,
            messages=self.chat.messages,
            text="".join(progress.parts),
            provider=response.provider if response else self.chat.provider,
            model=response.model if response else self.chat.model,
            outcome=outcome,
            error_class=type(error).__name__ if error is not None else None,
            error_message=str(error) if error is not None else None,
            input_tokens=response.input_tokens if response else None,
            output_tokens=response.output_tokens if response else None,
            finish_reason=response.finish_reason if response else None,
            deltas=len(progress.parts),
            ttft_s=_round(progress.ttft_s),
            latency_s=_round(progress.elapsed()),
            started_at=progress.started_at,
        )


async def _refuse(send: Send) -> None:
    """A 503 before anything was streamed: the exchange cannot be logged, so it is not started."""
    message = (
        "The relay cannot log exchanges right now (its database is locked or failing), so it "
        "did not ask the provider. Try again in a moment; the server log says why."
    )
    body = json.dumps({"error": {"message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"retry-after", b"5")]
    with contextlib.suppress(OSError):
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


async def _watch(receive: Receive, queue: asyncio.Queue[_Event]) -> None:
    """Wait for the browser to disconnect, then say so on the queue."""
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            queue.put_nowait(_Gone())
            return


async def _body(send: Send, data: bytes) -> None:
    await send({"type": "http.response.body", "body": data, "more_body": True})


def _describe(error: BaseException) -> dict[str, Any]:
    if isinstance(error, LLMError):
        return {
            "class": type(error).__name__,
            "message": error.message,
            "retriable": error.retriable,
            "status": error.status,
            "retry_after": error.retry_after,
        }
    return {
        "class": type(error).__name__,
        "message": "The relay failed unexpectedly; the server log has the details. Try again.",
        "retriable": False,
        "status": None,
        "retry_after": None,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
