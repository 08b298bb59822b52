"""The answer book: hand-written answers to the prompts the course itself sends.

Matched after normalising case, punctuation and spacing. Each entry says the form of its texts, so
"Write a haiku about programming" gets the book's haiku while "Explain quantum computing in three
bullet points" (the quantum entry is prose) is left to the generator, which follows the form.

>>> find_entry("  What's the CAPITAL of france??").canonical
'The capital of France is Paris.'
>>> find_entry("Write a haiku about the sea") is None
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from course_helpers.fake.answer_forms import FREE, Form

__all__ = ["BOOK", "Entry", "find_entry", "normalise"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One book answer: when it applies, its canonical text, its variants and its short form."""

    exact: frozenset[str]  # normalised prompts that match as a whole
    contains: tuple[tuple[str, ...], ...]  # any group whose phrases all occur (word prefixes)
    canonical: str
    variants: tuple[str, ...]
    short: str | None = None  # the brief form; defaults to the first sentence
    form: Form = FREE  # the form of its texts: a prompt asking for another form is generated
    sampled: bool = False  # the rng picks a variant even when deterministic (a seed's sample)


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

BOOK: tuple[Entry, ...] = (
    Entry(
        exact=frozenset(),
        contains=(("haiku", "program"), ("haiku", "code"), ("haiku", "coding")),
        canonical=(
            "Lines of logic flow,\nbugs hide in the silent loops,\ntests bring morning light."
        ),
        variants=(
            "Keys click through the night,\na missing semicolon,\ndawn compiles at last.",
            "Functions call their friends,\nvariables hold their breath,\nthe program runs free.",
            "Silent cursor blinks,\nour thoughts become instructions,\nthe machine listens.",
        ),
        form=Form("haiku", 3),
    ),
    Entry(
        exact=frozenset(),
        contains=(("haiku", "api"), ("haiku", "interface")),
        canonical="Requests cross the wire,\na quiet server answers,\nJSON comes back home.",
        variants=(
            "Endpoints wait in line,\nstatus two hundred arrives,\nthe contract holds true.",
            "A key opens doors,\nrate limits whisper slow down,\nretry, then succeed.",
            "One call, one reply,\nheaders carry what was meant,\nsystems shake hands well.",
        ),
        form=Form("haiku", 3),
    ),
    Entry(
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
    Entry(
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
    Entry(
        contains=(
            ("joke", "program"),
            ("joke", "code"),
            ("joke", "coding"),
            ("joke", "developer"),
            ("joke", "computer"),
            ("make me laugh",),
            ("something funny",),
        ),
        exact=frozenset(
            {"tell me a joke", "tell a joke", "joke", "tell me a funny joke", "a joke please"}
        ),
        canonical=("Why do programmers prefer dark mode? Because light attracts bugs."),
        form=Form("joke"),
        variants=(
            "Why did the developer go broke? Because he used up all his cache.",
            "How many programmers does it take to change a light bulb? None, that's a hardware "
            "problem.",
            'I told my computer I needed a break, and it said: "No problem, I\'ll go to sleep."',
            "Why was the JSON file so calm? Because it had no unresolved issues, only key-value "
            "pairs.",
        ),
    ),
    Entry(
        exact=frozenset(
            {"count from 1 to 10", "count to 10", "count to ten", "count from one to ten"}
        ),
        contains=(),
        canonical="1, 2, 3, 4, 5, 6, 7, 8, 9, 10",
        variants=(
            "1, 2, 3, 4, 5, 6, 7, 8, 9, 10.",
            "Sure! 1, 2, 3, 4, 5, 6, 7, 8, 9, 10",
            "1\n2\n3\n4\n5\n6\n7\n8\n9\n10",
        ),
        short="1, 2, 3, 4, 5, 6, 7, 8, 9, 10",
        form=Form("count", body="1 10"),
    ),
    Entry(
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
    Entry(
        exact=frozenset(),
        contains=(("2 plus 2",), ("two plus two",)),
        canonical="2 + 2 = 4.",
        variants=("2 + 2 equals 4.", "The answer is 4.", "4"),
        short="4",
    ),
    Entry(
        exact=frozenset(),
        contains=(("stream", "one benefit"), ("stream", "one advantage"), ("stream", "one reason")),
        canonical=(
            "One benefit is speed as the user feels it: the first words appear within a fraction "
            "of a second instead of after the whole answer has been generated."
        ),
        variants=(
            "Streaming cuts the time to the first token, so users start reading almost at once "
            "instead of staring at a blank screen.",
            "One benefit is that a user can stop an answer that is going the wrong way as soon "
            "as it starts, instead of paying for the whole of it.",
        ),
        form=Form("sentences", 1),
    ),
    Entry(
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
    Entry(
        exact=frozenset(),
        contains=(("story", "robot"),),
        canonical=_STORY,
        variants=(_STORY_2, _STORY_3),
        short="A lonely robot tidied an inventor's workshop and learned that purpose is shared.",
        form=Form("story"),
    ),
    Entry(
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
        form=Form("list", 3),
    ),
    Entry(
        exact=frozenset(),
        contains=(("hello", "french"), ("hello", "in french")),
        canonical="'Hello' in French is 'Bonjour'.",
        variants=(
            "In French, 'hello' is 'Bonjour'.",
            "'Bonjour' is the usual French for 'hello'; among friends you can also say 'Salut'.",
            "The French word for 'hello' is 'Bonjour'.",
        ),
        short="Bonjour",
        form=Form("translate", language="french", body="hello"),
    ),
    Entry(
        exact=frozenset(),
        contains=(("api integration",),),
        canonical=(
            "API integration is connecting your application to another service through its API, "
            "so your code can send it requests and use the data or actions it returns."
        ),
        variants=(
            "API integration means wiring your software to an external service's API so that "
            "the two exchange requests and responses automatically.",
            "API integration is the work of making your application call another system's API, "
            "handle its responses and errors, and use the results in your own features.",
            "API integration lets one program use another's capabilities, such as a language "
            "model, by sending it structured requests over HTTP and processing the replies.",
        ),
        form=Form("sentences", 1),
    ),
    Entry(
        exact=frozenset(
            {"write a short poem", "write a poem", "write me a short poem", "write me a poem"}
        ),
        contains=(),
        canonical=(
            "Morning light on window glass,\n"
            "soft footsteps as the hours pass;\n"
            "a kettle sings, a page is turned,\n"
            "and quiet joys are slowly learned."
        ),
        variants=(
            "The river bends but does not break,\n"
            "it carries what the mountains make;\n"
            "and so we bend through joy and pain,\n"
            "and find the sea, and rise as rain.",
            "A lamp is lit, the evening falls,\n"
            "the clock keeps time along the walls;\n"
            "the world grows still, the stars come through,\n"
            "and every ending starts anew.",
            "Small seeds wait beneath the snow,\n"
            "they do not hurry, yet they grow;\n"
            "so give your plans a patient hour:\n"
            "what waits in silence turns to flower.",
        ),
        short="Morning light on window glass, soft footsteps as the hours pass.",
        form=Form("poem"),
    ),
    Entry(
        exact=frozenset({"write a haiku", "write me a haiku", "a haiku", "haiku"}),
        contains=(),
        canonical=(
            "Autumn moonlight falls,\na cricket sings in the grass,\nthe night holds its breath."
        ),
        variants=(
            "Cherry blossoms fall,\nthe river carries them home,\nspring lets go softly.",
            "Morning mist rises,\na heron stands in the reeds,\nthe world waits, then wakes.",
            "Snow on the mountain,\nsmoke curls from a single hut,\nwarm tea in cold hands.",
        ),
        form=Form("haiku", 3),
    ),
    Entry(
        exact=frozenset(),
        contains=(("morning routine",),),
        canonical=(
            "Wake up without your phone, drink a glass of water, move for ten minutes, then plan "
            "the day's most important coding task before you open email or chat."
        ),
        variants=(
            "A good morning routine for a programmer is a short walk, a real breakfast and "
            "thirty minutes on the hardest problem before any meeting starts.",
            "Start with light exercise and coffee, review yesterday's notes and open pull "
            "requests, then block two hours of deep work with notifications off.",
            "Get some daylight, stretch, write down the one thing you must ship today, and "
            "tackle it while your mind is fresh, leaving messages for later.",
        ),
        form=Form("sentences", 1),
        sampled=True,  # notebook 01's seed demo: another seed, another sample
    ),
    Entry(
        exact=frozenset(),
        contains=(("exponential backoff",), ("backoff",)),
        canonical=(
            "Exponential backoff is a retry strategy: after a failed request you wait before "
            "trying again, and you double the wait after each further failure, for example 1, "
            "2, 4 and 8 seconds. Adding random jitter to each wait keeps many clients from "
            "retrying at the same moment. The growing pauses give an overloaded or rate-limited "
            "API time to recover instead of hammering it. Retry only errors that can succeed "
            "later, such as 429 and 5xx responses, and give up after a few attempts."
        ),
        variants=(
            "With exponential backoff, a client that gets a retryable error waits a short time, "
            "then twice as long after the next failure, then twice as long again. The waits "
            "grow quickly, so a struggling API gets room to recover, and a random jitter "
            "spreads the retries of many clients apart. Cap the number of attempts and the "
            "longest wait, and honour a retry-after header when the API sends one.",
            "Exponential backoff means retrying a failed API call after delays that double each "
            "time, such as 1, 2 and 4 seconds. It avoids flooding a service that is already "
            "rate limiting or failing. In practice you add jitter, retry only 429s, timeouts "
            "and 5xx errors, and stop after a small number of attempts.",
        ),
    ),
    Entry(
        exact=frozenset(),
        contains=(("reason", "429"),),
        canonical=(
            "One reason is that you sent more requests or tokens per minute than your rate "
            "limit allows, so the API asks you to slow down and try again later."
        ),
        variants=(
            "An API answers 429 when your client has exceeded its rate limit, for example too "
            "many requests in the last minute.",
            "A common reason is that your account's quota or credit is used up, which waiting "
            "alone will not fix.",
        ),
        form=Form("sentences", 1),
    ),
    Entry(
        exact=frozenset(),
        contains=(("reason", "503"),),
        canonical=(
            "One reason is that the service is temporarily overloaded or down for maintenance, "
            "so it cannot take the request now and you should retry after a short wait."
        ),
        variants=(
            "An API answers 503 when its servers are overloaded and shed load until demand drops.",
            "A 503 often means the service is briefly unavailable during a deployment or an "
            "outage, so a later retry is likely to succeed.",
        ),
        form=Form("sentences", 1),
    ),
    Entry(
        exact=frozenset(),
        contains=(("429",),),
        canonical=(
            "HTTP 429 Too Many Requests means you have hit a rate limit: the client sent too "
            "many requests or tokens in a given time window. The response often carries a "
            "retry-after header that says how long to wait. For LLM APIs a 429 can also mean "
            "that your quota or credit is exhausted, which waiting will not fix."
        ),
        variants=(
            "A 429 status means Too Many Requests: you went over the API's rate limit. Wait "
            "for the time the retry-after header gives, or back off exponentially, then retry. "
            "If the error says your quota is exhausted, retrying will not help.",
        ),
    ),
    Entry(
        exact=frozenset(),
        contains=(("token bucket",),),
        canonical=(
            "A token bucket is a rate-limiting algorithm: a bucket holds up to a fixed number of "
            "tokens and refills at a steady rate, and each request takes a token (or several) "
            "before it may go. When the bucket is empty, requests wait or are rejected. It "
            "allows short bursts up to the bucket's size while keeping the average rate at the "
            "refill rate."
        ),
        variants=(
            "A token bucket limits a rate by handing out tokens: they drip into a bucket at a "
            "fixed rate, up to its capacity, and every request must take one to proceed. An "
            "idle client saves up tokens for a burst, but over time it can never exceed the "
            "refill rate.",
        ),
    ),
    Entry(
        exact=frozenset(),
        contains=(("jitter",),),
        canonical=(
            "Jitter adds a random amount to each retry delay so that clients which failed at the "
            "same moment do not all retry at the same moment. Without it, synchronised retries "
            "arrive in waves and can overload the service again, the so-called thundering herd. "
            "With jitter the retries spread out and the service recovers sooner."
        ),
        variants=(
            "If every client backs off by exactly 1, 2 and 4 seconds, they all come back "
            "together and hit the API in bursts. Jitter randomises the delays, which spreads "
            "the retries out and gives the service a steady, manageable load.",
        ),
    ),
    Entry(
        exact=frozenset(),
        contains=(("context window",),),
        canonical=(
            "A context window is the maximum number of tokens a model can take into account at "
            "once: the prompt, the conversation history and the answer it generates, together. "
            "Anything beyond it must be cut, summarised or left out. Larger windows let you send "
            "longer documents, but every token still costs money and time."
        ),
        variants=(
            "The context window is a model's working memory, measured in tokens: everything you "
            "send plus everything it writes back must fit inside it. A request that does not fit "
            "is rejected, so long chats are trimmed or summarised.",
        ),
    ),
    Entry(
        exact=frozenset(),
        contains=(
            ("what is a rate limit",),
            ("what s a rate limit",),
            ("what are rate limits",),
            ("define", "rate limit"),
        ),
        canonical=(
            "A rate limit is a cap on how much you may use an API in a period of time, such as "
            "requests per minute or tokens per minute. When you exceed it, the API answers with "
            "HTTP 429 until the window resets. Providers use rate limits to share capacity "
            "fairly and to protect their service from overload."
        ),
        variants=(
            "A rate limit restricts how many requests, or how many tokens, a client may send in "
            "a given time. Go over it and the API refuses further calls with a 429 for a while, "
            "so well-behaved clients pace themselves and retry with backoff.",
        ),
    ),
    Entry(
        exact=frozenset(),
        contains=(("summar", "rate limits protect a shared service"),),
        canonical=(
            "Rate limits protect a shared service by keeping any single client from using more "
            "than its fair share."
        ),
        variants=(
            "Rate limits stop one client from overwhelming a service that everyone shares.",
            "By capping each client, rate limits keep a shared service available to all.",
        ),
        form=Form("summary", 1),
    ),
    Entry(
        exact=frozenset(),
        contains=(("summar", "limits protect a shared service"),),
        canonical=(
            "Limits protect a shared service: they stop any one client from taking more than "
            "its share, so everyone else keeps getting answers."
        ),
        variants=(
            "The text says one thing, many times over: limits keep a shared service safe from "
            "any single heavy user.",
        ),
        form=Form("summary"),
    ),
    # The prompts of the openai and anthropic SDKs' READMEs: the first code a learner copies.
    Entry(
        exact=frozenset(),
        contains=(("instance of a class",), ("instance of", "python")),
        canonical=(
            "Use the built-in isinstance(): isinstance(obj, MyClass) is True when obj is an "
            "instance of MyClass or of one of its subclasses. Pass a tuple to accept several "
            "classes, as in isinstance(obj, (int, float)). To require the exact class and not "
            "a subclass, compare type(obj) is MyClass."
        ),
        variants=(
            "Call isinstance(obj, SomeClass): it returns True if obj is an instance of "
            "SomeClass or of a subclass. If a subclass must not count, test type(obj) is "
            "SomeClass instead.",
        ),
    ),
    Entry(
        exact=frozenset(),
        contains=(("disestablishmentarianism",),),
        canonical=(
            "A long time ago, some countries had one official church, and the government "
            "helped run it and pay for it. Disestablishmentarianism is the idea that the "
            "government and that church should stop being tied together, so the church looks "
            "after itself and the country has no official church. People who wanted to keep "
            "the official church were against that idea."
        ),
        variants=(
            "Imagine your school had one club that the head teacher paid for and everyone had "
            "to belong to. Disestablishmentarianism is saying the school should stop running "
            "that club: it can carry on by itself, but it is no longer the official one. "
            "That is what some people wanted for churches that governments ran.",
        ),
    ),
    Entry(
        exact=frozenset(),
        contains=(("bedtime story", "unicorn"),),
        canonical=(
            "As the moon rose over the sleepy meadow, a little unicorn named Luna tucked her "
            "silver horn beneath a blanket of clover and dreamed of galloping across the "
            "rainbow that would greet her in the morning."
        ),
        variants=(
            "Under a sky full of sleepy stars, a tiny unicorn curled up beside the whispering "
            "river and fell asleep with a smile, knowing her friends the fireflies would keep "
            "watch until dawn.",
        ),
        form=Form("sentences", count=1),
    ),
    Entry(
        exact=frozenset(),
        contains=(("current day", "javascript"), ("day of the week", "javascript")),
        canonical=(
            "Use toLocaleDateString with the weekday option: "
            "new Date().toLocaleDateString('en-US', { weekday: 'long' }) returns the name, "
            "such as 'Monday'. new Date().getDay() gives the number instead, 0 for Sunday "
            "to 6 for Saturday."
        ),
        variants=(
            "const day = new Date().toLocaleDateString(undefined, { weekday: 'long' }); gives "
            "today's name in the user's language. For a number, use new Date().getDay(), where "
            "0 is Sunday.",
        ),
    ),
    Entry(
        exact=frozenset(),
        contains=(("files in a directory", "python"),),
        canonical=(
            "Use pathlib: [p for p in Path('some/dir').iterdir() if p.is_file()] lists the files "
            "directly inside a directory, and Path('some/dir').rglob('*') walks every "
            "subdirectory too. os.listdir('some/dir') returns the bare names if that is all "
            "you need."
        ),
        variants=(
            "from pathlib import Path, then for path in Path('.').iterdir(): print(path) prints "
            "everything in the current directory; add if path.is_file() to keep only files, or "
            "use Path('.').rglob('*') to include subdirectories.",
        ),
    ),
    Entry(
        exact=frozenset({"say this is a test", "this is a test"}),
        contains=(),
        canonical="This is a test.",
        variants=("This is a test!", "Sure: this is a test.", "This is a test."),
    ),
    Entry(
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
                "hello claude",
                "hi claude",
                "hey claude",
                "hello chatgpt",
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


_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalise(text: str) -> str:
    """Lower-case, ``+`` spelt out, punctuation and runs of whitespace reduced to single spaces."""
    text = text.lower().replace("\u2019", "'").replace("+", " plus ")
    return _NON_WORD.sub(" ", text).strip()


def find_entry(prompt: str) -> Entry | None:
    """The book entry for ``prompt``, if any (phrases match at the start of a word)."""
    return _find_entry(prompt[:_MAX_PROMPT_CHARS])


_MAX_PROMPT_CHARS = 20_000  # a book prompt is short; keeps the cache small


@lru_cache(maxsize=512)  # the course sends the same few prompts again and again
def _find_entry(prompt: str) -> Entry | None:
    norm = normalise(prompt)
    padded = f" {norm} "
    for entry in BOOK:
        if norm in entry.exact:
            return entry
        for group in entry.contains:
            if all(f" {phrase}" in padded for phrase in group):
                return entry
    return _capital_entry(norm)


# The edit a learner makes first to "What is the capital of France?".
_CAPITALS = {
    "germany": "Berlin", "italy": "Rome", "spain": "Madrid", "portugal": "Lisbon",
    "japan": "Tokyo", "china": "Beijing", "india": "New Delhi", "canada": "Ottawa",
    "australia": "Canberra", "brazil": "Brasília", "mexico": "Mexico City",
    "the united kingdom": "London", "the uk": "London", "england": "London",
    "the united states": "Washington, D.C.", "the usa": "Washington, D.C.",
    "the us": "Washington, D.C.", "russia": "Moscow", "egypt": "Cairo", "kenya": "Nairobi",
    "nigeria": "Abuja", "south africa": "Pretoria", "argentina": "Buenos Aires",
    "sweden": "Stockholm", "norway": "Oslo", "finland": "Helsinki", "denmark": "Copenhagen",
    "poland": "Warsaw", "greece": "Athens", "turkey": "Ankara", "ireland": "Dublin",
    "the netherlands": "Amsterdam", "belgium": "Brussels", "switzerland": "Bern",
    "austria": "Vienna", "south korea": "Seoul", "vietnam": "Hanoi", "thailand": "Bangkok",
    "indonesia": "Jakarta", "new zealand": "Wellington", "peru": "Lima", "chile": "Santiago",
}  # fmt: skip
_CAPITAL_OF = re.compile(r"\bcapital (?:city )?of ((?:the )?[a-z]+(?: [a-z]+)?)")


def _capital_entry(norm: str) -> Entry | None:
    """A book entry for "the capital of <country>", for the countries in ``_CAPITALS``."""
    match = _CAPITAL_OF.search(norm)
    if match is None:
        return None
    words = match.group(1).split()
    for size in (2, 1):  # "south korea" before "south"
        country = " ".join(words[:size])
        if country in _CAPITALS:
            city = _CAPITALS[country]
            name = " ".join(_display(word) for word in country.split())
            return Entry(
                exact=frozenset(),
                contains=(),
                canonical=f"The capital of {name} is {city}.",
                variants=(f"{city} is the capital of {name}.",),
                short=f"{city}.",
            )
    return None


def _display(word: str) -> str:
    return word if word == "the" else word.upper() if word in ("uk", "us", "usa") else word.title()
