"""Run the relay in a background thread, for notebooks and tests: ``serve_in_thread(app)``.

>>> with serve_in_thread(create_app()) as server:  # doctest: +SKIP
...     httpx2.get(server.base_url + "/healthz").json()
{'status': 'ok', 'exchanges': 0}
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp

from course_helpers import serving
from course_helpers.server.app import create_app
from course_helpers.serving import ServerHandle, listen

__all__ = ["ServerHandle", "listen", "serve_in_thread"]


def serve_in_thread(
    app: ASGIApp | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    startup_timeout: float = 10.0,
    **options: Any,
) -> ServerHandle:
    """Serve ``app`` (or ``create_app(**options)``) on ``host:port`` in a daemon thread.

    ``port=0`` picks a free port (read it from ``.port`` or ``.base_url``). Returns once the server
    accepts connections. Lifespan events are off; streams still open at ``stop()`` get two seconds
    to finish.
    """
    if app is None:
        app = create_app(**options)
    elif options:
        raise TypeError(f"pass create_app options ({', '.join(options)}) or an app, not both")
    return serving.serve_in_thread(
        app, host=host, port=port, name="relay", startup_timeout=startup_timeout
    )
