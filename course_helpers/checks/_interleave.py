"""What the concurrency checks need to know about a candidate: its code and its locks.

``candidate_files`` names the source files of a candidate's own code (the code the forced
interleaving of ``_least_progress`` steps through, line by line). ``candidate_locks`` finds the
locks an instance can use, and ``sleeps_holding_a_lock`` watches one thread for the other
concurrency defect: waiting (in ``time.sleep`` or on a condition) while one of them is held.
"""

from __future__ import annotations

import inspect
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import CodeType, FrameType
from typing import Any, Literal

__all__ = [
    "LOCK_TYPES",
    "WAIT_CODES",
    "candidate_files",
    "candidate_locks",
    "is_sleep",
    "profiling",
    "sleeps_holding_a_lock",
]

ProfileEvent = Literal["call", "return", "c_call", "c_return", "c_exception"]

_LOCK = type(threading.Lock())
_RLOCK = type(threading.RLock())
LOCK_TYPES = (_LOCK, _RLOCK)
"""The lock classes (their methods are C calls: a profile hook sees them as ``c_call``)."""
WAIT_CODES = (threading.Condition.wait.__code__, threading.Event.wait.__code__)
"""The code of the waits written in Python (a profile hook sees them as ``call``)."""
_SLEEP = time.sleep


def is_sleep(function: object) -> bool:
    """Whether a ``c_call`` is ``time.sleep`` (as imported here, or as it is now)."""
    return function is _SLEEP or function is time.sleep


@contextmanager
def profiling(hook: Callable[[FrameType, str, Any], object]) -> Iterator[None]:
    """Run ``hook`` on this thread's profile events for the block.

    The hook already set (the delegation watch, on a check's threads) keeps seeing every event
    first, and is put back on the way out, failure or not.
    """
    previous = sys.getprofile()

    def chained(frame: FrameType, event: ProfileEvent, arg: Any) -> None:
        if previous is not None:
            previous(frame, event, arg)
        hook(frame, event, arg)

    sys.setprofile(chained)
    try:
        yield
    finally:
        sys.setprofile(previous)


def candidate_files(candidate: object) -> set[str]:
    """The source files of a class's (or function's) own code: the code to interleave."""
    functions: list[Any] = []
    if inspect.isclass(candidate):
        for klass in candidate.__mro__:
            if klass.__module__ == "builtins":
                continue
            for value in vars(klass).values():
                functions.append(getattr(value, "__func__", value))
    else:
        functions.append(candidate)
    return {
        function.__code__.co_filename for function in functions if hasattr(function, "__code__")
    }


def _locks_in(value: object) -> Iterator[Any]:
    if isinstance(value, LOCK_TYPES):
        yield value
    elif isinstance(value, threading.Condition):
        yield from _locks_in(value._lock)  # type: ignore[attr-defined]
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            if isinstance(item, (*LOCK_TYPES, threading.Condition)):
                yield from _locks_in(item)


def _own_objects(instance: object, depth: int) -> Iterator[object]:
    """The instance and the objects it holds (of classes from outside the standard library)."""
    yield instance
    if depth == 0:
        return
    for value in getattr(instance, "__dict__", {}).values():
        module = getattr(type(value), "__module__", "builtins")
        if hasattr(value, "__dict__") and module.split(".")[0] not in sys.stdlib_module_names:
            yield from _own_objects(value, depth - 1)
        else:
            yield value


def candidate_locks(instance: object) -> list[Any]:
    """The locks an instance can use: its attributes' (and those of the objects it wraps), its
    classes' and the module globals their methods name."""
    found: list[Any] = []
    places: list[object] = []
    owners: list[type] = []
    for value in _own_objects(instance, 3):
        places.append(value)
        places.extend(getattr(value, "__dict__", {}).values())
        if hasattr(value, "__dict__") and type(value) not in owners:
            owners.append(type(value))
    for owner in [klass for cls in owners for klass in cls.__mro__]:
        if owner.__module__ == "builtins":
            continue
        for value in vars(owner).values():
            places.append(value)
            code: CodeType | None = getattr(getattr(value, "__func__", value), "__code__", None)
            globals_ = getattr(getattr(value, "__func__", value), "__globals__", {})
            if code is not None:
                places.extend(globals_[name] for name in code.co_names if name in globals_)
    for place in places:
        for lock in _locks_in(place):
            if not any(lock is seen for seen in found):
                found.append(lock)
    return found


def _held(lock: Any) -> bool:
    # Only the watched thread uses the instance, so a locked Lock is one that thread holds.
    if isinstance(lock, _RLOCK):
        return bool(lock._is_owned())  # type: ignore[attr-defined]
    return bool(lock.locked())


@contextmanager
def sleeps_holding_a_lock(locks: list[Any]) -> Iterator[list[str]]:
    """Record, in this thread, each wait made while one of ``locks`` is held.

    A wait is a call of ``time.sleep`` or of ``Condition.wait`` / ``Event.wait`` (a condition's
    own lock does not count: waiting on it releases it), seen by a ``profiling`` hook on this
    thread only.
    """
    found: list[str] = []
    condition_wait = threading.Condition.wait.__code__

    def hook(frame: FrameType, event: str, arg: Any) -> None:
        if event == "c_call" and is_sleep(arg):
            if any(_held(lock) for lock in locks):
                found.append("time.sleep() while holding the lock")
        elif event == "call" and frame.f_code in WAIT_CODES:
            own = frame.f_locals.get("self")
            released = getattr(own, "_lock", None) if frame.f_code is condition_wait else None
            if any(_held(lock) for lock in locks if lock is not released):
                found.append(f"{frame.f_code.co_qualname}() while holding another lock")

    with profiling(hook):
        yield found
