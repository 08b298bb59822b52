# %% [markdown]
# # 08 · Knowledge check
#
# The module ends with a knowledge check: "Before moving on, ensure you can:" five things. Each is
# below as the module states it, with where the course shows it and the exercise whose
# automatic checks prove you can do it.
#
# | the module's item | shown in | proved by | question |
# |---|---|---|---|
# | 1. Make basic requests to both OpenAI and Anthropic APIs | [01](01_openai.ipynb), [02](02_anthropic.ipynb) | [ex01](../exercises/ex01_first_calls.ipynb) | q1 |
# | 2. Implement streaming for real-time output | [03](03_streaming.ipynb) | [ex02](../exercises/ex02_stream_collector.ipynb) | q2 |
# | 3. Handle common error types with proper retries | [04](04_errors_and_retries.ipynb) | [ex03](../exercises/ex03_classify_errors.ipynb), [ex04](../exercises/ex04_retry.ipynb) | q3 |
# | 4. Explain the difference between RPM and TPM limits | [05](05_rate_limits.ipynb) | [ex08](../exercises/ex08_rpm_vs_tpm.ipynb), [ex05](../exercises/ex05_rate_limiter.ipynb), [ex06](../exercises/ex06_token_budget.ipynb) | q4 |
# | 5. Build a multi-provider LLM client | [06](06_integration_layer.ipynb) | [ex07](../exercises/ex07_multi_provider.ipynb) | q5 |
#
# The five questions are a quick self-test, one per item. Each is answered in a cell with
# `answer("q1", "b")`: you learn at once whether you are right, why, and which exercise
# practises it. Nothing is graded here; the exercises are where you build it.

# %%
from course_helpers import setup
from course_helpers.checks import QUESTIONS, answer

course = setup()

# %% [markdown]
# ## How it works
#
# Put the letter of your choice between the quotes and run the cell. An empty answer tells you
# what to do; a wrong one tells you which exercise to revisit; a right one explains why. Here is
# q4 (below) answered wrongly on purpose, so you see what a wrong answer gets:

# %%
answer("q4", "a")

# %% [markdown]
# Every question's text and choices are also in `QUESTIONS`, so you can print one:

# %%
for letter, choice in QUESTIONS["q1"].choices.items():
    print(f"({letter}) {choice}")

# %% [markdown]
# ## q1 · Two APIs, one job
#
# Which is true of Anthropic's Messages API, but not of OpenAI's Chat Completions API?
#
# * (a) The system prompt is a message with role `"system"`.
# * (b) `max_tokens` is required, the system prompt is a separate parameter, and the answer is a
#   list of content blocks.
# * (c) Usage is reported as `prompt_tokens` and `completion_tokens`.
# * (d) A cut-off answer has `finish_reason` `"length"`.

# %%
answer("q1", "")

# %% [markdown]
# ## q2 · The end of a stream
#
# You stream from OpenAI with `stream_options={"include_usage": True}`. What does the last chunk
# look like?
#
# * (a) Like every other chunk, with the last piece of text in `choices[0].delta`.
# * (b) It has `finish_reason` `"stop"` and the usage in `choices[0]`.
# * (c) Its `choices` list is empty and it carries the usage for the whole answer.
# * (d) There is no such chunk: usage is only in the response headers.

# %%
answer("q2", "")

# %% [markdown]
# ## q3 · A 429 that waiting cannot fix
#
# A call fails with HTTP 429 and the body's code is `"insufficient_quota"`. What should the
# client do?
#
# * (a) Wait for `retry-after`, then retry with exponential backoff.
# * (b) Retry at once: 429s are short-lived.
# * (c) Switch to a smaller model and retry.
# * (d) Stop retrying and report it: the account is out of credit, and waiting cannot fix that.

# %%
answer("q3", "")

# %% [markdown]
# ## q4 · Which limit binds?
#
# Your limits are 500 requests and 30,000 tokens per minute; prompts are about 1,000 tokens and
# you send `max_tokens=500`. How many requests a minute can you send?
#
# * (a) 500: the request limit.
# * (b) 30: 30,000 tokens / 1,000 prompt tokens.
# * (c) 20: each request is charged 1,500 tokens, so the token limit binds.
# * (d) 60: 30,000 / 500.

# %%
answer("q4", "")

# %% [markdown]
# ## q5 · When to fall back
#
# Your client falls back from one provider to the other. When should it fall back?
#
# * (a) On any exception, so the user always gets an answer.
# * (b) On failures the other provider can avoid (overloaded, 5xx, timeouts, rate limits), never
#   on a 400 such as an invalid parameter.
# * (c) Never: retrying the same provider is always better.
# * (d) Only on a 401, because the key may have expired.

# %%
answer("q5", "")

# %% [markdown]
# ## The exercises
#
# Each exercise in `exercises/` opens with its goal, the API to write and the check that grades
# it: `check("ex04_retry", retry_call)` shows a panel with every check, and for each failure what
# was expected, what happened, and a hint. Start with
# [`exercises/ex01_first_calls.ipynb`](../exercises/ex01_first_calls.ipynb). Previous notebook:
# [07 · Best practices](07_best_practices.ipynb).


# %% [markdown]
# ## The module's key takeaways
#
# As the module states them, with where the course puts each to the test:
#
# 1. **Master both providers** - OpenAI and Anthropic have different APIs; know both
#    ([01](01_openai.ipynb), [02](02_anthropic.ipynb): the two request and response shapes side
#    by side).
# 2. **Always implement streaming** - Users expect real-time feedback ([03](03_streaming.ipynb):
#    time to first token against total time).
# 3. **Handle errors gracefully** - Retries with backoff are essential
#    ([04](04_errors_and_retries.ipynb): which errors a retry can fix, and which it only repeats).
# 4. **Manage rate limits** - Client-side limiting prevents 429 errors ([05](05_rate_limits.ipynb):
#    a limiter prevents them only when it counts what the provider counts, requests *and* tokens).
# 5. **Build an abstraction layer** - Don't tie your app to one provider
#    ([06](06_integration_layer.ipynb): one call shape, fallbacks under an outage).
# 6. **Log everything** - You need visibility into API usage and costs
#    ([07](07_best_practices.ipynb): logging and monitoring with request ids).
#
# ## Next module
#
# The module's preview: "In **Module 3: Prompt Engineering for Applications**, you'll learn to
# build dynamic prompts, parse structured outputs, and implement function calling / tool use."
#
# *Module 2 of 12 | Building AI-Powered Applications | Duration: 5 hours*
