# %% [markdown]
# # 01 · The OpenAI Chat Completions API, parameter by parameter
#
# What you'll learn:
#
# 1. the three ways a key reaches the client, and what a **missing** and a **wrong** key look like;
# 2. every request parameter of the module's table, each as a small experiment whose output shows
#    what it does, and the error you get when a value is out of range;
# 3. the response object field by field: ids, choices, finish reasons, usage, request ids, headers;
# 4. how to list the models your key can use, and what an unknown model looks like.
# 5. the same request through OpenAI's newer Responses API, and what differs.
#
# Every cell is plain `openai` SDK code. Without a key the course's simulated provider answers (see
# notebook 00); with a key in `.env` the same cells go to the real API. Section 6 runs the module's
# Node.js snippets too, with the official `openai` npm package.
#
# **Installing the SDK.** The module installs it with `pip install openai` (and `npm install openai`
# for Node.js). In a notebook, `%pip` installs into the kernel's own environment:
#
# ```
# %pip install openai
# ```
#
# Here `make lab` has already installed it (the version pinned in `pyproject.toml`), and `npm ci`
# the Node.js SDKs of `package-lock.json`, so you need neither.

# %%
from course_helpers import setup

course = setup()

# %% [markdown]
# ## 1. Authentication
#
# ### 1.1 From the environment (the usual way)
#
# `OpenAI()` with no arguments reads `OPENAI_API_KEY` from the environment. `setup()` loaded your
# `.env` into the environment (offline it put a placeholder there), so this is all you need:

# %%
import os

import openai
from openai import OpenAI

client = OpenAI()
MODEL = "gpt-5.4-mini"

reply = client.chat.completions.create(
    model=MODEL, messages=[{"role": "user", "content": "Say hello"}]
)
print(reply.choices[0].message.content)

# %% [markdown]
# ### 1.2 An explicit key
#
# Pass `api_key=` when the key comes from somewhere else: a secrets manager, a differently named
# variable, one key per customer. Read it from the environment or a vault, **never write it as a
# literal** in code: a literal key ends up in the notebook file, then in git.

# %%
explicit = OpenAI(api_key=os.environ["OPENAI_API_KEY"])
print(
    explicit.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Say hello"}]
    )
    .choices[0]
    .message.content
)

# %% [markdown]
# ### 1.3 A missing key fails at construction
#
# Without a key, the client refuses to be built: you get an `openai.OpenAIError` on the line
# `OpenAI()`, before any request. The classic cause is a notebook that forgot `load_dotenv()` (or, in
# this course, `setup()`), or a `.env` in another folder. The cell removes the variable for a moment
# to show the error, then puts it back.

# %%
saved_key = os.environ.pop("OPENAI_API_KEY")
try:
    OpenAI()
except openai.OpenAIError as exc:
    print(f"{type(exc).__name__}: {exc}")
finally:
    os.environ["OPENAI_API_KEY"] = saved_key

# %% [markdown]
# ### 1.4 A wrong key fails on the first request
#
# A key that is present but wrong builds a client happily; the **API** rejects it with HTTP 401,
# which the SDK raises as `openai.AuthenticationError`. The message shows only a masked form of the
# key. Retrying a 401 never helps: fix the key. This cell fails on purpose; the error is the point.
#
# (The real API rejects any key it did not issue. The simulated provider only checks the shape: a
# key must start with `sk-`, and must not be an Anthropic key, `sk-ant-…`, the most common mix-up.)
#
# An uncaught SDK error makes IPython print some ninety lines of the SDK's own frames before the one
# line that matters. `%xmode Minimal` keeps just that line, the error's type and message, for the
# rest of this notebook (`%xmode Context` brings the frames back when you debug your own code).

# %%
# %xmode Minimal

# %% tags=["raises-exception"]
wrong = OpenAI(api_key="not-a-real-key")
wrong.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Say hello"}])

# %% [markdown]
# The exception carries everything you need to log it or decide what to do: the HTTP status, the
# error `type` and `code` from the body, and the request id to quote to support.

# %%
try:
    OpenAI(api_key="sk-ant-not-a-real-key").chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Say hello"}]
    )
except openai.AuthenticationError as exc:
    print("status: ", exc.status_code)
    print("type:   ", exc.type, "| code:", exc.code)
    print("message:", exc.body["message"])
    print("request:", exc.request_id)

# %% [markdown]
# ## 2. The basic request
#
# ### 2.1 The module's request
#
# The module's first request, with its model, prompts and parameters as it prints them:

# %%
response = client.chat.completions.create(
    model="gpt-4o",
    messages=[
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Explain API integration in one sentence."},
    ],
    temperature=0.7,
    max_tokens=150,
)

print(response.choices[0].message.content)

# %% [markdown]
# It runs as written: `gpt-4o` is still served (section 5 lists the models), and a non-reasoning
# model accepts `temperature` and `max_tokens` (section 3 explains why that matters). Note what the
# answer does not tell you: whether it was complete. Check `finish_reason` too (section 3.5):

# %%
print("finish_reason:", response.choices[0].finish_reason)
print("tokens:", response.usage.prompt_tokens, "in +", response.usage.completion_tokens, "out")

# %% [markdown]
# **Simulated text.** Offline, the words come from the simulated provider, not from a model. The
# course's own prompts, like the one above, have hand-written answers. Change a prompt and you get
# text generated to the form you asked for (one sentence, three bullet points, a haiku, a list,
# JSON) about your prompt's words; it knows no facts and does not reason. Everything around the
# words is real: the JSON, the headers, the token counts, the errors and the limits.

# %% [markdown]
# ### 2.2 Roles and the conversation
#
# A chat completion takes a **model** and a list of **messages**. Each message has a `role`:
#
# * `developer` (called `system` in older code; both work) sets the rules for the whole
#   conversation;
# * `user` is what the person typed;
# * `assistant` is what the model said earlier. The API is **stateless**: to continue a
#   conversation you send the whole history again, every time (and pay for it again).

# %%
history = [
    {"role": "developer", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the capital of France?"},
]
response = client.chat.completions.create(model=MODEL, messages=history)
answer = response.choices[0].message.content
print("assistant:", answer)

history += [
    {"role": "assistant", "content": answer},
    {"role": "user", "content": "How do you say hello in French?"},
]
response = client.chat.completions.create(model=MODEL, messages=history)
print("assistant:", response.choices[0].message.content)
print("prompt tokens of the second call:", response.usage.prompt_tokens, "(the history is resent)")

# %% [markdown]
# ## 3. The parameters
#
# | parameter | range | default | what it does |
# |---|---|---|---|
# | `model` | a model id | required | which model answers (section 5 lists them) |
# | `messages` | list of `{role, content}` | required | the conversation so far |
# | `temperature` | 0 – 2 | 1 | randomness: 0 ≈ always the most likely token, higher = more varied |
# | `top_p` | 0 – 1 | 1 | nucleus sampling: sample only from the most likely tokens whose probabilities add up to `top_p` |
# | `max_completion_tokens` | ≥ 1, up to the model's output limit | model limit | hard cap on generated tokens; the answer is cut, `finish_reason="length"` |
# | `max_tokens` | ≥ 1 | model limit | the older name of the same cap (deprecated; reasoning models reject it) |
# | `stop` | a string or up to 4 strings | none | stop before the first of these strings; it is not included in the text |
# | `seed` | any integer | none | best-effort reproducibility: same seed + same request → the same answer |
# | `n` | 1 – 128 | 1 | how many alternative answers (`choices`) to generate; you pay for all of them |
# | `presence_penalty` | −2 – 2 | 0 | lowers the score of every token that already appeared (new topics) |
# | `frequency_penalty` | −2 – 2 | 0 | lowers a token's score in proportion to how often it appeared (less repetition) |
# | `stream` | bool | false | send the answer token by token (notebook 03) |
#
# OpenAI recommends changing `temperature` **or** `top_p`, not both.
#
# **Which model accepts what.** Reasoning models (the o-series, and GPT-5-family models when
# reasoning is on) accept only the default `temperature`, `top_p` and penalties, and answer any
# other value with a 400 "Unsupported value". So the experiments below use `gpt-4.1-mini`, a
# non-reasoning model that takes every parameter. Here is what the course's model, a reasoning
# model, answers to the module's `temperature=0.7` and `max_tokens=150` (the simulated provider
# enforces the same rules, with the same messages):

# %%
for params in ({"temperature": 0.7}, {"max_tokens": 150}):
    try:
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "Hi"}], **params
        )
    except openai.BadRequestError as exc:
        print(f"{exc.status_code} param={exc.param}: {exc.body['message']}")

# %%
SAMPLING_MODEL = "gpt-4.1-mini"


def ask(prompt, **params):
    """One user message to SAMPLING_MODEL with the given parameters; returns the whole response."""
    return client.chat.completions.create(
        model=SAMPLING_MODEL, messages=[{"role": "user", "content": prompt}], **params
    )


# %% [markdown]
# ### 3.1 `temperature`: identical vs varied answers
#
# The same prompt three times at `temperature=0`, then three times at `1.2`. At 0 the model always
# takes its most likely next token, so the answers are identical (on the real API *nearly* always:
# tiny numerical differences on the servers can still flip a token now and then). At 1.2 it samples,
# so the answers vary (two of three can still coincide: there are only so many good jokes).

# %%
for temperature in (0, 1.2):
    answers = [
        ask("Tell me a joke", temperature=temperature).choices[0].message.content for _ in range(3)
    ]
    print(f"temperature={temperature}: {len(set(answers))} different answer(s) out of 3")
    for text in answers:
        print("   ", text)

# %% [markdown]
# What does temperature do, exactly? A model scores every possible next token (its *logits*); the
# API turns the scores into probabilities with a softmax after dividing them by the temperature. A
# low temperature sharpens the distribution towards the favourite, a high one flattens it. Here is
# that arithmetic on a made-up distribution for the token after "The best programming language is":

# %%
import math

logits = {"Python": 3.0, "Rust": 2.2, "JavaScript": 2.0, "Go": 1.5, "COBOL": -1.0}


def softmax(scores, temperature=1.0):
    """Probabilities from scores, as the API computes them at a given temperature."""
    exps = {token: math.exp(score / temperature) for token, score in scores.items()}
    total = sum(exps.values())
    return {token: value / total for token, value in exps.items()}


def show(probs):
    return "  ".join(f"{token} {p:4.0%}" for token, p in probs.items())


for temperature in (0.2, 1.0, 1.8):
    print(f"T={temperature}:  {show(softmax(logits, temperature))}")

# %% [markdown]
# ### 3.2 `top_p`: sample only from the head of the distribution
#
# `top_p` keeps the most likely tokens until their probabilities add up to `top_p`, drops the rest
# and renormalises. `top_p=0.1` leaves (almost) only the favourite; `top_p=1` changes nothing.


# %%
def nucleus(probs, top_p):
    """Keep the most likely tokens until their total reaches top_p, then renormalise."""
    kept, total = {}, 0.0
    for token, p in sorted(probs.items(), key=lambda item: -item[1]):
        if total >= top_p:
            break
        kept[token], total = p, total + p
    return {token: p / total for token, p in kept.items()}


probs = softmax(logits)
for top_p in (1.0, 0.9, 0.5, 0.1):
    print(f"top_p={top_p}:  {show(nucleus(probs, top_p))}")

# %% [markdown]
# On the API it is one more keyword. (The simulated provider checks `top_p`'s range like the real
# API but has no token probabilities to cut, so offline its answers vary as at the default.)

# %%
focused = ask("Tell me a joke", top_p=0.1)
print(focused.choices[0].finish_reason, "|", focused.choices[0].message.content)

# %% [markdown]
# ### 3.3 `presence_penalty` and `frequency_penalty`: less repetition
#
# Both subtract from the score of tokens that already appear in the text so far, before the
# softmax. OpenAI documents the rule as
# `score[token] -= count[token] * frequency_penalty + (count[token] > 0) * presence_penalty`.
# Say the answer so far mentions Python three times and Rust once:


# %%
def penalised(scores, counts, frequency_penalty=0.0, presence_penalty=0.0):
    """Scores after OpenAI's frequency and presence penalties."""
    return {
        token: score
        - counts.get(token, 0) * frequency_penalty
        - (counts.get(token, 0) > 0) * presence_penalty
        for token, score in scores.items()
    }


counts = {"Python": 3, "Rust": 1}
for frequency, presence in ((0, 0), (0.5, 0), (0, 0.5), (-0.5, 0)):
    probs = softmax(penalised(logits, counts, frequency, presence))
    print(f"frequency={frequency:+.1f} presence={presence:+.1f}:  {show(probs)}")

# %% [markdown]
# The frequency penalty hits Python (3 mentions) three times harder than Rust; the presence penalty
# treats every token that appeared at all the same; a **negative** value encourages repetition.
# Small values (0.1 – 1) are typical; large ones make the text odd. On the API:

# %%
varied = ask("Tell me a joke", frequency_penalty=0.5, presence_penalty=0.5)
print(varied.choices[0].finish_reason, "|", varied.choices[0].message.content)

# %% [markdown]
# ### 3.4 Out of range: a 400 `BadRequestError`
#
# Values outside the ranges of the table are rejected by the API (not by the SDK) with HTTP 400,
# raised as `openai.BadRequestError`. The error names the parameter (`param`) and says what it
# expected. A 400 is your bug: retrying it never helps.

# %%
out_of_range = {
    "temperature": 3,
    "top_p": 1.5,
    "presence_penalty": 2.5,
    "frequency_penalty": -3,
    "n": 0,
    "max_completion_tokens": 0,
}
for name, value in out_of_range.items():
    try:
        ask("Tell me a joke", **{name: value})
    except openai.BadRequestError as exc:
        print(f"{exc.status_code} param={exc.param}: {exc.body['message']}")

# %% [markdown]
# ### 3.5 `max_completion_tokens`: the answer is cut, `finish_reason="length"`
#
# A cap on what the model may generate, and therefore on what you pay for the answer. When the cap
# is hit the text simply stops, mid-sentence if need be, and `finish_reason` says `"length"`.
# **Always check it**: a cut answer looks like a complete one to code that only reads the text.

# %%
story = "Write a short story about a robot"
full = ask(story, temperature=0)
cut = ask(story, temperature=0, max_completion_tokens=12)
print(
    "uncapped:",
    full.usage.completion_tokens,
    "tokens, finish_reason =",
    full.choices[0].finish_reason,
)
print(
    "capped:  ",
    cut.usage.completion_tokens,
    "tokens, finish_reason =",
    cut.choices[0].finish_reason,
)
print("text:    ", repr(cut.choices[0].message.content))

# %% [markdown]
# `max_tokens` is the older name of the same cap. It still works on non-reasoning models, and you
# will see it in most tutorials; reasoning models reject it and want `max_completion_tokens`.

# %%
legacy = ask(story, temperature=0, max_tokens=12)
print(
    legacy.choices[0].finish_reason,
    legacy.usage.completion_tokens,
    repr(legacy.choices[0].message.content),
)

# %% [markdown]
# ### 3.6 `stop`: end before a string
#
# Generation stops just **before** the first stop sequence; the sequence itself is not in the text,
# and `finish_reason` is `"stop"`, the same value as a natural end. Up to four sequences.

# %%
counting = ask("Count from 1 to 10", temperature=0)
stopped = ask("Count from 1 to 10", temperature=0, stop=["5"])
print("no stop:  ", repr(counting.choices[0].message.content), counting.choices[0].finish_reason)
print("stop='5': ", repr(stopped.choices[0].message.content), stopped.choices[0].finish_reason)

# %% [markdown]
# ### 3.7 `seed`: reproducible sampling
#
# With a `seed`, the same request samples the same way, even at `temperature=1`: the same seed
# gives the same answer, a different seed a different one. OpenAI calls this *best effort*: a change
# on their side (visible as a different `system_fingerprint`, section 4) can still change answers.

# %%
prompt = "Describe a good morning routine for programmers in one sentence"
first = ask(prompt, temperature=1, seed=42).choices[0].message.content
again = ask(prompt, temperature=1, seed=42).choices[0].message.content
other = ask(prompt, temperature=1, seed=7).choices[0].message.content
print("seed=42:", first)
print("seed=42:", again)
print("seed=7: ", other)
print("same seed, same text:      ", first == again)
print("other seed, different text:", first != other)

# %% [markdown]
# ### 3.8 `n`: several answers in one request
#
# `n=3` returns three `choices`, each with its own `index`, text and `finish_reason`. The prompt is
# sent (and billed) once, but you pay for the output tokens of **all** the choices.

# %%
several = ask("Tell me a joke", n=3, temperature=1)
for choice in several.choices:
    print(choice.index, choice.finish_reason, "|", choice.message.content)
print("completion_tokens (all three choices together):", several.usage.completion_tokens)

# %% [markdown]
# ## 4. The response object, field by field
#
# `create()` returns a `ChatCompletion`, a typed (pydantic) object: attribute access, autocompletion
# in JupyterLab, and `model_dump()` when you need a plain dict.

# %%
from datetime import UTC, datetime

response = client.chat.completions.create(
    model=MODEL,
    messages=[{"role": "user", "content": "What is the capital of France?"}],
)
print("id:                ", response.id)
print("object:            ", response.object)
created = datetime.fromtimestamp(response.created, UTC)
print(
    "created:           ", type(response.created).__name__, "(Unix seconds) =", created.isoformat()
)
print("model:             ", response.model)
print("system_fingerprint:", response.system_fingerprint)
print("service_tier:      ", response.service_tier)

# %% [markdown]
# `model` is the model that **actually** answered. Live, an alias such as `gpt-5.4-mini` comes back
# as a dated snapshot (`gpt-5.4-mini-2026-03-17`; the simulated provider echoes the name you sent):
# log this field, not the one you sent. The `system_fingerprint` identifies the backend
# configuration: if it changes, a `seed` may no longer reproduce earlier answers.
#
# The answer lives in `choices`, one per `n`:

# %%
choice = response.choices[0]
print("index:        ", choice.index)
print("role:         ", choice.message.role)
print("content:      ", choice.message.content)
print("refusal:      ", choice.message.refusal)
print("finish_reason:", choice.finish_reason)

# %% [markdown]
# * `refusal` is `None` unless the model declined (then `content` is empty and `refusal` says why):
#   check it before using `content`.
# * `finish_reason` is `"stop"` (natural end or a stop sequence), `"length"` (cut by the token cap),
#   `"tool_calls"` (the model wants to call a function), or `"content_filter"` (withheld).
#
# `usage` is what you are billed for:

# %%
usage = response.usage
print("prompt_tokens:    ", usage.prompt_tokens)
print("completion_tokens:", usage.completion_tokens)
print("total_tokens:     ", usage.total_tokens)
print("  cached prompt tokens:", usage.prompt_tokens_details.cached_tokens)
print("  reasoning tokens:    ", usage.completion_tokens_details.reasoning_tokens)

# %% [markdown]
# Cached prompt tokens (a long prompt prefix the API has seen recently) are billed at a discount;
# reasoning tokens are the hidden "thinking" of reasoning models, billed as output although you never
# see them.
#
# ### The request id and the headers
#
# Every response has a request id. Log it: it is what the provider's support asks for. The SDK puts
# it on the object as `_request_id` (a documented attribute despite the underscore). For the HTTP
# headers, call through `with_raw_response` and `.parse()` the body yourself.

# %%
print("request id:", response._request_id)

raw = client.chat.completions.with_raw_response.create(
    model=MODEL, messages=[{"role": "user", "content": "Say hello"}]
)
print("status:    ", raw.status_code)
for name in ("x-request-id", "content-type", "openai-version", "x-ratelimit-remaining-requests"):
    print(f"{name}: {raw.headers[name]}")
print("parsed:    ", raw.parse().choices[0].message.content)

# %% [markdown]
# ### As a plain dict
#
# `model_dump()` turns the response into plain Python data (to log it, store it, or compare it).
# `exclude_none=True` drops the many optional fields that are `None`:

# %%
dump = response.model_dump(exclude_none=True)
print("top-level keys:", sorted(dump))
print("choices[0]:    ", dump["choices"][0])
print("usage keys:    ", sorted(dump["usage"]))

# %% [markdown]
# ## 5. Models
#
# `client.models.list()` shows the models your key can use (live, the list depends on your account
# and changes over time). `models.retrieve(id)` fetches one. Model ids in tutorials go stale: check
# the list instead of trusting a name you copied.

# %%
ids = [model.id for model in client.models.list()]
print("first five:", ids[:5])
for name in (MODEL, "gpt-4o"):  # the course's model, and the module's
    print(name, "available:", name in ids)

model = client.models.retrieve(MODEL)
print(
    model.id,
    "| owned_by:",
    model.owned_by,
    "| created:",
    datetime.fromtimestamp(model.created, UTC).date(),
)

# %% [markdown]
# An unknown (or retired) model is a 404, raised as `openai.NotFoundError` with `code
# "model_not_found"`. A typo in the model name gives the same error, so read the message.

# %%
for name in ("gpt-9-ultra", "text-davinci-003"):
    try:
        client.chat.completions.create(model=name, messages=[{"role": "user", "content": "Hi"}])
    except openai.NotFoundError as exc:
        print(f"{exc.status_code} {exc.code}: {exc.body['message']}")

try:
    client.models.retrieve("gpt-9-ultra")
except openai.NotFoundError as exc:
    print("models.retrieve:", exc.status_code, exc.code)

# %% [markdown]
# ## 6. The same in Node.js
#
# The module shows each request in Node.js too, with the official SDK (`npm install openai`). The
# cells below run them for real: `%%node` (from `course_helpers.node_magic`) runs a cell as a
# Node.js module. Offline it starts a simulated provider over HTTP for the cell and points the SDK
# at it (`OPENAI_BASE_URL`, a simulated key); with your key in `.env` the cell goes to the real API.
# Without Node.js, the cell prints one line that says how to get it.

# %%
# %load_ext course_helpers.node_magic

# %% [markdown]
# The module's authentication and basic request, as it prints them (top-level `await` works because
# the cell is an ES module):

# %% language="node"
# import OpenAI from 'openai';
#
# const client = new OpenAI({
#   apiKey: process.env.OPENAI_API_KEY
# });
#
# const response = await client.chat.completions.create({
#     model: "gpt-4o",
#     messages: [
#         { role: "system", content: "You are a helpful assistant." },
#         { role: "user", content: "Explain API integration in one sentence." }
#     ],
#     temperature: 0.7,
#     max_tokens: 150
# });
#
# console.log(response.choices[0].message.content);

# %% [markdown]
# The same shape as Python: one object of parameters instead of keyword arguments. `new OpenAI()`
# with no options reads `OPENAI_API_KEY` itself, and the response carries the same fields:

# %% language="node"
# import OpenAI from "openai";
#
# const client = new OpenAI();
# const response = await client.chat.completions.create({
#   model: "gpt-5.4-mini",
#   messages: [
#     { role: "developer", content: "Answer in one word." },
#     { role: "user", content: "What is the capital of France?" },
#   ],
#   max_completion_tokens: 100,
# });
# console.log(response.choices[0].message.content, response.choices[0].finish_reason);
# console.log(response.usage.prompt_tokens, "in +", response.usage.completion_tokens, "out");

# %% [markdown]
# Errors are classes on the default export, with the same statuses as in Python:

# %% language="node"
# import OpenAI from "openai";
#
# const client = new OpenAI();
# try {
#   await client.chat.completions.create({ model: "gpt-9-ultra", messages: [{ role: "user", content: "Hi" }] });
# } catch (err) {
#   if (err instanceof OpenAI.NotFoundError) console.log(err.status, err.code, err.message);
#   else throw err;
# }

# %% [markdown]
# ## 7. The same request through the Responses API
#
# The module teaches Chat Completions, and so does this course: it is what most code in production
# and most tutorials use, and both providers' SDKs know it. OpenAI's newer endpoint,
# `client.responses.create` (`POST /v1/responses`), is the one its SDK's README now shows first.
# Here is the module's request both ways, side by side:

# %%
chat = client.chat.completions.create(
    model=MODEL,
    messages=[
        {"role": "developer", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Explain API integration in one sentence."},
    ],
    max_completion_tokens=150,
)
resp = client.responses.create(
    model=MODEL,
    instructions="You are a helpful assistant.",
    input="Explain API integration in one sentence.",
    max_output_tokens=150,
)
print("chat.completions:", chat.choices[0].message.content)
print("responses:       ", resp.output_text)
print("chat usage:      ", chat.usage.prompt_tokens, "in +", chat.usage.completion_tokens, "out")
print("responses usage: ", resp.usage.input_tokens, "in +", resp.usage.output_tokens, "out")
print("chat ended:      ", chat.choices[0].finish_reason, "| responses status:", resp.status)

# %% [markdown]
# | | Chat Completions | Responses |
# |---|---|---|
# | endpoint | `POST /v1/chat/completions` | `POST /v1/responses` |
# | the rules | a `developer` (or `system`) message | `instructions=` |
# | the prompt | `messages=[...]` | `input=`: a string, or a list of messages |
# | the cap | `max_completion_tokens` | `max_output_tokens` |
# | the text | `choices[0].message.content` | `output_text` (a shortcut over `output[...]`) |
# | a cut answer | `finish_reason == "length"` | `status == "incomplete"`, `incomplete_details.reason` |
# | usage | `prompt_tokens`, `completion_tokens` | `input_tokens`, `output_tokens` |
# | several answers | `n=` | none: one answer per request |
# | the conversation | you resend the history | you may resend it, or pass `previous_response_id` |
#
# The last row is the real difference. OpenAI stores a response (unless `store=False`), so the next
# turn can name it instead of resending the history. You still pay for the whole conversation as
# input: the input tokens grow just as they do with Chat Completions.

# %%
first = client.responses.create(model=MODEL, input="What is the capital of France?")
second = client.responses.create(
    model=MODEL, input="How do you say hello in French?", previous_response_id=first.id
)
print("first: ", first.output_text, "|", first.usage.input_tokens, "input tokens")
print("second:", second.output_text, "|", second.usage.input_tokens, "input tokens")

# %% [markdown]
# A cut answer is not an exception here either; check `status`:

# %%
cut = client.responses.create(
    model=SAMPLING_MODEL, input="Write a short story about a robot", max_output_tokens=16
)
print(cut.status, cut.incomplete_details.reason, repr(cut.output_text))

# %% [markdown]
# ## Key takeaways
#
# * `OpenAI()` reads `OPENAI_API_KEY`; a missing key fails when the client is built, a wrong one
#   with a 401 on the first request. Never put a key in code.
# * `temperature` (0 – 2) and `top_p` (0 – 1) shape sampling; change one of them. `seed` makes
#   sampling reproducible (best effort); penalties (−2 – 2) reduce repetition.
# * Out-of-range values are a 400 `BadRequestError` naming the `param`: fix, don't retry.
# * Check `finish_reason`: `"length"` means the answer was cut by `max_completion_tokens`.
# * `n` multiplies the output you pay for. `usage` is the bill; `_request_id` is what support needs.
# * Reasoning models reject sampling parameters and `max_tokens`; check the model list and the
#   model's documentation before copying parameters from a tutorial.
# * The Responses API takes the same request as `instructions` + `input` + `max_output_tokens`,
#   answers in `output_text`, reports a cut answer in `status`, and can chain turns with
#   `previous_response_id` (you still pay for the whole conversation).
#
# ## Practise, then next
#
# * Exercise: [`ex01_first_calls`](../exercises/ex01_first_calls.ipynb) asks both providers the same
#   prompt and returns both answers in one shape; do it after notebook 02.
# * Previous: [`00_setup.ipynb`](00_setup.ipynb). Next: [`02_anthropic.ipynb`](02_anthropic.ipynb),
#   the same tour of Anthropic's Messages API, and every difference between the two, executed side
#   by side.
