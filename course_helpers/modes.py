"""``setup()``: decide, per provider, whether calls go to the real API or to the simulated one.

>>> from course_helpers import setup
>>> course = setup()  # doctest: +SKIP
course_helpers 0.1.0 · no .env found
OpenAI     simulated  no OPENAI_API_KEY set — answers come from the simulated provider
Anthropic  simulated  no ANTHROPIC_API_KEY set — answers come from the simulated provider

The mode comes from ``setup(mode=...)``, else ``COURSE_MODE_OPENAI`` / ``COURSE_MODE_ANTHROPIC``,
else ``COURSE_MODE``, else ``"auto"``:

- ``auto``: live when the provider's key is set, simulated otherwise;
- ``offline``: simulated, even when a key is set (CI does this);
- ``live``: the key must be set, or :class:`~course_helpers.keys.MissingKeyError` says where.

Simulated providers are answered by one process-wide :class:`~course_helpers.fake.FakeProvider`;
running ``setup()`` again replaces it rather than stacking a second one. A ``FakeProvider``
entered later takes over until it exits.

The :class:`Setup` it returns owns what it changed (that provider, the variables it put in
``os.environ``) and takes it back with ``course.undo()``, or at the end of a ``with`` block:

>>> with setup(mode="offline") as course:  # doctest: +ELLIPSIS
...     print("inside:", course.is_offline("openai"), course.is_offline("anthropic"))
course_helpers ...
OpenAI     simulated  (setup(mode='offline')...
inside: True True
>>> current() is None  # the environment is as it was, and nothing is simulated
True
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from course_helpers import keys
from course_helpers.env_changes import EnvChanges
from course_helpers.keys import KeyStatus, MissingKeyError
from course_helpers.provider_record import PROVIDER_RECORDS, PROVIDERS, ProviderName

if TYPE_CHECKING:
    from course_helpers.fake import FakeProvider

__all__ = [
    "MissingKeyError",
    "ProviderSetup",
    "Setup",
    "changes_in_effect",
    "current",
    "plan",
    "setup",
    "teardown",
]

Mode = Literal["live", "offline"]
_MODES: dict[str, str] = {
    "auto": "auto",
    "live": "live",
    "offline": "offline",
    "simulated": "offline",
}
# Seconds: what a small hosted model feels like. Zero under pytest and for nbval.
_REALISTIC_LATENCY: dict[str, float] = {"ttft": 0.4, "token_delay": 0.02}
_NO_LATENCY: dict[str, float] = {"ttft": 0.0, "token_delay": 0.0}

# The Setup whose simulated provider answers and whose changes are in os.environ: the next
# setup() replaces it (an SDK reads one process-wide environment, so there is one at a time).
_active: Setup | None = None


@dataclass(frozen=True)
class ProviderSetup:
    """How one provider is served, and why, in words a learner reads in the banner."""

    provider: ProviderName
    mode: Mode
    reason: str
    masked_key: str | None = None
    key_source: str | None = None
    requested: str = "auto"  # "auto", "live" or "offline": what setup() was asked for

    @property
    def label(self) -> str:
        """``"live"`` or ``"simulated"``."""
        return "live" if self.mode == "live" else "simulated"


@dataclass(frozen=True, repr=False)
class Setup:
    """What ``setup()`` decided. ``str()`` is the banner; nothing in it holds a key unmasked."""

    providers: Mapping[str, ProviderSetup]
    env_file: Path | None
    warnings: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    fake: FakeProvider | None = field(default=None, compare=False)
    version: str = ""
    changes: EnvChanges = field(default_factory=EnvChanges, compare=False)

    def undo(self) -> None:
        """Stop this setup's simulated provider and take back what it put in ``os.environ``.

        A value changed by hand since is kept. Safe to call twice, or after a newer ``setup()``
        (which already undid this one).
        """
        global _active
        if self.fake is not None:
            self.fake.stop()
        self.changes.undo(os.environ)
        if _active is self:
            _active = None

    def __enter__(self) -> Setup:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.undo()

    def is_offline(self, provider: str) -> bool:
        """Whether ``provider`` is answered by the simulated provider."""
        return self._get(provider).mode == "offline"

    def is_live(self, provider: str) -> bool:
        """Whether ``provider``'s calls go to the real API."""
        return self._get(provider).mode == "live"

    def _get(self, provider: str) -> ProviderSetup:
        try:
            return self.providers[provider]
        except KeyError:
            raise ValueError(
                f"Unknown provider {provider!r}: use {' or '.join(map(repr, PROVIDERS))}."
            ) from None

    @property
    def banner(self) -> str:
        """The short block ``setup()`` prints: deterministic, so nbval can compare it."""
        where = f".env: {self.env_file}" if self.env_file else "no .env found"
        lines = [f"course_helpers {self.version} · {where}"]
        for entry in self.providers.values():
            label = PROVIDER_RECORDS[entry.provider].label
            lines.append(f"{label:<10} {entry.label:<10} {entry.reason}")
        lines += [f"warning: {text}" for text in self.warnings]
        lines += [f"hint: {text}" for text in self.hints]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.banner

    def __repr__(self) -> str:
        modes = " ".join(f"{name}={entry.label}" for name, entry in self.providers.items())
        return f"<Setup {modes}>"


def setup(mode: str | Mapping[str, str] | None = None, **fake_options: Any) -> Setup:
    """Load ``.env``, decide live or simulated per provider, start the simulated one, print why.

    ``mode`` is ``"auto"``, ``"live"`` or ``"offline"`` (or a dict per provider, e.g.
    ``{"anthropic": "offline"}``). ``fake_options`` go to the default ``FakeProvider``
    (``rpm=``, ``tpm=``, ``ttft=``, ``seed=`` …).
    """
    from course_helpers import __version__

    scan = keys.scan_env()
    # Decide before touching anything, so a failed setup(mode="live") leaves the last one working.
    decided, statuses = plan(mode, scan, os.environ)
    offline = [entry.provider for entry in decided.values() if entry.mode == "offline"]

    teardown()
    changes = EnvChanges()
    changes.apply(scan, os.environ)
    for entry in decided.values():
        if entry.mode == "live" and not statuses[entry.provider].usable:  # a keyless endpoint
            changes.set_offline_key(entry.provider, os.environ)
    for name in offline:
        status = statuses[name]
        # A good key stays where it is; anything else would make the simulated provider answer 401
        # while the banner says the key is ignored (undo() puts it back).
        if not status.usable or any(p.level == "warning" for p in status.problems):
            changes.set_offline_key(name, os.environ)
    try:
        fake = _start_fake(offline, fake_options, scan, changes) if offline else None
    except BaseException:  # e.g. an unknown option: leave the environment as it was
        changes.undo(os.environ)
        raise

    warnings = [str(p) for p in scan.problems if p.level == "warning"]
    hints = [str(p) for p in scan.problems if p.level == "hint"]
    for status in statuses.values():
        warnings += [str(p) for p in status.problems if p.level == "warning"]
        hints += [str(p) for p in status.problems if p.level == "hint"]
    if fake_options and not offline:
        warnings.append(
            f"setup() options {', '.join(sorted(fake_options))} are for the simulated provider, "
            "and every provider is live: they are ignored."
        )
    no_env = keys.missing_env_hint(scan)
    if no_env and any(e.mode == "offline" and e.requested == "auto" for e in decided.values()):
        hints.append(str(no_env))
    result = Setup(
        decided, scan.path, tuple(warnings), tuple(hints), fake, __version__, changes=changes
    )
    global _active
    _active = result
    print(result.banner)
    return result


def current() -> Setup | None:
    """The ``Setup`` in effect: the last ``setup()``'s, unless it was undone."""
    return _active


def teardown() -> None:
    """Undo the ``Setup`` in effect, if any (see :meth:`Setup.undo`)."""
    if _active is not None:
        _active.undo()


def changes_in_effect() -> EnvChanges:
    """What the ``Setup`` in effect put in ``os.environ``: a re-run looks through it."""
    return _active.changes if _active is not None else EnvChanges()


def plan(
    mode: str | Mapping[str, str] | None,
    scan: keys.EnvScan,
    environ: Mapping[str, str],
    changes: EnvChanges | None = None,
) -> tuple[dict[str, ProviderSetup], dict[ProviderName, KeyStatus]]:
    """What ``setup()`` would decide, without changing anything (the doctor uses this too).

    ``changes`` are looked through (default: those of the ``Setup`` in effect), so a re-run sees
    an edited ``.env`` rather than the values the last run loaded from it.
    """
    changes = changes_in_effect() if changes is None else changes
    statuses = {name: keys.key_status(name, scan, environ, changes) for name in PROVIDERS}
    requested = _requested(mode, scan, environ, changes)
    decided: dict[str, ProviderSetup] = {}
    missing: list[str] = []
    for name in PROVIDERS:
        status, (wanted, origin) = statuses[name], requested[name]
        endpoint = own_endpoint(name, scan, environ, changes)
        if endpoint is not None and wanted != "offline":
            # The simulated provider answers only the providers' own hosts: the learner's
            # endpoint (a local Ollama, a proxy) gets every request, so it is live there.
            reason = f"at your endpoint {endpoint} ({PROVIDER_RECORDS[name].base_url_variable})"
            decided[name] = ProviderSetup(
                name, "live", reason, status.masked, status.source, requested=wanted
            )
        elif wanted == "offline":
            ignored = "; your key is ignored" if status.usable else ""
            reason = f"({origin}{ignored})"
            decided[name] = ProviderSetup(name, "offline", reason, requested=wanted)
        elif status.usable:
            source = "from .env" if status.source == ".env" else "from the environment"
            if status.variable != PROVIDER_RECORDS[name].key_variable:  # e.g. ANTHROPIC_AUTH_TOKEN
                source = f"in {status.variable} {source}"
            reason = f"key {status.masked} {source}"
            decided[name] = ProviderSetup(
                name, "live", reason, status.masked, status.source, requested=wanted
            )
        elif wanted == "live":
            missing.append(_missing_message(status, scan))
        else:
            decided[name] = ProviderSetup(name, "offline", _offline_reason(status))
    if missing:
        raise MissingKeyError("\n".join(missing))
    return decided, statuses


def own_endpoint(
    provider: ProviderName,
    scan: keys.EnvScan,
    environ: Mapping[str, str],
    changes: EnvChanges | None = None,
) -> str | None:
    """The base URL the learner set for ``provider``, unless it is the provider's own host."""
    record = PROVIDER_RECORDS[provider]
    changes = changes_in_effect() if changes is None else changes
    url = (keys.setting(record.base_url_variable, scan, environ, changes) or "").strip()
    if not url:
        return None
    host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    return None if host == record.host else url


def _requested(
    mode: str | Mapping[str, str] | None,
    scan: keys.EnvScan,
    environ: Mapping[str, str],
    changes: EnvChanges,
) -> dict[ProviderName, tuple[str, str]]:
    """Per provider: the wanted mode and the words that say where it came from."""
    if isinstance(mode, Mapping):
        unknown = set(mode) - set(PROVIDERS)
        if unknown:
            raise ValueError(
                f"Unknown provider(s) {sorted(unknown)} in setup(mode=...): "
                f"use {' and '.join(map(repr, PROVIDERS))}."
            )
    requested: dict[ProviderName, tuple[str, str]] = {}
    for name in PROVIDERS:
        if isinstance(mode, Mapping) and name in mode:
            value, origin = mode[name], f"setup(mode={{{name!r}: {mode[name]!r}}})"
        elif isinstance(mode, str):
            value, origin = mode, f"setup(mode={mode!r})"
        else:
            variable = f"COURSE_MODE_{name.upper()}"
            value = keys.setting(variable, scan, environ, changes) or ""
            if not value.strip():
                variable = "COURSE_MODE"
                value = keys.setting(variable, scan, environ, changes) or "auto"
            origin = f"{variable}={value.strip()}"
        normal = _MODES.get(value.strip().lower())
        if normal is None:
            raise ValueError(
                f"Unknown mode {value!r} (from {origin.split('=')[0]}): "
                "use 'auto', 'live' or 'offline'."
            )
        requested[name] = (normal, origin)
    return requested


def _offline_reason(status: KeyStatus) -> str:
    var = status.variable
    why = {
        "missing": f"no {var} set",
        "empty": f"{var} is empty",
        "blank": f"{var} holds only spaces",
        "placeholder": f"{var} holds placeholder text",
        "ok": "",
    }[status.state]
    return f"{why} — answers come from the simulated provider"


def _missing_message(status: KeyStatus, scan: keys.EnvScan) -> str:
    var, path = status.variable, scan.expected_path
    if status.state == "missing":
        copy = " (copy .env.example)" if scan.path is None and scan.example_path else ""
        head = f"{var} is not set. Put it in {path}{copy}"
    elif status.state == "placeholder":
        head = f"{var} still holds placeholder text. Put your real key in {path}"
    else:
        head = f"{var} is empty. Put your key after {var}= in {path}"
    return f"{head} or run setup(mode='offline')."


def _latency(scan: keys.EnvScan, changes: EnvChanges) -> dict[str, float]:
    setting = keys.setting("COURSE_FAKE_LATENCY", scan, os.environ, changes) or ""
    setting = setting.strip().lower()
    if setting in {"0", "off", "false", "no"} or "PYTEST_CURRENT_TEST" in os.environ:
        return dict(_NO_LATENCY)
    return dict(_REALISTIC_LATENCY)


def _start_fake(
    offline: list[ProviderName],
    fake_options: dict[str, Any],
    scan: keys.EnvScan,
    changes: EnvChanges,
) -> FakeProvider:
    from course_helpers.fake import FakeProvider

    options: dict[str, Any] = {**_latency(scan, changes), **fake_options}
    fake = FakeProvider(providers=tuple(offline), **options)
    fake.start()
    return fake
