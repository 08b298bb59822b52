"""Module 2, section 4, "Robust Error Handling Pattern": ``call_llm_with_retry``, verbatim.

Kept as the module prints it so notebook 04 and ``benchmarks/retry.py`` can run it and show what
it really does (tests/test_seed_verbatim.py fails if it drifts). Nothing is added: the block
imports all it uses. Do not use in production: see ``course_helpers.retry``.
"""

# ruff: noqa
# mypy: ignore-errors
# fmt: off
# ---- the module's code, verbatim, from the next line to the end of the file ----
import time
from openai import OpenAI, RateLimitError, APIError, APIConnectionError

def call_llm_with_retry(
    client: OpenAI,
    messages: list,
    max_retries: int = 3,
    base_delay: float = 1.0
) -> str:
    """Call LLM with exponential backoff retry."""

    for attempt in range(max_retries):
        try:
            response = client.chat.completions.create(
                model="gpt-4o",
                messages=messages,
                timeout=30.0
            )
            return response.choices[0].message.content

        except RateLimitError as e:
            if attempt == max_retries - 1:
                raise
            delay = base_delay * (2 ** attempt)  # Exponential backoff
            print(f"Rate limited. Waiting {delay}s...")
            time.sleep(delay)

        except APIConnectionError as e:
            if attempt == max_retries - 1:
                raise
            delay = base_delay * (2 ** attempt)
            print(f"Connection error. Retrying in {delay}s...")
            time.sleep(delay)

        except APIError as e:
            if e.status_code >= 500:  # Server errors are retriable
                if attempt == max_retries - 1:
                    raise
                delay = base_delay * (2 ** attempt)
                time.sleep(delay)
            else:
                raise  # Client errors are not retriable

    raise Exception("Max retries exceeded")
