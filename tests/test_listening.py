"""Both course servers take --port, --host and --allow-host alike, and say alike why they
cannot listen."""

from __future__ import annotations

import argparse
import socket
from collections.abc import Callable, Iterator, Sequence

import pytest

from course_helpers.fake.__main__ import build_parser as fake_parser
from course_helpers.fake.__main__ import main as fake_main
from course_helpers.listening import open_listener, url_host
from course_helpers.server.__main__ import build_parser as relay_parser
from course_helpers.server.__main__ import main as relay_main


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        yield taken.getsockname()[1]


def test_a_busy_port_is_one_line_that_says_what_to_do(
    busy_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert open_listener("127.0.0.1", busy_port) is None
    error = capsys.readouterr().err
    assert error.startswith(f"Cannot listen on 127.0.0.1:{busy_port} (")
    assert error.endswith("Stop whatever uses that port, or pick another with --port.\n")
    assert error.count("\n") == 1


@pytest.mark.usefixtures("isolated_setup")
@pytest.mark.parametrize("main", [fake_main, relay_main], ids=["fake", "relay"])
def test_each_server_exits_1_with_that_line(
    main: Callable[[Sequence[str]], int], busy_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--port", str(busy_port)]) == 1
    error = capsys.readouterr().err
    assert f"Cannot listen on 127.0.0.1:{busy_port}" in error and "Traceback" not in error


@pytest.mark.parametrize(
    ("parser", "port", "rebinding"),
    [(fake_parser, 8787, False), (relay_parser, 8000, True)],
    ids=["fake", "relay"],
)
def test_each_server_takes_the_same_listening_options(
    parser: Callable[[], argparse.ArgumentParser], port: int, rebinding: bool
) -> None:
    built = parser()
    args = built.parse_args(["--allow-host", "a.example", "--allow-host", "b.example"])
    assert (args.port, args.host, args.allow_host) == (
        port,
        "127.0.0.1",
        ["a.example", "b.example"],
    )
    help_text = " ".join(built.format_help().split())
    assert "by default only loopback names and the listening address" in help_text
    assert ("its own domain (DNS rebinding)" in help_text) is rebinding


def test_a_url_brackets_an_ipv6_host() -> None:
    assert url_host("::1") == "[::1]" and url_host("localhost") == "localhost"
