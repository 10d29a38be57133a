"""Hypothesis strategies for every registered event class, built from the attrs fields' type hints."""

from __future__ import annotations

import json
import types
import typing
from typing import Any

import attrs
from hypothesis import strategies as st

from medperf_core.domain.events import EVENT_CLASSES, DomainEvent, HistoryImported
from medperf_core.store.canonical import canonical_json

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)

_SCALARS: dict[Any, st.SearchStrategy[Any]] = {
    int: st.integers(min_value=-(2**63), max_value=2**63 - 1),
    str: st.text(max_size=30),
    bool: st.booleans(),
    float: st.floats(allow_nan=False, allow_infinity=False),
    Any: json_values,
}


def for_hint(hint: Any) -> st.SearchStrategy[Any]:
    if hint in _SCALARS:
        return _SCALARS[hint]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*[st.none() if a is type(None) else for_hint(a) for a in args])
    if origin is dict:
        return st.dictionaries(st.text(max_size=10), for_hint(args[1]), max_size=4)
    if origin in (list, tuple):
        return st.lists(for_hint(args[0]), max_size=4)
    raise TypeError(f"no strategy for {hint!r}: extend tests/_event_strategies.py")


def events_of(cls: type[DomainEvent]) -> st.SearchStrategy[DomainEvent]:
    if cls is HistoryImported:  # it carries another event: one drawn from the other types
        return _plain_events.flatmap(_imported)
    hints = typing.get_type_hints(cls)
    return st.builds(cls, **{f.name: for_hint(hints[f.name]) for f in attrs.fields(cls)})


def _imported(inner: DomainEvent) -> st.SearchStrategy[DomainEvent]:
    payload = json.loads(canonical_json(inner.to_payload()))
    return st.builds(HistoryImported, origin=for_hint(dict[str, Any]), event_type=st.just(inner.type),
                     event_schema_version=st.just(inner.schema_version), payload=st.just(payload))


_plain_events: st.SearchStrategy[DomainEvent] = st.sampled_from(
    sorted(n for n, c in EVENT_CLASSES.items() if c is not HistoryImported)
).flatmap(lambda name: events_of(EVENT_CLASSES[name]))

any_event: st.SearchStrategy[DomainEvent] = st.sampled_from(sorted(EVENT_CLASSES)).flatmap(
    lambda name: events_of(EVENT_CLASSES[name])
)
