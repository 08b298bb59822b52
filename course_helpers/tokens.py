"""An approximate, offline tokenizer.

Real tokenizers (OpenAI's ``tiktoken``, Anthropic's) download their vocabularies at run time, which
a learner offline cannot do. This module approximates them closely enough to budget with: words are
split the way byte-pair tokenizers pre-split text (a leading space stays with its word, digits go in
groups of up to three, punctuation runs stand alone), and a long word counts one token per four
characters. English prose comes out within about 10-20 % of ``cl100k_base``.

The simulated provider counts usage with these same functions, so ``estimate_tokens`` predicts
offline usage exactly; against a live API treat it as an estimate (Anthropic's ``count_tokens``
endpoint gives the exact figure).

>>> split_tokens("Hello, world!")
['Hello', ',', ' world', '!']
>>> estimate_tokens("Hello, world!")
4
>>> estimate_tokens([{"role": "user", "content": "Hello, world!"}])  # 4 + 3 framing + 3 priming
10
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["MESSAGE_OVERHEAD", "REPLY_PRIMING", "estimate_tokens", "split_tokens"]

# Per-message framing (role markers, separators) and the tokens that prime the reply, as in
# OpenAI's published counting recipe for chat models.
MESSAGE_OVERHEAD = 3
REPLY_PRIMING = 3

_PIECE = re.compile(
    r"'(?:s|t|re|ve|m|ll|d)\b"  # English contractions
    r"| ?[^\W\d_]+"  # a word, with its leading space
    r"| ?\d{1,3}"  # numbers in groups of three digits
    r"| ?[^\s\w]+"  # punctuation runs
    r"|\s+(?!\S)|\s+"  # whitespace
    r"|_+",
    re.UNICODE,
)
_CHARS_PER_TOKEN = 4


def split_tokens(text: str) -> list[str]:
    """Split ``text`` into token pieces; ``"".join(split_tokens(t)) == t`` always holds."""
    pieces: list[str] = []
    for match in _PIECE.finditer(text):
        piece = match.group()
        body = piece.lstrip(" ")
        if len(body) <= _CHARS_PER_TOKEN + 2:
            pieces.append(piece)
            continue
        lead = piece[: len(piece) - len(body)]
        chunks = [body[i : i + _CHARS_PER_TOKEN] for i in range(0, len(body), _CHARS_PER_TOKEN)]
        chunks[0] = lead + chunks[0]
        pieces.extend(chunks)
    return pieces


def _content_text(content: Any) -> str:
    """The text of a message's content: a string or a list of content blocks."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        return str(content.get("text", ""))
    if isinstance(content, Iterable):
        return "".join(_content_text(block) for block in content)
    return str(content)


def estimate_tokens(messages_or_text: Any, *, system: Any = None) -> int:
    """Estimated prompt tokens for a string or a list of chat messages.

    ``messages_or_text`` is a string, or a list of ``{"role": ..., "content": ...}`` messages whose
    content is a string or a list of ``{"type": "text", "text": ...}`` blocks (both providers'
    shapes). ``system`` is Anthropic's separate system prompt, counted as one more message.
    """
    if isinstance(messages_or_text, str):
        return len(split_tokens(messages_or_text + _content_text(system)))
    messages = list(messages_or_text)
    if system is not None:
        messages = [{"role": "system", "content": system}, *messages]
    total = REPLY_PRIMING
    for message in messages:
        total += MESSAGE_OVERHEAD + len(split_tokens(_content_text(message.get("content"))))
        if message.get("name"):
            total += 1
    return total
