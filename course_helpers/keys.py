"""API keys, in one import: finding ``.env``, masking keys, and diagnosing the usual mistakes.

Each concern has its own small module; this one gathers their public names for notebooks and
tests, so ``from course_helpers.keys import mask`` keeps working:

- :mod:`course_helpers.env_file`: finding and reading ``.env`` (never changes the environment);
- :mod:`course_helpers.redaction`: showing a key masked (``sk-…abcd``), :class:`Secret`;
- :mod:`course_helpers.env_changes`: putting ``.env`` into ``os.environ`` and taking it back;
- :mod:`course_helpers.key_check` and :mod:`course_helpers.key_diagnosis`: what is wrong with a
  key, and where each provider's key is.

A variable already set in the environment wins over ``.env`` (``override=False``), except an
empty one. A key is never returned, printed or logged in clear: it travels as a :class:`Secret`,
whose ``str`` and ``repr`` are masked, and only :meth:`Secret.reveal` hands it to an SDK client.

>>> mask("sk-proj-" + "a" * 40 + "wxyz")
'sk-…wxyz'
>>> mask("short")
'****'
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

from course_helpers import env_changes, key_diagnosis
from course_helpers.env_changes import OFFLINE_KEYS, EnvChanges
from course_helpers.env_file import MAX_ENV_BYTES, EnvScan, missing_env_hint, scan_env
from course_helpers.key_check import Problem, check_key
from course_helpers.key_diagnosis import KeyStatus
from course_helpers.provider_record import PROVIDER_RECORDS, PROVIDERS, ProviderName
from course_helpers.redaction import Secret, mask, redact

__all__ = [
    "BASE_URL_VARS",
    "KEY_VARS",
    "LABELS",
    "OFFLINE_KEYS",
    "PROVIDERS",
    "EnvChanges",
    "EnvScan",
    "KeyStatus",
    "MissingKeyError",
    "Problem",
    "ProviderName",
    "Secret",
    "apply_env",
    "check_key",
    "key_status",
    "mask",
    "missing_env_hint",
    "redact",
    "restore_environ",
    "scan_env",
    "set_offline_key",
    "setting",
]

# Views of the provider record, for code that wants one fact per provider.
KEY_VARS: dict[ProviderName, str] = {r.name: r.key_variable for r in PROVIDER_RECORDS.values()}
BASE_URL_VARS: dict[ProviderName, str] = {
    r.name: r.base_url_variable for r in PROVIDER_RECORDS.values()
}
LABELS: dict[ProviderName, str] = {r.name: r.label for r in PROVIDER_RECORDS.values()}

_MAX_ENV_BYTES = MAX_ENV_BYTES  # the name the .env-size tests use


class MissingKeyError(RuntimeError):
    """``setup(mode="live")`` found no usable key; the message says where to put it."""


# What the functions below changed. setup() does not use them: the Setup it returns owns its own
# record (Setup.undo()). These serve a caller that loads .env by hand, outside setup().
_by_hand = EnvChanges()


def apply_env(scan: EnvScan, environ: MutableMapping[str, str]) -> None:
    """Load ``.env`` into ``environ`` without overriding a non-empty value set there already."""
    _by_hand.apply(scan, environ)


def set_offline_key(provider: ProviderName, environ: MutableMapping[str, str]) -> None:
    """Give a simulated provider's SDK a key to construct with."""
    _by_hand.set_offline_key(provider, environ)


def restore_environ(environ: MutableMapping[str, str]) -> None:
    """Undo :func:`apply_env` and :func:`set_offline_key` (values changed since are kept)."""
    _by_hand.undo(environ)


def setting(
    name: str, scan: EnvScan, environ: Mapping[str, str], changes: EnvChanges | None = None
) -> str | None:
    """A non-secret setting (``COURSE_MODE``, a base URL) from the environment, else ``.env``.

    ``changes`` are looked through (default: what :func:`apply_env` here set).
    """
    return env_changes.setting(name, scan, environ, _by_hand if changes is None else changes)


def key_status(
    provider: ProviderName,
    scan: EnvScan,
    environ: Mapping[str, str],
    changes: EnvChanges | None = None,
) -> KeyStatus:
    """``provider``'s key once ``.env`` is applied, with everything that looks wrong about it.

    ``changes`` are looked through (default: what :func:`apply_env` here set).
    """
    looked_through = _by_hand if changes is None else changes
    return key_diagnosis.key_status(provider, scan, environ, looked_through)
