"""Answers to ex03_classify_errors: wrong ones its checks must catch, right ones they must pass.

Each wrong answer is a whole ``decide`` a learner could write, with one kind of mistake (or two
that travel together); the parts it gets right are read through the small correct helpers below,
so each is caught for its own mistake.
"""

from __future__ import annotations

import calendar
import email.utils
import time
from datetime import UTC, datetime
from typing import Any, NamedTuple

import anthropic
import openai

from wrong_answers.kinds import Demo, Right, Wrong

QUOTA = {"insufficient_quota", "enforced_spend_limit_reached", "billing_error"}
STATUSES = {408, 409, 429, 500, 502, 503, 504, 529}


class Decision(NamedTuple):
    retriable: bool
    wait: float | None


def _reasons(exc: Any) -> set[Any]:
    body = exc.body if isinstance(getattr(exc, "body", None), dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else body
    details = error.get("details") if isinstance(error.get("details"), dict) else {}
    return {error.get("type"), error.get("code"), details.get("error_code")}


def _date_seconds(value: str) -> float:
    moment = calendar.timegm(email.utils.parsedate(value) or ())  # type: ignore[arg-type]
    return max(0.0, moment - time.time())


def _wait(headers: Any) -> float | None:
    if "retry-after-ms" in headers:
        return float(headers["retry-after-ms"]) / 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return _date_seconds(value)


def _status_decision(exc: Any, retriable_statuses: set[int], read: Any = _wait) -> Decision:
    """The parts every wrong answer below gets right, except what it passes in."""
    if _reasons(exc) & QUOTA:
        return Decision(False, None)
    status = exc.status_code
    if status == 200:
        return Decision("overloaded_error" in _reasons(exc), None)
    if status not in retriable_statuses:
        return Decision(False, None)
    return Decision(True, read(exc.response.headers))


# ---------------------------------------------------------------------------- the wrong answers
def decide_openai_network_only(exc: BaseException) -> Decision:
    """Knows openai's connection errors only: anthropic's timeouts and drops are 'not retriable'."""
    if isinstance(exc, openai.APIConnectionError):
        return Decision(True, None)
    if isinstance(exc, openai.APIError) and getattr(exc, "status_code", None) is None:
        return Decision("server_error" in _reasons(exc), None)
    if not isinstance(exc, openai.APIStatusError | anthropic.APIStatusError):
        return Decision(False, None)
    return _status_decision(exc, STATUSES)


def _network_or_stream(exc: BaseException) -> Decision | None:
    if isinstance(exc, openai.APIConnectionError | anthropic.APIConnectionError):
        return Decision(True, None)
    if isinstance(exc, openai.APIError) and not isinstance(exc, openai.APIStatusError):
        return Decision("server_error" in _reasons(exc), None)
    if not isinstance(exc, openai.APIStatusError | anthropic.APIStatusError):
        return Decision(False, None)
    return None


def decide_500_only(exc: BaseException) -> Decision:
    """Retries 429, 500 and 529, but 502, 503 and 504 'look like a proxy problem'."""
    return _network_or_stream(exc) or _status_decision(exc, {408, 409, 429, 500, 529})


def decide_no_408_409(exc: BaseException) -> Decision:
    """Retries rate limits and 5xx, but 408 and 409 are '4xx: the client's fault'."""
    return _network_or_stream(exc) or _status_decision(exc, {429, 500, 502, 503, 504, 529})


def _truncated(headers: Any) -> float | None:
    if "retry-after-ms" in headers:
        return int(headers["retry-after-ms"]) // 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        return int(_date_seconds(value))


def decide_truncates_wait(exc: BaseException) -> Decision:
    """Reads every header, but as whole seconds: 2.5 becomes 2, 1500 ms becomes 1."""
    return _network_or_stream(exc) or _status_decision(exc, STATUSES, _truncated)


def _seconds_only(headers: Any) -> float | None:
    if "retry-after-ms" in headers:
        return float(headers["retry-after-ms"]) / 1000
    value = headers.get("retry-after")
    return float(value) if value is not None else None


def decide_seconds_only(exc: BaseException) -> Decision:
    """float(retry-after): a ValueError on an HTTP date."""
    return _network_or_stream(exc) or _status_decision(exc, STATUSES, _seconds_only)


def _local_date(headers: Any) -> float | None:
    value = headers.get("retry-after")
    try:
        return _seconds_only(headers)
    except ValueError:
        pass
    when = datetime.strptime(value, "%a, %d %b %Y %H:%M:%S GMT")  # naive: GMT taken as local
    return (when - datetime.now()).total_seconds()


def _naive_date(headers: Any) -> float | None:
    value = headers.get("retry-after")
    if value is None or value.replace(".", "", 1).isdigit() or "retry-after-ms" in headers:
        return _wait(headers)
    return time.mktime(email.utils.parsedate(value) or ()) - time.time()  # type: ignore[arg-type]


def decide_date_in_local_time(exc: BaseException) -> Decision:
    """Parses an HTTP date with time.mktime: right only on a machine that runs in UTC."""
    return _network_or_stream(exc) or _status_decision(exc, STATUSES, _naive_date)


def decide_date_naive_datetime(exc: BaseException) -> Decision:
    """Parses an HTTP date with strptime and subtracts datetime.now(): both naive, both local."""
    return _network_or_stream(exc) or _status_decision(exc, STATUSES, _local_date)


def decide_ignores_ms(exc: BaseException) -> Decision:
    """retry-after only: retry-after-ms (the exact one) is never looked at."""

    def read(headers: Any) -> float | None:
        return _wait({k: v for k, v in headers.items() if k != "retry-after-ms"})

    return _network_or_stream(exc) or _status_decision(exc, STATUSES, read)


def decide_openai_quota_only(exc: BaseException) -> Decision:
    """Knows openai's insufficient_quota; anthropic's spend limit is 'just a 429'."""
    found = _network_or_stream(exc)
    if found is not None:
        return found
    assert isinstance(exc, openai.APIStatusError | anthropic.APIStatusError)
    if getattr(exc, "code", None) == "insufficient_quota":
        return Decision(False, None)
    if exc.status_code == 200:
        return Decision("overloaded_error" in _reasons(exc), None)
    if exc.status_code not in STATUSES:
        return Decision(False, None)
    return Decision(True, _wait(exc.response.headers))


def decide_status_only_streams(exc: BaseException) -> Decision:
    """A stream error judged like any status error: anthropic's 200 and openai's None 'succeed'."""
    if isinstance(exc, openai.APIConnectionError | anthropic.APIConnectionError):
        return Decision(True, None)
    if not isinstance(exc, openai.APIStatusError | anthropic.APIStatusError):
        return Decision(False, None)
    if _reasons(exc) & QUOTA or exc.status_code not in STATUSES:
        return Decision(False, None)
    return Decision(True, _wait(exc.response.headers))


def decide_all_but_400(exc: BaseException) -> Decision:
    """Only a 400 is 'the request's fault': a wrong key and an unknown model are retried."""
    found = _network_or_stream(exc)
    if found is not None:
        return found
    assert isinstance(exc, openai.APIStatusError | anthropic.APIStatusError)
    if _reasons(exc) & QUOTA or exc.status_code == 400:
        return Decision(False, None)
    return Decision(True, _wait(exc.response.headers))


def decide_no_status_is_network(exc: BaseException) -> Decision:
    """Anything without a status is taken for a network failure: a KeyError is retried."""
    if not isinstance(exc, openai.APIStatusError | anthropic.APIStatusError):
        return Decision(True, None)
    if _reasons(exc) & QUOTA:
        return Decision(False, None)
    if exc.status_code == 200:
        return Decision(True, None)
    return Decision(exc.status_code in STATUSES, _wait(exc.response.headers))


def decide_by_sdk_class(exc: BaseException) -> Decision:
    """Trusts the SDK's classes: every RateLimitError is retriable (so is an empty account)."""
    retriable = isinstance(
        exc,
        openai.RateLimitError
        | anthropic.RateLimitError
        | openai.InternalServerError
        | anthropic.InternalServerError
        | openai.APIConnectionError
        | anthropic.APIConnectionError,
    )
    response = getattr(exc, "response", None)
    wait = _wait(response.headers) if retriable and response is not None else None
    return Decision(retriable, wait)


def decide_without_wait(exc: BaseException) -> Decision:
    """Classifies right, but never reads retry-after."""
    return Decision(decide_by_class_tree(exc).retriable, None)


# What each wrong answer gets wrong, the answer, and the checks that must catch it.
WRONG: list[Wrong] = [
    (
        "anthropic's timeouts and dropped connections called not retriable",
        decide_openai_network_only,
        ["timeouts and dropped connections are retriable, on both providers"],
    ),
    (
        "502, 503 and 504 called not retriable",
        decide_500_only,
        [
            "every 5xx is retriable, on both providers",
            "an HTTP-date retry-after gives the seconds until that date",  # its case is a 503
        ],
    ),
    ("408 and 409 called not retriable", decide_no_408_409, ["408 and 409 are retriable"]),
    (
        "a fractional retry-after truncated to whole seconds",
        decide_truncates_wait,
        [
            "a fractional retry-after is kept, not rounded",
            "retry-after-ms is preferred to retry-after",
        ],
    ),
    (
        "an HTTP-date retry-after crashes float()",
        decide_seconds_only,
        ["an HTTP-date retry-after gives the seconds until that date"],
    ),
    (
        "an HTTP-date retry-after read as local time (time.mktime)",
        decide_date_in_local_time,
        ["an HTTP-date retry-after gives the seconds until that date"],
    ),
    (
        "an HTTP-date retry-after compared with the local datetime.now()",
        decide_date_naive_datetime,
        ["an HTTP-date retry-after gives the seconds until that date"],
    ),
    (
        "retry-after-ms ignored",
        decide_ignores_ms,
        ["retry-after-ms is preferred to retry-after"],
    ),
    (
        "anthropic's spend limit retried",
        decide_openai_quota_only,
        ["an exhausted quota is never retriable"],
    ),
    (
        "in-stream errors judged by status (200: fine; openai's: no status)",
        decide_status_only_streams,
        ["an error inside a stream (after HTTP 200) is retriable"],
    ),
    (
        "401 and 404 retried",
        decide_all_but_400,
        ["a wrong key, a bad request and an unknown model are not retriable"],
    ),
    (
        "a KeyError from the caller's code retried",
        decide_no_status_is_network,
        ["an exception that did not come from the API is not retriable"],
    ),
    (
        "trusts the SDK class: retries an exhausted quota",
        decide_by_sdk_class,
        [
            "an exhausted quota is never retriable",
            "an error inside a stream (after HTTP 200) is retriable",
            "408 and 409 are retriable",
        ],
    ),
    (
        "never reads retry-after",
        decide_without_wait,
        [
            "a rate limit is retriable and honours retry-after",
            "a fractional retry-after is kept, not rounded",
            "an HTTP-date retry-after gives the seconds until that date",
            "retry-after-ms is preferred to retry-after",
            "overloaded (529) is retriable",
            "every 5xx is retriable, on both providers",
        ],
    ),
]

# The demo in the solution notebook ("what a check looks like"), by the name it has there.
DEMO: Demo = (
    "decide_by_status",
    "decides by HTTP status",
    [
        "an HTTP-date retry-after gives the seconds until that date",
        "retry-after-ms is preferred to retry-after",
        "an exhausted quota is never retriable",
        "an error inside a stream (after HTTP 200) is retriable",
        "every 5xx is retriable, on both providers",
        "timeouts and dropped connections are retriable, on both providers",
        "408 and 409 are retriable",
    ],
)


# ---------------------------------------------------------------------------- the right answers
def decide_by_class_tree(exc: BaseException) -> Decision:
    """The SDKs' own class trees, with the body consulted only where a class cannot tell."""
    if isinstance(exc, openai.APIConnectionError | anthropic.APIConnectionError):
        return Decision(True, None)
    if isinstance(exc, openai.APIStatusError | anthropic.APIStatusError):
        if isinstance(exc, anthropic.APIStatusError) and exc.status_code == 200:
            return Decision(True, None)  # anthropic's in-stream errors are all transient
        if _reasons(exc) & QUOTA:
            return Decision(False, None)
        transient = (
            openai.RateLimitError,
            anthropic.RateLimitError,
            openai.InternalServerError,
            anthropic.InternalServerError,
            openai.ConflictError,
            anthropic.ConflictError,
        )
        if isinstance(exc, transient) or exc.status_code == 408:
            return Decision(True, _parsed_wait(exc.response.headers))
        return Decision(False, None)
    if isinstance(exc, openai.APIError | anthropic.APIError):  # openai's in-stream error
        return Decision(True, None)
    return Decision(False, None)


def _parsed_wait(headers: Any) -> float | None:
    """parsedate_tz + mktime_tz: the time zone travels with the date."""
    if headers.get("retry-after-ms"):
        return int(headers["retry-after-ms"]) / 1000.0
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.replace(".", "", 1).isdigit():
        return float(value)
    parsed = email.utils.parsedate_tz(value)
    return None if parsed is None else max(0.0, email.utils.mktime_tz(parsed) - time.time())


class Classifier:
    """A table per question, as a callable object."""

    never = QUOTA
    temporary = frozenset(STATUSES)

    def __call__(self, exc: BaseException) -> Decision:
        match exc:
            case openai.APIConnectionError() | anthropic.APIConnectionError():
                return Decision(True, None)
            case (
                openai.APIStatusError(status_code=status)
                | anthropic.APIStatusError(status_code=status)
            ):
                if _reasons(exc) & self.never:
                    return Decision(False, None)
                if status < 400:
                    return Decision(True, None)
                if status in self.temporary:
                    return Decision(True, self.wait(exc.response.headers))
                return Decision(False, None)
            case openai.APIError() | anthropic.APIError():
                return Decision(bool(_reasons(exc) & {"server_error", "overloaded_error"}), None)
        return Decision(False, None)

    @staticmethod
    def wait(headers: Any) -> float | None:
        for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
            if name in headers:
                try:
                    return float(headers[name]) * scale
                except ValueError:
                    when = email.utils.parsedate_to_datetime(headers[name])
                    return max(0.0, (when - datetime.now(UTC)).total_seconds())
        return None


# Correct answers built differently from the solution: every check must pass them.
RIGHT: list[Right] = [
    ("the SDKs' class trees", decide_by_class_tree),
    ("a class with a match statement and tables", Classifier()),
]
