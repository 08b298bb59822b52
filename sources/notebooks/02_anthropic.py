# %% [markdown]
# # 02 · Anthropic's Messages API, and how it differs from OpenAI's
#
# What you'll learn:
#
# 1. how the `anthropic` 2.x SDK finds your key and sends it, and what a missing or wrong key
#    looks like;
# 2. the Messages API's own rules: a separate `system` parameter, a **required** `max_tokens`, an
#    answer made of **content blocks**, its stop reasons, and counting tokens before you send;
# 3. where the sampling parameters went in the 2.x SDK (`temperature` is no longer a keyword);
# 4. every difference from OpenAI's Chat Completions, each one **run** side by side with both SDKs;
# 5. model names: why copied model ids break, and how to list the current ones.
#
# Every cell is plain SDK code; without keys the simulated provider answers (see notebook 00).
# Section 11 runs the module's Node.js snippets with the official `@anthropic-ai/sdk` npm package.
#
# **Installing the SDK.** The module installs it with `pip install anthropic` (and
# `npm install @anthropic-ai/sdk` for Node.js); in a notebook, `%pip` installs into the kernel's
# environment:
#
# ```
# %pip install anthropic
# ```
#
# `make lab` has already installed both SDKs here (pinned in `pyproject.toml` and
# `package-lock.json`), so you need neither.

# %%
from course_helpers import setup

course = setup()

# %% [markdown]
# ## 1. Authentication
#
# `Anthropic()` reads `ANTHROPIC_API_KEY` from the environment, exactly as `OpenAI()` reads
# `OPENAI_API_KEY`. An explicit key works the same way too: `Anthropic(api_key=...)`, read from the
# environment or a vault, never written in code.

# %%
import os

import anthropic
from anthropic import Anthropic

claude = Anthropic()
explicit = Anthropic(api_key=os.environ["ANTHROPIC_API_KEY"])
CLAUDE = "claude-haiku-5-5"

message = explicit.messages.create(
    model=CLAUDE, max_tokens=100, messages=[{"role": "user", "content": "Say hello"}]
)
print(message.content[0].text)

# %% [markdown]
# **How the key travels.** Older SDK versions and most tutorials send the key in an `x-api-key`
# header. The 2.x SDK sends it as `Authorization: Bearer <key>`, like OpenAI's. That matters if you
# put a proxy or gateway in front of the API, or call it with raw HTTP: the API accepts both. The
# request the SDK sent (only the header *names* and the scheme are printed, never the key):

# %%
raw = claude.messages.with_raw_response.create(
    model=CLAUDE, max_tokens=50, messages=[{"role": "user", "content": "Say hello"}]
)
sent = raw.http_request.headers
print("authorization scheme:", sent["authorization"].split()[0])
print("x-api-key header:    ", "x-api-key" in sent)
print("anthropic-version:   ", sent["anthropic-version"])

# %% [markdown]
# **A missing key** is not caught when the client is built (unlike `OpenAI()`): `Anthropic()`
# constructs fine, and the first request raises a `TypeError` on your machine, before anything is
# sent. The cell removes the variable for a moment to show it, then puts it back.

# %%
saved_key = os.environ.pop("ANTHROPIC_API_KEY")
try:
    keyless = Anthropic()
    print("client built")
    keyless.messages.create(
        model=CLAUDE, max_tokens=50, messages=[{"role": "user", "content": "Hi"}]
    )
except TypeError as exc:
    print(f"TypeError: {exc}")
finally:
    os.environ["ANTHROPIC_API_KEY"] = saved_key

# %% [markdown]
# **A wrong key** is a 401 from the API, raised as `anthropic.AuthenticationError`. A frequent way to
# get one is an OpenAI key in `ANTHROPIC_API_KEY` (Anthropic keys start with `sk-ant-`; the simulated
# provider checks only that prefix, the real API checks the key itself). This cell fails on purpose;
# the error is the point.
#
# `%xmode Minimal` first: for the rest of this notebook an uncaught error shows only its type and
# message, not the eighty lines of SDK frames above them (`%xmode Context` brings them back).

# %%
# %xmode Minimal

# %% tags=["raises-exception"]
Anthropic(api_key="sk-not-a-real-key").messages.create(
    model=CLAUDE, max_tokens=50, messages=[{"role": "user", "content": "Say hello"}]
)

# %% [markdown]
# Read the message with the cell above it in mind: it says `invalid x-api-key`, yet the SDK sent no
# `x-api-key` header, only `Authorization: Bearer`. The wording is the simulated provider's copy of
# the API's message for a bad `x-api-key`, whichever header carried the key: read it as "invalid API
# key", and check the key itself, not the header.
#
# ## 2. The basic request
#
# ### 2.1 The module's request
#
# The module's request, with its model, prompts and parameters as it prints them:

# %% tags=["raises-exception"]
client = Anthropic()

response = client.messages.create(
    model="claude-3-5-sonnet-20241022",
    max_tokens=1024,
    system="You are a helpful assistant.",
    messages=[
        {"role": "user", "content": "Explain API integration in one sentence."}
    ]
)

print(response.content[0].text)

# %% [markdown]
# It fails today, on the real API as here: `claude-3-5-sonnet-20241022` was retired, and every call
# with a retired model id is a 404 whose message names a replacement (section 10 says how to find
# current models). The same request with the current model it names:

# %%
response = client.messages.create(
    model="claude-sonnet-5-5",
    max_tokens=1024,
    system="You are a helpful assistant.",
    messages=[
        {"role": "user", "content": "Explain API integration in one sentence."}
    ]
)

print(response.content[0].text)

# %% [markdown]
# ### 2.2 The message object
#
# `model`, `max_tokens` and `messages` are all required. A message's role is `user` or
# `assistant`; there is no `system` role (section 3).

# %%
message = claude.messages.create(
    model=CLAUDE,
    max_tokens=200,
    messages=[{"role": "user", "content": "What is the capital of France?"}],
)
print("id:         ", message.id)
print("type, role: ", message.type, message.role)
print("model:      ", message.model)
print("content:    ", message.content)
print("stop_reason:", message.stop_reason, "| stop_sequence:", message.stop_sequence)
print("usage:      ", message.usage.input_tokens, "in,", message.usage.output_tokens, "out")
print("request id: ", message._request_id)

# %% [markdown]
# ## 3. The system prompt is a separate parameter
#
# OpenAI puts the instructions in the message list (`role: "developer"` or `"system"`); Anthropic
# has a top-level `system=` parameter. It takes a string:

# %%
message = claude.messages.create(
    model=CLAUDE,
    max_tokens=100,
    system="Answer in one word.",
    messages=[{"role": "user", "content": "What is the capital of France?"}],
)
print(message.content[0].text)

# %% [markdown]
# or a list of text blocks. The block form is what you use to mark a long, fixed system prompt for
# prompt caching (`cache_control`), which makes repeated calls with it cheaper:

# %%
message = claude.messages.create(
    model=CLAUDE,
    max_tokens=100,
    system=[
        {"type": "text", "text": "You are a pirate."},
        {"type": "text", "text": "Stay in character.", "cache_control": {"type": "ephemeral"}},
    ],
    messages=[{"role": "user", "content": "What is the capital of France?"}],
)
print(message.content[0].text)

# %% [markdown]
# Copying OpenAI's habit of a `system` message into the list is a 400 from the API, and the message
# says what to do:

# %%
try:
    claude.messages.create(
        model=CLAUDE,
        max_tokens=100,
        messages=[
            {"role": "system", "content": "Answer in one word."},
            {"role": "user", "content": "What is the capital of France?"},
        ],
    )
except anthropic.BadRequestError as exc:
    print(exc.status_code, exc.body["error"]["message"])

# %% [markdown]
# ## 4. `max_tokens` is required
#
# OpenAI lets you leave the output cap out; Anthropic does not. The SDK checks it **on your machine**
# and raises a `TypeError` before any request is sent (so nothing is billed and no request id
# exists):

# %%
try:
    claude.messages.create(model=CLAUDE, messages=[{"role": "user", "content": "Hi"}])
except TypeError as exc:
    print(f"TypeError: {exc}")

# %% [markdown]
# Pick it from what you need, not the model's maximum: it is also a budget. (A very large value
# on a non-streaming call is refused client-side too; the SDK asks you to stream long answers.)
#
# ## 5. The answer is a list of content blocks
#
# `message.content` is a **list** of blocks, each with a `type`. For a plain question it holds one
# `text` block, which is why `message.content[0].text` works in every tutorial. But the first block
# need not be text: with extended thinking it is a `thinking` block, with tools it can be a
# `tool_use` block. Here is such a response (built locally from the API's documented JSON, because
# the simulated provider does not think or call tools):

# %%
from anthropic.types import Message

with_thinking = Message.model_validate(
    {
        "id": "msg_01ExampleThinking",
        "type": "message",
        "role": "assistant",
        "model": CLAUDE,
        "content": [
            {"type": "thinking", "thinking": "The user wants a capital city.", "signature": "EqQ"},
            {"type": "text", "text": "Paris."},
        ],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 20, "output_tokens": 30},
    }
)
print([block.type for block in with_thinking.content])
try:
    print(with_thinking.content[0].text)
except AttributeError as exc:
    print(f"content[0].text -> AttributeError: {exc}")

# %% [markdown]
# The robust way reads every text block and ignores the rest. It works for all the shapes above, and
# returns `""` (instead of crashing) when the model answered only with a tool call:


# %%
def text_of(message):
    """All the text blocks of a Claude message, joined (empty when there is no text)."""
    return "".join(block.text for block in message.content if block.type == "text")


print(repr(text_of(with_thinking)))
print(repr(text_of(message)))

# %% [markdown]
# ## 6. Stop reasons
#
# `stop_reason` says why the answer ended: `end_turn` (the model finished), `max_tokens` (cut by
# your cap: check for it, the text looks complete to code that only reads it), `stop_sequence` (one
# of your `stop_sequences` matched; **which** one is in `message.stop_sequence`, and it is not part
# of the text). With tools there is also `tool_use`, and `refusal` when the model declines.
#
# The three requests below differ only in their cap and stop sequences. They set `temperature` 0
# (section 8 shows why it goes in `extra_body`), so that all three sample the same answer and the
# capped and stopped ones are visibly its beginning.

# %%
count = [{"role": "user", "content": "Count from 1 to 10"}]
same = {"model": CLAUDE, "messages": count, "extra_body": {"temperature": 0}}
natural = claude.messages.create(max_tokens=100, **same)
capped = claude.messages.create(max_tokens=5, **same)
stopped = claude.messages.create(max_tokens=100, stop_sequences=["5", "five"], **same)
for label, reply in (("natural", natural), ("max_tokens=5", capped), ("stop_sequences", stopped)):
    print(
        f"{label:<15} {reply.stop_reason:<14} stop_sequence={reply.stop_sequence!r:<5} {text_of(reply)!r}"
    )
print("capped is the start of natural: ", text_of(natural).startswith(text_of(capped)))
print("stopped is the start of natural:", text_of(natural).startswith(text_of(stopped)))

# %% [markdown]
# ## 7. Counting tokens before you send
#
# `messages.count_tokens` returns how many input tokens a request *would* use, free of charge and
# without generating anything: use it to check a long prompt against the context window or your
# budget before paying for it. It takes the same `model`, `system` and `messages` (no `max_tokens`).

# %%
request = {
    "model": CLAUDE,
    "system": "Answer in one word.",
    "messages": [{"role": "user", "content": "What is the capital of France?"}],
}
counted = claude.messages.count_tokens(**request)
actual = claude.messages.create(max_tokens=50, **request)
print("count_tokens:        ", counted.input_tokens)
print("usage.input_tokens:  ", actual.usage.input_tokens)

# %% [markdown]
# ## 8. Sampling parameters moved to `extra_body`
#
# The Messages API still accepts `temperature` (0 – 1, not 0 – 2 as at OpenAI), `top_p` and
# `top_k`. But the `anthropic` **2.x** SDK no longer has them as keyword arguments of
# `messages.create`: passing one is a `TypeError`. Older tutorials, and the module's own seed
# `LLMClient`, pass `temperature=` directly; that code fails with the current SDK.

# %%
try:
    claude.messages.create(
        model=CLAUDE, max_tokens=100, temperature=0.5, messages=[{"role": "user", "content": "Hi"}]
    )
except TypeError as exc:
    print(f"TypeError: {exc}")

# %% [markdown]
# They now travel in `extra_body`, which the SDK merges into the JSON it sends. `temperature=0`
# gives the same answer every time (on the real API nearly always):

# %%
joke = [{"role": "user", "content": "Tell me a joke"}]
answers = [
    text_of(
        claude.messages.create(
            model=CLAUDE, max_tokens=100, messages=joke, extra_body={"temperature": 0}
        )
    )
    for _ in range(3)
]
print(len(set(answers)), "different answer(s) out of 3:", answers[0])

# %% [markdown]
# Because `extra_body` bypasses the SDK's checks, a wrong value is caught only by the API: a 400.
# Note Anthropic's range for temperature ends at 1. (Recent Claude models also refuse `temperature`
# and `top_p` together: set one.)

# %%
for params in ({"temperature": 1.5}, {"top_k": 0}):
    try:
        claude.messages.create(model=CLAUDE, max_tokens=50, messages=joke, extra_body=params)
    except anthropic.BadRequestError as exc:
        print(params, "->", exc.status_code, exc.body["error"]["message"])

# %% [markdown]
# ## 9. OpenAI vs Anthropic, executed side by side
#
# Each row below is one difference, and one cell runs both SDKs and prints what each returned.

# %%
import openai
from openai import OpenAI

gpt = OpenAI()
GPT = "gpt-4.1-mini"  # a non-reasoning model: it accepts temperature and stop (notebook 01)


def compare(*rows):
    """Print (label, OpenAI value, Anthropic value) rows as a three-column table."""
    print(f"{'':<20} {'OpenAI':<38} Anthropic")
    for label, left, right in rows:
        print(f"{label:<20} {left!s:<38} {right}")


# %% [markdown]
# **System prompt location.** A message in the list vs a top-level parameter. The SDKs keep the
# request they sent (`http_request`), so we can look at the JSON bodies themselves:

# %%
import json

question = [{"role": "user", "content": "What is the capital of France?"}]
o_raw = gpt.chat.completions.with_raw_response.create(
    model=GPT, messages=[{"role": "developer", "content": "Answer in one word."}, *question]
)
a_raw = claude.messages.with_raw_response.create(
    model=CLAUDE, max_tokens=100, system="Answer in one word.", messages=question
)
o_body = json.loads(o_raw.http_request.content)
a_body = json.loads(a_raw.http_request.content)
compare(
    ("request keys", sorted(o_body), sorted(a_body)),
    (
        "roles in messages",
        [m["role"] for m in o_body["messages"]],
        [m["role"] for m in a_body["messages"]],
    ),
    ("system prompt at", 'messages[0], role "developer"', 'top-level "system"'),
)

# %% [markdown]
# **`max_tokens` required?** No vs yes (checked client-side).

# %%
o = gpt.chat.completions.create(model=GPT, messages=question, temperature=0)
try:
    claude.messages.create(model=CLAUDE, messages=question)
    anthropic_result = "accepted"
except TypeError:
    anthropic_result = "TypeError (nothing sent)"
compare(("max_tokens omitted", f"ok, finish_reason={o.choices[0].finish_reason}", anthropic_result))

# %% [markdown]
# **Response text path.** One string vs a list of blocks.

# %%
a = claude.messages.create(model=CLAUDE, max_tokens=100, messages=question)
compare(
    ("path", "choices[0].message.content", "text blocks of content"),
    ("type", type(o.choices[0].message.content).__name__, f"list of {type(a.content[0]).__name__}"),
    ("text", o.choices[0].message.content, text_of(a)),
)

# %% [markdown]
# **Stop / finish reason names.** The same three situations, different names (and OpenAI's
# parameter is `stop`, Anthropic's `stop_sequences`).

# %%
situations = {  # label: (OpenAI keywords, Anthropic keywords)
    "natural end": ({}, {"max_tokens": 100}),
    "cap of 5 tokens": ({"max_completion_tokens": 5}, {"max_tokens": 5}),
    "stop sequence '5'": ({"stop": ["5"]}, {"max_tokens": 100, "stop_sequences": ["5"]}),
}
rows = []
for label, (o_params, a_params) in situations.items():
    o = gpt.chat.completions.create(model=GPT, messages=count, temperature=0, **o_params)
    a = claude.messages.create(model=CLAUDE, messages=count, **a_params)
    rows.append((label, o.choices[0].finish_reason, a.stop_reason))
compare(*rows)

# %% [markdown]
# **Usage field names.** Different names, and Anthropic gives no total: add the two yourself.

# %%
o = gpt.chat.completions.create(model=GPT, messages=question, temperature=0)
a = claude.messages.create(model=CLAUDE, max_tokens=100, messages=question)
compare(
    ("input", f"prompt_tokens={o.usage.prompt_tokens}", f"input_tokens={a.usage.input_tokens}"),
    (
        "output",
        f"completion_tokens={o.usage.completion_tokens}",
        f"output_tokens={a.usage.output_tokens}",
    ),
    ("total", f"total_tokens={o.usage.total_tokens}", "(none: input + output)"),
    ("cache reads", "prompt_tokens_details.cached_tokens", "cache_read_input_tokens"),
)

# %% [markdown]
# **Streaming event shapes** (notebook 03 goes deep). OpenAI sends anonymous chunks that each carry
# a `delta`; Anthropic sends named events. Runs of the same kind are collapsed (`×N`):

# %%
from itertools import groupby


def runs(kinds):
    return ", ".join(f"{k} ×{n}" if (n := len(list(g))) > 1 else k for k, g in groupby(kinds))


def chunk_kind(chunk):
    if not chunk.choices:
        return "usage-only (choices=[])"
    choice = chunk.choices[0]
    return "finish" if choice.finish_reason else "role" if choice.delta.role else "content"


o_stream = gpt.chat.completions.create(
    model=GPT, messages=count, temperature=0, stream=True, stream_options={"include_usage": True}
)
a_stream = claude.messages.create(model=CLAUDE, max_tokens=100, messages=count, stream=True)
print("OpenAI:   ", runs(chunk_kind(chunk) for chunk in o_stream))
print("Anthropic:", runs(event.type for event in a_stream))

# %% [markdown]
# **Sampling parameters.** Keywords vs `extra_body` (a keyword is a `TypeError` in the 2.x SDK).

# %%
o = gpt.chat.completions.create(model=GPT, messages=question, temperature=0.5)
try:
    claude.messages.create(model=CLAUDE, max_tokens=100, messages=question, temperature=0.5)
    keyword = "accepted"
except TypeError:
    keyword = "TypeError"
a = claude.messages.create(
    model=CLAUDE, max_tokens=100, messages=question, extra_body={"temperature": 0.5}
)
compare(
    ("temperature=0.5", f"ok ({o.choices[0].finish_reason})", keyword),
    ("extra_body", "(not needed)", f"ok ({a.stop_reason})"),
    ("temperature range", "0 – 2", "0 – 1"),
)

# %% [markdown]
# **Auth header.** Both SDKs now send `Authorization: Bearer`; Anthropic's older SDKs (and its docs'
# curl examples) use `x-api-key`, which the API still accepts.

# %%
o_raw = gpt.chat.completions.with_raw_response.create(model=GPT, messages=question)
a_raw = claude.messages.with_raw_response.create(model=CLAUDE, max_tokens=50, messages=question)
o_sent, a_sent = o_raw.http_request.headers, a_raw.http_request.headers
compare(
    ("authorization", o_sent["authorization"].split()[0], a_sent["authorization"].split()[0]),
    ("x-api-key sent", "x-api-key" in o_sent, "x-api-key" in a_sent),
    ("version header", "(none)", f"anthropic-version: {a_sent['anthropic-version']}"),
)

# %% [markdown]
# **Error body shape.** Both raise a `NotFoundError` for an unknown model, but `e.body` differs:
# openai gives you the **unwrapped** `error` object, anthropic the **full envelope**. Code that reads
# `e.body["message"]` works for one and raises `KeyError` for the other.

# %%
try:
    gpt.chat.completions.create(model="no-such-model", messages=question)
except openai.NotFoundError as exc:
    o_error = exc
try:
    claude.messages.create(model="no-such-model", max_tokens=50, messages=question)
except anthropic.NotFoundError as exc:
    a_error = exc
compare(
    ("exception", type(o_error).__name__, type(a_error).__name__),
    ("e.body keys", sorted(o_error.body), sorted(a_error.body)),
    ("the message at", 'e.body["message"]', 'e.body["error"]["message"]'),
    ("error type", o_error.body["type"], a_error.body["error"]["type"]),
)

# %% [markdown]
# ## 10. Model names
#
# Dated model ids are retired on a schedule, and then every call with them is a 404: the most common
# reason an old Claude tutorial fails today, and the reason the module's own request failed in
# section 2. The error names the replacement. Catch it, and read the message from the envelope:

# %%
try:
    claude.messages.create(
        model="claude-3-5-sonnet-20241022",
        max_tokens=50,
        messages=[{"role": "user", "content": "Hi"}],
    )
except anthropic.NotFoundError as exc:
    print(exc.status_code, exc.body["error"]["type"], "-", exc.body["error"]["message"])

# %% [markdown]
# So ask the API which models exist instead of trusting a copied id. `models.list()` pages through
# them, newest first. Each says whether it is `active`, `deprecated` or `retired`, and `retires_at`
# gives the date a deprecated model stops answering: a check worth automating.

# %%
for model in claude.models.list(limit=4).data:
    print(
        f"{model.id:<18} {model.display_name:<18} {model.lifecycle:<7} retires_at={model.retires_at}"
    )

info = claude.models.retrieve(CLAUDE)
print(info.id, "->", info.display_name, "| released", info.created_at.date())
print("context window:", info.max_input_tokens, "| max output:", info.max_tokens)

# %% [markdown]
# ## 11. The same in Node.js
#
# The module shows its Anthropic request in Node.js too (`npm install @anthropic-ai/sdk`). `%%node`
# (from `course_helpers.node_magic`, see notebook 01) runs these cells for real: offline against a
# simulated provider it starts for the cell (`ANTHROPIC_BASE_URL`, a simulated key), with your key
# in `.env` against the real API.

# %%
# %load_ext course_helpers.node_magic

# %% [markdown]
# The module's authentication and request, as it prints them. Like the Python version, it fails
# with the retired model's 404 (the magic shows the error's first line, not Node's stack dump):

# %% tags=["raises-exception"] language="node"
# import Anthropic from '@anthropic-ai/sdk';
#
# const client = new Anthropic({
#   apiKey: process.env.ANTHROPIC_API_KEY
# });
#
# const response = await client.messages.create({
#     model: "claude-3-5-sonnet-20241022",
#     max_tokens: 1024,
#     system: "You are a helpful assistant.",
#     messages: [
#         { role: "user", content: "Explain API integration in one sentence." }
#     ]
# });
#
# console.log(response.content[0].text);

# %% [markdown]
# The same snippet with the current model that the 404 names:

# %% language="node"
# import Anthropic from '@anthropic-ai/sdk';
#
# const client = new Anthropic({
#   apiKey: process.env.ANTHROPIC_API_KEY
# });
#
# const response = await client.messages.create({
#     model: "claude-sonnet-5-5",
#     max_tokens: 1024,
#     system: "You are a helpful assistant.",
#     messages: [
#         { role: "user", content: "Explain API integration in one sentence." }
#     ]
# });
#
# console.log(response.content[0].text);

# %% [markdown]
# The Node SDK has the same rules as the Python one: `max_tokens` required, `system` separate,
# `content` a list of blocks (join the text blocks), `countTokens` before you send. `new Anthropic()`
# with no options reads `ANTHROPIC_API_KEY` itself:

# %% language="node"
# import Anthropic from "@anthropic-ai/sdk";
#
# const client = new Anthropic();
# const message = await client.messages.create({
#   model: "claude-haiku-5-5",
#   max_tokens: 200,                                              // required
#   system: "Answer in one word.",                                // not a message
#   messages: [{ role: "user", content: "What is the capital of France?" }],
#   stop_sequences: ["\n\n"],
# });
# const text = message.content
#   .filter((block) => block.type === "text")
#   .map((block) => block.text)
#   .join("");
# console.log(text, message.stop_reason, message.stop_sequence);
# console.log(message.usage.input_tokens, "in +", message.usage.output_tokens, "out");
#
# const { input_tokens } = await client.messages.countTokens({
#   model: "claude-haiku-5-5",
#   messages: [{ role: "user", content: "What is the capital of France?" }],
# });
# console.log("countTokens:", input_tokens);

# %% [markdown]
# Errors carry the full envelope, as in Python (`err.error.error.message`):

# %% language="node"
# import Anthropic from "@anthropic-ai/sdk";
#
# const client = new Anthropic();
# try {
#   await client.messages.create({ model: "claude-3-5-sonnet-20241022", max_tokens: 50,
#                                  messages: [{ role: "user", content: "Hi" }] });
# } catch (err) {
#   if (err instanceof Anthropic.NotFoundError) console.log(err.status, err.error.error.message);
#   else throw err;
# }

# %% [markdown]
# ## Key takeaways
#
# * `Anthropic()` reads `ANTHROPIC_API_KEY`; the 2.x SDK sends it as a Bearer token. A missing key
#   is a `TypeError` at the first request, a wrong one a 401.
# * `system` is a parameter (string or blocks), never a message; `max_tokens` is required.
# * `content` is a list of blocks: join the `text` blocks instead of reading `content[0].text`.
# * `stop_reason` is `end_turn`, `max_tokens` or `stop_sequence` (then `stop_sequence` says which).
# * `count_tokens` measures a prompt before you pay for it.
# * In the 2.x SDK, `temperature` / `top_p` / `top_k` go in `extra_body`; temperature is 0 – 1.
# * Error bodies differ: `e.body["message"]` (openai) vs `e.body["error"]["message"]` (anthropic).
# * Never trust a copied model id: a retired one is a 404 that names its replacement; list the models.
#
# ## Practise, then next
#
# * Exercise: [`ex01_first_calls`](../exercises/ex01_first_calls.ipynb): one answer from each
#   provider in one normalised shape (text, tokens, why it stopped), checked automatically.
# * Previous: [`01_openai.ipynb`](01_openai.ipynb). Next: [`03_streaming.ipynb`](03_streaming.ipynb),
#   streaming with both SDKs, time to first token, and the chunks and events that break naive
#   streaming code.
