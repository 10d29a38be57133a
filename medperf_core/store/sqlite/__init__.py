"""The SQLite event store: recorder, projections and read models of the server and the client."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlite_utils import Database

from medperf_core.store.sqlite.projection import SQLiteProjection
from medperf_core.store.sqlite.recorder import SQLiteRecorder
from medperf_core.store.store import EventStore


def sqlite_store(
    path: Path | None, projections: Sequence[SQLiteProjection] = (), *, audit: bool = False
) -> EventStore[Database]:
    """An event store on an SQLite file (None: in memory) with the given projections."""
    return EventStore(SQLiteRecorder(path), projections, audit=audit)


__all__ = ["SQLiteProjection", "SQLiteRecorder", "sqlite_store"]
