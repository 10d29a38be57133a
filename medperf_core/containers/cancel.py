"""A process-wide "stop now" flag: set when the client is interrupted while runs go on in worker threads.

Signals reach only the main thread; a runner that waits on a remote engine (a Slurm job) polls `cancelled()` from
its worker thread and cancels its job.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_CANCEL = threading.Event()


def cancel() -> None:
    _CANCEL.set()


def cancelled() -> bool:
    return _CANCEL.is_set()


def reset() -> None:
    """Clear the flag before new runs start (a long-lived process, or tests)."""
    _CANCEL.clear()


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """While inside, SIGTERM raises SystemExit in the main thread (so runs are cancelled) instead of killing it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
