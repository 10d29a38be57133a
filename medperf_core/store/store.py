"""The event store: append at an expected version, projections updated in the same transaction, verify, replay."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import attrs
from sqlite_utils import Database

from medperf_core.domain.events import DomainEvent
from medperf_core.store.mapper import to_domain_event, to_new_event
from medperf_core.store.records import StoredEvent
from medperf_core.store.sqlite_recorder import SQLiteRecorder
from medperf_core.store.verify import VerifyReport, verify_rows


class Projection(Protocol):
    """A read model kept in tables of the store's database, a pure function of the events."""

    name: str
    version: int
    tables: Sequence[str]

    def create(self, db: Database) -> None:
        """Create the projection's tables (they do not exist yet)."""

    def apply(self, db: Database, event: DomainEvent, stored: StoredEvent) -> None:
        """Update the tables for one event. Use only the event and `stored` (never the clock)."""


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


def _table_rows(db: Database, table: str) -> list[tuple[Any, ...]]:
    if not db[table].exists():
        return []
    columns = sorted(c.name for c in db[table].columns)
    select = ", ".join(f"[{c}]" for c in columns)
    return sorted(tuple(r) for r in db.execute(f"SELECT {select} FROM [{table}]").fetchall())


class EventStore:
    """One SQLite file holding the log and the projections built from it."""

    def __init__(self, path: Path, projections: Sequence[Projection] = (), *, audit: bool = False) -> None:
        """`audit=True` opens the log as it is, for verify/ls/export: stale projections are not rebuilt."""
        self.path = path
        self.recorder = SQLiteRecorder(path)
        self.projections = list(projections)
        if not audit:
            self._ensure_projections()

    @property
    def db(self) -> Database:
        return self.recorder.db

    @property
    def lock(self) -> Any:
        return self.recorder.lock

    def close(self) -> None:
        self.recorder.close()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing --------------------------------------------------------------------------------------------

    def append(
        self, stream: str, expected_version: int, events: Sequence[DomainEvent], actor: str
    ) -> list[StoredEvent]:
        """Append events; raises ConcurrencyError when the stream is no longer at `expected_version`."""
        new = [to_new_event(e, actor) for e in events]

        def apply(stored: StoredEvent) -> None:
            domain_event = events[stored.version - expected_version - 1]
            for projection in self.projections:
                projection.apply(self.db, domain_event, stored)

        return self.recorder.append(stream, expected_version, new, apply)

    # --- reading --------------------------------------------------------------------------------------------

    def load(self, stream: str) -> tuple[list[DomainEvent], int]:
        """The stream's domain events and its current version (0 when it has none)."""
        stored = self.recorder.read_stream(stream)
        return [to_domain_event(s) for s in stored], (stored[-1].version if stored else 0)

    def stream_version(self, stream: str) -> int:
        return self.recorder.stream_version(stream)

    def read_all(self, after: int = 0) -> Iterator[StoredEvent]:
        return self.recorder.read_all(after)

    def last_position(self) -> int:
        return self.recorder.last_position()

    # --- audit ----------------------------------------------------------------------------------------------

    def verify(self) -> VerifyReport:
        return verify_rows(self.recorder.read_raw())

    def replay(self, *, rebuild: bool = True) -> ReplayReport:
        """Rebuild every projection from the log in memory, compare with the live tables, then replace them."""
        scratch = Database(memory=True)
        for projection in self.projections:
            projection.create(scratch)
        count = 0
        for stored in self.read_all():
            domain_event = to_domain_event(stored)
            for projection in self.projections:
                projection.apply(scratch, domain_event, stored)
            count += 1
        comparisons = []
        with self.lock:
            for projection in self.projections:
                for table in projection.tables:
                    live, rebuilt = _table_rows(self.db, table), _table_rows(scratch, table)
                    comparisons.append(TableComparison(table, len(live), len(rebuilt), live == rebuilt))
        report = ReplayReport(count, comparisons)
        if rebuild and not report.equal:
            self._rebuild_all()
        return report

    def _rebuild_all(self) -> None:
        with self.lock:
            conn = self.db.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                for projection in self.projections:
                    self._reset(projection)
                for stored in self.read_all():
                    domain_event = to_domain_event(stored)
                    for projection in self.projections:
                        projection.apply(self.db, domain_event, stored)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _reset(self, projection: Projection) -> None:
        for table in projection.tables:
            self.db.execute(f"DROP TABLE IF EXISTS [{table}]")
        projection.create(self.db)
        self.db.table("_projections").upsert(
            {"name": projection.name, "version": projection.version}, pk="name"
        )

    def _ensure_projections(self) -> None:
        """Create missing projections and rebuild any whose version changed since the file was written."""
        stale = []
        with self.lock:
            table = self.db.table("_projections")
            known = {r["name"]: r["version"] for r in table.rows} if table.exists() else {}
            stale = [p for p in self.projections if known.get(p.name) != p.version]
        if not stale:
            return
        with self.lock:
            conn = self.db.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                for projection in stale:
                    self._reset(projection)
                for stored in self.read_all():
                    domain_event = to_domain_event(stored)
                    for projection in stale:
                        projection.apply(self.db, domain_event, stored)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
