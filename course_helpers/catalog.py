"""The model catalogue: which models exist, their limits, prices and providers.

Backed by ``models.toml`` next to this file, plus every model name the installed SDKs list in their
own type literals (``openai.types.ChatModel``, ``anthropic.types.Model``), so a name copied from
the SDK's documentation is always known. Retired names are known too, so a caller can say what
replaced them.

>>> get_model("gpt-4o-mini-2024-07-18").id
'gpt-4o-mini'
>>> provider_for("claude-haiku-5-5")
'anthropic'
>>> round(cost_usd("gpt-4o-mini", input_tokens=1_000_000, output_tokens=0) or 0, 2)
0.15
"""

from __future__ import annotations

import ast
import difflib
import importlib.util
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from course_helpers.provider_record import PROVIDERS, ProviderName

__all__ = [
    "ModelInfo",
    "RetiredModel",
    "UnknownModelError",
    "cost_usd",
    "default_model",
    "get_model",
    "list_models",
    "provider_for",
    "retired_model",
]

# Limits assumed for SDK-listed models the catalogue has no entry for.
_FALLBACK_LIMITS: dict[str, tuple[int, int]] = {
    "openai": (128_000, 16_384),
    "anthropic": (200_000, 64_000),
}


@dataclass(frozen=True)
class ModelInfo:
    """One model: its canonical id, provider, limits and prices (USD per million tokens)."""

    id: str
    provider: ProviderName
    context_window: int
    max_output: int
    input_per_mtok: float | None = None
    output_per_mtok: float | None = None
    checked: str | None = None
    created: int = 1_700_000_000
    aliases: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class RetiredModel:
    """A model name the provider no longer serves, and what to use instead."""

    id: str
    provider: ProviderName
    replacement: str
    retired_on: str


class UnknownModelError(LookupError):
    """A model name that is neither in the catalogue nor in the installed SDKs."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        hint = f" Did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(
            f"Unknown model {name!r}.{hint} See course_helpers/models.toml for the course's models."
        )
        self.name = name
        self.suggestions = suggestions


@cache
def _raw() -> dict[str, Any]:
    text = resources.files("course_helpers").joinpath("models.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


# Where each SDK declares its model-name literals. Read as text (not imported): importing the SDKs'
# type packages costs seconds, and the catalogue is consulted on the simulated provider's hot path.
_SDK_MODEL_FILES: dict[str, tuple[str, str]] = {
    "openai": ("openai", "types/shared/chat_model.py"),
    "anthropic": ("anthropic", "types/model.py"),
}


def _sdk_model_names(provider: ProviderName) -> list[str]:
    """The string literals in the installed SDK's model type, in its own order."""
    package, relative = _SDK_MODEL_FILES[provider]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return []
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            value = node.value
            if value and " " not in value and value not in names and value[0].isalpha():
                names.append(value)
    return [n for n in names if n not in _NOT_MODEL_NAMES]


_NOT_MODEL_NAMES = frozenset({"ChatModel", "Model", "__all__"})


@cache
def _catalogue() -> tuple[dict[str, ModelInfo], dict[str, str], dict[str, RetiredModel]]:
    raw = _raw()
    models: dict[str, ModelInfo] = {}
    aliases: dict[str, str] = {}
    for model_id, entry in raw.get("models", {}).items():
        info = ModelInfo(id=model_id, **{**entry, "aliases": tuple(entry.get("aliases", ()))})
        models[model_id] = info
        for alias in info.aliases:
            aliases[alias] = model_id
    retired = {
        name: RetiredModel(id=name, **entry) for name, entry in raw.get("retired", {}).items()
    }
    for provider in PROVIDERS:
        context_window, max_output = _FALLBACK_LIMITS[provider]
        for name in _sdk_model_names(provider):
            if name not in models and name not in aliases and name not in retired:
                models[name] = ModelInfo(name, provider, context_window, max_output)
    return models, aliases, retired


def get_model(name: str) -> ModelInfo:
    """The catalogue entry for ``name`` (an id or an alias); ``UnknownModelError`` otherwise."""
    models, aliases, retired = _catalogue()
    canonical = aliases.get(name, name)
    if canonical in models:
        return models[canonical]
    known = [*models, *aliases, *retired]
    raise UnknownModelError(name, difflib.get_close_matches(name, known, n=3, cutoff=0.6))


def retired_model(name: str) -> RetiredModel | None:
    """The retirement record for ``name``, or ``None`` if it was never retired."""
    return _catalogue()[2].get(name)


def list_models(provider: ProviderName | None = None) -> list[ModelInfo]:
    """Every known model, optionally for one provider, catalogue entries first."""
    return [m for m in _catalogue()[0].values() if provider is None or m.provider == provider]


def default_model(provider: ProviderName) -> str:
    """The model the course uses for ``provider`` when none is given."""
    return str(_raw()["defaults"][provider])


def provider_for(model: str) -> ProviderName | None:
    """Which provider serves ``model``: from the catalogue, else from the name's family prefix."""
    models, aliases, retired = _catalogue()
    canonical = aliases.get(model, model)
    if canonical in models:
        return models[canonical].provider
    if model in retired:
        return retired[model].provider
    if model.startswith("claude"):
        return "anthropic"
    if model.startswith(("gpt-", "chatgpt-", "o1", "o3", "o4", "codex-")):
        return "openai"
    return None


def cost_usd(model: str, *, input_tokens: int, output_tokens: int) -> float | None:
    """The list price of one call, or ``None`` when the model has no price in the catalogue."""
    try:
        info = get_model(model)
    except UnknownModelError:
        return None
    if info.input_per_mtok is None or info.output_per_mtok is None:
        return None
    return (input_tokens * info.input_per_mtok + output_tokens * info.output_per_mtok) / 1_000_000
