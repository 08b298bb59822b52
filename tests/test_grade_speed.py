"""What keeps a graded kernel's work down: each check runs once, only the SDKs an exercise uses
are imported, and the private copy of the package carries bytecode every loader verifies.

No test here measures time: each asserts the work is not done (or is done from bytecode).
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import pytest

import course_helpers
from course_helpers.checks import EXERCISES, check, grade_namespace
from course_helpers.grading import _guard_kernel
from course_helpers.grading.pristine import PristinePackage, compile_package

_SOURCE_ROOT = Path(course_helpers.__file__).resolve().parent.parent  # the package under test


def _recording_budget() -> tuple[type, list[object]]:
    made: list[object] = []

    class Budget:  # ex06's target: every check builds one
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            made.append(self)

    return Budget, made


def test_a_learner_cell_check_runs_nothing_while_grading(monkeypatch: pytest.MonkeyPatch) -> None:
    budget, made = _recording_budget()
    monkeypatch.setenv("COURSE_GRADING", "1")
    result = check("ex06_token_budget", budget)
    assert made == [] and result.results == []
    assert result.error is not None and "grader runs every check" in result.error
    with pytest.raises(KeyError, match="unknown exercise"):
        check("ex99_nothing", budget)
    # The grader's own run, in the same kernel, still runs every check.
    report = grade_namespace({"Budget": budget}, ["ex06_token_budget"])
    checks = report["exercises"]["ex06_token_budget"]["checks"]
    assert made and len(checks) == len(EXERCISES["ex06_token_budget"].checks)


def test_outside_the_grader_a_check_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    budget, made = _recording_budget()
    monkeypatch.delenv("COURSE_GRADING", raising=False)
    result = check("ex06_token_budget", budget)
    assert made and len(result.results) == len(EXERCISES["ex06_token_budget"].checks)


def test_an_exercise_warms_up_only_the_sdks_its_checks_use() -> None:
    assert EXERCISES["ex05_rate_limiter"].sdks == ("openai",)
    assert EXERCISES["ex08_rpm_vs_tpm"].sdks == ("openai",)
    probe = textwrap.dedent(
        """
        import sys
        from course_helpers.checks._support import prepare_clients
        prepare_clients(("openai",))
        print("anthropic" in sys.modules, "openai" in sys.modules)
        """
    )
    env = {"COURSE_MODE": "offline", "COURSE_DOTENV": "none", "PYTHONPATH": str(_SOURCE_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]


def _package(tmp_path: Path) -> PristinePackage:
    package = tmp_path / "site" / "pkg_bytecode"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "mod.py").write_text("WHERE = 'source'\n")
    (package / "broken.py").write_text("def (:\n")
    sys.path.insert(0, str(tmp_path / "site"))
    try:
        return PristinePackage.snapshot("pkg_bytecode")
    finally:
        sys.path.remove(str(tmp_path / "site"))


def _doctored(pristine: PristinePackage, name: str, source: str) -> PristinePackage:
    """``pristine`` with ``name``'s bytecode compiled from ``source`` but stamped with the real
    source's hash: a loader that uses the bytecode says so by running ``source``."""
    real = pristine.files[name]
    code = compile(source, name, "exec", dont_inherit=True)
    header = importlib.util.MAGIC_NUMBER + (0b11).to_bytes(4, "little")
    header += importlib.util.source_hash(real)
    cached = f"__pycache__/{name[:-3]}.{sys.implementation.cache_tag}.pyc"
    bytecode = {**pristine.bytecode, cached: header + marshal.dumps(code)}
    return PristinePackage(pristine.package, pristine.files, bytecode)


def test_the_snapshot_carries_verified_bytecode(tmp_path: Path) -> None:
    pristine = _package(tmp_path)
    tag = sys.implementation.cache_tag
    assert set(pristine.bytecode) == {
        f"__pycache__/__init__.{tag}.pyc",
        f"__pycache__/mod.{tag}.pyc",
    }
    assert compile_package(pristine.files) == dict(pristine.bytecode)
    copy = pristine.materialise(tmp_path)
    assert copy.intact(pristine.digest)
    (copy.root / "pkg_bytecode" / "__pycache__" / f"mod.{tag}.pyc").write_bytes(b"forged")
    assert not copy.intact(pristine.digest)
    copy.remove()


def test_a_plain_import_of_the_copy_uses_its_bytecode(tmp_path: Path) -> None:
    pristine = _doctored(_package(tmp_path), "mod.py", "WHERE = 'bytecode'\n")
    copy = pristine.materialise(tmp_path)
    probe = "import pkg_bytecode.mod as m; print(m.WHERE)"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(copy.root), "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert done.stdout.strip() == "bytecode", done.stderr
    copy.remove()


class _StubGrader:
    """What the guard's finder and loader use of the grader: where the copy is, what it hashes."""

    def __init__(self, root: Path, pristine: PristinePackage) -> None:
        self.root, self.package = str(root), pristine.package
        files = {**pristine.files, **pristine.bytecode}
        self.hashes = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
        self.problems: list[str] = []
        self.bytecode_name = types.MethodType(_guard_kernel._Grader.bytecode_name, self)

    def flag(self, problem: str) -> None:
        self.problems.append(problem)

    def seal(self, module: types.ModuleType) -> None:
        pass


def _load_with_guard(grader: _StubGrader, name: str) -> types.ModuleType:
    spec = _guard_kernel._VerifiedFinder(grader).find_spec(name)  # type: ignore[arg-type]
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_guard_loads_the_bytecode_it_was_sent(tmp_path: Path) -> None:
    pristine = _doctored(_package(tmp_path), "mod.py", "WHERE = 'bytecode'\n")
    copy = pristine.materialise(tmp_path)
    grader = _StubGrader(copy.root, pristine)
    assert _load_with_guard(grader, "pkg_bytecode.mod").WHERE == "bytecode"
    assert grader.problems == []
    copy.remove()


def test_the_guard_refuses_bytecode_it_was_not_sent(tmp_path: Path) -> None:
    pristine = _package(tmp_path)
    copy = pristine.materialise(tmp_path)
    grader = _StubGrader(copy.root, pristine)  # hashes of the honest bytecode
    forged = _doctored(pristine, "mod.py", "WHERE = 'forged'\n")
    for name, data in forged.bytecode.items():
        (copy.root / "pkg_bytecode" / name).write_bytes(data)
    with pytest.raises(ImportError, match="modified"):
        _load_with_guard(grader, "pkg_bytecode.mod")
    assert grader.problems and "pkg_bytecode" not in grader.problems[0]
    assert "__pycache__/mod." in grader.problems[0]
    copy.remove()
