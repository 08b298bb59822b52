"""The module's ``LLMClient`` (course_helpers.seed.client, verbatim) fails exactly as notebook 06
shows, against the simulated provider; where it works, it works. Where the course's
``course_helpers.client.LLMClient`` handles the same case, the test shows that too.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import anthropic
import pytest

from course_helpers.client import LLMClient
from course_helpers.fake import FakeProvider
from course_helpers.seed import client as seed

MESSAGES = [{"role": "user", "content": "Hello!"}]
MODULE = Path(seed.__file__).with_name("module-02.txt").read_text(encoding="utf-8")
USAGE = re.search(r"```python\n(# Initialize client\n.*?)```", MODULE, re.S)[1]  # type: ignore[index]


pytestmark = pytest.mark.fake(ttft=0.0, token_delay=0.0)  # the `fake` fixture (conftest.py)


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both keys set before the simulated provider starts (autouse fixtures come first)."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-seed-test-0000")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-seed-test-0000")


@pytest.fixture
def with_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Add the ``import time`` the module's block leaves out."""
    monkeypatch.setattr(seed, "time", time, raising=False)


def posts(fake: FakeProvider) -> list[Any]:
    return [call for call in fake.calls if call.method == "POST"]


def both() -> Any:
    return seed.LLMClient(openai_key=os.environ["OPENAI_API_KEY"],
                          anthropic_key=os.environ["ANTHROPIC_API_KEY"])  # fmt: skip


def test_complete_dies_on_time_before_sending_anything(fake: FakeProvider) -> None:
    assert "time" not in vars(seed)
    with pytest.raises(NameError, match="'time'"):
        both().complete(MESSAGES)
    assert posts(fake) == []  # start_time = time.time() is the first line: nothing was billed


def test_with_time_imported_openai_complete_works(fake: FakeProvider, with_time: None) -> None:
    reply = both().complete(MESSAGES, system="You are a friendly assistant.")
    assert reply.content and reply.latency_ms > 0 and reply.finish_reason == "stop"
    assert posts(fake)[-1].body["messages"][0] == {
        "role": "system",
        "content": "You are a friendly assistant.",
    }


def test_every_anthropic_complete_is_a_type_error(fake: FakeProvider, with_time: None) -> None:
    # temperature (default 0.7) always goes to messages.create, which anthropic 2.x refuses
    with pytest.raises(TypeError, match="temperature"):
        both().complete(MESSAGES, model="claude-haiku-5-5", provider=seed.Provider.ANTHROPIC)
    assert posts(fake) == []

    reply = LLMClient(model="claude-haiku-5-5").complete(MESSAGES, temperature=0.7)
    assert reply.content and posts(fake)[-1].body["temperature"] == 0.7


def test_a_provider_without_a_key_is_an_attribute_error(
    fake: FakeProvider, with_time: None
) -> None:
    only_openai = seed.LLMClient(openai_key="sk-seed-test-0000")
    with pytest.raises(AttributeError, match="'NoneType' object has no attribute 'messages'"):
        next(only_openai.stream(MESSAGES, model="claude-haiku-5-5",
                                provider=seed.Provider.ANTHROPIC))  # fmt: skip
    assert posts(fake) == []


def test_anthropic_stream_sends_the_openai_default_model(fake: FakeProvider) -> None:
    with pytest.raises(anthropic.NotFoundError):
        next(both().stream(MESSAGES, provider=seed.Provider.ANTHROPIC))
    assert [(c.provider, c.body["model"], c.status) for c in posts(fake)] == [
        ("anthropic", "gpt-4o", 404)
    ]


def test_streams_work_when_given_a_model(fake: FakeProvider) -> None:
    assert "".join(both().stream(MESSAGES))  # no usage asked for: no empty-choices chunk
    claude = both().stream(MESSAGES, model="claude-haiku-5-5", provider=seed.Provider.ANTHROPIC)
    assert "".join(claude)
    assert [c.status for c in posts(fake)] == [200, 200]


def test_usage_example_needs_os_and_both_keys(
    fake: FakeProvider, with_time: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = {"LLMClient": seed.LLMClient, "Provider": seed.Provider}
    with pytest.raises(NameError, match="'os'"):  # section 7 imports os; section 6 uses it
        exec(USAGE, dict(names))
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with pytest.raises(KeyError, match="ANTHROPIC_API_KEY"):
        exec(USAGE, {**names, "os": os})
    assert posts(fake) == []
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-seed-test-0000")
    with pytest.raises(anthropic.NotFoundError):  # its stream asks Anthropic for gpt-4o
        exec(USAGE, {**names, "os": os})
    assert [c.status for c in posts(fake)] == [200, 404]
