"""keys.py: finding .env, masking, and diagnosing the usual key mistakes."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest
from support import ANTHROPIC_KEY, OPENAI_KEY

from course_helpers import keys
from course_helpers.keys import EnvScan, Secret, key_status, mask, scan_env

pytestmark = pytest.mark.usefixtures("isolated_setup")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def messages(scan: EnvScan) -> list[str]:
    return [p.message for p in scan.problems]


# ------------------------------------------------------------------------------ masking


def test_mask_shows_the_family_and_last_four() -> None:
    assert mask(OPENAI_KEY) == "sk-…wxyz"
    assert mask(ANTHROPIC_KEY) == "sk-…9876"


@pytest.mark.parametrize(
    "value", ["sk-short", '"' + OPENAI_KEY + '"', OPENAI_KEY + " ", "a b" * 10]
)
def test_mask_hides_short_and_odd_values_entirely(value: str) -> None:
    assert mask(value) == "****"


def test_mask_says_empty_and_none() -> None:
    assert mask("") == "(empty)"
    assert mask(None) == "(none)"


def test_secret_is_masked_in_str_repr_and_format() -> None:
    secret = Secret(OPENAI_KEY)
    assert secret.reveal() == OPENAI_KEY
    for shown in (str(secret), repr(secret), f"{secret}", repr([secret])):
        assert OPENAI_KEY[8:-4] not in shown
        assert "wxyz" in shown


def test_redact_masks_given_secrets_and_anything_key_shaped() -> None:
    text = f"Incorrect API key provided: {OPENAI_KEY}. Also {ANTHROPIC_KEY} and odd-secret-1234"
    out = keys.redact(text, ["odd-secret-1234"])
    assert OPENAI_KEY not in out and ANTHROPIC_KEY not in out and "odd-secret-1234" not in out
    assert "sk-…wxyz" in out and "sk-…9876" in out


# ------------------------------------------------------------------------------ finding .env


def test_finds_env_in_the_working_directory(tmp_path: Path) -> None:
    env = write(tmp_path / ".env", f"OPENAI_API_KEY={OPENAI_KEY}\n")
    scan = scan_env()
    assert scan.path == env
    assert scan.values["OPENAI_API_KEY"].reveal() == OPENAI_KEY
    assert scan.problems == ()


def test_finds_env_in_a_parent_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = write(tmp_path / ".env", "COURSE_MODE=offline\n")
    notebooks = tmp_path / "notebooks" / "week1"
    notebooks.mkdir(parents=True)
    monkeypatch.chdir(notebooks)
    scan = scan_env()
    assert scan.path == env
    assert scan.searched == (notebooks, notebooks.parent, tmp_path)


def test_not_found_lists_every_directory_searched(tmp_path: Path) -> None:
    scan = scan_env()
    assert scan.path is None
    assert scan.searched[0] == tmp_path
    assert scan.searched[-1] == Path(tmp_path.anchor)
    assert scan.expected_path == tmp_path / ".env"


def test_expected_path_is_next_to_env_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / ".env.example", "OPENAI_API_KEY=\n")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    scan = scan_env()
    assert scan.expected_path == tmp_path / ".env"
    hint = keys.missing_env_hint(scan)
    assert hint is not None and hint.level == "hint" and "copy .env.example to .env" in hint.message


@pytest.mark.parametrize("name", [".env.txt", "env.txt", ".env.text"])
def test_misnamed_env_file_is_a_warning(tmp_path: Path, name: str) -> None:
    write(tmp_path / name, f"OPENAI_API_KEY={OPENAI_KEY}\n")
    scan = scan_env()
    assert scan.path is None
    [problem] = scan.problems
    assert problem.level == "warning"
    assert str(tmp_path / name) in problem.message and f"{name} -> .env" in problem.message


def test_a_file_named_env_counts_only_when_it_holds_a_key(tmp_path: Path) -> None:
    write(tmp_path / "env", "just some notes\n")
    assert scan_env().problems == ()
    write(tmp_path / "env", f"ANTHROPIC_API_KEY={ANTHROPIC_KEY}\n")
    assert "env -> .env" in messages(scan_env())[0]


def test_a_venv_folder_named_env_is_not_flagged(tmp_path: Path) -> None:
    (tmp_path / "env" / "bin").mkdir(parents=True)
    assert scan_env().problems == ()


def test_a_folder_named_dot_env_is_explained(tmp_path: Path) -> None:
    (tmp_path / ".env").mkdir()
    scan = scan_env()
    assert scan.path is None
    assert "is a folder" in messages(scan)[0]


def test_a_leftover_next_to_a_real_env_is_only_a_hint(tmp_path: Path) -> None:
    write(tmp_path / ".env", "COURSE_MODE=offline\n")
    write(tmp_path / ".env.txt", "COURSE_MODE=live\n")
    [problem] = scan_env().problems
    assert problem.level == "hint" and "is not read" in problem.message


def test_utf16_file_is_read_and_reported(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(f"OPENAI_API_KEY={OPENAI_KEY}\r\n".encode("utf-16"))
    scan = scan_env()
    assert scan.values["OPENAI_API_KEY"].reveal() == OPENAI_KEY
    assert "UTF-16" in messages(scan)[0]


def test_utf8_bom_does_not_break_the_first_variable(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"\xef\xbb\xbfOPENAI_API_KEY=" + OPENAI_KEY.encode() + b"\n")
    scan = scan_env()
    assert scan.values["OPENAI_API_KEY"].reveal() == OPENAI_KEY
    assert scan.problems == ()


def test_non_utf8_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"# caf\xe9\nOPENAI_API_KEY=" + OPENAI_KEY.encode() + b"\n")
    scan = scan_env()
    assert scan.values["OPENAI_API_KEY"].reveal() == OPENAI_KEY
    assert "not UTF-8" in messages(scan)[0]


def test_unparseable_line_is_reported_with_its_number(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(tmp_path / ".env", f"COURSE_MODE=offline\nOPENAI_API_KEY: {OPENAI_KEY}\n")
    scan = scan_env()
    [problem] = scan.problems
    assert problem.message.startswith("Line 2 of ") and "NAME=value" in problem.message
    assert OPENAI_KEY not in problem.message
    assert not caplog.records  # python-dotenv's own log line is not repeated


def test_a_nul_byte_in_a_value_skips_that_variable_with_a_warning(tmp_path: Path) -> None:
    broken = OPENAI_KEY[:20] + "\x00" + OPENAI_KEY[20:]
    write(tmp_path / ".env", f"COURSE_MODE=offline\nOPENAI_API_KEY={broken}\n")
    scan = scan_env()
    assert "OPENAI_API_KEY" not in scan.values and "COURSE_MODE" in scan.values
    [problem] = scan.problems
    assert problem.level == "warning" and problem.variable == "OPENAI_API_KEY"
    assert problem.message.startswith("OPENAI_API_KEY (line 2 of ")
    assert "NUL byte" in problem.message and "skipped" in problem.message
    assert OPENAI_KEY[:20] not in problem.message and OPENAI_KEY[20:] not in problem.message
    keys.apply_env(scan, os.environ)  # os.environ refuses NUL bytes: nothing to refuse now
    assert os.environ["COURSE_MODE"] == "offline"


def test_a_line_of_nul_bytes_is_reported_and_the_rest_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"\x00" * 40 + b"\nOPENAI_API_KEY=" + OPENAI_KEY.encode())
    scan = scan_env()
    assert scan.values["OPENAI_API_KEY"].reveal() == OPENAI_KEY
    [problem] = scan.problems
    assert problem.message.startswith("A variable on line 1 of ") and "NUL byte" in problem.message


def test_a_name_with_an_equals_sign_is_skipped_with_a_warning(tmp_path: Path) -> None:
    write(tmp_path / ".env", "'A=B'=1\n")
    scan = scan_env()
    assert scan.values == {}
    assert "contains '='" in messages(scan)[0]
    keys.apply_env(scan, os.environ)


def test_a_key_set_twice_uses_the_last_and_says_so(tmp_path: Path) -> None:
    other = "sk-proj-" + "Q" * 40 + "1111"
    write(tmp_path / ".env", f"OPENAI_API_KEY={other}\nX=1\nexport OPENAI_API_KEY={OPENAI_KEY}\n")
    scan = scan_env()
    assert scan.values["OPENAI_API_KEY"].reveal() == OPENAI_KEY  # python-dotenv's rule
    [problem] = scan.problems
    assert problem.level == "warning" and problem.variable == "OPENAI_API_KEY"
    assert "set 2 times" in problem.message and "(lines 1 and 3)" in problem.message
    assert "the last one (line 3) is used" in problem.message
    assert OPENAI_KEY not in problem.message and other not in problem.message


def test_a_key_repeated_with_the_same_value_is_only_a_hint(tmp_path: Path) -> None:
    write(tmp_path / ".env", "COURSE_MODE=offline\n" * 3)
    [problem] = scan_env().problems
    assert problem.level == "hint" and "(lines 1, 2 and 3), to the same value" in problem.message


def test_a_file_over_the_limit_is_cut_at_a_whole_line_and_reported(tmp_path: Path) -> None:
    head, filler = "COURSE_MODE=offline\n", "# " + "x" * 47 + "\n"  # 50 bytes a line
    lines = (keys._MAX_ENV_BYTES - len(head) - 30) // len(filler)  # the cut: 30 bytes into the key
    text = f"{head}{filler * lines}OPENAI_API_KEY={OPENAI_KEY}\n"
    assert len(text) > keys._MAX_ENV_BYTES > len(text) - len(OPENAI_KEY)
    write(tmp_path / ".env", text + f"ANTHROPIC_API_KEY={ANTHROPIC_KEY}\n")
    scan = scan_env()
    assert scan.values["COURSE_MODE"].reveal() == "offline"
    assert "OPENAI_API_KEY" not in scan.values  # cut inside its line: not a truncated key
    assert "ANTHROPIC_API_KEY" not in scan.values
    [problem] = scan.problems
    assert problem.level == "warning" and "only its first 256 KB are read" in problem.message
    assert f"anything after line {lines + 1} is ignored" in problem.message
    assert " is 0.3 MB;" in problem.message


def test_a_huge_file_is_never_read_whole(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text(f"OPENAI_API_KEY={OPENAI_KEY}\n")
    with path.open("r+b") as file:
        file.truncate(50_000_000)  # sparse: 50 MB of NUL bytes on no disk space
    tracemalloc.start()
    try:
        scan = scan_env()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * keys._MAX_ENV_BYTES
    assert scan.values["OPENAI_API_KEY"].reveal() == OPENAI_KEY
    assert any("is 50.0 MB" in text for text in messages(scan))


def test_a_real_key_in_env_example_is_flagged(tmp_path: Path) -> None:
    write(tmp_path / ".env.example", f"OPENAI_API_KEY={OPENAI_KEY}\nANTHROPIC_API_KEY=\n")
    [problem] = scan_env().problems
    assert "committed to git" in problem.message and problem.variable == "OPENAI_API_KEY"
    assert OPENAI_KEY not in problem.message


def test_scan_repr_never_shows_values(tmp_path: Path) -> None:
    write(tmp_path / ".env", f"OPENAI_API_KEY={OPENAI_KEY}\n")
    shown = repr(scan_env())
    assert OPENAI_KEY not in shown and "sk-…wxyz" in shown


# ------------------------------------------------------------------------------ key status


def status_for(provider: keys.ProviderName = "openai") -> keys.KeyStatus:
    return key_status(provider, scan_env(), os.environ)


def test_key_from_env_file(tmp_path: Path) -> None:
    write(tmp_path / ".env", f"OPENAI_API_KEY={OPENAI_KEY}\n")
    status = status_for()
    assert (status.state, status.source, status.masked) == ("ok", ".env", "sk-…wxyz")
    assert status.problems == ()
    assert OPENAI_KEY not in repr(status)


def test_environment_beats_env_file_and_says_so(tmp_path: Path) -> None:
    other = "sk-proj-" + "Q" * 40 + "abcd"
    write(tmp_path / ".env", f"OPENAI_API_KEY={OPENAI_KEY}\n")
    os.environ["OPENAI_API_KEY"] = other
    status = status_for()
    assert (status.source, status.masked) == ("environment", "sk-…abcd")
    [problem] = status.problems
    assert "set in the environment" in problem.message
    assert "sk-…abcd" in problem.message and "sk-…wxyz" in problem.message


def test_an_empty_environment_variable_lets_env_file_fill_in(tmp_path: Path) -> None:
    write(tmp_path / ".env", f"OPENAI_API_KEY={OPENAI_KEY}\n")
    os.environ["OPENAI_API_KEY"] = ""
    status = status_for()
    assert (status.state, status.source) == ("ok", ".env")


@pytest.mark.parametrize(
    ("line", "state"),
    [("", "missing"), ("OPENAI_API_KEY=\n", "empty"), ('OPENAI_API_KEY="   "\n', "blank")],
)
def test_missing_empty_and_blank(tmp_path: Path, line: str, state: str) -> None:
    write(tmp_path / ".env", line)
    status = status_for()
    assert status.state == state and not status.usable and status.masked is None


@pytest.mark.parametrize(
    "value", ["your-api-key-here", "sk-...", "<your key>", "sk-proj-xxxxxxxxxxxx", "PASTE_KEY"]
)
def test_placeholder_text_is_not_a_key(tmp_path: Path, value: str) -> None:
    write(tmp_path / ".env", f"OPENAI_API_KEY={value}\n")
    status = status_for()
    assert status.state == "placeholder"
    assert "placeholder" in status.problems[0].message


def test_the_value_from_env_example_is_a_placeholder(tmp_path: Path) -> None:
    write(tmp_path / ".env.example", "ANTHROPIC_API_KEY=sk-ant-put-it-in-dotenv\n")
    write(tmp_path / ".env", "ANTHROPIC_API_KEY=sk-ant-put-it-in-dotenv\n")
    assert status_for("anthropic").state == "placeholder"


def test_a_real_key_is_not_mistaken_for_a_placeholder(tmp_path: Path) -> None:
    write(tmp_path / ".env.example", "OPENAI_API_KEY=\n")
    write(tmp_path / ".env", f"OPENAI_API_KEY={OPENAI_KEY}\n")
    assert status_for().state == "ok"


def test_curly_quotes_in_the_file(tmp_path: Path) -> None:
    write(tmp_path / ".env", f"OPENAI_API_KEY=“{OPENAI_KEY}”\n")
    status = status_for()
    assert status.state == "ok"
    found = " ".join(p.message for p in status.problems)
    assert "quotes around it" in found and "in .env" in found and "no quotes" in found


def test_quotes_inside_quotes_in_the_file(tmp_path: Path) -> None:
    write(tmp_path / ".env", f"OPENAI_API_KEY='\"{OPENAI_KEY}\"'\n")
    assert "quotes around it" in status_for().problems[0].message


def test_plainly_quoted_value_is_fine_because_dotenv_strips_it(tmp_path: Path) -> None:
    write(tmp_path / ".env", f'OPENAI_API_KEY="{OPENAI_KEY}"\n')
    assert status_for().problems == ()


def test_quotes_in_the_environment() -> None:
    os.environ["ANTHROPIC_API_KEY"] = f"'{ANTHROPIC_KEY}'"
    [problem] = status_for("anthropic").problems
    assert "in the environment has quotes around it" in problem.message
    assert "without quotes" in problem.message


def test_trailing_space_in_the_environment() -> None:
    os.environ["OPENAI_API_KEY"] = OPENAI_KEY + " "
    status = status_for()
    [problem] = status.problems
    assert "space or line break" in problem.message
    assert status.masked == "****"


def test_trailing_space_inside_quotes_in_the_file(tmp_path: Path) -> None:
    write(tmp_path / ".env", f'OPENAI_API_KEY="{OPENAI_KEY}\\n"\n')
    assert "space or line break" in status_for().problems[0].message


def test_non_ascii_character() -> None:
    os.environ["OPENAI_API_KEY"] = OPENAI_KEY.replace("-", "–", 1)  # an en dash
    assert "non-ASCII" in status_for().problems[0].message


def test_anthropic_key_in_openai_variable() -> None:
    os.environ["OPENAI_API_KEY"] = ANTHROPIC_KEY
    [problem] = status_for().problems
    assert "holds an Anthropic key" in problem.message and "ANTHROPIC_API_KEY" in problem.message


def test_openai_key_in_anthropic_variable() -> None:
    os.environ["ANTHROPIC_API_KEY"] = OPENAI_KEY
    [problem] = status_for("anthropic").problems
    assert "looks like an OpenAI key" in problem.message


def test_a_key_of_no_known_shape() -> None:
    os.environ["ANTHROPIC_API_KEY"] = "AIzaSy" + "k" * 33
    [problem] = status_for("anthropic").problems
    assert "does not look like an Anthropic key" in problem.message


def test_a_custom_base_url_skips_the_shape_checks() -> None:
    os.environ["OPENAI_API_KEY"] = "ollama-local-key-123456"
    os.environ["OPENAI_BASE_URL"] = "http://localhost:11434/v1"
    assert status_for().problems == ()


def test_right_keys_have_no_problems() -> None:
    os.environ["OPENAI_API_KEY"] = OPENAI_KEY
    os.environ["ANTHROPIC_API_KEY"] = ANTHROPIC_KEY
    assert status_for("openai").problems == ()
    assert status_for("anthropic").problems == ()


@pytest.mark.parametrize("name", ["OPENAI_KEY", "OPEN_AI_API_KEY", "openai_api_key"])
def test_misspelled_variable_name(tmp_path: Path, name: str) -> None:
    write(tmp_path / ".env", f"{name}={OPENAI_KEY}\n")
    status = status_for()
    assert status.state == "missing"
    assert f"Found {name} in .env, but the SDK reads OPENAI_API_KEY" in status.problems[0].message


def test_claude_api_key_in_environment() -> None:
    os.environ["CLAUDE_API_KEY"] = ANTHROPIC_KEY
    assert "CLAUDE_API_KEY in the environment" in status_for("anthropic").problems[0].message


# ------------------------------------------------------------------------------ the environment


def test_apply_env_does_not_override_a_real_variable(tmp_path: Path) -> None:
    write(tmp_path / ".env", f"OPENAI_API_KEY={OPENAI_KEY}\nCOURSE_MODE=offline\n")
    os.environ["COURSE_MODE"] = "live"
    keys.apply_env(scan_env(), os.environ)
    assert os.environ["OPENAI_API_KEY"] == OPENAI_KEY
    assert os.environ["COURSE_MODE"] == "live"


def test_restore_takes_back_exactly_what_was_applied(tmp_path: Path) -> None:
    write(tmp_path / ".env", f"OPENAI_API_KEY={OPENAI_KEY}\n")
    os.environ["ANTHROPIC_API_KEY"] = ""
    keys.apply_env(scan_env(), os.environ)
    keys.set_offline_key("anthropic", os.environ)
    assert os.environ["ANTHROPIC_API_KEY"] == keys.OFFLINE_KEYS["anthropic"]
    keys.restore_environ(os.environ)
    assert "OPENAI_API_KEY" not in os.environ
    assert os.environ["ANTHROPIC_API_KEY"] == ""


def test_restore_keeps_a_value_changed_since(tmp_path: Path) -> None:
    write(tmp_path / ".env", f"OPENAI_API_KEY={OPENAI_KEY}\n")
    keys.apply_env(scan_env(), os.environ)
    os.environ["OPENAI_API_KEY"] = "sk-set-by-hand-0000000000"
    keys.restore_environ(os.environ)
    assert os.environ["OPENAI_API_KEY"] == "sk-set-by-hand-0000000000"


def test_an_applied_value_does_not_hide_an_edit_to_env(tmp_path: Path) -> None:
    env = write(tmp_path / ".env", "OPENAI_API_KEY=\n")
    keys.apply_env(scan_env(), os.environ)
    write(env, f"OPENAI_API_KEY={OPENAI_KEY}\n")
    status = status_for()
    assert (status.state, status.source) == ("ok", ".env")


def test_the_offline_placeholder_is_not_a_key() -> None:
    keys.set_offline_key("openai", os.environ)
    assert status_for().state == "missing"
