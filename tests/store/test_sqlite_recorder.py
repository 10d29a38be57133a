"""The SQLite recorder passes the recorder contract, plus what only a file-backed recorder can show."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from medperf_core.store.sqlite.recorder import LOCK_SUFFIX, SQLiteRecorder
from medperf_core.store.verify import verify_rows
from medperf_core.testing.group_commit import check_decided_appends, check_group_commit
from medperf_core.testing.recorder_contract import RecorderContract, append, new_event


class TestSQLiteRecorder(RecorderContract):
    @pytest.fixture
    def recorder(self, tmp_path: Path) -> Iterator[SQLiteRecorder]:
        rec = SQLiteRecorder(tmp_path / "events.db")
        yield rec
        rec.close()

    def test_appends_of_concurrent_threads_commit_together_each_on_its_own(self, recorder: SQLiteRecorder) -> None:
        check_group_commit(recorder)

    def test_appends_decided_in_the_transaction_never_take_one_number_twice(self, recorder: SQLiteRecorder) -> None:
        check_decided_appends(recorder)


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


def test_writers_queue_on_the_side_files_lock(tmp_path: Path) -> None:
    """While another process holds `events.db-lock`, an append waits (SQLite's own lock is still free), and it
    goes through the moment the lock is released."""
    import fcntl
    import threading

    path = tmp_path / "events.db"
    rec = SQLiteRecorder(path)
    done = threading.Event()
    try:
        with open(f"{path}{LOCK_SUFFIX}", "a+") as other:  # another open file: flock excludes it like a process
            fcntl.flock(other, fcntl.LOCK_EX)
            writer = threading.Thread(target=lambda: (append(rec, "s", 0, [new_event(1)]), done.set()))
            writer.start()
            assert not done.wait(0.5), "the append went ahead while another writer held the lock"
            fcntl.flock(other, fcntl.LOCK_UN)
        assert done.wait(10), "the append did not go ahead once the lock was free"
        writer.join()
        assert [e.stream for e in rec.read_all()] == ["s"]
    finally:
        rec.close()


def _append_many(path: str, prefix: str, count: int) -> None:
    rec = SQLiteRecorder(Path(path))
    try:
        for i in range(count):
            append(rec, f"{prefix}-{i}", 0, [new_event(i)])
    finally:
        rec.close()


def test_two_processes_append_to_one_file_without_conflicts_or_gaps(tmp_path: Path) -> None:
    import multiprocessing

    path = tmp_path / "events.db"
    SQLiteRecorder(path).close()
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(str(path), name, 150)) for name in ("a", "b")]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0]
    rec = SQLiteRecorder(path)
    try:
        stored = list(rec.read_all())
        assert [e.position for e in stored] == list(range(1, 301))
        assert verify_rows(rec.read_raw()).ok
    finally:
        rec.close()
