# %% [markdown]
# # 03 · Streaming: show the answer while it is being written
#
# What you'll learn:
#
# 1. **why** streaming matters: the *perceived* latency of an answer,
# 2. OpenAI's raw stream (chunks, deltas, the finish chunk) and the **usage-only chunk** that
#    breaks the most copied streaming loop on the internet,
# 3. OpenAI's `stream()` helper, Anthropic's raw **events** and its `messages.stream()` helper,
# 4. the async versions with `AsyncOpenAI` and `AsyncAnthropic`,
# 5. how to **measure** time to first token against total time, and plot it,
# 6. a live view of a stream in the notebook,
# 7. what happens when a stream **fails half-way**, and
# 8. the architecture of a real streaming app: browser → your server → LLM API, with a log.

# %%
from course_helpers import setup

course = setup()

# %% [markdown]
# ## 1. Why stream?
#
# A model writes its answer one token at a time, typically 30–100 tokens per second after a first
# pause of a few hundred milliseconds. A 500-token answer therefore takes 5–15 seconds. Without
# streaming, the user stares at a spinner for all of it. With streaming, the first words appear
# after that first pause, the **time to first token** (TTFT), and the user reads while the model
# writes.
#
# Streaming does not make the answer faster: the **total time** stays the same. It makes the wait
# *feel* shorter, and it lets the user stop an answer that is going the wrong way. Section 5
# measures both times.

# %% [markdown]
# ## 2. OpenAI: the raw stream
#
# `stream=True` turns the response into an iterator of **chunks**. Each chunk carries a small
# `delta` of the message: the first says who is speaking (`role`), the next ones carry a few
# characters of `content`, and the last one carries only the `finish_reason`.

# %%
from openai import OpenAI

client = OpenAI()

stream = client.chat.completions.create(
    model="gpt-5.4-mini",
    messages=[{"role": "user", "content": "Count from 1 to 10"}],
    stream=True,
)
chunks = list(stream)
print(len(chunks), "chunks, all with the same id:", len({chunk.id for chunk in chunks}) == 1)
for chunk in [*chunks[:3], chunks[-1]]:
    choice = chunk.choices[0]
    delta = choice.delta
    finish = choice.finish_reason
    print(f"role={delta.role!r:<12} content={delta.content!r:<6} finish_reason={finish!r}")

# %% [markdown]
# The full answer is the concatenation of the deltas. Note the `or ""`: the first and last deltas
# have no content.

# %%
answer = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
print(answer)

# %% [markdown]
# ### The module's streaming loop
#
# The module's Python loop prints each piece as it arrives. `flush=True` matters: `print` buffers
# its output until a newline, and a stream's pieces carry none, so without it the text can appear
# in bursts instead of piece by piece.

# %%
stream = client.chat.completions.create(
    model="gpt-4o",
    messages=[{"role": "user", "content": "Write a short poem"}],
    stream=True
)

for chunk in stream:
    if chunk.choices[0].delta.content:
        print(chunk.choices[0].delta.content, end="", flush=True)

# %% [markdown]
# It is right as written: the `if` skips the first and last chunks, whose `content` is empty. It
# has one trap, which the next section shows: it indexes `chunk.choices[0]` unconditionally.

# %% [markdown]
# ### Token usage in a stream, and the chunk with no choices
#
# A streamed response does not report token usage unless you ask for it with
# `stream_options={"include_usage": True}`. Then OpenAI sends **one extra chunk at the end whose
# `choices` list is empty** and whose `usage` is filled in.

# %%
stream = client.chat.completions.create(
    model="gpt-5.4-mini",
    messages=[{"role": "user", "content": "Count from 1 to 10"}],
    stream=True,
    stream_options={"include_usage": True},
)
chunks = list(stream)
last = chunks[-1]
print("last chunk's choices:", last.choices)
print(f"last chunk's usage:   {last.usage.prompt_tokens} in + {last.usage.completion_tokens} out")

# %% [markdown]
# That empty list breaks the loop that most tutorials print, `chunk.choices[0].delta.content`,
# as soon as usage is switched on. The next cell fails **on purpose**: look at the last line of the
# traceback. The text arrived fine; the loop dies on the usage chunk.

# %% tags=["raises-exception"]
stream = client.chat.completions.create(
    model="gpt-5.4-mini",
    messages=[{"role": "user", "content": "Count from 1 to 10"}],
    stream=True,
    stream_options={"include_usage": True},
)
for chunk in stream:
    print(chunk.choices[0].delta.content or "", end="")

# %% [markdown]
# The fix: check `chunk.choices` before indexing it, and read `chunk.usage` where it is set.

# %%
stream = client.chat.completions.create(
    model="gpt-5.4-mini",
    messages=[{"role": "user", "content": "Count from 1 to 10"}],
    stream=True,
    stream_options={"include_usage": True},
)
usage = None
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        print(chunk.choices[0].delta.content, end="")
    if chunk.usage:
        usage = chunk.usage
print("\nusage:", usage.prompt_tokens, "in +", usage.completion_tokens, "out")

# %% [markdown]
# ### The module's loop in Node.js
#
# The module's Node.js loop, run as it prints it by `%%node` (from `course_helpers.node_magic`, see
# notebook 01; offline it starts a simulated provider for the cell):

# %%
# %load_ext course_helpers.node_magic

# %% language="node"
# import OpenAI from 'openai';
#
# const client = new OpenAI({ apiKey: process.env.OPENAI_API_KEY });
#
# const stream = await client.chat.completions.create({
#     model: "gpt-4o",
#     messages: [{ role: "user", content: "Write a short poem" }],
#     stream: true
# });
#
# for await (const chunk of stream) {
#     const content = chunk.choices[0]?.delta?.content || '';
#     process.stdout.write(content);
# }

# %% [markdown]
# Its optional chaining, `chunk.choices[0]?.delta?.content`, is safer than the Python loop: with
# `include_usage` on, the usage chunk's empty `choices` gives `undefined`, not an error. The same
# loop with usage switched on, and the usage read where it arrives:

# %% language="node"
# import OpenAI from 'openai';
#
# const client = new OpenAI({ apiKey: process.env.OPENAI_API_KEY });
#
# const stream = await client.chat.completions.create({
#     model: "gpt-4o",
#     messages: [{ role: "user", content: "Count from 1 to 10" }],
#     stream: true,
#     stream_options: { include_usage: true }
# });
#
# for await (const chunk of stream) {
#     const content = chunk.choices[0]?.delta?.content || '';
#     process.stdout.write(content);
#     if (chunk.usage) console.log("\nusage:", chunk.usage.prompt_tokens, "in +", chunk.usage.completion_tokens, "out");
# }

# %% [markdown]
# ### OpenAI's `stream()` helper
#
# `client.chat.completions.stream(...)` wraps the raw stream: it yields typed **events**
# (`content.delta` with the new text, `content.done` with the whole text, and the raw `chunk`s),
# copes with the usage chunk, and assembles the final completion for you.

# %%
from collections import Counter

with client.chat.completions.stream(
    model="gpt-5.4-mini",
    messages=[{"role": "user", "content": "Why should I stream LLM responses?"}],
    stream_options={"include_usage": True},
) as stream:
    event_types = Counter(event.type for event in stream)
    completion = stream.get_final_completion()

print("events:", ", ".join(f"{name} × {count}" for name, count in event_types.items()))
print("usage: ", completion.usage.prompt_tokens, "in +", completion.usage.completion_tokens, "out")
print(completion.choices[0].message.content)

# %% [markdown]
# ## 3. Anthropic: a stream of named events
#
# Anthropic's stream is more structured. Each Server-Sent Event has a **type**, in a fixed order:
#
# | event | carries |
# |---|---|
# | `message_start` | the message shell: id, model, input token usage |
# | `content_block_start` | a new content block (text, tool use, thinking) begins |
# | `content_block_delta` | a piece of that block (`text_delta` for text) |
# | `content_block_stop` | the block is complete |
# | `message_delta` | the `stop_reason` and the **output** token usage |
# | `message_stop` | the end |
#
# With `stream=True`, `messages.create` yields these events one by one:

# %%
from itertools import groupby

from anthropic import Anthropic

claude = Anthropic()

events = list(
    claude.messages.create(
        model="claude-haiku-5-5",
        max_tokens=200,
        messages=[{"role": "user", "content": "Tell me a joke"}],
        stream=True,
    )
)
for event_type, group in groupby(event.type for event in events):
    count = len(list(group))
    print(event_type if count == 1 else f"{event_type} × {count}")

# %% [markdown]
# Usage is split across two events: input tokens in `message_start`, output tokens (and the stop
# reason) in `message_delta`. And the text lives in the deltas of type `text_delta`:

# %%
start, message_delta = events[0], events[-2]
print("input tokens: ", start.message.usage.input_tokens)
print("output tokens:", message_delta.usage.output_tokens)
print("stop_reason:  ", message_delta.delta.stop_reason)
deltas = [e.delta for e in events if e.type == "content_block_delta"]
print("".join(delta.text for delta in deltas if delta.type == "text_delta"))

# %% [markdown]
# On the wire there is one more event: Anthropic sends `ping` events to keep the connection alive,
# and the SDK drops them before you see them. Reading the raw lines shows it:

# %%
with claude.messages.with_streaming_response.create(
    model="claude-haiku-5-5",
    max_tokens=200,
    messages=[{"role": "user", "content": "Tell me a joke"}],
    stream=True,
) as response:
    wire_events = [
        line.removeprefix("event: ") for line in response.iter_lines() if line.startswith("event:")
    ]
print("ping on the wire:  ", "ping" in wire_events)
print("ping from the SDK: ", "ping" in {event.type for event in events})

# %% [markdown]
# ### Anthropic's `messages.stream()` helper
#
# Most of the time you want just the text, then the final message with its usage.
# `messages.stream(...)` gives you `text_stream` (only the text pieces) and `get_final_message()`.
#
# Note: in `anthropic` 2.x, `temperature`, `top_p` and `top_k` are no longer keyword arguments of
# `messages.create` / `messages.stream` (passing them is a `TypeError`, although older tutorials
# do it). Send them in `extra_body`, as below.

# %%
with claude.messages.stream(
    model="claude-haiku-5-5",
    max_tokens=200,
    messages=[{"role": "user", "content": "Why should I stream LLM responses?"}],
    extra_body={"temperature": 0},
) as stream:
    for text in stream.text_stream:
        print(text, end="", flush=True)
    message = stream.get_final_message()

usage = message.usage
print(f"\nstop_reason: {message.stop_reason}")
print(f"usage: {usage.input_tokens} in + {usage.output_tokens} out")

# %% [markdown]
# ### The module's Anthropic streaming, in Python and Node.js
#
# The module streams with this helper too, with its retired model. In Python, the 404 arrives when
# the `with` block opens the stream (`%xmode Minimal`: only the error's type and message, not the
# SDK's frames, for the rest of this notebook):

# %%
# %xmode Minimal

# %% tags=["raises-exception"]
with claude.messages.stream(
    model="claude-3-5-sonnet-20241022",
    max_tokens=1024,
    messages=[{"role": "user", "content": "Write a short poem"}]
) as stream:
    for text in stream.text_stream:
        print(text, end="", flush=True)

# %% [markdown]
# The same with the current model that the 404 names:

# %%
with claude.messages.stream(
    model="claude-sonnet-5-5",
    max_tokens=1024,
    messages=[{"role": "user", "content": "Write a short poem"}]
) as stream:
    for text in stream.text_stream:
        print(text, end="", flush=True)

# %% [markdown]
# The module's Node.js version listens for `text` events and then awaits the final message. With
# the retired model it fails the same way:

# %% tags=["raises-exception"] language="node"
# import Anthropic from '@anthropic-ai/sdk';
#
# const client = new Anthropic({ apiKey: process.env.ANTHROPIC_API_KEY });
#
# const stream = client.messages.stream({
#     model: "claude-3-5-sonnet-20241022",
#     max_tokens: 1024,
#     messages: [{ role: "user", content: "Write a short poem" }]
# });
#
# stream.on('text', (text) => {
#     process.stdout.write(text);
# });
#
# const finalMessage = await stream.finalMessage();

# %% [markdown]
# and works with the current model; `finalMessage` holds the whole message with its usage:

# %% language="node"
# import Anthropic from '@anthropic-ai/sdk';
#
# const client = new Anthropic({ apiKey: process.env.ANTHROPIC_API_KEY });
#
# const stream = client.messages.stream({
#     model: "claude-sonnet-5-5",
#     max_tokens: 1024,
#     messages: [{ role: "user", content: "Write a short poem" }]
# });
#
# stream.on('text', (text) => {
#     process.stdout.write(text);
# });
#
# const finalMessage = await stream.finalMessage();
# console.log("\n" + finalMessage.stop_reason, finalMessage.usage.output_tokens, "tokens out");

# %% [markdown]
# ## 4. Async streaming
#
# A web server handles many users at once, so it streams with the async clients. Jupyter runs an
# event loop for you, so `await` works directly in a cell. Here both providers stream
# **concurrently**:

# %%
import asyncio

from anthropic import AsyncAnthropic
from openai import AsyncOpenAI

async_openai = AsyncOpenAI()
async_claude = AsyncAnthropic()


async def openai_answer(prompt: str) -> str:
    stream = await async_openai.chat.completions.create(
        model="gpt-5.4-mini", messages=[{"role": "user", "content": prompt}], stream=True
    )
    return "".join(
        [chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices]
    )


async def claude_answer(prompt: str) -> str:
    async with async_claude.messages.stream(
        model="claude-haiku-5-5", max_tokens=200, messages=[{"role": "user", "content": prompt}]
    ) as stream:
        return "".join([text async for text in stream.text_stream])


gpt_text, claude_text = await asyncio.gather(
    openai_answer("What is the capital of France?"), claude_answer("What is the capital of France?")
)
print("OpenAI:   ", gpt_text)
print("Anthropic:", claude_text)

# %% [markdown]
# ## 5. Time to first token vs total time
#
# Let's measure both. To make the timing visible (and fast), the next cell opens its own simulated
# provider with a 0.05 s pause before the first token and 5 ms per token. Against the real API the
# same code measures the real thing.
#
# The measurement itself is three lines: note the time before the request, note when each piece
# of text arrives, note the end.

# %%
import time

from course_helpers import FakeProvider

with FakeProvider(ttft=0.05, token_delay=0.005):
    started = time.perf_counter()
    stream = client.chat.completions.create(
        model="gpt-5.4-mini",
        messages=[{"role": "user", "content": "Why should I stream LLM responses?"}],
        stream=True,
    )
    arrivals = []  # seconds from the request to each piece of text
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(time.perf_counter() - started)
    total = time.perf_counter() - started

print(f"time to first token: {arrivals[0]:.3f} s")
print(f"total time:          {total:.3f} s")
print("ttft < total:", arrivals[0] < total)
print("first token within the first fifth of the wait:", arrivals[0] < total / 5)

# %% [markdown]
# Without streaming, the user sees nothing until the dotted green line (the total time). With
# streaming, text appears at the dashed orange line (the time to first token) and keeps coming:

# %%
from course_helpers.display import plot_stream_timing

plot_stream_timing(arrivals, total)

# %% [markdown]
# ## 6. A live view of a stream
#
# `print(..., end="", flush=True)` is fine for a script. In a notebook, `StreamView` (from the
# course's `course_helpers.display`) shows the text growing as it arrives, wrapped between words,
# with a line above it that counts the characters and, from the first token on, the time to first
# token and the speed. Feed it each piece of text as it arrives. When the stream ends, the live area
# makes way for the final view: the whole text, the time to first token, the total time.
#
# It is ordinary HTML output that the cell updates in place, at most every 50 ms, so it appears as
# soon as the cell starts. (Offline, the simulated provider writes about 50 tokens a second after
# a 0.4 s pause; with a key, the real API sets the pace.)

# %%
from course_helpers.display import StreamView

with (
    StreamView("claude-haiku-5-5") as view,
    claude.messages.stream(
        model="claude-haiku-5-5",
        max_tokens=400,
        messages=[{"role": "user", "content": "Write a short story about a robot"}],
    ) as stream,
):
    for text in stream.text_stream:
        view.feed(text)

# %%
print(len(view.text), "characters in", len(view.arrivals), "pieces; finished:", view.done)

# %% [markdown]
# ## 7. When a stream fails half-way
#
# A stream is an HTTP response that has already started with status `200 OK`. If the provider
# fails after that (an overloaded server, a dropped connection), the error arrives **inside** the
# stream. Three things follow:
#
# 1. you get an exception in the middle of your loop,
# 2. the text received so far is still yours (keep it: show it, log it),
# 3. **the SDK does not retry**: its automatic retries only happen before a response starts.
#
# Here the simulated provider fails after 5 tokens:

# %%
import openai

with FakeProvider() as fake:
    fake.fail_next(mid_stream=True, after_tokens=5)
    received = []
    try:
        stream = client.chat.completions.create(
            model="gpt-5.4-mini",
            messages=[{"role": "user", "content": "Why should I stream LLM responses?"}],
            stream=True,
        )
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                received.append(chunk.choices[0].delta.content)
    except openai.APIError as exc:
        print(f"{type(exc).__name__}: {exc.message}")

print("text so far:", repr("".join(received)))
print("requests sent:", len(fake.calls), "| HTTP status of the stream:", fake.calls[0].status)

# %% [markdown]
# Anthropic reports a mid-stream error as an `error` event. The SDK raises `APIStatusError` with
# **status code 200** (the status of the response the error arrived in), which surprises anyone
# who checks `status_code == 529` for "overloaded":

# %%
import anthropic

with FakeProvider() as fake:
    fake.fail_next(mid_stream=True, after_tokens=5)
    received = []
    try:
        with claude.messages.stream(
            model="claude-haiku-5-5",
            max_tokens=200,
            messages=[{"role": "user", "content": "Why should I stream LLM responses?"}],
        ) as stream:
            for text in stream.text_stream:
                received.append(text)
    except anthropic.APIStatusError as exc:
        error_type = exc.body["error"]["type"]
        print(f"{type(exc).__name__}: status_code={exc.status_code}, error type={error_type}")

print("text so far:", repr("".join(received)))
print("requests sent:", len(fake.calls))

# %% [markdown]
# What to do about it:
#
# * **Before the first token**, a failed stream can simply be sent again (nothing was shown yet).
#   The course's `course_helpers.retry.retry_stream` does exactly that, and only that; notebook 04
#   covers retries.
# * **After the first token**, retrying would show the user the beginning twice. Keep the partial
#   text, mark the answer as interrupted, and let the user ask again (or, with Anthropic, send
#   the partial text back as the start of the assistant turn so the model continues from there).
# * Either way, **log what you received**: the next section shows where.

# %% [markdown]
# ## 8. The architecture of a streaming app
#
# In a real application the browser never talks to the LLM API: your API key would be exposed.
# Your server sits in between, relays the stream, and records the exchange:
#
# ```
#  browser ──POST /chat──▶ your API server ──stream=True──▶ LLM API (OpenAI / Anthropic)
#     ▲                     │        ▲                           │
#     └──── SSE: text ◀─────┘        └──── chunks / events ◀─────┘
#                           │
#                           └──▶ database: prompt, accumulated answer, tokens, outcome
#                                (written when the stream ends — or breaks, or the browser leaves)
# ```
#
# For every piece it receives, the server does three things: **forward** it to the browser,
# **accumulate** it, and, when the stream ends *for any reason*, **log** the accumulated answer.
# "For any reason" is the hard part: a user closing the tab or a mid-stream error must still
# produce a log row, or your usage and cost numbers are wrong. At its heart it is a generator
# with a `finally`:
#
# ```python
# def relay(prompt):
#     pieces, outcome = [], "client_disconnected"
#     try:
#         for chunk in client.chat.completions.create(..., stream=True):
#             if chunk.choices and chunk.choices[0].delta.content:
#                 pieces.append(chunk.choices[0].delta.content)
#                 yield chunk.choices[0].delta.content    # to the browser, as an SSE event
#         outcome = "complete"
#     except openai.APIError:
#         outcome = "provider_error"
#         raise
#     finally:    # on success, on error, and when the browser leaves (the generator is closed)
#         db.execute("INSERT INTO exchanges VALUES (?, ?, ?)", (prompt, "".join(pieces), outcome))
# ```
#
# The course's relay server, `course_helpers.server`, does exactly this with Starlette and SQLite
# (read `course_helpers/server/relay.py`). Let's run it in the background and be the browser.

# %%
import json

import httpx2

from course_helpers.server import serve_in_thread

server = serve_in_thread()  # on a free port of this machine; server.stop() ends it


def sse_events(response):
    """(event, data) pairs from a Server-Sent Events response."""
    event = None
    for line in response.iter_lines():
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield event, json.loads(line.removeprefix("data: "))


# %% [markdown]
# The relay sends a `start` event, one `delta` event per piece of text, and a `done` event with
# the usage:

# %%
with httpx2.stream(
    "POST", server.base_url + "/chat", json={"prompt": "What is the capital of France?"}
) as response:
    for event, data in sse_events(response):
        if event == "delta":
            print(data["text"], end="")
        elif event == "done":
            print("\ndone:", data["usage"])

# %% [markdown]
# Now a browser that leaves after three pieces (the simulated provider is slowed down so the
# answer is still streaming when it does):

# %%
with FakeProvider(ttft=0.05, token_delay=0.02):
    seen = []
    with httpx2.stream(
        "POST", server.base_url + "/chat", json={"prompt": "Why should I stream LLM responses?"}
    ) as response:
        for event, data in sse_events(response):
            if event == "delta":
                seen.append(data["text"])
            if len(seen) == 3:
                break  # closing the response closes the connection: the user left
    for _ in range(100):  # the relay notices the disconnect and writes its row
        history = httpx2.get(server.base_url + "/history").json()["exchanges"]
        if len(history) == 2:
            break
        time.sleep(0.02)
saw = "".join(seen)
print("the browser saw:", repr(saw))

# %% [markdown]
# Both exchanges are in the relay's log (newest first), the abandoned one with the text that was
# relayed before the user left and no token usage, because the provider's usage report never
# arrived:

# %%
abandoned, complete = history
for row in (complete, abandoned):
    print({key: row[key] for key in ("prompt", "outcome", "output_tokens")})
print("complete answer logged:", repr(complete["text"]))
print("abandoned answer logged as the browser saw it:", abandoned["text"].startswith(saw))
server.stop()

# %% [markdown]
# For billing and budgets, estimate the output tokens of an abandoned stream from its text
# (`course_helpers.tokens.estimate_tokens`): the provider bills the tokens it generated, whether
# or not anyone read them. You can also open the relay's page in a browser:
# `python -m course_helpers.server --port 8000` in a terminal, then http://127.0.0.1:8000/.

# %% [markdown]
# ## Key takeaways
#
# * Stream for **perceived latency**: the first words after the time to first token, not after
#   the whole answer. The total time does not shrink.
# * OpenAI: chunks with `delta`s; with `include_usage`, the last chunk has **empty `choices`**, so
#   always check `if chunk.choices:` before `chunk.choices[0]`.
# * Anthropic: typed events in a fixed order; usage split between `message_start` and
#   `message_delta`; `ping`s are filtered by the SDK.
# * The helpers (`chat.completions.stream`, `messages.stream`) assemble the final message and usage
#   for you; the async clients stream the same way with `async for`.
# * Measure TTFT and total time separately; they answer different questions.
# * Mid-stream errors are **not retried** by the SDKs; keep the partial text, retry only before
#   the first token.
# * Put a server between the browser and the LLM API; have it accumulate and log every stream,
#   including the broken and abandoned ones.
#
# ## Practise, then next
#
# * Exercise: [`ex02_stream_collector`](../exercises/ex02_stream_collector.ipynb): the text and
#   the usage from either provider's raw stream, usage-only chunk and all, checked automatically.
# * Previous: [`02_anthropic.ipynb`](02_anthropic.ipynb). Next:
#   [`04_errors_and_retries.ipynb`](04_errors_and_retries.ipynb), what each status code means,
#   which errors are worth retrying, and how to back off without multiplying the SDKs' own retries.
