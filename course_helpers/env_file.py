""".env: finding it, reading it, and what is wrong with the file itself.

``.env`` is searched upward from the working directory, as python-dotenv's
``find_dotenv(usecwd=True)`` does, so a notebook in ``notebooks/`` finds the course root's file.
Reading never changes the environment (that is :mod:`course_helpers.env_changes`), and every
value comes back as a :class:`~course_helpers.redaction.Secret`, so a scan can be shown safely.

>>> scan_env().values  # doctest: +SKIP
{'OPENAI_API_KEY': Secret('sk-…wxyz')}
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values
from dotenv.parser import parse_stream

from course_helpers.key_check import Problem, looks_real
from course_helpers.provider_record import PROVIDER_RECORDS
from course_helpers.redaction import Secret

__all__ = ["MAX_ENV_BYTES", "EnvScan", "missing_env_hint", "scan_env"]

# Files learners create instead of ``.env``; ``env`` only counts when it mentions a key.
_MISNAMED = (".env.txt", "env.txt", ".env.text", ".env.env", "env")
# Bytes of .env (or a look-alike) read: keys are ~200 bytes, and a huge file (a log or a data dump
# saved as .env by mistake) must not be read whole into memory.
MAX_ENV_BYTES = 256_000


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
    """Decode the first ``MAX_ENV_BYTES`` of a text file whatever editor wrote it, in whole lines.

    Only that much is ever read. A larger file is cut after its last complete line (a value cut
    in the middle would be a wrong key) and reported, so nothing past the cut is lost in silence.
    """
    try:
        with path.open("rb") as file:
            data = file.read(MAX_ENV_BYTES + 1)
    except OSError as exc:
        return "", [Problem(f"Cannot read {path} ({exc.strerror}): check its permissions.")]
    too_large = len(data) > MAX_ENV_BYTES
    data = data[:MAX_ENV_BYTES]
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
        f"{path} is {size}; only its first {MAX_ENV_BYTES // 1000} KB are read, so {ignored} "
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
    for record in PROVIDER_RECORDS.values():
        for variable in record.key_variables:
            secret = values.get(variable)
            if secret is None or not looks_real(record.name, secret.reveal()):
                continue
            yield Problem(
                f"{path} holds what looks like a real {variable}: .env.example is shared (it is "
                "committed to git). Move the key to .env, and rotate it if you pushed it.",
                variable=variable,
            )
