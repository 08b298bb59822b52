"""The simulated provider's core: configuration, state, faults, text, and the request log.

``FakeProvider.handle`` turns one ``FakeRequest`` into a ``FakeResponse`` (or ``None``: "not mine,
pass it through") without I/O and without sleeping; latency is written into the response as chunk
delays, and the adapters (``respx_adapter``, the ASGI app) play it back. Everything that changes —
the calls log, the fault queue, the rate-limit buckets, the random streams — sits behind one lock.

Order of checks for a generation request (``/chat/completions``, ``/responses``,
``/v1/messages``), as the real APIs do it: authentication (401) → body and parameters (400) →
model (404) → context window (400) → a scripted or random fault → rate limits (429) → the answer.

Rate-limit charging rule: a request is charged when it arrives, at
``estimate_tokens(messages, system=...) + max_tokens`` tokens (OpenAI: ``max_completion_tokens``,
else ``max_tokens``, else ``DEFAULT_CHARGED_MAX_TOKENS``; times ``n``; the Responses API:
``max_output_tokens``, with ``instructions`` as the system prompt and a ``previous_response_id``'s
conversation counted as input) and one request, so a client can predict the charge exactly.
Chat completions and responses share OpenAI's buckets. Anthropic's input bucket is charged the
prompt estimate and its output bucket ``max_tokens``; ``tpm`` there is one more bucket charged
their sum. Charges are not refunded when the answer turns out shorter. Scripted status faults
(429, 5xx, ...) are not charged; a hang, a drop or a mid-stream error is (the request got through).

Text is deterministic when ``temperature == 0`` or (OpenAI) a ``seed`` is given: the same request to
a ``FakeProvider`` with the same ``seed`` gives the same text. Otherwise each answer draws from the
provider's own seeded random stream, so a run is still reproducible from its first call. Ids
(request ids, ``chatcmpl-…``, ``resp_…``) come from a stream of their own: reproducible when a
``seed`` is given, else fresh for every provider, so a restarted fake never repeats an id the
client (a log, a cache, a stored ``previous_response_id``) has already seen.
Responses echo the model name exactly as requested (the real OpenAI API echoes a dated snapshot id
for an alias; the simulation keeps what you sent, so the notebook shows your own name back).
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from course_helpers import redaction, safe_json
from course_helpers.fake import dialects
from course_helpers.fake.answers import AnswerDraws, compose_answer
from course_helpers.fake.completion import Completion, Finish, shape_answer
from course_helpers.fake.dialects import provider_of
from course_helpers.fake.exchange import FakeRequest, FakeResponse
from course_helpers.fake.faults import KIND_NAMES, Fault, FaultKind, fault_from_spec
from course_helpers.fake.limits import RateLimits
from course_helpers.fake.response_store import DEFAULT_KEEP_RESPONSES, ResponseStore
from course_helpers.fake.wire import (
    DEFAULT_CHARGED_MAX_TOKENS,
    Outcome,
    ProviderName,
    content_text,
    json_response,
    last_user_text,
    parse_json_object,
    resolve_model,
)

__all__ = [
    "DEFAULT_CHARGED_MAX_TOKENS",
    "DEFAULT_KEEP_CALLS",
    "DEFAULT_LIMITS",
    "Completion",
    "FakeCall",
    "FakeProvider",
    "Fault",
    "Finish",
    "Outcome",
    "ProviderName",
    "content_text",
    "json_response",
    "last_user_text",
    "mask_key",
    "parse_json_object",
    "provider_of",
    "resolve_model",
    "shape_answer",
]

DEFAULT_LIMITS: dict[ProviderName, dict[str, int]] = {
    "openai": {"requests": 10_000, "tokens": 10_000_000},
    "anthropic": {"requests": 4_000, "input_tokens": 2_000_000, "output_tokens": 400_000},
}
"""Generous per-minute limits used when no ``rpm``/``tpm`` is given (headers are still sent)."""

DEFAULT_KEEP_CALLS = 1_000
"""Requests ``FakeProvider.calls`` keeps (the newest). A record holds the whole request body, so an
unbounded log grows by the prompt's size on every request of a long-running process (a relay, a
benchmark); the most one provider records in any notebook or exercise check is 66 (ex05), and in
the tests 80."""


def mask_key(key: str) -> str:
    """A key shown safely, the course's one way (:func:`course_helpers.redaction.mask`)."""
    return redaction.mask(key)


@dataclass(frozen=True)
class FakeCall:
    """One request the simulated provider answered, as ``fake.calls`` shows it.

    ``headers`` are the request's headers with the API key masked; ``body`` is the parsed JSON
    request body (``None`` if there was none or it was not JSON); ``status`` is ``None`` when the
    connection hung or dropped before a status line; ``usage`` is the usage object the response
    reported, in the provider's own shape; ``fault`` names the injected fault, if any.
    """

    provider: ProviderName
    method: str
    path: str
    body: Any
    headers: Mapping[str, str]
    status: int | None
    streamed: bool = False
    model: str | None = None
    usage: Mapping[str, Any] | None = None
    fault: str | None = None
    request_id: str | None = None
    time: float = 0.0

    @property
    def retry_count(self) -> int:
        """The SDK's ``x-stainless-retry-count`` (0 for a first attempt or a non-SDK client)."""
        try:
            return int(self.headers.get("x-stainless-retry-count", "0"))
        except ValueError:
            return 0


def _mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    masked = dict(headers)
    if "x-api-key" in masked:
        masked["x-api-key"] = mask_key(masked["x-api-key"])
    auth = masked.get("authorization")
    if auth is not None:
        scheme, _, credential = auth.partition(" ")
        masked["authorization"] = f"{scheme} {mask_key(credential)}" if credential else "…"
    return masked


class FakeProvider:
    """A simulated OpenAI + Anthropic API, for offline notebooks, demos and tests.

    >>> from openai import OpenAI
    >>> with FakeProvider(seed=1) as fake:
    ...     client = OpenAI(api_key="sk-test-not-a-real-key-0000")
    ...     reply = client.chat.completions.create(
    ...         model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}], temperature=0)
    >>> fake.calls[0].status, fake.calls[0].headers["authorization"]
    (200, 'Bearer sk-…0000')

    ``rpm``/``tpm`` (and Anthropic's ``input_tpm``/``output_tpm``) are limits per ``period``
    seconds, per API key. ``ttft`` and ``token_delay`` are seconds. ``fault_rate`` makes that
    fraction of generation requests fail with a fault drawn from ``fault_statuses`` (HTTP statuses
    or ``"quota"``, ``"hang"``, ``"drop"``, ``"mid_stream"``), reproducibly for a ``seed``.
    ``fault_retry_after`` is the ``retry-after`` (seconds) of injected 429/503/529 responses
    (``None``: send none). ``seed`` fixes the texts, the random faults and the ids; without one,
    texts and faults use seed 0 and the ids are fresh (unique across restarts).
    ``providers`` lists what is simulated: requests for another provider pass through untouched.
    ``keep_calls`` is how many of the newest requests ``calls`` keeps (older ones are dropped, so
    memory stays bounded however long the provider runs); ``call_count`` still counts them all.
    ``keep_responses`` is how many stored Responses API answers ``previous_response_id`` can
    still name (the newest; an older id gets the real API's 404).
    """

    def __init__(
        self,
        *,
        rpm: int | None = None,
        tpm: int | None = None,
        period: float = 60.0,
        ttft: float = 0.0,
        token_delay: float = 0.0,
        seed: int | None = None,
        providers: Iterable[ProviderName] = ("openai", "anthropic"),
        input_tpm: int | None = None,
        output_tpm: int | None = None,
        fault_rate: float = 0.0,
        fault_statuses: Sequence[int | str] = (429, 500, 503, 529),
        fault_retry_after: float | None = 1.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        keep_calls: int = DEFAULT_KEEP_CALLS,
        keep_responses: int = DEFAULT_KEEP_RESPONSES,
    ) -> None:
        if keep_calls < 0:
            raise ValueError(f"keep_calls is a number of requests (0 or more), got {keep_calls!r}")
        if ttft < 0 or token_delay < 0:
            raise ValueError("ttft and token_delay are seconds and cannot be negative")
        if not 0.0 <= fault_rate <= 1.0:
            raise ValueError(f"fault_rate is a probability between 0 and 1, got {fault_rate!r}")
        self.providers: frozenset[ProviderName] = frozenset(providers)
        unknown = self.providers - {"openai", "anthropic"}
        if unknown:
            raise ValueError(f"unknown provider(s) {sorted(unknown)}: use 'openai', 'anthropic'")
        self.ttft = ttft
        self.token_delay = token_delay
        self.seed = 0 if seed is None else seed  # texts: reproducible either way
        self._seeded_ids = seed is not None
        self.period = period
        self.fault_rate = fault_rate
        self.fault_retry_after = fault_retry_after
        self._random_faults = [fault_from_spec(spec) for spec in fault_statuses]
        self.clock = clock
        self.wall_clock = wall_clock
        self.rate_limits: dict[ProviderName, RateLimits] = {
            "openai": RateLimits(_limits("openai", rpm=rpm, tpm=tpm), period=period, clock=clock),
            "anthropic": RateLimits(
                _limits("anthropic", rpm=rpm, tpm=tpm, input_tpm=input_tpm, output_tpm=output_tpm),
                period=period,
                clock=clock,
            ),
        }
        self._lock = threading.RLock()
        self._calls: deque[FakeCall] = deque(maxlen=keep_calls)
        self._call_count = 0
        self._faults: list[Fault] = []
        self.stored_responses = ResponseStore(keep_responses)
        self._seed_streams()

    def _seed_streams(self) -> None:
        # Separate streams, so turning faults on does not change the texts or the ids.
        self._draws = AnswerDraws(self.seed)  # a cap never changes which answer is drawn
        self._fault_rng = random.Random(f"faults:{self.seed}")
        self._id_rng = random.Random(
            f"ids:{self.seed}" if self._seeded_ids else secrets.randbits(64)
        )

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Self:
        """Answer the SDKs' requests in this process (the innermost started provider answers)."""
        from course_helpers.fake import respx_adapter

        respx_adapter.activate(self)
        return self

    def stop(self) -> None:
        """Stop answering; an earlier started provider, if any, answers again."""
        from course_helpers.fake import respx_adapter

        respx_adapter.deactivate(self)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ scripting and inspection
    def fail_next(
        self,
        status: int | None = None,
        times: int = 1,
        retry_after: float | None = None,
        *,
        quota: bool = False,
        hang: bool = False,
        drop: bool = False,
        mid_stream: bool = False,
        context_length: bool = False,
        after_tokens: int | None = None,
        retry_after_ms: int | None = None,
        provider: ProviderName | None = None,
        message: str | None = None,
    ) -> None:
        """Make the next ``times`` matching generation requests fail.

        ``fail_next(429)`` is a rate-limit error, ``fail_next(429, quota=True)`` an exhausted
        quota (OpenAI ``insufficient_quota``; Anthropic a spend-limit 429), ``fail_next(529)``
        Anthropic's overloaded error (OpenAI has no 529: it answers 503 "engine overloaded"),
        ``fail_next(hang=True)`` a request that never answers, ``fail_next(drop=True)`` a dropped
        connection, ``fail_next(mid_stream=True, after_tokens=3)`` an error event after three
        streamed tokens (it waits for a streaming request). ``provider=`` targets one provider.
        Faults are used in order; one that does not apply to a request waits for the next.
        """
        kinds = {
            "quota": quota,
            "hang": hang,
            "drop": drop,
            "mid_stream": mid_stream,
            "context_length": context_length,
        }
        chosen = [name for name, on in kinds.items() if on]
        if len(chosen) > 1:
            raise ValueError(f"choose one kind of fault, not {' and '.join(chosen)}")
        kind: FaultKind = KIND_NAMES[chosen[0]] if chosen else "status"
        if kind == "status" and (status is None or not 400 <= status <= 599):
            raise ValueError(
                "fail_next needs an HTTP error status (e.g. 429, 500, 529) "
                "or a kind: quota=True, hang=True, drop=True, mid_stream=True"
            )
        if kind == "quota":
            status = status or 429
        if kind == "context_length":
            status = 400
        if times < 1:
            raise ValueError(f"times must be at least 1, got {times!r}")
        if provider is not None and provider not in ("openai", "anthropic"):
            raise ValueError(f"unknown provider {provider!r}: use 'openai' or 'anthropic'")
        fault = Fault(
            kind,
            status=status,
            retry_after=retry_after,
            retry_after_ms=retry_after_ms,
            provider=provider,
            after_tokens=after_tokens,
            message=message,
        )
        with self._lock:
            self._faults.extend([fault] * times)

    @property
    def calls(self) -> list[FakeCall]:
        """The newest ``keep_calls`` requests answered, oldest first (a copy)."""
        with self._lock:
            return list(self._calls)

    @property
    def call_count(self) -> int:
        """Requests answered since the start or the last ``reset()``, kept in ``calls`` or not."""
        with self._lock:
            return self._call_count

    @property
    def pending_faults(self) -> list[Fault]:
        """Scripted faults not used yet."""
        with self._lock:
            return list(self._faults)

    def reset(self) -> None:
        """Forget the calls, the faults, stored responses, rate-limit state; reseed the streams."""
        with self._lock:
            self._calls.clear()
            self.stored_responses.clear()
            self._call_count = 0
            self._faults.clear()
            for limits in self.rate_limits.values():
                limits.reset()
            self._seed_streams()

    def simulates(self, provider: ProviderName) -> bool:
        """Whether this fake answers for ``provider``."""
        return provider in self.providers

    # ------------------------------------------------------------------ the seam
    def handle(self, request: FakeRequest) -> FakeResponse | None:
        """Answer one request, or ``None`` if it is not for a simulated provider's endpoint."""
        provider = provider_of(request)
        if provider is None or provider not in self.providers:
            return None
        with self._lock:
            for dialect in dialects.dialects_of(provider):
                outcome = dialect.handle(self, request)
                if outcome is not None:
                    self._record(provider, request, outcome)
                    return outcome.response
        return None

    def not_found(self, request: FakeRequest, provider: ProviderName) -> FakeResponse:
        """The provider's own 404 for a path it does not serve."""
        with self._lock:
            outcome = dialects.not_found(self, request, provider)
            self._record(provider, request, outcome)
            return outcome.response

    def _record(self, provider: ProviderName, request: FakeRequest, outcome: Outcome) -> None:
        try:
            body = safe_json.loads(request.body) if request.body else None
        except safe_json.InvalidJSON:
            body = None
        self._calls.append(
            FakeCall(
                provider=provider,
                method=request.method.upper(),
                path=request.path,
                body=body,
                headers=_mask_headers(request.headers),
                status=outcome.status,
                streamed=outcome.streamed,
                model=outcome.model,
                usage=outcome.usage,
                fault=outcome.fault,
                request_id=outcome.request_id,
                time=self.clock(),
            )
        )
        self._call_count += 1

    # ------------------------------------------------------------------ used by the dialects
    def take_fault(self, provider: ProviderName, streaming: bool) -> Fault | None:
        """The fault for this request: the first applicable scripted one, else maybe a random."""
        for index, fault in enumerate(self._faults):
            if fault.applies_to(provider, streaming):
                return self._faults.pop(index)
        if self.fault_rate and self._fault_rng.random() < self.fault_rate:
            choices = [f for f in self._random_faults if f.applies_to(provider, streaming)]
            if choices:
                return self._fault_rng.choice(choices)
        return None

    def give_back(self, fault: Fault) -> None:
        """Put back a scripted fault that a request did not use (it was refused earlier)."""
        if fault.scripted:
            self._faults.insert(0, fault)

    def compose(
        self,
        *,
        provider: ProviderName,
        model: str,
        messages: Any,
        system: str | None,
        prompt: str,
        n: int,
        max_tokens: int | None,
        stops: Sequence[str],
        deterministic: bool,
        seed: Any = None,
    ) -> list[Completion]:
        """``n`` answers to ``prompt``, cut at the stop sequences and ``max_tokens``."""
        material = json.dumps(
            [self.seed, provider, model, messages, system, seed], sort_keys=True, default=str
        )
        if deterministic:
            derived = int.from_bytes(hashlib.sha256(material.encode()).digest()[:8], "big")
            text = compose_answer(
                prompt, system=system, rng=random.Random(derived), deterministic=True
            )
            texts = [text] * n
        else:
            texts = []
            streams = self._draws.streams(material, cap=json.dumps([max_tokens, list(stops)]))
            for _ in range(n):
                for _attempt in range(8):  # distinct choices where the answer book allows
                    rng = next(streams)
                    text = compose_answer(prompt, system=system, rng=rng, deterministic=False)
                    if text not in texts:
                        break
                texts.append(text)
        return [shape_answer(text, max_tokens, stops) for text in texts]

    def random_id(self, length: int, alphabet: str) -> str:
        """A random identifier from the provider's id stream (reproducible for a given seed)."""
        return "".join(self._id_rng.choices(alphabet, k=length))


def _limits(
    provider: ProviderName,
    *,
    rpm: int | None,
    tpm: int | None,
    input_tpm: int | None = None,
    output_tpm: int | None = None,
) -> dict[str, int]:
    limits = dict(DEFAULT_LIMITS[provider])
    if rpm is not None:
        limits["requests"] = rpm
    if tpm is not None:
        limits["tokens"] = tpm
    if input_tpm is not None:
        limits["input_tokens"] = input_tpm
    if output_tpm is not None:
        limits["output_tokens"] = output_tpm
    return limits
