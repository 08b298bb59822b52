"""Parse request JSON within limits, so a small hostile body is a clear error instead of a crash.

``json.loads`` alone fails on input a client controls in ways a server must not: ``[`` nested a
thousand deep raises ``RecursionError`` (a 500), an integer over 4,300 digits raises a bare
``ValueError``, and ``NaN``, ``Infinity`` or ``1e999`` become non-finite floats that the real
provider APIs refuse as invalid JSON. ``loads`` checks the nesting before parsing and the numbers
while parsing, and raises ``InvalidJSON`` (a ``ValueError``) with a message that says what to fix.

>>> loads(b'{"temperature": 0.2}')
{'temperature': 0.2}
>>> loads(b'{"temperature": NaN}')
Traceback (most recent call last):
...
course_helpers.safe_json.InvalidJSON: NaN is not JSON: send a number such as 0.5 instead.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from typing import Any

__all__ = ["MAX_DEPTH", "MAX_NUMBER_CHARS", "InvalidJSON", "loads", "nesting_depth"]

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects accepted: far beyond any API payload (tool schemas too)."""
MAX_NUMBER_CHARS = 100
"""Longest number literal accepted, in characters (a 64-bit integer has at most 20)."""

# A string (an unterminated one runs to the end) or a run of anything else but brackets. Each match
# starts where the last one ended, so the scan is linear even on input built to make it backtrack.
_NOT_NESTING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[^"\[\]{}]+', re.DOTALL)
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class InvalidJSON(ValueError):
    """A body that is not JSON, or JSON beyond the limits; ``str()`` says what to send instead."""


def nesting_depth(text: str) -> int:
    """The deepest nesting of ``[``/``{`` in ``text``, ignoring brackets inside strings.

    Linear time without recursion, so it is safe on any input, even one that is not JSON.
    """
    brackets = _NOT_NESTING.sub("", text)
    return max(itertools.accumulate(map(_STEP.__getitem__, brackets), initial=0))


def loads(
    data: bytes | str, *, max_depth: int = MAX_DEPTH, max_number_chars: int = MAX_NUMBER_CHARS
) -> Any:
    """``data`` (UTF-8 bytes or text) parsed as standard JSON, or ``InvalidJSON``."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidJSON(
                f"The body is not UTF-8 text (byte {exc.start} cannot be decoded): "
                "send JSON encoded as UTF-8."
            ) from None
    else:
        text = data
    depth = nesting_depth(text)
    if depth > max_depth:
        raise InvalidJSON(
            f"The JSON is nested {depth} levels deep; at most {max_depth} are accepted: "
            "send a flatter document."
        )

    def number(literal: str, convert: type[int] | type[float]) -> int | float:
        if len(literal) > max_number_chars:
            raise InvalidJSON(
                f"A number in the JSON is {len(literal)} characters long; at most "
                f"{max_number_chars} are accepted: send a smaller number."
            )
        value = convert(literal)
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidJSON(
                f"The number {literal} is too large to be a finite number: send a smaller one."
            )
        return value

    def constant(name: str) -> Any:
        raise InvalidJSON(f"{name} is not JSON: send a number such as 0.5 instead.")

    try:
        return json.loads(
            text,
            parse_int=lambda literal: number(literal, int),
            parse_float=lambda literal: number(literal, float),
            parse_constant=constant,
        )
    except json.JSONDecodeError as exc:
        raise InvalidJSON(f"The body is not valid JSON ({exc}).") from None
