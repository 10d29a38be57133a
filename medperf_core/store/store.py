"""The event store: a recorder plus projections updated in the append's transaction; load, verify, replay."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, Protocol, TypeVar

import attrs

from medperf_core.domain.events import DomainEvent
from medperf_core.errors import IntegrityError
from medperf_core.store.mapper import to_domain_event, to_new_event, unwrap
from medperf_core.store.recorder import (
    DecidesInTransaction,
    LogHead,
    Recorder,
    StreamAppend,
    holds_nul,
    stream_version,
)
from medperf_core.store.records import NewEvent, StoredEvent
from medperf_core.store.verify import VerifyReport, verify_rows

S = TypeVar("S")
S_contra = TypeVar("S_contra", contravariant=True)
Rows = dict[str, list[tuple[Any, ...]]]


class Projection(Protocol[S_contra]):
    """A read model kept in the recorder's session (tables), a pure function of the events."""

    name: str
    version: int
    tables: Sequence[str]

    def built_version(self, session: S_contra) -> int | None:
        """The version this projection was last built at in `session` (None: never)."""

    def reset(self, session: S_contra) -> None:
        """Drop and recreate the projection's tables, empty, and record `version` as built."""

    def apply(self, session: S_contra, event: DomainEvent, stored: StoredEvent) -> None:
        """Update the tables for one event. Use only the event and `stored` (never the clock)."""

    def snapshot(self, session: S_contra) -> Rows:
        """Every table's rows, sorted, for comparing a live projection with a rebuilt one."""


@attrs.frozen
class TableComparison:
    table: str
    live_rows: int
    rebuilt_rows: int
    equal: bool


@attrs.frozen
class ReplayReport:
    events: int
    tables: list[TableComparison]

    @property
    def equal(self) -> bool:
        return all(t.equal for t in self.tables)


@attrs.frozen
class Append:
    """Domain events for one stream at the version the decision was made on."""

    stream: str
    expected_version: int
    events: Sequence[DomainEvent]


class EventStore(Generic[S]):
    """The log behind `recorder` and the projections it keeps up to date; the recorder is given, never built here."""

    def __init__(
        self, recorder: Recorder[S], projections: Sequence[Projection[S]] = (), *, audit: bool = False
    ) -> None:
        """`audit=True` opens the log as it is, for verify/ls/export: stale projections are not rebuilt."""
        self.recorder = recorder
        self.projections = list(projections)
        if not audit:
            self._ensure_projections()

    def close(self) -> None:
        self.recorder.close()

    def __enter__(self) -> EventStore[S]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing --------------------------------------------------------------------------------------------

    def append(
        self, stream: str, expected_version: int, events: Sequence[DomainEvent], actor: str
    ) -> list[StoredEvent]:
        """Append at the version the caller loaded; ConcurrencyError when the stream moved since."""
        return self.append_all([Append(stream, expected_version, events)], actor)

    def append_all(self, appends: Sequence[Append], actor: str) -> list[StoredEvent]:
        """Several streams in one transaction: all are stored, or none."""
        batches, apply = self._prepared(actor)
        return self.recorder.append(batches(appends), apply)

    def append_decided(self, decide: Callable[[S], Sequence[Append]], actor: str) -> list[StoredEvent]:
        """Like `append_all`, with the appends decided by `decide(session)` inside the append's transaction: what
        it reads there (a new entity's id) no other writer can change before the commit. A recorder that cannot
        decide in its transaction gets the decision made in a read just before (its version checks still hold)."""
        batches, apply = self._prepared(actor)
        recorder = self.recorder
        if isinstance(recorder, DecidesInTransaction) and recorder.decides_in_transaction:
            return recorder.append(lambda session: batches(decide(session)), apply)
        with self.recorder.reading() as session:
            decided = decide(session)
        return self.recorder.append(batches(decided), apply)

    def _prepared(
        self, actor: str
    ) -> tuple[Callable[[Sequence[Append]], list[StreamAppend]], Callable[[S, StoredEvent], None] | None]:
        """The recorder's batches of some appends, and the projections' `apply` for the events stored from the
        last batches made (None without projections).

        `apply` finds a stored event's domain event by its stream and version, not by counting calls: a recorder
        may apply the same stored events more than once (a group commit that fails whole is committed again append
        by append, in a new transaction), and each time must find the same events."""
        made: dict[tuple[str, int], DomainEvent] = {}

        def batches(appends: Sequence[Append]) -> list[StreamAppend]:
            made.clear()
            for a in appends:
                for offset, event in enumerate(a.events, start=1):
                    made[(a.stream, a.expected_version + offset)] = unwrap(event)
            return [StreamAppend(a.stream, a.expected_version, [to_new_event(e, actor) for e in a.events])
                    for a in appends]

        def apply(session: S, stored: StoredEvent) -> None:
            event = made[(stored.stream, stored.version)]
            for projection in self.projections:
                projection.apply(session, event, stored)

        return batches, (apply if self.projections else None)

    def restore(self, events: Iterable[StoredEvent], batch: int = 500) -> int:
        """Append events exported from another log, as they were (times, actors, stream versions), into this one.

        Appended at the positions they had, they hash the same; IntegrityError if any does not (a different log
        was already here, or the export was altered). Returns the number of events."""
        count = 0
        pending: list[StoredEvent] = []
        nul_allowed = holds_nul(self.recorder)  # False: the database cannot store U+0000 in text

        def flush() -> None:
            appends: list[StreamAppend] = []
            for event in pending:
                new = NewEvent(type=event.type, schema_version=event.schema_version, payload=event.payload,
                               actor=event.actor, recorded_at=event.recorded_at)
                if appends and appends[-1].stream == event.stream:
                    appends[-1] = StreamAppend(event.stream, appends[-1].expected_version,
                                               [*appends[-1].events, new])
                else:
                    appends.append(StreamAppend(event.stream, event.version - 1, [new]))
            # by position: a recorder may call `apply` again for the same events when it retries a transaction
            originals = {e.position: e for e in pending}

            def apply(session: S, stored: StoredEvent) -> None:
                original = originals.get(stored.position)
                if original is None or stored.hash != original.hash:
                    raise IntegrityError(
                        f"event {stored.position} hashes differently once restored",
                        "restore into an empty database, from an unaltered export",
                    )
                domain_event = to_domain_event(stored)
                for projection in self.projections:
                    projection.apply(session, domain_event, stored)

            self.recorder.append(appends, apply)
            pending.clear()

        for event in events:
            if not nul_allowed:
                refuse_nul(event)
            pending.append(event)
            count += 1
            if len(pending) >= batch:
                flush()
        if pending:
            flush()
        return count

    # --- reading --------------------------------------------------------------------------------------------

    def load(self, stream: str) -> tuple[list[DomainEvent], int]:
        """The stream's domain events and its version (0 when it has none): decide on these, append at that."""
        stored = self.recorder.read_stream(stream)
        return [to_domain_event(s) for s in stored], (stored[-1].version if stored else 0)

    def version(self, stream: str) -> int:
        """The stream's version (0 when it has none), without loading its events if the recorder can tell it alone
        (`KnowsStreamVersions`; the built-in recorders can)."""
        return stream_version(self.recorder, stream)

    def read_all(self, after: int = 0) -> Iterator[StoredEvent]:
        return self.recorder.read_all(after)

    def head(self) -> LogHead:
        return self.recorder.head()

    # --- audit ----------------------------------------------------------------------------------------------

    def verify(self) -> VerifyReport:
        return verify_rows(self.recorder.read_raw())

    def replay(self, *, rebuild: bool = True) -> ReplayReport:
        """Rebuild every projection from the log off to the side, compare with the live tables, then replace them."""
        scratch = self.recorder.scratch()
        try:
            for projection in self.projections:
                projection.reset(scratch)
            count = 0
            with self.recorder.reading() as session:
                for stored in self.read_all():
                    domain_event = to_domain_event(stored)
                    for projection in self.projections:
                        projection.apply(scratch, domain_event, stored)
                    count += 1
                comparisons = []
                for projection in self.projections:
                    live, rebuilt = projection.snapshot(session), projection.snapshot(scratch)
                    for table in projection.tables:
                        a, b = live.get(table, []), rebuilt.get(table, [])
                        comparisons.append(TableComparison(table, len(a), len(b), a == b))
        finally:
            close = getattr(scratch, "close", None)  # a scratch database is thrown away
            if callable(close):
                close()
        report = ReplayReport(count, comparisons)
        if rebuild and not report.equal:
            self._rebuild(self.projections)
        return report

    def rebuild(self) -> None:
        """Drop every projection and build it again from the whole log, in one transaction."""
        self._rebuild(self.projections)

    def _rebuild(self, projections: Sequence[Projection[S]]) -> None:
        with self.recorder.transaction() as session:
            for projection in projections:
                projection.reset(session)
            for stored in self.read_all():
                domain_event = to_domain_event(stored)
                for projection in projections:
                    projection.apply(session, domain_event, stored)

    def _ensure_projections(self) -> None:
        """Create missing projections and rebuild any whose version changed since the log was written."""
        with self.recorder.reading() as session:
            stale = [p for p in self.projections if p.built_version(session) != p.version]
        if stale:
            with self.recorder.transaction() as session:  # re-check: another process may have just built them
                still = [p for p in stale if p.built_version(session) != p.version]
                if still:
                    for projection in still:
                        projection.reset(session)
                    for stored in self.read_all():
                        domain_event = to_domain_event(stored)
                        for projection in still:
                            projection.apply(session, domain_event, stored)


def refuse_nul(event: StoredEvent) -> None:
    """IntegrityError naming the event if its payload holds U+0000 (a log written before the server refused it),
    for a database that cannot store it (a recorder with `holds_nul = False`)."""
    if _holds_nul(event.payload):
        raise IntegrityError(
            f"event {event.position} (stream {event.stream}, {event.type}) holds a NUL character (U+0000), which "
            "this database cannot store, so the log cannot move here as it is",
            "keep serving this log from SQLite (server start --database sqlite://FILE, or its --data-dir); its hash "
            "chain forbids changing the event",
        )


def _holds_nul(value: Any) -> bool:
    """Whether any text in a payload (keys included) holds U+0000."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False
