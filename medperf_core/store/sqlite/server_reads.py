"""The server's read model queries over SQLite (`ServerReadModel`); the only place the server's SQL lives."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from medperf_core.domain.resources import ASSOCIATIONS, DATASET, RESULT, Resource
from medperf_core.server.read_model import Json, Page
from medperf_core.store.sqlite.recorder import SQLiteRecorder

# A dataset is visible to its owner and to whoever owns a benchmark it asked to join (any association row).
_DATASET_VISIBLE = (
    "(owner = ? OR id IN (SELECT a.dataset FROM dataset_associations a JOIN benchmarks b "
    "ON a.benchmark = b.id WHERE b.owner = ?))"
)
# A result is visible to its submitter and to the benchmark's owner.
_RESULT_VISIBLE = "(owner = ? OR benchmark IN (SELECT id FROM benchmarks WHERE owner = ?))"


def _decoder(resource: Resource, names: Sequence[str]) -> Any:
    kinds = {f.name: f.kind for f in resource.fields}
    json_at = [i for i, n in enumerate(names) if kinds.get(n) in (dict, list)]
    bool_at = [i for i, n in enumerate(names) if kinds.get(n) is bool]
    wire = set(resource.wire_names())
    keep = [i for i, n in enumerate(names) if n in wire]

    def decode(raw: Sequence[Any]) -> Json:
        values = list(raw)
        for i in json_at:
            if isinstance(values[i], str):
                values[i] = json.loads(values[i])
        for i in bool_at:
            if values[i] is not None:
                values[i] = bool(values[i])
        return {names[i]: values[i] for i in keep}

    return decode


class SQLiteServerReads:
    """Lists of 1,000 rows stay fast: the per-column decoders are chosen once per query."""

    def __init__(self, recorder: SQLiteRecorder) -> None:
        self.recorder = recorder

    def _select(self, resource: Resource, where: str, args: Sequence[Any], tail: str = "") -> list[Json]:
        columns = ", ".join(f"[{n}]" for n in resource.names())
        with self.recorder.reading() as db:
            cursor = db.execute(f"SELECT {columns} FROM [{resource.table}] WHERE {where}{tail}", list(args))
            found = cursor.fetchall()
        decode = _decoder(resource, resource.names())
        return [decode(r) for r in found]

    def _page(self, resource: Resource, where: str, args: Sequence[Any], limit: int | None, offset: int) -> Page:
        tail = " ORDER BY id" + (" LIMIT ? OFFSET ?" if limit is not None else "")
        extra = [limit, offset] if limit is not None else []
        with self.recorder.reading() as db:
            count = db.execute(f"SELECT COUNT(*) FROM [{resource.table}] WHERE {where}", list(args)).fetchone()[0]
            rows = self._select(resource, where, [*args, *extra], tail)
        return Page(int(count), rows)

    def get(self, resource: Resource, entity_id: int) -> Json | None:
        found = self._select(resource, "id = ?", [entity_id])
        return found[0] if found else None

    def find(self, resource: Resource, **equal: Any) -> Json | None:
        known = set(resource.names())
        unknown = set(equal) - known
        if unknown:
            raise ValueError(f"{resource.name} has no field {', '.join(sorted(unknown))}")
        where = " AND ".join(f"[{k}] = ?" for k in equal) or "1"
        found = self._select(resource, where, list(equal.values()), " ORDER BY id DESC LIMIT 1")
        return found[0] if found else None

    def list(
        self, resource: Resource, limit: int | None, offset: int, *, owner: int | None = None,
        benchmark: int | None = None,
    ) -> Page:
        clauses, args = [], []
        if owner is not None:
            clauses.append("owner = ?")
            args.append(owner)
        if benchmark is not None:
            clauses.append("benchmark = ?")
            args.append(benchmark)
        return self._page(resource, " AND ".join(clauses) or "1", args, limit, offset)

    def next_id(self, resource: Resource) -> int:
        with self.recorder.reading() as db:
            return int(db.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM [{resource.table}]").fetchone()[0])

    def dataset_visible_to(self, user_id: int, dataset_id: int) -> Json | None:
        found = self._select(DATASET, f"id = ? AND {_DATASET_VISIBLE}", [dataset_id, user_id, user_id])
        return found[0] if found else None

    def datasets_visible_to(self, user_id: int, limit: int | None, offset: int) -> Page:
        return self._page(DATASET, _DATASET_VISIBLE, [user_id, user_id], limit, offset)

    def operational_dataset_with_uid(self, generated_uid: str, other_than: int) -> int | None:
        with self.recorder.reading() as db:
            row = db.execute(
                "SELECT id FROM datasets WHERE state = 'OPERATION' AND generated_uid = ? AND id != ?",
                [generated_uid, other_than],
            ).fetchone()
        return None if row is None else int(row[0])

    def associations_of_owner(self, kind: str, owner: int, limit: int | None, offset: int) -> Page:
        resource = ASSOCIATIONS[kind]
        column, owners = ("dataset", "datasets") if kind == "dataset" else ("model_mlcube", "containers")
        where = f"[{column}] IN (SELECT id FROM [{owners}] WHERE owner = ?)"
        return self._page(resource, where, [owner], limit, offset)

    def result_visible_to(self, user_id: int, result_id: int) -> Json | None:
        found = self._select(RESULT, f"id = ? AND {_RESULT_VISIBLE}", [result_id, user_id, user_id])
        return found[0] if found else None

    def results_visible_to(self, user_id: int, limit: int | None, offset: int) -> Page:
        return self._page(RESULT, _RESULT_VISIBLE, [user_id, user_id], limit, offset)

    def head_position(self) -> int:
        return self.recorder.head().position


