"""A new entity's row as the server's tables show it, projected in memory from the events of its create alone
(and an updated entity's, from its row before and the update's events).

A create answers with the entity it made. Read back from the shared database, that answer cost a round trip and,
under load, the wait for the GIL that follows every blocking call: on PostgreSQL with 50 connections, one worker,
`POST /datasets/` spent a third of its CPU around the read-back (benchmarks/server_load.py, see the README).

The row needs no database: its id is new, so no event but the create's own touched it. The server's own projection
handlers (`ServerTables.apply_to`, the code that writes the shared tables) write the create's events to a `NewRow`,
which keeps that one row as a dict (the writes to other tables cannot change it, and are dropped), and the row is
decoded as reads decode it. The tables hold only integers, text and NULL, which SQLite and PostgreSQL give back as
they were given, so the answer is the one a `GET` right after returns (tests/store/test_new_rows.py and
tests/server/test_create_answers.py check it on both). An event whose write the dict cannot follow (an update of
the row by another condition than its id) makes the answer None: the caller reads it instead.

An update is answered the same way from the entity as its decision read it: the append checked that the stream
was still at the version loaded before that read, and only the stream's own events write the row, so that read
is the row before and the update's events are its only change since.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from medperf_core.domain.events import DomainEvent
from medperf_core.domain.resources import Resource
from medperf_core.store.mapper import unwrap
from medperf_core.store.records import StoredEvent
from medperf_core.store.sql.server_tables import BY_ID, ServerTables

Json = dict[str, Any]
_TABLES = ServerTables()


class _CannotFollow(Exception):
    """A write to the row that only the database can resolve."""


class NewRow:
    """`Rows` that keep one row of one table (encoded values, as stored) and drop every other write."""

    def __init__(self, resource: Resource, entity_id: int, row: Mapping[str, Any] | None = None) -> None:
        self.resource = resource
        self.entity_id = entity_id
        self.row: dict[str, Any] | None = None if row is None else dict(row)

    def insert(self, resource: Resource, data: Mapping[str, Any]) -> None:
        if resource is self.resource and data.get("id") == self.entity_id:
            self.row = dict(data)

    def update(self, resource: Resource, where: str, args: Sequence[Any], data: Mapping[str, Any]) -> None:
        if resource is not self.resource:
            return
        if where != BY_ID:
            raise _CannotFollow(f"an update of {resource.table} where {where}")
        if self.row is not None and list(args) == [self.entity_id]:
            self.row.update(data)

    def next_id(self, resource: Resource) -> int:
        if resource is self.resource:
            raise _CannotFollow(f"an id of {resource.table} taken from the table")
        return 0  # a row of another table, dropped: its id does not matter


def project_row(
    resource: Resource,
    entity_id: int,
    events: Sequence[DomainEvent],
    stored: Sequence[StoredEvent],
    decode: Callable[[Sequence[Any]], Json],
    start: Mapping[str, Any] | None = None,
) -> Json | None:
    """Row `entity_id` of `resource` as `events` (stored as `stored`, in the same order) make it, decoded with
    `decode` from its columns in `resource.names()` order; None if they make no such row, or make it in a way only
    the database can resolve. `start`: the row as stored (encoded values) when the events update one that exists;
    it must be the row at the stream version the events were appended at, and have every column (one not shown
    on the wire cannot be known: None)."""
    if len(events) != len(stored):
        raise ValueError(f"{len(events)} events but {len(stored)} stored records: they are paired in order")
    if start is not None and set(start) != set(resource.names()):
        return None
    target = NewRow(resource, entity_id, start)
    try:
        for event, record in zip(events, stored, strict=True):
            _TABLES.apply_to(target, unwrap(event), record)
    except _CannotFollow:
        return None
    if target.row is None:
        return None
    return decode([target.row.get(name) for name in resource.names()])
