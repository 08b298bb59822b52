"""One exception tree for both providers, and the one place foreign exceptions are translated.

::

    LLMError                      provider, status, retriable, retry_after, request_id, code
    ├── RateLimitError            429 rate limit / ramp limit              retriable
    ├── QuotaExceededError        out of credit, spend limit (429, 402)    never retriable
    ├── OverloadedError           529, or anthropic's in-stream overloaded_error
    ├── ServerError               5xx, openai's in-stream server_error     retriable
    ├── RequestTimeoutError       client timeout, 408, 504                 retriable
    ├── ConnectionFailedError     unreachable host, dropped connection     retriable
    ├── ConflictError             409 (a lock timeout, retried by the SDKs too)
    ├── AuthenticationError       401, missing or rejected key
    ├── PermissionDeniedError     403
    ├── InvalidRequestError       400, 413, 422
    │   └── ContextLengthError    the prompt does not fit the model's context window
    ├── NotFoundError             404: unknown model or wrong path/base_url
    └── BudgetExceededError       the course's own budget, raised before any call is made

``classify(exc)`` turns any ``openai``, ``anthropic`` or ``httpx2`` exception into this tree::

    try:
        reply = client.chat.completions.create(...)
    except Exception as exc:
        raise classify(exc) from exc

Why not trust the SDK's class or the HTTP status? A 429 is a rate limit (wait and retry) *or* an
exhausted quota (retrying can never help), and only the body tells them apart; anthropic reports an
in-stream ``overloaded_error`` as ``APIStatusError`` with status 200. So each provider has one
mapping table below, read in order: error code, then error type, then HTTP status.

Every message says what to do next, and never contains an API key.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from course_helpers.provider_record import (
    PROVIDER_RECORDS,
    PROVIDERS,
    ProviderName,
    provider_for_host,
)
from course_helpers.redaction import redact  # re-exported: error messages never hold a key

__all__ = [
    "AuthenticationError",
    "BudgetExceededError",
    "ConflictError",
    "ConnectionFailedError",
    "ContextLengthError",
    "InvalidRequestError",
    "LLMError",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "ProviderName",
    "QuotaExceededError",
    "RateLimitError",
    "RequestTimeoutError",
    "ServerError",
    "classify",
    "is_api_failure",
    "parse_retry_after",
    "redact",
]

_OFFLINE = "or run offline with setup(mode='offline')"


class LLMError(Exception):
    """Base class: anything that went wrong talking to an LLM provider.

    Attributes:
        provider: ``"openai"``, ``"anthropic"`` or ``None`` when unknown.
        status: the HTTP status of the error response; ``None`` for in-stream and network errors.
        retriable: whether the same request can succeed if sent again later.
        retry_after: seconds the server asked to wait (``retry-after-ms`` / ``retry-after``).
        request_id: the provider's request id, to quote in a support ticket.
        code: the provider's machine-readable reason (``insufficient_quota``, ``overloaded_error``).
        attempts: how many attempts were made; the retry layer sets it.
        waited: seconds spent waiting between those attempts; the retry layer sets it.
    """

    default_retriable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        provider: ProviderName | None = None,
        status: int | None = None,
        retriable: bool | None = None,
        retry_after: float | None = None,
        request_id: str | None = None,
        code: str | None = None,
    ) -> None:
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status
        self.retriable = self.default_retriable if retriable is None else retriable
        self.retry_after = retry_after
        self.request_id = request_id
        self.code = code
        self.attempts = 1
        self.waited = 0.0

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={value!r}"
            for name, value in (
                ("provider", self.provider),
                ("status", self.status),
                ("code", self.code),
                ("retriable", self.retriable),
                ("retry_after", self.retry_after),
                ("request_id", self.request_id),
            )
            if value is not None
        )
        return f"{type(self).__name__}({self.message!r}, {fields})"


class RateLimitError(LLMError):
    """Too many requests or tokens per minute: wait ``retry_after`` seconds, then retry."""

    default_retriable = True


class QuotaExceededError(LLMError):
    """The account is out of credit or over a spend limit: no retry can succeed."""


class OverloadedError(LLMError):
    """The provider is temporarily over capacity (anthropic 529): back off, or fall back."""

    default_retriable = True


class ServerError(LLMError):
    """The provider failed (5xx, or an error frame mid-stream): retry with backoff."""

    default_retriable = True


class RequestTimeoutError(LLMError):
    """No answer in time (client timeout, 408, 504): retry, or stream long outputs."""

    default_retriable = True


class ConnectionFailedError(LLMError):
    """The provider could not be reached, or the connection dropped: retry."""

    default_retriable = True


class ConflictError(LLMError):
    """409: a concurrent change or a lock timeout; the SDKs retry it, so do we."""

    default_retriable = True


class AuthenticationError(LLMError):
    """The API key is missing, malformed or rejected (401)."""


class PermissionDeniedError(LLMError):
    """The key works but may not use this model or resource (403)."""


class InvalidRequestError(LLMError):
    """The provider rejected the request itself (400, 413, 422): fix it, do not retry."""


class ContextLengthError(InvalidRequestError):
    """The prompt (plus ``max_tokens``) does not fit the model's context window.

    ``limit`` is the window and ``requested`` what was asked for, when the provider says so.
    """

    def __init__(
        self,
        message: str,
        *,
        limit: int | None = None,
        requested: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.limit = limit
        self.requested = requested

    @property
    def tokens_over(self) -> int | None:
        """How many tokens too many, when both numbers are known."""
        if self.limit is None or self.requested is None:
            return None
        return self.requested - self.limit


class NotFoundError(LLMError):
    """404: the model name is unknown (or retired), or the base URL/path is wrong."""


class BudgetExceededError(LLMError):
    """The course's token or cost budget would be exceeded; raised *before* the call is made.

    The budget fills in what it knows: which ``period`` ("daily", "monthly"), the ``limit``, what
    is already ``used`` and what this call ``requested``, in ``unit`` ("tokens" or "USD").
    """

    def __init__(
        self,
        message: str,
        *,
        period: str | None = None,
        limit: float | None = None,
        used: float | None = None,
        requested: float | None = None,
        unit: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.period = period
        self.limit = limit
        self.used = used
        self.requested = requested
        self.unit = unit


# --------------------------------------------------------------------------------------------
# The mapping tables: what the provider says -> which class. Read in order: code, type, status.

_OPENAI_CODES: dict[str, type[LLMError]] = {
    "insufficient_quota": QuotaExceededError,
    "credit_balance_exhausted": QuotaExceededError,
    "organization_spend_limit_exceeded": QuotaExceededError,
    "project_spend_limit_exceeded": QuotaExceededError,
    "organization_usage_limit_exceeded": QuotaExceededError,
    "billing_hard_limit_reached": QuotaExceededError,
    "rate_limit_exceeded": RateLimitError,
    "context_length_exceeded": ContextLengthError,
    "invalid_api_key": AuthenticationError,
    "model_not_found": NotFoundError,
}
# Only the types that decide on their own: openai sends type "invalid_request_error" with a 401.
_OPENAI_TYPES: dict[str, type[LLMError]] = {
    "insufficient_quota": QuotaExceededError,
    "server_error": ServerError,
}

_ANTHROPIC_CODES: dict[str, type[LLMError]] = {  # error.details.error_code
    "enforced_spend_limit_reached": QuotaExceededError,
    "contract_spend_limit_reached": QuotaExceededError,
    "linked_organization_spend_limit_reached": QuotaExceededError,
    "linked_organization_billing_unavailable": QuotaExceededError,
    "ramp_limit_exceeded": RateLimitError,
}
_ANTHROPIC_TYPES: dict[str, type[LLMError]] = {  # error.type
    "billing_error": QuotaExceededError,
    "rate_limit_error": RateLimitError,
    "overloaded_error": OverloadedError,
    "api_error": ServerError,
    "timeout_error": RequestTimeoutError,
    "authentication_error": AuthenticationError,
    "permission_error": PermissionDeniedError,
    "not_found_error": NotFoundError,
    "request_too_large": InvalidRequestError,
    "invalid_request_error": InvalidRequestError,
}

# A type that only says "the request failed": the status decides when it is one the SDKs retry.
_GENERIC_TYPES = frozenset({"invalid_request_error"})
_RETRIED_STATUSES = frozenset({408, 409})

_STATUSES: dict[int, type[LLMError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    402: QuotaExceededError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: RequestTimeoutError,
    409: ConflictError,
    413: InvalidRequestError,
    422: InvalidRequestError,
    429: RateLimitError,
    504: RequestTimeoutError,
    529: OverloadedError,
}

_TABLES: dict[ProviderName, tuple[dict[str, type[LLMError]], dict[str, type[LLMError]]]] = {
    "openai": (_OPENAI_CODES, _OPENAI_TYPES),
    "anthropic": (_ANTHROPIC_CODES, _ANTHROPIC_TYPES),
}

_CONTEXT_HINTS = ("maximum context length", "prompt is too long", "exceed context limit")
# Anthropic answers an empty prepaid account with a plain 400 invalid_request_error.
_CREDIT_HINTS = ("credit balance is too low",)


def classify(exc: BaseException) -> LLMError:
    """Translate any SDK, httpx2 or network exception into the course's tree.

    An ``LLMError`` is returned unchanged; anything else gets a new error whose ``__cause__`` is
    ``exc``. Unknown exceptions become a plain, non-retriable ``LLMError`` naming their type.
    """
    if isinstance(exc, LLMError):
        return exc
    provider = _provider_of(exc)
    if provider is not None and hasattr(exc, "message") and hasattr(exc, "request"):
        error = _classify_api_error(exc, provider)
    else:
        error = _classify_other(exc, provider)
    error.__cause__ = exc
    return error


def is_api_failure(exc: BaseException) -> bool:
    """Whether ``exc`` came from talking to an API (SDK, HTTP, network), not from a bug.

    The one answer both the translation (``providers.translate_errors``) and the retry layer
    use. API failures are classified (and maybe retried); anything else propagates unchanged,
    so the traceback points at the bug: a ``KeyError`` in the caller's code, a
    ``FileNotFoundError`` for a missing file (of the ``OSError`` family only ``ConnectionError``
    and ``TimeoutError`` are network failures). anthropic's missing-credentials ``TypeError`` is
    an API failure: the fix is a key, not the code.
    """
    if isinstance(exc, LLMError | TimeoutError | ConnectionError):
        return True
    root = type(exc).__module__.partition(".")[0]
    return root in _SDKS or root in _HTTP_LIBRARIES or _lacks_credentials(exc)


def _lacks_credentials(exc: BaseException) -> bool:
    """anthropic's ``TypeError`` when neither a key nor a token is set (raised before sending)."""
    return isinstance(exc, TypeError) and "Could not resolve authentication method" in str(exc)


def _provider_of(exc: BaseException) -> ProviderName | None:
    root = type(exc).__module__.partition(".")[0]
    for name in PROVIDERS:  # each SDK's package is named after its provider
        if root == name:
            return name
    request = _safe_request(exc)  # raw httpx2 errors escape anthropic streams; the URL tells whose
    return provider_for_host(request.url.host) if request is not None else None


def _safe_request(exc: BaseException) -> Any:
    try:
        return getattr(exc, "request", None)  # httpx2 raises RuntimeError when it has none
    except RuntimeError:
        return None


def _classify_api_error(exc: BaseException, provider: ProviderName) -> LLMError:
    """``openai.APIError`` / ``anthropic.APIError`` and their subclasses."""
    names = {base.__name__ for base in type(exc).__mro__}
    if "APITimeoutError" in names:
        return _build(RequestTimeoutError, provider)
    if "APIConnectionError" in names:
        return _build(ConnectionFailedError, provider, detail=_describe_cause(exc))

    body = getattr(exc, "body", None)
    response = getattr(exc, "response", None)
    headers: Mapping[str, str] = response.headers if response is not None else {}
    http_status = getattr(exc, "status_code", None)
    # anthropic raises in-stream errors with the stream's own status, 200: not an error status.
    status = http_status if isinstance(http_status, int) and http_status >= 400 else None

    error_type, code, detail, param = _read_body(body, provider)
    codes, types = _TABLES[provider]
    by_type = types.get(error_type or "")
    if error_type in _GENERIC_TYPES and status in _RETRIED_STATUSES:
        by_type = None  # "invalid_request_error" on a 408/409: the status says more
    cls = (
        codes.get(code or "")
        or by_type
        or (_STATUSES.get(status) if status is not None else None)
        or (ServerError if status is not None and status >= 500 else None)
    )
    detail = detail or str(getattr(exc, "message", "")) or None
    if cls is InvalidRequestError and detail and any(h in detail for h in _CONTEXT_HINTS):
        cls = ContextLengthError
    if cls is InvalidRequestError and detail and any(h in detail.lower() for h in _CREDIT_HINTS):
        cls = QuotaExceededError
    if cls is RateLimitError and detail and detail.startswith("Request too large"):
        cls = InvalidRequestError  # one request bigger than the per-minute limit: never fits
    request_id = getattr(exc, "request_id", None) or _body_request_id(body)
    retriable = _should_retry_header(headers)
    if cls is None:
        return LLMError(
            _unknown_message(exc, provider, status, detail),
            provider=provider,
            status=status,
            retriable=retriable,
            request_id=request_id,
            code=code or error_type,
        )
    if cls is QuotaExceededError:
        retriable = False  # whatever a header says: retrying an empty account only burns time
    retry_after = parse_retry_after(headers)
    if retry_after is None and cls is RateLimitError and detail:
        retry_after = _wait_from_message(detail)
    return _build(
        cls,
        provider,
        status=status,
        code=code or error_type,
        request_id=request_id,
        retry_after=retry_after,
        detail=detail,
        retriable=retriable,
        param=param,
        in_stream=status is None,  # transport errors returned above: an error frame mid-stream
    )


_SDKS = PROVIDERS  # each SDK's package is named after its provider
_HTTP_LIBRARIES = ("httpx2", "httpcore2", "httpx", "httpcore")
_TRANSPORT_ERRORS = {"TransportError", "NetworkError", "ProtocolError"}  # httpx* and httpcore*


def _classify_other(exc: BaseException, provider: ProviderName | None) -> LLMError:
    """Transport errors (httpx/httpx2, OS), client-side credential errors, and the unknown."""
    names = {base.__name__ for base in type(exc).__mro__}
    http_lib = type(exc).__module__.partition(".")[0] in _HTTP_LIBRARIES
    if (http_lib and "TimeoutException" in names) or isinstance(exc, TimeoutError):
        return _build(RequestTimeoutError, provider)
    if (http_lib and names & _TRANSPORT_ERRORS) or isinstance(exc, ConnectionError):
        return _build(ConnectionFailedError, provider, detail=f"{type(exc).__name__}: {exc}")
    text = str(exc)
    if provider == "openai" and "api_key" in text and type(exc).__name__ == "OpenAIError":
        return _build(AuthenticationError, "openai", detail=text)
    if "CredentialsError" in names or _lacks_credentials(exc):
        return _build(AuthenticationError, "anthropic", detail=text)
    return LLMError(_unknown_message(exc, provider, None, text or None), provider=provider)


def _read_body(
    body: object, provider: ProviderName
) -> tuple[str | None, str | None, str | None, str | None]:
    """(error type, error code, message, param) from an error body; openai's is unwrapped."""
    if not isinstance(body, Mapping):
        return None, None, (body if isinstance(body, str) and body else None), None
    error = body.get("error", body) if provider == "anthropic" else body
    if not isinstance(error, Mapping):
        return None, None, None, None
    details = error.get("details")
    code = error.get("code")
    if provider == "anthropic":
        code = details.get("error_code") if isinstance(details, Mapping) else None
    return (
        _str_or_none(error.get("type")),
        _str_or_none(code),
        _str_or_none(error.get("message")),
        _str_or_none(error.get("param")),
    )


def _str_or_none(value: object) -> str | None:
    return str(value) if value is not None and value != "" else None


def _body_request_id(body: object) -> str | None:
    return _str_or_none(body.get("request_id")) if isinstance(body, Mapping) else None


def _should_retry_header(headers: Mapping[str, str]) -> bool | None:
    """The non-standard ``x-should-retry`` header, which both SDKs obey over the status."""
    value = headers.get("x-should-retry")
    return {"true": True, "false": False}.get(value) if value is not None else None


def _describe_cause(exc: BaseException) -> str | None:
    cause = exc.__cause__ or exc.__context__
    return f"{type(cause).__name__}: {cause}" if cause is not None else None


# --------------------------------------------------------------------------------------------
# Messages: what happened, then what to do.


def _build(
    cls: type[LLMError],
    provider: ProviderName | None,
    *,
    status: int | None = None,
    code: str | None = None,
    request_id: str | None = None,
    retry_after: float | None = None,
    detail: str | None = None,
    retriable: bool | None = None,
    param: str | None = None,
    in_stream: bool = False,
) -> LLMError:
    """An instance of ``cls`` with a message that says what happened and what to do."""
    name = PROVIDER_RECORDS[provider].label if provider is not None else "The provider"
    kwargs: dict[str, Any] = {
        "provider": provider,
        "status": status,
        "retriable": retriable,
        "retry_after": retry_after,
        "request_id": request_id,
        "code": code,
    }
    shown = [str(x) for x in (status, code, "mid-stream" if in_stream else None) if x]
    what = f" ({', '.join(shown)})" if shown else ""
    if cls is ContextLengthError:
        limit, requested = _context_numbers(detail or "")
        over = requested - limit if limit is not None and requested is not None else None
        size = f": {requested} tokens > {limit} maximum ({over} too many)" if over else ""
        text = (
            f"The prompt does not fit the model's context window{size}. Retrying will not help: "
            "shorten or summarise the messages, lower max_tokens, or use a model with a larger "
            "context window (course_helpers.catalog.get_model(name).context_window)."
        )
        return ContextLengthError(
            _with_detail(text, name, detail, request_id), limit=limit, requested=requested, **kwargs
        )
    text = _headline(cls, name, provider, what, retry_after, param)
    return cls(_with_detail(text, name, detail, request_id), **kwargs)


def _headline(
    cls: type[LLMError],
    name: str,
    provider: ProviderName | None,
    what: str,
    retry_after: float | None,
    param: str | None,
) -> str:
    env_var = (
        PROVIDER_RECORDS[provider].key_variable
        if provider is not None
        else " or ".join(record.key_variable for record in PROVIDER_RECORDS.values())
    )
    if cls is RateLimitError:
        wait = f"wait the {retry_after:g} s it asked for" if retry_after is not None else "back off"
        return (
            f"{name} rate limit reached{what}. This is temporary: {wait} and retry "
            "(course_helpers.retry does), and throttle with course_helpers.ratelimit.RateLimiter."
        )
    if cls is QuotaExceededError:
        url = PROVIDER_RECORDS[provider].billing_url if provider else "your provider's billing page"
        return (
            f"{name} says the account is out of credit or over its spend limit{what}. Retrying "
            f"will not help: add credit or raise the limit at {url}, {_OFFLINE}."
        )
    if cls is OverloadedError:
        return (
            f"{name} is overloaded{what}. This is temporary: back off and retry, or fall back to "
            "another provider."
        )
    if cls is ServerError:
        return f"{name} had a server error{what}. This is usually temporary: retry with backoff."
    if cls is RequestTimeoutError:
        return (
            f"The request to {name} timed out{what}. Retry; for long answers stream the response, "
            "or pass a larger timeout= to the client."
        )
    if cls is ConnectionFailedError:
        return (
            f"Could not reach {name}, or the connection dropped{what}. Check the network and "
            f"base_url, then retry; {_OFFLINE} to work without a network."
        )
    if cls is ConflictError:
        return f"{name} reported a conflict{what}. Usually temporary: retry."
    if cls is AuthenticationError:
        return (
            f"{name} needs a valid API key{what}. Check {env_var} in .env at the course root "
            f"(see .env.example), {_OFFLINE}."
        )
    if cls is PermissionDeniedError:
        return (
            f"{name} refused access{what}. The key is valid but may not use this model or "
            "resource: check the project's model access and the organization's settings."
        )
    if cls is NotFoundError:
        return (
            f"{name} could not find the model or path{what}. Check the model name "
            "(course_helpers.catalog.list_models(); retired names: catalog.retired_model()) and "
            "the base_url."
        )
    if cls is InvalidRequestError:
        where = f" (parameter: {param})" if param else ""
        return (
            f"{name} rejected the request{what}{where}. Retrying will not help: fix the request "
            "as the message below says."
        )
    return f"{name} returned an error{what}."


def _with_detail(text: str, name: str, detail: str | None, request_id: str | None) -> str:
    if detail:
        text += f' {name} said: "{detail}"'
    if request_id:
        text += f" (request id {request_id})"
    return text


def _unknown_message(
    exc: BaseException, provider: ProviderName | None, status: int | None, detail: str | None
) -> str:
    source = PROVIDER_RECORDS[provider].label if provider is not None else "the LLM call"
    status_text = f" (HTTP {status})" if status else ""
    said = f": {detail}" if detail else ""
    return (
        f"Unexpected {type(exc).__module__}.{type(exc).__name__} from {source}{status_text}{said}. "
        "It is not a known transient failure, so it is not retried; see the cause below."
    )


_CONTEXT_PATTERNS = (
    # openai: "maximum context length is 128000 tokens. However, your messages resulted in 130001"
    re.compile(
        r"maximum context length is (?P<limit>\d+).*?(?:resulted in|requested) (?P<req>\d+)"
    ),
    # anthropic: "prompt is too long: 208656 tokens > 200000 maximum"
    re.compile(r"prompt is too long: (?P<req>\d+) tokens > (?P<limit>\d+)"),
    # anthropic: "input length and `max_tokens` exceed context limit: 195000 + 8192 > 200000"
    re.compile(r"exceed context limit: (?P<inp>\d+) \+ (?P<out>\d+) > (?P<limit>\d+)"),
)


_TRY_AGAIN = re.compile(r"try again in (?P<value>\d+(?:\.\d+)?)(?P<unit>ms|s)\b")


def _wait_from_message(text: str) -> float | None:
    """openai's "Please try again in 8.71s." when no retry-after header came with it."""
    match = _TRY_AGAIN.search(text)
    if match is None:
        return None
    value = float(match["value"])
    return value / 1000 if match["unit"] == "ms" else value


def _context_numbers(text: str) -> tuple[int | None, int | None]:
    """(limit, requested) from a context-length message, when the numbers are there."""
    for pattern in _CONTEXT_PATTERNS:
        match = pattern.search(text)
        if match:
            found = match.groupdict()
            requested = (
                int(found["req"]) if "req" in found else int(found["inp"]) + int(found["out"])
            )
            return int(found["limit"]), requested
    return None, None


# --------------------------------------------------------------------------------------------
# Helpers other modules use.


def parse_retry_after(
    headers: Mapping[str, str], *, now: Callable[[], float] = time.time
) -> float | None:
    """Seconds the server asked to wait, as both SDKs read it; ``None`` when it did not say.

    ``retry-after-ms`` first, then ``retry-after`` as seconds, then as an HTTP-date. A date in the
    past gives 0.0; a negative or unreadable value gives ``None``.

    >>> parse_retry_after({"retry-after-ms": "250", "retry-after": "9"})
    0.25
    >>> parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:05 GMT"}, now=lambda: 1445412480)
    5.0
    """
    for header, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(header)
        if value is None:
            continue
        try:
            seconds = float(value) / divisor
        except ValueError:
            continue
        return seconds if seconds >= 0 and seconds == seconds else None  # rejects NaN
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - now())
