"""What ``POST /chat`` accepts, and the 4xx answers (that say what to do) for what it does not.

>>> chat = parse_chat(b'{"prompt": "Hi"}', limits=Limits(), default=("openai", "gpt-5.4-mini"))
>>> chat.messages, chat.provider, chat.model, chat.max_tokens
([{'role': 'user', 'content': 'Hi'}], 'openai', 'gpt-5.4-mini', 512)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from course_helpers import catalog, safe_json
from course_helpers.client import Provider, Target, parse_provider, resolve_target

__all__ = ["ROLES", "ChatInput", "Limits", "Rejected", "parse_chat"]

ROLES = ("system", "user", "assistant")
_FIELDS = ("messages", "prompt", "provider", "model", "max_tokens")
_EXAMPLE = '{"messages": [{"role": "user", "content": "Hello"}]}'


class Rejected(Exception):
    """A request the relay will not forward: the HTTP status and a message that says what to do."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Limits:
    """What one request may ask for. ``max_body_bytes`` defaults to room for the prompt in JSON."""

    max_prompt_chars: int = 20_000
    max_tokens: int = 4096
    default_max_tokens: int = 512
    max_messages: int = 100

    @property
    def max_body_bytes(self) -> int:
        # A character can take up to six bytes in JSON (\uXXXX), plus room for the envelope.
        return self.max_prompt_chars * 6 + 16_384


@dataclass(frozen=True)
class ChatInput:
    """A validated chat request: what to send, and where."""

    messages: list[dict[str, Any]]
    provider: Provider
    model: str
    max_tokens: int

    @property
    def prompt_chars(self) -> int:
        return sum(len(message["content"]) for message in self.messages)


def parse_chat(body: bytes, *, limits: Limits, default: Target) -> ChatInput:
    """Validate a ``POST /chat`` body; ``Rejected`` (400 or 413) says what is wrong and what to do.

    ``default`` is the ``(provider, model)`` used when the request names neither.
    """
    if len(body) > limits.max_body_bytes:
        raise Rejected(
            413,
            f"The request body is {len(body)} bytes; this relay accepts at most "
            f"{limits.max_body_bytes}. Send a shorter prompt.",
        )
    try:
        payload = safe_json.loads(body)
    except safe_json.InvalidJSON as exc:
        raise Rejected(
            400,
            f"{exc} Send a JSON object such as {_EXAMPLE} with Content-Type: application/json.",
        ) from None
    if not isinstance(payload, dict):
        raise Rejected(
            400, f"The request body must be a JSON object such as {_EXAMPLE}, not {_kind(payload)}."
        )
    unknown = sorted(set(payload) - set(_FIELDS))
    if unknown:
        raise Rejected(
            400,
            f"Unknown field(s) {', '.join(map(repr, unknown))}: use "
            f"{', '.join(map(repr, _FIELDS))}.",
        )
    messages = _messages(payload, limits)
    provider, model = _target(payload, default)
    return ChatInput(messages, provider, model, _max_tokens(payload, limits))


def _messages(payload: dict[str, Any], limits: Limits) -> list[dict[str, Any]]:
    if "prompt" in payload and "messages" in payload:
        raise Rejected(400, 'Send either "prompt" (a string) or "messages" (a list), not both.')
    if "prompt" in payload:
        prompt = payload["prompt"]
        if not isinstance(prompt, str) or not prompt.strip():
            raise Rejected(400, '"prompt" must be a non-empty string: {"prompt": "Hello"}.')
        _check_text(prompt, '"prompt"')
        messages: list[dict[str, Any]] = [{"role": "user", "content": prompt}]
    elif "messages" in payload:
        messages = _message_list(payload["messages"], limits)
    else:
        raise Rejected(400, f'Missing "messages": send {_EXAMPLE} (or {{"prompt": "Hello"}}).')
    total = sum(len(message["content"]) for message in messages)
    if total > limits.max_prompt_chars:
        raise Rejected(
            413,
            f"The prompt is {total} characters; this relay accepts at most "
            f"{limits.max_prompt_chars}. Shorten it (or drop older messages), or start the server "
            "with a larger --max-prompt-chars.",
        )
    return messages


def _message_list(value: object, limits: Limits) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise Rejected(
            400,
            f'"messages" must be a non-empty list of {{"role", "content"}} objects: {_EXAMPLE}.',
        )
    if len(value) > limits.max_messages:
        raise Rejected(
            413,
            f'"messages" has {len(value)} entries; this relay accepts at most '
            f"{limits.max_messages}. Drop older messages.",
        )
    messages: list[dict[str, Any]] = []
    for index, message in enumerate(value):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise Rejected(
                400, f'{where} must be an object like {{"role": "user", "content": "Hello"}}.'
            )
        extra = sorted(set(message) - {"role", "content"})
        if extra:
            raise Rejected(
                400,
                f"{where} has unknown field(s) {', '.join(map(repr, extra))}: "
                'use "role" and "content".',
            )
        role, content = message.get("role"), message.get("content")
        if role not in ROLES:
            raise Rejected(
                400, f"{where}.role must be one of {', '.join(map(repr, ROLES))}, not {role!r}."
            )
        if not isinstance(content, str) or not content.strip():
            raise Rejected(400, f"{where}.content must be a non-empty string.")
        _check_text(content, f"{where}.content")
        messages.append({"role": role, "content": content})
    if not any(message["role"] != "system" for message in messages):
        raise Rejected(400, '"messages" holds only system messages: add a user message.')
    if messages[-1]["role"] != "user":
        raise Rejected(
            400,
            f"The last message must be the user's (it is {messages[-1]['role']!r}): the model "
            "answers the last user message.",
        )
    return messages


def _target(payload: dict[str, Any], default: Target) -> Target:
    provider, model = payload.get("provider"), payload.get("model")
    if provider is not None and not isinstance(provider, str):
        raise Rejected(400, '"provider" must be a string: "openai" or "anthropic".')
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise Rejected(400, '"model" must be a non-empty string such as "gpt-5.4-mini".')
    if provider is not None:
        _check_text(provider, '"provider"')
    if model is not None:
        _check_text(model, '"model"')
    if provider is None and model is None:
        return default
    try:
        if provider is None and catalog.provider_for(model or "") is None:
            return default[0], str(model)  # an unknown model goes to the default provider
        chosen = parse_provider(provider) if provider is not None else None
        target = resolve_target(chosen, model)
    except ValueError as exc:
        raise Rejected(400, str(exc)) from None
    if target[0] != default[0] and catalog.provider_for(target[1]) is None:
        # LLMClient routes a model the catalogue does not know to its own provider.
        raise Rejected(
            400,
            f"{target[1]!r} is not in the model catalogue, so this relay can only send it to its "
            f'default provider ({default[0]}): drop "provider", or pick a catalogue model '
            f"such as {catalog.default_model(target[0])!r}.",
        )
    return target


def _max_tokens(payload: dict[str, Any], limits: Limits) -> int:
    value = payload.get("max_tokens", limits.default_max_tokens)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limits.max_tokens:
        raise Rejected(
            400,
            f'"max_tokens" must be a whole number from 1 to {limits.max_tokens}, not {value!r}.',
        )
    return value


def _check_text(text: str, where: str) -> None:
    """Refuse text that cannot be stored or sent: a lone surrogate such as ``"\\ud800"``.

    JSON lets a string escape half of a UTF-16 pair; Python decodes it to a character that has no
    UTF-8 form, so the exchange could be neither logged nor forwarded.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise Rejected(
            400,
            f"{where} holds invalid text: character {exc.start} is a lone surrogate "
            f"({text[exc.start]!a}), half of a UTF-16 pair. Send the whole character, or "
            "remove it.",
        ) from None


def _kind(value: object) -> str:
    names = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
