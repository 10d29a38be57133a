"""Shared pieces of the server's use cases: the caller, field checking, id allocation, reads and appends."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from medperf_core.domain.events import DomainEvent
from medperf_core.errors import ConcurrencyError, ConflictError, NotFoundError, UserError
from medperf_core.server.projections import BOOL_COLUMNS, JSON_COLUMNS
from medperf_core.server.settings import decision_delay
from medperf_core.store import EventStore

Json = dict[str, Any]
STATES = ("DEVELOPMENT", "OPERATION")
ID_RETRIES = 8


class FieldError(UserError):
    """A request field is wrong; rendered as `{field: [message]}`."""

    def __init__(self, field: str, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.field = field


class FieldConflictError(ConflictError):
    """A unique field clashes with an existing entity; rendered as `{field: [message]}` with 409."""

    def __init__(self, field: str, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.field = field


@attrs.frozen(kw_only=True)
class Caller:
    """The authenticated user a request acts as."""

    id: int
    email: str
    is_staff: bool = False

    @property
    def actor(self) -> str:
        return self.email


@attrs.frozen
class Page:
    count: int
    results: list[Json]


_CHECKS: dict[type, tuple[str, Callable[[Any], bool]]] = {
    str: ("a string", lambda v: isinstance(v, str)),
    int: ("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    bool: ("true or false", lambda v: isinstance(v, bool)),
    dict: ("a JSON object", lambda v: isinstance(v, dict)),
}


def clean(body: Mapping[str, Any], spec: Mapping[str, type], required: Sequence[str] = ()) -> Json:
    """Keep the writable fields of `spec` (unknown and read-only fields, and nulls, are ignored); check types."""
    if not isinstance(body, Mapping):
        raise UserError("the request body must be a JSON object")
    out: Json = {}
    for key, kind in spec.items():
        value = body.get(key)
        if value is None:
            continue
        if kind is int and isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        label, ok = _CHECKS[kind]
        if not ok(value):
            raise FieldError(key, f"{key}: must be {label}, got {json.dumps(value)[:60]}")
        out[key] = value
    for key in required:
        if key not in out or out[key] == "":
            raise FieldError(key, f"{key}: this field is required")
    if "state" in out and out["state"] not in STATES:
        raise FieldError("state", f"state: must be one of {', '.join(STATES)}")
    return out


def decode(row: Mapping[str, Any]) -> Json:
    out: Json = {}
    for key, value in row.items():
        if key in JSON_COLUMNS and isinstance(value, str):
            out[key] = json.loads(value)
        elif key in BOOL_COLUMNS and value is not None:
            out[key] = bool(value)
        else:
            out[key] = value
    return out


def _json(value: Any) -> Any:
    return {} if value == "{}" else json.loads(value) if isinstance(value, str) else value


def _bool(value: Any) -> Any:
    return value if value is None else bool(value)


def _decode_rows(names: Sequence[str], found: Sequence[Sequence[Any]]) -> list[Json]:
    """Rows as API dicts; the per-column decoders are chosen once per query (lists of 1,000 rows stay fast)."""
    json_at = [i for i, n in enumerate(names) if n in JSON_COLUMNS]
    bool_at = [i for i, n in enumerate(names) if n in BOOL_COLUMNS]
    out = []
    for raw in found:
        values = list(raw)
        for i in json_at:
            values[i] = _json(values[i])
        for i in bool_at:
            values[i] = _bool(values[i])
        out.append(dict(zip(names, values, strict=True)))
    return out


def changed(row: Mapping[str, Any], wanted: Mapping[str, Any]) -> Json:
    """The fields of `wanted` whose value differs from the row's (clients resend whole objects)."""
    return {k: v for k, v in wanted.items() if row.get(k) != v}


class ServiceBase:
    """Reads from the read model and appends events, serialised by the store's lock."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    # --- reads ----------------------------------------------------------------------------------------------

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[Json]:
        with self.store.lock:
            cursor = self.store.db.execute(sql, list(args))
            names = [d[0] for d in cursor.description]
            found = cursor.fetchall()
        return _decode_rows(names, found)

    def row(self, sql: str, args: Sequence[Any] = ()) -> Json | None:
        found = self.rows(sql, args)
        return found[0] if found else None

    def by_id(self, table: str, what: str, entity_id: int) -> Json:
        found = self.row(f"SELECT * FROM [{table}] WHERE id = ?", [entity_id])
        if found is None:
            raise NotFoundError(f"{what} {entity_id} not found")
        return found

    def page(self, table: str, where: str, args: Sequence[Any], limit: int | None, offset: int) -> Page:
        with self.store.lock:
            count = self.store.db.execute(
                f"SELECT COUNT(*) FROM [{table}] WHERE {where}", list(args)
            ).fetchone()[0]
            tail = " LIMIT ? OFFSET ?" if limit is not None else ""
            extra = [limit, offset] if limit is not None else []
            found = self.rows(f"SELECT * FROM [{table}] WHERE {where} ORDER BY id{tail}", [*args, *extra])
        return Page(int(count), found)

    # --- writes ---------------------------------------------------------------------------------------------

    def append(self, stream: str, events: Sequence[DomainEvent], caller: Caller | str) -> None:
        actor = caller if isinstance(caller, str) else caller.actor
        decision_delay()  # fault injection for the race tests (MEDPERF_SERVER_DECISION_DELAY), 0 s by default
        with self.store.lock:
            self.store.append(stream, self.store.stream_version(stream), events, actor)

    def create(
        self, table: str, prefix: str, build: Callable[[int], Sequence[DomainEvent]], caller: Caller | str
    ) -> int:
        """Allocate the next id (max + 1) and append at version 0; another writer taking it means try the next."""
        actor = caller if isinstance(caller, str) else caller.actor
        for _ in range(ID_RETRIES):
            with self.store.lock:
                next_id = int(
                    self.store.db.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM [{table}]").fetchone()[0]
                )
                try:
                    self.store.append(f"{prefix}-{next_id}", 0, build(next_id), actor)
                    return next_id
                except ConcurrencyError:
                    continue
                except sqlite3.IntegrityError as e:  # a unique column of the read model (e.g. a name)
                    raise ConflictError(f"{prefix} conflicts with an existing one: {e}") from e
        raise ConflictError(f"could not allocate a new {prefix} id", "the server is very busy: try again")
