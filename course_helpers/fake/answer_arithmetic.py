"""Small arithmetic questions answered right: "what is 7 squared?", "12 times 8", "3 + 4".

Learners edit prompts into sums first. A generated paragraph "about squared" reads as a broken
model, so a question that is one operation on one or two whole numbers gets its result in one
sentence. Anything longer is left to the generator.

>>> arithmetic_answer("Question number 3: what is 3 squared?")
'3 squared is 9.'
>>> arithmetic_answer("What is 12 times 8?")
'12 times 8 is 96.'
>>> arithmetic_answer("what's 7 divided by 2")
'7 divided by 2 is 3.5.'
>>> arithmetic_answer("Tell me about squares") is None
True
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction

__all__ = ["arithmetic_answer"]

_NUMBER = r"(-?\d{1,9})"
_BINARY: dict[str, Callable[[int, int], int | Fraction]] = {
    "plus": lambda a, b: a + b,
    "+": lambda a, b: a + b,
    "minus": lambda a, b: a - b,
    "-": lambda a, b: a - b,
    "times": lambda a, b: a * b,
    "multiplied by": lambda a, b: a * b,
    "*": lambda a, b: a * b,
    "x": lambda a, b: a * b,
    "divided by": lambda a, b: Fraction(a, b),
    "/": lambda a, b: Fraction(a, b),
}
_UNARY: dict[str, int] = {"squared": 2, "cubed": 3}
_OPERATORS = "|".join(re.escape(op) for op in sorted(_BINARY, key=len, reverse=True))
_BINARY_QUESTION = re.compile(rf"\b{_NUMBER}\s*({_OPERATORS})\s*{_NUMBER}\s*\??\s*$", re.IGNORECASE)
_UNARY_QUESTION = re.compile(rf"\b{_NUMBER}\s+(squared|cubed)\s*\??\s*$", re.IGNORECASE)


def _show(value: int | Fraction) -> str:
    if isinstance(value, Fraction) and value.denominator != 1:
        return f"{float(value):.6g}"
    return str(int(value))


def arithmetic_answer(prompt: str) -> str | None:
    """``"<question> is <result>."`` for one operation on whole numbers at the prompt's end."""
    text = prompt.strip()
    if len(text) > 200:
        return None
    unary = _UNARY_QUESTION.search(text)
    if unary is not None:
        number, word = int(unary.group(1)), unary.group(2).lower()
        return f"{number} {word} is {number ** _UNARY[word]}."
    binary = _BINARY_QUESTION.search(text)
    if binary is None:
        return None
    a, op, b = int(binary.group(1)), binary.group(2).lower(), int(binary.group(3))
    if b == 0 and op in ("divided by", "/"):
        return f"{a} divided by 0 is undefined: no number times 0 gives {a}."
    return f"{a} {op} {b} is {_show(_BINARY[op](a, b))}."
