"""A process-wide "stop now" flag: set when the client is interrupted while runs go on in worker threads.

Signals reach only the main thread; a runner that waits on a remote engine (a Slurm job) polls `cancelled()` from
its worker thread and cancels its job.
"""

from __future__ import annotations

import threading

_CANCEL = threading.Event()


def cancel() -> None:
    _CANCEL.set()


def cancelled() -> bool:
    return _CANCEL.is_set()


def reset() -> None:
    """Clear the flag before new runs start (a long-lived process, or tests)."""
    _CANCEL.clear()
