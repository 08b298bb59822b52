"""Where a course server listens: the same options, socket and messages for each of them.

The simulated provider (``python -m course_helpers.fake``) and the relay (``python -m
course_helpers.server``) take ``--port``, ``--host`` and ``--allow-host`` alike, open their socket
alike and say alike why they cannot. A leaf (no uvicorn import), so ``--help`` stays instant.

>>> url_host("::1"), url_host("127.0.0.1")
('[::1]', '127.0.0.1')
"""

from __future__ import annotations

import argparse
import socket
import sys

__all__ = ["add_listen_arguments", "listen", "open_listener", "url_host"]


def add_listen_arguments(
    parser: argparse.ArgumentParser, *, default_port: int, allow_host_why: str = ""
) -> None:
    """``--port``, ``--host`` and ``--allow-host``; ``allow_host_why`` ends the last one's help."""
    parser.add_argument(
        "--port",
        type=int,
        default=default_port,
        help="port to listen on; 0 picks a free one (default: %(default)s)",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help=(
            "also answer requests for this host name (repeatable); by default only loopback "
            f"names and the listening address{allow_host_why}"
        ),
    )


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (``port=0``: a free one), or ``OSError``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family)


def open_listener(host: str, port: int) -> socket.socket | None:
    """``listen()``, or ``None`` once it said on stderr, in one line, why not and what to do."""
    try:
        return listen(host, port)
    except OSError as exc:
        print(
            f"Cannot listen on {host}:{port} ({exc.strerror}). "
            "Stop whatever uses that port, or pick another with --port.",
            file=sys.stderr,
        )
        return None


def url_host(host: str) -> str:
    """``host`` as a URL writes it: an IPv6 address in brackets."""
    return f"[{host}]" if ":" in host else host
