# %% [markdown]
# # 06 · The integration layer: one client for both providers
#
# Notebooks 01–05 each solved one problem: two request shapes, streaming, errors, retries, rate
# limits, budgets. An application wants all of it behind **one** call. In this notebook you will:
#
# 1. run a typical multi-provider `LLMClient` and its usage example, and break it five ways;
# 2. use the course's `LLMClient`: routing by model name, one normalised response for both
#    providers, streaming with usage, and fallback to the other provider during an outage;
# 3. fan ten prompts out concurrently with asyncio, with a progress bar;
# 4. read the usage log: calls, errors, tokens and cost per model.

# %%
from course_helpers import setup

course = setup()

# %% [markdown]
# ## 1. A typical `LLMClient`, and where it breaks
#
# Here is the wrapper many courses ship (the course keeps it, defects included, in
# `course_helpers.seed.client`). Read it first; five lines are wrong:
#
# ```python
# from datetime import datetime
# from openai import OpenAI
# from anthropic import Anthropic
#
# class LLMClient:
#     def __init__(self, provider="openai", model="gpt-4o"):
#         self.provider, self.model = provider, model
#         self.client = OpenAI() if provider == "openai" else Anthropic()
#
#     def complete(self, messages, max_tokens=1024, temperature=None):
#         started = datetime.now()
#         extra = {} if temperature is None else {"temperature": temperature}
#         if self.provider == "openai":
#             response = self.client.chat.completions.create(
#                 model=self.model, messages=messages, max_tokens=max_tokens, **extra)
#             content = response.choices[0].message.content
#             input_tokens, output_tokens = response.usage.prompt_tokens, response.usage.completion_tokens
#         else:
#             response = self.client.messages.create(
#                 model=self.model, max_tokens=max_tokens, messages=messages, **extra)
#             content = response.content[0].text
#             input_tokens, output_tokens = response.usage.input_tokens, response.usage.output_tokens
#         latency_ms = (time.time() - started.timestamp()) * 1000
#         return LLMResponse(content, self.model, input_tokens, output_tokens, latency_ms)
#
#     def stream(self, messages, max_tokens=1024):
#         if self.provider == "openai":
#             for chunk in self.client.chat.completions.create(
#                     model=self.model, messages=messages, max_tokens=max_tokens, stream=True,
#                     stream_options={"include_usage": True}):
#                 if chunk.choices[0].delta.content:
#                     yield chunk.choices[0].delta.content
#         else:
#             with self.client.messages.stream(
#                     model=self.model, max_tokens=max_tokens, messages=messages) as stream:
#                 yield from stream.text_stream
# ```
#
# Its usage example switches providers by changing one word:

# %%
from course_helpers.seed.client import LLMClient as SeedLLMClient

MESSAGES = [{"role": "user", "content": "Tell me a joke"}]

try:
    seed_client = SeedLLMClient(provider="anthropic")
    response = seed_client.complete(MESSAGES)
    print(f"{response.content} ({response.latency_ms:.0f} ms)")
except Exception as exc:
    print(f"{type(exc).__module__}.{type(exc).__name__}: {exc}")

# %% [markdown]
# **Defect 1: the default model is `gpt-4o` for every provider**, so `provider="anthropic"` sends
# an OpenAI model name to Anthropic, which answers 404. Fine, we name a Claude model.
# The simulated provider records each request, so we can see what it cost:

# %%
from course_helpers.fake import FakeProvider

with FakeProvider() as fake:
    try:
        SeedLLMClient(provider="anthropic", model="claude-haiku-5-5").complete(MESSAGES)
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}")
print("requests sent:", [(call.provider, call.status) for call in fake.calls])

# %% [markdown]
# **Defect 2: `time` is never imported.** Worse than it looks: the request went out, the answer
# came back (status 200, tokens billed), and then the wrapper crashed on the latency line, so the
# caller paid for an answer it never got.
#
# **Defect 3: `response.content[0].text` assumes the first content block is text.** With extended
# thinking (or a tool call) the first block is something else. The simulated provider does not
# think, so this reply is canned: a real Anthropic response with a thinking block first, served by
# an `httpx2.MockTransport`.

# %%
import httpx2
from anthropic import Anthropic

THINKING_FIRST = {
    "id": "msg_canned0001", "type": "message", "role": "assistant", "model": "claude-haiku-5-5",
    "content": [
        {"type": "thinking", "thinking": "A short programming joke.", "signature": "c2ln"},
        {"type": "text", "text": "Why did the developer go broke? Because he used up all his cache."},
    ],
    "stop_reason": "end_turn", "stop_sequence": None,
    "usage": {"input_tokens": 14, "output_tokens": 30},
}  # fmt: skip


def canned_anthropic():
    transport = httpx2.MockTransport(lambda request: httpx2.Response(200, json=THINKING_FIRST))
    return Anthropic(api_key="canned", http_client=httpx2.Client(transport=transport))


# %%
seed_client = SeedLLMClient(provider="anthropic", model="claude-haiku-5-5")
seed_client.client = canned_anthropic()
try:
    seed_client.complete(MESSAGES)
except AttributeError as exc:
    print(f"{type(exc).__name__}: {exc}")

# %% [markdown]
# **Defect 4: the OpenAI stream dies at its last chunk.** With
# `stream_options={"include_usage": True}` (the only way to get token usage from a stream), the
# final chunk carries the usage and an **empty** `choices` list, so `chunk.choices[0]` raises
# `IndexError`: after all the text arrived, so it looks like it worked until the very end.

# %%
received = []
try:
    for delta in SeedLLMClient(provider="openai", model="gpt-5.4-mini").stream(MESSAGES):
        received.append(delta)
except IndexError as exc:
    print(f"{type(exc).__name__}: {exc}")
print("text received before the crash:", repr("".join(received)))

# %% [markdown]
# **Defect 5: `temperature=` is no longer accepted by `anthropic`'s `messages.create`.** In the
# 2.x SDK, `temperature`, `top_p` and `top_k` travel in `extra_body`; as keyword arguments they are
# a `TypeError`, raised before anything is sent. Older tutorials pass them directly.

# %%
try:
    SeedLLMClient(provider="anthropic", model="claude-haiku-5-5").complete(
        MESSAGES, temperature=0.2
    )
except TypeError as exc:
    print(f"{type(exc).__name__}: {exc}")

# %% [markdown]
# And what is missing: no timeout, no retries (and the SDKs' own two retries left on), no rate
# limiting, no cost, no record of what was spent.
#
# ## 2. The course's `LLMClient`
#
# `course_helpers.client.LLMClient` fixes each defect and wires in notebooks 04 and 05: the
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
for model in ("gpt-5.4-mini", "claude-haiku-5-5"):
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
#
# **Defect 3, fixed.** The same canned reply with a thinking block first: the client joins the text
# blocks and skips the rest.

# %%
reply = LLMClient(model="claude-haiku-5-5", anthropic_client=canned_anthropic()).complete(MESSAGES)
print(repr(reply.content), "|", reply.output_tokens, "output tokens")

# %% [markdown]
# **Streaming with usage.** `client.stream(...)` yields text deltas; once the stream is read to the
# end, `.response` is the whole `LLMResponse`, usage and time to first token included. For OpenAI it
# asks for the usage chunk and handles its empty `choices` (defect 4).

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

with Progress(len(prompts), "slogans") as progress:
    replies = await asyncio.gather(
        *(progress.track(client.acomplete(p, max_tokens=60, temperature=0)) for p in prompts)
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
# ## Next
#
# The exercises: build your own classifier, retry loop and limiter, and let `check(...)` try to
# break them.
