"""What the simulated provider says: the answer book, and text of the requested form otherwise.

The course's own prompts ("What is the capital of France?", "Write a short poem", ...) have
hand-written answers (``answer_book``), matched after normalising case, punctuation and spacing.
Any other prompt gets generated text (``answer_writer``) of the form and length it asks for (one
sentence, three bullet points, a haiku, JSON with its keys, "count from 1 to 20", ...) on its
own content words; a prompt that asks for no form gets two to four sentences. The book is used
only when the prompt asks for the form of its texts: "Explain quantum computing in three bullet
points" is generated, not the book's paragraph.

``deterministic=True`` (``temperature=0`` or a ``seed``) gives the book's canonical answer, and
the generator's text depends only on the prompt and the ``rng`` (the caller derives it from the
request); otherwise the ``rng`` also picks among the book's variants. A system prompt steers the
form when the prompt asks for none ("Answer in one word.", "Be brief." = one sentence), and
"pirate" adds pirate flavour. ``AnswerDraws`` gives a caller the random streams that keep a
``max_tokens`` cut a prefix of the same answer uncut.

>>> import random
>>> compose_answer("What is the capital of France?", system=None, rng=random.Random(0),
...                deterministic=True)
'The capital of France is Paris.'
>>> compose_answer("what's the CAPITAL of france", system="Answer in one word.",
...                rng=random.Random(0), deterministic=True)
'Paris.'
>>> compose_answer("Count from 3 to 6", system=None, rng=random.Random(0), deterministic=True)
'3, 4, 5, 6'
"""

from __future__ import annotations

import hashlib
import random
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator

from course_helpers.fake.answer_arithmetic import arithmetic_answer
from course_helpers.fake.answer_book import Entry, find_entry
from course_helpers.fake.answer_forms import Form, content_phrases, requested_form, system_form
from course_helpers.fake.answer_writer import write

__all__ = ["AnswerDraws", "compose_answer"]


# --- steering by the system prompt -------------------------------------------------------------

_FIRST_SENTENCE = re.compile(r"^.+?[.!?](?=\s|$)", re.DOTALL)
_PIRATE_WORDS = {
    "hello": "ahoy",
    "hi": "ahoy",
    "you": "ye",
    "your": "yer",
    "my": "me",
    "yes": "aye",
    "friend": "matey",
    "friends": "hearties",
    "is": "be",
}
# Quoted words are left alone: "'hello' in French" must stay a translation of "hello"; so is a
# word right after a call, which is code: "type(obj) is MyClass" must not become "... be ...".
_PIRATE_PATTERN = re.compile(
    r"(?<!')(?<!\)\s)\b(" + "|".join(_PIRATE_WORDS) + r")\b(?!')", re.IGNORECASE
)


def _first_sentence(text: str) -> str:
    match = _FIRST_SENTENCE.match(text)
    return match.group() if match else text


def _piratify(text: str) -> str:
    """Swap a few words for pirate ones (keeping capitals) and open with "Arr!"."""

    def swap(match: re.Match[str]) -> str:
        word = match.group()
        pirate = _PIRATE_WORDS[word.lower()]
        return pirate.capitalize() if word[0].isupper() else pirate

    return "Arr! " + _PIRATE_PATTERN.sub(swap, text)


# --- choosing a book text ----------------------------------------------------------------------


def _book_text(entry: Entry, form: Form, rng: random.Random, deterministic: bool) -> str | None:
    """The entry's text in ``form``, or ``None`` when the entry has no text of that form."""
    if deterministic and not entry.sampled:
        text = entry.canonical
    else:
        text = rng.choice((entry.canonical, *entry.variants))
    own = entry.form
    if form.kind == "free" or (form.kind == own.kind and form.count in (None, own.count)):
        return text
    parts = re.split(r"(?<=[.!?])\s+", text) if "\n" not in text else []
    if form.kind == "sentences" and form.count and len(parts) >= form.count > 1:
        return " ".join(parts[: form.count])  # the book's paragraph, its first N sentences
    short = entry.short or _first_sentence(text)
    if form.kind in ("sentences", "summary") and form.count == 1 and own.kind != "list":
        return short if own.kind not in ("sentences", "summary") else text
    if form.kind == "words" and len(short.split()) <= (form.count or 0):
        return short
    return None


# --- the public function -----------------------------------------------------------------------


def compose_answer(
    prompt: str, *, system: str | None, rng: random.Random, deterministic: bool
) -> str:
    """The assistant's reply to ``prompt`` (the last user message) under ``system``.

    With ``deterministic`` a book answer is always the canonical one and ``rng`` only drives the
    generator, so the same ``prompt``, ``system`` and ``rng`` state give the same text. Otherwise
    ``rng`` also chooses among the book's variants.
    """
    form = requested_form(prompt)
    if form.kind == "free":
        form = system_form(system)
    entry = find_entry(prompt)
    text = _book_text(entry, form, rng, deterministic) if entry is not None else None
    if text is None and form.kind == "free":
        text = arithmetic_answer(prompt)
    if text is None:
        keys = {key.lower() for key in form.keys}
        phrases = [phrase for phrase in content_phrases(prompt) if phrase.lower() not in keys]
        text = write(form, phrases, rng, deterministic=deterministic, prompt=prompt)
    if "pirate" in (system or "").lower() and form.kind not in ("json", "count"):
        text = _piratify(text)
    return text


# --- random streams that a cap cannot change ---------------------------------------------------


class AnswerDraws:
    """Random streams for non-deterministic answers, chosen so that a cap never changes the text.

    Live, a capped answer is the start of what the model would have written. Here the text is
    fixed by the stream it is drawn from, so the stream must not depend on ``max_tokens`` or the
    stop sequences: sending a request again draws a new answer (sampling varies), while the same
    request with only a different ``cap`` gets the answer drawn last for it, cut.

    >>> draws = AnswerDraws(seed=0)
    >>> first = next(draws.streams("request", cap="None")).random()
    >>> next(draws.streams("request", cap="12")).random() == first  # same answer, capped
    True
    >>> next(draws.streams("request", cap="12")).random() == first  # asked again: a new draw
    False
    """

    def __init__(self, seed: object = 0, *, memory: int = 4096) -> None:
        self._seed = str(seed)
        self._memory = memory  # requests remembered; older ones start their draws afresh
        self._last: OrderedDict[str, tuple[str, int]] = OrderedDict()  # request -> (cap, draw)
        self._lock = threading.Lock()

    def streams(self, request: str, *, cap: str) -> Iterator[random.Random]:
        """Random streams for one request's answers, one after another (choices, retries).

        ``request`` identifies everything that shapes the answer (model, messages, system,
        seed); ``cap`` everything that only cuts it (``max_tokens``, stop sequences).
        """
        key = hashlib.sha256(request.encode()).hexdigest()
        with self._lock:
            last = self._last.pop(key, None)
            # new request: draw 0; same cap again: the next draw; another cap: the same draw
            draw = 0 if last is None else last[1] + (last[0] == cap)
            self._last[key] = (cap, draw)
            while len(self._last) > self._memory:
                self._last.popitem(last=False)
        return self._generate(key, draw)

    def _generate(self, key: str, draw: int) -> Iterator[random.Random]:
        index = 0
        while True:
            yield random.Random(f"{self._seed}:{key}:{draw}:{index}")
            index += 1
