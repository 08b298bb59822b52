"""The approximate tokenizer and the model catalogue."""

from __future__ import annotations

import doctest

import pytest

from course_helpers import catalog, tokens


def test_doctests() -> None:
    for module in (tokens, catalog):
        assert doctest.testmod(module).failed == 0


@pytest.mark.parametrize(
    "text",
    ["", "Hello, world!", "  spaced   out  ", "naïve café 12345.678", "snake_case_name\n\nnext"],
)
def test_split_tokens_round_trips(text: str) -> None:
    assert "".join(tokens.split_tokens(text)) == text


def test_long_words_cost_more_than_short_ones() -> None:
    assert tokens.estimate_tokens("internationalization") > tokens.estimate_tokens("cat")


def test_message_shapes_agree() -> None:
    as_string = [{"role": "user", "content": "Tell me a joke"}]
    as_blocks = [{"role": "user", "content": [{"type": "text", "text": "Tell me a joke"}]}]
    assert tokens.estimate_tokens(as_string) == tokens.estimate_tokens(as_blocks)
    with_system = tokens.estimate_tokens(as_string, system="Be brief.")
    assert with_system == tokens.estimate_tokens(
        [{"role": "system", "content": "Be brief."}, *as_string]
    )


def test_sdk_literals_are_known() -> None:
    assert catalog.get_model("gpt-4-turbo").provider == "openai"
    assert catalog.get_model("claude-opus-4-6").provider == "anthropic"


def test_unknown_model_suggests_close_names() -> None:
    with pytest.raises(catalog.UnknownModelError, match="gpt-4o-mini"):
        catalog.get_model("gpt-4o-mnii")


def test_retired_model_names_replacement() -> None:
    record = catalog.retired_model("claude-3-5-sonnet-20241022")
    assert record is not None
    catalog.get_model(record.replacement)  # the replacement itself must be current
    with pytest.raises(catalog.UnknownModelError):
        catalog.get_model("claude-3-5-sonnet-20241022")


def test_defaults_are_priced() -> None:
    for provider in catalog.PROVIDERS:
        name = catalog.default_model(provider)
        assert catalog.get_model(name).provider == provider
        assert catalog.cost_usd(name, input_tokens=1000, output_tokens=1000) is not None


def test_provider_for_unknown_family() -> None:
    assert catalog.provider_for("llama-3") is None
    assert catalog.provider_for("claude-future-9") == "anthropic"
