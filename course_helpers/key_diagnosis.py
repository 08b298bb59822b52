"""Where each provider's key is and what state it is in: the diagnosis ``setup()`` acts on.

A key is looked for as its SDK looks for it: in the environment, where ``setup()`` puts the values
of ``.env`` (so a value there wins over the file), in the provider's key variables in order.
A status never holds a key in clear (:class:`~course_helpers.redaction.Secret`).

>>> from course_helpers.env_file import EnvScan
>>> from pathlib import Path
>>> status = key_status("openai", EnvScan(Path("."), None, ()), {"OPENAI_API_KEY": "sk-..."})
>>> status.state, status.problems[0].variable
('placeholder', 'OPENAI_API_KEY')
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from course_helpers.env_changes import OFFLINE_KEYS, EnvChanges, Source, effective, setting
from course_helpers.env_file import EnvScan
from course_helpers.key_check import Problem, check_key, is_placeholder
from course_helpers.provider_record import PROVIDER_RECORDS, ProviderName
from course_helpers.redaction import Secret, mask

__all__ = ["KeyStatus", "State", "key_status"]

State = Literal["ok", "missing", "empty", "blank", "placeholder"]

# Names learners write instead of the SDK's variable, compared without case or underscores.
_MISSPELLINGS: dict[ProviderName, frozenset[str]] = {
    "openai": frozenset(
        [
            "OPENAIAPIKEY",
            "OPENAIKEY",
            "OPENAIAPITOKEN",
            "OPENAITOKEN",
            "OPENAISECRETKEY",
            "OPENAPIKEY",
            "OPENAPIAPIKEY",
            "CHATGPTAPIKEY",
        ]
    ),
    "anthropic": frozenset(
        [
            "ANTHROPICAPIKEY",
            "ANTHROPICKEY",
            "ANTHROPICAPITOKEN",
            "CLAUDEAPIKEY",
            "CLAUDEKEY",
            "ANTROPICAPIKEY",
            "ANTHROPICSECRETKEY",
        ]
    ),
}


@dataclass(frozen=True)
class KeyStatus:
    """One provider's key as the SDK will see it: where it came from and what is wrong with it."""

    provider: ProviderName
    variable: str
    state: State
    source: Source | None
    secret: Secret | None
    problems: tuple[Problem, ...] = ()

    @property
    def usable(self) -> bool:
        """A key is set (it may still be wrong: see ``problems``)."""
        return self.state == "ok"

    @property
    def masked(self) -> str | None:
        """The key masked, or ``None`` when there is no usable key."""
        return str(self.secret) if self.secret is not None and self.usable else None


def key_status(
    provider: ProviderName,
    scan: EnvScan,
    environ: Mapping[str, str],
    changes: EnvChanges | None = None,
) -> KeyStatus:
    """``provider``'s key once ``.env`` is applied, with everything that looks wrong about it.

    Of the provider's key variables, the first that is set wins, as in its SDK (Anthropic's reads
    ``ANTHROPIC_AUTH_TOKEN`` when ``ANTHROPIC_API_KEY`` is empty). ``changes`` (what ``setup()``
    set) are looked through, so an edit to ``.env`` shows before ``setup()`` runs again.
    """
    variable, found = _credential(provider, scan, environ, changes)
    problems = list(_misspelled(provider, scan, environ)) if not found or not found[0] else []
    if found is None or found[0] == OFFLINE_KEYS[provider]:
        return KeyStatus(provider, variable, "missing", None, None, tuple(problems))
    value, source = found
    where = "in .env" if source == ".env" else "in the environment"
    if source == "environment" and variable in scan.values:
        in_file = scan.values[variable].reveal()
        if in_file and in_file != value:
            problems.append(
                Problem(
                    f"{variable} is set in the environment ({mask(value)}), so the one in .env "
                    f"({mask(in_file)}) is not used: unset the environment variable or make them "
                    "the same.",
                    variable=variable,
                )
            )
    if value == "":
        return KeyStatus(provider, variable, "empty", source, None, tuple(problems))
    if not value.strip():
        problems.append(
            Problem(f"{variable} {where} holds only spaces: paste your key.", variable=variable)
        )
        return KeyStatus(provider, variable, "blank", source, None, tuple(problems))
    example = scan.example_values.get(variable)
    if is_placeholder(value, example.reveal() if example else None):
        problems.append(
            Problem(
                f"{variable} {where} still holds placeholder text: replace it with your key, or "
                "leave it empty to use the simulated provider.",
                variable=variable,
            )
        )
        return KeyStatus(provider, variable, "placeholder", source, None, tuple(problems))
    base_url = setting(PROVIDER_RECORDS[provider].base_url_variable, scan, environ, changes)
    problems.extend(
        check_key(provider, value, where=where, custom_endpoint=bool(base_url), variable=variable)
    )
    return KeyStatus(provider, variable, "ok", source, Secret(value), tuple(problems))


def _credential(
    provider: ProviderName, scan: EnvScan, environ: Mapping[str, str], changes: EnvChanges | None
) -> tuple[str, tuple[str, Source] | None]:
    """The key variable the SDK will read, and its value: the first one set, else the first."""
    variables = PROVIDER_RECORDS[provider].key_variables
    for variable in variables:
        found = effective(variable, scan, environ, changes)
        if found is not None and found[0] and found[0] != OFFLINE_KEYS[provider]:
            return variable, found
    return variables[0], effective(variables[0], scan, environ, changes)


def _misspelled(
    provider: ProviderName, scan: EnvScan, environ: Mapping[str, str]
) -> Iterator[Problem]:
    variable = PROVIDER_RECORDS[provider].key_variable
    for origin, names in (("in .env", list(scan.values)), ("in the environment", list(environ))):
        for name in names:
            if name != variable and name.upper().replace("_", "") in _MISSPELLINGS[provider]:
                yield Problem(
                    f"Found {name} {origin}, but the SDK reads {variable}: rename it.",
                    variable=variable,
                )
