"""Whether a server runs on an SQLite log: a shared flock on a side file (`<log>-server`) held for the server's life.

`medperf server start` holds it shared (several servers may share one log); `medperf server reset` takes it
exclusively, so a reset refuses while a server runs and a server cannot start in the middle of a reset. The kernel
drops a flock when its process dies (even by SIGKILL), so a killed server never leaves the log looking busy. The
file records the last server's process id, for the refusal message; reset leaves the file in place (deleting it
would let a server starting meanwhile lock a new file that the reset does not hold).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from medperf_core.errors import ConflictError

SERVER_SUFFIX = "-server"


def lock_path(log: Path) -> Path:
    return log.with_name(log.name + SERVER_SUFFIX)


def _holder(path: Path) -> str:
    """` (process N)` when the file names a process that still exists, else nothing."""
    try:
        pid = int(json.loads(path.read_text(encoding="utf-8") or "{}").get("pid", 0))
        if pid > 0:
            os.kill(pid, 0)
            return f" (process {pid})"
    except (OSError, ValueError, AttributeError):
        pass
    return ""


@contextmanager
def serving(log: Path) -> Iterator[None]:
    """Held by a running server; ConflictError when a reset of this log is under way."""
    path = lock_path(log)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConflictError(f"the server log {log} is being reset",
                                "wait for `medperf server reset` to finish, then start the server again") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "since": time.time()}).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextmanager
def claimed(log: Path, shown: str) -> Iterator[None]:
    """Exclusive use of the log (no server runs on it while inside); ConflictError naming the running server."""
    path = lock_path(log)
    if not log.parent.is_dir():  # no data directory: no server has run there, nothing to reset
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConflictError(f"a medperf server is running on {shown}{_holder(path)}",
                                "stop that server first, then run `medperf server reset` again") from None
        yield
    finally:
        os.close(fd)
