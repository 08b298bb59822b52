"""Update the course without losing your work: ``make update``.

Running a notebook and saving it changes the file git tracks, so a plain ``git pull`` of a course
update stops with "your local changes would be overwritten". This keeps a copy of every notebook
you changed (or added) under ``notebooks/`` and ``exercises/`` in ``my-work/<date-time>/`` (which
git ignores), puts the course's own version back, and pulls. Your copies open in JupyterLab like
any notebook; nothing is deleted. Usage::

    python tools/update_course.py            # save, restore, pull
    python tools/update_course.py --no-pull  # save and restore only
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WATCHED = ("notebooks", "exercises")
SAVED = "my-work"


class UpdateError(RuntimeError):
    """A git step failed: the message says which and what to do."""


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=False, timeout=120
    )
    if done.returncode != 0:
        raise UpdateError(f"`git {' '.join(args)}` failed: {done.stderr.strip() or done.stdout}")
    return done.stdout


def changed_files(root: Path) -> tuple[list[str], list[str], list[str]]:
    """(tracked files you changed, files you added, tracked files you deleted) under the
    watched folders."""
    status = _git(root, "status", "--porcelain", "-z", "--untracked-files=all", "--", *WATCHED)
    modified, added, deleted = [], [], []
    for entry in filter(None, status.split("\0")):
        code, path = entry[:2], entry[3:]
        if code == "??":
            added.append(path)
        elif "D" in code:
            deleted.append(path)
        else:
            modified.append(path)
    return sorted(modified), sorted(added), sorted(deleted)


def save_and_restore(root: Path, *, now: datetime | None = None) -> Path | None:
    """Copy changed and added files to ``my-work/<date-time>/``, then restore the course's.

    Added files are moved (they are yours alone); changed ones are copied, then checked out.
    Returns the folder, or ``None`` when there was nothing to keep.
    """
    modified, added, deleted = changed_files(root)
    if deleted:
        _git(root, "checkout", "--", *deleted)  # nothing of yours in them: the course's back
    if not modified and not added:
        return None
    stamp = (now or datetime.now()).strftime("%Y-%m-%d-%H%M%S")
    folder = root / SAVED / stamp
    for path in [*modified, *added]:
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / path, target)
    if modified:
        _git(root, "checkout", "--", *modified)
    for path in added:
        (root / path).unlink()
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--no-pull", action="store_true", help="save and restore, do not pull")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        folder = save_and_restore(args.root)
        if folder is None:
            print("Nothing of yours to keep: notebooks/ and exercises/ are as the course has them.")
        else:
            print(f"Your notebooks are kept in {folder.relative_to(args.root)}/ (git ignores it).")
        if not args.no_pull:
            print(_git(args.root, "pull", "--ff-only").strip() or "Pulled.")
    except UpdateError as exc:
        print(f"update stopped: {exc}", file=sys.stderr)
        print(
            "Your files are untouched or already copied to my-work/. Run `git status` to see "
            "what git is unhappy about.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
