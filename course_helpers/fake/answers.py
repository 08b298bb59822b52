"""What the simulated provider says: a small book of answers, and a generator for everything else.

The course's own prompts ("What is the capital of France?", "Count from 1 to 10", ...) have
hand-written answers, matched after normalising case, punctuation and spacing, so notebooks show
sensible text. Any other prompt gets two to five plausible sentences built from its content words.

``deterministic=True`` (``temperature=0`` or a ``seed``) gives the book's canonical answer, and
the generator's text depends only on the prompt and the ``rng`` (the caller derives it from the
request); otherwise the ``rng`` also picks among the book's variants. A system prompt can steer
the tone a little: "pirate" adds pirate flavour; "brief", "concise", "one word", "one sentence"
give the short form.

>>> import random
>>> compose_answer("What is the capital of France?", system=None, rng=random.Random(0),
...                deterministic=True)
'The capital of France is Paris.'
>>> compose_answer("what's the CAPITAL of france", system="Answer in one word.",
...                rng=random.Random(0), deterministic=True)
'Paris.'
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

__all__ = ["compose_answer"]


@dataclass(frozen=True, slots=True)
class _Entry:
    """One book answer: when it applies, its canonical text, its variants and its short form."""

    exact: frozenset[str]  # normalised prompts that match as a whole
    contains: tuple[tuple[str, ...], ...]  # any group whose phrases all occur (word prefixes)
    canonical: str
    variants: tuple[str, ...]
    short: str | None = None  # the brief form; defaults to the first sentence


_STORY = (
    "In a quiet workshop at the edge of the city, a small robot named Pip woke up for the first "
    "time. Its sensors flickered as it took in the cluttered shelves, the humming lamps and the "
    "old inventor asleep at her desk. Pip did not know what it was for, so it decided to find out. "
    "It sorted the scattered screws by size, wound the clocks that had stopped, and watered the "
    "plant by the window that had not seen water in weeks. Each task taught it something new "
    "about the people who had built the room around it. When the inventor woke, she found her "
    "workshop tidier than it had been in years and a robot waiting patiently beside her chair. "
    '"What should I do next?" Pip asked. She smiled, handed it a screwdriver, and said, "Help me '
    'build a friend for you." And so Pip learned that the best purpose is one you share.'
)
_STORY_2 = (
    "Unit R-7 had swept the same train station every night for eleven years. It knew every "
    "crack in the tiles, every flickering light and every bench where travellers left behind "
    "their umbrellas. One rainy evening it found a child's drawing on the floor: a robot, "
    "smiling, holding a flower. R-7 had never been drawn before. It did not throw the paper "
    "away. Instead, it taped the drawing to the wall of its charging closet and looked at it "
    "each morning before shutting down. Weeks later, the child came back with her mother, "
    "searching the station for the lost picture. R-7 rolled over, opened the closet and showed "
    "her where it had kept it safe. The girl laughed, took a crayon from her pocket, and added "
    "a second robot to the page, standing right beside the first. From then on, R-7 swept the "
    "station a little more slowly, in case anyone else needed finding."
)
_STORY_3 = (
    "The lighthouse robot had one job: keep the lamp turning. For a hundred years of storms it "
    "climbed the spiral stairs, oiled the gears and polished the great glass lens until it "
    "shone. Ships passed safely, though no sailor ever saw who kept the light alive. One winter "
    "the gears finally cracked, and the lamp stopped turning. The robot searched the island for "
    "parts and found nothing but driftwood, shells and a broken radio. So it took apart the "
    "radio, rebuilt the gears from its own spare joints, and climbed the stairs one last time, "
    "slower than before. The light turned again just as a fishing boat rounded the rocks. The "
    "captain never knew how close she had come to the reef, but that night she raised a cup "
    "to the lighthouse anyway, and somewhere above the waves a tired little robot watched the "
    "beam sweep over the sea and was content."
)

_BOOK: tuple[_Entry, ...] = (
    _Entry(
        exact=frozenset(),
        contains=(("haiku", "program"), ("haiku", "code"), ("haiku", "coding")),
        canonical=(
            "Lines of logic flow,\nbugs hide in the silent loops,\ntests bring morning light."
        ),
        variants=(
            "Keys click through the night,\na missing semicolon,\ndawn compiles at last.",
            "Functions call their friends,\nvariables hold their breath,\nthe program runs free.",
            "Silent cursor blinks,\nideas become instructions,\nthe machine listens.",
        ),
    ),
    _Entry(
        exact=frozenset(),
        contains=(("haiku", "api"), ("haiku", "interface")),
        canonical="Requests cross the wire,\na quiet server answers,\nJSON comes back home.",
        variants=(
            "Endpoints wait in line,\nstatus two hundred arrives,\nthe contract holds true.",
            "A key opens doors,\nrate limits whisper slow down,\nretry, then succeed.",
            "One call, one reply,\nheaders carry what was meant,\nsystems shake hands well.",
        ),
    ),
    _Entry(
        exact=frozenset(),
        contains=(("capital", "france"),),
        canonical="The capital of France is Paris.",
        variants=(
            "Paris is the capital of France.",
            "The capital of France is Paris, which is also its largest city.",
            "France's capital is Paris, home of the Eiffel Tower and the Louvre.",
        ),
        short="Paris.",
    ),
    _Entry(
        exact=frozenset(),
        contains=(("quantum",),),
        canonical=(
            "Quantum computing uses quantum bits, or qubits, instead of ordinary bits. A normal "
            "bit is either 0 or 1, but a qubit can be in a mix of both at once, a property called "
            "superposition. Qubits can also be linked through entanglement, so measuring one tells "
            "you something about another. By combining these effects, a quantum computer can "
            "explore many possible answers at the same time and amplify the right ones. This "
            "makes it promising for problems like simulating molecules or optimising complex "
            "systems, although today's machines are still small and error-prone."
        ),
        variants=(
            "Think of a normal computer as flipping switches that are either off or on. A "
            "quantum computer uses qubits, which can be off, on, or a blend of both until you "
            "look at them. Linked qubits, called entangled qubits, behave as a team rather than "
            "individually. Clever algorithms use this to cancel out wrong answers and strengthen "
            "right ones. The result is a machine that could solve certain hard problems much "
            "faster than any ordinary computer.",
            "Ordinary computers store information as bits that are 0 or 1. Quantum computers "
            "use qubits, which follow the rules of quantum physics and can represent 0 and 1 "
            "at the same time. When many qubits work together, the number of states they can "
            "represent grows exponentially. Quantum algorithms exploit this to tackle tasks "
            "such as factoring large numbers or modelling chemistry. Building reliable quantum "
            "hardware is still difficult, so most useful applications lie in the future.",
            "A quantum computer is a new kind of computer based on quantum physics. Its basic "
            "unit, the qubit, can hold a combination of 0 and 1 instead of just one value. "
            "Qubits can be entangled, which lets them share information in ways ordinary bits "
            "cannot. For some problems this allows a quantum computer to find answers with far "
            "fewer steps.",
        ),
        short=(
            "Quantum computers use qubits, which can be 0 and 1 at once, to explore many "
            "possibilities in parallel."
        ),
    ),
    _Entry(
        exact=frozenset(),
        contains=(("joke",), ("make me laugh",), ("something funny",)),
        canonical=("Why do programmers prefer dark mode? Because light attracts bugs."),
        variants=(
            "Why did the developer go broke? Because he used up all his cache.",
            "How many programmers does it take to change a light bulb? None, that's a hardware "
            "problem.",
            'I told my computer I needed a break, and it said: "No problem, I\'ll go to sleep."',
            "Why was the JSON file so calm? Because it had no unresolved issues, only key-value "
            "pairs.",
        ),
    ),
    _Entry(
        exact=frozenset(),
        contains=(("count", "10"), ("count", "ten")),
        canonical="1, 2, 3, 4, 5, 6, 7, 8, 9, 10",
        variants=(
            "1, 2, 3, 4, 5, 6, 7, 8, 9, 10.",
            "Sure! 1, 2, 3, 4, 5, 6, 7, 8, 9, 10",
            "1\n2\n3\n4\n5\n6\n7\n8\n9\n10",
        ),
        short="1, 2, 3, 4, 5, 6, 7, 8, 9, 10",
    ),
    _Entry(
        exact=frozenset(),
        contains=(
            ("what an api is",),
            ("what is an api",),
            ("what s an api",),
            ("define", "api"),
        ),
        canonical=(
            "An API (Application Programming Interface) is a set of rules that lets one program "
            "request data or services from another in a well-defined way."
        ),
        variants=(
            "An API is a contract that lets software components talk to each other by sending "
            "structured requests and receiving predictable responses.",
            "An API, or Application Programming Interface, is how one program asks another for "
            "information or actions without needing to know how it works inside.",
            "An API is a documented interface through which programs exchange requests and "
            "responses, like a menu that tells you what you can order from a kitchen.",
        ),
    ),
    _Entry(
        exact=frozenset(),
        contains=(("2 plus 2",), ("two plus two",)),
        canonical="2 + 2 = 4.",
        variants=("2 + 2 equals 4.", "The answer is 4.", "4"),
        short="4",
    ),
    _Entry(
        exact=frozenset(),
        contains=(("stream", "benefit"), ("stream", "advantage"), ("stream", "why")),
        canonical=(
            "Streaming responses send text as soon as it is generated instead of waiting for the "
            "whole answer. Users see the first words within a fraction of a second, so the "
            "application feels much faster even when the total time is the same. Long answers "
            "become readable while they are still being written, and a user can stop a response "
            "that is going in the wrong direction. Streaming also keeps connections active, "
            "which helps avoid timeouts on long generations."
        ),
        variants=(
            "The main benefit of streaming is lower perceived latency: the first token arrives "
            "quickly, so users start reading almost immediately. It also lets you show progress, "
            "cancel early, and process partial output as it arrives.",
            "Streaming improves user experience by showing text as it is produced. It reduces "
            "time to first token, avoids long blank waits, and lets applications react to "
            "partial results. The trade-off is slightly more complex client code for "
            "accumulating chunks and handling errors mid-stream.",
            "Streaming responses have three big advantages. They cut the time before users see "
            "anything, they make long outputs feel interactive, and they let you cancel or "
            "post-process text early. They are especially useful for chat interfaces.",
        ),
    ),
    _Entry(
        exact=frozenset(),
        contains=(("story", "robot"),),
        canonical=_STORY,
        variants=(_STORY_2, _STORY_3),
        short="A lonely robot tidied an inventor's workshop and learned that purpose is shared.",
    ),
    _Entry(
        exact=frozenset(),
        contains=(
            ("rate limit", "tip"),
            ("rate limit", "handl"),
            ("rate limit", "avoid"),
            ("rate limit", "deal"),
        ),
        canonical=(
            "1. Retry with exponential backoff and jitter, and honour the retry-after header when "
            "the API sends one.\n"
            "2. Limit your own request and token rate on the client side so you stay under the "
            "quota instead of hitting it.\n"
            "3. Reduce the load: batch work, cache repeated answers, and lower max_tokens to what "
            "you actually need."
        ),
        variants=(
            "1. Back off exponentially with random jitter after a 429.\n"
            "2. Read the rate-limit headers and slow down before you run out.\n"
            "3. Queue requests through a client-side limiter so bursts are smoothed out.",
            "1. Respect retry-after and never retry in a tight loop.\n"
            "2. Estimate tokens per request and budget them per minute.\n"
            "3. Tell a rate limit apart from an exhausted quota: only the first is worth "
            "retrying.",
        ),
    ),
    _Entry(
        exact=frozenset(),
        contains=(("hello", "french"), ("hello", "in french")),
        canonical="'Hello' in French is 'Bonjour'.",
        variants=(
            "In French, 'hello' is 'Bonjour'.",
            "'Bonjour' is the usual French for 'hello'; among friends you can also say 'Salut'.",
            "The French word for 'hello' is 'Bonjour'.",
        ),
        short="Bonjour",
    ),
    _Entry(
        exact=frozenset({"say this is a test", "this is a test"}),
        contains=(),
        canonical="This is a test.",
        variants=("This is a test!", "Sure: this is a test.", "This is a test."),
    ),
    _Entry(
        exact=frozenset(
            {
                "hello",
                "hi",
                "hey",
                "hello there",
                "hi there",
                "hey there",
                "hello world",
                "say hello",
                "say hi",
                "say hello world",
                "say hello to me",
                "hello how are you",
                "hi how are you",
                "good morning",
                "greetings",
            }
        ),
        contains=(),
        canonical="Hello! How can I help you today?",
        variants=(
            "Hi there! What can I do for you?",
            "Hello! It's nice to meet you. What would you like to talk about?",
            "Hey! How can I help?",
        ),
        short="Hello!",
    ),
)

# --- normalising and matching ------------------------------------------------------------------

_NON_WORD = re.compile(r"[^a-z0-9]+")


def _normalise(text: str) -> str:
    """Lower-case, ``+`` spelt out, punctuation and runs of whitespace reduced to single spaces."""
    text = text.lower().replace("\u2019", "'").replace("+", " plus ")
    return _NON_WORD.sub(" ", text).strip()


def _find_entry(prompt: str) -> _Entry | None:
    """The book entry for ``prompt``, if any (phrases match at the start of a word)."""
    norm = _normalise(prompt)
    padded = f" {norm} "
    for entry in _BOOK:
        if norm in entry.exact:
            return entry
        for group in entry.contains:
            if all(f" {phrase}" in padded for phrase in group):
                return entry
    return None


# --- steering by the system prompt -------------------------------------------------------------

_SHORT_CUES = ("one word", "one sentence", "brief", "concise", "short", "terse", "few words")
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
# Quoted words are left alone: "'hello' in French" must stay a translation of "hello".
_PIRATE_PATTERN = re.compile(r"(?<!')\b(" + "|".join(_PIRATE_WORDS) + r")\b(?!')", re.IGNORECASE)


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


# --- the generator for any other prompt --------------------------------------------------------

# Tokens that look like credentials are dropped before any word is taken from the prompt.
_SECRET = re.compile(
    r"sk-[A-Za-z0-9_\-]{3,}"  # OpenAI / Anthropic style keys
    r"|[0-9a-fA-F]{16,}"  # long hex runs (hashes, tokens)
    r"|(?=[A-Za-z0-9+/_\-]*\d)(?=[A-Za-z0-9+/_\-]*[A-Za-z])[A-Za-z0-9+/_\-]{20,}"  # base64-ish
    r"|[A-Za-z0-9+/_\-]{32,}"
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*[A-Za-z]|[A-Za-z]")
_MAX_PROMPT_CHARS = 20_000  # enough to find a topic; keeps huge prompts cheap
_STOPWORD_TEXT = """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing done down during each even ever
    every few for from further get gets getting give given go going got had has have having he
    her here hers him his how however i if in into is it its itself just let like made make
    makes many may me might more most much must my need no nor not now of off on once one only
    or other our ours out over own please really same say says shall she should show so some
    such than that the their theirs them then there these they thing things this those through
    to too under until up upon us use used using very want was way we well were what when where
    which while who whom why will with within without would yes yet you your yours yourself
    explain describe tell write list give summarize summarise define compare discuss outline
    help create provide answer question questions briefly simple terms detail details words
    sentence sentences example examples work works working know think tell mean means something
    anything everything kind sort lot lots good best better new different important include
    including mention focus keep paragraph paragraphs word line lines bullet bullets short
    brief simply points two three four five six seven eight nine ten
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_OPENINGS = (
    "When it comes to {topic}, the main thing to understand is how {a} fits in.",
    "{Topic} is easiest to understand by starting with {a}.",
    "Here is a short overview of {topic}.",
    "Good question: {topic} touches on {a} and {b}.",
    "There are a few ways to think about {topic}.",
)
_BODIES = (
    "A useful way to approach it is to look at {a} and {b} together.",
    "In practice, {a} tends to matter more than people expect.",
    "Most explanations come back to {a}, {b} and {c}.",
    "It also helps to compare {a} with {b}, since each shapes the other.",
    "A common mistake is to treat {b} in isolation from {a}.",
    "Start small: try a simple example with {a}, then add {b}.",
    "The details of {b} vary, but the underlying idea stays the same.",
    "Keep in mind that {c} can change the picture depending on the context.",
)
_CLOSINGS = (
    "In short, {topic} comes down to understanding {a} and {b}.",
    "If you want to go further, a concrete example with {a} is a good next step.",
    "Let me know if you would like more detail on {a} or {b}.",
    "With {a} in mind, the rest of {topic} becomes much easier to follow.",
)
_SHORT_GENERATED = "In short, {topic} comes down to {a} and {b}."


def _content_phrases(prompt: str) -> list[str]:
    """Distinct content words of ``prompt`` in order, credential-like tokens removed.

    Content words that directly follow each other ("machine learning", "Roman Empire") stay
    together as one phrase of up to three words.
    """
    text = _SECRET.sub(" ", prompt[:_MAX_PROMPT_CHARS])
    phrases: list[list[str]] = []
    seen: set[str] = set()
    previous_end = -1
    for match in _WORD.finditer(text):
        word = match.group().strip("'-")
        key = word.lower()
        if len(key) < 3 or key in _STOPWORDS or key in seen:
            continue
        seen.add(key)
        before = text[max(0, match.start() - 8) : match.start()].rstrip()
        if (not before or before[-1] in ".!?:") and word[1:].islower():
            word = key  # a capital that only starts a sentence; "Python" mid-sentence stays
        adjacent = previous_end >= 0 and not text[previous_end : match.start()].strip()
        if adjacent and len(phrases[-1]) < 3:
            phrases[-1].append(word)
        else:
            phrases.append([word])
        previous_end = match.end()
    return [" ".join(phrase) for phrase in phrases]


def _generate(prompt: str, rng: random.Random, short: bool) -> str:
    """Two to five sentences on the prompt's content words (one sentence when ``short``)."""
    phrases = _content_phrases(prompt) or ["your question"]
    topic, rest = phrases[0], phrases[1:]
    # The prompt's own phrases fill the slots first, generic fillers only when it has too few.
    fillers = ["the basics", "the context", "the details"]
    a, b, c = (rng.sample(rest[:6], min(len(rest), 6)) + rng.sample(fillers, 3))[:3]
    slots = {"topic": topic, "Topic": topic[0].upper() + topic[1:], "a": a, "b": b, "c": c}
    if short:
        return _SHORT_GENERATED.format(**slots)
    count = rng.randint(2, 5)
    sentences = [rng.choice(_OPENINGS), *rng.sample(_BODIES, count - 2), rng.choice(_CLOSINGS)]
    return " ".join(sentence.format(**slots) for sentence in sentences)


# --- the public function -----------------------------------------------------------------------


def compose_answer(
    prompt: str, *, system: str | None, rng: random.Random, deterministic: bool
) -> str:
    """The assistant's reply to ``prompt`` (the last user message) under ``system``.

    With ``deterministic`` a book answer is always the canonical one and ``rng`` only drives the
    generator, so the same ``prompt``, ``system`` and ``rng`` state give the same text. Otherwise
    ``rng`` also chooses among the book's variants.
    """
    steer = (system or "").lower()
    short = any(cue in steer for cue in _SHORT_CUES)
    entry = _find_entry(prompt)
    if entry is None:
        text = _generate(prompt, rng, short)
    else:
        text = entry.canonical if deterministic else rng.choice((entry.canonical, *entry.variants))
        if short:
            text = entry.short or _first_sentence(text)
    if "pirate" in steer:
        text = _piratify(text)
    return text
