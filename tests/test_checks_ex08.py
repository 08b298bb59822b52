"""ex08's checks: fractions round down whatever the rounding, and the label is judged apart from the
count (a right count with a wrong label fails, and the message says which limit binds and why).
"""

from __future__ import annotations

import math

import pytest
from wrong_answers.ex08_rpm_vs_tpm import (
    binding_limit_label_from_prompt,
    binding_limit_round,
    binding_limit_tie_is_tpm,
)

from course_helpers.checks import check

EXERCISE = "ex08_rpm_vs_tpm"


def _message(candidate: object, name: str) -> str:
    result = check(EXERCISE, candidate, only=[name])
    assert not result.passed, str(result)
    return result.results[0].message


@pytest.mark.parametrize(
    "rounding",
    [round, math.ceil, lambda x: int(x + 0.5), lambda x: math.floor(x + 0.5)],
    ids=["round", "ceil", "int(x+0.5)", "floor(x+0.5)"],
)
def test_any_rounding_but_down_fails_and_says_what_was_expected(rounding: object) -> None:
    def candidate(rpm: int, tpm: int, prompt_tokens: int, max_tokens: int) -> tuple[str, int]:
        allowed = rounding(tpm / (prompt_tokens + max_tokens))  # type: ignore[operator]
        return ("tpm", allowed) if allowed < rpm else ("rpm", rpm)

    message = _message(candidate, "rounds down to whole requests")
    assert "at most 3 requests a minute" in message
    assert "got 4" in message


def test_round_disagrees_with_the_simulated_provider_too() -> None:
    message = _message(binding_limit_round, "agrees with the simulated provider")
    assert "accepted 10 requests" in message and "predicted 11" in message


def test_a_right_count_with_the_prompt_only_label_is_told_which_limit_binds() -> None:
    message = _message(
        binding_limit_label_from_prompt, "max_tokens is charged, not the tokens you expect to use"
    )
    assert "so the 'tpm' limit binds; got 'rpm'" in message


def test_a_tie_labelled_tpm_is_told_the_rule() -> None:
    message = _message(binding_limit_tie_is_tpm, "a tie is reported as the request limit")
    assert "on a tie the request limit is reported" in message
    assert "got 'tpm'" in message
