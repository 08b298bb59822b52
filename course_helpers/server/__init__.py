"""The streaming architecture, for real: an SSE relay that logs every exchange it relays.

::

    browser ── POST /chat ──▶ relay (Starlette + uvicorn) ── LLMClient.astream ──▶ provider
            ◀── SSE: start, delta…, done | error ──┘
                                         └──▶ SQLite: one row per exchange, also half-finished ones

Run it with ``python -m course_helpers.server --port 8000`` and open http://127.0.0.1:8000/, or in
a notebook::

    from course_helpers.server import serve_in_thread
    server = serve_in_thread()        # a free port; server.base_url
    ...
    server.stop()

Endpoints: ``GET /`` (a page that streams), ``POST /chat`` (``{"messages": [...]}`` or
``{"prompt": "..."}``, with optional ``provider``, ``model``, ``max_tokens``), ``GET /history``
(``?limit=``), ``GET /history/{exchange_id}``, ``GET /healthz``.

Nothing it started is lost: an exchange's row is written before the browser hears ``start``,
its text flushed at least every second, ``done`` sent only once the final row is stored;
SIGTERM, Ctrl+C and ``stop()`` store running streams as ``server_shutdown``, and rows left by a
server that died (kill -9) become ``interrupted`` when the next one opens the file.

The modules: ``relay`` (the SSE stream and disconnect handling), ``validation`` (what ``/chat``
accepts), ``store`` (the SQLite log and a row's life), ``journal`` (live exchanges, flushed every
second, drained at shutdown), ``owners`` (which process owns a live row), ``page`` (the HTML),
``app`` (routes), ``runner`` (``serve_in_thread``).
"""

from __future__ import annotations

from course_helpers.server.app import create_app
from course_helpers.server.relay import format_event
from course_helpers.server.runner import ServerHandle, serve_in_thread
from course_helpers.server.store import ExchangeRecord, ExchangeStore
from course_helpers.server.validation import Limits

__all__ = [
    "ExchangeRecord",
    "ExchangeStore",
    "Limits",
    "ServerHandle",
    "create_app",
    "format_event",
    "serve_in_thread",
]
