"""One generated answer, cut as the request asks: the text model every dialect streams or sends.

A leaf module, so the dialects can type what ``FakeProvider.compose`` returns without importing
the core.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from course_helpers.tokens import split_tokens

__all__ = ["Completion", "Finish", "shape_answer"]

Finish = Literal["end", "stop", "length"]


@dataclass(frozen=True)
class Completion:
    """One generated answer: its token pieces and why it ended."""

    pieces: tuple[str, ...]
    finish: Finish = "end"
    stop_sequence: str | None = None

    @property
    def text(self) -> str:
        return "".join(self.pieces)


def shape_answer(text: str, max_tokens: int | None, stops: Sequence[str]) -> Completion:
    """Cut ``text`` at the first stop sequence (excluded) and at ``max_tokens`` tokens."""
    finish: Finish = "end"
    matched: str | None = None
    hits = [(text.find(stop), stop) for stop in stops if stop and stop in text]
    if hits:
        position, matched = min(hits)
        text, finish = text[:position], "stop"
    pieces = split_tokens(text)
    if max_tokens is not None and len(pieces) > max_tokens:
        return Completion(tuple(pieces[:max_tokens]), "length")
    return Completion(tuple(pieces), finish, matched)
