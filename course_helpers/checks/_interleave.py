"""Forced thread interleaving, so that a check catches a race every run rather than by luck.

Under the GIL a check-then-act race in a learner's code almost never shows: a thread runs many
lines before it is switched out. ``run_interleaved`` runs several threads in lockstep instead:
every thread stops before each line of the candidate's own code and hands the turn to the next,
so all of them read shared state before any of them writes it back. A thread that blocks (on
the candidate's lock, in a sleep) keeps the turn from coming back; after ``patience`` seconds
the others stop taking turns and run freely. That costs a correct, locked answer one
``patience`` and cannot let a lock-free one off: its threads never block before they race.

``sleeps_holding_a_lock`` watches one thread for the other concurrency defect: waiting (in
``time.sleep`` or on a condition) while one of the candidate's locks is held.
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

__all__ = ["candidate_files", "candidate_locks", "run_interleaved", "sleeps_holding_a_lock"]

PATIENCE = 0.25
"""Seconds a thread waits for its turn before deciding the holder is blocked (a lock, a sleep)."""

ProfileEvent = Literal["call", "return", "c_call", "c_return", "c_exception"]

_LOCK = type(threading.Lock())
_RLOCK = type(threading.RLock())


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


class _Lockstep:
    """Turns handed round-robin among ``parties`` threads, until one of them blocks."""

    def __init__(self, parties: int, patience: float) -> None:
        self._cond = threading.Condition()
        self._active = list(range(parties))
        self._turn = 0
        self._patience = patience
        self.free = False  # set once a thread blocked: from then on nobody waits for a turn

    def _pass_on(self, me: int) -> None:
        if self._turn == me and self._active:
            index = self._active.index(me) if me in self._active else -1
            self._turn = self._active[(index + 1) % len(self._active)]
            self._cond.notify_all()

    def pause(self, me: int) -> None:
        """Called before each candidate line of thread ``me``: let the next thread run one."""
        with self._cond:
            if self.free:
                return
            self._pass_on(me)
            deadline = time.monotonic() + self._patience
            while self._turn != me and not self.free:
                left = deadline - time.monotonic()
                if left <= 0:  # the holder is blocked: in a lock, a sleep, or gone
                    self.release()
                    return
                self._cond.wait(left)

    def leave(self, me: int) -> None:
        with self._cond:
            self._pass_on(me)
            if me in self._active:
                self._active.remove(me)
            if not self._active:
                self.free = True
            self._cond.notify_all()

    def release(self) -> None:
        """Stop the lockstep: every thread runs freely (callers may hold the condition)."""
        with self._cond:
            self.free = True
            self._cond.notify_all()


def run_interleaved(
    tasks: list[Callable[[], None]],
    files: set[str],
    *,
    timeout: float,
    patience: float = PATIENCE,
) -> list[threading.Thread]:
    """Run ``tasks`` in threads that take turns line by line through the code in ``files``.

    Returns the threads once all have finished or ``timeout`` seconds have passed (a stuck
    candidate leaves its thread running, released from the lockstep). A task's exceptions are
    its own business: wrap it to record them.
    """
    lockstep = _Lockstep(len(tasks), patience)
    start = threading.Barrier(len(tasks))

    def tracer(me: int) -> Callable[[FrameType, str, Any], Any]:
        def local(frame: FrameType, event: str, arg: Any) -> Any:
            if event == "line":
                lockstep.pause(me)
            return local

        def on_call(frame: FrameType, event: str, arg: Any) -> Any:
            if lockstep.free or frame.f_code.co_filename not in files:
                return None  # the candidate's own code only: not the SDKs, not this module
            return local

        return on_call

    def runner(me: int, task: Callable[[], None]) -> None:
        previous = sys.gettrace()
        try:
            start.wait(timeout)
            sys.settrace(tracer(me))
            task()
        except threading.BrokenBarrierError:
            pass
        finally:
            sys.settrace(previous)
            lockstep.leave(me)

    threads = [
        threading.Thread(target=runner, args=(me, task), daemon=True, name=f"interleaved {me}")
        for me, task in enumerate(tasks)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    try:
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
    finally:
        lockstep.release()
        start.abort()
    return threads


def _locks_in(value: object) -> Iterator[Any]:
    if isinstance(value, _LOCK | _RLOCK):
        yield value
    elif isinstance(value, threading.Condition):
        yield from _locks_in(value._lock)  # type: ignore[attr-defined]
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            if isinstance(item, _LOCK | _RLOCK | threading.Condition):
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
    own lock does not count: waiting on it releases it). The profile hook is this thread's
    only; it passes every event on to the hook it replaces (the delegation watch) and restores
    that one on the way out, failure or not.
    """
    found: list[str] = []
    condition_wait = threading.Condition.wait.__code__
    event_wait = threading.Event.wait.__code__

    previous = sys.getprofile()

    def hook(frame: FrameType, event: ProfileEvent, arg: Any) -> None:
        if previous is not None:  # the delegation watch, if it is on: keep it informed
            previous(frame, event, arg)
        if event == "c_call" and arg is time.sleep:
            if any(_held(lock) for lock in locks):
                found.append("time.sleep() while holding the lock")
        elif event == "call" and frame.f_code in (condition_wait, event_wait):
            own = frame.f_locals.get("self")
            released = getattr(own, "_lock", None) if frame.f_code is condition_wait else None
            if any(_held(lock) for lock in locks if lock is not released):
                found.append(f"{frame.f_code.co_qualname}() while holding another lock")

    sys.setprofile(hook)
    try:
        yield found
    finally:
        sys.setprofile(previous)
