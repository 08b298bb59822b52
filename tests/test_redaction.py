"""redaction.py: one masking rule, shown the same by setup, errors and the doctor."""

from __future__ import annotations

from support import ANTHROPIC_KEY, OPENAI_KEY

from course_helpers import errors, keys, redaction
from course_helpers.redaction import Secret, mask, redact


def test_errors_and_keys_use_the_one_rule() -> None:
    assert errors.redact is redaction.redact
    assert keys.redact is redaction.redact and keys.mask is redaction.mask
    assert keys.Secret is redaction.Secret


def test_an_error_message_shows_a_key_as_setup_does() -> None:
    text = f"Incorrect API key provided: {OPENAI_KEY}. Also {ANTHROPIC_KEY}."
    shown = str(errors.LLMError(text))
    assert shown == "Incorrect API key provided: sk-…wxyz. Also sk-…9876."
    assert mask(OPENAI_KEY) in shown and str(Secret(ANTHROPIC_KEY)) in shown


def test_redact_hides_half_masked_echoes_and_short_keys_whole() -> None:
    assert redact("key sk-abc1*************wxyz here") == "key **** here"
    assert redact("key sk-1234567890abcdef.") == "key ****."


def test_redact_leaves_words_that_merely_contain_sk_alone() -> None:
    text = "task-1234567890abcdefghijkl and sk-learn"
    assert redact(text) == text
