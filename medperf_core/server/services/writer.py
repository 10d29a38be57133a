"""The server's one write path: load a stream, decide on it, append at the version loaded; retry when it moved."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from medperf_core.domain.events import DomainEvent
from medperf_core.domain.resources import Resource
from medperf_core.errors import ConcurrencyError, ConflictError, InvalidTransitionError
from medperf_core.server.read_model import ServerReadModel
from medperf_core.server.settings import decision_delay
from medperf_core.store import EventStore
from medperf_core.store.store import Append

ATTEMPTS = 8

Decide = Callable[[list[DomainEvent]], Sequence[DomainEvent]]


class Writer:
    """Every decision is made on a stream's loaded state and appended at that state's version.

    Another writer (a thread, a worker process, another server) changing the stream in between makes the append
    fail with ConcurrencyError; the whole decision is then made again on the new state, at most `ATTEMPTS` times.
    A decision that no longer holds on the new state answers 409 saying what changed.
    """

    def __init__(self, store: EventStore[Any], reads: ServerReadModel) -> None:
        self.store = store
        self.reads = reads

    def decide(self, stream: str, decide: Decide, actor: str) -> None:
        for attempt in range(ATTEMPTS):
            events, version = self.store.load(stream)
            try:
                new = list(decide(events))
            except (InvalidTransitionError, ConflictError) as e:
                if attempt == 0:
                    raise
                raise ConflictError(
                    f"{stream} changed while this request was decided, and now: {e.message}",
                    "look at its new state before trying again",
                ) from e
            if not new:
                return
            _pause_for_tests()
            try:
                self.store.append(stream, version, new, actor)
                return
            except ConcurrencyError:
                continue
        raise _busy(stream)

    def decide_many(self, streams: Sequence[str], decide: Callable[[dict[str, list[DomainEvent]]],
                    Mapping[str, Sequence[DomainEvent]]], actor: str) -> None:
        """One decision over several streams, appended together at the versions loaded (all or nothing).

        Every loaded stream is checked at its loaded version, also those that get no new event: a decision read
        from a stream (a benchmark's policy) is retried when that stream moved meanwhile."""
        for attempt in range(ATTEMPTS):
            loaded = {s: self.store.load(s) for s in streams}
            try:
                new = decide({s: events for s, (events, _v) in loaded.items()})
            except (InvalidTransitionError, ConflictError) as e:
                if attempt == 0:
                    raise
                raise ConflictError(
                    f"{', '.join(streams)} changed while this request was decided, and now: {e.message}",
                    "look at its new state before trying again",
                ) from e
            if not any(new.values()):
                return
            appends = [Append(s, loaded[s][1], list(new.get(s, ()))) for s in streams]
            _pause_for_tests()
            try:
                self.store.append_all(appends, actor)
                return
            except ConcurrencyError:
                continue
        raise _busy(", ".join(streams))

    def create(self, resource: Resource, build: Callable[[int], Sequence[Append]], actor: str) -> int:
        """Allocate the next id and append the new entity's streams at version 0; a taken id means the next one."""
        for _ in range(ATTEMPTS):
            new_id = self.reads.next_id(resource)
            _pause_for_tests()
            try:
                self.store.append_all(build(new_id), actor)
                return new_id
            except ConcurrencyError:
                continue
        raise _busy(f"a new {resource.name}")


def _busy(what: str) -> ConflictError:
    return ConflictError(
        f"{what} kept changing while this request was decided ({ATTEMPTS} attempts)", "try again in a moment"
    )


def _pause_for_tests() -> None:
    """Between deciding and appending: MEDPERF_SERVER_DECISION_DELAY seconds (0 unless a race test sets it)."""
    decision_delay()
