"""What is wrong with a key's value: quotes, spaces, placeholder text, another provider's key.

These rules read one value, never the environment, so the ``.env`` reader, ``setup()`` and the
doctor all apply the same ones. Each finding is a :class:`Problem` phrased as what to do.

>>> [p.message for p in check_key("openai", "sk-ant-api03-" + "a" * 40)]  # doctest: +ELLIPSIS
['OPENAI_API_KEY holds an Anthropic key (sk-ant-…): move it to ANTHROPIC_API_KEY and put ...']
>>> is_placeholder("your_api_key_here", None)
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from course_helpers.provider_record import PROVIDER_RECORDS, ProviderName

__all__ = ["Level", "Problem", "check_key", "is_placeholder", "looks_real"]

Level = Literal["warning", "hint"]

_QUOTES = "\"'“”‘’`"
# Text that tutorials and templates put where a key belongs. Real keys are long random base62
# strings, so these cannot occur in one by chance (at most ~1e-7 for "your_").
_PLACEHOLDER = re.compile(
    r"your[_\-\s]|<.*>|\.\.\.|…|xxxx|changeme|change[_\-]me|replace[_\-\s]?me|placeholder"
    r"|insert[_\-\s]|paste[_\-\s]|api[_\-]key[_\-]here|key[_\-]here",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong (``warning``) or worth knowing (``hint``), phrased as what to do."""

    message: str
    level: Level = "warning"
    variable: str | None = None

    def __str__(self) -> str:
        return self.message


def check_key(
    provider: ProviderName,
    value: str,
    *,
    where: str = "",
    custom_endpoint: bool = False,
    variable: str | None = None,
) -> list[Problem]:
    """What is wrong with a non-empty key value: quotes, spaces, odd characters, wrong provider.

    ``variable`` is the one the value is in (default: the provider's usual key variable).
    """
    variable = variable or PROVIDER_RECORDS[provider].key_variable
    name = f"{variable} {where}".strip()
    problems: list[Problem] = []

    def add(message: str) -> None:
        problems.append(Problem(message, variable=variable))

    core = value.strip()
    if core[:1] in _QUOTES or core[-1:] in _QUOTES:
        fix = (
            "write it as NAME=sk-… with no quotes"
            if where == "in .env"
            else "set it without quotes"
        )
        add(f"{name} has quotes around it: {fix}.")
        core = core.strip(_QUOTES).strip()
    if value != value.strip():
        add(f"{name} has a space or line break at its start or end: remove it.")
    if not core.isascii():
        add(
            f"{name} contains a non-ASCII character (a curly quote, long dash or invisible "
            "space from copying): copy the key again from your provider's console."
        )
    elif any(ch.isspace() for ch in core):
        add(f"{name} has a space inside it: copy the key again in one piece.")
    if custom_endpoint:
        return problems  # a proxy or compatible server may use any key format
    label = PROVIDER_RECORDS[provider].label
    if provider == "openai" and core.startswith("sk-ant-"):
        add(
            f"{name} holds an Anthropic key (sk-ant-…): move it to ANTHROPIC_API_KEY and put your "
            "OpenAI key in OPENAI_API_KEY."
        )
    elif provider == "anthropic" and core.startswith("sk-") and not core.startswith("sk-ant-"):
        add(
            f"{name} holds what looks like an OpenAI key (Anthropic keys start with sk-ant-): "
            "move it to OPENAI_API_KEY and put your Anthropic key in ANTHROPIC_API_KEY."
        )
    elif not core.startswith("sk-"):
        prefix = "sk-ant-" if provider == "anthropic" else "sk-"
        add(
            f"{name} does not look like an {label} key (they start with {prefix}): check you "
            "copied the API key itself."
        )
    return problems


def looks_real(provider: ProviderName, value: str) -> bool:
    """Whether ``value`` is shaped like a real ``provider`` key (to catch one shared by mistake)."""
    prefix = "sk-ant-" if provider == "anthropic" else "sk-"
    return value.startswith(prefix) and len(value) >= 30 and not is_placeholder(value, None)


def is_placeholder(value: str, example: str | None) -> bool:
    """Whether ``value`` is template text (or ``.env.example``'s own value), not a key."""
    return (bool(example) and value == example) or bool(_PLACEHOLDER.search(value))
