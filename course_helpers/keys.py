"""API keys: finding ``.env``, reading keys, masking them, and diagnosing the usual mistakes.

``.env`` is searched upward from the working directory, as python-dotenv's
``find_dotenv(usecwd=True)`` does, so a notebook in ``notebooks/`` finds the course root's file. A
variable already set in the environment wins over ``.env`` (``override=False``), except an empty
one.

A key is never returned, printed or logged in clear: it travels as a :class:`Secret`, whose ``str``
and ``repr`` are masked (``sk-…abcd``), and only :meth:`Secret.reveal` hands it to an SDK client.

>>> mask("sk-proj-" + "a" * 40 + "wxyz")
'sk-…wxyz'
>>> mask("short")
'****'
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from dotenv import dotenv_values
from dotenv.parser import parse_stream

from course_helpers.provider_record import PROVIDER_RECORDS, PROVIDERS, ProviderName
from course_helpers.redaction import Secret, mask, redact

__all__ = [
    "BASE_URL_VARS",
    "KEY_VARS",
    "LABELS",
    "OFFLINE_KEYS",
    "PROVIDERS",
    "EnvScan",
    "KeyStatus",
    "MissingKeyError",
    "Problem",
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
# Keys setup() puts in the environment for simulated providers, so ``OpenAI()`` constructs as usual.
OFFLINE_KEYS: dict[ProviderName, str] = {
    "openai": "sk-offline-simulated",
    "anthropic": "sk-ant-offline-simulated",
}

Level = Literal["warning", "hint"]
Source = Literal["environment", ".env"]
State = Literal["ok", "missing", "empty", "blank", "placeholder"]

_QUOTES = "\"'“”‘’`"
# Text that tutorials and templates put where a key belongs. Real keys are long random base62
# strings, so these cannot occur in one by chance (at most ~1e-7 for "your_").
_PLACEHOLDER = re.compile(
    r"your[_\-\s]|<.*>|\.\.\.|…|xxxx|changeme|change[_\-]me|replace[_\-\s]?me|placeholder"
    r"|insert[_\-\s]|paste[_\-\s]|api[_\-]key[_\-]here|key[_\-]here",
    re.IGNORECASE,
)
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
# Files learners create instead of ``.env``; ``env`` only counts when it mentions a key.
_MISNAMED = (".env.txt", "env.txt", ".env.text", ".env.env", "env")
# Bytes of .env (or a look-alike) read: keys are ~200 bytes, and a huge file (a log or a data dump
# saved as .env by mistake) must not be read whole into memory.
_MAX_ENV_BYTES = 256_000


class MissingKeyError(RuntimeError):
    """``setup(mode="live")`` found no usable key; the message says where to put it."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong (``warning``) or worth knowing (``hint``), phrased as what to do."""

    message: str
    level: Level = "warning"
    variable: str | None = None

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class EnvScan:
    """What the upward search for ``.env`` found. Values are :class:`Secret` (masked repr)."""

    cwd: Path
    path: Path | None
    searched: tuple[Path, ...]
    values: Mapping[str, Secret] = field(default_factory=dict)
    example_path: Path | None = None
    example_values: Mapping[str, Secret] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()

    @property
    def expected_path(self) -> Path:
        """Where ``.env`` is, or should be: next to ``.env.example`` if there is one."""
        if self.path is not None:
            return self.path
        if self.example_path is not None:
            return self.example_path.with_name(".env")
        return self.cwd / ".env"


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


# ------------------------------------------------------------------------------ finding .env


def scan_env(start: Path | None = None) -> EnvScan:
    """Search ``start`` (default: the working directory) and its parents for ``.env``; read it.

    ``COURSE_DOTENV=none`` skips the search (``make test`` sets it, so a learner's own ``.env``
    cannot change the notebooks' outputs that nbval compares).
    """
    cwd = (start or Path.cwd()).resolve()
    if os.environ.get("COURSE_DOTENV", "").strip().lower() == "none":
        return EnvScan(cwd, None, (), {}, None, {}, ())
    searched: list[Path] = []
    found: Path | None = None
    problems: list[Problem] = []
    for directory in (cwd, *cwd.parents):
        searched.append(directory)
        candidate = directory / ".env"
        if candidate.is_file():
            found = candidate
            break
        if candidate.is_dir():
            problems.append(
                Problem(
                    f"{candidate} is a folder (a virtual environment?), not the .env file: "
                    "rename the folder (e.g. .venv) and put your keys in a file named .env."
                )
            )
    example = next((d / ".env.example" for d in searched if (d / ".env.example").is_file()), None)
    problems.extend(_misnamed_files(searched, found))
    values: dict[str, Secret] = {}
    if found is not None:
        values, file_problems = _read_env_file(found)
        problems.extend(file_problems)
    example_values: dict[str, Secret] = {}
    if example is not None:
        example_values, _ = _read_env_file(example)
        problems.extend(_keys_in_example(example, example_values))
    return EnvScan(cwd, found, tuple(searched), values, example, example_values, tuple(problems))


def missing_env_hint(scan: EnvScan) -> Problem | None:
    """A hint to copy ``.env.example`` when there is one and no ``.env`` yet."""
    if scan.path is not None or scan.example_path is None:
        return None
    return Problem(
        "No .env file yet: copy .env.example to .env and add your keys to use the real APIs.",
        level="hint",
    )


def _misnamed_files(directories: list[Path], found: Path | None) -> Iterator[Problem]:
    for directory in directories:
        for name in _MISNAMED:
            path = directory / name
            if not path.is_file():
                continue
            if name == "env" and "_API_KEY" not in _read_text(path)[0]:
                continue
            if found is not None:
                yield Problem(
                    f"{path} is not read (only .env is): delete it if it is a leftover.", "hint"
                )
            else:
                yield Problem(
                    f"Found {path}: the file must be named exactly .env (Windows may hide a .txt "
                    f"ending). Rename it: {name} -> .env"
                )


def _read_text(path: Path) -> tuple[str, list[Problem]]:
    """Decode the first ``_MAX_ENV_BYTES`` of a text file whatever editor wrote it, in whole lines.

    Only that much is ever read. A larger file is cut after its last complete line (a value cut
    in the middle would be a wrong key) and reported, so nothing past the cut is lost in silence.
    """
    try:
        with path.open("rb") as file:
            data = file.read(_MAX_ENV_BYTES + 1)
    except OSError as exc:
        return "", [Problem(f"Cannot read {path} ({exc.strerror}): check its permissions.")]
    too_large = len(data) > _MAX_ENV_BYTES
    data = data[:_MAX_ENV_BYTES]
    problems: list[Problem] = []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        problems.append(Problem(f"{path} is saved as UTF-16 ('Unicode'): save it again as UTF-8."))
        text = data[: len(data) // 2 * 2].decode("utf-16", errors="replace")
    else:
        if too_large:  # a whole line never ends inside a UTF-8 character
            data = data[: data.rfind(b"\n") + 1]
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            fix = f"{path} is not UTF-8 text: save it again as UTF-8 (plain text)."
            problems.append(Problem(fix))
            text = data.decode("utf-8", errors="replace")
    if too_large:
        text = text[: text.rfind("\n") + 1]
        problems.append(_too_large(path, text.count("\n")))
    return text, problems


def _too_large(path: Path, lines_read: int) -> Problem:
    try:
        size = f"{path.stat().st_size / 1e6:,.1f} MB"
    except OSError:
        size = "too large"
    ignored = f"anything after line {lines_read}" if lines_read else "all of it"
    return Problem(
        f"{path} is {size}; only its first {_MAX_ENV_BYTES // 1000} KB are read, so {ignored} "
        "is ignored. A .env file holds only NAME=value settings: move anything else out of it, "
        "and keep your keys near the top."
    )


class _Silence(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


def _read_env_file(path: Path) -> tuple[dict[str, Secret], list[Problem]]:
    """The variables of an env file that ``os.environ`` can hold, and what is wrong with it.

    Every rule about a file's contents lives here, so ``setup()`` and the doctor report the same.
    """
    text, problems = _read_text(path)
    lines: dict[str, list[tuple[int, str | None]]] = {}  # name -> (line, raw value), in order
    for binding in parse_stream(io.StringIO(text)):
        line = binding.original.line
        if binding.error:
            problems.append(
                Problem(
                    f"Line {line} of {path} cannot be read: write it as NAME=value "
                    "(no spaces in the name, no ':' and matching quotes)."
                )
            )
        elif binding.key is not None:
            lines.setdefault(binding.key, []).append((line, binding.value))
    problems.extend(_duplicates(path, lines))
    # python-dotenv logs the same parse errors itself: they are reported above, once.
    logger, silence = logging.getLogger("dotenv.main"), _Silence()
    logger.addFilter(silence)
    try:
        parsed = dotenv_values(stream=io.StringIO(text))
    finally:
        logger.removeFilter(silence)
    values: dict[str, Secret] = {}
    for name, value in parsed.items():
        last = lines[name][-1][0] if name in lines else None
        unusable = _unsettable(path, name, value or "", last)
        if unusable is not None:
            problems.append(unusable)
        elif value is not None:
            values[name] = Secret(value)
    return values, problems


def _duplicates(path: Path, lines: Mapping[str, list[tuple[int, str | None]]]) -> Iterator[Problem]:
    """Names set more than once: python-dotenv (and so the SDKs) use the last one."""
    for name, found in lines.items():
        if len(found) < 2:
            continue
        numbers = [str(line) for line, _ in found]
        where = f"lines {', '.join(numbers[:-1])} and {numbers[-1]}"
        if len({value for _, value in found}) == 1:
            yield Problem(
                f"{name} is set {len(found)} times in {path} ({where}), to the same value: "
                "delete the extra lines.",
                "hint",
                name,
            )
        else:
            yield Problem(
                f"{name} is set {len(found)} times in {path} ({where}) with different values: the "
                f"last one (line {numbers[-1]}) is used. Delete the lines you do not want.",
                variable=name,
            )


def _unsettable(path: Path, name: str, value: str, line: int | None) -> Problem | None:
    """Why ``os.environ`` would refuse this variable (it raises on NUL bytes and ``=``), if so."""
    at = f"line {line} of {path}" if line is not None else str(path)
    if "\x00" in name or "\x00" in value:
        shown = name.replace("\x00", "")
        what = f"{shown} ({at})" if shown else f"A variable on {at}"
        return Problem(
            f"{what} contains a NUL byte (an invisible character left by a damaged save or a "
            "non-text editor), so it is skipped: type the line again in a plain-text editor.",
            variable=shown or None,
        )
    if "=" in name:
        return Problem(
            f"The name {name} ({at}) contains '=', which no environment variable can hold, so it "
            "is skipped: write the line as NAME=value with a plain name.",
            variable=name,
        )
    return None


def _keys_in_example(path: Path, values: Mapping[str, Secret]) -> Iterator[Problem]:
    for provider, variable in KEY_VARS.items():
        secret = values.get(variable)
        if secret is not None and _looks_real(provider, secret.reveal()):
            yield Problem(
                f"{path} holds what looks like a real {variable}: .env.example is shared (it is "
                "committed to git). Move the key to .env, and rotate it if you pushed it.",
                variable=variable,
            )


def _looks_real(provider: ProviderName, value: str) -> bool:
    prefix = "sk-ant-" if provider == "anthropic" else "sk-"
    return value.startswith(prefix) and len(value) >= 30 and not _is_placeholder(value, None)


def _is_placeholder(value: str, example: str | None) -> bool:
    return (bool(example) and value == example) or bool(_PLACEHOLDER.search(value))


# ------------------------------------------------------------------------------ the environment
# What setup() put into os.environ, so a re-run (or restore_environ) can take exactly that back out
# and see edits to .env: variable -> (sha256 of the value we set, the value it replaced).
_applied: dict[str, tuple[str, Secret | None]] = {}


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", errors="surrogatepass")).hexdigest()


def _ours(name: str, environ: Mapping[str, str]) -> bool:
    record = _applied.get(name)
    value = environ.get(name)
    return record is not None and value is not None and _digest(value) == record[0]


def _effective(name: str, scan: EnvScan, environ: Mapping[str, str]) -> tuple[str, Source] | None:
    """The value the SDK will see once ``.env`` is applied, and where it comes from."""
    value = environ.get(name)
    if _ours(name, environ):  # look through what we set to what was there before
        previous = _applied[name][1]
        value = previous.reveal() if previous is not None else None
    from_file = scan.values.get(name)
    if value:
        return value, "environment"
    if from_file is not None:
        return from_file.reveal(), ".env"
    return (value, "environment") if value is not None else None


def setting(name: str, scan: EnvScan, environ: Mapping[str, str]) -> str | None:
    """A non-secret setting (``COURSE_MODE``, a base URL) from the environment, else ``.env``."""
    found = _effective(name, scan, environ)
    return found[0] if found is not None else None


def apply_env(scan: EnvScan, environ: MutableMapping[str, str]) -> None:
    """Load ``.env`` into ``environ`` without overriding a non-empty value set there already."""
    for name, secret in scan.values.items():
        current = environ.get(name)
        if current is None or current == "" or _ours(name, environ):
            _set(environ, name, secret.reveal())


def set_offline_key(provider: ProviderName, environ: MutableMapping[str, str]) -> None:
    """Give a simulated provider's SDK a key to construct with (the real one, if usable, stays)."""
    _set(environ, KEY_VARS[provider], OFFLINE_KEYS[provider])


def _set(environ: MutableMapping[str, str], name: str, value: str) -> None:
    previous = _applied[name][1] if name in _applied else _as_secret(environ.get(name))
    environ[name] = value
    _applied[name] = (_digest(value), previous)


def _as_secret(value: str | None) -> Secret | None:
    return Secret(value) if value is not None else None


def restore_environ(environ: MutableMapping[str, str]) -> None:
    """Undo :func:`apply_env` and :func:`set_offline_key` (values changed since are kept)."""
    for name in list(_applied):
        digest, previous = _applied.pop(name)
        current = environ.get(name)
        if current is None or _digest(current) != digest:
            continue
        if previous is None:
            del environ[name]
        else:
            environ[name] = previous.reveal()


# ------------------------------------------------------------------------------ diagnosing keys


def key_status(provider: ProviderName, scan: EnvScan, environ: Mapping[str, str]) -> KeyStatus:
    """``provider``'s key once ``.env`` is applied, with everything that looks wrong about it.

    Of the provider's key variables, the first that is set wins, as in its SDK (Anthropic's reads
    ``ANTHROPIC_AUTH_TOKEN`` when ``ANTHROPIC_API_KEY`` is empty).
    """
    variable, found = _credential(provider, scan, environ)
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
    if _is_placeholder(value, example.reveal() if example else None):
        problems.append(
            Problem(
                f"{variable} {where} still holds placeholder text: replace it with your key, or "
                "leave it empty to use the simulated provider.",
                variable=variable,
            )
        )
        return KeyStatus(provider, variable, "placeholder", source, None, tuple(problems))
    base_url = setting(BASE_URL_VARS[provider], scan, environ)
    problems.extend(
        check_key(provider, value, where=where, custom_endpoint=bool(base_url), variable=variable)
    )
    return KeyStatus(provider, variable, "ok", source, Secret(value), tuple(problems))


def _credential(
    provider: ProviderName, scan: EnvScan, environ: Mapping[str, str]
) -> tuple[str, tuple[str, Source] | None]:
    """The key variable the SDK will read, and its value: the first one set, else the first."""
    variables = PROVIDER_RECORDS[provider].key_variables
    for variable in variables:
        found = _effective(variable, scan, environ)
        if found is not None and found[0] and found[0] != OFFLINE_KEYS[provider]:
            return variable, found
    return variables[0], _effective(variables[0], scan, environ)


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
    variable = variable or KEY_VARS[provider]
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
    label = LABELS[provider]
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


def _misspelled(
    provider: ProviderName, scan: EnvScan, environ: Mapping[str, str]
) -> Iterator[Problem]:
    variable = KEY_VARS[provider]
    for origin, names in (("in .env", list(scan.values)), ("in the environment", list(environ))):
        for name in names:
            if name != variable and name.upper().replace("_", "") in _MISSPELLINGS[provider]:
                yield Problem(
                    f"Found {name} {origin}, but the SDK reads {variable}: rename it.",
                    variable=variable,
                )
