"""The simulated provider's text: the answer book, the generator, determinism and steering."""

from __future__ import annotations

import random
import re

import pytest

from course_helpers.fake.answers import compose_answer


def answer(
    prompt: str, *, system: str | None = None, seed: int = 0, deterministic: bool = True
) -> str:
    return compose_answer(
        prompt, system=system, rng=random.Random(seed), deterministic=deterministic
    )


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


@pytest.mark.parametrize(
    "prompt",
    [
        "What is the capital of France?",
        "what is the capital of france",
        "  What's   the CAPITAL of France??  ",
        "Quick question: what is the capital city of France?",
    ],
)
def test_book_matches_despite_case_punctuation_and_spacing(prompt: str) -> None:
    assert answer(prompt) == "The capital of France is Paris."


@pytest.mark.parametrize(
    ("prompt", "pattern"),
    [
        ("Say hello", "Hello|Hi|Hey"),
        ("Hello!", "Hello|Hi|Hey"),
        ("What is 2 + 2?", "4"),
        ("what is 2+2", "4"),
        ("Translate 'hello' to French", "Bonjour"),
        ("Explain what an API is in one sentence.", "API"),
        ("Tell me a joke", r"\?|:"),
        ("List three tips for handling rate limits", r"(?s)1\..*2\..*3\."),
        ("Summarize the benefits of streaming responses", "first"),
    ],
)
def test_book_answers_the_course_prompts(prompt: str, pattern: str) -> None:
    for seed in range(6):  # the canonical answer and every variant
        assert re.search(pattern, answer(prompt, seed=seed, deterministic=seed == 0))


def test_count_to_ten_contains_every_number_so_stop_demos_work() -> None:
    assert answer("Count from 1 to 10") == "1, 2, 3, 4, 5, 6, 7, 8, 9, 10"
    for seed in range(10):
        numbers = re.findall(r"\d+", answer("count to 10.", seed=seed, deterministic=False))
        assert numbers == [str(n) for n in range(1, 11)]


def test_quantum_answer_is_several_sentences_so_max_tokens_cuts_show() -> None:
    for seed in range(8):
        text = answer(
            "Explain quantum computing in simple terms", seed=seed, deterministic=seed == 0
        )
        assert 3 <= len(sentences(text)) <= 7
        assert "qubit" in text


def test_robot_story_is_long_enough_for_streaming_demos() -> None:
    for seed in range(6):
        text = answer("Write a short story about a robot", seed=seed, deterministic=seed == 0)
        assert 120 <= len(text.split()) <= 200
        assert "robot" in text.lower()


@pytest.mark.parametrize("prompt", ["Write a haiku about programming", "Write a haiku about APIs"])
def test_haikus_have_three_lines(prompt: str) -> None:
    texts = {answer(prompt, seed=seed, deterministic=False) for seed in range(20)}
    assert len(texts) > 1
    for text in texts:
        assert len(text.splitlines()) == 3


def test_haiku_topic_matters() -> None:
    assert answer("Write a haiku about programming") != answer("Write a haiku about APIs")


def test_deterministic_book_answer_is_canonical_whatever_the_rng() -> None:
    texts = {answer("Tell me a joke", seed=seed) for seed in range(10)}
    assert len(texts) == 1


def test_deterministic_text_repeats_for_the_same_rng_state() -> None:
    for prompt in ["Tell me a joke", "How do tides depend on the moon?"]:
        for seed in range(5):
            assert answer(prompt, seed=seed) == answer(prompt, seed=seed)


def test_non_deterministic_varies_with_the_rng_and_repeats_with_the_same_state() -> None:
    for prompt in ["Tell me a joke", "How do tides depend on the moon?"]:
        texts = {answer(prompt, seed=seed, deterministic=False) for seed in range(20)}
        assert len(texts) >= 3
        assert answer(prompt, seed=7, deterministic=False) == answer(
            prompt, seed=7, deterministic=False
        )


def test_same_rng_gives_different_texts_on_successive_calls() -> None:
    rng = random.Random(1)
    texts = {
        compose_answer("Why is the sky blue?", system=None, rng=rng, deterministic=False)
        for _ in range(10)
    }
    assert len(texts) > 1


def test_pirate_system_prompt_adds_flavour() -> None:
    plain = answer("Say hello")
    pirate = answer("Say hello", system="You are a pirate. Talk like one.")
    assert pirate.startswith("Arr!")
    assert pirate != plain
    # quoted words are kept: the translation is still of 'hello'
    assert "'Hello'" in answer("Translate 'hello' to French", system="pirate")


@pytest.mark.parametrize("system", ["Answer in one word.", "Be brief.", "Be concise"])
def test_short_system_prompt_gives_the_short_form(system: str) -> None:
    assert answer("What is the capital of France?", system=system) == "Paris."
    long_text = answer("Explain quantum computing in simple terms")
    short_text = answer("Explain quantum computing in simple terms", system=system)
    assert len(short_text) < len(long_text) / 2
    generated = answer("How do tides depend on the moon?", system=system)
    assert len(sentences(generated)) == 1


@pytest.mark.parametrize(
    "prompt",
    [
        "How do tides depend on the moon?",
        "Describe the history of the Roman Empire.",
        "Explain machine learning to a Python developer",
        "photosynthesis",
    ],
)
def test_generator_is_on_topic_and_well_formed(prompt: str) -> None:
    content = {w.lower() for w in re.findall(r"[A-Za-z]{5,}", prompt)} - {"explain", "describe"}
    for seed in range(15):
        text = answer(prompt, seed=seed, deterministic=False)
        parts = sentences(text)
        assert 2 <= len(parts) <= 5, text
        assert all(part[0].isupper() and part[-1] in ".!?" for part in parts), text
        assert "{" not in text
        assert any(word in text.lower() for word in content), text


def test_generator_keeps_proper_nouns_and_compounds() -> None:
    text = answer("Explain machine learning to a Python developer", deterministic=True)
    assert "machine learning" in text.lower()
    assert "Python" in text


def test_generator_handles_prompts_without_content_words() -> None:
    for prompt in ["", "?", "what is it"]:
        text = answer(prompt)
        assert len(sentences(text)) >= 2


SECRETS = [
    "sk-proj-abc123XYZ456def789ghi",
    "sk-ant-api03-AbCdEf123456",
    "0123456789abcdef0123456789abcdef",
    "QWxhZGRpbjpvcGVuIHNlc2FtZQ9x2Yy",
]


@pytest.mark.parametrize("secret", SECRETS)
def test_generator_never_echoes_key_like_tokens(secret: str) -> None:
    prompt = f"My key is {secret} and I want to understand authentication headers"
    for seed in range(10):
        text = answer(prompt, seed=seed, deterministic=seed % 2 == 0)
        assert secret not in text
        assert secret[:8] not in text
        for fragment in re.findall(r"[A-Za-z]{3,}", secret):
            if fragment.lower() not in prompt.lower().replace(secret.lower(), ""):
                assert fragment not in text, (fragment, text)
    assert "authentication" in answer(prompt)


def test_huge_prompt_is_handled() -> None:
    prompt = "tokens budget " * 50_000
    text = answer(prompt)
    assert "tokens budget" in text


def test_instruction_words_are_not_taken_for_the_topic() -> None:
    from course_helpers.fake.answers import _content_phrases

    assert _content_phrases("Explain streaming in one paragraph") == ["streaming"]
    assert _content_phrases("Describe the Roman Empire in three short bullet points") == [
        "Roman Empire"
    ]
