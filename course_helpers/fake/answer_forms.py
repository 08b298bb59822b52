"""Reading a prompt's instruction: the form and length it asks for, and the words it is about.

A learner who writes "in three sentences", "as a haiku" or "as JSON with keys name and age"
expects that shape back, offline as live. ``requested_form`` reads the shape;
``content_phrases`` the topic, so the simulated text stays on it.

>>> requested_form("Explain recursion in two sentences.")
Form(kind='sentences', count=2, at_most=False, bullets=False, keys=(), language='', body='')
>>> content_phrases("Describe the Roman Empire in three short bullet points")
['Roman Empire']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

__all__ = ["Form", "FormKind", "content_phrases", "requested_form"]

FormKind = Literal[
    "free",  # nothing asked: a few sentences
    "sentences",
    "words",
    "list",
    "lines",
    "haiku",
    "poem",
    "count",
    "json",
    "yes_no",
    "translate",
    "summary",
    "story",
    "joke",
    "paragraphs",
]


@dataclass(frozen=True, slots=True)
class Form:
    """The shape a prompt asks for; ``count`` is the number of sentences, words, items, ..."""

    kind: FormKind = "free"
    count: int | None = None
    at_most: bool = False  # "in 20 words or fewer": up to ``count``
    bullets: bool = False  # a list of "- " items rather than "1. " items
    keys: tuple[str, ...] = ()  # JSON keys the prompt names
    language: str = ""  # translate: the target language
    body: str = ""  # translate / summarise: the text to work on; count: "start end"


FREE = Form()

_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "single": 1,
    "two": 2,
    "couple": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "fifty": 50,
    "hundred": 100,
}
_NUM = r"(\d{1,4}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
# "in three words", "write 2 sentences", "no more than 20 words": a number after such a lead.
_LEAD = (
    r"\b(?:in|with|using|under|within|than|of|exactly|about|max|maximum|write|give me|give|use|"
    r"answer in|reply in|only|just|at most)\s+(?:exactly\s+|only\s+|just\s+|a\s+)?"
)
_MAX_ITEMS = 50  # more items, sentences or lines than this are written as this many
_MAX_WORDS = 400
_MAX_COUNT = 1000

_ITEM_NOUNS = (
    r"(?:bullet points?|bullets|points?|items?|tips?|reasons?|ways?|examples?|ideas?|facts?|"
    r"steps?|benefits?|advantages?|disadvantages?|drawbacks?|things?|uses?|features?|"
    r"questions?|names?|options?|rules?|mistakes?|strategies|strategy|techniques?|"
    r"tools?|languages?|books?|words?|pros|cons|differences?|similarities|causes?|"
    r"effects?|principles?|practices?|challenges?|risks?|alternatives?|methods?|types?|"
    r"kinds?|examples?|ingredients?|questions?)"
)
_LANGUAGES = ("french", "spanish", "german", "italian", "portuguese", "dutch", "japanese")
_YES_NO_START = re.compile(
    r"^(is|are|can|could|does|do|did|should|will|would|was|were|has|have|had|may|might|"
    r"must|shall|isn't|aren't|doesn't|don't|won't|can't)\b",
    re.IGNORECASE,
)


def _number(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBER_WORDS[word.lower()]


def _clamp(value: int, top: int) -> int:
    return max(1, min(value, top))


def _json_keys(prompt: str) -> tuple[str, ...]:
    """Keys a JSON request names: quoted identifiers, or the list after "keys"/"fields"."""
    quoted = re.findall(r"[\"'`]([A-Za-z_][A-Za-z0-9_]{0,40})[\"'`]", prompt)
    if quoted:
        return tuple(dict.fromkeys(quoted))
    match = re.search(
        r"\b(?:keys?|fields?|properties|attributes|columns)\b\s*(?:called|named|for|:)?\s*"
        r"([A-Za-z_]\w*(?:\s*(?:,|\band\b|&|\bor\b)\s*(?:and\s+)?[A-Za-z_]\w*)*)",
        prompt,
        re.IGNORECASE,
    )
    if not match:
        return ()
    names = re.split(r"\s*(?:,|\band\b|&|\bor\b)\s*", match.group(1))
    return tuple(dict.fromkeys(name for name in names if name and name.lower() != "the"))


def _after_colon(prompt: str) -> str:
    _head, colon, rest = prompt.partition(":")
    if colon and rest.strip():
        return rest.strip()
    _head, newline, rest = prompt.partition("\n")
    return rest.strip() if newline else ""


def _json_form(text: str, low: str) -> Form | None:
    if not re.search(r"\bjson\b", low):
        return None
    many = re.search(r"\b(?:list|array) of " + _NUM + r"\b", low)
    items = _clamp(_number(many.group(1)), _MAX_ITEMS) if many else None
    return Form("json", items, keys=_json_keys(text))


def _count_form(text: str, low: str) -> Form | None:
    if match := re.search(r"\bcount(?:ing)? down from (\d{1,4})(?: to (\d{1,4}))?", low):
        return Form("count", body=f"{int(match.group(1))} {int(match.group(2) or 1)}")
    match = re.search(
        r"\b(?:count|numbers?|list the numbers)\b(?: (?:up|upwards|aloud))?"
        r"(?: from (\d{1,4}))?(?: (?:to|through|until|up to) (\d{1,4}|ten|twenty|five))\b",
        low,
    )
    if match is None:
        return None
    start = int(match.group(1) or 1)
    end = _number(match.group(2))
    end = min(end, start + _MAX_COUNT) if end >= start else max(end, start - _MAX_COUNT)
    return Form("count", body=f"{start} {end}")


def _text_work_form(text: str, low: str) -> Form | None:
    """Translating or summarising a given text."""
    languages = "|".join(_LANGUAGES)
    if match := re.search(r"\btranslate\b(.*?)\b(?:in)?to (" + languages + r")\b", low):
        span = text[match.start(1) : match.end(1)].strip(" :\"'")
        return Form("translate", language=match.group(2), body=span or _after_colon(text))
    if match := re.search(r"\b(?:say|is|are) (.+?) in (" + languages + r")\s*[?.!]?\s*$", low):
        span = text[match.start(1) : match.end(1)].strip(" \"'")
        return Form("translate", language=match.group(2), body=span)
    if re.search(r"^\s*(?:summari[sz]e|sum up|tl;?dr)\b", low) and _after_colon(text):
        one = 1 if re.search(r"\b(one|single) sentence|\bbriefly\b", low) else None
        return Form("summary", one, body=_after_colon(text))
    return None


def _verse_form(text: str, low: str) -> Form | None:
    if "haiku" in low:
        return Form("haiku", 3)
    if re.search(r"\blimerick\b", low):
        return Form("poem", 5)
    if match := re.search(r"\b" + _NUM + r"[- ](?:line|verse)s?\b", low):
        kind: FormKind = "poem" if re.search(r"\b(poem|verse|rhyme)", low) else "lines"
        return Form(kind, _clamp(_number(match.group(1)), _MAX_ITEMS))
    if re.search(r"\b(poem|verses?|rhyme|sonnet|ode)\b", low):
        return Form("poem", 14 if "sonnet" in low else None)
    return None


def _length_form(text: str, low: str) -> Form | None:
    """A number of words or sentences."""
    if match := re.search(_LEAD + _NUM + r"(?: words?\b|-word\b)|\b" + _NUM + r"-words?\b", low):
        at_most = re.search(r"\b(or (?:less|fewer)|at most|no more than|under|max(?:imum)?)\b", low)
        count = _number(match.group(1) or match.group(2))
        return Form("words", _clamp(count, _MAX_WORDS), at_most=bool(at_most))
    if re.search(r"\bone[- ]word\b", low):
        return Form("words", 1)
    if match := re.search(_LEAD + _NUM + r"(?: short| full| simple)? sentences?\b", low):
        return Form("sentences", _clamp(_number(match.group(1)), _MAX_ITEMS))
    if re.search(
        r"\b(?:one|single)[- ]sentence\b|\bin a sentence\b|\bname (one|an?|single) \w+", low
    ):
        return Form("sentences", 1)
    return None


_MAX_PARAGRAPHS = 20


def _paragraphs_form(text: str, low: str) -> Form | None:
    """N paragraphs, or an essay (five paragraphs, the school default)."""
    if match := re.search(r"\b" + _NUM + r"(?: short| long)? paragraphs?\b", low):
        return Form("paragraphs", _clamp(_number(match.group(1)), _MAX_PARAGRAPHS))
    if re.search(r"\b(essay|article)\b", low):
        return Form("paragraphs", 5)
    return None


def _list_form(text: str, low: str) -> Form | None:
    bullets = bool(re.search(r"\bbullet", low))
    match = re.search(
        r"\b(?:top |list |name |give me |give |suggest |provide )?" + _NUM
        + r"(?: [a-z-]+){0,2}? " + _ITEM_NOUNS + r"\b", low,
    )  # fmt: skip
    if match:
        count = _number(match.group(1))
        if count > 1 or bullets or re.search(r"\blist\b", low):
            return Form("list", _clamp(count, _MAX_ITEMS), bullets=bullets)
    if bullets or re.search(r"^\s*(?:list|enumerate)\b|\ba list of\b", low):
        return Form("list", None, bullets=bullets)
    return None


def _genre_form(text: str, low: str) -> Form | None:
    """A story, a joke, or a yes/no question."""
    if re.search(r"\b(story|tale|fable)\b", low):
        return Form("story")
    if re.search(r"\bjokes?\b|\bpun\b", low):
        return Form("joke")
    if _YES_NO_START.match(low) and low.rstrip().endswith("?"):
        return Form("yes_no")
    return None


# In order: "a haiku as JSON" is JSON, "summarise in one sentence: ..." a summary.
_RULES = (_json_form, _count_form, _text_work_form, _verse_form, _length_form, _paragraphs_form,
          _list_form, _genre_form)  # fmt: skip


def requested_form(prompt: str) -> Form:
    """The form ``prompt`` asks for; ``FREE`` when it asks for none."""
    return _requested_form(prompt[:4000])


@lru_cache(maxsize=512)  # the course sends the same few prompts again and again
def _requested_form(prompt: str) -> Form:
    text = " ".join(_SECRET.sub("[key removed]", prompt).split())  # never echo a key
    low = text.lower()
    for rule in _RULES:
        form = rule(text, low)
        if form is not None:
            return form
    return FREE


def system_form(system: str | None) -> Form:
    """The form a system prompt asks for: its explicit form, or one sentence for "be brief"."""
    if not system:
        return FREE
    form = requested_form(system)
    if form.kind in ("sentences", "words", "list", "json", "haiku", "poem"):
        return form
    steer = system.lower()
    if any(cue in steer for cue in _SHORT_CUES):
        return Form("sentences", 1)
    return FREE


_SHORT_CUES = ("brief", "concise", "short", "terse", "few words", "succinct")

# --- the topic ---------------------------------------------------------------------------------

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
    brief simply points point two three four five six seven eight nine ten eleven twelve
    twenty single couple haiku haikus poem poems verse verses rhyme rhyming limerick sonnet
    json object objects array keys key fields field properties format formatted respond reply
    return output translate translation french spanish german italian portuguese dutch
    japanese count counting numbers number items item tips reasons ways facts ideas steps
    top name names suggest containing contains story tale fable less fewer most least max
    maximum minimum depend depends depending affect affects happen happens cause causes relate
    related differ differs matter matters become becomes learn understand benefit benefits
    advantage advantages disadvantages drawbacks uses features options rules mistakes strategies
    techniques pros cons differences similarities causes effects principles practices challenges
    risks alternatives methods types kinds some several joke jokes pun funny essay essays
    article articles long longer
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def content_phrases(prompt: str) -> list[str]:
    """Distinct content words of ``prompt`` in order (a fresh list: callers may change it)."""
    return list(_content_phrases(prompt[:_MAX_PROMPT_CHARS]))


@lru_cache(maxsize=512)
def _content_phrases(prompt: str) -> tuple[str, ...]:
    """Distinct content words of ``prompt`` in order, credential-like tokens removed.

    Content words that directly follow each other ("machine learning", "Roman Empire") stay
    together as one phrase of up to three words.
    """
    text = _SECRET.sub(" ", prompt)
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
    return tuple(" ".join(phrase) for phrase in phrases)
