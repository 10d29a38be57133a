"""Every event type survives the mapper and the store unchanged; old schema versions are upcast on read."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import attrs
import pytest
from _event_strategies import any_event, events_of
from hypothesis import given, settings
from hypothesis import strategies as st

from medperf_core.domain import events as domain_events
from medperf_core.domain.events import EVENT_CLASSES, DomainEvent
from medperf_core.errors import IntegrityError
from medperf_core.store.canonical import canonical_json
from medperf_core.store.mapper import UPCASTERS, to_domain_event, to_new_event, unwrap
from medperf_core.store.records import NewEvent
from medperf_core.store.sqlite import sqlite_store


@pytest.mark.parametrize("type_name", sorted(EVENT_CLASSES))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_every_event_type_round_trips_through_the_mapper(type_name: str, data: st.DataObject) -> None:
    event = data.draw(events_of(EVENT_CLASSES[type_name]))
    new = to_new_event(event, actor="a@example.com", recorded_at="2025-01-01T00:00:00.000000Z")
    assert (new.type, new.schema_version) == (type_name, EVENT_CLASSES[type_name].schema_version)
    assert json.loads(canonical_json(new.payload)) == new.payload
    # an imported event reads back as the event it carries (the stored row keeps saying it was imported)
    assert to_domain_event(new) == unwrap(event)


@settings(max_examples=40, deadline=None)
@given(st.lists(any_event, min_size=1, max_size=6))
def test_events_read_back_from_the_store_equal_the_appended_ones(events: list[DomainEvent]) -> None:
    with tempfile.TemporaryDirectory() as tmp, sqlite_store(Path(tmp) / "events.db") as store:
        store.append("s", 0, events, actor="a@example.com")
        loaded, version = store.load("s")
    assert loaded == [unwrap(e) for e in events]
    assert version == len(events)


def test_the_stored_type_is_the_type_string_never_a_class_path() -> None:
    new = to_new_event(domain_events.ContainerMarkedOperational(container_id=1), actor="x")
    assert new.type == "container.marked_operational"
    assert "medperf_core" not in canonical_json(attrs.asdict(new))


def test_unknown_types_and_newer_versions_are_refused() -> None:
    unknown = NewEvent(type="nope.happened", schema_version=1, payload={}, actor="x", recorded_at="t")
    with pytest.raises(IntegrityError, match="unknown event type"):
        to_domain_event(unknown)
    newer = NewEvent(
        type="container.marked_operational",
        schema_version=9,
        payload={"container_id": 1},
        actor="x",
        recorded_at="t",
    )
    with pytest.raises(IntegrityError, match="newer"):
        to_domain_event(newer)


@pytest.fixture
def versioned_event() -> Iterator[type[DomainEvent]]:
    """A throwaway event at schema version 3 with upcasters from v1 and v2, removed after the test."""

    @attrs.frozen(kw_only=True)
    class ThingRenamed(DomainEvent):
        type: ClassVar[str] = "test.thing_renamed"
        schema_version: ClassVar[int] = 3
        thing_id: int
        name: str
        reason: str

    def v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
        return {"thing_id": payload["id"], "name": payload["name"]}

    def v2_to_v3(payload: dict[str, Any]) -> dict[str, Any]:
        return {**payload, "reason": "unknown"}

    EVENT_CLASSES[ThingRenamed.type] = ThingRenamed
    UPCASTERS[(ThingRenamed.type, 1)] = v1_to_v2
    UPCASTERS[(ThingRenamed.type, 2)] = v2_to_v3
    try:
        yield ThingRenamed
    finally:
        del EVENT_CLASSES[ThingRenamed.type]
        del UPCASTERS[(ThingRenamed.type, 1)], UPCASTERS[(ThingRenamed.type, 2)]


def test_old_versions_are_upcast_step_by_step(versioned_event: type[DomainEvent]) -> None:
    old = NewEvent(
        type="test.thing_renamed",
        schema_version=1,
        payload={"id": 4, "name": "x"},
        actor="a",
        recorded_at="t",
    )
    assert to_domain_event(old) == versioned_event(thing_id=4, name="x", reason="unknown")  # type: ignore[call-arg]


def test_a_missing_upcaster_is_an_integrity_error(versioned_event: type[DomainEvent]) -> None:
    del UPCASTERS[("test.thing_renamed", 2)]
    try:
        old = NewEvent(
            type="test.thing_renamed",
            schema_version=2,
            payload={"thing_id": 4, "name": "x"},
            actor="a",
            recorded_at="t",
        )
        with pytest.raises(IntegrityError, match="no upcaster"):
            to_domain_event(old)
    finally:
        UPCASTERS[("test.thing_renamed", 2)] = lambda p: {**p, "reason": "unknown"}
