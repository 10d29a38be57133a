"""The narrow seam every event recorder implements: append at expected versions, read a stream, read all, the head."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar, runtime_checkable

import attrs

from medperf_core.store.canonical import GENESIS_HASH, canonical_json, chained_hash
from medperf_core.store.records import NewEvent, StoredEvent

S_co = TypeVar("S_co", covariant=True)


@attrs.frozen
class StreamAppend:
    """New events for one stream, valid only if the stream is still at `expected_version` (0: the stream is new)."""

    stream: str
    expected_version: int
    events: Sequence[NewEvent]


@attrs.frozen
class LogHead:
    """The last stored event's position and hash (0 and the genesis hash for an empty log)."""

    position: int = 0
    hash: str = GENESIS_HASH


# Appends decided inside the append's transaction, from the session as it is there (a new entity's id, which no
# other writer can take meanwhile). A recorder that can do this implements `DecidesInTransaction`.
DecideAppends = Callable[[Any], Sequence[StreamAppend]]


class Recorder(Protocol[S_co]):
    """Stores `NewEvent`s as positioned, hash-chained `StoredEvent`s.

    `S` is the recorder's session type: what projections write to inside an append's transaction (a sqlite-utils
    `Database` for the SQLite recorder). Recorders serialise their own writers; callers never lock.
    """

    def append(
        self, appends: Sequence[StreamAppend], apply: Callable[[S_co, StoredEvent], None] | None = None
    ) -> list[StoredEvent]:
        """Append every batch in one transaction, or none.

        Raises `ConcurrencyError` when any stream is no longer at its expected version. `apply` runs for each
        stored event inside the transaction (projection updates); if it raises, nothing is stored.
        """

    def read_stream(self, stream: str) -> list[StoredEvent]:
        """The stream's events in version order ([] for an unknown stream)."""

    def read_all(self, after: int = 0) -> Iterator[StoredEvent]:
        """Every event with a position greater than `after`, in position order, in constant memory."""

    def read_raw(self, after: int | None = None) -> Iterator[dict[str, Any]]:
        """Rows as stored (payload text untouched), for verification; every row when `after` is None."""

    def head(self) -> LogHead:
        """The last event's position and hash."""

    def transaction(self) -> AbstractContextManager[S_co]:
        """An exclusive write transaction over the projections' tables (rebuilds); committed on success."""

    def reading(self) -> AbstractContextManager[S_co]:
        """A consistent read of the projections' tables (read models query through it)."""

    def scratch(self) -> S_co:
        """An empty session of the same kind, for rebuilding projections off to the side (replay --check-only)."""

    def close(self) -> None: ...


# --- optional capabilities: a recorder offers one by implementing its Protocol (checked with isinstance) ---------


@runtime_checkable
class DecidesInTransaction(Protocol):
    """A recorder whose `append` also takes a function of the session that decides the appends inside the
    append's transaction (`EventStore.append_decided`); without it, the decision is read just before."""

    decides_in_transaction: bool  # True

    def append(
        self, appends: Sequence[StreamAppend] | DecideAppends, apply: Callable[[Any, StoredEvent], None] | None = None
    ) -> list[StoredEvent]: ...


@runtime_checkable
class KnowsStreamVersions(Protocol):
    """A recorder that tells a stream's version without reading its events (from an index)."""

    def stream_version(self, stream: str) -> int:
        """The stream's version (0 when it has none)."""
        ...


@runtime_checkable
class Migrates(Protocol):
    """A recorder that upgrades its database's schema when it opens, and names the migrations it applied."""

    migrations_applied: list[str]


@runtime_checkable
class MayRefuseNul(Protocol):
    """A recorder that says whether its database can store U+0000 in text (`holds_nul`; without the attribute: it
    can). PostgreSQL cannot: an import of an older log holding one is refused before anything is written, naming
    the event."""

    holds_nul: bool


@runtime_checkable
class GuardsAgainstEdits(Protocol):
    """A recorder that notices its log was altered by hand (outside medperf) and refuses to take events then."""

    def check_untouched(self) -> None:
        """IntegrityError naming what was altered and the way out, unless the log is as this recorder left it."""
        ...


def holds_nul(recorder: Recorder[Any]) -> bool:
    return recorder.holds_nul if isinstance(recorder, MayRefuseNul) else True


def stream_version(recorder: Recorder[Any], stream: str) -> int:
    """The stream's version (0 when it has none), from the recorder's index when it has one."""
    if isinstance(recorder, KnowsStreamVersions):
        return int(recorder.stream_version(stream))
    events = recorder.read_stream(stream)
    return events[-1].version if events else 0


# The columns of the `events` table, in the order `chained_rows` gives their values.
COLUMNS = "position, stream, version, type, schema_version, recorded_at, actor, payload, prev_hash, hash"


def chained_rows(
    batch: StreamAppend, position: int, prev_hash: str
) -> tuple[list[StoredEvent], list[tuple[Any, ...]]]:
    """A batch's events as the rows that follow the log's last (`position`, `prev_hash`): each hashed onto the one
    before it, with one canonical encoding of its payload (the mapper's, when it made one), stored and hashed. Gives
    the stored events and each row's values for an INSERT in `COLUMNS` order."""
    stored: list[StoredEvent] = []
    values: list[tuple[Any, ...]] = []
    for offset, new in enumerate(batch.events, start=1):
        payload_json = canonical_json(new.payload) if new.payload_json is None else new.payload_json
        at, version = position + offset, batch.expected_version + offset
        digest = chained_hash(
            prev_hash, position=at, stream=batch.stream, version=version, event_type=new.type,
            schema_version=new.schema_version, recorded_at=new.recorded_at, actor=new.actor, payload_json=payload_json,
        )
        stored.append(StoredEvent(
            position=at, stream=batch.stream, version=version, type=new.type, schema_version=new.schema_version,
            recorded_at=new.recorded_at, actor=new.actor, payload=new.payload, prev_hash=prev_hash, hash=digest,
        ))
        values.append((at, batch.stream, version, new.type, new.schema_version, new.recorded_at, new.actor,
                       payload_json, prev_hash, digest))
        prev_hash = digest
    return stored, values
