"""The offline environment is defined once, and nbval, the notebook builder and the grader use it.

A developer's machine may hold keys, a per-provider mode that beats ``COURSE_MODE`` or a base URL
pointing at a proxy; none may reach a kernel the course runs to check or build its notebooks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_helpers.grading.execute import kernel_environment
from course_helpers.offline_env import OFFLINE_SETTINGS, machine_variables, offline_environment
from course_helpers.provider_record import PROVIDER_RECORDS

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from build_notebooks import build  # noqa: E402

# What a developer's shell may hold: every one of these would make a kernel live or send it away.
MACHINE = {
    "OPENAI_API_KEY": "FAKE-KEY-FOR-TESTS-openai",
    "ANTHROPIC_API_KEY": "FAKE-KEY-FOR-TESTS-anthropic",
    "ANTHROPIC_AUTH_TOKEN": "FAKE-KEY-FOR-TESTS-token",
    "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
    "ANTHROPIC_BASE_URL": "http://127.0.0.1:9",
    "COURSE_MODE": "live",
    "COURSE_MODE_OPENAI": "live",
    "COURSE_MODE_ANTHROPIC": "live",
    "COURSE_DOTENV": "/home/someone/.env",
    "COURSE_FAKE_LATENCY": "1",
    "MPLBACKEND": "TkAgg",
    "LANG": "C.UTF-8",
}
DROPPED = {name for name in MACHINE if name.startswith(("OPENAI_", "ANTHROPIC_", "COURSE_MODE_"))}


def test_keys_modes_and_base_urls_are_dropped_and_the_settings_forced() -> None:
    env = offline_environment(MACHINE)
    assert DROPPED.isdisjoint(env)
    assert {name: env[name] for name in OFFLINE_SETTINGS} == dict(OFFLINE_SETTINGS)
    assert env["LANG"] == "C.UTF-8"  # the rest of the machine's environment is kept
    assert "IPYTHONDIR" not in env
    assert MACHINE["OPENAI_API_KEY"] == "FAKE-KEY-FOR-TESTS-openai"  # the base is not changed


def test_the_dropped_variables_come_from_the_provider_records() -> None:
    names = set(machine_variables())
    for record in PROVIDER_RECORDS.values():
        assert set(record.key_variables) <= names
        assert record.base_url_variable in names
        assert f"COURSE_MODE_{record.name.upper()}" in names


def test_an_ipython_dir_becomes_ipythondir(tmp_path: Path) -> None:
    assert offline_environment({}, ipython_dir=tmp_path)["IPYTHONDIR"] == str(tmp_path)


def test_the_grader_starts_from_the_same_environment(tmp_path: Path) -> None:
    env = kernel_environment(MACHINE, tmp_path)
    assert DROPPED.isdisjoint(env)
    assert {name: env[name] for name in OFFLINE_SETTINGS} == dict(OFFLINE_SETTINGS)
    assert env["COURSE_GRADING"] == "1" and env["IPYTHONDIR"] == str(tmp_path)


def _runner(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "course_helpers.offline_env", *args]
    return subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=60, check=False
    )


PRINT_ENV = "import json, os; print(json.dumps(dict(os.environ)))"


def test_the_runner_runs_the_command_in_the_offline_environment(tmp_path: Path) -> None:
    machine = {**os.environ, **MACHINE}
    done = _runner(
        "--ipython-dir", "tools/ipython", "--", sys.executable, "-c", PRINT_ENV, env=machine
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert DROPPED.isdisjoint(seen)
    assert {name: seen[name] for name in OFFLINE_SETTINGS} == dict(OFFLINE_SETTINGS)
    assert seen["IPYTHONDIR"] == str(ROOT / "tools" / "ipython")  # absolute: kernels may cd


def test_the_runner_passes_the_commands_exit_status_through() -> None:
    done = _runner("--", sys.executable, "-c", "raise SystemExit(3)")
    assert done.returncode == 3


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        ((), 2, "no command given: add -- and the command to run"),
        (("--",), 2, "no command given: add -- and the command to run"),
        (("--", "no-such-command-anywhere"), 127, "cannot run 'no-such-command-anywhere'"),
    ],
)
def test_the_runner_says_what_is_wrong_in_one_line(
    args: tuple[str, ...], status: int, message: str
) -> None:
    done = _runner(*args)
    assert done.returncode == status
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_the_makefile_runs_nbval_and_the_doctests_through_the_runner() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    logical = makefile.replace("\\\n", " ").splitlines()  # continued lines joined
    recipes = [line.strip() for line in logical if line.startswith("\t")]
    nbval = [line for line in recipes if "--nbval" in line and "pytest" in line]
    doctests = [line for line in recipes if "--doctest-modules" in line]
    assert nbval and doctests
    assert all(line.startswith("$(OFFLINE) ") for line in nbval + doctests)
    assert "OFFLINE := $(BIN)/python -m course_helpers.offline_env" in makefile
    for name in OFFLINE_SETTINGS:  # written once, in offline_env.py: not again here
        assert f"{name}=" not in makefile


def test_the_builder_executes_notebooks_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in MACHINE.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "sources" / "notebooks").mkdir(parents=True)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "sources" / "notebooks" / "01_env.py").write_text(
        f"# %%\n{PRINT_ENV}\n", encoding="utf-8"
    )
    notebook = nbformat.read(build("01_env", root=tmp_path), as_version=4)
    seen = json.loads(notebook.cells[0].outputs[0].text)
    assert DROPPED.isdisjoint(seen)
    assert {name: seen[name] for name in OFFLINE_SETTINGS} == dict(OFFLINE_SETTINGS)
    assert seen["IPYTHONDIR"] == str(ROOT / "tools" / "ipython")
    assert os.environ["OPENAI_API_KEY"] == MACHINE["OPENAI_API_KEY"]  # the builder's own is kept
