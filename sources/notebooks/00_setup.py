# %% [markdown]
# # Module 2 · LLM API Integration
#
# *Module 2 of 12 · Building AI-Powered Applications · about 5 hours*
#
# **Learning objectives** (the module's own). By the end of this module, you will be able to:
#
# 1. Authenticate and connect to OpenAI and Anthropic APIs
# 2. Handle streaming responses for real-time output
# 3. Implement proper error handling and retry logic
# 4. Manage rate limits and quotas effectively
# 5. Build a production-ready API integration layer
#
# **Why.** In the module's words: "API integration is the foundation of every AI application.
# While it may seem simple to make an API call, production systems require handling dozens of
# edge cases: timeouts, rate limits, model unavailability, streaming responses, and graceful
# degradation." Each of those edge cases happens in a cell of this course, with no key needed.
#
# | notebook | the module's section | exercises | time |
# |---|---|---|---|
# | 00 · Setup (this one) | 1 and 2: setting up, keys | | 15 min |
# | [01 · OpenAI](01_openai.ipynb) | 1. OpenAI API Deep Dive | [ex01](../exercises/ex01_first_calls.ipynb) | 35 min |
# | [02 · Anthropic](02_anthropic.ipynb) | 2. Anthropic Claude API Integration | | 25 min |
# | [03 · Streaming](03_streaming.ipynb) | 3. Streaming Responses | [ex02](../exercises/ex02_stream_collector.ipynb) | 35 min |
# | [04 · Errors and retries](04_errors_and_retries.ipynb) | 4. Error Handling and Retries | [ex03](../exercises/ex03_classify_errors.ipynb), [ex04](../exercises/ex04_retry.ipynb) | 50 min |
# | [05 · Rate limits](05_rate_limits.ipynb) | 5. Rate Limiting and Quota Management | [ex05](../exercises/ex05_rate_limiter.ipynb), [ex06](../exercises/ex06_token_budget.ipynb), [ex08](../exercises/ex08_rpm_vs_tpm.ipynb) | 55 min |
# | [06 · Integration layer](06_integration_layer.ipynb) | 6. Building an API Integration Layer | [ex07](../exercises/ex07_multi_provider.ipynb) | 45 min |
# | [07 · Best practices](07_best_practices.ipynb) | 7. Best Practices | | 20 min |
# | [08 · Knowledge check](08_knowledge_check.ipynb) | Key Takeaways, Knowledge Check, Module 3 | | 20 min |
#
# Where the module's own code has a defect, the notebook runs that code as the module prints it,
# shows what really happens, and then does better.

# %% [markdown]
# # 00 · Setup: from nothing to a first call to each provider
#
# By the end of this notebook you will have:
#
# 1. checked that the course's packages are installed,
# 2. seen how API keys are kept out of code, notebooks and git,
# 3. run `setup()`, which decides **per provider** whether calls go to the real API or to the
#    course's *simulated provider*,
# 4. made a first call to OpenAI and to Anthropic, streamed an answer, and read the response headers.
#
# **Cost: zero.** Without a key, the simulated provider answers. It speaks the exact JSON and
# Server-Sent-Event formats of both APIs, sends their headers and their errors, so the code below is
# exactly the code you would run against the real APIs. Add a key later and the same cells go live.
#
# **What the simulated provider is, and is not.** It is not a language model. Everything on the wire
# is exact: the JSON, the stream events, the headers, the token counts, the errors, the rate limits.
# The words are not. The course's own prompts have hand-written answers; any other prompt gets text
# generated to the form it asks for (one sentence, three bullet points, a haiku, JSON) from the
# prompt's own words, with no facts and no reasoning behind it. Tool calls and structured outputs get
# arguments that fit their schemas. What it does not simulate (extended thinking, logprobs, images,
# audio, embeddings) fails with an error that says it needs a live key, never with a made-up answer.

# %% [markdown]
# ## 1. Is everything installed?
#
# The course needs Python 3.11 or newer and the current major versions of both official SDKs:
# `openai` 3.x and `anthropic` 2.x. Both are built on `httpx2`. Older tutorials written for
# `openai` 0.x (`openai.ChatCompletion.create`) or 1.x will not run unchanged: that is the most
# common reason a copied snippet fails.

# %%
import sys

import anthropic
import openai

checks = {
    "Python >= 3.11": sys.version_info >= (3, 11),
    "openai 3.x": openai.__version__.startswith("3."),
    "anthropic 2.x": anthropic.__version__.startswith("2."),
}
for name, ok in checks.items():
    print(f"{'ok ' if ok else 'MISSING'}  {name}")

# %% [markdown]
# ## 2. Keys: where they live, and where they must never be
#
# An API key is a password that spends money. The rules, in order of how often learners break them:
#
# * **Never in code or a notebook.** A key pasted into a cell ends up in the saved `.ipynb`, then in
#   git, then on GitHub, where bots find it within minutes.
# * **In a file named exactly `.env`** in the course folder (copy `.env.example`). Not `.env.txt`
#   (Windows hides the extension), not `env`, no quotes or spaces around the value.
# * **`.env` is listed in `.gitignore`**, so git never picks it up. Let's check that it is:

# %%
from pathlib import Path

gitignore = Path("..", ".gitignore").read_text().splitlines()
print(".env is ignored by git:", ".env" in gitignore)

# %% [markdown]
# When the course has to show a key, it shows it *masked*: enough to tell which key it is, never
# enough to use it. (The key below is made up on the spot.)

# %%
from course_helpers.keys import mask

made_up_key = "sk-proj-" + "Q7x" * 15 + "abcd"
mask(made_up_key)

# %% [markdown]
# ## 3. `setup()`: live or simulated?
#
# Every notebook of the course starts with the same two lines. `setup()` reads `.env` (searching
# upward from the notebook's folder), then decides per provider:
#
# | you have | that provider is |
# |---|---|
# | no key | **simulated**: the course's simulated provider answers |
# | a key in `.env` or the environment | **live**: the real API (real cost) |
# | `COURSE_MODE=offline` | simulated whatever keys you have (the course's tests do this) |
#
# It prints one short banner saying what it decided and why, and warns about the usual mistakes
# (a `.env.txt`, quotes around a key, an Anthropic key in `OPENAI_API_KEY`).

# %%
from course_helpers import setup

course = setup()

# %% [markdown]
# If something looks wrong, the **doctor** prints a report you can paste into a question: versions,
# which `.env` was read, problems with your keys (masked), and for live providers a one-token check
# that the key works. In a terminal: `python -m course_helpers.doctor`. Its output depends on your
# machine, so the course does not compare it when testing this notebook.

# %% tags=["nbval-ignore-output"]
from course_helpers import doctor

print(doctor.report(network=False))

# %% [markdown]
# ## 4. A first call to OpenAI
#
# This is the snippet from OpenAI's documentation, unchanged. `OpenAI()` reads `OPENAI_API_KEY` from
# the environment; offline, `setup()` put a placeholder there and the simulated provider answers.

# %%
from openai import OpenAI

client = OpenAI()

response = client.chat.completions.create(
    model="gpt-5.4-mini",
    messages=[
        {"role": "developer", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What is the capital of France?"},
    ],
)
print(response.choices[0].message.content)

# %% [markdown]
# The answer is one field of a larger object. Three other fields matter in production: which model
# answered, why it stopped, and how many tokens you paid for.

# %%
print("model:        ", response.model)
print("finish_reason:", response.choices[0].finish_reason)
print(
    "usage:        ", response.usage.prompt_tokens, "in +", response.usage.completion_tokens, "out"
)

# %% [markdown]
# ## 5. A first call to Anthropic
#
# Anthropic's Messages API looks similar, with two differences you will meet again in notebook 02:
# `max_tokens` is **required**, and the answer is a list of *content blocks*, not one string.

# %%
from anthropic import Anthropic

claude = Anthropic()

message = claude.messages.create(
    model="claude-haiku-5-5",
    max_tokens=200,
    messages=[{"role": "user", "content": "Write a haiku about programming"}],
)
print(message.content[0].text)
print(
    "stop_reason:",
    message.stop_reason,
    "| usage:",
    message.usage.input_tokens,
    "in +",
    message.usage.output_tokens,
    "out",
)

# %% [markdown]
# ## 6. Streaming, a first taste
#
# With `stream=True` the answer arrives token by token as Server-Sent Events, so a user sees text
# after a fraction of a second instead of waiting for the whole answer. Notebook 03 covers streaming
# in depth; here is the shape of it with each SDK. (Offline, the simulated provider waits between
# tokens like a real model does, so you can watch the text arrive.)

# %%
stream = client.chat.completions.create(
    model="gpt-5.4-mini",
    messages=[{"role": "user", "content": "Count from 1 to 10"}],
    stream=True,
)
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        print(chunk.choices[0].delta.content, end="", flush=True)
print()

# %%
with claude.messages.stream(
    model="claude-haiku-5-5",
    max_tokens=200,
    messages=[{"role": "user", "content": "Tell me a joke"}],
) as claude_stream:
    for text in claude_stream.text_stream:
        print(text, end="", flush=True)
print()

# %% [markdown]
# ## 7. Reading the response headers
#
# Some of the most useful information is not in the body but in the HTTP headers: the request id
# (quote it when you ask the provider's support about a call) and your remaining rate limit. Neither
# SDK parses the rate-limit headers for you; `with_raw_response` gives you the raw response.

# %%
raw = client.chat.completions.with_raw_response.create(
    model="gpt-5.4-mini",
    messages=[{"role": "user", "content": "Say hello"}],
)
print("request id:", raw.request_id)
for name in (
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-remaining-tokens",
):
    print(f"{name}: {raw.headers[name]}")
print("answer:", raw.parse().choices[0].message.content)

# %% [markdown]
# ## 8. What went over the wire
#
# Offline, the simulated provider records every request it answered. Notice the `key` column: even
# the simulated provider only ever keeps keys masked.

# %%
if course.fake is not None:
    for call in course.fake.calls:
        key = call.headers.get("x-api-key") or call.headers.get("authorization")
        print(f"{call.provider:<9} {call.method} {call.path:<22} {call.status}  {key}")

# %% [markdown]
# ## Next
#
# You are set up. Next, [`01_openai.ipynb`](01_openai.ipynb) explores every parameter of a chat
# completion and the response object field by field. If you have keys, put them in `.env`, restart the kernel and
# run this notebook again: the banner will say **live**.
