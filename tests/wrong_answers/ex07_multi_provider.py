"""Answers to ex07_multi_provider: wrong ones its checks must catch, right ones they must pass."""

from __future__ import annotations

from typing import Any

from course_helpers.catalog import provider_for
from course_helpers.errors import classify
from wrong_answers.kinds import Demo, Right, Wrong


class _Asker:
    def __init__(
        self, primary: str, fallback: str, *, openai_client: Any, anthropic_client: Any
    ) -> None:
        self.primary, self.fallback = primary, fallback
        self.clients = {"openai": openai_client, "anthropic": anthropic_client}

    def ask(
        self, model: str, prompt: str, max_tokens: int, provider: str | None = None
    ) -> tuple[str, str]:
        provider = provider or provider_for(model) or "openai"
        messages = [{"role": "user", "content": prompt}]
        if provider == "openai":
            reply = self.clients["openai"].chat.completions.create(
                model=model, messages=messages, max_completion_tokens=max_tokens
            )
            return provider, reply.choices[0].message.content or ""
        message = self.clients["anthropic"].messages.create(
            model=model, messages=messages, max_tokens=max_tokens
        )
        return provider, "".join(b.text for b in message.content if b.type == "text")


class MultiClientNoFallback(_Asker):
    """Routes right, never falls back."""

    def complete(self, prompt: str, *, max_tokens: int = 200) -> tuple[str, str]:
        return self.ask(self.primary, prompt, max_tokens)


class MultiClientOpenAIOnly(_Asker):
    """Sends every model to OpenAI (the seed's LLMClient default), falls back properly."""

    def complete(self, prompt: str, *, max_tokens: int = 200) -> tuple[str, str]:
        try:
            return self.ask(self.primary, prompt, max_tokens, provider="openai")
        except Exception as exc:
            if not classify(exc).retriable:
                raise
        return self.ask(self.fallback, prompt, max_tokens)


class MultiClientSwallows(_Asker):
    """Falls back properly, but returns (provider, None) when both fail instead of raising."""

    def complete(self, prompt: str, *, max_tokens: int = 200) -> Any:
        try:
            return self.ask(self.primary, prompt, max_tokens)
        except Exception as exc:
            if not classify(exc).retriable:
                raise
        try:
            return self.ask(self.fallback, prompt, max_tokens)
        except Exception:
            return None


# What each wrong answer gets wrong, the answer, and the checks that must catch it.
WRONG: list[Wrong] = [
    (
        "never falls back",
        MultiClientNoFallback,
        [
            "falls back when the primary has an outage (503)",
            "falls back when anthropic is overloaded (529)",
        ],
    ),
    (
        "sends every model to openai",
        MultiClientOpenAIOnly,
        ["routes a claude model to anthropic"],
    ),
    ("returns None when both fail", MultiClientSwallows, ["raises when both providers fail"]),
]

# The demo in the solution notebook ("what a check looks like"), by the name it has there.
DEMO: Demo = (
    "MultiClientAnyError",
    "falls back on any exception",
    ["does not fall back on a 400"],
)

# Correct answers built differently from the solution: every check must pass them.
RIGHT: list[Right] = []
