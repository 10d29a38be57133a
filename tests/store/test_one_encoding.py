"""One canonical encoding per appended event: the bytes hashed and stored are exactly those of the log format."""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
from pathlib import Path
from typing import Any

import pytest
from _event_strategies import events_of, json_values
from hypothesis import given, settings
from hypothesis import strategies as st

from medperf_core.domain.events import EVENT_CLASSES, ExecutionFinished
from medperf_core.store.canonical import canonical_json, chained_hash, event_hash
from medperf_core.store.mapper import read_back, to_new_event, utc_now
from medperf_core.store.sqlite import sqlite_store


class Color(enum.IntEnum):
    RED = 1


class Name(str):
    """A str subclass: JSON writes it as a string, and reads a plain str back."""


def exactly(value: Any) -> Any:
    """`value` with every type spelled out, so that 1, 1.0 and True (and a list and a tuple) compare unequal."""
    if isinstance(value, dict):
        return ("dict", [(type(k).__name__, k, exactly(v)) for k, v in value.items()])
    if isinstance(value, list | tuple):
        return (type(value).__name__, [exactly(v) for v in value])
    return (type(value).__name__, value)


def some_dicts(values: st.SearchStrategy[Any], max_size: int) -> st.SearchStrategy[dict[Any, Any]]:
    """Dicts whose keys json can sort against each other: all str (some a subclass), or all int."""
    return (st.dictionaries(st.text(max_size=6) | st.builds(Name, st.text(max_size=4)), values, max_size=max_size)
            | st.dictionaries(st.integers(-20, 20), values, max_size=max_size))


odd_scalars = st.one_of(st.just(Color.RED), st.builds(Name, st.text(max_size=5)), st.floats(-1e20, 1e20))
payloads = some_dicts(
    st.recursive(
        json_values | odd_scalars,
        lambda children: (st.lists(children, max_size=3) | st.lists(children, max_size=3).map(tuple)
                          | some_dicts(children, 3)),
        max_leaves=10,
    ),
    max_size=5,
)
texts = st.text(max_size=25)  # any code point JSON can carry: quotes, backslashes, control characters, non-ASCII
members = {
    "position": st.integers(1, 2**62), "stream": texts, "version": st.integers(1, 2**40), "type": texts,
    "schema_version": st.integers(1, 9), "recorded_at": texts, "actor": texts,
}


@settings(max_examples=300, deadline=None)
@given(row=st.fixed_dictionaries({**members, "payload": json_values}), prev=st.text("0123456789abcdef", min_size=64,
                                                                                     max_size=64))
def test_the_hash_from_the_payload_text_is_the_hash_of_the_row(row: dict[str, Any], prev: str) -> None:
    names = {"type": "event_type"}
    fields = {names.get(k, k): v for k, v in row.items() if k != "payload"}
    assert chained_hash(prev, payload_json=canonical_json(row["payload"]), **fields) == event_hash(prev, row)


@pytest.mark.parametrize("odd", [{"schema_version": True}, {"position": Color.RED}, {"actor": Name("a")},
                                 {"version": 2**70}])
def test_members_of_other_types_hash_as_the_row_does(odd: dict[str, Any]) -> None:
    row = {"position": 7, "stream": "s", "version": 2, "type": "t", "schema_version": 1, "recorded_at": "r",
           "actor": "a", "payload": {"x": [1, 2.5]}, **odd}
    fields = {("event_type" if k == "type" else k): v for k, v in row.items() if k != "payload"}
    assert chained_hash("0" * 64, payload_json='{"x":[1,2.5]}', **fields) == event_hash("0" * 64, row)


@settings(max_examples=400, deadline=None)
@given(raw=st.dictionaries(st.text(max_size=6), json_values, max_size=6) | payloads)
def test_read_back_is_what_json_reads_back_and_its_canonical_text(raw: dict[Any, Any]) -> None:
    text = canonical_json(raw)
    payload, stored_text = read_back(raw, text)
    expected = json.loads(text)
    assert exactly(payload) == exactly(expected)
    assert stored_text == canonical_json(expected)


@pytest.mark.parametrize("type_name", sorted(EVENT_CLASSES))
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_the_mapper_keeps_the_payload_and_text_it_always_stored(type_name: str, data: st.DataObject) -> None:
    event = data.draw(events_of(EVENT_CLASSES[type_name]))
    new = to_new_event(event, actor="a@example.com")
    before = json.loads(canonical_json(event.to_payload()))  # the mapper's round trip until now
    assert exactly(new.payload) == exactly(before)
    assert new.payload_json == canonical_json(before)


def test_int_keys_are_stored_as_read_back_and_the_chain_verifies(tmp_path: Path) -> None:
    """Keys json turns into strings sort as strings once read back: 10 before 2."""
    event = ExecutionFinished(uid="b1m2d3", benchmark=1, model=2, dataset=3, metrics={2: 0.5, 10: 0.25})  # type: ignore[dict-item]
    with sqlite_store(tmp_path / "events.db") as store:
        (stored,) = store.append("execution-b1m2d3", 0, [event], actor="a@example.com")
        (row,) = list(store.recorder.read_raw())
        assert store.verify().ok
    assert json.loads(row["payload"])["metrics"] == {"10": 0.25, "2": 0.5}
    assert row["payload"] == canonical_json(stored.payload)
    assert '"metrics":{"10":0.25,"2":0.5}' in row["payload"]
    assert stored.hash == event_hash(stored.prev_hash, stored.as_row())


def test_the_stored_payload_is_the_mappers_text_and_hashes_as_the_log_format_says(tmp_path: Path) -> None:
    events = [ExecutionFinished(uid=f"u{i}", benchmark=1, model=i, dataset=2, metrics={"auc": i / 3, "é": "—"})
              for i in range(5)]
    with sqlite_store(tmp_path / "events.db") as store:
        stored = store.append("execution-u", 0, events, actor="a@example.com")
        rows = list(store.recorder.read_raw())
    prev = "0" * 64
    for event, row in zip(stored, rows, strict=True):
        assert row["payload"] == canonical_json(event.payload)
        assert row["hash"] == event.hash == event_hash(prev, {**row, "payload": json.loads(row["payload"])})
        prev = row["hash"]


def test_utc_now_is_the_time_now_as_the_log_records_it() -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    recorded = utc_now()
    after = dt.datetime.now(dt.UTC)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", recorded)
    assert before <= dt.datetime.fromisoformat(recorded.replace("Z", "+00:00")) <= after
