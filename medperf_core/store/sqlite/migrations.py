"""Schema of the event log, applied through sqlite-utils migrations when a store opens."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

event_log = Migrations("medperf_event_log")


@event_log(name="0001_create_events")
def create_events(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS events (
            position INTEGER PRIMARY KEY AUTOINCREMENT,
            stream TEXT NOT NULL,
            version INTEGER NOT NULL CHECK (version >= 1),
            type TEXT NOT NULL,
            schema_version INTEGER NOT NULL,
            recorded_at TEXT NOT NULL,
            actor TEXT NOT NULL,
            payload TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL,
            UNIQUE (stream, version)
        )
        """
    )


@event_log(name="0002_index_events_type")
def index_events_type(db: Database) -> None:
    db.execute("CREATE INDEX IF NOT EXISTS events_type ON events (type)")
