"""The ``%%node`` cell magic: the module's Node.js snippets run against the simulated provider.

These tests run the real ``node`` and the SDKs that ``npm ci`` installed (``make unit`` does it).
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from course_helpers import node_magic
from course_helpers.node_magic import NodeError, NodeUnavailable, error_summary, run_node

SECRET = "sk-proj-FAKE-KEY-FOR-TESTS-standing-in-for-a-learners-key-0000"
ANTHROPIC_SECRET = "sk-ant-api03-FAKE-KEY-FOR-TESTS-standing-in-for-a-learners-key-0000"

# The module's section 1 snippets (authentication + basic request), as it prints them.
MODULE_OPENAI = """\
import OpenAI from 'openai';

const client = new OpenAI({
  apiKey: process.env.OPENAI_API_KEY
});

const response = await client.chat.completions.create({
    model: "gpt-4o",
    messages: [
        { role: "system", content: "You are a helpful assistant." },
        { role: "user", content: "Explain API integration in one sentence." }
    ],
    temperature: 0.7,
    max_tokens: 150
});

console.log(response.choices[0].message.content);
console.log("base:", client.baseURL);
"""

# The module's section 2 request, with its (retired) model.
MODULE_ANTHROPIC_RETIRED = """\
import Anthropic from '@anthropic-ai/sdk';

const client = new Anthropic({
  apiKey: process.env.ANTHROPIC_API_KEY
});
console.log("base:", client.baseURL);
const response = await client.messages.create({
    model: "claude-3-5-sonnet-20241022",
    max_tokens: 1024,
    system: "You are a helpful assistant.",
    messages: [
        { role: "user", content: "Explain API integration in one sentence." }
    ]
});

console.log(response.content[0].text);
"""


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both providers simulated, although the learner's real keys are in the environment."""
    monkeypatch.setenv("COURSE_MODE", "offline")
    monkeypatch.setenv("COURSE_DOTENV", "none")
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_SECRET)


@pytest.fixture
def shell() -> InteractiveShell:
    ip = InteractiveShell.instance()
    node_magic.load_ipython_extension(ip)
    return ip


def test_module_openai_snippet_runs_against_the_simulated_provider(offline: None) -> None:
    out = io.StringIO()
    result = run_node(MODULE_OPENAI, out=out)
    assert result.status == 0, result.stderr
    answer, base = out.getvalue().splitlines()[-2:]
    assert "API integration" in answer
    assert base.startswith("base: http://127.0.0.1:") and base.endswith("/v1")
    assert SECRET not in out.getvalue() + result.stderr


def test_retired_model_is_a_short_error_with_the_api_message(
    offline: None, shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    result = shell.run_cell("%%node\n" + MODULE_ANTHROPIC_RETIRED)
    assert isinstance(result.error_in_exec, NodeError)
    shown = capsys.readouterr()
    base = next(line for line in shown.out.splitlines() if line.startswith("base:"))
    assert base.startswith("base: http://127.0.0.1:") and not base.endswith("/v1")
    rendered = result.error_in_exec._render_traceback_()
    assert rendered[0].startswith("NotFoundError: 404 ")
    assert "retired on 2025-10-22" in rendered[0] and "claude-sonnet-5-5" in rendered[0]
    assert len(rendered) <= 3, rendered
    assert not any(line.lstrip().startswith("at ") for line in rendered)


def test_no_real_key_reaches_a_simulated_script(offline: None) -> None:
    out = io.StringIO()
    run_node(
        "console.log(process.env.OPENAI_API_KEY, process.env.ANTHROPIC_API_KEY);\n"
        "console.error(JSON.stringify(process.env));\n",
        out=out,
    )
    assert SECRET not in out.getvalue() and ANTHROPIC_SECRET not in out.getvalue()
    assert out.getvalue().split() == ["sk-offline-simulated", "sk-ant-offline-simulated"]


def test_a_live_provider_keeps_its_key_and_the_real_api() -> None:
    env = node_magic.node_environ(
        {"OPENAI_API_KEY": SECRET, "ANTHROPIC_API_KEY": ANTHROPIC_SECRET},
        {"anthropic": "http://127.0.0.1:9/"},
    )
    assert env["OPENAI_API_KEY"] == SECRET and "OPENAI_BASE_URL" not in env
    assert env["ANTHROPIC_API_KEY"] != ANTHROPIC_SECRET
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:9/"


def test_output_is_plain_text_in_a_kernel_that_forces_colour(
    offline: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # ipykernel sets it
    out = io.StringIO()
    result = run_node("console.log(404, { status: 404 });", out=out)
    assert out.getvalue() == "404 { status: 404 }\n"
    assert result.stderr == ""


@pytest.mark.parametrize("missing", ["node", "node_modules"])
def test_missing_node_is_one_line_not_a_traceback(
    missing: str,
    offline: None,
    shell: InteractiveShell,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    if missing == "node":
        monkeypatch.setattr(shutil, "which", lambda name: None)
    else:
        monkeypatch.setattr(node_magic, "ROOT", tmp_path)
    result = shell.run_cell("%%node\nconsole.log('hi');\n")
    shown = capsys.readouterr()
    assert result.error_in_exec is None
    assert shown.out == ""
    lines = shown.err.splitlines()
    assert len(lines) == 1, shown.err
    assert "npm ci" in lines[0] and "Traceback" not in shown.err
    assert ("nodejs.org" in lines[0]) == (missing == "node")
    assert SECRET not in shown.err


def test_error_summary_keeps_the_message_and_drops_frames_and_the_dump() -> None:
    stderr = (
        "file:///course/node_modules/openai/core/error.mjs:55\n"
        "        return new NotFoundError(status, error, message, headers);\n"
        "               ^\n"
        "\n"
        "NotFoundError: 404 The model `gpt-9` does not exist\n"
        "    at APIError.generate (file:///course/node_modules/openai/core/error.mjs:55:20)\n"
        "    at async file:///course/[eval1]:3:1 {\n"
        "  status: 404,\n"
        "}\n"
        "\n"
        "Node.js v20.20.2\n"
    )
    assert error_summary(stderr) == "NotFoundError: 404 The model `gpt-9` does not exist"
    assert error_summary("SyntaxError: Unexpected token\n\nNode.js v20\n") == (
        "SyntaxError: Unexpected token"
    )


def test_a_script_that_hangs_is_stopped(offline: None) -> None:
    with pytest.raises(NodeError, match=r"stopped after 0\.5 s"):
        run_node("await new Promise((resolve) => setTimeout(resolve, 60000));", timeout=0.5)


def test_check_node_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(NodeUnavailable, match=r"openai, @anthropic-ai/sdk missing"):
        node_magic.check_node(tmp_path)


def test_each_script_gets_a_fresh_simulated_provider(offline: None) -> None:
    joke = """\
import OpenAI from "openai";
const client = new OpenAI();
const reply = await client.chat.completions.create({
  model: "gpt-4o", messages: [{ role: "user", content: "Tell me a joke" }],
});
console.log(reply.id, reply.choices[0].message.content);
"""
    first, second = io.StringIO(), io.StringIO()
    run_node(joke, out=first)
    run_node(joke, out=second)
    # the same text from the provider's first draw; the ids differ (fresh unless seeded)
    first_id, first_text = first.getvalue().split(" ", 1)
    second_id, second_text = second.getvalue().split(" ", 1)
    assert first_text and first_text == second_text
    assert first_id.startswith("chatcmpl-") and first_id != second_id
