"""The responses the simulated Responses API remembers, for ``previous_response_id``.

The real API keeps a stored response (``store`` defaults to true) for 30 days; the fake keeps the
newest ``capacity`` of them, so a long-running process (a relay, a benchmark) does not grow without
bound. A forgotten id answers as an unknown one does live: 404 ``previous_response_not_found``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_KEEP_RESPONSES", "ResponseStore", "StoredResponse"]

DEFAULT_KEEP_RESPONSES = 1_000
"""Stored responses kept (the newest): a conversation in a notebook chains a handful."""


@dataclass(frozen=True)
class StoredResponse:
    """A response as ``GET /v1/responses/{id}`` returns it, and the conversation it ends."""

    payload: dict[str, Any]
    conversation: tuple[dict[str, Any], ...]  # input messages and the answer, oldest first


class ResponseStore:
    """A bounded map from response id to ``StoredResponse`` (the oldest is forgotten first).

    Not locked on its own: the core calls the dialects under its lock.
    """

    def __init__(self, capacity: int = DEFAULT_KEEP_RESPONSES) -> None:
        if capacity < 0:
            raise ValueError(f"capacity is a number of responses (0 or more), got {capacity!r}")
        self.capacity = capacity
        self._items: OrderedDict[str, StoredResponse] = OrderedDict()

    def put(self, response_id: str, stored: StoredResponse) -> None:
        if self.capacity == 0:
            return
        self._items[response_id] = stored
        self._items.move_to_end(response_id)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def get(self, response_id: str) -> StoredResponse | None:
        return self._items.get(response_id)

    def delete(self, response_id: str) -> bool:
        return self._items.pop(response_id, None) is not None

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
