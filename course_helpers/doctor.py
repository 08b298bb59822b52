"""``python -m course_helpers.doctor [--no-network]``: a report to paste into a question.

It shows the Python and package versions, which ``.env`` was read (or where it was looked for),
what is wrong with the keys (masked), whether each provider would be live or simulated and why,
and, for live providers, whether a one-token request gets through. It exits with 0 when nothing
is wrong and 1 when it found problems.

>>> print(report(network=False).text)  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import locale
import os
import platform
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from course_helpers import keys
from course_helpers.catalog import default_model
from course_helpers.env_changes import EnvChanges
from course_helpers.errors import (
    AuthenticationError,
    ConnectionFailedError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    classify,
)
from course_helpers.keys import MissingKeyError, Secret
from course_helpers.modes import ProviderSetup, changes_in_effect, plan
from course_helpers.provider_record import PROVIDER_RECORDS, PROVIDERS, ProviderName

__all__ = ["DoctorReport", "main", "report"]

# distribution name -> (lowest supported version, first unsupported major); None: just shown.
_PACKAGES: dict[str, tuple[tuple[int, ...], int] | None] = {
    "openai": ((3, 57), 4),
    "anthropic": ((2, 14), 3),
    "httpx2": ((2, 16), 3),
    "python-dotenv": ((1, 0), 2),
    "ipykernel": None,
    "jupyterlab": None,
    "ipywidgets": None,
}
_REQUIRED = ("openai", "anthropic", "httpx2", "python-dotenv")
_NETWORK_SETTINGS = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "NO_PROXY",
    "SSL_CERT_FILE",
)
_WIDTH = 12


@dataclass(frozen=True)
class DoctorReport:
    """The report's text, and the problems it found (empty: all is well)."""

    text: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Nothing is wrong."""
        return not self.problems

    def __str__(self) -> str:
        return self.text


def report(
    *,
    network: bool = True,
    start: Path | None = None,
    environ: Mapping[str, str] | None = None,
    timeout: float = 10.0,
    clock: Callable[[], float] = time.perf_counter,
) -> DoctorReport:
    """Diagnose the course setup from ``start`` (default: the working directory); change nothing.

    With ``network=True`` each live provider gets one request with ``max_retries=0`` and
    ``timeout`` seconds; simulated providers are never contacted.
    """
    env = os.environ if environ is None else environ
    scan = keys.scan_env(start)
    problems: list[str] = []
    hints: list[str] = []
    lines = ["course_helpers doctor — paste this whole report into your question (keys are masked)"]
    lines.append("")
    lines += _environment_lines(problems, hints)
    # What setup() put in the environment stands for the .env it read: every line looks
    # through it, so an edited .env shows as the next setup() will see it.
    changes = changes_in_effect()
    lines += _location_lines(scan, env, changes)

    try:
        decided, statuses = plan(None, scan, env, changes)
    except (ValueError, MissingKeyError) as exc:
        problems.append(str(exc))
        decided, statuses = plan("auto", scan, env, changes)
    for found in scan.problems:
        (problems if found.level == "warning" else hints).append(str(found))
    for status in statuses.values():
        for found in status.problems:
            (problems if found.level == "warning" else hints).append(str(found))
    missing_env = keys.missing_env_hint(scan)
    if missing_env is not None:
        hints.append(str(missing_env))

    lines.append("")
    for name in PROVIDERS:
        entry, record = decided[name], PROVIDER_RECORDS[name]
        lines.append(f"{record.label:<{_WIDTH}} {entry.label:<10} {entry.reason}")
        secret = statuses[name].secret
        if entry.mode != "live" or secret is None:
            continue
        if not network:
            lines.append(f"{'':<{_WIDTH}} check: skipped (--no-network)")
            continue
        base_url = keys.setting(record.base_url_variable, scan, env, changes) or None
        credential = _Credential(statuses[name].variable, secret)
        ok, summary = _reach(entry, credential, base_url, timeout, clock)
        lines.append(f"{'':<{_WIDTH}} check: {summary}")
        if not ok:
            problems.append(f"{record.label}: {summary}")

    lines.append("")
    if problems:
        lines.append(f"Problems ({len(problems)}):")
        lines += [f"  {i}. {text}" for i, text in enumerate(problems, 1)]
    if hints:
        lines.append("Hints:")
        lines += [f"  - {text}" for text in hints]
    lines.append("Result: " + (f"{len(problems)} problem(s) found." if problems else "all good."))
    secrets = [s.secret.reveal() for s in statuses.values() if s.secret is not None]
    text = keys.redact("\n".join(lines), secrets)
    return DoctorReport(text, tuple(keys.redact(p, secrets) for p in problems))


def main(argv: Sequence[str] | None = None) -> int:
    """Print the report; the exit code is 0 when all is well and 1 when problems were found."""
    parser = argparse.ArgumentParser(
        prog="python -m course_helpers.doctor",
        description="Check the course setup and print a report you can paste into a question.",
    )
    parser.add_argument(
        "--no-network", action="store_true", help="do not send a test request to live providers"
    )
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to wait for each test request"
    )
    args = parser.parse_args(argv)
    result = report(network=not args.no_network, timeout=args.timeout)
    print(result.text)
    return 0 if result.ok else 1


# ------------------------------------------------------------------------------ sections


def _row(name: str, value: str) -> str:
    return f"{name:<{_WIDTH}} {value}"


def _environment_lines(problems: list[str], hints: list[str]) -> list[str]:
    from course_helpers import __version__

    version = ".".join(map(str, sys.version_info[:3]))
    venv = "virtual environment" if sys.prefix != sys.base_prefix else "no virtual environment"
    if sys.prefix == sys.base_prefix:
        hints.append("Python is not running in a virtual environment: `make lab` creates one.")
    encoding = locale.getpreferredencoding(False)
    if encoding.replace("-", "").lower() != "utf8":
        hints.append(f"Text files open as {encoding}: set PYTHONUTF8=1 to read them as UTF-8.")
    packages = [f"course_helpers {__version__}"]
    for dist, supported in _PACKAGES.items():
        try:
            installed = metadata.version(dist)
        except metadata.PackageNotFoundError:
            packages.append(f"{dist} not installed")
            if dist in _REQUIRED:
                problems.append(f"{dist} is not installed: run `make lab` (or pip install -e .).")
            continue
        packages.append(f"{dist} {installed}")
        if supported is not None and not _supported(installed, *supported):
            lowest, major = supported
            problems.append(
                f"{dist} {installed} is installed; the course needs "
                f">={'.'.join(map(str, lowest))},<{major}: run `make lab` (or pip install -e .)."
            )
    return [
        _row("Python", f"{version} at {sys.executable} ({venv})"),
        _row("Platform", platform.platform()),
        _row("Encoding", f"{encoding} (UTF-8 mode {'on' if sys.flags.utf8_mode else 'off'})"),
        _row("Packages", ", ".join(packages)),
    ]


def _supported(installed: str, lowest: tuple[int, ...], major: int) -> bool:
    parts: list[int] = []
    for piece in installed.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit()) if piece[:1].isdigit() else ""
        if not digits:
            break
        parts.append(int(digits))
    version = tuple(parts)
    return lowest <= version and version[:1] < (major,)


def _location_lines(scan: keys.EnvScan, env: Mapping[str, str], changes: EnvChanges) -> list[str]:
    if scan.path is not None:
        found = str(scan.path)
    else:
        found = f"not found (searched upward from {scan.cwd}: {', '.join(map(str, scan.searched))})"
    settings = []
    for name in (
        "COURSE_MODE",
        "COURSE_MODE_OPENAI",
        "COURSE_MODE_ANTHROPIC",
        "COURSE_FAKE_LATENCY",
    ):
        value = keys.setting(name, scan, env, changes)
        if value is not None:
            settings.append(f"{name}={value}")
    base_urls = [record.base_url_variable for record in PROVIDER_RECORDS.values()]
    for name in (*base_urls, *_NETWORK_SETTINGS):
        value = keys.setting(name, scan, env, changes)
        if value:
            settings.append(f"{name}={_without_credentials(value)}")
    return [
        _row("Directory", str(scan.cwd)),
        _row(".env", found),
        _row("Settings", ", ".join(settings) or "none"),
    ]


def _without_credentials(value: str) -> str:
    """A URL without ``user:password@`` or its query (a proxy URL may carry both)."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return "****"
    if not parts.netloc:
        return value
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


# ------------------------------------------------------------------------------ reachability


@dataclass(frozen=True)
class _Credential:
    """A key and the variable it came from (the SDK argument differs: api_key or auth_token)."""

    variable: str
    secret: Secret


def _reach(
    entry: ProviderSetup,
    credential: _Credential,
    base_url: str | None,
    timeout: float,
    clock: Callable[[], float],
) -> tuple[bool, str]:
    """One tiny request with no retries: (it worked, what happened in one line)."""
    model = default_model(entry.provider)
    send = _one_token(
        entry.provider, model, credential, base_url, timeout
    )  # imports outside the timing
    began = clock()
    try:
        send()
    except Exception as exc:  # a diagnostic tool reports any failure instead of crashing
        return _explain(exc, entry.provider, model, timeout)
    return True, f"OK in {clock() - began:.2f} s ({model} answered)"


def _one_token(
    provider: ProviderName,
    model: str,
    credential: _Credential,
    base_url: str | None,
    timeout: float,
) -> Callable[[], object]:
    """A function sending the smallest generation request ``provider`` accepts."""
    messages: list[Any] = [{"role": "user", "content": "hi"}]
    if provider == "openai":
        from openai import OpenAI

        openai_client = OpenAI(
            api_key=credential.secret.reveal(), base_url=base_url, timeout=timeout, max_retries=0
        )
        return lambda: openai_client.chat.completions.create(
            model=model, max_completion_tokens=1, messages=messages
        )
    from anthropic import Anthropic

    # ANTHROPIC_AUTH_TOKEN is a bearer token: the SDK takes it as auth_token, not api_key.
    value = credential.secret.reveal()
    if credential.variable == PROVIDER_RECORDS["anthropic"].key_variable:
        anthropic_client = Anthropic(
            api_key=value, base_url=base_url, timeout=timeout, max_retries=0
        )
    else:
        anthropic_client = Anthropic(
            auth_token=value, base_url=base_url, timeout=timeout, max_retries=0
        )
    return lambda: anthropic_client.messages.create(model=model, max_tokens=1, messages=messages)


def _explain(
    exc: Exception, provider: ProviderName, model: str, timeout: float
) -> tuple[bool, str]:
    """Explain a failed test request: (the key and connection work after all, one line).

    The verdict comes from ``errors.classify``, the one place the course reads SDK exceptions.
    """
    error = classify(exc)
    status = error.status
    detail = f"{type(exc).__name__}: {_first_line(exc)}"
    if isinstance(error, RequestTimeoutError):
        return False, (
            f"no answer within {timeout:g} s — a firewall, proxy or VPN may be in the way "
            f"({detail})"
        )
    if isinstance(error, ConnectionFailedError):
        return False, (
            "cannot connect — check the internet connection, HTTPS_PROXY and "
            f"{PROVIDER_RECORDS[provider].base_url_variable} ({detail})"
        )
    if isinstance(error, AuthenticationError):
        return False, (
            "key rejected (401) — it is wrong, revoked or from another account: create a new "
            f"key in your provider's console and put it in .env ({detail})"
        )
    if isinstance(error, PermissionDeniedError):
        return False, (
            "key not allowed (403) — it lacks permission for this model, or your region is not "
            f"supported ({detail})"
        )
    if isinstance(error, QuotaExceededError):
        return (
            False,
            f"no credit left ({status}) — add credit in your provider's billing ({detail})",
        )
    if isinstance(error, NotFoundError):
        return False, f"{model} not found (404) — your account may not offer it ({detail})"
    if isinstance(error, RateLimitError):
        return True, f"reachable, key accepted, but rate limited now (429) ({detail})"
    if isinstance(error, ServerError | OverloadedError):
        return False, f"the provider is having trouble ({status}) — try again later ({detail})"
    if status is not None and 400 <= status < 500:
        return True, f"reachable, key accepted; the test request was refused ({detail})"
    return False, detail


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else ""
    return first if len(first) <= 200 else first[:197] + "..."


if __name__ == "__main__":
    raise SystemExit(main())
