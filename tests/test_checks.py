"""Proof that the exercise checks discriminate, and tests of the check machinery.

For every exercise: every check passes on the solution (the code in ``sources/solutions``), every
check fails on the stub ``tools/make_exercises.py`` generates from it, and each plausible wrong
answer fails at least the checks it is meant to be caught by. No kernels: the solutions' code
cells are executed here, minus their ``setup()`` and ``check(...)`` calls.

The wrong and right answers live in ``tests/wrong_answers/``, one module per exercise: each
wrong answer is labelled with the mistake it makes and the checks that must catch it, and each
right answer is built differently from the solution (tenacity, a condition variable, GCRA, SDK
accumulators, ``with stream:``...). Exercise-specific machinery (real SDK streams, forced
interleaving, time zones) is tested in ``tests/test_checks_exNN.py``.
"""

from __future__ import annotations

import ast
import sys
import threading
import types
from pathlib import Path
from typing import Any

import pytest
from wrong_answers import NOTEBOOK_DEMOS, RIGHT_ANSWERS, WRONG_ANSWERS

from course_helpers.checks import (
    EXERCISES,
    MIME_TYPE,
    Check,
    CheckResult,
    Exercise,
    answer,
    check,
    grade_namespace,
)
from course_helpers.checks import registry as registry_module
from course_helpers.checks._support import simulated
from course_helpers.fake.respx_adapter import active

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from build_notebooks import parse  # noqa: E402
from make_exercises import STUB, SolutionMarkerError, stub_source  # noqa: E402

_SKIPPED_CALLS = {"check", "setup"}


def _calls_skipped(node: ast.stmt) -> bool:
    value = node.value if isinstance(node, ast.Expr | ast.Assign) else None
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id in _SKIPPED_CALLS
    )


def namespace_of(exercise_id: str, *, stub: bool = False) -> dict[str, Any]:
    """The names a solution notebook defines (or its generated exercise, with ``stub``)."""
    source = (ROOT / "sources" / "solutions" / f"{exercise_id}.py").read_text(encoding="utf-8")
    # A real module, as a kernel's __main__ is: dataclasses look their module up.
    module = types.ModuleType(f"notebook_{exercise_id}{'_stub' if stub else ''}")
    sys.modules[module.__name__] = module
    namespace: dict[str, Any] = module.__dict__
    for cell in parse(source):
        if cell.cell_type != "code":
            continue
        text = stub_source(cell.source) if stub else cell.source
        tree = ast.parse(text)
        tree.body = [node for node in tree.body if not _calls_skipped(node)]
        exec(compile(tree, f"{exercise_id}.py", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def solutions() -> dict[str, dict[str, Any]]:
    return {exercise_id: namespace_of(exercise_id) for exercise_id in EXERCISES}


def _failed(result: CheckResult) -> set[str]:
    return {outcome.name for outcome in result.results if not outcome.passed}


# ----------------------------------------------------------------------------- the registry
def test_every_exercise_has_a_solution_an_exercise_and_checks() -> None:
    assert list(EXERCISES) == [
        "ex01_first_calls",
        "ex02_stream_collector",
        "ex03_classify_errors",
        "ex04_retry",
        "ex05_rate_limiter",
        "ex06_token_budget",
        "ex07_multi_provider",
        "ex08_rpm_vs_tpm",
    ]
    for exercise_id, exercise in EXERCISES.items():
        assert exercise.id == exercise_id
        assert (ROOT / "sources" / "solutions" / f"{exercise_id}.py").exists()
        assert exercise.notebook == f"{exercise_id}.ipynb"
        assert len(exercise.checks) >= 4
        assert len({item.name for item in exercise.checks}) == len(exercise.checks)
        assert all(item.hint for item in exercise.checks)
    assert registry_module.Exercise is Exercise


def test_there_is_a_wrong_answer_and_a_demo_for_every_exercise() -> None:
    assert set(WRONG_ANSWERS) == set(EXERCISES) == set(NOTEBOOK_DEMOS)
    for exercise_id, answers in WRONG_ANSWERS.items():
        names = {item.name for item in EXERCISES[exercise_id].checks}
        for _, _, caught_by in answers:
            assert set(caught_by) <= names
    for exercise_id, (_, _, caught_by) in NOTEBOOK_DEMOS.items():
        assert set(caught_by) <= {item.name for item in EXERCISES[exercise_id].checks}


# ----------------------------------------------------------------------------- discrimination
@pytest.mark.parametrize("exercise_id", list(EXERCISES))
def test_the_solution_passes_every_check(
    exercise_id: str, solutions: dict[str, dict[str, Any]]
) -> None:
    target = solutions[exercise_id][EXERCISES[exercise_id].target]
    result = check(exercise_id, target)
    assert result.passed, str(result)
    assert result.score == result.total == len(EXERCISES[exercise_id].checks)


@pytest.mark.parametrize("exercise_id", list(EXERCISES))
def test_the_stub_fails_every_check(exercise_id: str) -> None:
    namespace = namespace_of(exercise_id, stub=True)  # defining the stubs must not raise
    result = check(exercise_id, namespace[EXERCISES[exercise_id].target])
    assert result.score == 0, str(result)
    for outcome in result.results:
        assert "not written yet" in outcome.message


@pytest.mark.parametrize(
    ("exercise_id", "label", "candidate", "caught_by"),
    [
        pytest.param(exercise_id, label, candidate, caught_by, id=f"{exercise_id}: {label}")
        for exercise_id, answers in WRONG_ANSWERS.items()
        for label, candidate, caught_by in answers
    ],
)
def test_a_wrong_answer_fails_the_checks_meant_to_catch_it(
    exercise_id: str, label: str, candidate: Any, caught_by: list[str]
) -> None:
    result = check(exercise_id, candidate, only=caught_by)
    assert _failed(result) == set(caught_by), f"{label}:\n{result}"
    for outcome in result.results:
        assert len(outcome.message) > 20  # says what was expected and what happened
        # Caught for its mistake, not because the answer could not even be called as written.
        assert "unexpected keyword argument" not in outcome.message, f"{label}: {outcome}"


@pytest.mark.parametrize(
    ("exercise_id", "label", "candidate"),
    [
        pytest.param(exercise_id, label, candidate, id=f"{exercise_id}: {label}")
        for exercise_id, answers in RIGHT_ANSWERS.items()
        for label, candidate in answers
    ],
)
def test_a_right_answer_built_differently_passes_every_check(
    exercise_id: str, label: str, candidate: Any
) -> None:
    result = check(exercise_id, candidate)
    assert result.passed, f"{label}:\n{result}"


@pytest.mark.parametrize("exercise_id", list(NOTEBOOK_DEMOS))
def test_the_notebook_demo_fails_as_the_notebook_shows(
    exercise_id: str, solutions: dict[str, dict[str, Any]]
) -> None:
    name, label, caught_by = NOTEBOOK_DEMOS[exercise_id]
    result = check(exercise_id, solutions[exercise_id][name], only=caught_by)
    assert _failed(result) == set(caught_by), f"{label}:\n{result}"


def test_failure_messages_say_what_was_expected_and_what_happened() -> None:
    from wrong_answers.ex04_retry import retry_ignoring_retry_after
    from wrong_answers.ex08_rpm_vs_tpm import binding_limit_rounds_up

    result = check(
        "ex08_rpm_vs_tpm", binding_limit_rounds_up, only=["rounds down to whole requests"]
    )
    assert "at most 3 requests a minute" in result.results[0].message
    assert "got 4" in result.results[0].message
    result = check(
        "ex04_retry",
        retry_ignoring_retry_after,
        only=["waits what retry-after says, instead of the backoff"],
    )
    assert "retry-after: 1.2" in result.results[0].message
    assert "it slept" in result.results[0].message


def test_ex01_stop_reason_messages_name_the_situation_and_both_reasons(
    solutions: dict[str, dict[str, Any]],
) -> None:
    """The three stop_reason checks word their failures exactly so (learners see them)."""
    from wrong_answers.ex01_first_calls import (
        ask_both_length_from_counts,
        ask_both_not_end_turn_is_length,
    )

    def message(candidate: Any, name: str) -> str:
        return check("ex01_first_calls", candidate, only=[name]).results[0].message

    assert message(ask_both_length_from_counts, "a complete answer has stop_reason 'stop'") == (
        "the openai answer finished (the API says 'stop') after exactly max_tokens=300 output "
        "tokens, so stop_reason should be 'stop', but it is 'length'"
    )
    assert message(
        ask_both_not_end_turn_is_length, "a stop-sequence stop has stop_reason 'stop'"
    ) == (
        "anthropic stopped at a stop sequence (stop_reason 'stop_sequence'): the model finished "
        "what it was asked, so stop_reason should be 'stop', but it is 'length'"
    )
    solution = solutions["ex01_first_calls"]["ask_both"]

    def anthropic_reason_as_is(*args: Any, **kwargs: Any) -> dict[str, Any]:
        answers = dict(solution(*args, **kwargs))
        mine = answers["anthropic"]
        reason = "max_tokens" if mine.stop_reason == "length" else mine.stop_reason
        answers["anthropic"] = types.SimpleNamespace(
            text=mine.text,
            input_tokens=mine.input_tokens,
            output_tokens=mine.output_tokens,
            stop_reason=reason,
        )
        return answers

    name = "an answer cut by max_tokens has stop_reason 'length'"
    assert message(anthropic_reason_as_is, name) == (
        "with max_tokens=4 the anthropic answer is cut (the API says 'max_tokens'), so "
        "stop_reason should be 'length', but it is 'max_tokens'"
    )

    class _Uncapped:  # the learner's OpenAI client loses max_completion_tokens on the way
        def __init__(self, client: Any) -> None:
            self.chat = types.SimpleNamespace(completions=types.SimpleNamespace(create=self.create))
            self._client = client

        def create(self, **kwargs: Any) -> Any:
            kwargs.pop("max_completion_tokens", None)
            return self._client.chat.completions.create(**kwargs)

    def uncapped(openai_client: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return dict(solution(_Uncapped(openai_client), *args, **kwargs))

    assert message(uncapped, name) == (
        "ask_both(..., max_tokens=4) should have the openai answer cut at 4 tokens, but it was "
        "not cut (the API says 'stop'): pass max_tokens on to the openai call"
    )


# ----------------------------------------------------------------------------- the runner
def _exercise(*checks: Check) -> Exercise:
    return Exercise(id="ex99_test", title="A test exercise", target="thing", checks=list(checks))


@pytest.fixture
def ex99(monkeypatch: pytest.MonkeyPatch) -> dict[str, Exercise]:
    table = dict(EXERCISES)
    monkeypatch.setattr("course_helpers.checks.runner.EXERCISES", table)
    return table


def _is_two(candidate: Any) -> None:
    if candidate != 2:  # not `assert`: pytest would rewrite its message
        raise AssertionError(f"expected 2, got {candidate!r}")


def test_a_check_that_takes_too_long_fails_and_its_simulation_is_stopped(
    ex99: dict[str, Exercise],
) -> None:
    release = threading.Event()
    finished = threading.Event()

    def stuck(candidate: Any) -> None:
        with simulated():
            release.wait(60)  # only the test releases it, long after check() must have returned
        finished.set()

    ex99["ex99_test"] = _exercise(
        Check("is two", _is_two, "return 2"),
        Check("stuck", stuck, "do not hang", timeout=0.2),
        Check("after", _is_two, "return 2"),
    )
    before = active()
    result = check("ex99_test", 2)
    # check() came back while the stuck check was still blocked: it did not wait for it.
    assert not finished.is_set()
    assert [outcome.passed for outcome in result.results] == [True, False, False]
    assert "took longer than 0.2 s" in result.results[1].message
    assert result.results[2].message.startswith("not run: an earlier check took too long")
    assert active() is before  # the stuck check's simulated provider no longer answers
    release.set()
    assert finished.wait(30)


def test_any_exception_from_the_candidate_is_a_failure_with_its_message(
    ex99: dict[str, Exercise],
) -> None:
    def explodes(candidate: Any) -> None:
        candidate()

    ex99["ex99_test"] = _exercise(Check("runs", explodes, "do not crash"))
    result = check("ex99_test", lambda: {}["missing"])
    assert result.results[0].message == "your code raised KeyError: 'missing'"
    result = check("ex99_test", lambda: sys.exit(3))
    assert result.results[0].message == "your code raised SystemExit: 3"


def test_the_panel_has_text_html_and_the_machine_readable_form(ex99: dict[str, Exercise]) -> None:
    ex99["ex99_test"] = _exercise(
        Check("is two", _is_two, "return 2"), Check("is still two", _is_two, "<b>2</b>")
    )
    result = check("ex99_test", 3)
    bundle = result._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/html", MIME_TYPE}
    lines = bundle["text/plain"].splitlines()
    assert lines[0] == "[FAIL] ex99_test: 0/2 checks passed"
    assert lines[1] == "  [FAIL] is two — expected 2, got 3 Hint: return 2"
    assert "&lt;b&gt;2&lt;/b&gt;" in bundle["text/html"]  # hints and messages are escaped
    assert bundle[MIME_TYPE] == {
        "exercise": "ex99_test",
        "passed": False,
        "score": 0,
        "total": 2,
        "error": None,
        "checks": [
            {"name": "is two", "passed": False, "message": "expected 2, got 3"},
            {"name": "is still two", "passed": False, "message": "expected 2, got 3"},
        ],
    }
    passed = check("ex99_test", 2)
    assert passed.passed and str(passed).splitlines()[0] == "[pass] ex99_test: all checks passed"


def test_only_runs_the_named_checks_and_unknown_names_are_errors(
    ex99: dict[str, Exercise],
) -> None:
    ex99["ex99_test"] = _exercise(Check("a", _is_two, "h"), Check("b", _is_two, "h"))
    assert [outcome.name for outcome in check("ex99_test", 2, only=["b"]).results] == ["b"]
    with pytest.raises(KeyError, match="its checks are 'a', 'b'"):
        check("ex99_test", 2, only=["c"])
    with pytest.raises(KeyError, match="unknown exercise 'ex00_nothing'"):
        check("ex00_nothing", 2)


def test_grade_namespace_reports_missing_targets_and_unknown_exercises(
    ex99: dict[str, Exercise],
) -> None:
    ex99["ex99_test"] = _exercise(Check("a", _is_two, "h"), Check("b", _is_two, "h"))
    report = grade_namespace({"thing": 2}, ["ex99_test"])
    assert report == {
        "exercises": {
            "ex99_test": {
                "checks": [
                    {"name": "a", "passed": True, "message": ""},
                    {"name": "b", "passed": True, "message": ""},
                ],
                "error": None,
            }
        }
    }
    report = grade_namespace({}, ["ex99_test", "ex00_nothing"])
    missing = report["exercises"]["ex99_test"]
    assert missing["error"].startswith("`thing` is not defined — did the cell that defines it run")
    assert [item["passed"] for item in missing["checks"]] == [False, False]
    assert all(item["message"] == missing["error"] for item in missing["checks"])
    assert report["exercises"]["ex00_nothing"] == {
        "checks": [],
        "error": "unknown exercise 'ex00_nothing'",
    }


def test_grade_namespace_runs_a_real_exercise(solutions: dict[str, dict[str, Any]]) -> None:
    report = grade_namespace(solutions["ex08_rpm_vs_tpm"], ["ex08_rpm_vs_tpm"])
    checks = report["exercises"]["ex08_rpm_vs_tpm"]["checks"]
    assert len(checks) == len(EXERCISES["ex08_rpm_vs_tpm"].checks)
    assert all(item["passed"] for item in checks)


# ----------------------------------------------------------------------------- the stubs
def test_stub_source_keeps_the_def_line_docstring_and_indentation() -> None:
    source = (
        "def f(x):\n"
        '    """Doc."""\n'
        "    ### BEGIN SOLUTION\n"
        "    return x\n"
        "    ### END SOLUTION\n"
        "\n"
        "print(1)"
    )
    assert stub_source(source) == f'def f(x):\n    """Doc."""\n    {STUB}\n\nprint(1)'


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("### BEGIN SOLUTION\nx = 1", "never closed"),
        ("x = 1\n### END SOLUTION", "without"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another"),
    ],
)
def test_stub_source_rejects_broken_markers(source: str, problem: str) -> None:
    with pytest.raises(SolutionMarkerError, match=problem):
        stub_source(source)


def test_exercises_are_current() -> None:
    from make_exercises import main

    assert main(["--check"]) == 0


# ----------------------------------------------------------------------------- the quiz
def test_answer_says_correct_or_not_and_points_to_the_exercises() -> None:
    right = answer("q4", "c")
    assert right.correct is True
    assert "ex08_rpm_vs_tpm" in repr(right) and repr(right).startswith("[pass] q4: correct.")
    wrong = answer("q4", "A")
    assert wrong.correct is False and repr(wrong).startswith("[FAIL] q4: not quite")
    assert answer("q4", "").correct is None
    assert answer("q4", "z").correct is None
    with pytest.raises(KeyError, match="the questions are q1, q2, q3, q4, q5"):
        answer("q9", "a")


def _has_emoji(text: str) -> bool:
    """Whether ``text`` has a character from the symbol and emoji blocks many fonts lack."""
    return any(0x2600 <= ord(c) <= 0x2BFF or ord(c) >= 0x1F000 for c in text)


def test_panels_and_quiz_verdicts_use_marks_every_font_has(ex99: dict[str, Exercise]) -> None:
    ex99["ex99_test"] = _exercise(Check("is two", _is_two, "return 2"))
    for candidate in (2, 3):
        result = check("ex99_test", candidate)
        assert not _has_emoji(str(result)) and not _has_emoji(result._repr_html_())
    for choice in ("", "z", "a", "b"):
        assert not _has_emoji(str(answer("q4", choice)))
