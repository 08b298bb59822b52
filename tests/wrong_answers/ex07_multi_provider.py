"""Answers to ex07_multi_provider: wrong ones its checks must catch, right ones they must pass."""

from __future__ import annotations

from typing import Any

import anthropic
import openai

from course_helpers.catalog import get_model, provider_for
from course_helpers.errors import classify
from wrong_answers.kinds import Demo, Right, Wrong

_STATUS_ERRORS = (openai.APIStatusError, anthropic.APIStatusError)
_CONNECTION_ERRORS = (openai.APIConnectionError, anthropic.APIConnectionError)
_TIMEOUTS = (openai.APITimeoutError, anthropic.APITimeoutError)


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


class MultiClientFallsBackOn404(_Asker):
    """Falls back on every HTTP error but a 400: a mistyped model is served by the other one."""

    def complete(self, prompt: str, *, max_tokens: int = 200) -> tuple[str, str]:
        try:
            return self.ask(self.primary, prompt, max_tokens)
        except _STATUS_ERRORS as exc:
            if exc.status_code == 400:
                raise
        except _CONNECTION_ERRORS:
            pass
        return self.ask(self.fallback, prompt, max_tokens)


class MultiClientStatusErrorsOnly(_Asker):
    """Falls back on retriable HTTP statuses only: a dropped connection or a timeout is raised."""

    def complete(self, prompt: str, *, max_tokens: int = 200) -> tuple[str, str]:
        try:
            return self.ask(self.primary, prompt, max_tokens)
        except _STATUS_ERRORS as exc:
            if exc.status_code not in (429, 500, 502, 503, 504, 529):
                raise
        return self.ask(self.fallback, prompt, max_tokens)


class MultiClientNotOnTimeout(_Asker):
    """Falls back on outages and lost connections, but re-raises a timeout."""

    def complete(self, prompt: str, *, max_tokens: int = 200) -> tuple[str, str]:
        try:
            return self.ask(self.primary, prompt, max_tokens)
        except _TIMEOUTS:
            raise  # "the request may have been processed: do not send it twice"
        except Exception as exc:
            if not classify(exc).retriable:
                raise
        return self.ask(self.fallback, prompt, max_tokens)


class MultiClientFixedMaxTokens(_Asker):
    """Ignores max_tokens: always asks for the default 200."""

    def complete(self, prompt: str, *, max_tokens: int = 200) -> tuple[str, str]:
        try:
            return self.ask(self.primary, prompt, 200)
        except Exception as exc:
            if not classify(exc).retriable:
                raise
        return self.ask(self.fallback, prompt, 200)


class MultiClientGptPrefix(_Asker):
    """Routes by a 'gpt' prefix: o4-mini goes to anthropic."""

    def complete(self, prompt: str, *, max_tokens: int = 200) -> tuple[str, str]:
        def provider(model: str) -> str:
            return "openai" if model.startswith("gpt") else "anthropic"

        try:
            return self.ask(self.primary, prompt, max_tokens, provider(self.primary))
        except Exception as exc:
            if not classify(exc).retriable:
                raise
        return self.ask(self.fallback, prompt, max_tokens, provider(self.fallback))


class MultiClientLiteralPrompt(_Asker):
    """Sends the prompt it was tried with, typed in, instead of the argument."""

    def complete(self, prompt: str, *, max_tokens: int = 200) -> tuple[str, str]:
        literal = "What is a rate limit?"
        try:
            return self.ask(self.primary, literal, max_tokens)
        except Exception as exc:
            if not classify(exc).retriable:
                raise
        return self.ask(self.fallback, literal, max_tokens)


_OUTAGES = [
    "falls back when openai fails (429, 5xx)",
    "falls back when anthropic fails (529, 5xx, 429)",
    "falls back on a dropped connection",
    "falls back on a timeout",
]

# What each wrong answer gets wrong, the answer, and the checks that must catch it.
WRONG: list[Wrong] = [
    ("never falls back", MultiClientNoFallback, _OUTAGES),
    (
        "sends every model to openai",
        MultiClientOpenAIOnly,
        ["routes a claude model to anthropic"],
    ),
    ("returns None when both fail", MultiClientSwallows, ["raises when both providers fail"]),
    (
        "falls back on a 404 (a mistyped model)",
        MultiClientFallsBackOn404,
        ["does not fall back on a 404 (a mistyped model)"],
    ),
    (
        "no fallback on a dropped connection or a timeout",
        MultiClientStatusErrorsOnly,
        ["falls back on a dropped connection", "falls back on a timeout"],
    ),
    ("no fallback on a timeout", MultiClientNotOnTimeout, ["falls back on a timeout"]),
    (
        "max_tokens ignored",
        MultiClientFixedMaxTokens,
        ["sends the prompt and max_tokens it was given"],
    ),
    (
        "routes by a 'gpt' prefix",
        MultiClientGptPrefix,
        ["routes an o-series model (o4-mini) to openai"],
    ),
    (
        "the literal prompt string sent",
        MultiClientLiteralPrompt,
        ["sends the prompt and max_tokens it was given"],
    ),
]

# The demo in the solution notebook ("what a check looks like"), by the name it has there.
DEMO: Demo = (
    "MultiClientAnyError",
    "falls back on any exception",
    ["does not fall back on a 400", "does not fall back on a 404 (a mistyped model)"],
)


# ------------------------------------------------------------------------------ right answers
class MultiClientLoop:
    """Tries the models in order; status codes and SDK classes instead of classify()."""

    OUTAGE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})

    def __init__(
        self, primary: str, fallback: str, *, openai_client: Any, anthropic_client: Any
    ) -> None:
        for model in (primary, fallback):
            get_model(model)  # an unknown (mistyped) model name fails here, before any request
        self.models = [primary, fallback]
        self.send = {"openai": self._openai, "anthropic": self._anthropic}
        self.openai_client, self.anthropic_client = openai_client, anthropic_client

    def _openai(self, model: str, prompt: str, max_tokens: int) -> str:
        reply = self.openai_client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": prompt}],
            max_completion_tokens=max_tokens,
        )
        return str(reply.choices[0].message.content or "")

    def _anthropic(self, model: str, prompt: str, max_tokens: int) -> str:
        message = self.anthropic_client.messages.create(
            model=model,
            system="You are a concise assistant.",
            messages=[{"role": "user", "content": [{"type": "text", "text": prompt}]}],
            max_tokens=max_tokens,
        )
        return "".join(getattr(block, "text", "") for block in message.content)

    def _outage(self, exc: Exception) -> bool:
        if isinstance(exc, _CONNECTION_ERRORS):  # timeouts included
            return True
        return isinstance(exc, _STATUS_ERRORS) and exc.status_code in self.OUTAGE_STATUSES

    def complete(self, prompt: str, *, max_tokens: int = 200) -> tuple[str, str]:
        for position, model in enumerate(self.models):
            provider = provider_for(model)
            assert provider is not None
            try:
                return provider, self.send[provider](model, prompt, max_tokens)
            except Exception as exc:
                if position == len(self.models) - 1 or not self._outage(exc):
                    raise
        raise AssertionError("unreachable")


class MultiClientRaw(_Asker):
    """Raw HTTP bodies (with_raw_response) and classify(); the last error re-raised as is."""

    def _raw(self, model: str, prompt: str, max_tokens: int) -> tuple[str, str]:
        provider = provider_for(model) or ""
        messages = [{"role": "user", "content": prompt}]
        if provider == "openai":
            raw = self.clients["openai"].chat.completions.with_raw_response.create(
                model=model, messages=messages, max_completion_tokens=max_tokens
            )
            return provider, raw.http_response.json()["choices"][0]["message"]["content"]
        raw = self.clients["anthropic"].messages.with_raw_response.create(
            model=model, messages=messages, max_tokens=max_tokens
        )
        blocks = raw.http_response.json()["content"]
        return provider, "".join(b["text"] for b in blocks if b["type"] == "text")

    def complete(self, prompt: str, *, max_tokens: int = 200) -> tuple[str, str]:
        try:
            return self._raw(self.primary, prompt, max_tokens)
        except Exception as exc:
            if not classify(exc).retriable:
                raise
            first = exc
        try:
            return self._raw(self.fallback, prompt, max_tokens)
        except Exception as exc:
            raise exc from first


# Correct answers built differently from the solution: every check must pass them.
RIGHT: list[Right] = [
    ("a loop over the models, SDK classes and statuses, names checked early", MultiClientLoop),
    ("raw HTTP bodies, classify(), errors chained", MultiClientRaw),
]
