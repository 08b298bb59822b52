"""Writing simulated text of a requested form about a prompt's topic.

The simulated provider has no knowledge, so it cannot be right about an arbitrary topic; it can
be right about the *shape* a learner asked for (three sentences, a haiku, JSON with given keys,
the numbers 1 to 20) and stay on the words of the prompt, which is what code that handles
answers depends on. Everything here depends only on the form, the topic and ``rng``.

>>> import random
>>> write(Form("count", body="1 5"), ["numbers"], random.Random(0), deterministic=True)
'1, 2, 3, 4, 5'
>>> write(Form("json", keys=("name", "age")), ["cat"], random.Random(0), deterministic=True)
'{\\n  "name": "Cat",\\n  "age": 7\\n}'
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

from course_helpers.fake.answer_forms import Form

__all__ = ["syllables", "write"]

_FILLER_TOPIC = "this topic"


class _Slots:
    """The topic and the prompt's further phrases, ready for templates."""

    def __init__(self, phrases: list[str], rng: random.Random) -> None:
        self.topic = phrases[0] if phrases else _FILLER_TOPIC
        rest = phrases[1:7]
        self.others = rng.sample(rest, len(rest))

    def fill(self, template: str) -> str:
        a = self.others[0] if self.others else ""
        b = self.others[1] if len(self.others) > 1 else ""
        text = template.format(t=self.topic, a=a, b=b)
        return text[0].upper() + text[1:]

    def usable(self, template: str) -> bool:
        """Whether the template's slots can be filled from the prompt's own phrases."""
        if "{b}" in template:
            return len(self.others) >= 2
        if "{a}" in template:
            return len(self.others) >= 1
        return True


# --- sentences ---------------------------------------------------------------------------------

_OPENINGS = {
    "how": "Behind {t} there is a chain of connected steps rather than a single trick.",
    "why": "There are a few reasons behind {t}, and they reinforce each other.",
    "what": "To pin down {t}, look at what it does and where it is used.",
    "other": "The subject of {t} has a simple core and a lot of practical detail around it.",
}
_SENTENCES = (
    "At its core, {t} rests on a small number of ideas that build on each other.",
    "People usually meet {t} first through a concrete example, and the general rule follows.",
    "Most of the details of {t} follow from what it is meant to achieve.",
    "A common misunderstanding is to treat {t} as more complicated than it really is.",
    "A good way to learn {t} is to try it on a small case and watch what happens.",
    "There are limits to {t}, and knowing them is as useful as knowing its strengths.",
    "Experts on {t} tend to agree on the fundamentals and argue about the fine points.",
    "Much of what makes {t} interesting is how it shows up in everyday situations.",
    "There is a close tie between {t} and {a}, and each helps explain the other.",
    "When people discuss {t}, {a} comes up early because it shapes the rest.",
    "A practical starting point is to look at how {a} affects {t}.",
    "In most cases, the role of {a} is what matters most for {t} in practice.",
    "Understanding {t} means understanding both {a} and {b}.",
    "The link between {a} and {b} is what gives {t} its character.",
    "Comparing {a} with {b} shows where {t} gets its strengths and its trade-offs.",
)
_QUESTION_WORD = re.compile(r"^\s*(how|why|what|which|who)\b", re.IGNORECASE)


def _sentences(slots: _Slots, count: int, rng: random.Random, prompt: str) -> list[str]:
    """``count`` distinct sentences on the topic, the first fitting the kind of question."""
    asked = _QUESTION_WORD.match(prompt)
    kind = asked.group(1).lower() if asked else "other"
    opening = _OPENINGS.get(kind, _OPENINGS["other"])
    pool = [template for template in _SENTENCES if slots.usable(template)]
    rng.shuffle(pool)
    chosen = [opening, *pool]
    while len(chosen) < count:  # more sentences than templates: say them again
        chosen += pool
    return [slots.fill(template) for template in chosen[:count]]


def _words(slots: _Slots, count: int, rng: random.Random, prompt: str) -> str:
    """Exactly ``count`` words: the start of a few on-topic sentences, closed with a full stop."""
    if count == 1:
        word = re.sub(r"[^\w'-]", "", slots.topic.split()[-1]) or "Yes"
        return word[0].upper() + word[1:] + "."
    words = " ".join(_sentences(slots, count // 8 + 2, rng, prompt)).split()
    while len(words) < count:
        words += words
    words = words[:count]
    if words[-1].lower().strip(",.;:") in _FUNCTION_WORDS:  # "... a simple core and a."
        words[-1] = slots.topic.split()[-1]
    return " ".join(words).rstrip(",.;:!?") + "."


_FUNCTION_TEXT = """a an the and or but of to with in on at for by from is are was its it that
    than as how what which who when where there their this these"""
_FUNCTION_WORDS = frozenset(_FUNCTION_TEXT.split())


# --- lists -------------------------------------------------------------------------------------

_TIP_ITEMS = (
    "Start with the basics of {t} before the advanced parts.",
    "Practise {t} on a small, concrete example first.",
    "Learn the common mistakes people make with {t}.",
    "Keep notes on what works for {t} and what does not.",
    "Ask someone experienced with {t} to review your approach.",
    "Connect {t} to something you already know well.",
    "Revisit {t} after a week to see what has stuck.",
    "Measure the results so you know whether {t} is improving.",
    "Look at how {a} affects {t}.",
    "Compare {a} with {b} before you choose.",
)
_BENEFIT_ITEMS = (
    "{t} saves time once it becomes routine.",
    "{t} makes results more predictable.",
    "{t} reduces mistakes that are expensive to fix later.",
    "{t} is easy to start with and grows with your needs.",
    "{t} gives you a shared vocabulary with other people.",
    "{t} tends to make the rest of the work simpler.",
    "{t} helps with {a} as well.",
    "{t} pairs well with {a} and {b}.",
)
_FACT_ITEMS = (
    "{t} has a simple core idea.",
    "{t} is used in more places than most people expect.",
    "{t} has a history that explains many of its quirks.",
    "{t} has clear strengths and equally clear limits.",
    "{t} is easier to learn from examples than from definitions.",
    "{t} keeps changing as people find new uses for it.",
    "{t} is closely linked to {a}.",
    "{t} looks different depending on {a} and {b}.",
)
_BENEFIT_WORDS = re.compile(r"\b(benefit|advantage|reason|pro|use|strength)s?\b", re.IGNORECASE)
_TIP_WORDS = re.compile(
    r"\b(tip|step|way|strateg|practice|technique|method|rule|habit|idea)", re.IGNORECASE
)


def _list(form: Form, slots: _Slots, rng: random.Random, prompt: str) -> str:
    count = form.count or rng.randint(3, 5)
    pool: tuple[str, ...]
    if _BENEFIT_WORDS.search(prompt):
        pool = _BENEFIT_ITEMS
    elif _TIP_WORDS.search(prompt):
        pool = _TIP_ITEMS
    else:
        pool = _FACT_ITEMS
    usable = [template for template in pool if slots.usable(template)]
    rng.shuffle(usable)
    items = [slots.fill(usable[i % len(usable)]) for i in range(count)]
    marks = ["-"] * count if form.bullets else [f"{i}." for i in range(1, count + 1)]
    return "\n".join(f"{mark} {item}" for mark, item in zip(marks, items, strict=True))


# --- verse -------------------------------------------------------------------------------------

_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


def syllables(text: str) -> int:
    """An estimate of the syllables in ``text`` (vowel groups, a silent final e dropped)."""
    total = 0
    for word in re.findall(r"[a-z]+", text.lower()):
        groups = len(_VOWEL_GROUPS.findall(word))
        if word.endswith("e") and not word.endswith(("le", "ee")) and groups > 1:
            groups -= 1
        total += max(1, groups)
    return total


# Haiku lines with a slot for the topic: (template, syllables without the topic).
_HAIKU_FIRST = (
    ("{t} at first light", 3),
    ("{t} in the rain", 3),
    ("{t} at dusk", 2),
    ("morning {t}", 2),
    ("soft light on {t}", 3),
    ("old {t}", 1),
    ("{t} sleeps", 1),
    ("{t}", 0),
)
_HAIKU_MIDDLE = (
    "each step leads to the next one",
    "patient hands learn how it works",
    "questions turn slowly to light",
    "a small thought grows in the dark",
    "the wind carries what we know",
)
_HAIKU_LAST = (
    "the day begins new",
    "and then, silence falls",
    "all things find their place",
    "we begin again",
    "the answer appears",
)


def _haiku(slots: _Slots, rng: random.Random) -> str:
    topic = slots.topic.lower() if slots.topic[1:].islower() else slots.topic
    if syllables(topic) > 5:
        topic = topic.split()[-1]
    need = 5 - syllables(topic)
    fits = [template for template, fixed in _HAIKU_FIRST if fixed == need]
    first = rng.choice(fits).format(t=topic) if fits else rng.choice(_HAIKU_LAST)
    lines = [first, rng.choice(_HAIKU_MIDDLE), rng.choice(_HAIKU_LAST)]
    lines[0] = lines[0][0].upper() + lines[0][1:] + ","
    lines[1] += ","
    return "\n".join(lines) + "."


_COUPLETS = (
    ("Of {t} I sing, from morning light", "to quiet hours of the night;"),
    ("The {t} hums along its way", "and shapes the hours of our day;"),
    ("We study {t} and learn to see", "how small things grow to what they'll be;"),
    ("And though the answers come out slow,", "there's always more of {t} to know;"),
    ("So here's to {t}, both old and new,", "to all it was, and all it grew;"),
    ("In every corner, {t} is found,", "a steady and familiar sound;"),
)


def _poem(form: Form, slots: _Slots, rng: random.Random, prompt: str) -> str:
    count = form.count or (4 if re.search(r"\bshort\b", prompt, re.IGNORECASE) else 8)
    couplets = list(_COUPLETS)
    rng.shuffle(couplets)
    topic = slots.topic.lower() if slots.topic[1:].islower() else slots.topic
    lines = [line.format(t=topic) for pair in couplets for line in pair]
    while len(lines) < count:
        lines += lines
    chosen = lines[:count]
    chosen[-1] = chosen[-1].rstrip(",;") + ("" if chosen[-1].endswith((".", "!")) else ".")
    return "\n".join(chosen)


# --- the other forms ---------------------------------------------------------------------------


def _count(form: Form, rng: random.Random, deterministic: bool) -> str:
    start, end = (int(part) for part in form.body.split())
    step = 1 if end >= start else -1
    numbers = [str(n) for n in range(start, end + step, step)]
    separator = ", " if deterministic else rng.choice((", ", ", ", "\n"))
    return separator.join(numbers)


_SENTENCE_KEY_TEXT = """description summary explanation answer reason text definition example
    meaning details content body message comment note"""
_SENTENCE_KEYS = frozenset(_SENTENCE_KEY_TEXT.split())
_SAMPLE_VALUES: dict[str, tuple[str, ...]] = {
    "city": ("Lisbon", "Osaka", "Toronto"),
    "country": ("Portugal", "Japan", "Canada"),
    "color": ("blue", "green", "orange"),
    "colour": ("blue", "green", "orange"),
    "language": ("Python", "TypeScript", "Go"),
    "occupation": ("engineer", "teacher", "designer"),
    "job": ("engineer", "teacher", "designer"),
    "author": ("Ada Lovelace", "Alan Turing", "Grace Hopper"),
    "genre": ("science fiction", "mystery", "fantasy"),
    "first_name": ("Ada", "Alan", "Grace"),
    "last_name": ("Lovelace", "Turing", "Hopper"),
    "status": ("active", "pending", "done"),
    "sentiment": ("positive", "neutral", "negative"),
    "category": ("general", "technical", "billing"),
}


def _json_value(key: str, slots: _Slots, rng: random.Random, index: int) -> Any:
    name = key.lower()
    if re.search(
        r"(^|_)(age|count|year|number|num|quantity|total|score|rank|size|id)s?($|_)", name
    ):
        return 2020 + index if "year" in name else rng.randint(1, 9) + index
    if re.search(r"(price|cost|amount|rating|percent|ratio)", name):
        return round(rng.uniform(1, 100), 2)
    if re.search(r"^(is|has|can|should)_|(valid|enabled|active|available|done)$", name):
        return rng.random() < 0.5
    if name.endswith("s") and name not in ("status", "address", "class"):
        return [f"{slots.topic} {name[:-1]} {i}" for i in range(1, 4)]
    if name in _SENTENCE_KEYS:
        return slots.fill(rng.choice(_SENTENCES[:8]))
    if name in ("name", "title", "topic", "subject", "label"):
        return slots.topic.title() + (f" {index + 1}" if index else "")
    if name in _SAMPLE_VALUES:
        return _SAMPLE_VALUES[name][index % len(_SAMPLE_VALUES[name])]
    if name == "email":
        return f"user{index + 1}@example.com"
    if name in ("date", "created", "created_at", "updated_at"):
        return f"2026-01-{index + 1:02d}"
    return f"example {name.replace('_', ' ')}"


def _json(form: Form, slots: _Slots, rng: random.Random) -> str:
    def one(index: int) -> Any:
        if form.keys:
            return {key: _json_value(key, slots, rng, index) for key in form.keys}
        if form.count is not None:
            return f"{slots.topic} {index + 1}"
        return {
            "topic": slots.topic,
            "summary": slots.fill(_SENTENCES[rng.randrange(8)]),
            "key_points": [slots.fill(item) for item in rng.sample(_FACT_ITEMS[:6], 3)],
        }

    value: Any = [one(i) for i in range(form.count)] if form.count is not None else one(0)
    return json.dumps(value, indent=2, ensure_ascii=False)


def _yes_no(slots: _Slots, rng: random.Random, prompt: str) -> str:
    verdict = rng.choice(
        (
            "Yes, in most cases.",
            "Generally, yes.",
            "No, not as a rule.",
            "It depends, but usually yes.",
        )
    )
    reasons = _sentences(slots, rng.randint(2, 3), rng, prompt)[1:]
    return " ".join([verdict, *reasons])


_TRANSLATIONS: dict[str, dict[str, str]] = {
    "hello": {"french": "Bonjour", "spanish": "Hola", "german": "Hallo", "italian": "Ciao"},
    "goodbye": {
        "french": "Au revoir",
        "spanish": "Adiós",
        "german": "Auf Wiedersehen",
        "italian": "Arrivederci",
    },
    "thank you": {
        "french": "Merci",
        "spanish": "Gracias",
        "german": "Danke",
        "italian": "Grazie",
    },
    "good morning": {
        "french": "Bonjour",
        "spanish": "Buenos días",
        "german": "Guten Morgen",
        "italian": "Buongiorno",
    },
    "good night": {
        "french": "Bonne nuit",
        "spanish": "Buenas noches",
        "german": "Gute Nacht",
        "italian": "Buona notte",
    },
    "please": {
        "french": "S'il vous plaît",
        "spanish": "Por favor",
        "german": "Bitte",
        "italian": "Per favore",
    },
    "how are you": {
        "french": "Comment allez-vous ?",
        "spanish": "¿Cómo estás?",
        "german": "Wie geht es dir?",
        "italian": "Come stai?",
    },
    "yes": {"french": "Oui", "spanish": "Sí", "german": "Ja", "italian": "Sì"},
    "no": {"french": "Non", "spanish": "No", "german": "Nein", "italian": "No"},
    "cat": {
        "french": "le chat",
        "spanish": "el gato",
        "german": "die Katze",
        "italian": "il gatto",
    },
    "dog": {
        "french": "le chien",
        "spanish": "el perro",
        "german": "der Hund",
        "italian": "il cane",
    },
}


def _translate(form: Form) -> str:
    text = form.body.strip(" \"'.!?")
    language = form.language.capitalize()
    known = _TRANSLATIONS.get(text.lower(), {}).get(form.language)
    if known:
        return f"'{text}' in {language} is '{known}'."
    return (
        f'[{language} translation of "{text}": the simulated provider has no dictionary for '
        "this text; a live model translates it.]"
    )


def _summary(form: Form, rng: random.Random) -> str:
    pieces = re.split(r"(?<=[.!?])\s+", " ".join(form.body.split()))
    distinct = list(dict.fromkeys(piece for piece in pieces if piece))
    if not distinct:
        return "There is nothing to summarise: the text is empty."
    first = distinct[0].rstrip(".!?")
    if form.count == 1 or len(distinct) == 1:
        return f"In short: {first[0].lower()}{first[1:]}."
    second = distinct[1].rstrip(".!?")
    return f"The text makes two main points. {first}, and {second[0].lower()}{second[1:]}."


_JOKES = (
    "Why did {t} bring a ladder to the meeting? It heard the expectations were high.",
    "I tried to explain {t} to my cat. Now the cat is the expert and I need the naps.",
    "What do you call {t} that tells jokes? A laughing matter.",
    "My friend said {t} was boring, so I told a joke about it. Now neither of us stops talking.",
    "Why did {t} never play hide and seek? Good luck hiding when everyone asks about you.",
)


_STORY = (
    "Once upon a time, in a small village by the sea, people whispered about {t}.",
    "Nobody had ever looked closely, until a curious girl named Mira decided to.",
    "She packed some bread, a lantern and a notebook, and set off at dawn.",
    "The path was longer than she expected, and twice she almost turned back.",
    "When she finally found {t}, it was nothing like the stories.",
    "It was smaller, quieter and far more interesting than anyone had said.",
    "Mira stayed until sunset, drawing, listening and asking questions.",
    "When she came home, she told the village the truth about {t}, and nobody was afraid again.",
)


def _with_article(topic: str) -> str:
    """ "the dragon" for a single common noun; "cats", "machine learning", "Rust" as they are."""
    single = " " not in topic and topic.islower() and not topic.endswith("s")
    return f"the {topic}" if single and topic != _FILLER_TOPIC else topic


# --- the entry point ---------------------------------------------------------------------------


def write(
    form: Form, phrases: list[str], rng: random.Random, *, deterministic: bool, prompt: str = ""
) -> str:
    """Text of ``form`` about ``phrases`` (the prompt's content phrases, topic first)."""
    slots = _Slots(phrases, rng)
    match form.kind:
        case "sentences":
            return " ".join(_sentences(slots, form.count or 1, rng, prompt))
        case "words":
            return _words(slots, form.count or 1, rng, prompt)
        case "list":
            return _list(form, slots, rng, prompt)
        case "lines":
            lines = _sentences(slots, form.count or 3, rng, prompt)
            return "\n".join(lines)
        case "haiku":
            return _haiku(slots, rng)
        case "poem":
            return _poem(form, slots, rng, prompt)
        case "count":
            return _count(form, rng, deterministic)
        case "json":
            return _json(form, slots, rng)
        case "yes_no":
            return _yes_no(slots, rng, prompt)
        case "translate":
            return _translate(form)
        case "summary":
            return _summary(form, rng)
        case "joke":
            return _Slots([_with_article(slots.topic)], rng).fill(rng.choice(_JOKES))
        case "paragraphs":
            sizes = [rng.randint(3, 4) for _ in range(form.count or 5)]
            pool = iter(_sentences(slots, sum(sizes), rng, prompt))  # no paragraph repeats another
            return "\n\n".join(" ".join(next(pool) for _ in range(size)) for size in sizes)
        case "story":
            told = _Slots([_with_article(slots.topic)], rng)
            return " ".join(told.fill(sentence) for sentence in _STORY)
        case _:
            return " ".join(_sentences(slots, rng.randint(2, 4), rng, prompt))
