"""Module 2, section 4, "Using Tenacity for Retries": the decorated ``call_llm``, verbatim.

Nothing is added. ``client`` is the module's global from section 1 (``client = OpenAI(...)``):
this file leaves it undefined, as the block does, so assign ``tenacity_retry.client`` before
calling ``call_llm`` (notebook 04 does). Do not use in production: see ``course_helpers.retry``.
"""

# ruff: noqa
# mypy: ignore-errors
# fmt: off
# ---- the module's code, verbatim, from the next line to the end of the file ----
from tenacity import retry, stop_after_attempt, wait_exponential, retry_if_exception_type
from openai import RateLimitError, APIConnectionError

@retry(
    stop=stop_after_attempt(3),
    wait=wait_exponential(multiplier=1, min=1, max=60),
    retry=retry_if_exception_type((RateLimitError, APIConnectionError))
)
def call_llm(messages: list) -> str:
    response = client.chat.completions.create(
        model="gpt-4o",
        messages=messages
    )
    return response.choices[0].message.content
