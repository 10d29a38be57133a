"""The server's one write path: load a stream, decide on it, append at the version loaded; retry when it moved."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from medperf_core.domain.events import DomainEvent
from medperf_core.domain.resources import Resource
from medperf_core.errors import ConcurrencyError, ConflictError, InvalidTransitionError
from medperf_core.server.services.idempotency import Claim, recorded
from medperf_core.server.services.stream_turns import StreamTurns
from medperf_core.server.settings import FaultInjection
from medperf_core.store import EventStore
from medperf_core.store.server_read_model import ServerReadModel
from medperf_core.store.store import Append

RETRY_SECONDS = 10.0  # how long a decision is made again while other processes keep moving its stream
BACKOFF_CAP_SECONDS = 0.05

Decide = Callable[[list[DomainEvent]], Sequence[DomainEvent]]


class Writer:
    """Every decision is made on a stream's loaded state and appended at that state's version.

    Another writer (a thread, a worker process, another server) changing the stream in between makes the append
    fail with ConcurrencyError; the whole decision is then made again on the new state, after a short random pause
    that grows with each attempt (so that two processes that keep colliding fall out of step), for up to
    `retry_for` seconds. A decision that no longer holds on the new state answers 409 saying what changed.

    Within this process, decisions on one stream take turns (`StreamTurns`): its own threads never collide. Each
    lost version check means another process's decision on the stream was stored, so a decision is retried at most
    once per decision that other processes are making on it at once: the bound is time, not a count of attempts
    (50 updates of one dataset at once on two workers ran out of 8 attempts).
    """

    def __init__(
        self, store: EventStore[Any], reads: ServerReadModel, faults: FaultInjection | None = None,
        retry_for: float = RETRY_SECONDS,
    ) -> None:
        self.store = store
        self.reads = reads
        self.turns = StreamTurns()
        self.faults = faults or FaultInjection()
        self.retry_for = retry_for

    def _attempts(self) -> Iterator[int]:
        """0, 1, 2, ... with a random pause before each retry, for `retry_for` seconds; then the caller gives up."""
        deadline = time.monotonic() + self.retry_for
        attempt = 0
        while True:
            yield attempt
            attempt += 1
            if time.monotonic() >= deadline:
                return
            time.sleep(random.uniform(0, min(0.002 * 2**attempt, BACKOFF_CAP_SECONDS)))

    def _busy(self, what: str) -> ConflictError:
        return ConflictError(
            f"{what} kept changing while this request was decided (for {self.retry_for:g} s)", "try again in a moment"
        )

    def decide(
        self, stream: str, decide: Decide, actor: str, claim: Claim | None = None, answer: dict[str, Any] | None = None
    ) -> None:
        """With a `claim` (an Idempotency-Key), `answer` is recorded under the key in the same append; a key
        recorded already (by an earlier or a concurrent request) means the decision was made: nothing is appended."""
        self._decide(stream, lambda: self.store.load(stream), decide, actor, claim, answer)

    def decide_on_view(
        self, stream: str, decide: Callable[[], Sequence[DomainEvent]], actor: str, claim: Claim | None = None,
        answer: dict[str, Any] | None = None,
    ) -> None:
        """As `decide`, for a decision made on the entity as the read model shows it rather than on its stream's
        events: only the stream's version is loaded (not every event, which grows with each update, e.g. a
        preparation's reports), before `decide` reads the entity. Its row is projected in the transaction that
        appended its events, so it is at least as new as that version; if it is newer, the stream moved meanwhile
        and the append fails its version check: the decision is made again."""
        self._decide(stream, lambda: ([], self.store.version(stream)), lambda _events: decide(), actor, claim,
                     answer)

    def _decide(
        self, stream: str, load: Callable[[], tuple[list[DomainEvent], int]], decide: Decide, actor: str,
        claim: Claim | None, answer: dict[str, Any] | None,
    ) -> None:
        with self.turns.of([stream]):
            self._decide_in_turn(stream, load, decide, actor, claim, answer)

    def _decide_in_turn(
        self, stream: str, load: Callable[[], tuple[list[DomainEvent], int]], decide: Decide, actor: str,
        claim: Claim | None, answer: dict[str, Any] | None,
    ) -> None:
        for attempt in self._attempts():
            if recorded(self.store, claim) is not None:
                return None
            events, version = load()
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
                return None
            self.faults.after_decision()
            appends = [Append(stream, version, new)]
            if claim is not None:
                appends.append(claim.append(answer or {}))
            try:
                self.store.append_all(appends, actor)
                self.faults.after_commit()
                return
            except ConcurrencyError:
                continue
        raise self._busy(stream)

    def first_answer(self, claim: Claim | None) -> dict[str, Any] | None:
        """What an earlier request with the same Idempotency-Key created (None: a new key, or no key)."""
        return recorded(self.store, claim)

    def decide_many(self, streams: Sequence[str], decide: Callable[[dict[str, list[DomainEvent]]],
                    Mapping[str, Sequence[DomainEvent]]], actor: str, claim: Claim | None = None,
                    answer: dict[str, Any] | None = None) -> None:
        """One decision over several streams, appended together at the versions loaded (all or nothing).

        Every loaded stream is checked at its loaded version, also those that get no new event: a decision read
        from a stream (a benchmark's policy) is retried when that stream moved meanwhile. A `claim` is recorded
        with `answer` in the same append, as in `decide`."""
        with self.turns.of(streams):
            self._decide_many_in_turn(streams, decide, actor, claim, answer)

    def _decide_many_in_turn(self, streams: Sequence[str], decide: Callable[[dict[str, list[DomainEvent]]],
                             Mapping[str, Sequence[DomainEvent]]], actor: str, claim: Claim | None,
                             answer: dict[str, Any] | None) -> None:
        for attempt in self._attempts():
            if recorded(self.store, claim) is not None:
                return
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
            if claim is not None:
                appends.append(claim.append(answer or {}))
            self.faults.after_decision()
            try:
                self.store.append_all(appends, actor)
                self.faults.after_commit()
                return
            except ConcurrencyError:
                continue
        raise self._busy(", ".join(streams))

    def create(
        self, resource: Resource, build: Callable[[int], Sequence[Append]], actor: str, claim: Claim | None = None
    ) -> int:
        """Append the new entity's streams at version 0 under the next id, taken inside the append's transaction
        (no other writer, thread or process, can take it meanwhile: creates never conflict with each other);
        returns the id.

        With a `claim` (an Idempotency-Key) the key is recorded in the same append, naming the new id; a key
        recorded already (by an earlier or a concurrent request) returns the id it names, and appends nothing."""
        taken: list[int] = []

        def decide(session: Any) -> list[Append]:
            new_id = self.reads.next_id(session, resource)
            taken[:] = [new_id]
            appends = list(build(new_id))
            if claim is not None:
                appends.append(claim.append({"resource": resource.name, "id": new_id}))
            return appends

        for _ in self._attempts():
            first = recorded(self.store, claim)
            if first is not None:
                return int(first["id"])
            self.faults.after_decision()
            try:
                self.store.append_decided(decide, actor)
                self.faults.after_commit()
                return taken[0]
            except ConcurrencyError:  # the key recorded meanwhile, or (another recorder) the id taken
                continue
        raise self._busy(f"a new {resource.name}")

    def update(
        self, stream: str, read: Callable[[], dict[str, Any]],
        decide: Callable[[dict[str, Any]], Sequence[DomainEvent]], actor: str, claim: Claim | None = None,
        answer: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Update an entity by a decision on it as `read()` (the service's `get`) shows it (`decide_on_view`), and
        answer with it as `read()` shows it after the commit."""
        self.decide_on_view(stream, lambda: decide(read()), actor, claim, answer)
        return read()
