"""The simulated provider's text: the answer book, the requested forms, determinism and steering."""

from __future__ import annotations

import ast
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

from course_helpers.fake import answers as answers_module
from course_helpers.fake.answers import compose_answer
from course_helpers.fake.completion import shape_answer

ROOT = Path(__file__).resolve().parents[1]
MODULE_TEXT = ROOT / "course_helpers" / "seed" / "module-02.txt"


def answer(
    prompt: str, *, system: str | None = None, seed: int = 0, deterministic: bool = True
) -> str:
    return compose_answer(
        prompt, system=system, rng=random.Random(seed), deterministic=deterministic
    )


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


# --- the course's own prompts, collected from its sources --------------------------------------

# Functions and methods the course sends a prompt through (first positional string argument).
_SENDERS = {"ask", "complete", "acomplete", "stream", "astream", "openai_answer", "claude_answer"}
_PROMPT_NAMES = re.compile(r"(?i)^(other_)?(prompt|prompts|question|questions|story)$")
# JavaScript in the notebooks' Node cells, and Python inside strings (a subprocess's script).
_JS_USER = re.compile(r"""role:\s*["']user["'],\s*content:\s*["']([^"']+)["']""")
_PY_USER = re.compile(
    r""""role":\s*"user",\s*"content":\s*("[^"]*"(?:\s*[+*]\s*(?:"[^"]*"|\d+))*)\s*}"""
)


def _value(node: ast.AST, names: dict[str, Any]) -> Any:
    """A string built from literals and module-level names ("Summarise: " + TEXT), or None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int):
        return node.value
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mult):
        left, right = _value(node.left, names), _value(node.right, names)
        try:
            return left + right if isinstance(node.op, ast.Add) else left * right
        except TypeError:
            return None
    return None


def _strings(node: ast.AST, names: dict[str, Any]) -> list[str]:
    if isinstance(node, ast.List | ast.Tuple):
        return [text for element in node.elts for text in _strings(element, names)]
    value = _value(node, names)
    return [value] if isinstance(value, str) else []


def _python_prompts(source: str) -> list[str]:
    tree = ast.parse(source)
    names: dict[str, Any] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and [type(t) for t in node.targets] == [ast.Name]:
            value = _value(node.value, names)
            if value is not None:
                names[node.targets[0].id] = value  # type: ignore[attr-defined]
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            fields = {
                key.value: value
                for key, value in zip(node.keys, node.values, strict=True)
                if isinstance(key, ast.Constant)
            }
            role = fields.get("role")
            if isinstance(role, ast.Constant) and role.value == "user" and "content" in fields:
                found += _strings(fields["content"], names)
            if "prompt" in fields:
                found += _strings(fields["prompt"], names)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in _SENDERS:
                found += _strings(node.args[0], names)
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            found += _strings(node.value, names) if _PROMPT_NAMES.match(node.targets[0].id) else []
        elif isinstance(node, ast.For) and isinstance(node.target, ast.Name):
            found += _strings(node.iter, names) if _PROMPT_NAMES.match(node.target.id) else []
    for match in _PY_USER.finditer(source):  # prompts inside strings, e.g. a child's script
        found += _strings(ast.parse(match.group(1), mode="eval").body, names)
    return found + _JS_USER.findall(source)


def course_prompts() -> dict[str, str]:
    """Every prompt the course sends, with the first file that sends it."""
    python = [
        *sorted(ROOT.glob("sources/notebooks/*.py")),
        *sorted(ROOT.glob("sources/solutions/*.py")),
        *sorted(ROOT.glob("course_helpers/checks/*.py")),
        *sorted(ROOT.glob("course_helpers/seed/*.py")),
        ROOT / "tests" / "test_offline_snippets.py",
    ]
    prompts: dict[str, str] = {}
    for path in python:
        for prompt in _python_prompts(path.read_text(encoding="utf-8")):
            prompts.setdefault(prompt, path.name)
    for path in [MODULE_TEXT, ROOT / "README.md"]:
        text = path.read_text(encoding="utf-8")
        for prompt in _JS_USER.findall(text) + [
            m.group(1) for m in re.finditer(r'"role": "user", "content": "([^"]+)"', text)
        ]:
            prompts.setdefault(prompt, path.name)
    return {p: f for p, f in prompts.items() if not re.fullmatch(r"[A-Z]+", p)}  # "POST", ...


COURSE_PROMPTS = course_prompts()
MODULE_PROMPTS = {
    "Explain API integration in one sentence.",
    "Write a short poem",
    "Hello!",
    "Write a haiku",
}


def test_the_collector_finds_the_module_and_course_prompts() -> None:
    assert set(COURSE_PROMPTS) >= MODULE_PROMPTS
    expected = {
        "Count from 1 to 10",
        "What is a token bucket?",
        "Name one reason an API answers 503",
    }
    assert expected <= set(COURSE_PROMPTS)
    assert any(p.startswith("Summarise: Limits protect") for p in COURSE_PROMPTS)
    assert len(COURSE_PROMPTS) >= 25


def _book_texts(prompt: str) -> set[str]:
    from course_helpers.fake.answer_book import find_entry

    entry = find_entry(prompt)
    assert entry is not None, f"no answer-book entry for the course prompt {prompt!r}"
    first = [sentences(text)[0] for text in (entry.canonical, *entry.variants)]
    return {entry.canonical, *entry.variants, *first, *([entry.short] if entry.short else [])}


@pytest.mark.parametrize("prompt", sorted(COURSE_PROMPTS))
def test_every_course_prompt_is_answered_from_the_book(prompt: str) -> None:
    texts = _book_texts(prompt)
    for seed in range(6):
        for deterministic in (True, False):
            text = answer(prompt, seed=seed, deterministic=deterministic)
            assert text in texts, (prompt, text)


def test_the_module_prompts_get_the_form_they_ask_for() -> None:
    for seed in range(8):
        one = answer("Explain API integration in one sentence.", seed=seed, deterministic=False)
        assert len(sentences(one)) == 1 and "API integration" in one, one
        poem = answer("Write a short poem", seed=seed, deterministic=False).splitlines()
        assert 4 <= len(poem) <= 8 and all(line.strip() for line in poem), poem
        haiku = answer("Write a haiku", seed=seed, deterministic=False)
        assert_haiku(haiku)
        hello = answer("Hello!", system="You are a friendly assistant.", seed=seed)
        assert re.match(r"(Hello|Hi|Hey)\b", hello), hello


# --- the book: matching, variants, steering ----------------------------------------------------


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
        ("What is 2 + 2?", "4"),
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


def test_a_prompt_asking_another_form_than_the_books_is_generated_in_that_form() -> None:
    bullets = answer("Explain quantum computing in three bullet points")
    assert [line[:2] for line in bullets.splitlines()] == ["- "] * 3
    assert answer("Count to 100").split(", ") == [str(n) for n in range(1, 101)]
    assert_haiku(answer("Write a haiku about quantum physics"))
    assert "Paris" not in answer("Is the capital of France Paris? Reply as JSON")


def test_capital_questions_beyond_france_a_learners_first_edit() -> None:
    assert answer("What is the capital of Germany?") == "The capital of Germany is Berlin."
    assert answer("what's the capital of japan", system="Answer in one word.") == "Tokyo."
    assert "South Korea" in answer("What is the capital city of South Korea?")


def test_a_book_paragraph_is_cut_to_the_sentences_asked() -> None:
    text = answer("Explain quantum computing in 3 sentences")
    assert len(sentences(text)) == 3 and "qubit" in text
    assert answer("Explain quantum computing in simple terms").startswith(text)


def test_the_seed_demo_prompt_gives_another_sample_for_another_seed() -> None:
    prompt = "Describe a good morning routine for programmers in one sentence"
    texts = {answer(prompt, seed=seed) for seed in range(10)}
    assert len(texts) >= 2
    assert answer(prompt, seed=42) == answer(prompt, seed=42)
    assert all(len(sentences(text)) == 1 for text in texts)


def test_deterministic_book_answer_is_canonical_whatever_the_rng() -> None:
    texts = {answer("Tell me a joke", seed=seed) for seed in range(10)}
    assert len(texts) == 1


def test_non_deterministic_varies_with_the_rng_and_repeats_with_the_same_state() -> None:
    for prompt in ["Tell me a joke", "How do tides depend on the moon?"]:
        texts = {answer(prompt, seed=seed, deterministic=False) for seed in range(20)}
        assert len(texts) >= 3
        assert answer(prompt, seed=7, deterministic=False) == answer(
            prompt, seed=7, deterministic=False
        )


def test_pirate_system_prompt_adds_flavour() -> None:
    plain = answer("Say hello")
    pirate = answer("Say hello", system="You are a pirate. Talk like one.")
    assert pirate.startswith("Arr!")
    assert pirate != plain
    assert "'Hello'" in answer("Translate 'hello' to French", system="pirate")
    json.loads(answer("Return JSON with keys name and age", system="You are a pirate."))


@pytest.mark.parametrize("system", ["Answer in one word.", "Be brief.", "Be concise"])
def test_short_system_prompt_gives_the_short_form(system: str) -> None:
    assert answer("What is the capital of France?", system=system) == "Paris."
    long_text = answer("Explain quantum computing in simple terms")
    short_text = answer("Explain quantum computing in simple terms", system=system)
    assert len(short_text) < len(long_text) / 2
    generated = answer("How do tides depend on the moon?", system=system)
    assert len(sentences(generated)) == 1


def test_system_prompt_asking_a_form_is_followed_when_the_prompt_asks_none() -> None:
    text = answer("Tell me about volcanoes", system="Answer in exactly three sentences.")
    assert len(sentences(text)) == 3
    text = answer("Tell me about volcanoes in two sentences", system="Answer in one sentence.")
    assert len(sentences(text)) == 2


# --- the requested forms, as properties over many prompts --------------------------------------

TOPICS = [
    "the ocean",
    "machine learning",
    "Roman history",
    "coffee",
    "black holes",
    "photosynthesis",
    "the French Revolution",
    "garden design",
    "Kubernetes",
    "climate change",
    "chess openings",
    "volcanoes",
]
NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven"}
FILLER = re.compile(r"easiest to understand by starting|the basics|the details|the context")


def topic_word(topic: str) -> str:
    return max(re.findall(r"[A-Za-z]+", topic), key=len).lower()


def on_topic(topic: str, text: str) -> bool:
    return topic_word(topic) in text.lower()


def cases(templates: list[str], counts: range) -> list[tuple[str, str, int]]:
    """(prompt, topic, count) for every template, topic and count, numbers as digits or words."""
    out = []
    for i, template in enumerate(templates):
        for j, topic in enumerate(TOPICS):
            for n in counts:
                spelt = NUMBER_WORDS[n] if (i + j + n) % 2 and n in NUMBER_WORDS else str(n)
                out.append((template.format(t=topic, n=spelt), topic, n))
    return out


@pytest.mark.parametrize("topic", TOPICS)
def test_a_joke_about_a_topic_is_about_it(topic: str) -> None:
    for seed in range(4):
        text = answer(f"Tell me a joke about {topic}", seed=seed, deterministic=False)
        assert on_topic(topic, text) and 1 <= len(sentences(text)) <= 3, text
    assert "programmers" in answer("Tell me a joke")


SENTENCE_CASES = cases(
    [
        "Explain {t} in {n} sentences.",
        "Describe {t} in {n} short sentences",
        "Write {n} sentences about {t}",
        "Tell me about {t}. Answer in {n} sentences.",
    ],
    range(1, 7),
)


@pytest.mark.parametrize(("prompt", "topic", "n"), SENTENCE_CASES[::3])
def test_n_sentences(prompt: str, topic: str, n: int) -> None:
    for seed in range(3):
        text = answer(prompt, seed=seed, deterministic=seed == 0)
        parts = sentences(text)
        assert len(parts) == n, text
        assert all(part[0].isupper() and part[-1] in ".!?" for part in parts), text
        assert on_topic(topic, text), text
        assert "\n" not in text


@pytest.mark.parametrize(
    "template",
    ["Explain {t} in one sentence.", "In one sentence, what is {t}?", "Describe {t} in a sentence"],
)
def test_one_sentence(template: str) -> None:
    for topic in TOPICS:
        text = answer(template.format(t=topic), deterministic=False)
        assert len(sentences(text)) == 1 and on_topic(topic, text), text


LIST_CASES = cases(
    [
        "Give me {n} bullet points about {t}",
        "List {n} tips for {t}",
        "Name {n} benefits of {t}",
        "What are {n} facts about {t}?",
    ],
    range(2, 8),
)


@pytest.mark.parametrize(("prompt", "topic", "n"), LIST_CASES[::3])
def test_lists_have_the_number_of_items_asked(prompt: str, topic: str, n: int) -> None:
    text = answer(prompt, deterministic=False)
    lines = text.splitlines()
    assert len(lines) == n, text
    if "bullet" in prompt:
        assert all(line.startswith("- ") for line in lines), text
    else:
        assert [line.split(" ")[0] for line in lines] == [f"{i}." for i in range(1, n + 1)], text
    assert len(set(lines)) == n, text  # distinct items
    assert on_topic(topic, text), text


def test_a_list_without_a_number_has_a_few_items() -> None:
    for topic in TOPICS:
        lines = answer(f"List some uses of {topic}").splitlines()
        assert 3 <= len(lines) <= 5, lines


_VOWELS = re.compile(r"[aeiouy]+")


def rough_syllables(line: str) -> int:
    count = 0
    for word in re.findall(r"[a-z]+", line.lower()):
        groups = len(_VOWELS.findall(word))
        if word.endswith("e") and not word.endswith("le") and groups > 1:
            groups -= 1
        count += max(groups, 1)
    return count


def assert_haiku(text: str) -> None:
    lines = text.splitlines()
    assert len(lines) == 3, text
    for line, target in zip(lines, (5, 7, 5), strict=True):
        assert abs(rough_syllables(line) - target) <= 1, (line, target)


@pytest.mark.parametrize("topic", TOPICS)
def test_haiku_has_three_lines_of_five_seven_five(topic: str) -> None:
    for seed in range(4):
        text = answer(f"Write a haiku about {topic}", seed=seed, deterministic=False)
        assert_haiku(text)
        assert on_topic(topic, text) or " " in topic, text  # a long topic may not fit 5 beats


def test_book_haikus_are_five_seven_five() -> None:
    for prompt in ["Write a haiku about programming", "Write a haiku about APIs", "Write a haiku"]:
        texts = {answer(prompt, seed=seed, deterministic=False) for seed in range(30)}
        assert len(texts) >= 3
        for text in texts:
            assert_haiku(text)


@pytest.mark.parametrize(
    ("template", "low", "high"),
    [
        ("Write a poem about {t}", 4, 8),
        ("Write a short poem about {t}", 4, 8),
        ("Write a 6-line poem about {t}", 6, 6),
        ("Write a limerick about {t}", 5, 5),
    ],
)
def test_poems_are_short_lines_on_topic(template: str, low: int, high: int) -> None:
    for topic in TOPICS:
        text = answer(template.format(t=topic), deterministic=False)
        lines = text.splitlines()
        assert low <= len(lines) <= high, text
        assert all(0 < len(line.split()) <= 12 for line in lines), text
        assert on_topic(topic, text), text


@pytest.mark.parametrize(
    ("prompt", "numbers"),
    [
        ("Count from 1 to 20", list(range(1, 21))),
        ("count to 5", list(range(1, 6))),
        ("Please count from 3 to 12.", list(range(3, 13))),
        ("Count down from 10 to 1", list(range(10, 0, -1))),
        ("List the numbers from 1 to 7", list(range(1, 8))),
        ("Count from 1 to 10", list(range(1, 11))),
    ],
)
def test_counting_gives_exactly_the_numbers(prompt: str, numbers: list[int]) -> None:
    for seed in range(5):
        text = answer(prompt, seed=seed, deterministic=seed == 0)
        assert [int(n) for n in re.findall(r"\d+", text)] == numbers, text
    assert answer("Count from 1 to 10") == "1, 2, 3, 4, 5, 6, 7, 8, 9, 10"


@pytest.mark.parametrize("n", [1, 3, 5, 10, 25, 50])
def test_in_n_words(n: int) -> None:
    for topic in TOPICS:
        text = answer(f"Describe {topic} in {n} words", deterministic=False)
        assert len(text.split()) == n, text
        assert text.endswith("."), text
        assert re.search(r"\b(a|an|the|and|of|to)\.$", text) is None, text
    assert len(answer("Summarise chess openings in 20 words or fewer").split()) <= 20


@pytest.mark.parametrize(
    ("prompt", "keys"),
    [
        ("Return a JSON object with keys name, age and city for a person", ["name", "age", "city"]),
        ('Reply in JSON with the fields "title" and "year" for a classic film', ["title", "year"]),
        ("Give me JSON with keys: topic, summary for black holes", ["topic", "summary"]),
        ("A cat as JSON with properties name, color and is_indoor", ["name", "color", "is_indoor"]),
    ],
)  # fmt: skip
def test_json_is_parseable_with_the_keys_named(prompt: str, keys: list[str]) -> None:
    for seed in range(5):
        value = json.loads(answer(prompt, seed=seed, deterministic=False))
        assert isinstance(value, dict) and list(value) == keys, value


@pytest.mark.parametrize("topic", TOPICS)
def test_json_without_keys_is_parseable_and_on_topic(topic: str) -> None:
    text = answer(f"Describe {topic} in JSON format.")
    assert on_topic(topic, json.dumps(json.loads(text)))
    items = json.loads(answer(f"Return a JSON array of 4 facts about {topic}"))
    assert isinstance(items, list) and len(items) == 4


@pytest.mark.parametrize(
    "template",
    ["Is {t} hard to learn?", "Can {t} be explained simply?", "Should I care about {t}?"],
)
def test_yes_no_questions_get_yes_or_no_and_a_reason(template: str) -> None:
    for topic in TOPICS:
        text = answer(template.format(t=topic), deterministic=False)
        assert re.match(r"(Yes|No|Generally, yes|It depends)\b", text), text
        assert len(sentences(text)) >= 2 and on_topic(topic, text), text


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("Translate 'hello' to Spanish", "Hola"),
        ("Translate 'thank you' into German", "Danke"),
        ("How do you say goodbye in Italian?", "Arrivederci"),
        ("Translate 'the weather is nice today' to French", "the weather is nice today"),
    ],
)
def test_translations_are_plausible_or_a_clear_stand_in(prompt: str, expected: str) -> None:
    text = answer(prompt)
    assert expected in text, text
    language = re.search(r"(Spanish|German|Italian|French)", prompt)
    assert language and language.group() in text, text


def test_summaries_work_on_the_text_after_the_colon() -> None:
    text = answer("Summarise in one sentence: Glaciers are melting. Sea levels rise as a result.")
    assert len(sentences(text)) == 1 and "glaciers" in text.lower(), text
    text = answer("Summarize: The cat sat on the mat. It was warm. The cat slept.")
    assert "cat" in text.lower() and len(sentences(text)) <= 3, text


@pytest.mark.parametrize(
    "template", ["Tell me about {t}", "What is {t}?", "How does {t} work?", "Why does {t} matter?"]
)
def test_default_is_two_to_four_sentences_on_topic_without_filler(template: str) -> None:
    for topic in TOPICS:
        for seed in range(4):
            text = answer(template.format(t=topic), seed=seed, deterministic=False)
            parts = sentences(text)
            assert 2 <= len(parts) <= 4, text
            assert all(part[0].isupper() and part[-1] in ".!?" for part in parts), text
            assert on_topic(topic, text), text
            assert not FILLER.search(text), text
            assert "{" not in text


def test_stories_are_long_enough_and_on_topic() -> None:
    for topic in ["a dragon", "a lighthouse keeper", "a lost key"]:
        text = answer(f"Write a story about {topic}")
        assert len(sentences(text)) >= 6 and on_topic(topic, text), text


def test_robot_story_is_long_enough_for_streaming_demos() -> None:
    for seed in range(6):
        text = answer("Write a short story about a robot", seed=seed, deterministic=seed == 0)
        assert 120 <= len(text.split()) <= 200
        assert "robot" in text.lower()


def test_quantum_answer_is_several_sentences_so_max_tokens_cuts_show() -> None:
    for seed in range(8):
        text = answer(
            "Explain quantum computing in simple terms", seed=seed, deterministic=seed == 0
        )
        assert 3 <= len(sentences(text)) <= 7
        assert "qubit" in text


# --- a max_tokens cut is the start of the same answer ------------------------------------------

PREFIX_PROMPTS = [
    *sorted(COURSE_PROMPTS),
    *(prompt for prompt, _, _ in SENTENCE_CASES[::7]),
    *(prompt for prompt, _, _ in LIST_CASES[::7]),
    *(f"Write a haiku about {topic}" for topic in TOPICS),
    *(f"Tell me about {topic}" for topic in TOPICS),
]


def test_a_cap_cuts_the_answer_the_same_request_drew_uncapped() -> None:
    draws = answers_module.AnswerDraws(seed=3)
    for prompt in PREFIX_PROMPTS:
        request = json.dumps(["gpt-4.1-mini", prompt])
        for cap in (1, 5, 12, 40):
            rng = next(draws.streams(request, cap="None"))
            full = compose_answer(prompt, system=None, rng=rng, deterministic=False)
            rng = next(draws.streams(request, cap=str(cap)))
            cut = compose_answer(prompt, system=None, rng=rng, deterministic=False)
            capped = shape_answer(cut, cap, ()).text
            assert full.startswith(capped), (prompt, cap, capped, full)


@pytest.mark.parametrize("prompt", ["Write a short story about a robot", "Tell me about tides"])
def test_through_the_sdks_a_capped_answer_starts_the_uncapped_one(prompt: str) -> None:
    import anthropic
    import openai

    from course_helpers.fake import FakeProvider

    messages: Any = [{"role": "user", "content": prompt}]
    with FakeProvider(seed=4):  # default temperature: sampled answers, not the canonical one
        oa = openai.OpenAI(api_key="sk-fake-prefix-test", max_retries=0)
        an = anthropic.Anthropic(api_key="sk-ant-fake-prefix-test", max_retries=0)
        for cap in (3, 9, 25):
            full = oa.chat.completions.create(model="gpt-4.1-mini", messages=messages)
            cut = oa.chat.completions.create(
                model="gpt-4.1-mini", messages=messages, max_completion_tokens=cap
            )
            assert (full.choices[0].message.content or "").startswith(
                cut.choices[0].message.content or "?"
            )
            whole = an.messages.create(model="claude-haiku-4-5", max_tokens=1024, messages=messages)
            part = an.messages.create(model="claude-haiku-4-5", max_tokens=cap, messages=messages)
            assert part.stop_reason == "max_tokens"
            assert whole.content[0].text.startswith(part.content[0].text)  # type: ignore[union-attr]


def test_sending_the_same_request_again_draws_a_new_answer() -> None:
    draws = answers_module.AnswerDraws(seed=3)
    request = json.dumps(["gpt-4.1-mini", "Tell me a joke"])
    texts = {
        compose_answer(
            "Tell me a joke",
            system=None,
            rng=next(draws.streams(request, cap="None")),
            deterministic=False,
        )
        for _ in range(12)
    }
    assert len(texts) >= 3
    again = answers_module.AnswerDraws(seed=3)  # the same seed replays the same run
    first = next(again.streams(request, cap="None")).random()
    assert first == next(answers_module.AnswerDraws(seed=3).streams(request, cap="7")).random()


def test_draws_forget_old_requests_beyond_their_memory() -> None:
    draws = answers_module.AnswerDraws(seed=0, memory=10)
    for index in range(100):
        next(draws.streams(f"request {index}", cap="None"))
    assert len(draws._last) == 10


# --- the topic, and what never reaches the text ------------------------------------------------


def test_generator_keeps_proper_nouns_and_compounds() -> None:
    text = answer("Explain machine learning to a Python developer in three sentences")
    assert "machine learning" in text.lower()
    assert "Python" in text


def test_generator_handles_prompts_without_content_words() -> None:
    for prompt in ["", "?", "what is it"]:
        text = answer(prompt)
        assert 2 <= len(sentences(text)) <= 4


SECRETS = [
    "sk-proj-abc123XYZ456def789ghi",
    "sk-ant-api03-AbCdEf123456",
    "0123456789abcdef0123456789abcdef",
    "QWxhZGRpbjpvcGVuIHNlc2FtZQ9x2Yy",
]


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize(
    "template",
    [
        "My key is {s} and I want to understand authentication headers",
        "Return JSON with keys name and token for {s}",
        "Write a haiku about {s}",
        "Translate '{s}' to French",
    ],
)
def test_generator_never_echoes_key_like_tokens(secret: str, template: str) -> None:
    prompt = template.format(s=secret)
    for seed in range(6):
        text = answer(prompt, seed=seed, deterministic=seed % 2 == 0)
        assert secret not in text
        assert secret[:8] not in text
        for fragment in re.findall(r"[A-Za-z]{3,}", secret):
            if fragment.lower() not in prompt.lower().replace(secret.lower(), ""):
                assert fragment not in text, (fragment, text)


def test_huge_prompt_is_handled() -> None:
    prompt = "tokens budget " * 50_000
    text = answer(prompt)
    assert "tokens budget" in text


def test_instruction_words_are_not_taken_for_the_topic() -> None:
    from course_helpers.fake.answer_forms import content_phrases

    assert content_phrases("Explain streaming in one paragraph") == ["streaming"]
    assert content_phrases("Describe the Roman Empire in three short bullet points") == [
        "Roman Empire"
    ]
    assert content_phrases("Write a haiku about autumn leaves as JSON") == ["autumn leaves"]


# --- arithmetic and paragraphs -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("Question number 7: what is 7 squared?", "7 squared is 49."),
        ("What is 12 times 8?", "12 times 8 is 96."),
        ("what's 3 cubed", "3 cubed is 27."),
        ("What is 7 divided by 2?", "7 divided by 2 is 3.5."),
        ("What is 5-3?", "5 - 3 is 2."),
    ],
)
def test_one_operation_on_whole_numbers_is_answered_right(prompt: str, expected: str) -> None:
    answer = compose_answer(prompt, system=None, rng=random.Random(0), deterministic=False)
    assert answer == expected


@pytest.mark.parametrize(
    ("prompt", "n"),
    [
        ("Explain tides in two paragraphs", 2),
        ("Write an essay about bridges", 5),
        ("Write a long essay about databases, in 12 paragraphs", 12),
    ],
)
def test_paragraphs_and_essays_have_the_paragraphs_asked_on_topic(prompt: str, n: int) -> None:
    text = compose_answer(prompt, system=None, rng=random.Random(2), deterministic=False)
    paragraphs = text.split("\n\n")
    assert len(paragraphs) == n
    assert all(len(re.findall(r"[.!?](?:\s|$)", p)) >= 3 for p in paragraphs)
    topic = prompt.split(" about ")[-1].split(",")[0] if " about " in prompt else "tides"
    assert topic in text and "essay" not in text
