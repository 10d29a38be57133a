"""Projections are a pure function of the log: replay gives the rows live application gave, every time."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from _event_strategies import any_event
from _store_helpers import StreamSummary
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from medperf_core.domain.events import DomainEvent
from medperf_core.store import EventStore
from medperf_core.store.sqlite import sqlite_store

# A generated history: appends of 1-3 events to one of a few streams.
histories = st.lists(
    st.tuples(
        st.sampled_from(["dataset-1", "dataset-2", "assoc-1", "exec-1"]),
        st.lists(any_event, min_size=1, max_size=3),
    ),
    min_size=1,
    max_size=12,
)


def rows(db: Database, table: str) -> list[dict[str, object]]:
    return list(db[table].rows_where(order_by="rowid"))


def _write(store: EventStore, history: list[tuple[str, list[DomainEvent]]]) -> None:
    for stream, events in history:
        store.append(stream, store.load(stream)[1], events, actor="a@example.com")


@settings(max_examples=40, deadline=None)
@given(histories)
def test_replay_gives_the_rows_of_live_application(history: list[tuple[str, list[DomainEvent]]]) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        sqlite_store(Path(tmp) / "events.db", [StreamSummary()]) as store,
    ):
        _write(store, history)
        live = {t: rows(store.recorder.db, t) for t in StreamSummary.tables}
        report = store.replay(rebuild=False)
        assert report.equal, report
        assert report.events == sum(len(events) for _, events in history)
        # A forced rebuild from nothing (no snapshot) gives the same rows again.
        store.rebuild()
        assert {t: rows(store.recorder.db, t) for t in StreamSummary.tables} == live


@settings(max_examples=20, deadline=None)
@given(histories)
def test_a_fresh_projection_built_from_the_log_alone_is_identical(
    history: list[tuple[str, list[DomainEvent]]],
) -> None:
    """Copy the log, drop the projection's tables: opening the copy rebuilds them to the same rows."""
    with tempfile.TemporaryDirectory() as tmp:
        original = Path(tmp) / "events.db"
        with sqlite_store(original, [StreamSummary()]) as store:
            _write(store, history)
            live = {t: rows(store.recorder.db, t) for t in StreamSummary.tables}
        copy = Path(tmp) / "copy.db"
        shutil.copy(original, copy)
        db = Database(copy)
        for table in (*StreamSummary.tables, "_projections"):
            db[table].drop()
        db.conn.close()
        with sqlite_store(copy, [StreamSummary()]) as rebuilt:
            assert {t: rows(rebuilt.recorder.db, t) for t in StreamSummary.tables} == live


def test_replay_detects_and_repairs_a_drifted_projection(sample_log: Path) -> None:
    with sqlite_store(sample_log, [StreamSummary()]) as store:
        store.recorder.db.execute("UPDATE test_types SET count = 99 WHERE type = 'dataset.prepared'")
        checked = store.replay(rebuild=False)
        assert not checked.equal
        assert [t.table for t in checked.tables if not t.equal] == ["test_types"]
        assert not store.replay(rebuild=True).equal  # reports the drift it repaired
        assert store.replay(rebuild=False).equal


def test_a_projection_version_bump_rebuilds_it_on_open(sample_log: Path) -> None:
    class StreamSummaryV2(StreamSummary):
        version = 2

    with sqlite_store(sample_log, [StreamSummary()]) as store:
        store.recorder.db.execute("DELETE FROM test_streams")
    with sqlite_store(sample_log, [StreamSummaryV2()]) as store:
        assert store.recorder.db["test_streams"].count == 3
        assert store.replay(rebuild=False).equal


def test_replay_of_the_tutorial_flow(sample_log: Path) -> None:
    with sqlite_store(sample_log, [StreamSummary()]) as store:
        report = store.replay(rebuild=False)
        streams = {r["stream"]: r["events"] for r in store.recorder.db["test_streams"].rows}
    assert report.equal and report.events == 8
    assert streams == {"dataset-1": 3, "association-dataset-1-benchmark-1": 2, "execution-b1m4d1": 3}
