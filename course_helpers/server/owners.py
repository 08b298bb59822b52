"""Which relay process owns an ``in_progress`` row, and whether that process is still alive.

A row left ``in_progress`` means "a server is streaming this" or "the server that was died"
(kill -9, a power cut). Only the second may become ``interrupted``; a notebook that opens the log
to read it while the relay runs must not touch the relay's live rows.

So each relay process that writes rows holds an OS file lock on its own small file,
``<db>-owners/<owner id>.lock``, and stamps its rows with that id. The operating system drops
the lock when the process dies, however it dies, so "can I take this lock?" answers "is that
writer dead?" exactly: no PIDs (which get reused), no clocks, no leases. The check never
blocks: a lock that cannot be taken at once belongs to a live writer.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> owner = OwnerLock.acquire(folder)
>>> is_alive(folder, owner.owner_id)
True
>>> owner.release()
>>> is_alive(folder, owner.owner_id)
False
"""

from __future__ import annotations

import contextlib
import os
import sys
import uuid
from pathlib import Path
from typing import IO

__all__ = ["OwnerLock", "is_alive", "owners_dir"]


def owners_dir(db_path: Path) -> Path:
    """Where the owner locks of ``db_path`` live: next to it, like SQLite's ``-wal`` file."""
    return db_path.with_name(db_path.name + "-owners")


class OwnerLock:
    """This process's claim on the rows it writes; released by ``release()`` or by dying."""

    def __init__(self, owner_id: str, path: Path, handle: IO[bytes]) -> None:
        self.owner_id = owner_id
        self.path = path
        self._handle: IO[bytes] | None = handle

    @classmethod
    def acquire(cls, folder: Path) -> OwnerLock:
        """A new owner id with its lock held; ``OSError`` if the folder cannot hold lock files."""
        folder.mkdir(parents=True, exist_ok=True)
        owner_id = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        path = folder / f"{owner_id}.lock"
        handle = path.open("a+b")
        try:
            _lock(handle)
        except BaseException:
            handle.close()
            raise
        return cls(owner_id, path, handle)

    def release(self) -> None:
        """Give the claim up (the rows it stamped then count as a dead writer's)."""
        if self._handle is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        with contextlib.suppress(OSError):
            _unlock(self._handle)
        self._handle.close()
        self._handle = None


def is_alive(folder: Path, owner_id: str) -> bool:
    """Whether the process that holds ``owner_id``'s lock is still running; never blocks.

    A dead owner's lock file is removed once it has been found dead.
    """
    path = folder / f"{owner_id}.lock"
    try:
        handle = path.open("r+b")
    except OSError:
        return False  # no file: released cleanly, or never created (the rows' writer is gone)
    with handle:
        try:
            _lock(handle)
        except OSError:
            return True
        with contextlib.suppress(OSError):
            path.unlink()
        with contextlib.suppress(OSError):
            _unlock(handle)
    return False


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _lock(handle: IO[bytes]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(handle: IO[bytes]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle: IO[bytes]) -> None:
        # flock, not fcntl/lockf: its locks belong to the open file, so a second open of the
        # same file, even in this process, sees the lock as taken.
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
