"""Domain event ⇄ storable record, with upcasting of old schema versions."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import attrs

from medperf_core.domain.events import DomainEvent, event_class
from medperf_core.errors import IntegrityError
from medperf_core.store.canonical import canonical_json
from medperf_core.store.records import NewEvent, StoredEvent

# (type, from_version) → function turning a payload of that version into the next version's payload.
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def to_new_event(event: DomainEvent, actor: str, recorded_at: str | None = None) -> NewEvent:
    # A round trip through canonical JSON makes the payload exactly what will be read back (tuples → lists, …).
    payload = json.loads(canonical_json(event.to_payload()))
    return NewEvent(
        type=event.type,
        schema_version=event.schema_version,
        payload=payload,
        actor=actor,
        recorded_at=recorded_at or utc_now(),
    )


def to_domain_event(stored: StoredEvent | NewEvent) -> DomainEvent:
    return unwrap(_to_domain_event(stored.type, stored.schema_version, stored.payload))


def unwrap(event: DomainEvent) -> DomainEvent:
    """An imported event (`history.imported`) stands for the event it carries; any other event for itself."""
    from medperf_core.domain.events import HistoryImported

    if isinstance(event, HistoryImported):
        return unwrap(_to_domain_event(event.event_type, event.event_schema_version, event.payload))
    return event


def _to_domain_event(type_name: str, schema_version: int, stored_payload: dict[str, Any]) -> DomainEvent:
    cls = event_class(type_name)
    payload = dict(stored_payload)
    version = schema_version
    while version < cls.schema_version:
        upcast = UPCASTERS.get((type_name, version))
        if upcast is None:
            raise IntegrityError(f"no upcaster for {type_name} v{version}")
        payload = upcast(payload)
        version += 1
    if version != cls.schema_version:
        raise IntegrityError(
            f"event {type_name} has schema version {version}, newer than this medperf knows ({cls.schema_version})",
            "upgrade medperf",
        )
    known = {f.name for f in attrs.fields(cls)}
    try:
        return cls(**{k: v for k, v in payload.items() if k in known})
    except TypeError as e:
        raise IntegrityError(f"event {type_name} does not match its class: {e}") from e
