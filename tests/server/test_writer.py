"""The server's write path: decide on the loaded state, append at its version, decide again when it moved."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from medperf_core.domain.events import DatasetReportUpdated, DomainEvent
from medperf_core.errors import ConflictError, InvalidTransitionError
from medperf_core.server.services.writer import Writer
from medperf_core.server.settings import FaultInjection
from medperf_core.server.storage import open_server_storage


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[Writer]:
    storage = open_server_storage(tmp_path / "server")
    yield Writer(storage.store, storage.reads)
    storage.store.close()


def report(n: int) -> DomainEvent:
    return DatasetReportUpdated(dataset_id=1, report={"n": n})


def test_a_decision_is_appended_at_the_version_it_was_made_on(writer: Writer) -> None:
    seen: list[int] = []

    def decide(events: list[DomainEvent]) -> list[DomainEvent]:
        seen.append(len(events))
        return [report(len(events))]

    writer.decide("dataset-1", decide, "a@example.com")
    writer.decide("dataset-1", decide, "a@example.com")
    events, version = writer.store.load("dataset-1")
    assert version == 2 and seen == [0, 1]
    assert [e.report for e in events] == [{"n": 0}, {"n": 1}]  # type: ignore[attr-defined]


def test_a_stream_that_moved_meanwhile_is_decided_again_on_the_new_state(writer: Writer) -> None:
    calls: list[int] = []

    def decide(events: list[DomainEvent]) -> list[DomainEvent]:
        calls.append(len(events))
        if len(calls) == 1:  # another writer appends between this decision and its append
            writer.store.append("dataset-1", 0, [report(99)], "b@example.com")
        return [report(len(events))]

    writer.decide("dataset-1", decide, "a@example.com")
    events, _ = writer.store.load("dataset-1")
    assert calls == [0, 1]
    assert [e.report["n"] for e in events] == [99, 1]  # type: ignore[attr-defined]


def test_a_decision_that_no_longer_holds_is_a_conflict_saying_what_changed(writer: Writer) -> None:
    def decide(events: list[DomainEvent]) -> list[DomainEvent]:
        if events:
            raise InvalidTransitionError("the association is already approved")
        writer.store.append("dataset-1", 0, [report(1)], "b@example.com")
        return [report(2)]

    with pytest.raises(ConflictError) as refused:
        writer.decide("dataset-1", decide, "a@example.com")
    assert "changed while this request was decided" in refused.value.message
    assert "already approved" in refused.value.message
    assert writer.store.load("dataset-1")[1] == 1


def test_a_first_refusal_is_not_dressed_as_a_conflict(writer: Writer) -> None:
    def decide(_events: list[DomainEvent]) -> list[DomainEvent]:
        raise InvalidTransitionError("not prepared yet")

    with pytest.raises(InvalidTransitionError):
        writer.decide("dataset-1", decide, "a@example.com")


def test_a_stream_that_keeps_moving_gives_up_after_its_time(writer: Writer) -> None:
    calls: list[int] = []
    writer.retry_for = 0.3

    def decide(events: list[DomainEvent]) -> list[DomainEvent]:
        calls.append(1)
        writer.store.append("dataset-1", len(events), [report(len(events))], "b@example.com")
        return [report(-1)]

    started = time.monotonic()
    with pytest.raises(ConflictError, match="kept changing"):
        writer.decide("dataset-1", decide, "a@example.com")
    assert 0.3 <= time.monotonic() - started < 2
    assert len(calls) > 3  # made again on each new state, with short pauses between
    assert all(e.report["n"] != -1 for e in writer.store.load("dataset-1")[0])  # type: ignore[attr-defined]


def test_several_streams_are_decided_and_appended_together(writer: Writer) -> None:
    def decide(loaded: dict[str, list[DomainEvent]]) -> dict[str, list[DomainEvent]]:
        if not loaded["dataset-2"]:  # the first attempt: another writer takes dataset-2 meanwhile
            writer.store.append("dataset-2", 0, [report(7)], "b@example.com")
        return {s: [report(len(events))] for s, events in loaded.items()}

    writer.decide_many(["dataset-1", "dataset-2"], decide, "a@example.com")
    assert writer.store.load("dataset-1")[1] == 1  # appended once, on the second attempt, not twice
    assert [e.report["n"] for e in writer.store.load("dataset-2")[0]] == [7, 1]  # type: ignore[attr-defined]


def test_the_decision_delay_holds_each_attempt_between_deciding_and_appending(writer: Writer) -> None:
    pauses: list[int] = []

    class Recorded(FaultInjection):
        def after_decision(self) -> None:
            pauses.append(writer.store.version("dataset-1"))

    writer.faults = Recorded()
    writer.decide("dataset-1", lambda events: [report(0)], "a@example.com")
    assert pauses == [0]  # after the decision, before its append


def test_a_decision_on_the_view_loads_the_version_alone_and_is_decided_again_when_the_stream_moved(
    writer: Writer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        writer.store.append("dataset-1", n, [report(n)], "b@example.com")

    def no_events(stream: str) -> Any:
        raise AssertionError(f"{stream}'s events were read")

    monkeypatch.setattr(writer.store.recorder, "read_stream", no_events)
    calls: list[int] = []

    def decide() -> list[DomainEvent]:
        calls.append(writer.store.version("dataset-1"))
        if len(calls) == 1:  # another writer appends after the version was loaded, before this append
            writer.store.append("dataset-1", 3, [report(99)], "b@example.com")
        return [report(len(calls))]

    writer.decide_on_view("dataset-1", decide, "a@example.com")
    assert calls == [3, 4]  # decided again on the stream's new version
    monkeypatch.undo()
    assert writer.store.version("dataset-1") == 5
    assert [e.report["n"] for e in writer.store.load("dataset-1")[0]] == [0, 1, 2, 99, 2]  # type: ignore[attr-defined]
