"""The SQLite recorder passes the recorder contract, plus what only a file-backed recorder can show."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from medperf_core.store.sqlite.recorder import SQLiteRecorder
from medperf_core.testing.recorder_contract import RecorderContract, append, new_event


class TestSQLiteRecorder(RecorderContract):
    @pytest.fixture
    def recorder(self, tmp_path: Path) -> Iterator[SQLiteRecorder]:
        rec = SQLiteRecorder(tmp_path / "events.db")
        yield rec
        rec.close()


def test_events_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    first = SQLiteRecorder(path)
    stored = append(first, "s", 0, [new_event(1), new_event(2)])
    first.close()
    second = SQLiteRecorder(path)
    try:
        assert list(second.read_all()) == stored
        assert append(second, "s", 2, [new_event(3)])[0].prev_hash == stored[-1].hash
    finally:
        second.close()


def test_migrations_apply_once(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    for _ in range(3):
        SQLiteRecorder(path).close()
    rec = SQLiteRecorder(path)
    try:
        applied = (
            [r["name"] for r in rec.db["_sqlite_migrations"].rows]
            if rec.db["_sqlite_migrations"].exists()
            else []
        )
        assert len(applied) == len(set(applied))
        assert "events" in rec.db.table_names()
    finally:
        rec.close()


def test_reading_in_batches_yields_every_event(tmp_path: Path) -> None:
    rec = SQLiteRecorder(tmp_path / "events.db")
    try:
        append(rec, "s", 0, [new_event(i) for i in range(23)])
        assert [e.position for e in rec.read_all(batch=5)] == list(range(1, 24))
        assert [r["position"] for r in rec.read_raw(after=20, batch=2)] == [21, 22, 23]
    finally:
        rec.close()
