"""A private, verified copy of the checks that learner code cannot reach before it is used.

The grader reads the installed package into memory once, before any notebook runs. For each
notebook it writes that snapshot to a fresh temporary folder with an unpredictable name; the
grading cell puts that folder first on ``sys.path`` after every learner cell has run, and after
the run the folder must still hash to the snapshot. So a notebook that edits the installed
package, or a notebook graded earlier that did, cannot change the checks another notebook is
graded with, and editing the private copy itself is detected.

The snapshot also carries each module's bytecode, compiled once by the grader into hash-checked
``.pyc`` files (they are rebuilt from source if the source does not match): the copy is
read-only in the sandbox and new for every notebook, so without them every kernel would compile
the package from source, once for the learner's imports and once more for the grading.
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
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


def _bytecode_name(source: str) -> str:
    """Where the import system looks for ``source``'s bytecode (``a/b.py`` ->
    ``a/__pycache__/b.cpython-311.pyc``), relative to the package folder."""
    folder, _, name = source.rpartition("/")
    cached = f"__pycache__/{name[:-3]}.{sys.implementation.cache_tag}.pyc"
    return f"{folder}/{cached}" if folder else cached


def compile_package(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """Hash-checked bytecode for every module of ``files`` that compiles (PEP 552: the
    interpreter compares the source's hash before it trusts the ``.pyc``)."""
    if sys.implementation.cache_tag is None:
        return {}
    compiled: dict[str, bytes] = {}
    for name, data in files.items():
        if not name.endswith(".py"):
            continue
        try:
            code = compile(data, name, "exec", dont_inherit=True)
        except (SyntaxError, ValueError):
            continue  # the import reports it, from the source
        flags = (0b11).to_bytes(4, "little")  # hash-based, checked against the source
        header = importlib.util.MAGIC_NUMBER + flags + importlib.util.source_hash(data)
        compiled[_bytecode_name(name)] = header + marshal.dumps(code)
    return compiled


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
    bytecode: Mapping[str, bytes] = field(default_factory=dict)
    """``__pycache__/*.pyc`` paths to the bytecode of ``files``, written with them."""

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
        return cls(package, files, compile_package(files))

    @property
    def digest(self) -> str:
        """The hash a materialised copy must still have: sources, data files and bytecode."""
        return _digest({**self.files, **self.bytecode})

    def materialise(self, parent: Path | None = None) -> PristineCopy:
        """Write the snapshot into a new private folder (mode 0700, random name)."""
        root = Path(tempfile.mkdtemp(prefix="grade-checks-", dir=parent))
        for name, data in {**self.files, **self.bytecode}.items():
            target = root / self.package / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return PristineCopy(root, self.package)
