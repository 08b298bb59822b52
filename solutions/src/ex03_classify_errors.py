# %% [markdown]
# # Exercise 03 · Classify errors: retry or not, and how long to wait
#
# **Goal.** Before any retry loop comes one decision: *can this exact request succeed if I send it
# again later, and did the server say when?* Get it wrong one way and you hammer an API that will
# never say yes (and burn rate-limit slots); get it wrong the other way and one overloaded second
# fails a user's request. The traps:
#
# * a **429** is either a rate limit (wait and retry) or an **exhausted quota** (never: the
#   account is out of credit). Only the body tells them apart (OpenAI `code`
#   `"insufficient_quota"`; Anthropic `details.error_code` `"enforced_spend_limit_reached"`);
# * Anthropic's **529** means overloaded: retriable;
# * an error *inside* an Anthropic stream arrives after HTTP 200: the SDK raises
#   `APIStatusError` with `status_code == 200` and `type == "overloaded_error"`;
# * a **context-length** 400, a **401** and a **404** fail the same way every time;
# * the server's `retry-after-ms` (exact) or `retry-after` (seconds, may be a decimal) says how
#   long to wait.
#
# **The API you write.**
#
# ```python
# def decide(exc: Exception) -> Decision:
#     """Decision(retriable, wait) for an exception from the openai or anthropic SDK.
#
#     wait is the number of seconds the server asked for (retry-after-ms, else retry-after),
#     or None when it did not say.
#     """
# ```
#
# **How you are checked.** `check("ex03_classify_errors", decide)` gives your function real SDK
# exceptions raised by the simulated provider: rate limits with `retry-after` and
# `retry-after-ms`, quotas from both providers, 529, an in-stream overloaded error, 500s, a
# dropped connection, context-length errors, wrong keys, a bad request and an unknown model.

# %%
from typing import NamedTuple

import anthropic
import openai

from course_helpers import setup
from course_helpers.checks import check

course = setup()


class Decision(NamedTuple):
    """Whether to retry, and the wait the server asked for (None: it did not say)."""

    retriable: bool
    wait: float | None


# %% [markdown]
# ## What a check looks like
#
# The classifier below decides by HTTP status, as most retry loops do (and as both SDKs do).
# Run the check: it is right more often than not, which is what makes it dangerous.


# %%
def decide_by_status(exc):
    status = getattr(exc, "status_code", None)
    retriable = status in (429, 500, 502, 503, 529)
    wait = None
    if retriable:
        header = exc.response.headers.get("retry-after")
        wait = float(header) if header else None
    return Decision(retriable, wait)


check("ex03_classify_errors", decide_by_status)

# %% [markdown]
# ## Your turn
#
# Write `decide`. The SDK exception classes are `openai.APIStatusError` /
# `anthropic.APIStatusError` (an HTTP error: `.status_code`, `.body`, `.response.headers`) and
# `openai.APIConnectionError` / `anthropic.APIConnectionError` (no response at all; timeouts are
# a subclass). OpenAI's `.body` is the inner `error` object; Anthropic's is the whole body.

# %%
QUOTA_CODES = {
    "insufficient_quota",
    "credit_balance_exhausted",
    "billing_hard_limit_reached",
    "organization_spend_limit_exceeded",
    "project_spend_limit_exceeded",
    "organization_usage_limit_exceeded",
    "enforced_spend_limit_reached",
    "contract_spend_limit_reached",
}
RETRIABLE_STATUSES = {408, 409, 429, 500, 502, 503, 504, 529}


def decide(exc):
    """Decision(retriable, wait) for an exception from the openai or anthropic SDK."""
    ### BEGIN SOLUTION
    if isinstance(exc, openai.APIConnectionError | anthropic.APIConnectionError):
        return Decision(True, None)  # no answer at all (dropped, timed out): try again
    if not isinstance(exc, openai.APIStatusError | anthropic.APIStatusError):
        return Decision(False, None)  # not an API failure: a bug to fix, not to retry
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else body
    details = error.get("details") if isinstance(error.get("details"), dict) else {}
    reasons = {error.get("type"), error.get("code"), details.get("error_code")}
    if reasons & QUOTA_CODES or "billing_error" in reasons:
        return Decision(False, None)
    overloaded = "overloaded_error" in reasons  # also inside a 200 stream
    if not overloaded and exc.status_code not in RETRIABLE_STATUSES:
        return Decision(False, None)
    return Decision(True, retry_after(exc.response.headers))
    ### END SOLUTION


def retry_after(headers):
    """Seconds from retry-after-ms (exact) or retry-after (seconds), else None."""
    ### BEGIN SOLUTION
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return float(value) / scale
        except ValueError:
            continue  # an HTTP date: rare from these APIs; fall back to backoff
    return None
    ### END SOLUTION


# %%
check("ex03_classify_errors", decide)

# %% [markdown]
# ## Takeaways
#
# * Classify by the body, not the status: a 429 can be a quota that no retry will fix.
# * In-stream errors arrive after a 200: the status alone says "success".
# * Prefer `retry-after-ms` to `retry-after`: the second is rounded up to whole seconds.
#
# **Next:** [ex04 · Retry](ex04_retry.ipynb), where this decision drives a retry loop.
