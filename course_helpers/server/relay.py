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

The exchange is written once its outcome is known: before the ``done`` or ``error`` event is sent
(so a client that reads ``/history`` after ``done`` finds its row), or in ``finally`` when the
browser went away, with the text relayed so far.

Events (each ``data`` is one line of JSON)::

    event: start    {"exchange_id", "provider", "model"}
    event: delta    {"text"}
    event: done     {"exchange_id", "provider", "model", "usage", "cost_usd", "finish_reason",
                     "ttft_s", "latency_s"}
    event: error    {"exchange_id", "error": {"class", "message", "retriable", "status",
                                              "retry_after"}}
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
    logged: bool = False

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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
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
            outcome = await self._relay(queue, send)
        except OSError:  # a server whose send() fails once the client is gone
            outcome = "client_disconnected"
        finally:
            watcher.cancel()
            if not pump.done():
                pump.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pump  # let the pump close the provider's stream
            if not self.progress.logged:  # the browser left: keep what was relayed so far
                await self._log(outcome, None, None)
        with contextlib.suppress(OSError):
            await send({"type": "http.response.body", "body": b"", "more_body": False})

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

    async def _relay(self, queue: asyncio.Queue[_Event], send: Send) -> ExchangeOutcome:
        """Send events as they arrive until the stream ends or the browser leaves; the outcome."""
        while True:
            try:
                async with asyncio.timeout(self.heartbeat_s):
                    event = await queue.get()
            except TimeoutError:
                await _body(send, _HEARTBEAT)
                continue
            if isinstance(event, _Delta):
                self.progress.parts.append(event.text)
                await _body(send, format_event("delta", {"text": event.text}))
                # Yield to the loop between deltas even when they arrive in a burst: it notices a
                # closed socket before the next write, and other streams get their turn.
                await asyncio.sleep(0)
            elif isinstance(event, _Done):
                await self._log("complete", event.response, None)
                await _body(send, format_event("done", self._done(event.response)))
                return "complete"
            elif isinstance(event, _Failed):
                outcome: ExchangeOutcome = (
                    "provider_error" if isinstance(event.error, LLMError) else "relay_error"
                )
                await self._log(outcome, None, event.error)
                payload = {"exchange_id": self.exchange_id, "error": _describe(event.error)}
                await _body(send, format_event("error", payload))
                return outcome
            else:
                return "client_disconnected"

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

    async def _log(
        self,
        outcome: ExchangeOutcome,
        response: LLMResponse | None,
        error: BaseException | None,
    ) -> None:
        """Write the exchange once, in a thread (the write finishes even if we are cancelled)."""
        progress = self.progress
        progress.logged = True
        latency = progress.elapsed()
        record = ExchangeRecord(
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
            latency_s=_round(latency),
            started_at=progress.started_at,
        )
        logger.info(
            "relay %s %s %s/%s deltas=%d chars=%d ttft=%s latency=%.3fs%s",
            progress.exchange_id,
            outcome,
            record.provider,
            record.model,
            record.deltas,
            len(record.text),
            f"{record.ttft_s:.3f}s" if record.ttft_s is not None else "-",
            latency,
            f" error={record.error_class}" if record.error_class else "",
        )
        await asyncio.shield(asyncio.to_thread(_write, self.store, record))


def _write(store: ExchangeStore, record: ExchangeRecord) -> None:
    try:
        store.write(record)
    except Exception:  # the stream must not fail because the log did; the server log says why
        logger.exception("could not log exchange %s", record.exchange_id)


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
