"""Run the relay: ``python -m course_helpers.server --port 8000``, then open http://127.0.0.1:8000/.

It calls ``setup()`` first, so with no API key the simulated provider answers (offline).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import uvicorn

from course_helpers.server.app import create_app
from course_helpers.server.runner import listen
from course_helpers.server.validation import Limits

DEFAULT_DB = "relay.db"


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
            'Example: curl -N -X POST localhost:8000/chat -d \'{"prompt": "Hello"}\' '
            "(-N: show events as they arrive)."
        ),
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8000,
        help="port to listen on; 0 picks a free one (default: 8000)",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
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

    setup(args.mode)
    try:
        sock = listen(args.host, args.port)
    except OSError as exc:
        print(
            f"Cannot listen on {args.host}:{args.port} ({exc.strerror}). "
            "Stop whatever uses that port, or pick another with --port.",
            file=sys.stderr,
        )
        return 1
    app = create_app(db_path=args.db, max_prompt_chars=args.max_prompt_chars)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(
        f"Relay on http://{host}:{sock.getsockname()[1]}/ · exchanges logged in {args.db} · "
        "Ctrl+C to stop.",
        flush=True,
    )
    config = uvicorn.Config(app, lifespan="off", log_level="info", timeout_graceful_shutdown=2)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
