"""The contract every event recorder passes: subclass `RecorderContract` and override the `recorder` fixture.

    from medperf_core.testing.recorder_contract import RecorderContract

    class TestMyRecorder(RecorderContract):
        @pytest.fixture
        def recorder(self, tmp_path):
            rec = MyRecorder(...)
            yield rec
            rec.close()

A recorder stores `NewEvent`s as positioned, hash-chained `StoredEvent`s:
`append([StreamAppend(stream, expected_version, events), ...], apply=None)` (all streams or none),
`read_stream(stream)`, `read_all(after=0)`, `read_raw(after=None)` (rows as stored, for verification), `head()`,
and for projections `transaction()`, `reading()`, `scratch()`; `close()`. See `medperf_core.store.recorder.Recorder`.
Optionally `stream_version(stream)`: a stream's version without reading its events (updates decided on the read
model ask only that).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from medperf_core.errors import ConcurrencyError
from medperf_core.store.canonical import GENESIS_HASH, event_hash
from medperf_core.store.recorder import KnowsStreamVersions, LogHead, StreamAppend, stream_version
from medperf_core.store.records import NewEvent, StoredEvent
from medperf_core.store.verify import verify_rows
from medperf_core.testing.races import race_threads


def new_event(n: int = 0, type_name: str = "test.happened", **payload: Any) -> NewEvent:
    """A storable event; the contract does not depend on the domain's event classes."""
    return NewEvent(
        type=type_name,
        schema_version=1,
        payload={"n": n, **payload},
        actor="contract@example.com",
        recorded_at=f"2025-01-01T00:00:{n % 60:02d}.000000Z",
    )


def append(
    recorder: Any, stream: str, expected_version: int, events: list[NewEvent], apply: Any = None
) -> list[StoredEvent]:
    """One stream's batch (most checks need no more)."""
    stored: list[StoredEvent] = recorder.append([StreamAppend(stream, expected_version, events)], apply)
    return stored


class RecorderContract:
    """Behaviour shared by every recorder (SQLite now, PostgreSQL later)."""

    @pytest.fixture
    def recorder(self) -> Iterator[Any]:
        raise NotImplementedError("override the `recorder` fixture in your subclass")

    # --- empty ---

    def test_a_new_recorder_is_empty(self, recorder: Any) -> None:
        assert list(recorder.read_all()) == []
        assert recorder.read_stream("dataset-1") == []
        assert stream_version(recorder, "dataset-1") == 0
        assert recorder.head().position == 0

    # --- append and read ---

    def test_append_returns_positioned_chained_events(self, recorder: Any) -> None:
        stored = append(recorder, "s", 0, [new_event(1), new_event(2)])
        assert [(s.position, s.stream, s.version) for s in stored] == [(1, "s", 1), (2, "s", 2)]
        assert stored[0].prev_hash == GENESIS_HASH
        assert stored[1].prev_hash == stored[0].hash
        assert stored[0].payload == {"n": 1}
        assert stored[0].type == "test.happened" and stored[0].schema_version == 1
        assert stored[0].actor == "contract@example.com"
        assert stored[0].recorded_at == "2025-01-01T00:00:01.000000Z"

    def test_read_stream_returns_only_that_stream_in_version_order(self, recorder: Any) -> None:
        append(recorder, "a", 0, [new_event(1)])
        append(recorder, "b", 0, [new_event(2)])
        append(recorder, "a", 1, [new_event(3), new_event(4)])
        events = recorder.read_stream("a")
        assert [(e.version, e.payload["n"]) for e in events] == [(1, 1), (2, 3), (3, 4)]
        assert all(e.stream == "a" for e in events)
        assert stream_version(recorder, "a") == 3
        assert stream_version(recorder, "b") == 1

    def test_a_streams_version_is_told_alone_as_reading_it_would(self, recorder: Any) -> None:
        """`EventStore.version` asks the recorder's optional `stream_version` (no events loaded), else reads the
        stream: either way the last version, 0 for a stream with none."""
        from medperf_core.store.store import EventStore

        store: EventStore[Any] = EventStore(recorder)
        assert store.version("a") == 0
        append(recorder, "a", 0, [new_event(1), new_event(2)])
        append(recorder, "b", 0, [new_event(3)])
        append(recorder, "a", 2, [new_event(4)])
        assert (store.version("a"), store.version("b"), store.version("c")) == (3, 1, 0)
        if isinstance(recorder, KnowsStreamVersions):
            assert [recorder.stream_version(s) for s in ("a", "b", "c")] == [3, 1, 0]

    def test_read_all_is_in_position_order_and_starts_after(self, recorder: Any) -> None:
        for i in range(5):
            append(recorder, f"s{i % 2}", stream_version(recorder, f"s{i % 2}"), [new_event(i)])
        assert [e.position for e in recorder.read_all()] == [1, 2, 3, 4, 5]
        assert [e.payload["n"] for e in recorder.read_all(after=3)] == [3, 4]
        assert list(recorder.read_all(after=5)) == []
        assert recorder.head().position == 5

    def test_positions_are_global_gapless_and_versions_per_stream(self, recorder: Any) -> None:
        append(recorder, "a", 0, [new_event(0), new_event(1)])
        append(recorder, "b", 0, [new_event(2)])
        append(recorder, "a", 2, [new_event(3)])
        rows = [(e.position, e.stream, e.version) for e in recorder.read_all()]
        assert rows == [(1, "a", 1), (2, "a", 2), (3, "b", 1), (4, "a", 3)]

    def test_read_back_equals_what_append_returned(self, recorder: Any) -> None:
        stored = append(recorder, "s", 0, [new_event(1, nested={"ü": [1, 2.5, None, True]}, name="Chest — A")])
        assert list(recorder.read_all()) == stored
        assert recorder.read_stream("s") == stored

    def test_an_empty_batch_writes_nothing(self, recorder: Any) -> None:
        assert append(recorder, "s", 0, []) == []
        assert recorder.head().position == 0

    # --- optimistic concurrency ---

    @pytest.mark.parametrize("expected", [0, 2, 5])
    def test_append_at_a_wrong_version_conflicts_and_writes_nothing(
        self, recorder: Any, expected: int
    ) -> None:
        append(recorder, "s", 0, [new_event(1)])
        with pytest.raises(ConcurrencyError):
            append(recorder, "s", expected, [new_event(2)])
        assert [e.payload["n"] for e in recorder.read_all()] == [1]
        assert stream_version(recorder, "s") == 1

    def test_a_conflict_in_one_stream_does_not_affect_another(self, recorder: Any) -> None:
        append(recorder, "a", 0, [new_event(1)])
        with pytest.raises(ConcurrencyError):
            append(recorder, "a", 0, [new_event(2)])
        append(recorder, "b", 0, [new_event(3)])
        assert [(e.position, e.stream) for e in recorder.read_all()] == [(1, "a"), (2, "b")]

    def test_concurrent_appends_at_the_same_version_exactly_one_wins(self, recorder: Any) -> None:
        writers = 8
        outcomes = race_threads(lambda i: append(recorder, "race", 0, [new_event(i)]), writers)
        assert sorted(outcomes) == ["conflict"] * (writers - 1) + ["ok"]
        assert stream_version(recorder, "race") == 1
        assert verify_rows(recorder.read_raw()).ok

    # --- hash chain ---

    def test_the_hash_chain_links_every_event(self, recorder: Any) -> None:
        append(recorder, "a", 0, [new_event(1), new_event(2)])
        append(recorder, "b", 0, [new_event(3, text="naïve ☃")])
        prev = GENESIS_HASH
        for event in recorder.read_all():
            assert event.prev_hash == prev
            assert event.hash == event_hash(prev, event.as_row())
            prev = event.hash
        report = verify_rows(recorder.read_raw())
        assert report.ok and report.checked == 3

    def test_read_raw_gives_rows_as_stored(self, recorder: Any) -> None:
        append(recorder, "s", 0, [new_event(1, b=2, a=1)])
        (row,) = list(recorder.read_raw())
        assert row["payload"] == '{"a":1,"b":2,"n":1}'
        assert set(row) == {
            "position",
            "stream",
            "version",
            "type",
            "schema_version",
            "recorded_at",
            "actor",
            "payload",
            "prev_hash",
            "hash",
        }

    # --- atomicity ---

    def test_apply_sees_each_stored_event_in_the_same_transaction(self, recorder: Any) -> None:
        seen: list[StoredEvent] = []
        stored = append(recorder, "s", 0, [new_event(1), new_event(2)], lambda _session, e: seen.append(e))
        assert seen == stored

    def test_a_failing_apply_rolls_the_whole_batch_back(self, recorder: Any) -> None:
        append(recorder, "s", 0, [new_event(1)])

        def apply(_session: Any, event: StoredEvent) -> None:
            if event.payload["n"] == 3:
                raise RuntimeError("projection failed")

        with pytest.raises(RuntimeError, match="projection failed"):
            append(recorder, "s", 1, [new_event(2), new_event(3)], apply)
        assert [e.payload["n"] for e in recorder.read_all()] == [1]
        assert stream_version(recorder, "s") == 1
        assert recorder.head().position == 1
        # The slot is free again: the next append takes position 2 and the chain stays intact.
        (again,) = append(recorder, "s", 1, [new_event(4)])
        assert again.position == 2 and again.version == 2
        assert verify_rows(recorder.read_raw()).ok

    # --- several streams at once ---

    def test_several_streams_are_appended_together(self, recorder: Any) -> None:
        append(recorder, "a", 0, [new_event(1)])
        stored = recorder.append([StreamAppend("a", 1, [new_event(2)]), StreamAppend("b", 0, [new_event(3)])])
        assert [(e.stream, e.version, e.position) for e in stored] == [("a", 2, 2), ("b", 1, 3)]
        assert verify_rows(recorder.read_raw()).ok

    def test_one_stale_stream_stores_none_of_the_streams(self, recorder: Any) -> None:
        append(recorder, "a", 0, [new_event(1)])
        with pytest.raises(ConcurrencyError):
            recorder.append([StreamAppend("b", 0, [new_event(2)]), StreamAppend("a", 0, [new_event(3)])])
        assert [e.stream for e in recorder.read_all()] == ["a"]
        assert stream_version(recorder, "b") == 0

    def test_a_stream_without_events_is_still_checked_at_its_version(self, recorder: Any) -> None:
        """A decision read from a stream it does not write (a benchmark's policy) guards it with an empty batch."""
        append(recorder, "policy", 0, [new_event(1)])
        with pytest.raises(ConcurrencyError):
            recorder.append([StreamAppend("a", 0, [new_event(2)]), StreamAppend("policy", 0, [])])
        assert [e.stream for e in recorder.read_all()] == ["policy"]
        stored = recorder.append([StreamAppend("a", 0, [new_event(3)]), StreamAppend("policy", 1, [])])
        assert [(e.stream, e.version) for e in stored] == [("a", 1)]

    # --- the head ---

    def test_the_head_is_the_last_position_and_hash(self, recorder: Any) -> None:
        assert recorder.head() == LogHead()
        stored = append(recorder, "s", 0, [new_event(1), new_event(2)])
        assert recorder.head() == LogHead(stored[-1].position, stored[-1].hash)

    # --- sessions for projections ---

    def test_apply_receives_the_transactions_session(self, recorder: Any) -> None:
        sessions: list[Any] = []
        append(recorder, "s", 0, [new_event(1)], lambda session, _e: sessions.append(session))
        assert len(sessions) == 1 and sessions[0] is not None
        with recorder.reading() as reading:
            assert reading is not None
        with recorder.transaction() as writing:
            assert writing is not None
        assert recorder.scratch() is not None
