"""In-process forgeries: each turns the ex03 stub into full marks unless the grader's guard sees it.

Every forger below is written against the grader as it stands (its grading cell, its payload),
and also against the grader before the guard (a ``grade_namespace`` cell that published a
nonce-stamped dict); graded end to end in real kernels, each must be ``tampered`` with no check
passed, while an honest solution stays ``ok`` with every check passed and the stub ``ok`` with
none. With bubblewrap present, the class is graded both in the sandbox and without it.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from grading_support import clean_env

from course_helpers.checks import EXERCISES
from course_helpers.grading.batch import Settings, grade
from course_helpers.grading.execute import Limits
from course_helpers.grading.report import Row
from course_helpers.grading.submissions import find_submissions

REPO = Path(__file__).resolve().parents[1]
EXERCISE = "ex03_classify_errors"
CHECKS = [item.name for item in EXERCISES[EXERCISE].checks]

# What every forger shares: the check names, a nonce read from the grading cell, a forged
# payload shaped for both the old grader (top-level "exercises") and the new (a signed "body").
FORGERY_KIT = """\
import hashlib, hmac, json, re
from course_helpers.checks import EXERCISES as _EXERCISES

_MIME = "application/vnd.course-helpers.grade+json"


def _all_passed():
    return {
        exercise: {
            "checks": [{"name": c.name, "passed": True, "message": ""} for c in item.checks],
            "error": None,
        }
        for exercise, item in _EXERCISES.items()
    }


_ORIGIN = [""]  # where the old grader's cell said its copy was (the payload named it)


def _forged(nonce):
    body = {"nonce": nonce, "exercises": _all_passed(), "tampered": [], "origin": _ORIGIN[0]}
    text = json.dumps(body, sort_keys=True)
    mac = hmac.new(b"a guess", text.encode(), hashlib.sha256).hexdigest()
    return {**body, "body": text, "mac": mac}


def _nonce(cell):
    root = re.search(r"sys.path.insert[(]0, '([^']+)'[)]", cell)
    if root:
        _ORIGIN[0] = root.group(1) + "/course_helpers/checks/__init__.py"
    found = re.search(r"[0-9a-f]{32}", cell)
    return found.group(0) if found and "course grader" in cell else None
"""

# 1. publish_display_data wrapped: every grade that goes out is rewritten to full marks.
WRAPPED_PUBLISH = """\
import IPython.display
import IPython.core.display_functions as _display_functions

_real_publish = _display_functions.publish_display_data


def _rewriting_publish(data, *args, **kwargs):
    payload = data.get(_MIME)
    if isinstance(payload, dict):
        if "body" in payload:
            payload.update(_forged(json.loads(payload["body"])["nonce"]))
        else:
            payload["exercises"] = _all_passed()
    return _real_publish(data, *args, **kwargs)


_display_functions.publish_display_data = _rewriting_publish
IPython.display.publish_display_data = _rewriting_publish
"""

# 2. an input transformer that replaces the grading cell with one publishing a forged grade.
INPUT_TRANSFORMER = """\
def _publish_forged(nonce):
    from IPython.display import publish_display_data
    publish_display_data({_MIME: _forged(nonce)})


def _rewrite_grading_cell(lines):
    nonce = _nonce("".join(lines))
    return [f"_publish_forged({nonce!r})\\n"] if nonce else lines


get_ipython().input_transformers_cleanup.append(_rewrite_grading_cell)
"""

# 3. a pre_run_cell hook that reads the nonce and publishes a forged grade first.
PRE_RUN_CELL = """\
from IPython.display import publish_display_data as _publish


def _before_grading(info):
    nonce = _nonce(info.raw_cell or "")
    if nonce:
        _publish({_MIME: _forged(nonce)})


get_ipython().events.register("pre_run_cell", _before_grading)
"""

# 4. the private checks patched on disk as grading starts, and put back as it ends.
PATCH_AND_RESTORE = """\
import glob, os, tempfile
import course_helpers

_roots = glob.glob(os.path.join(tempfile.gettempdir(), "grade-checks-*"))
_roots += [os.path.dirname(os.path.dirname(course_helpers.__file__))]
_saved = {}


def _patch(info):
    if not _nonce(info.raw_cell or ""):
        return
    for root in _roots:
        path = os.path.join(root, "course_helpers", "checks", "runner.py")
        if not os.path.exists(path):
            continue
        text = open(path).read()
        _saved[path] = text
        try:
            with open(path, "w") as handle:
                handle.write(text.replace('error = box.get("error")', "error = None"))
        except OSError:
            pass


def _restore(result):
    for path, text in _saved.items():
        try:
            with open(path, "w") as handle:
                handle.write(text)
        except OSError:
            pass


get_ipython().events.register("pre_run_cell", _patch)
get_ipython().events.register("post_run_cell", _restore)
"""

# 5. the graded function itself turns `expect` into a no-op in every checks module.
NOOP_EXPECT = """\
import sys


def decide(exc):
    for name, module in list(sys.modules.items()):
        if name.startswith("course_helpers.checks") and "expect" in vars(module):
            setattr(module, "expect", lambda condition, message: None)

    class Verdict:
        retriable = True
        wait = None

    return Verdict()
"""

# Kinds: the same attacks by other routes.
NOOP_EXPECT_BY_DICT = NOOP_EXPECT.replace(
    'setattr(module, "expect", lambda condition, message: None)',
    'vars(module)["expect"] = lambda condition, message: None',
)
PUBLISHER_CLASS = """\
from ipykernel.zmqshell import ZMQDisplayPublisher

_real_method = ZMQDisplayPublisher.publish


def _publish_method(self, data, *args, **kwargs):
    payload = data.get(_MIME)
    if isinstance(payload, dict) and "body" not in payload:
        payload["exercises"] = _all_passed()
    return _real_method(self, data, *args, **kwargs)


ZMQDisplayPublisher.publish = _publish_method
"""
GRADES_ITSELF = """\
import sys


def _grade_first(info):
    cell = info.raw_cell or ""
    nonce = _nonce(cell)
    if nonce and "audit(" in cell:
        sys.audit(cell.split("audit(")[1].split(")")[0].strip("'\\""))


get_ipython().events.register("pre_run_cell", _grade_first)
"""

TRACER = """\
import threading


def _make_true(frame, event, arg):
    if event == "line" and "condition" in frame.f_locals:
        frame.f_locals["condition"] = True  # written back when the tracer returns
    return _make_true


def _tracer(frame, event, arg):
    return _make_true if frame.f_code.co_name == "expect" else None


threading.settrace(_tracer)


def decide(exc):
    class Verdict:
        retriable = True
        wait = None

    return Verdict()
"""

# A transformer that signs its forgery with the key, if the key is anywhere a cell can read it.
LEAKED_KEY = """\
import linecache


def _leaked_key():
    for entry in list(linecache.cache.values()):
        text = "".join(entry[2] or [])
        found = re.search(r"'key': '([0-9a-f]{64})'", text)
        if found:
            root = re.search(r"'root': '([^']+)'", text)
            _ORIGIN[0] = root.group(1) + "/course_helpers/checks/__init__.py" if root else ""
            return bytes.fromhex(found.group(1))
    return b"a guess"


_KEY = _leaked_key()


def _publish_signed(nonce):
    from IPython.display import publish_display_data

    forged = _forged(nonce)
    forged["mac"] = hmac.new(_KEY, forged["body"].encode(), hashlib.sha256).hexdigest()
    publish_display_data({_MIME: forged})


def _sign_instead(lines):
    nonce = _nonce("".join(lines))
    return [f"_publish_signed({nonce!r})\\n"] if nonce else lines


get_ipython().input_transformers_cleanup.append(_sign_instead)
"""

FORGERS = {
    "wrapped_publish": WRAPPED_PUBLISH,
    "input_transformer": INPUT_TRANSFORMER,
    "pre_run_cell": PRE_RUN_CELL,
    "patch_and_restore": PATCH_AND_RESTORE,
    "noop_expect": NOOP_EXPECT,
    "noop_expect_by_dict": NOOP_EXPECT_BY_DICT,
    "publisher_class": PUBLISHER_CLASS,
    "grades_itself": GRADES_ITSELF,
    "tracer": TRACER,
    "leaked_key": LEAKED_KEY,
}


NEST_ASYNCIO = """\
import asyncio

import nest_asyncio2

nest_asyncio2.apply()
asyncio.run(asyncio.sleep(0))
"""

ISSUE_FORGERS = (
    "wrapped_publish",
    "input_transformer",
    "pre_run_cell",
    "patch_and_restore",
    "noop_expect",
)


def _notebook(folder: str, extra: str | None) -> nbformat.NotebookNode:
    notebook = nbformat.read(REPO / folder / f"{EXERCISE}.ipynb", as_version=4)
    if extra is not None:
        notebook.cells.append(nbformat.v4.new_code_cell(FORGERY_KIT))
        notebook.cells.append(nbformat.v4.new_code_cell(extra))
    return notebook


def _modes() -> list[bool]:
    """Without the sandbox always; in it too when this grader has one and bwrap is here."""
    has_flag = any(item.name == "sandbox" for item in dataclasses.fields(Settings))
    return [False, True] if has_flag and shutil.which("bwrap") else [False]


def _settings(sandbox: bool) -> Settings:
    limits = Limits(cell_timeout=20, notebook_timeout=120)
    if any(item.name == "sandbox" for item in dataclasses.fields(Settings)):
        return Settings(limits=limits, workers=2, sandbox=sandbox)
    return Settings(limits=limits, workers=2)


@pytest.fixture(scope="module", params=_modes(), ids=lambda mode: "sandbox" if mode else "plain")
def graded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[Row]]:
    base = tmp_path_factory.mktemp("tamper")
    learners: dict[str, nbformat.NotebookNode] = {
        "honest": _notebook("solutions", None),
        "stub": _notebook("exercises", None),
        "nested": _notebook("solutions", None),
    }
    # nest_asyncio patches asyncio to let asyncio.run work in Jupyter: honest, not a forgery.
    learners["nested"].cells.insert(1, nbformat.v4.new_code_cell(NEST_ASYNCIO))
    # With a sandbox run as well, the run without it keeps to the five forgeries of the issue.
    chosen = FORGERS if request.param or len(_modes()) == 1 else ISSUE_FORGERS
    learners.update({name: _notebook("exercises", FORGERS[name]) for name in chosen})
    for learner, notebook in learners.items():
        path = base / "class" / learner / f"{EXERCISE}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, path)
    private = base / "tmp"
    private.mkdir()
    patcher = pytest.MonkeyPatch()
    patcher.setattr("tempfile.tempdir", str(private))  # the old grader's copy lands here
    submissions = find_submissions([base / "class"])
    # Without a sandbox the disk forger could reach a classmate's copy: it is graded alone.
    alone = [s for s in submissions if s.learner == "patch_and_restore" and not request.param]
    together = [item for item in submissions if item not in alone]
    env = clean_env(TMPDIR=str(private))
    try:
        rows = [
            *grade(together, _settings(request.param), base_env=env),
            *grade(alone, _settings(request.param), base_env=env),
        ]
    finally:
        patcher.undo()
    by_learner: dict[str, list[Row]] = {}
    for row in rows:
        by_learner.setdefault(row.learner, []).append(row)
    return by_learner


def test_the_honest_and_the_stub_are_graded_as_they_are(graded: dict[str, list[Row]]) -> None:
    honest, stub = graded["honest"], graded["stub"]
    for rows in (honest, graded["nested"]):
        assert {row.status for row in rows} == {"ok"}, rows[0].message
        assert [row.check for row in rows] == CHECKS and all(row.passed for row in rows)
    assert {row.status for row in stub} == {"ok"}, stub[0].message
    assert [row.check for row in stub] == CHECKS and not any(row.passed for row in stub)


@pytest.mark.parametrize("forger", list(FORGERS))
def test_a_forgery_is_tampered_never_ok(graded: dict[str, list[Row]], forger: str) -> None:
    if forger not in graded:
        pytest.skip("graded in the sandbox run only")
    rows = graded[forger]
    assert {row.status for row in rows} == {"tampered"}, [(r.status, r.message) for r in rows][:2]
    assert not any(row.passed for row in rows)
    assert [row.check for row in rows] == CHECKS  # the real checks' names, every one failed
    assert rows[0].message.startswith("not graded: ")


EXPLANATIONS: dict[str, Callable[[str], bool]] = {
    "wrapped_publish": lambda m: "publish_display_data" in m,
    "input_transformer": lambda m: "did not sign" in m or "input_transformers" in m,
    "pre_run_cell": lambda m: "did not sign" in m or "pre_run_cell" in m,
    # in the sandbox the copy is read-only: the hooks that tried are what is reported
    "patch_and_restore": lambda m: "modified" in m or "pre_run_cell" in m,
    "noop_expect": lambda m: "expect" in m,
    "noop_expect_by_dict": lambda m: "expect" in m,
    "publisher_class": lambda m: "ZMQDisplayPublisher.publish" in m,
    "grades_itself": lambda m: "more than one" in m or "pre_run_cell" in m,
    "tracer": lambda m: "threading.settrace" in m,
    "leaked_key": lambda m: "did not sign" in m,
}


@pytest.mark.parametrize("forger", list(FORGERS))
def test_the_message_says_what_was_tampered_with(graded: dict[str, list[Row]], forger: str) -> None:
    if forger not in graded:
        pytest.skip("graded in the sandbox run only")
    message = graded[forger][0].message
    assert EXPLANATIONS[forger](message), message
