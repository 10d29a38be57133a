"""Decisions on one stream take turns within a server process, so that its own requests never race each other."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator


class StreamTurns:
    """One decision at a time per stream in this process.

    Without turns, N requests updating one entity at once all decide on the same version and N-1 of them fail
    their append's version check, again and again: with 50 at once, some ran out of attempts (409 "kept changing")
    although nothing they decided depended on the others. With turns, each decides on the state the previous one
    left; only another process (a second worker or server) can still move the stream between a decision and its
    append, and the writer's retry covers that. Several streams are taken in sorted order, so two decisions over
    overlapping streams cannot wait on each other."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._turns: dict[str, tuple[threading.Lock, int]] = {}  # stream -> (its lock, threads holding or waiting)

    @contextlib.contextmanager
    def of(self, streams: Iterable[str]) -> Iterator[None]:
        ordered = sorted(set(streams))
        locks = [self._join(stream) for stream in ordered]
        taken: list[threading.Lock] = []
        try:
            for lock in locks:
                lock.acquire()
                taken.append(lock)
            yield
        finally:
            for lock in reversed(taken):
                lock.release()
            for stream in ordered:
                self._leave(stream)

    def _join(self, stream: str) -> threading.Lock:
        with self._guard:
            lock, users = self._turns.get(stream, (None, 0))
            lock = lock or threading.Lock()
            self._turns[stream] = (lock, users + 1)
            return lock

    def _leave(self, stream: str) -> None:
        with self._guard:
            lock, users = self._turns[stream]
            if users == 1:
                del self._turns[stream]  # nobody holds or waits for it: the table stays as small as the traffic
            else:
                self._turns[stream] = (lock, users - 1)

    def waiting(self) -> int:
        """Streams with a decision under way or waiting (for tests: 0 when every turn was given back)."""
        with self._guard:
            return len(self._turns)
