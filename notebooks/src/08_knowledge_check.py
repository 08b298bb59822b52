# %% [markdown]
# # 08 · Knowledge check
#
# Five questions, one for each of the module's knowledge-check items: the two providers' APIs,
# streaming, errors and retries, rate limits and budgets, and the integration layer. Each is
# answered in a cell with `answer("q1", "b")`: you learn at once whether you are right, why, and
# which exercise practises it. Nothing is graded here; the exercises are where you build it.
#
# | item | question | practise it in |
# |---|---|---|
# | 1. OpenAI vs Anthropic request and response shapes | q1 | `exercises/ex01_first_calls` |
# | 2. Streaming, and usage at the end of a stream | q2 | `exercises/ex02_stream_collector` |
# | 3. Which errors to retry, and how long to wait | q3 | `ex03_classify_errors`, `ex04_retry` |
# | 4. RPM vs TPM, limiters and token budgets | q4 | `ex08_rpm_vs_tpm`, `ex05`, `ex06` |
# | 5. A multi-provider layer with fallbacks | q5 | `exercises/ex07_multi_provider` |

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
# ## Next
#
# Each exercise in `exercises/` opens with its goal, the API to write and the check that grades
# it: `check("ex04_retry", retry_call)` shows a panel with every check, and for each failure what
# was expected, what happened, and a hint. Start with `exercises/ex01_first_calls.ipynb`.
