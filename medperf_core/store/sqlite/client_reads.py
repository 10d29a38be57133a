"""The client's local state over SQLite (`LocalState`)."""

from __future__ import annotations

import json
from typing import Any

from medperf_core.store.local_state import Row
from medperf_core.store.sqlite.recorder import SQLiteRecorder

_JSON = ("statistics", "steps_done", "report", "metrics", "images", "body", "context", "answer")


def _decode(row: dict[str, Any]) -> Row:
    return {k: (json.loads(v) if k in _JSON and isinstance(v, str) else v) for k, v in row.items()}


class SQLiteLocalState:
    def __init__(self, recorder: SQLiteRecorder) -> None:
        self.recorder = recorder

    def _rows(self, sql: str, args: list[Any]) -> list[Row]:
        with self.recorder.reading() as db:
            cursor = db.execute(sql, args)
            names = [d[0] for d in cursor.description]
            found = cursor.fetchall()
        return [_decode(dict(zip(names, r, strict=True))) for r in found]

    def dataset(self, dataset_id: int) -> Row | None:
        found = self._rows("SELECT * FROM local_datasets WHERE dataset_id = ?", [dataset_id])
        return found[0] if found else None

    def datasets(self) -> list[Row]:
        return self._rows("SELECT * FROM local_datasets ORDER BY dataset_id", [])

    def execution(self, uid: str) -> Row | None:
        found = self._rows("SELECT * FROM local_executions WHERE uid = ?", [uid])
        return found[0] if found else None

    def executions(self, benchmark: int | None = None) -> list[Row]:
        if benchmark is None:
            return self._rows("SELECT * FROM local_executions ORDER BY started_at, uid", [])
        return self._rows("SELECT * FROM local_executions WHERE benchmark = ? ORDER BY started_at, uid", [benchmark])

    def requests(self, state: str | None = None) -> list[Row]:
        if state is None:
            return self._rows("SELECT * FROM local_requests ORDER BY position", [])
        return self._rows("SELECT * FROM local_requests WHERE state = ? ORDER BY position", [state])

    def associations(self) -> list[Row]:
        return self._rows("SELECT * FROM local_associations ORDER BY kind, benchmark, entity", [])
