"""Module 2, section 5, "Client-Side Rate Limiting": ``RateLimiter`` and its usage, verbatim.

Nothing is added. The usage's ``call_llm`` reads the module's global ``client`` (section 1),
which this file leaves undefined, as the block does. For a period shorter than a minute or a fake
clock, ``course_helpers.seed.clocked.ClockedRateLimiter`` runs this same code on another clock.
Do not use in production: see ``course_helpers.ratelimit``.
"""

# ruff: noqa
# mypy: ignore-errors
# fmt: off
# ---- the module's code, verbatim, from the next line to the end of the file ----
import time
from collections import deque
from threading import Lock

class RateLimiter:
    def __init__(self, requests_per_minute: int = 60):
        self.rpm = requests_per_minute
        self.requests = deque()
        self.lock = Lock()

    def wait_if_needed(self):
        with self.lock:
            now = time.time()

            # Remove requests older than 1 minute
            while self.requests and self.requests[0] < now - 60:
                self.requests.popleft()

            # If at limit, wait
            if len(self.requests) >= self.rpm:
                sleep_time = 60 - (now - self.requests[0])
                if sleep_time > 0:
                    time.sleep(sleep_time)

            self.requests.append(time.time())

# Usage
rate_limiter = RateLimiter(requests_per_minute=50)

def call_llm(messages):
    rate_limiter.wait_if_needed()
    return client.chat.completions.create(
        model="gpt-4o",
        messages=messages
    )
