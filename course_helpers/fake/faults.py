"""Injected failures and how a reply plays them back, the same way in every dialect.

A leaf module: ``Fault`` says what goes wrong; the helpers below turn it into a response that
stalls or drops before the status line, a JSON body cut half-way, or a stream that stops after
``after_tokens`` pieces. The error *bodies* (429, 5xx, a mid-stream error event) are each
provider's own and stay in the dialects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from course_helpers.fake.exchange import Chunk, Ending, FakeResponse
from course_helpers.fake.wire import Outcome, ProviderName

__all__ = [
    "KIND_NAMES",
    "Fault",
    "FaultKind",
    "cut_body",
    "fault_from_spec",
    "stalled",
    "stream_cutoff",
]

FaultKind = Literal["status", "quota", "context_length", "hang", "drop", "mid_stream"]

KIND_NAMES: dict[str, FaultKind] = {
    "quota": "quota",
    "context_length": "context_length",
    "hang": "hang",
    "drop": "drop",
    "mid_stream": "mid_stream",
}


@dataclass(frozen=True)
class Fault:
    """One injected failure: what happens instead of (or in the middle of) a normal answer.

    ``kind`` is ``status`` (an HTTP error ``status``), ``quota`` (429 that retrying cannot fix),
    ``context_length`` (400), ``hang`` (no bytes until the client's read timeout), ``drop`` (the
    connection closes) or ``mid_stream`` (an error event inside a 200 stream). ``after_tokens``
    lets a hang, drop or mid-stream error happen after that many tokens were streamed.
    """

    kind: FaultKind
    status: int | None = None
    retry_after: float | None = None
    retry_after_ms: int | None = None
    provider: ProviderName | None = None
    after_tokens: int | None = None
    message: str | None = None
    scripted: bool = True

    def applies_to(self, provider: ProviderName, streaming: bool) -> bool:
        """Whether this fault can happen to the given request."""
        if self.provider is not None and self.provider != provider:
            return False
        return streaming or self.kind != "mid_stream"

    @property
    def is_error_reply(self) -> bool:
        """An error answered instead of the answer (status, quota, context length): not charged."""
        return self.kind in ("status", "quota", "context_length")

    @property
    def before_headers(self) -> bool:
        """A hang or drop that happens before any response byte is sent."""
        return self.kind in ("hang", "drop") and self.after_tokens is None

    @property
    def ending(self) -> Ending:
        """How a body this fault interrupts ends (a mid-stream error ends the stream normally)."""
        if self.kind == "hang":
            return "hang"
        return "drop" if self.kind == "drop" else "complete"

    @property
    def label(self) -> str:
        """A short name for the calls log: ``"429"``, ``"quota"``, ``"hang"``, ..."""
        return str(self.status) if self.kind == "status" else self.kind

    def retry_headers(self, default: float | None) -> dict[str, str]:
        """``retry-after`` / ``retry-after-ms`` for this fault (429/503/529 get ``default``)."""
        if self.retry_after_ms is not None:
            seconds = max(1, math.ceil(self.retry_after_ms / 1000))
            return {"retry-after": str(seconds), "retry-after-ms": str(self.retry_after_ms)}
        after = self.retry_after
        if after is None and self.kind == "status" and self.status in (429, 503, 529):
            after = default
        if after is None:
            return {}
        return {"retry-after": f"{after:g}"}


def fault_from_spec(spec: int | str) -> Fault:
    """A random fault from ``FakeProvider(fault_statuses=...)``: a status or a kind's name."""
    if isinstance(spec, int):
        return Fault("status", status=spec, scripted=False)
    if spec not in KIND_NAMES:
        raise ValueError(
            f"unknown fault {spec!r}: use an HTTP status or one of {', '.join(KIND_NAMES)}"
        )
    kind = KIND_NAMES[spec]
    return Fault(kind, status=429 if kind == "quota" else None, scripted=False)


def stalled(
    fault: Fault,
    headers: dict[str, str],
    content_type: str,
    request_id: str,
    *,
    streaming: bool,
    model: str,
) -> Outcome:
    """A hang or drop before the status line: no chunks, nothing for the log's status."""
    response = FakeResponse(200, {**headers, "content-type": content_type}, [], fault.ending)
    return Outcome(response, request_id, None, streaming, model, None, fault.label)


def cut_body(response: FakeResponse, fault: Fault, latency: float) -> None:
    """Send half of a JSON body after ``latency``, then hang or drop (in place)."""
    data = response.body
    response.chunks = [Chunk(data[: len(data) // 2], latency)]
    response.ending = fault.ending


def stream_cutoff(fault: Fault | None, total: int) -> int | None:
    """After how many streamed pieces ``fault`` strikes (``None``: no fault, stream them all)."""
    if fault is None:
        return None
    return fault.after_tokens if fault.after_tokens is not None else total // 2
