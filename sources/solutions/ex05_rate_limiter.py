# %% [markdown]
# # Exercise 05 · Rate limiter: requests *and* tokens per minute, shared by threads
#
# **Goal.** Retrying a 429 is the fallback; not earning it is the goal. Providers limit requests
# per minute **and** tokens per minute, and for long prompts it is the token limit that binds.
# Write a limiter that several threads share: `acquire(tokens)` blocks until one more request of
# that many tokens fits both limits, so that the provider never answers 429, yet no capacity is
# wasted. Like the providers, refill continuously: a limit of 60 a minute is one a second, and a
# full bucket allows a burst.
#
# A request is charged, when it arrives, its prompt tokens **plus its `max_tokens`**
# (`estimate_tokens(messages) + max_tokens` predicts it exactly for the simulated provider).
#
# **The API you write.**
#
# ```python
# class Limiter:
#     def __init__(self, rpm: int, tpm: int, period: float = 60.0): ...
#     def acquire(self, tokens: int = 0) -> None:
#         """Block until one request of `tokens` tokens fits both limits, then take it.
#
#         Raise ValueError at once if tokens > tpm (it could never fit; tokens == tpm
#         fits). Safe to call from many threads at once; never sleep while holding a lock.
#         """
# ```
#
# **How you are checked.** `check("ex05_rate_limiter", Limiter)` runs bursts after idle spells
# on a short period and compares what was granted with what a full bucket plus its refill allows
# (a bucket that refills past its limit, or a window that resets, lets too much through; a
# limiter that waits longer than needed wastes capacity). It checks that `acquire(tpm)` fits and
# `acquire(tpm + 1)` raises `ValueError`; that no thread waits while holding a lock; that 6
# threads switched after every line of your code are not over-admitted (the lock must be one,
# made in `__init__`); and it sends traffic from 4 threads to the simulated provider: any 429
# fails, and so does keeping callers waiting in `acquire` (for more than half the run, in all)
# while both buckets had room for them. (The simulated provider allows a
# quarter-second of extra burst: it is charged when a request *arrives*, your limiter when it
# lets one go.)

# %%
import threading
import time

from course_helpers import setup
from course_helpers.checks import check
from course_helpers.seed.clocked import ClockedRateLimiter as SeedRateLimiter

course = setup()

# %% [markdown]
# ## What a check looks like
#
# The module's `RateLimiter` (section 5) counts requests only, and sleeps while holding its lock.
# Here it is, its code unchanged (`ClockedRateLimiter` only lets its minute last `period`
# seconds), behind this exercise's API; the check shows where that breaks.


# %%
class SeedLimiter:
    """The module's limiter behind this exercise's API: it never looks at `tokens`."""

    def __init__(self, rpm, tpm, period=60.0):
        self._seed = SeedRateLimiter(rpm, period=period)

    def acquire(self, tokens=0):
        self._seed.wait_if_needed()


check(
    "ex05_rate_limiter",
    SeedLimiter,
    only=[
        "refuses a request larger than the token limit",
        "never waits while holding a lock",
    ],
)

# %% [markdown]
# ## Your turn
#
# Two buckets (requests, tokens), each holding at most its limit and refilled at
# `limit / period` per second. Under the lock: refill, then take if both have enough, else work
# out how long until they will. Sleep *outside* the lock, then try again.


# %%
class Limiter:
    """Requests and tokens per `period` seconds, for many threads."""

    def __init__(self, rpm, tpm, period=60.0):
        ### BEGIN SOLUTION
        if rpm <= 0 or tpm <= 0 or period <= 0:
            raise ValueError("rpm, tpm and period must be positive")
        self.rpm, self.tpm, self.period = rpm, tpm, period
        self._requests, self._tokens = float(rpm), float(tpm)  # both buckets start full
        self._updated = time.monotonic()
        self._lock = threading.Lock()
        ### END SOLUTION

    def acquire(self, tokens=0):
        """Block until one request of `tokens` tokens fits both limits, then take it."""
        ### BEGIN SOLUTION
        if tokens > self.tpm:
            raise ValueError(f"a request of {tokens} tokens can never fit a limit of {self.tpm}")
        while True:
            with self._lock:
                now = time.monotonic()
                elapsed, self._updated = now - self._updated, now
                self._requests = min(self.rpm, self._requests + elapsed * self.rpm / self.period)
                self._tokens = min(self.tpm, self._tokens + elapsed * self.tpm / self.period)
                if self._requests >= 1 and self._tokens >= tokens:
                    self._requests -= 1
                    self._tokens -= tokens
                    return
                wait = max(
                    (1 - self._requests) * self.period / self.rpm,
                    (tokens - self._tokens) * self.period / self.tpm,
                )
            time.sleep(wait)  # outside the lock: other threads can look meanwhile
        ### END SOLUTION


# %%
check("ex05_rate_limiter", Limiter)

# %% [markdown]
# ## Takeaways
#
# * Count tokens as well as requests: with long prompts the token limit binds first.
# * Refill continuously, as the providers do; a log of timestamps stalls, then bursts.
# * Hold the lock to decide, never to wait.
#
# **Next:** [ex06 · Token budget](ex06_token_budget.ipynb).
