"""The server's read model queries (`ServerReadModel`), the same SQL for SQLite and PostgreSQL.

A page is read in two steps: the ids of the page from the index (`... ORDER BY id LIMIT ? OFFSET ?`, which reads
only ids), then those rows. So the last page of a long list costs about what the first does.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from medperf_core.domain.resources import ASSOCIATIONS, DATASET, RESULT, Resource
from medperf_core.store.server_read_model import Json, Page
from medperf_core.store.sql.dialect import SQLITE, AllocatesIds, Dialect, Session

# A dataset is visible to its owner and to whoever owns a benchmark it asked to join (any association row).
_DATASET_VISIBLE = (
    "(owner = ? OR id IN (SELECT a.dataset FROM dataset_associations a JOIN benchmarks b "
    "ON a.benchmark = b.id WHERE b.owner = ?))"
)
# A result is visible to its submitter and to the benchmark's owner.
_RESULT_VISIBLE = "(owner = ? OR benchmark IN (SELECT id FROM benchmarks WHERE owner = ?))"
_ALL = "1 = 1"
# Whether the wider rule can add anything: a caller who owns no benchmark with a dataset association (no benchmark)
# sees only their own rows, a filter the (owner, id) index answers without reading the table.
_JUDGES_DATASETS = (
    "SELECT 1 FROM benchmarks b WHERE b.owner = ? AND EXISTS "
    "(SELECT 1 FROM dataset_associations a WHERE a.benchmark = b.id) LIMIT 1"
)
_OWNS_A_BENCHMARK = "SELECT 1 FROM benchmarks WHERE owner = ? LIMIT 1"


class _Decoder:
    """Turns a row of a resource's columns into the API's JSON, with the per-column work chosen once."""

    def __init__(self, resource: Resource) -> None:
        names = resource.names()
        kinds = {f.name: f.kind for f in resource.fields}
        self.names = names
        self.json_at = [i for i, n in enumerate(names) if kinds.get(n) in (dict, list)]
        self.bool_at = [i for i, n in enumerate(names) if kinds.get(n) is bool]
        wire = set(resource.wire_names())
        self.keep = [(i, n) for i, n in enumerate(names) if n in wire]
        self.columns = ", ".join(f'"{n}"' for n in names)

    def __call__(self, raw: Sequence[Any]) -> Json:
        values = list(raw)
        for i in self.json_at:
            if isinstance(values[i], str):
                values[i] = json.loads(values[i])
        for i in self.bool_at:
            if values[i] is not None:
                values[i] = bool(values[i])
        return {n: values[i] for i, n in self.keep}


_DECODERS: dict[str, _Decoder] = {}


def _decoder(resource: Resource) -> _Decoder:
    found = _DECODERS.get(resource.name)
    if found is None:
        found = _DECODERS[resource.name] = _Decoder(resource)
    return found


class SqlServerReads:
    """`reading()` gives a session for one consistent read; `head()` the log's head (both from the recorder).

    Every read goes to the database: a repeated GET is answered from memory before it reaches here, while the log
    has not moved (server/answers.py)."""

    def __init__(
        self,
        reading: Callable[[], AbstractContextManager[Session]],
        head_position: Callable[[], int],
        dialect: Dialect = SQLITE,
        head_position_async: Callable[[], Awaitable[int]] | None = None,
        aclose: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._reading = reading
        self._head_position = head_position
        self._head_position_async = head_position_async
        self._aclose = aclose
        self._dialect = dialect

    def _select(
        self, session: Session, resource: Resource, where: str, args: Sequence[Any], tail: str = ""
    ) -> list[Json]:
        decode = _decoder(resource)
        rows = session.execute(
            f'SELECT {decode.columns} FROM "{resource.table}" WHERE {where}{tail}', list(args)
        ).fetchall()
        return [decode(r) for r in rows]

    def _one(self, resource: Resource, where: str, args: Sequence[Any], tail: str = "") -> Json | None:
        """One row by an index: a single statement."""
        with self._reading() as session:
            found = self._select(session, resource, where, args, tail)
        return found[0] if found else None

    def _page(self, resource: Resource, where: str, args: Sequence[Any], limit: int | None, offset: int) -> Page:
        with self._reading() as session:
            return self._page_in(session, resource, where, args, limit, offset)

    def _page_in(
        self, session: Session, resource: Resource, where: str, args: Sequence[Any], limit: int | None, offset: int
    ) -> Page:
        table = resource.table
        count = session.execute(f'SELECT COUNT(*) FROM "{table}" WHERE {where}', list(args)).fetchone()[0]
        if limit is None:  # internal callers only: the HTTP API always pages
            rows = self._select(session, resource, where, args, " ORDER BY id")
        elif offset >= count:
            rows = []
        else:
            ids = f'SELECT id FROM "{table}" WHERE {where} ORDER BY id LIMIT ? OFFSET ?'
            rows = self._select(session, resource, f"id IN ({ids})", [*args, limit, offset], " ORDER BY id")
        return Page(int(count), rows)

    def get(self, resource: Resource, entity_id: int) -> Json | None:
        return self._one(resource, "id = ?", [entity_id])

    def exists(self, resource: Resource, entity_id: int) -> bool:
        with self._reading() as session:
            return session.execute(f'SELECT 1 FROM "{resource.table}" WHERE id = ?', [entity_id]).fetchone() is not None

    def find(self, resource: Resource, **equal: Any) -> Json | None:
        known = set(resource.names())
        unknown = set(equal) - known
        if unknown:
            raise ValueError(f"{resource.name} has no field {', '.join(sorted(unknown))}")
        where = " AND ".join(f'"{k}" = ?' for k in equal) or _ALL
        return self._one(resource, where, list(equal.values()), " ORDER BY id DESC LIMIT 1")

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
        return self._page(resource, " AND ".join(clauses) or _ALL, args, limit, offset)

    def next_id(self, session: Session, resource: Resource) -> int:
        """Read in the append's transaction: SQLite's writers take turns (one transaction at a time), so
        `MAX(id) + 1` there is taken by nobody else, also by the appends committed in the same group before it;
        PostgreSQL's sequence never hands out one value twice, and its session counts on from the first id it
        read in the transaction (`PostgresSession.new_id`)."""
        sql = self._dialect.next_id_sql.format(table=resource.table)
        if isinstance(session, AllocatesIds):
            return session.new_id(resource.table, sql)
        return int(session.execute(sql).fetchone()[0])

    def dataset_visible_to(self, user_id: int, dataset_id: int) -> Json | None:
        return self._one(DATASET, f"id = ? AND {_DATASET_VISIBLE}", [dataset_id, user_id, user_id])

    def datasets_visible_to(self, user_id: int, limit: int | None, offset: int) -> Page:
        with self._reading() as session:
            if session.execute(_JUDGES_DATASETS, [user_id]).fetchone() is None:  # most callers: own rows only,
                return self._page_in(session, DATASET, "owner = ?", [user_id], limit, offset)  # read from the index
            return self._page_in(session, DATASET, _DATASET_VISIBLE, [user_id, user_id], limit, offset)

    def operational_dataset_with_uid(self, generated_uid: str, other_than: int) -> int | None:
        with self._reading() as session:
            row = session.execute(
                "SELECT id FROM datasets WHERE state = 'OPERATION' AND generated_uid = ? AND id != ?",
                [generated_uid, other_than],
            ).fetchone()
        return None if row is None else int(row[0])

    def associations_of_owner(self, kind: str, owner: int, limit: int | None, offset: int) -> Page:
        resource = ASSOCIATIONS[kind]
        column, owners = ("dataset", "datasets") if kind == "dataset" else ("model_mlcube", "containers")
        # the caller's own requests and those made to the caller's benchmarks: the benchmark owner's inbox (as
        # MedPerf's server lists them: server/utils/views.py, DatasetAssociationList and MlCubeAssociationList)
        where = (f'"{column}" IN (SELECT id FROM "{owners}" WHERE owner = ?) '
                 'OR benchmark IN (SELECT id FROM benchmarks WHERE owner = ?)')
        return self._page(resource, where, [owner, owner], limit, offset)

    def result_visible_to(self, user_id: int, result_id: int) -> Json | None:
        return self._one(RESULT, f"id = ? AND {_RESULT_VISIBLE}", [result_id, user_id, user_id])

    def results_visible_to(self, user_id: int, limit: int | None, offset: int) -> Page:
        with self._reading() as session:
            if session.execute(_OWNS_A_BENCHMARK, [user_id]).fetchone() is None:
                return self._page_in(session, RESULT, "owner = ?", [user_id], limit, offset)
            return self._page_in(session, RESULT, _RESULT_VISIBLE, [user_id, user_id], limit, offset)

    def head_position(self) -> int:
        return self._head_position()

    async def head_position_async(self) -> int:
        """On SQLite the sync read is a local file read of microseconds; PostgreSQL gives an async one."""
        if self._head_position_async is None:
            return self._head_position()
        return await self._head_position_async()

    async def aclose(self) -> None:
        if self._aclose is not None:
            await self._aclose()
