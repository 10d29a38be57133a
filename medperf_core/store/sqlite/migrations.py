"""Schema of the event log, applied through sqlite-utils migrations when a store opens."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from medperf_core.store.canonical import GENESIS_HASH

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


@event_log(name="0003_guard_against_hand_edits")
def guard_against_hand_edits(db: Database) -> None:
    """The head this recorder last wrote, and the first position a hand edit touched (triggers note every UPDATE
    or DELETE of an event: the recorder itself only inserts). Checked before every append (`SQLiteRecorder`), so a
    log altered by hand takes no new event. Started from the head the log has when it is first opened."""
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS log_guard (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            head_position INTEGER NOT NULL,
            head_hash TEXT NOT NULL,
            altered_position INTEGER
        )
        """
    )
    db.execute(
        "INSERT OR IGNORE INTO log_guard (id, head_position, head_hash) SELECT 1, COALESCE(MAX(position), 0), "
        "COALESCE((SELECT hash FROM events ORDER BY position DESC LIMIT 1), ?) FROM events",
        [GENESIS_HASH],
    )
    db.execute(
        """
        CREATE TRIGGER IF NOT EXISTS events_updated_by_hand AFTER UPDATE ON events BEGIN
            UPDATE log_guard
            SET altered_position = MIN(COALESCE(altered_position, OLD.position), OLD.position, NEW.position);
        END
        """
    )
    db.execute(
        """
        CREATE TRIGGER IF NOT EXISTS events_deleted_by_hand AFTER DELETE ON events BEGIN
            UPDATE log_guard SET altered_position = MIN(COALESCE(altered_position, OLD.position), OLD.position);
        END
        """
    )
