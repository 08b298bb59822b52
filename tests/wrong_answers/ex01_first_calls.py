"""Answers to ex01_first_calls: wrong ones its checks must catch, right ones they must pass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from course_helpers.tokens import estimate_tokens
from wrong_answers.kinds import Demo, Right, Wrong

OPENAI_MODEL = "gpt-5.4-mini"
ANTHROPIC_MODEL = "claude-haiku-5-5"
_STOP = {
    "stop": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "length": "length",
    "max_tokens": "length",
}


class Answer(NamedTuple):
    text: str
    input_tokens: int
    output_tokens: int
    stop_reason: str


def _ask(
    openai_client: Any,
    anthropic_client: Any,
    prompt: str,
    max_tokens: int,
    *,
    system: str | None = None,
) -> tuple[Any, Any]:
    """Both raw responses, asked right (or with the prompt in ``system``)."""
    messages = [{"role": "user", "content": prompt}]
    reply = openai_client.chat.completions.create(
        model=OPENAI_MODEL, messages=messages, max_completion_tokens=max_tokens
    )
    extra: dict[str, Any] = {} if system is None else {"system": system}
    message = anthropic_client.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=max_tokens, messages=messages, **extra
    )
    return reply, message


def _text(message: Any) -> str:
    return "".join(block.text for block in message.content if block.type == "text")


def _answers(reply: Any, message: Any, **overrides: Any) -> dict[str, Answer]:
    choice = reply.choices[0]
    answers = {
        "openai": Answer(
            choice.message.content or "",
            reply.usage.prompt_tokens,
            reply.usage.completion_tokens,
            _STOP[choice.finish_reason],
        ),
        "anthropic": Answer(
            _text(message),
            message.usage.input_tokens,
            message.usage.output_tokens,
            _STOP[message.stop_reason],
        ),
    }
    for provider, fields in overrides.items():
        answers[provider] = answers[provider]._replace(**fields)
    return answers


# ------------------------------------------------------------------------------ wrong answers
def ask_both_total_tokens(
    openai_client: Any, anthropic_client: Any, prompt: str, *, max_tokens: int = 300
) -> dict[str, Answer]:
    """Output tokens taken from total_tokens (input + output)."""
    reply, message = _ask(openai_client, anthropic_client, prompt, max_tokens)
    usage = message.usage
    return _answers(
        reply,
        message,
        openai={"output_tokens": reply.usage.total_tokens},
        anthropic={"output_tokens": usage.input_tokens + usage.output_tokens},
    )


def ask_both_fixed_prompt(
    openai_client: Any, anthropic_client: Any, prompt: str, *, max_tokens: int = 300
) -> dict[str, Answer]:
    """The notebook's example prompt typed in, the argument never sent."""
    literal = "Explain exponential backoff for API retries"
    reply, message = _ask(openai_client, anthropic_client, literal, max_tokens)
    return _answers(reply, message)


def ask_both_prompt_as_system(
    openai_client: Any, anthropic_client: Any, prompt: str, *, max_tokens: int = 300
) -> dict[str, Answer]:
    """The prompt moved into the system instructions, a generic user turn instead."""
    messages = [{"role": "system", "content": prompt}, {"role": "user", "content": "Go ahead."}]
    reply = openai_client.chat.completions.create(
        model=OPENAI_MODEL, messages=messages, max_completion_tokens=max_tokens
    )
    message = anthropic_client.messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=max_tokens,
        system=prompt,
        messages=[{"role": "user", "content": "Go ahead."}],
    )
    return _answers(reply, message)


def ask_both_not_end_turn_is_length(
    openai_client: Any, anthropic_client: Any, prompt: str, *, max_tokens: int = 300
) -> dict[str, Answer]:
    """Anything but a plain finish counts as cut: a stop sequence becomes 'length'."""
    reply, message = _ask(openai_client, anthropic_client, prompt, max_tokens)
    finished = message.stop_reason == "end_turn"
    return _answers(reply, message, anthropic={"stop_reason": "stop" if finished else "length"})


def ask_both_length_from_counts(
    openai_client: Any, anthropic_client: Any, prompt: str, *, max_tokens: int = 300
) -> dict[str, Answer]:
    """'length' inferred from the output count reaching max_tokens."""
    reply, message = _ask(openai_client, anthropic_client, prompt, max_tokens)
    used = {"openai": reply.usage.completion_tokens, "anthropic": message.usage.output_tokens}
    return _answers(
        reply,
        message,
        **{
            provider: {"stop_reason": "length" if count >= max_tokens else "stop"}
            for provider, count in used.items()
        },
    )


def ask_both_first_block(
    openai_client: Any, anthropic_client: Any, prompt: str, *, max_tokens: int = 300
) -> dict[str, Answer]:
    """Anthropic's text taken from content[0], whatever that block is."""
    reply, message = _ask(openai_client, anthropic_client, prompt, max_tokens)
    first = message.content[0]
    return _answers(reply, message, anthropic={"text": getattr(first, "text", "")})


def ask_both_local_estimate(
    openai_client: Any, anthropic_client: Any, prompt: str, *, max_tokens: int = 300
) -> dict[str, Answer]:
    """Token counts estimated locally with the course's tokenizer, usage never read."""
    reply, message = _ask(openai_client, anthropic_client, prompt, max_tokens)
    messages = [{"role": "user", "content": prompt}]
    texts = {"openai": reply.choices[0].message.content or "", "anthropic": _text(message)}
    return _answers(
        reply,
        message,
        **{
            provider: {
                "input_tokens": estimate_tokens(messages),
                "output_tokens": estimate_tokens(text),
            }
            for provider, text in texts.items()
        },
    )


# What each wrong answer gets wrong, the answer, and the checks that must catch it.
WRONG: list[Wrong] = [
    (
        "output tokens from total_tokens",
        ask_both_total_tokens,
        ["token counts come from the response's usage"],
    ),
    (
        "a literal prompt, the argument never sent",
        ask_both_fixed_prompt,
        ["sends the prompt as the user message"],
    ),
    (
        "the prompt moved to system",
        ask_both_prompt_as_system,
        ["sends the prompt as the user message"],
    ),
    (
        "a stop_sequence stop reported as 'length'",
        ask_both_not_end_turn_is_length,
        ["a stop-sequence stop has stop_reason 'stop'"],
    ),
    (
        "'length' inferred from output_tokens >= max_tokens",
        ask_both_length_from_counts,
        ["a complete answer has stop_reason 'stop'"],
    ),
    (
        "anthropic text from content[0]",
        ask_both_first_block,
        ["texts are what each provider answered"],
    ),
    (
        "tokens estimated locally, not read from usage",
        ask_both_local_estimate,
        ["token counts come from the response's usage"],
    ),
]

# The demo in the solution notebook ("what a check looks like"), by the name it has there.
DEMO: Demo = (
    "ask_both_as_is",
    "SDK fields copied as they are",
    [
        "texts are what each provider answered",
        "a complete answer has stop_reason 'stop'",
        "a stop-sequence stop has stop_reason 'stop'",
        "an answer cut by max_tokens has stop_reason 'length'",
        "max_tokens reaches both providers",
    ],
)


# ------------------------------------------------------------------------------ right answers
@dataclass
class Normalised:
    text: str
    input_tokens: int
    output_tokens: int
    stop_reason: str


class BothProviders:
    """Class-based: one adapter method per provider, the prompt as a list of text blocks."""

    CUT = frozenset({"length", "max_tokens"})

    def __init__(self, openai_client: Any, anthropic_client: Any) -> None:
        self.openai_client, self.anthropic_client = openai_client, anthropic_client

    def _reason(self, raw: str) -> str:
        return "length" if raw in self.CUT else "stop"

    def openai(self, prompt: str, max_tokens: int) -> Normalised:
        reply = self.openai_client.chat.completions.create(
            model=OPENAI_MODEL,
            messages=[{"role": "user", "content": [{"type": "text", "text": prompt}]}],
            max_completion_tokens=max_tokens,
        )
        usage = reply.usage.model_dump()
        return Normalised(
            reply.choices[0].message.content or "",
            usage["prompt_tokens"],
            usage["completion_tokens"],
            self._reason(reply.choices[0].finish_reason),
        )

    def anthropic(self, prompt: str, max_tokens: int) -> Normalised:
        message = self.anthropic_client.messages.create(
            model=ANTHROPIC_MODEL,
            max_tokens=max_tokens,
            system="Answer briefly.",
            messages=[{"role": "user", "content": [{"type": "text", "text": prompt}]}],
        )
        text = "".join(getattr(block, "text", "") for block in message.content)
        return Normalised(
            text,
            message.usage.input_tokens,
            message.usage.output_tokens,
            self._reason(message.stop_reason),
        )

    def __call__(self, prompt: str, max_tokens: int) -> dict[str, Normalised]:
        return {
            "openai": self.openai(prompt, max_tokens),
            "anthropic": self.anthropic(prompt, max_tokens),
        }


def ask_both_class_based(
    openai_client: Any, anthropic_client: Any, prompt: str, *, max_tokens: int = 300
) -> dict[str, Normalised]:
    return BothProviders(openai_client, anthropic_client)(prompt, max_tokens)


def ask_both_raw_dicts(
    openai_client: Any, anthropic_client: Any, prompt: str, *, max_tokens: int = 300
) -> dict[str, dict[str, Any]]:
    """Plain dicts from the raw HTTP responses (with_raw_response), anthropic asked first."""
    messages = [{"role": "user", "content": prompt}]
    raw = anthropic_client.messages.with_raw_response.create(
        model=ANTHROPIC_MODEL, max_tokens=max_tokens, messages=messages
    )
    body = raw.http_response.json()
    anthropic = {
        "text": "".join(b["text"] for b in body["content"] if b["type"] == "text"),
        "input_tokens": body["usage"]["input_tokens"],
        "output_tokens": body["usage"]["output_tokens"],
        "stop_reason": "length" if body["stop_reason"] == "max_tokens" else "stop",
    }
    raw = openai_client.chat.completions.with_raw_response.create(
        model=OPENAI_MODEL, messages=messages, max_completion_tokens=max_tokens
    )
    body = raw.http_response.json()
    choice = body["choices"][0]
    openai = {
        "text": choice["message"]["content"] or "",
        "input_tokens": body["usage"]["prompt_tokens"],
        "output_tokens": body["usage"]["completion_tokens"],
        "stop_reason": "length" if choice["finish_reason"] == "length" else "stop",
    }
    return {"anthropic": anthropic, "openai": openai}


# Correct answers built differently from the solution: every check must pass them.
RIGHT: list[Right] = [
    ("class-based, prompt as text blocks, a system prompt", ask_both_class_based),
    ("plain dicts from the raw HTTP bodies, anthropic first", ask_both_raw_dicts),
]
