"""Run the relay: ``python -m course_helpers.server --port 8000``, then open http://127.0.0.1:8000/.

It calls ``setup()`` first, so with no API key the simulated provider answers (offline).

On SIGTERM or Ctrl+C, uvicorn stops accepting connections and gives running streams two seconds
to finish; those still running are cancelled, and the server waits until each of them is logged
(``server_shutdown``, with the text relayed so far) before the process exits.
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Sequence

import uvicorn

from course_helpers.listening import add_listen_arguments, open_listener, url_host
from course_helpers.server.app import create_app
from course_helpers.server.journal import journal_for
from course_helpers.server.store import ExchangeStore
from course_helpers.server.validation import Limits
from course_helpers.serving import uvicorn_config

DEFAULT_DB = "relay.db"


class RelayServer(uvicorn.Server):
    """uvicorn, plus: after its graceful shutdown, wait until every stream it cancelled is logged.

    uvicorn re-raises the signal it caught as soon as ``serve()`` returns, which ends the process
    there and then, so the rows must be stored inside ``shutdown()``.
    """

    def __init__(self, config: uvicorn.Config, store: ExchangeStore) -> None:
        super().__init__(config)
        self.store = store

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        await journal_for(self.store).drain()


def build_parser() -> argparse.ArgumentParser:
    """The command line: where to listen, where to log, and how large a prompt may be."""
    parser = argparse.ArgumentParser(
        prog="python -m course_helpers.server",
        description=(
            "Relay LLM answers to a browser as Server-Sent Events and log every exchange in "
            "SQLite. Open the printed URL for a page that streams; POST /chat for the API. "
            "Without API keys the simulated provider answers."
        ),
        epilog=(
            "Example: curl -N localhost:8000/chat -H 'Content-Type: application/json' "
            '-d \'{"prompt": "Hello"}\' (-N: show events as they arrive).'
        ),
    )
    add_listen_arguments(
        parser,
        default_port=8000,
        allow_host_why=(
            ", so a web page cannot reach the relay through its own domain (DNS rebinding)"
        ),
    )
    parser.add_argument(
        "--db",
        default=DEFAULT_DB,
        help="SQLite file that logs the exchanges (default: %(default)s in the current directory)",
    )
    parser.add_argument(
        "--mode",
        choices=("auto", "offline", "live"),
        help="live or simulated providers, as setup(mode=...) (default: COURSE_MODE, else auto)",
    )
    parser.add_argument(
        "--token-delay",
        type=float,
        metavar="SECONDS",
        help=(
            "simulated provider only: seconds between tokens, to watch a slow stream "
            "(default: 0.02, like a small hosted model)"
        ),
    )
    parser.add_argument(
        "--max-prompt-chars",
        type=int,
        default=Limits.max_prompt_chars,
        help="longest prompt accepted, in characters (default: %(default)s)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the relay in the foreground until interrupted; the exit status."""
    args = build_parser().parse_args(argv)
    if args.max_prompt_chars < 1:
        print("--max-prompt-chars must be at least 1.", file=sys.stderr)
        return 2
    from course_helpers.modes import setup

    if args.token_delay is not None and args.token_delay < 0:
        print("--token-delay is a number of seconds, 0 or more.", file=sys.stderr)
        return 2
    slow = {} if args.token_delay is None else {"token_delay": args.token_delay}
    setup(args.mode, **slow)
    sock = open_listener(args.host, args.port)
    if sock is None:
        return 1
    app = create_app(
        db_path=args.db, max_prompt_chars=args.max_prompt_chars, allowed_hosts=args.allow_host
    )
    url = f"http://{url_host(args.host)}:{sock.getsockname()[1]}/"
    print(
        f"Relay on {url} · exchanges logged in {args.db} · Ctrl+C to stop.",
        flush=True,
    )
    config = uvicorn_config(app, log_level="info")  # every connection bounded (serving.py)
    RelayServer(config, app.state.store).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
