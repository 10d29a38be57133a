"""The server's read model in SQL (SQLite and PostgreSQL): tables derived from `domain.resources`, updated from
events only."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from medperf_core.domain import events as ev
from medperf_core.domain.resources import (
    ASSOCIATIONS,
    BENCHMARK,
    CONTAINER,
    DATASET,
    RESULT,
    USER,
    FieldSpec,
    Resource,
    all_resources,
)
from medperf_core.store.records import StoredEvent
from medperf_core.store.sql.dialect import SQLITE, Dialect, Session
from medperf_core.store.sql.projection import SqlProjection

# Storage-only constraints that span several fields.
_EXTRA: dict[str, list[str]] = {
    "results": ["CREATE UNIQUE INDEX results_triple ON results (benchmark, model, dataset)"],
    "dataset_associations": [
        "CREATE INDEX dataset_associations_pair ON dataset_associations (dataset, benchmark)"
    ],
    "model_associations": [
        "CREATE INDEX model_associations_pair ON model_associations (model_mlcube, benchmark)"
    ],
}


def _column(f: FieldSpec, dialect: Dialect) -> str:
    sql_type = dialect.integer if f.kind in (int, bool) else "TEXT"
    if f.name == "id":
        return f'"id" {dialect.integer} PRIMARY KEY'
    constraints = "" if f.nullable else " NOT NULL"
    if f.unique:
        constraints += " UNIQUE"
    return f'"{f.name}" {sql_type}{constraints}'


def create_statements(resource: Resource, dialect: Dialect = SQLITE) -> list[str]:
    """The table and its indexes. An indexed field's index also holds the id, so that a filtered list is read in
    id order from the index (a page costs the same wherever it starts)."""
    columns = ", ".join(_column(f, dialect) for f in resource.fields)
    statements = [f'CREATE TABLE "{resource.table}" ({columns})']
    if dialect.id_sequence_sql:
        statements.append(dialect.id_sequence_sql.format(table=resource.table))
    statements += [
        f'CREATE INDEX "{resource.table}_{f.name}" ON "{resource.table}" ("{f.name}", id)'
        for f in resource.fields
        if f.indexed
    ]
    return statements + _EXTRA.get(resource.table, [])


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def encode(resource: Resource, row: Mapping[str, Any]) -> dict[str, Any]:
    """API values to column values: JSON objects as text, booleans as 0/1."""
    kinds = {f.name: f.kind for f in resource.fields}
    out: dict[str, Any] = {}
    for key, value in row.items():
        kind = kinds.get(key)
        if kind in (dict, list) and value is not None:
            out[key] = _dump(value)
        elif kind is bool and value is not None:
            out[key] = int(bool(value))
        else:
            out[key] = value
    return out


BY_ID = "id = ?"  # the condition of an update of one row, by its id


class Rows(Protocol):
    """Where the handlers below write: a database's tables (`SqlRows`). Values arrive encoded (`encode`): integers,
    text and None only."""

    def insert(self, resource: Resource, data: Mapping[str, Any]) -> None: ...

    def update(self, resource: Resource, where: str, args: Sequence[Any], data: Mapping[str, Any]) -> None:
        """Set `data` on the rows matching `where` (SQL with `?` marks for `args`; `BY_ID` for one row)."""

    def next_id(self, resource: Resource) -> int:
        """The id after the table's largest (tables whose ids no event carries)."""


class SqlRows:
    """The handlers' writes as SQL in a session of the database that holds the tables."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def insert(self, resource: Resource, data: Mapping[str, Any]) -> None:
        columns = ", ".join(f'"{c}"' for c in data)
        marks = ", ".join("?" for _ in data)
        self.session.execute(f'INSERT INTO "{resource.table}" ({columns}) VALUES ({marks})', list(data.values()))

    def update(self, resource: Resource, where: str, args: Sequence[Any], data: Mapping[str, Any]) -> None:
        sets = ", ".join(f'"{c}" = ?' for c in data)
        self.session.execute(f'UPDATE "{resource.table}" SET {sets} WHERE {where}', [*data.values(), *args])

    def next_id(self, resource: Resource) -> int:
        return int(self.session.execute(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{resource.table}"').fetchone()[0])


def _insert(db: Rows, resource: Resource, values: Mapping[str, Any], at: str) -> None:
    row = {**resource.defaults(), "created_at": at, "modified_at": at, **values}
    db.insert(resource, encode(resource, {k: v for k, v in row.items() if k in resource.names()}))


def _update(
    db: Rows, resource: Resource, where: str, args: list[Any], changes: Mapping[str, Any], at: str
) -> None:
    known = set(resource.names())
    if "modified_at" in known:
        changes = {**changes, "modified_at": at}
    data = {k: v for k, v in encode(resource, changes).items() if k in known and k != "id"}
    if data:
        db.update(resource, where, args, data)


def _latest_association(resource: Resource) -> str:
    entity = "dataset" if resource is ASSOCIATIONS["dataset"] else "model_mlcube"
    return f'id = (SELECT MAX(id) FROM "{resource.table}" WHERE "{entity}" = ? AND benchmark = ?)'


Handler = Callable[[Rows, Any, str], None]


def _user(db: Rows, e: ev.UserRegistered, at: str) -> None:
    _insert(db, USER, {"id": e.user_id, "email": e.email, "username": e.username, "first_name": e.first_name,
                       "last_name": e.last_name, "is_staff": e.is_staff}, at)


def _role(db: Rows, e: ev.UserRoleChanged, at: str) -> None:
    _update(db, USER, BY_ID, [e.user_id], {"is_staff": e.is_staff}, at)


def _container(db: Rows, e: ev.ContainerRegistered, at: str) -> None:
    _insert(db, CONTAINER, {
        "id": e.container_id, "name": e.name, "owner": e.owner, "mlcube_hash": e.config_hash,
        "parameters_hash": e.parameters_hash, "image_hash": e.image_hash,
        "additional_files_tarball_url": e.additional_files_url,
        "additional_files_tarball_hash": e.additional_files_hash, "state": e.state, "metadata": e.metadata,
        "container_config": e.container_config, "parameters_config": e.parameters_config,
    }, at)


def _benchmark(db: Rows, e: ev.BenchmarkRegistered, at: str) -> None:
    _insert(db, BENCHMARK, {
        "id": e.benchmark_id, "name": e.name, "owner": e.owner, "description": e.description,
        "docs_url": e.docs_url, "demo_dataset_tarball_url": e.demo_dataset_tarball_url,
        "demo_dataset_tarball_hash": e.demo_dataset_tarball_hash,
        "data_preparation_mlcube": e.data_preparation_mlcube, "reference_model_mlcube": e.reference_model_mlcube,
        "data_evaluator_mlcube": e.data_evaluator_mlcube, "metadata": e.metadata, "state": e.state,
    }, at)


def _dataset(db: Rows, e: ev.DatasetRegistered, at: str) -> None:
    _insert(db, DATASET, {
        "id": e.dataset_id, "name": e.name, "owner": e.owner, "description": e.description,
        "location": e.location, "input_data_hash": e.input_data_hash, "generated_uid": e.generated_uid,
        "data_preparation_mlcube": e.data_preparation_mlcube, "submitted_as_prepared": e.submitted_as_prepared,
    }, at)


def _changes(resource: Resource, key: str) -> Handler:
    def handle(db: Rows, e: Any, at: str) -> None:
        _update(db, resource, BY_ID, [getattr(e, key)], e.changes, at)

    return handle


def _operational(resource: Resource, key: str) -> Handler:
    def handle(db: Rows, e: Any, at: str) -> None:
        _update(db, resource, BY_ID, [getattr(e, key)], {"state": "OPERATION"}, at)

    return handle


def _dataset_operational(db: Rows, e: ev.DatasetMarkedOperational, at: str) -> None:
    _update(db, DATASET, BY_ID, [e.dataset_id], {
        "state": "OPERATION", "input_data_hash": e.input_data_hash, "generated_uid": e.generated_uid,
        "generated_metadata": e.statistics,
    }, at)


def _report(db: Rows, e: ev.DatasetReportUpdated, at: str) -> None:
    _update(db, DATASET, BY_ID, [e.dataset_id], {"report": e.report}, at)


def _benchmark_decided(status: str | None) -> Handler:
    """An admin's decision on a benchmark; `None`: the legacy `benchmark.approval_changed`, which carries it."""

    def handle(db: Rows, e: Any, at: str) -> None:
        decided = status or e.approval_status
        approved_at = at if decided == "APPROVED" else None
        _update(db, BENCHMARK, BY_ID, [e.benchmark_id],
                {"approval_status": decided, "approved_at": approved_at}, at)

    return handle


def _policy(db: Rows, e: ev.BenchmarkAssociationPolicyChanged, at: str) -> None:
    _update(db, BENCHMARK, BY_ID, [e.benchmark_id], {
        "dataset_auto_approval_mode": e.dataset_mode, "dataset_auto_approval_allow_list": e.dataset_allow_list,
        "model_auto_approval_mode": e.model_mode, "model_auto_approval_allow_list": e.model_allow_list,
        "association_policy_version": e.policy_version,
    }, at)


def _requested(db: Rows, e: ev.AssociationRequested, at: str) -> None:
    resource = ASSOCIATIONS[e.kind]
    next_id = db.next_id(resource)
    entity = "dataset" if e.kind == "dataset" else "model_mlcube"
    row: dict[str, Any] = {"id": next_id, entity: e.entity, "benchmark": e.benchmark,
                           "initiated_by": e.initiated_by, "metadata": e.metadata}
    if e.kind == "model":
        row["priority"] = e.priority
    _insert(db, resource, row, at)


def _decided(status: str) -> Handler:
    def handle(db: Rows, e: Any, at: str) -> None:
        resource = ASSOCIATIONS[e.kind]
        approved_at = at if status == "APPROVED" else None
        _update(db, resource, _latest_association(resource), [e.entity, e.benchmark],
                {"approval_status": status, "approved_at": approved_at}, at)

    return handle


def _priority(db: Rows, e: ev.AssociationPrioritySet, at: str) -> None:
    resource = ASSOCIATIONS[e.kind]
    _update(db, resource, _latest_association(resource), [e.entity, e.benchmark], {"priority": e.priority}, at)


def _result(db: Rows, e: ev.ResultSubmitted, at: str) -> None:
    _insert(db, RESULT, {
        "id": e.result_id, "name": e.uid or f"b{e.benchmark}m{e.model}d{e.dataset}", "owner": e.owner,
        "benchmark": e.benchmark, "model": e.model, "dataset": e.dataset, "results": e.metrics,
        "metadata": e.metadata,
    }, at)


_HANDLERS: dict[type[ev.DomainEvent], Handler] = {
    ev.UserRegistered: _user,
    ev.UserRoleChanged: _role,
    ev.ContainerRegistered: _container,
    ev.ContainerUpdated: _changes(CONTAINER, "container_id"),
    ev.ContainerMarkedOperational: _operational(CONTAINER, "container_id"),
    ev.BenchmarkRegistered: _benchmark,
    ev.BenchmarkUpdated: _changes(BENCHMARK, "benchmark_id"),
    ev.BenchmarkMarkedOperational: _operational(BENCHMARK, "benchmark_id"),
    ev.BenchmarkApproved: _benchmark_decided("APPROVED"),
    ev.BenchmarkRejected: _benchmark_decided("REJECTED"),
    ev.BenchmarkApprovalChanged: _benchmark_decided(None),
    ev.BenchmarkAssociationPolicyChanged: _policy,
    ev.DatasetRegistered: _dataset,
    ev.DatasetUpdated: _changes(DATASET, "dataset_id"),
    ev.DatasetMarkedOperational: _dataset_operational,
    ev.DatasetReportUpdated: _report,
    ev.AssociationRequested: _requested,
    ev.AssociationApproved: _decided("APPROVED"),
    ev.AssociationApprovedByPolicy: _decided("APPROVED"),
    ev.AssociationRejected: _decided("REJECTED"),
    ev.AssociationPrioritySet: _priority,
    ev.ResultSubmitted: _result,
}


class ServerTables(SqlProjection[Session]):
    """Every server table; times come from `stored.recorded_at` only. The same SQL for every dialect."""

    name = "server"
    version = 5  # 4: benchmarks.primary_metric; 5: indexes (field, id), shared with PostgreSQL
    tables: Sequence[str] = tuple(r.table for r in all_resources())

    def schema(self) -> list[str]:
        return [s for r in all_resources() for s in create_statements(r, self.dialect)]

    def apply(self, session: Session, event: ev.DomainEvent, stored: StoredEvent) -> None:
        self.apply_to(SqlRows(session), event, stored)

    def apply_to(self, rows: Rows, event: ev.DomainEvent, stored: StoredEvent) -> None:
        """The event's writes, to `rows` (`apply`: to the tables of a session)."""
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(rows, event, stored.recorded_at)
