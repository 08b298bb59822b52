"""The installed SDKs' README snippets, run offline by tools/try_sdk_examples.py, fail only as
documented; and snippets in the style of the SDKs' tool and structured-output examples run.

The README snippets are read from the installed packages at run time (never copied here). Each
runs unchanged in a fresh interpreter after setup(), with no keys: it must end ``ok``, with the
simulated provider's "needs a live key", or out of scope (Azure, Bedrock, a file on disk, ...).
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import try_sdk_examples as tse  # noqa: E402

# A snippet that fails offline for a reason that is not the simulation's: keyed by a phrase of
# its code (line numbers move between releases), with why it may fail.
ALLOWED_FAILURES = {
    'cast_to=httpx2.Response,\n    body={"my_param": True}': (
        "the README's undocumented-endpoint example posts to the placeholder path /foo: live, "
        "OpenAI answers 404 'Invalid URL (POST /v1/foo)', and so does the simulation"
    ),
    '"content": "How much ?"': (
        "the README's json_object example never says 'json' in its input: live, the Responses "
        "API answers 400 ('Response input messages must contain the word json'), and so does "
        "the simulation"
    ),
}


@pytest.fixture(scope="module")
def readme_results() -> list[tuple[tse.Snippet, tse.Outcome]]:
    return tse.try_all(tse.default_sources(), timeout=90)


def test_readme_snippets_fail_only_as_documented(
    readme_results: list[tuple[tse.Snippet, tse.Outcome]],
) -> None:
    assert len(readme_results) >= 20, tse.report(readme_results)  # both READMEs were found
    unexplained = [
        f"{snippet.name}: {outcome.detail}"
        for snippet, outcome in readme_results
        if outcome.kind == "other" and not any(key in snippet.code for key in ALLOWED_FAILURES)
    ]
    assert not unexplained, "\n".join(unexplained)
    # every allowed failure still exists and still fails (else drop it from the list)
    for key in ALLOWED_FAILURES:
        kinds = [o.kind for s, o in readme_results if key in s.code]
        assert kinds == ["other"], (key, kinds)


def test_readme_quickstarts_answer_what_they_ask(
    readme_results: list[tuple[tse.Snippet, tse.Outcome]],
) -> None:
    """The first code a learner copies gets an answer on its question, as it would live."""
    by_phrase = {
        'instance of a class?",\n)': "isinstance",  # openai: responses quickstart
        '"Hello, Claude"': "Hello",  # anthropic: messages quickstart
        'bedtime story about a unicorn.",\n    stream=True,\n)\n\nfor': "unicorn",
    }
    for phrase, expected in by_phrase.items():
        found = [o for s, o in readme_results if phrase in s.code]
        assert len(found) == 1, phrase
        assert found[0].kind == "ok", found[0]
        assert expected in found[0].output, (phrase, found[0].output[-400:])
        assert ") be " not in found[0].output, found[0].output  # pirate talk leaves code alone


# In the style of the SDKs' examples/parsing_tools.py and examples/structured_outputs.py (written
# here, not copied): a tool made from a pydantic model has no description, so only its fields say
# what it does; an extraction prompt opens with a greeting and writes its price with decimals.
TOOL_FROM_MODEL = """
from enum import Enum

import openai
from pydantic import BaseModel
from openai import OpenAI


class Genre(str, Enum):
    fantasy = "fantasy"
    mystery = "mystery"
    poetry = "poetry"


class BookSearch(BaseModel):
    genre: Genre
    author: str
    published_before: int


client = OpenAI()
completion = client.chat.completions.parse(
    model="gpt-4.1-mini",
    messages=[{"role": "user", "content": "Find fantasy novels published before 1975"}],
    tools=[openai.pydantic_function_tool(BookSearch)],
)
call = (completion.choices[0].message.tool_calls or [])[0]
assert isinstance(call.function.parsed_arguments, BookSearch)
print(call.function.parsed_arguments.genre.value, call.function.parsed_arguments.published_before)

response = client.responses.parse(
    model="gpt-4.1-mini",
    input="Find fantasy novels published before 1975",
    tools=[openai.pydantic_function_tool(BookSearch)],
)
assert response.output[0].type == "function_call"
print("responses:", response.output[0].parsed_arguments.genre.value)
"""

EXTRACTION = """
import anthropic
import pydantic


class Ticket(pydantic.BaseModel):
    event_name: str
    price: float
    seats: int


client = anthropic.Anthropic()
message = client.messages.parse(
    model="claude-haiku-5-5",
    max_tokens=512,
    messages=[{"role": "user", "content": (
        "Extract the event name, price and number of seats from this message: "
        "'Hello, please book 3 seats for Swan Lake at 42.75 euros each.'"
    )}],
    output_format=Ticket,
)
print(message.parsed_output)
"""

# The installed anthropic SDK's tool runner sends `thread` (the message-threads beta), which the
# simulation does not hold: refused as the real API refuses a request it cannot thread, the
# runner resends the whole conversation and finishes; a `thread` of one's own needs a live key.
TOOL_RUNNER = """
import anthropic
from anthropic import beta_tool


@beta_tool
def get_population(city: str) -> str:
    \"\"\"Look up how many people live in a city.

    Args:
        city: The city's name, e.g. Lyon
    \"\"\"
    return f"{city}: 522,000 people"


client = anthropic.Anthropic()
runner = client.beta.messages.tool_runner(
    model="claude-haiku-5-5",
    max_tokens=512,
    tools=[get_population],
    messages=[{"role": "user", "content": "What is the population of Lyon?"}],
)
for message in runner:
    print(message.stop_reason, [block.type for block in message.content])
print(message.content[-1].text)
"""

OWN_THREAD = """
import anthropic

client = anthropic.Anthropic()
client.beta.messages.create(
    model="claude-haiku-5-5",
    max_tokens=256,
    messages=[{"role": "user", "content": "Hello!"}],
    thread={"type": "create"},
    betas=["message-threads-2026-08-12"],
)
"""


@pytest.mark.parametrize(
    ("code", "kind", "expected"),
    [
        (TOOL_FROM_MODEL, "ok", "fantasy 1975\nresponses: fantasy"),
        (EXTRACTION, "ok", "event_name='Swan Lake' price=42.75 seats=3"),
        (TOOL_RUNNER, "ok", "tool_use ['text', 'tool_use']\nend_turn ['text']\n"),
        (OWN_THREAD, "live key", "message threads"),
    ],
    ids=["tool-from-model", "extraction", "tool-runner", "own-thread"],
)
def test_example_style_snippets_run(code: str, kind: str, expected: str) -> None:
    snippet = tse.Snippet("test", 1, textwrap.dedent(code))
    result = tse.run_snippet(snippet, timeout=90)
    outcome = tse.classify(snippet, result)
    assert outcome.kind == kind, result.stderr[-2000:]
    assert expected in (result.stdout if kind == "ok" else outcome.detail), (result, outcome)
