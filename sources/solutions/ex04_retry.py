# %% [markdown]
# # Exercise 04 · Retry: exponential backoff with jitter that honours `retry-after`
#
# **Goal.** Write the retry loop you would ship: it retries only what can succeed, waits as long
# as the server asked (`retry-after`), otherwise backs off exponentially *with jitter* (so that
# clients that failed together do not come back together), caps each wait, and gives up after
# `max_attempts` without a last pointless wait. The SDKs' own retries are off in the checks
# (`max_retries=0`): yours is the only retry layer, as it should be.
#
# **The API you write.**
#
# ```python
# def retry_call(fn, *, max_attempts=5, base_delay=0.5, max_delay=30.0, sleep=time.sleep):
#     """Call fn() until it succeeds; return its result.
#
#     Retry only retriable API failures (5xx, 529, 408, 409, 429 rate limits, timeouts,
#     dropped connections, in-stream errors), at most max_attempts attempts in all. Anything
#     else (400, 401, 404, an exhausted quota, a KeyError from fn's own code) is re-raised at
#     once, unchanged. Before retry n (n = 0, 1, 2, ...) wait exactly what the server asked
#     (retry-after), not that plus a backoff; else a random time in
#     [0, min(max_delay, base_delay * 2**n)]: cap the range, then draw. Wait only through
#     sleep(seconds), in one call or several. When giving up, re-raise the last error itself
#     (the very exception fn raised last), with no wait after the last attempt.
#     """
# ```
#
# You may use `course_helpers.errors.classify(exc)`: it is the course's version of the
# `decide()` you wrote in ex03 (`.retriable`, `.retry_after` in seconds).
#
# **How you are checked.** `check("ex04_retry", retry_call)` runs with the default parameters and
# its own `sleep`, which only records: a wait is the *total* slept between two attempts. Every
# transient failure, from both providers, must be retried; `retry-after: 1.2`, `retry-after-ms`
# and an HTTP-date `retry-after` must be waited exactly; a 400, 401, 404, an exhausted quota and
# fn's own `KeyError` get exactly one attempt and are re-raised as they are; a lasting outage gets
# `max_attempts` attempts, no wait after the last, and its last error re-raised; 20 runs must not
# wait the same; waits must grow and spread evenly under `max_delay`. The last check uses real
# time.

# %%
import random
import time

from course_helpers import setup
from course_helpers.checks import check
from course_helpers.errors import classify

course = setup()

# %% [markdown]
# ## What a check looks like
#
# The loop below is the classic textbook retry: it retries everything, sleeps `2 ** attempt`,
# knows no jitter and no `retry-after`. Run the check on it.


# %%
def retry_call_textbook(fn, *, max_attempts=5, base_delay=0.5, max_delay=30.0, sleep=time.sleep):
    for attempt in range(max_attempts):
        try:
            return fn()
        except Exception:
            sleep(base_delay * 2**attempt)
    raise RuntimeError("Max retries exceeded")


check("ex04_retry", retry_call_textbook)

# %% [markdown]
# ## Your turn


# %%
def retry_call(fn, *, max_attempts=5, base_delay=0.5, max_delay=30.0, sleep=time.sleep):
    """Call fn() until it succeeds; return its result (see the API above)."""
    ### BEGIN SOLUTION
    for attempt in range(max_attempts):
        try:
            return fn()
        except Exception as exc:
            error = classify(exc)
            if not error.retriable or attempt == max_attempts - 1:
                raise
            if error.retry_after is not None:
                if error.retry_after > max_delay:
                    raise  # the server asks for longer than we are willing to wait
                delay = error.retry_after
            else:
                delay = random.uniform(0, min(max_delay, base_delay * 2**attempt))
            sleep(delay)
    raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
    ### END SOLUTION


# %%
check("ex04_retry", retry_call)

# %% [markdown]
# ## Takeaways
#
# * Retry only what can succeed; re-raise the rest at once, with its original class.
# * The server's `retry-after` beats your backoff; full jitter beats a fixed schedule.
# * Inject `sleep` (and clocks): your tests then run in milliseconds and assert exact waits.
#
# **Next:** [ex05 · Rate limiter](ex05_rate_limiter.ipynb): avoid the 429 in the first place.
