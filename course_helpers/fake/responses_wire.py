"""The Responses API's bodies: the ``response`` object, its output items and its typed stream.

Pure building, no decisions: ``responses.py`` decides what to answer, this module writes it the
way the real API does (and the openai SDK's strict validation and ``responses.stream()``
accumulator expect): every stream event carries its ``type`` and a ``sequence_number`` counting
from 0; the output message is announced ``in_progress`` with no content, filled by text deltas,
and closed with the same id; the stream ends with ``response.completed`` (or
``response.incomplete`` when ``max_output_tokens`` cut the text).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from typing import Any

from course_helpers.fake.exchange import Chunk, Ending
from course_helpers.fake.faults import Fault, stream_cutoff
from course_helpers.fake.wire import sse_event

__all__ = ["message_item", "reasoning_item", "response_object", "stream_events", "usage_object"]

_SERVER_ERROR = "The server had an error while processing your request. Sorry about that!"


def usage_object(
    input_tokens: int, output_tokens: int, reasoning_tokens: int = 0
) -> dict[str, Any]:
    """``usage`` as the Responses API reports it (output tokens include reasoning tokens)."""
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "total_tokens": input_tokens + output_tokens,
    }


def message_item(item_id: str, text: str, status: str) -> dict[str, Any]:
    """The assistant's message: one ``output_text`` part (what ``response.output_text`` joins)."""
    return {
        "id": item_id,
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": [_text_part(text)],
    }


def function_call_item(item_id: str, call_id: str, name: str, arguments: str) -> dict[str, Any]:
    """A function tool call in ``output`` (the model asks the caller to run ``name``)."""
    return {
        "type": "function_call",
        "id": item_id,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": "completed",
    }


def reasoning_item(item_id: str) -> dict[str, Any]:
    """The reasoning item a reasoning model's output starts with (its summary is not asked for)."""
    return {"id": item_id, "type": "reasoning", "summary": []}


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def response_object(
    echo: dict[str, Any],
    *,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
    incomplete: bool,
    completed_at: int | None,
) -> dict[str, Any]:
    """The ``response`` object: the request's settings (``echo``) plus what was generated."""
    return {
        **echo,
        "status": "incomplete" if incomplete else "completed",
        "completed_at": None if incomplete else completed_at,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "output": output,
        "usage": usage,
    }


def stream_events(
    payload: dict[str, Any],
    pieces: tuple[str, ...],
    *,
    ttft: float,
    token_delay: float,
    fault: Fault | None,
) -> tuple[list[Chunk], Ending]:
    """The typed SSE events of a streamed response, with a fault if one applies."""
    chunks: list[Chunk] = []
    numbers = count()

    def emit(kind: str, delay: float = 0.0, **fields: Any) -> None:
        event = {"type": kind, **fields, "sequence_number": next(numbers)}
        chunks.append(sse_event(kind, event, delay))

    start = {
        **payload,
        "status": "in_progress",
        "completed_at": None,
        "incomplete_details": None,
        "output": [],
        "usage": None,
    }
    emit("response.created", response=start)
    emit("response.in_progress", response=start)
    *leading, message = payload["output"]
    for index, item in enumerate(leading):  # a reasoning model's reasoning item
        emit("response.output_item.added", output_index=index, item=item)
        emit("response.output_item.done", output_index=index, item=item)
    index = len(leading)
    where = {"item_id": message["id"], "output_index": index}
    if message["type"] == "function_call":
        events = _call_events(emit, message, index, pieces, ttft, token_delay, fault, payload)
        return chunks, events
    emit(
        "response.output_item.added",
        output_index=index,
        item={**message, "status": "in_progress", "content": []},
    )
    emit("response.content_part.added", **where, content_index=0, part=_text_part(""))
    cutoff = stream_cutoff(fault, len(pieces))
    for sent, piece in enumerate(pieces):
        if cutoff is not None and sent >= cutoff:
            break
        delay = ttft if sent == 0 else token_delay
        emit(
            "response.output_text.delta", delay, **where, content_index=0, delta=piece, logprobs=[]
        )
    if fault is not None:
        if fault.kind == "mid_stream":
            message_text = fault.message or _SERVER_ERROR
            emit("error", code="server_error", message=message_text, param=None)
            return chunks, "complete"
        return chunks, fault.ending
    text = message["content"][0]["text"]
    emit("response.output_text.done", **where, content_index=0, text=text, logprobs=[])
    emit("response.content_part.done", **where, content_index=0, part=_text_part(text))
    emit("response.output_item.done", output_index=index, item=message)
    final = "response.incomplete" if payload["status"] == "incomplete" else "response.completed"
    emit(final, response=payload)
    return chunks, "complete"


def _call_events(
    emit: Callable[..., None],
    call: dict[str, Any],
    index: int,
    pieces: tuple[str, ...],
    ttft: float,
    token_delay: float,
    fault: Fault | None,
    payload: dict[str, Any],
) -> Ending:
    """A streamed function call: its arguments arrive as ``function_call_arguments`` deltas."""
    where = {"item_id": call["id"], "output_index": index}
    emit(
        "response.output_item.added",
        output_index=index,
        item={**call, "arguments": "", "status": "in_progress"},
    )
    cutoff = stream_cutoff(fault, len(pieces))
    for sent, piece in enumerate(pieces):
        if cutoff is not None and sent >= cutoff:
            break
        delay = ttft if sent == 0 else token_delay
        emit("response.function_call_arguments.delta", delay, **where, delta=piece)
    if fault is not None:
        if fault.kind == "mid_stream":
            emit("error", code="server_error", message=fault.message or _SERVER_ERROR, param=None)
            return "complete"
        return fault.ending
    emit("response.function_call_arguments.done", **where, arguments=call["arguments"])
    emit("response.output_item.done", output_index=index, item=call)
    emit("response.completed", response=payload)
    return "complete"
