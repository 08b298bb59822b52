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
#     Retry only retriable errors, at most max_attempts attempts in all. Before retry n
#     (n = 0, 1, 2, ...) wait what the server asked (retry-after) or else a random time in
#     [0, min(max_delay, base_delay * 2**n)]. Wait only through sleep(seconds). When giving
#     up, raise the last error.
#     """
# ```
#
# You may use `course_helpers.errors.classify(exc)`: it is the course's version of the
# `decide()` you wrote in ex03 (`.retriable`, `.retry_after` in seconds).
#
# **How you are checked.** `check("ex04_retry", retry_call)` is adversarial: a 429 with
# `retry-after: 0.3` must make you wait at least 0.3 s but not 3 s; a 400 and an exhausted quota
# get exactly one attempt; a lasting outage gets exactly `max_attempts` attempts and one wait
# fewer; 20 runs must not wait the same; waits must grow and respect `max_delay`. All checks but
# one pass their own `sleep` and record the waits; the last one uses real time.

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
