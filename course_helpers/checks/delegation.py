"""Tell when a candidate merely wraps the course's own reference implementation.

An exercise asks a learner to build something the course package already has (``classify``,
``call_with_retry``, ``RateLimiter``...). Calling it instead is not wrong Python, so it does not
fail a check; the instructor is told (``CheckResult.delegates_to``, the grader's report) and
decides.

Detection happens while the checks run, not by reading source text: a profile hook (per thread,
so a learner's own threads are watched too) sees every Python call that enters a reference
function or a method of a reference class, whatever name the learner imported it under. Such a
call counts only when the first frame below it that is neither the standard library nor an
installed package is the learner's code: the checks themselves may use reference code, and an
exception class from ``course_helpers.errors`` raised by the learner is not a reference call.
Matching is by source file and qualified name, so the grader's private copy of the package and
the copy a notebook imported are both recognised.
"""

from __future__ import annotations

import functools
import os
import sysconfig
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import CodeType, FrameType
from typing import Any

__all__ = ["REFERENCES", "DelegationWatch", "references_for", "watching"]

_CLIENT = "course_helpers.client.LLMClient"
_ADAPTERS = (
    "course_helpers.providers.openai.OpenAIAdapter",
    "course_helpers.providers.anthropic.AnthropicAdapter",
    "course_helpers.providers.base.ProviderAdapter",
)
_ACCUMULATORS = (
    "course_helpers.providers.openai.OpenAIStreamAccumulator",
    "course_helpers.providers.anthropic.AnthropicStreamAccumulator",
    "course_helpers.providers.base.StreamAccumulator",
    "course_helpers.providers.base.ProviderStream",
    "course_helpers.providers.base.AsyncProviderStream",
    "course_helpers.providers.base._ProviderStreamBase",
)

REFERENCES: dict[str, tuple[str, ...]] = {
    "ex01_first_calls": (_CLIENT, *_ADAPTERS),
    "ex02_stream_collector": (_CLIENT, *_ACCUMULATORS),
    "ex03_classify_errors": (
        "course_helpers.errors.classify",
        "course_helpers.errors.parse_retry_after",
        "course_helpers.providers.base.translate_errors",
    ),
    # classify is allowed in ex04 and ex07: their exercises offer it.
    "ex04_retry": (
        "course_helpers.retry.call_with_retry",
        "course_helpers.retry.acall_with_retry",
        "course_helpers.retry.retry_stream",
        "course_helpers.retry.aretry_stream",
        "course_helpers.retry.wait_retry_after",
        "course_helpers.retry.retry_if_retriable",
        "course_helpers.retry.RetryPolicy",
        _CLIENT,
    ),
    "ex05_rate_limiter": ("course_helpers.ratelimit.RateLimiter",),
    "ex06_token_budget": ("course_helpers.budget.TokenBudget",),
    "ex07_multi_provider": (_CLIENT,),
    "ex08_rpm_vs_tpm": (),  # arithmetic: the package has no function that answers it
}
"""Exercise id -> the reference functions and classes (dotted names) a candidate should not wrap."""


@dataclass(frozen=True)
class _Reference:
    dotted: str
    file_suffix: str  # e.g. "/course_helpers/providers/__init__.py" (any copy of the package)
    qualname: str  # a function's name, or a class's: its methods are "Class.method"


def _reference(dotted: str, packages: frozenset[str]) -> _Reference:
    parts = dotted.split(".")
    module, name = parts[:-1], parts[-1]
    path = "/".join(module) + ("/__init__.py" if ".".join(module) in packages else ".py")
    return _Reference(dotted, "/" + path, name)


_PACKAGES = frozenset({"course_helpers.providers"})


def references_for(exercise_id: str) -> tuple[str, ...]:
    """The dotted reference names ``exercise_id`` forbids wrapping (none for unknown ids)."""
    return REFERENCES.get(exercise_id, ())


def _library_prefixes() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    return tuple(os.path.join(os.path.realpath(root), "") for root in roots)


_LIBRARY = _library_prefixes()
_COURSE_PART = "/course_helpers/"

_CANDIDATE_FRAME, _COURSE_FRAME, _LIBRARY_FRAME = 1, 2, 3


def _kind(filename: str) -> int:
    """Whose code a frame runs: the course's, a library's (look further down) or the candidate's."""
    if _COURSE_PART in filename.replace(os.sep, "/"):
        return _COURSE_FRAME
    if filename.startswith("<frozen "):
        return _LIBRARY_FRAME
    real = os.path.realpath(filename) if os.path.isabs(filename) else filename
    return _LIBRARY_FRAME if real.startswith(_LIBRARY) else _CANDIDATE_FRAME


class DelegationWatch:
    """Collects the reference names the candidate's own frames call while it is active."""

    def __init__(self, references: tuple[str, ...], candidate: object = None) -> None:
        self._references = [_reference(name, _PACKAGES) for name in references]
        self._codes: dict[int, tuple[CodeType, str | None]] = {}
        self._files: dict[str, int] = {}  # file name -> _CANDIDATE, _COURSE or _LIBRARY
        self._found: dict[str, None] = {}
        self._lock = threading.Lock()
        self.active = True
        for name in self._identity(candidate):
            self._found[name] = None

    @property
    def found(self) -> list[str]:
        """The reference names called from the candidate's code, in the order first seen."""
        with self._lock:
            return list(self._found)

    def profile(self, frame: FrameType, event: str, arg: Any) -> None:
        """A ``sys.setprofile`` hook: look at Python calls only, and only once per code object."""
        if event != "call" or not self.active:
            return
        code = frame.f_code
        known = self._codes.get(id(code))
        if known is None:
            known = self._codes[id(code)] = (code, self._match(code.co_filename, code.co_qualname))
        name = known[1]
        if name is not None and self._from_candidate(frame.f_back):
            with self._lock:
                self._found.setdefault(name, None)

    def _match(self, filename: str, qualname: str) -> str | None:
        path = filename.replace(os.sep, "/")
        for ref in self._references:
            if path.endswith(ref.file_suffix) and (
                qualname == ref.qualname or qualname.startswith(ref.qualname + ".")
            ):
                return ref.dotted
        return None

    def _identity(self, candidate: object) -> list[str]:
        """What the candidate *is* (an alias, subclass, partial): the checks make those calls."""
        while isinstance(candidate, functools.partial):
            candidate = candidate.func
        objects: list[object] = [candidate, getattr(candidate, "__func__", None)]
        objects += list(
            candidate.__mro__ if isinstance(candidate, type) else type(candidate).__mro__
        )
        found: list[str] = []
        for item in objects:
            module = getattr(item, "__module__", None)
            qualname = getattr(item, "__qualname__", None)
            if not isinstance(module, str) or not isinstance(qualname, str):
                continue
            for ref in self._references:
                ref_module = ref.dotted.rsplit(".", 1)[0]
                head = qualname.split(".", 1)[0]
                if module == ref_module and head == ref.qualname and ref.dotted not in found:
                    found.append(ref.dotted)
        return found

    def _from_candidate(self, frame: FrameType | None) -> bool:
        """Whether the first frame that is not a library's is the candidate's (not the course's)."""
        while frame is not None:
            filename = frame.f_code.co_filename
            kind = self._files.get(filename)
            if kind is None:
                kind = self._files[filename] = _kind(filename)
            if kind != _LIBRARY_FRAME:
                return kind == _CANDIDATE_FRAME
            frame = frame.f_back
        return False


@contextmanager
def watching(exercise_id: str, candidate: object) -> Iterator[DelegationWatch | None]:
    """Watch threads started in the block (``threading.setprofile``); ``None``: nothing to watch.

    Each check runs in a thread of its own started in the block, so the checks are watched too;
    the calling thread is not (``check()`` itself calls no candidate code).
    """
    references = references_for(exercise_id)
    if not references:
        yield None
        return
    watch = DelegationWatch(references, candidate)
    previous = threading.getprofile()
    threading.setprofile(watch.profile)
    try:
        yield watch
    finally:
        threading.setprofile(previous)
        watch.active = False
