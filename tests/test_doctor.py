"""python -m course_helpers.doctor: the report, the reachability check, the exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pytest
from support import ANTHROPIC_KEY, OPENAI_KEY

from course_helpers import doctor, setup
from course_helpers.doctor import main, report
from course_helpers.fake import FakeProvider

pytestmark = pytest.mark.usefixtures("isolated_setup")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record (and refuse) every reachability request."""
    attempts: list[str] = []

    def refuse(provider: str, *args: object) -> Callable[[], object]:
        attempts.append(provider)
        raise AssertionError("the doctor must not contact a simulated provider")

    monkeypatch.setattr(doctor, "_one_token", refuse)
    return attempts


@pytest.fixture
def keys_set() -> None:
    os.environ["OPENAI_API_KEY"] = OPENAI_KEY
    os.environ["ANTHROPIC_API_KEY"] = ANTHROPIC_KEY


def ticking_clock(step: float = 0.5) -> Callable[[], float]:
    now = [0.0]

    def clock() -> float:
        now[0] += step
        return now[0]

    return clock


def provider_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("OpenAI", "Anthropic", " "))]


# ------------------------------------------------------------------------------ the report


def test_no_keys_no_network(tmp_path: Path, no_network: list[str]) -> None:
    result = report()
    assert no_network == []
    assert result.ok and result.problems == ()
    assert "OpenAI       simulated  no OPENAI_API_KEY set" in result.text
    assert "Anthropic    simulated  no ANTHROPIC_API_KEY set" in result.text
    assert f".env         not found (searched upward from {tmp_path}: {tmp_path}," in result.text
    assert f"Directory    {tmp_path}" in result.text
    assert result.text.endswith("Result: all good.")


def test_environment_section(no_network: list[str]) -> None:
    text = report().text
    python = ".".join(map(str, sys.version_info[:3]))
    assert f"Python       {python} at {sys.executable}" in text
    for dist in ("openai", "anthropic", "httpx2", "python-dotenv", "ipykernel"):
        assert f"{dist} {metadata.version(dist)}" in text
    assert "course_helpers 0.1.0" in text


def test_env_file_and_settings_are_shown(tmp_path: Path, no_network: list[str]) -> None:
    env = tmp_path / ".env"
    env.write_text("COURSE_MODE=offline\nOPENAI_BASE_URL=http://localhost:8787/v1\n")
    os.environ["HTTPS_PROXY"] = "http://me:s3cret@proxy.example:3128"
    text = report().text
    assert f".env         {env}" in text
    assert "COURSE_MODE=offline" in text and "OPENAI_BASE_URL=http://localhost:8787/v1" in text
    assert "HTTPS_PROXY=http://proxy.example:3128" in text
    assert "s3cret" not in text


def test_key_problems_are_listed_masked(tmp_path: Path, no_network: list[str]) -> None:
    (tmp_path / ".env.txt").write_text(f"OPENAI_API_KEY={OPENAI_KEY}\n")
    os.environ["ANTHROPIC_API_KEY"] = OPENAI_KEY
    result = report(network=False)
    assert not result.ok and len(result.problems) == 2
    assert "Problems (2):" in result.text and "Result: 2 problem(s) found." in result.text
    assert any(".env.txt -> .env" in p for p in result.problems)
    assert any("looks like an OpenAI key" in p for p in result.problems)
    assert "Anthropic    live       key sk-…wxyz from the environment" in result.text
    assert OPENAI_KEY[8:-4] not in result.text


def test_env_file_problems_are_listed(tmp_path: Path, no_network: list[str]) -> None:
    broken = OPENAI_KEY[:20] + "\x00" + OPENAI_KEY[20:]
    (tmp_path / ".env").write_text(
        f"OPENAI_API_KEY={broken}\nCOURSE_MODE=live\nCOURSE_MODE=auto\n"
        + "# padding\n" * 30_000
        + f"ANTHROPIC_API_KEY={ANTHROPIC_KEY}\n"
    )
    result = report(network=False)
    assert not result.ok and "Result: 3 problem(s) found." in result.text
    too_large, twice, nul = result.problems
    assert "only its first 256 KB are read" in too_large
    assert twice.startswith("COURSE_MODE is set 2 times in ") and "(line 3) is used" in twice
    assert nul.startswith("OPENAI_API_KEY (line 1 of ") and "NUL byte" in nul
    assert "Anthropic    simulated  no ANTHROPIC_API_KEY set" in result.text
    assert OPENAI_KEY[20:] not in result.text and ANTHROPIC_KEY not in result.text


def test_live_mode_without_keys_is_a_problem_not_a_crash(no_network: list[str]) -> None:
    os.environ["COURSE_MODE"] = "live"
    result = report()
    assert any("OPENAI_API_KEY is not set" in p for p in result.problems)
    assert "OpenAI       simulated" in result.text


def test_unknown_course_mode_is_a_problem(no_network: list[str]) -> None:
    os.environ["COURSE_MODE"] = "onlin"
    assert any("Unknown mode 'onlin'" in p for p in report().problems)


def test_unsupported_sdk_version_is_a_problem(
    monkeypatch: pytest.MonkeyPatch, no_network: list[str]
) -> None:
    real = metadata.version
    monkeypatch.setattr(
        doctor.metadata, "version", lambda d: "1.99.0" if d == "openai" else real(d)
    )
    result = report()
    assert "openai 1.99.0 is installed; the course needs >=3.57,<4" in " ".join(result.problems)


def test_no_network_flag_skips_the_check(keys_set: None, no_network: list[str]) -> None:
    result = report(network=False)
    assert no_network == []
    assert result.text.count("check: skipped (--no-network)") == 2
    assert result.ok


# ------------------------------------------------------------------------------ reachability


def test_reachable_providers(keys_set: None) -> None:
    with FakeProvider() as fake:
        result = report(clock=ticking_clock())
    assert result.ok, result.text
    lines = provider_lines(result.text)
    assert "check: OK in 0.50 s (gpt-5.4-mini answered)" in lines[1]
    assert "check: OK in 0.50 s (claude-haiku-5-5 answered)" in lines[3]
    openai_call, anthropic_call = fake.calls
    assert openai_call.body["max_completion_tokens"] == 1
    assert anthropic_call.body["max_tokens"] == 1
    assert [call.retry_count for call in fake.calls] == [0, 0]


def test_only_live_providers_are_checked() -> None:
    os.environ["ANTHROPIC_API_KEY"] = ANTHROPIC_KEY
    with FakeProvider() as fake:
        result = report()
    assert [call.provider for call in fake.calls] == ["anthropic"]
    assert result.text.count("check: OK") == 1


def test_rejected_key_is_reported_masked(keys_set: None) -> None:
    with FakeProvider() as fake:
        fake.fail_next(401, provider="openai")
        result = report()
    assert not result.ok
    [problem] = result.problems
    assert problem.startswith("OpenAI: key rejected (401)")
    assert "AuthenticationError" in problem
    for secret in (OPENAI_KEY, ANTHROPIC_KEY):
        assert secret[3:-4] not in result.text


def test_a_key_the_fake_refuses_is_rejected() -> None:
    os.environ["OPENAI_API_KEY"] = "not-a-key-" + "k" * 30
    with FakeProvider():
        result = report()
    assert any("key rejected (401)" in p for p in result.problems)


def test_exhausted_quota(keys_set: None) -> None:
    with FakeProvider() as fake:
        fake.fail_next(429, quota=True, provider="openai")
        result = report()
    assert result.problems[0].startswith("OpenAI: no credit left (429)")


def test_a_rate_limit_means_the_key_works(keys_set: None) -> None:
    with FakeProvider() as fake:
        fake.fail_next(429, provider="anthropic")
        result = report()
    assert result.ok
    assert "reachable, key accepted, but rate limited now (429)" in result.text


def test_server_trouble(keys_set: None) -> None:
    with FakeProvider() as fake:
        fake.fail_next(529, provider="anthropic")
        result = report()
    assert result.problems[0].startswith("Anthropic: the provider is having trouble (529)")


def test_dropped_connection(keys_set: None) -> None:
    with FakeProvider() as fake:
        fake.fail_next(drop=True, provider="openai")
        result = report()
    assert result.problems[0].startswith("OpenAI: cannot connect")


def test_timeout(keys_set: None) -> None:
    with FakeProvider() as fake:
        fake.fail_next(hang=True, provider="openai")
        result = report(timeout=0.05)
    assert result.problems[0].startswith("OpenAI: no answer within 0.05 s")


# ------------------------------------------------------------------------------ the command


def test_main_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--no-network"]) == 0
    assert "Result: all good." in capsys.readouterr().out
    (tmp_path / ".env.txt").write_text("OPENAI_API_KEY=\n")
    assert main(["--no-network"]) == 1
    assert "Problems (1):" in capsys.readouterr().out


def test_python_dash_m(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env["PYTHONPATH"] = str(REPO)
    env["ANTHROPIC_API_KEY"] = OPENAI_KEY  # a wrong-provider key: a problem, exit code 1
    done = subprocess.run(
        [sys.executable, "-m", "course_helpers.doctor", "--no-network"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("course_helpers doctor")
    assert "looks like an OpenAI key" in done.stdout
    assert OPENAI_KEY[8:-4] not in done.stdout + done.stderr


def test_settings_show_the_edited_env_file_after_setup_applied_it(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(f"OPENAI_API_KEY={OPENAI_KEY}\nOPENAI_BASE_URL=http://localhost:8787/v1\n")
    with setup(mode={"openai": "live", "anthropic": "offline"}):
        assert os.environ["OPENAI_BASE_URL"] == "http://localhost:8787/v1"  # applied
        env.write_text(f"OPENAI_API_KEY={OPENAI_KEY}\nOPENAI_BASE_URL=http://localhost:9999/v1\n")
        text = report(network=False).text
    settings = next(line for line in text.splitlines() if line.startswith("Settings"))
    assert "OPENAI_BASE_URL=http://localhost:9999/v1" in settings  # what a re-run of setup() sees
    assert "at your endpoint http://localhost:9999/v1" in text  # and the provider line agrees
