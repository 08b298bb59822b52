"""Which notebooks to grade, whose they are, and which exercise each one is.

One rule says who a learner is: **a learner is a folder.** Give the grader the class folder;
each folder directly inside it belongs to one learner, named by the folder, and every notebook
anywhere below it is theirs: ``class/alice/ex04_retry.ipynb`` and ``class/alice/week2/
ex04_retry.ipynb`` are ``alice``'s. A notebook given as a file belongs to the folder that holds
it (``class/alice/ex04_retry.ipynb`` is ``alice``'s). Folders starting with a dot
(``.ipynb_checkpoints``, ``.git``) and ``__pycache__`` are skipped.

Nothing is guessed or merged; these are reported, each notebook once, and graded for no one:

- ``no_learner``: a notebook loose in the class folder (it is in no learner's folder);
- ``learner_collision``: two different folders with the same learner name (compared without
  case), e.g. ``sectionA/alice`` and ``sectionB/alice`` given together;
- ``duplicate``: one learner with two notebooks for the same exercise.

The exercise comes from the ``exNN`` in the file name (or ``--exercise``); a notebook's
``metadata["course"]["exercise"]`` is used only when the name has none, and then only if it names
one exercise. Metadata that disagrees with the file name changes nothing but is reported in the
``note`` column.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

__all__ = ["Submission", "exercise_note", "exercises_for", "find_submissions"]

_SKIPPED_DIRS = {"__pycache__", "__MACOSX"}
_PREFIX = re.compile(r"(?<![a-z0-9])(ex\d{2})(?![0-9])")


@dataclass(frozen=True)
class Submission:
    """One notebook: where it is, whose it is, how the report names it, and any doubt about it.

    ``problem`` (with its ``status``) says why it is not graded; ``note`` is reported beside its
    grade; ``exercise_key`` is the exercise it was told to be, for finding duplicates.
    """

    path: Path
    learner: str
    label: str
    problem: str | None = None
    status: str = ""
    note: str = ""
    exercise_key: str = ""
    folder: Path | None = None


def _skipped(relative: Path) -> bool:
    return any(part.startswith(".") or part in _SKIPPED_DIRS for part in relative.parts[:-1])


def _loose(root: Path, path: Path) -> Submission:
    return Submission(
        path,
        "",
        path.relative_to(root).as_posix(),
        problem=(
            f"{path.name} is loose in the class folder {root}, in no learner's folder: move it "
            f"into {root}/<learner>/ (the folder's name is the learner)"
        ),
        status="no_learner",
    )


def _discover(arguments: Iterable[str | Path]) -> list[Submission]:
    found: list[Submission] = []
    seen: set[Path] = set()

    def add(submission: Submission) -> None:
        key = submission.path.resolve()
        if key not in seen:
            seen.add(key)
            found.append(submission)

    for argument in arguments:
        root = Path(argument)
        if root.is_dir():
            for path in sorted(root.rglob("*.ipynb")):
                relative = path.relative_to(root)
                if _skipped(relative) or not path.is_file():
                    continue
                if len(relative.parts) == 1:
                    add(_loose(root, path))
                    continue
                folder = root / relative.parts[0]
                add(Submission(path, relative.parts[0], relative.as_posix(), folder=folder))
        elif root.is_file():
            if root.suffix != ".ipynb":
                raise ValueError(f"{root} is not a notebook: pass .ipynb files or folders")
            folder = root.resolve().parent
            add(Submission(root, folder.name, root.as_posix(), folder=folder))
        else:
            raise FileNotFoundError(f"{root} does not exist: pass notebook files or folders")
    return found


def find_submissions(
    arguments: Iterable[str | Path], exercises: Sequence[str] = ()
) -> list[Submission]:
    """The notebooks named by ``arguments`` (class folders or notebook files), in order.

    Identity problems are set on the submissions concerned (see the module docstring);
    ``exercises`` is ``--exercise`` (every notebook is then that exercise). A path that does not
    exist or is not a notebook raises ``FileNotFoundError`` / ``ValueError`` before anything runs.
    """
    found = [_with_exercise(item, exercises) for item in _discover(arguments)]
    found = _collisions(found)
    return _duplicates(found)


def _read_metadata(path: Path) -> Mapping[str, Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            metadata = json.load(handle).get("metadata", {})
    except Exception:  # anything, even a nesting deep enough to recurse: reported when run
        return {}
    return metadata if isinstance(metadata, Mapping) else {}


def _with_exercise(item: Submission, override: Sequence[str]) -> Submission:
    if item.problem:
        return item
    metadata = _read_metadata(item.path)
    chosen = _unique(override)
    if chosen:
        key = ",".join(chosen)
    else:
        named = _file_prefix(item.path)
        declared = _declared(metadata)
        key = named or (declared[0] if len(declared) == 1 else "")
    return replace(item, exercise_key=key, note=exercise_note(metadata, item.path))


def _flagged(
    found: list[Submission], status: str, problem_of: Callable[[Submission], str | None]
) -> list[Submission]:
    """``found`` in order, each one ``problem_of`` finds a problem in set to ``status``."""
    result = []
    for item in found:
        problem = problem_of(item)
        if problem is not None:
            item = replace(item, problem=problem, status=status)
        result.append(item)
    return result


def _collisions(found: list[Submission]) -> list[Submission]:
    folders: dict[str, set[Path]] = {}
    for item in found:
        if item.folder is not None and not item.problem:
            folders.setdefault(item.learner.casefold(), set()).add(item.folder.resolve())

    def problem_of(item: Submission) -> str | None:
        claimed = folders.get(item.learner.casefold(), set())
        if item.folder is None or item.problem or len(claimed) <= 1:
            return None
        where = ", ".join(sorted(str(path) for path in claimed))
        return (
            f"{len(claimed)} different folders are named for learner {item.learner!r} "
            f"({where}): rename one, or grade them in separate runs"
        )

    return _flagged(found, "learner_collision", problem_of)


def _duplicates(found: list[Submission]) -> list[Submission]:
    groups: dict[tuple[str, str], list[Submission]] = {}
    for item in found:
        if not item.problem and item.exercise_key:
            key = (item.learner.casefold(), _prefix_of(item.exercise_key))
            groups.setdefault(key, []).append(item)
    duplicated = {
        item.label: group for group in groups.values() if len(group) > 1 for item in group
    }

    def problem_of(item: Submission) -> str | None:
        group = duplicated.get(item.label)
        if group is None:
            return None
        others = ", ".join(other.label for other in group)
        return (
            f"{item.learner} has {len(group)} notebooks for {item.exercise_key} "
            f"({others}): none is graded until only one is left"
        )

    return _flagged(found, "duplicate", problem_of)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(item for item in items if item))


def _prefix_of(exercise: str) -> str:
    match = _PREFIX.search(exercise.lower())
    return match.group(1) if match else exercise


def _file_prefix(path: Path) -> str:
    match = _PREFIX.search(path.stem.lower())
    return match.group(1) if match else ""


def _declared(metadata: Mapping[str, Any]) -> list[str]:
    course = metadata.get("course")
    declared = course.get("exercise") if isinstance(course, Mapping) else None
    if isinstance(declared, str):
        return _unique([declared])
    if isinstance(declared, list):
        return _unique(item for item in declared if isinstance(item, str))
    return []


def exercise_note(metadata: Mapping[str, Any], path: Path) -> str:
    """What the notebook's metadata says against its file name ("" when they agree)."""
    declared = _declared(metadata)
    prefix = _file_prefix(path)
    if prefix and declared and any(_prefix_of(item) != prefix for item in declared):
        return (
            f"its metadata names {', '.join(declared)} but its file name says {prefix}: "
            "graded on the file name's exercise"
        )
    if not prefix and len(declared) > 1:
        return (
            f"its metadata names {len(declared)} exercises ({', '.join(declared)}) and its file "
            "name none: name the file after the one exercise it is"
        )
    return ""


def exercises_for(
    metadata: Mapping[str, Any], path: Path, known: Collection[str], override: Iterable[str] = ()
) -> list[str]:
    """The exercise ids to grade a notebook on (each at most once).

    ``override`` (``--exercise``) wins; then the ``exNN`` in the file name, matched against the
    ``known`` ids; only if the name has none, ``metadata["course"]["exercise"]`` when it names
    exactly one exercise. An empty list means the exercise could not be told.
    """
    chosen = _unique(override)
    if chosen:
        return chosen
    prefix = _file_prefix(path)
    if prefix:
        return sorted(item for item in known if item == prefix or item.startswith(prefix + "_"))
    declared = _declared(metadata)
    return declared if len(declared) == 1 else []
