"""Reference delegation: a candidate that calls the course's own implementation of what the
exercise asks for is reported (check(), grade_namespace, the grader's CSV and JSON), whatever name
it imported it under, from its own threads too, and from another copy of the package (the
grader's); the checks' own use of reference code and raising the errors tree are not delegation;
no verdict changes.
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from test_checks import namespace_of

from course_helpers.checks import EXERCISES, Check, Exercise, check, grade_namespace
from course_helpers.checks import delegation as delegation_module
from course_helpers.checks.runner import MIME_TYPE
from course_helpers.errors import RateLimitError
from course_helpers.errors import classify as sort_out  # an alias: still the reference
from course_helpers.grading.execute import Execution, Limits
from course_helpers.grading.report import COLUMNS, delegation_lines, rows_for, summary
from course_helpers.grading.submissions import Submission
from course_helpers.ratelimit import RateLimiter

ROOT = Path(__file__).resolve().parent.parent
CLASSIFY = "course_helpers.errors.classify"
LIMITER = "course_helpers.ratelimit.RateLimiter"


# ----------------------------------------------------------------------------- a test exercise
# The check is course code: compiled as if it lived in course_helpers/checks/.
_CHECK_SOURCE = """
def calls_candidate(candidate):
    sort_out(ValueError("the check itself may use reference code"))  # never counted
    if candidate(ValueError("boom")) is not True:
        raise AssertionError("expected True")
"""
_check_namespace: dict[str, Any] = {"sort_out": sort_out}
exec(compile(_CHECK_SOURCE, "/site/course_helpers/checks/ex99_test.py", "exec"), _check_namespace)
_calls_candidate = _check_namespace["calls_candidate"]


@pytest.fixture
def ex99(monkeypatch: pytest.MonkeyPatch) -> None:
    table = dict(EXERCISES)
    table["ex99_test"] = Exercise(
        id="ex99_test",
        title="A test exercise",
        target="thing",
        checks=[Check("returns True", _calls_candidate, "return True")],
        needs_sdks=False,
    )
    monkeypatch.setattr("course_helpers.checks.runner.EXERCISES", table)
    monkeypatch.setitem(delegation_module.REFERENCES, "ex99_test", (CLASSIFY, LIMITER))


def _own(exc: BaseException) -> bool:
    return True


def _wraps(exc: BaseException) -> bool:
    return not sort_out(exc).retriable


def _imports_by_string(exc: BaseException) -> bool:
    module = importlib.import_module("course_helpers." + "errors")
    return not module.classify(exc).retriable


def _raises_and_catches_the_errors_tree(exc: BaseException) -> bool:
    try:
        raise RateLimitError("slow down", provider="openai", retry_after=1.0)
    except RateLimitError:
        return True


def _in_its_own_thread(exc: BaseException) -> bool:
    box: list[bool] = []
    worker = threading.Thread(target=lambda: box.append(not sort_out(exc).retriable))
    worker.start()
    worker.join(10)
    return box == [True]


def _builds_a_limiter(exc: BaseException) -> bool:
    return RateLimiter(requests_per_minute=60).try_acquire()


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        (_own, []),
        (_raises_and_catches_the_errors_tree, []),
        (_wraps, [CLASSIFY]),
        (_imports_by_string, [CLASSIFY]),
        (_in_its_own_thread, [CLASSIFY]),
        (_builds_a_limiter, [LIMITER]),
    ],
    ids=["own", "errors tree", "alias", "import_module", "own thread", "class"],
)
def test_calls_from_the_candidate_are_reported_and_the_checks_own_are_not(
    ex99: None, candidate: Any, expected: list[str]
) -> None:
    result = check("ex99_test", candidate)
    assert result.passed  # delegation changes no verdict
    assert result.delegates_to == expected


def test_an_alias_or_subclass_of_the_reference_is_reported(ex99: None) -> None:
    class Limiter(RateLimiter):
        pass

    assert check("ex99_test", sort_out).delegates_to == [CLASSIFY]
    assert check("ex99_test", Limiter).delegates_to == [LIMITER]


def test_another_copy_of_the_package_is_recognised(ex99: None, tmp_path: Path) -> None:
    """The grader re-imports a private copy; the notebook still holds the installed one."""
    copy = tmp_path / "course_helpers" / "errors.py"
    copy.parent.mkdir()
    shutil.copy(ROOT / "course_helpers" / "errors.py", copy)
    spec = importlib.util.spec_from_file_location("copied_errors", copy)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["copied_errors"] = module
    try:
        spec.loader.exec_module(module)
        result = check("ex99_test", lambda exc: not module.classify(exc).retriable)
    finally:
        del sys.modules["copied_errors"]
    assert result.delegates_to == [CLASSIFY]


def test_the_panel_the_machine_form_and_grade_namespace_carry_it(ex99: None) -> None:
    result = check("ex99_test", _wraps)
    text = str(result)
    assert text.splitlines()[0] == "[pass] ex99_test: all checks passed"
    assert f"calls the course's own `{CLASSIFY}` instead of building it" in text
    assert "instead of building it" in result._repr_html_()
    assert result._repr_mimebundle_()[MIME_TYPE]["delegates_to"] == [CLASSIFY]
    assert "delegates_to" not in check("ex99_test", _own).as_dict()
    report = grade_namespace({"thing": _wraps}, ["ex99_test"])
    assert report["exercises"]["ex99_test"]["delegates_to"] == [CLASSIFY]
    assert (
        "delegates_to"
        not in grade_namespace({"thing": _own}, ["ex99_test"])["exercises"]["ex99_test"]
    )


def test_a_real_exercise_wrapping_classify_is_reported_with_the_same_verdicts() -> None:
    solution = namespace_of("ex03_classify_errors")["decide"]

    def decide(exc: BaseException) -> Any:
        sort_out(exc)  # looks at the course's answer, then gives its own
        return solution(exc)

    honest = check("ex03_classify_errors", solution)
    wrapped = check("ex03_classify_errors", decide)
    assert honest.delegates_to == [] and wrapped.delegates_to == [CLASSIFY]
    assert [o.passed for o in wrapped.results] == [o.passed for o in honest.results]


def test_the_table_names_real_reference_code_for_every_exercise() -> None:
    assert set(delegation_module.REFERENCES) == set(EXERCISES)
    for names in delegation_module.REFERENCES.values():
        for dotted in names:
            module, _, name = dotted.rpartition(".")
            assert hasattr(importlib.import_module(module), name), dotted
    # ex04 and ex07 offer classify to the learner: using it there is not delegation.
    assert CLASSIFY not in delegation_module.references_for("ex04_retry")
    assert CLASSIFY not in delegation_module.references_for("ex07_multi_provider")


# ----------------------------------------------------------------------------- the grader's report
def test_the_grader_report_has_a_delegates_to_column_and_summary_entry(tmp_path: Path) -> None:
    payload = {
        "exercises": {
            "ex03_classify_errors": {
                "checks": [
                    {"name": "a", "passed": True, "message": ""},
                    {"name": "b", "passed": False, "message": "expected 1, got 2"},
                ],
                "error": None,
                "delegates_to": [CLASSIFY, "course_helpers.errors.parse_retry_after"],
            }
        }
    }
    submission = Submission(tmp_path / "ex03.ipynb", "alice", "ex03.ipynb")
    run = Execution(payload=payload, seconds=1.0)
    rows = rows_for(submission, ["ex03_classify_errors"], run, {}, Limits())
    assert "delegates_to" in COLUMNS
    expected = f"{CLASSIFY};course_helpers.errors.parse_retry_after"
    assert [row.as_csv()["delegates_to"] for row in rows] == [expected, expected]
    assert [row.passed for row in rows] == [True, False]  # verdicts untouched
    data = summary(rows, seconds=1.0, settings={})
    notebook = data["learners"]["alice"]["notebooks"][0]
    assert notebook["delegates_to"] == {
        "ex03_classify_errors": [CLASSIFY, "course_helpers.errors.parse_retry_after"]
    }
    assert delegation_lines(rows) == [
        f"alice (ex03.ipynb) ex03_classify_errors: calls {CLASSIFY}, "
        "course_helpers.errors.parse_retry_after"
    ]
    clean = dict(payload["exercises"]["ex03_classify_errors"])
    del clean["delegates_to"]
    rows = rows_for(
        submission,
        ["ex03_classify_errors"],
        Execution(payload={"exercises": {"ex03_classify_errors": clean}}),
        {},
        Limits(),
    )
    assert {row.as_csv()["delegates_to"] for row in rows} == {""}
    assert delegation_lines(rows) == []
