"""The in-memory example recorder passes the same contract as the SQLite one, and carries an event store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from medperf_example_plugin.recorder import MemoryRecorder

from medperf_core.domain.events import DatasetReportUpdated
from medperf_core.store import EventStore
from medperf_core.testing.recorder_contract import RecorderContract


class TestMemoryRecorder(RecorderContract):
    @pytest.fixture
    def recorder(self) -> Iterator[MemoryRecorder]:
        yield MemoryRecorder()


def test_an_event_store_over_it_loads_what_it_appended_and_verifies() -> None:
    store: EventStore[dict[str, object]] = EventStore(MemoryRecorder())
    store.append("dataset-1", 0, [DatasetReportUpdated(dataset_id=1, report={"progress": 50})], "do@example.com")
    events, version = store.load("dataset-1")
    assert version == 1 and events == [DatasetReportUpdated(dataset_id=1, report={"progress": 50})]
    assert store.verify().ok and store.verify().checked == 1
