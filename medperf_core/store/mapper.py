"""Domain event ⇄ storable record, with upcasting of old schema versions."""

from __future__ import annotations

import json
import time
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


# The current second and its text: formatting a date was a sixth of mapping an event.
_second: tuple[int, str] = (-1, "")


def utc_now() -> str:
    """The time now in UTC as the log records it: `2025-01-15T09:30:00.000000Z` (microseconds, floored)."""
    global _second
    seconds, micros = divmod(time.time_ns() // 1000, 1_000_000)
    second = _second  # one tuple, replaced whole: threads never see one second's text with another's number
    if second[0] != seconds:
        second = _second = (seconds, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)))
    return f"{second[1]}.{micros:06d}Z"


def to_new_event(event: DomainEvent, actor: str, recorded_at: str | None = None) -> NewEvent:
    raw, text = _encoded_payload(event)
    payload, text = read_back(raw, text)
    return NewEvent(
        type=event.type,
        schema_version=event.schema_version,
        payload=payload,
        actor=actor,
        recorded_at=recorded_at or utc_now(),
        payload_json=text,  # the recorder stores and hashes it: one encoding per event
    )


def read_back(raw: dict[str, Any], text: str) -> tuple[dict[str, Any], str]:
    """The payload exactly as it will be read back from the log (`json.loads(text)`, `text` being the canonical JSON
    of `raw`: tuples become lists, subclasses their JSON type, keys strings), and the canonical JSON of that."""
    try:
        return _plain_copy(raw), text  # read back, the same: the same canonical text
    except _NotPlain:
        payload = json.loads(text)
        return payload, canonical_json(payload)  # keys json turned into strings may sort otherwise


class _NotPlain(Exception):
    """A value that json.loads would not give back as it is."""


_PLAIN_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plain_copy(value: Any) -> Any:
    """A copy of `value` in fresh dicts (keys sorted) and lists, when it holds only str keys and values of JSON's own
    types: what json.loads reads back from its canonical text, built without parsing text. Else _NotPlain."""
    kind = type(value)
    if kind is dict:
        for key in value:
            if type(key) is not str:
                raise _NotPlain
        # in the canonical text's order, as json.loads gives it (its keys are unique: items never compare)
        return {key: item if type(item) in _PLAIN_SCALARS else _plain_copy(item)
                for key, item in sorted(value.items())}
    if kind is list or kind is tuple:
        return [item if type(item) in _PLAIN_SCALARS else _plain_copy(item) for item in value]
    if kind in _PLAIN_SCALARS:
        return value
    raise _NotPlain


def _encoded_payload(event: DomainEvent) -> tuple[dict[str, Any], str]:
    """What `event.to_payload()` gives, as far as JSON can tell, and its canonical text: the fields as they are when
    JSON can encode them so (attrs' deep copy only turns nested attrs instances and sets into what it can)."""
    cls = type(event)
    if cls.to_payload is DomainEvent.to_payload:
        names = _FIELD_NAMES.get(cls)
        if names is None:
            names = _FIELD_NAMES[cls] = tuple(f.name for f in attrs.fields(cls))
        fields = {name: getattr(event, name) for name in names}
        try:
            return fields, canonical_json(fields)
        except TypeError:
            pass
    payload = event.to_payload()
    return payload, canonical_json(payload)


_FIELD_NAMES: dict[type[DomainEvent], tuple[str, ...]] = {}

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
