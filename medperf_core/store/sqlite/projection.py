"""The base of SQLite projections: tables from a schema, built-version bookkeeping, sorted snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database

from medperf_core.domain.events import DomainEvent
from medperf_core.store.records import StoredEvent

BOOKKEEPING = "_projections"


def table_rows(db: Database, table: str) -> list[tuple[Any, ...]]:
    if not db[table].exists():
        return []
    columns = sorted(c.name for c in db[table].columns)
    select = ", ".join(f"[{c}]" for c in columns)
    return sorted(
        (tuple(r) for r in db.execute(f"SELECT {select} FROM [{table}]").fetchall()),
        key=lambda row: tuple((v is not None, v if v is not None else 0) for v in row),
    )


class SQLiteProjection:
    """Subclasses set name, version, tables and `schema()` (CREATE statements) or `create()`, and `apply`."""

    name: str = ""
    version: int = 1
    tables: Sequence[str] = ()

    def schema(self) -> Sequence[str]:
        raise NotImplementedError

    def create(self, session: Database) -> None:
        for statement in self.schema():
            session.execute(statement)

    def built_version(self, session: Database) -> int | None:
        table = session.table(BOOKKEEPING)
        if not table.exists():
            return None
        row = session.execute(f"SELECT version FROM [{BOOKKEEPING}] WHERE name = ?", [self.name]).fetchone()
        return None if row is None else int(row[0])

    def reset(self, session: Database) -> None:
        for table in self.tables:
            session.execute(f"DROP TABLE IF EXISTS [{table}]")
        self.create(session)
        session.execute(f"CREATE TABLE IF NOT EXISTS [{BOOKKEEPING}] (name TEXT PRIMARY KEY, version INTEGER)")
        session.execute(
            f"INSERT OR REPLACE INTO [{BOOKKEEPING}] (name, version) VALUES (?, ?)", [self.name, self.version]
        )

    def apply(self, session: Database, event: DomainEvent, stored: StoredEvent) -> None:
        raise NotImplementedError

    def snapshot(self, session: Database) -> dict[str, list[tuple[Any, ...]]]:
        return {table: table_rows(session, table) for table in self.tables}
