"""Changing the environment for ``setup()``, and taking exactly that change back.

``setup()`` loads ``.env`` into ``os.environ`` (the SDKs read their keys there) and gives a
simulated provider's SDK a stand-in key. An :class:`EnvChanges` records each change, so its owner
(the :class:`~course_helpers.modes.Setup` that made it) can undo it, and a re-run can look through
it to the values underneath and see an edited ``.env``. A value changed by someone else since is
theirs: undo leaves it alone.

>>> environ = {"COURSE_MODE": "live"}
>>> changes = EnvChanges()
>>> changes.set(environ, "COURSE_MODE", "offline")
>>> changes.set_offline_key("openai", environ)
>>> changes
<EnvChanges COURSE_MODE, OPENAI_API_KEY>
>>> changes.undo(environ)
>>> environ
{'COURSE_MODE': 'live'}
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, MutableMapping
from typing import Literal

from course_helpers.env_file import EnvScan
from course_helpers.provider_record import PROVIDER_RECORDS, ProviderName
from course_helpers.redaction import Secret

__all__ = ["OFFLINE_KEYS", "EnvChanges", "Source", "effective", "setting"]

Source = Literal["environment", ".env"]

# Keys setup() puts in the environment for simulated providers, so ``OpenAI()`` constructs as usual.
OFFLINE_KEYS: dict[ProviderName, str] = {
    "openai": "sk-offline-simulated",
    "anthropic": "sk-ant-offline-simulated",
}


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", errors="surrogatepass")).hexdigest()


class EnvChanges:
    """The variables one owner set, each with the value it replaced (kept as a :class:`Secret`).

    Of a value it set, only a digest is kept: enough to tell whether the variable still holds it.
    """

    __slots__ = ("_applied",)

    def __init__(self) -> None:
        self._applied: dict[str, tuple[str, Secret | None]] = {}

    @property
    def names(self) -> tuple[str, ...]:
        """The variables changed and not yet taken back, in the order they were first set."""
        return tuple(self._applied)

    def __repr__(self) -> str:
        return f"<EnvChanges {', '.join(self._applied) or 'none'}>"

    def ours(self, name: str, environ: Mapping[str, str]) -> bool:
        """Whether ``name`` still holds the value this record set."""
        record = self._applied.get(name)
        value = environ.get(name)
        return record is not None and value is not None and _digest(value) == record[0]

    def underneath(self, name: str, environ: Mapping[str, str]) -> str | None:
        """``name``'s value as if this record had not set it."""
        if self.ours(name, environ):
            previous = self._applied[name][1]
            return previous.reveal() if previous is not None else None
        return environ.get(name)

    def set(self, environ: MutableMapping[str, str], name: str, value: str) -> None:
        """Set ``name``, remembering the value it replaces (the first one, if set twice)."""
        if name in self._applied:
            previous = self._applied[name][1]
        else:
            current = environ.get(name)
            previous = Secret(current) if current is not None else None
        environ[name] = value
        self._applied[name] = (_digest(value), previous)

    def apply(self, scan: EnvScan, environ: MutableMapping[str, str]) -> None:
        """Load ``.env`` into ``environ`` without overriding a non-empty value set there already."""
        for name, secret in scan.values.items():
            current = environ.get(name)
            if current is None or current == "" or self.ours(name, environ):
                self.set(environ, name, secret.reveal())

    def set_offline_key(self, provider: ProviderName, environ: MutableMapping[str, str]) -> None:
        """Give a simulated provider's SDK a key to construct with (its first key variable wins)."""
        self.set(environ, PROVIDER_RECORDS[provider].key_variable, OFFLINE_KEYS[provider])

    def undo(self, environ: MutableMapping[str, str]) -> None:
        """Put back what each change replaced; a value changed since is kept. Safe to repeat."""
        for name in list(self._applied):
            digest, previous = self._applied.pop(name)
            current = environ.get(name)
            if current is None or _digest(current) != digest:
                continue
            if previous is None:
                del environ[name]
            else:
                environ[name] = previous.reveal()


def effective(
    name: str, scan: EnvScan, environ: Mapping[str, str], changes: EnvChanges | None = None
) -> tuple[str, Source] | None:
    """The value the SDK will see once ``.env`` is applied, and where it comes from.

    ``changes`` are looked through: a value ``setup()`` put there stands for the ``.env`` it was
    read from, so an edit to that file shows.
    """
    value = changes.underneath(name, environ) if changes is not None else environ.get(name)
    from_file = scan.values.get(name)
    if value:
        return value, "environment"
    if from_file is not None:
        return from_file.reveal(), ".env"
    return (value, "environment") if value is not None else None


def setting(
    name: str, scan: EnvScan, environ: Mapping[str, str], changes: EnvChanges | None = None
) -> str | None:
    """A non-secret setting (``COURSE_MODE``, a base URL) from the environment, else ``.env``."""
    found = effective(name, scan, environ, changes)
    return found[0] if found is not None else None
