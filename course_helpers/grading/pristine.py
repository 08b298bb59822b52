"""A private, verified copy of the checks that learner code cannot reach before it is used.

The grader reads the installed package into memory once, before any notebook runs. For each
notebook it writes that snapshot to a fresh temporary folder with an unpredictable name; the
grading cell puts that folder first on ``sys.path`` after every learner cell has run, and after
the run the folder must still hash to the snapshot. So a notebook that edits the installed
package, or a notebook graded earlier that did, cannot change the checks another notebook is
graded with, and editing the private copy itself is detected.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PristineCopy", "PristinePackage"]

_SKIPPED_DIRS = {"__pycache__", ".mypy_cache", ".pytest_cache"}
_SKIPPED_SUFFIXES = (".pyc", ".pyo")


def _digest(files: Mapping[str, bytes]) -> str:
    sha = hashlib.sha256()
    for name in sorted(files):
        data = files[name]
        sha.update(f"{name}\0{len(data)}\0".encode())
        sha.update(data)
    return sha.hexdigest()


def _read_tree(root: Path, *, skip_caches: bool) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if skip_caches and (
            any(part in _SKIPPED_DIRS for part in relative.parts)
            or path.suffix in _SKIPPED_SUFFIXES
        ):
            continue
        if path.is_file() or path.is_symlink():
            files[relative.as_posix()] = path.read_bytes() if path.is_file() else b"<symlink>"
    return files


@dataclass(frozen=True)
class PristineCopy:
    """One materialised copy: ``root`` goes on ``sys.path``; it holds the package folder."""

    root: Path
    package: str

    def intact(self, expected: str) -> bool:
        """Whether the copy still hashes to ``expected`` (every file, added ones included)."""
        package_dir = self.root / self.package
        if not package_dir.is_dir():
            return False
        return _digest(_read_tree(package_dir, skip_caches=False)) == expected

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass(frozen=True)
class PristinePackage:
    """An in-memory snapshot of an installed package's source and data files."""

    package: str
    files: Mapping[str, bytes]

    @classmethod
    def snapshot(cls, package: str) -> PristinePackage:
        """Read the installed top-level ``package`` (without bytecode caches) into memory."""
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ModuleNotFoundError(
                f"cannot find the package {package!r} to copy: is it installed in this Python?"
            )
        package_dir = Path(next(iter(spec.submodule_search_locations)))
        files = _read_tree(package_dir, skip_caches=True)
        if "__init__.py" not in files:
            raise ModuleNotFoundError(f"{package_dir} has no __init__.py: not a regular package")
        return cls(package, files)

    @property
    def digest(self) -> str:
        return _digest(self.files)

    def materialise(self, parent: Path | None = None) -> PristineCopy:
        """Write the snapshot into a new private folder (mode 0700, random name)."""
        root = Path(tempfile.mkdtemp(prefix="grade-checks-", dir=parent))
        for name, data in self.files.items():
            target = root / self.package / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return PristineCopy(root, self.package)
