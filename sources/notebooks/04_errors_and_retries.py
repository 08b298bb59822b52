# %% [markdown]
# # 04 · Errors and retries: what fails, what to retry, how long to wait
#
# Every LLM API call can fail, and in production some will. What matters is telling apart the
# failures that **go away if you wait** (a rate limit, an overloaded server, a dropped connection)
# from those that **never will** (a bad parameter, a wrong key, an empty account), and then
# waiting the right amount of time.
#
# In this notebook you will:
#
# 1. trigger every row of the usual error table, one after another, and see which exception each
#    SDK raises and what the course's `classify()` makes of it;
# 2. watch the SDKs retry by themselves, and see how a retry loop around them multiplies requests;
# 3. run the module's own retry loop (its section 4, verbatim) against the same faults: where it
#    is right, and its four real flaws;
# 4. run the course's `call_with_retry`, then the module's tenacity decorator and a fixed one;
# 5. plot backoff schedules with and without jitter.
#
# Nothing here really waits: the faults are injected into the simulated provider, and every retry
# loop gets a *recording* `sleep` that writes down how long it would have slept.

# %%
from course_helpers import setup

course = setup()

# %% [markdown]
# ## 1. The error table, row by row
#
# Tutorials summarise API errors in a table like this one. Instead of reading it, we will make
# each row happen.
#
# | status | meaning | retry? |
# |---|---|---|
# | 400 | bad request: a parameter out of range, the prompt too long for the context window | no: fix the request |
# | 401 / 403 | key missing or wrong / key not allowed to use this | no: fix the key |
# | 404 | unknown or retired model, wrong URL | no: fix the name |
# | 429 | **either** too many requests/tokens per minute **or** out of credit (`insufficient_quota`) | rate limit: yes, after `retry-after`; quota: never |
# | 500 / 503 | the provider failed / is overloaded | yes, with backoff |
# | 529 | Anthropic is overloaded | yes, with backoff (or fall back) |
# | — | timeout, dropped connection | yes |
# | 200 + error event | the stream broke **after** it started | only if you can throw away what you got |
#
# `FakeProvider` is the simulated provider; `fake.fail_next(...)` makes its next request fail in a
# chosen way. The clients below are plain SDK clients with **`max_retries=0`**, so we see each
# error as it arrives instead of the SDK quietly retrying it (section 2 is about those retries).

# %%
from anthropic import Anthropic
from openai import OpenAI

from course_helpers.errors import classify
from course_helpers.fake import FakeProvider

gpt = OpenAI(max_retries=0, timeout=0.5)
claude = Anthropic(max_retries=0, timeout=0.5)
wrong_key = OpenAI(api_key="not-a-real-key", max_retries=0)
HELLO = [{"role": "user", "content": "Hi"}]


def ask_gpt(model="gpt-5.4-mini", client=gpt, **kwargs):
    return client.chat.completions.create(model=model, messages=HELLO, **kwargs)


def ask_claude(model="claude-haiku-5-5", **kwargs):
    return claude.messages.create(model=model, max_tokens=50, messages=HELLO, **kwargs)


def stream_gpt():
    for _chunk in ask_gpt(stream=True):
        pass


def stream_claude():
    for _event in ask_claude(stream=True):
        pass


# %% [markdown]
# Each row: a name, the fault to inject (or `None` when a bad request is enough), and the call.
# `BROKEN_STREAM` makes the server send an error event after two tokens of a streamed answer.

# %%
BROKEN_STREAM = {"mid_stream": True, "after_tokens": 2}
ROWS = [
    ("400 bad parameter", None, lambda: ask_gpt(temperature=3)),
    ("401 wrong key", None, lambda: ask_gpt(client=wrong_key)),
    ("403 not allowed", {"status": 403}, ask_gpt),
    ("404 retired model", None, lambda: ask_claude(model="claude-3-haiku-20240307")),
    ("429 rate limit", {"status": 429, "retry_after": 7}, ask_gpt),
    ("429 insufficient_quota", {"status": 429, "quota": True}, ask_gpt),
    ("500 server error", {"status": 500}, ask_gpt),
    ("503 overloaded (OpenAI)", {"status": 503}, ask_gpt),
    ("529 overloaded (Anthropic)", {"status": 529}, ask_claude),
    ("timeout (server hangs)", {"hang": True}, ask_gpt),
    ("dropped connection", {"drop": True}, ask_gpt),
    ("context length exceeded", {"context_length": True}, ask_gpt),
    ("in-stream error (OpenAI)", BROKEN_STREAM | {"provider": "openai"}, stream_gpt),
    ("in-stream error (Anthropic)", BROKEN_STREAM | {"provider": "anthropic"}, stream_claude),
]

# %% [markdown]
# Now run them all. For each row we print the exception the SDK raised, then what `classify()`
# says: its class in the course's error tree, whether a retry can succeed, and how long the server
# asked us to wait (`retry_after`, from the `retry-after` header).

# %%
errors = {}
row = "{:<28} {:<30} {:<22} {:<9} {}".format
print(row("fault", "SDK raised", "classify(e)", "retriable", "retry_after"))
with FakeProvider() as fake:
    for name, fault, call in ROWS:
        if fault:
            fake.fail_next(**fault)
        try:
            call()
            print(row(name, "no error!", "", "", ""))
        except Exception as exc:
            error = errors[name] = classify(exc)
            sdk = f"{type(exc).__module__.split('.')[0]}.{type(exc).__name__}"
            print(row(name, sdk, type(error).__name__, str(error.retriable), error.retry_after))

# %% [markdown]
# Read the table from the SDK column first, and notice what it **cannot** tell you:
#
# * The two 429 rows raise the **same** `openai.RateLimitError`. One is worth waiting for
#   (`retry_after=7.0`); the other is an empty account, and no amount of waiting adds credit. Only
#   the error body (`"code": "insufficient_quota"`) tells them apart, so `classify()` reads it.
# * OpenAI has no 529: when it is overloaded it answers 503. Anthropic's 529 has its own class.
# * A timeout and a dropped connection never got a status code at all.
# * An error **inside a stream** arrives after a `200 OK`: OpenAI raises a bare `APIError`,
#   Anthropic an `APIStatusError` whose `status_code` is 200. Neither SDK retries these.
#
# The course's errors also say what to do. Compare the SDK's message for the quota error with ours:

# %%
quota = errors["429 insufficient_quota"]
print("SDK:   ", quota.__cause__)
print("course:", quota)

# %% [markdown]
# ## 2. The SDKs retry by themselves
#
# Both SDKs default to `max_retries=2`: a 408, 409, 429 or 5xx (529 included), a timeout or a
# dropped connection is retried twice before you see an exception. They honour the server's
# `retry-after-ms` / `retry-after` when it sends one, and otherwise wait 0.5 s, 1 s, ... (up to
# 8 s, minus up to 25% jitter). Each attempt carries an `x-stainless-retry-count` header, so the
# simulated provider's request log shows them:

# %%
with FakeProvider() as fake:
    fake.fail_next(503, times=2, retry_after_ms=10)
    reply = OpenAI().chat.completions.create(model="gpt-5.4-mini", messages=HELLO)

print("answer:", reply.choices[0].message.content)
for call in fake.calls:
    print(f"  status {call.status}, x-stainless-retry-count: {call.retry_count}")

# %% [markdown]
# One call, three requests, and your code never knew. That is fine on its own. It goes wrong as
# soon as you add **your own** retry loop around it: every attempt of your loop is up to three
# requests. A loop of 3 attempts around the default client, against a provider that is down:

# %%
import openai

with FakeProvider() as fake:
    fake.fail_next(503, times=20, retry_after_ms=10)
    client = OpenAI()  # max_retries=2, the default
    for _attempt in range(3):  # "our" retry loop
        try:
            client.chat.completions.create(model="gpt-5.4-mini", messages=HELLO)
            break
        except openai.InternalServerError:
            continue  # (a real loop would sleep here)

print("attempts in our loop:", 3, "| requests the provider received:", len(fake.calls))

# %% [markdown]
# 3 × 3 = **9 requests** for one logical call, each one burning rate limit while the provider is
# already struggling. The rule: **one retry layer**. If you write your own, create the client
# with `max_retries=0` (or `client.with_options(max_retries=0)`).
#
# ## 3. The module's retry loop, run as written
#
# Section 4 of the module ("Robust Error Handling Pattern") gives `call_llm_with_retry`. The course
# keeps it **verbatim** in `course_helpers/seed/retry.py` (a test compares it with the module's
# text; nothing had to be added, the block imports all it uses). Here it is, as printed:

# %%
import inspect

from course_helpers.seed import retry as module_retry

print(inspect.getsource(module_retry.call_llm_with_retry))

# %% [markdown]
# It catches `RateLimitError` and `APIConnectionError` and backs off 1 s, 2 s, ...; it retries an
# `APIError` with a status of 500 or more and re-raises any other; on the last attempt it re-raises
# the error itself. We run it against the faults of section 1 with two harmless changes around it,
# not in it: its `time.sleep` records instead of sleeping (`with_globals` runs the same code with
# another `time`), and the client has `max_retries=0`, so we count only this loop's requests. Each
# fault is scripted to happen `times` times in a row; what the loop prints is shown as it is.

# %%
from types import SimpleNamespace

from course_helpers.seed.clocked import with_globals


def run_module(times=3, client_retries=0, **fault):
    slept = []
    loop = with_globals(module_retry.call_llm_with_retry, time=SimpleNamespace(sleep=slept.append))
    with FakeProvider() as fake:
        fake.fail_next(times=times, **fault)
        try:
            result = repr(loop(OpenAI(max_retries=client_retries), HELLO)[:40])
        except Exception as exc:
            result = f"raised {type(exc).__module__}.{type(exc).__name__}"
    print(f"  requests: {len(fake.calls)}, slept {slept} -> {result}")


# %% [markdown]
# **Where the module is right: a client error is not retried.** A prompt too long for the context
# window (a 400) is sent once and the SDK's `BadRequestError` reaches the caller unchanged:

# %%
run_module(context_length=True)

# %% [markdown]
# **Flaw 1: it retries an empty account.** `insufficient_quota` arrives as `openai.RateLimitError`
# (status 429), so the loop backs off 1 s, then 2 s, and asks twice more, although no amount of
# waiting adds credit. (It does re-raise the real error at the end.)

# %%
run_module(status=429, quota=True)

# %% [markdown]
# **Flaw 2: it ignores `retry-after`.** The server says "come back in 7 seconds"; the loop comes
# back after 1 second, then 2. The simulated fault ends after two requests whatever the timing; a
# real server would have refused both early retries.

# %%
run_module(times=2, status=429, retry_after=7)

# %% [markdown]
# **Flaw 3: retries multiply.** The module builds its client as `OpenAI(api_key=...)`, which keeps
# the SDK's default `max_retries=2`: each of the loop's 3 attempts is up to 3 requests. Against an
# outage (503s with a short `retry-after-ms`, so the SDK's own waits are brief):

# %%
run_module(times=20, client_retries=2, status=503, retry_after_ms=10)

# %% [markdown]
# **Flaw 4: no jitter.** Every run above slept exactly `[1.0, 2.0]`: every client that failed at
# the same moment comes back at the same moment (section 5 plots it).
#
# Its last line, `raise Exception("Max retries exceeded")`, is reached only when `max_retries` is
# below 1 (every other path returns or re-raises), and then without sending anything:

# %%
with FakeProvider() as fake:
    try:
        module_retry.call_llm_with_retry(OpenAI(), HELLO, max_retries=0)
    except Exception as exc:
        print(f"requests: {len(fake.calls)} -> raised {exc!r}")

# %% [markdown]
# ## 4. The course's `call_with_retry`
#
# `course_helpers.retry.call_with_retry(fn, policy)` calls `fn()` and retries only what
# `classify()` marks retriable; it waits exactly what the server asked for, or else an exponential
# backoff with full jitter; and it gives up at `max_attempts` or at an overall `deadline`. The
# same three faults:

# %%
import random

from course_helpers.retry import RetryPolicy, call_with_retry, without_sdk_retries

policy = RetryPolicy(max_attempts=3, base_delay=0.5)


def run_ours(times=3, **fault):
    slept = []
    with FakeProvider() as fake:
        fake.fail_next(times=times, **fault)
        client = without_sdk_retries(OpenAI())  # one retry layer: ours

        def ask():
            return client.chat.completions.create(model="gpt-5.4-mini", messages=HELLO)

        try:
            result = call_with_retry(ask, policy, sleep=slept.append, rng=random.Random(0))
            result = repr(result.choices[0].message.content)
        except Exception as exc:
            result = f"raised {type(exc).__name__} after {exc.attempts} attempt(s)"
    print(f"  requests: {len(fake.calls)}, slept {slept} -> {result}")


# %%
run_ours(context_length=True)  # not retriable: one request, no sleep
run_ours(status=429, quota=True)  # never retriable: raised at once, with its message
run_ours(status=429, retry_after=7, times=2)  # waits exactly what was asked; then answered

# %% [markdown]
# And a fault that goes away: two 500s without a `retry-after`, then success. The waits come from
# the jittered backoff, `uniform(0, 0.5)` then `uniform(0, 1.0)` (seeded here so the output is
# reproducible):

# %%
slept = []
with FakeProvider() as fake:
    fake.fail_next(500, times=2)
    client = without_sdk_retries(OpenAI())
    reply = call_with_retry(
        lambda: client.chat.completions.create(model="gpt-5.4-mini", messages=HELLO),
        policy,
        sleep=slept.append,
        rng=random.Random(0),
    )
print([round(wait, 3) for wait in slept], [call.status for call in fake.calls])
print(reply.choices[0].message.content)

# %% [markdown]
# When it gives up, the error says why, keeps the provider's message, and chains the SDK exception
# (`raise ... from`), so the traceback still shows where it came from. That error is the point of
# the next cell. Its full traceback runs through the SDK's internals for dozens of lines;
# `%xmode Minimal` makes IPython show just the error (`%xmode Context` brings tracebacks back):

# %%
from IPython import get_ipython

get_ipython().run_line_magic("xmode", "Minimal")

# %% tags=["raises-exception"]
with FakeProvider() as fake:
    fake.fail_next(503, times=3, retry_after_ms=20)
    client = without_sdk_retries(OpenAI())
    call_with_retry(
        lambda: client.chat.completions.create(model="gpt-5.4-mini", messages=HELLO),
        policy,
        sleep=lambda seconds: None,
    )

# %% [markdown]
# ### The module's tenacity decorator, and a fixed one
#
# The module's second pattern ("Using Tenacity for Retries") decorates `call_llm`; it is in
# `course_helpers/seed/tenacity_retry.py`, verbatim. It uses the module's global `client`
# (section 1), which we set to a client without SDK retries. tenacity's `retry_with(sleep=...)`
# records the waits, as before; the decorator's own arguments are unchanged.

# %%
from course_helpers.seed import tenacity_retry

print(inspect.getsource(tenacity_retry.call_llm).split("def ")[0])  # the decorator, as printed

# %% [markdown]
# The fixed one changes its `wait` and `retry` arguments to the course's tenacity adapters:
# `wait_retry_after()` waits what the server asked for (else jittered exponential backoff), and
# `retry_if_retriable()` retries exactly what `classify()` calls retriable. `reraise=True` raises
# the last error itself instead of tenacity's `RetryError`.

# %%
from tenacity import retry, stop_after_attempt

from course_helpers.retry import retry_if_retriable, wait_retry_after

slept = []


@retry(
    stop=stop_after_attempt(3),
    wait=wait_retry_after(),  # changed: the server's retry-after, else jittered backoff
    retry=retry_if_retriable(),  # changed: everything that can succeed, nothing else
    reraise=True,  # added: the caller sees the real error
)
def call_llm_fixed(messages: list) -> str:
    response = tenacity_retry.client.chat.completions.create(model="gpt-4o", messages=messages)
    return response.choices[0].message.content


# %% [markdown]
# Both against four faults, each scripted to fail `times` times: a rate limit with `retry-after: 7`
# (twice, then it answers), an outage (500s), a prompt that is too long, an empty account.

# %%
FAULTS = {
    "rate limit": {"status": 429, "retry_after": 7, "times": 2},
    "500 outage": {"status": 500, "times": 3},
    "too long": {"context_length": True, "times": 3},
    "empty account": {"status": 429, "quota": True, "times": 3},
}
random.seed(0)  # the jitter draws from `random`: seeded so the output is reproducible
for ask in (tenacity_retry.call_llm, call_llm_fixed):
    recorded = ask.retry_with(sleep=slept.append)
    for name, fault in FAULTS.items():
        slept.clear()
        with FakeProvider() as fake:
            tenacity_retry.client = OpenAI(max_retries=0)  # the module's global `client`
            fake.fail_next(**fault)
            try:
                recorded(HELLO)
                result = "answered"
            except Exception as exc:
                result = f"raised {type(exc).__name__}"
        print(f"{ask.__name__:<14} {name:<13} requests: {len(fake.calls)}, "
              f"slept {[round(w, 2) for w in slept]} -> {result}")  # fmt: skip

# %% [markdown]
# The module's decorator is right about the 400: one request, no retry. But it **never retries a
# 5xx**: `InternalServerError` is not in its `retry_if_exception_type(...)`, so the outage is
# raised after one request, although the module's own error table says "Server error 500-503:
# retry with backoff". (With the SDK's default `max_retries=2` underneath, the SDK would retry it
# twice on its own.) It came back after 1 and 2 seconds on a 7-second rate limit, retried the
# empty account, and hid that error inside tenacity's `RetryError`. The fixed one waited the 7
# seconds asked for, retried the outage with jittered backoff until its attempts ran out, and
# raised the 400 and the quota error at once.
#
# The same in Node.js, for reference: both SDKs take the same options there, and the error classes
# have the same names.
#
# ```js
# import OpenAI from "openai";
# const client = new OpenAI({ maxRetries: 0, timeout: 30_000 });  // one retry layer: yours
# try {
#   await client.chat.completions.create({ model: "gpt-5.4-mini", messages });
# } catch (err) {
#   if (err instanceof OpenAI.RateLimitError && err.code === "insufficient_quota") throw err;
#   const retryAfter = err.headers?.get("retry-after");  // seconds, when the server sent it
# }
# ```
#
# ## 5. Backoff schedules: why jitter
#
# When the server gives no `retry-after`, wait longer after each failure: `base · 2ⁿ`, capped. Then
# add **full jitter**: wait a random time between 0 and that step. On the left, the step (the dark
# line with squares) and five jittered runs (blue). On the right, twenty clients that failed at the same instant: without
# jitter they all come back at the same instants and hit the server together again (a *thundering
# herd*); with jitter they spread out.

# %%
from course_helpers.plots import plot_backoff_schedules

plot_backoff_schedules(RetryPolicy(base_delay=0.5, max_delay=8.0), retries=8, seed=0)

# %% [markdown]
# ## Key takeaways
#
# * **Classify by the body, not the status.** A 429 is a rate limit *or* an empty account; only
#   `insufficient_quota` in the body tells you. `classify()` reads it.
# * **Retry only what can succeed**: 429 rate limits, 5xx, 529, timeouts, dropped connections.
#   Never a 400, 401, 403, 404 or an exhausted quota.
# * **Honour `retry-after`** exactly; otherwise back off exponentially **with full jitter**, with a
#   cap and an overall deadline.
# * **One retry layer.** The SDKs retry twice by default; a loop around them multiplies requests.
#   Use `max_retries=0` (or `without_sdk_retries`) when you retry yourself.
# * A stream that fails after its first token cannot simply be retried: you would repeat text the
#   user already saw.
#
# ## Exercises and next
#
# Prove it with the auto-checked exercises of this notebook:
# [`ex03_classify_errors`](../exercises/ex03_classify_errors.ipynb) (tell the errors apart) and
# [`ex04_retry`](../exercises/ex04_retry.ipynb) (a retry loop that `check(...)` tries to break).
#
# Previous: [`03_streaming`](03_streaming.ipynb). Next: [`05_rate_limits`](05_rate_limits.ipynb):
# instead of reacting to 429s, avoid them. Requests and tokens per minute, the rate-limit headers,
# the module's client-side limiter, and a token budget that resets on time.
