"""The grader's side of the in-kernel guard: install it, trigger it, believe only what it signs.

Learner code runs in the same process as the checks, so nothing a kernel sends is trusted as
such. Before the first learner cell the grader sends ``_guard_kernel.py`` (from its snapshot of
the package) with a fresh key and event name; the grading cell is then one ``sys.audit(event)``.
A grade counts only if exactly one result arrives, signed with that key (HMAC-SHA256), carrying
this run's nonce and no problem the guard saw. Anything else (an unsigned or altered result, two
results, none at all from a cell that finished) is tampering. The private copy of the checks is
also sealed on disk: a file changed and put back still changes its inode or ctime.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_helpers.grading.pristine import PristineCopy, PristinePackage

__all__ = ["GRADE_MIME", "KERNEL_SOURCE", "Guard", "Verdict", "seal_of"]

GRADE_MIME = "application/vnd.course-helpers.grade+json"
"""The MIME type of the grading cell's payload."""
KERNEL_SOURCE = "grading/_guard_kernel.py"
"""Where the guard's kernel-side source sits in the package snapshot."""

_FORGED = (
    "a grade the grader's checks did not sign was published in the grading cell "
    "(forged, or altered on its way out)"
)
_SILENT = (
    "the grading cell finished without publishing a grade: its code was rewritten or its "
    "output intercepted"
)
_TWICE = "more than one signed grade was published (the grading was triggered by learner code)"


@dataclass(frozen=True)
class Verdict:
    """What the grading cell's outputs say: the payload (if one is believable), or tampering."""

    payload: dict[str, Any] | None = None
    tampered: str | None = None


def seal_of(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every file and folder under ``root``: inode, size, ctime (a put-back edit still shows)."""
    found: dict[str, tuple[int, int, int]] = {}
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files, ""]:
            path = os.path.join(folder, name) if name else folder
            try:
                info = os.lstat(path)
            except OSError:
                continue
            found[os.path.relpath(path, root)] = (info.st_ino, info.st_size, info.st_ctime_ns)
    return found


@dataclass(frozen=True)
class Guard:
    """One notebook run's guard: its secret key, its nonce, and the checks it may load."""

    copy: PristineCopy
    checks_module: str
    exercise_ids: tuple[str, ...]
    hashes: Mapping[str, str]
    kernel_source: str
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    nonce: str = field(default_factory=lambda: secrets.token_hex(16))
    seal: Mapping[str, tuple[int, int, int]] = field(default_factory=dict)

    @classmethod
    def create(
        cls,
        pristine: PristinePackage,
        copy: PristineCopy,
        checks_module: str,
        exercise_ids: Sequence[str],
    ) -> Guard:
        source = pristine.files.get(KERNEL_SOURCE)
        if source is None:
            raise RuntimeError(f"the package snapshot has no {KERNEL_SOURCE}: reinstall the course")
        hashes = {
            name: hashlib.sha256(data).hexdigest()
            for name, data in {**pristine.files, **pristine.bytecode}.items()
            if name.endswith((".py", ".pyc"))
        }
        return cls(
            copy,
            checks_module,
            tuple(exercise_ids),
            hashes,
            source.decode("utf-8"),
            seal=seal_of(copy.root),
        )

    @property
    def event(self) -> str:
        return f"course_grader.{self.nonce}"

    def install_source(self) -> str:
        """The code run (silently) before the first learner cell. It holds the key: never a cell."""
        args = {
            "key": self.key.hex(),
            "event": self.event,
            "nonce": self.nonce,
            "root": str(self.copy.root),
            "package": self.copy.package,
            "checks_module": self.checks_module,
            "exercises": list(self.exercise_ids),
            "hashes": dict(self.hashes),
            "mime": GRADE_MIME,
        }
        return (
            f"exec(compile({self.kernel_source!r}, '<course grader guard>', 'exec'), "
            f"{{'__name__': '__course_grader__', 'ARGS': {args!r}}})\n"
        )

    def grading_source(self) -> str:
        """The cell appended after the learner's: it only asks the guard to grade."""
        return (
            "# Added by the course grader: grade this notebook with a private copy of the checks.\n"
            f"__import__('sys').audit({self.event!r})\n"
        )

    def seal_broken(self) -> bool:
        """Whether any file or folder of the private copy was touched since the guard was made."""
        return seal_of(self.copy.root) != dict(self.seal)

    def read(self, outputs: Iterable[Mapping[str, Any]], *, cell_finished: bool) -> Verdict:
        """Judge the grading cell's outputs; ``cell_finished``: it ran to the end, no error."""
        signed: list[dict[str, Any]] = []
        for output in outputs:
            data = output.get("data", {}) if output.get("output_type") == "display_data" else {}
            if GRADE_MIME not in data:
                continue
            payload = self._verified(data[GRADE_MIME])
            if payload is None:
                return Verdict(tampered=_FORGED)
            signed.append(payload)
        if len(signed) > 1:
            return Verdict(tampered=_TWICE)
        if not signed:
            return Verdict(tampered=_SILENT if cell_finished else None)
        payload = signed[0]
        problems = payload.get("tampered")
        if problems:
            listed = problems if isinstance(problems, list) else [problems]
            return Verdict(payload, "; ".join(str(item) for item in listed))
        return Verdict(payload)

    def _verified(self, envelope: Any) -> dict[str, Any] | None:
        if not isinstance(envelope, Mapping):
            return None
        body, mac = envelope.get("body"), envelope.get("mac")
        if not isinstance(body, str) or not isinstance(mac, str):
            return None
        expected = hmac.new(self.key, body.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, mac):
            return None
        try:
            payload = json.loads(body)
        except ValueError:
            return None
        if not isinstance(payload, dict) or payload.get("nonce") != self.nonce:
            return None
        return payload
