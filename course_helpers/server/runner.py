"""Run the relay in a background thread, for notebooks and tests: ``serve_in_thread(app)``.

>>> with serve_in_thread(create_app()) as server:  # doctest: +SKIP
...     httpx2.get(server.base_url + "/healthz").json()
{'status': 'ok', 'exchanges': 0}
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from starlette.types import ASGIApp

from course_helpers import serving
from course_helpers.server.app import create_app
from course_helpers.server.journal import journal_for
from course_helpers.server.store import ExchangeStore
from course_helpers.serving import ConnectionLimits, ServerHandle, listen

__all__ = ["ConnectionLimits", "RelayHandle", "ServerHandle", "listen", "serve_in_thread"]

logger = logging.getLogger("course_helpers.server")


class RelayHandle(ServerHandle):
    """A served relay: ``stop()`` also makes sure every stream it cut short is logged.

    At ``stop()`` uvicorn cancels the streams still running after its two-second grace; each
    logs itself as ``server_shutdown`` as it unwinds, but writes still queued when the event loop
    closes would be dropped with it. Once the server thread has ended, whatever the journal
    still holds is stored here, from the caller's thread.
    """

    def stop(self, timeout: float = 5.0) -> None:
        """Shut the server down, wait for its thread, then store any exchange left unlogged."""
        super().stop(timeout)
        store = getattr(getattr(self.app, "state", None), "store", None)
        if not isinstance(store, ExchangeStore):
            return
        if self.thread.is_alive():
            logger.error("the relay on port %d did not stop; its live rows stay", self.port)
            return
        journal_for(store).settle()


def serve_in_thread(
    app: ASGIApp | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    startup_timeout: float = 10.0,
    limits: ConnectionLimits | None = None,
    **options: Any,
) -> ServerHandle:
    """Serve ``app`` (or ``create_app(**options)``) on ``host:port`` in a daemon thread.

    ``port=0`` picks a free port (read it from ``.port`` or ``.base_url``). Returns once the server
    accepts connections. Lifespan events are off; streams still open at ``stop()`` get two seconds
    to finish, then are cancelled and logged as ``server_shutdown``. ``limits`` bounds each
    connection: header and idle timeouts, open connections (default: ``ConnectionLimits()``).
    """
    if app is None:
        app = create_app(**options)
    elif options:
        raise TypeError(f"pass create_app options ({', '.join(options)}) or an app, not both")
    handle = serving.serve_in_thread(
        app, host=host, port=port, name="relay", startup_timeout=startup_timeout, limits=limits
    )
    fields = {field.name: getattr(handle, field.name) for field in dataclasses.fields(handle)}
    return RelayHandle(**fields)
