"""Start several writers at once and tally who won: the core of every optimistic-concurrency test."""

from __future__ import annotations

import threading
from collections.abc import Callable

from medperf_core.errors import ConcurrencyError


def race_threads(append: Callable[[int], object], writers: int) -> list[str]:
    """Run `append(i)` in `writers` threads released together; one "ok" or "conflict" per writer."""
    barrier = threading.Barrier(writers)
    outcomes: list[str] = []

    def write(i: int) -> None:
        barrier.wait()
        try:
            append(i)
            outcomes.append("ok")
        except ConcurrencyError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes
