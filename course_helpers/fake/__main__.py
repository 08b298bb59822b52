"""Serve the simulated provider over HTTP: ``python -m course_helpers.fake --port 8787``.

For any HTTP client, not just the Python SDKs: curl, the Node SDKs, aiohttp. Stop it with Ctrl+C.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from course_helpers.listening import add_listen_arguments, open_listener, url_host

DEFAULT_TTFT = 0.3
DEFAULT_TOKEN_DELAY = 0.02


def build_parser() -> argparse.ArgumentParser:
    """The command line: where to listen, and the simulated provider's limits and timing."""
    parser = argparse.ArgumentParser(
        prog="python -m course_helpers.fake",
        description=(
            "Serve the simulated OpenAI + Anthropic APIs on loopback, for any HTTP client. "
            "Point OPENAI_BASE_URL at http://HOST:PORT/v1 and ANTHROPIC_BASE_URL at "
            "http://HOST:PORT; keys: any sk-... for OpenAI, any sk-ant-... for Anthropic."
        ),
        epilog=(
            "Example: python -m course_helpers.fake --port 8787 --rpm 5 --period 10 "
            "(a rate-limit demo: 5 requests per 10 seconds per key)."
        ),
    )
    add_listen_arguments(parser, default_port=8787)
    parser.add_argument("--rpm", type=int, help="requests per period, per key (default: generous)")
    parser.add_argument("--tpm", type=int, help="tokens per period, per key (default: generous)")
    parser.add_argument(
        "--period",
        type=float,
        default=60.0,
        help="rate-limit period in seconds; shorten it for demos (default: %(default)s)",
    )
    parser.add_argument(
        "--ttft",
        type=float,
        default=DEFAULT_TTFT,
        help="seconds before the first token (default: %(default)s)",
    )
    parser.add_argument(
        "--token-delay",
        type=float,
        default=DEFAULT_TOKEN_DELAY,
        help="seconds between streamed tokens (default: %(default)s); 0 with --ttft 0: instant",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed for reproducible answers and ids (default: %(default)s)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server in the foreground until interrupted; the exit status."""
    args = build_parser().parse_args(argv)
    import uvicorn  # imported here so that --help stays instant

    from course_helpers.fake import FakeProvider
    from course_helpers.fake.asgi import create_app
    from course_helpers.serving import uvicorn_config

    for name in ("period", "ttft", "token_delay"):
        if getattr(args, name) < 0:
            print(f"--{name.replace('_', '-')} must be 0 or more.", file=sys.stderr)
            return 2
    fake = FakeProvider(
        rpm=args.rpm,
        tpm=args.tpm,
        period=args.period,
        ttft=args.ttft,
        token_delay=args.token_delay,
        seed=args.seed,
    )
    sock = open_listener(args.host, args.port)
    if sock is None:
        return 1
    base = f"http://{url_host(args.host)}:{sock.getsockname()[1]}"
    print(
        f"Simulated provider on {base}: set OPENAI_BASE_URL={base}/v1 and "
        f"ANTHROPIC_BASE_URL={base}; keys: any sk-... (not sk-ant-) for OpenAI, any "
        "sk-ant-... for Anthropic. Ctrl+C to stop.",
        flush=True,
    )
    app = create_app(fake, allowed_hosts=args.allow_host)
    config = uvicorn_config(app)  # every connection bounded (course_helpers.serving)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
