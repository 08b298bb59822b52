"""Answers reshaped the way real ones can be, so a check cannot be passed by a shortcut.

The simulated provider reports the course's own token estimate as usage and answers Anthropic
with a single text block. Real answers differ: OpenAI's ``completion_tokens`` include reasoning
tokens, Anthropic's ``output_tokens`` include a thinking block that comes *before* the text, and a
provider's tokenizer never agrees with a local estimate. ``reshape(fake, Reshape(...))`` makes the
fake answer so (JSON and SSE, for both SDKs' strict parsers), and records what it actually sent,
so a check compares the candidate with the wire, not with a number it could have computed itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from course_helpers.fake import FakeProvider, FakeRequest
from course_helpers.fake.exchange import Chunk, FakeResponse

__all__ = ["Reshape", "Sent", "reshape"]

THINKING = "The user wants the idea, not the formula. Lead with the intuition."
_SIGNATURE = "c2ltdWxhdGVkLXRoaW5raW5nLXNpZ25hdHVyZQ=="


@dataclass(frozen=True)
class Reshape:
    """How to reshape answers.

    ``input_extra`` tokens are added to the prompt count (the provider's tokenizer, not ours).
    ``output_extra`` hidden tokens are added to the output count: OpenAI reasoning tokens, or the
    tokens of a thinking block that comes first in an Anthropic answer when ``thinking`` is set.
    ``output_at_limit`` sets the hidden tokens so a finished answer reports exactly ``max_tokens``
    output tokens (the answer ended naturally, right at the limit).
    ``stop_sequences`` are added to Anthropic requests that set none.
    """

    input_extra: int = 0
    output_extra: int = 0
    thinking: bool = False
    output_at_limit: bool = False
    stop_sequences: tuple[str, ...] = ()


@dataclass
class Sent:
    """One successful generation answer as it went over the wire after reshaping."""

    provider: str
    streamed: bool
    usage: dict[str, Any] | None = None  # in the provider's own shape; None: not reported
    texts: dict[int, str] = field(default_factory=dict)  # choice index -> text (text blocks only)
    stop_reason: str | None = None

    @property
    def text(self) -> str:
        """Choice 0's text (OpenAI), or the joined text blocks (Anthropic)."""
        return self.texts.get(0, "")


def reshape(fake: FakeProvider, how: Reshape) -> list[Sent]:
    """Make ``fake`` answer as ``how`` says; the returned list fills with what was sent."""
    sent: list[Sent] = []
    original: Callable[[FakeRequest], FakeResponse | None] = fake.handle

    def handle(request: FakeRequest) -> FakeResponse | None:
        request, max_tokens = _shaped_request(request, how)
        response = original(request)
        if response is None or response.status != 200 or response.ending != "complete":
            return response  # an error, or a body cut by a hang or a drop: nothing to reshape
        if request.path.endswith("/chat/completions"):
            record = Sent("openai", _is_sse(response))
            _reshape_openai(response, how, max_tokens, record)
        elif request.path.endswith("/messages"):
            record = Sent("anthropic", _is_sse(response))
            _reshape_anthropic(response, how, max_tokens, record)
        else:
            return response
        sent.append(record)
        return response

    fake.handle = handle  # type: ignore[method-assign]  # this instance only, for one check
    return sent


def _is_sse(response: FakeResponse) -> bool:
    return response.headers.get("content-type", "").startswith("text/event-stream")


def _shaped_request(request: FakeRequest, how: Reshape) -> tuple[FakeRequest, int | None]:
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return request, None
    if not isinstance(body, dict):
        return request, None
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    max_tokens = limit if isinstance(limit, int) else None
    if how.stop_sequences and request.path.endswith("/messages") and "stop_sequences" not in body:
        body["stop_sequences"] = list(how.stop_sequences)
        request = FakeRequest(
            request.method,
            request.path,
            request.headers,
            json.dumps(body).encode(),
            request.query,
            request.read_timeout,
        )
    return request, max_tokens


def _hidden(how: Reshape, visible: int, finished: bool, max_tokens: int | None) -> int:
    """Hidden output tokens (reasoning or thinking) for an answer with ``visible`` tokens."""
    if how.output_at_limit and finished and max_tokens is not None and max_tokens > visible:
        return max_tokens - visible
    return how.output_extra


# ------------------------------------------------------------------------------------ openai
def _openai_usage(usage: dict[str, Any], how: Reshape, hidden: int) -> dict[str, Any]:
    prompt = usage["prompt_tokens"] + how.input_extra
    completion = usage["completion_tokens"] + hidden
    details = {**usage.get("completion_tokens_details", {}), "reasoning_tokens": hidden}
    return {
        **usage,
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "completion_tokens_details": details,
    }


def _reshape_openai(
    response: FakeResponse, how: Reshape, max_tokens: int | None, record: Sent
) -> None:
    if not record.streamed:
        payload = json.loads(response.body)
        finished = all(choice["finish_reason"] == "stop" for choice in payload["choices"])
        hidden = _hidden(how, payload["usage"]["completion_tokens"], finished, max_tokens)
        payload["usage"] = record.usage = _openai_usage(payload["usage"], how, hidden)
        record.texts = {c["index"]: c["message"]["content"] or "" for c in payload["choices"]}
        record.stop_reason = payload["choices"][0]["finish_reason"]
        _replace_json(response, payload)
        return
    frames = [_openai_frame(chunk.data) for chunk in response.chunks]
    finishes = [
        choice["finish_reason"]
        for frame in frames
        if frame is not None
        for choice in frame.get("choices", [])
        if choice.get("finish_reason")
    ]
    for frame in frames:
        for choice in (frame or {}).get("choices", []):
            piece = choice.get("delta", {}).get("content")
            if piece:
                index = choice["index"]
                record.texts[index] = record.texts.get(index, "") + piece
            if choice.get("index") == 0 and choice.get("finish_reason"):
                record.stop_reason = choice["finish_reason"]
    chunks = []
    for chunk, frame in zip(response.chunks, frames, strict=True):
        if frame is not None and frame.get("usage"):
            finished = bool(finishes) and all(reason == "stop" for reason in finishes)
            hidden = _hidden(how, frame["usage"]["completion_tokens"], finished, max_tokens)
            frame["usage"] = record.usage = _openai_usage(frame["usage"], how, hidden)
            chunk = Chunk(b"data: " + _dumps(frame) + b"\n\n", chunk.delay)
        chunks.append(chunk)
    response.chunks = chunks


def _openai_frame(data: bytes) -> dict[str, Any] | None:
    text = data.decode()
    if not text.startswith("data: ") or text.startswith("data: [DONE]"):
        return None
    frame = json.loads(text[len("data: ") :])
    return frame if isinstance(frame, dict) else None


# ------------------------------------------------------------------------------------ anthropic
def _reshape_anthropic(
    response: FakeResponse, how: Reshape, max_tokens: int | None, record: Sent
) -> None:
    if not record.streamed:
        payload = json.loads(response.body)
        counts: dict[str, Any] = payload["usage"]
        finished = payload["stop_reason"] in ("end_turn", "stop_sequence")
        hidden = _hidden(how, counts["output_tokens"], finished, max_tokens)
        counts["input_tokens"] += how.input_extra
        counts["output_tokens"] += hidden
        if how.thinking:
            block = {"type": "thinking", "thinking": THINKING, "signature": _SIGNATURE}
            payload["content"].insert(0, block)
        record.usage = counts
        record.texts = {0: "".join(b["text"] for b in payload["content"] if b["type"] == "text")}
        record.stop_reason = payload["stop_reason"]
        _replace_json(response, payload)
        return
    events = [_anthropic_event(chunk.data) for chunk in response.chunks]
    stop_reason = next(
        (e[1]["delta"]["stop_reason"] for e in events if e and e[0] == "message_delta"), None
    )
    record.stop_reason = stop_reason
    usage: dict[str, Any] = {}
    chunks: list[Chunk] = []
    shift = 1 if how.thinking else 0
    for chunk, event in zip(response.chunks, events, strict=True):
        if event is None:
            chunks.append(chunk)
            continue
        name, data = event
        if name == "message_start":
            data["message"]["usage"]["input_tokens"] += how.input_extra
            usage.update(data["message"]["usage"])
            chunks.append(_sse(name, data, chunk.delay))
            if how.thinking:
                chunks.extend(_thinking_events())
            continue
        if name.startswith("content_block_"):
            data["index"] += shift
            if name == "content_block_delta" and data["delta"].get("type") == "text_delta":
                record.texts[0] = record.texts.get(0, "") + data["delta"]["text"]
        if name == "message_delta":
            finished = stop_reason in ("end_turn", "stop_sequence")
            hidden = _hidden(how, data["usage"]["output_tokens"], finished, max_tokens)
            data["usage"]["output_tokens"] += hidden
            if "input_tokens" in data["usage"]:  # cumulative, as message_start's
                data["usage"]["input_tokens"] += how.input_extra
            usage["output_tokens"] = data["usage"]["output_tokens"]
            record.usage = usage
        chunks.append(_sse(name, data, chunk.delay))
    response.chunks = chunks


def _anthropic_event(data: bytes) -> tuple[str, dict[str, Any]] | None:
    lines = data.decode().strip().split("\n")
    if len(lines) != 2 or not lines[0].startswith("event: ") or not lines[1].startswith("data: "):
        return None
    return lines[0][len("event: ") :], json.loads(lines[1][len("data: ") :])


def _thinking_events() -> list[Chunk]:
    start = {"type": "thinking", "thinking": "", "signature": ""}
    events = [_sse("content_block_start", {"index": 0, "content_block": start})]
    for piece in THINKING.split(" "):
        delta = {"type": "thinking_delta", "thinking": piece + " "}
        events.append(_sse("content_block_delta", {"index": 0, "delta": delta}))
    signature = {"type": "signature_delta", "signature": _SIGNATURE}
    events.append(_sse("content_block_delta", {"index": 0, "delta": signature}))
    events.append(_sse("content_block_stop", {"index": 0}))
    return events


def _sse(name: str, data: dict[str, Any], delay: float = 0.0) -> Chunk:
    payload = {"type": name, **{k: v for k, v in data.items() if k != "type"}}
    return Chunk(f"event: {name}\ndata: ".encode() + _dumps(payload) + b"\n\n", delay)


# ------------------------------------------------------------------------------------ json
def _dumps(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def _replace_json(response: FakeResponse, payload: Any) -> None:
    delay = response.chunks[0].delay if response.chunks else 0.0
    response.chunks = [Chunk(_dumps(payload), delay)]
