"""The SQLite recorder: one `events` table, optimistic concurrency on (stream, version), a hash chain."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from medperf_core.errors import ConcurrencyError
from medperf_core.store.canonical import GENESIS_HASH, canonical_json, event_hash
from medperf_core.store.migrations import event_log
from medperf_core.store.records import NewEvent, StoredEvent

COLUMNS = "position, stream, version, type, schema_version, recorded_at, actor, payload, prev_hash, hash"


def _row_to_stored(row: Sequence[Any]) -> StoredEvent:
    return StoredEvent(
        position=row[0], stream=row[1], version=row[2], type=row[3], schema_version=row[4],
        recorded_at=row[5], actor=row[6], payload=json.loads(row[7]), prev_hash=row[8], hash=row[9],
    )


def _decode_leniently(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def connect(path: Path) -> Database:
    """A durable WAL connection usable from the threads of one process (access is serialised by a lock)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")  # durable: a committed event survives a power cut
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return Database(conn)


class SQLiteRecorder:
    """Inserts and selects stored events. Callers pass `apply` to update projections in the same transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = connect(path)
        self.lock = threading.RLock()
        with self.lock:
            event_log.apply(self.db)

    def close(self) -> None:
        self.db.conn.close()

    def append(
        self,
        stream: str,
        expected_version: int,
        new_events: Sequence[NewEvent],
        apply: Callable[[StoredEvent], None] | None = None,
    ) -> list[StoredEvent]:
        conn = self.db.conn
        with self.lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                stored = self._insert(conn, stream, expected_version, new_events)
                if apply is not None:
                    for event in stored:
                        apply(event)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return stored

    def _insert(
        self, conn: sqlite3.Connection, stream: str, expected_version: int, new_events: Sequence[NewEvent]
    ) -> list[StoredEvent]:
        current = self._stream_version(conn, stream)
        if current != expected_version:
            raise ConcurrencyError(
                f"stream {stream!r} is at version {current}, not {expected_version}",
                "reload and try again: someone else changed it",
            )
        last = conn.execute("SELECT position, hash FROM events ORDER BY position DESC LIMIT 1").fetchone()
        position, prev_hash = (last[0], last[1]) if last else (0, GENESIS_HASH)
        stored: list[StoredEvent] = []
        for offset, new in enumerate(new_events, start=1):
            row: dict[str, Any] = {
                "position": position + offset,
                "stream": stream,
                "version": expected_version + offset,
                "type": new.type,
                "schema_version": new.schema_version,
                "recorded_at": new.recorded_at,
                "actor": new.actor,
                "payload": new.payload,
            }
            digest = event_hash(prev_hash, row)
            try:
                conn.execute(
                    f"INSERT INTO events ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (row["position"], stream, row["version"], new.type, new.schema_version, new.recorded_at,
                     new.actor, canonical_json(new.payload), prev_hash, digest),
                )
            except sqlite3.IntegrityError as e:
                raise ConcurrencyError(
                    f"stream {stream!r} already has version {row['version']}", "reload and try again"
                ) from e
            stored.append(StoredEvent(prev_hash=prev_hash, hash=digest, **row))
            prev_hash = digest
        return stored

    @staticmethod
    def _stream_version(conn: sqlite3.Connection, stream: str) -> int:
        row = conn.execute("SELECT MAX(version) FROM events WHERE stream = ?", (stream,)).fetchone()
        return int(row[0] or 0)

    def stream_version(self, stream: str) -> int:
        with self.lock:
            return self._stream_version(self.db.conn, stream)

    def read_stream(self, stream: str) -> list[StoredEvent]:
        with self.lock:
            rows = self.db.conn.execute(
                f"SELECT {COLUMNS} FROM events WHERE stream = ? ORDER BY version", (stream,)
            ).fetchall()
        return [_row_to_stored(r) for r in rows]

    def read_all(self, after: int = 0, batch: int = 5000) -> Iterator[StoredEvent]:
        """Every event after a position, in position order, read in batches (constant memory)."""
        position = after
        while True:
            with self.lock:
                rows = self.db.conn.execute(
                    f"SELECT {COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?", (position, batch)
                ).fetchall()
            if not rows:
                return
            for r in rows:
                yield _row_to_stored(r)
            position = rows[-1][0]

    def read_raw(self, after: int | None = None, batch: int = 5000) -> Iterator[dict[str, Any]]:
        """Rows as stored (payload text untouched), for verification; by default every row, even at position <= 0.

        Text that is not valid UTF-8 (a tampered byte) is decoded with replacement characters instead of raising,
        so that verification reports the row's position rather than crashing; the replaced text cannot hash right.
        """
        position = after
        conn = self.db.conn
        while True:
            with self.lock:
                text_factory = conn.text_factory
                conn.text_factory = _decode_leniently
                try:
                    cursor = conn.execute(
                        f"SELECT {COLUMNS} FROM events WHERE (? IS NULL OR position > ?) ORDER BY position LIMIT ?",
                        (position, position, batch),
                    )
                    names = [d[0] for d in cursor.description]
                    rows = cursor.fetchall()
                finally:
                    conn.text_factory = text_factory
            if not rows:
                return
            for r in rows:
                yield dict(zip(names, r, strict=True))
            position = rows[-1][0]

    def last_position(self) -> int:
        with self.lock:
            row = self.db.conn.execute("SELECT MAX(position) FROM events").fetchone()
        return int(row[0] or 0)
