"""The Setup that setup() returns owns what it changed (its simulated provider, the variables it
put in os.environ) and takes exactly that back: course.undo(), or the end of a ``with`` block."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from openai import OpenAI
from support import OPENAI_KEY

from course_helpers import keys, modes, setup
from course_helpers.fake import respx_adapter
from course_helpers.keys import OFFLINE_KEYS

pytestmark = pytest.mark.usefixtures("isolated_setup")


def ask_openai() -> str:
    reply = OpenAI().chat.completions.create(
        model="gpt-5.4-mini", messages=[{"role": "user", "content": "Say hello"}]
    )
    return reply.choices[0].message.content or ""


def test_undo_stops_the_fake_and_restores_the_environment(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("COURSE_FAKE_LATENCY=0\n", encoding="utf-8")
    before = dict(os.environ)
    course = setup()
    assert course.changes.names == ("COURSE_FAKE_LATENCY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY")
    assert modes.current() is course and respx_adapter.active() is course.fake
    course.undo()
    assert dict(os.environ) == before
    assert respx_adapter.active() is None and modes.current() is None
    course.undo()  # a second undo changes nothing
    assert dict(os.environ) == before


def test_a_with_block_is_simulated_inside_and_restored_after() -> None:
    quoted = f'"{OPENAI_KEY}"'  # a broken key: set aside while simulated
    os.environ["OPENAI_API_KEY"] = quoted
    with setup(mode="offline") as course:
        assert os.environ["OPENAI_API_KEY"] == OFFLINE_KEYS["openai"]
        assert ask_openai()
        assert course.fake is not None and len(course.fake.calls) == 1
    assert os.environ["OPENAI_API_KEY"] == quoted
    assert respx_adapter.active() is None and modes.current() is None


def test_undoing_a_replaced_setup_leaves_the_newer_one_alone() -> None:
    first = setup()
    second = setup(mode="offline")
    first.undo()
    assert modes.current() is second and respx_adapter.active() is second.fake
    assert os.environ["OPENAI_API_KEY"] == OFFLINE_KEYS["openai"]
    assert ask_openai()


def test_a_failed_setup_leaves_the_environment_as_it_was() -> None:
    before = dict(os.environ)
    with pytest.raises(TypeError):
        setup(mode="offline", no_such_option=1)
    assert dict(os.environ) == before and respx_adapter.active() is None


def test_undo_takes_back_only_what_setup_changed(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"OPENAI_API_KEY={OPENAI_KEY}\n", encoding="utf-8")
    keys.apply_env(keys.scan_env(), os.environ)  # loaded by hand, before setup()
    course = setup(mode="offline")
    assert os.environ["OPENAI_API_KEY"] == OPENAI_KEY  # a good key stays while simulated
    course.undo()
    assert os.environ["OPENAI_API_KEY"] == OPENAI_KEY  # not setup()'s to take back
    keys.restore_environ(os.environ)
    assert "OPENAI_API_KEY" not in os.environ
