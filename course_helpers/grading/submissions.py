"""Which notebooks to grade, whose they are, and which exercise each one is.

Learner ids follow one rule, so a report can be joined with a class list:

- a notebook found inside a folder given on the command line belongs to the learner named by the
  first folder below it: ``submissions/alice/ex04_retry.ipynb`` (or ``submissions/alice/week2/
  ex04_retry.ipynb``) is ``alice``;
- a notebook directly inside that folder, or given as a file, is named by its file stem:
  ``submissions/bob.ipynb`` is ``bob``.

Folders whose name starts with a dot (``.ipynb_checkpoints``, ``.git``) and ``__pycache__`` are
skipped.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Submission", "exercises_for", "find_submissions"]

_SKIPPED_DIRS = {"__pycache__", "__MACOSX"}
_PREFIX = re.compile(r"(?<![a-z0-9])(ex\d{2})(?![0-9])")


@dataclass(frozen=True)
class Submission:
    """One notebook to grade: where it is, whose it is, and how the report names it."""

    path: Path
    learner: str
    label: str


def _skipped(relative: Path) -> bool:
    return any(part.startswith(".") or part in _SKIPPED_DIRS for part in relative.parts[:-1])


def find_submissions(arguments: Iterable[str | Path]) -> list[Submission]:
    """The notebooks named by ``arguments`` (files or folders searched recursively), in order.

    A path that does not exist or is not a notebook raises ``FileNotFoundError`` / ``ValueError``
    with the offending path, before anything runs.
    """
    found: list[Submission] = []
    seen: set[Path] = set()
    for argument in arguments:
        root = Path(argument)
        if root.is_dir():
            for path in sorted(root.rglob("*.ipynb")):
                relative = path.relative_to(root)
                if _skipped(relative) or not path.is_file():
                    continue
                learner = relative.parts[0] if len(relative.parts) > 1 else path.stem
                label = relative.as_posix()
                _add(found, seen, Submission(path, learner, label))
        elif root.is_file():
            if root.suffix != ".ipynb":
                raise ValueError(f"{root} is not a notebook: pass .ipynb files or folders")
            _add(found, seen, Submission(root, root.stem, root.as_posix()))
        else:
            raise FileNotFoundError(f"{root} does not exist: pass notebook files or folders")
    return found


def _add(found: list[Submission], seen: set[Path], submission: Submission) -> None:
    key = submission.path.resolve()
    if key not in seen:
        seen.add(key)
        found.append(submission)


def exercises_for(
    metadata: Mapping[str, Any], path: Path, known: Collection[str], override: Iterable[str] = ()
) -> list[str]:
    """The exercise ids to grade a notebook on.

    ``override`` (``--exercise``) wins; then ``metadata["course"]["exercise"]`` (an id or a list
    of ids); then the ``exNN`` in the file name, matched against the ``known`` ids. An empty list
    means the exercise could not be told.
    """
    chosen = [item for item in override if item]
    if chosen:
        return chosen
    course = metadata.get("course")
    declared = course.get("exercise") if isinstance(course, Mapping) else None
    if isinstance(declared, str) and declared:
        return [declared]
    if isinstance(declared, list) and declared and all(isinstance(i, str) for i in declared):
        return list(declared)
    match = _PREFIX.search(path.stem.lower())
    if match is None:
        return []
    prefix = match.group(1)
    return sorted(item for item in known if item == prefix or item.startswith(prefix + "_"))
