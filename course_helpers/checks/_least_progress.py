"""Least-progress interleaving: catches check-then-act races that lockstep turns miss.

Lockstep turns (``_interleave.run_interleaved``) expose a race in code with no lock at all. They
miss the subtler one: ``spend()`` asks a *locked* ``can_spend()`` and then records outside the
lock. The first thread runs the whole check while the others wait for the lock, then records
before they get to check, and nothing is overspent.

``run_least_progress`` schedules differently. Every thread stops before each line of the
candidate's code, and the thread that has run the fewest lines goes next. A thread in a call
that may block (entering a ``with`` block, ``Lock.acquire``, ``time.sleep``) steps aside until
it is back in the candidate's code, so it never holds the others up; and when a lock is
released, the others wait for a thread blocked on a lock to wake and rejoin. So a thread that
got ahead while the others were blocked waits for them to catch up: all of them check before
any of them records, every run. Code that checks and records under one lock is unaffected: the
lock keeps them apart, and each thread's check sees the others' records.

Blocking the scheduler cannot see (a C call that waits) is handled by ``patience``: a chosen
thread that does not reach its next line in time steps aside until it does.
"""

from __future__ import annotations

import dis
import sys
import threading
import time
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any, Literal

from course_helpers.checks._interleave import LOCK_TYPES, is_sleep, profiling

__all__ = ["run_least_progress"]

PATIENCE = 0.25
"""Seconds the chosen thread may take to reach its next line before it is stepped aside."""

_ACQUIRES = {"acquire", "_acquire_restore"}
_RELEASES = {"release", "_release_save", "__exit__"}
_BEFORE_WITH = dis.opmap.get("BEFORE_WITH", -1)

Aside = Literal["lock", "sleep", "stalled"]


def _is_lock_method(function: Any, names: set[str]) -> bool:
    return getattr(function, "__name__", "") in names and isinstance(
        getattr(function, "__self__", None), LOCK_TYPES
    )


class _Schedule:
    """Whose line runs next: the ready thread with the fewest lines run (ties: lowest index)."""

    def __init__(self, parties: int, patience: float) -> None:
        self._cond = threading.Condition()
        self._lines = [0] * parties
        self._aside: dict[int, Aside] = {}
        self._done: set[int] = set()
        self._paused: set[int] = set()
        self._patience = patience
        self._grace_until: float | None = None
        self.free = False

    def _next(self) -> int | None:
        ready = [i for i in range(len(self._lines)) if i not in self._done and i not in self._aside]
        return min(ready, key=lambda i: (self._lines[i], i), default=None)

    def _back(self, me: int) -> None:
        if self._aside.pop(me, None) == "lock":
            self._grace_until = None  # a woken waiter is back: the others need not wait longer
        self._cond.notify_all()

    def is_aside(self, me: int) -> bool:
        return me in self._aside

    def rejoin(self, me: int) -> None:
        """``me`` runs candidate code again (its blocking call returned)."""
        with self._cond:
            self._back(me)

    def step_aside(self, me: int, why: Aside) -> None:
        """``me`` is about to make a call that may block: do not wait for it meanwhile."""
        with self._cond:
            self._aside[me] = why
            self._cond.notify_all()

    def released(self) -> None:
        """A lock was released: give a thread blocked on a lock the time to wake and rejoin."""
        with self._cond:
            if "lock" in self._aside.values():
                self._grace_until = time.monotonic() + self._patience
                self._cond.notify_all()

    def pause(self, me: int) -> None:
        """Called before each candidate line of ``me``: return when it is ``me``'s turn."""
        with self._cond:
            if self.free:
                return
            self._back(me)
            self._paused.add(me)
            watched, deadline = -1, 0.0
            while not self.free:
                now = time.monotonic()
                if self._grace_until is not None:
                    if now < self._grace_until and "lock" in self._aside.values():
                        self._cond.wait(self._grace_until - now)
                        continue
                    self._grace_until = None
                chosen = self._next()
                if chosen is None or chosen == me:
                    break
                if chosen != watched:
                    watched, deadline = chosen, now + self._patience
                if now >= deadline:
                    if chosen not in self._paused:  # blocked where we cannot see it
                        self._aside[chosen] = "stalled"
                        self._cond.notify_all()
                        continue
                    deadline = now + self._patience  # paused at a line, only slow to wake
                self._cond.wait(deadline - now)
            self._paused.discard(me)
            self._lines[me] += 1
            self._cond.notify_all()

    def leave(self, me: int) -> None:
        with self._cond:
            self._done.add(me)
            self._paused.discard(me)
            self._aside.pop(me, None)
            self._cond.notify_all()

    def release(self) -> None:
        """Stop scheduling: every thread runs freely."""
        with self._cond:
            self.free = True
            self._cond.notify_all()


_with_offsets: dict[CodeType, frozenset[int]] = {}


def _before_with(code: CodeType) -> frozenset[int]:
    """The offsets of the instructions that enter a ``with`` block (a lock's ``__enter__`` is
    called there without a profile event)."""
    if code not in _with_offsets:
        _with_offsets[code] = frozenset(
            instruction.offset
            for instruction in dis.get_instructions(code)
            if instruction.opcode == _BEFORE_WITH
        )
    return _with_offsets[code]


def run_least_progress(
    tasks: list[Callable[[], None]],
    files: set[str],
    *,
    timeout: float,
    patience: float = PATIENCE,
) -> list[threading.Thread]:
    """Run ``tasks`` in threads scheduled line by line through the code in ``files``, the
    least advanced first.

    Returns the threads once all have finished or ``timeout`` seconds have passed (a stuck
    candidate leaves its thread running, released from the schedule). A task's exceptions are
    its own business: wrap it to record them.
    """
    schedule = _Schedule(len(tasks), patience)
    start = threading.Barrier(len(tasks))

    def tracer(me: int) -> Callable[[FrameType, str, Any], Any]:
        def local(frame: FrameType, event: str, arg: Any) -> Any:
            if schedule.free:
                return local
            if event == "line":
                schedule.pause(me)
            elif event == "opcode":
                if frame.f_lasti in _before_with(frame.f_code):
                    schedule.step_aside(me, "lock")
                elif schedule.is_aside(me):
                    schedule.rejoin(me)
            return local

        def on_call(frame: FrameType, event: str, arg: Any) -> Any:
            if schedule.free or frame.f_code.co_filename not in files:
                return None  # the candidate's own code only: not the SDKs, not this module
            frame.f_trace_opcodes = True
            if schedule.is_aside(me):
                schedule.rejoin(me)
            return local

        return on_call

    def profiler(me: int) -> Callable[[FrameType, str, Any], None]:
        def hook(frame: FrameType, event: str, arg: Any) -> None:
            if schedule.free:
                return
            if event == "c_call":
                if is_sleep(arg):
                    schedule.step_aside(me, "sleep")
                elif _is_lock_method(arg, _ACQUIRES):
                    schedule.step_aside(me, "lock")
            elif event == "c_return" and _is_lock_method(arg, _RELEASES):
                schedule.released()

        return hook

    def runner(me: int, task: Callable[[], None]) -> None:
        previous_trace = sys.gettrace()
        try:
            start.wait(timeout)
            with profiling(profiler(me)):
                sys.settrace(tracer(me))
                try:
                    task()
                finally:
                    sys.settrace(previous_trace)
        except threading.BrokenBarrierError:
            pass
        finally:
            schedule.leave(me)

    threads = [
        threading.Thread(target=runner, args=(me, task), daemon=True, name=f"least progress {me}")
        for me, task in enumerate(tasks)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    try:
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
    finally:
        schedule.release()
        start.abort()
    return threads
