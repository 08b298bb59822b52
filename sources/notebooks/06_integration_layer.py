# %% [markdown]
# # 06 · The integration layer: one client for both providers
#
# Notebooks 01–05 each solved one problem: two request shapes, streaming, errors, retries, rate
# limits, budgets. An application wants all of it behind **one** call. In this notebook you will:
#
# 1. run the module's own `LLMClient` and its usage example (its section 6, verbatim):
#    what works, and each way it breaks;
# 2. use the course's `LLMClient`: routing by model name, one normalised response for both
#    providers, streaming with usage, and fallback to the other provider during an outage;
# 3. fan ten prompts out concurrently with asyncio, with a progress bar;
# 4. read the usage log: calls, errors, tokens and cost per model.

# %%
from course_helpers import setup

course = setup()

# %% [markdown]
# ## 1. The module's `LLMClient`, run as written
#
# Section 6 of the module ("Production-Ready LLM Client") gives `Provider`, `LLMResponse` and
# `LLMClient`; the course keeps them **verbatim** in `course_helpers/seed/client.py` (a test compares
# them with the module's text). The block uses `OpenAI`, `Anthropic` and `time` without importing
# them. The file adds the first two above its verbatim part (sections 1 and 2 of the module import
# them), and deliberately **not** `time`. Its usage example, exactly as printed, comes first:

# %%
from IPython import get_ipython

from course_helpers.seed.client import LLMClient, Provider

get_ipython().run_line_magic("xmode", "Minimal")  # an error in one line, not the SDK's internals
# ruff: noqa: F821  (the next cell is the module's, verbatim: it uses `os` without importing it)

# %% tags=["raises-exception"]
# Initialize client
llm = LLMClient(
    openai_key=os.environ["OPENAI_API_KEY"],
    anthropic_key=os.environ["ANTHROPIC_API_KEY"],
    default_provider=Provider.OPENAI
)

# Simple completion
response = llm.complete(
    messages=[{"role": "user", "content": "Hello!"}],
    system="You are a friendly assistant.",
    temperature=0.7
)
print(response.content)
print(f"Tokens: {response.input_tokens} + {response.output_tokens}")

# Streaming
for token in llm.stream(
    messages=[{"role": "user", "content": "Write a haiku"}],
    provider=Provider.ANTHROPIC
):
    print(token, end="", flush=True)

# %% [markdown]
# **`os` is not imported**: the module imports it only later, in section 7, so run in the module's
# order the usage example stops on its first line. To run it again under other conditions, we
# take its text from the module (kept in `course_helpers/seed/module-02.txt`) and `exec` it with
# `os` imported, printing the exception it ends with and the requests the provider received:

# %%
import os
import re
from pathlib import Path

from course_helpers.fake import FakeProvider
from course_helpers.seed import client as module_client

MODULE_TEXT = Path(module_client.__file__).with_name("module-02.txt").read_text()
USAGE = re.search(r"```python\n(# Initialize client\n.*?)```", MODULE_TEXT, re.S)[1]


def run_usage_example():
    with FakeProvider() as fake:
        try:
            exec(USAGE, {"os": os, "LLMClient": LLMClient, "Provider": Provider})
            print()
        except Exception as exc:
            print(f"-> {type(exc).__module__}.{type(exc).__name__}: {str(exc)[:90]}")
    print("requests:", [(c.provider, c.body["model"], c.status) for c in fake.calls if c.method == "POST"])


# %% [markdown]
# A learner with only an OpenAI key (we remove `ANTHROPIC_API_KEY` for this one run):

# %%
saved_key = os.environ.pop("ANTHROPIC_API_KEY")
run_usage_example()
os.environ["ANTHROPIC_API_KEY"] = saved_key

# %% [markdown]
# **`KeyError: 'ANTHROPIC_API_KEY'`**, although the client takes each key as optional: the
# example reads both with `os.environ[...]`. With both keys:

# %%
run_usage_example()

# %% [markdown]
# **`time` is not imported**: `complete()` starts with `start_time = time.time()`, so it raises
# `NameError` before sending anything (no request, nothing billed). We add the missing import to
# the module's namespace, as a learner would, and run the example again:

# %%
import time

module_client.time = time
run_usage_example()

# %% [markdown]
# **Where the module is right:** the OpenAI completion works. The system prompt goes first in the
# messages, and the tokens and latency come back. Then the stream fails: **`stream()` defaults to
# `model="gpt-4o"` for every provider**, so `provider=Provider.ANTHROPIC` sends an OpenAI model
# name to Anthropic, which answers 404.
#
# Name a Claude model, and `complete()` fails for another reason: **every Anthropic `complete()`
# passes `temperature`** (0.7 by default), and the installed `anthropic` SDK no longer takes it
# as a keyword argument, so it raises `TypeError` before anything is sent. (The first line below is
# the client's own `logger.error`, printed by Python's last-resort handler.)

# %%
import anthropic

llm = LLMClient(openai_key=os.environ["OPENAI_API_KEY"],
                anthropic_key=os.environ["ANTHROPIC_API_KEY"])  # as in the usage example  # fmt: skip
with FakeProvider() as fake:
    try:
        llm.complete([{"role": "user", "content": "Hello!"}], model="claude-haiku-5-5",
                     provider=Provider.ANTHROPIC)  # fmt: skip
    except TypeError as exc:
        print(f"anthropic {anthropic.__version__}: {type(exc).__name__}: {exc}")
print("requests:", len(fake.calls))

# %% [markdown]
# **A provider without a key** is `None` inside the client, so routing to it is an
# `AttributeError` instead of a message saying which key is missing:

# %%
openai_only = LLMClient(openai_key=os.environ["OPENAI_API_KEY"])
try:
    next(openai_only.stream([{"role": "user", "content": "Hi"}], model="claude-haiku-5-5",
                            provider=Provider.ANTHROPIC))  # fmt: skip
except AttributeError as exc:
    print(f"{type(exc).__name__}: {exc}")

# %% [markdown]
# **Where the module is right:** both streams work when given a model of the right provider (the
# OpenAI stream does not ask for usage, so it never meets the usage-only last chunk):

# %%
for model, provider in (("gpt-4o", Provider.OPENAI), ("claude-haiku-5-5", Provider.ANTHROPIC)):
    text = "".join(llm.stream([{"role": "user", "content": "Write a haiku"}], model=model,
                              provider=provider))  # fmt: skip
    print(f"{model}: {text[:70]!r}")

# %% [markdown]
# ## 2. The course's `LLMClient`
#
# `course_helpers.client.LLMClient` avoids each of those failures and wires in notebooks 04 and 05: the
# retry layer (with the SDKs' own retries off), an optional `RateLimiter`, an optional
# `TokenBudget`, a usage log, and fallbacks.
#
# **Routing.** The model name decides the provider; a provider alone gets that provider's default
# model; a mismatch is an error that says what to do.

# %%
from course_helpers.client import LLMClient

print(LLMClient(model="claude-haiku-5-5"))
print(LLMClient(provider="anthropic"))
try:
    LLMClient(provider="anthropic", model="gpt-4o")
except ValueError as exc:
    print(f"{type(exc).__name__}: {exc}")

# %% [markdown]
# **One call, one response shape.** The same question to both providers. `LLMResponse` has the same
# fields whichever provider answered: the text, the tokens, a `finish_reason` in common words
# (`stop`, `length`, ...) next to the provider's own (`stop` vs `end_turn`), the latency and the
# cost from the model catalogue. A `UsageLog` records every call (section 4).

# %%
from course_helpers.usage import UsageLog

usage_log = UsageLog()
for model in ("gpt-4.1-mini", "claude-haiku-5-5"):  # gpt-5.4-mini takes only temperature 1
    client = LLMClient(model=model, usage_log=usage_log)
    reply = client.complete("What is the capital of France?", max_tokens=100, temperature=0.2)
    print(f"{reply.provider:<9} {reply.model:<16} {reply.content!r}")
    print(
        f"          tokens {reply.input_tokens} in + {reply.output_tokens} out, "
        f"finish_reason {reply.finish_reason!r} (raw {reply.raw_finish_reason!r}), "
        f"cost ${reply.cost_usd:.6f}, latency {reply.latency_s:.3f} s"
    )

# %% [markdown]
# `temperature=0.2` worked for Claude too: the client puts it where each SDK wants it.

# %% [markdown]
# **Streaming with usage.** `client.stream(...)` yields text deltas; once the stream is read to the
# end, `.response` is the whole `LLMResponse`, usage and time to first token included. For OpenAI it
# asks for the usage chunk (the module's stream does not, so it has no usage) and handles that
# chunk's empty `choices`.

# %%
stream = LLMClient(model="gpt-5.4-mini", usage_log=usage_log).stream(
    "Count from 1 to 10", max_tokens=100
)
for delta in stream:
    print(delta, end="", flush=True)
print()
final = stream.response
print(
    f"{final.output_tokens} output tokens, finish_reason {final.finish_reason!r}, "
    f"first token after {final.time_to_first_token_s:.3f} s"
)

# %% [markdown]
# **Fallbacks.** An outage at OpenAI: its next three requests fail with 503. The client retries
# (three attempts, honouring `retry-after`; we record the sleeps instead of waiting), then falls
# back to Claude. The response says who answered and who was asked first.

# %%
from course_helpers.retry import RetryPolicy

slept = []
with FakeProvider() as fake:
    fake.fail_next(503, times=3, provider="openai", retry_after_ms=50)
    client = LLMClient(
        model="gpt-5.4-mini", fallbacks=["claude-haiku-5-5"], usage_log=usage_log,
        retry=RetryPolicy(max_attempts=3), sleep=slept.append,
    )  # fmt: skip
    reply = client.complete("Say hello", max_tokens=50)

print("requests:", [(call.provider, call.status) for call in fake.calls], "| slept:", slept)
print(
    f"answered by {reply.provider}/{reply.model}, fallback from {reply.fallback_from}: {reply.content!r}"
)

# %% [markdown]
# Only errors another provider might not have trigger a fallback: retriable ones after the retries
# ran out, an exhausted quota, an unknown or retired model. A bad request or a wrong key is raised
# at once: another provider would not fix it.
#
# ## 3. Fan-out with asyncio
#
# Ten independent prompts do not need to wait for each other. `acomplete` is the asyncio twin of
# `complete`; `asyncio.gather` runs them concurrently, and a progress bar counts them as they
# finish. (Give the client a `limiter=RateLimiter(...)` and the fan-out stays under your rate
# limits too.)

# %%
import asyncio

from course_helpers.display import Progress

prompts = [
    "What is the capital of France?", "Tell me a joke", "Write a haiku about programming",
    "Write a haiku about APIs", "Explain quantum computing simply", "Count from 1 to 10",
    "What is 2 plus 2?", "Why stream responses? Name one benefit.", "How do you say hello in French?",
    "Say this is a test",
]  # fmt: skip
client = LLMClient(model="gpt-5.4-mini", usage_log=usage_log)

with Progress(len(prompts), "answers") as progress:
    replies = await asyncio.gather(
        *(progress.track(client.acomplete(p, max_tokens=60, seed=0)) for p in prompts)
    )

# %%
for prompt, reply in zip(prompts, replies, strict=True):
    print(f"{prompt[:34]:<35} -> {reply.content[:60]!r}")
print(len(replies), "answers,", sum(r.total_tokens for r in replies), "tokens,",
      f"${sum(r.cost_usd for r in replies):.6f}")  # fmt: skip

# %% [markdown]
# ## 4. The usage log
#
# Every call above wrote one row per model tried: the fallback's failed OpenAI attempt is there as
# an error. `summary()` totals the rows per provider and model. The token and cost columns:

# %%
summary = usage_log.summary()
print(f"{'provider':<10} {'model':<17} {'calls':>5} {'errors':>6} {'tokens':>7} {'cost_usd':>9}")
for row in summary:
    print(
        f"{row['provider']:<10} {row['model']:<17} {row['calls']:>5} {row['errors']:>6} "
        f"{row['tokens']:>7} {row['cost_usd']:>9.6f}"
    )

# %% [markdown]
# The whole table, latency percentiles included, renders as HTML in JupyterLab. Latencies depend on
# the machine, so the course's tests do not compare this cell's output.

# %% tags=["nbval-ignore-output"]
summary

# %% [markdown]
# With `UsageLog(path="usage.sqlite")` the log survives a kernel restart, and `configure_logging()`
# prints one structured line per call (request ids, tokens, latency, outcome; never the prompt or a
# key), as JSON with `configure_logging(json=True)`.
#
# The same layer in Node.js, for reference, is a small switch over the two SDKs; the course's
# Python client is the pattern to copy:
#
# ```js
# async function complete(model, messages, maxTokens = 1024) {
#   if (model.startsWith("claude")) {
#     const r = await anthropic.messages.create({ model, max_tokens: maxTokens, messages });
#     const text = r.content.filter((b) => b.type === "text").map((b) => b.text).join("");
#     return { text, inputTokens: r.usage.input_tokens, outputTokens: r.usage.output_tokens };
#   }
#   const r = await openai.chat.completions.create({ model, messages, max_completion_tokens: maxTokens });
#   return { text: r.choices[0].message.content, inputTokens: r.usage.prompt_tokens,
#            outputTokens: r.usage.completion_tokens };
# }
# ```
#
# ## Key takeaways
#
# * Route by **model name**, not by a provider flag with a default model that belongs to the other
#   provider.
# * Normalise the response: join the **text** blocks, handle the usage-only chunk, map finish
#   reasons, and compute latency and cost for every call.
# * Send parameters where today's SDK wants them (`temperature` in `extra_body` for `anthropic` 2.x).
# * One retry layer (SDK retries off), then fall back to another provider only for errors it might
#   not share.
# * Log every call, failed ones included: the usage log is how you find out what you spent.
#
# ## Exercises and next
#
# Prove it with the auto-checked exercise of this notebook:
# [`ex07_multi_provider`](../exercises/ex07_multi_provider.ipynb) (one function, both providers,
# a fallback: the Knowledge Check's "build a multi-provider LLM client").
#
# Previous: [`05_rate_limits`](05_rate_limits.ipynb). Next:
# [`07_best_practices`](07_best_practices.ipynb): keys, timeouts, logging and monitoring; then
# [`08_knowledge_check`](08_knowledge_check.ipynb).
