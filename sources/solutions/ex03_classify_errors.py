# %% [markdown]
# # Exercise 03 · Classify errors: retry or not, and how long to wait
#
# **Goal.** Before any retry loop comes one decision: *can this exact request succeed if I send it
# again later, and did the server say when?* Get it wrong one way and you hammer an API that will
# never say yes (and burn rate-limit slots); get it wrong the other way and one overloaded second
# fails a user's request. The rules, the same for OpenAI and Anthropic:
#
# * **retriable**: a rate limit (429), every 5xx (500, 502, 503, 504), Anthropic's 529
#   (overloaded), 408 (request timeout), 409 (conflict), a timeout or a dropped connection (no
#   answer at all), and an error *inside* a stream that had started with HTTP 200;
# * **never retriable**: an **exhausted quota**, which is a 429 too (only the body tells it from a
#   rate limit: OpenAI `code` `"insufficient_quota"`; Anthropic `details.error_code`
#   `"enforced_spend_limit_reached"`), a **context-length** 400, any other 400, a **401**, a
#   **404**, and any exception that did not come from the API at all (a `KeyError` in your own
#   code is a bug: retrying it only hides it);
# * **wait**: the server's `retry-after-ms` (milliseconds, exact) if present, else `retry-after`,
#   which is either seconds (`"7"`, or a decimal such as `"2.5"`: keep the fraction) or an HTTP
#   date (`"Wed, 21 Oct 2026 07:28:05 GMT"`: the seconds from now until then, in UTC whatever the
#   machine's time zone, and 0 once it has passed); `None` when the server did not say.
#
# **The API you write.**
#
# ```python
# def decide(exc: Exception) -> Decision:
#     """Decision(retriable, wait) for an exception raised while calling the openai or anthropic
#     SDK. wait is the number of seconds the server asked for, or None when it did not say.
#     """
# ```
#
# **How you are checked.** `check("ex03_classify_errors", decide)` gives your function real SDK
# exceptions raised by the simulated provider, each kind from **both** providers: rate limits with
# whole, decimal, HTTP-date and millisecond waits, quotas, 500/502/503/504/529, 408, 409, timeouts,
# dropped connections, in-stream errors, context-length errors, wrong keys, bad requests, unknown
# models, and a `KeyError`. The HTTP-date case runs with the local time zone set to UTC+5:30.

# %%
import email.utils
from datetime import UTC, datetime
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
# a subclass). OpenAI's `.body` is the inner `error` object; Anthropic's is the whole body. An
# error inside a stream arrives after HTTP 200: Anthropic raises `APIStatusError` with
# `status_code == 200` and body type `"overloaded_error"`; OpenAI raises a plain `openai.APIError`
# (no status) whose body type is `"server_error"`.

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
IN_STREAM_TYPES = {"overloaded_error", "server_error", "api_error"}


def decide(exc):
    """Decision(retriable, wait) for an exception raised while calling an SDK."""
    ### BEGIN SOLUTION
    if isinstance(exc, openai.APIConnectionError | anthropic.APIConnectionError):
        return Decision(True, None)  # no answer at all (dropped, timed out): try again
    if not isinstance(exc, openai.APIError | anthropic.APIError):
        return Decision(False, None)  # not an API failure: a bug to fix, not to retry
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else body
    details = error.get("details") if isinstance(error.get("details"), dict) else {}
    reasons = {error.get("type"), error.get("code"), details.get("error_code")}
    if reasons & QUOTA_CODES or "billing_error" in reasons:
        return Decision(False, None)
    status = getattr(exc, "status_code", None)
    if status is None or status < 400:  # an error event inside a stream that began with 200
        return Decision(bool(reasons & IN_STREAM_TYPES), None)
    if status not in RETRIABLE_STATUSES:
        return Decision(False, None)
    return Decision(True, retry_after(exc.response.headers))
    ### END SOLUTION


def retry_after(headers):
    """Seconds from retry-after-ms, else retry-after (seconds or an HTTP date), else None."""
    ### BEGIN SOLUTION
    if "retry-after-ms" in headers:
        try:
            return float(headers["retry-after-ms"]) / 1000
        except ValueError:
            pass  # unreadable: fall back to retry-after
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass  # not seconds: an HTTP date
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" dates come back naive; HTTP dates are UTC
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
    ### END SOLUTION


# %%
check("ex03_classify_errors", decide)

# %% [markdown]
# ## Takeaways
#
# * Classify by the body, not the status: a 429 can be a quota that no retry will fix.
# * In-stream errors arrive after a 200: the status alone says "success".
# * Prefer `retry-after-ms` to `retry-after`; read `retry-after` as a decimal, or as an HTTP date
#   compared in UTC.
#
# **Next:** [ex04 · Retry](ex04_retry.ipynb), where this decision drives a retry loop.
