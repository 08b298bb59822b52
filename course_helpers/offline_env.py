"""The offline environment: one definition for every run the course makes of its own notebooks.

nbval (``make test``), the notebook builder (``tools/build_notebooks.py``) and the grader each start
a kernel that must answer from the simulated provider, at once, whatever the machine it runs on:
no key, no ``.env``, no per-provider mode or base URL of the developer's leaks in. They all take
their environment from :func:`offline_environment`; the Makefile through the runner::

    python -m course_helpers.offline_env [--ipython-dir DIR] -- COMMAND [ARG ...]

>>> machine = {"OPENAI_API_KEY": "FAKE-KEY", "COURSE_MODE_OPENAI": "live", "HOME": "/h"}
>>> env = offline_environment(machine)
>>> sorted(env)
['COURSE_DOTENV', 'COURSE_FAKE_LATENCY', 'COURSE_MODE', 'HOME', 'MPLBACKEND']
>>> env["COURSE_MODE"]
'offline'
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

from .provider_record import PROVIDER_RECORDS

__all__ = ["OFFLINE_SETTINGS", "machine_variables", "main", "offline_environment"]

OFFLINE_SETTINGS: Mapping[str, str] = MappingProxyType(
    {
        "COURSE_MODE": "offline",  # every provider simulated, whatever key is present
        "COURSE_DOTENV": "none",  # the machine's .env is never read
        "COURSE_FAKE_LATENCY": "0",  # simulated answers arrive at once
        "MPLBACKEND": "Agg",  # plots render without a screen
    }
)
"""Settings every offline kernel gets."""


def machine_variables() -> tuple[str, ...]:
    """The variables an offline kernel must not inherit: they would make it live or point it away.

    Each provider's key variables, its base-URL variable and its own mode variable
    (``COURSE_MODE_OPENAI=live`` overrides ``COURSE_MODE``), taken from the provider records.
    """
    names: list[str] = []
    for record in PROVIDER_RECORDS.values():
        names += [*record.key_variables, record.base_url_variable]
        names.append(f"COURSE_MODE_{record.name.upper()}")
    return tuple(names)


def offline_environment(
    base: Mapping[str, str], *, ipython_dir: Path | None = None
) -> dict[str, str]:
    """``base`` without the machine's keys, modes and base URLs, with :data:`OFFLINE_SETTINGS`.

    ``ipython_dir``, when given, becomes ``IPYTHONDIR``: the course's kernel profile (its startup
    files and kernel config) instead of the user's.
    """
    dropped = set(machine_variables())
    env = {name: value for name, value in base.items() if name not in dropped}
    env.update(OFFLINE_SETTINGS)
    if ipython_dir is not None:
        env["IPYTHONDIR"] = str(ipython_dir)
    return env


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command in the offline environment (the Makefile's nbval and doctest runs)."""
    parser = argparse.ArgumentParser(
        prog="python -m course_helpers.offline_env",
        description="Run COMMAND offline: simulated providers, no keys, no .env, no latency.",
    )
    parser.add_argument("--ipython-dir", type=Path, help="IPython profile folder for kernels")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARG ...]")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given: add -- and the command to run, e.g. -- pytest --nbval")
    ipython_dir = args.ipython_dir.resolve() if args.ipython_dir else None
    env = offline_environment(os.environ, ipython_dir=ipython_dir)
    sys.stdout.flush()
    try:
        os.execvpe(command[0], command, env)
    except OSError as error:  # not found, not executable: say which, in one line
        print(f"offline_env: cannot run {command[0]!r}: {error.strerror}", file=sys.stderr)
        return 127
    return 0  # pragma: no cover - execvpe does not return


if __name__ == "__main__":
    sys.exit(main())
