"""Shared fixtures: every test runs isolated from the developer's keys and environment.

``fake`` is the simulated provider, running for one test (``@pytest.mark.fake(seed=5)`` or a
module's ``pytestmark`` passes it arguments); ``clock`` a ``support.ManualClock``. The clock and
the SDK error builders are importable from ``support`` for parametrize tables and helpers.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from support import ManualClock

    from course_helpers.fake import FakeProvider

# Variables that would leak the machine's configuration into a test.
_ISOLATED_PREFIXES = ("OPENAI_", "ANTHROPIC_", "COURSE_")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Remove API keys, base URLs and course settings for the duration of each test."""
    for name in list(os.environ):
        if name.startswith(_ISOLATED_PREFIXES) or name.endswith("_API_KEY"):
            monkeypatch.delenv(name, raising=False)
    yield


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fake(**options): the FakeProvider arguments of the test's `fake` fixture"
    )


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> Iterator[FakeProvider]:
    """The simulated provider, answering in-process for this test, stopped after it."""
    from course_helpers.fake import FakeProvider  # imported here: not every test needs the fake

    marker = request.node.get_closest_marker("fake")
    with FakeProvider(**(marker.kwargs if marker else {})) as provider:
        yield provider


@pytest.fixture
def isolated_setup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """An empty working folder for ``setup()`` and the doctor; afterwards the fake ``setup()``
    started is stopped, the environment changes it applied are undone and ``os.environ`` is as
    it was. Use it with ``pytestmark = pytest.mark.usefixtures("isolated_setup")``."""
    from course_helpers import keys, modes
    from course_helpers.fake import respx_adapter

    monkeypatch.chdir(tmp_path)
    saved = dict(os.environ)
    yield tmp_path
    modes.teardown()
    keys.restore_environ(os.environ)
    os.environ.clear()
    os.environ.update(saved)
    assert respx_adapter.active() is None, "a FakeProvider was left running"


@pytest.fixture
def clock() -> ManualClock:
    """A clock at 0.0 that moves only when the code under test sleeps on it."""
    from support import ManualClock  # imported here: support imports both SDKs

    return ManualClock()


@pytest.fixture
def sleeps_of_this_thread(monkeypatch: pytest.MonkeyPatch) -> Callable[..., list[float]]:
    """Patch ``time.sleep`` so that this test's thread records its sleeps instead of sleeping.

    ``time.sleep`` is one function for the whole process: threads an earlier test left running
    (a check's candidate still waiting for its turn) keep sleeping for real and are not recorded,
    so the list holds exactly the sleeps of the code under test. ``start(up_to=s)`` makes each
    recorded sleep also last for real, at most ``s`` seconds.
    """
    real_sleep = time.sleep
    me = threading.get_ident()
    slept: list[float] = []
    cap = [0.0]

    def sleep(seconds: float) -> None:
        if threading.get_ident() != me:
            real_sleep(seconds)
            return
        slept.append(seconds)
        if cap[0] > 0:
            real_sleep(min(seconds, cap[0]))

    monkeypatch.setattr(time, "sleep", sleep)

    def start(up_to: float = 0.0) -> list[float]:
        cap[0] = up_to
        return slept

    return start


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests marked ``live`` unless COURSE_LIVE_TESTS=1 (they need real keys and money)."""
    if os.environ.get("COURSE_LIVE_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="live test: set COURSE_LIVE_TESTS=1 and real keys to run")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)
