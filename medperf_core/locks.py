"""One command at a time per dataset: an advisory lock file under the profile's storage.

The lock is `flock` on `locks/<name>.lock`: the kernel releases it when its process dies (even by SIGKILL), so a
lock never outlives its command. The file records who holds it, for the message the second command prints. This is
about the user's files (two preparations writing one output folder), not the event log, which needs no lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from medperf_core.errors import ConflictError


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "another medperf command"
    started = time.strftime("%H:%M:%S", time.localtime(info.get("since", 0)))
    return f"process {info.get('pid')} (`{info.get('command', 'medperf')}`, since {started})"


def held_by(storage: Path, name: str) -> str | None:
    """Who holds `name` now (as in the refusal message), or None when it is free; takes nothing."""
    path = storage / "locks" / f"{name}.lock"
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder(path)
        return None
    finally:
        os.close(fd)


@contextmanager
def command_lock(storage: Path, name: str, what: str) -> Iterator[None]:
    """Hold `name` while inside; ConflictError naming the holder when another process holds it."""
    folder = storage / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConflictError(
                f"{what} is in use by {_holder(path)}",
                "wait for that command to finish (or stop it), then run this one again",
            ) from None
        command = " ".join(["medperf", *sys.argv[1:]]) if sys.argv and sys.argv[0] else "medperf"
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "command": command, "since": time.time()}).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock
