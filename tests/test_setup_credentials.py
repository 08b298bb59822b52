"""setup(), the doctor and %%node read a provider's key variables from its provider record.

Anthropic's SDK takes a credential from ``ANTHROPIC_API_KEY`` or, when that is empty, from
``ANTHROPIC_AUTH_TOKEN``; the course accepts the same two, in the same order.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from anthropic import Anthropic
from support import ANTHROPIC_KEY, ANTHROPIC_TOKEN, OPENAI_KEY

from course_helpers import modes, setup
from course_helpers.doctor import report
from course_helpers.fake import FakeProvider
from course_helpers.keys import OFFLINE_KEYS, key_status, scan_env
from course_helpers.node_magic import node_environ

pytestmark = pytest.mark.usefixtures("isolated_setup")


def test_an_auth_token_in_env_makes_anthropic_live(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"ANTHROPIC_AUTH_TOKEN={ANTHROPIC_TOKEN}\n", encoding="utf-8")
    course = setup()
    assert course.is_live("anthropic") and course.is_offline("openai")
    assert "key sk-…5432 in ANTHROPIC_AUTH_TOKEN from .env" in course.banner
    assert ANTHROPIC_TOKEN not in course.banner
    assert os.environ["ANTHROPIC_AUTH_TOKEN"] == ANTHROPIC_TOKEN
    assert "ANTHROPIC_API_KEY" not in os.environ  # so the SDK sends the token


def test_the_api_key_wins_over_the_token_as_in_the_sdk() -> None:
    os.environ["ANTHROPIC_AUTH_TOKEN"] = ANTHROPIC_TOKEN
    os.environ["ANTHROPIC_API_KEY"] = ANTHROPIC_KEY
    status = key_status("anthropic", scan_env(), os.environ)
    assert (status.variable, status.masked) == ("ANTHROPIC_API_KEY", "sk-…9876")
    assert "key sk-…9876 from the environment" in setup().banner


def test_an_empty_api_key_falls_through_to_the_token() -> None:
    os.environ["ANTHROPIC_API_KEY"] = ""
    os.environ["ANTHROPIC_AUTH_TOKEN"] = ANTHROPIC_TOKEN
    status = key_status("anthropic", scan_env(), os.environ)
    assert (status.state, status.variable) == ("ok", "ANTHROPIC_AUTH_TOKEN")


def test_a_wrong_token_is_named_by_its_variable() -> None:
    os.environ["ANTHROPIC_AUTH_TOKEN"] = OPENAI_KEY
    [problem] = key_status("anthropic", scan_env(), os.environ).problems
    assert problem.variable == "ANTHROPIC_AUTH_TOKEN"
    assert problem.message.startswith("ANTHROPIC_AUTH_TOKEN in the environment holds what looks")


def test_forced_offline_answers_a_token_holder_and_puts_nothing_back_wrong() -> None:
    os.environ["ANTHROPIC_AUTH_TOKEN"] = OPENAI_KEY  # a broken token: set aside while offline
    course = setup(mode="offline")
    assert course.fake is not None and os.environ["ANTHROPIC_API_KEY"] == OFFLINE_KEYS["anthropic"]
    reply = Anthropic().messages.create(
        model="claude-haiku-5-5", max_tokens=20, messages=[{"role": "user", "content": "Hi"}]
    )
    assert reply.content and course.fake.calls[-1].status == 200
    modes.teardown()
    assert "ANTHROPIC_API_KEY" not in os.environ
    assert os.environ["ANTHROPIC_AUTH_TOKEN"] == OPENAI_KEY


def test_the_doctor_checks_a_token_holder_live() -> None:
    os.environ["ANTHROPIC_AUTH_TOKEN"] = ANTHROPIC_TOKEN
    with FakeProvider() as fake:
        result = report()
    assert [call.provider for call in fake.calls] == ["anthropic"]
    assert fake.calls[0].headers["authorization"] == "Bearer sk-…5432"
    assert result.text.count("check: OK") == 1 and ANTHROPIC_TOKEN not in result.text


def test_node_scripts_never_see_a_simulated_providers_token() -> None:
    environ = {"ANTHROPIC_AUTH_TOKEN": ANTHROPIC_TOKEN, "OPENAI_API_KEY": OPENAI_KEY}
    env = node_environ(environ, {"anthropic": "http://127.0.0.1:9/anthropic"})
    assert "ANTHROPIC_AUTH_TOKEN" not in env
    assert env["ANTHROPIC_API_KEY"] == OFFLINE_KEYS["anthropic"]
    assert env["OPENAI_API_KEY"] == OPENAI_KEY  # a live provider keeps its key
