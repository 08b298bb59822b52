"""setup(): per-provider decisions, the banner, warnings, the default simulated provider."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from anthropic import Anthropic
from openai import OpenAI
from support import ANTHROPIC_KEY, OPENAI_KEY

from course_helpers import __version__, keys, modes
from course_helpers.doctor import report
from course_helpers.fake import FakeProvider, respx_adapter
from course_helpers.keys import OFFLINE_KEYS, MissingKeyError
from course_helpers.modes import Setup, setup

pytestmark = pytest.mark.usefixtures("isolated_setup")


def write_env(directory: Path, text: str, name: str = ".env") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ decisions


def test_no_keys_means_both_simulated(capsys: pytest.CaptureFixture[str]) -> None:
    course = setup()
    assert course.is_offline("openai") and course.is_offline("anthropic")
    assert course.fake is not None and course.fake.providers == {"openai", "anthropic"}
    assert respx_adapter.active() is course.fake
    assert os.environ["OPENAI_API_KEY"] == OFFLINE_KEYS["openai"]
    assert os.environ["ANTHROPIC_API_KEY"] == OFFLINE_KEYS["anthropic"]
    assert capsys.readouterr().out == course.banner + "\n"
    assert course.banner.splitlines() == [
        f"course_helpers {__version__} · no .env found",
        "OpenAI     simulated  no OPENAI_API_KEY set — answers come from the simulated provider",
        "Anthropic  simulated  no ANTHROPIC_API_KEY set — answers come from the simulated provider",
    ]


def test_one_key_makes_that_provider_live(tmp_path: Path) -> None:
    env = write_env(tmp_path, f"OPENAI_API_KEY={OPENAI_KEY}\n")
    course = setup()
    assert course.is_live("openai") and course.is_offline("anthropic")
    assert course.env_file == env
    assert course.providers["openai"].masked_key == "sk-…wxyz"
    assert course.providers["openai"].key_source == ".env"
    assert course.fake is not None and course.fake.providers == {"anthropic"}
    assert os.environ["OPENAI_API_KEY"] == OPENAI_KEY  # loaded from .env
    lines = course.banner.splitlines()
    assert lines[0] == f"course_helpers {__version__} · .env: {env}"
    assert lines[1] == "OpenAI     live       key sk-…wxyz from .env"


def test_both_keys_mean_no_simulated_provider() -> None:
    os.environ["OPENAI_API_KEY"] = OPENAI_KEY
    os.environ["ANTHROPIC_API_KEY"] = ANTHROPIC_KEY
    course = setup()
    assert course.is_live("openai") and course.is_live("anthropic")
    assert course.fake is None and respx_adapter.active() is None
    assert "key sk-…9876 from the environment" in course.banner


def test_course_mode_offline_forces_both_offline_and_keeps_the_key() -> None:
    os.environ["OPENAI_API_KEY"] = OPENAI_KEY
    os.environ["COURSE_MODE"] = "offline"
    course = setup()
    assert course.is_offline("openai") and course.is_offline("anthropic")
    assert course.fake is not None and course.fake.providers == {"openai", "anthropic"}
    assert os.environ["OPENAI_API_KEY"] == OPENAI_KEY
    assert os.environ["ANTHROPIC_API_KEY"] == OFFLINE_KEYS["anthropic"]
    lines = course.banner.splitlines()
    assert lines[1] == "OpenAI     simulated  (COURSE_MODE=offline; your key is ignored)"
    assert lines[2] == "Anthropic  simulated  (COURSE_MODE=offline)"


def test_course_mode_can_come_from_env_file(tmp_path: Path) -> None:
    write_env(tmp_path, f"OPENAI_API_KEY={OPENAI_KEY}\nCOURSE_MODE=offline\n")
    assert setup().is_offline("openai")


def test_mode_argument_beats_course_mode() -> None:
    os.environ["OPENAI_API_KEY"] = OPENAI_KEY
    os.environ["COURSE_MODE"] = "live"
    course = setup(mode="offline")
    assert course.is_offline("openai")
    assert "(setup(mode='offline'); your key is ignored)" in course.banner


def test_per_provider_mode_from_the_environment() -> None:
    os.environ["OPENAI_API_KEY"] = OPENAI_KEY
    os.environ["ANTHROPIC_API_KEY"] = ANTHROPIC_KEY
    os.environ["COURSE_MODE_ANTHROPIC"] = "offline"
    course = setup()
    assert course.is_live("openai") and course.is_offline("anthropic")
    assert course.fake is not None and course.fake.providers == {"anthropic"}
    assert "(COURSE_MODE_ANTHROPIC=offline; your key is ignored)" in course.banner


def test_per_provider_mode_as_a_dict() -> None:
    os.environ["OPENAI_API_KEY"] = OPENAI_KEY
    course = setup(mode={"openai": "offline"})
    assert course.is_offline("openai") and course.is_offline("anthropic")
    assert "(setup(mode={'openai': 'offline'}); your key is ignored)" in course.banner


def test_mode_is_case_insensitive_and_simulated_is_offline() -> None:
    os.environ["OPENAI_API_KEY"] = OPENAI_KEY
    assert setup(mode="Simulated").is_offline("openai")


def test_live_without_keys_names_the_variable_and_the_file(tmp_path: Path) -> None:
    os.environ["OPENAI_API_KEY"] = OPENAI_KEY
    with pytest.raises(MissingKeyError) as caught:
        setup(mode="live")
    message = str(caught.value)
    assert message == (
        f"ANTHROPIC_API_KEY is not set. Put it in {tmp_path / '.env'} or run setup(mode='offline')."
    )


def test_live_without_keys_points_at_the_course_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env(tmp_path, "OPENAI_API_KEY=\nANTHROPIC_API_KEY=\n", name=".env.example")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    os.environ["COURSE_MODE"] = "live"
    with pytest.raises(MissingKeyError) as caught:
        setup()
    lines = str(caught.value).splitlines()
    assert lines == [
        f"OPENAI_API_KEY is not set. Put it in {tmp_path / '.env'} (copy .env.example) "
        "or run setup(mode='offline').",
        f"ANTHROPIC_API_KEY is not set. Put it in {tmp_path / '.env'} (copy .env.example) "
        "or run setup(mode='offline').",
    ]


def test_live_with_an_empty_key_says_it_is_empty(tmp_path: Path) -> None:
    env = write_env(tmp_path, f"OPENAI_API_KEY={OPENAI_KEY}\nANTHROPIC_API_KEY=\n")
    with pytest.raises(MissingKeyError, match=re.escape(f"ANTHROPIC_API_KEY= in {env}")):
        setup(mode="live")


def test_a_failed_live_setup_leaves_the_previous_one_working() -> None:
    first = setup()
    with pytest.raises(MissingKeyError):
        setup(mode="live")
    assert respx_adapter.active() is first.fake
    assert os.environ["OPENAI_API_KEY"] == OFFLINE_KEYS["openai"]


def test_live_with_keys_works() -> None:
    os.environ["OPENAI_API_KEY"] = OPENAI_KEY
    os.environ["ANTHROPIC_API_KEY"] = ANTHROPIC_KEY
    course = setup(mode="live")
    assert course.is_live("openai") and course.is_live("anthropic")


@pytest.mark.parametrize("source", ["argument", "environment"])
def test_unknown_mode_lists_the_valid_ones(source: str) -> None:
    if source == "environment":
        os.environ["COURSE_MODE"] = "onlin"
    with pytest.raises(ValueError, match=r"'onlin'.*use 'auto', 'live' or 'offline'"):
        setup(mode="onlin" if source == "argument" else None)


def test_unknown_provider_in_a_mode_dict() -> None:
    with pytest.raises(ValueError, match="gemini"):
        setup(mode={"gemini": "live"})


def test_env_file_in_a_parent_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = write_env(tmp_path, f"ANTHROPIC_API_KEY={ANTHROPIC_KEY}\n")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    course = setup()
    assert course.env_file == env and course.is_live("anthropic")


def test_a_real_environment_variable_beats_env(tmp_path: Path) -> None:
    other = "sk-proj-" + "Q" * 40 + "abcd"
    write_env(tmp_path, f"OPENAI_API_KEY={OPENAI_KEY}\n")
    os.environ["OPENAI_API_KEY"] = other
    course = setup()
    assert course.providers["openai"].masked_key == "sk-…abcd"
    assert course.providers["openai"].key_source == "environment"
    assert os.environ["OPENAI_API_KEY"] == other
    assert any("is set in the environment" in w for w in course.warnings)


def test_placeholder_key_is_simulated_with_a_warning(tmp_path: Path) -> None:
    write_env(tmp_path, "OPENAI_API_KEY=your-openai-key-here\n")
    course = setup()
    assert course.is_offline("openai")
    assert "OPENAI_API_KEY holds placeholder text" in course.banner
    assert any("placeholder" in w for w in course.warnings)
    assert os.environ["OPENAI_API_KEY"] == OFFLINE_KEYS["openai"]  # so the fake accepts it


def test_setup_returns_a_setup() -> None:
    course = setup()
    assert isinstance(course, Setup)
    assert repr(course) == "<Setup openai=simulated anthropic=simulated>"
    assert str(course) == course.banner
    with pytest.raises(ValueError, match="Unknown provider 'gemini'"):
        course.is_offline("gemini")


# ------------------------------------------------------------------------------ warnings


def test_env_txt_is_warned_about(tmp_path: Path) -> None:
    write_env(tmp_path, f"OPENAI_API_KEY={OPENAI_KEY}\n", name=".env.txt")
    course = setup()
    assert course.is_offline("openai")
    assert any(".env.txt -> .env" in w for w in course.warnings)
    assert "warning: Found " in course.banner


def test_quoted_key_in_the_environment_is_warned_about() -> None:
    os.environ["OPENAI_API_KEY"] = f'"{OPENAI_KEY}"'
    course = setup()
    assert course.is_live("openai")
    assert any("quotes around it" in w for w in course.warnings)
    assert course.providers["openai"].masked_key == "****"


def test_key_with_a_trailing_space_is_warned_about(tmp_path: Path) -> None:
    write_env(tmp_path, f'ANTHROPIC_API_KEY="{ANTHROPIC_KEY} "\n')
    course = setup()
    assert any("space or line break" in w for w in course.warnings)


def test_wrong_provider_key_is_warned_about() -> None:
    os.environ["OPENAI_API_KEY"] = ANTHROPIC_KEY
    course = setup()
    assert any("holds an Anthropic key" in w for w in course.warnings)


def test_a_nul_byte_in_env_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    broken = OPENAI_KEY[:20] + "\x00" + OPENAI_KEY[20:]
    write_env(tmp_path, f"OPENAI_API_KEY={broken}\nANTHROPIC_API_KEY={ANTHROPIC_KEY}\n")
    course = setup()
    assert course.is_offline("openai") and course.is_live("anthropic")
    assert "warning: OPENAI_API_KEY (line 1 of " in course.banner
    assert "NUL byte" in course.banner and OPENAI_KEY[20:] not in course.banner
    assert os.environ["OPENAI_API_KEY"] == OFFLINE_KEYS["openai"]
    assert report(network=False).problems == course.warnings  # the doctor says the same


def test_a_key_set_twice_in_env_is_a_warning(tmp_path: Path) -> None:
    other = "sk-ant-api03-" + "Q" * 40 + "1111"
    write_env(tmp_path, f"ANTHROPIC_API_KEY={other}\nANTHROPIC_API_KEY={ANTHROPIC_KEY}\n")
    course = setup()
    assert course.providers["anthropic"].masked_key == "sk-…9876"  # the last one wins
    [warning] = course.warnings
    assert warning.startswith("ANTHROPIC_API_KEY is set 2 times in ")
    assert "(lines 1 and 2)" in warning and "the last one (line 2) is used" in warning
    assert other not in course.banner and ANTHROPIC_KEY not in course.banner
    assert report(network=False).problems == course.warnings


def test_env_example_hint_only_when_it_helps(tmp_path: Path) -> None:
    write_env(tmp_path, "OPENAI_API_KEY=\n", name=".env.example")
    assert "hint: No .env file yet" in setup().banner
    os.environ["COURSE_MODE"] = "offline"
    assert "hint:" not in setup().banner


def test_fake_options_with_every_provider_live_are_reported() -> None:
    os.environ["OPENAI_API_KEY"] = OPENAI_KEY
    os.environ["ANTHROPIC_API_KEY"] = ANTHROPIC_KEY
    course = setup(rpm=3)
    assert course.fake is None
    assert any("rpm are for the simulated provider" in w for w in course.warnings)


# ------------------------------------------------------------------------------ the default fake


def test_setup_again_replaces_the_fake_instead_of_stacking() -> None:
    first = setup()
    second = setup()
    assert first.fake is not None and second.fake is not None and first.fake is not second.fake
    assert respx_adapter.active() is second.fake
    second.fake.stop()
    assert respx_adapter.active() is None  # the first one is not underneath
    assert second.is_offline("openai")  # the offline placeholder was not taken for a key


def test_setup_again_sees_an_edited_env(tmp_path: Path) -> None:
    env = write_env(tmp_path, "OPENAI_API_KEY=\n")
    assert setup().is_offline("openai")
    write_env(tmp_path, f"OPENAI_API_KEY={OPENAI_KEY}\n")
    course = setup()
    assert course.is_live("openai") and course.env_file == env
    assert os.environ["OPENAI_API_KEY"] == OPENAI_KEY
    assert course.fake is not None and course.fake.providers == {"anthropic"}


def test_teardown_stops_the_fake_and_restores_the_environment(tmp_path: Path) -> None:
    write_env(tmp_path, "COURSE_FAKE_LATENCY=0\n")
    setup()
    modes.teardown()
    assert respx_adapter.active() is None
    assert "OPENAI_API_KEY" not in os.environ and "COURSE_FAKE_LATENCY" not in os.environ


def test_fake_options_reach_the_fake() -> None:
    course = setup(rpm=7, period=2.0, seed=3)
    assert course.fake is not None
    assert (course.fake.period, course.fake.seed) == (2.0, 3)


def test_no_latency_under_pytest() -> None:
    course = setup()
    assert course.fake is not None and (course.fake.ttft, course.fake.token_delay) == (0.0, 0.0)


def test_realistic_latency_in_a_notebook(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    course = setup()
    assert course.fake is not None and (course.fake.ttft, course.fake.token_delay) == (0.4, 0.02)


def test_course_fake_latency_zero_turns_latency_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    os.environ["COURSE_FAKE_LATENCY"] = "0"
    course = setup()
    assert course.fake is not None and course.fake.ttft == 0.0


def test_explicit_latency_wins() -> None:
    course = setup(ttft=0.25)
    assert course.fake is not None and (course.fake.ttft, course.fake.token_delay) == (0.25, 0.0)


# ------------------------------------------------------------------------------ end to end


def ask_both() -> tuple[str, str]:
    openai_reply = OpenAI().chat.completions.create(
        model="gpt-5.4-mini", messages=[{"role": "user", "content": "Say hello"}]
    )
    anthropic_reply = Anthropic().messages.create(
        model="claude-haiku-5-5", max_tokens=50, messages=[{"role": "user", "content": "Say hello"}]
    )
    block = anthropic_reply.content[0]
    assert block.type == "text"
    return openai_reply.choices[0].message.content or "", block.text


def test_plain_sdk_clients_work_offline_without_keys() -> None:
    course = setup()
    openai_text, anthropic_text = ask_both()
    assert openai_text and anthropic_text
    assert course.fake is not None
    assert [call.status for call in course.fake.calls] == [200, 200]


def test_a_fake_entered_later_takes_over_and_hands_back() -> None:
    course = setup()
    assert course.fake is not None
    with FakeProvider() as demo:
        demo.fail_next(429, provider="openai")
        with pytest.raises(Exception, match=r"429|rate") as caught:
            OpenAI(max_retries=0).chat.completions.create(
                model="gpt-5.4-mini", messages=[{"role": "user", "content": "hi"}]
            )
        assert type(caught.value).__name__ == "RateLimitError"
        ask_both()
        assert len(demo.calls) == 3
    assert course.fake.calls == []
    ask_both()
    assert len(course.fake.calls) == 2


def test_forced_offline_with_a_real_key_is_answered_by_the_fake() -> None:
    os.environ["OPENAI_API_KEY"] = OPENAI_KEY
    course = setup(mode="offline")
    ask_both()
    assert course.fake is not None
    assert all(OPENAI_KEY not in repr(call) for call in course.fake.calls)


# ------------------------------------------------------------------------------ no key leaks


def windows(secret: str, size: int = 8) -> list[str]:
    return [secret[i : i + size] for i in range(len(secret) - size + 1)]


def assert_no_leak(text: str) -> None:
    for secret in (OPENAI_KEY, ANTHROPIC_KEY):
        body = secret[3:-4]  # what masking never shows
        leaked = [w for w in windows(body) if w in text]
        assert not leaked, f"key material leaked: {leaked[:3]}"


@pytest.mark.parametrize(
    "environ",
    [
        {"OPENAI_API_KEY": OPENAI_KEY, "ANTHROPIC_API_KEY": ANTHROPIC_KEY},
        {"OPENAI_API_KEY": ANTHROPIC_KEY, "ANTHROPIC_API_KEY": OPENAI_KEY},  # swapped
        {"OPENAI_API_KEY": f"'{OPENAI_KEY} '", "ANTHROPIC_API_KEY": f"“{ANTHROPIC_KEY}”"},
        {"OPENAI_API_KEY": OPENAI_KEY, "COURSE_MODE": "offline", "CLAUDE_API_KEY": ANTHROPIC_KEY},
    ],
)
def test_no_key_in_banner_repr_warnings_or_doctor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], environ: dict[str, str]
) -> None:
    write_env(tmp_path, f"OPENAI_API_KEY={ANTHROPIC_KEY}\n")  # and a different one in .env
    os.environ.update(environ)
    course = setup()
    doctor = report(network=False)
    shown = [
        course.banner,
        repr(course),
        str(course),
        repr(course.providers),
        *course.warnings,
        *course.hints,
        capsys.readouterr().out,
        doctor.text,
        *doctor.problems,
        repr(keys.scan_env()),
        repr(keys.key_status("openai", keys.scan_env(), os.environ)),
    ]
    for text in shown:
        assert_no_leak(text)
    assert course.warnings  # the cases above all have something to warn about


@pytest.mark.parametrize(
    "environ",
    [{"ANTHROPIC_API_KEY": OPENAI_KEY}, {"OPENAI_API_KEY": f'"{OPENAI_KEY}"'}],
)
def test_forced_offline_ignores_a_broken_key_too(environ: dict[str, str]) -> None:
    os.environ.update(environ)
    setup(mode="offline")
    ask_both()  # the simulated provider does not see the broken key
    modes.teardown()
    for name, value in environ.items():
        assert os.environ[name] == value  # and it is put back afterwards


def test_a_rerun_sees_the_key_a_forced_offline_run_set_aside() -> None:
    os.environ["ANTHROPIC_API_KEY"] = OPENAI_KEY
    setup(mode="offline")
    assert os.environ["ANTHROPIC_API_KEY"] == OFFLINE_KEYS["anthropic"]
    course = setup()
    assert course.is_live("anthropic") and course.providers["anthropic"].masked_key == "sk-…wxyz"
    assert os.environ["ANTHROPIC_API_KEY"] == OPENAI_KEY
