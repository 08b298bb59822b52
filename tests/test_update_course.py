"""``make update``: a learner's changed and added notebooks are kept in my-work/, the course's
own versions come back, and the update is pulled, with no git conflict."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
from update_course import main, save_and_restore  # noqa: E402


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def course(tmp_path: Path) -> tuple[Path, Path]:
    """An upstream course repository and a learner's clone of it."""
    upstream = tmp_path / "upstream"
    (upstream / "notebooks").mkdir(parents=True)
    (upstream / "exercises").mkdir()
    (upstream / "notebooks" / "01.ipynb").write_text("course v1\n")
    (upstream / "exercises" / "ex01.ipynb").write_text("exercise v1\n")
    (upstream / ".gitignore").write_text("my-work/\n")
    git(upstream, "init", "-q", "-b", "main")
    git(upstream, "add", ".")
    git(upstream, "commit", "-q", "-m", "v1")
    git(tmp_path, "clone", "-q", str(upstream), "learner")
    return upstream, tmp_path / "learner"


def test_work_is_kept_the_course_restored_and_the_update_pulled(tmp_path: Path) -> None:
    upstream, learner = course(tmp_path)
    (learner / "notebooks" / "01.ipynb").write_text("course v1, run and saved\n")
    (learner / "exercises" / "ex01.ipynb").write_text("my answer\n")
    (learner / "exercises" / "scratch.ipynb").write_text("my own notebook\n")
    (upstream / "notebooks" / "01.ipynb").write_text("course v2\n")
    (upstream / "exercises" / "ex01.ipynb").write_text("exercise v2\n")
    git(upstream, "commit", "-q", "-am", "v2")

    assert main(["--root", str(learner)]) == 0

    assert (learner / "notebooks" / "01.ipynb").read_text() == "course v2\n"
    assert (learner / "exercises" / "ex01.ipynb").read_text() == "exercise v2\n"
    assert not (learner / "exercises" / "scratch.ipynb").exists()
    [saved] = list((learner / "my-work").iterdir())
    assert (saved / "notebooks" / "01.ipynb").read_text() == "course v1, run and saved\n"
    assert (saved / "exercises" / "ex01.ipynb").read_text() == "my answer\n"
    assert (saved / "exercises" / "scratch.ipynb").read_text() == "my own notebook\n"
    assert git(learner, "status", "--porcelain") == ""  # my-work/ is ignored


def test_a_deleted_notebook_comes_back_and_nothing_is_saved(tmp_path: Path) -> None:
    _, learner = course(tmp_path)
    (learner / "notebooks" / "01.ipynb").unlink()
    assert save_and_restore(learner, now=datetime(2026, 12, 1, 9, 30)) is None
    assert (learner / "notebooks" / "01.ipynb").read_text() == "course v1\n"
    assert not (learner / "my-work").exists()


def test_a_failed_pull_says_so_and_loses_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, learner = course(tmp_path)
    (learner / "exercises" / "ex01.ipynb").write_text("my answer\n")
    git(learner, "remote", "set-url", "origin", str(tmp_path / "gone"))
    assert main(["--root", str(learner)]) == 1
    assert "update stopped: `git pull --ff-only` failed" in capsys.readouterr().err
    [saved] = list((learner / "my-work").iterdir())
    assert (saved / "exercises" / "ex01.ipynb").read_text() == "my answer\n"
